// A MySQL transaction that Kysely and the raw mysql2 connection share. The bulk path streams rows through
// `LOAD DATA LOCAL INFILE`, which Kysely cannot issue, inside the same transaction as the Kysely statements around
// it: one pooled connection is taken, and Kysely gets a one-connection "pool" over it whose release does nothing.
import { Kysely, MysqlDialect, type Transaction } from 'kysely';
import type { PoolConnection } from 'mysql2';
import type { Database } from './connect.ts';
import type { DB } from './schema.ts';
import { isRetryable } from './tx.ts';

export async function inMysqlTransaction<T>(
  database: Database,
  fn: (trx: Transaction<DB>, raw: PoolConnection) => Promise<T>,
  opts: { retries?: number } = {},
): Promise<T> {
  const pool = database.mysqlPool;
  if (!pool) throw new Error('inMysqlTransaction needs a MySQL database');
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    const raw = await new Promise<PoolConnection>((resolve, reject) =>
      pool.getConnection((e, c) => (e ? reject(e) : resolve(c))),
    );
    const shared = new Proxy(raw, {
      get(target, prop) {
        if (prop === 'release') return () => {};
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const single = {
      getConnection: (cb: (e: unknown, c: PoolConnection) => void) => cb(null, shared),
      end: (cb?: (e?: unknown) => void) => cb?.(),
    };
    const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool: single as never }) });
    try {
      return await db.transaction().execute((trx) => fn(trx, raw));
    } catch (e) {
      if (attempt >= retries || !isRetryable(e)) throw e;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    } finally {
      await db.destroy().catch(() => {});
      raw.release();
    }
  }
}
