// The OpenAPI 3 document is generated from the JSON schemas the routes declare (the same schemas that validate
// requests and serialize responses), so it cannot drift from the code. It is served at /openapi.json and browsed
// at /docs with Swagger UI, whose assets ship inside @fastify/swagger-ui: the page works with no internet access.
//
// Must be registered before the routes it should describe: @fastify/swagger collects routes through onRoute.
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { DOCS_PREFIX } from './security-headers.ts';

const version: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'shopflow',
        version,
        description:
          'Sales and inventory for a supermarket chain. Errors are application/problem+json (RFC 9457) with ' +
          'field-level `errors` and the `requestId` also found in the x-request-id header.',
      },
      tags: [{ name: 'ops', description: 'health, readiness and metrics' }],
    },
    // Shared schemas (app.addSchema) appear under their own $id in components/schemas, not as def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });

  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
