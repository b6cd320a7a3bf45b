// What an alert message says, per channel: an e-mail (text and HTML), an SMS (short), a webhook (JSON). One message
// lists every alert of the digest, each with its product and figures, so the reader can act without logging in.
import type { AlertKind } from '../db/schema.ts';

export interface MessageAlert {
  id: number;
  kind: AlertKind;
  severity: 'info' | 'warning' | 'critical';
  status: 'open' | 'resolved';
  message: string;
  raisedAt: string;
  store: { code: string; name: string } | null;
  product: { sku: string; name: string } | null;
  details: unknown;
  /** the open restock order that covers the product, when there is one */
  restockOrder?: { id: number; status: string } | null;
}

const KIND_LABEL: Record<AlertKind, string> = {
  low_stock: 'Low stock',
  negative_stock: 'Stock below zero',
  missing_file: 'Missing sales file',
  failed_file: 'Failed sales file',
  dead_event: 'Failed event',
  ops: 'Operations',
};

export const kindLabel = (k: AlertKind) => KIND_LABEL[k] ?? k;

function where(alerts: MessageAlert[]): string {
  const store = alerts[0]?.store;
  return store ? `${store.code} ${store.name}` : 'the chain';
}

function line(a: MessageAlert): string {
  const order = a.restockOrder
    ? ` Restock order #${a.restockOrder.id} (${a.restockOrder.status.replace('_', ' ')}).`
    : '';
  return `[${kindLabel(a.kind)}] ${a.message}.${order} (alert #${a.id}, ${a.raisedAt.slice(0, 16).replace('T', ' ')} UTC)`;
}

export function emailSubject(alerts: MessageAlert[]): string {
  let subject: string;
  if (alerts.length === 1) {
    const a = alerts[0]!;
    const what = a.product ? `${a.product.name} (${a.product.sku})` : a.message;
    subject = `[shopflow] ${a.store?.code ?? 'chain'}: ${kindLabel(a.kind)} - ${what}`.slice(0, 200);
  } else subject = `[shopflow] ${alerts.length} alerts at ${where(alerts)}`;
  // names come from imported files: a line break must not start a header of its own
  return subject.replace(/[\r\n]+/g, ' ');
}

export function emailText(alerts: MessageAlert[]): string {
  const head = alerts.length === 1 ? `An alert at ${where(alerts)}:` : `${alerts.length} alerts at ${where(alerts)}:`;
  const body = alerts.map((a) => `- ${line(a)}`).join('\n');
  return `${head}\n\n${body}\n\nAcknowledge or snooze them in the shopflow inbox (Alerts).\n`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function emailHtml(alerts: MessageAlert[]): string {
  const rows = alerts
    .map(
      (a) =>
        `<tr><td>${escapeHtml(kindLabel(a.kind))}</td><td>${escapeHtml(a.product ? `${a.product.name} (${a.product.sku})` : '')}</td><td>${escapeHtml(a.message)}${a.restockOrder ? `<br>Restock order #${a.restockOrder.id} (${escapeHtml(a.restockOrder.status)})` : ''}</td><td>#${a.id}</td></tr>`,
    )
    .join('');
  return `<p>${escapeHtml(emailText(alerts).split('\n')[0]!)}</p><table border="1" cellpadding="4" cellspacing="0"><tr><th>Alert</th><th>Product</th><th>What</th><th>Id</th></tr>${rows}</table><p>Acknowledge or snooze them in the shopflow inbox.</p>`;
}

export function smsText(alerts: MessageAlert[]): string {
  const code = alerts[0]?.store?.code ?? 'chain';
  const items = alerts.map((a) => {
    if ((a.kind === 'low_stock' || a.kind === 'negative_stock') && a.product) {
      const d = a.details as { onHand?: number; reorderPoint?: number } | null;
      const figures =
        d?.onHand !== undefined ? ` ${d.onHand}${d.reorderPoint !== undefined ? `/${d.reorderPoint}` : ''}` : '';
      return `${a.kind === 'low_stock' ? 'Low' : 'Below 0'}: ${a.product.name}${figures}`;
    }
    return `${kindLabel(a.kind)}: ${a.message}`;
  });
  return `shopflow ${code}: ${alerts.length === 1 ? '' : `${alerts.length} alerts. `}${items.join('; ')}`;
}

export function webhookBody(alerts: MessageAlert[], messageKey: string, sentAt: string): string {
  return JSON.stringify({
    type: 'shopflow.alerts',
    id: messageKey,
    sentAt,
    store: alerts[0]?.store ?? null,
    text: emailText(alerts),
    alerts: alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      severity: a.severity,
      status: a.status,
      message: a.message,
      raisedAt: a.raisedAt,
      store: a.store?.code ?? null,
      product: a.product,
      details: a.details,
      restockOrder: a.restockOrder ?? null,
    })),
  });
}
