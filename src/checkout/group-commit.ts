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

/** What one batch came to: an answer per job, and whether it had to be run job by job. */
export interface BatchResult<R> {
  outcomes: Outcome<R>[];
  split: boolean;
}

/**
 * Writes `jobs` with `work` in one transaction; if the work throws, runs each job again alone, each in its own
 * savepoint of a new transaction. Throws when nothing of the batch was recorded (the COMMIT failed, the retries of a
 * doomed transaction ran out).
 */
export async function commitBatch<J, R>(database: Database, work: BatchWork<J, R>, jobs: J[]): Promise<BatchResult<R>> {
  try {
    return { outcomes: await inTransaction(database, (trx) => work(trx, jobs)), split: false };
  } catch (error) {
    // the retries of a doomed transaction ran out, or there is nothing to split
    if (isRetryable(error) || jobs.length === 1) throw error;
    return { outcomes: await inTransaction(database, (trx) => alone(trx, work, jobs)), split: true };
  }
}

type Settled<R> = { ok: true; result: BatchResult<R> } | { ok: false; error: unknown };

export class GroupCommitter<J, R> {
  readonly #commit: (jobs: J[]) => Promise<BatchResult<R>>;
  readonly #elsewhere: boolean;
  readonly #maxBatch: number;
  readonly #queue: Pending<J, R>[] = [];
  /** a batch is being written: what arrives meanwhile waits for the next */
  #busy = false;
  #scheduled = false;
  /** sizes of the batches committed so far, and how many had to be run job by job (for tests and the benchmark) */
  readonly stats = { batches: 0, jobs: 0, largest: 0, splits: 0 };

  /**
   * `opts.commit` writes a batch elsewhere (a worker thread's connection) instead of with commitBatch on this
   * thread; then the next batch is sent as soon as the last one is committed, before its jobs are answered, so that
   * the writer does not wait for this thread writing the answers.
   */
  constructor(
    database: Database,
    work: BatchWork<J, R>,
    opts: { maxBatch?: number; commit?: (jobs: J[]) => Promise<BatchResult<R>> } = {},
  ) {
    this.#commit = opts.commit ?? ((jobs) => commitBatch(database, work, jobs));
    this.#elsewhere = opts.commit !== undefined;
    this.#maxBatch = opts.maxBatch ?? 64;
  }

  run(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Starts the next batch after one turn of the event loop. better-sqlite3 runs a batch on this thread, its COMMIT
   * and fsync included, without giving the event loop a turn, so the requests that arrived meanwhile are still
   * unread sockets: the turn lets them reach the queue and join (and the same turn gathers the jobs of requests
   * that arrive together when nothing is being written).
   */
  #schedule(): void {
    if (this.#busy || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    if (this.#busy || this.#queue.length === 0) return;
    const taken = this.#queue.splice(0, this.#maxBatch);
    this.#busy = true;
    void this.#commit(taken.map((p) => p.job))
      .then(
        (result): Settled<R> => ({ ok: true, result }),
        (error: unknown): Settled<R> => ({ ok: false, error }),
      )
      .then((done) => {
        this.#busy = false;
        // a batch written elsewhere left this thread free to read the requests as they came: they are all queued
        if (this.#elsewhere) this.#dispatch();
        else this.#schedule();
        this.#answer(taken, done);
      });
  }

  #answer(taken: Pending<J, R>[], done: Settled<R>): void {
    if (!done.ok) {
      // nothing of the batch was recorded
      for (const p of taken) p.reject(done.error);
      return;
    }
    const { result } = done;
    this.stats.batches++;
    this.stats.jobs += taken.length;
    this.stats.largest = Math.max(this.stats.largest, taken.length);
    if (result.split) this.stats.splits++;
    taken.forEach((p, i) => {
      const o = result.outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}

/** Each job by itself, in its own savepoint: one that throws is rolled back and answered with its error. */
async function alone<J, R>(trx: Tx, work: BatchWork<J, R>, jobs: J[]): Promise<Outcome<R>[]> {
  const outcomes: Outcome<R>[] = [];
  for (const job of jobs) {
    await sql`savepoint group_job`.execute(trx);
    try {
      outcomes.push((await work(trx, [job]))[0]!);
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
