// Group commit: jobs that arrive while another batch is being written are written together, by one call of the
// batch's work over all of them, in one transaction, and answered once the COMMIT is durable. A checkout writes
// some thirty B-tree pages (sales lines, ledger, roll-ups, audit, idempotency key) and, with synchronous=FULL, waits
// for an fsync; on MySQL each statement is a network round trip. Written one by one, a few dozen checkouts cost a
// few dozen times the statements; written together, each table takes one multi-row statement for the batch, and
// most of the pages (the store's roll-up rows) are the same for every checkout. Under light load a batch holds one
// job and nothing waits longer than before.
//
// The batch's work answers each job (`Outcome`): a job it refuses (a 409, a bad line) is answered with its error
// and must have written nothing. If the work throws instead, its transaction is rolled back and every job of the
// batch is run again alone, each in its own savepoint of a new transaction, so one job's unforeseen failure (a
// twin's Idempotency-Key committed by another process meanwhile) costs the others nothing but time. An error that dooms
// the whole transaction (a MySQL deadlock or lock timeout, SQLITE_BUSY) aborts the batch, and inTransaction runs it
// again from the start, so the work must be safe to run twice (a checkout reads its stock, and makes its ids and
// times, inside it). No job is answered before the COMMIT returns, so an acknowledged checkout is a committed one.
import { sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import { inTransaction, isRetryable, type Tx } from '../db/tx.ts';

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Writes a batch of jobs; `outcomes[i]` answers `jobs[i]`. */
export type BatchWork<J, R> = (trx: Tx, jobs: J[]) => Promise<Outcome<R>[]>;

interface Pending<J, R> {
  job: J;
  resolve: (v: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter<J, R> {
  readonly #database: Database;
  readonly #work: BatchWork<J, R>;
  readonly #maxBatch: number;
  readonly #queue: Pending<J, R>[] = [];
  #running = false;
  /** sizes of the batches committed so far, and how many had to be run job by job (for tests and the benchmark) */
  readonly stats = { batches: 0, jobs: 0, largest: 0, splits: 0 };

  constructor(database: Database, work: BatchWork<J, R>, opts: { maxBatch?: number } = {}) {
    this.#database = database;
    this.#work = work;
    this.#maxBatch = opts.maxBatch ?? 64;
  }

  run(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
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
        await this.#batch(this.#queue.splice(0, this.#maxBatch));
      }
    } finally {
      this.#running = false;
    }
  }

  async #batch(taken: Pending<J, R>[]): Promise<void> {
    const jobs = taken.map((p) => p.job);
    let outcomes: Outcome<R>[];
    try {
      try {
        outcomes = await inTransaction(this.#database, (trx) => this.#work(trx, jobs));
      } catch (error) {
        // the retries of a doomed transaction ran out, or there is nothing to split
        if (isRetryable(error) || jobs.length === 1) throw error;
        this.stats.splits++;
        outcomes = await inTransaction(this.#database, (trx) => this.#alone(trx, jobs));
      }
    } catch (error) {
      // the COMMIT failed or the retries ran out: nothing of the batch was recorded
      for (const p of taken) p.reject(error);
      return;
    }
    this.stats.batches++;
    this.stats.jobs += taken.length;
    this.stats.largest = Math.max(this.stats.largest, taken.length);
    taken.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  /** Each job by itself, in its own savepoint: one that throws is rolled back and answered with its error. */
  async #alone(trx: Tx, jobs: J[]): Promise<Outcome<R>[]> {
    const outcomes: Outcome<R>[] = [];
    for (const job of jobs) {
      await sql`savepoint group_job`.execute(trx);
      try {
        outcomes.push((await this.#work(trx, [job]))[0]!);
        await sql`release savepoint group_job`.execute(trx);
      } catch (error) {
        if (isRetryable(error)) throw error;
        await sql`rollback to savepoint group_job`.execute(trx);
        await sql`release savepoint group_job`.execute(trx);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}
