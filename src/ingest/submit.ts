// Submitting a sales file the way a store does (a put into the sales bucket) and waiting for the ingest's answer.
// Used by `shopflow ingest` and the upload endpoint. Locally the put enqueues the event and this process's worker
// may run it at once; in AWS the Lambda does, and we only wait for the file record.
import type { Readable } from 'node:stream';
import type { App } from '../app.ts';
import type { FileStatus } from '../db/schema.ts';
import { invalid, ShopflowError } from '../errors.ts';
import { objectDedupeKey } from '../runtime/object-events.ts';
import { storedDedupeKey } from '../runtime/queue.ts';
import { fileRejections } from './files.ts';
import { objectRefId } from './handler.ts';
import { parseSalesFileKey, salesFileKey } from './key.ts';

export interface SubmitResult {
  fileId: number;
  key: string;
  versionId: string;
  status: FileStatus;
  rowsTotal: number;
  rowsLoaded: number;
  rowsRejected: number;
  rejections: Array<{ line: number; column: string; value: string; reason: string }>;
  reason?: string;
}

export async function putSalesFile(
  app: App,
  o: { bytes: Buffer | Readable; storeCode: string; businessDate: string; fileName: string },
) {
  const key = salesFileKey(o.storeCode, o.businessDate, o.fileName);
  const parsed = parseSalesFileKey(key);
  if (!parsed.ok) throw invalid(parsed.reason);
  const bucket = app.ctx.config.buckets.sales;
  const info = await app.ctx.store.put(bucket, key, o.bytes, {
    contentType: o.fileName.endsWith('.gz') ? 'application/gzip' : 'text/csv',
    maxBytes: app.ctx.config.maxFileBytes,
  });
  return { bucket, key, versionId: info.versionId };
}

export async function waitForFile(
  app: App,
  ref: { bucket: string; key: string; versionId: string },
  timeoutMs: number,
): Promise<SubmitResult> {
  const { db } = app.ctx.database;
  const objectRef = objectRefId(ref.bucket, ref.key, ref.versionId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await app.runtime?.drain();
    const f = await db.selectFrom('ingest_files').selectAll().where('object_ref', '=', objectRef).executeTakeFirst();
    if (f && ['loaded', 'replaced', 'duplicate', 'failed', 'superseded'].includes(f.status)) {
      return {
        fileId: f.id,
        key: ref.key,
        versionId: ref.versionId,
        status: f.status,
        rowsTotal: f.rows_total,
        rowsLoaded: f.rows_loaded,
        rowsRejected: f.rows_rejected,
        rejections: await fileRejections(db, f.id),
        ...(f.reason && f.status !== 'loaded' && f.status !== 'replaced' ? { reason: f.reason } : {}),
      };
    }
    const event = await db
      .selectFrom('events')
      .select(['status', 'last_error'])
      .where('dedupe_key', '=', storedDedupeKey(objectDedupeKey(ref.bucket, ref.key, ref.versionId)))
      .executeTakeFirst();
    if (event?.status === 'dead') {
      throw new ShopflowError(
        'unavailable',
        `processing ${ref.key} failed every attempt (${(event.last_error ?? '').split('\n')[0]}); fix the cause, then shopflow events replay`,
      );
    }
    if (Date.now() > deadline) {
      throw new ShopflowError(
        'unavailable',
        `no result for ${ref.key} after ${Math.round(timeoutMs / 1000)} s: the file is in the bucket and will be processed; check with shopflow files list`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function ingestLocalFile(
  app: App,
  o: { bytes: Buffer; storeCode: string; businessDate: string; fileName: string; timeoutMs: number },
): Promise<SubmitResult> {
  const ref = await putSalesFile(app, o);
  return waitForFile(app, ref, o.timeoutMs);
}
