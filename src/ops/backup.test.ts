// Backups on both databases: taken while the application is open, put in the backups bucket, restored elsewhere,
// and the restored copy holds the same rows.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { createTestApp, type TestApp } from '../../test/support/app.ts';
import { backends, createTestDatabase } from '../../test/support/db.ts';
import { connect } from '../db/connect.ts';
import { generateMasterData } from '../demo/generate.ts';
import { productsCsv, storesCsv } from '../demo/write.ts';
import { importProducts, importStores } from '../masterdata/import.ts';
import { backupDatabase, restoreDatabase } from './backup.ts';

for (const dialect of backends()) {
  describe(`database backup on ${dialect}`, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp(dialect);
      const master = generateMasterData({ stores: 2, products: 30, days: 0, seed: 3 });
      await importStores(t.app.ctx.database, storesCsv(master));
      await importProducts(t.app.ctx.database, productsCsv(master));
    });
    after(async () => t?.close());

    it('puts a consistent copy in the backups bucket that restores to the same rows', async () => {
      const r = await backupDatabase(t.app.ctx, new Date('2026-03-02T03:00:00Z'));
      assert.equal(r.bucket, t.config.buckets.backups);
      assert.match(r.key, dialect === 'sqlite' ? /^db\/2026-03-02T03-00-00-000Z\.sqlite\.gz$/ : /\.sql\.gz$/);
      assert.ok(r.bytes > 0);
      if (dialect === 'sqlite') {
        const target = join(t.dir, 'restored.db');
        await restoreDatabase(t.app.ctx, r.key, { targetFile: target });
        const restored = new SQLite(target, { readonly: true });
        assert.equal(restored.pragma('integrity_check', { simple: true }), 'ok');
        assert.equal((restored.prepare('select count(*) n from products').get() as { n: number }).n, 30);
        assert.equal((restored.prepare('select count(*) n from stores').get() as { n: number }).n, 2);
        restored.close();
      } else {
        const other = await createTestDatabase('mysql', { migrated: false });
        try {
          const ctx = { ...t.app.ctx, database: other.database };
          await restoreDatabase(ctx, r.key);
          const db = (await connect(other.url)).db;
          const n = await db
            .selectFrom('products')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          assert.equal(Number(n.n), 30);
          await db.destroy();
        } finally {
          await other.drop();
        }
      }
    });
  });
}
