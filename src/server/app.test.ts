import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { loadConfig } from '../config.ts';
import { ShopflowError } from '../errors.ts';
import { LocalObjectStore } from '../storage/local.ts';
import { buildServer } from './app.ts';
import { problemResponse } from './problem.ts';

const itemSchema = {
  type: 'object',
  required: ['sku', 'quantity'],
  additionalProperties: false,
  properties: { sku: { type: 'string', minLength: 1 }, quantity: { type: 'integer', minimum: 1 } },
} as const;

// Under /api/v1 a route without config.access is admin-only (src/server/auth/plugin.ts): these shell tests
// declare their routes public.
const open = { config: { access: { roles: [], public: true } } };

const testRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { sku: string; quantity: number } }>(
    '/items',
    {
      ...open,
      schema: {
        tags: ['test'],
        body: itemSchema,
        response: { 201: itemSchema, 409: problemResponse('already there') },
      },
    },
    async (request, reply) => reply.code(201).send({ ...request.body, internal: 'dropped by the schema' }),
  );
  app.get('/conflict', open, async () => {
    throw new ShopflowError('conflict', 'stock too low', [{ where: 'quantity', problem: 'only 2 on hand' }]);
  });
  app.get('/boom', open, async () => {
    throw new Error('secret internal detail at /var/lib/shopflow');
  });
  app.get('/careless', open, async (request) => {
    request.log.info({ headers: request.headers, body: { user: 'ana', password: 'hunter2' } }, 'careless log');
    return { ok: true };
  });
};

for (const dialect of backends()) {
  describe(`HTTP server on ${dialect}`, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    let base: string;
    let root: string;
    const lines: string[] = [];
    const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'shopflow-server-'));
      t = await createTestDatabase(dialect, { migrated: false });
      const config = loadConfig({
        SHOPFLOW_DATA_DIR: root,
        SHOPFLOW_DATABASE_URL: t.url,
        SHOPFLOW_STORAGE: `local:${join(root, 'buckets')}`,
        SHOPFLOW_LOG_LEVEL: 'info',
      });
      const store = new LocalObjectStore({ root: join(root, 'buckets') });
      await store.ensureBucket(config.buckets.sales);
      await store.ensureBucket(config.buckets.reports);
      const stream = new Writable({
        write(chunk, _enc, done) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      });
      app = await buildServer({ config, database: t.database, store }, { logger: { stream }, routes: [testRoutes] });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      assert.ok(addr && typeof addr === 'object');
      base = `http://127.0.0.1:${addr.port}`;
    });

    after(async () => {
      await app?.close();
      await t?.drop();
      rmSync(root, { recursive: true, force: true });
    });

    async function problem(res: Response) {
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      return (await res.json()) as Record<string, unknown> & { errors: { where: string; problem: string }[] };
    }

    it('answers /healthz', async () => {
      const res = await fetch(`${base}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });

    it('answers /readyz with 200 while the database and buckets answer', async () => {
      const res = await fetch(`${base}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready', checks: { database: 'ok', store: 'ok' } });
    });

    it('serves an OpenAPI 3 document describing the routes given in opts.routes', async () => {
      const res = await fetch(`${base}/openapi.json`);
      assert.equal(res.status, 200);
      interface Operation {
        requestBody: {
          content: Record<string, { schema: { required: string[]; properties: Record<string, { minimum?: number }> } }>;
        };
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      }
      const doc = (await res.json()) as {
        openapi: string;
        info: { title: string };
        paths: Record<string, Record<string, Operation>>;
        components: { schemas: Record<string, unknown> };
      };
      assert.match(doc.openapi, /^3\./);
      assert.equal(doc.info.title, 'shopflow');
      const post = doc.paths['/api/v1/items']?.post;
      assert.ok(post, 'the test route is documented under /api/v1');
      const body = post.requestBody.content['application/json']?.schema;
      assert.deepEqual(body?.required, ['sku', 'quantity']);
      assert.equal(body?.properties.quantity?.minimum, 1);
      assert.ok(post.responses['201']);
      assert.equal(
        post.responses['409']?.content?.['application/problem+json']?.schema.$ref,
        '#/components/schemas/Problem',
      );
      assert.ok(doc.components.schemas.Problem);
      assert.ok(doc.paths['/healthz'] && doc.paths['/readyz']);
      for (const path of Object.keys(doc.paths)) {
        assert.ok(!path.startsWith('/docs') && path !== '/openapi.json', `${path} should be hidden`);
      }
    });

    it('serves the docs page and its assets from the package', async () => {
      const res = await fetch(`${base}/docs`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      const html = await res.text();
      assert.match(html, /swagger-ui-bundle\.js/);
      const asset = await fetch(`${base}/docs/static/swagger-ui-bundle.js`);
      assert.equal(asset.status, 200);
      assert.ok((await asset.arrayBuffer()).byteLength > 100_000);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /object-src 'none'/);
      assert.match(csp, /img-src 'self' data:/);
    });

    it('accepts a valid body and serializes only what the response schema names', async () => {
      const res = await fetch(`${base}/api/v1/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'A1', quantity: 3 }),
      });
      assert.equal(res.status, 201);
      assert.deepEqual(await res.json(), { sku: 'A1', quantity: 3 });
    });

    it('refuses an invalid body with 400, naming each failing field', async () => {
      const res = await fetch(`${base}/api/v1/items?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quantity: 0 }),
      });
      assert.equal(res.status, 400);
      const p = await problem(res);
      assert.equal(p.status, 400);
      assert.equal(p.type, 'urn:shopflow:problem:invalid_input');
      assert.equal(p.title, 'Bad Request');
      assert.equal(p.instance, '/api/v1/items?x=1');
      assert.deepEqual(
        [...p.errors].sort((a, b) => a.where.localeCompare(b.where)),
        [
          { where: 'body/quantity', problem: 'must be >= 1' },
          { where: 'body/sku', problem: 'is required' },
        ],
      );
      assert.match(String(p.detail), /body\/quantity must be >= 1/);
      assert.equal(p.requestId, res.headers.get('x-request-id'));
    });

    it('says the same in Portuguese to a caller that prefers it (ajv-i18n), and nothing else changes', async () => {
      const res = await fetch(`${base}/api/v1/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-language': 'pt-BR,pt;q=0.9' },
        body: JSON.stringify({ quantity: 0 }),
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-language'), 'pt-BR');
      const p = await problem(res);
      assert.equal(p.title, 'Bad Request');
      assert.deepEqual(
        [...p.errors].sort((a, b) => a.where.localeCompare(b.where)),
        [
          { where: 'body/quantity', problem: 'deve ser >= 1' },
          { where: 'body/sku', problem: 'é obrigatório' },
        ],
      );
      // a refusal without a reason code keeps its words
      const conflict = await fetch(`${base}/api/v1/conflict`, { headers: { 'accept-language': 'pt-BR' } });
      assert.equal(conflict.headers.get('content-language'), null);
      assert.equal((await problem(conflict)).detail, 'stock too low');
    });

    it('refuses malformed JSON with 400 and an oversized body with 413', async () => {
      const bad = await fetch(`${base}/api/v1/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"sku":',
      });
      assert.equal(bad.status, 400);
      assert.equal((await problem(bad)).status, 400);
      const big = await fetch(`${base}/api/v1/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'x'.repeat(2 * 1024 * 1024), quantity: 1 }),
      });
      assert.equal(big.status, 413);
      const p = await problem(big);
      assert.equal(p.status, 413);
      assert.equal(p.type, 'urn:shopflow:problem:too_large');
    });

    it('maps a ShopflowError to its status with its details', async () => {
      const res = await fetch(`${base}/api/v1/conflict`);
      assert.equal(res.status, 409);
      const p = await problem(res);
      assert.equal(p.type, 'urn:shopflow:problem:conflict');
      assert.equal(p.title, 'Conflict');
      assert.equal(p.detail, 'stock too low');
      assert.deepEqual(p.errors, [{ where: 'quantity', problem: 'only 2 on hand' }]);
      assert.equal(p.instance, '/api/v1/conflict');
    });

    it('answers an unexpected error with a generic 500 and logs the real one under the request id', async () => {
      const res = await fetch(`${base}/api/v1/boom`, { headers: { 'x-request-id': 'boom-1' } });
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.doesNotMatch(text, /secret|\/var\/lib/);
      const p = JSON.parse(text);
      assert.equal(p.status, 500);
      assert.equal(p.requestId, 'boom-1');
      const logged = logs().find((l) => l.requestId === 'boom-1' && l.level === 50);
      assert.ok(logged, 'the error is logged at error level with the request id');
      assert.match(JSON.stringify(logged.err), /secret internal detail/);
    });

    it('answers an unknown route with 404 problem+json', async () => {
      const res = await fetch(`${base}/api/v1/nope?q=1`);
      assert.equal(res.status, 404);
      const p = await problem(res);
      assert.equal(p.type, 'urn:shopflow:problem:not_found');
      assert.equal(p.instance, '/api/v1/nope?q=1');
      assert.equal(p.detail, 'there is no GET /api/v1/nope');
      assert.equal((await fetch(`${base}/elsewhere`, { method: 'DELETE' })).status, 404);
    });

    it('echoes a safe x-request-id, replaces an unsafe one, and logs every line with it', async () => {
      const mine = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'abc-123.XYZ_9' } });
      assert.equal(mine.headers.get('x-request-id'), 'abc-123.XYZ_9');
      const lineCount = logs().filter((l) => l.requestId === 'abc-123.XYZ_9').length;
      assert.ok(lineCount >= 2, 'incoming request and request completed both carry the id');

      const unsafe = await fetch(`${base}/healthz`, { headers: { 'x-request-id': '<script>"x"' } });
      const given = unsafe.headers.get('x-request-id') ?? '';
      assert.match(given, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const tooLong = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'a'.repeat(65) } });
      assert.notEqual(tooLong.headers.get('x-request-id'), 'a'.repeat(65));

      const none = await fetch(`${base}/healthz`);
      const id = none.headers.get('x-request-id') ?? '';
      assert.ok(id.length > 0);
      for (const l of logs().filter((x) => (x.req as { url?: string } | undefined)?.url === '/healthz')) {
        assert.ok(typeof l.requestId === 'string' && l.requestId.length > 0);
      }
    });

    it('never writes Authorization, cookies or passwords to the log', async () => {
      const res = await fetch(`${base}/api/v1/careless`, {
        headers: {
          authorization: 'Bearer very-secret-token',
          cookie: '__Host-session=session-secret',
          'x-request-id': 'careless-1',
        },
      });
      assert.equal(res.status, 200);
      const mine = lines.filter((l) => l.includes('careless-1'));
      assert.ok(mine.some((l) => l.includes('careless log')));
      const all = lines.join('\n');
      assert.doesNotMatch(all, /very-secret-token|session-secret|hunter2/);
      const careless = logs().find((l) => l.msg === 'careless log') as
        | { headers: Record<string, string>; body: Record<string, string> }
        | undefined;
      assert.equal(careless?.headers.authorization, '[redacted]');
      assert.equal(careless?.headers.cookie, '[redacted]');
      assert.equal(careless?.body.password, '[redacted]');
      assert.equal(careless?.body.user, 'ana');
    });

    it('sets the security headers, with a relaxed CSP only on /docs', async () => {
      for (const path of ['/api/v1/conflict', '/healthz', '/api/v1/nope']) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
        assert.equal(
          res.headers.get('content-security-policy'),
          "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'",
        );
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
      }
      assert.equal((await fetch(`${base}/api/v1/conflict`)).headers.get('cache-control'), 'no-store');
      const docs = await fetch(`${base}/docs`);
      assert.equal(docs.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      assert.match(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    });

    it('counts requests in /metrics', async () => {
      await fetch(`${base}/api/v1/conflict`);
      await fetch(`${base}/api/v1/conflict`);
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.match(text, /# TYPE http_requests_total counter/);
      const m = text.match(/^http_requests_total\{method="GET",route="\/api\/v1\/conflict",status="409"\} (\d+)$/m);
      assert.ok(m, text);
      assert.ok(Number(m[1]) >= 2);
      assert.match(text, /^http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
      assert.match(text, /^http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="\+Inf"\} \d+$/m);
      assert.doesNotMatch(text, /route="\/api\/v1\/nope"/);
    });

    it('answers /readyz with 503 naming what is down', async () => {
      await t.database.close();
      const res = await fetch(`${base}/readyz`);
      assert.equal(res.status, 503);
      const p = await problem(res);
      assert.equal(p.type, 'urn:shopflow:problem:unavailable');
      assert.deepEqual(
        p.errors.map((e) => e.where),
        ['database'],
      );

      // A bucket root that is a plain file cannot hold buckets.
      const buckets = join(root, 'buckets');
      rmSync(buckets, { recursive: true, force: true });
      writeFileSync(buckets, 'not a directory');
      const both = await problem(await fetch(`${base}/readyz`));
      assert.deepEqual(
        both.errors.map((e) => e.where),
        ['database', 'store'],
      );
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'liveness does not depend on dependencies');
    });
  });
}
