// Ranking products over a period (best sellers) without reading every product's rows. With a long-tail catalogue
// a month holds a row for nearly every product, so summing a year means hundreds of thousands of rows even from
// month roll-ups. Instead this is the threshold algorithm (Fagin et al.) over the month lists:
//
//   every month table row carries the gross (the sum of the positive line totals, or quantities), which is never
//   below what the product sold in any part of that month in any subset of stores. Read the top K of each month
//   touched by the period, in gross order (an index); call T the K-th gross of each list (0 for a list that ran
//   out). A product missing from every list sold at most ΣT in the period. Sum exactly, from the roll-ups, only
//   the products seen; when the N-th best of those is above ΣT, no product left out can reach the top N. Otherwise
//   read deeper (K × 4), and past a depth where that stops paying, group every product instead.
//
// The lists are chain-wide when all stores or many of them are asked for, and the stores' own lists for a few
// stores, whose bounds are tighter. The answer is exact either way, ties broken by SKU.
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { monthsOverlapping, type Period, type Totals } from '../domain/period.ts';
import { aggregate, productsOfCategory, type Scope, sourceFor } from './engine.ts';

export type RankMetric = 'revenue' | 'quantity';

export interface RankedProduct {
  productId: number;
  sku: string;
  totals: Totals;
}

export interface RankOptions {
  /** `threshold` and `direct` force a strategy (tests compare them); `auto` picks */
  strategy?: 'auto' | 'threshold' | 'direct';
  /** the first depth read from each list */
  initialDepth?: number;
}

/** Store lists up to this many stores; beyond, the chain lists (fewer, looser bounds). */
const MAX_STORE_LISTS_STORES = 4;
/** Past this depth the lists hold about every product anyway: grouping them all costs less. */
const MAX_DEPTH = 20_000;

const metricOf = (t: Totals, metric: RankMetric) => (metric === 'revenue' ? t.revenueCents : t.quantityMilli);

export interface RankResult {
  products: RankedProduct[];
  /** how the answer was found, for tests and the benchmark */
  strategy: 'threshold' | 'direct';
  depth?: number;
  candidates?: number;
}

/** The products ranked `offset + 1 … offset + limit` by the metric over the period, in the scope. */
export async function rankProducts(
  db: Kysely<DB>,
  period: Period,
  scope: Scope,
  metric: RankMetric,
  limit: number,
  offset = 0,
  opts: RankOptions = {},
): Promise<RankResult> {
  const wanted = offset + limit;
  const strategy = opts.strategy ?? 'auto';
  const useLines = sourceFor(scope, 'product').kind === 'lines';
  if (strategy === 'direct' || useLines || scope.productId !== undefined || scope.productIds !== undefined) {
    return { products: await direct(db, period, scope, metric, wanted, offset), strategy: 'direct' };
  }
  const chainLists = scope.storeIds === undefined || scope.storeIds.length > MAX_STORE_LISTS_STORES;
  const months = monthsOverlapping(period);
  const skus = new Map<number, string>();
  let depth = opts.initialDepth ?? Math.max(2 * wanted, 64);
  for (;;) {
    if (depth > MAX_DEPTH) {
      return { products: await direct(db, period, scope, metric, wanted, offset), strategy: 'direct', depth };
    }
    const lists = await topOfLists(db, months, chainLists ? undefined : scope.storeIds!, scope, metric, depth);
    let bound = 0;
    let exhausted = true;
    const seen = new Set<number>();
    for (const list of lists) {
      for (const id of list.ids) seen.add(id);
      if (list.ids.length === depth) {
        bound += list.last;
        exhausted = false;
      }
    }
    const candidates = [...seen];
    const exact = await aggregate(db, period, { ...scope, productIds: candidates }, 'product');
    await fillSkus(
      db,
      skus,
      exact.map((r) => Number(r.key)),
    );
    const ranked = sortRanked(
      exact.map((r) => ({ productId: Number(r.key), sku: skus.get(Number(r.key)) ?? '', totals: r.totals })),
      metric,
    );
    const nth = ranked[wanted - 1];
    if (exhausted || (nth !== undefined && metricOf(nth.totals, metric) > bound)) {
      return {
        products: ranked.slice(offset, wanted),
        strategy: 'threshold',
        depth,
        candidates: candidates.length,
      };
    }
    depth *= 4;
  }
}

export function sortRanked(rows: RankedProduct[], metric: RankMetric): RankedProduct[] {
  return rows.sort((a, b) => {
    const d = metricOf(b.totals, metric) - metricOf(a.totals, metric);
    return d !== 0 ? d : a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
  });
}

async function direct(
  db: Kysely<DB>,
  period: Period,
  scope: Scope,
  metric: RankMetric,
  wanted: number,
  offset: number,
): Promise<RankedProduct[]> {
  const rows = await aggregate(db, period, scope, 'product');
  // The SKU only breaks ties: look it up for the products that can still make the page.
  rows.sort((a, b) => metricOf(b.totals, metric) - metricOf(a.totals, metric));
  const cut = rows[wanted - 1];
  const keep = cut ? rows.filter((r) => metricOf(r.totals, metric) >= metricOf(cut.totals, metric)) : rows;
  const skus = new Map<number, string>();
  await fillSkus(
    db,
    skus,
    keep.map((r) => Number(r.key)),
  );
  return sortRanked(
    keep.map((r) => ({ productId: Number(r.key), sku: skus.get(Number(r.key)) ?? '', totals: r.totals })),
    metric,
  ).slice(offset, wanted);
}

async function fillSkus(db: Kysely<DB>, skus: Map<number, string>, ids: number[]): Promise<void> {
  const missing = ids.filter((id) => !skus.has(id));
  for (let i = 0; i < missing.length; i += 5000) {
    const rows = await db
      .selectFrom('products')
      .select(['id', 'sku'])
      .where('id', 'in', missing.slice(i, i + 5000))
      .execute();
    for (const r of rows) skus.set(Number(r.id), r.sku);
  }
}

interface List {
  ids: number[];
  /** the gross of the last row read */
  last: number;
}

/** The top `depth` products by gross of each month list (chain-wide, or per store), in one statement. */
async function topOfLists(
  db: Kysely<DB>,
  months: string[],
  storeIds: number[] | undefined,
  scope: Scope,
  metric: RankMetric,
  depth: number,
): Promise<List[]> {
  const gross = sql.raw(metric === 'revenue' ? 'gross_revenue_cents' : 'gross_quantity_milli');
  const table = sql.raw(storeIds ? 'sales_monthly' : 'sales_chain_monthly');
  const category =
    scope.category !== undefined ? sql`and m.product_id in (${productsOfCategory(scope.category)})` : sql``;
  const parts = [];
  let n = 0;
  for (const month of months) {
    for (const store of storeIds ?? [undefined]) {
      const storeCond = store === undefined ? sql`` : sql`and m.store_id = ${store}`;
      parts.push(sql`select * from (
        select ${n} as li, m.product_id as pid, m.${gross} as g from ${table} m
        where m.month = ${month} ${storeCond} ${category}
        order by m.${gross} desc limit ${depth}) t${sql.raw(String(n))}`);
      n++;
    }
  }
  const lists: List[] = Array.from({ length: n }, () => ({ ids: [], last: Number.POSITIVE_INFINITY }));
  // SQLite caps a compound SELECT at 500 terms
  for (let i = 0; i < parts.length; i += 400) {
    const rows = await sql<{
      li: number;
      pid: number;
      g: number;
    }>`${sql.join(parts.slice(i, i + 400), sql` union all `)}`.execute(db);
    for (const r of rows.rows) {
      const list = lists[Number(r.li)]!;
      list.ids.push(Number(r.pid));
      // the rows of a derived table come in no promised order: the K-th is the smallest
      list.last = Math.min(list.last, Number(r.g));
    }
  }
  return lists;
}
