// Locking the stock rows a change is about to move. MySQL: `select … for update` of every row in one statement per
// store, stores and products in id order, so two transactions touching the same products always queue in the same
// order and never deadlock on each other (a deadlock there would be retried by inTransaction, but costs a round).
// SQLite: BEGIN IMMEDIATE already holds the database's write lock, so a plain read is as good as a lock.
import { sql } from 'kysely';
import type { Dialect } from '../db/connect.ts';
import type { Tx } from '../db/tx.ts';

export interface StockKey {
  storeId: number;
  productId: number;
}

export interface LockedBalance {
  onHandMilli: number;
  reorderPointMilli: number | null;
  targetLevelMilli: number | null;
}

export const keyOf = (storeId: number, productId: number) => `${storeId}:${productId}`;

/**
 * Locks (MySQL) and reads the balances of the given store-products. A product without a balance row is absent from
 * the result: nothing is on hand and the ledger will create its row with the first movement.
 */
export async function lockBalances(trx: Tx, dialect: Dialect, keys: StockKey[]): Promise<Map<string, LockedBalance>> {
  const byStore = new Map<number, Set<number>>();
  for (const k of keys) {
    const s = byStore.get(k.storeId) ?? new Set<number>();
    s.add(k.productId);
    byStore.set(k.storeId, s);
  }
  const out = new Map<string, LockedBalance>();
  for (const storeId of [...byStore.keys()].sort((a, b) => a - b)) {
    const products = [...byStore.get(storeId)!].sort((a, b) => a - b);
    const rows = await sql<{
      product_id: number;
      on_hand_milli: number;
      reorder_point_milli: number | null;
      target_level_milli: number | null;
    }>`select product_id, on_hand_milli, reorder_point_milli, target_level_milli from stock_balances
       where store_id = ${storeId} and product_id in (${sql.join(products)})
       order by product_id${dialect === 'mysql' ? sql` for update` : sql``}`.execute(trx);
    for (const r of rows.rows) {
      out.set(keyOf(storeId, Number(r.product_id)), {
        onHandMilli: Number(r.on_hand_milli),
        reorderPointMilli: r.reorder_point_milli === null ? null : Number(r.reorder_point_milli),
        targetLevelMilli: r.target_level_milli === null ? null : Number(r.target_level_milli),
      });
    }
  }
  return out;
}
