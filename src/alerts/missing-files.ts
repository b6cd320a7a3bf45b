// A file store's daily sales file is due by its closing time plus a grace period (SHOPFLOW_MISSING_FILE_GRACE_MINUTES),
// in the store's own time zone. A scheduled check looks at yesterday and today for every file store and raises one
// `missing_file` alert per store and day without a loaded file; the alert resolves once a file for that day is loaded
// (`store_days` has it). Days before the store existed are never due.
import type { Database } from '../db/connect.ts';
import { inTransaction, nowIso } from '../db/tx.ts';
import { addDays, todayIn } from '../domain/dates.ts';
import { describe } from '../domain/reasons.ts';
import { raiseAlert } from './raise.ts';

export interface MissingFileResult {
  raised: number[];
  resolved: number;
}

/** Minutes since local midnight in a time zone (wall clock, so a DST day is still 00:00–23:59). */
export function localMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

function parseClosing(hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
  if (!m) return 22 * 60;
  return Math.min(23, Number(m[1])) * 60 + Math.min(59, Number(m[2]));
}

const hhmm = (minutes: number) =>
  `${String(Math.floor((minutes % 1440) / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The business days of a store whose file is due at `now`: yesterday, and today once its cut-off has passed. */
export function dueDays(
  store: { timezone: string; closing_time: string; created_at: string },
  now: Date,
  graceMinutes: number,
): Array<{ date: string; dueBy: string }> {
  const today = todayIn(store.timezone, now);
  const created = todayIn(store.timezone, new Date(store.created_at));
  const minutes = localMinutes(store.timezone, now);
  const cutoff = parseClosing(store.closing_time) + graceMinutes;
  const out: Array<{ date: string; dueBy: string }> = [];
  for (const back of [1, 0]) {
    const date = addDays(today, -back);
    if (date < created) continue;
    if (back * 1440 + minutes < cutoff) continue;
    out.push({ date, dueBy: `${hhmm(cutoff)}${cutoff >= 1440 ? ' the next day' : ''}` });
  }
  return out;
}

export async function checkMissingFiles(
  database: Database,
  opts: { now?: Date; graceMinutes: number },
): Promise<MissingFileResult> {
  const now = opts.now ?? new Date();
  const resolved = await resolveArrivedFiles(database);
  const stores = await database.db
    .selectFrom('stores')
    .select(['id', 'code', 'name', 'timezone', 'closing_time', 'created_at'])
    .where('kind', '=', 'file')
    .execute();
  const raised: number[] = [];
  for (const s of stores) {
    const due = dueDays(s, now, opts.graceMinutes);
    if (due.length === 0) continue;
    await inTransaction(database, async (trx) => {
      const have = new Set(
        (
          await trx
            .selectFrom('store_days')
            .select('business_date')
            .where('store_id', '=', s.id)
            .where(
              'business_date',
              'in',
              due.map((d) => d.date),
            )
            .execute()
        ).map((r) => r.business_date),
      );
      for (const d of due) {
        if (have.has(d.date)) continue;
        const id = await raiseAlert(trx, {
          kind: 'missing_file',
          storeId: s.id,
          severity: 'warning',
          message: describe(
            'file_missing',
            { store: s.code, storeName: s.name, date: d.date, dueBy: d.dueBy, timezone: s.timezone },
            'en',
          ),
          details: { store: s.code, businessDate: d.date, dueBy: d.dueBy, timezone: s.timezone },
          openKey: `missing_file:${s.id}:${d.date}`,
        });
        if (id) raised.push(id);
      }
    });
  }
  return { raised, resolved };
}

/** Resolves the missing-file alerts whose day now has a loaded file. */
export async function resolveArrivedFiles(database: Database): Promise<number> {
  const open = await database.db
    .selectFrom('alerts')
    .select(['id', 'store_id', 'open_key'])
    .where('kind', '=', 'missing_file')
    .where('status', '=', 'open')
    .execute();
  let resolved = 0;
  for (const a of open) {
    const date = /:(\d{4}-\d{2}-\d{2})$/.exec(a.open_key ?? '')?.[1];
    if (!date || a.store_id === null) continue;
    const day = await database.db
      .selectFrom('store_days')
      .select('file_id')
      .where('store_id', '=', a.store_id)
      .where('business_date', '=', date)
      .executeTakeFirst();
    if (!day) continue;
    const r = await database.db
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: nowIso(), open_key: null })
      .where('id', '=', a.id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    resolved += Number(r.numUpdatedRows);
  }
  return resolved;
}
