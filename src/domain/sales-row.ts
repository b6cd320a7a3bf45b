// The rules of one line of a daily sales file (../shared/formats/sales-file.md), as a pure function over the
// row's text fields. The catalogue is passed in as lookups, so the rules run without I/O and are tested alone.
import { parseBusinessDate, parseSoldAt } from './dates.ts';
import { divRound, type NumberConvention, numberExample, type ParseResult, parseScaled } from './decimal.ts';
import { isNoGtin, validateGtin } from './gtin.ts';
import { type PaymentMethod, parsePaymentMethod } from './payment.ts';
import { describe, type NumberField, type ReasonCode, type ReasonParams } from './reasons.ts';

export const SALES_COLUMNS = [
  { name: 'store_code', aliases: ['loja', 'codigo_loja'] },
  { name: 'business_date', aliases: ['data', 'data_movimento'] },
  { name: 'receipt_id', aliases: ['cupom', 'nota', 'transacao', 'chave_acesso'], required: true },
  { name: 'line_no', aliases: ['item', 'sequencia'], required: true },
  { name: 'sold_at', aliases: ['hora', 'data_hora'] },
  { name: 'sku', aliases: ['codigo', 'codigo_produto'] },
  { name: 'ean', aliases: ['gtin', 'codigo_barras', 'cean'] },
  { name: 'description', aliases: ['descricao', 'produto'] },
  { name: 'quantity', aliases: ['quantidade', 'qtd'], required: true, numeric: true },
  { name: 'unit_price', aliases: ['preco_unitario', 'preco'], required: true, numeric: true },
  { name: 'discount', aliases: ['desconto'], numeric: true },
  { name: 'total', aliases: ['valor_total', 'valor'], required: true, numeric: true },
  { name: 'payment_method', aliases: ['forma_pagamento', 'pagamento'] },
] as const;

export type SalesColumn = (typeof SALES_COLUMNS)[number]['name'];

export interface CatalogueProduct {
  id: number;
  sku: string;
  ean: string | null;
  unit: 'UN' | 'KG';
}

export interface Catalogue {
  bySku(sku: string): CatalogueProduct | undefined;
  byEan(ean: string): CatalogueProduct | undefined;
}

export interface RowContext {
  storeCode: string;
  businessDate: string;
  convention: NumberConvention;
  catalogue: Catalogue;
  /** column name → field index, for the columns the file has */
  columns: Partial<Record<SalesColumn, number>>;
}

export interface SaleLine {
  receiptId: string;
  lineNo: number;
  /** `HH:MM:SS` local time, or the ISO date-time as written */
  soldAt: string | null;
  hour: number | null;
  productId: number;
  quantityMilli: number;
  unitPriceCents: number;
  discountCents: number;
  totalCents: number;
  paymentMethod: PaymentMethod | null;
}

export interface Rejection {
  column: string;
  value: string;
  /** in English; `code` and `params` say it in another language (src/domain/reasons.ts) */
  reason: string;
  code: ReasonCode;
  params: ReasonParams;
}

export type RowResult = { ok: true; line: SaleLine } | { ok: false; rejection: Rejection };

// Bounds keep quantity × price far inside 2^53, so the total check is exact integer arithmetic.
const MAX_QUANTITY_MILLI = 100_000_000; // 100,000 units or kg on one line
const MAX_PRICE_CENTS = 10_000_000; // 100,000.00 per unit

const reject = (column: string, value: string, code: ReasonCode, params: ReasonParams = {}): RowResult => ({
  ok: false,
  rejection: { column, value, reason: describe(code, params, 'en'), code, params },
});

/** A number column that could not be read. */
const badNumber = (
  column: NumberField,
  text: string,
  r: ParseResult & { ok: false },
  convention: NumberConvention,
  scale: number,
): RowResult =>
  reject(column, text, 'number_invalid', { field: column, why: r.why, scale, example: numberExample(convention) });

/** A pure function of a string, remembered for the last value it was given: the lines of a receipt repeat it. */
function lastOf<T>(fn: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let last: T;
  return (text) => {
    if (text !== lastText) {
      last = fn(text);
      lastText = text;
    }
    return last;
  };
}

/**
 * A pure function of a string remembered for the values a file repeats on every line (its date, its payment
 * methods, its products' barcodes); bounded so that a file of distinct garbage cannot grow it.
 */
function remembered<T>(fn: (text: string) => T, limit = 20_000): (text: string) => T {
  const seen = new Map<string, T>();
  return lastOf((text) => {
    let r = seen.get(text);
    if (r === undefined && !seen.has(text)) {
      r = fn(text);
      if (seen.size < limit) seen.set(text, r);
    }
    return r as T;
  });
}
const businessDateOf = remembered(parseBusinessDate, 64);
const paymentMethodOf = remembered(parsePaymentMethod, 256);
const gtinOf = remembered((text) => (isNoGtin(text) ? undefined : validateGtin(text)));
const soldTimeOf = lastOf((text): { soldAt: string; hour: number } | undefined => {
  const t = parseSoldAt(text);
  if (!t) return undefined;
  const hms = `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return { soldAt: t.date ? `${t.date}T${hms}` : hms, hour: t.hour };
});

const fieldAt = (fields: string[], i: number | undefined): string => (i === undefined ? '' : (fields[i] ?? '').trim());

/** Validates and transforms one data row. The first broken rule is reported (one clear reason per row). */
export function validateSaleRow(fields: string[], ctx: RowContext): RowResult {
  const c = ctx.columns;

  const store = fieldAt(fields, c.store_code);
  if (store !== '' && store.toUpperCase() !== ctx.storeCode.toUpperCase()) {
    return reject('store_code', store, 'store_mismatch', { store, fileStore: ctx.storeCode });
  }
  const dateText = fieldAt(fields, c.business_date);
  if (dateText !== '') {
    const d = businessDateOf(dateText);
    if (!d) return reject('business_date', dateText, 'date_unreadable');
    if (d !== ctx.businessDate) {
      return reject('business_date', dateText, 'date_mismatch', { date: d, fileDate: ctx.businessDate });
    }
  }
  const receiptId = fieldAt(fields, c.receipt_id);
  if (receiptId === '') return reject('receipt_id', '', 'receipt_missing');
  if (receiptId.length > 64) return reject('receipt_id', receiptId, 'receipt_too_long');

  const lineText = fieldAt(fields, c.line_no);
  if (!/^\d{1,9}$/.test(lineText) || Number(lineText) < 1) {
    return reject('line_no', lineText, 'line_no_invalid');
  }
  const lineNo = Number(lineText);

  let soldAt: string | null = null;
  let hour: number | null = null;
  const soldText = fieldAt(fields, c.sold_at);
  if (soldText !== '') {
    const t = soldTimeOf(soldText);
    if (!t) return reject('sold_at', soldText, 'time_unreadable');
    hour = t.hour;
    soldAt = t.soldAt;
  }

  const sku = fieldAt(fields, c.sku);
  const eanText = fieldAt(fields, c.ean);
  let product: CatalogueProduct | undefined;
  if (sku !== '') {
    product = ctx.catalogue.bySku(sku);
    if (!product) return reject('sku', sku, 'sku_unknown', { sku });
  }
  const g = eanText === '' ? undefined : gtinOf(eanText);
  if (g) {
    if (!g.ok)
      return reject('ean', eanText, 'barcode_invalid', {
        why: g.why,
        ...(g.expected === undefined ? {} : { expected: g.expected }),
      });
    const byEan = ctx.catalogue.byEan(g.value);
    if (product) {
      if (byEan && byEan.id !== product.id) {
        return reject('ean', eanText, 'barcode_other_product', { owner: byEan.sku, sku });
      }
    } else {
      if (!byEan) return reject('ean', eanText, 'barcode_unknown');
      product = byEan;
    }
  } else if (!product) {
    if (isNoGtin(eanText)) return reject('sku', '', 'no_gtin_needs_sku');
    return reject('sku', '', 'product_missing');
  }

  const qText = fieldAt(fields, c.quantity);
  const q = parseScaled(qText, ctx.convention, 3);
  if (!q.ok) return badNumber('quantity', qText, q, ctx.convention, 3);
  if (q.value === 0) return reject('quantity', qText, 'quantity_zero');
  if (Math.abs(q.value) > MAX_QUANTITY_MILLI) return reject('quantity', qText, 'quantity_too_large');
  if (product.unit === 'UN' && q.value % 1000 !== 0) {
    return reject('quantity', qText, 'quantity_not_whole', { sku: product.sku });
  }

  const pText = fieldAt(fields, c.unit_price);
  const p = parseScaled(pText, ctx.convention, 2);
  if (!p.ok) return badNumber('unit_price', pText, p, ctx.convention, 2);
  if (p.value < 0) return reject('unit_price', pText, 'price_negative');
  if (p.value > MAX_PRICE_CENTS) return reject('unit_price', pText, 'price_too_large');

  const dText = fieldAt(fields, c.discount);
  let discount = 0;
  if (dText !== '') {
    const d = parseScaled(dText, ctx.convention, 2);
    if (!d.ok) return badNumber('discount', dText, d, ctx.convention, 2);
    if (d.value < 0) return reject('discount', dText, 'discount_negative');
    discount = d.value;
  }

  const tText = fieldAt(fields, c.total);
  const t = parseScaled(tText, ctx.convention, 2);
  if (!t.ok) return badNumber('total', tText, t, ctx.convention, 2);
  const expected = expectedTotalCents(q.value, p.value, discount);
  if (Math.abs(t.value - expected) > 1) {
    return reject('total', tText, 'total_mismatch', { expectedCents: expected });
  }

  let paymentMethod: PaymentMethod | null = null;
  const payText = fieldAt(fields, c.payment_method);
  if (payText !== '') {
    const pm = paymentMethodOf(payText);
    if (!pm) return reject('payment_method', payText, 'payment_unknown');
    paymentMethod = pm;
  }

  return {
    ok: true,
    line: {
      receiptId,
      lineNo,
      soldAt,
      hour,
      productId: product.id,
      quantityMilli: q.value,
      unitPriceCents: p.value,
      discountCents: discount,
      totalCents: t.value,
      paymentMethod,
    },
  };
}

/** round(quantity × unit price) − discount, to the cent, half away from zero. */
export function expectedTotalCents(quantityMilli: number, unitPriceCents: number, discountCents: number): number {
  return divRound(quantityMilli * unitPriceCents, 1000) - discountCents;
}

export function isTrailer(fields: string[]): boolean {
  return (fields[0] ?? '').trim().toUpperCase() === 'TOTAL';
}

const pad = (n: number) => String(n).padStart(2, '0');
