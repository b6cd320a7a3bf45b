// Low-stock and negative-stock alerts follow the stock: one open alert per store and product while the condition
// lasts (raising again changes nothing), resolved when stock recovers; a later drop opens a new one. A new low-stock
// alert drafts (or extends) the restock order of the product's supplier in the same transaction, so an alert and
// its order exist together or not at all.
import { sql } from 'kysely';
import { chunks } from '../db/chunks.ts';
import type { Tx } from '../db/tx.ts';
import { nowIso } from '../db/tx.ts';
import { describe } from '../domain/reasons.ts';
import { stockState } from '../domain/stock-policy.ts';
import { draftRestockMany } from '../restock/draft.ts';
import { type NewAlert, raiseAlerts } from './raise.ts';

export interface Evaluation {
  raised: number[];
  resolved: number;
}

/** above this many products, the store's balances are read whole and filtered here rather than probed one by one */
const PROBE_LIMIT = 500;

/**
 * Evaluates the given products of a store (all of them when `productIds` is omitted). Only the balances stockState
 * can call low or negative are read, and only the open alerts of the evaluated products; an alert already open is
 * neither read twice nor raised again, and only the products of new alerts are read for their names. A sales file
 * touches most of a store's products.
 */
export async function evaluateStock(
  trx: Tx,
  storeId: number,
  productIds?: number[],
  opts: { now?: Date } = {},
): Promise<Evaluation> {
  if (productIds && productIds.length === 0) return { raised: [], resolved: 0 };
  const evaluated = productIds ? new Set(productIds) : undefined;
  let q = trx
    .selectFrom('stock_balances as b')
    .select(['b.product_id', 'b.on_hand_milli', 'b.reorder_point_milli', 'b.target_level_milli'])
    .where('b.store_id', '=', storeId)
    // only the rows stockState can call low or negative: below zero, or at or under the reorder point
    .where((eb) =>
      eb.or([
        eb('b.on_hand_milli', '<', 0),
        eb.and([
          eb('b.reorder_point_milli', 'is not', null),
          eb('b.on_hand_milli', '<=', eb.ref('b.reorder_point_milli')),
        ]),
      ]),
    );
  if (productIds && productIds.length <= PROBE_LIMIT) q = q.where('b.product_id', 'in', productIds);
  const rows = (await q.execute()).filter((r) => !evaluated || evaluated.has(r.product_id));
  const raised: number[] = [];
  const now = nowIso();

  // The store's open stock alerts: those of evaluated products that no row calls for any more are resolved, those
  // still called for stay as they are (an open alert is not raised again).
  const open = new Set<string>();
  const resolve: number[] = [];
  const called = new Set<string>();
  for (const r of rows) {
    if (stockState(r.on_hand_milli, r.reorder_point_milli) === 'negative')
      called.add(stockAlertKey('negative_stock', storeId, r.product_id));
    if (r.reorder_point_milli !== null && r.on_hand_milli <= r.reorder_point_milli) {
      called.add(stockAlertKey('low_stock', storeId, r.product_id));
    }
  }
  const take = (found: Array<{ id: number; open_key: string | null }>) => {
    for (const a of found) {
      const key = a.open_key!;
      if (called.has(key)) open.add(key);
      else if (!evaluated || evaluated.has(Number(key.slice(key.lastIndexOf(':') + 1)))) resolve.push(a.id);
    }
  };
  if (productIds && productIds.length <= PROBE_LIMIT) {
    // a few products (a checkout, a count): their own keys
    const keys = productIds.flatMap((id) => [
      stockAlertKey('low_stock', storeId, id),
      stockAlertKey('negative_stock', storeId, id),
    ]);
    for (const part of chunks(keys)) {
      take(await trx.selectFrom('alerts').select(['id', 'open_key']).where('open_key', 'in', part).execute());
    }
  } else {
    // many (a sales file): the store's whole range of each kind, read in key order
    for (const kind of ['low_stock', 'negative_stock'] as const) {
      const prefix = stockAlertKey(kind, storeId, '');
      take(
        await trx
          .selectFrom('alerts')
          .select(['id', 'open_key'])
          .where('open_key', '>=', prefix)
          // ';' follows ':' in the binary order the keys are compared in
          .where('open_key', '<', `${prefix.slice(0, -1)};`)
          .execute(),
      );
    }
  }

  // the alerts the rows call for that are not open yet, raised together
  const due: Array<{ row: (typeof rows)[number]; low: boolean; key: string }> = [];
  for (const r of rows) {
    const negative = stockAlertKey('negative_stock', storeId, r.product_id);
    if (called.has(negative) && !open.has(negative)) due.push({ row: r, low: false, key: negative });
    const low = stockAlertKey('low_stock', storeId, r.product_id);
    if (called.has(low) && !open.has(low)) due.push({ row: r, low: true, key: low });
  }
  const names = await namesOf(trx, storeId, [...new Set(due.map((d) => d.row.product_id))]);
  const wanted = due.map(({ row: r, low, key }) => {
    const { sku, name, code } = names.get(r.product_id)!;
    const alert: NewAlert = low
      ? {
          kind: 'low_stock',
          storeId,
          productId: r.product_id,
          severity: 'warning',
          message: describe(
            'stock_low',
            { name, sku, store: code, onHand: r.on_hand_milli / 1000, reorderPoint: r.reorder_point_milli! / 1000 },
            'en',
          ),
          details: {
            onHand: r.on_hand_milli / 1000,
            reorderPoint: r.reorder_point_milli! / 1000,
            targetLevel: r.target_level_milli === null ? null : r.target_level_milli / 1000,
          },
          openKey: key,
        }
      : {
          kind: 'negative_stock',
          storeId,
          productId: r.product_id,
          severity: 'warning',
          message: describe('stock_negative', { name, sku, store: code, onHand: r.on_hand_milli / 1000 }, 'en'),
          details: { onHand: r.on_hand_milli / 1000 },
          openKey: key,
        };
    return { productId: r.product_id, low, alert };
  });
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
  for (const part of chunks(resolve)) {
    await trx
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now, open_key: null })
      .where('id', 'in', part)
      .where('status', '=', 'open')
      .execute();
  }
  return { raised, resolved: resolve.length };
}

/** The SKU and name of each product, with the store's code: what an alert's message says. */
async function namesOf(trx: Tx, storeId: number, productIds: number[]) {
  const names = new Map<number, { sku: string; name: string; code: string }>();
  if (productIds.length === 0) return names;
  const store = await trx.selectFrom('stores').select('code').where('id', '=', storeId).executeTakeFirstOrThrow();
  for (const part of chunks(productIds)) {
    const found = await trx.selectFrom('products').select(['id', 'sku', 'name']).where('id', 'in', part).execute();
    for (const p of found) names.set(p.id, { sku: p.sku, name: p.name, code: store.code });
  }
  return names;
}

/** The open key of a store and product's low- or negative-stock alert: one open alert per subject. */
const stockAlertKey = (kind: 'low_stock' | 'negative_stock', storeId: number, productId: number | '') =>
  `${kind}:${storeId}:${productId}`;

/** Products of a store that moved since a point, for evaluating only what changed. */
export async function productsMovedSince(trx: Tx, storeId: number, sinceId: number): Promise<number[]> {
  const rows = await sql<{ product_id: number }>`
    select distinct product_id from stock_movements where store_id = ${storeId} and id > ${sinceId}`.execute(trx);
  return rows.rows.map((r) => Number(r.product_id));
}
