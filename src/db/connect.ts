// Opens the database named by a URL: `sqlite:<path>` (the embedded default; `sqlite::memory:` for a throwaway)
// or `mysql://user:pass@host:port/db` (MySQL or MariaDB, the seeds' database).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, MysqlDialect, SqliteDialect } from 'kysely';
import { createPool, type Pool } from 'mysql2';
import { ShopflowError } from '../errors.ts';
import { startCheckpointer } from './checkpointer.ts';
import type { DB } from './schema.ts';

export type Dialect = 'sqlite' | 'mysql';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** the raw better-sqlite3 handle (SQLite only): bulk paths and backups use it directly */
  sqlite?: SQLite.Database;
  /** the mysql2 pool (MySQL only): the bulk loader takes a raw connection from it (src/db/mysql-session.ts) */
  mysqlPool?: Pool;
  url: string;
  /** how it was opened: a second connection to the same database (a worker thread's) opens it the same way */
  options: ConnectOptions;
  /** runs `fn` when the database is closed, before its connection (a worker thread holding one of its own) */
  onClose(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  pool?: number;
  /** SQLite file: a worker thread copies the log into the database between commits (see checkpointer.ts) */
  backgroundCheckpoint?: boolean;
}

export function parseMysqlUrl(url: string) {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database)
    throw new ShopflowError('config', `database URL ${maskUrl(url)} names no database (mysql://user@host/db)`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
  };
}

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}

/**
 * The better-sqlite3 handle as Kysely sees it, keeping each statement it prepares. Kysely's SQLite driver prepares
 * every statement anew, and preparing costs about as much as running the small statements the hot paths (a
 * checkout, a token lookup) are made of; they run the same few dozen texts over and over. A statement still being
 * iterated cannot run again, so that caller gets one of its own.
 */
interface SqliteHandle {
  prepare(text: string): SQLite.Statement;
  close(): void;
}

function preparedOnce(raw: SqliteHandle): SqliteHandle {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(text: string) {
      let s = cache.get(text);
      if (!s || s.busy) {
        s = raw.prepare(text);
        if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
        cache.set(text, s);
      }
      return s;
    },
    close() {
      cache.clear();
      raw.close();
    },
  };
}

function closeHooks() {
  const hooks: Array<() => Promise<void>> = [];
  return {
    add: (fn: () => Promise<void>) => {
      hooks.push(fn);
    },
    run: async () => {
      for (const fn of hooks.splice(0)) await fn();
    },
  };
}

export async function connect(url: string, opts: ConnectOptions = {}): Promise<Database> {
  const closing = closeHooks();
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    // Loaded only for SQLite URLs: the Lambda bundles (MySQL only) do not ship the native module.
    const { default: Driver } = await import('better-sqlite3');
    const sqlite = new Driver(file);
    sqlite.pragma('journal_mode = WAL');
    // FULL by default: an acknowledged commit survives power loss (NORMAL may lose the last ones).
    sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    const checkpointer = opts.backgroundCheckpoint && file !== ':memory:' ? startCheckpointer(file) : undefined;
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: preparedOnce(sqlite) }) });
    return {
      db,
      dialect: 'sqlite',
      sqlite,
      url,
      options: opts,
      onClose: closing.add,
      close: async () => {
        await closing.run();
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    const c = parseMysqlUrl(url);
    const pool = createPool({
      ...c,
      connectionLimit: opts.pool ?? 10,
      // SUM() and DECIMAL come back as numbers; every amount is an integer well inside 2^53.
      decimalNumbers: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4',
      flags: ['+LOCAL_FILES'],
      multipleStatements: false,
    });
    const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
    return {
      db,
      dialect: 'mysql',
      mysqlPool: pool,
      url,
      options: opts,
      onClose: closing.add,
      close: async () => {
        await closing.run();
        await db.destroy();
      },
    };
  }
  throw new ShopflowError('config', `unsupported database URL ${maskUrl(url)}: use sqlite:<file> or mysql://…`);
}
