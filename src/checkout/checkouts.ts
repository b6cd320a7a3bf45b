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
// Purchases that arrive together are written together (src/checkout/group-commit.ts): judged one after the other
// against the stock the earlier ones left, then each table written once for the batch, roll-up shares summed.
// Every checkout of a store moves the same store-day roll-up rows and, on MySQL, every statement is a round trip,
// so writing them per checkout (and committing each) is what would make a busy kiosk store queue.
import { evaluateStock } from '../alerts/low-stock.ts';
import { audit, auditMany } from '../db/audit.ts';
import { chunks } from '../db/chunks.ts';
import type { Database, Dialect } from '../db/connect.ts';
import { insertRows } from '../db/insert.ts';
import { inTransaction, isUniqueViolation, type Tx } from '../db/tx.ts';
import { localDateHour, type Need, requiredStock, shortfalls, toUnits } from '../domain/basket.ts';
import { DayAggregate } from '../domain/day-aggregate.ts';
import type { PaymentMethod } from '../domain/payment.ts';
import { stockState } from '../domain/stock-policy.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { findStore, findStoreCached, type StoreInfo } from '../inventory/catalog.ts';
import { applyMovements } from '../inventory/ledger.ts';
import { keyOf, type LockedBalance, lockBalances } from '../inventory/locks.ts';
import { addDayAggregate, addReceiptToRollups } from '../sales/rollup.ts';
import { BatchThread } from './batch-thread.ts';
import { GroupCommitter, type Outcome } from './group-commit.ts';
import {
  checkKey,
  type IdempotentResponse,
  keyId,
  readKey,
  readKeys,
  replay,
  requestHash,
  storeKeys,
} from './idempotency.ts';
import { newReceiptId } from './receipt-id.ts';
import { type LineInput, lookupAll, type PricedLine, priceBasket, type Scan, scanBasket } from './resolve.ts';

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

/**
 * The roll-up shares and audit entries of a batch's written sales, once for the batch: one DayAggregate per
 * store-day, each receipt's lines added together so that its tickets are exact.
 */
async function writeBatchShares(trx: Tx, written: WrittenSale[]): Promise<void> {
  const days = new Map<string, { storeId: number; businessDate: string; agg: DayAggregate }>();
  for (const w of written) {
    const k = `${w.job.store.id}|${w.businessDate}`;
    let d = days.get(k);
    if (!d) {
      d = { storeId: w.job.store.id, businessDate: w.businessDate, agg: new DayAggregate() };
      days.set(k, d);
    }
    for (const l of w.priced) {
      d.agg.add(
        {
          receiptId: w.receiptId,
          productId: l.product.id,
          quantityMilli: l.quantityMilli,
          totalCents: l.totalCents,
          paymentMethod: w.job.request.paymentMethod,
        },
        l.product,
      );
    }
  }
  for (const d of days.values()) await addDayAggregate(trx, d.storeId, d.businessDate, d.agg);
  await auditMany(
    trx,
    written.map((w) => ({
      actor: w.job.actor,
      action: 'checkout.register',
      details: {
        receiptId: w.receiptId,
        totalCents: w.totalCents,
        lines: w.priced.length,
        paymentMethod: w.job.request.paymentMethod,
        idempotencyKey: w.job.key,
      },
      target: `checkout:${w.id}`,
      storeId: w.job.store.id,
    })),
  );
}

/** A purchase as its batch receives it: its key, and what each line scanned (the catalogue is read by the batch). */
export interface CheckoutJob {
  store: StoreInfo;
  request: CheckoutRequest;
  actor: string;
  key: string;
  scope: string;
  hash: string;
  scans: Scan[];
}

interface Sale {
  /** the job's place in its batch */
  i: number;
  job: CheckoutJob;
  priced: PricedLine[];
  need: Need[];
}

interface WrittenSale extends Sale {
  businessDate: string;
  hour: number;
  receiptId: string;
  totalCents: number;
  /** the checkout row's id, once inserted */
  id: number;
}

/**
 * Registers a batch of purchases (see group-commit.ts): each is judged in arrival order against the stock the
 * earlier ones left, and those accepted are written with one statement per table for the whole batch. A refused
 * purchase is answered with its 409 and writes nothing; a repeated Idempotency-Key within the batch gets the first
 * one's answer.
 */
export async function registerBatch(
  trx: Tx,
  dialect: Dialect,
  jobs: CheckoutJob[],
): Promise<Outcome<IdempotentResponse>[]> {
  const outcomes: Outcome<IdempotentResponse>[] = new Array(jobs.length);
  const answer = (i: number, f: () => IdempotentResponse) => {
    try {
      outcomes[i] = { ok: true, value: f() };
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  };

  // The answers already given to the batch's keys and the catalogue rows its baskets name: one query each for the
  // whole batch, inside its transaction, so a purchase sees every one committed before it (a twin's key included)
  const prior = await readKeys(trx, jobs);
  const catalogue = await lookupAll(
    trx,
    jobs.flatMap((j) => j.scans),
  );
  const candidates: Sale[] = [];
  for (const [i, job] of jobs.entries()) {
    const stored = prior.get(keyId(job.scope, job.key));
    if (stored) {
      answer(i, () => replay(stored, job.hash));
      continue;
    }
    try {
      const priced = priceBasket(job.scans, job.request.lines, catalogue);
      const need = requiredStock(priced.map((l) => ({ productId: l.product.id, quantityMilli: l.quantityMilli })));
      candidates.push({ i, job, priced, need });
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  }
  if (candidates.length === 0) return outcomes;

  const locked = await lockBalances(
    trx,
    dialect,
    candidates.flatMap((c) => c.need.map((n) => ({ storeId: c.job.store.id, productId: n.productId }))),
  );
  const onHand = new Map<string, number>();
  for (const [k, b] of locked) onHand.set(k, b.onHandMilli);
  const sales: Sale[] = [];
  const firstWithKey = new Map<string, Sale>();
  const twins: Array<{ i: number; of: Sale; hash: string }> = [];
  for (const c of candidates) {
    const { store, scope, key } = c.job;
    const first = firstWithKey.get(keyId(scope, key));
    if (first) {
      twins.push({ i: c.i, of: first, hash: c.job.hash });
      continue;
    }
    const available = new Map(c.need.map((n) => [n.productId, onHand.get(keyOf(store.id, n.productId)) ?? 0]));
    const short = shortfalls(c.need, available);
    if (short.length) {
      // a twin of this request committed by an earlier batch may have taken the last units meanwhile
      const twin = dialect === 'mysql' ? await readKey(trx, scope, key, { locking: 'mysql' }) : undefined;
      if (twin) answer(c.i, () => replay(twin, c.job.hash));
      else outcomes[c.i] = { ok: false, error: refusal(store, c.priced, short) };
      continue;
    }
    for (const n of c.need) onHand.set(keyOf(store.id, n.productId), available.get(n.productId)! - n.quantityMilli);
    firstWithKey.set(keyId(scope, key), c);
    sales.push(c);
  }
  if (sales.length === 0) return outcomes;

  const answers = await writeSales(trx, sales, locked, onHand);
  const answerOf = new Map(sales.map((w, n) => [w.i, answers[n]!]));
  for (const [i, a] of answerOf) outcomes[i] = { ok: true, value: a };
  for (const t of twins) {
    const first = answerOf.get(t.of.i)!;
    answer(t.i, () => replay({ requestHash: t.of.job.hash, statusCode: first.statusCode, body: first.body }, t.hash));
  }
  return outcomes;
}

/**
 * Writes the accepted purchases of a batch, one statement per table (per 500 rows), and returns their answers in
 * order. `locked` is the stock before the batch and `onHand` after it: they say which products may change alerts.
 */
async function writeSales(
  trx: Tx,
  sales: Sale[],
  locked: Map<string, LockedBalance>,
  onHand: Map<string, number>,
): Promise<IdempotentResponse[]> {
  const now = new Date();
  const at = now.toISOString();
  const written = sales.map((s): WrittenSale => {
    const { date, hour } = localDateHour(s.job.store.timezone, now);
    return {
      ...s,
      businessDate: date,
      hour,
      receiptId: newReceiptId(),
      totalCents: s.priced.reduce((a, l) => a + l.totalCents, 0),
      id: 0,
    };
  });
  await insertRows(
    trx,
    'checkouts',
    written.map((w) => ({
      store_id: w.job.store.id,
      business_date: w.businessDate,
      receipt_id: w.receiptId,
      payment_method: w.job.request.paymentMethod,
      total_cents: w.totalCents,
      status: 'completed' as const,
      actor: w.job.actor,
      created_at: at,
      voided_at: null,
      voided_by: null,
      void_reason: null,
      void_date: null,
    })),
  );
  // the ids, by each store's receipt numbers (unique per store): MySQL has no RETURNING
  const byStore = new Map<number, Map<string, WrittenSale>>();
  for (const w of written) {
    const m = byStore.get(w.job.store.id) ?? new Map();
    m.set(w.receiptId, w);
    byStore.set(w.job.store.id, m);
  }
  for (const [storeId, byReceipt] of byStore) {
    for (const part of chunks([...byReceipt.keys()])) {
      const rows = await trx
        .selectFrom('checkouts')
        .select(['id', 'receipt_id'])
        .where('store_id', '=', storeId)
        .where('receipt_id', 'in', part)
        .execute();
      for (const r of rows) byReceipt.get(r.receipt_id)!.id = Number(r.id);
    }
  }
  const lines = written.flatMap((w) =>
    w.priced.map((l, n) => ({
      store_id: w.job.store.id,
      business_date: w.businessDate,
      source: 'checkout' as const,
      file_id: null,
      checkout_id: w.id,
      receipt_id: w.receiptId,
      line_no: n + 1,
      sold_at: at,
      hour: w.hour,
      product_id: l.product.id,
      quantity_milli: l.quantityMilli,
      unit_price_cents: l.unitPriceCents,
      discount_cents: 0,
      total_cents: l.totalCents,
      payment_method: w.job.request.paymentMethod,
    })),
  );
  await insertRows(trx, 'sales_lines', lines);
  await applyMovements(
    trx,
    written.flatMap((w) =>
      w.priced.map((l, n) => ({
        storeId: w.job.store.id,
        productId: l.product.id,
        kind: 'checkout' as const,
        deltaMilli: -l.quantityMilli,
        ref: `checkout:${w.id}:line:${n + 1}`,
        reason: `checkout ${w.receiptId}`,
        actor: w.job.actor,
      })),
    ),
    at,
  );
  // Only a product that is (or became) low or negative can open or close an alert; evaluating the others would be
  // statements that change nothing.
  const changing = new Map<number, Set<number>>();
  for (const w of written) {
    for (const n of w.need) {
      const b = locked.get(keyOf(w.job.store.id, n.productId));
      const reorder = b?.reorderPointMilli ?? null;
      const after = onHand.get(keyOf(w.job.store.id, n.productId)) ?? 0;
      if (stockState(b?.onHandMilli ?? 0, reorder) !== 'ok' || stockState(after, reorder) !== 'ok') {
        const set = changing.get(w.job.store.id) ?? new Set();
        set.add(n.productId);
        changing.set(w.job.store.id, set);
      }
    }
  }
  for (const [storeId, products] of changing) await evaluateStock(trx, storeId, [...products]);

  const answers = written.map((w) => {
    const view: CheckoutView = {
      id: w.id,
      store: w.job.store.code,
      receiptId: w.receiptId,
      businessDate: w.businessDate,
      status: 'completed',
      paymentMethod: w.job.request.paymentMethod,
      totalCents: w.totalCents,
      createdAt: at,
      voidedAt: null,
      voidDate: null,
      voidReason: null,
      lines: w.priced.map((l, n) => lineView(n + 1, l.product, l.quantityMilli, l.unitPriceCents, l.totalCents)),
    };
    return { statusCode: 201, body: JSON.stringify(view), replayed: false };
  });
  await storeKeys(
    trx,
    written.map((w, n) => ({ scope: w.job.scope, key: w.job.key, hash: w.job.hash, response: answers[n]! })),
  );
  await writeBatchShares(trx, written);
  return answers;
}

const committers = new WeakMap<Database, Map<number, GroupCommitter<CheckoutJob, IdempotentResponse>>>();

/**
 * SQLite has one writer, so one committer serves every store, and a SQLite file's batches are written by a worker
 * thread (batch-thread.ts). On MySQL each store gets its own: a store's checkouts all write its roll-up rows, so
 * they queue on those anyway, while different stores commit in parallel.
 */
function committerOf(database: Database, storeId: number): GroupCommitter<CheckoutJob, IdempotentResponse> {
  const key = database.dialect === 'sqlite' ? 0 : storeId;
  let byStore = committers.get(database);
  if (!byStore) {
    byStore = new Map();
    committers.set(database, byStore);
  }
  let c = byStore.get(key);
  if (!c) {
    const { dialect } = database;
    const thread =
      dialect === 'sqlite' && database.url !== 'sqlite::memory:'
        ? new BatchThread<CheckoutJob, IdempotentResponse>(database)
        : undefined;
    c = new GroupCommitter(database, (trx, jobs: CheckoutJob[]) => registerBatch(trx, dialect, jobs), {
      commit: thread && ((jobs) => thread.commit(jobs)),
    });
    byStore.set(key, c);
  }
  return c;
}

/** How the checkouts of `database` were batched so far in this process (tests). */
export function checkoutBatchStats(database: Database) {
  const out = { batches: 0, jobs: 0, largest: 0, splits: 0 };
  for (const c of committers.get(database)?.values() ?? []) {
    out.batches += c.stats.batches;
    out.jobs += c.stats.jobs;
    out.largest = Math.max(out.largest, c.stats.largest);
    out.splits += c.stats.splits;
  }
  return out;
}

export async function registerCheckout(
  database: Database,
  request: CheckoutRequest,
  opts: { actor: string; idempotencyKey: string | undefined },
): Promise<IdempotentResponse> {
  const key = checkKey(opts.idempotencyKey);
  const { db } = database;
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
  const scans = scanBasket(store, request.lines);
  try {
    return await committerOf(database, store.id).run({ store, request, actor: opts.actor, key, scope, hash, scans });
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
