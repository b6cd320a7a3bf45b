// Runs the handlers of queued events, as Lambda runs a function for each asynchronous invocation: a bounded number
// at once, each attempt under a lease that a heartbeat keeps alive, failures retried by the queue, and the caller
// told once when an event is given up on.
import { type ErrorKind, isShopflowError } from '../errors.ts';
import { defaultOwner, type EventQueue, type EventRow, type LeaseResult } from './queue.ts';

export interface HandlerMeta {
  id: number;
  /** 1 for the first delivery */
  attempt: number;
  /** aborted when the lease was lost to another worker: the result will be ignored, stop early if you can */
  signal: AbortSignal;
}

export type EventHandler = (payload: unknown, meta: HandlerMeta) => Promise<void>;

/** The subset of a pino logger the runtime writes to. */
export interface RuntimeLog {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: RuntimeLog = { info() {}, warn() {}, error() {} };

export interface WorkerOptions {
  queue: EventQueue;
  handlers: Record<string, EventHandler>;
  /** events handled at once; default 1 */
  concurrency?: number;
  /** how long to wait before looking again when nothing was available; default 1000 */
  pollMs?: number;
  /** lease length; renewed every third of it while the handler runs; default 60 */
  leaseSeconds?: number;
  owner?: string;
  /** called once when an event becomes dead (the caller raises an operations alert) */
  onDead?: (row: EventRow) => Promise<void>;
  log?: RuntimeLog;
}

export interface DrainResult {
  completed: number;
  failed: number;
  dead: number;
}

export class UnknownTopicError extends Error {
  constructor(topic: string, known: string[]) {
    super(`no handler for event topic "${topic}" (this worker handles: ${known.join(', ') || 'nothing'})`);
    this.name = 'UnknownTopicError';
  }
}

/**
 * Errors that another attempt cannot fix: bad input, or no handler for the topic. The event goes dead at once
 * instead of being retried (a poison file must not occupy a worker for every retry). A handler can mark any error
 * so by setting `permanent = true` on it.
 */
export function isPermanentError(e: unknown): boolean {
  if (e instanceof UnknownTopicError) return true;
  if ((e as { permanent?: unknown } | null)?.permanent === true) return true;
  return isShopflowError(e) && PERMANENT_KINDS.has(e.kind);
}

const PERMANENT_KINDS = new Set<ErrorKind>(['invalid_input', 'unprocessable', 'too_large']);

type Outcome = 'completed' | 'failed' | 'dead' | 'lost';

export class Worker {
  readonly owner: string;
  private readonly queue: EventQueue;
  private readonly handlers: Record<string, EventHandler>;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseSeconds: number;
  private readonly onDead: ((row: EventRow) => Promise<void>) | undefined;
  private readonly log: RuntimeLog;
  private readonly inflight = new Set<Promise<Outcome>>();
  private running = false;
  private draining = false;
  /** events whose handling finished (any outcome), so that drain() sees one finishing during a lease */
  private settled = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(opts: WorkerOptions) {
    this.queue = opts.queue;
    this.handlers = opts.handlers;
    this.concurrency = opts.concurrency ?? 1;
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseSeconds = opts.leaseSeconds ?? 60;
    this.owner = opts.owner ?? defaultOwner();
    this.onDead = opts.onDead;
    this.log = opts.log ?? silentLog;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${opts.concurrency}`);
    }
    if (!(this.leaseSeconds > 0)) throw new RangeError(`leaseSeconds must be positive, got ${opts.leaseSeconds}`);
  }

  get busy(): number {
    return this.inflight.size;
  }

  start(): void {
    if (this.running) return;
    if (this.draining) throw new Error('the worker is draining; start it after drain() resolves');
    this.running = true;
    this.loop = this.pollLoop();
  }

  /** Stops leasing and waits for the running events to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await Promise.allSettled([...this.inflight]);
  }

  /** Handles events until none is available now (events retried later than now are left for later). */
  async drain(): Promise<DrainResult> {
    if (this.running) throw new Error('drain() is for a stopped worker; this one is running');
    if (this.draining) throw new Error('this worker is already draining');
    this.draining = true;
    const result: DrainResult = { completed: 0, failed: 0, dead: 0 };
    const count = (o: Outcome) => {
      if (o === 'completed') result.completed++;
      else if (o === 'failed') result.failed++;
      else if (o === 'dead') {
        result.failed++;
        result.dead++;
      }
    };
    try {
      for (;;) {
        // An event that fails while the lease below is being taken is due again at a time later than the lease's
        // "now": it is missed, and if it was the last one running drain would stop with it still pending.
        const settledBefore = this.settled;
        const got = await this.leaseAndRun(count);
        if (got > 0 && this.inflight.size < this.concurrency) continue;
        if (this.inflight.size === 0) {
          if (got === 0 && this.settled === settledBefore) return result;
          continue;
        }
        await Promise.race(this.inflight);
      }
    } finally {
      await Promise.allSettled([...this.inflight]);
      this.draining = false;
    }
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      let got = 0;
      try {
        got = await this.leaseAndRun();
      } catch (e) {
        this.log.error({ err: e, owner: this.owner }, 'leasing events failed; retrying after the poll interval');
      }
      if (!this.running) break;
      const full = this.inflight.size >= this.concurrency;
      // a full batch suggests more is waiting: look again as soon as a slot frees, not after a whole poll interval
      if (got > 0 && !full) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollMs);
        const slots = full ? this.inflight : new Set<Promise<Outcome>>();
        for (const p of slots) p.then(done, done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  private async leaseAndRun(onOutcome?: (o: Outcome) => void): Promise<number> {
    const free = this.concurrency - this.inflight.size;
    if (free <= 0) return 0;
    const batch: LeaseResult = await this.queue.leaseBatch(this.owner, free, this.leaseSeconds);
    for (const row of batch.dead) {
      this.log.error({ eventId: row.id, topic: row.topic, attempts: row.attempts }, 'event is dead: lease expired');
      onOutcome?.('dead');
      await this.notifyDead(row);
    }
    for (const row of batch.leased) {
      const p = this.handle(row);
      this.inflight.add(p);
      p.then(
        (o) => {
          this.inflight.delete(p);
          this.settled++;
          onOutcome?.(o);
        },
        () => {
          this.inflight.delete(p);
          this.settled++;
        },
      );
    }
    return batch.leased.length + batch.dead.length;
  }

  private async handle(row: EventRow): Promise<Outcome> {
    const lost = new AbortController();
    const heartbeat = setInterval(
      () => {
        this.queue.extendLease(row.id, this.owner, this.leaseSeconds).then(
          (held) => {
            if (!held && !lost.signal.aborted) {
              this.log.warn({ eventId: row.id, owner: this.owner }, 'lost the lease of a running event');
              lost.abort(new Error(`the lease of event ${row.id} was lost`));
            }
          },
          (e) => this.log.warn({ err: e, eventId: row.id }, 'could not renew an event lease; will retry'),
        );
      },
      Math.max(50, (this.leaseSeconds * 1000) / 3),
    );
    let error: unknown;
    let ok = false;
    try {
      const handler = Object.hasOwn(this.handlers, row.topic) ? this.handlers[row.topic] : undefined;
      if (!handler) throw new UnknownTopicError(row.topic, Object.keys(this.handlers));
      let payload: unknown;
      try {
        payload = JSON.parse(row.payload);
      } catch (e) {
        throw Object.assign(new Error(`the payload of event ${row.id} is not valid JSON`, { cause: e }), {
          permanent: true,
        });
      }
      await handler(payload, { id: row.id, attempt: row.attempts, signal: lost.signal });
      ok = true;
    } catch (e) {
      error = e;
    } finally {
      clearInterval(heartbeat);
    }
    try {
      if (ok) {
        if (await this.queue.complete(row.id, this.owner)) return 'completed';
        this.log.warn({ eventId: row.id, owner: this.owner }, 'handled an event whose lease was lost; ignored');
        return 'lost';
      }
      const after = await this.queue.fail(row.id, this.owner, error, { permanent: isPermanentError(error) });
      if (after === false) {
        this.log.warn({ eventId: row.id, err: error }, 'an event failed after its lease was lost; ignored');
        return 'lost';
      }
      const ctx = { eventId: row.id, topic: row.topic, attempt: row.attempts, maxAttempts: row.max_attempts };
      if (after.status === 'dead') {
        this.log.error({ ...ctx, err: error }, 'event is dead: no attempts left or a permanent error');
        await this.notifyDead(after);
        return 'dead';
      }
      this.log.warn({ ...ctx, err: error, retryAt: after.available_at }, 'event failed; will retry');
      return 'failed';
    } catch (e) {
      // the database is unreachable: the lease will expire and another attempt will be made
      this.log.error({ err: e, eventId: row.id }, 'could not record the result of an event');
      return 'lost';
    }
  }

  private async notifyDead(row: EventRow): Promise<void> {
    if (!this.onDead) return;
    try {
      await this.onDead(row);
    } catch (e) {
      this.log.error({ err: e, eventId: row.id }, 'the dead-event callback failed');
    }
  }
}
