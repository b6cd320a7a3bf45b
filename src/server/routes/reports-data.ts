// Sales, stock and file queries over HTTP: the same functions and the same JSON shapes as the CLI's --json.
import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../../errors.ts';
import { fileDetail, listFiles } from '../../ingest/files.ts';
import { listStock } from '../../inventory/queries.ts';
import { SALES_GROUPINGS, type SalesGrouping, salesBy } from '../../sales/queries.ts';
import { storeCodesForIds } from '../../users/stores.ts';
import { ALL_ROLES, type Principal, visibleStoreIds } from '../auth/contract.ts';
import { answerLang } from '../language.ts';
import { problemResponse } from '../problem.ts';
import { storeCode } from './schemas.ts';

const REASONS_LANGUAGE =
  "A file's reason and its rejected lines' reasons are said in the language Accept-Language prefers, Portuguese " +
  '(pt) or English (en, the default); Content-Language says which.';

const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

const SalesRow = {
  type: 'object',
  required: ['key', 'quantity', 'revenueCents', 'tickets'],
  properties: {
    key: { type: 'string', description: 'the day, store code, SKU, category or payment method' },
    quantity: { type: 'number', description: 'units or kg' },
    revenueCents: { type: 'integer' },
    tickets: { type: 'integer', description: 'distinct receipts' },
  },
} as const;

const StockRow = {
  type: 'object',
  required: ['store', 'sku', 'onHand', 'reorderPoint', 'targetLevel', 'low'],
  properties: {
    store: { type: 'string' },
    sku: { type: 'string' },
    name: { type: 'string' },
    category: { type: ['string', 'null'] },
    unit: { type: 'string', enum: ['UN', 'KG'] },
    onHand: { type: 'number' },
    reorderPoint: { type: ['number', 'null'] },
    targetLevel: { type: ['number', 'null'] },
    low: { type: 'boolean' },
  },
} as const;

const FileSummary = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    key: { type: 'string' },
    versionId: { type: 'string' },
    store: { type: ['string', 'null'] },
    businessDate: { type: ['string', 'null'] },
    status: {
      type: 'string',
      enum: ['received', 'processing', 'loaded', 'replaced', 'duplicate', 'failed', 'superseded'],
    },
    checksum: { type: ['string', 'null'] },
    sizeBytes: { type: ['integer', 'null'] },
    rowsTotal: { type: 'integer' },
    rowsLoaded: { type: 'integer' },
    rowsRejected: { type: 'integer' },
    reason: { type: ['string', 'null'] },
    warnings: { type: ['string', 'null'] },
    relatedFileId: { type: ['integer', 'null'] },
    receivedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    durationMs: { type: ['integer', 'null'] },
  },
} as const;

const Rejection = {
  type: 'object',
  properties: {
    line: { type: 'integer' },
    column: { type: 'string' },
    value: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;

export const dataRoutes: FastifyPluginAsync = async (app) => {
  // ingest_files names its store by code; undefined: every file (admins)
  const visibleCodes = async (p: Principal | undefined) => {
    const ids = visibleStoreIds(p);
    return ids && storeCodesForIds(app.ctx.database.db, ids);
  };

  app.get<{ Querystring: { from: string; to: string; store?: string; by?: SalesGrouping } }>(
    '/sales',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['sales'],
        summary: 'Sales totals for a period, grouped by day, store, product, category or payment method',
        querystring: {
          type: 'object',
          required: ['from', 'to'],
          additionalProperties: false,
          properties: {
            from: date,
            to: date,
            store: storeCode,
            by: { type: 'string', enum: [...SALES_GROUPINGS], default: 'day' },
          },
        },
        response: {
          200: { type: 'array', items: SalesRow },
          400: problemResponse('the period or grouping is not valid'),
        },
      },
    },
    async (req) =>
      salesBy(app.ctx.database.db, {
        from: req.query.from,
        to: req.query.to,
        store: req.query.store,
        by: req.query.by ?? 'day',
        storeIds: visibleStoreIds(req.principal),
      }),
  );

  app.get<{
    Querystring: { store?: string; low?: boolean; category?: string; search?: string; limit?: number; offset?: number };
  }>(
    '/stock',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['kiosk'], store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: 'Stock per store and product, with levels',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            store: storeCode,
            low: { type: 'boolean' },
            category: { type: 'string', maxLength: 120 },
            search: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: StockRow } },
      },
    },
    async (req) => listStock(app.ctx.database.db, { ...req.query, stores: visibleStoreIds(req.principal) }),
  );

  app.get<{ Querystring: { store?: string; date?: string; status?: string; limit?: number; offset?: number } }>(
    '/files',
    {
      // upload tokens poll the result of the files they sent
      config: { access: { roles: ALL_ROLES, tokens: ['upload'], store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['files'],
        summary: 'Ingested sales files, newest first',
        description: REASONS_LANGUAGE,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            store: storeCode,
            date,
            status: FileSummary.properties.status,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: FileSummary } },
      },
    },
    async (req, reply) =>
      listFiles(
        app.ctx.database.db,
        { ...req.query, stores: await visibleCodes(req.principal) },
        answerLang(req, reply),
      ),
  );

  app.get<{ Params: { id: number } }>(
    '/files/:id',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['upload'] } },
      schema: {
        tags: ['files'],
        summary: 'One file: its result and its rejected lines',
        description: REASONS_LANGUAGE,
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        response: {
          200: {
            type: 'object',
            properties: { ...FileSummary.properties, rejections: { type: 'array', items: Rejection } },
          },
          404: problemResponse('no such file'),
        },
      },
    },
    async (req, reply) => {
      const file = await fileDetail(app.ctx.database.db, req.params.id, answerLang(req, reply));
      const codes = await visibleCodes(req.principal);
      // another store's file is answered as missing: its existence is not disclosed
      if (codes && !(file.store !== null && codes.includes(file.store))) {
        throw notFound(`file ${req.params.id} does not exist`);
      }
      return file;
    },
  );
};
