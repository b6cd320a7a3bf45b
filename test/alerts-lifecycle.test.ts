// The alert life cycle end to end, on SQLite and MariaDB: one alert while stock stays low, resolved when it rises
// above the reorder point, a new one on a later drop — from checkout-like stock changes, from ingested sales files
// (including a corrected re-upload) and from a stock snapshot whose event is delivered twice. Then the other kinds:
// below zero, a missing daily file (scheduled, in the store's time zone), a failed file, a dead event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handleSnapshotEvent } from '../src/alerts/handler.ts';
import { registerAlertJobs } from '../src/alerts/jobs.ts';
import { evaluateStock } from '../src/alerts/low-stock.ts';
import { checkMissingFiles, dueDays } from '../src/alerts/missing-files.ts';
import { inTransaction } from '../src/db/tx.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { Scheduler } from '../src/runtime/scheduler.ts';
import { objectCreatedEvent } from '../src/storage/object-store.ts';
import { alertsOf, type Chain, checkoutLike, ingest, loadChain, onHand, silentMove } from './alerts-fixtures.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

for (const dialect of backends()) {
  describe(`alert life cycle on ${dialect}`, () => {
    let t: TestApp;
    let c: Chain;
    const open = (rows: Array<{ status: string }>) => rows.filter((r) => r.status === 'open');

    before(async () => {
      t = await createTestApp(dialect);
      c = await loadChain(t.app);
    });
    after(async () => {
      if (t) assert.deepEqual(await ledgerMismatches(t.app.ctx.database.db), []);
      await t?.close();
    });

    it('from checkouts: raised once, kept while low, resolved above the reorder point, raised again later', async () => {
      const [k1, arroz] = [c.store.K1!, c.product.ARROZ!];
      await checkoutLike(t.app, k1, arroz, -14_000); // 20 → 6, reorder point 5
      assert.equal((await alertsOf(t.app, 'low_stock', k1, arroz)).length, 0);
      await checkoutLike(t.app, k1, arroz, -1_000); // 5: at the reorder point is low
      const first = await alertsOf(t.app, 'low_stock', k1, arroz);
      assert.equal(first.length, 1);
      assert.equal(first[0]!.status, 'open');
      assert.match(first[0]!.message, /Arroz Tipo 1 5kg \(ARROZ\) at store K1 is low: 5 on hand, reorder point 5/);
      await checkoutLike(t.app, k1, arroz, -1_000);
      await checkoutLike(t.app, k1, arroz, -2_000);
      assert.deepEqual(
        (await alertsOf(t.app, 'low_stock', k1, arroz)).map((a) => a.id),
        [first[0]!.id],
        'no repeat while low',
      );
      await checkoutLike(t.app, k1, arroz, 3_000); // 5: still low
      assert.equal(open(await alertsOf(t.app, 'low_stock', k1, arroz)).length, 1);
      await checkoutLike(t.app, k1, arroz, 1_000); // 6: above it
      const resolved = await alertsOf(t.app, 'low_stock', k1, arroz);
      assert.equal(resolved.length, 1);
      assert.equal(resolved[0]!.status, 'resolved');
      assert.ok(resolved[0]!.resolved_at);
      assert.equal(resolved[0]!.open_key, null);
      await checkoutLike(t.app, k1, arroz, -2_000); // 4: a new drop
      const again = await alertsOf(t.app, 'low_stock', k1, arroz);
      assert.equal(again.length, 2);
      assert.equal(again[1]!.status, 'open');
      assert.notEqual(again[1]!.id, again[0]!.id);
    });

    it('from ingested files, a corrected re-upload included', async () => {
      const [s1, feijao] = [c.store.S1!, c.product.FEIJAO!];
      let r = await ingest(t.app, 'S1', '2026-03-01', [['FEIJAO', 15]]); // 30 → 15, reorder point 10
      assert.equal(r.status, 'loaded');
      assert.equal((await alertsOf(t.app, 'low_stock', s1, feijao)).length, 0);
      r = await ingest(t.app, 'S1', '2026-03-02', [
        ['FEIJAO', 4],
        ['FEIJAO', 2],
      ]); // 9
      assert.equal(r.status, 'loaded');
      const first = await alertsOf(t.app, 'low_stock', s1, feijao);
      assert.equal(first.length, 1);
      r = await ingest(t.app, 'S1', '2026-03-03', [['FEIJAO', 1]]); // 8: still low
      assert.equal(r.status, 'loaded');
      // the same file delivered again changes nothing either
      r = await ingest(t.app, 'S1', '2026-03-03', [['FEIJAO', 1]], 'vendas-again.csv');
      assert.equal(r.status, 'duplicate');
      assert.equal((await alertsOf(t.app, 'low_stock', s1, feijao)).length, 1);
      // the store corrects day 2 (2 sold, not 6): 30 − 15 − 2 − 1 = 12, above the reorder point
      r = await ingest(t.app, 'S1', '2026-03-02', [['FEIJAO', 2]], 'vendas-corrigido.csv');
      assert.equal(r.status, 'replaced');
      assert.equal(await onHand(t.app, s1, feijao), 12_000);
      const resolved = await alertsOf(t.app, 'low_stock', s1, feijao);
      assert.deepEqual(
        resolved.map((a) => a.status),
        ['resolved'],
      );
      r = await ingest(t.app, 'S1', '2026-03-04', [['FEIJAO', 3]]); // 9: low again
      const again = await alertsOf(t.app, 'low_stock', s1, feijao);
      assert.deepEqual(
        again.map((a) => a.status),
        ['resolved', 'open'],
      );
    });

    it('from a stock snapshot event, delivered twice', async () => {
      const [s1, leite] = [c.store.S1!, c.product.LEITE!];
      const snapshot = async (name: string) => {
        const info = await t.app.ctx.store.put(
          t.config.buckets.reports,
          `snapshots/S1/2026-03-05/${name}.csv`,
          'store_code,sku,on_hand\n',
          { contentType: 'text/csv' },
        );
        await t.app.runtime!.drain();
        return objectCreatedEvent(info);
      };
      await silentMove(t.app, s1, leite, -42_000); // 50 → 8, unnoticed until the snapshot
      assert.equal((await alertsOf(t.app, 'low_stock', s1, leite)).length, 0);
      const event = await snapshot('stock-1');
      assert.equal(open(await alertsOf(t.app, 'low_stock', s1, leite)).length, 1);
      // S3 delivers at least once: the same event again, straight into the handler
      const outcome = await handleSnapshotEvent(t.app.ctx, event);
      assert.deepEqual(outcome[0]!.evaluation.raised, []);
      assert.equal((await alertsOf(t.app, 'low_stock', s1, leite)).length, 1);
      await silentMove(t.app, s1, leite, 40_000); // 48
      await snapshot('stock-2');
      assert.deepEqual(
        (await alertsOf(t.app, 'low_stock', s1, leite)).map((a) => a.status),
        ['resolved'],
      );
      await silentMove(t.app, s1, leite, -45_000); // 3
      const later = await snapshot('stock-3');
      await handleSnapshotEvent(t.app.ctx, later);
      assert.deepEqual(
        (await alertsOf(t.app, 'low_stock', s1, leite)).map((a) => a.status),
        ['resolved', 'open'],
      );
    });

    it('below zero: a count is due; resolved at zero while the low-stock alert stays', async () => {
      const [k1, leite] = [c.store.K1!, c.product.LEITE!];
      await checkoutLike(t.app, k1, leite, -51_000); // 50 → −1
      const neg = await alertsOf(t.app, 'negative_stock', k1, leite);
      assert.equal(neg.length, 1);
      assert.match(neg[0]!.message, /below zero \(-1\): a stock count is due/);
      assert.equal(open(await alertsOf(t.app, 'low_stock', k1, leite)).length, 1);
      await checkoutLike(t.app, k1, leite, -1_000);
      assert.equal((await alertsOf(t.app, 'negative_stock', k1, leite)).length, 1, 'no repeat');
      await checkoutLike(t.app, k1, leite, 2_000); // 0
      assert.deepEqual(
        (await alertsOf(t.app, 'negative_stock', k1, leite)).map((a) => a.status),
        ['resolved'],
      );
      assert.equal(open(await alertsOf(t.app, 'low_stock', k1, leite)).length, 1);
    });

    it("a missing daily file, after the store's closing time plus grace in its own time zone", async () => {
      const s2 = c.store.S2!;
      // S2 is in Manaus (UTC−4), closes at 21:00; with 120 minutes of grace its file is due by 23:00 local time
      await t.app.ctx.database.db
        .updateTable('stores')
        .set({ created_at: '2026-03-01T12:00:00.000Z' })
        .where('id', '=', s2)
        .execute();
      const store = { timezone: 'America/Manaus', closing_time: '21:00', created_at: '2026-03-01T12:00:00.000Z' };
      assert.deepEqual(
        dueDays(store, new Date('2026-03-06T02:59:00Z'), 120).map((d) => d.date),
        ['2026-03-04'],
        '22:59 in Manaus: only yesterday is due',
      );
      assert.deepEqual(
        dueDays(store, new Date('2026-03-06T03:00:00Z'), 120).map((d) => d.date),
        ['2026-03-04', '2026-03-05'],
        '23:00 in Manaus: today is due too',
      );
      assert.deepEqual(dueDays(store, new Date('2026-03-01T12:00:00Z'), 120), [], 'nothing before the store existed');

      // the scheduled job, on a clock at 08:00 in Manaus on 5 March
      const scheduler = new Scheduler(t.app.ctx.database, { now: () => new Date('2026-03-05T12:00:00Z') });
      registerAlertJobs(scheduler, t.app.ctx);
      await scheduler.tick();
      let missing = await alertsOf(t.app, 'missing_file', s2);
      assert.equal(missing.length, 1, 'S1 existed only from today; K1 sends no files');
      assert.match(
        missing[0]!.message,
        /Store S2 \(Loja Norte\) has not sent its sales file for 2026-03-04, due by 23:00/,
      );
      assert.equal((await alertsOf(t.app, 'missing_file')).length, 1);

      const late = new Date('2026-03-06T03:30:00Z'); // 23:30 on the 5th in Manaus
      await checkMissingFiles(t.app.ctx.database, { now: late, graceMinutes: 120 });
      await checkMissingFiles(t.app.ctx.database, { now: late, graceMinutes: 120 });
      missing = await alertsOf(t.app, 'missing_file', s2);
      assert.deepEqual(
        missing.map((a) => [JSON.parse(a.details!).businessDate, a.status]),
        [
          ['2026-03-04', 'open'],
          ['2026-03-05', 'open'],
        ],
      );
      assert.equal((await ingest(t.app, 'S2', '2026-03-04', [['ARROZ', 1]])).status, 'loaded');
      const r = await checkMissingFiles(t.app.ctx.database, { now: late, graceMinutes: 120 });
      assert.equal(r.resolved, 1);
      missing = await alertsOf(t.app, 'missing_file', s2);
      assert.deepEqual(
        missing.map((a) => a.status),
        ['resolved', 'open'],
      );
    });

    it('a failed file and a dead-lettered event raise their alerts', async () => {
      await t.app.ctx.store.put(
        t.config.buckets.sales,
        'incoming/S1/2026-03-07/quebrado.csv',
        'isto não é um arquivo de vendas\n\u0000\u0001',
      );
      await t.app.runtime!.drain();
      const file = await t.app.ctx.database.db
        .selectFrom('ingest_files')
        .select('status')
        .where('object_key', '=', 'incoming/S1/2026-03-07/quebrado.csv')
        .executeTakeFirstOrThrow();
      assert.equal(file.status, 'failed');
      const failed = await alertsOf(t.app, 'failed_file', c.store.S1!);
      assert.ok(
        failed.some((a) => a.message.includes('incoming/S1/2026-03-07/quebrado.csv')),
        JSON.stringify(failed),
      );

      await t.app.runtime!.queue.enqueue('no-such-topic', `test-dead:${dialect}`, { hello: 'world' });
      await t.app.runtime!.drain();
      const dead = (await alertsOf(t.app, 'dead_event')).filter(
        (a) => JSON.parse(a.details!).topic === 'no-such-topic',
      );
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.store_id, null);
      assert.equal(dead[0]!.severity, 'critical');
      assert.match(dead[0]!.message, /no-such-topic/);
    });

    it('evaluating named products touches only their alerts, whether a few are named or a whole file of them', async () => {
      const [s1, feijao, leite] = [c.store.S1!, c.product.FEIJAO!, c.product.LEITE!];
      const setTo = async (productId: number, milli: number) =>
        silentMove(t.app, s1, productId, milli - (await onHand(t.app, s1, productId)));
      const evaluate = (ids: number[]) => inTransaction(t.app.ctx.database, (trx) => evaluateStock(trx, s1, ids));
      // more names than are probed one by one: the store's open alerts are read by key range and filtered
      const many = (id: number) => [id, ...Array.from({ length: 600 }, (_, i) => 50_000_000 + i)];
      const openLow = async (productId: number) => open(await alertsOf(t.app, 'low_stock', s1, productId)).length;

      // from a known start: both well stocked, nothing open (earlier tests left S1 as they left it)
      await setTo(feijao, 100_000);
      await setTo(leite, 100_000);
      await evaluate([feijao, leite]);
      assert.equal((await openLow(feijao)) + (await openLow(leite)), 0);

      await setTo(feijao, 1_000);
      await setTo(leite, 1_000);
      const first = await evaluate([feijao, leite]);
      assert.equal(first.raised.length, 2);
      assert.equal(await openLow(feijao), 1);
      assert.equal(await openLow(leite), 1);
      assert.deepEqual(await evaluate(many(feijao)), { raised: [], resolved: 0 }, 'an open alert is not raised again');

      await setTo(feijao, 100_000);
      await setTo(leite, 100_000);
      assert.equal((await evaluate(many(feijao))).resolved, 1);
      assert.equal(await openLow(feijao), 0);
      assert.equal(await openLow(leite), 1, 'not named: left open though its stock recovered');
      assert.equal((await evaluate([leite])).resolved, 1);
      assert.equal(await openLow(leite), 0);

      await setTo(feijao, 2_000);
      assert.equal((await evaluate(many(feijao))).raised.length, 1, 'a new drop, found through the long list');
      assert.equal(await openLow(feijao), 1);
    });
  });
}
