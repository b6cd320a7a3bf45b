// Generating a report means: compute its figures once, render the asked formats, put each into the reports bucket at
// `reports/<kind>/<date>/<store code | chain>.<csv|pdf>` and record it in the `reports` table. The date segment is
// the day, or `<from>_<to>` for a period. Generating the same report again writes a new version of the same object
// (the bucket keeps the old ones) and moves its row to that version, so the list shows each report once.
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { AppContext } from '../context.ts';
import { audit } from '../db/audit.ts';
import type { DB } from '../db/schema.ts';
import { inTransaction, isUniqueViolation, nowIso } from '../db/tx.ts';
import { createFormatter } from '../domain/format.ts';
import { notFound } from '../errors.ts';
import { CSV_CONTENT_TYPE, renderCsv } from './csv.ts';
import { normalizeRequest, type ReportRequest, reportData } from './data.ts';
import type { ReportDoc, ReportFormat, ReportKind } from './model.ts';
import { PDF_CONTENT_TYPE, renderPdf } from './pdf.ts';

export const CHAIN_KEY = 'chain';

/** what generating and reading reports needs (the HTTP server's context has no logger of this kind) */
export type ReportContext = Pick<AppContext, 'config' | 'database' | 'store'>;

export interface SavedReport {
  id: number;
  kind: ReportKind;
  /** store code, null for the chain */
  store: string | null;
  storeId: number | null;
  from: string;
  to: string;
  format: ReportFormat;
  bucket: string;
  key: string;
  versionId: string;
  sizeBytes: number;
  pages: number | null;
  createdAt: string;
  createdBy: string | null;
}

export interface GenerateOptions {
  /** who asked: `user:alice`, `scheduler`, `cli` */
  actor?: string;
  /** the moment of generation (stock reports show the stock of this moment); default now */
  now?: Date;
}

export function reportKey(
  kind: ReportKind,
  from: string,
  to: string,
  storeCode: string | null,
  format: ReportFormat,
): string {
  return `reports/${kind}/${from === to ? from : `${from}_${to}`}/${storeCode ?? CHAIN_KEY}.${format}`;
}

export function contentTypeOf(format: ReportFormat): string {
  return format === 'pdf' ? PDF_CONTENT_TYPE : CSV_CONTENT_TYPE;
}

/** The bytes of a computed report in one format. */
export async function renderReport(
  ctx: Pick<AppContext, 'config'>,
  doc: ReportDoc,
  format: ReportFormat,
): Promise<{ bytes: Buffer; pages: number | null }> {
  if (format === 'csv') return { bytes: renderCsv(doc), pages: null };
  const fmt = createFormatter({
    locale: ctx.config.locale,
    currency: ctx.config.currency,
    timeZone: doc.scope.timezone,
  });
  return renderPdf(doc, fmt);
}

/** Computes a report once and saves it in each format. */
export async function generateReports(
  ctx: ReportContext,
  request: ReportRequest,
  formats: readonly ReportFormat[],
  opts: GenerateOptions = {},
): Promise<SavedReport[]> {
  const doc = await reportData(ctx.database.db, ctx.config, normalizeRequest(request), opts.now ?? new Date());
  const saved: SavedReport[] = [];
  for (const format of formats) saved.push(await saveReport(ctx, doc, format, opts.actor ?? null));
  return saved;
}

export async function generateReport(
  ctx: ReportContext,
  request: ReportRequest & { format: ReportFormat },
  opts: GenerateOptions = {},
): Promise<SavedReport> {
  const [saved] = await generateReports(ctx, request, [request.format], opts);
  return saved!;
}

async function saveReport(
  ctx: ReportContext,
  doc: ReportDoc,
  format: ReportFormat,
  actor: string | null,
): Promise<SavedReport> {
  const { bytes, pages } = await renderReport(ctx, doc, format);
  const bucket = ctx.config.buckets.reports;
  const key = reportKey(doc.kind, doc.from, doc.to, doc.scope.storeCode, format);
  const info = await ctx.store.put(bucket, key, bytes, {
    contentType: contentTypeOf(format),
    metadata: { kind: doc.kind, store: doc.scope.storeCode ?? CHAIN_KEY, from: doc.from, to: doc.to },
  });
  const row = {
    kind: doc.kind,
    store_id: doc.scope.storeId,
    date_from: doc.from,
    date_to: doc.to,
    format,
    bucket,
    object_key: key,
    version_id: info.versionId,
    size_bytes: bytes.length,
    pages,
    created_by: actor,
    created_at: nowIso(),
  };
  const id = await inTransaction(ctx.database, async (trx) => {
    const upsert = async () => {
      const existing = await trx
        .selectFrom('reports')
        .select('id')
        .where('bucket', '=', bucket)
        .where('object_key', '=', key)
        .executeTakeFirst();
      if (existing) {
        await trx.updateTable('reports').set(row).where('id', '=', existing.id).execute();
        return Number(existing.id);
      }
      const r = await trx.insertInto('reports').values(row).executeTakeFirstOrThrow();
      return Number(r.insertId);
    };
    let reportId: number;
    try {
      reportId = await upsert();
    } catch (e) {
      // another process inserted the same report between our select and insert: it is an update after all
      if (!isUniqueViolation(e)) throw e;
      reportId = await upsert();
    }
    await audit(
      trx,
      actor ?? 'system',
      'reports.generate',
      { kind: doc.kind, format, key },
      key,
      doc.scope.storeId ?? undefined,
    );
    return reportId;
  });
  return {
    id,
    kind: doc.kind,
    store: doc.scope.storeCode,
    storeId: doc.scope.storeId,
    from: doc.from,
    to: doc.to,
    format,
    bucket,
    key,
    versionId: info.versionId,
    sizeBytes: bytes.length,
    pages,
    createdAt: row.created_at,
    createdBy: actor,
  };
}

export interface ReportFilter {
  kind?: ReportKind;
  store?: string;
  format?: ReportFormat;
  /** reports whose period overlaps [from, to] */
  from?: string;
  to?: string;
  /** only these stores' reports (access control); undefined: every store */
  storeIds?: number[];
  /** whether chain-wide reports are listed */
  includeChain?: boolean;
  limit?: number;
  offset?: number;
}

function baseQuery(db: Kysely<DB>) {
  return db
    .selectFrom('reports as r')
    .leftJoin('stores as s', 's.id', 'r.store_id')
    .select([
      'r.id',
      'r.kind',
      'r.store_id',
      's.code as store',
      'r.date_from',
      'r.date_to',
      'r.format',
      'r.bucket',
      'r.object_key',
      'r.version_id',
      'r.size_bytes',
      'r.pages',
      'r.created_at',
      'r.created_by',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

function toSaved(r: Row): SavedReport {
  return {
    id: Number(r.id),
    kind: r.kind as ReportKind,
    store: r.store ?? null,
    storeId: r.store_id === null ? null : Number(r.store_id),
    from: r.date_from,
    to: r.date_to,
    format: r.format,
    bucket: r.bucket,
    key: r.object_key,
    versionId: r.version_id,
    sizeBytes: Number(r.size_bytes),
    pages: r.pages === null ? null : Number(r.pages),
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

/** Saved reports, newest period first. */
export async function listReports(db: Kysely<DB>, f: ReportFilter = {}): Promise<SavedReport[]> {
  let q = baseQuery(db)
    .orderBy('r.date_to', 'desc')
    .orderBy('r.id', 'desc')
    .limit(f.limit ?? 100)
    .offset(f.offset ?? 0);
  if (f.kind) q = q.where('r.kind', '=', f.kind);
  if (f.format) q = q.where('r.format', '=', f.format);
  if (f.store !== undefined) q = q.where('s.code', '=', f.store);
  if (f.from) q = q.where('r.date_to', '>=', f.from);
  if (f.to) q = q.where('r.date_from', '<=', f.to);
  if (f.storeIds !== undefined || f.includeChain === false) {
    const ids = f.storeIds;
    const chain = f.includeChain !== false;
    q = q.where((eb) => {
      const parts = [];
      if (ids === undefined) parts.push(eb('r.store_id', 'is not', null));
      else if (ids.length > 0) parts.push(eb('r.store_id', 'in', ids));
      if (chain) parts.push(eb('r.store_id', 'is', null));
      // no store and no chain: nothing matches
      return parts.length > 0 ? eb.or(parts) : eb('r.id', '<', 0);
    });
  }
  return (await q.execute()).map(toSaved);
}

export async function getReport(db: Kysely<DB>, id: number): Promise<SavedReport> {
  const r = await baseQuery(db).where('r.id', '=', id).executeTakeFirst();
  if (!r) throw notFound(`report ${id} does not exist`);
  return toSaved(r);
}

/** A saved report's bytes, exactly the version its row describes. */
export async function openReport(
  ctx: ReportContext,
  report: SavedReport,
): Promise<{ body: Readable; contentType: string; fileName: string; size: number }> {
  const { body, info } = await ctx.store.get(report.bucket, report.key, { versionId: report.versionId });
  const period = report.from === report.to ? report.from : `${report.from}_${report.to}`;
  return {
    body,
    contentType: contentTypeOf(report.format),
    fileName: `${report.kind}_${period}_${report.store ?? CHAIN_KEY}.${report.format}`,
    size: info.size,
  };
}
