// The sales dashboard's questions, as the API answers them: KPIs against the previous period, series by day, week
// or month, totals by store, product, category or payment method, and best sellers. Every answer comes from the
// roll-ups (src/sales/engine.ts, src/sales/ranking.ts); this module resolves the filters a person gives (store
// codes, a SKU, a payment method in English or Portuguese) into a scope and checks it against what they may see.
import type { Kysely } from 'kysely';
import type { DB, ProductUnit } from '../db/schema.ts';
import { PAYMENT_METHODS, parsePaymentMethod } from '../domain/payment.ts';
import {
  bucketKey,
  buckets,
  checkPeriod,
  type Grain,
  type Kpis,
  kpis,
  type Period,
  previousPeriod,
  relativeChange,
  type Totals,
  ZERO_TOTALS,
} from '../domain/period.ts';
import { invalid, ShopflowError } from '../errors.ts';
import { addTotals, aggregate, type Scope } from './engine.ts';
import { type RankMetric, type RankOptions, rankProducts } from './ranking.ts';

export interface SalesFilter {
  from: string;
  to: string;
  /** store codes; none means every store the caller may see */
  stores?: string[];
  category?: string;
  /** a SKU */
  product?: string;
  /** cash, debit, credit, pix, voucher, other, unknown (or the Portuguese names) */
  payment?: string;
}

export const PAYMENT_FILTER_VALUES = [...PAYMENT_METHODS, 'unknown'] as const;

export interface ResolvedFilter {
  period: Period;
  scope: Scope;
  /** store id → code and name, for every store in the scope */
  stores: Map<number, { code: string; name: string }>;
}

/**
 * Turns a filter into a scope. `visible` is what the caller may see (undefined: every store). A store code that
 * does not exist is 404, one the caller may not see 403, as the access contract says.
 */
export async function resolveFilter(
  db: Kysely<DB>,
  f: SalesFilter,
  visible: number[] | undefined,
): Promise<ResolvedFilter> {
  const period = { from: f.from, to: f.to };
  const check = checkPeriod(period);
  if (!check.ok) throw invalid('the period is not valid', check.problems);
  const all = await db.selectFrom('stores').select(['id', 'code', 'name']).orderBy('code').execute();
  const visibleSet = visible ? new Set(visible) : undefined;
  let storeIds: number[] | undefined;
  if (f.stores?.length) {
    const byCode = new Map(all.map((s) => [s.code, Number(s.id)]));
    storeIds = [];
    for (const code of new Set(f.stores)) {
      const id = byCode.get(code);
      if (id === undefined) throw new ShopflowError('not_found', `store ${code} does not exist`);
      if (visibleSet && !visibleSet.has(id))
        throw new ShopflowError('forbidden', `you do not have access to store ${code}`);
      storeIds.push(id);
    }
  } else if (visible) {
    storeIds = [...visible];
  }
  // Asking for every store is the chain: the chain-wide tables can answer.
  if (storeIds && all.length > 0 && new Set(storeIds).size === all.length) storeIds = undefined;
  const inScope = storeIds ? new Set(storeIds) : undefined;
  const stores = new Map(
    all.filter((s) => !inScope || inScope.has(Number(s.id))).map((s) => [Number(s.id), { code: s.code, name: s.name }]),
  );

  const scope: Scope = { storeIds, allStoreIds: all.map((s) => Number(s.id)) };
  if (f.category !== undefined) scope.category = f.category;
  if (f.product !== undefined) {
    const p = await db.selectFrom('products').select('id').where('sku', '=', f.product).executeTakeFirst();
    if (!p) throw invalid(`no product has SKU ${f.product}`, [{ where: 'product', problem: 'unknown SKU' }]);
    scope.productId = Number(p.id);
  }
  if (f.payment !== undefined) {
    const method = f.payment === 'unknown' ? 'unknown' : parsePaymentMethod(f.payment);
    if (!method) {
      throw invalid(`"${f.payment}" is not a payment method`, [
        { where: 'payment', problem: `one of ${PAYMENT_FILTER_VALUES.join(', ')}` },
      ]);
    }
    scope.payment = method;
  }
  return { period, scope, stores };
}

export interface KpiAnswer {
  period: Period;
  previousPeriod: Period;
  current: Kpis;
  previous: Kpis;
  /** (current − previous) / |previous|, four decimals; null when the previous value is zero */
  change: {
    revenue: number | null;
    tickets: number | null;
    averageTicket: number | null;
    items: number | null;
    itemsPerTicket: number | null;
    quantity: number | null;
  };
}

async function total(db: Kysely<DB>, period: Period, scope: Scope): Promise<Totals> {
  return (await aggregate(db, period, scope, 'none'))[0]?.totals ?? ZERO_TOTALS;
}

export async function salesKpis(db: Kysely<DB>, r: ResolvedFilter): Promise<KpiAnswer> {
  const prev = previousPeriod(r.period);
  const current = kpis(await total(db, r.period, r.scope));
  const previous = kpis(await total(db, prev, r.scope));
  return {
    period: r.period,
    previousPeriod: prev,
    current,
    previous,
    change: {
      revenue: relativeChange(current.revenueCents, previous.revenueCents),
      tickets: relativeChange(current.tickets, previous.tickets),
      averageTicket: relativeChange(current.averageTicketCents, previous.averageTicketCents),
      items: relativeChange(current.items, previous.items),
      itemsPerTicket: relativeChange(current.itemsPerTicket, previous.itemsPerTicket),
      quantity: relativeChange(current.quantityMilli, previous.quantityMilli),
    },
  };
}

export interface SeriesPoint extends Kpis {
  /** `YYYY-MM-DD`, `YYYY-Www` (ISO week) or `YYYY-MM` */
  period: string;
  from: string;
  to: string;
  /** the query's period cuts this week or month */
  partial: boolean;
}

export async function salesSeries(db: Kysely<DB>, r: ResolvedFilter, grain: Grain): Promise<SeriesPoint[]> {
  const rows = await aggregate(db, r.period, r.scope, grain === 'month' ? 'month' : 'day');
  const byBucket = new Map<string, Totals>();
  for (const row of rows) {
    const key = grain === 'month' ? row.key : bucketKey(row.key, grain);
    byBucket.set(key, addTotals(byBucket.get(key) ?? ZERO_TOTALS, row.totals));
  }
  return buckets(r.period, grain).map((b) => ({
    period: b.key,
    from: b.from,
    to: b.to,
    partial: b.partial,
    ...kpis(byBucket.get(b.key) ?? ZERO_TOTALS),
  }));
}

export const TOTALS_GROUPINGS = ['store', 'product', 'category', 'payment'] as const;
export type TotalsGrouping = (typeof TOTALS_GROUPINGS)[number];

export interface TotalsRow extends Kpis {
  /** store code, SKU, category ('' for none) or payment method */
  key: string;
  name: string;
  category?: string | null;
  unit?: ProductUnit;
  /** share of the revenue of all the rows' scope, in basis points (1 % = 100) */
  shareBasisPoints: number | null;
}

export interface TotalsAnswer {
  period: Period;
  by: TotalsGrouping;
  total: Kpis;
  rows: TotalsRow[];
}

const share = (part: number, whole: number) => (whole > 0 ? Math.round((part * 10000) / whole) : null);

/**
 * Totals grouped by store (every store in the scope, with zeros), category, payment method (by revenue), or
 * product (ranked by revenue, a page of `limit` from `offset`).
 */
export async function salesTotals(
  db: Kysely<DB>,
  r: ResolvedFilter,
  by: TotalsGrouping,
  page: { limit: number; offset: number } = { limit: 1000, offset: 0 },
  rankOptions: RankOptions = {},
): Promise<TotalsAnswer> {
  const whole = await total(db, r.period, r.scope);
  let rows: TotalsRow[];
  if (by === 'product') {
    rows = await productRows(db, r, 'revenue', page.limit, page.offset, whole.revenueCents, rankOptions);
  } else {
    const grouped = await aggregate(db, r.period, r.scope, by);
    if (by === 'store') {
      const found = new Map(grouped.map((g) => [g.key, g.totals]));
      rows = [...r.stores].map(([id, s]) => ({
        key: s.code,
        name: s.name,
        ...kpis(found.get(String(id)) ?? ZERO_TOTALS),
        shareBasisPoints: share(found.get(String(id))?.revenueCents ?? 0, whole.revenueCents),
      }));
    } else {
      rows = grouped.map((g) => ({
        key: g.key,
        name: g.key,
        ...kpis(g.totals),
        shareBasisPoints: share(g.totals.revenueCents, whole.revenueCents),
      }));
    }
    rows.sort((a, b) => b.revenueCents - a.revenueCents || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return { period: r.period, by, total: kpis(whole), rows };
}

export interface BestSeller extends TotalsRow {
  rank: number;
}

async function productRows(
  db: Kysely<DB>,
  r: ResolvedFilter,
  metric: RankMetric,
  limit: number,
  offset: number,
  wholeRevenue: number,
  rankOptions: RankOptions,
): Promise<BestSeller[]> {
  const ranked = await rankProducts(db, r.period, r.scope, metric, limit, offset, rankOptions);
  const ids = ranked.products.map((p) => p.productId);
  const info = new Map(
    ids.length
      ? (
          await db.selectFrom('products').select(['id', 'name', 'category', 'unit']).where('id', 'in', ids).execute()
        ).map((p) => [Number(p.id), p])
      : [],
  );
  return ranked.products.map((p, i) => {
    const product = info.get(p.productId);
    return {
      rank: offset + i + 1,
      key: p.sku,
      name: product?.name ?? '',
      category: product?.category ?? null,
      unit: product?.unit ?? 'UN',
      ...kpis(p.totals),
      shareBasisPoints: share(p.totals.revenueCents, wholeRevenue),
    };
  });
}

export interface BestSellersAnswer {
  period: Period;
  rankedBy: RankMetric;
  rows: BestSeller[];
}

export async function bestSellers(
  db: Kysely<DB>,
  r: ResolvedFilter,
  metric: RankMetric,
  limit: number,
  rankOptions: RankOptions = {},
): Promise<BestSellersAnswer> {
  const whole = await total(db, r.period, r.scope);
  return {
    period: r.period,
    rankedBy: metric,
    rows: await productRows(db, r, metric, limit, 0, whole.revenueCents, rankOptions),
  };
}
