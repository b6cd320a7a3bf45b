// Reading the file records: what came in, what happened to it, and its rejected lines.
import type { Kysely } from 'kysely';
import type { DB, FileStatus, IngestFile } from '../db/schema.ts';
import { type Lang, sayReason } from '../domain/reasons.ts';
import { notFound } from '../errors.ts';

export interface FileSummary {
  id: number;
  key: string;
  versionId: string;
  store: string | null;
  businessDate: string | null;
  status: FileStatus;
  checksum: string | null;
  sizeBytes: number | null;
  rowsTotal: number;
  rowsLoaded: number;
  rowsRejected: number;
  reason: string | null;
  warnings: string | null;
  relatedFileId: number | null;
  receivedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface FileRejection {
  line: number;
  column: string;
  value: string;
  reason: string;
}

/** A file record as its readers see it, its reason in their language (English by default). */
export function summarize(f: IngestFile, lang: Lang = 'en'): FileSummary {
  return {
    id: f.id,
    key: f.object_key,
    versionId: f.version_id,
    store: f.store_code,
    businessDate: f.business_date,
    status: f.status,
    checksum: f.checksum,
    sizeBytes: f.size_bytes,
    rowsTotal: f.rows_total,
    rowsLoaded: f.rows_loaded,
    rowsRejected: f.rows_rejected,
    reason:
      f.reason === null ? null : sayReason({ text: f.reason, code: f.reason_code, params: f.reason_params }, lang),
    warnings: f.warnings,
    relatedFileId: f.related_file_id,
    receivedAt: f.received_at,
    finishedAt: f.finished_at,
    durationMs: f.duration_ms,
  };
}

export interface FileFilter {
  store?: string;
  stores?: string[];
  date?: string;
  status?: string;
  limit?: number;
  offset?: number;
}

export async function listFiles(db: Kysely<DB>, f: FileFilter = {}, lang: Lang = 'en'): Promise<FileSummary[]> {
  let q = db.selectFrom('ingest_files').selectAll().orderBy('id', 'desc');
  if (f.store) q = q.where('store_code', '=', f.store);
  if (f.stores) q = q.where('store_code', 'in', f.stores.length ? f.stores : ['']);
  if (f.date) q = q.where('business_date', '=', f.date);
  if (f.status) q = q.where('status', '=', f.status as FileStatus);
  const rows = await q
    .limit(f.limit ?? 50)
    .offset(f.offset ?? 0)
    .execute();
  return rows.map((r) => summarize(r, lang));
}

export async function fileRejections(db: Kysely<DB>, fileId: number, lang: Lang = 'en'): Promise<FileRejection[]> {
  const rows = await db
    .selectFrom('ingest_rejections')
    .select(['line', 'column_name', 'value', 'reason', 'reason_code', 'reason_params'])
    .where('file_id', '=', fileId)
    .orderBy('line')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    line: r.line,
    column: r.column_name,
    value: r.value,
    reason: sayReason({ text: r.reason, code: r.reason_code, params: r.reason_params }, lang),
  }));
}

export async function fileDetail(
  db: Kysely<DB>,
  id: number,
  lang: Lang = 'en',
): Promise<FileSummary & { rejections: FileRejection[] }> {
  const f = await db.selectFrom('ingest_files').selectAll().where('id', '=', id).executeTakeFirst();
  if (!f) throw notFound(`file ${id} does not exist`);
  return { ...summarize(f, lang), rejections: await fileRejections(db, id, lang) };
}
