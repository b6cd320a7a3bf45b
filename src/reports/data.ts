// The figures of every report, computed once per report and handed to both renderers. Sales come from the daily
// roll-ups (sales_daily*), so a month of the chain costs roll-up rows, never sales lines; only the by-hour table
// of a one-day report reads sales lines, for that day and through the (store_id, business_date, …) index.
// Stock comes from the balances as they are at generation time: the ledger is not replayed to a past date.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { addDays, daysBetween, isValidIsoDate, startOfDayIn, todayIn } from '../domain/dates.ts';
import { divRound } from '../domain/decimal.ts';
import { shareBasisPoints } from '../domain/format.ts';
import { invalid, notFound } from '../errors.ts';
import { TICKETS_OF_LINES } from '../sales/rollup.ts';
import {
  type BarChart,
  type Cell,
  type Column,
  type Highlight,
  KIND_TITLES,
  REPORT_KINDS,
  type ReportDoc,
  type ReportKind,
  type ReportScope,
  STOCK_KINDS,
  type Table,
} from './model.ts';

export interface ReportRequest {
  kind: ReportKind;
  /** the day, or the first day of the period */
  from: string;
  /** the last day of the period (default: from) */
  to?: string;
  /** a store code; the whole chain when absent */
  store?: string;
  /** best-sellers: how many products (default 50) */
  top?: number;
}

export const MAX_PERIOD_DAYS = 366;
export const DEFAULT_TOP = 50;
export const MAX_TOP = 1000;
/** bars beyond these are summed into one `Outros` bar */
const MAX_RANKED_BARS = 12;
const MAX_SERIES_BARS = 31;

export const CHAIN_NAME = 'Rede';

const PAYMENT_LABELS: Record<string, string> = {
  cash: 'Dinheiro',
  debit: 'Débito',
  credit: 'Crédito',
  pix: 'Pix',
  voucher: 'Vale',
  other: 'Outros',
  unknown: 'Não informado',
};

export interface NormalizedRequest {
  kind: ReportKind;
  from: string;
  to: string;
  store: string | undefined;
  top: number;
}

export function normalizeRequest(r: ReportRequest): NormalizedRequest {
  if (!(REPORT_KINDS as readonly string[]).includes(r.kind)) {
    throw invalid(`unknown report kind "${r.kind}": use one of ${REPORT_KINDS.join(', ')}`, [
      { where: 'kind', problem: 'unknown report kind' },
    ]);
  }
  const to = r.to ?? r.from;
  const problems = [];
  if (!isValidIsoDate(r.from)) problems.push({ where: 'date', problem: `"${r.from}" is not a date (YYYY-MM-DD)` });
  if (!isValidIsoDate(to)) problems.push({ where: 'to', problem: `"${to}" is not a date (YYYY-MM-DD)` });
  if (problems.length) throw invalid('the report period is not valid', problems);
  if (r.from > to) {
    throw invalid(`the period starts (${r.from}) after it ends (${to})`, [{ where: 'to', problem: 'before date' }]);
  }
  if (daysBetween(r.from, to) + 1 > MAX_PERIOD_DAYS) {
    throw invalid(`a report covers at most ${MAX_PERIOD_DAYS} days`, [{ where: 'to', problem: 'period too long' }]);
  }
  if (STOCK_KINDS.includes(r.kind) && to !== r.from) {
    throw invalid(`${r.kind} shows the stock at the end of one date and takes no period`, [
      { where: 'to', problem: 'not allowed for stock reports' },
    ]);
  }
  const top = r.top ?? DEFAULT_TOP;
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    throw invalid(`top must be a whole number from 1 to ${MAX_TOP}`, [{ where: 'top', problem: 'out of range' }]);
  }
  return { kind: r.kind, from: r.from, to, store: r.store, top };
}

export async function resolveScope(
  db: Kysely<DB>,
  config: Config,
  storeCode: string | undefined,
): Promise<ReportScope> {
  if (storeCode === undefined) {
    return { storeId: null, storeCode: null, name: CHAIN_NAME, timezone: config.timezone };
  }
  const s = await db
    .selectFrom('stores')
    .select(['id', 'code', 'name', 'timezone'])
    .where('code', '=', storeCode)
    .executeTakeFirst();
  if (!s) throw notFound(`store ${storeCode} does not exist`);
  return { storeId: Number(s.id), storeCode: s.code, name: s.name, timezone: s.timezone };
}

/** Computes a report's figures. `now` is when it is generated (the stock reports' moment). */
export async function reportData(
  db: Kysely<DB>,
  config: Config,
  request: ReportRequest,
  now: Date = new Date(),
): Promise<ReportDoc> {
  const r = normalizeRequest(request);
  const scope = await resolveScope(db, config, r.store);
  const base = {
    kind: r.kind,
    title: KIND_TITLES[r.kind],
    scope,
    from: r.from,
    to: r.to,
    generatedAt: now,
    notes: [] as string[],
  };
  switch (r.kind) {
    case 'daily-sales':
      return { ...base, ...(await dailySales(db, scope, r.from, r.to)) };
    case 'products-sold':
      return { ...base, ...(await productsSold(db, scope, r.from, r.to)) };
    case 'best-sellers':
      return { ...base, ...(await bestSellers(db, scope, r.from, r.to, r.top)) };
    case 'low-stock':
    case 'stock-position': {
      // A past date shows the stock as it was recorded at the end of that day: today's balance minus every
      // movement recorded since (the ledger keeps them all). Today or later: the stock at generation time.
      const past = r.from < todayIn(scope.timezone, now);
      const asOf = past ? startOfDayIn(addDays(r.from, 1), scope.timezone).toISOString() : undefined;
      const note = past
        ? `Estoque ao fim de ${r.from} (${scope.timezone}): saldo atual menos os movimentos registrados depois.`
        : 'Estoque na posição do momento em que o relatório foi gerado.';
      const figures = r.kind === 'low-stock' ? await lowStock(db, scope, asOf) : await stockPosition(db, scope, asOf);
      return { ...base, ...figures, notes: [note] };
    }
  }
}

type Figures = Pick<ReportDoc, 'highlights' | 'tables' | 'charts'>;

// ---------------------------------------------------------------------------------------------------------------
// Sales

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

function storeFilter(col: string, scope: ReportScope): RawBuilder<unknown> {
  return scope.storeId === null ? sql`` : sql`and ${sql.ref(col)} = ${scope.storeId}`;
}

interface SalesGroup {
  key: string;
  name: string;
  quantity: number;
  revenue: number;
  tickets: number;
}

const SALES_COLUMNS = (keyLabel: string): Column[] => [
  { key: 'key', label: keyLabel, type: 'text', hidden: 'pdf' },
  { key: 'name', label: keyLabel, type: 'text' },
  { key: 'quantity', label: 'Quantidade', type: 'quantity', hidden: 'pdf' },
  { key: 'revenue', label: 'Faturamento', type: 'money' },
  { key: 'tickets', label: 'Cupons', type: 'count' },
  { key: 'share', label: 'Part.', type: 'percent' },
];

function salesTable(id: string, title: string, keyLabel: string, groups: SalesGroup[], total: number): Table {
  return {
    id,
    title,
    columns: SALES_COLUMNS(keyLabel),
    rows: groups.map((g) => [g.key, g.name, g.quantity, g.revenue, g.tickets, shareBasisPoints(g.revenue, total)]),
    empty: 'Sem vendas no período.',
  };
}

async function dailySales(db: Kysely<DB>, scope: ReportScope, from: string, to: string): Promise<Figures> {
  const period = sql`d.business_date between ${from} and ${to} ${storeFilter('d.store_id', scope)}`;
  const totals = (
    await sql<{ q: number; r: number; n: number; t: number; days: number; stores: number }>`
      select sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.line_count) as n, sum(d.tickets) as t,
             count(distinct d.business_date) as days, count(distinct d.store_id) as stores
      from sales_daily_store d where ${period}`.execute(db)
  ).rows[0];
  const total = { quantity: n(totals?.q), revenue: n(totals?.r), lines: n(totals?.n), tickets: n(totals?.t) };

  const grouped = async (query: RawBuilder<{ k: string; nm: string; q: number; r: number; t: number }>) =>
    (await query.execute(db)).rows.map(
      (row): SalesGroup => ({
        key: String(row.k),
        name: String(row.nm),
        quantity: n(row.q),
        revenue: n(row.r),
        tickets: n(row.t),
      }),
    );

  const tables: Table[] = [
    {
      ...salesTable('total', 'Totais', 'Total', [{ key: 'total', name: 'Total', ...total }], total.revenue),
      hidden: 'pdf',
    },
  ];

  if (scope.storeId === null) {
    const byStore = await grouped(sql`
      select s.code as k, s.name as nm, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
      from sales_daily_store d join stores s on s.id = d.store_id
      where ${period} group by s.code, s.name order by r desc, s.code`);
    tables.push(salesTable('store', 'Por loja', 'Loja', byStore, total.revenue));
  }

  const byCategory = (
    await grouped(sql`
      select d.category as k, d.category as nm, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
      from sales_daily_category d where ${period} group by d.category order by r desc, d.category`)
  ).map((g) => ({ ...g, name: g.key === '' ? 'Sem categoria' : g.name }));
  tables.push(salesTable('category', 'Por categoria', 'Categoria', byCategory, total.revenue));

  const byPayment = (
    await grouped(sql`
      select d.payment_method as k, d.payment_method as nm, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r,
             sum(d.tickets) as t
      from sales_daily_payment d where ${period} group by d.payment_method order by r desc, d.payment_method`)
  ).map((g) => ({ ...g, name: PAYMENT_LABELS[g.key] ?? g.key }));
  tables.push(salesTable('payment', 'Por forma de pagamento', 'Pagamento', byPayment, total.revenue));

  const charts: BarChart[] = [rankedChart('Faturamento por categoria', 'money', byCategory)];
  if (from === to) {
    const byHour = await salesByHour(db, scope, from);
    tables.push(salesTable('hour', 'Por hora', 'Hora', byHour, total.revenue));
    charts.push({
      title: 'Faturamento por hora',
      type: 'money',
      orientation: 'vertical',
      bars: hourSeries(byHour),
    });
  } else {
    const byDay = await grouped(sql`
      select d.business_date as k, d.business_date as nm, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r,
             sum(d.tickets) as t
      from sales_daily_store d where ${period} group by d.business_date order by d.business_date`);
    const days = byDay.map((g) => ({ ...g, name: `${g.key.slice(8, 10)}/${g.key.slice(5, 7)}/${g.key.slice(0, 4)}` }));
    tables.push(salesTable('day', 'Por dia', 'Dia', days, total.revenue));
    charts.push({
      title: 'Faturamento por dia',
      type: 'money',
      orientation: 'vertical',
      bars: days.slice(-MAX_SERIES_BARS).map((d) => ({ label: d.name.slice(0, 5), value: d.revenue })),
    });
  }

  const highlights: Highlight[] = [
    { label: 'Faturamento', type: 'money', value: total.revenue },
    { label: 'Cupons', type: 'count', value: total.tickets },
    { label: 'Ticket médio', type: 'money', value: total.tickets ? divRound(total.revenue, total.tickets) : 0 },
    { label: 'Itens vendidos', type: 'count', value: total.lines },
  ];
  if (scope.storeId === null) highlights.push({ label: 'Lojas com vendas', type: 'count', value: n(totals?.stores) });
  return { highlights, tables, charts };
}

/** Sales of one day by local hour, from the sales lines (the roll-ups keep no hour). */
async function salesByHour(db: Kysely<DB>, scope: ReportScope, day: string): Promise<SalesGroup[]> {
  // An explicit store list lets both databases seek the (store_id, business_date, …) unique index per store.
  const storeIds =
    scope.storeId !== null
      ? [scope.storeId]
      : (await db.selectFrom('stores').select('id').execute()).map((s) => Number(s.id));
  if (storeIds.length === 0) return [];
  // receipts are distinct per store: count them per store and hour, then add the stores up
  const rows = (
    await sql<{ h: number | null; q: number; r: number; t: number }>`
      select l.hour as h, sum(l.quantity_milli) as q, sum(l.total_cents) as r, ${sql.raw(TICKETS_OF_LINES)} as t
      from sales_lines l
      where l.store_id in (${sql.join(storeIds)}) and l.business_date = ${day}
      group by l.store_id, l.hour`.execute(db)
  ).rows;
  const byHour = new Map<number, SalesGroup>();
  for (const row of rows) {
    const h = row.h === null ? -1 : Number(row.h);
    const key = h < 0 ? '' : String(h).padStart(2, '0');
    const g = byHour.get(h) ?? {
      key,
      name: h < 0 ? 'Sem hora' : `${key}:00–${key}:59`,
      quantity: 0,
      revenue: 0,
      tickets: 0,
    };
    g.quantity += n(row.q);
    g.revenue += n(row.r);
    g.tickets += n(row.t);
    byHour.set(h, g);
  }
  return [...byHour.entries()].sort((a, b) => (a[0] < 0 ? 1 : b[0] < 0 ? -1 : a[0] - b[0])).map(([, g]) => g);
}

/** every hour from the first to the last with sales, quiet hours as empty columns */
function hourSeries(byHour: SalesGroup[]): BarChart['bars'] {
  const known = byHour.filter((h) => h.key !== '');
  if (known.length === 0) return [];
  const revenue = new Map(known.map((h) => [Number(h.key), h.revenue]));
  const first = Number(known[0]!.key);
  const last = Number(known[known.length - 1]!.key);
  const bars: BarChart['bars'] = [];
  for (let h = first; h <= last; h++) bars.push({ label: String(h).padStart(2, '0'), value: revenue.get(h) ?? 0 });
  return bars;
}

function rankedChart(
  title: string,
  type: 'money' | 'count',
  groups: Array<{ name: string; revenue?: number; value?: number }>,
): BarChart {
  const bars = groups
    .map((g) => ({ label: g.name, value: g.value ?? g.revenue ?? 0 }))
    .sort((a, b) => b.value - a.value);
  if (bars.length > MAX_RANKED_BARS) {
    const rest = bars.splice(MAX_RANKED_BARS - 1);
    bars.push({ label: 'Outros', value: rest.reduce((a, b) => a + b.value, 0) });
  }
  return { title, type, orientation: 'horizontal', bars };
}

interface ProductSales {
  sku: string;
  name: string;
  category: string;
  unit: string;
  quantity: number;
  revenue: number;
  tickets: number;
}

async function productSales(db: Kysely<DB>, scope: ReportScope, from: string, to: string): Promise<ProductSales[]> {
  const rows = (
    await sql<{ sku: string; name: string; category: string | null; unit: string; q: number; r: number; t: number }>`
      select p.sku, p.name, p.category, p.unit, a.q, a.r, a.t
      from (select d.product_id, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
            from sales_daily d
            where d.business_date between ${from} and ${to} ${storeFilter('d.store_id', scope)}
            group by d.product_id) a
      join products p on p.id = a.product_id`.execute(db)
  ).rows;
  return rows.map((row) => ({
    sku: row.sku,
    name: row.name,
    category: row.category ?? '',
    unit: row.unit,
    quantity: n(row.q),
    revenue: n(row.r),
    tickets: n(row.t),
  }));
}

const PRODUCT_SALES_COLUMNS: Column[] = [
  { key: 'sku', label: 'SKU', type: 'text' },
  { key: 'name', label: 'Produto', type: 'text' },
  { key: 'category', label: 'Categoria', type: 'text' },
  { key: 'unit', label: 'Un.', type: 'text', hidden: 'pdf' },
  { key: 'quantity', label: 'Quantidade', type: 'quantity', unitKey: 'unit' },
  { key: 'revenue', label: 'Faturamento', type: 'money' },
  { key: 'tickets', label: 'Cupons', type: 'count' },
  { key: 'share', label: 'Part.', type: 'percent' },
];

async function productsSold(db: Kysely<DB>, scope: ReportScope, from: string, to: string): Promise<Figures> {
  const products = await productSales(db, scope, from, to);
  products.sort((a, b) => cmp(a.category, b.category) || cmp(a.name, b.name) || cmp(a.sku, b.sku));
  const revenue = products.reduce((a, p) => a + p.revenue, 0);
  const byCategory = new Map<string, number>();
  for (const p of products) byCategory.set(p.category, (byCategory.get(p.category) ?? 0) + p.revenue);
  return {
    highlights: [
      { label: 'Faturamento', type: 'money', value: revenue },
      { label: 'Produtos vendidos', type: 'count', value: products.length },
      { label: 'Categorias', type: 'count', value: byCategory.size },
    ],
    charts: [
      rankedChart(
        'Faturamento por categoria',
        'money',
        [...byCategory].map(([c, v]) => ({ name: c || 'Sem categoria', value: v })),
      ),
    ],
    tables: [
      {
        id: 'products',
        title: 'Produtos vendidos',
        columns: PRODUCT_SALES_COLUMNS,
        rows: products.map((p) => [
          p.sku,
          p.name,
          p.category,
          p.unit,
          p.quantity,
          p.revenue,
          p.tickets,
          shareBasisPoints(p.revenue, revenue),
        ]),
        total: ['Total', null, null, null, null, revenue, null, revenue ? 10_000 : 0],
        empty: 'Nenhum produto vendido no período.',
      },
    ],
  };
}

async function bestSellers(
  db: Kysely<DB>,
  scope: ReportScope,
  from: string,
  to: string,
  top: number,
): Promise<Figures> {
  const products = await productSales(db, scope, from, to);
  const revenue = products.reduce((a, p) => a + p.revenue, 0);
  products.sort((a, b) => b.revenue - a.revenue || b.quantity - a.quantity || cmp(a.sku, b.sku));
  const best = products.slice(0, top);
  const bestRevenue = best.reduce((a, p) => a + p.revenue, 0);
  return {
    highlights: [
      { label: 'Faturamento do período', type: 'money', value: revenue },
      { label: `Part. dos ${best.length} primeiros`, type: 'percent', value: shareBasisPoints(bestRevenue, revenue) },
      { label: 'Produtos vendidos', type: 'count', value: products.length },
    ],
    charts: [
      {
        title: 'Os 10 que mais faturaram',
        type: 'money',
        orientation: 'horizontal',
        bars: best.slice(0, 10).map((p) => ({ label: p.name, value: p.revenue })),
      },
    ],
    tables: [
      {
        id: 'best-sellers',
        title: `Os ${best.length} produtos que mais faturaram`,
        columns: [{ key: 'rank', label: '#', type: 'count' }, ...PRODUCT_SALES_COLUMNS],
        rows: best.map((p, i) => [
          i + 1,
          p.sku,
          p.name,
          p.category,
          p.unit,
          p.quantity,
          p.revenue,
          p.tickets,
          shareBasisPoints(p.revenue, revenue),
        ]),
        empty: 'Nenhum produto vendido no período.',
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stock

export interface BalanceRow {
  storeCode: string;
  storeName: string;
  sku: string;
  name: string;
  category: string;
  unit: string;
  supplier: string;
  onHand: number;
  reorderPoint: number | null;
  targetLevel: number | null;
  packSize: number;
  priceCents: number;
}

async function balances(
  db: Kysely<DB>,
  scope: ReportScope,
  onlyLow: boolean,
  asOf: string | undefined,
): Promise<BalanceRow[]> {
  let q = db
    .selectFrom('stock_balances as b')
    .innerJoin('stores as s', 's.id', 'b.store_id')
    .innerJoin('products as p', 'p.id', 'b.product_id')
    .select([
      's.code',
      's.name as store_name',
      'p.sku',
      'p.name',
      'p.category',
      'p.unit',
      'p.supplier',
      'p.pack_size_milli',
      'p.price_cents',
      'b.store_id',
      'b.product_id',
      'b.on_hand_milli',
      'b.reorder_point_milli',
      'b.target_level_milli',
    ]);
  if (scope.storeId !== null) q = q.where('b.store_id', '=', scope.storeId);
  if (onlyLow && !asOf) {
    q = q.where('b.reorder_point_milli', 'is not', null).whereRef('b.on_hand_milli', '<=', 'b.reorder_point_milli');
  }
  let rows = await q.execute();
  if (asOf) {
    let m = db
      .selectFrom('stock_movements')
      .select(['store_id', 'product_id', sql<number>`sum(delta_milli)`.as('moved')])
      .where('created_at', '>=', asOf)
      .groupBy(['store_id', 'product_id']);
    if (scope.storeId !== null) m = m.where('store_id', '=', scope.storeId);
    const since = new Map((await m.execute()).map((x) => [`${x.store_id}:${x.product_id}`, Number(x.moved)]));
    rows = rows.map((r) => ({
      ...r,
      on_hand_milli: r.on_hand_milli - (since.get(`${r.store_id}:${r.product_id}`) ?? 0),
    }));
    if (onlyLow) rows = rows.filter((r) => r.reorder_point_milli !== null && r.on_hand_milli <= r.reorder_point_milli);
  }
  return rows.map((r) => ({
    storeCode: r.code,
    storeName: r.store_name,
    sku: r.sku,
    name: r.name,
    category: r.category ?? '',
    unit: r.unit,
    supplier: r.supplier ?? '',
    onHand: n(r.on_hand_milli),
    reorderPoint: r.reorder_point_milli === null ? null : n(r.reorder_point_milli),
    targetLevel: r.target_level_milli === null ? null : n(r.target_level_milli),
    packSize: n(r.pack_size_milli),
    priceCents: n(r.price_cents),
  }));
}

/**
 * What to order so that stock reaches its target level, in whole packs: ⌈(target − on hand) / pack⌉ × pack, with
 * the reorder point standing in for a missing target, and at least one pack for a product at its reorder point.
 */
export function suggestedOrder(
  onHand: number,
  reorderPoint: number | null,
  target: number | null,
  pack: number,
): number {
  const goal = target ?? reorderPoint ?? 0;
  const packSize = pack > 0 ? pack : 1000;
  const need = Math.max(goal - onHand, 1);
  return Math.ceil(need / packSize) * packSize;
}

/** Value of the stock on hand at shelf price, in cents (a negative balance is worth nothing). */
export function stockValue(onHand: number, priceCents: number): number {
  return onHand > 0 ? divRound(onHand * priceCents, 1000) : 0;
}

function stockStatus(b: BalanceRow): string {
  if (b.onHand < 0) return 'Negativo';
  if (b.reorderPoint !== null && b.onHand <= b.reorderPoint) return 'Baixo';
  return 'OK';
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function lowStock(db: Kysely<DB>, scope: ReportScope, asOf: string | undefined): Promise<Figures> {
  const rows = await balances(db, scope, true, asOf);
  rows.sort((a, b) => cmp(a.storeCode, b.storeCode) || cmp(a.supplier, b.supplier) || cmp(a.name, b.name));
  const chain = scope.storeId === null;
  const columns: Column[] = [
    { key: 'store', label: 'Loja', type: 'text', hidden: chain ? undefined : 'pdf' },
    { key: 'sku', label: 'SKU', type: 'text' },
    { key: 'name', label: 'Produto', type: 'text' },
    { key: 'category', label: 'Categoria', type: 'text', hidden: 'pdf' },
    { key: 'supplier', label: 'Fornecedor', type: 'text' },
    { key: 'unit', label: 'Un.', type: 'text', hidden: 'pdf' },
    { key: 'on_hand', label: 'Estoque', type: 'quantity', unitKey: 'unit' },
    { key: 'reorder_point', label: 'Ponto ped.', type: 'quantity', unitKey: 'unit' },
    { key: 'target_level', label: 'Alvo', type: 'quantity', unitKey: 'unit' },
    { key: 'pack_size', label: 'Emb.', type: 'quantity', unitKey: 'unit' },
    { key: 'suggested', label: 'Sugerido', type: 'quantity', unitKey: 'unit' },
  ];
  const byCategory = new Map<string, number>();
  for (const r of rows) byCategory.set(r.category, (byCategory.get(r.category) ?? 0) + 1);
  const highlights: Highlight[] = [
    { label: 'Produtos a repor', type: 'count', value: rows.length },
    { label: 'Com estoque negativo', type: 'count', value: rows.filter((r) => r.onHand < 0).length },
  ];
  if (chain) highlights.push({ label: 'Lojas', type: 'count', value: new Set(rows.map((r) => r.storeCode)).size });
  return {
    highlights,
    charts: [
      rankedChart(
        'Produtos a repor por categoria',
        'count',
        [...byCategory].map(([c, v]) => ({ name: c || 'Sem categoria', value: v })),
      ),
    ],
    tables: [
      {
        id: 'low-stock',
        title: 'Produtos no ponto de pedido ou abaixo',
        columns,
        rows: rows.map((r) => [
          r.storeCode,
          r.sku,
          r.name,
          r.category,
          r.supplier,
          r.unit,
          r.onHand,
          r.reorderPoint,
          r.targetLevel,
          r.packSize,
          suggestedOrder(r.onHand, r.reorderPoint, r.targetLevel, r.packSize),
        ]),
        empty: 'Nenhum produto precisa de reposição.',
      },
    ],
  };
}

async function stockPosition(db: Kysely<DB>, scope: ReportScope, asOf: string | undefined): Promise<Figures> {
  const rows = await balances(db, scope, false, asOf);
  let low = 0;
  let negative = 0;
  let value = 0;
  for (const r of rows) {
    const s = stockStatus(r);
    if (s === 'Baixo') low++;
    if (s === 'Negativo') negative++;
    value += stockValue(r.onHand, r.priceCents);
  }
  const highlights: Highlight[] = [
    { label: 'Valor do estoque', type: 'money', value },
    {
      label: 'Produtos',
      type: 'count',
      value: scope.storeId === null ? new Set(rows.map((r) => r.sku)).size : rows.length,
    },
    { label: 'Abaixo do ponto de pedido', type: 'count', value: low },
    { label: 'Negativos', type: 'count', value: negative },
  ];
  if (scope.storeId !== null) {
    rows.sort((a, b) => cmp(a.category, b.category) || cmp(a.name, b.name) || cmp(a.sku, b.sku));
    const byCategory = new Map<string, number>();
    for (const r of rows) {
      byCategory.set(r.category, (byCategory.get(r.category) ?? 0) + stockValue(r.onHand, r.priceCents));
    }
    return {
      highlights,
      charts: [
        rankedChart(
          'Valor do estoque por categoria',
          'money',
          [...byCategory].map(([c, v]) => ({ name: c || 'Sem categoria', value: v })),
        ),
      ],
      tables: [stockTable(rows, value)],
    };
  }

  // The chain: one line per store, then one per product with the stores added up.
  const stores = new Map<string, { name: string; products: number; low: number; negative: number; value: number }>();
  const products = new Map<
    string,
    { sku: string; name: string; category: string; unit: string; onHand: number; low: number; value: number }
  >();
  for (const r of rows) {
    const status = stockStatus(r);
    const v = stockValue(r.onHand, r.priceCents);
    const s = stores.get(r.storeCode) ?? { name: r.storeName, products: 0, low: 0, negative: 0, value: 0 };
    s.products++;
    if (status === 'Baixo') s.low++;
    if (status === 'Negativo') s.negative++;
    s.value += v;
    stores.set(r.storeCode, s);
    const p = products.get(r.sku) ?? {
      sku: r.sku,
      name: r.name,
      category: r.category,
      unit: r.unit,
      onHand: 0,
      low: 0,
      value: 0,
    };
    p.onHand += r.onHand;
    if (status !== 'OK') p.low++;
    p.value += v;
    products.set(r.sku, p);
  }
  const storeRows = [...stores].sort((a, b) => cmp(a[0], b[0]));
  const productRows = [...products.values()].sort(
    (a, b) => cmp(a.category, b.category) || cmp(a.name, b.name) || cmp(a.sku, b.sku),
  );
  return {
    highlights,
    charts: [
      rankedChart(
        'Valor do estoque por loja',
        'money',
        storeRows.map(([code, s]) => ({ name: `${code} ${s.name}`, value: s.value })),
      ),
    ],
    tables: [
      {
        id: 'store',
        title: 'Por loja',
        columns: [
          { key: 'store', label: 'Loja', type: 'text' },
          { key: 'name', label: 'Nome', type: 'text' },
          { key: 'products', label: 'Produtos', type: 'count' },
          { key: 'low', label: 'Baixos', type: 'count' },
          { key: 'negative', label: 'Negativos', type: 'count' },
          { key: 'value', label: 'Valor', type: 'money' },
        ],
        rows: storeRows.map(([code, s]) => [code, s.name, s.products, s.low, s.negative, s.value]),
        total: ['Total', null, rows.length, low, negative, value],
        empty: 'Nenhum estoque registrado.',
      },
      {
        id: 'product',
        title: 'Por produto (todas as lojas)',
        columns: [
          { key: 'sku', label: 'SKU', type: 'text' },
          { key: 'name', label: 'Produto', type: 'text' },
          { key: 'category', label: 'Categoria', type: 'text' },
          { key: 'unit', label: 'Un.', type: 'text', hidden: 'pdf' },
          { key: 'on_hand', label: 'Estoque', type: 'quantity', unitKey: 'unit' },
          { key: 'stores_low', label: 'Lojas baixas', type: 'count' },
          { key: 'value', label: 'Valor', type: 'money' },
        ],
        rows: productRows.map((p) => [p.sku, p.name, p.category, p.unit, p.onHand, p.low, p.value]),
        total: ['Total', null, null, null, null, null, value],
        empty: 'Nenhum estoque registrado.',
      },
    ],
  };
}

export const STOCK_POSITION_COLUMNS: Column[] = [
  { key: 'store', label: 'Loja', type: 'text', hidden: 'pdf' },
  { key: 'sku', label: 'SKU', type: 'text' },
  { key: 'name', label: 'Produto', type: 'text' },
  { key: 'category', label: 'Categoria', type: 'text' },
  { key: 'unit', label: 'Un.', type: 'text', hidden: 'pdf' },
  { key: 'on_hand', label: 'Estoque', type: 'quantity', unitKey: 'unit' },
  { key: 'reorder_point', label: 'Ponto ped.', type: 'quantity', unitKey: 'unit' },
  { key: 'target_level', label: 'Alvo', type: 'quantity', unitKey: 'unit' },
  { key: 'status', label: 'Situação', type: 'text' },
  { key: 'value', label: 'Valor', type: 'money' },
];

function stockTable(rows: BalanceRow[], value: number): Table {
  return {
    id: 'stock',
    title: 'Estoque por produto',
    columns: STOCK_POSITION_COLUMNS,
    rows: rows.map((r): Cell[] => [
      r.storeCode,
      r.sku,
      r.name,
      r.category,
      r.unit,
      r.onHand,
      r.reorderPoint,
      r.targetLevel,
      stockStatus(r),
      stockValue(r.onHand, r.priceCents),
    ]),
    total: ['Total', null, null, null, null, null, null, null, null, value],
    empty: 'Nenhum estoque registrado.',
  };
}
