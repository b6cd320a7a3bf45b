// Checking a username and password, with throttling against guessing (ASVS 6.3.1 / reliability check 28):
//   - per account: after `maxFailures` consecutive failures the account is locked for 1 minute, doubling with each
//     further failure up to 1 hour; at HARD_LOCK_FAILURES consecutive failures it stays locked until an admin sets
//     a new password. The counter lives in the users row, so it holds across restarts and server instances.
//     Each attempt is counted BEFORE the password is checked, under the row lock: parallel guesses cannot slip
//     past the limit while the first ones are still being verified.
//   - per client address: `ipMaxFailures` failed logins in `ipWindowMinutes` refuse further attempts from it until
//     the window ends (in memory, per process).
//   - an unknown username is throttled like a real one (in memory) and costs the same argon2 verification, so
//     neither timing nor the 401/429 pattern tells which usernames exist.

import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, nowIso } from '../db/tx.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import {
  createSession,
  deleteExpiredSessions,
  deleteSession,
  type NewSession,
  type SessionSettings,
} from './sessions.ts';
import { normalizeUsername, userStoreIds } from './users.ts';

export const HARD_LOCK_FAILURES = 100;
const HARD_LOCK_UNTIL = '9999-12-31T23:59:59.999Z';
const MAX_LOCK_SECONDS = 3600;

export interface LoginSettings {
  /** consecutive failures per account before it is throttled */
  maxFailures: number;
  /** failed logins per client address per window before that address is throttled */
  ipMaxFailures: number;
  ipWindowMinutes: number;
}

export const DEFAULT_LOGIN_SETTINGS: LoginSettings = { maxFailures: 5, ipMaxFailures: 30, ipWindowMinutes: 15 };

/** Seconds an account stays locked after its n-th consecutive failure (0: not locked). */
export function lockSeconds(failures: number, maxFailures: number): number {
  if (failures >= HARD_LOCK_FAILURES) return Number.POSITIVE_INFINITY;
  if (failures < maxFailures) return 0;
  return Math.min(60 * 2 ** (failures - maxFailures), MAX_LOCK_SECONDS);
}

function lockUntil(failures: number, maxFailures: number, now: number): string | null {
  const s = lockSeconds(failures, maxFailures);
  if (s === 0) return null;
  return Number.isFinite(s) ? new Date(now + s * 1000).toISOString() : HARD_LOCK_UNTIL;
}

const retryAfter = (until: string, now: number) =>
  until === HARD_LOCK_UNTIL ? MAX_LOCK_SECONDS : Math.max(1, Math.ceil((Date.parse(until) - now) / 1000));

/** In-memory counters: failures per client address, and per username that does not exist. */
export class LoginThrottle {
  private readonly ips = new Map<string, { count: number; windowEnds: number }>();
  private readonly unknown = new Map<string, { failures: number; lockedUntil: number }>();
  // bounds memory when someone sprays random usernames or addresses; the oldest entries go first
  private static readonly MAX_ENTRIES = 10_000;

  constructor(readonly settings: LoginSettings = DEFAULT_LOGIN_SETTINGS) {}

  /** Seconds until this address may try again, or 0. */
  ipBlocked(ip: string, now = Date.now()): number {
    const e = this.ips.get(ip);
    if (!e || e.windowEnds <= now) return 0;
    return e.count >= this.settings.ipMaxFailures ? Math.ceil((e.windowEnds - now) / 1000) : 0;
  }

  ipFailed(ip: string, now = Date.now()): void {
    const e = this.ips.get(ip);
    if (!e || e.windowEnds <= now) {
      LoginThrottle.bounded(this.ips);
      this.ips.set(ip, { count: 1, windowEnds: now + this.settings.ipWindowMinutes * 60_000 });
    } else {
      e.count++;
    }
  }

  /** Counts an attempt on an unknown username; returns seconds to wait when it is locked (attempt not counted). */
  unknownAttempt(username: string, now = Date.now()): number {
    const e = this.unknown.get(username) ?? { failures: 0, lockedUntil: 0 };
    if (e.failures >= HARD_LOCK_FAILURES) return MAX_LOCK_SECONDS;
    if (e.lockedUntil > now) return Math.ceil((e.lockedUntil - now) / 1000);
    e.failures++;
    const s = lockSeconds(e.failures, this.settings.maxFailures);
    e.lockedUntil = Number.isFinite(s) ? now + s * 1000 : Number.MAX_SAFE_INTEGER;
    this.unknown.delete(username);
    LoginThrottle.bounded(this.unknown);
    this.unknown.set(username, e);
    return 0;
  }

  private static bounded(map: Map<string, unknown>): void {
    while (map.size >= LoginThrottle.MAX_ENTRIES) {
      const first = map.keys().next();
      if (first.done) break;
      map.delete(first.value);
    }
  }
}

export type LoginOutcome =
  | { ok: true; userId: number; username: string; session: NewSession }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfter: number };

export interface LoginAttempt {
  username: string;
  password: string;
  /** the client address, for throttling and the audit log */
  ip: string;
  /** a session id the client already presented: ended, so a login always yields a fresh id */
  previousSessionId?: string;
}

let dummyHash: Promise<string> | undefined;
// The production-cost hash an unknown username is checked against, so it costs what a real one costs.
const dummy = () => {
  dummyHash ??= hashPassword('not-a-password-anyone-has');
  return dummyHash;
};

export async function login(
  database: Database,
  attempt: LoginAttempt,
  throttle: LoginThrottle,
  sessionSettings: SessionSettings,
): Promise<LoginOutcome> {
  const now = Date.now();
  const username = normalizeUsername(attempt.username).slice(0, 64);
  const target = `user:${username}`;
  const fail = async (reason: string, extra: Record<string, unknown> = {}) => {
    await audit(database.db, 'anonymous', 'auth.login_failed', { reason, ip: attempt.ip, ...extra }, target);
  };

  const ipWait = throttle.ipBlocked(attempt.ip, now);
  if (ipWait > 0) {
    await fail('address_throttled');
    return { ok: false, reason: 'throttled', retryAfter: ipWait };
  }

  // Reserve the attempt: count it as a failure up front, and refuse it if the account is locked.
  const reserved = await inTransaction(database, async (trx) => {
    let q = trx
      .selectFrom('users')
      .select(['id', 'password_hash', 'disabled', 'failed_logins', 'locked_until', 'role'])
      .where('username', '=', username);
    if (database.dialect === 'mysql') q = q.forUpdate();
    const user = await q.executeTakeFirst();
    if (!user) return undefined;
    const at = new Date(now).toISOString();
    if (user.locked_until && user.locked_until > at) {
      return { user, wait: retryAfter(user.locked_until, now) };
    }
    if (Number(user.failed_logins) >= HARD_LOCK_FAILURES) return { user, wait: MAX_LOCK_SECONDS };
    const failures = Number(user.failed_logins) + 1;
    await trx
      .updateTable('users')
      .set({ failed_logins: failures, locked_until: lockUntil(failures, throttle.settings.maxFailures, now) })
      .where('id', '=', user.id)
      .execute();
    return { user, wait: 0, failures };
  });

  if (!reserved) {
    const wait = throttle.unknownAttempt(username, now);
    if (wait > 0) {
      await fail('account_throttled');
      return { ok: false, reason: 'throttled', retryAfter: wait };
    }
    await verifyPassword(await dummy(), attempt.password);
    throttle.ipFailed(attempt.ip, now);
    await fail('unknown_user');
    return { ok: false, reason: 'invalid' };
  }

  const { user } = reserved;
  if (reserved.wait > 0) {
    await fail('account_throttled');
    return { ok: false, reason: 'throttled', retryAfter: reserved.wait };
  }
  const good = await verifyPassword(user.password_hash, attempt.password);
  if (!good || Number(user.disabled) !== 0) {
    throttle.ipFailed(attempt.ip, now);
    await fail(good ? 'disabled' : 'wrong_password', { consecutiveFailures: reserved.failures });
    return { ok: false, reason: 'invalid' };
  }

  const userId = Number(user.id);
  const session = await inTransaction(database, async (trx) => {
    await trx
      .updateTable('users')
      .set({ failed_logins: 0, locked_until: null, last_login_at: nowIso() })
      .where('id', '=', userId)
      .execute();
    if (attempt.previousSessionId) await deleteSession(trx, attempt.previousSessionId);
    await deleteExpiredSessions(trx);
    const s = await createSession(trx, userId, sessionSettings);
    const storeIds = await userStoreIds(trx, userId, user.role);
    await audit(trx, `user:${username}`, 'auth.login', { ip: attempt.ip, role: user.role, storeIds }, target);
    return s;
  });
  return { ok: true, userId, username, session };
}
