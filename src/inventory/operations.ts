// The stock changes people make: counts, goods receipts, transfers between stores and the reorder levels. Each is
// one transaction that locks the rows it moves (in a fixed order), appends ledger movements carrying who and why,
// re-evaluates the low-stock alerts of what moved, and writes the audit log.
import { randomUUID } from 'node:crypto';
import { evaluateStock } from '../alerts/low-stock.ts';
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, isUniqueViolation, nowIso, type Tx } from '../db/tx.ts';
import { checkLevels, parseQuantity, toUnits } from '../domain/basket.ts';
import { conflict, type FieldProblem, forbidden, invalid, reasonError, reasonProblem } from '../errors.ts';
import { findProduct, findStore, type ProductInfo, productsForLines, type StoreInfo } from './catalog.ts';
import { applyMovements, type Movement } from './ledger.ts';
import { keyOf, lockBalances } from './locks.ts';

export type QuantityInput = number | string;

function quantities(
  products: ProductInfo[],
  values: QuantityInput[],
  field: string,
  opts: { allowZero?: boolean } = {},
): number[] {
  const problems: FieldProblem[] = [];
  const out = values.map((v, i) => {
    const q = parseQuantity(v, products[i]!.unit, opts);
    if (!q.ok) {
      problems.push(reasonProblem(`lines/${i}/${field}`, q.why.code, q.why.params));
      return 0;
    }
    return q.milli;
  });
  if (problems.length) throw invalid(problems.map((p) => `${p.where} ${p.problem}`).join('; '), problems);
  return out;
}

function needReason(reason: string | undefined, where = 'reason'): string {
  const r = reason?.trim() ?? '';
  if (!r) throw invalid('say why: a reason is required', [{ where, problem: 'is required' }]);
  return r;
}

// ── counts ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface CountInput {
  reason: string;
  lines: Array<{ sku: string; counted: QuantityInput }>;
}

export interface CountResult {
  id: string;
  store: string;
  at: string;
  actor: string;
  reason: string;
  lines: Array<{ sku: string; name: string; previous: number; counted: number; difference: number }>;
}

/** Sets each product to the counted quantity: a `count` movement of the difference (none when it matches). */
export async function recordCount(
  database: Database,
  storeCode: string,
  input: CountInput,
  actor: string,
): Promise<CountResult> {
  const reason = needReason(input.reason);
  const store = await findStore(database.db, storeCode);
  const products = await productsForLines(database.db, input.lines);
  const counted = quantities(
    products,
    input.lines.map((l) => l.counted),
    'counted',
    { allowZero: true },
  );
  const id = randomUUID();
  return inTransaction(database, async (trx) => {
    const at = nowIso();
    const locked = await lockBalances(
      trx,
      database.dialect,
      products.map((p) => ({ storeId: store.id, productId: p.id })),
    );
    const lines = products.map((p, i) => {
      const previous = locked.get(keyOf(store.id, p.id))?.onHandMilli ?? 0;
      return { product: p, previous, counted: counted[i]!, difference: counted[i]! - previous };
    });
    const movements: Movement[] = lines.map((l) => ({
      storeId: store.id,
      productId: l.product.id,
      kind: 'count',
      deltaMilli: l.difference,
      ref: `count:${id}:${l.product.id}`,
      reason: `${reason} (counted ${toUnits(l.counted)}, system had ${toUnits(l.previous)})`,
      actor,
    }));
    await applyMovements(trx, movements, at);
    await evaluateStock(
      trx,
      store.id,
      products.map((p) => p.id),
    );
    const result: CountResult = {
      id,
      store: store.code,
      at,
      actor,
      reason,
      lines: lines.map((l) => ({
        sku: l.product.sku,
        name: l.product.name,
        previous: toUnits(l.previous),
        counted: toUnits(l.counted),
        difference: toUnits(l.difference),
      })),
    };
    await audit(trx, actor, 'stock.count', { id, reason, lines: result.lines }, `count:${id}`, store.id);
    return result;
  });
}

// ── goods receipts ───────────────────────────────────────────────────────────────────────────────────────────

export interface ReceiptInput {
  /** the delivery's document: an invoice (NF-e) or delivery-note number */
  reference: string;
  supplier?: string;
  reason?: string;
  lines: Array<{ sku: string; quantity: QuantityInput }>;
}

export interface ReceiptResult {
  store: string;
  reference: string;
  supplier: string | null;
  at: string;
  actor: string;
  lines: Array<{ sku: string; name: string; quantity: number; onHand: number }>;
}

// The reference is part of every movement's ref, so one document is received once per store and product: a second
// submission of the same invoice (a double click, a retry) is refused instead of doubling the stock.
const receiptPrefix = (storeId: number, reference: string) => `receipt:${storeId}:${reference}:`;

export async function receiveGoods(
  database: Database,
  storeCode: string,
  input: ReceiptInput,
  actor: string,
): Promise<ReceiptResult> {
  const reference = input.reference.trim();
  if (!/^[^\s:][^:]{0,59}$/.test(reference)) {
    throw invalid('the reference must be 1–60 characters without ":"', [
      { where: 'reference', problem: 'must be 1–60 characters without ":"' },
    ]);
  }
  const store = await findStore(database.db, storeCode);
  const products = await productsForLines(database.db, input.lines);
  const qty = quantities(
    products,
    input.lines.map((l) => l.quantity),
    'quantity',
  );
  const supplier = input.supplier?.trim() || null;
  const why = input.reason?.trim() || `goods receipt ${reference}${supplier ? ` from ${supplier}` : ''}`;
  const prefix = receiptPrefix(store.id, reference);
  const already = async (trx: Tx) => {
    const prior = await trx
      .selectFrom('stock_movements')
      .select(['created_at', 'actor'])
      .where('ref', '>=', prefix)
      .where('ref', '<', `${prefix.slice(0, -1)};`)
      .executeTakeFirst();
    return prior
      ? conflict(
          `${reference} was already received at store ${store.code} on ${prior.created_at}${prior.actor ? ` by ${prior.actor}` : ''}`,
          [{ where: 'reference', problem: 'already received' }],
        )
      : undefined;
  };
  try {
    return await inTransaction(database, async (trx) => {
      const dup = await already(trx);
      if (dup) throw dup;
      const at = nowIso();
      const locked = await lockBalances(
        trx,
        database.dialect,
        products.map((p) => ({ storeId: store.id, productId: p.id })),
      );
      await applyMovements(
        trx,
        products.map((p, i) => ({
          storeId: store.id,
          productId: p.id,
          kind: 'receipt',
          deltaMilli: qty[i]!,
          ref: `${prefix}${p.id}`,
          reason: why,
          actor,
        })),
        at,
      );
      await evaluateStock(
        trx,
        store.id,
        products.map((p) => p.id),
      );
      const result: ReceiptResult = {
        store: store.code,
        reference,
        supplier,
        at,
        actor,
        lines: products.map((p, i) => ({
          sku: p.sku,
          name: p.name,
          quantity: toUnits(qty[i]!),
          onHand: toUnits((locked.get(keyOf(store.id, p.id))?.onHandMilli ?? 0) + qty[i]!),
        })),
      };
      await audit(
        trx,
        actor,
        'stock.receipt',
        { reference, supplier, reason: why, lines: result.lines },
        `receipt:${reference}`,
        store.id,
      );
      return result;
    });
  } catch (e) {
    // two submissions of one document at the same moment: the second meets the first's movement refs
    if (isUniqueViolation(e)) throw (await already(database.db)) ?? e;
    throw e;
  }
}

// ── transfers ────────────────────────────────────────────────────────────────────────────────────────────────

export interface TransferInput {
  /** the receiving store's code */
  to: string;
  reason: string;
  lines: Array<{ sku: string; quantity: QuantityInput }>;
}

export interface TransferResult {
  id: string;
  from: string;
  to: string;
  at: string;
  actor: string;
  reason: string;
  lines: Array<{ sku: string; name: string; quantity: number; fromOnHand: number; toOnHand: number }>;
}

/**
 * Moves goods out of one store and into another in one transaction. The sending store cannot ship more than it
 * has on hand (409 naming the product and what is there); `canSee` decides whether the actor may touch the
 * receiving store (the sending one was checked by the route's access rule).
 */
export async function transferStock(
  database: Database,
  fromCode: string,
  input: TransferInput,
  actor: string,
  canSee: (store: StoreInfo) => boolean,
): Promise<TransferResult> {
  const reason = needReason(input.reason);
  const from = await findStore(database.db, fromCode);
  const to = await findStore(database.db, input.to);
  if (from.id === to.id) {
    throw invalid('a transfer needs two different stores', [{ where: 'to', problem: 'is the sending store' }]);
  }
  if (!canSee(to)) throw forbidden(`you may not move stock into store ${to.code}`);
  const products = await productsForLines(database.db, input.lines);
  const qty = quantities(
    products,
    input.lines.map((l) => l.quantity),
    'quantity',
  );
  const id = randomUUID();
  return inTransaction(database, async (trx) => {
    const at = nowIso();
    const locked = await lockBalances(trx, database.dialect, [
      ...products.map((p) => ({ storeId: from.id, productId: p.id })),
      ...products.map((p) => ({ storeId: to.id, productId: p.id })),
    ]);
    const problems: FieldProblem[] = [];
    const short: Array<[string, string, number, number]> = [];
    products.forEach((p, i) => {
      const available = locked.get(keyOf(from.id, p.id))?.onHandMilli ?? 0;
      if (available < qty[i]!) {
        short.push([p.name, p.sku, toUnits(qty[i]!), toUnits(Math.max(available, 0))]);
        problems.push(
          reasonProblem(`lines/${i}/quantity`, 'only_on_hand', { available: toUnits(Math.max(available, 0)) }),
        );
      }
    });
    if (problems.length) {
      throw reasonError('conflict', 'not_enough_to_send', { store: from.code, items: JSON.stringify(short) }, problems);
    }
    const movements: Movement[] = products.flatMap((p, i) => [
      {
        storeId: from.id,
        productId: p.id,
        kind: 'transfer_out' as const,
        deltaMilli: -qty[i]!,
        ref: `transfer:${id}:out:${p.id}`,
        reason: `transfer to ${to.code}: ${reason}`,
        actor,
      },
      {
        storeId: to.id,
        productId: p.id,
        kind: 'transfer_in' as const,
        deltaMilli: qty[i]!,
        ref: `transfer:${id}:in:${p.id}`,
        reason: `transfer from ${from.code}: ${reason}`,
        actor,
      },
    ]);
    await applyMovements(trx, movements, at);
    const ids = products.map((p) => p.id);
    await evaluateStock(trx, from.id, ids);
    await evaluateStock(trx, to.id, ids);
    const result: TransferResult = {
      id,
      from: from.code,
      to: to.code,
      at,
      actor,
      reason,
      lines: products.map((p, i) => ({
        sku: p.sku,
        name: p.name,
        quantity: toUnits(qty[i]!),
        fromOnHand: toUnits((locked.get(keyOf(from.id, p.id))?.onHandMilli ?? 0) - qty[i]!),
        toOnHand: toUnits((locked.get(keyOf(to.id, p.id))?.onHandMilli ?? 0) + qty[i]!),
      })),
    };
    const details = { id, from: from.code, to: to.code, reason, lines: result.lines };
    await audit(trx, actor, 'stock.transfer_out', details, `transfer:${id}`, from.id);
    await audit(trx, actor, 'stock.transfer_in', details, `transfer:${id}`, to.id);
    return result;
  });
}

// ── levels ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface LevelsInput {
  /** absent: unchanged; null: cleared */
  reorderPoint?: QuantityInput | null;
  targetLevel?: QuantityInput | null;
  reason?: string;
}

export interface LevelsResult {
  store: string;
  sku: string;
  name: string;
  onHand: number;
  reorderPoint: number | null;
  targetLevel: number | null;
  low: boolean;
}

export async function setLevels(
  database: Database,
  storeCode: string,
  sku: string,
  input: LevelsInput,
  actor: string,
): Promise<LevelsResult> {
  const store = await findStore(database.db, storeCode);
  const product = await findProduct(database.db, sku);
  const level = (v: QuantityInput | null | undefined, where: string): number | null | undefined => {
    if (v === undefined || v === null) return v;
    const q = parseQuantity(v, product.unit, { allowZero: true });
    if (!q.ok) throw invalid(`${where} ${q.reason}`, [{ where, problem: q.reason }]);
    return q.milli;
  };
  const reorder = level(input.reorderPoint, 'reorderPoint');
  const target = level(input.targetLevel, 'targetLevel');
  if (reorder === undefined && target === undefined) {
    throw invalid('give reorderPoint, targetLevel or both', [{ where: 'body', problem: 'sets nothing' }]);
  }
  return inTransaction(database, async (trx) => {
    const at = nowIso();
    const current = (await lockBalances(trx, database.dialect, [{ storeId: store.id, productId: product.id }])).get(
      keyOf(store.id, product.id),
    );
    const next = {
      reorder: reorder === undefined ? (current?.reorderPointMilli ?? null) : reorder,
      target: target === undefined ? (current?.targetLevelMilli ?? null) : target,
    };
    const check = checkLevels(next.reorder, next.target);
    if (!check.ok) throw invalid(`${check.where} ${check.problem}`, [{ where: check.where, problem: check.problem }]);
    if (current) {
      await trx
        .updateTable('stock_balances')
        .set({ reorder_point_milli: next.reorder, target_level_milli: next.target, updated_at: at })
        .where('store_id', '=', store.id)
        .where('product_id', '=', product.id)
        .execute();
    } else {
      await trx
        .insertInto('stock_balances')
        .values({
          store_id: store.id,
          product_id: product.id,
          on_hand_milli: 0,
          reorder_point_milli: next.reorder,
          target_level_milli: next.target,
          updated_at: at,
        })
        .execute();
    }
    await evaluateStock(trx, store.id, [product.id]);
    const onHand = current?.onHandMilli ?? 0;
    const units = (m: number | null) => (m === null ? null : toUnits(m));
    await audit(
      trx,
      actor,
      'stock.levels',
      {
        sku: product.sku,
        reason: input.reason?.trim() || null,
        before: {
          reorderPoint: units(current?.reorderPointMilli ?? null),
          targetLevel: units(current?.targetLevelMilli ?? null),
        },
        after: { reorderPoint: units(next.reorder), targetLevel: units(next.target) },
      },
      `product:${product.sku}`,
      store.id,
    );
    return {
      store: store.code,
      sku: product.sku,
      name: product.name,
      onHand: toUnits(onHand),
      reorderPoint: units(next.reorder),
      targetLevel: units(next.target),
      low: next.reorder !== null && onHand <= next.reorder,
    };
  });
}
