import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { LocalObjectStore } from '../storage/local.ts';
import { decodeEventKey, type S3Event } from '../storage/object-store.ts';
import { bindObjectEvents, matchRoute, type ObjectRoute, objectDedupeKey, reconcileObjects } from './object-events.ts';
import { EventQueue } from './queue.ts';
import { Worker } from './worker.ts';

const SALES = 'supermarket-sales-data';
const REPORTS = 'supermarket-reports';
const routes: ObjectRoute[] = [
  { bucket: SALES, prefix: 'incoming/', suffixes: ['.csv', '.CSV'], topic: 'ingest' },
  { bucket: REPORTS, prefix: 'snapshots/', topic: 'alerts' },
];
const TRICKY = 'incoming/42/2024-05-01 café+1%.csv';
const LONG = `incoming/7/${'ã'.repeat(200)}.csv`;

describe('matchRoute', () => {
  it('takes the first route whose bucket, prefix and suffix match, comparing exactly', () => {
    assert.equal(matchRoute(routes, SALES, 'incoming/1/a.csv')?.topic, 'ingest');
    assert.equal(matchRoute(routes, SALES, 'incoming/1/a.Csv'), undefined);
    assert.equal(matchRoute(routes, SALES, 'archive/a.csv'), undefined);
    assert.equal(matchRoute(routes, REPORTS, 'incoming/a.csv'), undefined);
    assert.equal(matchRoute(routes, REPORTS, 'snapshots/x.json')?.topic, 'alerts');
    const overlapping: ObjectRoute[] = [
      { bucket: SALES, prefix: 'incoming/special/', topic: 'special' },
      { bucket: SALES, prefix: 'incoming/', topic: 'ingest' },
    ];
    assert.equal(matchRoute(overlapping, SALES, 'incoming/special/a.csv')?.topic, 'special');
  });
});

for (const dialect of backends()) {
  describe(`object events on ${dialect}`, () => {
    let t: TestDatabase;
    const dirs: string[] = [];
    let store: LocalObjectStore;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());
    beforeEach(async () => {
      await t.database.db.deleteFrom('events').execute();
      const dir = mkdtempSync(join(tmpdir(), 'shopflow-objects-'));
      dirs.push(dir);
      store = new LocalObjectStore({ root: dir });
      await store.ensureBucket(SALES);
      await store.ensureBucket(REPORTS);
    });
    after(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('queues one event per routed object version, with the AWS-encoded key, whatever the duplicates', async () => {
      const queue = new EventQueue(t.database);
      const unbind = bindObjectEvents(store, queue, routes);
      // a second subscription delivers every notification twice, as S3 may
      const unbindDuplicate = bindObjectEvents(store, queue, routes);
      const v1 = await store.put(SALES, TRICKY, 'sku;qty\n1;2\n');
      const v2 = await store.put(SALES, TRICKY, 'sku;qty\n1;3\n');
      const snap = await store.put(REPORTS, 'snapshots/2024-05-01.json', '{}');
      const long = await store.put(SALES, LONG, 'x');
      await store.put(SALES, 'incoming/42/readme.txt', 'not routed');
      await store.put(SALES, 'archive/2024.csv', 'not routed');
      unbind();
      unbindDuplicate();
      await store.put(SALES, 'incoming/42/after-unbind.csv', 'x');

      const rows = await queue.list({ limit: 100 });
      assert.equal(rows.length, 4);
      const byVersion = new Map(
        rows.map((r) => {
          const ev = JSON.parse(r.payload) as S3Event;
          return [ev.Records[0]?.s3.object.versionId, { row: r, ev }];
        }),
      );
      for (const v of [v1, v2]) {
        const got = byVersion.get(v.versionId);
        assert.ok(got, `an event for version ${v.versionId}`);
        assert.equal(got.row.topic, 'ingest');
        assert.equal(got.row.dedupe_key, objectDedupeKey(SALES, TRICKY, v.versionId));
        assert.equal(got.ev.Records.length, 1);
        const obj = got.ev.Records[0]?.s3.object;
        assert.equal(obj?.key, 'incoming/42/2024-05-01+caf%C3%A9%2B1%25.csv');
        assert.equal(decodeEventKey(obj?.key ?? ''), TRICKY);
        assert.equal(obj?.sequencer, v.sequencer);
        assert.equal(got.ev.Records[0]?.s3.bucket.name, SALES);
        assert.match(got.ev.Records[0]?.eventName ?? '', /^ObjectCreated:/);
      }
      assert.equal(byVersion.get(snap.versionId)?.row.topic, 'alerts');
      assert.ok(byVersion.get(long.versionId)?.row.dedupe_key.startsWith('sha256:'), 'a long key is hashed');
    });

    it('reconcileObjects queues exactly the versions that have no event, skipping delete markers', async () => {
      const queue = new EventQueue(t.database);
      const unbind = bindObjectEvents(store, queue, routes);
      const live = await store.put(SALES, 'incoming/1/2024-05-01.csv', 'a');
      unbind();
      // written while nothing listened: a process crashed between the write and the event, or the event was lost
      const quiet = [
        await store.put(SALES, 'incoming/1/2024-05-01.csv', 'a2'),
        await store.put(SALES, TRICKY, 'b'),
        await store.put(SALES, LONG, 'c'),
        await store.put(REPORTS, 'snapshots/s.json', '{}'),
      ];
      const gone = await store.put(SALES, 'incoming/2/deleted.csv', 'd');
      await store.delete(SALES, 'incoming/2/deleted.csv');
      await store.put(SALES, 'incoming/2/notes.txt', 'not routed');
      await store.put(SALES, 'elsewhere/x.csv', 'not routed');

      assert.equal(await reconcileObjects(store, queue, routes), 5);
      assert.equal(await reconcileObjects(store, queue, routes), 0, 'a second run finds nothing missing');

      const rows = await queue.list({ limit: 100 });
      assert.equal(rows.length, 6);
      const keys = new Set(rows.map((r) => r.dedupe_key));
      for (const info of [live, ...quiet, gone]) {
        const stored = rows.find((r) => JSON.parse(r.payload).Records[0].s3.object.versionId === info.versionId);
        assert.ok(stored, `event for ${info.key}@${info.versionId}`);
        const record = (JSON.parse(stored.payload) as S3Event).Records[0];
        assert.equal(decodeEventKey(record?.s3.object.key ?? ''), info.key);
        assert.equal(record?.s3.bucket.name, info.bucket);
      }
      assert.equal(keys.size, 6);
      assert.equal(rows.filter((r) => r.topic === 'alerts').length, 1);
    });

    it('repairs a put whose event could not be recorded, and a worker then reads that exact version', async () => {
      const queue = new EventQueue(t.database, { backoffMs: () => 0 });
      let broken = true;
      const flaky = Object.create(queue) as EventQueue;
      flaky.enqueue = async (...args: Parameters<EventQueue['enqueue']>) => {
        if (broken) throw new Error('database unreachable');
        return queue.enqueue(...args);
      };
      const unbind = bindObjectEvents(store, flaky, routes);
      await assert.rejects(store.put(SALES, TRICKY, 'store;sku\n42;1\n'), /database unreachable/);
      broken = false;
      await store.put(SALES, TRICKY, 'store;sku\n42;2\n');
      unbind();
      assert.equal((await queue.counts()).pending, 1);
      assert.equal(await reconcileObjects(store, queue, routes), 1);

      const bodies: string[] = [];
      const worker = new Worker({
        queue,
        handlers: {
          ingest: async (payload) => {
            for (const r of (payload as S3Event).Records) {
              const key = decodeEventKey(r.s3.object.key);
              const opts = r.s3.object.versionId ? { versionId: r.s3.object.versionId } : {};
              const { body } = await store.get(r.s3.bucket.name, key, opts);
              bodies.push(await text(body));
            }
          },
        },
      });
      assert.deepEqual(await worker.drain(), { completed: 2, failed: 0, dead: 0 });
      assert.deepEqual(bodies.sort(), ['store;sku\n42;1\n', 'store;sku\n42;2\n']);
    });
  });
}
