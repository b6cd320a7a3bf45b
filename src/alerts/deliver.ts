// The `notify` event handler: sends one planned message (see digest.ts) or e-mails a purchase order to its
// supplier. A failure that another attempt may fix is thrown, so the queue retries it with backoff; a failure that
// cannot be fixed by retrying, or the last attempt, is recorded on the delivery rows and the event ends there (a
// broken channel must not turn into dead events, whose alerts would go through the same broken channel).
import type { AppContext } from '../context.ts';
import { nowIso } from '../db/tx.ts';
import { emailPurchaseOrder } from '../restock/issue.ts';
import { OPEN_STATUSES } from '../restock/orders.ts';
import type { HandlerMeta } from '../runtime/worker.ts';
import { DeliveryError, postWebhook, sendEmail, sendSms } from './channels.ts';
import { NOTIFY_MAX_ATTEMPTS, type NotifyPayload } from './digest.ts';
import { emailHtml, emailSubject, emailText, type MessageAlert, smsText, webhookBody } from './render.ts';

export async function handleNotifyEvent(
  ctx: AppContext,
  payload: unknown,
  meta: Pick<HandlerMeta, 'attempt'>,
): Promise<void> {
  const p = payload as NotifyPayload | null;
  if (p?.type === 'alerts' && typeof p.messageKey === 'string') return deliverMessage(ctx, p.messageKey, meta.attempt);
  if (p?.type === 'purchase_order' && Number.isInteger(p.orderId)) {
    const revision = Number.isInteger(p.revision) ? p.revision : undefined;
    return emailPurchaseOrder(ctx, p.orderId, revision, meta.attempt >= NOTIFY_MAX_ATTEMPTS);
  }
  throw Object.assign(new Error(`a notify event must name a message or an order, got ${JSON.stringify(payload)}`), {
    permanent: true,
  });
}

export async function loadMessageAlerts(ctx: AppContext, ids: number[]): Promise<MessageAlert[]> {
  const { db } = ctx.database;
  const rows = await db
    .selectFrom('alerts as a')
    .leftJoin('stores as s', 's.id', 'a.store_id')
    .leftJoin('products as p', 'p.id', 'a.product_id')
    .select([
      'a.id',
      'a.kind',
      'a.severity',
      'a.status',
      'a.message',
      'a.raised_at',
      'a.details',
      'a.store_id',
      'a.product_id',
      's.code',
      's.name as store_name',
      'p.sku',
      'p.name as product_name',
    ])
    .where('a.id', 'in', ids.length ? ids : [-1])
    .orderBy('a.raised_at')
    .orderBy('a.id')
    .execute();
  const out: MessageAlert[] = [];
  for (const r of rows) {
    let restockOrder: MessageAlert['restockOrder'] = null;
    if ((r.kind === 'low_stock' || r.kind === 'negative_stock') && r.store_id !== null && r.product_id !== null) {
      const o = await db
        .selectFrom('restock_order_lines as l')
        .innerJoin('restock_orders as o', 'o.id', 'l.order_id')
        .select(['o.id', 'o.status'])
        .where('o.store_id', '=', r.store_id)
        .where('l.product_id', '=', r.product_id)
        .where('o.status', 'in', [...OPEN_STATUSES])
        .orderBy('o.id', 'desc')
        .executeTakeFirst();
      if (o) restockOrder = { id: Number(o.id), status: o.status };
    }
    let details: unknown = null;
    try {
      details = r.details ? JSON.parse(r.details) : null;
    } catch {
      details = r.details;
    }
    out.push({
      id: Number(r.id),
      kind: r.kind,
      severity: r.severity,
      status: r.status,
      message: r.message,
      raisedAt: r.raised_at,
      store: r.code ? { code: r.code, name: r.store_name ?? r.code } : null,
      product: r.sku ? { sku: r.sku, name: r.product_name ?? r.sku } : null,
      details,
      restockOrder,
    });
  }
  return out;
}

async function deliverMessage(ctx: AppContext, messageKey: string, attempt: number): Promise<void> {
  const { db } = ctx.database;
  const rows = await db.selectFrom('alert_deliveries').selectAll().where('message_key', '=', messageKey).execute();
  const pending = rows.filter((r) => r.status === 'pending');
  if (pending.length === 0) return;
  const { channel, recipient } = pending[0]!;
  const alerts = await loadMessageAlerts(
    ctx,
    pending.map((r) => Number(r.alert_id)),
  );
  try {
    const lang = ctx.config.alerts.language;
    if (channel === 'email') {
      await sendEmail(ctx.config, {
        to: recipient,
        subject: emailSubject(alerts, lang),
        text: emailText(alerts, lang),
        html: emailHtml(alerts, lang),
        messageId: `<${messageKey}@shopflow>`,
      });
    } else if (channel === 'sms') {
      await sendSms(ctx.config, recipient, smsText(alerts, lang));
    } else {
      await postWebhook(ctx.config, recipient, webhookBody(alerts, messageKey, nowIso(), lang), messageKey);
    }
  } catch (e) {
    const permanent = e instanceof DeliveryError && e.permanent;
    const last = permanent || attempt >= NOTIFY_MAX_ATTEMPTS;
    await db
      .updateTable('alert_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: (e as Error).message.slice(0, 2000),
        status: last ? 'failed' : 'pending',
      }))
      .where('message_key', '=', messageKey)
      .where('status', '=', 'pending')
      .execute();
    if (!last) throw e;
    ctx.log.error({ err: e, messageKey, channel, attempt }, 'an alert message could not be delivered; giving up');
    return;
  }
  await db
    .updateTable('alert_deliveries')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), status: 'sent', sent_at: nowIso(), last_error: null }))
    .where('message_key', '=', messageKey)
    .where('status', '=', 'pending')
    .execute();
}
