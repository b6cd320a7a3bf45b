// Idempotency-Key handling for state-changing kiosk requests. The key's row is written in the same transaction as
// the purchase, with the exact response bytes, so "recorded" and "remembered" cannot disagree after a crash: either
// both exist or neither does. A retry with the same key and the same body gets those bytes back; the same key with a
// different body is refused (422), because answering it with the first purchase would hide a kiosk bug.
// Refused purchases (409) are not remembered: the transaction that would store them rolls back, so a retry is
// judged again against the stock of that moment.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { chunks } from '../db/chunks.ts';
import type { Dialect } from '../db/connect.ts';
import { insertRows } from '../db/insert.ts';
import { nowIso, type Tx } from '../db/tx.ts';
import { invalid, ShopflowError } from '../errors.ts';

export interface StoredResponse {
  requestHash: string;
  statusCode: number;
  body: string;
}

export interface IdempotentResponse {
  statusCode: number;
  /** the JSON text sent, byte for byte the same on every replay */
  body: string;
  replayed: boolean;
}

const KEY = /^[\x21-\x7e]{1,128}$/;

export function checkKey(key: string | undefined): string {
  if (key === undefined || key === '') {
    throw invalid('the Idempotency-Key header is required: send a new unique value (e.g. a UUID) for every purchase', [
      { where: 'headers/idempotency-key', problem: 'is required' },
    ]);
  }
  if (!KEY.test(key)) {
    throw invalid('the Idempotency-Key header must be 1–128 visible ASCII characters', [
      { where: 'headers/idempotency-key', problem: 'must be 1–128 visible ASCII characters' },
    ]);
  }
  return key;
}

/** JSON with object keys sorted at every level: the same request always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export const requestHash = (request: unknown) => createHash('sha256').update(canonicalJson(request)).digest('hex');

/**
 * The stored response for a key, if any. `locking` (MySQL) reads the latest committed row instead of the
 * transaction's snapshot: a purchase that waited on a stock lock held by its own earlier twin sees the twin's row.
 */
export async function readKey(
  db: Tx,
  scope: string,
  key: string,
  opts: { locking?: Dialect } = {},
): Promise<StoredResponse | undefined> {
  const r = await sql<{ request_hash: string; status_code: number | null; response: string | null }>`
    select request_hash, status_code, response from idempotency_keys where scope = ${scope} and idem_key = ${key}
    ${opts.locking === 'mysql' ? sql`lock in share mode` : sql``}`.execute(db);
  const row = r.rows[0];
  if (!row || row.status_code === null || row.response === null) return undefined;
  return { requestHash: row.request_hash, statusCode: Number(row.status_code), body: row.response };
}

/** Where `readKeys` files a key's answer. */
export const keyId = (scope: string, key: string) => `${scope}\n${key}`;

/** The stored responses of several keys (one query per 500), by `keyId`. */
export async function readKeys(
  db: Tx,
  wanted: Array<{ scope: string; key: string }>,
): Promise<Map<string, StoredResponse>> {
  const out = new Map<string, StoredResponse>();
  const scopes = [...new Set(wanted.map((w) => w.scope))];
  for (const part of chunks([...new Set(wanted.map((w) => w.key))])) {
    const rows = await db
      .selectFrom('idempotency_keys')
      .select(['scope', 'idem_key', 'request_hash', 'status_code', 'response'])
      .where('scope', 'in', scopes)
      .where('idem_key', 'in', part)
      .execute();
    for (const r of rows) {
      if (r.status_code === null || r.response === null) continue;
      out.set(keyId(r.scope, r.idem_key), {
        requestHash: r.request_hash,
        statusCode: Number(r.status_code),
        body: r.response,
      });
    }
  }
  return out;
}

/** Answers a repeated key: the first response when the request is the same, 422 when it is not. */
export function replay(stored: StoredResponse, hash: string): IdempotentResponse {
  if (stored.requestHash !== hash) {
    throw new ShopflowError(
      'unprocessable',
      'this Idempotency-Key was already used for a different request: use a new key for a new purchase',
      [{ where: 'headers/idempotency-key', problem: 'was used with a different body' }],
    );
  }
  return { statusCode: stored.statusCode, body: stored.body, replayed: true };
}

/** Remembers the answers to several keys, one statement per 500. */
export async function storeKeys(
  trx: Tx,
  entries: Array<{ scope: string; key: string; hash: string; response: { statusCode: number; body: string } }>,
): Promise<void> {
  const at = nowIso();
  await insertRows(
    trx,
    'idempotency_keys',
    entries.map((e) => ({
      scope: e.scope,
      idem_key: e.key,
      request_hash: e.hash,
      status_code: e.response.statusCode,
      response: e.response.body,
      created_at: at,
    })),
  );
}

/**
 * Forgets the keys older than `days`: a kiosk retries within seconds or minutes, so a month is far beyond any
 * retry, and the table would otherwise keep every purchase's response for ever. Returns how many were removed.
 */
export async function expireKeys(db: Tx, days: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - days * 86_400_000).toISOString();
  const r = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
