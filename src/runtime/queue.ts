// The durable event queue: what S3 notifications plus Lambda's asynchronous invocation give us in AWS (at-least-once
// delivery, retries with backoff, a dead-letter state), kept in the `events` table so that it survives restarts and
// works across processes. Delivery is at least once on purpose: handlers must be idempotent.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/connect.ts';
import type { EventRow, EventStatus } from '../db/schema.ts';
import { inTransaction, isUniqueViolation, type Tx } from '../db/tx.ts';
import { conflict, invalid, notFound } from '../errors.ts';

export type { EventRow, EventStatus } from '../db/schema.ts';

export interface EventQueueOptions {
  /** attempts before an event is dead; 3 like Lambda's asynchronous invocation (1 try + 2 retries) */
  maxAttempts?: number;
  /** delay before attempt `attempt + 1` after attempt `attempt` failed; used as is (add your own jitter) */
  backoffMs?: (attempt: number) => number;
  now?: () => Date;
}

export interface EnqueueOptions {
  maxAttempts?: number;
  /** first delivery not before this instant */
  availableAt?: Date;
  /** enqueue inside the caller's transaction, so the event exists if and only if the caller's write commits */
  trx?: Tx;
}

export interface LeaseResult {
  leased: EventRow[];
  /** events whose previous lease expired on their last attempt (the worker crashed or hung): now dead */
  dead: EventRow[];
}

export const EVENT_STATUSES: readonly EventStatus[] = ['pending', 'leased', 'done', 'dead'];

const DEDUPE_MAX = 191; // the column's length: utf8mb4 keys of 191 characters fit MySQL's index limit
const TOPIC_MAX = 32;
const OWNER_MAX = 64;
// TEXT on MySQL holds 65,535 bytes; refusing a larger payload here beats a truncation or a driver error later.
const PAYLOAD_MAX_BYTES = 65_535;
const ERROR_MAX_CHARS = 8_000;
const RETRYABLE_MYSQL = new Set([1213, 1205]);

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 5 min, each scaled by a random 50–100 %. */
export function defaultBackoffMs(attempt: number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

/** The stored form of a dedupe key: as given when it fits the column, else a hash of it. */
export function storedDedupeKey(key: string): string {
  if (key.length === 0) throw invalid('an event dedupe key must not be empty');
  return key.length <= DEDUPE_MAX ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A lease owner id unique to this process and instance, short enough for the `lease_owner` column. */
export function defaultOwner(prefix = 'worker'): string {
  return `${prefix}:${hostname().slice(0, 24)}:${process.pid}:${randomBytes(4).toString('hex')}`.slice(0, OWNER_MAX);
}

export function describeError(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.stack ?? `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.length > ERROR_MAX_CHARS ? `${text.slice(0, ERROR_MAX_CHARS)}…` : text;
}

function checkOwner(owner: string): void {
  if (owner.length === 0 || owner.length > OWNER_MAX) {
    throw invalid(`a lease owner must have 1 to ${OWNER_MAX} characters, got ${owner.length}`);
  }
}

function plusMs(d: Date, ms: number): string {
  return new Date(d.getTime() + ms).toISOString();
}

export class EventQueue {
  readonly database: Database;
  readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly now: () => Date;

  constructor(database: Database, opts: EventQueueOptions = {}) {
    this.database = database;
    this.maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw invalid(`maxAttempts must be a positive integer, got ${opts.maxAttempts}`);
    }
    this.backoffMs = opts.backoffMs ?? defaultBackoffMs;
    this.now = opts.now ?? (() => new Date());
  }

  /** Queues an event once per dedupe key; a second call with the same key returns the first event's id. */
  async enqueue(
    topic: string,
    dedupeKey: string,
    payload: unknown,
    opts: EnqueueOptions = {},
  ): Promise<{ id: number; created: boolean }> {
    if (topic.length === 0 || topic.length > TOPIC_MAX) {
      throw invalid(`an event topic must have 1 to ${TOPIC_MAX} characters, got "${topic}"`);
    }
    const json = JSON.stringify(payload);
    if (json === undefined) throw invalid(`the payload of a ${topic} event must be JSON-serialisable`);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > PAYLOAD_MAX_BYTES) {
      throw invalid(`the payload of a ${topic} event has ${bytes} bytes; the limit is ${PAYLOAD_MAX_BYTES}`);
    }
    const maxAttempts = opts.maxAttempts ?? this.maxAttempts;
    const key = storedDedupeKey(dedupeKey);
    const db = opts.trx ?? this.database.db;
    const now = this.now().toISOString();
    try {
      const r = await db
        .insertInto('events')
        .values({
          topic,
          dedupe_key: key,
          payload: json,
          status: 'pending',
          attempts: 0,
          max_attempts: maxAttempts,
          available_at: (opts.availableAt ?? this.now()).toISOString(),
          leased_until: null,
          lease_owner: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        })
        .executeTakeFirstOrThrow();
      return { id: Number(r.insertId), created: true };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const row = await db.selectFrom('events').select('id').where('dedupe_key', '=', key).executeTakeFirst();
      // the unique key only fires for an existing row; its absence means the other insert rolled back meanwhile
      if (!row) throw e;
      return { id: Number(row.id), created: false };
    }
  }

  /** Claims up to `limit` available events for `owner`. */
  async lease(owner: string, limit: number, leaseSeconds: number): Promise<EventRow[]> {
    return (await this.leaseBatch(owner, limit, leaseSeconds)).leased;
  }

  /**
   * Claims up to `limit` events: pending ones that are due, and leased ones whose lease expired (their worker died).
   * The attempt is counted here, not when the handler fails, so that an event that kills its worker every time
   * still reaches `dead` instead of looping forever.
   */
  async leaseBatch(owner: string, limit: number, leaseSeconds: number): Promise<LeaseResult> {
    checkOwner(owner);
    if (!Number.isInteger(limit) || limit < 1) return { leased: [], dead: [] };
    if (!(leaseSeconds > 0)) throw invalid(`leaseSeconds must be positive, got ${leaseSeconds}`);
    const work = async (trx: Tx): Promise<LeaseResult> => {
      const now = this.now();
      const nowIso = now.toISOString();
      const forUpdate = this.database.dialect === 'mysql';
      const due = await trx
        .selectFrom('events')
        .select(['id', 'attempts', 'max_attempts'])
        .where('status', '=', 'pending')
        .where('available_at', '<=', nowIso)
        .orderBy('available_at')
        .orderBy('id')
        .limit(limit)
        .$if(forUpdate, (q) => q.forUpdate().skipLocked())
        .execute();
      const expired =
        due.length < limit
          ? await trx
              .selectFrom('events')
              .select(['id', 'attempts', 'max_attempts', 'last_error'])
              .where('status', '=', 'leased')
              .where('leased_until', '<=', nowIso)
              .orderBy('leased_until')
              .orderBy('id')
              .limit(limit - due.length)
              .$if(forUpdate, (q) => q.forUpdate().skipLocked())
              .execute()
          : [];
      const exhausted = expired.filter((r) => r.attempts >= r.max_attempts);
      const take = [...due, ...expired.filter((r) => r.attempts < r.max_attempts)].map((r) => Number(r.id));
      // The updates re-check availability, so that even without the row locks above an event cannot be handed
      // to two owners: only the rows this statement changed are returned.
      const deadIds: number[] = [];
      for (const r of exhausted) {
        const last = r.last_error ? `; the previous attempt failed with: ${r.last_error}` : '';
        const u = await trx
          .updateTable('events')
          .set({
            status: 'dead',
            lease_owner: null,
            leased_until: null,
            last_error: describeError(
              `attempt ${r.attempts} of ${r.max_attempts} never finished: its lease expired (the worker crashed or hung)${last}`,
            ),
            updated_at: nowIso,
          })
          .where('id', '=', r.id)
          .where('status', '=', 'leased')
          .where('leased_until', '<=', nowIso)
          .executeTakeFirst();
        if (Number(u.numUpdatedRows) > 0) deadIds.push(Number(r.id));
      }
      const until = plusMs(now, leaseSeconds * 1000);
      if (take.length > 0) {
        await trx
          .updateTable('events')
          .set((eb) => ({
            status: 'leased',
            lease_owner: owner,
            leased_until: until,
            attempts: eb('attempts', '+', 1),
            updated_at: nowIso,
          }))
          .where('id', 'in', take)
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'pending'), eb('available_at', '<=', nowIso)]),
              eb.and([eb('status', '=', 'leased'), eb('leased_until', '<=', nowIso)]),
            ]),
          )
          .execute();
      }
      const ids = [...take, ...deadIds];
      const rows = ids.length > 0 ? await trx.selectFrom('events').selectAll().where('id', 'in', ids).execute() : [];
      const byId = new Map(rows.map((r) => [Number(r.id), normalise(r)]));
      const pick = (list: number[], mine: (r: EventRow) => boolean) =>
        list.map((id) => byId.get(id)).filter((r): r is EventRow => r !== undefined && mine(r));
      return {
        leased: pick(take, (r) => r.status === 'leased' && r.lease_owner === owner && r.leased_until === until),
        dead: pick(deadIds, (r) => r.status === 'dead'),
      };
    };
    if (this.database.dialect === 'sqlite') return inTransaction(this.database, work);
    return this.mysqlLeaseTransaction(work);
  }

  // READ COMMITTED: a locking read then takes no gap locks, so enqueues never wait behind a lease and two leasers
  // skip each other's rows instead of blocking. SKIP LOCKED needs MariaDB ≥ 10.6 or MySQL ≥ 8.0.
  private async mysqlLeaseTransaction<T>(work: (trx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.database.db.transaction().setIsolationLevel('read committed').execute(work);
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (attempt >= 5 || errno === undefined || !RETRYABLE_MYSQL.has(errno)) throw e;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  /** Marks a leased event done. False when `owner` no longer holds the lease (another worker took it over). */
  async complete(id: number, owner: string): Promise<boolean> {
    const now = this.now().toISOString();
    const r = await this.database.db
      .updateTable('events')
      .set({ status: 'done', lease_owner: null, leased_until: null, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'leased')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Records a failed attempt: back to pending after the backoff, or dead when the attempts are used up or the
   * failure is `permanent` (retrying cannot help). Returns the updated row, or false when `owner` lost the lease.
   */
  async fail(id: number, owner: string, error: unknown, opts: { permanent?: boolean } = {}): Promise<EventRow | false> {
    const row = await this.get(id);
    if (row?.status !== 'leased' || row.lease_owner !== owner) return false;
    const now = this.now();
    const dead = opts.permanent === true || row.attempts >= row.max_attempts;
    const delay = dead ? 0 : Math.max(0, this.backoffMs(row.attempts));
    const r = await this.database.db
      .updateTable('events')
      .set({
        status: dead ? 'dead' : 'pending',
        available_at: dead ? row.available_at : plusMs(now, delay),
        lease_owner: null,
        leased_until: null,
        last_error: describeError(error),
        updated_at: now.toISOString(),
      })
      .where('id', '=', id)
      .where('status', '=', 'leased')
      .where('lease_owner', '=', owner)
      // a re-lease in between counts another attempt: then this result is stale
      .where('attempts', '=', row.attempts)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    return (await this.get(id)) ?? false;
  }

  /** Pushes the lease of a running event forward. False when `owner` lost it. */
  async extendLease(id: number, owner: string, seconds: number): Promise<boolean> {
    const now = this.now();
    const r = await this.database.db
      .updateTable('events')
      .set({ leased_until: plusMs(now, seconds * 1000), updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'leased')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Newest first. */
  async list(filter: { status?: EventStatus; topic?: string; limit?: number } = {}): Promise<EventRow[]> {
    const rows = await this.database.db
      .selectFrom('events')
      .selectAll()
      .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status as EventStatus))
      .$if(filter.topic !== undefined, (q) => q.where('topic', '=', filter.topic as string))
      .orderBy('id', 'desc')
      .limit(Math.max(1, Math.min(filter.limit ?? 100, 10_000)))
      .execute();
    return rows.map(normalise);
  }

  async get(id: number): Promise<EventRow | undefined> {
    const row = await this.database.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  /** Gives a dead event a fresh set of attempts, due now. The last error stays for reference. */
  async replay(id: number): Promise<EventRow> {
    const now = this.now().toISOString();
    const r = await this.database.db
      .updateTable('events')
      .set({
        status: 'pending',
        attempts: 0,
        available_at: now,
        lease_owner: null,
        leased_until: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    const row = await this.get(id);
    if (!row) throw notFound(`event ${id} does not exist`);
    if (Number(r.numUpdatedRows) === 0)
      throw conflict(`event ${id} is ${row.status}; only a dead event can be replayed`);
    return row;
  }

  async counts(): Promise<Record<EventStatus, number>> {
    const rows = await this.database.db
      .selectFrom('events')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const out: Record<EventStatus, number> = { pending: 0, leased: 0, done: 0, dead: 0 };
    for (const r of rows) if (r.status in out) out[r.status] = Number(r.n);
    return out;
  }

  /** Dedupe keys (as given to enqueue) among `keys` that already have an event. */
  async existing(keys: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const stored = new Map(keys.map((k) => [storedDedupeKey(k), k]));
    const all = [...stored.keys()];
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500);
      const rows = await this.database.db
        .selectFrom('events')
        .select('dedupe_key')
        .where('dedupe_key', 'in', chunk)
        .execute();
      for (const r of rows) {
        const original = stored.get(r.dedupe_key);
        if (original !== undefined) found.add(original);
      }
    }
    return found;
  }
}

// MySQL returns BIGINT ids as numbers here (supportBigNumbers without bigNumberStrings) but COUNT and integer
// columns can arrive as strings on some drivers; the row is made uniform for callers and JSON.
function normalise(row: EventRow): EventRow {
  return { ...row, id: Number(row.id), attempts: Number(row.attempts), max_attempts: Number(row.max_attempts) };
}
