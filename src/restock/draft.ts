// Drafting restock orders from low-stock alerts, without ever ordering twice for the same need. Two rules make it
// so. (1) One draft per store and supplier (`open_key`, unique): a new need extends that draft instead of starting
// another. (2) Every quantity is sized against the *projected* stock, on hand plus everything still outstanding on
// open orders (drafts, approved, issued, partly received), so a need already covered by an order in flight orders
// nothing more. Approved orders are frozen (the supplier has them); the next need starts a new draft, sized
// against them. The figures used are stored on the line (`rationale`).
import { createHash } from 'node:crypto';
import { MysqlAdapter, sql } from 'kysely';
import { audit } from '../db/audit.ts';
import type { RestockOrdersTable } from '../db/schema.ts';
import { isUniqueViolation, type Tx } from '../db/tx.ts';
import { addDays, todayIn } from '../domain/dates.ts';
import {
  DEFAULT_RESTOCK_POLICY,
  explainPlan,
  planRestock,
  type RestockFigures,
  type RestockPlan,
  type RestockPolicy,
} from '../domain/restock.ts';

export type RestockStatus = RestockOrdersTable['status'];
export const RESTOCK_STATUSES: readonly RestockStatus[] = [
  'draft',
  'approved',
  'issued',
  'partially_received',
  'closed',
  'cancelled',
];
/** statuses whose outstanding quantities count as stock on the way */
export const OPEN_STATUSES: readonly RestockStatus[] = ['draft', 'approved', 'issued', 'partially_received'];
/** where products without a supplier are ordered: the manager buys them wherever they can */
export const UNASSIGNED_SUPPLIER = '(no supplier)';

export const isMysql = (trx: Tx) => trx.getExecutor().adapter instanceof MysqlAdapter;

/** The open key of the draft of a store and supplier (hashed when the supplier's name would not fit the column). */
export function draftKey(storeId: number, supplier: string): string {
  const k = `restock:${storeId}:${supplier}`;
  return k.length <= 191 ? k : `restock:${storeId}:sha256:${createHash('sha256').update(supplier).digest('hex')}`;
}

export interface Rationale {
  method: RestockPlan['method'];
  explanation: string;
  alertId: number | null;
  computedAt: string;
  onHandMilli: number;
  onOrderMilli: number;
  projectedMilli: number;
  reorderPointMilli: number | null;
  targetLevelMilli: number | null;
  targetMilli: number;
  shortfallMilli: number;
  packSizeMilli: number;
  packs: number;
  quantityMilli: number;
  leadTimeDays: number;
  reviewPeriodDays: number;
  safetyDays: number;
  history: { from: string; to: string; days: number; soldMilli: number; minDays: number };
  dailyRateMilli?: number;
  cycleStockMilli?: number;
  safetyStockMilli?: number;
  raisedToReorderPoint: boolean;
  /** what the line held before this need extended it */
  previousQuantityMilli?: number;
}

export type DraftOutcome =
  | { action: 'created' | 'extended'; orderId: number; quantityMilli: number; previousMilli: number }
  | { action: 'unchanged' | 'covered' | 'skipped'; orderId: number | null; quantityMilli: number; reason: string };

export interface DraftInput {
  storeId: number;
  productId: number;
  alertId?: number | null;
  now?: Date;
  policy?: RestockPolicy;
}

/** Outstanding quantity of a product at a store on open orders, optionally leaving one order out. */
async function onOrderMilli(trx: Tx, storeId: number, productId: number, exceptOrderId?: number): Promise<number> {
  let q = trx
    .selectFrom('restock_order_lines as l')
    .innerJoin('restock_orders as o', 'o.id', 'l.order_id')
    .select(sql<number>`coalesce(sum(l.quantity_milli - l.received_milli), 0)`.as('outstanding'))
    .where('o.store_id', '=', storeId)
    .where('l.product_id', '=', productId)
    .where('o.status', 'in', [...OPEN_STATUSES]);
  if (exceptOrderId !== undefined) q = q.where('o.id', '<>', exceptOrderId);
  const r = await q.executeTakeFirst();
  return Math.max(0, Number(r?.outstanding ?? 0));
}

async function salesHistory(trx: Tx, storeId: number, productId: number, today: string, policy: RestockPolicy) {
  const from = addDays(today, -(policy.historyDays - 1));
  const days = await trx
    .selectFrom('sales_daily_store')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('store_id', '=', storeId)
    .where('business_date', '>=', from)
    .where('business_date', '<=', today)
    .executeTakeFirst();
  const sold = await trx
    .selectFrom('sales_daily')
    .select(sql<number>`coalesce(sum(quantity_milli), 0)`.as('q'))
    .where('store_id', '=', storeId)
    .where('product_id', '=', productId)
    .where('business_date', '>=', from)
    .where('business_date', '<=', today)
    .executeTakeFirst();
  return { from, to: today, days: Number(days?.n ?? 0), soldMilli: Math.max(0, Number(sold?.q ?? 0)) };
}

async function findDraft(trx: Tx, key: string) {
  return trx
    .selectFrom('restock_orders')
    .select(['id', 'status'])
    .where('open_key', '=', key)
    .$if(isMysql(trx), (q) => q.forUpdate())
    .executeTakeFirst();
}

/**
 * Sizes the restock line of a product that just went low and puts it on the draft of its store and supplier:
 * a new draft, a new line on the existing draft, or a larger quantity on its existing line (never smaller, never
 * added on top: the line is re-sized against the projected stock without it). Runs in the caller's transaction.
 */
export async function draftRestock(trx: Tx, input: DraftInput): Promise<DraftOutcome> {
  const policy = input.policy ?? DEFAULT_RESTOCK_POLICY;
  const now = input.now ?? new Date();
  const row = await trx
    .selectFrom('stock_balances as b')
    .innerJoin('products as p', 'p.id', 'b.product_id')
    .innerJoin('stores as s', 's.id', 'b.store_id')
    .select([
      'b.on_hand_milli',
      'b.reorder_point_milli',
      'b.target_level_milli',
      'p.supplier',
      'p.pack_size_milli',
      'p.lead_time_days',
      'p.sku',
      's.timezone',
    ])
    .where('b.store_id', '=', input.storeId)
    .where('b.product_id', '=', input.productId)
    .executeTakeFirst();
  if (!row) return { action: 'skipped', orderId: null, quantityMilli: 0, reason: 'the product has no stock record' };
  const supplier = row.supplier?.trim() || UNASSIGNED_SUPPLIER;
  const key = draftKey(input.storeId, supplier);
  let draft = await findDraft(trx, key);
  const line = draft
    ? await trx
        .selectFrom('restock_order_lines')
        .select(['id', 'quantity_milli'])
        .where('order_id', '=', draft.id)
        .where('product_id', '=', input.productId)
        .executeTakeFirst()
    : undefined;
  const today = todayIn(row.timezone, now);
  const history = await salesHistory(trx, input.storeId, input.productId, today, policy);
  const figures: RestockFigures = {
    onHandMilli: Number(row.on_hand_milli),
    onOrderMilli: await onOrderMilli(trx, input.storeId, input.productId, draft?.id),
    reorderPointMilli: row.reorder_point_milli === null ? null : Number(row.reorder_point_milli),
    targetLevelMilli: row.target_level_milli === null ? null : Number(row.target_level_milli),
    packSizeMilli: Math.max(1, Number(row.pack_size_milli)),
    leadTimeDays: Number(row.lead_time_days),
    history,
  };
  const plan = planRestock(figures, policy);
  const previous = line ? Number(line.quantity_milli) : 0;
  if (plan.quantityMilli <= previous) {
    return line
      ? {
          action: 'unchanged',
          orderId: draft!.id,
          quantityMilli: previous,
          reason: 'the draft already orders enough',
        }
      : {
          action: 'covered',
          orderId: null,
          quantityMilli: 0,
          reason: 'the projected stock already reaches the target',
        };
  }
  const at = now.toISOString();
  let created = false;
  if (!draft) {
    try {
      const r = await trx
        .insertInto('restock_orders')
        .values({ store_id: input.storeId, supplier, status: 'draft', open_key: key, created_at: at, updated_at: at })
        .executeTakeFirstOrThrow();
      draft = { id: Number(r.insertId), status: 'draft' };
      created = true;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // another transaction drafted it first (MySQL; SQLite writers are serialized): size against it instead
      return draftRestock(trx, input);
    }
  }
  const rationale: Rationale = {
    method: plan.method,
    explanation: explainPlan(figures, plan, policy),
    alertId: input.alertId ?? null,
    computedAt: at,
    onHandMilli: figures.onHandMilli,
    onOrderMilli: figures.onOrderMilli,
    projectedMilli: plan.projectedMilli,
    reorderPointMilli: figures.reorderPointMilli,
    targetLevelMilli: figures.targetLevelMilli,
    targetMilli: plan.targetMilli,
    shortfallMilli: plan.shortfallMilli,
    packSizeMilli: figures.packSizeMilli,
    packs: plan.packs,
    quantityMilli: plan.quantityMilli,
    leadTimeDays: figures.leadTimeDays,
    reviewPeriodDays: policy.reviewPeriodDays,
    safetyDays: policy.safetyDays,
    history: { ...history, minDays: policy.minHistoryDays },
    ...(plan.method === 'sales_rate'
      ? {
          dailyRateMilli: plan.dailyRateMilli,
          cycleStockMilli: plan.cycleStockMilli,
          safetyStockMilli: plan.safetyStockMilli,
        }
      : {}),
    raisedToReorderPoint: plan.raisedToReorderPoint,
    ...(line ? { previousQuantityMilli: previous } : {}),
  };
  if (line) {
    await trx
      .updateTable('restock_order_lines')
      .set({ quantity_milli: plan.quantityMilli, rationale: JSON.stringify(rationale) })
      .where('id', '=', line.id)
      .execute();
  } else {
    await trx
      .insertInto('restock_order_lines')
      .values({
        order_id: draft.id,
        product_id: input.productId,
        quantity_milli: plan.quantityMilli,
        rationale: JSON.stringify(rationale),
      })
      .execute();
  }
  await trx.updateTable('restock_orders').set({ updated_at: at }).where('id', '=', draft.id).execute();
  await audit(
    trx,
    'system',
    created ? 'restock.draft' : 'restock.extend',
    { sku: row.sku, quantityMilli: plan.quantityMilli, previousMilli: previous, alertId: input.alertId ?? null },
    `restock_order:${draft.id}`,
    input.storeId,
  );
  return {
    action: created || !line ? 'created' : 'extended',
    orderId: draft.id,
    quantityMilli: plan.quantityMilli,
    previousMilli: previous,
  };
}
