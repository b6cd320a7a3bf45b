import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { connect } from '../db/connect.ts';
import type { EventRow } from '../db/schema.ts';
import { invalid, ShopflowError } from '../errors.ts';
import { EventQueue } from './queue.ts';
import { isPermanentError, Worker } from './worker.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('../../test/support/worker-child.ts', import.meta.url));

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

for (const dialect of backends()) {
  describe(`Worker on ${dialect}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());
    beforeEach(async () => {
      await t.database.db.deleteFrom('events').execute();
    });

    it('retries a handler that throws twice, then records it done after the third attempt', async () => {
      const queue = new EventQueue(t.database, { maxAttempts: 5, backoffMs: () => 0 });
      const seen: Array<{ attempt: number; payload: unknown }> = [];
      const worker = new Worker({
        queue,
        leaseSeconds: 30,
        handlers: {
          flaky: async (payload, meta) => {
            seen.push({ attempt: meta.attempt, payload });
            if (meta.attempt < 3) throw new Error(`transient ${meta.attempt}`);
          },
        },
      });
      const { id } = await queue.enqueue('flaky', 'flaky-1', { file: 'a.csv' });
      const result = await worker.drain();
      assert.deepEqual(result, { completed: 1, failed: 2, dead: 0 });
      assert.deepEqual(
        seen.map((s) => s.attempt),
        [1, 2, 3],
      );
      assert.deepEqual(seen[2]?.payload, { file: 'a.csv' });
      const row = await queue.get(id);
      assert.equal(row?.status, 'done');
      assert.equal(row?.attempts, 3);
      assert.match(row?.last_error ?? '', /transient 2/);
    });

    it('ends an always-failing event dead after N attempts, calls onDead once, and runs it again after replay', async () => {
      const queue = new EventQueue(t.database, { maxAttempts: 4, backoffMs: () => 0 });
      const deadRows: EventRow[] = [];
      let fixed = false;
      let calls = 0;
      const worker = new Worker({
        queue,
        leaseSeconds: 30,
        concurrency: 2,
        onDead: async (row) => {
          deadRows.push(row);
        },
        handlers: {
          poison: async () => {
            calls++;
            if (!fixed) throw new Error('row 7: bad date');
          },
        },
      });
      const { id } = await queue.enqueue('poison', 'poison-1', {});
      const result = await worker.drain();
      assert.deepEqual(result, { completed: 0, failed: 4, dead: 1 });
      assert.equal(calls, 4);
      assert.equal(deadRows.length, 1);
      assert.equal(deadRows[0]?.id, id);
      assert.equal(deadRows[0]?.status, 'dead');
      assert.match(deadRows[0]?.last_error ?? '', /row 7: bad date/);
      assert.deepEqual(
        (await queue.list({ status: 'dead' })).map((r) => r.id),
        [id],
      );
      assert.deepEqual(await worker.drain(), { completed: 0, failed: 0, dead: 0 }, 'nothing runs a dead event');

      fixed = true;
      await queue.replay(id);
      assert.deepEqual(await worker.drain(), { completed: 1, failed: 0, dead: 0 });
      assert.equal(calls, 5);
      const row = await queue.get(id);
      assert.equal(row?.status, 'done');
      assert.equal(row?.attempts, 1);
      assert.equal(deadRows.length, 1, 'onDead is not called again');
    });

    it('drain() does not stop while an event that failed during a lease is due again', async () => {
      // A manual clock makes the race exact: the second lease reads "now" before the running event fails, the
      // failure is due one millisecond later, and the event is no longer running when that lease returns empty.
      let clock = Date.parse('2026-01-01T00:00:00Z');
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let failed!: () => void;
      const failRecorded = new Promise<void>((r) => (failed = r));
      class RacingQueue extends EventQueue {
        leases = 0;
        override async leaseBatch(owner: string, limit: number, leaseSeconds: number) {
          const got = await super.leaseBatch(owner, limit, leaseSeconds);
          if (++this.leases !== 2) return got;
          clock += 1;
          release();
          await failRecorded;
          await new Promise((r) => setImmediate(r));
          return got;
        }
        override async fail(...args: Parameters<EventQueue['fail']>) {
          const r = await super.fail(...args);
          failed();
          return r;
        }
      }
      const queue = new RacingQueue(t.database, { maxAttempts: 3, backoffMs: () => 0, now: () => new Date(clock) });
      let calls = 0;
      const worker = new Worker({
        queue,
        concurrency: 2,
        handlers: {
          once: async () => {
            if (++calls === 1) {
              await released;
              throw new Error('first attempt fails');
            }
          },
        },
      });
      const { id } = await queue.enqueue('once', 'once-1', {});
      assert.deepEqual(await worker.drain(), { completed: 1, failed: 1, dead: 0 });
      assert.equal(queue.leases >= 3, true, 'a third lease found the retry');
      assert.equal((await queue.get(id))?.status, 'done');
    });

    it('fails an event of an unknown topic at once, with an error naming the topic', async () => {
      const queue = new EventQueue(t.database, { maxAttempts: 3 });
      const dead: number[] = [];
      const worker = new Worker({
        queue,
        handlers: { ingest: async () => {} },
        onDead: async (r) => {
          dead.push(r.id);
        },
      });
      const { id } = await queue.enqueue('mystery', 'mystery-1', {});
      await worker.drain();
      const row = await queue.get(id);
      assert.equal(row?.status, 'dead');
      assert.equal(row?.attempts, 1, 'no retry can add the missing handler');
      assert.match(row?.last_error ?? '', /no handler for event topic "mystery".*ingest/);
      assert.deepEqual(dead, [id]);
    });

    it('does not retry bad input, but retries other errors', async () => {
      const queue = new EventQueue(t.database, { maxAttempts: 3, backoffMs: () => 0 });
      const dead: number[] = [];
      const worker = new Worker({
        queue,
        handlers: {
          poison: async () => {
            throw invalid('line 3, column qty: "abc" is not a number');
          },
          marked: async () => {
            throw Object.assign(new Error('checksum mismatch'), { permanent: true });
          },
          transient: async () => {
            throw new ShopflowError('unavailable', 'database is restarting');
          },
        },
        onDead: async (r) => {
          dead.push(r.id);
        },
      });
      const poison = await queue.enqueue('poison', 'perm-1', {});
      const marked = await queue.enqueue('marked', 'perm-2', {});
      const transient = await queue.enqueue('transient', 'perm-3', {});
      assert.deepEqual(await worker.drain(), { completed: 0, failed: 5, dead: 3 });
      assert.equal((await queue.get(poison.id))?.attempts, 1);
      assert.equal((await queue.get(marked.id))?.attempts, 1);
      assert.equal((await queue.get(transient.id))?.attempts, 3);
      assert.deepEqual(
        dead.sort((a, b) => a - b),
        [poison.id, marked.id, transient.id],
      );
      assert.equal(isPermanentError(new Error('x')), false);
    });

    it('two workers of concurrency 4 handle each of 200 events exactly once', async () => {
      // on MySQL the second worker has its own connection pool, as a second process would
      const second = dialect === 'mysql' ? await connect(t.url, { pool: 4 }) : t.database;
      try {
        const q1 = new EventQueue(t.database, { backoffMs: () => 0 });
        const q2 = new EventQueue(second, { backoffMs: () => 0 });
        for (let i = 0; i < 200; i++) await q1.enqueue('count', `count-${i}`, { i });
        const handled = new Map<number, number>();
        const byWorker = { a: 0, b: 0 };
        const active = new Set<number>();
        let overlaps = 0;
        let maxActive = 0;
        const handler = (name: 'a' | 'b') => async (payload: unknown) => {
          const i = (payload as { i: number }).i;
          if (active.has(i)) overlaps++;
          active.add(i);
          maxActive = Math.max(maxActive, active.size);
          await sleep(1 + Math.random() * 4);
          active.delete(i);
          handled.set(i, (handled.get(i) ?? 0) + 1);
          byWorker[name]++;
        };
        const a = new Worker({
          queue: q1,
          concurrency: 4,
          pollMs: 10,
          leaseSeconds: 30,
          handlers: { count: handler('a') },
        });
        const b = new Worker({
          queue: q2,
          concurrency: 4,
          pollMs: 10,
          leaseSeconds: 30,
          handlers: { count: handler('b') },
        });
        a.start();
        b.start();
        await waitFor('200 events done', async () => (await q1.counts()).done === 200, 30_000);
        await Promise.all([a.stop(), b.stop()]);
        assert.equal(handled.size, 200);
        assert.ok(
          [...handled.values()].every((n) => n === 1),
          'no event handled twice',
        );
        assert.equal(overlaps, 0);
        assert.ok(byWorker.a > 0 && byWorker.b > 0, `both workers took events: ${JSON.stringify(byWorker)}`);
        assert.ok(maxActive > 1, 'events ran concurrently');
        assert.ok(maxActive <= 8, `at most 4 per worker at once, saw ${maxActive}`);
        const rows = await t.database.db.selectFrom('events').select(['attempts', 'status']).execute();
        assert.ok(rows.every((r) => r.status === 'done' && Number(r.attempts) === 1));
      } finally {
        if (second !== t.database) await second.close();
      }
    });

    it('stop() waits for running events to finish and leases nothing more', async () => {
      const queue = new EventQueue(t.database);
      let started = 0;
      let finished = 0;
      const worker = new Worker({
        queue,
        concurrency: 1,
        pollMs: 10,
        handlers: {
          slow: async () => {
            started++;
            await sleep(300);
            finished++;
          },
        },
      });
      const first = await queue.enqueue('slow', 'slow-1', {});
      const secondEvent = await queue.enqueue('slow', 'slow-2', {});
      worker.start();
      await waitFor('the first event to start', async () => started === 1);
      await worker.stop();
      assert.equal(finished, 1);
      assert.equal((await queue.get(first.id))?.status, 'done');
      assert.equal((await queue.get(secondEvent.id))?.status, 'pending');
      assert.equal(started, 1);
    });

    it('a new worker completes the event of a worker process killed mid-event, once its lease expires', async () => {
      const queue = new EventQueue(t.database, { maxAttempts: 3 });
      const { id } = await queue.enqueue('block', 'block-1', { store: 'S1' });
      const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, t.url, '1'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (d) => {
        stderr += String(d);
      });
      try {
        const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
        let childOwner = '';
        const started = new Promise<{ started: number; attempt: number; owner: string }>((resolve, reject) => {
          lines.on('line', (l) => {
            const msg = JSON.parse(l);
            if (msg.started !== undefined) resolve(msg);
          });
          child.once('exit', (code) => reject(new Error(`worker child exited (${code}): ${stderr}`)));
        });
        const giveUp = new AbortController();
        const msg = await Promise.race([
          started,
          sleep(20_000, undefined, { signal: giveUp.signal }).then(() => {
            throw new Error(`the worker child did not start the event: ${stderr}`);
          }),
        ]).finally(() => giveUp.abort());
        childOwner = msg.owner;
        assert.equal(msg.started, id);
        assert.equal(msg.attempt, 1);

        // the child's heartbeat keeps its 1 s lease alive past the original expiry
        await sleep(1500);
        const held = await queue.get(id);
        assert.equal(held?.status, 'leased');
        assert.equal(held?.lease_owner, childOwner);
        assert.ok((held?.leased_until ?? '') > new Date().toISOString(), 'lease renewed by the heartbeat');

        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        const [, signal] = await exited;
        assert.equal(signal, 'SIGKILL');
        const killedAt = Date.now();

        const handled: Array<{ id: number; attempt: number }> = [];
        const rescuer = new Worker({
          queue,
          leaseSeconds: 5,
          handlers: {
            block: async (_p, meta) => {
              handled.push({ id: meta.id, attempt: meta.attempt });
            },
          },
        });
        assert.deepEqual(await rescuer.drain(), { completed: 0, failed: 0, dead: 0 }, 'the lease has not expired yet');
        assert.equal((await queue.get(id))?.lease_owner, childOwner);
        await waitFor(
          'the rescuer to complete the event',
          async () => (await rescuer.drain()).completed === 1,
          5000,
          100,
        );
        const waited = Date.now() - killedAt;
        assert.ok(waited <= 2500, `taken over within about one lease period, took ${waited} ms`);
        assert.deepEqual(handled, [{ id, attempt: 2 }]);
        const row = await queue.get(id);
        assert.equal(row?.status, 'done');
        assert.equal(row?.attempts, 2);
        assert.equal(row?.lease_owner, null);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    it('renews the lease of a long handler so that no other worker takes the event', async () => {
      const queue = new EventQueue(t.database);
      const { id } = await queue.enqueue('long', 'long-1', {});
      let stolen: EventRow[] = [];
      const worker = new Worker({
        queue,
        leaseSeconds: 1,
        handlers: {
          long: async () => {
            await sleep(1600);
            stolen = await queue.lease('intruder', 5, 30);
            await sleep(200);
          },
        },
      });
      assert.deepEqual(await worker.drain(), { completed: 1, failed: 0, dead: 0 });
      assert.deepEqual(stolen, []);
      assert.equal((await queue.get(id))?.attempts, 1);
    });
  });
}
