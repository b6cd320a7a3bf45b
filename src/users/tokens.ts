// API tokens for machines: a store's sales system (`upload`) or a self-checkout terminal (`kiosk`). Each is bound
// to one store and one purpose. The token is `sft_` + 256 random bits; only its sha256 is stored, so it is shown
// once, at creation. Revoking takes effect at the next request (tokens are looked up every time, never cached).

import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, nowIso } from '../db/tx.ts';
import { reasonError, reasonProblem } from '../errors.ts';
import { randomSecret } from './passwords.ts';
import { sha256 } from './sessions.ts';
import { storeIdsForCodes } from './stores.ts';

export type TokenPurpose = 'upload' | 'kiosk';
export const TOKEN_PURPOSES: readonly TokenPurpose[] = ['upload', 'kiosk'];
export const TOKEN_PREFIX = 'sft_';

const TOKEN_SHAPE = /^sft_[A-Za-z0-9_-]{43}$/;

export interface TokenView {
  id: number;
  store: string;
  purpose: TokenPurpose;
  label: string | null;
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedToken extends TokenView {
  /** the secret itself: shown once, never stored */
  token: string;
}

export interface ActiveToken {
  tokenId: number;
  storeId: number;
  purpose: TokenPurpose;
}

function checkPurpose(purpose: string): TokenPurpose {
  if (!(TOKEN_PURPOSES as readonly string[]).includes(purpose)) {
    throw reasonError('invalid_input', 'purpose_unknown', { purpose }, [
      reasonProblem('purpose', 'one_of', { choices: TOKEN_PURPOSES.join(', ') }),
    ]);
  }
  return purpose as TokenPurpose;
}

const baseQuery = (database: Database) =>
  database.db
    .selectFrom('api_tokens as t')
    .innerJoin('stores as s', 's.id', 't.store_id')
    .select([
      't.id',
      's.code as store',
      't.purpose',
      't.label',
      't.created_by',
      't.created_at',
      't.revoked_at',
      't.last_used_at',
    ]);

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

const view = (r: Row): TokenView => ({
  id: Number(r.id),
  store: r.store,
  purpose: r.purpose,
  label: r.label,
  createdBy: r.created_by,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

export async function createToken(
  database: Database,
  input: { store: string; purpose: TokenPurpose; label?: string | null },
  actor: string,
): Promise<CreatedToken> {
  const purpose = checkPurpose(input.purpose);
  if (input.label && input.label.length > 200) {
    throw reasonError('invalid_input', 'label_long', {}, [reasonProblem('label', 'at_most_chars', { max: 200 })]);
  }
  const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
  const id = await inTransaction(database, async (trx) => {
    const [storeId] = await storeIdsForCodes(trx, [input.store], 'store');
    if (storeId === undefined) {
      throw reasonError('invalid_input', 'token_needs_store', {}, [reasonProblem('store', 'required')]);
    }
    const inserted = await trx
      .insertInto('api_tokens')
      .values({
        token_hash: sha256(token),
        store_id: storeId,
        purpose,
        label: input.label ?? null,
        created_by: actor,
        created_at: nowIso(),
      })
      .executeTakeFirstOrThrow();
    const tokenId = Number(inserted.insertId);
    await audit(trx, actor, 'token.create', { purpose, label: input.label ?? null }, `token:${tokenId}`, storeId);
    return tokenId;
  });
  const created = await baseQuery(database).where('t.id', '=', id).executeTakeFirstOrThrow();
  return { ...view(created), token };
}

export async function listTokens(
  database: Database,
  filter: { storeIds?: number[]; includeRevoked?: boolean } = {},
): Promise<TokenView[]> {
  let q = baseQuery(database).orderBy('t.id');
  if (filter.storeIds) q = q.where('t.store_id', 'in', filter.storeIds.length ? filter.storeIds : [-1]);
  if (!filter.includeRevoked) q = q.where('t.revoked_at', 'is', null);
  return (await q.execute()).map(view);
}

/**
 * Revokes a token. `storeIds` limits which tokens the caller may touch: a token outside them is answered as not
 * found, so its existence is not disclosed. Revoking a revoked token changes nothing.
 */
export async function revokeToken(
  database: Database,
  id: number,
  actor: string,
  opts: { storeIds?: number[] } = {},
): Promise<TokenView> {
  await inTransaction(database, async (trx) => {
    const row = await trx
      .selectFrom('api_tokens')
      .select(['store_id', 'revoked_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || (opts.storeIds && !opts.storeIds.includes(Number(row.store_id)))) {
      throw reasonError('not_found', 'token_unknown', { id });
    }
    if (row.revoked_at) return;
    await trx.updateTable('api_tokens').set({ revoked_at: nowIso() }).where('id', '=', id).execute();
    await audit(trx, actor, 'token.revoke', {}, `token:${id}`, Number(row.store_id));
  });
  return view(await baseQuery(database).where('t.id', '=', id).executeTakeFirstOrThrow());
}

// last_used_at is for people deciding what to revoke; minute precision is plenty and spares a write per request.
const TOUCH_EVERY_MS = 5 * 60_000;

/** The live token for a presented secret, or undefined (unknown, malformed or revoked). */
export async function findToken(database: Database, token: string): Promise<ActiveToken | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const hash = sha256(token);
  const row = await database.db
    .selectFrom('api_tokens')
    .select(['id', 'store_id', 'purpose', 'revoked_at', 'last_used_at'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  if (!row || row.revoked_at) return undefined;
  const now = Date.now();
  if (!row.last_used_at || now - Date.parse(row.last_used_at) > TOUCH_EVERY_MS) {
    await database.db
      .updateTable('api_tokens')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', row.id)
      .execute();
  }
  return { tokenId: Number(row.id), storeId: Number(row.store_id), purpose: row.purpose };
}
