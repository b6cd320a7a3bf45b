// Reports over HTTP (/api/v1/reports): generate one on demand (saved to the reports bucket and recorded), list the
// saved ones, download one. Access follows the data inside: a store's report is for whoever sees that store, a
// chain-wide report (no store) for admins only. A report the caller may not see is "not found".
import type { FastifyPluginAsync } from 'fastify';
import { forbidden, notFound } from '../../errors.ts';
import { MAX_TOP } from '../../reports/data.ts';
import { REPORT_FORMATS, REPORT_KINDS, type ReportFormat, type ReportKind } from '../../reports/model.ts';
import { generateReport, getReport, listReports, openReport, type SavedReport } from '../../reports/service.ts';
import { ALL_ROLES, actorName, canSeeStore, type Principal, visibleStoreIds } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { storeCode } from './schemas.ts';

const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

const Report = {
  type: 'object',
  required: ['id', 'kind', 'store', 'from', 'to', 'format', 'key', 'download'],
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: [...REPORT_KINDS] },
    store: { type: ['string', 'null'], description: 'store code; null for the whole chain' },
    from: { type: 'string', description: 'first day of the period (YYYY-MM-DD)' },
    to: { type: 'string', description: 'last day of the period' },
    format: { type: 'string', enum: [...REPORT_FORMATS] },
    bucket: { type: 'string' },
    key: { type: 'string', description: 'reports/<kind>/<date or from_to>/<store code or chain>.<format>' },
    versionId: { type: 'string' },
    sizeBytes: { type: 'integer' },
    pages: { type: ['integer', 'null'], description: 'PDF pages; null for CSV' },
    createdAt: { type: 'string' },
    createdBy: { type: ['string', 'null'] },
    download: { type: 'string', description: 'path of the download endpoint' },
  },
} as const;

const isAdmin = (p: Principal | undefined) => p?.kind === 'user' && p.role === 'admin';

/** Whether the principal may see what the report shows. */
function maySee(p: Principal | undefined, r: SavedReport): boolean {
  return r.storeId === null ? isAdmin(p) : canSeeStore(p, r.storeId);
}

const view = (prefix: string, r: SavedReport) => ({ ...r, download: `${prefix}/reports/${r.id}/download` });

export const reportRoutes: FastifyPluginAsync = async (app) => {
  const prefix = app.prefix;

  app.post<{
    Body: { kind: ReportKind; date: string; to?: string; store?: string; format: ReportFormat; top?: number };
  }>(
    '/reports',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'body', name: 'store' } } },
      schema: {
        tags: ['reports'],
        summary: 'Generate a report now, save it to the reports bucket and return where it is',
        description:
          'Without `store` the report covers the whole chain (admins only). Stock reports (low-stock, ' +
          'stock-position) show the stock at generation time and take no `to`.',
        body: {
          type: 'object',
          required: ['kind', 'date', 'format'],
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: [...REPORT_KINDS] },
            date: { ...date, description: 'the day, or the first day of the period' },
            to: { ...date, description: 'the last day of the period (default: date)' },
            store: storeCode,
            format: { type: 'string', enum: [...REPORT_FORMATS] },
            top: { type: 'integer', minimum: 1, maximum: MAX_TOP, description: 'best-sellers: how many (default 50)' },
          },
        },
        response: {
          201: Report,
          400: problemResponse('the kind, period or format is not valid'),
          403: problemResponse('a store you may not see, or a chain report for a non-admin'),
          404: problemResponse('no such store'),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.store === undefined && !isAdmin(request.principal)) {
        throw forbidden('reports of the whole chain are for admins: name a store');
      }
      const saved = await generateReport(
        app.ctx,
        { kind: b.kind, from: b.date, to: b.to, store: b.store, top: b.top, format: b.format },
        { actor: actorName(request.principal) },
      );
      return reply.code(201).send(view(prefix, saved));
    },
  );

  app.get<{
    Querystring: {
      kind?: ReportKind;
      store?: string;
      format?: ReportFormat;
      from?: string;
      to?: string;
      limit?: number;
      offset?: number;
    };
  }>(
    '/reports',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['reports'],
        summary: 'Saved reports you may see, newest period first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: [...REPORT_KINDS] },
            store: storeCode,
            format: { type: 'string', enum: [...REPORT_FORMATS] },
            from: { ...date, description: 'reports whose period ends on or after this day' },
            to: { ...date, description: 'reports whose period starts on or before this day' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: Report }, 400: problemResponse('a filter is not valid') },
      },
    },
    async (request) => {
      const rows = await listReports(app.ctx.database.db, {
        ...request.query,
        storeIds: visibleStoreIds(request.principal),
        includeChain: isAdmin(request.principal) && request.query.store === undefined,
      });
      return rows.map((r) => view(prefix, r));
    },
  );

  app.get<{ Params: { id: number } }>(
    '/reports/:id/download',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['reports'],
        summary: 'The report file (text/csv or application/pdf), exactly the version listed',
        params: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'integer', minimum: 1 } },
        },
        response: {
          200: { description: 'the file', type: 'string', format: 'binary' },
          404: problemResponse('no such report, or one you may not see'),
        },
      },
    },
    async (request, reply) => {
      const report = await getReport(app.ctx.database.db, request.params.id);
      // someone else's report is as absent as a missing one: its existence is not revealed
      if (!maySee(request.principal, report)) throw notFound(`report ${request.params.id} does not exist`);
      const file = await openReport(app.ctx, report);
      return reply
        .header('content-type', file.contentType)
        .header('content-length', String(file.size))
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('cache-control', 'private, no-store')
        .send(file.body);
    },
  );
};
