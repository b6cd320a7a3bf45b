// Drafting restock orders from low-stock alerts, without ever ordering twice for the same need. Two rules make it
// so. (1) One open order per store and supplier (`open_key`, unique, held from the draft until the order is closed
// or cancelled): a new need extends that order, whatever stage it is at, instead of starting another one. Extending
// an order the supplier already has is a change to a purchase order, so it waits for the manager (`amended_at`) and
// then goes out as a new revision; extending one approved but not yet issued withdraws the approval, since the
// manager approved other quantities. (2) Every quantity is sized against the *projected* stock, on hand plus
// everything still outstanding on the other open orders, so a need already covered by an order in flight orders
// nothing more. On hand already includes what was received against the line, so it is the line's outstanding part
// that is sized: the line becomes received + what is needed now, and only ever grows. The figures used are stored
// on the line (`rationale`).
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
  units,
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

/** The open key of a store and supplier's open order (hashed when the supplier's name would not fit the column). */
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
  /** what had been received against the line when this need extended it (on hand already includes it) */
  receivedMilli?: number;
  /** the line's quantity after this need: received + quantity */
  lineQuantityMilli?: number;
}

export type DraftOutcome =
  /** created: a new order; added: a new line on the open order; extended: a larger quantity on its line */
  | { action: 'created' | 'added' | 'extended'; orderId: number; quantityMilli: number; previousMilli: number }
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

async function findOpenOrder(trx: Tx, key: string) {
  const o = await trx
    .selectFrom('restock_orders')
    .select(['id', 'status', 'revision', 'approved_revision', 'amended_at'])
    .where('open_key', '=', key)
    .$if(isMysql(trx), (q) => q.forUpdate())
    .executeTakeFirst();
  return o
    ? {
        id: Number(o.id),
        status: o.status,
        revision: Number(o.revision),
        approvedRevision: Number(o.approved_revision),
        amendedAt: o.amended_at,
      }
    : undefined;
}

/**
 * Sizes the restock line of a product that just went low and puts it on the open order of its store and supplier:
 * a new order, a new line on the open one, or a larger quantity on its existing line (never smaller, never added on
 * top: the line's outstanding part is re-sized against the projected stock without this order). Runs in the
 * caller's transaction.
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
  const open = await findOpenOrder(trx, key);
  const line = open
    ? await trx
        .selectFrom('restock_order_lines')
        .select(['id', 'quantity_milli', 'received_milli'])
        .where('order_id', '=', open.id)
        .where('product_id', '=', input.productId)
        .executeTakeFirst()
    : undefined;
  const today = todayIn(row.timezone, now);
  const history = await salesHistory(trx, input.storeId, input.productId, today, policy);
  const figures: RestockFigures = {
    onHandMilli: Number(row.on_hand_milli),
    onOrderMilli: await onOrderMilli(trx, input.storeId, input.productId, open?.id),
    reorderPointMilli: row.reorder_point_milli === null ? null : Number(row.reorder_point_milli),
    targetLevelMilli: row.target_level_milli === null ? null : Number(row.target_level_milli),
    packSizeMilli: Math.max(1, Number(row.pack_size_milli)),
    leadTimeDays: Number(row.lead_time_days),
    history,
  };
  const plan = planRestock(figures, policy);
  const previous = line ? Number(line.quantity_milli) : 0;
  const received = line ? Number(line.received_milli) : 0;
  const outstanding = Math.max(0, previous - received);
  if (plan.quantityMilli <= outstanding) {
    return line
      ? {
          action: 'unchanged',
          orderId: open!.id,
          quantityMilli: previous,
          reason: `the open order already has ${units(outstanding)} outstanding for it, and ${units(plan.quantityMilli)} is needed`,
        }
      : {
          action: 'covered',
          orderId: null,
          quantityMilli: 0,
          reason: 'the projected stock already reaches the target',
        };
  }
  const quantity = received + plan.quantityMilli;
  const at = now.toISOString();
  let order = open;
  if (!order) {
    try {
      const r = await trx
        .insertInto('restock_orders')
        .values({ store_id: input.storeId, supplier, status: 'draft', open_key: key, created_at: at, updated_at: at })
        .executeTakeFirstOrThrow();
      order = { id: Number(r.insertId), status: 'draft', revision: 0, approvedRevision: 0, amendedAt: null };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // another transaction opened it first (MySQL; SQLite writers are serialized): size against it instead
      return draftRestock(trx, input);
    }
  }
  const explanation = explainPlan(figures, plan, policy);
  const rationale: Rationale = {
    method: plan.method,
    explanation:
      received > 0
        ? `${explanation.slice(0, -1)}; ${units(received)} of this line already received (counted on hand), so it ` +
          `now orders ${units(received)} + ${units(plan.quantityMilli)} = ${units(quantity)}.`
        : explanation,
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
    ...(line ? { previousQuantityMilli: previous, receivedMilli: received, lineQuantityMilli: quantity } : {}),
  };
  if (line) {
    await trx
      .updateTable('restock_order_lines')
      .set({ quantity_milli: quantity, rationale: JSON.stringify(rationale) })
      .where('id', '=', line.id)
      .execute();
  } else {
    await trx
      .insertInto('restock_order_lines')
      .values({
        order_id: order.id,
        product_id: input.productId,
        quantity_milli: quantity,
        rationale: JSON.stringify(rationale),
      })
      .execute();
  }
  // What the change does to the order's stage: a draft just grows; an approval of other quantities is withdrawn
  // (back to draft, or for an issued order the approved re-issue); an order the supplier has awaits approval of
  // the change and keeps its status, so that deliveries go on being received against it.
  const withdrawn = order.approvedRevision > order.revision;
  const amended = order.status === 'issued' || order.status === 'partially_received';
  await trx
    .updateTable('restock_orders')
    .set({
      updated_at: at,
      ...(order.status === 'approved' ? { status: 'draft' as const, approved_by: null, approved_at: null } : {}),
      ...(withdrawn ? { approved_revision: order.revision } : {}),
      ...(amended && !order.amendedAt ? { amended_at: at } : {}),
    })
    .where('id', '=', order.id)
    .execute();
  await audit(
    trx,
    'system',
    !open ? 'restock.draft' : amended ? 'restock.amend' : 'restock.extend',
    {
      sku: row.sku,
      quantityMilli: quantity,
      previousMilli: previous,
      receivedMilli: received,
      alertId: input.alertId ?? null,
      status: order.status === 'approved' ? 'draft' : order.status,
      ...(amended ? { revision: order.revision, awaits: `approval of revision ${order.revision + 1}` } : {}),
    },
    `restock_order:${order.id}`,
    input.storeId,
  );
  if (withdrawn) {
    await audit(
      trx,
      'system',
      'restock.approval_withdrawn',
      {
        approvedRevision: order.approvedRevision,
        reason: `${row.sku} was added or raised after the approval and before the issue: the order needs approving again`,
        ...(order.status === 'approved' ? { status: 'draft' } : {}),
      },
      `restock_order:${order.id}`,
      input.storeId,
    );
  }
  return {
    action: !open ? 'created' : line ? 'extended' : 'added',
    orderId: order.id,
    quantityMilli: quantity,
    previousMilli: previous,
  };
}
