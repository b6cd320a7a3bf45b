// Checkouts written in batches (src/checkout/checkouts.ts registerBatch), called in-process so that purchases really
// arrive together, on SQLite and MariaDB:
//   - the same Idempotency-Key several times in one batch: one purchase, the same bytes for every send, and a
//     different body under that key refused (422);
//   - purchases of two stores in one batch (SQLite has one committer for every store): each answer names its own
//     checkout row, lines and store;
//   - refusals inside a batch: each purchase is judged against the stock the earlier ones of the batch left;
//   - MariaDB: a key committed by another process after the batch looked for it makes the batch's insert of keys
//     fail; the batch is rolled back and run purchase by purchase, the others are recorded once, and the twin gets
//     the other process's answer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type CheckoutView, checkoutBatchStats, registerCheckout } from '../src/checkout/checkouts.ts';
import { requestHash } from '../src/checkout/idempotency.ts';
import { connect } from '../src/db/connect.ts';
import { nowIso } from '../src/db/tx.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { receiveGoods } from '../src/inventory/operations.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import { createProducts, createStores } from './support/auth.ts';
import { backends, sawStockLockWait } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

for (const dialect of backends()) {
  describe(`checkouts written in batches on ${dialect}`, () => {
    let t: TestServer;
    const database = () => t.app.ctx.database;
    const db = () => database().db;
    const storeIds = new Map<string, number>();
    const productIds = new Map<string, number>();

    const buy = (store: string, lines: Array<{ sku: string; quantity?: number }>, key = randomUUID()) =>
      registerCheckout(
        database(),
        { store, paymentMethod: 'pix', lines },
        { actor: `kiosk:${store}`, idempotencyKey: key },
      );
    const onHand = async (store: string, sku: string) => {
      const r = await db()
        .selectFrom('stock_balances')
        .select('on_hand_milli')
        .where('store_id', '=', storeIds.get(store)!)
        .where('product_id', '=', productIds.get(sku)!)
        .executeTakeFirst();
      return r ? Number(r.on_hand_milli) : 0;
    };
    const receive = (store: string, sku: string, quantity: number) =>
      receiveGoods(
        database(),
        store,
        { reference: `NF-${randomUUID().slice(0, 8)}`, lines: [{ sku, quantity }] },
        'test',
      );
    const invariants = async () => {
      assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
      assert.deepEqual(await rollupMismatches(db()), [], 'the roll-up equals the sum of the sales lines');
    };

    before(async () => {
      t = await startTestServer(dialect);
      await createStores(t, ['K01', 'K02'], 'selfservice');
      for (const r of await db().selectFrom('stores').select(['id', 'code']).execute())
        storeIds.set(r.code, Number(r.id));
      for (const [sku, id] of await createProducts(t, ['P1', 'P2', 'P3', 'HELD', 'FEW'])) productIds.set(sku, id);
      for (const store of ['K01', 'K02']) for (const sku of ['P1', 'P2', 'P3', 'HELD']) await receive(store, sku, 1000);
    });
    after(async () => t?.close());

    it('the same key several times in one batch is one purchase answered with the same bytes', async () => {
      const before = await onHand('K01', 'P1');
      const key = randomUUID();
      const sends = await Promise.allSettled([
        buy('K01', [{ sku: 'P2' }]),
        buy('K01', [{ sku: 'P1', quantity: 2 }], key),
        buy('K01', [{ sku: 'P1', quantity: 2 }], key),
        buy('K01', [{ sku: 'P1', quantity: 3 }], key),
        buy('K01', [{ sku: 'P1', quantity: 2 }], key),
      ]);
      assert.deepEqual(
        sends.map((s) => s.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      const [, first, second, different, third] = sends;
      const body = (s: PromiseSettledResult<{ body: string }> | undefined) =>
        (s as PromiseFulfilledResult<{ body: string }>).value.body;
      assert.equal(body(second), body(first));
      assert.equal(body(third), body(first));
      assert.equal(
        (different as PromiseRejectedResult).reason.kind,
        'unprocessable',
        'another body under the key: 422',
      );
      assert.equal(await onHand('K01', 'P1'), before - 2000, 'one purchase of 2');
      const id = (JSON.parse(body(first)) as CheckoutView).id;
      const lines = await db()
        .selectFrom('sales_lines')
        .select('quantity_milli')
        .where('checkout_id', '=', id)
        .execute();
      assert.deepEqual(
        lines.map((l) => Number(l.quantity_milli)),
        [2000],
      );
      if (dialect === 'sqlite') assert.ok(checkoutBatchStats(database()).largest >= 5, 'they were one batch');
      await invariants();
    });

    it('purchases of two stores in one batch each name their own checkout, lines and store', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => buy(i % 2 ? 'K02' : 'K01', [{ sku: 'P3', quantity: 1 + (i % 3) }])),
      );
      for (const [i, a] of answers.entries()) {
        const view = JSON.parse(a.body) as CheckoutView;
        const store = i % 2 ? 'K02' : 'K01';
        assert.equal(view.store, store);
        const row = await db()
          .selectFrom('checkouts')
          .select(['store_id', 'receipt_id', 'total_cents'])
          .where('id', '=', view.id)
          .executeTakeFirstOrThrow();
        assert.equal(Number(row.store_id), storeIds.get(store));
        assert.equal(row.receipt_id, view.receiptId);
        assert.equal(Number(row.total_cents), view.totalCents);
        const lines = await db()
          .selectFrom('sales_lines')
          .select(['store_id', 'quantity_milli', 'receipt_id'])
          .where('checkout_id', '=', view.id)
          .execute();
        assert.deepEqual(lines, [
          { store_id: storeIds.get(store), quantity_milli: (1 + (i % 3)) * 1000, receipt_id: view.receiptId },
        ]);
        const moved = await db()
          .selectFrom('stock_movements')
          .select('delta_milli')
          .where('ref', '=', `checkout:${view.id}:line:1`)
          .execute();
        assert.deepEqual(
          moved.map((m) => Number(m.delta_milli)),
          [-(1 + (i % 3)) * 1000],
        );
      }
      await invariants();
    });

    it('judges each purchase of a batch against the stock the earlier ones left', async () => {
      await receive('K02', 'FEW', 4);
      const sends = await Promise.allSettled([
        buy('K02', [{ sku: 'FEW', quantity: 3 }]),
        buy('K02', [{ sku: 'FEW', quantity: 2 }]),
        buy('K02', [{ sku: 'FEW', quantity: 1 }]),
        buy('K02', [{ sku: 'FEW', quantity: 1 }]),
      ]);
      const sold = sends.flatMap((s) =>
        s.status === 'fulfilled' ? [(JSON.parse(s.value.body) as CheckoutView).lines[0]!.quantity] : [],
      );
      for (const s of sends) {
        if (s.status === 'rejected') assert.equal(s.reason.kind, 'conflict', String(s.reason));
      }
      assert.equal(
        sold.reduce((a, b) => a + b, 0),
        4,
        'exactly the 4 on hand were sold',
      );
      if (dialect === 'sqlite') assert.deepEqual(sold, [3, 1], 'in arrival order: 3, then 2 is refused, then 1');
      assert.equal(await onHand('K02', 'FEW'), 0);
      await invariants();
    });

    if (dialect === 'mysql') {
      it('a key another process commits meanwhile: the batch runs purchase by purchase and the twin gets that answer', async () => {
        const key = randomUUID();
        const lines = [{ sku: 'P1', quantity: 1 }];
        const theirs = JSON.stringify({ id: -1, note: 'recorded by another server' });
        const other = await connect(t.config.databaseUrl, { pool: 2 });
        const before = await onHand('K01', 'P3');
        const splitsBefore = checkoutBatchStats(database()).splits;
        let release = () => {};
        const released = new Promise<void>((r) => {
          release = r;
        });
        let otherTx: Promise<void> = Promise.resolve();
        try {
          let holding!: () => void;
          const held = new Promise<void>((r) => {
            holding = r;
          });
          // the other process: holds HELD's stock row (so the next batch waits behind one that needs it) and has
          // written, not yet committed, the answer to `key`
          // the other process holds HELD's stock row, and writes and commits the answer to `key` once the batch has
          // looked for its keys and waits for that row
          otherTx = other.db.transaction().execute(async (trx) => {
            await sql`select on_hand_milli from stock_balances where store_id = ${storeIds.get('K01')} and product_id = ${productIds.get('HELD')} for update`.execute(
              trx,
            );
            holding();
            await released;
            await trx
              .insertInto('idempotency_keys')
              .values({
                scope: `checkout:${storeIds.get('K01')}`,
                idem_key: key,
                request_hash: requestHash({ store: 'K01', paymentMethod: 'pix', lines }),
                status_code: 201,
                response: theirs,
                created_at: nowIso(),
              })
              .execute();
          });
          await held;
          // one batch: called together, they reach the committer before it takes its next batch
          const blocked = buy('K01', [{ sku: 'HELD' }]);
          const twin = buy('K01', lines, key);
          const others = Array.from({ length: 5 }, () => buy('K01', [{ sku: 'P3' }]));
          assert.ok(await sawStockLockWait(other.db, t.config.databaseUrl), 'the batch waits on the held row');
          release();
          await otherTx;
          assert.equal((await blocked).statusCode, 201);
          const answer = await twin;
          assert.equal(answer.body, theirs, "the twin is answered with the other process's purchase");
          assert.equal(answer.replayed, true);
          for (const o of await Promise.all(others)) assert.equal(o.statusCode, 201);
          assert.equal(checkoutBatchStats(database()).splits, splitsBefore + 1, 'the batch ran purchase by purchase');
          assert.equal(await onHand('K01', 'P3'), before - 5000, 'the five others recorded once each');
          assert.equal(
            (
              await db()
                .selectFrom('sales_lines')
                .select('id')
                .where('store_id', '=', storeIds.get('K01')!)
                .where('product_id', '=', productIds.get('P1')!)
                .where('source', '=', 'checkout')
                .execute()
            ).length,
            1,
            'P1 sold only by the first test, not by the twin',
          );
          await invariants();
        } finally {
          release();
          await otherTx.catch(() => {});
          await other.close();
        }
      });
    }
  });
}
