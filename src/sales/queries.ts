// Sales totals for a period, grouped one way: the shape of GET /api/v1/sales and `shopflow sales`. The figures come
// from the roll-up engine (src/sales/engine.ts), which reads month rows for whole months and day rows for the rest,
// never the sales lines.

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isValidIsoDate } from '../domain/dates.ts';
import { invalid } from '../errors.ts';
import { aggregate, type Scope } from './engine.ts';

export const SALES_GROUPINGS = ['day', 'store', 'product', 'category', 'payment'] as const;
export type SalesGrouping = (typeof SALES_GROUPINGS)[number];

export interface SalesQuery {
  from: string;
  to: string;
  by: SalesGrouping;
  store?: string;
  /** restrict to these store ids (access control) */
  storeIds?: number[];
}

export interface SalesRow {
  key: string;
  /** units or kg */
  quantity: number;
  revenueCents: number;
  tickets: number;
}

export function checkPeriod(from: string, to: string): void {
  const problems = [];
  if (!isValidIsoDate(from)) problems.push({ where: 'from', problem: `"${from}" is not a date (YYYY-MM-DD)` });
  if (!isValidIsoDate(to)) problems.push({ where: 'to', problem: `"${to}" is not a date (YYYY-MM-DD)` });
  if (problems.length) throw invalid('the period is not valid', problems);
  if (from > to)
    throw invalid(`the period starts (${from}) after it ends (${to})`, [{ where: 'from', problem: 'after to' }]);
}

export async function salesBy(db: Kysely<DB>, q: SalesQuery): Promise<SalesRow[]> {
  checkPeriod(q.from, q.to);
  const stores = await db.selectFrom('stores').select(['id', 'code']).execute();
  const codeOf = new Map(stores.map((s) => [Number(s.id), s.code]));
  let ids = q.storeIds;
  if (q.store) {
    const s = stores.find((x) => x.code === q.store);
    if (!s) throw invalid(`store ${q.store} does not exist`, [{ where: 'store', problem: 'unknown store' }]);
    ids = ids ? ids.filter((i) => i === Number(s.id)) : [Number(s.id)];
  }
  const scope: Scope = { allStoreIds: [...codeOf.keys()], ...(ids ? { storeIds: ids } : {}) };
  const rows = await aggregate(db, { from: q.from, to: q.to }, scope, q.by);
  let keyOf = (k: string) => k;
  if (q.by === 'store') keyOf = (k) => codeOf.get(Number(k)) ?? k;
  if (q.by === 'product') {
    const ids = rows.map((r) => Number(r.key));
    const skus = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 5000) {
      const found = await db
        .selectFrom('products')
        .select(['id', 'sku'])
        .where('id', 'in', ids.slice(i, i + 5000))
        .execute();
      for (const p of found) skus.set(Number(p.id), p.sku);
    }
    keyOf = (k) => skus.get(Number(k)) ?? k;
  }
  const out = rows.map((r) => ({
    key: keyOf(r.key),
    quantity: r.totals.quantityMilli / 1000,
    revenueCents: r.totals.revenueCents,
    tickets: r.totals.tickets,
  }));
  const byKey = (a: SalesRow, b: SalesRow) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return out.sort(
    q.by === 'day' || q.by === 'store' ? byKey : (a, b) => b.revenueCents - a.revenueCents || byKey(a, b),
  );
}
