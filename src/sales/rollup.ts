// The sales roll-ups are derived from the sales lines and kept in the transaction that changes the lines, so the
// period queries (src/sales/queries.ts, src/sales/dashboard.ts) never scan lines.
//
//   day grain, per store:   sales_daily (product), sales_daily_store, _payment, _category, _category_payment
//   month grain, per store: sales_monthly (product), sales_monthly_store, _payment, _category, _category_payment
//   chain-wide, product:    sales_chain_daily, sales_chain_monthly
//   chain-wide, no product: sales_chain_daily_total, _payment, _category and their sales_chain_monthly_* twins
//
// A file load or replacement calls recomputeDailyRollup: the store-day's day rows are recomputed from its lines
// (deriving instead of adding keeps "roll-up = Σ sales lines" true by construction and tickets exact), its small
// month rows are recomputed from the day rows, and the product month and chain rows move by the difference
// between the store-day's product rows before and after; the other chain rows move the same way by the difference in
// the store-day's total, payment and category rows. A self-checkout receipt, new to its day, adds its deltas
// with addReceiptToRollups instead: recomputing the day at every purchase would cost O(lines of the day).
// Nothing else may write these tables; rollupMismatches checks every one of them against the lines.
import { type RawBuilder, sql } from 'kysely';
import { chunks } from '../db/chunks.ts';
import { insertSelected, insertValues } from '../db/insert.ts';
import type { Tx } from '../db/tx.ts';
import { DayAggregate, type Figures } from '../domain/day-aggregate.ts';
import { monthEnd, monthOf, monthStart } from '../domain/period.ts';

interface Dim {
  col: string;
  /** the value from a sales line `l` joined to its product `p` */
  expr: string;
}

const PAYMENT: Dim = { col: 'payment_method', expr: "coalesce(l.payment_method, 'unknown')" };
const CATEGORY: Dim = { col: 'category', expr: "coalesce(p.category, '')" };
const PRODUCT: Dim = { col: 'product_id', expr: 'l.product_id' };

export interface RollupFamily {
  day: string;
  month: string;
  dims: Dim[];
}

/** The per-store groupings whose month rows are recomputed from their day rows (a store-month has few of them). */
export const STORE_FAMILIES = {
  store: { day: 'sales_daily_store', month: 'sales_monthly_store', dims: [] },
  payment: { day: 'sales_daily_payment', month: 'sales_monthly_payment', dims: [PAYMENT] },
  category: { day: 'sales_daily_category', month: 'sales_monthly_category', dims: [CATEGORY] },
  category_payment: {
    day: 'sales_daily_category_payment',
    month: 'sales_monthly_category_payment',
    dims: [CATEGORY, PAYMENT],
  },
} as const satisfies Record<string, RollupFamily>;

export const PRODUCT_FAMILY = { day: 'sales_daily', month: 'sales_monthly', dims: [PRODUCT] } as const;

/** Every store summed per day or month and product. */
export const PRODUCT_CHAIN = { day: 'sales_chain_daily', month: 'sales_chain_monthly' } as const;

/**
 * Every store summed, for three of the per-store families: what the chain-wide view of totals, series, payment
 * methods and categories reads (the product has its own chain tables; category × payment stays per store).
 */
export const CHAIN_FAMILIES = {
  store: { day: 'sales_chain_daily_total', month: 'sales_chain_monthly_total', dims: [] },
  payment: { day: 'sales_chain_daily_payment', month: 'sales_chain_monthly_payment', dims: [PAYMENT] },
  category: { day: 'sales_chain_daily_category', month: 'sales_chain_monthly_category', dims: [CATEGORY] },
} as const satisfies Partial<Record<keyof typeof STORE_FAMILIES, RollupFamily>>;
type ChainFamilyName = keyof typeof CHAIN_FAMILIES;
const CHAIN_FAMILY_NAMES = Object.keys(CHAIN_FAMILIES) as ChainFamilyName[];

export const MEASURES = ['quantity_milli', 'revenue_cents', 'line_count', 'tickets', 'items'] as const;
export const GROSS = ['gross_revenue_cents', 'gross_quantity_milli'] as const;

/** Items of a sales line `l` of product `p` (SQL): see itemsOf in src/domain/day-aggregate.ts. */
export const ITEMS_OF_LINE =
  "case when p.unit = 'KG' then (case when l.quantity_milli < 0 then -1 else 1 end) " +
  'else (l.quantity_milli - l.quantity_milli % 1000) / 1000 end';

/**
 * Tickets of a group of sales lines `l` (SQL): distinct receipts, a kiosk receipt and a file's receipt being
 * different tickets even if their numbers happen to be equal.
 */
export const TICKETS_OF_LINES =
  "count(distinct case when l.source = 'file' then l.receipt_id end) + " +
  "count(distinct case when l.source <> 'file' then l.receipt_id end)";

const LINE_MEASURE_EXPRS = [
  'sum(l.quantity_milli)',
  'sum(l.total_cents)',
  'count(*)',
  TICKETS_OF_LINES,
  `sum(${ITEMS_OF_LINE})`,
];
const LINE_GROSS_EXPRS = [
  'sum(case when l.total_cents > 0 then l.total_cents else 0 end)',
  'sum(case when l.quantity_milli > 0 then l.quantity_milli else 0 end)',
];
const LINE_MEASURES = LINE_MEASURE_EXPRS.join(', ');
const LINE_GROSS = LINE_GROSS_EXPRS.join(', ');

const DAY_TABLES = [PRODUCT_FAMILY.day, ...Object.values(STORE_FAMILIES).map((f) => f.day)] as const;
const DERIVED_TABLES = [
  PRODUCT_FAMILY.month,
  ...Object.values(STORE_FAMILIES).map((f) => f.month),
  PRODUCT_CHAIN.day,
  PRODUCT_CHAIN.month,
  ...Object.values(CHAIN_FAMILIES).flatMap((f) => [f.day, f.month]),
] as const;

const cols = (names: readonly string[]) => sql.raw(names.join(', '));

/** Inserts the day rows of every family for the lines matching `where` (a condition on `l`). */
async function insertDayRows(trx: Tx, where: RawBuilder<unknown>): Promise<void> {
  await sql`
    insert into sales_daily (store_id, business_date, product_id, ${cols(MEASURES)}, ${cols(GROSS)})
    select l.store_id, l.business_date, l.product_id, ${sql.raw(LINE_MEASURES)}, ${sql.raw(LINE_GROSS)}
    from sales_lines l join products p on p.id = l.product_id
    where ${where}
    group by l.store_id, l.business_date, l.product_id`.execute(trx);
  for (const f of Object.values(STORE_FAMILIES)) {
    const dimCols = f.dims.map((d) => `, ${d.col}`).join('');
    const dimExprs = f.dims.map((d) => `, ${d.expr}`).join('');
    await sql`
      insert into ${sql.raw(f.day)} (store_id, business_date${sql.raw(dimCols)}, ${cols(MEASURES)})
      select l.store_id, l.business_date${sql.raw(dimExprs)}, ${sql.raw(LINE_MEASURES)}
      from sales_lines l join products p on p.id = l.product_id
      where ${where}
      group by l.store_id, l.business_date${sql.raw(dimExprs)}`.execute(trx);
  }
}

/** Recomputes one store-month of the small month tables from their day rows. */
async function recomputeStoreMonth(trx: Tx, storeId: number, month: string): Promise<void> {
  for (const f of Object.values(STORE_FAMILIES)) {
    const dimCols = f.dims.map((d) => `, ${d.col}`).join('');
    await sql`delete from ${sql.raw(f.month)} where store_id = ${storeId} and month = ${month}`.execute(trx);
    await sql`
      insert into ${sql.raw(f.month)} (store_id, month${sql.raw(dimCols)}, ${cols(MEASURES)})
      select store_id, ${month}${sql.raw(dimCols)}, ${sql.raw(MEASURES.map((m) => `sum(${m})`).join(', '))}
      from ${sql.raw(f.day)}
      where store_id = ${storeId} and business_date between ${monthStart(month)} and ${monthEnd(month)}
      group by store_id${sql.raw(dimCols)}`.execute(trx);
  }
}

async function productRows(trx: Tx, storeId: number, businessDate: string): Promise<Map<number, Figures>> {
  const rows = await sql<Record<string, number>>`
    select product_id, ${cols(MEASURES)}, ${cols(GROSS)} from sales_daily
    where store_id = ${storeId} and business_date = ${businessDate}`.execute(trx);
  const out = new Map<number, Figures>();
  for (const r of rows.rows) {
    out.set(Number(r.product_id), [
      Number(r.quantity_milli),
      Number(r.revenue_cents),
      Number(r.line_count),
      Number(r.tickets),
      Number(r.items),
      Number(r.gross_revenue_cents),
      Number(r.gross_quantity_milli),
    ]);
  }
  return out;
}

/** Adds each row's values to the row of its key, creating missing rows: one atomic statement per 500 rows. */
function upsertAdd(
  trx: Tx,
  table: string,
  keyCols: readonly string[],
  valueCols: readonly string[],
  rows: unknown[][],
): Promise<void> {
  return insertValues(trx, table, [...keyCols, ...valueCols], rows, { conflict: keyCols, add: valueCols });
}

interface DeltaTarget {
  table: string;
  /** the key columns: the prefix's, then the one dimension (if any) the delta is keyed by */
  keys: readonly string[];
  prefix: unknown[];
}

/**
 * Moves the rows of each target by `delta` (keyed by the dimension's value, '' when the table has none), in key
 * order, and deletes the rows left without lines: a row exists exactly while lines exist for it, and only a key
 * that lost lines can reach zero.
 */
async function applyDeltas(
  trx: Tx,
  targets: DeltaTarget[],
  valueCols: readonly string[],
  delta: Map<number | string, number[]>,
): Promise<void> {
  if (delta.size === 0) return;
  const keys = [...delta.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const shrinking = keys.filter((k) => delta.get(k)![2]! < 0);
  for (const t of targets) {
    const dim = t.keys.length > t.prefix.length ? t.keys[t.keys.length - 1] : undefined;
    await upsertAdd(
      trx,
      t.table,
      t.keys,
      valueCols,
      keys.map((k) => [...t.prefix, ...(dim ? [k] : []), ...delta.get(k)!]),
    );
    if (shrinking.length === 0) continue;
    const prefix = t.prefix.map((v, i) => sql`${sql.ref(t.keys[i]!)} = ${v}`);
    for (const part of dim ? chunks(shrinking) : [[]]) {
      const onDim = dim ? [sql`${sql.ref(dim)} in (${sql.join(part)})`] : [];
      await sql`delete from ${sql.raw(t.table)}
        where ${sql.join([...prefix, ...onDim], sql` and `)} and line_count = 0`.execute(trx);
    }
  }
}

/** Moves the product month and chain rows of a store-day by `delta` (per product id), in product order. */
function applyProductDeltas(
  trx: Tx,
  storeId: number,
  businessDate: string,
  delta: Map<number, Figures>,
): Promise<void> {
  const month = monthOf(businessDate);
  return applyDeltas(
    trx,
    [
      { table: 'sales_monthly', keys: ['store_id', 'month', 'product_id'], prefix: [storeId, month] },
      { table: PRODUCT_CHAIN.day, keys: ['business_date', 'product_id'], prefix: [businessDate] },
      { table: PRODUCT_CHAIN.month, keys: ['month', 'product_id'], prefix: [month] },
    ],
    [...MEASURES, ...GROSS],
    delta,
  );
}

/** Targets of a chain family for one day: its day row(s) and its month row(s). */
function chainTargets(family: ChainFamilyName, businessDate: string): DeltaTarget[] {
  const f = CHAIN_FAMILIES[family];
  const dims = f.dims.map((d) => d.col);
  return [
    { table: f.day, keys: ['business_date', ...dims], prefix: [businessDate] },
    { table: f.month, keys: ['month', ...dims], prefix: [monthOf(businessDate)] },
  ];
}

/** A store-day's rows of the per-store families that have chain twins, keyed by their dimension's value. */
async function chainedStoreDayRows(
  trx: Tx,
  storeId: number,
  businessDate: string,
): Promise<Record<ChainFamilyName, Map<string, number[]>>> {
  const out = {} as Record<ChainFamilyName, Map<string, number[]>>;
  for (const name of CHAIN_FAMILY_NAMES) {
    const dim = CHAIN_FAMILIES[name].dims[0]?.col;
    const rows = await sql<Record<string, number | string>>`
      select ${sql.raw(dim ?? "''")} as k, ${cols(MEASURES)} from ${sql.raw(STORE_FAMILIES[name].day)}
      where store_id = ${storeId} and business_date = ${businessDate}`.execute(trx);
    out[name] = new Map(rows.rows.map((r) => [String(r.k), MEASURES.map((m) => Number(r[m]))]));
  }
  return out;
}

function difference<K>(before: Map<K, number[]>, after: Map<K, number[]>, width: number): Map<K, number[]> {
  const delta = new Map<K, number[]>();
  const zero = new Array<number>(width).fill(0);
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(k) ?? zero;
    const a = after.get(k) ?? zero;
    const d = a.map((v, i) => v - b[i]!);
    if (d.some((v) => v !== 0)) delta.set(k, d);
  }
  return delta;
}

export async function recomputeDailyRollup(trx: Tx, storeId: number, businessDate: string): Promise<void> {
  const before = await productRows(trx, storeId, businessDate);
  const chainedBefore = await chainedStoreDayRows(trx, storeId, businessDate);
  for (const table of DAY_TABLES) {
    await sql`delete from ${sql.raw(table)} where store_id = ${storeId} and business_date = ${businessDate}`.execute(
      trx,
    );
  }
  await insertDayRows(trx, sql`l.store_id = ${storeId} and l.business_date = ${businessDate}`);
  const after = await productRows(trx, storeId, businessDate);
  const chainedAfter = await chainedStoreDayRows(trx, storeId, businessDate);
  await recomputeStoreMonth(trx, storeId, monthOf(businessDate));
  await applyProductDeltas(trx, storeId, businessDate, difference(before, after, 7) as Map<number, Figures>);
  // category, payment, total: the order addDayAggregate writes them in
  for (const name of ['category', 'payment', 'store'] as const) {
    await applyDeltas(
      trx,
      chainTargets(name, businessDate),
      MEASURES,
      difference(chainedBefore[name], chainedAfter[name], MEASURES.length),
    );
  }
}

export interface ReceiptLine {
  productId: number;
  quantityMilli: number;
  totalCents: number;
}

/**
 * Adds one receipt, new to its store-day, to every roll-up: each grouping it touches gains its lines and exactly
 * one ticket, which is what recomputing the day would give.
 */
export async function addReceiptToRollups(
  trx: Tx,
  receipt: { storeId: number; businessDate: string; paymentMethod: string | null; lines: ReceiptLine[] },
): Promise<void> {
  if (receipt.lines.length === 0) return;
  const ids = [...new Set(receipt.lines.map((l) => l.productId))];
  const products = new Map(
    (
      await sql<{ id: number; unit: 'UN' | 'KG'; category: string | null }>`
        select id, unit, category from products where id in (${sql.join(ids)})`.execute(trx)
    ).rows.map((p) => [Number(p.id), p]),
  );
  const agg = new DayAggregate();
  for (const l of receipt.lines) {
    const p = products.get(l.productId);
    agg.add(
      { receiptId: '', paymentMethod: receipt.paymentMethod, ...l },
      { unit: p?.unit ?? 'UN', category: p?.category ?? null },
    );
  }
  await addDayAggregate(trx, receipt.storeId, receipt.businessDate, agg);
}

/**
 * Adds lines summed in memory (new to their store-day: no line of theirs is in the roll-ups yet) to every roll-up.
 * Rows are written in one fixed order, products ascending and day before month, the same as recomputeDailyRollup's
 * for the shared chain rows, so that concurrent writers on MySQL wait for each other instead of deadlocking; the
 * store rows, which every receipt of the store touches, come last.
 */
export async function addDayAggregate(
  trx: Tx,
  storeId: number,
  businessDate: string,
  agg: DayAggregate,
): Promise<void> {
  if (agg.lineCount === 0) return;
  const month = monthOf(businessDate);
  const ids = [...agg.byProduct.keys()].sort((a, b) => a - b);
  const productRowsOf = (prefix: unknown[]) => ids.map((id) => [...prefix, id, ...agg.byProduct.get(id)!.f]);
  const measuresOf = (f: Figures) => f.slice(0, 5);
  const withGross = [...MEASURES, ...GROSS];
  const categories = [...agg.byCategory.keys()].sort();
  const categoryPayments = [...agg.byCategoryPayment.keys()].sort();
  const payments = [...agg.byPayment.keys()].sort();

  // A store-day without rows yet (its first file, its first kiosk receipt) has, once sales_daily is written, product
  // rows equal to the aggregate's: the month and chain product rows take them from there inside the database,
  // instead of the same thousand-odd rows being bound three more times.
  const fresh = !(await trx
    .selectFrom('sales_daily_store')
    .select('store_id')
    .where('store_id', '=', storeId)
    .where('business_date', '=', businessDate)
    .executeTakeFirst());
  const addProductRows = (table: string, keyCols: readonly string[], prefix: unknown[]) =>
    fresh
      ? insertSelected(
          trx,
          table,
          [...keyCols, ...withGross],
          sql`select ${sql.join(prefix)}, product_id, ${cols(withGross)} from sales_daily
            where store_id = ${storeId} and business_date = ${businessDate} order by product_id`,
          { conflict: keyCols, add: withGross },
        )
      : upsertAdd(trx, table, keyCols, withGross, productRowsOf(prefix));
  await upsertAdd(trx, 'sales_daily', ['store_id', 'business_date', 'product_id'], withGross, [
    ...productRowsOf([storeId, businessDate]),
  ]);
  await addProductRows('sales_monthly', ['store_id', 'month', 'product_id'], [storeId, month]);
  const byCategory = (prefix: unknown[]) =>
    categories.map((c) => [...prefix, c, ...measuresOf(agg.byCategory.get(c)!.f)]);
  const byCategoryPayment = (prefix: unknown[]) =>
    categoryPayments.map((k) => [...prefix, ...k.split('\u0000'), ...measuresOf(agg.byCategoryPayment.get(k)!.f)]);
  await upsertAdd(trx, 'sales_daily_category', ['store_id', 'business_date', 'category'], MEASURES, [
    ...byCategory([storeId, businessDate]),
  ]);
  await upsertAdd(trx, 'sales_monthly_category', ['store_id', 'month', 'category'], MEASURES, [
    ...byCategory([storeId, month]),
  ]);
  const cp = ['category', 'payment_method'];
  await upsertAdd(trx, 'sales_daily_category_payment', ['store_id', 'business_date', ...cp], MEASURES, [
    ...byCategoryPayment([storeId, businessDate]),
  ]);
  await upsertAdd(trx, 'sales_monthly_category_payment', ['store_id', 'month', ...cp], MEASURES, [
    ...byCategoryPayment([storeId, month]),
  ]);
  await addProductRows('sales_chain_daily', ['business_date', 'product_id'], [businessDate]);
  await addProductRows('sales_chain_monthly', ['month', 'product_id'], [month]);
  const byPayment = (prefix: unknown[]) => payments.map((m) => [...prefix, m, ...measuresOf(agg.byPayment.get(m)!.f)]);
  await upsertAdd(trx, 'sales_daily_payment', ['store_id', 'business_date', 'payment_method'], MEASURES, [
    ...byPayment([storeId, businessDate]),
  ]);
  await upsertAdd(trx, 'sales_monthly_payment', ['store_id', 'month', 'payment_method'], MEASURES, [
    ...byPayment([storeId, month]),
  ]);
  const all = measuresOf(agg.whole.f);
  await upsertAdd(trx, 'sales_daily_store', ['store_id', 'business_date'], MEASURES, [[storeId, businessDate, ...all]]);
  await upsertAdd(trx, 'sales_monthly_store', ['store_id', 'month'], MEASURES, [[storeId, month, ...all]]);
  // the chain rows every store's writers share come last, so that they are held the shortest
  const chained: Record<ChainFamilyName, Map<string, number[]>> = {
    category: new Map(categories.map((c) => [c, measuresOf(agg.byCategory.get(c)!.f)])),
    payment: new Map(payments.map((m) => [m, measuresOf(agg.byPayment.get(m)!.f)])),
    store: new Map([['', all]]),
  };
  // (added lines only grow them: applyDeltas deletes nothing here)
  for (const name of ['category', 'payment', 'store'] as const) {
    await applyDeltas(trx, chainTargets(name, businessDate), MEASURES, chained[name]);
  }
}

/**
 * Empties every roll-up and derives it again from all the sales lines, in bulk. For repairs and for loading large
 * data sets (the benchmarks); a store-day change goes through recomputeDailyRollup.
 */
export async function rebuildAllRollups(trx: Tx): Promise<void> {
  for (const table of [...DAY_TABLES, ...DERIVED_TABLES]) await sql`delete from ${sql.raw(table)}`.execute(trx);
  await insertDayRows(trx, sql`1 = 1`);
  const sums = (names: readonly string[]) => sql.raw(names.map((m) => `sum(${m})`).join(', '));
  const month = sql.raw('substr(business_date, 1, 7)');
  for (const f of [...Object.values(STORE_FAMILIES), PRODUCT_FAMILY]) {
    const dimCols = f.dims.map((d) => `, ${d.col}`).join('');
    const gross = f === PRODUCT_FAMILY ? GROSS : [];
    await sql`
      insert into ${sql.raw(f.month)} (store_id, month${sql.raw(dimCols)}, ${cols([...MEASURES, ...gross])})
      select store_id, ${month}${sql.raw(dimCols)}, ${sums([...MEASURES, ...gross])}
      from ${sql.raw(f.day)} group by store_id, ${month}${sql.raw(dimCols)}`.execute(trx);
  }
  await sql`
    insert into sales_chain_daily (business_date, product_id, ${cols([...MEASURES, ...GROSS])})
    select business_date, product_id, ${sums([...MEASURES, ...GROSS])}
    from sales_daily group by business_date, product_id`.execute(trx);
  await sql`
    insert into sales_chain_monthly (month, product_id, ${cols([...MEASURES, ...GROSS])})
    select month, product_id, ${sums([...MEASURES, ...GROSS])}
    from sales_monthly group by month, product_id`.execute(trx);
  for (const name of CHAIN_FAMILY_NAMES) {
    const dimCols = CHAIN_FAMILIES[name].dims.map((d) => `, ${d.col}`).join('');
    for (const [to, from, period] of [
      [CHAIN_FAMILIES[name].day, STORE_FAMILIES[name].day, 'business_date'],
      [CHAIN_FAMILIES[name].month, STORE_FAMILIES[name].month, 'month'],
    ] as const) {
      await sql`
        insert into ${sql.raw(to)} (${sql.raw(period)}${sql.raw(dimCols)}, ${cols(MEASURES)})
        select ${sql.raw(period)}${sql.raw(dimCols)}, ${sums(MEASURES)}
        from ${sql.raw(from)} group by ${sql.raw(period)}${sql.raw(dimCols)}`.execute(trx);
    }
  }
}

export interface RollupMismatch {
  table: string;
  /** 0 for the chain-wide tables */
  storeId: number;
  /** the day, or the month (`YYYY-MM`) of a month table */
  businessDate: string;
}

/** The lines of each store-day grouped by `dims`, with the measures named as the roll-up columns. */
function linesBy(dims: Dim[], gross = false): RawBuilder<unknown> {
  const dimSelect = dims.map((d) => `, ${d.expr} as ${d.col}`).join('');
  const dimGroup = dims.map((d) => `, ${d.expr}`).join('');
  const names = [...MEASURES, ...(gross ? GROSS : [])];
  const exprs = [...LINE_MEASURE_EXPRS, ...(gross ? LINE_GROSS_EXPRS : [])];
  return sql.raw(`
    select l.store_id, l.business_date${dimSelect}, ${exprs.map((e, i) => `${e} as ${names[i]}`).join(', ')}
    from sales_lines l join products p on p.id = l.product_id
    group by l.store_id, l.business_date${dimGroup}`);
}

/** `source` summed by `keys` (column names of `source`), keeping the measure names. */
function summed(source: RawBuilder<unknown> | string, keys: string[], measures: readonly string[]) {
  const from = typeof source === 'string' ? sql.raw(source) : sql`(${source})`;
  const keyExprs = keys.map((k) => (k === 'month' ? 'substr(business_date, 1, 7) as month' : k));
  const groupExprs = keys.map((k) => (k === 'month' ? 'substr(business_date, 1, 7)' : k));
  return sql`select ${sql.raw(keyExprs.join(', '))}, ${sql.raw(measures.map((m) => `sum(${m}) as ${m}`).join(', '))}
    from ${from} s group by ${sql.raw(groupExprs.join(', '))}`;
}

async function compare(
  trx: Tx,
  label: string,
  actual: RawBuilder<unknown> | string,
  expected: RawBuilder<unknown>,
  keys: string[],
  measures: readonly string[],
): Promise<RollupMismatch[]> {
  const a = typeof actual === 'string' ? sql`(select * from ${sql.raw(actual)})` : sql`(${actual})`;
  const on = sql.raw(keys.map((k) => `e.${k} = a.${k}`).join(' and '));
  const differs = sql.raw(measures.map((m) => `e.${m} <> a.${m}`).join(' or '));
  const storeCol = keys.includes('store_id') ? 'store_id' : '0';
  const dateCol = keys.includes('business_date') ? 'business_date' : 'month';
  const pick = (side: string) =>
    sql.raw(`${storeCol === '0' ? '0' : `${side}.store_id`} as store_id, ${side}.${dateCol} as d`);
  const rows = await sql<{ store_id: number; d: string }>`
    select ${pick('e')} from (${expected}) e left join ${a} a on ${on} where a.${sql.raw(keys[0]!)} is null or ${differs}
    union all
    select ${pick('a')} from ${a} a left join (${expected}) e on ${on} where e.${sql.raw(keys[0]!)} is null`.execute(
    trx,
  );
  const seen = new Set<string>();
  const out: RollupMismatch[] = [];
  for (const r of rows.rows) {
    const m = { table: label, storeId: Number(r.store_id), businessDate: String(r.d) };
    const k = `${m.storeId}|${m.businessDate}`;
    if (!seen.has(k)) out.push(m);
    seen.add(k);
  }
  return out;
}

/**
 * Store-days (or store-months, or chain days and months) whose roll-ups differ from their sales lines. Empty means
 * every roll-up holds. Day tables are compared with the lines, month and chain tables with the day tables they sum.
 * A category is the product's at load time, so by default the category tables are checked through what does not
 * depend on it (their sums per store-day); `exactCategories` also compares them with today's categories.
 */
export async function rollupMismatches(trx: Tx, opts: { exactCategories?: boolean } = {}): Promise<RollupMismatch[]> {
  const out: RollupMismatch[] = [];
  const all = [...MEASURES, ...GROSS];
  const noTickets = MEASURES.filter((m) => m !== 'tickets');
  const sd = ['store_id', 'business_date'];
  const sm = ['store_id', 'month'];
  out.push(...(await compare(trx, 'sales_daily', 'sales_daily', linesBy([PRODUCT], true), [...sd, 'product_id'], all)));
  out.push(...(await compare(trx, 'sales_daily_store', 'sales_daily_store', linesBy([]), sd, MEASURES)));
  out.push(
    ...(await compare(
      trx,
      'sales_daily_payment',
      'sales_daily_payment',
      linesBy([PAYMENT]),
      [...sd, 'payment_method'],
      MEASURES,
    )),
  );
  out.push(
    ...(await compare(
      trx,
      'sales_daily_category',
      summed('sales_daily_category', sd, noTickets),
      linesBy([]),
      sd,
      noTickets,
    )),
  );
  out.push(
    ...(await compare(
      trx,
      'sales_daily_category_payment',
      summed('sales_daily_category_payment', [...sd, 'payment_method'], noTickets),
      linesBy([PAYMENT]),
      [...sd, 'payment_method'],
      noTickets,
    )),
  );
  out.push(
    ...(await compare(
      trx,
      'sales_daily_category_payment',
      summed('sales_daily_category_payment', [...sd, 'category'], noTickets),
      summed('sales_daily_category', [...sd, 'category'], noTickets),
      [...sd, 'category'],
      noTickets,
    )),
  );
  if (opts.exactCategories) {
    out.push(
      ...(await compare(
        trx,
        'sales_daily_category',
        'sales_daily_category',
        linesBy([CATEGORY]),
        [...sd, 'category'],
        MEASURES,
      )),
    );
    out.push(
      ...(await compare(
        trx,
        'sales_daily_category_payment',
        'sales_daily_category_payment',
        linesBy([CATEGORY, PAYMENT]),
        [...sd, 'category', 'payment_method'],
        MEASURES,
      )),
    );
  }
  for (const f of [...Object.values(STORE_FAMILIES), PRODUCT_FAMILY]) {
    const keys = [...sm, ...f.dims.map((d) => d.col)];
    const measures = f === PRODUCT_FAMILY ? all : MEASURES;
    out.push(...(await compare(trx, f.month, f.month, summed(f.day, keys, measures), keys, measures)));
  }
  out.push(
    ...(await compare(
      trx,
      'sales_chain_daily',
      'sales_chain_daily',
      summed('sales_daily', ['business_date', 'product_id'], all),
      ['business_date', 'product_id'],
      all,
    )),
  );
  out.push(
    ...(await compare(
      trx,
      'sales_chain_monthly',
      'sales_chain_monthly',
      sql`select month, product_id, ${sql.raw(all.map((m) => `sum(${m}) as ${m}`).join(', '))}
          from sales_monthly group by month, product_id`,
      ['month', 'product_id'],
      all,
    )),
  );
  for (const name of CHAIN_FAMILY_NAMES) {
    const f = CHAIN_FAMILIES[name];
    const dims = f.dims.map((d) => d.col);
    out.push(
      ...(await compare(
        trx,
        f.day,
        f.day,
        summed(STORE_FAMILIES[name].day, ['business_date', ...dims], MEASURES),
        ['business_date', ...dims],
        MEASURES,
      )),
    );
    out.push(
      ...(await compare(
        trx,
        f.month,
        f.month,
        summed(f.day, ['month', ...dims], MEASURES),
        ['month', ...dims],
        MEASURES,
      )),
    );
  }
  return out;
}
