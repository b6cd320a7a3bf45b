// Login sessions. The id handed to the browser is 256 random bits; the database keeps only its sha256, so a copy
// of the sessions table lets nobody in. A session ends after `idleMinutes` without a request and, whatever the
// activity, `maxHours` after login; disabling the user or setting a new password ends it too.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/connect.ts';
import type { Role } from '../db/schema.ts';
import { nowIso, type Tx } from '../db/tx.ts';
import { randomSecret } from './passwords.ts';
import { userStoreIds } from './users.ts';

export interface SessionSettings {
  idleMinutes: number;
  maxHours: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { idleMinutes: 30, maxHours: 12 };

export interface NewSession {
  /** the secret for the cookie; never stored */
  id: string;
  idHash: string;
  csrfToken: string;
  expiresAt: string;
}

export interface ActiveSession {
  idHash: string;
  csrfToken: string;
  userId: number;
  username: string;
  role: Role;
  storeIds: number[] | 'all';
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// 256-bit ids in base64url are 43 characters; anything else is not ours and costs no query.
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

function expiry(createdAt: number, now: number, s: SessionSettings): string {
  return new Date(Math.min(now + s.idleMinutes * 60_000, createdAt + s.maxHours * 3_600_000)).toISOString();
}

export async function createSession(
  trx: Tx,
  userId: number,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
): Promise<NewSession> {
  const id = randomSecret(32);
  const csrfToken = randomSecret(32);
  const now = Date.now();
  const idHash = sha256(id);
  const expiresAt = expiry(now, now, settings);
  await trx
    .insertInto('sessions')
    .values({
      id_hash: idHash,
      user_id: userId,
      csrf_token: csrfToken,
      created_at: new Date(now).toISOString(),
      expires_at: expiresAt,
    })
    .execute();
  return { id, idHash, csrfToken, expiresAt };
}

/** The live session with this id, its user enabled; slides the idle expiry at most once a minute. */
export async function findSession(
  database: Database,
  id: string,
  settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
): Promise<ActiveSession | undefined> {
  if (!SESSION_ID.test(id)) return undefined;
  const idHash = sha256(id);
  const now = Date.now();
  const row = await database.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.csrf_token', 's.created_at', 's.expires_at', 'u.id', 'u.username', 'u.role', 'u.disabled'])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row || Number(row.disabled) !== 0 || row.expires_at <= new Date(now).toISOString()) return undefined;
  const createdAt = Date.parse(row.created_at);
  if (now >= createdAt + settings.maxHours * 3_600_000) return undefined;
  const next = expiry(createdAt, now, settings);
  if (Date.parse(next) - Date.parse(row.expires_at) > 60_000) {
    await database.db.updateTable('sessions').set({ expires_at: next }).where('id_hash', '=', idHash).execute();
  }
  const userId = Number(row.id);
  return {
    idHash,
    csrfToken: row.csrf_token,
    userId,
    username: row.username,
    role: row.role,
    storeIds: await userStoreIds(database.db, userId, row.role),
  };
}

export async function deleteSession(trx: Tx, id: string): Promise<void> {
  if (!SESSION_ID.test(id)) return;
  await trx.deleteFrom('sessions').where('id_hash', '=', sha256(id)).execute();
}

export async function deleteExpiredSessions(trx: Tx): Promise<void> {
  await trx.deleteFrom('sessions').where('expires_at', '<=', nowIso()).execute();
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
