// Stock snapshots of self-service stores, the second seed's "server writes stock data to the bucket": the store's
// stock position as CSV at `snapshots/<store>/<date>/<HHMMSS>.csv` in the reports bucket (local date and time of the
// store). The put fires ObjectCreated, which reaches the alerts function (locally through the event queue, in AWS
// through the S3 notification), and that function checks the store's products against their reorder points.
import type { AppContext } from '../context.ts';
import { CSV_CONTENT_TYPE, renderCsv } from './csv.ts';
import { reportData } from './data.ts';

export interface SnapshotResult {
  bucket: string;
  key: string;
  versionId: string;
  rows: number;
}

/** `YYYY-MM-DD` and `HHMMSS` of an instant in a time zone. */
export function localStamp(at: Date, timeZone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    time: `${get('hour')}${get('minute')}${get('second')}`,
  };
}

export function snapshotKey(storeCode: string, at: Date, timeZone: string): string {
  const { date, time } = localStamp(at, timeZone);
  return `snapshots/${storeCode}/${date}/${time}.csv`;
}

/** Writes one store's stock position as of now, named after `at` (the scheduled instant) in the store's zone. */
export async function writeStockSnapshot(
  ctx: AppContext,
  store: { code: string; timezone: string },
  at: Date,
): Promise<SnapshotResult> {
  const { date } = localStamp(at, store.timezone);
  const doc = await reportData(
    ctx.database.db,
    ctx.config,
    { kind: 'stock-position', from: date, store: store.code },
    at,
  );
  const bucket = ctx.config.buckets.reports;
  const key = snapshotKey(store.code, at, store.timezone);
  const info = await ctx.store.put(bucket, key, renderCsv(doc), {
    contentType: CSV_CONTENT_TYPE,
    metadata: { store: store.code, kind: 'stock-snapshot' },
  });
  return { bucket, key, versionId: info.versionId, rows: doc.tables[0]?.rows.length ?? 0 };
}

/** Snapshots every self-service store; one store failing does not stop the others. */
export async function snapshotSelfServiceStores(ctx: AppContext, at: Date): Promise<SnapshotResult[]> {
  const stores = await ctx.database.db
    .selectFrom('stores')
    .select(['code', 'timezone'])
    .where('kind', '=', 'selfservice')
    .orderBy('code')
    .execute();
  const done: SnapshotResult[] = [];
  const failed: string[] = [];
  for (const s of stores) {
    try {
      done.push(await writeStockSnapshot(ctx, s, at));
    } catch (e) {
      failed.push(s.code);
      ctx.log.error({ err: e, store: s.code }, 'stock snapshot failed');
    }
  }
  if (failed.length > 0) throw new Error(`stock snapshot failed for ${failed.join(', ')}`);
  return done;
}
