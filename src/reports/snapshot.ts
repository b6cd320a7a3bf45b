// Stock snapshots of self-service stores, the second seed's "server writes stock data to the bucket": the store's
// stock position as CSV at `snapshots/<store>/<date>/<HHMMSS>.csv` in the reports bucket (local date and time of the
// store). The put fires ObjectCreated, which reaches the alerts function (locally through the event queue, in AWS
// through the S3 notification), and that function checks the store's products against their reorder points.
import type { AppContext } from '../context.ts';
import { wallClockIn } from '../domain/dates.ts';
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
  const w = wallClockIn(timeZone, at);
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${w.year}-${two(w.month)}-${two(w.day)}`,
    time: `${two(w.hour)}${two(w.minute)}${two(w.second)}`,
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
