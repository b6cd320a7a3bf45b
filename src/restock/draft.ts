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
import { sql } from 'kysely';
import { auditMany } from '../db/audit.ts';
import { chunks } from '../db/chunks.ts';
import type { RestockOrdersTable } from '../db/schema.ts';
import { dialectOf, isUniqueViolation, type Tx } from '../db/tx.ts';
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

type OpenOrder = {
  id: number;
  status: RestockStatus;
  revision: number;
  approvedRevision: number;
  amendedAt: string | null;
};

async function openOrders(trx: Tx, keys: string[]): Promise<Map<string, OpenOrder>> {
  const out = new Map<string, OpenOrder>();
  for (const part of chunks(keys)) {
    const rows = await trx
      .selectFrom('restock_orders')
      .select(['id', 'open_key', 'status', 'revision', 'approved_revision', 'amended_at'])
      .where('open_key', 'in', part)
      .$if(dialectOf(trx) === 'mysql', (q) => q.forUpdate())
      .execute();
    for (const o of rows) {
      out.set(o.open_key!, {
        id: Number(o.id),
        status: o.status,
        revision: Number(o.revision),
        approvedRevision: Number(o.approved_revision),
        amendedAt: o.amended_at,
      });
    }
  }
  return out;
}

/**
 * Sizes the restock line of a product that just went low and puts it on the open order of its store and supplier:
 * a new order, a new line on the open one, or a larger quantity on its existing line (never smaller, never added on
 * top: the line's outstanding part is re-sized against the projected stock without this order). Runs in the
 * caller's transaction.
 */
export async function draftRestock(trx: Tx, input: DraftInput): Promise<DraftOutcome> {
  const [outcome] = await draftRestockMany(
    trx,
    input.storeId,
    [{ productId: input.productId, alertId: input.alertId }],
    {
      now: input.now,
      policy: input.policy,
    },
  );
  return outcome!;
}

/**
 * draftRestock for several products of one store at once (a file or a count can send hundreds low together): the
 * figures are read with a handful of grouped queries instead of a handful per product, and the audit entries and
 * order changes are written together. Each product is decided in turn, against the orders as the products before
 * it left them, so the outcome is the one a call per product would give.
 */
export async function draftRestockMany(
  trx: Tx,
  storeId: number,
  items: Array<{ productId: number; alertId?: number | null }>,
  opts: { now?: Date; policy?: RestockPolicy } = {},
): Promise<DraftOutcome[]> {
  const policy = opts.policy ?? DEFAULT_RESTOCK_POLICY;
  const now = opts.now ?? new Date();
  const at = now.toISOString();
  const ids = [...new Set(items.map((i) => i.productId))];
  if (ids.length === 0) return [];

  const rows = new Map<
    number,
    {
      onHand: number;
      reorder: number | null;
      target: number | null;
      supplier: string;
      pack: number;
      lead: number;
      sku: string;
    }
  >();
  let timezone: string | undefined;
  for (const part of chunks(ids)) {
    const found = await trx
      .selectFrom('stock_balances as b')
      .innerJoin('products as p', 'p.id', 'b.product_id')
      .innerJoin('stores as s', 's.id', 'b.store_id')
      .select([
        'b.product_id',
        'b.on_hand_milli',
        'b.reorder_point_milli',
        'b.target_level_milli',
        'p.supplier',
        'p.pack_size_milli',
        'p.lead_time_days',
        'p.sku',
        's.timezone',
      ])
      .where('b.store_id', '=', storeId)
      .where('b.product_id', 'in', part)
      .execute();
    for (const r of found) {
      timezone = r.timezone;
      rows.set(Number(r.product_id), {
        onHand: Number(r.on_hand_milli),
        reorder: r.reorder_point_milli === null ? null : Number(r.reorder_point_milli),
        target: r.target_level_milli === null ? null : Number(r.target_level_milli),
        supplier: r.supplier?.trim() || UNASSIGNED_SUPPLIER,
        pack: Math.max(1, Number(r.pack_size_milli)),
        lead: Number(r.lead_time_days),
        sku: r.sku,
      });
    }
  }
  const keyOf = (productId: number) => draftKey(storeId, rows.get(productId)!.supplier);
  const present = ids.filter((id) => rows.has(id));
  const orders = await openOrders(trx, [...new Set(present.map(keyOf))]);

  // lines of the open orders for these products, and what every open order still brings of each product
  const lines = new Map<string, { id: number; quantity: number; received: number }>();
  const outstanding = new Map<number, Array<{ orderId: number; milli: number }>>();
  for (const part of chunks(present)) {
    const found = await trx
      .selectFrom('restock_order_lines as l')
      .innerJoin('restock_orders as o', 'o.id', 'l.order_id')
      .select(['l.id', 'l.order_id', 'l.product_id', 'l.quantity_milli', 'l.received_milli'])
      .where('o.store_id', '=', storeId)
      .where('l.product_id', 'in', part)
      .where('o.status', 'in', [...OPEN_STATUSES])
      .execute();
    for (const l of found) {
      const productId = Number(l.product_id);
      const orderId = Number(l.order_id);
      lines.set(`${orderId}:${productId}`, {
        id: Number(l.id),
        quantity: Number(l.quantity_milli),
        received: Number(l.received_milli),
      });
      const list = outstanding.get(productId) ?? [];
      list.push({ orderId, milli: Number(l.quantity_milli) - Number(l.received_milli) });
      outstanding.set(productId, list);
    }
  }

  const today = todayIn(timezone ?? 'UTC', now);
  const from = addDays(today, -(policy.historyDays - 1));
  const days = Number(
    (
      await trx
        .selectFrom('sales_daily_store')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('store_id', '=', storeId)
        .where('business_date', '>=', from)
        .where('business_date', '<=', today)
        .executeTakeFirst()
    )?.n ?? 0,
  );
  const sold = new Map<number, number>();
  for (const part of chunks(present)) {
    const found = await trx
      .selectFrom('sales_daily')
      .select(['product_id', sql<number>`coalesce(sum(quantity_milli), 0)`.as('q')])
      .where('store_id', '=', storeId)
      .where('product_id', 'in', part)
      .where('business_date', '>=', from)
      .where('business_date', '<=', today)
      .groupBy('product_id')
      .execute();
    for (const r of found) sold.set(Number(r.product_id), Number(r.q));
  }

  const outcomes: DraftOutcome[] = [];
  const audits: Array<{ action: string; details: unknown; orderId: number }> = [];
  const orderChanges = new Map<number, Record<string, unknown>>();
  const newLines: Array<{ order_id: number; product_id: number; quantity_milli: number; rationale: string }> = [];
  for (const item of items) {
    const row = rows.get(item.productId);
    if (!row) {
      outcomes.push({ action: 'skipped', orderId: null, quantityMilli: 0, reason: 'the product has no stock record' });
      continue;
    }
    const key = keyOf(item.productId);
    const open = orders.get(key);
    const line = open ? lines.get(`${open.id}:${item.productId}`) : undefined;
    const history = { from, to: today, days, soldMilli: Math.max(0, sold.get(item.productId) ?? 0) };
    const onOrder = (outstanding.get(item.productId) ?? [])
      .filter((o) => o.orderId !== open?.id)
      .reduce((a, o) => a + o.milli, 0);
    const figures: RestockFigures = {
      onHandMilli: row.onHand,
      onOrderMilli: Math.max(0, onOrder),
      reorderPointMilli: row.reorder,
      targetLevelMilli: row.target,
      packSizeMilli: row.pack,
      leadTimeDays: row.lead,
      history,
    };
    const plan = planRestock(figures, policy);
    const previous = line?.quantity ?? 0;
    const received = line?.received ?? 0;
    const lineOutstanding = Math.max(0, previous - received);
    if (plan.quantityMilli <= lineOutstanding) {
      outcomes.push(
        line
          ? {
              action: 'unchanged',
              orderId: open!.id,
              quantityMilli: previous,
              reason: `the open order already has ${units(lineOutstanding)} outstanding for it, and ${units(plan.quantityMilli)} is needed`,
            }
          : {
              action: 'covered',
              orderId: null,
              quantityMilli: 0,
              reason: 'the projected stock already reaches the target',
            },
      );
      continue;
    }
    const quantity = received + plan.quantityMilli;
    let order = open;
    if (!order) {
      try {
        const r = await trx
          .insertInto('restock_orders')
          .values({
            store_id: storeId,
            supplier: row.supplier,
            status: 'draft',
            open_key: key,
            created_at: at,
            updated_at: at,
          })
          .executeTakeFirstOrThrow();
        order = { id: Number(r.insertId), status: 'draft', revision: 0, approvedRevision: 0, amendedAt: null };
        orders.set(key, order);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        // another transaction opened it first (MySQL; SQLite writers are serialized): size against it instead
        outcomes.push(...(await draftRestockMany(trx, storeId, [item], opts)));
        continue;
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
      alertId: item.alertId ?? null,
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
      line.quantity = quantity;
    } else {
      newLines.push({
        order_id: order.id,
        product_id: item.productId,
        quantity_milli: quantity,
        rationale: JSON.stringify(rationale),
      });
      lines.set(`${order.id}:${item.productId}`, { id: 0, quantity, received: 0 });
    }
    const list = outstanding.get(item.productId) ?? [];
    outstanding.set(item.productId, [
      ...list.filter((o) => o.orderId !== order.id),
      { orderId: order.id, milli: quantity - received },
    ]);

    // What the change does to the order's stage: a draft just grows; an approval of other quantities is withdrawn
    // (back to draft, or for an issued order the approved re-issue); an order the supplier has awaits approval of
    // the change and keeps its status, so that deliveries go on being received against it.
    const withdrawn = order.approvedRevision > order.revision;
    const amended = order.status === 'issued' || order.status === 'partially_received';
    const change = orderChanges.get(order.id) ?? {};
    change.updated_at = at;
    if (order.status === 'approved') Object.assign(change, { status: 'draft', approved_by: null, approved_at: null });
    if (withdrawn) change.approved_revision = order.revision;
    if (amended && !order.amendedAt) change.amended_at = at;
    orderChanges.set(order.id, change);
    audits.push({
      action: !open ? 'restock.draft' : amended ? 'restock.amend' : 'restock.extend',
      details: {
        sku: row.sku,
        quantityMilli: quantity,
        previousMilli: previous,
        receivedMilli: received,
        alertId: item.alertId ?? null,
        status: order.status === 'approved' ? 'draft' : order.status,
        ...(amended ? { revision: order.revision, awaits: `approval of revision ${order.revision + 1}` } : {}),
      },
      orderId: order.id,
    });
    if (withdrawn) {
      audits.push({
        action: 'restock.approval_withdrawn',
        details: {
          approvedRevision: order.approvedRevision,
          reason: `${row.sku} was added or raised after the approval and before the issue: the order needs approving again`,
          ...(order.status === 'approved' ? { status: 'draft' } : {}),
        },
        orderId: order.id,
      });
    }
    // the next product of this order sees it as this one left it
    orders.set(key, {
      ...order,
      status: order.status === 'approved' ? 'draft' : order.status,
      approvedRevision: withdrawn ? order.revision : order.approvedRevision,
      amendedAt: amended ? (order.amendedAt ?? at) : order.amendedAt,
    });
    outcomes.push({
      action: !open ? 'created' : line ? 'extended' : 'added',
      orderId: order.id,
      quantityMilli: quantity,
      previousMilli: previous,
    });
  }

  for (const part of chunks(newLines)) await trx.insertInto('restock_order_lines').values(part).execute();
  for (const [id, change] of orderChanges) {
    await trx.updateTable('restock_orders').set(change).where('id', '=', id).execute();
  }
  await auditMany(
    trx,
    audits.map((a) => ({
      actor: 'system',
      action: a.action,
      details: a.details,
      target: `restock_order:${a.orderId}`,
      storeId,
    })),
  );
  return outcomes;
}
