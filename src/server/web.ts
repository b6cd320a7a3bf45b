// The employees' page (src/web): one HTML document at `/` and its script and style under /app/. Static files with
// no secrets in them; everything they show comes from the API, under the same CSP as the rest ('self' only).
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const WEB_PREFIX = '/app/';
const ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export async function registerWeb(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: ROOT, prefix: WEB_PREFIX, index: false, cacheControl: false });
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html'),
  );
}
