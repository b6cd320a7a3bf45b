// The checkout's group commit on SQLite and MariaDB: jobs that arrive together share one transaction; a job that
// fails after writing is rolled back alone; an error that dooms the transaction (deadlock, busy) runs the whole
// batch again; nobody is answered before the commit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GroupCommitter } from '../src/checkout/group-commit.ts';
import type { Tx } from '../src/db/tx.ts';
import { nowIso } from '../src/db/tx.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

for (const dialect of backends()) {
  describe(`group commit on ${dialect}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());

    const mark = (trx: Tx, action: string) =>
      trx
        .insertInto('audit_log')
        .values({ at: nowIso(), actor: 'test', action, target: null, store_id: null, details: null })
        .execute();
    const marks = async (prefix: string) =>
      (await t.database.db.selectFrom('audit_log').select('action').where('action', 'like', `${prefix}%`).execute())
        .map((r) => r.action)
        .sort();

    it('commits the jobs that succeed and rolls back, alone, the one that fails after writing', async () => {
      const c = new GroupCommitter(t.database);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          c.run(async (trx) => {
            await mark(trx, `a${i}`);
            if (i === 4) throw new Error('job 4 fails after writing');
            return i;
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', ...Array(5).fill('fulfilled')],
      );
      assert.deepEqual(await marks('a'), ['a0', 'a1', 'a2', 'a3', 'a5', 'a6', 'a7', 'a8', 'a9']);
      assert.ok(c.stats.largest > 1, 'jobs arriving together share a transaction');
      assert.equal(c.stats.jobs, 10);
    });

    it('runs the whole batch again after an error that dooms the transaction, recording each job once', async () => {
      const c = new GroupCommitter(t.database);
      let doomed = false;
      const runs = new Map<number, number>();
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          c.run(async (trx) => {
            runs.set(i, (runs.get(i) ?? 0) + 1);
            await mark(trx, `b${i}`);
            if (i === 2 && !doomed) {
              doomed = true;
              throw Object.assign(new Error('Deadlock found when trying to get lock'), {
                errno: 1213,
                code: dialect === 'sqlite' ? 'SQLITE_BUSY' : 'ER_LOCK_DEADLOCK',
              });
            }
            return i;
          }),
        ),
      );
      assert.deepEqual(results, [0, 1, 2, 3, 4]);
      assert.deepEqual(await marks('b'), ['b0', 'b1', 'b2', 'b3', 'b4']);
      assert.ok((runs.get(0) ?? 0) >= 2, 'the jobs before the doomed one ran again');
    });

    it('writes the contributions of the jobs that succeeded, once per batch, before the commit', async () => {
      const seen: string[][] = [];
      const c = new GroupCommitter<string>(t.database, {
        finishBatch: async (trx, contributions) => {
          seen.push(contributions);
          await mark(trx, `d-batch-${contributions.join('+')}`);
        },
      });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          c.run(async (trx, job) => {
            await mark(trx, `d${i}`);
            job.contribute(`j${i}`);
            if (i === 3) throw new Error('job 3 fails after contributing');
            return i;
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
      const contributed = seen.flat().sort();
      assert.deepEqual(contributed, ['j0', 'j1', 'j2', 'j4', 'j5'], 'the failed job contributes nothing');
      assert.ok(seen.length < 6, 'contributions are written per batch, not per job');
      const batches = (await marks('d-batch-')).length;
      assert.equal(batches, seen.length, 'each batch wrote its contributions in its own transaction');
    });

    it('answers nobody when the transaction cannot commit', async () => {
      const c = new GroupCommitter(t.database);
      const results = await Promise.allSettled(
        Array.from({ length: 3 }, (_, i) =>
          c.run(async (trx) => {
            await mark(trx, `c${i}`);
            // an error that dooms the transaction every time: the retries run out
            throw Object.assign(new Error('busy'), { errno: 1205, code: 'SQLITE_BUSY' });
          }),
        ),
      );
      assert.ok(results.every((r) => r.status === 'rejected'));
      assert.deepEqual(await marks('c'), []);
    });
  });
}
