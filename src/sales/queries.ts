// Sales totals for a period, grouped one way. Every grouping reads a daily roll-up, never the sales lines, so a
// year costs the same as a day times 365 roll-up rows rather than millions of lines.

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isValidIsoDate } from '../domain/dates.ts';
import { invalid } from '../errors.ts';

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
  const storeFilter = async (): Promise<number[] | undefined> => {
    let ids = q.storeIds;
    if (q.store) {
      const s = await db.selectFrom('stores').select('id').where('code', '=', q.store).executeTakeFirst();
      if (!s) throw invalid(`store ${q.store} does not exist`, [{ where: 'store', problem: 'unknown store' }]);
      ids = ids ? ids.filter((i) => i === s.id) : [s.id];
    }
    return ids;
  };
  const ids = await storeFilter();
  const inStores = (col: string) => (ids ? sql`and ${sql.ref(col)} in (${sql.join(ids.length ? ids : [-1])})` : sql``);
  let rows: Array<{ key: string; q: number; r: number; t: number }>;
  switch (q.by) {
    case 'day':
      rows = (
        await sql<{ key: string; q: number; r: number; t: number }>`
        select d.business_date as ${sql.ref('key')}, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
        from sales_daily_store d where d.business_date between ${q.from} and ${q.to} ${inStores('d.store_id')}
        group by d.business_date order by d.business_date`.execute(db)
      ).rows;
      break;
    case 'store':
      rows = (
        await sql<{ key: string; q: number; r: number; t: number }>`
        select s.code as ${sql.ref('key')}, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
        from sales_daily_store d join stores s on s.id = d.store_id
        where d.business_date between ${q.from} and ${q.to} ${inStores('d.store_id')}
        group by s.code order by s.code`.execute(db)
      ).rows;
      break;
    case 'product':
      rows = (
        await sql<{ key: string; q: number; r: number; t: number }>`
        select p.sku as ${sql.ref('key')}, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
        from sales_daily d join products p on p.id = d.product_id
        where d.business_date between ${q.from} and ${q.to} ${inStores('d.store_id')}
        group by p.sku order by r desc, p.sku`.execute(db)
      ).rows;
      break;
    case 'category':
      rows = (
        await sql<{ key: string; q: number; r: number; t: number }>`
        select d.category as ${sql.ref('key')}, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
        from sales_daily_category d
        where d.business_date between ${q.from} and ${q.to} ${inStores('d.store_id')}
        group by d.category order by r desc, d.category`.execute(db)
      ).rows;
      break;
    case 'payment':
      rows = (
        await sql<{ key: string; q: number; r: number; t: number }>`
        select d.payment_method as ${sql.ref('key')}, sum(d.quantity_milli) as q, sum(d.revenue_cents) as r, sum(d.tickets) as t
        from sales_daily_payment d
        where d.business_date between ${q.from} and ${q.to} ${inStores('d.store_id')}
        group by d.payment_method order by r desc, d.payment_method`.execute(db)
      ).rows;
      break;
  }
  return rows.map((r) => ({
    key: String(r.key),
    quantity: Number(r.q) / 1000,
    revenueCents: Number(r.r),
    tickets: Number(r.t),
  }));
}
