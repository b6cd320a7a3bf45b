import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { migrate } from './migrate.ts';
import { inTransaction, isUniqueViolation, nowIso } from './tx.ts';

for (const dialect of backends()) {
  describe(`database on ${dialect}`, () => {
    let t: TestDatabase;
    after(async () => t?.drop());

    it('migrates an empty database, and a second run does nothing', async () => {
      t = await createTestDatabase(dialect, { migrated: false });
      assert.deepEqual(await migrate(t.database), ['001-initial']);
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
  });
}
