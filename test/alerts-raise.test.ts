// Raising many alerts at once (a file that sends hundreds of products low), on SQLite and MariaDB: one open alert
// per subject whatever the interleaving — already open subjects are left alone, repeated subjects in one call count
// once, and two transactions raising the same subjects at the same time leave exactly one alert per subject.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type NewAlert, raiseAlert, raiseAlerts } from '../src/alerts/raise.ts';
import { inTransaction } from '../src/db/tx.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

const alert = (n: number): NewAlert => ({
  kind: 'low_stock',
  severity: 'warning',
  message: `product ${n} is low`,
  openKey: `test:${n}`,
});

for (const dialect of backends()) {
  describe(`raising alerts together on ${dialect}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());
    beforeEach(async () => {
      await t.database.db.deleteFrom('alerts').execute();
    });
    const openKeys = async () =>
      (await t.database.db.selectFrom('alerts').select('open_key').where('status', '=', 'open').execute())
        .map((r) => r.open_key)
        .sort();

    it('raises the new subjects, leaves the open ones, and counts a repeated subject once', async () => {
      const already = await inTransaction(t.database, (trx) => raiseAlert(trx, alert(2)));
      assert.ok(already);
      const ids = await inTransaction(t.database, (trx) =>
        raiseAlerts(trx, [
          alert(1),
          alert(2),
          alert(3),
          alert(1),
          ...Array.from({ length: 600 }, (_, i) => alert(10 + i)),
        ]),
      );
      assert.equal(typeof ids[0], 'number');
      assert.equal(ids[1], undefined, 'already open');
      assert.equal(typeof ids[2], 'number');
      assert.equal(ids[3], undefined, 'the same subject twice in one call is one alert');
      assert.equal(
        new Set(ids.filter((x) => x !== undefined)).size,
        602,
        'one id per new subject (over 500: two inserts)',
      );
      const stored = await t.database.db.selectFrom('alerts').select(['id', 'open_key']).execute();
      const byKey = new Map(stored.map((r) => [r.open_key, Number(r.id)]));
      assert.equal(ids[0], byKey.get('test:1'));
      assert.equal(ids[2], byKey.get('test:3'));
      assert.equal((await openKeys()).length, 603);
    });

    it('leaves one alert per subject when two transactions raise the same subjects at once', async () => {
      const subjects = Array.from({ length: 50 }, (_, i) => alert(i));
      let committed!: () => void;
      const firstCommitted = new Promise<void>((r) => {
        committed = r;
      });
      const first = inTransaction(t.database, (trx) => raiseAlerts(trx, subjects)).finally(() => committed());
      // MariaDB: the second transaction reads before the first commits and raises after, so its snapshot does not
      // show the first one's alerts and its insert meets them in the unique key. (SQLite runs one writer at a time.)
      const second =
        dialect === 'mysql'
          ? inTransaction(t.database, async (trx) => {
              await trx.selectFrom('alerts').select('id').execute();
              await firstCommitted;
              return raiseAlerts(trx, [...subjects].reverse());
            })
          : inTransaction(t.database, (trx) => raiseAlerts(trx, [...subjects].reverse()));
      const both = await Promise.all([first, second]);
      assert.equal((await openKeys()).length, 50);
      const raised = both.flat().filter((x) => x !== undefined);
      assert.equal(raised.length, 50, 'each subject raised by exactly one of them');
    });
  });
}
