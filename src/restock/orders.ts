// Restock orders after drafting: reading them, approval, goods received against them in one or more deliveries
// (receipt movements through the stock ledger), closing and cancelling. An order stays THE open order of its store
// and supplier (`open_key`) until it is closed or cancelled, so approval does not free the key: needs arriving after
// it change the same order, and a change to an order the supplier already has is approved like the order itself and
// goes out as the next revision (issue.ts). Approval records the revision it approves (`approved_revision`) before
// anything is written, so that approving again finishes an issue interrupted by a crash.
import { evaluateStock } from '../alerts/low-stock.ts';
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { dialectOf, inTransaction, isUniqueViolation, nowIso, type Tx } from '../db/tx.ts';
import { parseQuantity } from '../domain/basket.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { applyMovements, type Movement } from '../inventory/ledger.ts';
import { OPEN_STATUSES, type Rationale, type RestockStatus } from './draft.ts';

export { OPEN_STATUSES, RESTOCK_STATUSES, type RestockStatus } from './draft.ts';

// ---------------------------------------------------------------------------------------------------------------
// Reading

export interface RestockLineView {
  sku: string;
  name: string;
  ean: string | null;
  unit: 'UN' | 'KG';
  /** units or kg */
  quantity: number;
  received: number;
  outstanding: number;
  /** what the supplier was sent in the latest revision (0 for a line added since) */
  issued: number;
  quantityMilli: number;
  receivedMilli: number;
  issuedMilli: number;
  packSizeMilli: number;
  rationale: Rationale | null;
}

export interface RestockOrderSummary {
  id: number;
  store: string;
  storeName: string;
  supplier: string;
  status: RestockStatus;
  lineCount: number;
  /** the revision the supplier was last sent: 0 before the first issue */
  revision: number;
  /** an issued order changed by a later need: the change awaits approval, then goes out as the next revision */
  pendingChanges: boolean;
  createdAt: string;
  updatedAt: string;
  issuedAt: string | null;
  closedAt: string | null;
}

export interface RestockOrderView extends Omit<RestockOrderSummary, 'lineCount'> {
  storeId: number;
  supplierEmail: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  /** when the first change still awaiting approval was made (null without pending changes) */
  amendedAt: string | null;
  receipts: number;
  emailedTo: string | null;
  emailedAt: string | null;
  /** the revision last e-mailed to the supplier (0: none) */
  emailedRevision: number;
  cancelledAt: string | null;
  documents: { pdf: string; csv: string } | null;
  lines: RestockLineView[];
}

export interface RestockFilter {
  /** the stores the caller may see; undefined for all */
  storeIds?: number[];
  store?: string;
  status?: RestockStatus | 'open';
  supplier?: string;
  limit?: number;
  offset?: number;
}

export const csvKeyOf = (pdfKey: string) => pdfKey.replace(/\.pdf$/, '.csv');

export async function listOrders(db: Tx, f: RestockFilter = {}): Promise<RestockOrderSummary[]> {
  let q = db
    .selectFrom('restock_orders as o')
    .innerJoin('stores as s', 's.id', 'o.store_id')
    .select([
      'o.id',
      's.code',
      's.name',
      'o.supplier',
      'o.status',
      'o.created_at',
      'o.updated_at',
      'o.issued_at',
      'o.closed_at',
      'o.revision',
      'o.amended_at',
      (eb) =>
        eb
          .selectFrom('restock_order_lines as l')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('l.order_id', '=', 'o.id')
          .as('line_count'),
    ])
    .orderBy('o.id', 'desc')
    .limit(f.limit ?? 100)
    .offset(f.offset ?? 0);
  if (f.storeIds) q = q.where('o.store_id', 'in', f.storeIds.length ? f.storeIds : [-1]);
  if (f.store) q = q.where('s.code', '=', f.store);
  if (f.status === 'open') q = q.where('o.status', 'in', [...OPEN_STATUSES]);
  else if (f.status) q = q.where('o.status', '=', f.status);
  if (f.supplier) q = q.where('o.supplier', '=', f.supplier);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    store: r.code,
    storeName: r.name,
    supplier: r.supplier,
    status: r.status,
    lineCount: Number(r.line_count ?? 0),
    revision: Number(r.revision),
    pendingChanges: r.amended_at !== null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    issuedAt: r.issued_at,
    closedAt: r.closed_at,
  }));
}

/** One order with its lines; not found when it does not exist or the caller may not see its store. */
export async function getOrder(db: Tx, id: number, storeIds?: number[]): Promise<RestockOrderView> {
  const o = await db
    .selectFrom('restock_orders as o')
    .innerJoin('stores as s', 's.id', 'o.store_id')
    .leftJoin('suppliers as sup', 'sup.name', 'o.supplier')
    .selectAll('o')
    .select(['s.code', 's.name as store_name', 'sup.email as supplier_email'])
    .where('o.id', '=', id)
    .executeTakeFirst();
  if (!o || (storeIds && !storeIds.includes(Number(o.store_id)))) throw notFound(`restock order ${id} does not exist`);
  const lines = await db
    .selectFrom('restock_order_lines as l')
    .innerJoin('products as p', 'p.id', 'l.product_id')
    .select([
      'p.sku',
      'p.name',
      'p.ean',
      'p.unit',
      'p.pack_size_milli',
      'l.quantity_milli',
      'l.received_milli',
      'l.issued_milli',
      'l.rationale',
    ])
    .where('l.order_id', '=', id)
    .orderBy('p.sku')
    .execute();
  return {
    id: Number(o.id),
    storeId: Number(o.store_id),
    store: o.code,
    storeName: o.store_name,
    supplier: o.supplier,
    supplierEmail: o.supplier_email ?? null,
    status: o.status,
    revision: Number(o.revision),
    pendingChanges: o.amended_at !== null,
    amendedAt: o.amended_at,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    approvedBy: o.approved_by,
    approvedAt: o.approved_at,
    issuedAt: o.issued_at,
    receipts: Number(o.receipt_count),
    emailedTo: o.emailed_to,
    emailedAt: o.emailed_at,
    emailedRevision: Number(o.emailed_revision),
    closedAt: o.closed_at,
    cancelledAt: o.cancelled_at,
    documents: o.document_key ? { pdf: o.document_key, csv: csvKeyOf(o.document_key) } : null,
    lines: lines.map((l) => {
      const q = Number(l.quantity_milli);
      const r = Number(l.received_milli);
      const issued = Number(l.issued_milli);
      return {
        sku: l.sku,
        name: l.name,
        ean: l.ean,
        unit: l.unit,
        quantity: q / 1000,
        received: r / 1000,
        outstanding: Math.max(0, q - r) / 1000,
        issued: issued / 1000,
        quantityMilli: q,
        receivedMilli: r,
        issuedMilli: issued,
        packSizeMilli: Number(l.pack_size_milli),
        rationale: parseRationale(l.rationale),
      };
    }),
  };
}

function parseRationale(text: string): Rationale | null {
  try {
    return JSON.parse(text) as Rationale;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Changing

async function lockOrder(trx: Tx, id: number, storeIds?: number[]) {
  const o = await trx
    .selectFrom('restock_orders')
    .selectAll()
    .where('id', '=', id)
    .$if(dialectOf(trx) === 'mysql', (q) => q.forUpdate())
    .executeTakeFirst();
  if (!o || (storeIds && !storeIds.includes(Number(o.store_id)))) throw notFound(`restock order ${id} does not exist`);
  return o;
}

/**
 * Approves what the supplier is to be sent: a draft (its first revision), or the pending changes of an issued order
 * (its next revision). Approving an order whose approved revision was not issued yet (a crash between approval and
 * issue) is allowed, so that the issue can be finished. Returns the revision to issue.
 */
export async function markApproved(
  database: Database,
  id: number,
  actor: string,
  storeIds?: number[],
): Promise<{ storeId: number; revision: number }> {
  return inTransaction(database, async (trx) => {
    const o = await lockOrder(trx, id, storeIds);
    const storeId = Number(o.store_id);
    const [revision, approved] = [Number(o.revision), Number(o.approved_revision)];
    if (OPEN_STATUSES.includes(o.status) && approved > revision) return { storeId, revision: approved };
    const reissue = (o.status === 'issued' || o.status === 'partially_received') && o.amended_at !== null;
    if (o.status !== 'draft' && !reissue) {
      throw conflict(
        o.status === 'issued' || o.status === 'partially_received'
          ? `restock order ${id} is ${o.status.replace('_', ' ')} with no changes awaiting approval; only a draft or an order with pending changes can be approved`
          : `restock order ${id} is ${o.status}; only a draft or an order with pending changes can be approved`,
      );
    }
    const n = await trx
      .selectFrom('restock_order_lines')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('order_id', '=', id)
      .executeTakeFirst();
    if (Number(n?.n ?? 0) === 0) throw conflict(`restock order ${id} has no lines to order`);
    const at = nowIso();
    await trx
      .updateTable('restock_orders')
      .set({
        ...(reissue ? {} : { status: 'approved' as const }),
        approved_revision: revision + 1,
        approved_by: actor,
        approved_at: at,
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
    await audit(
      trx,
      actor,
      'restock.approve',
      { supplier: o.supplier, revision: revision + 1, ...(reissue ? { amendedAt: o.amended_at } : {}) },
      `restock_order:${id}`,
      storeId,
    );
    return { storeId, revision: revision + 1 };
  });
}

export interface ReceiptLine {
  sku: string;
  /** units or kg as a plain decimal (`12`, `"1.5"`) */
  quantity: number | string;
}

export interface ReceiptInput {
  lines: ReceiptLine[];
  /** the supplier's delivery-note number: receiving the same one twice is refused */
  reference?: string;
  actor: string;
  storeIds?: number[];
}

export interface ReceiptResult {
  receipt: number;
  reference: string | null;
  status: RestockStatus;
  lines: Array<{ sku: string; quantityMilli: number }>;
}

const REFERENCE_RE = /^[A-Za-z0-9._/-]{1,64}$/;

/**
 * Goods received against an issued order: receipt movements, the lines' received quantities, closed (freeing the
 * store and supplier for a new order) when every line has what it orders, pending changes included.
 */
export async function receiveAgainstOrder(database: Database, id: number, input: ReceiptInput): Promise<ReceiptResult> {
  if (input.lines.length === 0)
    throw invalid('a receipt needs at least one line', [{ where: 'lines', problem: 'is empty' }]);
  if (input.reference !== undefined && !REFERENCE_RE.test(input.reference)) {
    throw invalid('the delivery-note reference must be 1 to 64 letters, digits or . _ / -', [
      { where: 'reference', problem: 'has characters outside A-Z a-z 0-9 . _ / -' },
    ]);
  }
  const seen = new Set<string>();
  for (const [i, l] of input.lines.entries()) {
    if (seen.has(l.sku))
      throw invalid(`SKU ${l.sku} appears twice in the receipt`, [{ where: `lines/${i}/sku`, problem: 'is repeated' }]);
    seen.add(l.sku);
  }
  return inTransaction(database, async (trx) => {
    const o = await lockOrder(trx, id, input.storeIds);
    if (o.status !== 'issued' && o.status !== 'partially_received') {
      throw conflict(`restock order ${id} is ${o.status}; goods are received against an issued order`);
    }
    const lines = await trx
      .selectFrom('restock_order_lines as l')
      .innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['l.id', 'l.product_id', 'l.quantity_milli', 'l.received_milli', 'p.sku', 'p.unit'])
      .where('l.order_id', '=', id)
      .execute();
    const bySku = new Map(lines.map((l) => [l.sku, l]));
    const receiptNo = Number(o.receipt_count) + 1;
    const refPart = input.reference ? `dn:${input.reference}` : `r${receiptNo}`;
    if (input.reference) {
      // one delivery note is one delivery, whatever products it lists: a second receipt under it is a repeat
      const prefix = `restock:${id}:${refPart}:`;
      const seen = await trx
        .selectFrom('stock_movements')
        .select('created_at')
        .where('ref', '>=', prefix)
        .where('ref', '<', `${prefix.slice(0, -1)};`)
        .executeTakeFirst();
      if (seen) {
        throw conflict(
          `delivery note ${input.reference} was already received against restock order ${id} on ${seen.created_at}`,
          [{ where: 'reference', problem: 'already received' }],
        );
      }
    }
    const movements: Movement[] = [];
    for (const [i, r] of input.lines.entries()) {
      const l = bySku.get(r.sku);
      if (!l)
        throw invalid(`SKU ${r.sku} is not on restock order ${id}`, [
          { where: `lines/${i}/sku`, problem: 'is not on the order' },
        ]);
      const q = parseQuantity(r.quantity, l.unit);
      if (!q.ok)
        throw invalid(`lines/${i}/quantity ${q.reason}`, [{ where: `lines/${i}/quantity`, problem: q.reason }]);
      const outstanding = Number(l.quantity_milli) - Number(l.received_milli);
      if (q.milli > outstanding) {
        throw conflict(
          `receiving ${q.milli / 1000} of ${r.sku} exceeds what is outstanding on order ${id} (${Math.max(0, outstanding) / 1000})`,
          [{ where: `lines/${i}/quantity`, problem: `at most ${Math.max(0, outstanding) / 1000}` }],
        );
      }
      movements.push({
        storeId: Number(o.store_id),
        productId: Number(l.product_id),
        kind: 'receipt',
        deltaMilli: q.milli,
        ref: `restock:${id}:${refPart}:${l.product_id}`,
        reason: `restock order ${id}${input.reference ? `, delivery note ${input.reference}` : `, receipt ${receiptNo}`}`,
        actor: input.actor,
      });
    }
    try {
      await applyMovements(trx, movements);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(`delivery note ${input.reference} was already received against restock order ${id}`);
      }
      throw e;
    }
    for (const m of movements) {
      await trx
        .updateTable('restock_order_lines')
        .set((eb) => ({ received_milli: eb('received_milli', '+', m.deltaMilli) }))
        .where('order_id', '=', id)
        .where('product_id', '=', m.productId)
        .execute();
    }
    const left = await trx
      .selectFrom('restock_order_lines')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('order_id', '=', id)
      .whereRef('received_milli', '<', 'quantity_milli')
      .executeTakeFirst();
    const complete = Number(left?.n ?? 0) === 0;
    const at = nowIso();
    const status: RestockStatus = complete ? 'closed' : 'partially_received';
    await trx
      .updateTable('restock_orders')
      .set({
        status,
        receipt_count: receiptNo,
        updated_at: at,
        ...(complete ? { closed_at: at, open_key: null, amended_at: null } : {}),
      })
      .where('id', '=', id)
      .execute();
    await evaluateStock(
      trx,
      Number(o.store_id),
      movements.map((m) => m.productId),
    );
    const received = movements.map((m, i) => ({ sku: input.lines[i]!.sku, quantityMilli: m.deltaMilli }));
    await audit(
      trx,
      input.actor,
      'restock.receive',
      { receipt: receiptNo, reference: input.reference ?? null, lines: received, status },
      `restock_order:${id}`,
      Number(o.store_id),
    );
    return { receipt: receiptNo, reference: input.reference ?? null, status, lines: received };
  });
}

export async function cancelOrder(database: Database, id: number, actor: string, storeIds?: number[]): Promise<void> {
  await inTransaction(database, async (trx) => {
    const o = await lockOrder(trx, id, storeIds);
    if (!OPEN_STATUSES.includes(o.status)) throw conflict(`restock order ${id} is ${o.status}; it cannot be cancelled`);
    const at = nowIso();
    await trx
      .updateTable('restock_orders')
      .set({ status: 'cancelled', open_key: null, amended_at: null, cancelled_at: at, updated_at: at })
      .where('id', '=', id)
      .execute();
    await audit(trx, actor, 'restock.cancel', { previousStatus: o.status }, `restock_order:${id}`, Number(o.store_id));
  });
}
