// Write transactions that behave the same on both databases. SQLite: BEGIN IMMEDIATE takes the write lock at the
// start, so two processes never both read then fail to upgrade (SQLITE_BUSY mid-transaction). MySQL: InnoDB may
// pick the transaction as a deadlock victim (1213) or time out on a lock (1205); the whole unit is retried, so
// no such error reaches a client.
import { type Kysely, MysqlAdapter, sql, type Transaction } from 'kysely';
import type { Database, Dialect } from './connect.ts';
import type { DB } from './schema.ts';

export type Tx = Kysely<DB> | Transaction<DB>;

/** Which database a connection or transaction talks to. */
export function dialectOf(db: Tx): Dialect {
  return db.getExecutor().adapter instanceof MysqlAdapter ? 'mysql' : 'sqlite';
}

const RETRYABLE_MYSQL = new Set([1213, 1205]);

/** A deadlock, a lock wait timeout or SQLITE_BUSY: the transaction is lost and may be run again whole. */
export function isRetryable(e: unknown): boolean {
  const err = e as { errno?: number; code?: string };
  return (err.errno !== undefined && RETRYABLE_MYSQL.has(err.errno)) || err.code === 'SQLITE_BUSY';
}

export async function inTransaction<T>(
  database: Database,
  fn: (trx: Tx) => Promise<T>,
  opts: { retries?: number } = {},
): Promise<T> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      if (database.dialect === 'sqlite') {
        return await database.db.connection().execute(async (conn) => {
          await sql`begin immediate`.execute(conn);
          try {
            const result = await fn(conn);
            await sql`commit`.execute(conn);
            return result;
          } catch (e) {
            await sql`rollback`.execute(conn).catch(() => {});
            throw e;
          }
        });
      }
      return await database.db.transaction().execute(fn);
    } catch (e) {
      if (attempt >= retries || !isRetryable(e)) throw e;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}

/** True when `e` is a unique-key violation, on either database. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.errno === 1062;
}

export const nowIso = () => new Date().toISOString();
