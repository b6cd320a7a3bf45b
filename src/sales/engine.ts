// One aggregation over the sales roll-ups, whatever the filters and the grouping: it picks the family of tables
// that carries every dimension asked for (a ticket is only exact in a table grouped by what is filtered), splits
// the period into whole months (month tables) and loose days (day tables), and reads the chain-wide tables when
// every store is asked for and the answer is not by store. Each piece is one indexed query; the pieces are added up here.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Dialect } from '../db/connect.ts';
import type { DB } from '../db/schema.ts';
import { dialectOf } from '../db/tx.ts';
import { decompose, type Period, periodDays, type Totals } from '../domain/period.ts';
import { invalid } from '../errors.ts';
import {
  CHAIN_FAMILIES,
  ITEMS_OF_LINE,
  PRODUCT_CHAIN,
  PRODUCT_FAMILY,
  STORE_FAMILIES,
  TICKETS_OF_LINES,
} from './rollup.ts';

/** What a query is restricted to; every field combines with the others. */
export interface Scope {
  /** the stores asked for; undefined means every store of the chain */
  storeIds?: number[];
  /** every store of the chain: the ids a store-level table is read for when `storeIds` is undefined */
  allStoreIds: number[];
  category?: string;
  productId?: number;
  /** several products at once (the ranking's exact step) */
  productIds?: number[];
  payment?: string;
}

export type Grouping = 'none' | 'store' | 'category' | 'payment' | 'product' | 'day' | 'month';

export interface GroupRow {
  key: string;
  totals: Totals;
}

/**
 * Sales lines have no roll-up by product and payment together (it would be as large as the lines), so that one
 * combination is summed from the lines, for periods up to this long.
 */
export const MAX_LINE_SCAN_DAYS = 31;

type FamilyName = 'store' | 'payment' | 'category' | 'category_payment' | 'product';

const TABLES: Record<FamilyName, { day: string; month: string }> = { ...STORE_FAMILIES, product: PRODUCT_FAMILY };
/** Chain-wide twins (every store summed); category × payment has none and is read per store. */
const CHAIN_TABLES: Partial<Record<FamilyName, { day: string; month: string }>> = {
  ...CHAIN_FAMILIES,
  product: PRODUCT_CHAIN,
};

export type Source = { kind: 'rollup'; family: FamilyName; chain: boolean } | { kind: 'lines' };

/** The tables that answer a query: the smallest family holding every dimension filtered or grouped on. */
export function sourceFor(scope: Scope, group: Grouping): Source {
  const product = scope.productId !== undefined || scope.productIds !== undefined || group === 'product';
  const category = scope.category !== undefined || group === 'category';
  const payment = scope.payment !== undefined || group === 'payment';
  if (product && payment) return { kind: 'lines' };
  const family: FamilyName = product
    ? 'product'
    : category && payment
      ? 'category_payment'
      : category
        ? 'category'
        : payment
          ? 'payment'
          : 'store';
  const chain = scope.storeIds === undefined && group !== 'store' && CHAIN_TABLES[family] !== undefined;
  return { kind: 'rollup', family, chain };
}

interface Piece {
  grain: 'day' | 'month';
  from: string;
  to: string;
}

/** Day series need day rows; anything else reads whole months from the month tables. */
function piecesOf(period: Period, group: Grouping): Piece[] {
  if (group === 'day') return [{ grain: 'day', ...period }];
  const d = decompose(period);
  const out: Piece[] = d.days.map((p) => ({ grain: 'day' as const, ...p }));
  if (d.months) out.push({ grain: 'month', ...d.months });
  return out;
}

const SUMS = sql.raw(
  'sum(quantity_milli) as q, sum(revenue_cents) as r, sum(line_count) as n, sum(tickets) as t, sum(items) as i',
);

interface RawRow {
  k: string | number | null;
  q: number | string | null;
  r: number | string | null;
  n: number | string | null;
  t: number | string | null;
  i: number | string | null;
}

const num = (v: number | string | null | undefined) => (v === null || v === undefined ? 0 : Number(v));

function totalsOf(r: RawRow): Totals {
  return { quantityMilli: num(r.q), revenueCents: num(r.r), lines: num(r.n), tickets: num(r.t), items: num(r.i) };
}

export function addTotals(a: Totals, b: Totals): Totals {
  return {
    quantityMilli: a.quantityMilli + b.quantityMilli,
    revenueCents: a.revenueCents + b.revenueCents,
    lines: a.lines + b.lines,
    tickets: a.tickets + b.tickets,
    items: a.items + b.items,
  };
}

const inList = (values: readonly (number | string)[]) => sql.join(values.length ? values : [-1]);

function storeIdsOf(scope: Scope): number[] {
  return scope.storeIds ?? scope.allStoreIds;
}

/** Products of a category, as the roll-ups file them ('' is no category); an index seek, not a scan. */
export function productsOfCategory(category: string): RawBuilder<unknown> {
  return category === ''
    ? sql`select id from products where category is null or category = ''`
    : sql`select id from products where category = ${category}`;
}

/**
 * The secondary index that serves a filtered piece. Without statistics SQLite prefers a range of the primary key
 * (store, day) over it, which reads every product or category of every day of the range; MySQL picks it alone.
 */
function sqliteIndex(family: FamilyName, grain: 'day' | 'month', scope: Scope): string | undefined {
  const product = scope.productId !== undefined || scope.productIds !== undefined;
  if (family === 'product')
    return product ? (grain === 'day' ? 'sales_daily_product' : 'sales_monthly_product') : undefined;
  if (grain === 'month') return undefined;
  if (family === 'category' && scope.category !== undefined) return 'sales_daily_category_name';
  if (family === 'payment' && scope.payment !== undefined) return 'sales_daily_payment_method';
  if (family === 'category_payment' && scope.category !== undefined && scope.payment !== undefined) {
    return 'sales_daily_category_payment_key';
  }
  return undefined;
}

/** The SQL of one piece over the roll-ups. */
function rollupPiece(
  source: Extract<Source, { kind: 'rollup' }>,
  piece: Piece,
  scope: Scope,
  group: Grouping,
  dialect: Dialect,
): RawBuilder<RawRow> {
  const tables = (source.chain && CHAIN_TABLES[source.family]) || TABLES[source.family];
  const index = dialect === 'sqlite' && !source.chain ? sqliteIndex(source.family, piece.grain, scope) : undefined;
  const table = sql.raw(`${piece.grain === 'day' ? tables.day : tables.month}${index ? ` indexed by ${index}` : ''}`);
  const periodCol = piece.grain === 'day' ? 'business_date' : 'month';
  const where: RawBuilder<unknown>[] = [];
  if (!source.chain) where.push(sql`store_id in (${inList(storeIdsOf(scope))})`);
  where.push(sql`${sql.ref(periodCol)} between ${piece.from} and ${piece.to}`);
  if (source.family === 'product') {
    if (scope.productId !== undefined) where.push(sql`product_id = ${scope.productId}`);
    if (scope.productIds !== undefined) where.push(sql`product_id in (${inList(scope.productIds)})`);
    if (scope.category !== undefined) where.push(sql`product_id in (${productsOfCategory(scope.category)})`);
  } else {
    if (scope.category !== undefined) where.push(sql`category = ${scope.category}`);
    if (scope.payment !== undefined) where.push(sql`payment_method = ${scope.payment}`);
  }
  const key = groupExpr(group, piece.grain);
  return sql<RawRow>`select ${key} as k, ${SUMS} from ${table} where ${sql.join(where, sql` and `)}
    ${group === 'none' ? sql`` : sql`group by ${key}`}`;
}

function groupExpr(group: Grouping, grain: 'day' | 'month'): RawBuilder<unknown> {
  switch (group) {
    case 'none':
      return sql`''`;
    case 'store':
      return sql.raw('store_id');
    case 'category':
      return sql.raw('category');
    case 'payment':
      return sql.raw('payment_method');
    case 'product':
      return sql.raw('product_id');
    case 'day':
      return sql.raw('business_date');
    case 'month':
      return sql.raw(grain === 'month' ? 'month' : 'substr(business_date, 1, 7)');
  }
}

/**
 * Product and payment together, from the lines: tickets are counted per store-day first, as the roll-ups do,
 * because the same receipt number on two days is two receipts.
 */
function linesQuery(period: Period, scope: Scope, group: Grouping): RawBuilder<RawRow> {
  if (periodDays(period) > MAX_LINE_SCAN_DAYS) {
    throw invalid(
      `sales by product and payment method together are only kept line by line: ask for at most ${MAX_LINE_SCAN_DAYS} days, or drop one of the two`,
      [{ where: 'to', problem: `more than ${MAX_LINE_SCAN_DAYS} days with both a product and a payment filter` }],
    );
  }
  const where: RawBuilder<unknown>[] = [
    sql`l.store_id in (${inList(storeIdsOf(scope))})`,
    sql`l.business_date between ${period.from} and ${period.to}`,
  ];
  if (scope.productId !== undefined) where.push(sql`l.product_id = ${scope.productId}`);
  if (scope.productIds !== undefined) where.push(sql`l.product_id in (${inList(scope.productIds)})`);
  if (scope.category !== undefined) where.push(sql`l.product_id in (${productsOfCategory(scope.category)})`);
  if (scope.payment !== undefined) where.push(sql`coalesce(l.payment_method, 'unknown') = ${scope.payment}`);
  const key: Record<Grouping, string> = {
    none: "''",
    store: 'l.store_id',
    category: "coalesce(p.category, '')",
    payment: "coalesce(l.payment_method, 'unknown')",
    product: 'l.product_id',
    day: 'l.business_date',
    month: 'substr(l.business_date, 1, 7)',
  };
  const k = sql.raw(key[group]);
  return sql<RawRow>`
    select k, sum(q) as q, sum(r) as r, sum(n) as n, sum(t) as t, sum(i) as i from (
      select ${k} as k, sum(l.quantity_milli) as q, sum(l.total_cents) as r, count(*) as n,
             ${sql.raw(TICKETS_OF_LINES)} as t, sum(${sql.raw(ITEMS_OF_LINE)}) as i
      from sales_lines l join products p on p.id = l.product_id
      where ${sql.join(where, sql` and `)}
      group by ${k}, l.store_id, l.business_date) x
    group by k`;
}

/** Totals of the scope over the period, grouped; `none` gives one row with key ''. */
export async function aggregate(db: Kysely<DB>, period: Period, scope: Scope, group: Grouping): Promise<GroupRow[]> {
  if (scope.storeIds?.length === 0 || scope.productIds?.length === 0) return group === 'none' ? [zeroRow()] : [];
  const source = sourceFor(scope, group);
  const queries =
    source.kind === 'lines'
      ? [linesQuery(period, scope, group)]
      : piecesOf(period, group).map((p) => rollupPiece(source, p, scope, group, dialectOf(db)));
  const byKey = new Map<string, Totals>();
  for (const q of queries) {
    for (const row of (await q.execute(db)).rows) {
      const key = row.k === null ? '' : String(row.k);
      const t = totalsOf(row);
      const prev = byKey.get(key);
      byKey.set(key, prev ? addTotals(prev, t) : t);
    }
  }
  if (group === 'none') return [{ key: '', totals: byKey.get('') ?? zeroRow().totals }];
  return [...byKey].map(([key, totals]) => ({ key, totals }));
}

function zeroRow(): GroupRow {
  return { key: '', totals: { quantityMilli: 0, revenueCents: 0, lines: 0, tickets: 0, items: 0 } };
}
