// People who log in: a role (admin, manager, clerk) and the stores they may see. Admins see every store and hold
// no store list. Every change is audited in the same transaction that makes it.

import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import type { Role } from '../db/schema.ts';
import { inTransaction, isUniqueViolation, nowIso, type Tx } from '../db/tx.ts';
import { reasonError, reasonProblem } from '../errors.ts';
import { checkPasswordPolicy, generatePassword, type HashCost, hashPassword } from './passwords.ts';
import { storeIdsForCodes } from './stores.ts';

export const ROLES: readonly Role[] = ['admin', 'manager', 'clerk'];

export interface UserView {
  id: number;
  username: string;
  displayName: string | null;
  email: string | null;
  phone: string | null;
  role: Role;
  /** store codes; empty for admins, who see every store */
  stores: string[];
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  /** store codes; ignored for admins */
  stores: string[];
  displayName?: string | null;
  email?: string | null;
  phone?: string | null;
}

export interface UserChanges {
  role?: Role;
  stores?: string[];
  displayName?: string | null;
  email?: string | null;
  phone?: string | null;
  disabled?: boolean;
}

export interface HashOptions {
  /** 'insecure-test-only' exists for test suites; everything else uses the production cost */
  hashCost?: HashCost;
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

function checkUsername(username: string): string {
  const u = normalizeUsername(username);
  if (!USERNAME.test(u)) {
    throw reasonError('invalid_input', 'username_invalid', { username }, [reasonProblem('username', 'username_shape')]);
  }
  return u;
}

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw reasonError('invalid_input', 'role_unknown', { role }, [
      reasonProblem('role', 'one_of', { choices: ROLES.join(', ') }),
    ]);
  }
  return role as Role;
}

function checkContact(changes: { email?: string | null; phone?: string | null; displayName?: string | null }): void {
  if (changes.email && (changes.email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(changes.email))) {
    throw reasonError('invalid_input', 'email_invalid', {}, [reasonProblem('email', 'not_an_email')]);
  }
  if (changes.phone && !/^\+?[0-9 ()-]{6,32}$/.test(changes.phone)) {
    throw reasonError('invalid_input', 'phone_invalid', {}, [reasonProblem('phone', 'phone_shape')]);
  }
  if (changes.displayName && changes.displayName.length > 200) {
    throw reasonError('invalid_input', 'display_name_long', {}, [
      reasonProblem('displayName', 'at_most_chars', { max: 200 }),
    ]);
  }
}

async function storeIdsFor(trx: Tx, role: Role, codes: string[]): Promise<number[]> {
  if (role === 'admin') return [];
  const ids = await storeIdsForCodes(trx, codes);
  if (ids.length === 0) {
    throw reasonError('invalid_input', 'role_needs_store', { role }, [reasonProblem('stores', 'name_a_store')]);
  }
  return ids;
}

type UserRow = {
  id: number;
  username: string;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  role: Role;
  disabled: number;
  created_at: string;
  last_login_at: string | null;
};

const USER_COLUMNS = [
  'id',
  'username',
  'display_name',
  'email',
  'phone',
  'role',
  'disabled',
  'created_at',
  'last_login_at',
] as const;

function view(row: UserRow, stores: string[]): UserView {
  return {
    id: Number(row.id),
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    phone: row.phone,
    role: row.role,
    stores: row.role === 'admin' ? [] : stores,
    disabled: Number(row.disabled) !== 0,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

async function storesOf(trx: Tx, userIds: number[]): Promise<Map<number, string[]>> {
  const map = new Map<number, string[]>();
  if (userIds.length === 0) return map;
  const rows = await trx
    .selectFrom('user_stores as us')
    .innerJoin('stores as s', 's.id', 'us.store_id')
    .select(['us.user_id', 's.code'])
    .where('us.user_id', 'in', userIds)
    .orderBy('s.code')
    .execute();
  for (const r of rows) {
    const id = Number(r.user_id);
    map.set(id, [...(map.get(id) ?? []), r.code]);
  }
  return map;
}

async function loadUser(trx: Tx, username: string): Promise<UserView> {
  const row = await trx
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('username', '=', normalizeUsername(username))
    .executeTakeFirst();
  if (!row) throw reasonError('not_found', 'user_unknown', { username });
  const stores = await storesOf(trx, [Number(row.id)]);
  return view(row, stores.get(Number(row.id)) ?? []);
}

/** The ids of the stores a user may see; 'all' for admins. */
export async function userStoreIds(trx: Tx, userId: number, role: Role): Promise<number[] | 'all'> {
  if (role === 'admin') return 'all';
  const rows = await trx.selectFrom('user_stores').select('store_id').where('user_id', '=', userId).execute();
  return rows.map((r) => Number(r.store_id)).sort((a, b) => a - b);
}

export async function createUser(
  database: Database,
  input: NewUser,
  actor: string,
  opts: HashOptions = {},
): Promise<UserView> {
  const username = checkUsername(input.username);
  const role = checkRole(input.role);
  checkContact(input);
  checkPasswordPolicy(input.password);
  // hashed before the transaction: argon2 takes tens of milliseconds and must not hold the write lock
  const passwordHash = await hashPassword(input.password, opts.hashCost);
  try {
    return await inTransaction(database, async (trx) => {
      const storeIds = await storeIdsFor(trx, role, input.stores ?? []);
      const now = nowIso();
      const inserted = await trx
        .insertInto('users')
        .values({
          username,
          display_name: input.displayName ?? null,
          email: input.email ?? null,
          phone: input.phone ?? null,
          password_hash: passwordHash,
          role,
          created_at: now,
          updated_at: now,
        })
        .executeTakeFirstOrThrow();
      const id = Number(inserted.insertId);
      if (storeIds.length) {
        await trx
          .insertInto('user_stores')
          .values(storeIds.map((store_id) => ({ user_id: id, store_id })))
          .execute();
      }
      const created = await loadUser(trx, username);
      await audit(trx, actor, 'user.create', { role, stores: created.stores }, `user:${username}`);
      return created;
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw reasonError('conflict', 'user_exists', { username }, [reasonProblem('username', 'taken')]);
    throw e;
  }
}

export async function listUsers(database: Database, filter: { includeDisabled?: boolean } = {}): Promise<UserView[]> {
  let q = database.db.selectFrom('users').select(USER_COLUMNS).orderBy('username');
  if (filter.includeDisabled === false) q = q.where('disabled', '=', 0);
  const rows = await q.execute();
  const stores = await storesOf(
    database.db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => view(r, stores.get(Number(r.id)) ?? []));
}

export async function getUser(database: Database, username: string): Promise<UserView> {
  return loadUser(database.db, username);
}

async function enabledAdminsOtherThan(trx: Tx, userId: number): Promise<number> {
  const row = await trx
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled', '=', 0)
    .where('id', '!=', userId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Changes a user's role, stores, contact or disabled flag. Disabling ends every session of the user at once.
 * The last enabled admin can be neither disabled nor demoted: nobody could manage users any more.
 */
export async function updateUser(
  database: Database,
  username: string,
  changes: UserChanges,
  actor: string,
): Promise<UserView> {
  checkContact(changes);
  const role = changes.role === undefined ? undefined : checkRole(changes.role);
  return inTransaction(database, async (trx) => {
    const before = await loadUser(trx, username);
    const newRole = role ?? before.role;
    const losingAdmin =
      before.role === 'admin' && !before.disabled && (newRole !== 'admin' || changes.disabled === true);
    if (losingAdmin && (await enabledAdminsOtherThan(trx, before.id)) === 0) {
      throw reasonError('conflict', 'last_admin', { username: before.username });
    }
    const now = nowIso();
    await trx
      .updateTable('users')
      .set({
        role: newRole,
        ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
        ...(changes.email !== undefined ? { email: changes.email } : {}),
        ...(changes.phone !== undefined ? { phone: changes.phone } : {}),
        ...(changes.disabled !== undefined ? { disabled: changes.disabled ? 1 : 0 } : {}),
        updated_at: now,
      })
      .where('id', '=', before.id)
      .execute();
    // a role or store change takes effect at the next request: sessions resolve both every time
    if (changes.stores !== undefined || newRole !== before.role) {
      const ids = await storeIdsFor(trx, newRole, changes.stores ?? before.stores);
      await trx.deleteFrom('user_stores').where('user_id', '=', before.id).execute();
      if (ids.length) {
        await trx
          .insertInto('user_stores')
          .values(ids.map((store_id) => ({ user_id: before.id, store_id })))
          .execute();
      }
    }
    if (changes.disabled === true) await trx.deleteFrom('sessions').where('user_id', '=', before.id).execute();
    const after = await loadUser(trx, before.username);
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const k of ['role', 'stores', 'displayName', 'email', 'phone', 'disabled'] as const) {
      if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) diff[k] = { from: before[k], to: after[k] };
    }
    const action =
      changes.disabled === true && !before.disabled
        ? 'user.disable'
        : changes.disabled === false && before.disabled
          ? 'user.enable'
          : 'user.update';
    await audit(trx, actor, action, diff, `user:${before.username}`);
    return after;
  });
}

export async function disableUser(database: Database, username: string, actor: string): Promise<UserView> {
  return updateUser(database, username, { disabled: true }, actor);
}

/**
 * Sets a new password, clears any login lock and ends the user's sessions (all of them, or all but
 * `keepSessionHash` when people change their own password and stay logged in).
 */
export async function setPassword(
  database: Database,
  username: string,
  password: string,
  actor: string,
  opts: HashOptions & { keepSessionHash?: string } = {},
): Promise<void> {
  checkPasswordPolicy(password);
  const passwordHash = await hashPassword(password, opts.hashCost);
  await inTransaction(database, async (trx) => {
    const user = await loadUser(trx, username);
    await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, failed_logins: 0, locked_until: null, updated_at: nowIso() })
      .where('id', '=', user.id)
      .execute();
    let q = trx.deleteFrom('sessions').where('user_id', '=', user.id);
    if (opts.keepSessionHash) q = q.where('id_hash', '!=', opts.keepSessionHash);
    await q.execute();
    await audit(trx, actor, 'user.password', { sessionsEnded: true }, `user:${user.username}`);
  });
}

/**
 * The first start: when there is no user at all, creates `admin` with a random password and returns it (the only
 * time it is ever shown). Returns undefined when users exist, including when another process won the race.
 */
export async function ensureFirstAdmin(
  database: Database,
  opts: HashOptions = {},
): Promise<{ username: string; password: string } | undefined> {
  const any = await database.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  const password = generatePassword();
  try {
    await createUser(database, { username: 'admin', password, role: 'admin', stores: [] }, 'system:first-start', opts);
  } catch (e) {
    if ((e as { kind?: string }).kind === 'conflict') return undefined;
    throw e;
  }
  return { username: 'admin', password };
}
