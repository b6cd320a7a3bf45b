// Self-checkout purchases: registering one (sales lines + stock decrement + roll-up, in ONE transaction, exactly
// once per Idempotency-Key) and voiding one (reversing lines and movements on the day of the void).
//
// Concurrency. SQLite: BEGIN IMMEDIATE serializes writers, so the stock read inside the transaction is the stock
// the decrement applies to. MySQL: the basket's stock rows are locked with one `select … for update` in product-id
// order before anything is checked, so N purchases of one product queue on its row and each sees the previous
// one's result (N purchases move stock by exactly N), and two baskets holding the same products in opposite orders
// lock them in the same order and cannot deadlock on them. Deadlocks elsewhere (first inserts of roll-up rows)
// are retried by inTransaction and never reach the client.
//
// Purchases that arrive together share one transaction (src/checkout/group-commit.ts), each in a savepoint, and
// their roll-up shares (summed) and audit entries are written once per batch: every checkout of a store moves the
// same store-day roll-up rows, so writing them per checkout (and committing each) is what would make a busy kiosk
// store queue.
import { randomBytes } from 'node:crypto';
import { evaluateStock } from '../alerts/low-stock.ts';
import { audit, auditMany } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, isUniqueViolation, type Tx } from '../db/tx.ts';
import { localDateHour, requiredStock, shortfalls, toUnits } from '../domain/basket.ts';
import { DayAggregate } from '../domain/day-aggregate.ts';
import type { PaymentMethod } from '../domain/payment.ts';
import { stockState } from '../domain/stock-policy.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { findStore, findStoreCached, type StoreInfo } from '../inventory/catalog.ts';
import { applyMovements } from '../inventory/ledger.ts';
import { keyOf, lockBalances } from '../inventory/locks.ts';
import { addDayAggregate, addReceiptToRollups } from '../sales/rollup.ts';
import { GroupCommitter, type JobContext } from './group-commit.ts';
import { checkKey, type IdempotentResponse, readKey, replay, requestHash, storeKey } from './idempotency.ts';
import { type LineInput, type PricedLine, resolveBasket } from './resolve.ts';

export interface CheckoutRequest {
  store: string;
  paymentMethod: PaymentMethod;
  lines: LineInput[];
}

export interface CheckoutLineView {
  lineNo: number;
  sku: string;
  ean: string | null;
  name: string;
  unit: 'UN' | 'KG';
  /** units or kg */
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
}

export interface CheckoutView {
  id: number;
  store: string;
  receiptId: string;
  businessDate: string;
  status: 'completed' | 'voided';
  paymentMethod: string;
  totalCents: number;
  createdAt: string;
  voidedAt: string | null;
  voidDate: string | null;
  voidReason: string | null;
  lines: CheckoutLineView[];
}

/** The scope of a store's keys: kiosks of different stores may well generate the same key. */
const scopeOf = (storeId: number) => `checkout:${storeId}`;

// Random rather than sequential: a per-store counter would be one more row every checkout of the store writes.
// The prefix keeps them apart from the receipt numbers of sales files (tickets are counted per source anyway: see TICKETS_OF_LINES).
const newReceiptId = () => `CK-${randomBytes(6).toString('hex').toUpperCase()}`;

/**
 * What a checkout leaves for its batch to write once for all (see group-commit.ts): its share of the roll-ups and
 * its audit entry.
 */
interface BatchShare {
  storeId: number;
  businessDate: string;
  receiptId: string;
  paymentMethod: string;
  lines: Array<{
    product: { id: number; unit: 'UN' | 'KG'; category: string | null };
    quantityMilli: number;
    totalCents: number;
  }>;
  audit: { actor: string; action: string; details: unknown; target: string; storeId: number };
}

/** One DayAggregate per store-day of the batch; each receipt's lines are added together, so its tickets are exact. */
async function writeBatchShares(trx: Tx, shares: BatchShare[]): Promise<void> {
  const days = new Map<string, { storeId: number; businessDate: string; agg: DayAggregate }>();
  for (const s of shares) {
    const k = `${s.storeId}|${s.businessDate}`;
    let d = days.get(k);
    if (!d) {
      d = { storeId: s.storeId, businessDate: s.businessDate, agg: new DayAggregate() };
      days.set(k, d);
    }
    for (const l of s.lines) {
      d.agg.add(
        {
          receiptId: s.receiptId,
          productId: l.product.id,
          quantityMilli: l.quantityMilli,
          totalCents: l.totalCents,
          paymentMethod: s.paymentMethod,
        },
        l.product,
      );
    }
  }
  for (const d of days.values()) await addDayAggregate(trx, d.storeId, d.businessDate, d.agg);
  await auditMany(
    trx,
    shares.map((s) => s.audit),
  );
}

const committers = new WeakMap<Database, Map<number, GroupCommitter<BatchShare>>>();

/**
 * SQLite has one writer, so one committer serves every store. On MySQL each store gets its own: a store's
 * checkouts all write its roll-up rows, so they queue on those anyway, while different stores commit in parallel.
 */
function committerOf(database: Database, storeId: number): GroupCommitter<BatchShare> {
  const key = database.dialect === 'sqlite' ? 0 : storeId;
  let byStore = committers.get(database);
  if (!byStore) {
    byStore = new Map();
    committers.set(database, byStore);
  }
  let c = byStore.get(key);
  if (!c) {
    c = new GroupCommitter<BatchShare>(database, { finishBatch: writeBatchShares });
    byStore.set(key, c);
  }
  return c;
}

export async function registerCheckout(
  database: Database,
  request: CheckoutRequest,
  opts: { actor: string; idempotencyKey: string | undefined },
): Promise<IdempotentResponse> {
  const key = checkKey(opts.idempotencyKey);
  const { db, dialect } = database;
  const store = await findStoreCached(db, request.store);
  if (store.kind !== 'selfservice') {
    throw conflict(
      `store ${store.code} sends daily sales files: its sales are loaded from them, so a checkout here would count twice; checkouts are for self-service stores`,
      [{ where: 'store', problem: 'is not a self-service store' }],
    );
  }
  const scope = scopeOf(store.id);
  const hash = requestHash({ store: request.store, paymentMethod: request.paymentMethod, lines: request.lines });
  if (request.lines.length === 0) throw invalid('the basket is empty', [{ where: 'lines', problem: 'is empty' }]);

  // What the purchase is, read before its transaction on MySQL (parallel connections; the store's batch stays
  // short) and inside it on SQLite (one connection: reads outside would queue behind whole batches, and inside
  // they see every earlier purchase, a twin with the same key included).
  const prepare = async (q: Tx) => {
    const prior = await readKey(q, scope, key);
    if (prior) return { replayed: replay(prior, hash) } as const;
    const priced = await resolveBasket(q, store, request.lines);
    const need = requiredStock(priced.map((l) => ({ productId: l.product.id, quantityMilli: l.quantityMilli })));
    return { priced, need } as const;
  };
  const early = dialect === 'mysql' ? await prepare(db) : undefined;
  if (early?.replayed) return early.replayed;

  const work = async (trx: Tx, job: JobContext<BatchShare>): Promise<IdempotentResponse> => {
    const p = early ?? (await prepare(trx));
    if (p.replayed) return p.replayed;
    const { priced, need } = p;
    const locked = await lockBalances(
      trx,
      dialect,
      need.map((n) => ({ storeId: store.id, productId: n.productId })),
    );
    const onHand = new Map(need.map((n) => [n.productId, locked.get(keyOf(store.id, n.productId))?.onHandMilli ?? 0]));
    const short = shortfalls(need, onHand);
    if (short.length) {
      // a twin of this request may have taken the last units while this one waited for the row lock
      const twin = dialect === 'mysql' ? await readKey(trx, scope, key, { locking: 'mysql' }) : undefined;
      if (twin) return replay(twin, hash);
      throw refusal(store, priced, short);
    }
    const now = new Date();
    const at = now.toISOString();
    const { date: businessDate, hour } = localDateHour(store.timezone, now);
    const receiptId = newReceiptId();
    const totalCents = priced.reduce((a, l) => a + l.totalCents, 0);
    const inserted = await trx
      .insertInto('checkouts')
      .values({
        store_id: store.id,
        business_date: businessDate,
        receipt_id: receiptId,
        payment_method: request.paymentMethod,
        total_cents: totalCents,
        status: 'completed',
        actor: opts.actor,
        created_at: at,
        voided_at: null,
        voided_by: null,
        void_reason: null,
        void_date: null,
      })
      .executeTakeFirstOrThrow();
    const id = Number(inserted.insertId);
    await trx
      .insertInto('sales_lines')
      .values(
        priced.map((l, i) => ({
          store_id: store.id,
          business_date: businessDate,
          source: 'checkout' as const,
          file_id: null,
          checkout_id: id,
          receipt_id: receiptId,
          line_no: i + 1,
          sold_at: at,
          hour,
          product_id: l.product.id,
          quantity_milli: l.quantityMilli,
          unit_price_cents: l.unitPriceCents,
          discount_cents: 0,
          total_cents: l.totalCents,
          payment_method: request.paymentMethod,
        })),
      )
      .execute();
    await applyMovements(
      trx,
      dialect,
      priced.map((l, i) => ({
        storeId: store.id,
        productId: l.product.id,
        kind: 'checkout',
        deltaMilli: -l.quantityMilli,
        ref: `checkout:${id}:line:${i + 1}`,
        reason: `checkout ${receiptId}`,
        actor: opts.actor,
      })),
      at,
    );
    // Only a product that is (or becomes) low or negative can open or close an alert; evaluating the others would
    // be two statements per checkout that change nothing.
    const changing = need.filter((n) => {
      const b = locked.get(keyOf(store.id, n.productId));
      const before = b?.onHandMilli ?? 0;
      const reorder = b?.reorderPointMilli ?? null;
      return stockState(before, reorder) !== 'ok' || stockState(before - n.quantityMilli, reorder) !== 'ok';
    });
    if (changing.length) {
      await evaluateStock(
        trx,
        store.id,
        changing.map((n) => n.productId),
      );
    }
    const view: CheckoutView = {
      id,
      store: store.code,
      receiptId,
      businessDate,
      status: 'completed',
      paymentMethod: request.paymentMethod,
      totalCents,
      createdAt: at,
      voidedAt: null,
      voidDate: null,
      voidReason: null,
      lines: priced.map((l, i) => lineView(i + 1, l.product, l.quantityMilli, l.unitPriceCents, l.totalCents)),
    };
    const body = JSON.stringify(view);
    await storeKey(trx, scope, key, hash, 201, body);
    job.contribute({
      storeId: store.id,
      businessDate,
      receiptId,
      paymentMethod: request.paymentMethod,
      lines: priced,
      audit: {
        actor: opts.actor,
        action: 'checkout.register',
        details: {
          receiptId,
          totalCents,
          lines: priced.length,
          paymentMethod: request.paymentMethod,
          idempotencyKey: key,
        },
        target: `checkout:${id}`,
        storeId: store.id,
      },
    });
    return { statusCode: 201, body, replayed: false };
  };
  try {
    return await committerOf(database, store.id).run(work);
  } catch (e) {
    // MySQL: a twin committed the same key while this one ran; its response is the answer
    if (isUniqueViolation(e)) {
      const twin = await readKey(db, scope, key);
      if (twin) return replay(twin, hash);
    }
    throw e;
  }
}

function refusal(store: StoreInfo, priced: PricedLine[], short: ReturnType<typeof shortfalls>) {
  const byId = new Map(priced.map((l) => [l.product.id, l.product]));
  const parts = short.map((s) => {
    const p = byId.get(s.productId)!;
    return `${p.name} (${p.sku}): ${toUnits(s.requestedMilli)} requested, ${toUnits(s.availableMilli)} available`;
  });
  const details = short.map((s) => {
    const p = byId.get(s.productId)!;
    const lines = priced.flatMap((l, i) => (l.product.id === s.productId ? [i] : []));
    return { where: `lines/${lines[0]}`, problem: `${p.sku}: only ${toUnits(s.availableMilli)} available` };
  });
  return conflict(`not enough stock at store ${store.code}: ${parts.join('; ')}`, details);
}

function lineView(
  lineNo: number,
  p: { sku: string; ean: string | null; name: string; unit: 'UN' | 'KG' },
  quantityMilli: number,
  unitPriceCents: number,
  totalCents: number,
): CheckoutLineView {
  return {
    lineNo,
    sku: p.sku,
    ean: p.ean,
    name: p.name,
    unit: p.unit,
    quantity: toUnits(quantityMilli),
    unitPriceCents,
    totalCents,
  };
}

// ── reading and voiding ─────────────────────────────────────────────────────────────────────────────────────

async function checkoutRow(trx: Tx, storeId: number, id: number, lock: boolean) {
  let q = trx.selectFrom('checkouts').selectAll().where('id', '=', id).where('store_id', '=', storeId);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

async function originalLines(trx: Tx, c: { store_id: number; business_date: string; receipt_id: string }) {
  return trx
    .selectFrom('sales_lines as l')
    .innerJoin('products as p', 'p.id', 'l.product_id')
    .select([
      'l.line_no',
      'l.product_id',
      'l.quantity_milli',
      'l.unit_price_cents',
      'l.discount_cents',
      'l.total_cents',
      'p.sku',
      'p.ean',
      'p.name',
      'p.unit',
      'p.category',
    ])
    .where('l.store_id', '=', c.store_id)
    .where('l.business_date', '=', c.business_date)
    .where('l.source', '=', 'checkout')
    .where('l.receipt_id', '=', c.receipt_id)
    .orderBy('l.line_no')
    .execute();
}

type CheckoutRow = NonNullable<Awaited<ReturnType<typeof checkoutRow>>>;

function viewOf(store: StoreInfo, c: CheckoutRow, lines: Awaited<ReturnType<typeof originalLines>>): CheckoutView {
  return {
    id: Number(c.id),
    store: store.code,
    receiptId: c.receipt_id,
    businessDate: c.business_date,
    status: c.status,
    paymentMethod: c.payment_method,
    totalCents: Number(c.total_cents),
    createdAt: c.created_at,
    voidedAt: c.voided_at,
    voidDate: c.void_date,
    voidReason: c.void_reason,
    lines: lines.map((l) =>
      lineView(Number(l.line_no), l, Number(l.quantity_milli), Number(l.unit_price_cents), Number(l.total_cents)),
    ),
  };
}

export async function getCheckout(database: Database, storeCode: string, id: number): Promise<CheckoutView> {
  const store = await findStore(database.db, storeCode);
  const c = await checkoutRow(database.db, store.id, id, false);
  if (!c) throw notFound(`there is no checkout ${id} at store ${store.code}`);
  return viewOf(store, c, await originalLines(database.db, c));
}

/**
 * Voids a whole checkout: every line is reversed by a line of the opposite sign (receipt `<receipt>-V`) on the
 * store's business date of the void, and every unit goes back to stock with a `void` movement. The sale's own day
 * is left as it was reported. Voiding a voided checkout changes nothing and answers its current state, so a kiosk
 * may retry it safely.
 */
export async function voidCheckout(
  database: Database,
  storeCode: string,
  id: number,
  reason: string,
  actor: string,
): Promise<CheckoutView> {
  const why = reason.trim();
  if (!why) throw invalid('say why the checkout is voided', [{ where: 'reason', problem: 'is required' }]);
  const store = await findStore(database.db, storeCode);
  const { dialect } = database;
  return inTransaction(database, async (trx) => {
    const c = await checkoutRow(trx, store.id, id, dialect === 'mysql');
    if (!c) throw notFound(`there is no checkout ${id} at store ${store.code}`);
    const lines = await originalLines(trx, c);
    if (c.status === 'voided') return viewOf(store, c, lines);
    const need = requiredStock(lines.map((l) => ({ productId: Number(l.product_id), quantityMilli: 0 })));
    await lockBalances(
      trx,
      dialect,
      need.map((n) => ({ storeId: store.id, productId: n.productId })),
    );
    const now = new Date();
    const at = now.toISOString();
    const { date: voidDate, hour } = localDateHour(store.timezone, now);
    const receiptId = `${c.receipt_id}-V`;
    await trx
      .insertInto('sales_lines')
      .values(
        lines.map((l) => ({
          store_id: store.id,
          business_date: voidDate,
          source: 'checkout' as const,
          file_id: null,
          checkout_id: Number(c.id),
          receipt_id: receiptId,
          line_no: Number(l.line_no),
          sold_at: at,
          hour,
          product_id: Number(l.product_id),
          quantity_milli: -Number(l.quantity_milli),
          unit_price_cents: Number(l.unit_price_cents),
          discount_cents: -Number(l.discount_cents),
          total_cents: -Number(l.total_cents),
          payment_method: c.payment_method,
        })),
      )
      .execute();
    await applyMovements(
      trx,
      dialect,
      lines.map((l) => ({
        storeId: store.id,
        productId: Number(l.product_id),
        kind: 'void',
        deltaMilli: Number(l.quantity_milli),
        ref: `checkout:${c.id}:void:${l.line_no}`,
        reason: `void of checkout ${c.receipt_id}: ${why}`,
        actor,
      })),
      at,
    );
    await trx
      .updateTable('checkouts')
      .set({ status: 'voided', voided_at: at, voided_by: actor, void_reason: why, void_date: voidDate })
      .where('id', '=', c.id)
      .execute();
    await evaluateStock(
      trx,
      store.id,
      need.map((n) => n.productId),
    );
    await audit(
      trx,
      actor,
      'checkout.void',
      { receiptId: c.receipt_id, totalCents: Number(c.total_cents), reason: why, voidDate },
      `checkout:${c.id}`,
      store.id,
    );
    await addReceiptToRollups(trx, {
      storeId: store.id,
      businessDate: voidDate,
      paymentMethod: c.payment_method,
      lines: lines.map((l) => ({
        productId: Number(l.product_id),
        quantityMilli: -Number(l.quantity_milli),
        totalCents: -Number(l.total_cents),
      })),
    });
    return viewOf(
      store,
      { ...c, status: 'voided', voided_at: at, voided_by: actor, void_reason: why, void_date: voidDate },
      lines,
    );
  });
}
