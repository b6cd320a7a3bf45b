// The daily roll-ups are derived from the sales lines of a store-day and recomputed from them whenever that day
// changes (a file loaded or replaced, a checkout, a void), inside the same transaction. Deriving instead of adding
// deltas keeps "roll-up = Σ sales lines" true by construction, and tickets (distinct receipts) stay exact.
import { sql } from 'kysely';
import type { Tx } from '../db/tx.ts';

export async function recomputeDailyRollup(trx: Tx, storeId: number, businessDate: string): Promise<void> {
  for (const table of ['sales_daily', 'sales_daily_store', 'sales_daily_payment', 'sales_daily_category'] as const) {
    await trx.deleteFrom(table).where('store_id', '=', storeId).where('business_date', '=', businessDate).execute();
  }
  await sql`
    insert into sales_daily (store_id, business_date, product_id, quantity_milli, revenue_cents, line_count, tickets)
    select store_id, business_date, product_id, sum(quantity_milli), sum(total_cents), count(*), count(distinct receipt_id)
    from sales_lines where store_id = ${storeId} and business_date = ${businessDate}
    group by store_id, business_date, product_id`.execute(trx);
  await sql`
    insert into sales_daily_store (store_id, business_date, quantity_milli, revenue_cents, line_count, tickets)
    select store_id, business_date, sum(quantity_milli), sum(total_cents), count(*), count(distinct receipt_id)
    from sales_lines where store_id = ${storeId} and business_date = ${businessDate}
    group by store_id, business_date`.execute(trx);
  await sql`
    insert into sales_daily_payment (store_id, business_date, payment_method, quantity_milli, revenue_cents, tickets)
    select store_id, business_date, coalesce(payment_method, 'unknown'), sum(quantity_milli), sum(total_cents),
           count(distinct receipt_id)
    from sales_lines where store_id = ${storeId} and business_date = ${businessDate}
    group by store_id, business_date, coalesce(payment_method, 'unknown')`.execute(trx);
  await sql`
    insert into sales_daily_category (store_id, business_date, category, quantity_milli, revenue_cents, tickets)
    select l.store_id, l.business_date, coalesce(p.category, ''), sum(l.quantity_milli), sum(l.total_cents),
           count(distinct l.receipt_id)
    from sales_lines l join products p on p.id = l.product_id
    where l.store_id = ${storeId} and l.business_date = ${businessDate}
    group by l.store_id, l.business_date, coalesce(p.category, '')`.execute(trx);
}

export interface RollupMismatch {
  table: string;
  storeId: number;
  businessDate: string;
}

/** Store-days whose roll-ups differ from their sales lines. Empty means the roll-up holds. */
export async function rollupMismatches(trx: Tx): Promise<RollupMismatch[]> {
  const out: RollupMismatch[] = [];
  const product = await sql<{ store_id: number; business_date: string }>`
    select coalesce(l.store_id, d.store_id) as store_id, coalesce(l.business_date, d.business_date) as business_date
    from (select store_id, business_date, product_id, sum(quantity_milli) q, sum(total_cents) r, count(*) n
          from sales_lines group by store_id, business_date, product_id) l
    left join sales_daily d on d.store_id = l.store_id and d.business_date = l.business_date and d.product_id = l.product_id
    where d.store_id is null or d.quantity_milli <> l.q or d.revenue_cents <> l.r or d.line_count <> l.n
    union all
    select d.store_id, d.business_date from sales_daily d
    where not exists (select 1 from sales_lines l where l.store_id = d.store_id and l.business_date = d.business_date and l.product_id = d.product_id)`.execute(
    trx,
  );
  for (const r of product.rows)
    out.push({ table: 'sales_daily', storeId: Number(r.store_id), businessDate: r.business_date });
  const store = await sql<{ store_id: number; business_date: string }>`
    select l.store_id, l.business_date
    from (select store_id, business_date, sum(quantity_milli) q, sum(total_cents) r, count(*) n, count(distinct receipt_id) t
          from sales_lines group by store_id, business_date) l
    left join sales_daily_store d on d.store_id = l.store_id and d.business_date = l.business_date
    where d.store_id is null or d.quantity_milli <> l.q or d.revenue_cents <> l.r or d.line_count <> l.n or d.tickets <> l.t
    union all
    select d.store_id, d.business_date from sales_daily_store d
    where not exists (select 1 from sales_lines l where l.store_id = d.store_id and l.business_date = d.business_date)`.execute(
    trx,
  );
  for (const r of store.rows)
    out.push({ table: 'sales_daily_store', storeId: Number(r.store_id), businessDate: r.business_date });
  return out;
}
