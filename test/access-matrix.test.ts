// The tenant-isolation matrix (reliability check 27), on SQLite and MariaDB: EVERY route registered under /api/v1
// × {admin, manager of A, clerk of A, manager of B, upload token of A, kiosk token of A, anonymous} × {store A,
// store B}. Routes are collected by the auth plugin's onRoute hook, so a new route is covered the moment it is
// added to src/server/routes/index.ts, and one without `config.access` fails this test.
//
// Each request is built from the route's declared store location and its JSON schemas (required params, query,
// headers and body filled with minimal valid values). Expectations:
//   anonymous → 401; a role or token purpose the route does not list → 403; a store the principal may not see
//   named where the route says → 403; another store's object addressed by id → 404 (or 403);
//   an allowed principal on its own store → anything but 401/403/5xx (400 counts as "got past authorization":
//   a generic body cannot satisfy every business rule);
//   and a 2xx body never contains the code of a store the principal may not see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../src/db/connect.ts';
import type { Role } from '../src/db/schema.ts';
import { fileDetail } from '../src/ingest/files.ts';
import { listStock } from '../src/inventory/queries.ts';
import { buildServer } from '../src/server/app.ts';
import type { RouteAccess } from '../src/server/auth/contract.ts';
import { ALL_ROLES } from '../src/server/auth/contract.ts';
import type { RegisteredRoute } from '../src/server/auth/plugin.ts';
import { createSession } from '../src/users/sessions.ts';
import { createToken } from '../src/users/tokens.ts';
import { createUser } from '../src/users/users.ts';
import { type ScopedFixtures, seedTwoStores } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

type Side = 'A' | 'B';

interface Actor {
  name: string;
  kind: 'user' | 'token' | 'anonymous';
  role?: Role;
  purpose?: 'upload' | 'kiosk';
  sees: Side[];
  userId?: number;
  token?: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

interface Fixtures extends ScopedFixtures {
  /** per path segment before `/:id`, an object of each store */
  ids: Record<string, Record<Side, number>>;
  username: string;
}

const DATE = '2026-01-05';

/** Values tried, in order, against a string `pattern`. */
function stringCandidates(f: Fixtures, name: string): string[] {
  const byName: Record<string, string[]> = {
    from: ['2026-01-01'],
    to: ['2026-01-31'],
    date: [DATE],
    sku: [f.sku],
    username: [f.username],
  };
  return [
    ...(byName[name] ?? []),
    DATE,
    f.sku,
    'matrix-value-1',
    'x',
    'abc',
    '1',
    'A1',
    '12:00',
    '2026-01-05T12:00:00.000Z',
    '7891000100103',
    'a@example.com',
    '00000000-0000-4000-8000-000000000000',
  ];
}

function minimal(schema: JsonSchema | undefined, f: Fixtures, name = ''): unknown {
  if (!schema) return undefined;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum.find((v) => v !== null) ?? schema.enum[0];
  if (schema.oneOf?.length) return minimal(schema.oneOf[0], f, name);
  if (schema.anyOf?.length) return minimal(schema.anyOf[0], f, name);
  if (schema.allOf?.length) return minimal(Object.assign({}, ...schema.allOf), f, name);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? (schema.properties ? 'object' : 'string')];
  const type = types.find((t) => t !== 'null') ?? 'null';
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return schema.default ?? false;
    case 'integer':
    case 'number': {
      if (schema.default !== undefined) return schema.default;
      const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
      return schema.maximum !== undefined ? Math.min(lo, schema.maximum) : lo;
    }
    case 'array': {
      const n = Math.max(schema.minItems ?? 0, 1);
      return Array.from({ length: n }, () => minimal(schema.items, f, name));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = minimal(schema.properties?.[key], f, key);
      return out;
    }
    default: {
      const byFormat: Record<string, string> = {
        date: DATE,
        // an hour ahead: fields such as "snooze until" accept only the near future
        'date-time': new Date(Date.now() + 3_600_000).toISOString(),
        email: 'a@example.com',
        uri: 'https://example.com/matrix',
        uuid: '00000000-0000-4000-8000-000000000000',
      };
      if (schema.format && byFormat[schema.format]) return byFormat[schema.format];
      const min = schema.minLength ?? 1;
      const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
      const re = schema.pattern ? new RegExp(schema.pattern, 'u') : undefined;
      for (const c of stringCandidates(f, name)) {
        const v = c.length < min ? c.padEnd(min, '0') : c;
        if (v.length <= max && (!re || re.test(v))) return v;
      }
      return 'x'.repeat(Math.max(min, 1));
    }
  }
}

interface Built {
  url: string;
  init: RequestInit & { headers: Record<string, string> };
  /** the side whose data the request addresses, when it addresses one */
  addresses?: Side;
}

function buildRequest(route: RegisteredRoute, side: Side, f: Fixtures): Built {
  const access = route.access as RouteAccess;
  const schema = (route.schema ?? {}) as Record<string, JsonSchema | undefined>;
  const code = f.stores[side];
  let addresses: Side | undefined = access.store ? side : undefined;
  let path = route.url;
  for (const match of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
    const name = match[1]!;
    let value: string;
    const segment = /\/([^/]+)\/:[A-Za-z0-9_]+/.exec(
      route.url.slice(0, route.url.indexOf(`:${name}`) + name.length + 1),
    );
    const fixture = segment ? f.ids[segment[1]!] : undefined;
    if (access.store?.in === 'params' && access.store.name === name) value = code;
    else if (name === 'id' && fixture) {
      value = String(fixture[side]);
      addresses = side;
    } else value = String(minimal(schema.params?.properties?.[name] ?? { type: 'string' }, f, name));
    path = path.replace(`:${name}`, encodeURIComponent(value));
  }
  const query = (minimal(schema.querystring ?? { type: 'object' }, f) ?? {}) as Record<string, unknown>;
  if (access.store?.in === 'query') query[access.store.name] = code;
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((minimal(schema.headers, f) ?? {}) as Record<string, unknown>)) {
    headers[k] = k.toLowerCase() === 'idempotency-key' ? `matrix-${Math.random().toString(36).slice(2)}` : String(v);
  }
  const init: Built['init'] = { method: route.method, headers };
  if (!['GET', 'HEAD', 'DELETE'].includes(route.method)) {
    const body = (minimal(schema.body ?? { type: 'object' }, f) ?? {}) as Record<string, unknown>;
    if (access.store?.in === 'body') body[access.store.name] = code;
    init.body = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  return { url: `${path}${qs ? `?${qs}` : ''}`, init, addresses };
}

function allowedByRole(access: RouteAccess, actor: Actor): boolean {
  if (access.public) return true;
  if (actor.kind === 'user') return access.roles.includes(actor.role!);
  if (actor.kind === 'token') return (access.tokens ?? []).includes(actor.purpose!);
  return false;
}

async function seedIds(t: TestServer, f: ScopedFixtures): Promise<{ ids: Fixtures['ids']; notes: string[] }> {
  const db = t.app.ctx.database.db;
  const now = new Date().toISOString();
  const notes: string[] = [];
  const ids: Fixtures['ids'] = { files: f.files };
  const product = await db.selectFrom('products').select('id').where('sku', '=', f.sku).executeTakeFirstOrThrow();
  const tokens = { A: 0, B: 0 };
  for (const side of ['A', 'B'] as const) {
    tokens[side] = (
      await createToken(
        t.app.ctx.database,
        { store: f.stores[side], purpose: 'upload', label: 'matrix target' },
        'test',
      )
    ).id;
  }
  ids.tokens = tokens;
  // Rows of other features' tables, inserted by hand: when their shape changes the insert may fail, which is
  // reported (and that segment loses its cross-store check) rather than hidden.
  const attempts: Array<[string, (side: Side) => Promise<number>]> = [
    [
      'alerts',
      async (side) =>
        Number(
          (
            await db
              .insertInto('alerts')
              .values({
                kind: 'low_stock',
                store_id: f.storeIds[side],
                product_id: Number(product.id),
                severity: 'warning',
                status: 'open',
                open_key: `matrix:${side}`,
                message: `matrix alert ${side}`,
                details: null,
                raised_at: now,
              } as never)
              .executeTakeFirstOrThrow()
          ).insertId,
        ),
    ],
    [
      'restock-orders',
      async (side) =>
        Number(
          (
            await db
              .insertInto('restock_orders')
              .values({
                store_id: f.storeIds[side],
                supplier: 'Matrix supplier',
                status: 'draft',
                open_key: `matrix:${side}`,
                created_at: now,
                updated_at: now,
              } as never)
              .executeTakeFirstOrThrow()
          ).insertId,
        ),
    ],
    [
      'checkouts',
      async (side) => {
        const id = Number(
          (
            await db
              .insertInto('checkouts')
              .values({
                store_id: f.storeIds[side],
                business_date: DATE,
                receipt_id: `matrix-${side}`,
                payment_method: 'cash',
                total_cents: 100,
                status: 'completed',
                actor: 'test',
                created_at: now,
              } as never)
              .executeTakeFirstOrThrow()
          ).insertId,
        );
        await db
          .insertInto('sales_lines')
          .values({
            store_id: f.storeIds[side],
            business_date: DATE,
            source: 'checkout',
            file_id: null,
            checkout_id: id,
            receipt_id: `matrix-${side}`,
            line_no: 1,
            sold_at: now,
            hour: 12,
            product_id: Number(product.id),
            quantity_milli: 1000,
            unit_price_cents: 100,
            discount_cents: 0,
            total_cents: 100,
            payment_method: 'cash',
          } as never)
          .execute();
        return id;
      },
    ],
  ];
  for (const [segment, insert] of attempts) {
    try {
      ids[segment] = { A: await insert('A'), B: await insert('B') };
    } catch (e) {
      notes.push(
        `no ${segment} fixtures (${(e as Error).message.split('\n')[0]}): /${segment}/:id is checked for roles only`,
      );
    }
  }
  return { ids, notes };
}

interface MatrixResult {
  failures: string[];
  /** routes no allowed principal got a 2xx from (authorization was still checked) */
  unreached: string[];
  /** other-store cases stopped by schema validation before the handler's ownership check */
  inconclusive: string[];
  requests: number;
}

async function runMatrix(
  baseUrl: string,
  database: Database,
  routes: RegisteredRoute[],
  actors: Actor[],
  f: Fixtures,
): Promise<MatrixResult> {
  const failures: string[] = [];
  const unreached: string[] = [];
  const inconclusive: string[] = [];
  let requests = 0;
  for (const route of routes) {
    if (!route.access) continue;
    const access = route.access;
    const sides: Side[] = access.store || route.url.includes(':id') ? ['A', 'B'] : ['A'];
    let reached2xx = false;
    for (const actor of actors) {
      for (const side of sides) {
        const req = buildRequest(route, side, f);
        if (actor.kind === 'user') {
          // a fresh session each time: a route may end the session it is called with (logout, password)
          const s = await createSession(database.db, actor.userId!);
          req.init.headers.cookie = `shopflow_session=${s.id}`;
          req.init.headers['x-csrf-token'] = s.csrfToken;
        } else if (actor.kind === 'token') {
          req.init.headers.authorization = `Bearer ${actor.token}`;
        }
        const res = await fetch(`${baseUrl}${req.url}`, req.init);
        const text = await res.text();
        requests++;
        const status = res.status;
        const where = `${route.method} ${route.url} as ${actor.name} on ${side} → ${status}`;
        const byRole = allowedByRole(access, actor);
        const seesTarget = req.addresses === undefined || actor.sees.includes(req.addresses);
        if (status >= 500) failures.push(`${where}: server error ${text.slice(0, 200)}`);
        else if (access.public) {
          // open to all: nothing to refuse
        } else if (actor.kind === 'anonymous') {
          if (status !== 401) failures.push(`${where}: expected 401`);
        } else if (!byRole) {
          if (status !== 403) failures.push(`${where}: expected 403 (role/purpose not allowed)`);
        } else if (!seesTarget) {
          const byStore = access.store !== undefined;
          const expected = byStore ? [403] : [403, 404];
          if (!expected.includes(status)) {
            // An object addressed by id is checked by its handler, after schema validation: a generic body
            // the schema refuses (400) never reaches that check, so the case proves nothing either way.
            if (!byStore && status === 400) inconclusive.push(where);
            else failures.push(`${where}: expected ${expected.join('/')} (other store)`);
          }
        } else if (status === 401 || status === 403) {
          failures.push(`${where}: an allowed principal was refused: ${text.slice(0, 200)}`);
        }
        if (status >= 200 && status < 300) {
          if (!access.public && (!byRole || !seesTarget || actor.kind === 'anonymous')) {
            failures.push(`${where}: 2xx where the contract forbids it`);
          }
          reached2xx ||= byRole && seesTarget;
          for (const s of ['A', 'B'] as const) {
            if (!actor.sees.includes(s) && actor.kind !== 'anonymous' && text.includes(f.stores[s])) {
              failures.push(`${where}: the response mentions store ${f.stores[s]}, which ${actor.name} may not see`);
            }
          }
        }
      }
    }
    if (!reached2xx && !access.public) unreached.push(`${route.method} ${route.url}`);
  }
  return { failures, unreached, inconclusive, requests };
}

for (const dialect of backends()) {
  describe(`access matrix on ${dialect}`, () => {
    let t: TestServer;
    let f: Fixtures;
    let actors: Actor[];
    let routes: RegisteredRoute[];
    let notes: string[] = [];

    before(async () => {
      t = await startTestServer(dialect);
      const scoped = await seedTwoStores(t);
      const database = t.app.ctx.database;
      const user = async (name: string, role: Role, sees: Side[]): Promise<Actor> => {
        const u = await createUser(
          database,
          {
            username: `matrix-${name}`,
            password: 'matrix-password-1',
            role,
            stores: sees.map((s) => scoped.stores[s]),
          },
          'test',
          { hashCost: 'insecure-test-only' },
        );
        return { name, kind: 'user', role, sees: role === 'admin' ? ['A', 'B'] : sees, userId: u.id };
      };
      const token = async (name: string, purpose: 'upload' | 'kiosk'): Promise<Actor> => {
        const c = await createToken(database, { store: scoped.stores.A, purpose }, 'test');
        return { name, kind: 'token', purpose, sees: ['A'], token: c.token };
      };
      actors = [
        await user('admin', 'admin', []),
        await user('manager-A', 'manager', ['A']),
        await user('clerk-A', 'clerk', ['A']),
        await user('manager-B', 'manager', ['B']),
        await token('upload-A', 'upload'),
        await token('kiosk-A', 'kiosk'),
        { name: 'anonymous', kind: 'anonymous', sees: [] },
      ];
      await createUser(
        database,
        { username: 'matrix-target', password: 'matrix-password-1', role: 'clerk', stores: [scoped.stores.A] },
        'test',
        { hashCost: 'insecure-test-only' },
      );
      const seeded = await seedIds(t, scoped);
      notes = seeded.notes;
      f = { ...scoped, ids: seeded.ids, username: 'matrix-target' };
      routes = t.server.auth.routes.filter((r) => r.method !== 'HEAD' && r.url.startsWith(t.server.auth.apiPrefix));
    });
    after(async () => t?.close());

    it('finds every route of the OpenAPI document, and each declares config.access', async () => {
      const doc = (await (await fetch(`${t.baseUrl}/openapi.json`)).json()) as { paths: Record<string, object> };
      const documented = Object.entries(doc.paths)
        .filter(([p]) => p.startsWith('/api/v1'))
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`));
      const registered = new Set(routes.map((r) => `${r.method} ${r.url}`));
      for (const d of documented) assert.ok(registered.has(d), `${d} is documented but was not collected`);
      assert.ok(routes.length >= 10, `only ${routes.length} routes collected`);
      const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(undeclared, [], 'every /api/v1 route must declare config.access (src/server/auth/contract.ts)');
    });

    it('gives every principal exactly what the contract allows, on every route and both stores', async () => {
      const { failures, unreached, inconclusive, requests } = await runMatrix(
        t.baseUrl,
        t.app.ctx.database,
        routes,
        actors,
        f,
      );
      if (unreached.length) {
        // not a failure: authorization was still checked; the generic request just did not satisfy the handler
        process.stdout.write(
          `# ${dialect}: ${unreached.length} of ${routes.length} routes never answered 2xx to the generic request: ${unreached.join(', ')}\n`,
        );
      }
      for (const n of notes) process.stdout.write(`# ${dialect}: ${n}\n`);
      if (inconclusive.length) {
        process.stdout.write(`# ${dialect}: other-store id checks not reached (400): ${inconclusive.join('; ')}\n`);
      }
      assert.ok(requests > routes.length * actors.length, `${requests} requests`);
      assert.deepEqual(failures, []);
    });

    it('catches a route that leaks another store, one that skips the ownership check, and one that forgets access', async () => {
      const leaky: FastifyPluginAsync = async (app) => {
        app.get('/leaky/stock', { config: { access: { roles: ALL_ROLES } } }, async () =>
          listStock(app.ctx.database.db, {}),
        );
        app.get<{ Params: { id: number } }>(
          '/leaky/files/:id',
          {
            config: { access: { roles: ALL_ROLES } },
            schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } },
          },
          async (request) => fileDetail(app.ctx.database.db, request.params.id),
        );
        app.get('/leaky/undeclared', async () => ({ ok: true }));
      };
      const probe = await buildServer(t.app.ctx, { logger: false, routes: [leaky] });
      try {
        await probe.listen({ host: '127.0.0.1', port: 0 });
        const base = `http://127.0.0.1:${(probe.addresses()[0] as { port: number }).port}`;
        const probeRoutes = probe.auth.routes.filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/leaky'));
        assert.deepEqual(
          probeRoutes.filter((r) => !r.access).map((r) => r.url),
          ['/api/v1/leaky/undeclared'],
        );
        const { failures } = await runMatrix(base, t.app.ctx.database, probeRoutes, actors, {
          ...f,
          ids: { ...f.ids, files: f.files },
        });
        const about = (needle: string) => failures.filter((x) => x.includes(needle));
        assert.ok(
          about('/leaky/stock as clerk-A').some((x) => x.includes('mentions store BRAVO02')),
          failures.join('\n'),
        );
        assert.ok(about('/leaky/stock as manager-B').some((x) => x.includes('mentions store ALPHA01')));
        assert.ok(about('/leaky/files/:id as clerk-A on B → 200').length > 0, failures.join('\n'));
        assert.ok(about('/leaky/files/:id as kiosk-A').every((x) => x.includes('expected 403')));
        assert.deepEqual(about('as admin'), [], 'admins see everything: no failure for them');
      } finally {
        await probe.close();
      }
    });
  });
}
