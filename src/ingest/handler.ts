// The ingest function: one handler for the AWS Lambda entry point (src/ingest/lambda.ts) and the local event
// runtime alike. It takes the S3 event JSON and loads every sales file it names. Safe to call again with the same
// event, in any order and concurrently: the file record and the store-day switch make repeats no-ops.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';
import type { IngestFile } from '../db/schema.ts';
import { isUniqueViolation, nowIso } from '../db/tx.ts';
import { decodeEventKey, type S3Event, type S3EventRecord } from '../storage/object-store.ts';
import { INCOMING_PREFIX, parseSalesFileKey } from './key.ts';
import { type IngestOutcome, loadSalesFile, markFailed, outcomeOf } from './load.ts';

const FINAL = new Set(['loaded', 'replaced', 'duplicate', 'failed', 'superseded']);

export async function handleIngestEvent(ctx: AppContext, event: S3Event): Promise<IngestOutcome[]> {
  const out: IngestOutcome[] = [];
  for (const record of event.Records ?? []) {
    const r = await ingestRecord(ctx, record);
    if (r) out.push(r);
  }
  return out;
}

export function objectRefId(bucket: string, key: string, versionId: string): string {
  return createHash('sha256').update(`${bucket}\n${key}\n${versionId}`).digest('hex');
}

export async function ingestRecord(ctx: AppContext, record: S3EventRecord): Promise<IngestOutcome | undefined> {
  if (!record.eventName?.startsWith('ObjectCreated')) return undefined;
  const bucket = record.s3.bucket.name;
  const key = decodeEventKey(record.s3.object.key);
  if (!key.startsWith(INCOMING_PREFIX)) return undefined;
  const versionId = record.s3.object.versionId ?? 'null';
  const sequencer = record.s3.object.sequencer ?? '0';
  const uploadOrder = `${record.eventTime}|${sequencer.padStart(32, '0')}`;
  const parsed = parseSalesFileKey(key);

  const file = await fileRecord(ctx, {
    bucket,
    key,
    versionId,
    sequencer,
    size: record.s3.object.size,
    storeCode: parsed.ok ? parsed.value.storeCode : null,
    businessDate: parsed.ok ? parsed.value.businessDate : null,
  });
  if (FINAL.has(file.status)) return outcomeOf(file);
  const log = ctx.log.child({ fileId: file.id, key });
  if (!parsed.ok) return markFailed(ctx, file, parsed.reason, { total: 0, rejected: 0 }, []);

  const store = await ctx.database.db
    .selectFrom('stores')
    .select(['id', 'kind'])
    .where('code', '=', parsed.value.storeCode)
    .executeTakeFirst();
  if (!store) {
    const reason = { code: 'store_unknown', params: { store: parsed.value.storeCode } } as const;
    return markFailed(ctx, file, reason, { total: 0, rejected: 0 }, []);
  }
  if (store.kind === 'selfservice') {
    // its sales are already recorded, one checkout at a time: a file of them would count every sale twice
    const reason = { code: 'store_selfservice', params: { store: parsed.value.storeCode } } as const;
    return markFailed(ctx, file, reason, { total: 0, rejected: 0 }, []);
  }
  const head = await ctx.store.head(bucket, key, { versionId });
  if (!head) return markFailed(ctx, file, { code: 'object_gone', params: {} }, { total: 0, rejected: 0 }, []);

  const outcome = await loadSalesFile(ctx, {
    file,
    key: parsed.value,
    ref: { bucket, key, versionId },
    storeId: store.id,
    uploadOrder,
  });
  log.info({ outcome }, 'sales file processed');
  return outcome;
}

async function fileRecord(
  ctx: AppContext,
  o: {
    bucket: string;
    key: string;
    versionId: string;
    sequencer: string;
    size: number;
    storeCode: string | null;
    businessDate: string | null;
  },
): Promise<IngestFile> {
  const { db } = ctx.database;
  const ref = objectRefId(o.bucket, o.key, o.versionId);
  const existing = await db.selectFrom('ingest_files').selectAll().where('object_ref', '=', ref).executeTakeFirst();
  if (existing) return existing;
  try {
    await db
      .insertInto('ingest_files')
      .values({
        object_ref: ref,
        bucket: o.bucket,
        object_key: o.key,
        version_id: o.versionId,
        sequencer: o.sequencer,
        size_bytes: o.size,
        store_code: o.storeCode,
        business_date: o.businessDate,
        status: 'received',
        received_at: nowIso(),
      })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  return db.selectFrom('ingest_files').selectAll().where('object_ref', '=', ref).executeTakeFirstOrThrow();
}
