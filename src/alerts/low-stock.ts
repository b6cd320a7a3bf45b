// Low-stock and negative-stock alerts follow the stock: one open alert per store and product while the condition
// lasts (raising again changes nothing), resolved when stock recovers; a later drop opens a new one. A new low-stock
// alert drafts (or extends) the restock order of the product's supplier in the same transaction, so an alert and
// its order exist together or not at all.
import { sql } from 'kysely';
import type { Tx } from '../db/tx.ts';
import { nowIso } from '../db/tx.ts';
import { stockState } from '../domain/stock-policy.ts';
import { draftRestockMany } from '../restock/draft.ts';
import { type NewAlert, raiseAlerts } from './raise.ts';

export interface Evaluation {
  raised: number[];
  resolved: number;
}

/** Evaluates the given products of a store (all of them when `productIds` is omitted). */
export async function evaluateStock(
  trx: Tx,
  storeId: number,
  productIds?: number[],
  opts: { now?: Date } = {},
): Promise<Evaluation> {
  if (productIds && productIds.length === 0) return { raised: [], resolved: 0 };
  let q = trx
    .selectFrom('stock_balances as b')
    .innerJoin('products as p', 'p.id', 'b.product_id')
    .innerJoin('stores as s', 's.id', 'b.store_id')
    .select([
      'b.product_id',
      'b.on_hand_milli',
      'b.reorder_point_milli',
      'b.target_level_milli',
      'p.sku',
      'p.name',
      's.code',
    ])
    .where('b.store_id', '=', storeId);
  if (productIds) q = q.where('b.product_id', 'in', productIds);
  const rows = await q.execute();
  const raised: number[] = [];
  const now = nowIso();
  const resolve: string[] = [];
  // every alert the rows call for, raised together (those already open are left as they are)
  const wanted: Array<{ alert: NewAlert; productId: number; low: boolean }> = [];
  for (const r of rows) {
    const state = stockState(r.on_hand_milli, r.reorder_point_milli);
    const lowKey = `low_stock:${storeId}:${r.product_id}`;
    const negKey = `negative_stock:${storeId}:${r.product_id}`;
    if (state === 'ok') {
      resolve.push(lowKey, negKey);
      continue;
    }
    if (state === 'negative') {
      wanted.push({
        productId: r.product_id,
        low: false,
        alert: {
          kind: 'negative_stock',
          storeId,
          productId: r.product_id,
          severity: 'warning',
          message: `${r.name} (${r.sku}) at store ${r.code} is below zero (${r.on_hand_milli / 1000}): a stock count is due`,
          details: { onHand: r.on_hand_milli / 1000 },
          openKey: negKey,
        },
      });
    } else resolve.push(negKey);
    if (r.reorder_point_milli !== null && r.on_hand_milli <= r.reorder_point_milli) {
      wanted.push({
        productId: r.product_id,
        low: true,
        alert: {
          kind: 'low_stock',
          storeId,
          productId: r.product_id,
          severity: 'warning',
          message: `${r.name} (${r.sku}) at store ${r.code} is low: ${r.on_hand_milli / 1000} on hand, reorder point ${r.reorder_point_milli / 1000}`,
          details: {
            onHand: r.on_hand_milli / 1000,
            reorderPoint: r.reorder_point_milli / 1000,
            targetLevel: r.target_level_milli === null ? null : r.target_level_milli / 1000,
          },
          openKey: lowKey,
        },
      });
    }
  }
  const ids = await raiseAlerts(
    trx,
    wanted.map((w) => w.alert),
  );
  const toDraft: Array<{ productId: number; alertId: number }> = [];
  wanted.forEach((w, i) => {
    const id = ids[i];
    if (id === undefined) return;
    raised.push(id);
    // a new low-stock alert drafts (or extends) its supplier's order
    if (w.low) toDraft.push({ productId: w.productId, alertId: id });
  });
  await draftRestockMany(trx, storeId, toDraft, { now: opts.now });
  let resolved = 0;
  for (let i = 0; i < resolve.length; i += 500) {
    const r = await trx
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now, open_key: null })
      .where('open_key', 'in', resolve.slice(i, i + 500))
      .executeTakeFirst();
    resolved += Number(r.numUpdatedRows);
  }
  return { raised, resolved };
}

/** Products of a store that moved since a point, for evaluating only what changed. */
export async function productsMovedSince(trx: Tx, storeId: number, sinceId: number): Promise<number[]> {
  const rows = await sql<{ product_id: number }>`
    select distinct product_id from stock_movements where store_id = ${storeId} and id > ${sinceId}`.execute(trx);
  return rows.rows.map((r) => Number(r.product_id));
}
