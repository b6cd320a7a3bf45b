import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { migrate } from './migrate.ts';
import { inTransaction, isUniqueViolation, nowIso } from './tx.ts';

for (const dialect of backends()) {
  describe(`database on ${dialect}`, () => {
    let t: TestDatabase;
    after(async () => t?.drop());

    it('migrates an empty database, and a second run does nothing', async () => {
      t = await createTestDatabase(dialect, { migrated: false });
      assert.deepEqual(await migrate(t.database), [
        '001-initial',
        '002-chain-rollups',
        '003-mysql-product-first-keys',
        '004-reason-codes',
      ]);
      assert.deepEqual(await migrate(t.database), []);
    });

    it('keeps SKUs case-sensitive and unique', async () => {
      const { db } = t.database;
      const now = nowIso();
      const base = { name: 'Pão', unit: 'UN' as const, price_cents: 150, created_at: now, updated_at: now };
      await db
        .insertInto('products')
        .values({ ...base, sku: 'abc' })
        .execute();
      await db
        .insertInto('products')
        .values({ ...base, sku: 'ABC' })
        .execute();
      await assert.rejects(
        db
          .insertInto('products')
          .values({ ...base, sku: 'abc' })
          .execute(),
        isUniqueViolation,
      );
      const names = await db.selectFrom('products').select('name').execute();
      assert.deepEqual(
        names.map((n) => n.name),
        ['Pão', 'Pão'],
      );
    });

    it('rolls a failed transaction back whole', async () => {
      const { db } = t.database;
      const now = nowIso();
      await assert.rejects(
        inTransaction(t.database, async (trx) => {
          await trx
            .insertInto('stores')
            .values({ code: 'X1', name: 'x', kind: 'file', timezone: 'UTC', created_at: now, updated_at: now })
            .execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await db.selectFrom('stores').selectAll().execute()).length, 0);
    });

    it('002 to 004 bring a database of the first release up: chain-wide roll-ups filled from the per-store ones', async () => {
      const t2 = await createTestDatabase(dialect);
      try {
        const { db } = t2.database;
        const m = { line_count: 1, items: 1 };
        await db
          .insertInto('sales_daily_store')
          .values([
            { store_id: 1, business_date: '2026-03-01', quantity_milli: 1000, revenue_cents: 500, tickets: 2, ...m },
            { store_id: 2, business_date: '2026-03-01', quantity_milli: 3000, revenue_cents: 700, tickets: 3, ...m },
            { store_id: 2, business_date: '2026-03-02', quantity_milli: 5000, revenue_cents: 900, tickets: 4, ...m },
          ])
          .execute();
        await db
          .insertInto('sales_monthly_category')
          .values([
            {
              store_id: 1,
              month: '2026-03',
              category: 'Bebidas',
              quantity_milli: 1,
              revenue_cents: 10,
              tickets: 1,
              ...m,
            },
            {
              store_id: 2,
              month: '2026-03',
              category: 'Bebidas',
              quantity_milli: 2,
              revenue_cents: 20,
              tickets: 2,
              ...m,
            },
            { store_id: 2, month: '2026-03', category: '', quantity_milli: 4, revenue_cents: 40, tickets: 4, ...m },
          ])
          .execute();
        // back to a database of the first release: no chain tables, 002 not recorded
        for (const suffix of ['total', 'payment', 'category']) {
          for (const grain of ['daily', 'monthly'])
            await sql.raw(`drop table sales_chain_${grain}_${suffix}`).execute(db);
        }
        if (dialect === 'mysql') {
          await sql`alter table sales_chain_daily drop primary key, add primary key (business_date, product_id),
            drop index sales_chain_daily_date, add index sales_chain_daily_product (product_id, business_date)`.execute(
            db,
          );
          await sql`alter table sales_chain_monthly drop primary key, add primary key (month, product_id),
            add index sales_chain_monthly_product (product_id, month)`.execute(db);
          await sql`alter table sales_monthly drop primary key, add primary key (store_id, month, product_id),
            add index sales_monthly_product (store_id, product_id, month)`.execute(db);
        }
        for (const table of ['ingest_files', 'ingest_rejections']) {
          for (const column of ['reason_code', 'reason_params'])
            await sql.raw(`alter table ${table} drop column ${column}`).execute(db);
        }
        await sql`delete from kysely_migration where name in
          ('002-chain-rollups', '003-mysql-product-first-keys', '004-reason-codes')`.execute(db);
        assert.deepEqual(await migrate(t2.database), [
          '002-chain-rollups',
          '003-mysql-product-first-keys',
          '004-reason-codes',
        ]);
        if (dialect === 'mysql') {
          const key = async (table: string) =>
            (
              await sql<{ Column_name: string }>`show keys from ${sql.raw(table)} where Key_name = 'PRIMARY'`.execute(
                db,
              )
            ).rows
              .map((r) => r.Column_name)
              .join(',');
          assert.equal(await key('sales_chain_daily'), 'product_id,business_date');
          assert.equal(await key('sales_chain_monthly'), 'product_id,month');
          assert.equal(await key('sales_monthly'), 'store_id,product_id,month');
        }
        const day = await db
          .selectFrom('sales_chain_daily_total')
          .select(['business_date', 'revenue_cents', 'tickets', 'line_count'])
          .orderBy('business_date')
          .execute();
        assert.deepEqual(
          day.map((r) => [r.business_date, Number(r.revenue_cents), Number(r.tickets), Number(r.line_count)]),
          [
            ['2026-03-01', 1200, 5, 2],
            ['2026-03-02', 900, 4, 1],
          ],
        );
        const month = await db
          .selectFrom('sales_chain_monthly_category')
          .select(['category', 'revenue_cents', 'tickets'])
          .orderBy('category')
          .execute();
        assert.deepEqual(
          month.map((r) => [r.category, Number(r.revenue_cents), Number(r.tickets)]),
          [
            ['', 40, 4],
            ['Bebidas', 30, 3],
          ],
        );
      } finally {
        await t2.drop();
      }
    });
  });
}
