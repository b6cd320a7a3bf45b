// Cron jobs in a store's time zone (what EventBridge Scheduler does in AWS). Each (job, slot) is claimed by
// inserting a row into `scheduler_runs`, whose primary key lets exactly one process win: a slot runs at most once
// however many instances run and however often they restart. A run that crashes midway is not retried (its row
// stays without `finished_at`); jobs are written to be safe to run again by hand.
import { Cron } from 'croner';
import type { Database } from '../db/connect.ts';
import { isUniqueViolation } from '../db/tx.ts';
import { invalid, notFound } from '../errors.ts';
import { describeError } from './queue.ts';
import { type RuntimeLog, silentLog } from './worker.ts';

export interface JobDefinition {
  /** unique per scheduler, at most 64 characters */
  name: string;
  /** five fields (minute precision) or six (with seconds first), as croner reads them */
  cron: string;
  /** an IANA zone (`America/Sao_Paulo`) or a fixed offset (`-03:00`) */
  timezone: string;
  run: (slot: Date) => Promise<void>;
  /** on the first tick, run the most recent slot of the last 24 h if no process ran it; default true */
  catchUp?: boolean;
  /**
   * After an outage, run every slot missed since the job last ran, up to this many days back, oldest first (a
   * day's reports are still wanted days later). A job that never ran starts with its latest slot only.
   */
  catchUpDays?: number;
}

export interface SchedulerOptions {
  now?: () => Date;
  log?: RuntimeLog;
}

interface Job {
  def: JobDefinition;
  cron: Cron;
  /** slots before this instant are not run; set on the first tick */
  since: Date | undefined;
  /** the last slot this instance tried to claim */
  lastSlot: number;
  /** every missed slot since `since` is due (catchUpDays after an outage), not only the latest */
  allMissed: boolean;
  running: Promise<void> | undefined;
}

const CATCH_UP_MS = 24 * 3600 * 1000;
/** how many past slots an outage catch-up looks at, at most */
const MAX_CATCH_UP_SLOTS = 400;
// Timers wake at least this often so that a suspended machine or a clock change is noticed within a minute.
const MAX_SLEEP_MS = 60_000;
const NAME_MAX = 64;

function cronFor(def: JobDefinition): Cron {
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(def.timezone);
  try {
    if (offset) {
      const minutes = (Number(offset[2]) * 60 + Number(offset[3])) * (offset[1] === '-' ? -1 : 1);
      return new Cron(def.cron, { utcOffset: minutes, paused: true });
    }
    // croner only notices a bad zone when it computes a date; Intl names the problem up front
    new Intl.DateTimeFormat('en', { timeZone: def.timezone });
    const cron = new Cron(def.cron, { timezone: def.timezone, paused: true });
    cron.nextRun();
    return cron;
  } catch (e) {
    throw invalid(`job ${def.name}: cannot schedule "${def.cron}" in time zone "${def.timezone}"`, [
      { where: 'cron', problem: e instanceof Error ? e.message : String(e) },
    ]);
  }
}

export class Scheduler {
  private readonly database: Database;
  private readonly now: () => Date;
  private readonly log: RuntimeLog;
  private readonly jobs = new Map<string, Job>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(database: Database, opts: SchedulerOptions = {}) {
    this.database = database;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log ?? silentLog;
  }

  add(def: JobDefinition): void {
    if (def.name.length === 0 || def.name.length > NAME_MAX) {
      throw invalid(`a job name must have 1 to ${NAME_MAX} characters, got "${def.name}"`);
    }
    if (this.jobs.has(def.name)) throw invalid(`a job named ${def.name} is already scheduled`);
    this.jobs.set(def.name, {
      def,
      cron: cronFor(def),
      since: undefined,
      lastSlot: 0,
      allMissed: false,
      running: undefined,
    });
    if (this.started) this.arm();
  }

  /** The next `n` instants the job is due, from now. */
  nextRuns(name: string, n: number): Date[] {
    const job = this.jobs.get(name);
    if (!job) throw notFound(`no scheduled job is named ${name}`);
    return job.cron.nextRuns(n, this.now());
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.fire();
  }

  /** Stops the timer and waits for running jobs. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.jobs.values()].map((j) => j.running));
  }

  /** Claims and runs every job whose most recent slot is due and unclaimed; resolves when those runs end. */
  async tick(): Promise<void> {
    await Promise.allSettled(this.claimDue());
  }

  private fire(): void {
    this.claimDue();
    this.arm();
  }

  private arm(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    const now = this.now();
    let wait = MAX_SLEEP_MS;
    for (const job of this.jobs.values()) {
      const next = job.cron.nextRun(now);
      if (next) wait = Math.min(wait, next.getTime() - now.getTime());
    }
    this.timer = setTimeout(() => this.fire(), Math.max(10, wait));
    this.timer.unref?.();
  }

  private claimDue(): Promise<void>[] {
    const now = this.now();
    const runs: Promise<void>[] = [];
    for (const job of this.jobs.values()) {
      // one run of a job at a time here; the next tick looks again once it ends
      if (job.running) continue;
      const p = this.runDue(job, now).finally(() => {
        job.running = undefined;
      });
      job.running = p;
      runs.push(p);
    }
    return runs;
  }

  /** The job's due slots, claimed and run one after the other: the latest only, or every missed one. */
  private async runDue(job: Job, now: Date): Promise<void> {
    const days = job.def.catchUpDays;
    if (!job.since) {
      const last = days ? await this.lastClaimed(job.def.name) : undefined;
      job.since = last
        ? new Date(Math.max(now.getTime() - days! * 86_400_000, last.getTime() + 1))
        : new Date(now.getTime() - (job.def.catchUp === false ? 0 : CATCH_UP_MS));
      job.allMissed = last !== undefined;
    }
    // previousRuns excludes its reference instant; a slot that is due exactly now counts
    const recent = job.cron.previousRuns(job.allMissed ? MAX_CATCH_UP_SLOTS : 1, new Date(now.getTime() + 1));
    const due = recent
      .filter((slot) => slot.getTime() >= job.since!.getTime() && slot.getTime() > job.lastSlot)
      .sort((a, b) => a.getTime() - b.getTime());
    for (const slot of job.allMissed ? due : due.slice(-1)) {
      job.lastSlot = slot.getTime();
      await this.claimAndRun(job, slot);
    }
  }

  private async lastClaimed(name: string): Promise<Date | undefined> {
    const r = await this.database.db
      .selectFrom('scheduler_runs')
      .select((eb) => eb.fn.max('slot').as('slot'))
      .where('job', '=', name)
      .executeTakeFirst();
    return r?.slot ? new Date(r.slot) : undefined;
  }

  private async claimAndRun(job: Job, slot: Date): Promise<void> {
    const { db } = this.database;
    const name = job.def.name;
    const slotIso = slot.toISOString();
    try {
      await db
        .insertInto('scheduler_runs')
        .values({ job: name, slot: slotIso, started_at: this.now().toISOString(), finished_at: null, error: null })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) return;
      // not claimed: forget the attempt so that the next tick tries the slot again
      job.lastSlot = 0;
      this.log.error({ err: e, job: name, slot: slotIso }, 'could not claim a scheduled run');
      return;
    }
    this.log.info({ job: name, slot: slotIso }, 'scheduled job started');
    let error: string | null = null;
    try {
      await job.def.run(slot);
    } catch (e) {
      error = describeError(e);
      this.log.error({ err: e, job: name, slot: slotIso }, 'scheduled job failed');
    }
    try {
      await db
        .updateTable('scheduler_runs')
        .set({ finished_at: this.now().toISOString(), error })
        .where('job', '=', name)
        .where('slot', '=', slotIso)
        .execute();
    } catch (e) {
      this.log.error({ err: e, job: name, slot: slotIso }, 'could not record the end of a scheduled run');
    }
    if (error === null) this.log.info({ job: name, slot: slotIso }, 'scheduled job finished');
  }
}
