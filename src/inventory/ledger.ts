// The stock ledger: every change of stock is an appended movement, and the balance row moves by the same delta in
// the same transaction with an atomic `on_hand = on_hand + delta` (never read-modify-write in application code).
// Invariant, checked by tests: for every store and product, on_hand = Σ delta of its movements.
import { sql } from 'kysely';
import { insertRows } from '../db/insert.ts';
import type { MovementKind } from '../db/schema.ts';
import { nowIso, type Tx } from '../db/tx.ts';

export interface Movement {
  storeId: number;
  productId: number;
  kind: MovementKind;
  deltaMilli: number;
  /** unique per movement: applying the same movement twice fails the transaction instead of moving stock twice */
  ref: string;
  reason?: string | null;
  actor?: string | null;
}

export async function applyMovements(trx: Tx, movements: Movement[], at = nowIso()): Promise<void> {
  const moving = movements.filter((m) => m.deltaMilli !== 0);
  if (moving.length === 0) return;
  await insertRows(
    trx,
    'stock_movements',
    moving.map((m) => ({
      store_id: m.storeId,
      product_id: m.productId,
      kind: m.kind,
      delta_milli: m.deltaMilli,
      ref: m.ref,
      reason: m.reason ?? null,
      actor: m.actor ?? null,
      created_at: at,
    })),
  );
  // One balance row per store+product: sum first so that a row appears once in the upsert.
  const sums = new Map<string, { storeId: number; productId: number; delta: number }>();
  for (const m of moving) {
    const k = `${m.storeId}:${m.productId}`;
    const e = sums.get(k);
    if (e) e.delta += m.deltaMilli;
    else sums.set(k, { storeId: m.storeId, productId: m.productId, delta: m.deltaMilli });
  }
  await insertRows(
    trx,
    'stock_balances',
    [...sums.values()].map((s) => ({
      store_id: s.storeId,
      product_id: s.productId,
      on_hand_milli: s.delta,
      updated_at: at,
    })),
    { conflict: ['store_id', 'product_id'], add: ['on_hand_milli'], replace: ['updated_at'] },
  );
}

export interface LedgerMismatch {
  storeId: number;
  productId: number;
  onHandMilli: number;
  movementsMilli: number;
}

/** Every (store, product) whose balance differs from the sum of its movements. Empty means the ledger holds. */
export async function ledgerMismatches(trx: Tx): Promise<LedgerMismatch[]> {
  const rows = await sql<{ store_id: number; product_id: number; on_hand: number; moved: number }>`
    select b.store_id, b.product_id, b.on_hand_milli as on_hand, coalesce(m.moved, 0) as moved
    from stock_balances b
    left join (select store_id, product_id, sum(delta_milli) as moved from stock_movements group by store_id, product_id) m
      on m.store_id = b.store_id and m.product_id = b.product_id
    where b.on_hand_milli <> coalesce(m.moved, 0)
    union all
    select m.store_id, m.product_id, 0 as on_hand, m.moved
    from (select store_id, product_id, sum(delta_milli) as moved from stock_movements group by store_id, product_id) m
    where not exists (select 1 from stock_balances b where b.store_id = m.store_id and b.product_id = m.product_id)
  `.execute(trx);
  return rows.rows.map((r) => ({
    storeId: Number(r.store_id),
    productId: Number(r.product_id),
    onHandMilli: Number(r.on_hand),
    movementsMilli: Number(r.moved),
  }));
}
