// Receiving a sales file over HTTP: the body streams into the sales bucket at the canonical key, exactly as a store
// system's own put would, so the ingest runs as for any other object (the local worker, or S3 → Lambda). The file
// record is created here with status `received`, under the same object reference the ingest handler computes, so
// the caller gets an id to poll at once and the handler reuses the record.
//
// Before anything is stored, the first bytes are looked at: a spreadsheet, a PDF, an image or any body with NUL
// bytes is refused with a reason a person understands, instead of failing later in the ingest. A `.csv.gz` name
// needs gzip content (and is looked at once inflated); gzip content needs the `.csv.gz` name.
import { Readable } from 'node:stream';
import { constants, gunzipSync } from 'node:zlib';
import type { Config } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { isUniqueViolation, nowIso } from '../db/tx.ts';
import { isValidIsoDate } from '../domain/dates.ts';
import { invalid, ShopflowError } from '../errors.ts';
import { objectRefId } from '../ingest/handler.ts';
import { salesFileKey } from '../ingest/key.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** How much of the body is looked at before it is stored. */
export const SNIFF_BYTES = 8192;

export const UPLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const SIGNATURES: Array<[string, number[]]> = [
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a ZIP archive (or an .xlsx / .ods spreadsheet)', [0x50, 0x4b, 0x03, 0x04]],
  ['an old Excel or Word file', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a program', [0x7f, 0x45, 0x4c, 0x46]],
  ['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['a RAR archive', [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]],
  ['an xz archive', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['a zstd archive', [0x28, 0xb5, 0x2f, 0xfd]],
  ['a Parquet file', [0x50, 0x41, 0x52, 0x31]],
  ['an SQLite database', [...Buffer.from('SQLite format 3\0', 'latin1')]],
];
const GZIP = [0x1f, 0x8b];

const startsWith = (buf: Buffer, sig: number[]) => buf.length >= sig.length && sig.every((b, i) => buf[i] === b);

export type SniffResult = { ok: true; gzip: boolean } | { ok: false; reason: string };

/** Decides from the first bytes whether a body can be a (possibly gzipped) CSV file named `fileName`. */
export function sniffUpload(prefix: Buffer, fileName: string): SniffResult {
  const gzipName = fileName.toLowerCase().endsWith('.csv.gz');
  if (prefix.length === 0) return { ok: false, reason: 'the file is empty' };
  const gzip = startsWith(prefix, GZIP);
  if (gzip && !gzipName) {
    return {
      ok: false,
      reason: `the content is gzip-compressed: name the file ${fileName}.gz (it must end in .csv.gz)`,
    };
  }
  if (gzipName && !gzip) return { ok: false, reason: `${fileName} ends in .gz but its content is not gzip` };
  let text = prefix;
  if (gzip) {
    try {
      // Sync flush: a prefix of a longer gzip stream inflates as far as it goes instead of failing as truncated.
      text = gunzipSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, SNIFF_BYTES);
    } catch (e) {
      return { ok: false, reason: `the content is not valid gzip (${(e as Error).message})` };
    }
    if (text.length === 0 && prefix.length >= SNIFF_BYTES) {
      return { ok: false, reason: 'the gzip content does not start with any text' };
    }
  }
  for (const [what, sig] of SIGNATURES) {
    if (startsWith(text, sig)) return { ok: false, reason: `this is ${what}, not a CSV file: export the sales as CSV` };
  }
  const utf16 = startsWith(text, [0xff, 0xfe]) || startsWith(text, [0xfe, 0xff]);
  const nul = utf16 ? -1 : text.indexOf(0);
  if (nul >= 0) {
    return {
      ok: false,
      reason: `this is not a text file (a NUL byte at offset ${nul}${gzip ? ' once inflated' : ''}): export the sales as CSV`,
    };
  }
  return { ok: true, gzip };
}

export interface UploadContext {
  config: Config;
  database: Database;
  store: ObjectStore;
}

export interface UploadInput {
  storeCode: string;
  businessDate: string;
  fileName: string;
  body: Readable;
  /** the Content-Length the client declared, when it did */
  declaredBytes?: number;
  /** who uploaded, kept in the object's metadata */
  actor: string;
}

export interface UploadResult {
  fileId: number;
  key: string;
  versionId: string;
  sizeBytes: number;
  status: string;
}

/** Stores the body as the store-day's sales file and creates its file record. */
export async function receiveSalesFile(ctx: UploadContext, u: UploadInput): Promise<UploadResult> {
  if (!isValidIsoDate(u.businessDate)) {
    throw invalid(`"${u.businessDate}" is not a business date (YYYY-MM-DD)`, [
      { where: 'params/date', problem: 'not a valid date' },
    ]);
  }
  const lower = u.fileName.toLowerCase();
  if (!UPLOAD_NAME.test(u.fileName) || !(lower.endsWith('.csv') || lower.endsWith('.csv.gz'))) {
    throw invalid(
      `"${u.fileName}" is not a file name for a sales file: letters, digits, . _ - ending in .csv or .csv.gz`,
      [{ where: 'querystring/name', problem: 'must end in .csv or .csv.gz, without paths' }],
    );
  }
  const max = ctx.config.maxFileBytes;
  if (u.declaredBytes !== undefined && u.declaredBytes > max) {
    throw new ShopflowError('too_large', `the file has ${u.declaredBytes} bytes; the limit is ${max}`, [
      { where: 'body', problem: `exceeds ${max} bytes` },
    ]);
  }

  const source = u.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await source.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    head.push(chunk);
    headBytes += chunk.length;
  }
  const sniffed = sniffUpload(Buffer.concat(head).subarray(0, SNIFF_BYTES), u.fileName);
  if (!sniffed.ok) throw invalid(sniffed.reason, [{ where: 'body', problem: sniffed.reason }]);

  async function* whole(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  }

  const bucket = ctx.config.buckets.sales;
  const key = salesFileKey(u.storeCode, u.businessDate, u.fileName);
  const info = await ctx.store.put(bucket, key, Readable.from(whole(), { objectMode: false }), {
    contentType: sniffed.gzip ? 'application/gzip' : 'text/csv',
    maxBytes: max,
    metadata: { 'uploaded-by': u.actor },
  });

  const { db } = ctx.database;
  const objectRef = objectRefId(bucket, key, info.versionId);
  try {
    await db
      .insertInto('ingest_files')
      .values({
        object_ref: objectRef,
        bucket,
        object_key: key,
        version_id: info.versionId,
        sequencer: info.sequencer ?? null,
        size_bytes: info.size,
        store_code: u.storeCode,
        business_date: u.businessDate,
        status: 'received',
        received_at: nowIso(),
      })
      .execute();
  } catch (e) {
    // the ingest was quicker and created the record itself: the same object, the same record
    if (!isUniqueViolation(e)) throw e;
  }
  const file = await db
    .selectFrom('ingest_files')
    .select(['id', 'status'])
    .where('object_ref', '=', objectRef)
    .executeTakeFirstOrThrow();
  return { fileId: Number(file.id), key, versionId: info.versionId, sizeBytes: info.size, status: file.status };
}
