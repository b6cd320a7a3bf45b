// The sales dashboard over HTTP (/api/v1/sales/...): KPIs against the previous period, series by day, week or
// month, totals by store, product, category or payment method, and best sellers. Filters combine; every answer
// comes from the roll-ups (src/sales/dashboard.ts). Any answer is also a CSV file: `?format=csv` or
// `Accept: text/csv`. People see the stores they are given: a chain-wide question covers only those.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GRAINS, type Grain } from '../../domain/period.ts';
import { bestSellersCsv, kpisCsv, seriesCsv, totalsCsv } from '../../sales/csv.ts';
import {
  bestSellers,
  resolveFilter,
  type SalesFilter,
  salesKpis,
  salesSeries,
  salesTotals,
  TOTALS_GROUPINGS,
  type TotalsGrouping,
} from '../../sales/dashboard.ts';
import type { RankMetric } from '../../sales/ranking.ts';
import { ALL_ROLES, visibleStoreIds } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';

const STORE_CODE = '[A-Za-z0-9_-]{1,32}';
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' } as const;

const filterProperties = {
  from: { ...date, description: 'first day of the period (YYYY-MM-DD)' },
  to: { ...date, description: 'last day of the period, included' },
  store: { type: 'string', pattern: `^${STORE_CODE}$`, description: 'one store code' },
  stores: {
    type: 'string',
    pattern: `^${STORE_CODE}(,${STORE_CODE})*$`,
    maxLength: 4000,
    description: 'store codes, comma-separated (with `store`, the union); default: every store you may see',
  },
  category: { type: 'string', maxLength: 120, description: "a category name ('' for products without one)" },
  product: { type: 'string', minLength: 1, maxLength: 64, description: 'a SKU' },
  payment: {
    type: 'string',
    minLength: 1,
    maxLength: 32,
    description: 'cash, debit, credit, pix, voucher, other or unknown (Portuguese names accepted)',
  },
  format: { type: 'string', enum: ['json', 'csv'], description: 'csv: a CSV file (as with Accept: text/csv)' },
} as const;

type FilterQuery = {
  from: string;
  to: string;
  store?: string;
  stores?: string;
  category?: string;
  product?: string;
  payment?: string;
  format?: 'json' | 'csv';
};

const querystring = (extra: Record<string, object> = {}) => ({
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: { ...filterProperties, ...extra },
});

const Period = {
  type: 'object',
  required: ['from', 'to'],
  properties: { from: { type: 'string' }, to: { type: 'string' } },
} as const;

const kpiProperties = {
  revenueCents: { type: 'integer' },
  tickets: { type: 'integer', description: 'distinct receipts' },
  averageTicketCents: { type: ['integer', 'null'], description: 'revenue per ticket; null without tickets' },
  items: { type: 'integer', description: 'units sold, a weighed-goods line counting as one item' },
  itemsPerTicket: { type: ['number', 'null'], description: 'two decimals; null without tickets' },
  quantityMilli: { type: 'integer', description: 'thousandths of a unit or of a kilo' },
  lines: { type: 'integer', description: 'sales lines' },
} as const;
const kpiRequired = Object.keys(kpiProperties);
const Kpis = { type: 'object', required: kpiRequired, properties: kpiProperties } as const;
const change = { type: ['number', 'null'] } as const;

const KpiAnswer = {
  type: 'object',
  required: ['period', 'previousPeriod', 'current', 'previous', 'change'],
  properties: {
    period: Period,
    previousPeriod: { ...Period, description: 'the same number of days, ending the day before `from`' },
    current: Kpis,
    previous: Kpis,
    change: {
      type: 'object',
      description: '(current − previous) / |previous|, four decimals (0.125 = +12.5 %); null when previous is 0',
      properties: {
        revenue: change,
        tickets: change,
        averageTicket: change,
        items: change,
        itemsPerTicket: change,
        quantity: change,
      },
    },
  },
} as const;

const SeriesAnswer = {
  type: 'object',
  required: ['period', 'grain', 'rows'],
  properties: {
    period: Period,
    grain: { type: 'string', enum: [...GRAINS] },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['period', 'from', 'to', 'partial', ...kpiRequired],
        properties: {
          period: { type: 'string', description: 'YYYY-MM-DD, YYYY-Www (ISO week, from Monday) or YYYY-MM' },
          from: { type: 'string' },
          to: { type: 'string' },
          partial: { type: 'boolean', description: 'the period cuts this week or month' },
          ...kpiProperties,
        },
      },
    },
  },
} as const;

const rowProperties = {
  ...kpiProperties,
  name: { type: 'string' },
  category: { type: ['string', 'null'] },
  unit: { type: 'string', enum: ['UN', 'KG'] },
  shareBasisPoints: {
    type: ['integer', 'null'],
    description: 'share of the revenue of the whole selection; 100 = 1 %',
  },
} as const;

const TotalsAnswer = {
  type: 'object',
  required: ['period', 'by', 'total', 'rows'],
  properties: {
    period: Period,
    by: { type: 'string', enum: [...TOTALS_GROUPINGS] },
    total: Kpis,
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'name', ...kpiRequired],
        properties: {
          key: { type: 'string', description: "store code, SKU, category ('' for none) or payment method" },
          ...rowProperties,
        },
      },
    },
  },
} as const;

const BestSellersAnswer = {
  type: 'object',
  required: ['period', 'rankedBy', 'rows'],
  properties: {
    period: Period,
    rankedBy: { type: 'string', enum: ['revenue', 'quantity'] },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['rank', 'sku', 'name', ...kpiRequired],
        properties: { rank: { type: 'integer' }, sku: { type: 'string' }, ...rowProperties },
      },
    },
  },
} as const;

const csvAlternative = { 'text/csv': { schema: { type: 'string', description: 'the same answer as a CSV file' } } };
const ok = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema }, ...csvAlternative },
});
const errors = {
  400: problemResponse('a filter or the period is not valid'),
  401: problemResponse('not logged in'),
  403: problemResponse('a store you may not see'),
  404: problemResponse('no such store'),
};

function filterOf(q: FilterQuery): SalesFilter {
  const stores = [...(q.store ? [q.store] : []), ...(q.stores ? q.stores.split(',') : [])];
  return {
    from: q.from,
    to: q.to,
    ...(stores.length ? { stores } : {}),
    ...(q.category !== undefined ? { category: q.category } : {}),
    ...(q.product !== undefined ? { product: q.product } : {}),
    ...(q.payment !== undefined ? { payment: q.payment } : {}),
  };
}

function wantsCsv(request: FastifyRequest<{ Querystring: FilterQuery }>): boolean {
  if (request.query.format) return request.query.format === 'csv';
  const accept = request.headers.accept ?? '';
  return /(^|,)\s*text\/csv/i.test(accept);
}

function sendCsv(reply: FastifyReply, name: string, body: string) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(body);
}

const access = { roles: ALL_ROLES, store: { in: 'query' as const, name: 'store' } };

export const salesRoutes: FastifyPluginAsync = async (app) => {
  const db = () => app.ctx.database.db;
  const resolve = (request: FastifyRequest<{ Querystring: FilterQuery }>) =>
    resolveFilter(db(), filterOf(request.query), visibleStoreIds(request.principal));

  app.get<{ Querystring: FilterQuery }>(
    '/sales/kpis',
    {
      config: { access },
      schema: {
        tags: ['sales'],
        summary: 'Revenue, tickets, average ticket and items per ticket, with the change against the previous period',
        querystring: querystring(),
        response: { 200: ok(KpiAnswer, 'the KPIs of the period and of the previous one'), ...errors },
      },
    },
    async (request, reply) => {
      const answer = await salesKpis(db(), await resolve(request));
      if (wantsCsv(request))
        return sendCsv(reply, `sales-kpis-${request.query.from}_${request.query.to}`, kpisCsv(answer));
      return answer;
    },
  );

  app.get<{ Querystring: FilterQuery & { grain?: Grain } }>(
    '/sales/series',
    {
      config: { access },
      schema: {
        tags: ['sales'],
        summary: 'The KPIs day by day, week by week (ISO, from Monday) or month by month; days without sales are zero',
        querystring: querystring({ grain: { type: 'string', enum: [...GRAINS], default: 'day' } }),
        response: { 200: ok(SeriesAnswer, 'one row per day, week or month of the period'), ...errors },
      },
    },
    async (request, reply) => {
      const grain = request.query.grain ?? 'day';
      const resolved = await resolve(request);
      const rows = await salesSeries(db(), resolved, grain);
      if (wantsCsv(request)) {
        return sendCsv(reply, `sales-by-${grain}-${request.query.from}_${request.query.to}`, seriesCsv(rows));
      }
      return { period: resolved.period, grain, rows };
    },
  );

  app.get<{ Querystring: FilterQuery & { by?: TotalsGrouping; limit?: number; offset?: number } }>(
    '/sales/totals',
    {
      config: { access },
      schema: {
        tags: ['sales'],
        summary: 'Totals by store, product, category or payment method',
        description:
          'Stores: every store of the selection, with zeros. Categories and payment methods: those with sales, by ' +
          'revenue. Products: ranked by revenue, a page of `limit` from `offset`.',
        querystring: querystring({
          by: { type: 'string', enum: [...TOTALS_GROUPINGS], default: 'store' },
          limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100, description: 'products only' },
          offset: { type: 'integer', minimum: 0, maximum: 1000000, default: 0, description: 'products only' },
        }),
        response: { 200: ok(TotalsAnswer, 'the whole selection and its rows'), ...errors },
      },
    },
    async (request, reply) => {
      const by = request.query.by ?? 'store';
      const answer = await salesTotals(db(), await resolve(request), by, {
        limit: request.query.limit ?? 100,
        offset: request.query.offset ?? 0,
      });
      if (wantsCsv(request)) {
        return sendCsv(reply, `sales-by-${by}-${request.query.from}_${request.query.to}`, totalsCsv(answer));
      }
      return answer;
    },
  );

  app.get<{ Querystring: FilterQuery & { limit?: number; rank?: RankMetric } }>(
    '/sales/best-sellers',
    {
      config: { access },
      schema: {
        tags: ['sales'],
        summary: 'The top products of the period by revenue or by quantity',
        querystring: querystring({
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
          rank: { type: 'string', enum: ['revenue', 'quantity'], default: 'revenue' },
        }),
        response: { 200: ok(BestSellersAnswer, 'the products in rank order, ties by SKU'), ...errors },
      },
    },
    async (request, reply) => {
      const answer = await bestSellers(
        db(),
        await resolve(request),
        request.query.rank ?? 'revenue',
        request.query.limit ?? 20,
      );
      if (wantsCsv(request)) {
        return sendCsv(reply, `best-sellers-${request.query.from}_${request.query.to}`, bestSellersCsv(answer));
      }
      return { ...answer, rows: answer.rows.map(({ key, ...row }) => ({ sku: key, ...row })) };
    },
  );
};
