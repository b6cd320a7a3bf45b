// The HTTP server shell: logging with request ids, security headers, problem+json errors, OpenAPI, health and
// metrics, and the pages (src/web). Features plug in as route plugins; this file knows none of them.
//
// Adding a feature's routes:
//   1. Write src/server/routes/<feature>.ts exporting a FastifyPluginAsync. It is mounted under /api/v1, so the
//      paths inside it are relative to that prefix. Reach the database, buckets and config through `app.ctx`.
//   2. Give every route a JSON schema for body, querystring, params and response (per status). Fastify validates
//      requests against it (a failure becomes a 400 problem naming each field, e.g. `body/quantity must be >= 1`),
//      serializes the response through it (fields not in the schema are dropped, so nothing leaks by accident),
//      and /openapi.json documents it. Use `problemResponse(...)` from ./problem.ts for the error statuses.
//   3. Refuse with `throw new ShopflowError(kind, message, details)` (src/errors.ts); never build error bodies.
//   4. Pass the plugin in `routes` where the server is built (the `serve` command lists them all).
//
//   export const stockRoutes: FastifyPluginAsync = async (app) => {
//     app.post<{ Body: { sku: string; quantity: number } }>(
//       '/stock/adjustments', // → POST /api/v1/stock/adjustments
//       {
//         schema: {
//           tags: ['stock'],
//           body: {
//             type: 'object', required: ['sku', 'quantity'], additionalProperties: false,
//             properties: { sku: { type: 'string', minLength: 1 }, quantity: { type: 'integer', minimum: 1 } },
//           },
//           response: { 201: Adjustment, 409: problemResponse('the stock would go negative') },
//         },
//       },
//       async (request, reply) => {
//         const result = await adjustStock(app.ctx.database, request.body);
//         return reply.code(201).send(result);
//       },
//     );
//   };
//
// Metrics: import `metrics` from src/ops/metrics.ts and register counters there; /metrics serves them all.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { metrics } from '../ops/metrics.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { registerAuth } from './auth/plugin.ts';
import { registerOpenApi } from './openapi.ts';
import { registerProblemHandlers } from './problem.ts';
import { healthRoutes } from './routes/health.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerWeb } from './web.ts';

export interface ServerContext {
  config: Config;
  database: Database;
  store: ObjectStore;
}

export interface BuildServerOptions {
  /** false: no logs; true (default): JSON lines on stdout at config.logLevel; an object: pino options merged over
   * the defaults (e.g. `{ stream }` to capture the lines) */
  logger?: boolean | object;
  /** feature route plugins, each mounted under API_PREFIX */
  routes?: FastifyPluginAsync[];
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: ServerContext;
  }
}

export const API_PREFIX = '/api/v1';

// A caller's id is kept only when it cannot forge log structure or smuggle markup: short, from a safe alphabet.
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

// Fastify's request serializer logs no headers, but a handler logging `request.headers` or a body must not put
// credentials in the log either.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  'authorization',
  'cookie',
  'password',
  '*.password',
  '*.*.password',
  'newPassword',
  '*.newPassword',
  'currentPassword',
  '*.currentPassword',
  '*.password_hash',
];

function loggerOptions(config: Config, logger: BuildServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false) return false;
  const base = { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return typeof logger === 'object' && logger !== null ? { ...base, ...logger } : base;
}

const httpRequests = metrics.counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'],
});
const httpDuration = metrics.histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from receiving a request to sending the response, by method and route pattern',
  labelNames: ['method', 'route'],
});

export async function buildServer(ctx: ServerContext, opts: BuildServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(ctx.config, opts.logger ?? true),
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Every failing field is named, not only the first; problem.ts caps how many are reported.
    ajv: { customOptions: { allErrors: true } },
  });

  app.decorate('ctx', ctx);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would create a series per id.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  registerSecurityHeaders(app);
  registerProblemHandlers(app);
  await registerOpenApi(app);
  await app.register(healthRoutes);
  await registerWeb(app);
  // before the feature routes: its onRoute hook records them and its request hooks must cover them all
  registerAuth(app, { apiPrefix: API_PREFIX });
  for (const routes of opts.routes ?? []) await app.register(routes, { prefix: API_PREFIX });
  return app;
}
