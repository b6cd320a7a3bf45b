// Test databases: every test file gets a fresh SQLite file and a fresh, uniquely named MariaDB database, which are
// dropped afterwards. MariaDB is at 127.0.0.1:3306 (root, no password) unless SHOPFLOW_TEST_MYSQL_URL says
// otherwise. An unreachable MariaDB fails the run; SHOPFLOW_TEST_SKIP_MYSQL=1 is the only way to skip it, and it
// is refused under CI=true.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { connect, type Database, type Dialect } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { DB } from '../../src/db/schema.ts';

export const MYSQL_SERVER_URL = process.env.SHOPFLOW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export function backends(): Dialect[] {
  if (process.env.SHOPFLOW_TEST_SKIP_MYSQL === '1') {
    if (process.env.CI === 'true') throw new Error('SHOPFLOW_TEST_SKIP_MYSQL is not allowed under CI=true');
    return ['sqlite'];
  }
  return ['sqlite', 'mysql'];
}

export interface TestDatabase {
  database: Database;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of the dialect (migrated unless `migrated: false`). */
export async function createTestDatabase(dialect: Dialect, opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  let url: string;
  let dropDb: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'shopflow-test-'));
    url = `sqlite:${join(dir, 'test.db')}`;
    dropDb = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `shopflow_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const server = new URL(MYSQL_SERVER_URL);
    const admin = await createConnection({
      host: server.hostname,
      port: Number(server.port || 3306),
      user: decodeURIComponent(server.username || 'root'),
      password: decodeURIComponent(server.password),
    }).catch((e: Error) => {
      throw new Error(
        `MariaDB is not reachable at ${server.host} (${e.message}). Start it (see README) or set SHOPFLOW_TEST_MYSQL_URL.`,
      );
    });
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
    url = `${MYSQL_SERVER_URL.replace(/\/$/, '')}/${name}`;
    dropDb = async () => {
      const c = await createConnection({
        host: server.hostname,
        port: Number(server.port || 3306),
        user: decodeURIComponent(server.username || 'root'),
        password: decodeURIComponent(server.password),
      });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    };
  }
  const database = await connect(url, { sqliteSynchronous: 'NORMAL' });
  if (opts.migrated !== false) await migrate(database);
  return {
    database,
    url,
    drop: async () => {
      await database.close().catch(() => {});
      await dropDb();
    },
  };
}

/**
 * MySQL: waits (up to 30 s) until a connection other than `observer`'s is seen running a locking read of stock
 * balances, that is waiting on a row another transaction holds. State, not time: tests use it to act only once the
 * waiting has begun. False if it was never seen.
 */
export async function sawStockLockWait(observer: Kysely<DB>, databaseUrl: string): Promise<boolean> {
  const dbName = new URL(databaseUrl).pathname.slice(1);
  for (const giveUp = Date.now() + 30_000; Date.now() < giveUp; ) {
    const r = await sql<{ n: number }>`
      select count(*) as n from information_schema.processlist
      where db = ${dbName} and id <> connection_id() and command = 'Query'
        and info like '%from stock_balances%for update%'`.execute(observer);
    if (Number(r.rows[0]?.n) > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}
