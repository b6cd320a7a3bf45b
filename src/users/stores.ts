// Store codes as people type them ↔ store ids as the access rules use them.
import type { Tx } from '../db/tx.ts';
import { reasonError, reasonProblem } from '../errors.ts';

export async function storeIdsForCodes(trx: Tx, codes: string[], where = 'stores'): Promise<number[]> {
  const unique = [...new Set(codes.map((c) => c.trim()).filter(Boolean))];
  if (unique.length === 0) return [];
  const rows = await trx.selectFrom('stores').select(['id', 'code']).where('code', 'in', unique).execute();
  const missing = unique.filter((c) => !rows.some((r) => r.code === c));
  if (missing.length) {
    const codes = missing.join(', ');
    throw reasonError('invalid_input', 'stores_unknown', { count: missing.length, codes }, [
      reasonProblem(where, 'no_store', { codes }),
    ]);
  }
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

export async function storeCodesForIds(trx: Tx, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await trx.selectFrom('stores').select('code').where('id', 'in', ids).orderBy('code').execute();
  return rows.map((r) => r.code);
}
