// The checkout's group commit on SQLite and MariaDB: jobs that arrive together are written by one call of the
// batch's work, each answered with its own outcome; when that work throws, what it wrote is rolled back and every
// job runs alone, so only the failing one fails; an error that dooms the transaction (deadlock, busy) runs the
// whole batch again; nobody is answered before the commit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GroupCommitter, type Outcome } from '../src/checkout/group-commit.ts';
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

    const mark = (trx: Tx, actions: string[]) =>
      trx
        .insertInto('audit_log')
        .values(
          actions.map((action) => ({
            at: nowIso(),
            actor: 'test',
            action,
            target: null,
            store_id: null,
            details: null,
          })),
        )
        .execute();
    const deadlock = () =>
      Object.assign(new Error('Deadlock found when trying to get lock'), {
        errno: 1213,
        code: dialect === 'sqlite' ? 'SQLITE_BUSY' : 'ER_LOCK_DEADLOCK',
      });
    const marks = async (prefix: string) =>
      (await t.database.db.selectFrom('audit_log').select('action').where('action', 'like', `${prefix}%`).execute())
        .map((r) => r.action)
        .sort();

    it('writes the jobs that arrive together in one call and answers each with its own outcome', async () => {
      const calls: number[][] = [];
      const c = new GroupCommitter(t.database, async (trx, jobs: number[]): Promise<Outcome<number>[]> => {
        calls.push(jobs);
        // job 4 is refused: it writes nothing and is answered with its error
        await mark(
          trx,
          jobs.filter((j) => j !== 4).map((j) => `a${j}`),
        );
        return jobs.map((j) =>
          j === 4 ? { ok: false, error: new Error('job 4 refused') } : { ok: true, value: j * 10 },
        );
      });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => c.run(i)));
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
        [0, 10, 20, 30, 'job 4 refused', 50, 60, 70, 80, 90],
      );
      assert.deepEqual(await marks('a'), ['a0', 'a1', 'a2', 'a3', 'a5', 'a6', 'a7', 'a8', 'a9']);
      assert.deepEqual(calls, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], 'jobs arriving together are one call of the work');
      assert.equal(c.stats.largest, 10);
      assert.equal(c.stats.splits, 0);
    });

    it('rolls back a batch whose work throws and runs each job alone: only the failing job fails', async () => {
      const calls: number[][] = [];
      const c = new GroupCommitter(t.database, async (trx, jobs: number[]): Promise<Outcome<number>[]> => {
        calls.push(jobs);
        await mark(
          trx,
          jobs.map((j) => `e${j}`),
        );
        if (jobs.includes(3)) throw new Error('job 3 fails after writing');
        return jobs.map((j) => ({ ok: true, value: j }));
      });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => c.run(i)));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.equal(((results[3] as PromiseRejectedResult).reason as Error).message, 'job 3 fails after writing');
      assert.deepEqual(
        await marks('e'),
        ['e0', 'e1', 'e2', 'e4', 'e5'],
        'the whole batch was not written, then each job alone',
      );
      assert.deepEqual(calls, [[0, 1, 2, 3, 4, 5], [0], [1], [2], [3], [4], [5]]);
      assert.equal(c.stats.splits, 1);
    });

    it('runs the whole batch again after an error that dooms the transaction, recording each job once', async () => {
      let runs = 0;
      const c = new GroupCommitter(t.database, async (trx, jobs: number[]): Promise<Outcome<number>[]> => {
        runs++;
        await mark(
          trx,
          jobs.map((j) => `b${j}`),
        );
        if (runs === 1) throw deadlock();
        return jobs.map((j) => ({ ok: true, value: j }));
      });
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => c.run(i)));
      assert.deepEqual(results, [0, 1, 2, 3, 4]);
      assert.deepEqual(await marks('b'), ['b0', 'b1', 'b2', 'b3', 'b4']);
      assert.equal(runs, 2, 'the batch ran again whole, not job by job');
      assert.equal(c.stats.splits, 0);
    });

    it('answers nobody when the transaction cannot commit', async () => {
      const c = new GroupCommitter(t.database, async (trx, jobs: number[]): Promise<Outcome<number>[]> => {
        await mark(
          trx,
          jobs.map((j) => `c${j}`),
        );
        // an error that dooms the transaction every time: the retries run out
        throw Object.assign(new Error('busy'), { errno: 1205, code: 'SQLITE_BUSY' });
      });
      const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => c.run(i)));
      assert.ok(results.every((r) => r.status === 'rejected'));
      assert.deepEqual(await marks('c'), []);
    });
  });
}
