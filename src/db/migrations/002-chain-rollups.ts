// Chain-wide roll-ups without the product: the whole chain per day and month, by payment method and by category.
// The office's default view is every store at once; from the per-store tables a year's series by day read 7,300
// rows (20 stores) and grouped them, a 30-day category breakdown 18,000; these tables hold one row per day (and
// payment method or category) whatever the number of stores. Filled from the per-store tables, which they sum.
import { type ColumnDataType, type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { Dialect } from '../connect.ts';

const MEASURES = ['quantity_milli', 'revenue_cents', 'line_count', 'tickets', 'items'];

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const families: Array<{ from: string; to: string; period: 'day' | 'month'; dims: Array<[string, ColumnDataType]> }> =
    [];
  for (const [suffix, dims] of [
    ['total', []],
    ['payment', [['payment_method', 'varchar(16)']]],
    ['category', [['category', 'varchar(120)']]],
  ] as Array<[string, Array<[string, ColumnDataType]>]>) {
    const perStore = suffix === 'total' ? 'store' : suffix;
    families.push({ from: `sales_daily_${perStore}`, to: `sales_chain_daily_${suffix}`, period: 'day', dims });
    families.push({ from: `sales_monthly_${perStore}`, to: `sales_chain_monthly_${suffix}`, period: 'month', dims });
  }
  for (const f of families) {
    const periodCol: [string, ColumnDataType] =
      f.period === 'day' ? ['business_date', 'varchar(10)'] : ['month', 'varchar(7)'];
    const keys = [periodCol, ...f.dims];
    let t: CreateTableBuilder<string, string> = db.schema.createTable(f.to);
    t =
      dialect === 'sqlite'
        ? t.modifyEnd(sql`without rowid`)
        : t.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`);
    for (const [column, type] of keys) t = t.addColumn(column, type, (c) => c.notNull());
    // as in 001: defaults only where an older writer should fail the roll-up check instead of an insert
    for (const m of MEASURES)
      t = t.addColumn(m, 'bigint', (c) =>
        m === 'line_count' || m === 'items' ? c.notNull().defaultTo(0) : c.notNull(),
      );
    await t.addPrimaryKeyConstraint(`${f.to}_pk`, keys.map(([c]) => c) as never).execute();
    const keyList = keys.map(([c]) => c).join(', ');
    await sql`insert into ${sql.raw(f.to)} (${sql.raw(keyList)}, ${sql.raw(MEASURES.join(', '))})
      select ${sql.raw(keyList)}, ${sql.raw(MEASURES.map((m) => `sum(${m})`).join(', '))}
      from ${sql.raw(f.from)} group by ${sql.raw(keyList)}`.execute(db);
  }
}
