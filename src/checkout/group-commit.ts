// Group commit: checkouts that arrive while another one is being written share its transaction, each in its own
// savepoint, and are answered together once the COMMIT is durable. A checkout writes some thirty B-tree pages
// (sales lines, ledger, roll-ups, audit, idempotency key) and, with synchronous=FULL, waits for an fsync; most of
// those pages are the same for every checkout of a store (its roll-up rows), so one commit for a few dozen
// checkouts costs about what one commit for one did. Under light load a batch holds a single checkout and nothing
// waits longer than before.
//
// Each job is isolated by its savepoint: a job that fails (a 409, a bad line) is rolled back to its savepoint and
// answered with its error while the others commit. An error that dooms the whole transaction (a MySQL deadlock or
// lock timeout, SQLITE_BUSY) aborts the batch, and inTransaction runs every job of it again from the start, so a
// job's work must be safe to run twice (a checkout reads its stock, and makes its ids and times, inside it).
// No job is answered before the COMMIT returns, so an acknowledged checkout is a committed one.
//
// A job may also hand the batch a contribution (`job.contribute`) for rows every job of the batch would otherwise
// write in turn: a checkout's share of its store-day's roll-ups. The contributions of the jobs that succeeded are
// written once, by `finishBatch`, just before the COMMIT: a dozen roll-up upserts per batch instead of per job,
// and the shared rows stay locked only for the end of the batch.
import { sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import { inTransaction, type Tx } from '../db/tx.ts';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface JobContext<C> {
  contribute(c: C): void;
}

interface Job<C> {
  work: (trx: Tx, job: JobContext<C>) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const DOOMED_MYSQL = new Set([1213, 1205]);

function dooms(e: unknown): boolean {
  const err = e as { errno?: number; code?: string };
  return (err.errno !== undefined && DOOMED_MYSQL.has(err.errno)) || err.code === 'SQLITE_BUSY';
}

export class GroupCommitter<C = never> {
  readonly #database: Database;
  readonly #maxBatch: number;
  readonly #finishBatch: ((trx: Tx, contributions: C[]) => Promise<void>) | undefined;
  readonly #queue: Job<C>[] = [];
  #running = false;
  /** sizes of the batches committed so far (for tests and the benchmark) */
  readonly stats = { batches: 0, jobs: 0, largest: 0 };

  constructor(
    database: Database,
    opts: { maxBatch?: number; finishBatch?: (trx: Tx, contributions: C[]) => Promise<void> } = {},
  ) {
    this.#database = database;
    this.#maxBatch = opts.maxBatch ?? 64;
    this.#finishBatch = opts.finishBatch;
  }

  run<T>(work: (trx: Tx, job: JobContext<C>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        // better-sqlite3 runs a batch, its COMMIT and fsync included, without giving the event loop a turn, so the
        // requests that arrived meanwhile are still unread sockets: one turn lets them reach the queue and join
        await new Promise((resolve) => setImmediate(resolve));
        await this.#batch();
      }
    } finally {
      this.#running = false;
    }
  }

  async #batch(): Promise<void> {
    const taken: Job<C>[] = [];
    let outcomes: Outcome[] = [];
    try {
      await inTransaction(this.#database, async (trx) => {
        outcomes = [];
        const contributions: C[] = [];
        // jobs that arrive while the batch runs join it, up to the cap
        for (let i = 0; ; i++) {
          if (i === taken.length) {
            if (taken.length >= this.#maxBatch || this.#queue.length === 0) break;
            taken.push(this.#queue.shift()!);
          }
          const job = taken[i]!;
          await sql`savepoint checkout_job`.execute(trx);
          const mine: C[] = [];
          try {
            const value = await job.work(trx, { contribute: (c) => mine.push(c) });
            await sql`release savepoint checkout_job`.execute(trx);
            contributions.push(...mine);
            outcomes.push({ ok: true, value });
          } catch (error) {
            if (dooms(error)) throw error;
            await sql`rollback to savepoint checkout_job`.execute(trx);
            await sql`release savepoint checkout_job`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
        if (this.#finishBatch && contributions.length > 0) await this.#finishBatch(trx, contributions);
      });
    } catch (error) {
      // the COMMIT failed or the retries ran out: nothing of the batch was recorded
      for (const j of taken) j.reject(error);
      return;
    }
    this.stats.batches++;
    this.stats.jobs += taken.length;
    this.stats.largest = Math.max(this.stats.largest, taken.length);
    taken.forEach((j, i) => {
      const o = outcomes[i]!;
      if (o.ok) j.resolve(o.value);
      else j.reject(o.error);
    });
  }
}
