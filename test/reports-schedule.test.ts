// Scheduled reports and stock snapshots, on SQLite and MariaDB, with an injected clock and Scheduler.tick(): each
// store's daily reports come at its own closing time in its own zone (Lisbon 21:00 = 21:00Z, São Paulo 22:00 =
// 01:00Z), once per slot however often and from however many schedulers it ticks; a self-service store's snapshot
// reaches the alerts function through the event queue and raises its low-stock alerts, and a second delivery of the
// same event changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handleSnapshotEvent } from '../src/alerts/handler.ts';
import { generateMasterData } from '../src/demo/generate.ts';
import { productsCsv, stockCsv } from '../src/demo/write.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';
import {
  DAILY_STORE_REPORTS,
  registerReportJobs,
  SCHEDULED_FORMATS,
  WEEKLY_CHAIN_REPORTS,
} from '../src/reports/schedule.ts';
import { writeStockSnapshot } from '../src/reports/snapshot.ts';
import { OPTS, parseCsv } from '../src/reports/testkit.ts';
import { Scheduler } from '../src/runtime/scheduler.ts';
import type { S3Event } from '../src/storage/object-store.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

const LISBON = 'LX1'; // file store, Europe/Lisbon (UTC+0 until 29 March), closes 21:00
const SAO_PAULO = 'SP1'; // self-service store, America/Sao_Paulo (UTC−3), closes 22:00

function clock(start: string) {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    set(iso: string) {
      t = new Date(iso).getTime();
    },
  };
}

for (const dialect of backends()) {
  describe(`scheduled reports and snapshots on ${dialect}`, () => {
    let t: TestApp;
    let lowSkus: string[];

    const reportKeys = async () =>
      (await t.app.ctx.database.db.selectFrom('reports').select('object_key').execute())
        .map((r) => r.object_key)
        .sort();
    const keysFor = (store: string, date: string) =>
      DAILY_STORE_REPORTS.flatMap((k) => SCHEDULED_FORMATS.map((f) => `reports/${k}/${date}/${store}.${f}`)).sort();
    const versions = async (key: string) => {
      let n = 0;
      for await (const v of t.app.ctx.store.listVersions(t.app.ctx.config.buckets.reports, key)) if (v.key === key) n++;
      return n;
    };
    const snapshots = async () => {
      const keys: string[] = [];
      for await (const o of t.app.ctx.store.list(t.app.ctx.config.buckets.reports, 'snapshots/')) keys.push(o.key);
      return keys.sort();
    };

    before(async () => {
      t = await createTestApp(dialect, { SHOPFLOW_SNAPSHOT_MINUTES: '60' });
      const db = t.app.ctx.database;
      const stores = Buffer.from(
        'store_code,name,kind,city,timezone,closing_time\n' +
          `${LISBON},Loja Lisboa,file,Lisboa,Europe/Lisbon,21:00\n` +
          `${SAO_PAULO},Pit Stop Paulista,selfservice,São Paulo,America/Sao_Paulo,22:00\n`,
      );
      assert.equal((await importStores(db, stores)).rejected.length, 0);
      const master = generateMasterData(OPTS);
      assert.equal((await importProducts(db, productsCsv(master))).rejected.length, 0);
      const levels = master.stock.filter((s) => s.store_code === master.stores[0]!.store_code);
      const stock = levels.flatMap((s) => [
        { ...s, store_code: LISBON },
        { ...s, store_code: SAO_PAULO },
      ]);
      assert.equal((await importStock(db, stockCsv({ ...master, stock }))).rejected.length, 0);
      lowSkus = levels
        .filter((s) => s.on_hand_milli <= s.reorder_point_milli)
        .map((s) => s.sku)
        .sort();
      assert.ok(lowSkus.length > 0, 'some products start at or below their reorder point');
    });
    after(async () => t?.close());

    it('runs each store’s daily reports at its closing time in its own zone, once per slot', async () => {
      const c = clock('2026-03-10T20:59:00Z');
      const scheduler = new Scheduler(t.app.ctx.database, { now: c.now });
      const jobs = await registerReportJobs(scheduler, t.app.ctx, { now: c.now, syncEveryMs: 0 });

      // The first tick catches up what no process ran in the last 24 h: the closings of 9 March (21:00Z in Lisbon,
      // 01:00Z on the 10th in São Paulo). Monday's weekly reports (06:00 on the 9th) are older than that.
      await scheduler.tick();
      assert.deepEqual(
        await reportKeys(),
        [...keysFor(LISBON, '2026-03-09'), ...keysFor(SAO_PAULO, '2026-03-09')].sort(),
      );
      assert.deepEqual(await snapshots(), ['snapshots/SP1/2026-03-09/220000.csv'], 'the end-of-day snapshot');

      // 21:00 in Lisbon: only Lisbon closes (São Paulo is at 18:00), and the hourly snapshot is due
      c.set('2026-03-10T21:00:00Z');
      await scheduler.tick();
      assert.deepEqual(
        (await reportKeys()).filter((k) => k.includes('2026-03-10/')),
        keysFor(LISBON, '2026-03-10'),
      );
      assert.ok((await snapshots()).includes('snapshots/SP1/2026-03-10/180000.csv'), 'the hourly snapshot');

      // the same slot again, from this scheduler and from another process's: nothing runs twice
      c.set('2026-03-10T21:00:30Z');
      await scheduler.tick();
      const other = new Scheduler(t.app.ctx.database, { now: c.now });
      await registerReportJobs(other, t.app.ctx, { now: c.now, syncEveryMs: 0 });
      await other.tick();
      for (const key of keysFor(LISBON, '2026-03-10')) assert.equal(await versions(key), 1, key);
      const runs = await t.app.ctx.database.db
        .selectFrom('scheduler_runs')
        .select(['job', 'slot'])
        .where('job', 'like', `closing:${LISBON}:%`)
        .orderBy('slot')
        .execute();
      assert.deepEqual(
        runs.map((r) => r.slot),
        ['2026-03-09T21:00:00.000Z', '2026-03-10T21:00:00.000Z'],
      );

      // São Paulo closes at 22:00 local, 01:00Z: not a second before
      c.set('2026-03-11T00:59:59Z');
      await scheduler.tick();
      assert.equal((await reportKeys()).filter((k) => k.includes(`2026-03-10/${SAO_PAULO}`)).length, 0);
      c.set('2026-03-11T01:00:00Z');
      await scheduler.tick();
      assert.deepEqual(
        (await reportKeys()).filter((k) => k.includes(`2026-03-10/${SAO_PAULO}`)),
        keysFor(SAO_PAULO, '2026-03-10'),
      );
      assert.ok((await snapshots()).includes('snapshots/SP1/2026-03-10/220000.csv'), 'the end-of-day snapshot');

      // the closing's restock report lists the store's low products
      const low = await t.app.ctx.database.db
        .selectFrom('reports')
        .select(['bucket', 'object_key'])
        .where('object_key', '=', `reports/low-stock/2026-03-10/${SAO_PAULO}.csv`)
        .executeTakeFirstOrThrow();
      const { body } = await t.app.ctx.store.get(low.bucket, low.object_key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      assert.deepEqual(
        parseCsv(Buffer.concat(chunks))
          .rows.map((r) => r.sku)
          .sort(),
        lowSkus,
      );

      // Monday 06:00 in São Paulo: the chain's reports for the week before
      c.set('2026-03-16T08:59:00Z');
      await scheduler.tick();
      assert.equal((await reportKeys()).filter((k) => k.endsWith('/chain.pdf')).length, 0);
      c.set('2026-03-16T09:00:00Z');
      await scheduler.tick();
      assert.deepEqual(
        (await reportKeys()).filter((k) => k.includes('/chain.')),
        WEEKLY_CHAIN_REPORTS.flatMap((k) =>
          SCHEDULED_FORMATS.map((f) => `reports/${k}/2026-03-09_2026-03-15/chain.${f}`),
        ).sort(),
      );

      // a store added while the server runs gets its job at the next sync
      await importStores(
        t.app.ctx.database,
        Buffer.from('store_code,name,kind,timezone,closing_time\nMN1,Loja Manaus,file,America/Manaus,20:00\n'),
      );
      assert.equal(await jobs.sync(), 1);
      assert.equal(await jobs.sync(), 0);
      assert.deepEqual(
        scheduler.nextRuns(scheduler.names().find((n) => n.startsWith('closing:MN1:'))!, 1).map((d) => d.toISOString()),
        ['2026-03-17T00:00:00.000Z'],
        '20:00 in Manaus (UTC−4)',
      );
      jobs.stop();
      await scheduler.stop();
      await other.stop();
    });

    it('a snapshot put raises the store’s low-stock alerts through the event queue; a second delivery changes nothing', async () => {
      const ctx = t.app.ctx;
      const db = ctx.database.db;
      const store = await db.selectFrom('stores').select('id').where('code', '=', SAO_PAULO).executeTakeFirstOrThrow();
      const snap = await writeStockSnapshot(
        ctx,
        { code: SAO_PAULO, timezone: 'America/Sao_Paulo' },
        new Date('2026-03-11T15:30:00Z'),
      );
      assert.equal(snap.key, `snapshots/${SAO_PAULO}/2026-03-11/123000.csv`);
      await t.app.runtime!.drain();

      const open = async () =>
        (
          await db
            .selectFrom('alerts as a')
            .innerJoin('products as p', 'p.id', 'a.product_id')
            .select('p.sku')
            .where('a.store_id', '=', store.id)
            .where('a.kind', '=', 'low_stock')
            .where('a.status', '=', 'open')
            .execute()
        )
          .map((r) => r.sku)
          .sort();
      assert.deepEqual(await open(), lowSkus, 'one open low-stock alert per low product');

      const event = await db
        .selectFrom('events')
        .select(['payload', 'status'])
        .where('topic', '=', 'alerts')
        .where('dedupe_key', 'like', `%${snap.key}#${snap.versionId}`)
        .executeTakeFirstOrThrow();
      assert.equal(event.status, 'done');
      const state = async () => ({
        alerts: await db.selectFrom('alerts').selectAll().orderBy('id').execute(),
        orders: await db.selectFrom('restock_orders').selectAll().orderBy('id').execute(),
        lines: await db.selectFrom('restock_order_lines').selectAll().orderBy('id').execute(),
        deliveries: await db.selectFrom('alert_deliveries').selectAll().orderBy('id').execute(),
      });
      const before = await state();
      // at-least-once delivery: the same S3 event again, as Lambda may receive it
      await handleSnapshotEvent(ctx, JSON.parse(event.payload) as S3Event);
      assert.deepEqual(await state(), before);
    });
  });
}
