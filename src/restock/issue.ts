// Issuing an approved revision of a restock order: the purchase order as PDF (for people) and CSV (for the supplier's
// system) in the reports bucket, then an e-mail with both to the supplier when an address is on file. Revision 1 is
// `purchase-orders/<store>/<id>.pdf|csv`; a change to an order the supplier already has is, as in any purchasing
// practice, a numbered revision the supplier receives in full (`<id>-r<N>.pdf|csv`), each line showing the quantity
// ordered, its change since the last revision and what already arrived, so both sides reconcile without reading
// two documents. The e-mail goes through the durable `notify` queue, one event per revision, so a mail server that is
// down delays it instead of losing it, and a later revision is e-mailed even though an earlier one was. Documents
// are written before the order is marked issued: issuing again after a crash rewrites the same keys, and an order
// whose approval was withdrawn in the meantime (a new need changed it) is not issued at all.
import PDFDocument from 'pdfkit';
import { DeliveryError, emailAvailable, sendEmail } from '../alerts/channels.ts';
import { NOTIFY_MAX_ATTEMPTS, NOTIFY_TOPIC, type NotifyPayload } from '../alerts/digest.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { toCsv } from '../csv/write.ts';
import { audit } from '../db/audit.ts';
import { dialectOf, inTransaction, nowIso, type Tx } from '../db/tx.ts';
import { conflict } from '../errors.ts';
import { EventQueue } from '../runtime/queue.ts';
import type { RestockStatus } from './draft.ts';
import { csvKeyOf, getOrder, markApproved, type RestockOrderView } from './orders.ts';

/** what issuing needs: the HTTP server's context has it too */
export type IssueContext = Pick<AppContext, 'config' | 'database' | 'store'>;

/** the PDF of a revision (the CSV is the same key ending in .csv) */
export const purchaseOrderKey = (storeCode: string, id: number, revision = 1) =>
  `purchase-orders/${storeCode}/${revision > 1 ? `${id}-r${revision}` : id}.pdf`;

const milliText = (milli: number) => {
  const s = (Math.abs(milli) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return milli < 0 ? `-${s}` : s;
};
/** a line's change since the revision the supplier has: its quantity less what was issued */
const changeMilli = (l: RestockOrderView['lines'][number]) => l.quantityMilli - l.issuedMilli;
const signed = (milli: number, format: (n: number) => string) => (milli > 0 ? `+${format(milli)}` : format(milli));

/** The CSV of a revision being issued: `o.revision` is that revision, the lines' `issued` what the previous one sent. */
export function purchaseOrderCsv(o: RestockOrderView): string {
  return toCsv(
    [
      'order_id',
      'store_code',
      'store_name',
      'supplier',
      'sku',
      'ean',
      'description',
      'unit',
      'quantity',
      'pack_size',
      'packs',
      'revision',
      'change',
      'received',
    ],
    o.lines.map((l) => [
      o.id,
      o.store,
      o.storeName,
      o.supplier,
      l.sku,
      l.ean ?? '',
      l.name,
      l.unit,
      // decimal text with a dot, whatever the locale: a file for machines
      milliText(l.quantityMilli),
      milliText(l.packSizeMilli),
      l.packSizeMilli > 0 ? Math.ceil(l.quantityMilli / l.packSizeMilli) : '',
      o.revision,
      milliText(changeMilli(l)),
      milliText(l.receivedMilli),
    ]),
  );
}

/** The PDF of a revision being issued (see purchaseOrderCsv); from revision 2 on it shows changes and receipts. */
export async function purchaseOrderPdf(
  o: RestockOrderView,
  config: Pick<Config, 'locale' | 'timezone'>,
): Promise<Buffer> {
  const num = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 3 });
  const date = (iso: string | null) =>
    iso
      ? new Intl.DateTimeFormat(config.locale, { dateStyle: 'short', timeZone: config.timezone }).format(new Date(iso))
      : '';
  const revised = o.revision > 1;
  const title = `Purchase order #${o.id}${revised ? ` — revision ${o.revision}` : ''}`;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 40,
    bufferPages: true,
    info: { Title: title, Author: 'shopflow', Subject: `${o.store} / ${o.supplier}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).text(title);
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Store: ${o.store} - ${o.storeName}`);
  doc.text(`Supplier: ${o.supplier}`);
  doc.text(`Issued: ${date(o.issuedAt ?? nowIso())}    Approved by: ${o.approvedBy ?? ''} on ${date(o.approvedAt)}`);
  if (revised) {
    doc.text(
      `This revision replaces revision ${o.revision - 1}. Quantity is the total ordered; Change is the change since ` +
        `revision ${o.revision - 1}; Received is what has already been delivered against this order.`,
    );
  }
  doc.moveDown();

  const cols = revised
    ? [
        { title: 'SKU', x: 40, w: 70 },
        { title: 'EAN', x: 112, w: 78 },
        { title: 'Description', x: 192, w: 135 },
        { title: 'Unit', x: 329, w: 26 },
        { title: 'Quantity', x: 357, w: 50, right: true },
        { title: 'Change', x: 409, w: 50, right: true },
        { title: 'Received', x: 461, w: 50, right: true },
        { title: 'Packs', x: 513, w: 42, right: true },
      ]
    : [
        { title: 'SKU', x: 40, w: 80 },
        { title: 'EAN', x: 122, w: 85 },
        { title: 'Description', x: 209, w: 190 },
        { title: 'Unit', x: 401, w: 30 },
        { title: 'Quantity', x: 433, w: 60, right: true },
        { title: 'Packs', x: 495, w: 60, right: true },
      ];
  const row = (cells: string[], bold = false) => {
    if (doc.y > doc.page.height - 80) doc.addPage();
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    let bottom = y;
    cells.forEach((c, i) => {
      const col = cols[i]!;
      doc.text(c, col.x, y, { width: col.w, align: col.right ? 'right' : 'left' });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = 40;
    doc.y = bottom + 4;
  };
  row(
    cols.map((c) => c.title),
    true,
  );
  doc
    .moveTo(40, doc.y - 2)
    .lineTo(555, doc.y - 2)
    .stroke();
  const quantityCell = (milli: number) => num.format(milli / 1000);
  for (const l of o.lines) {
    const packs = l.packSizeMilli > 0 ? num.format(Math.ceil(l.quantityMilli / l.packSizeMilli)) : '';
    row(
      revised
        ? [
            l.sku,
            l.ean ?? '',
            l.issuedMilli === 0 ? `${l.name} (new)` : l.name,
            l.unit,
            quantityCell(l.quantityMilli),
            signed(changeMilli(l), quantityCell),
            quantityCell(l.receivedMilli),
            packs,
          ]
        : [l.sku, l.ean ?? '', l.name, l.unit, quantityCell(l.quantityMilli), packs],
    );
  }
  const changed = o.lines.filter((l) => changeMilli(l) !== 0).length;
  doc
    .moveDown()
    .font('Helvetica')
    .fontSize(9)
    .text(
      `${o.lines.length} line${o.lines.length === 1 ? '' : 's'}` +
        (revised ? `, ${changed} changed since revision ${o.revision - 1}.` : '.'),
      40,
    );

  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.fontSize(8).text(`${title} - page ${i + 1} of ${range.count}`, 40, doc.page.height - 30, {
      width: 515,
      align: 'center',
    });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

/** statuses in which an approved revision can be issued */
const ISSUABLE: readonly RestockStatus[] = ['approved', 'issued', 'partially_received'];

export type IssueOutcome =
  | { issued: true; revision: number; documents: { pdf: string; csv: string } }
  | { issued: false; reason: string };

async function issueState(trx: Tx, id: number, lock: boolean) {
  return trx
    .selectFrom('restock_orders')
    .select(['status', 'revision', 'approved_revision', 'amended_at', 'store_id'])
    .where('id', '=', id)
    .$if(lock && dialectOf(trx) === 'mysql', (q) => q.forUpdate())
    .executeTakeFirst();
}

/**
 * Issues the approved revision of an order: writes its documents, marks it issued at that revision (the lines'
 * `issued` become their quantities, pending changes are cleared) and queues the supplier's e-mail when there is an
 * address. Does nothing for an order with no approved revision waiting; one whose approval a later change withdrew
 * (a draft again, or an issued order with pending changes) is recorded in the audit log as not issued.
 */
export async function issueOrder(ctx: IssueContext, id: number, actor: string): Promise<IssueOutcome> {
  const skip = async (state: Awaited<ReturnType<typeof issueState>>): Promise<IssueOutcome> => {
    if (!state) return { issued: false, reason: 'the order does not exist' };
    let reason: string;
    if (state.status === 'draft') {
      reason = 'the order was changed after its approval and is a draft again: it needs approving again';
    } else if (ISSUABLE.includes(state.status) && state.amended_at !== null) {
      reason = `the order was changed after its approval: revision ${Number(state.revision) + 1} needs approving again`;
    } else return { issued: false, reason: `the order is ${state.status} with no approved revision to issue` };
    await inTransaction(ctx.database, (trx) =>
      audit(trx, actor, 'restock.issue_skipped', { reason }, `restock_order:${id}`, Number(state.store_id)),
    );
    return { issued: false, reason };
  };
  const ready = (r: Awaited<ReturnType<typeof issueState>>) =>
    !!r && ISSUABLE.includes(r.status) && Number(r.approved_revision) > Number(r.revision);
  const before = await issueState(ctx.database.db, id, false);
  if (!before || !ready(before)) return skip(before);
  const revision = Number(before.approved_revision);
  const o = await getOrder(ctx.database.db, id);
  const at = nowIso();
  const view: RestockOrderView = { ...o, revision, issuedAt: at };
  const pdfKey = purchaseOrderKey(o.store, id, revision);
  const bucket = ctx.config.buckets.reports;
  await ctx.store.put(bucket, csvKeyOf(pdfKey), purchaseOrderCsv(view), { contentType: 'text/csv; charset=utf-8' });
  await ctx.store.put(bucket, pdfKey, await purchaseOrderPdf(view, ctx.config), { contentType: 'application/pdf' });
  const queue = new EventQueue(ctx.database, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
  type State = NonNullable<Awaited<ReturnType<typeof issueState>>>;
  const outcome = await inTransaction(ctx.database, async (trx): Promise<IssueOutcome | State | null> => {
    const now = await issueState(trx, id, true);
    if (!now || !ready(now) || Number(now.approved_revision) !== revision) return now ?? null;
    // the documents must say what the order says: a change approved again since they were written is not this issue
    // (quantities only grow and lines are never removed, so equal counts and totals mean equal lines)
    const lines = await trx
      .selectFrom('restock_order_lines')
      .select(['product_id', 'quantity_milli'])
      .where('order_id', '=', id)
      .execute();
    const written = lines.reduce((sum, l) => sum + Number(l.quantity_milli), 0);
    const rendered = o.lines.reduce((sum, l) => sum + l.quantityMilli, 0);
    if (lines.length !== o.lines.length || written !== rendered) {
      return { issued: false, reason: 'the order changed while its documents were written; approve it again' };
    }
    await trx
      .updateTable('restock_orders')
      .set({
        ...(now.status === 'approved' ? { status: 'issued' as const } : {}),
        revision,
        issued_at: at,
        document_key: pdfKey,
        amended_at: null,
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
    await trx
      .updateTable('restock_order_lines')
      .set((eb) => ({ issued_milli: eb.ref('quantity_milli') }))
      .where('order_id', '=', id)
      .execute();
    const mail = !!o.supplierEmail && emailAvailable(ctx.config);
    if (mail) {
      const payload: NotifyPayload = { type: 'purchase_order', orderId: id, revision };
      await queue.enqueue(NOTIFY_TOPIC, `po-mail:${id}:r${revision}`, payload, {
        trx,
        maxAttempts: NOTIFY_MAX_ATTEMPTS,
      });
    }
    await audit(
      trx,
      actor,
      'restock.issue',
      { revision, documents: [pdfKey, csvKeyOf(pdfKey)], emailTo: mail ? o.supplierEmail : null },
      `restock_order:${id}`,
      o.storeId,
    );
    return { issued: true, revision, documents: { pdf: pdfKey, csv: csvKeyOf(pdfKey) } };
  });
  return outcome && 'issued' in outcome ? outcome : skip(outcome ?? undefined);
}

/** Approve (managers) → issue. Returns the order as it stands afterwards. */
export async function approveOrder(
  ctx: IssueContext,
  id: number,
  actor: string,
  storeIds?: number[],
): Promise<RestockOrderView> {
  await markApproved(ctx.database, id, actor, storeIds);
  const issued = await issueOrder(ctx, id, actor);
  const o = await getOrder(ctx.database.db, id, storeIds);
  // not issued here and still waiting: a need changed it between approval and issue (issued by a concurrent
  // approval, or closed by a receipt, is fine)
  if (!issued.issued && (o.status === 'draft' || o.status === 'approved' || o.pendingChanges)) {
    throw conflict(`restock order ${id} was not issued: ${issued.reason}`);
  }
  return o;
}

/**
 * The `notify` handler's part for purchase orders: each revision is e-mailed once, with its documents. A revision
 * already superseded by a later one is not sent: the later revision's e-mail carries the whole order.
 */
export async function emailPurchaseOrder(
  ctx: AppContext,
  orderId: number,
  revision: number | undefined,
  lastAttempt: boolean,
): Promise<void> {
  const o = await getOrder(ctx.database.db, orderId);
  const rev = revision ?? o.revision;
  if (rev < 1 || rev < o.revision || o.emailedRevision >= rev || !o.supplierEmail || !o.documents) return;
  const read = async (key: string) => {
    const { body } = await ctx.store.get(ctx.config.buckets.reports, key);
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c as Buffer));
    return Buffer.concat(parts);
  };
  const revised = rev > 1;
  const name = `purchase-order-${o.id}${revised ? `-r${rev}` : ''}`;
  const lines = o.lines.map((l) => `- ${l.sku} ${l.name}: ${milliText(l.quantityMilli)} ${l.unit}`).join('\n');
  try {
    await sendEmail(ctx.config, {
      to: o.supplierEmail,
      subject: `Purchase order #${o.id}${revised ? ` revision ${rev}` : ''} from ${o.storeName} (${o.store})`,
      text: revised
        ? `Please find attached revision ${rev} of purchase order #${o.id} for ${o.storeName} (${o.store}). It ` +
          `replaces revision ${rev - 1}: the quantities below are the totals ordered, and the attached documents ` +
          `show each line's change since revision ${rev - 1} and what was already received. ${o.lines.length} ` +
          `line${o.lines.length === 1 ? '' : 's'}:\n\n${lines}\n`
        : `Please find attached purchase order #${o.id} for ${o.storeName} (${o.store}), ${o.lines.length} ` +
          `line${o.lines.length === 1 ? '' : 's'}:\n\n${lines}\n`,
      messageId: `<po-${o.id}${revised ? `-r${rev}` : ''}@shopflow>`,
      attachments: [
        { filename: `${name}.pdf`, content: await read(o.documents.pdf), contentType: 'application/pdf' },
        { filename: `${name}.csv`, content: await read(o.documents.csv), contentType: 'text/csv' },
      ],
    });
  } catch (e) {
    if ((e instanceof DeliveryError && e.permanent) || lastAttempt) {
      ctx.log.error(
        { err: e, orderId, revision: rev },
        'the purchase order could not be e-mailed to the supplier; giving up',
      );
      await inTransaction(ctx.database, (trx) =>
        audit(
          trx,
          'system',
          'restock.email_failed',
          { to: o.supplierEmail, revision: rev, error: (e as Error).message },
          `restock_order:${orderId}`,
          o.storeId,
        ),
      );
      return;
    }
    throw e;
  }
  const at = nowIso();
  await ctx.database.db
    .updateTable('restock_orders')
    .set({ emailed_to: o.supplierEmail, emailed_at: at, emailed_revision: rev, updated_at: at })
    .where('id', '=', orderId)
    .where('emailed_revision', '<', rev)
    .execute();
}
