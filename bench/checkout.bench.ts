// The self-checkout benchmark: the real server (`shopflow serve`, its own process) on a SQLite file and on MariaDB,
// loaded by autocannon over loopback with 64 connections, measuring a hello-world route of the same server
// (/healthz) and `POST /api/v1/checkouts` (a kiosk token, a new Idempotency-Key per request, 3-line baskets over
// 200 products with stock to spare) in the same run. Prints req/s, p50/p99 latency and the checkout/hello ratio,
// and checks afterwards that every acknowledged checkout is recorded and the stock ledger still holds.
//   node --import tsx bench/checkout.bench.ts [--seconds 10] [--connections 64] [--only sqlite|mariadb] [--profile DIR]
// (--profile writes a CPU profile of each server process into DIR)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'mysql2/promise';
import { openApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { inTransaction, nowIso } from '../src/db/tx.ts';
import { applyMovements, ledgerMismatches } from '../src/inventory/ledger.ts';
import { createToken } from '../src/users/tokens.ts';

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  requests?: Array<AutocannonRequest & { setupRequest?: (req: AutocannonRequest) => AutocannonRequest }>;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 10);
const CONNECTIONS = arg('--connections', 64);
const WARMUP_SECONDS = 2;
const PROFILE_DIR = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const PRODUCTS = 200;
const MYSQL = process.env.SHOPFLOW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Target {
  label: string;
  env: Record<string, string>;
  create(): Promise<void>;
  drop(): Promise<void>;
}

async function mysqlAdmin() {
  const u = new URL(MYSQL);
  return createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
  });
}

/** Creates the store, the catalogue, the stock and a kiosk token; returns the token. */
async function seed(env: Record<string, string>): Promise<string> {
  const app = await openApp(loadConfig(env), { runtime: false, quiet: true });
  try {
    const { database } = app.ctx;
    const now = nowIso();
    await database.db
      .insertInto('stores')
      .values({
        code: 'BENCH',
        name: 'Bench kiosk store',
        kind: 'selfservice',
        city: null,
        timezone: 'America/Sao_Paulo',
        scale_profile: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const store = await database.db
      .selectFrom('stores')
      .select('id')
      .where('code', '=', 'BENCH')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('products')
      .values(
        Array.from({ length: PRODUCTS }, (_, i) => ({
          sku: `B${String(i).padStart(4, '0')}`,
          ean: null,
          name: `Bench product ${i}`,
          category: `cat${i % 12}`,
          unit: 'UN' as const,
          price_cents: 199 + i,
          supplier: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    const products = await database.db.selectFrom('products').select('id').execute();
    await inTransaction(database, (trx) =>
      applyMovements(
        trx,
        products.map((p) => ({
          storeId: Number(store.id),
          productId: Number(p.id),
          kind: 'receipt' as const,
          deltaMilli: 100_000_000,
          ref: `bench:${p.id}`,
          reason: 'benchmark stock',
        })),
      ),
    );
    return (await createToken(database, { store: 'BENCH', purpose: 'kiosk' }, 'bench')).token;
  } finally {
    await app.close();
  }
}

async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, 'bin/shopflow.js', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${out}`)));
  });
  return { url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const pick = (n: number) => Math.floor(Math.random() * n);

function basket(): string {
  const skus = new Set<number>();
  while (skus.size < 3) skus.add(pick(PRODUCTS));
  return JSON.stringify({
    store: 'BENCH',
    paymentMethod: 'pix',
    lines: [...skus].map((i) => ({ sku: `B${String(i).padStart(4, '0')}`, quantity: 1 + pick(2) })),
  });
}

async function load(
  url: string,
  request: AutocannonRequest & { setupRequest?: (r: AutocannonRequest) => AutocannonRequest },
): Promise<{ r: AutocannonResult; acknowledged: number; unanswered: number }> {
  const warm = await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_SECONDS, requests: [request] });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests: [request] });
  return { r, acknowledged: warm['2xx'] + r['2xx'], unanswered: warm.errors + warm.timeouts + r.errors + r.timeouts };
}

interface Row {
  target: string;
  route: string;
  r: AutocannonResult;
  ratio?: number;
  recorded?: string;
}

async function measure(target: Target): Promise<Row[]> {
  const token = await seed(target.env);
  const { url, child } = await startServer(target.env);
  try {
    const hello = (await load(url, { method: 'GET', path: '/healthz' })).r;
    const before = await countCheckouts(target.env);
    const checkout = await load(url, {
      method: 'POST',
      path: '/api/v1/checkouts',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      setupRequest: (req) => ({
        ...req,
        headers: { ...req.headers, 'idempotency-key': randomUUID() },
        body: basket(),
      }),
    });
    const recorded = (await countCheckouts(target.env)) - before;
    const ledger = await ledgerHolds(target.env);
    // the machine is shared and its speed drifts within a run: the baseline is hello-world before and after
    const helloAfter = (await load(url, { method: 'GET', path: '/healthz' })).r;
    const baseline = (hello.requests.average + helloAfter.requests.average) / 2;
    return [
      { target: target.label, route: 'GET /healthz (before)', r: hello },
      { target: target.label, route: 'GET /healthz (after)', r: helloAfter },
      {
        target: target.label,
        route: 'POST /api/v1/checkouts',
        r: checkout.r,
        ratio: checkout.r.requests.average / baseline,
        // a request that timed out on the client may still have been recorded: recorded ≥ acknowledged, and
        // recorded ≤ acknowledged + unanswered
        recorded: `${checkout.acknowledged} / ${recorded}${checkout.unanswered ? ` (${checkout.unanswered} unanswered)` : ''} / ${ledger ? 'ok' : 'MISMATCH'}`,
      },
    ];
  } finally {
    await stopServer(child);
  }
}

async function withDb<T>(env: Record<string, string>, fn: (app: Awaited<ReturnType<typeof openApp>>) => Promise<T>) {
  const app = await openApp(loadConfig(env), { runtime: false, quiet: true });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
const countCheckouts = (env: Record<string, string>) =>
  withDb(env, async (app) =>
    Number(
      (
        await app.ctx.database.db
          .selectFrom('checkouts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
const ledgerHolds = (env: Record<string, string>) =>
  withDb(env, async (app) => (await ledgerMismatches(app.ctx.database.db)).length === 0);

function baseEnv(dir: string): Record<string, string> {
  return {
    SHOPFLOW_DATA_DIR: dir,
    SHOPFLOW_STORAGE: `local:${join(dir, 'buckets')}`,
    SHOPFLOW_DEMO: 'false',
    SHOPFLOW_PORT: '0',
    // request logging would cost both routes alike; warn keeps the output readable
    SHOPFLOW_LOG_LEVEL: 'warn',
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-checkout-bench-'));
  const dbName = `shopflow_bench_checkout_${process.pid}`;
  const targets: Target[] = [
    {
      label: 'SQLite (synchronous=FULL, the default)',
      env: { ...baseEnv(join(dir, 'full')), SHOPFLOW_DATABASE_URL: `sqlite:${join(dir, 'full', 'shop.db')}` },
      create: async () => {},
      drop: async () => {},
    },
    {
      label: 'SQLite (synchronous=NORMAL)',
      env: {
        ...baseEnv(join(dir, 'normal')),
        SHOPFLOW_DATABASE_URL: `sqlite:${join(dir, 'normal', 'shop.db')}`,
        SHOPFLOW_SQLITE_SYNCHRONOUS: 'NORMAL',
      },
      create: async () => {},
      drop: async () => {},
    },
    {
      label: 'MariaDB',
      env: { ...baseEnv(join(dir, 'mysql')), SHOPFLOW_DATABASE_URL: `${MYSQL.replace(/\/$/, '')}/${dbName}` },
      create: async () => {
        const c = await mysqlAdmin();
        await c.query(`drop database if exists \`${dbName}\``);
        await c.query(`create database \`${dbName}\` character set utf8mb4 collate utf8mb4_bin`);
        await c.end();
      },
      drop: async () => {
        const c = await mysqlAdmin();
        await c.query(`drop database if exists \`${dbName}\``);
        await c.end();
      },
    },
  ];
  const rows: Row[] = [];
  try {
    for (const t of targets.filter((x) => !ONLY || x.label.toLowerCase().startsWith(ONLY))) {
      try {
        await t.create();
        rows.push(...(await measure(t)));
      } finally {
        await t.drop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = [
    `${CONNECTIONS} connections, ${SECONDS} s per route after ${WARMUP_SECONDS} s of warm-up, autocannon on loopback; server in its own process. Checkout: 3-line basket, kiosk token, new Idempotency-Key each. The ratio is against the mean of hello-world before and after the checkouts. Recorded may exceed acknowledged by the requests in flight when autocannon stops (at most 2 × ${CONNECTIONS}).`,
    '',
    '| database | route | req/s | p50 ms | p99 ms | non-2xx / errors | checkout ÷ hello | checkouts acknowledged / recorded / ledger |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (x) =>
        `| ${x.target} | ${x.route} | ${fmt(x.r.requests.average)} | ${x.r.latency.p50} | ${x.r.latency.p99} | ${x.r.non2xx} / ${x.r.errors + x.r.timeouts} | ${x.ratio === undefined ? '' : `${(x.ratio * 100).toFixed(1)}%`} | ${x.recorded ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${await run()}\n`);
}
