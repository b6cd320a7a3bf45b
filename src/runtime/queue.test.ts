import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { isShopflowError } from '../errors.ts';
import { defaultBackoffMs, EventQueue, storedDedupeKey } from './queue.ts';

function clock(start: string) {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('defaultBackoffMs', () => {
  it('grows exponentially with 50–100 % jitter and a 5 min cap', () => {
    for (let i = 0; i < 200; i++) {
      const a1 = defaultBackoffMs(1);
      const a3 = defaultBackoffMs(3);
      const a20 = defaultBackoffMs(20);
      assert.ok(a1 >= 500 && a1 <= 1000, `attempt 1: ${a1}`);
      assert.ok(a3 >= 2000 && a3 <= 4000, `attempt 3: ${a3}`);
      assert.ok(a20 >= 150_000 && a20 <= 300_000, `attempt 20: ${a20}`);
    }
    const samples = new Set(Array.from({ length: 50 }, () => defaultBackoffMs(4)));
    assert.ok(samples.size > 1, 'jitter varies the delay');
  });
});

for (const dialect of backends()) {
  describe(`EventQueue on ${dialect}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());
    // each test starts from an empty queue: a leftover due event would be leased by the next test
    beforeEach(async () => {
      await t.database.db.deleteFrom('events').execute();
    });

    it('queues one event per dedupe key, also under concurrent enqueues and for keys longer than the column', async () => {
      const q = new EventQueue(t.database);
      const first = await q.enqueue('ingest', 'dup-1', { n: 1 });
      const second = await q.enqueue('ingest', 'dup-1', { n: 2 });
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.id, first.id);
      assert.deepEqual(JSON.parse((await q.get(first.id))?.payload ?? ''), { n: 1 });

      const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue('ingest', 'dup-race', { i })));
      assert.equal(racing.filter((r) => r.created).length, 1);
      assert.equal(new Set(racing.map((r) => r.id)).size, 1);

      const long = `s3:bucket/${'é'.repeat(300)}#v1`;
      const a = await q.enqueue('ingest', long, {});
      const b = await q.enqueue('ingest', long, {});
      const other = await q.enqueue('ingest', `${long}x`, {});
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(other.created, true);
      assert.equal((await q.get(a.id))?.dedupe_key, storedDedupeKey(long));
      assert.ok(storedDedupeKey(long).length <= 191);
      assert.deepEqual(await q.existing([long, 'dup-1', 'never']), new Set([long, 'dup-1']));

      const rows = await t.database.db.selectFrom('events').select('dedupe_key').execute();
      assert.equal(rows.length, new Set(rows.map((r) => r.dedupe_key)).size);
      assert.equal(rows.length, 4);
    });

    it('refuses a bad topic and an oversized payload with a clear error', async () => {
      const q = new EventQueue(t.database);
      await assert.rejects(q.enqueue('', 'k-empty-topic', {}), (e) => isShopflowError(e) && /topic/.test(e.message));
      await assert.rejects(
        q.enqueue('ingest', 'k-big', { blob: 'x'.repeat(70_000) }),
        (e) => isShopflowError(e) && e.kind === 'invalid_input' && /bytes/.test(e.message),
      );
      assert.equal(await q.get(999_999), undefined);
    });

    it('leases due events only, counts the attempt at lease time and backs off after a failure', async () => {
      const c = clock('2030-01-01T00:00:00Z');
      const q = new EventQueue(t.database, { now: c.now, maxAttempts: 3, backoffMs: (n) => n * 60_000 });
      const { id } = await q.enqueue(
        't-backoff',
        'backoff-1',
        { x: 1 },
        { availableAt: new Date('2030-01-01T00:00:10Z') },
      );
      assert.deepEqual(await q.lease('w1', 10, 30), [], 'not due yet');
      c.advance(10_000);
      const [row] = await q.lease('w1', 10, 30);
      assert.equal(row?.id, id);
      assert.equal(row?.attempts, 1);
      assert.equal(row?.status, 'leased');
      assert.equal(row?.lease_owner, 'w1');
      assert.equal(row?.leased_until, '2030-01-01T00:00:40.000Z');
      assert.deepEqual(await q.lease('w2', 10, 30), [], 'a held lease is not handed out');

      const failed = await q.fail(id, 'w1', new Error('db down'));
      assert.ok(failed);
      assert.equal(failed.status, 'pending');
      assert.equal(failed.available_at, '2030-01-01T00:01:10.000Z', 'backoff of attempt 1 is 60 s');
      assert.match(failed.last_error ?? '', /db down/);
      c.advance(59_999);
      assert.deepEqual(await q.lease('w2', 10, 30), [], 'still backing off');
      c.advance(1);
      const [again] = await q.lease('w2', 10, 30);
      assert.equal(again?.attempts, 2);
      assert.equal(await q.complete(id, 'w2'), true);
      const done = await q.get(id);
      assert.equal(done?.status, 'done');
      assert.equal(done?.lease_owner, null);
    });

    it('ignores complete and fail from an owner whose expired lease another worker took', async () => {
      const c = clock('2030-02-01T00:00:00Z');
      const q = new EventQueue(t.database, { now: c.now });
      const { id } = await q.enqueue('t-lost', 'lost-1', {});
      assert.equal((await q.lease('slow', 1, 1))[0]?.id, id);
      assert.equal(await q.extendLease(id, 'slow', 1), true);
      c.advance(1001);
      const [taken] = await q.lease('fast', 1, 30);
      assert.equal(taken?.id, id);
      assert.equal(taken?.attempts, 2);
      assert.equal(await q.complete(id, 'slow'), false);
      assert.equal(await q.fail(id, 'slow', new Error('late')), false);
      assert.equal(await q.extendLease(id, 'slow', 30), false);
      const mid = await q.get(id);
      assert.equal(mid?.status, 'leased');
      assert.equal(mid?.lease_owner, 'fast');
      assert.equal(mid?.last_error, null);
      assert.equal(await q.complete(id, 'fast'), true);
      assert.equal(await q.complete(id, 'fast'), false, 'completing twice is a no-op');
    });

    it('declares dead an event whose last attempt never finished, at the next lease', async () => {
      const c = clock('2030-03-01T00:00:00Z');
      const q = new EventQueue(t.database, { now: c.now, maxAttempts: 2 });
      const { id } = await q.enqueue('t-crash', 'crash-1', {});
      await q.lease('a', 1, 5);
      c.advance(6000);
      assert.equal((await q.lease('b', 1, 5))[0]?.attempts, 2);
      c.advance(6000);
      const batch = await q.leaseBatch('c', 5, 5);
      assert.deepEqual(batch.leased, []);
      assert.equal(batch.dead.length, 1);
      assert.equal(batch.dead[0]?.id, id);
      const row = await q.get(id);
      assert.equal(row?.status, 'dead');
      assert.equal(row?.attempts, 2);
      assert.match(row?.last_error ?? '', /lease expired/);
      assert.deepEqual((await q.leaseBatch('d', 5, 5)).dead, [], 'reported dead once');
    });

    it('ends dead after max attempts, lists and counts it, and replays it with fresh attempts', async () => {
      const c = clock('2030-04-01T00:00:00Z');
      const q = new EventQueue(t.database, { now: c.now, maxAttempts: 2, backoffMs: () => 0 });
      const { id } = await q.enqueue('t-dead', 'dead-1', { p: 1 });
      await q.lease('w', 1, 30);
      const first = await q.fail(id, 'w', new Error('one'));
      assert.ok(first);
      assert.equal(first.status, 'pending');
      await q.lease('w', 1, 30);
      const second = await q.fail(id, 'w', 'two');
      assert.ok(second);
      assert.equal(second.status, 'dead');
      assert.equal(second.last_error, 'two');
      assert.deepEqual(await q.lease('w', 1, 30), [], 'a dead event is not leased');

      const dead = await q.list({ status: 'dead', topic: 't-dead' });
      assert.deepEqual(
        dead.map((r) => r.id),
        [id],
      );
      assert.ok((await q.counts()).dead >= 1);
      await assert.rejects(q.replay(id + 10_000), (e) => isShopflowError(e) && e.kind === 'not_found');

      const replayed = await q.replay(id);
      assert.equal(replayed.status, 'pending');
      assert.equal(replayed.attempts, 0);
      assert.equal(replayed.last_error, 'two', 'the last error stays for reference');
      await assert.rejects(q.replay(id), (e) => isShopflowError(e) && e.kind === 'conflict');
      const [row] = await q.lease('w', 1, 30);
      assert.equal(row?.id, id);
      assert.equal(row?.attempts, 1);
    });

    it('counts by status and filters lists', async () => {
      const q = new EventQueue(t.database);
      const before = await q.counts();
      await q.enqueue('t-count', 'count-1', {});
      await q.enqueue('t-count', 'count-2', {});
      const after = await q.counts();
      assert.equal(after.pending, before.pending + 2);
      assert.deepEqual(Object.keys(after).sort(), ['dead', 'done', 'leased', 'pending']);
      const listed = await q.list({ topic: 't-count', limit: 1 });
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.dedupe_key, 'count-2', 'newest first');
    });
  });
}
