// Scheduled reports and snapshots, on the shared Scheduler (one run per slot across every server process):
//   - at each store's closing time, in its own time zone: its daily reports (sales, products sold, what to restock,
//     PDF and CSV) and, for a self-service store, its end-of-day stock snapshot;
//   - every Monday at 06:00 in the chain's zone: the chain's reports for the week before (Monday to Sunday);
//   - every SHOPFLOW_SNAPSHOT_MINUTES: a stock snapshot of each self-service store.
// One job per store keeps each store's slot exact (DST included) and claims one scheduler_runs row per store and
// day. Stores added or changed while the server runs are picked up by `sync()`, which a timer calls every few
// minutes; the Scheduler cannot drop a job, so a store's old job (older closing time or zone) stays registered but
// does nothing once it no longer matches the store.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { addDays } from '../domain/dates.ts';
import type { Scheduler } from '../runtime/scheduler.ts';
import type { ReportFormat, ReportKind } from './model.ts';
import { generateReports, type SavedReport } from './service.ts';
import { localStamp, type SnapshotResult, snapshotSelfServiceStores, writeStockSnapshot } from './snapshot.ts';

/** how far back a closing job catches up the days an outage made it miss */
const CATCH_UP_DAYS = 7;

export const DAILY_STORE_REPORTS: readonly ReportKind[] = ['daily-sales', 'products-sold', 'low-stock'];
export const WEEKLY_CHAIN_REPORTS: readonly ReportKind[] = ['daily-sales', 'best-sellers', 'products-sold'];
export const SCHEDULED_FORMATS: readonly ReportFormat[] = ['pdf', 'csv'];
/** a closing time before this is past midnight: its reports are for the day before */
const EARLY_CLOSING = '06:00';
const SYNC_EVERY_MS = 5 * 60_000;
const ACTOR = 'scheduler';

interface StoreRow {
  code: string;
  kind: string;
  timezone: string;
  closing_time: string;
}

export interface ReportJobsOptions {
  /** the clock stock reports are stamped with (tests share it with the Scheduler); default the system clock */
  now?: () => Date;
  /** how often new or changed stores are picked up; 0 turns the timer off (call sync() yourself) */
  syncEveryMs?: number;
}

/** The cron of a daily `HH:MM`. */
export function closingCron(closing: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(closing);
  if (!m) throw new Error(`closing time "${closing}" is not HH:MM`);
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}

/** The cron that fires every `minutes`, aligned on the hour (or on midnight for whole hours). */
export function snapshotCron(minutes: number): string {
  if (minutes < 60) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  const hours = minutes / 60;
  return hours === 24 ? '0 0 * * *' : hours === 1 ? '0 * * * *' : `0 */${hours} * * *`;
}

/** The business day a closing slot ends: the local date, or the day before for a closing after midnight. */
export function closedBusinessDate(slot: Date, timeZone: string, closing: string): string {
  const { date } = localStamp(slot, timeZone);
  return closing < EARLY_CLOSING ? addDays(date, -1) : date;
}

function closingJobName(s: StoreRow): string {
  const tag = createHash('sha256').update(`${s.closing_time}|${s.timezone}`).digest('hex').slice(0, 8);
  return `closing:${s.code}:${tag}`;
}

export interface ClosingOutcome {
  store: string;
  date: string;
  reports: SavedReport[];
  snapshot?: SnapshotResult;
}

export class ReportJobs {
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<number> | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly ctx: AppContext,
    private readonly opts: ReportJobsOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Adds the chain-wide jobs and one closing job per store. */
  async register(): Promise<void> {
    const { config } = this.ctx;
    this.scheduler.add({
      name: 'reports:weekly-chain',
      cron: '0 6 * * 1',
      timezone: config.timezone,
      // after an outage, the weeks it missed are still wanted
      catchUpDays: CATCH_UP_DAYS * 5,
      run: async (slot) => {
        await this.weeklyChain(slot);
      },
    });
    this.scheduler.add({
      name: 'snapshots:selfservice',
      cron: snapshotCron(config.snapshotMinutes),
      timezone: config.timezone,
      // a missed snapshot is stale by the next one: no catch-up
      catchUp: false,
      run: async (slot) => {
        await snapshotSelfServiceStores(this.ctx, slot);
      },
    });
    await this.sync();
    const every = this.opts.syncEveryMs ?? SYNC_EVERY_MS;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.sync().catch((e) => this.ctx.log.error({ err: e }, 'could not schedule the stores’ closing reports'));
      }, every);
      this.timer.unref?.();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Schedules the closing job of every store that has none for its current closing time and zone. */
  sync(): Promise<number> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<number> {
    const stores = await this.stores();
    const known = new Set(this.scheduler.names());
    let added = 0;
    for (const s of stores) {
      const name = closingJobName(s);
      if (known.has(name)) continue;
      let cron: string;
      try {
        cron = closingCron(s.closing_time);
      } catch (e) {
        this.ctx.log.error({ err: e, store: s.code }, 'store has no valid closing time: no daily reports');
        continue;
      }
      const expected = { closing: s.closing_time, timezone: s.timezone };
      this.scheduler.add({
        name,
        cron,
        timezone: s.timezone,
        // after an outage, the days it missed get their reports (oldest first), up to a week back
        catchUpDays: CATCH_UP_DAYS,
        run: async (slot) => {
          await this.closing(s.code, slot, expected);
        },
      });
      added++;
    }
    return added;
  }

  private async stores(code?: string): Promise<StoreRow[]> {
    let q = this.ctx.database.db.selectFrom('stores').select(['code', 'kind', 'timezone', 'closing_time']);
    if (code !== undefined) q = q.where('code', '=', code);
    return q.orderBy('code').execute();
  }

  /** A store's end of day: its daily reports and, for a self-service store, its stock snapshot. */
  async closing(
    code: string,
    slot: Date,
    expected?: { closing: string; timezone: string },
  ): Promise<ClosingOutcome | undefined> {
    const [store] = await this.stores(code);
    if (!store) return undefined;
    if (expected && (store.closing_time !== expected.closing || store.timezone !== expected.timezone)) {
      return undefined; // superseded by the job of the store's new closing time or zone
    }
    const date = closedBusinessDate(slot, store.timezone, store.closing_time);
    const outcome: ClosingOutcome = { store: code, date, reports: [] };
    const failures: string[] = [];
    for (const kind of DAILY_STORE_REPORTS) {
      try {
        outcome.reports.push(
          ...(await generateReports(this.ctx, { kind, from: date, store: code }, SCHEDULED_FORMATS, {
            actor: ACTOR,
            now: this.now(),
          })),
        );
      } catch (e) {
        failures.push(kind);
        this.ctx.log.error({ err: e, store: code, kind, date }, 'scheduled report failed');
      }
    }
    if (store.kind === 'selfservice') {
      try {
        outcome.snapshot = await writeStockSnapshot(this.ctx, store, slot);
      } catch (e) {
        failures.push('snapshot');
        this.ctx.log.error({ err: e, store: code }, 'end-of-day stock snapshot failed');
      }
    }
    if (failures.length > 0) throw new Error(`closing of ${code} on ${date}: ${failures.join(', ')} failed`);
    return outcome;
  }

  /** The chain's reports for the Monday-to-Sunday week that ended before the slot. */
  async weeklyChain(slot: Date): Promise<SavedReport[]> {
    const today = localStamp(slot, this.ctx.config.timezone).date;
    const from = addDays(today, -7);
    const to = addDays(today, -1);
    const saved: SavedReport[] = [];
    const failures: string[] = [];
    for (const kind of WEEKLY_CHAIN_REPORTS) {
      try {
        saved.push(
          ...(await generateReports(this.ctx, { kind, from, to }, SCHEDULED_FORMATS, {
            actor: ACTOR,
            now: this.now(),
          })),
        );
      } catch (e) {
        failures.push(kind);
        this.ctx.log.error({ err: e, kind, from, to }, 'scheduled chain report failed');
      }
    }
    if (failures.length > 0) throw new Error(`weekly chain reports ${from}..${to}: ${failures.join(', ')} failed`);
    return saved;
  }
}

/** Registers the report and snapshot jobs on a scheduler; stop() the result on shutdown. */
export async function registerReportJobs(
  scheduler: Scheduler,
  ctx: AppContext,
  opts: ReportJobsOptions = {},
): Promise<ReportJobs> {
  const jobs = new ReportJobs(scheduler, ctx, opts);
  await jobs.register();
  return jobs;
}
