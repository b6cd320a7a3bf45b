// The pages (src/web): the employees' page at `/` and the self-checkout terminal at `/kiosk`, their scripts and
// style under /app/. Static files with no secrets in them; everything they show comes from the API, under the same
// CSP as the rest ('self' only).
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const WEB_PREFIX = '/app/';
const ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function registerWeb(app: FastifyInstance): Promise<void> {
  // max-age=0: a browser checks its copy (ETag) on every load, so a new release's script is never served stale
  await app.register(fastifyStatic, { root: ROOT, prefix: WEB_PREFIX, index: false, maxAge: 0 });
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html'),
  );
  app.get('/kiosk', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-cache').sendFile('kiosk.html'),
  );
}
