// From what a kiosk scanned to a priced line: an EAN/GTIN, a SKU, or an in-store scale label (read with the store's
// scale profile). All the codes of a basket are resolved with one catalogue query.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Tx } from '../db/tx.ts';
import { lineTotal, parseQuantity } from '../domain/basket.ts';
import { validateGtin } from '../domain/gtin.ts';
import {
  decodeScaleLabel,
  labelQuantity,
  type ScaleLabel,
  type ScaleProfile,
  validateScaleProfile,
} from '../domain/scale-label.ts';
import { conflict, type FieldProblem, invalid, notFound } from '../errors.ts';
import { type ProductInfo, type ProductsByCode, productsByCodes, type StoreInfo } from '../inventory/catalog.ts';

export interface LineInput {
  ean?: string;
  sku?: string;
  quantity?: number | string;
}

export interface PricedLine {
  product: ProductInfo;
  quantityMilli: number;
  unitPriceCents: number;
  totalCents: number;
  /** set when the code was a scale label */
  label: ScaleLabel | null;
}

export function scaleProfileOf(store: StoreInfo): ScaleProfile | null {
  if (!store.scaleProfile) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(store.scaleProfile);
  } catch {
    raw = undefined;
  }
  const r = validateScaleProfile(raw);
  if (!r.ok) {
    throw conflict(`the scale profile of store ${store.code} is not valid; set it again`, r.problems);
  }
  return r.profile;
}

/** The forms a barcode may be stored in: UPC-A is EAN-13 with a leading 0, and GTIN-14 pads with zeros. */
function eanVariants(code: string): string[] {
  const out = [code];
  if (code.length === 12) out.push(`0${code}`);
  if (code.length === 13 && code.startsWith('0')) out.push(code.slice(1));
  if (code.length === 14 && code.startsWith('0')) out.push(code.slice(1), code.slice(2));
  return out;
}

export type Scan =
  | { kind: 'sku'; sku: string }
  | { kind: 'ean'; code: string; label: ScaleLabel | null; labelError: string | null };

function scanOf(line: LineInput, profile: ScaleProfile | null): Scan {
  if (line.sku !== undefined) return { kind: 'sku', sku: line.sku };
  const code = line.ean!;
  const decoded = profile ? decodeScaleLabel(code, profile) : { kind: 'not_label' as const };
  return {
    kind: 'ean',
    code,
    label: decoded.kind === 'label' ? decoded.label : null,
    labelError: decoded.kind === 'invalid' ? decoded.reason : null,
  };
}

type Resolution = { ok: true; line: PricedLine } | { ok: false; problem: string; notFound: boolean };

function resolveOne(
  scan: Scan,
  quantity: number | string | undefined,
  found: { bySku: Map<string, ProductInfo>; byEan: Map<string, ProductInfo> },
): Resolution {
  let product: ProductInfo | undefined;
  if (scan.kind === 'sku') product = found.bySku.get(scan.sku);
  else {
    for (const v of eanVariants(scan.code)) product ??= found.byEan.get(v);
  }
  if (!product && scan.kind === 'ean' && (scan.label || scan.labelError)) {
    // a product's own EAN wins; only an unknown number starting with the profile's prefix is read as a label
    if (scan.labelError) return { ok: false, problem: scan.labelError, notFound: false };
    const label = scan.label!;
    const p = found.bySku.get(label.sku);
    if (!p) {
      return {
        ok: false,
        problem: `scale label item code ${label.itemCode} is unknown (no product with SKU ${label.sku})`,
        notFound: true,
      };
    }
    if (quantity !== undefined) {
      return { ok: false, problem: `a scale label carries its own ${label.mode}: leave quantity out`, notFound: false };
    }
    const q = labelQuantity(label, p);
    if (!q.ok) return { ok: false, problem: q.reason, notFound: false };
    return {
      ok: true,
      line: {
        product: p,
        quantityMilli: q.quantityMilli,
        unitPriceCents: p.priceCents,
        totalCents: q.totalCents,
        label,
      },
    };
  }
  if (!product) {
    if (scan.kind === 'sku') return { ok: false, problem: `there is no product with SKU ${scan.sku}`, notFound: true };
    const g = validateGtin(scan.code);
    if (!g.ok) return { ok: false, problem: `barcode ${scan.code} is not valid: it ${g.reason}`, notFound: false };
    return { ok: false, problem: `there is no product with barcode ${scan.code}`, notFound: true };
  }
  let quantityMilli: number;
  if (quantity === undefined) {
    if (product.unit === 'KG') {
      return { ok: false, problem: 'quantity is required: the product is sold by weight', notFound: false };
    }
    quantityMilli = 1000;
  } else {
    const q = parseQuantity(quantity, product.unit);
    if (!q.ok) return { ok: false, problem: `quantity ${q.reason}`, notFound: false };
    quantityMilli = q.milli;
  }
  return {
    ok: true,
    line: {
      product,
      quantityMilli,
      unitPriceCents: product.priceCents,
      totalCents: lineTotal(quantityMilli, product.priceCents),
      label: null,
    },
  };
}

/** The catalogue rows any of these scans may name, in one query. */
export async function lookupAll(db: Kysely<DB> | Tx, scans: Scan[]): Promise<ProductsByCode> {
  const skus: string[] = [];
  const eans: string[] = [];
  for (const s of scans) {
    if (s.kind === 'sku') skus.push(s.sku);
    else {
      eans.push(...eanVariants(s.code));
      if (s.label) skus.push(s.label.sku);
    }
  }
  return productsByCodes(db, skus, eans);
}

/** Reads what each line of a basket scanned (no catalogue yet), or refuses naming each line that gives no code. */
export function scanBasket(store: StoreInfo, lines: LineInput[]): Scan[] {
  const profile = scaleProfileOf(store);
  const problems: FieldProblem[] = [];
  const scans = lines.map((l, i) => {
    if ((l.ean === undefined) === (l.sku === undefined)) {
      problems.push({ where: `lines/${i}`, problem: 'give either ean or sku' });
    }
    return l.ean === undefined && l.sku === undefined ? ({ kind: 'sku', sku: '' } as Scan) : scanOf(l, profile);
  });
  if (problems.length) throw invalid(problems.map((p) => `${p.where}: ${p.problem}`).join('; '), problems);
  return scans;
}

/** Prices every line of a scanned basket, or refuses naming each line that cannot be sold and why. */
export function priceBasket(scans: Scan[], lines: LineInput[], found: ProductsByCode): PricedLine[] {
  const problems: FieldProblem[] = [];
  const out: PricedLine[] = [];
  scans.forEach((s, i) => {
    const r = resolveOne(s, lines[i]!.quantity, found);
    if (r.ok) out.push(r.line);
    else problems.push({ where: `lines/${i}`, problem: r.problem });
  });
  if (problems.length) throw invalid(problems.map((p) => `${p.where}: ${p.problem}`).join('; '), problems);
  return out;
}

export interface LookupResult {
  product: ProductInfo;
  matchedBy: 'ean' | 'sku' | 'scale_label';
  /** scale labels: what the label stands for */
  label: { itemCode: string; mode: 'weight' | 'price'; quantityMilli: number; totalCents: number } | null;
}

/** What a kiosk shows when a code is scanned or typed: a barcode, a SKU or a scale label. */
export async function lookupCode(db: Kysely<DB> | Tx, store: StoreInfo, code: string): Promise<LookupResult> {
  const profile = scaleProfileOf(store);
  const asEan = /^\d{8,14}$/.test(code) ? scanOf({ ean: code }, profile) : undefined;
  const scans: Scan[] = [{ kind: 'sku', sku: code }];
  if (asEan) scans.push(asEan);
  const found = await lookupAll(db, scans);
  if (asEan && asEan.kind === 'ean') {
    for (const v of eanVariants(code)) {
      const p = found.byEan.get(v);
      if (p) return { product: p, matchedBy: 'ean', label: null };
    }
  }
  const bySku = found.bySku.get(code);
  if (bySku) return { product: bySku, matchedBy: 'sku', label: null };
  if (asEan && asEan.kind === 'ean' && (asEan.label || asEan.labelError)) {
    const r = resolveOne(asEan, undefined, found);
    if (!r.ok) throw r.notFound ? notFound(r.problem) : invalid(r.problem, [{ where: 'code', problem: r.problem }]);
    const l = r.line;
    return {
      product: l.product,
      matchedBy: 'scale_label',
      label: {
        itemCode: l.label!.itemCode,
        mode: l.label!.mode,
        quantityMilli: l.quantityMilli,
        totalCents: l.totalCents,
      },
    };
  }
  if (asEan) {
    const g = validateGtin(code);
    if (!g.ok) throw invalid(`barcode ${code} is not valid: it ${g.reason}`, [{ where: 'code', problem: g.reason }]);
  }
  throw notFound(`there is no product with barcode or SKU ${code}`);
}
