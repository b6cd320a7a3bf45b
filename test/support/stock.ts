import type { Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.ts';

/**
 * A store's stock of a product, in thousandths, read straight from its balance row. A product the store never had
 * has no row: that fails, unless `missing` says what to count it as.
 */
export async function onHandMilli(
  db: Kysely<DB>,
  store: string,
  sku: string,
  opts: { missing?: number } = {},
): Promise<number> {
  const r = await db
    .selectFrom('stock_balances as b')
    .innerJoin('stores as s', 's.id', 'b.store_id')
    .innerJoin('products as p', 'p.id', 'b.product_id')
    .select('b.on_hand_milli')
    .where('s.code', '=', store)
    .where('p.sku', '=', sku)
    .executeTakeFirst();
  if (r) return Number(r.on_hand_milli);
  if (opts.missing === undefined) throw new Error(`store ${store} has no stock row for ${sku}`);
  return opts.missing;
}
