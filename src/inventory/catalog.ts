// Finding the stores and products a stock request names, with errors that say which one was not found and where.
import type { Kysely } from 'kysely';
import type { DB, ProductUnit, StoreKind } from '../db/schema.ts';
import type { Tx } from '../db/tx.ts';
import { invalid, notFound, reasonProblem } from '../errors.ts';

export interface StoreInfo {
  id: number;
  code: string;
  name: string;
  kind: StoreKind;
  timezone: string;
  scaleProfile: string | null;
}

export interface ProductInfo {
  id: number;
  sku: string;
  ean: string | null;
  name: string;
  category: string | null;
  unit: ProductUnit;
  priceCents: number;
}

type Db = Kysely<DB> | Tx;

export async function findStore(db: Db, code: string): Promise<StoreInfo> {
  const s = await db
    .selectFrom('stores')
    .select(['id', 'code', 'name', 'kind', 'timezone', 'scale_profile'])
    .where('code', '=', code)
    .executeTakeFirst();
  if (!s) throw notFound(`there is no store ${code}`);
  return {
    id: Number(s.id),
    code: s.code,
    name: s.name,
    kind: s.kind,
    timezone: s.timezone,
    scaleProfile: s.scale_profile,
  };
}

// A store's kind, time zone and scale profile change a few times a year; a checkout reads them at every purchase.
// Kept for a few seconds per process and database, and dropped at once when this process changes the store. The
// lookup itself is kept, so the purchases that arrive while it runs share it instead of each sending the query.
const STORE_TTL_MS = 5000;
const storeCaches = new WeakMap<object, Map<string, { store: Promise<StoreInfo>; until: number }>>();

export function findStoreCached(db: Kysely<DB>, code: string): Promise<StoreInfo> {
  let cache = storeCaches.get(db);
  if (!cache) {
    cache = new Map();
    storeCaches.set(db, cache);
  }
  const hit = cache.get(code);
  if (hit && hit.until > Date.now()) return hit.store;
  const store = findStore(db, code);
  if (cache.size > 10_000) cache.clear();
  const entry = { store, until: Date.now() + STORE_TTL_MS };
  cache.set(code, entry);
  // a failed lookup (an unknown code, a lost connection) is not remembered
  store.catch(() => {
    if (cache.get(code) === entry) cache.delete(code);
  });
  return store;
}

export function forgetStore(db: Kysely<DB>, code: string): void {
  storeCaches.get(db)?.delete(code);
}

const PRODUCT_COLUMNS = ['id', 'sku', 'ean', 'name', 'category', 'unit', 'price_cents'] as const;

function toProduct(p: {
  id: number;
  sku: string;
  ean: string | null;
  name: string;
  category: string | null;
  unit: ProductUnit;
  price_cents: number;
}): ProductInfo {
  return {
    id: Number(p.id),
    sku: p.sku,
    ean: p.ean,
    name: p.name,
    category: p.category,
    unit: p.unit,
    priceCents: Number(p.price_cents),
  };
}

export async function findProduct(db: Db, sku: string): Promise<ProductInfo> {
  const p = await db.selectFrom('products').select(PRODUCT_COLUMNS).where('sku', '=', sku).executeTakeFirst();
  if (!p) throw notFound(`there is no product with SKU ${sku}`);
  return toProduct(p);
}

/** Products found by their codes. */
export interface ProductsByCode {
  bySku: Map<string, ProductInfo>;
  byEan: Map<string, ProductInfo>;
}

/** Products by SKU and by EAN, in one query. Codes that match nothing are simply absent from the maps. */
export async function productsByCodes(db: Db, skus: string[], eans: string[]): Promise<ProductsByCode> {
  const bySku = new Map<string, ProductInfo>();
  const byEan = new Map<string, ProductInfo>();
  if (skus.length === 0 && eans.length === 0) return { bySku, byEan };
  const rows = await db
    .selectFrom('products')
    .select(PRODUCT_COLUMNS)
    .where((eb) => {
      const ors = [];
      if (skus.length) ors.push(eb('sku', 'in', [...new Set(skus)]));
      if (eans.length) ors.push(eb('ean', 'in', [...new Set(eans)]));
      return eb.or(ors);
    })
    .execute();
  for (const r of rows) {
    const p = toProduct(r);
    bySku.set(p.sku, p);
    if (p.ean) byEan.set(p.ean, p);
  }
  return { bySku, byEan };
}

/** The products of request lines by SKU; every unknown SKU is named with its line. */
export async function productsForLines(db: Db, lines: Array<{ sku: string }>): Promise<ProductInfo[]> {
  const { bySku } = await productsByCodes(
    db,
    lines.map((l) => l.sku),
    [],
  );
  const problems = [];
  const seen = new Map<string, number>();
  for (const [i, l] of lines.entries()) {
    if (!bySku.has(l.sku)) problems.push(reasonProblem(`lines/${i}/sku`, 'product_unknown', { sku: l.sku }));
    const first = seen.get(l.sku);
    if (first !== undefined) {
      problems.push(reasonProblem(`lines/${i}/sku`, 'product_repeated', { sku: l.sku, first }));
    } else seen.set(l.sku, i);
  }
  if (problems.length) throw invalid(problems.map((p) => `${p.where}: ${p.problem}`).join('; '), problems);
  return lines.map((l) => bySku.get(l.sku)!);
}
