// The checkout batches of a SQLite database written from a worker thread (src/checkout/batch-worker.ts), by a
// connection of its own. better-sqlite3 runs a statement on the thread that calls it, so a batch written here keeps
// the server's one thread busy for its whole transaction, COMMIT and fsync included (two thirds of that thread's
// time under a busy kiosk store), and no request is read meanwhile. Written by the worker, the batch takes the
// other core while this thread reads, validates and answers the next requests, which queue for the next batch.
// SQLite still has one writer: the worker's transactions and this thread's take the same lock, as two processes'
// would. MySQL needs none of this: its driver waits on the network, not on the thread.
import { Worker } from 'node:worker_threads';
import type { Database } from '../db/connect.ts';
import { type FieldProblem, ShopflowError } from '../errors.ts';
import type { BatchResult, Outcome } from './group-commit.ts';

/** An error as it crosses between threads (a structured clone keeps an Error's message but not its fields). */
export type WireError =
  | {
      shopflow: true;
      kind: ShopflowError['kind'];
      message: string;
      details: FieldProblem[];
      reason?: ShopflowError['reason'];
    }
  | { shopflow: false; name: string; message: string; code?: string; errno?: number };

export type WireOutcome<R> = { ok: true; value: R } | { ok: false; error: WireError };

export type BatchReply<R> =
  | { id: number; result: { outcomes: WireOutcome<R>[]; split: boolean } }
  | { id: number; error: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof ShopflowError) {
    return { shopflow: true, kind: e.kind, message: e.message, details: e.details, reason: e.reason };
  }
  const err: Error & { code?: unknown; errno?: unknown } = e instanceof Error ? e : new Error(String(e));
  return {
    shopflow: false,
    name: err.name,
    message: err.message,
    // the fields isUniqueViolation and isRetryable read
    ...(typeof err.code === 'string' ? { code: err.code } : {}),
    ...(typeof err.errno === 'number' ? { errno: err.errno } : {}),
  };
}

export function fromWire(w: WireError): Error {
  if (w.shopflow) return new ShopflowError(w.kind, w.message, w.details, w.reason ? { reason: w.reason } : undefined);
  const e = new Error(w.message) as Error & { code?: string; errno?: number };
  e.name = w.name;
  if (w.code !== undefined) e.code = w.code;
  if (w.errno !== undefined) e.errno = w.errno;
  return e;
}

export function outcomesToWire<R>(outcomes: Outcome<R>[]): WireOutcome<R>[] {
  return outcomes.map((o) => (o.ok ? o : { ok: false, error: toWire(o.error) }));
}

interface Waiting<R> {
  /** the worker the batch was sent to: only its failure fails the batch */
  worker: Worker;
  resolve: (r: BatchResult<R>) => void;
  reject: (e: unknown) => void;
}

/**
 * The worker of one database: started with the first batch, stopped when the database closes. If it dies, the
 * batches it held fail (they were not committed, or their COMMIT's answer is lost with it, as with a crash) and the
 * next batch starts another.
 */
export class BatchThread<J, R> {
  readonly #database: Database;
  #worker: Worker | undefined;
  #next = 1;
  readonly #waiting = new Map<number, Waiting<R>>();

  constructor(database: Database) {
    this.#database = database;
    database.onClose(() => this.stop());
  }

  commit(jobs: J[]): Promise<BatchResult<R>> {
    const worker = this.#worker ?? this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { worker, resolve, reject });
      worker.ref();
      worker.postMessage({ id, jobs });
    });
  }

  #start(): Worker {
    const { url, options } = this.#database;
    // the worker's modules are this module's TypeScript: it loads them through tsx, as bin/shopflow.js does
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./batch-worker.ts', import.meta.url).href)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { url, options } });
    // an idle worker does not keep the process alive; one with batches in flight does
    worker.unref();
    worker.on('message', (reply: BatchReply<R>) => {
      const w = this.#waiting.get(reply.id);
      if (!w) return;
      this.#waiting.delete(reply.id);
      if (![...this.#waiting.values()].some((x) => x.worker === worker)) worker.unref();
      if ('error' in reply) w.reject(fromWire(reply.error));
      else {
        w.resolve({
          split: reply.result.split,
          outcomes: reply.result.outcomes.map((o) => (o.ok ? o : { ok: false, error: fromWire(o.error) })),
        });
      }
    });
    const fail = (error: unknown) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, w] of this.#waiting) {
        if (w.worker !== worker) continue;
        this.#waiting.delete(id);
        w.reject(error);
      }
    };
    // a worker that cannot open its connection, or throws outside a batch: the caller may try again
    worker.on('error', (e) =>
      fail(new ShopflowError('unavailable', `the checkout writer failed (${e.message}); try again`, [], { cause: e })),
    );
    worker.on('exit', (code) =>
      fail(new ShopflowError('unavailable', `the checkout writer stopped (exit code ${code}); try again`)),
    );
    this.#worker = worker;
    return worker;
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ stop: true });
    await exited;
  }
}
