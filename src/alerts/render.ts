// What an alert message says, per channel: an e-mail (text and HTML), an SMS (short), a webhook (JSON). One message
// lists every alert of the digest, each with its product and figures, so the reader can act without logging in.
import type { AlertKind } from '../db/schema.ts';
import { describe, type Lang, type ReasonParams, sayReason, units } from '../domain/reasons.ts';

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

const KIND_LABEL: Record<Lang, Record<AlertKind, string>> = {
  en: {
    low_stock: 'Low stock',
    negative_stock: 'Stock below zero',
    missing_file: 'Missing sales file',
    failed_file: 'Failed sales file',
    dead_event: 'Failed event',
    ops: 'Operations',
  },
  pt: {
    low_stock: 'Estoque baixo',
    negative_stock: 'Estoque abaixo de zero',
    missing_file: 'Arquivo de vendas não recebido',
    failed_file: 'Arquivo de vendas com falha',
    dead_event: 'Evento com falha',
    ops: 'Operação',
  },
};

const ORDER_STATUS_PT: Record<string, string> = {
  draft: 'rascunho',
  approved: 'aprovado',
  issued: 'emitido',
  partially_received: 'recebido em parte',
  closed: 'fechado',
  cancelled: 'cancelado',
};

export const kindLabel = (k: AlertKind, lang: Lang = 'en') => KIND_LABEL[lang][k] ?? k;

/**
 * What an alert says, in the language. The record keeps its English sentence; another language's is made again from
 * the alert's kind, product, store and figures (an alert of a kind without them keeps its English sentence).
 */
export function alertMessage(a: MessageAlert, lang: Lang): string {
  if (lang === 'en') return a.message;
  const d = (a.details ?? {}) as Record<string, string | number | undefined>;
  const store = a.store?.code ?? '';
  if (a.kind === 'low_stock' && a.product && d.onHand !== undefined && d.reorderPoint !== undefined) {
    const { onHand, reorderPoint } = d;
    return describe('stock_low', { ...a.product, store, onHand, reorderPoint }, lang);
  }
  if (a.kind === 'negative_stock' && a.product && d.onHand !== undefined) {
    return describe('stock_negative', { ...a.product, store, onHand: d.onHand }, lang);
  }
  if (a.kind === 'missing_file' && a.store && d.businessDate && d.dueBy) {
    const { businessDate: date, dueBy, timezone = '' } = d;
    return describe('file_missing', { store, storeName: a.store.name, date, dueBy, timezone }, lang);
  }
  if (a.kind === 'failed_file' && typeof d.key === 'string' && typeof d.reason === 'string') {
    const params = (a.details as { reasonParams?: ReasonParams }).reasonParams;
    const reason = sayReason({ text: d.reason, code: d.reasonCode, params }, lang);
    return describe('file_failed', { key: d.key, reason }, lang);
  }
  return a.message;
}

function where(alerts: MessageAlert[], lang: Lang): string {
  const store = alerts[0]?.store;
  return store ? `${store.code} ${store.name}` : lang === 'pt' ? 'a rede' : 'the chain';
}

function orderText(a: MessageAlert, lang: Lang): string {
  if (!a.restockOrder) return '';
  const { id, status } = a.restockOrder;
  return lang === 'pt'
    ? ` Pedido de reposição #${id} (${ORDER_STATUS_PT[status] ?? status}).`
    : ` Restock order #${id} (${status.replace('_', ' ')}).`;
}

function line(a: MessageAlert, lang: Lang): string {
  const at = `${a.raisedAt.slice(0, 16).replace('T', ' ')} UTC`;
  return `[${kindLabel(a.kind, lang)}] ${alertMessage(a, lang)}.${orderText(a, lang)} (${lang === 'pt' ? 'alerta' : 'alert'} #${a.id}, ${at})`;
}

export function emailSubject(alerts: MessageAlert[], lang: Lang = 'en'): string {
  let subject: string;
  const chain = lang === 'pt' ? 'rede' : 'chain';
  if (alerts.length === 1) {
    const a = alerts[0]!;
    const what = a.product ? `${a.product.name} (${a.product.sku})` : alertMessage(a, lang);
    subject = `[shopflow] ${a.store?.code ?? chain}: ${kindLabel(a.kind, lang)} - ${what}`.slice(0, 200);
  } else {
    subject = `[shopflow] ${alerts.length} ${lang === 'pt' ? 'alertas em' : 'alerts at'} ${where(alerts, lang)}`;
  }
  // names come from imported files: a line break must not start a header of its own
  return subject.replace(/[\r\n]+/g, ' ');
}

const TEXT = {
  en: {
    one: (w: string) => `An alert at ${w}:`,
    many: (n: number, w: string) => `${n} alerts at ${w}:`,
    act: 'Acknowledge or snooze them in the shopflow inbox (Alerts).',
    heads: ['Alert', 'Product', 'What', 'Id'],
    actHtml: 'Acknowledge or snooze them in the shopflow inbox.',
  },
  pt: {
    one: (w: string) => `Um alerta em ${w}:`,
    many: (n: number, w: string) => `${n} alertas em ${w}:`,
    act: 'Confirme ou adie os alertas na caixa de alertas do shopflow (Alertas).',
    heads: ['Alerta', 'Produto', 'O quê', 'Id'],
    actHtml: 'Confirme ou adie os alertas na caixa de alertas do shopflow.',
  },
} as const;

export function emailText(alerts: MessageAlert[], lang: Lang = 'en'): string {
  const t = TEXT[lang];
  const head = alerts.length === 1 ? t.one(where(alerts, lang)) : t.many(alerts.length, where(alerts, lang));
  const body = alerts.map((a) => `- ${line(a, lang)}`).join('\n');
  return `${head}\n\n${body}\n\n${t.act}\n`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function emailHtml(alerts: MessageAlert[], lang: Lang = 'en'): string {
  const t = TEXT[lang];
  const rows = alerts
    .map(
      (a) =>
        `<tr><td>${escapeHtml(kindLabel(a.kind, lang))}</td><td>${escapeHtml(a.product ? `${a.product.name} (${a.product.sku})` : '')}</td><td>${escapeHtml(alertMessage(a, lang))}${a.restockOrder ? `<br>${escapeHtml(orderText(a, lang).trim().replace(/\.$/, ''))}` : ''}</td><td>#${a.id}</td></tr>`,
    )
    .join('');
  const heads = t.heads.map((h) => `<th>${h}</th>`).join('');
  return `<p>${escapeHtml(emailText(alerts, lang).split('\n')[0]!)}</p><table border="1" cellpadding="4" cellspacing="0"><tr>${heads}</tr>${rows}</table><p>${t.actHtml}</p>`;
}

export function smsText(alerts: MessageAlert[], lang: Lang = 'en'): string {
  const pt = lang === 'pt';
  const code = alerts[0]?.store?.code ?? (pt ? 'rede' : 'chain');
  const items = alerts.map((a) => {
    if ((a.kind === 'low_stock' || a.kind === 'negative_stock') && a.product) {
      const d = a.details as { onHand?: number; reorderPoint?: number } | null;
      const figures =
        d?.onHand !== undefined
          ? ` ${units(d.onHand, lang)}${d.reorderPoint !== undefined ? `/${units(d.reorderPoint, lang)}` : ''}`
          : '';
      const label = a.kind === 'low_stock' ? (pt ? 'Baixo' : 'Low') : pt ? 'Abaixo de 0' : 'Below 0';
      return `${label}: ${a.product.name}${figures}`;
    }
    return `${kindLabel(a.kind, lang)}: ${alertMessage(a, lang)}`;
  });
  const count = alerts.length === 1 ? '' : `${alerts.length} ${pt ? 'alertas' : 'alerts'}. `;
  return `shopflow ${code}: ${count}${items.join('; ')}`;
}

/** The webhook's JSON: `text` in the language, each alert's `message` as recorded (English) for machines. */
export function webhookBody(alerts: MessageAlert[], messageKey: string, sentAt: string, lang: Lang = 'en'): string {
  return JSON.stringify({
    type: 'shopflow.alerts',
    id: messageKey,
    sentAt,
    store: alerts[0]?.store ?? null,
    language: lang,
    text: emailText(alerts, lang),
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
