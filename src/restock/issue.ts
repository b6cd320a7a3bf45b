// Issuing an approved restock order: the purchase order as PDF (for people) and CSV (for the supplier's system) in
// the reports bucket, `purchase-orders/<store>/<id>.pdf|csv`, then an e-mail with both to the supplier when an
// address is on file. The e-mail goes through the durable `notify` queue, so a mail server that is down delays it
// instead of losing it. Issuing again (after a crash between approval and issue) rewrites the same keys.
import PDFDocument from 'pdfkit';
import { DeliveryError, emailAvailable, sendEmail } from '../alerts/channels.ts';
import { NOTIFY_MAX_ATTEMPTS, NOTIFY_TOPIC, type NotifyPayload } from '../alerts/digest.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { toCsv } from '../csv/write.ts';
import { audit } from '../db/audit.ts';
import { inTransaction, nowIso } from '../db/tx.ts';
import { EventQueue } from '../runtime/queue.ts';
import { csvKeyOf, getOrder, markApproved, type RestockOrderView } from './orders.ts';

/** what issuing needs: the HTTP server's context has it too */
export type IssueContext = Pick<AppContext, 'config' | 'database' | 'store'>;

export const purchaseOrderKey = (storeCode: string, id: number) => `purchase-orders/${storeCode}/${id}.pdf`;

const milliText = (milli: number) => (milli / 1000).toFixed(3).replace(/\.?0+$/, '');

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
    ]),
  );
}

export async function purchaseOrderPdf(
  o: RestockOrderView,
  config: Pick<Config, 'locale' | 'timezone'>,
): Promise<Buffer> {
  const num = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 3 });
  const date = (iso: string | null) =>
    iso
      ? new Intl.DateTimeFormat(config.locale, { dateStyle: 'short', timeZone: config.timezone }).format(new Date(iso))
      : '';
  const doc = new PDFDocument({
    size: 'A4',
    margin: 40,
    bufferPages: true,
    info: { Title: `Purchase order ${o.id}`, Author: 'shopflow', Subject: `${o.store} / ${o.supplier}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).text(`Purchase order #${o.id}`);
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Store: ${o.store} - ${o.storeName}`);
  doc.text(`Supplier: ${o.supplier}`);
  doc.text(`Issued: ${date(o.issuedAt ?? nowIso())}    Approved by: ${o.approvedBy ?? ''} on ${date(o.approvedAt)}`);
  doc.moveDown();

  const cols = [
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
  for (const l of o.lines) {
    row([
      l.sku,
      l.ean ?? '',
      l.name,
      l.unit,
      num.format(l.quantityMilli / 1000),
      l.packSizeMilli > 0 ? num.format(Math.ceil(l.quantityMilli / l.packSizeMilli)) : '',
    ]);
  }
  doc
    .moveDown()
    .font('Helvetica')
    .fontSize(9)
    .text(`${o.lines.length} line${o.lines.length === 1 ? '' : 's'}.`, 40);

  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.fontSize(8).text(`Purchase order #${o.id} - page ${i + 1} of ${range.count}`, 40, doc.page.height - 30, {
      width: 515,
      align: 'center',
    });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

/** Writes the documents and marks an approved order issued; queues the supplier's e-mail when there is an address. */
export async function issueOrder(ctx: IssueContext, id: number, actor: string): Promise<void> {
  const o = await getOrder(ctx.database.db, id);
  if (o.status !== 'approved') return;
  const at = nowIso();
  const view = { ...o, issuedAt: at };
  const pdfKey = purchaseOrderKey(o.store, id);
  const bucket = ctx.config.buckets.reports;
  await ctx.store.put(bucket, csvKeyOf(pdfKey), purchaseOrderCsv(view), { contentType: 'text/csv; charset=utf-8' });
  await ctx.store.put(bucket, pdfKey, await purchaseOrderPdf(view, ctx.config), { contentType: 'application/pdf' });
  const queue = new EventQueue(ctx.database, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
  await inTransaction(ctx.database, async (trx) => {
    const r = await trx
      .updateTable('restock_orders')
      .set({ status: 'issued', issued_at: at, document_key: pdfKey, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'approved')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return;
    const mail = !!o.supplierEmail && emailAvailable(ctx.config);
    if (mail) {
      const payload: NotifyPayload = { type: 'purchase_order', orderId: id };
      await queue.enqueue(NOTIFY_TOPIC, `po-mail:${id}`, payload, { trx, maxAttempts: NOTIFY_MAX_ATTEMPTS });
    }
    await audit(
      trx,
      actor,
      'restock.issue',
      { documents: [pdfKey, csvKeyOf(pdfKey)], emailTo: mail ? o.supplierEmail : null },
      `restock_order:${id}`,
      o.storeId,
    );
  });
}

/** Approve (managers) → issue. Returns the order as it stands afterwards. */
export async function approveOrder(
  ctx: IssueContext,
  id: number,
  actor: string,
  storeIds?: number[],
): Promise<RestockOrderView> {
  await markApproved(ctx.database, id, actor, storeIds);
  await issueOrder(ctx, id, actor);
  return getOrder(ctx.database.db, id, storeIds);
}

/** The `notify` handler's part for purchase orders: at most one e-mail per order once it is sent. */
export async function emailPurchaseOrder(ctx: AppContext, orderId: number, lastAttempt: boolean): Promise<void> {
  const o = await getOrder(ctx.database.db, orderId);
  if (o.emailedAt || !o.supplierEmail || !o.documents) return;
  const read = async (key: string) => {
    const { body } = await ctx.store.get(ctx.config.buckets.reports, key);
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c as Buffer));
    return Buffer.concat(parts);
  };
  try {
    await sendEmail(ctx.config, {
      to: o.supplierEmail,
      subject: `Purchase order #${o.id} from ${o.storeName} (${o.store})`,
      text:
        `Please find attached purchase order #${o.id} for ${o.storeName} (${o.store}), ${o.lines.length} ` +
        `line${o.lines.length === 1 ? '' : 's'}:\n\n${o.lines.map((l) => `- ${l.sku} ${l.name}: ${milliText(l.quantityMilli)} ${l.unit}`).join('\n')}\n`,
      messageId: `<po-${o.id}@shopflow>`,
      attachments: [
        {
          filename: `purchase-order-${o.id}.pdf`,
          content: await read(o.documents.pdf),
          contentType: 'application/pdf',
        },
        { filename: `purchase-order-${o.id}.csv`, content: await read(o.documents.csv), contentType: 'text/csv' },
      ],
    });
  } catch (e) {
    if ((e instanceof DeliveryError && e.permanent) || lastAttempt) {
      ctx.log.error({ err: e, orderId }, 'the purchase order could not be e-mailed to the supplier; giving up');
      await inTransaction(ctx.database, (trx) =>
        audit(
          trx,
          'system',
          'restock.email_failed',
          { to: o.supplierEmail, error: (e as Error).message },
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
    .set({ emailed_to: o.supplierEmail, emailed_at: at, updated_at: at })
    .where('id', '=', orderId)
    .execute();
}
