// Restock orders end to end, on SQLite and MariaDB: drafted by low-stock alerts (one open order per store and
// supplier, never a double order), each line explaining its quantity; approved and issued as PDF and CSV purchase
// orders in the reports bucket and e-mailed to the supplier (a real SMTP server); received in two deliveries through
// the stock ledger; closed. The ledger invariant holds at the end. Changes to issued orders: restock-revisions.test.ts.
import assert from 'node:assert/strict';
import { buffer, text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { inTransaction } from '../src/db/tx.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { draftRestock } from '../src/restock/draft.ts';
import { approveOrder } from '../src/restock/issue.ts';
import {
  cancelOrder,
  getOrder,
  listOrders,
  type RestockOrderView,
  receiveAgainstOrder,
} from '../src/restock/orders.ts';
import { setSupplierEmail } from '../src/restock/suppliers.ts';
import {
  alertsOf,
  type Chain,
  checkoutLike,
  ingest,
  loadChain,
  onHand,
  pdfToText,
  startSmtp,
} from './alerts-fixtures.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

for (const dialect of backends()) {
  describe(`restock orders on ${dialect}`, () => {
    let t: TestApp;
    let c: Chain;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    const db = () => t.app.ctx.database.db;
    const ordersOf = (store: string) => listOrders(db(), { store });
    const line = (o: RestockOrderView, sku: string) => o.lines.find((l) => l.sku === sku)!;
    const orderFor = async (store: string, supplier: string, status?: string) => {
      const all = (await ordersOf(store)).filter((o) => o.supplier === supplier && (!status || o.status === status));
      assert.equal(all.length, 1, `one ${status ?? ''} order of ${supplier} at ${store}: ${JSON.stringify(all)}`);
      return getOrder(db(), all[0]!.id);
    };

    before(async () => {
      smtp = await startSmtp();
      t = await createTestApp(dialect, { SHOPFLOW_SMTP_URL: smtp.url, SHOPFLOW_MAIL_FROM: 'compras@shopflow.example' });
      c = await loadChain(t.app);
      await setSupplierEmail(t.app.ctx.database, 'Camil Alimentos', 'pedidos@camil.example', 'test');
    });
    after(async () => {
      if (t) assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
      await t?.close();
      await smtp?.close();
    });

    it('two low-stock alerts of one supplier make one draft with two lines, each explaining itself', async () => {
      const k1 = c.store.K1!;
      await checkoutLike(t.app, k1, c.product.ARROZ!, -16_000); // 4: reorder point 5, target 30, packs of 6
      await checkoutLike(t.app, k1, c.product.FEIJAO!, -21_000); // 9: reorder point 10, target 40, packs of 12
      await checkoutLike(t.app, k1, c.product.LEITE!, -41_000); // 9: another supplier
      const orders = await ordersOf('K1');
      assert.deepEqual(orders.map((o) => [o.supplier, o.status, o.lineCount]).sort(), [
        ['Camil Alimentos', 'draft', 2],
        ['Italac', 'draft', 1],
      ]);
      const camil = await orderFor('K1', 'Camil Alimentos');
      const arroz = line(camil, 'ARROZ');
      assert.equal(arroz.quantity, 30); // 30 − 4 = 26 short → 5 packs of 6
      assert.equal(line(camil, 'FEIJAO').quantity, 36); // 40 − 9 = 31 short → 3 packs of 12
      assert.equal(line(await orderFor('K1', 'Italac'), 'LEITE').quantity, 60); // 60 − 9 = 51 → 5 packs of 12
      const [alert] = await alertsOf(t.app, 'low_stock', k1, c.product.ARROZ!);
      assert.deepEqual(
        {
          method: arroz.rationale!.method,
          alertId: arroz.rationale!.alertId,
          onHand: arroz.rationale!.onHandMilli,
          onOrder: arroz.rationale!.onOrderMilli,
          target: arroz.rationale!.targetMilli,
          pack: arroz.rationale!.packSizeMilli,
          packs: arroz.rationale!.packs,
        },
        { method: 'target_level', alertId: alert!.id, onHand: 4000, onOrder: 0, target: 30000, pack: 6000, packs: 5 },
      );
      assert.equal(
        arroz.rationale!.explanation,
        'projected stock 4 = 4 on hand + 0 on order; target level 30; order 30 = 5 packs of 6 covering the shortfall of 26.',
      );
    });

    it('products a file sends low together are drafted together, each line sized as if alone', async () => {
      const r = await ingest(t.app, 'S1', '2026-04-01', [
        ['ARROZ', 16],
        ['FEIJAO', 21],
        ['LEITE', 41],
      ]);
      assert.equal(r.status, 'loaded');
      const orders = await ordersOf('S1');
      assert.deepEqual(orders.map((o) => [o.supplier, o.status, o.lineCount]).sort(), [
        ['Camil Alimentos', 'draft', 2],
        ['Italac', 'draft', 1],
      ]);
      const camil = await orderFor('S1', 'Camil Alimentos');
      // the same levels as K1 in the test above, where the three went low one checkout at a time
      assert.equal(line(camil, 'ARROZ').quantity, 30);
      assert.equal(line(camil, 'FEIJAO').quantity, 36);
      assert.equal(line(await orderFor('S1', 'Italac'), 'LEITE').quantity, 60);
      const [alert] = await alertsOf(t.app, 'low_stock', c.store.S1!, c.product.FEIJAO!);
      assert.equal(line(camil, 'FEIJAO').rationale!.alertId, alert!.id);
      const trail = await db()
        .selectFrom('audit_log')
        .select('action')
        .where('target', '=', `restock_order:${camil.id}`)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        trail.map((a) => a.action),
        ['restock.draft', 'restock.extend'],
      );
    });

    it('a repeated alert does not double the quantity; a deeper drop extends the line instead of adding to it', async () => {
      const [k1, arroz] = [c.store.K1!, c.product.ARROZ!];
      await checkoutLike(t.app, k1, arroz, 10_000); // 14: resolved
      await checkoutLike(t.app, k1, arroz, -10_000); // 4: a second alert
      assert.equal((await alertsOf(t.app, 'low_stock', k1, arroz)).length, 2);
      assert.equal(line(await orderFor('K1', 'Camil Alimentos'), 'ARROZ').quantity, 30);
      const again = await inTransaction(t.app.ctx.database, (trx) =>
        draftRestock(trx, { storeId: k1, productId: arroz }),
      );
      assert.equal(again.action, 'unchanged');

      await checkoutLike(t.app, k1, arroz, 10_000); // 14: resolved
      await checkoutLike(t.app, k1, arroz, -22_000); // −8: a third alert
      const camil = await orderFor('K1', 'Camil Alimentos');
      assert.equal(camil.lines.length, 2);
      const l = line(camil, 'ARROZ');
      assert.equal(l.quantity, 42, '30 − (−8) = 38 short → 7 packs, not 30 + 42');
      assert.equal(l.rationale!.previousQuantityMilli, 30_000);
      assert.equal((await ordersOf('K1')).length, 2, 'still one draft per supplier');
    });

    it('the projected stock counts open orders: a need the issued order already covers changes nothing', async () => {
      const [k1, arroz] = [c.store.K1!, c.product.ARROZ!];
      const camil = await orderFor('K1', 'Camil Alimentos', 'draft');
      const issued = await approveOrder(t.app.ctx, camil.id, 'user:ana');
      assert.equal(issued.status, 'issued');
      assert.equal(issued.approvedBy, 'user:ana');
      assert.deepEqual([issued.revision, issued.pendingChanges], [1, false]);

      await checkoutLike(t.app, k1, arroz, 22_000); // 14: resolved
      await checkoutLike(t.app, k1, arroz, -10_000); // 4: a new alert, but 42 are on the way: 46 ≥ 30
      assert.equal(await onHand(t.app, k1, arroz), 4000);
      assert.equal((await ordersOf('K1')).length, 2, 'no new order: the issued one covers it');
      const again = await inTransaction(t.app.ctx.database, (trx) =>
        draftRestock(trx, { storeId: k1, productId: arroz }),
      );
      assert.deepEqual([again.action, again.orderId, again.quantityMilli], ['unchanged', camil.id, 42_000]);
      const still = await getOrder(db(), camil.id);
      assert.deepEqual([still.status, still.pendingChanges, line(still, 'ARROZ').quantity], ['issued', false, 42]);
    });

    it('issue → supplier e-mail → partial receipt → full receipt → closed, with the right stock', async () => {
      const [k1, arroz, feijao] = [c.store.K1!, c.product.ARROZ!, c.product.FEIJAO!];
      const order = await orderFor('K1', 'Camil Alimentos', 'issued');
      assert.deepEqual(order.documents, {
        pdf: `purchase-orders/K1/${order.id}.pdf`,
        csv: `purchase-orders/K1/${order.id}.csv`,
      });
      const reports = t.config.buckets.reports;
      const csv = await text((await t.app.ctx.store.get(reports, order.documents!.csv)).body);
      assert.equal(
        csv,
        'order_id,store_code,store_name,supplier,sku,ean,description,unit,quantity,pack_size,packs,revision,change,received\r\n' +
          `${order.id},K1,Pit Stop 1,Camil Alimentos,ARROZ,,Arroz Tipo 1 5kg,UN,42,6,7,1,42,0\r\n` +
          `${order.id},K1,Pit Stop 1,Camil Alimentos,FEIJAO,,Feijao Carioca 1kg,UN,36,12,3,1,36,0\r\n`,
      );
      const pdf = await buffer((await t.app.ctx.store.get(reports, order.documents!.pdf)).body);
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const pdfText = await pdfToText(pdf);
      assert.match(pdfText, new RegExp(`Purchase order #${order.id} Store: K1 - Pit Stop 1 Supplier: Camil Alimentos`));
      assert.match(pdfText, /ARROZ Arroz Tipo 1 5kg UN 42 7 FEIJAO Feijao Carioca 1kg UN 36 3/);
      assert.match(pdfText, /page 1 of 1/);

      await t.app.runtime!.drain();
      const mail = smtp.mails.find((m) => m.to.includes('pedidos@camil.example'));
      assert.ok(mail, 'the supplier got the purchase order');
      assert.match(mail.text, new RegExp(`Subject: Purchase order #${order.id} from Pit Stop 1 \\(K1\\)`));
      assert.match(mail.text, /- ARROZ Arroz Tipo 1 5kg: 42 UN/);
      assert.match(mail.raw, new RegExp(`filename=purchase-order-${order.id}\\.pdf`));
      assert.match(mail.raw, /Content-Type: application\/pdf/);
      assert.equal((await getOrder(db(), order.id)).emailedTo, 'pedidos@camil.example');
      assert.equal((await getOrder(db(), order.id)).emailedRevision, 1);

      const [arroz0, feijao0] = [await onHand(t.app, k1, arroz), await onHand(t.app, k1, feijao)];
      const first = await receiveAgainstOrder(t.app.ctx.database, order.id, {
        lines: [
          { sku: 'ARROZ', quantity: 42 },
          { sku: 'FEIJAO', quantity: '12' },
        ],
        reference: 'NF-1001',
        actor: 'user:clerk',
      });
      assert.equal(first.status, 'partially_received');
      assert.equal(await onHand(t.app, k1, arroz), arroz0 + 42_000);
      assert.equal(await onHand(t.app, k1, feijao), feijao0 + 12_000);
      await assert.rejects(
        receiveAgainstOrder(t.app.ctx.database, order.id, {
          lines: [{ sku: 'FEIJAO', quantity: 1 }],
          reference: 'NF-1001',
          actor: 'user:clerk',
        }),
        /delivery note NF-1001 was already received/,
      );
      await assert.rejects(
        receiveAgainstOrder(t.app.ctx.database, order.id, {
          lines: [{ sku: 'FEIJAO', quantity: 25 }],
          actor: 'user:clerk',
        }),
        /exceeds what is outstanding on order \d+ \(24\)/,
      );
      await assert.rejects(
        receiveAgainstOrder(t.app.ctx.database, order.id, {
          lines: [{ sku: 'FEIJAO', quantity: 1.5 }],
          actor: 'user:clerk',
        }),
        /must be a whole number/,
      );
      assert.equal((await getOrder(db(), order.id)).status, 'partially_received', 'refused receipts changed nothing');

      const second = await receiveAgainstOrder(t.app.ctx.database, order.id, {
        lines: [{ sku: 'FEIJAO', quantity: 24 }],
        actor: 'user:clerk',
      });
      assert.equal(second.status, 'closed');
      const closed = await getOrder(db(), order.id);
      assert.equal(closed.status, 'closed');
      assert.ok(closed.closedAt);
      assert.deepEqual(
        closed.lines.map((l) => [l.sku, l.quantity, l.received, l.outstanding]),
        [
          ['ARROZ', 42, 42, 0],
          ['FEIJAO', 36, 36, 0],
        ],
      );
      assert.equal(await onHand(t.app, k1, arroz), arroz0 + 42_000);
      assert.equal(await onHand(t.app, k1, feijao), feijao0 + 36_000);
      const receipts = await db()
        .selectFrom('stock_movements')
        .select(['ref', 'delta_milli', 'kind'])
        .where('ref', 'like', `restock:${order.id}:%`)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        receipts.map((m) => [m.kind, Number(m.delta_milli)]),
        [
          ['receipt', 42_000],
          ['receipt', 12_000],
          ['receipt', 24_000],
        ],
      );
      // FEIJAO is back above its reorder point: its alert resolved with the receipt
      assert.deepEqual(
        (await alertsOf(t.app, 'low_stock', k1, feijao)).map((a) => a.status),
        ['resolved'],
      );
      await assert.rejects(
        receiveAgainstOrder(t.app.ctx.database, order.id, {
          lines: [{ sku: 'ARROZ', quantity: 1 }],
          actor: 'user:clerk',
        }),
        /is closed; goods are received against an issued order/,
      );
      assert.deepEqual(await ledgerMismatches(db()), []);
    });

    it('a cancelled order no longer counts; approving needs a draft or pending changes', async () => {
      const [k1, leite] = [c.store.K1!, c.product.LEITE!];
      const italac = await orderFor('K1', 'Italac', 'draft');
      await cancelOrder(t.app.ctx.database, italac.id, 'user:ana');
      await assert.rejects(
        cancelOrder(t.app.ctx.database, italac.id, 'user:ana'),
        /is cancelled; it cannot be cancelled/,
      );
      await assert.rejects(
        approveOrder(t.app.ctx, italac.id, 'user:ana'),
        /is cancelled; only a draft or an order with pending changes can be approved/,
      );
      await checkoutLike(t.app, k1, leite, 10_000); // 19: resolved
      await checkoutLike(t.app, k1, leite, -10_000); // 9: a new alert → a new draft, since the cancelled order counts for nothing
      const fresh = await orderFor('K1', 'Italac', 'draft');
      assert.notEqual(fresh.id, italac.id);
      assert.equal(line(fresh, 'LEITE').quantity, 60);
      // a store the caller cannot see has no such order
      await assert.rejects(getOrder(db(), fresh.id, [c.store.S1!]), /does not exist/);
    });

    it('with 14 days of sales history, covers lead time + review period at the recent rate plus safety stock', async () => {
      const [s2, arroz] = [c.store.S2!, c.product.ARROZ!];
      for (let d = 1; d <= 14; d++) {
        const r = await ingest(t.app, 'S2', `2026-04-${String(d).padStart(2, '0')}`, [['ARROZ', 1]]);
        assert.equal(r.status, 'loaded');
      }
      assert.equal(await onHand(t.app, s2, arroz), 6000); // 20 − 14, above the reorder point 5
      const plan = await inTransaction(t.app.ctx.database, (trx) =>
        draftRestock(trx, { storeId: s2, productId: arroz, now: new Date('2026-04-15T15:00:00Z') }),
      );
      assert.equal(plan.action, 'created');
      const l = line(await orderFor('S2', 'Camil Alimentos', 'draft'), 'ARROZ');
      // 14 sold in 14 days = 1 a day; lead time 2 + review 7 = 9; safety 3 → target 12; 12 − 6 = 6 → one pack of 6
      assert.equal(l.rationale!.method, 'sales_rate');
      assert.deepEqual(l.rationale!.history, {
        from: '2026-03-19',
        to: '2026-04-15',
        days: 14,
        soldMilli: 14_000,
        minDays: 14,
      });
      assert.equal(l.rationale!.cycleStockMilli, 9000);
      assert.equal(l.rationale!.safetyStockMilli, 3000);
      assert.equal(l.rationale!.targetMilli, 12_000);
      assert.equal(l.quantity, 6);
      assert.match(
        l.rationale!.explanation,
        /14 sold in 14 days covers 2 days of lead time \+ 7 days until the next order/,
      );
    });
  });
}
