// One open restock order per store and supplier, for the whole of its open life, on SQLite and MariaDB: a need
// arriving after the order was issued changes that order (never a second one) and waits for the manager, whose
// approval re-issues it as the next revision (documents `<id>-r<N>` in the reports bucket, e-mailed to the supplier
// through a real SMTP server); a line partly received is re-sized on its outstanding part; an approval withdrawn by a
// later change is not issued; closing and cancelling free the store and supplier; parallel needs leave one order.
import assert from 'node:assert/strict';
import { buffer, text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { inTransaction } from '../src/db/tx.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { importProducts, importStock } from '../src/masterdata/import.ts';
import { draftRestock } from '../src/restock/draft.ts';
import { approveOrder, issueOrder } from '../src/restock/issue.ts';
import {
  cancelOrder,
  getOrder,
  markApproved,
  OPEN_STATUSES,
  type RestockOrderView,
  receiveAgainstOrder,
} from '../src/restock/orders.ts';
import { setSupplierEmail } from '../src/restock/suppliers.ts';
import { type Chain, checkoutLike, loadChain, onHand, pdfToText, silentMove, startSmtp } from './alerts-fixtures.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

const CAMIL = 'Camil Alimentos';
const CSV_HEADER =
  'order_id,store_code,store_name,supplier,sku,ean,description,unit,quantity,pack_size,packs,revision,change,received\r\n';

// more products of the same supplier: MILHO at K1, six more at S1 for the parallel needs
const EXTRA_PRODUCTS = `sku,ean,name,category,unit,price,supplier,pack_size,lead_time_days
MILHO,,Milho Verde 200g,Mercearia,UN,3.50,${CAMIL},10,2
${[1, 2, 3, 4, 5, 6].map((n) => `CAMIL${n},,Camil item ${n},Mercearia,UN,5.00,${CAMIL},5,2`).join('\n')}
`;
const EXTRA_STOCK = `store_code,sku,on_hand,reorder_point,target_level
K1,MILHO,20,5,20
${[1, 2, 3, 4, 5, 6].map((n) => `S1,CAMIL${n},2,5,20`).join('\n')}
`;

for (const dialect of backends()) {
  describe(`restock order revisions on ${dialect}`, () => {
    let t: TestApp;
    let c: Chain;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let orderA: number;
    let orderB: number;
    const db = () => t.app.ctx.database.db;
    const database = () => t.app.ctx.database;
    const line = (o: RestockOrderView, sku: string) => o.lines.find((l) => l.sku === sku)!;
    const draft = (storeId: number, productId: number) =>
      inTransaction(database(), (trx) => draftRestock(trx, { storeId, productId }));
    /** the store and supplier's orders with an open status, straight from the table */
    const openOrders = async (storeId: number, supplier = CAMIL) =>
      (
        await db()
          .selectFrom('restock_orders')
          .select(['id', 'status', 'open_key'])
          .where('store_id', '=', storeId)
          .where('supplier', '=', supplier)
          .where('status', 'in', [...OPEN_STATUSES])
          .execute()
      ).map((o) => ({ ...o, id: Number(o.id) }));
    const auditOf = async (id: number, action: string) =>
      (
        await db()
          .selectFrom('audit_log')
          .select(['actor', 'details'])
          .where('target', '=', `restock_order:${id}`)
          .where('action', '=', action)
          .orderBy('id')
          .execute()
      ).map((a) => ({ actor: a.actor, details: JSON.parse(a.details ?? 'null') as Record<string, unknown> }));
    const object = async (key: string) => t.app.ctx.store.head(t.config.buckets.reports, key);
    const mailsTo = (address: string) => smtp.mails.filter((m) => m.to.includes(address));

    before(async () => {
      smtp = await startSmtp();
      t = await createTestApp(dialect, { SHOPFLOW_SMTP_URL: smtp.url, SHOPFLOW_MAIL_FROM: 'compras@shopflow.example' });
      c = await loadChain(t.app);
      for (const [fn, csv] of [
        [importProducts, EXTRA_PRODUCTS],
        [importStock, EXTRA_STOCK],
      ] as const) {
        assert.deepEqual((await fn(database(), Buffer.from(csv), 'test')).rejected, []);
      }
      const products = await db().selectFrom('products').select(['id', 'sku']).execute();
      c.product = Object.fromEntries(products.map((p) => [p.sku, Number(p.id)]));
      await setSupplierEmail(database(), CAMIL, 'pedidos@camil.example', 'test');
    });
    after(async () => {
      if (t) assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
      await t?.close();
      await smtp?.close();
    });

    it('a need after the order was issued extends that order, and approving re-issues it as revision 2', async () => {
      const k1 = c.store.K1!;
      await checkoutLike(t.app, k1, c.product.ARROZ!, -16_000); // 4: a draft for 30
      const [drafted] = await openOrders(k1);
      orderA = drafted!.id;
      const issued = await approveOrder(t.app.ctx, orderA, 'user:ana');
      assert.deepEqual([issued.status, issued.revision, issued.pendingChanges], ['issued', 1, false]);
      assert.equal(issued.documents!.pdf, `purchase-orders/K1/${orderA}.pdf`);
      assert.deepEqual(
        issued.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [['ARROZ', 30, 30]],
      );
      await t.app.runtime!.drain();
      assert.equal(mailsTo('pedidos@camil.example').length, 1, 'revision 1 e-mailed');

      await checkoutLike(t.app, k1, c.product.FEIJAO!, -21_000); // 9: low, same supplier
      assert.deepEqual(await openOrders(k1), [{ id: orderA, status: 'issued', open_key: `restock:${k1}:${CAMIL}` }]);
      const amended = await getOrder(db(), orderA);
      assert.deepEqual([amended.status, amended.revision, amended.pendingChanges], ['issued', 1, true]);
      assert.ok(amended.amendedAt);
      assert.deepEqual(
        amended.lines.map((l) => [l.sku, l.quantity, l.issued, l.received]),
        [
          ['ARROZ', 30, 30, 0],
          ['FEIJAO', 36, 0, 0],
        ],
      );
      assert.equal(line(amended, 'FEIJAO').rationale!.explanation.endsWith('covering the shortfall of 31.'), true);
      assert.deepEqual(
        (await auditOf(orderA, 'restock.amend')).map((a) => [a.details.sku, a.details.awaits]),
        [['FEIJAO', 'approval of revision 2']],
      );

      const r2 = await approveOrder(t.app.ctx, orderA, 'user:ana');
      assert.deepEqual([r2.status, r2.revision, r2.pendingChanges, r2.amendedAt], ['issued', 2, false, null]);
      assert.deepEqual(r2.documents, {
        pdf: `purchase-orders/K1/${orderA}-r2.pdf`,
        csv: `purchase-orders/K1/${orderA}-r2.csv`,
      });
      assert.deepEqual(
        r2.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [
          ['ARROZ', 30, 30],
          ['FEIJAO', 36, 36],
        ],
      );
      const reports = t.config.buckets.reports;
      assert.equal(
        await text((await t.app.ctx.store.get(reports, r2.documents!.csv)).body),
        CSV_HEADER +
          `${orderA},K1,Pit Stop 1,${CAMIL},ARROZ,,Arroz Tipo 1 5kg,UN,30,6,5,2,0,0\r\n` +
          `${orderA},K1,Pit Stop 1,${CAMIL},FEIJAO,,Feijao Carioca 1kg,UN,36,12,3,2,36,0\r\n`,
      );
      assert.equal(
        await text((await t.app.ctx.store.get(reports, `purchase-orders/K1/${orderA}.csv`)).body),
        `${CSV_HEADER}${orderA},K1,Pit Stop 1,${CAMIL},ARROZ,,Arroz Tipo 1 5kg,UN,30,6,5,1,30,0\r\n`,
        'revision 1 stays as the supplier got it',
      );
      const pdf = await pdfToText(await buffer((await t.app.ctx.store.get(reports, r2.documents!.pdf)).body));
      assert.match(pdf, new RegExp(`Purchase order #${orderA} — revision 2 Store: K1 - Pit Stop 1`));
      assert.match(pdf, /This revision replaces revision 1/);
      assert.match(pdf, /Quantity Change Received Packs/);
      assert.match(pdf, /ARROZ Arroz Tipo 1 5kg UN 30 0 0 5 FEIJAO Feijao Carioca 1kg \(new\) UN 36 \+36 0 3/);
      assert.match(pdf, /2 lines, 1 changed since revision 1\./);

      await t.app.runtime!.drain();
      const mails = mailsTo('pedidos@camil.example');
      assert.equal(mails.length, 2, 'revision 2 e-mailed although revision 1 was');
      assert.match(
        mails[1]!.text,
        new RegExp(`Subject: Purchase order #${orderA} revision 2 from Pit Stop 1 \\(K1\\)`),
      );
      assert.match(mails[1]!.text, /- FEIJAO Feijao Carioca 1kg: 36 UN/);
      assert.match(mails[1]!.raw, new RegExp(`filename=purchase-order-${orderA}-r2\\.pdf`));
      assert.match(mails[1]!.raw, new RegExp(`filename=purchase-order-${orderA}-r2\\.csv`));
      assert.equal((await getOrder(db(), orderA)).emailedRevision, 2);
      await t.app.runtime!.drain();
      assert.equal(mailsTo('pedidos@camil.example').length, 2, 'each revision once');

      await assert.rejects(
        approveOrder(t.app.ctx, orderA, 'user:ana'),
        /restock order \d+ is issued with no changes awaiting approval/,
      );
    });

    it('a need for a partly received line orders its outstanding part (received + plan); a covered need changes nothing', async () => {
      const [k1, arroz, feijao] = [c.store.K1!, c.product.ARROZ!, c.product.FEIJAO!];
      const first = await receiveAgainstOrder(database(), orderA, {
        lines: [
          { sku: 'ARROZ', quantity: 30 },
          { sku: 'FEIJAO', quantity: 12 },
        ],
        reference: 'NF-1',
        actor: 'user:clerk',
      });
      assert.equal(first.status, 'partially_received');
      assert.deepEqual([await onHand(t.app, k1, arroz), await onHand(t.app, k1, feijao)], [34_000, 21_000]);

      await checkoutLike(t.app, k1, arroz, -30_000); // 4: a new low-stock alert; the 30 received are on hand already
      const o = await getOrder(db(), orderA);
      assert.deepEqual([o.status, o.revision, o.pendingChanges], ['partially_received', 2, true]);
      const l = line(o, 'ARROZ');
      assert.deepEqual([l.quantity, l.received, l.issued, l.outstanding], [60, 30, 30, 30]);
      assert.deepEqual(
        {
          onHand: l.rationale!.onHandMilli,
          onOrder: l.rationale!.onOrderMilli,
          plan: l.rationale!.quantityMilli,
          previous: l.rationale!.previousQuantityMilli,
          received: l.rationale!.receivedMilli,
          line: l.rationale!.lineQuantityMilli,
        },
        { onHand: 4000, onOrder: 0, plan: 30_000, previous: 30_000, received: 30_000, line: 60_000 },
      );
      assert.equal(
        l.rationale!.explanation,
        'projected stock 4 = 4 on hand + 0 on order; target level 30; order 30 = 5 packs of 6 covering the shortfall ' +
          'of 26; 30 of this line already received (counted on hand), so it now orders 30 + 30 = 60.',
      );
      const again = await draft(k1, arroz);
      assert.deepEqual([again.action, again.quantityMilli], ['unchanged', 60_000], 'a repeated need adds nothing');

      // FEIJAO: 21 on hand, 24 of the line outstanding; 40 − 21 = 19 → 2 packs = 24, already covered
      const covered = await draft(k1, feijao);
      assert.equal(covered.action, 'unchanged');
      assert.match((covered as { reason: string }).reason, /already has 24 outstanding for it, and 24 is needed/);
      assert.deepEqual([line(await getOrder(db(), orderA), 'FEIJAO').quantity], [36]);

      // deliveries go on while the change waits; the order is complete only with the pending quantity too
      const second = await receiveAgainstOrder(database(), orderA, {
        lines: [{ sku: 'FEIJAO', quantity: 24 }],
        reference: 'NF-2',
        actor: 'user:clerk',
      });
      assert.equal(second.status, 'partially_received', 'ARROZ still has 30 to come');

      const r3 = await approveOrder(t.app.ctx, orderA, 'user:ana');
      assert.deepEqual([r3.revision, r3.status, r3.pendingChanges], [3, 'partially_received', false]);
      assert.equal(r3.documents!.csv, `purchase-orders/K1/${orderA}-r3.csv`);
      const reports = t.config.buckets.reports;
      assert.equal(
        await text((await t.app.ctx.store.get(reports, r3.documents!.csv)).body),
        CSV_HEADER +
          `${orderA},K1,Pit Stop 1,${CAMIL},ARROZ,,Arroz Tipo 1 5kg,UN,60,6,10,3,30,30\r\n` +
          `${orderA},K1,Pit Stop 1,${CAMIL},FEIJAO,,Feijao Carioca 1kg,UN,36,12,3,3,0,36\r\n`,
      );
      const pdf = await pdfToText(await buffer((await t.app.ctx.store.get(reports, r3.documents!.pdf)).body));
      assert.match(pdf, new RegExp(`Purchase order #${orderA} — revision 3`));
      assert.match(pdf, /ARROZ Arroz Tipo 1 5kg UN 60 \+30 30 10 FEIJAO Feijao Carioca 1kg UN 36 0 36 3/);
      await t.app.runtime!.drain();
      assert.match(
        mailsTo('pedidos@camil.example').at(-1)!.text,
        new RegExp(`Subject: Purchase order #${orderA} revision 3 from`),
      );
    });

    it('the full receipt closes the order and frees its store and supplier: the next need starts a new order', async () => {
      const [k1, arroz] = [c.store.K1!, c.product.ARROZ!];
      const last = await receiveAgainstOrder(database(), orderA, {
        lines: [{ sku: 'ARROZ', quantity: 30 }],
        actor: 'user:clerk',
      });
      assert.equal(last.status, 'closed');
      assert.deepEqual(await openOrders(k1), []);
      const closed = await db()
        .selectFrom('restock_orders')
        .select(['open_key', 'amended_at'])
        .where('id', '=', orderA)
        .executeTakeFirstOrThrow();
      assert.deepEqual(closed, { open_key: null, amended_at: null });

      assert.equal(await onHand(t.app, k1, arroz), 34_000);
      await checkoutLike(t.app, k1, arroz, -30_000); // 4: low again
      const open = await openOrders(k1);
      assert.equal(open.length, 1);
      orderB = open[0]!.id;
      assert.notEqual(orderB, orderA);
      const b = await getOrder(db(), orderB);
      assert.deepEqual([b.status, b.revision, b.pendingChanges], ['draft', 0, false]);
      assert.deepEqual(
        b.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [['ARROZ', 30, 0]],
      );
    });

    it('an order approved but not yet issued goes back to draft when a need extends it, and is not issued', async () => {
      const [k1, feijao] = [c.store.K1!, c.product.FEIJAO!];
      assert.deepEqual(await markApproved(database(), orderB, 'user:ana'), { storeId: k1, revision: 1 });
      assert.equal((await getOrder(db(), orderB)).status, 'approved');

      await checkoutLike(t.app, k1, feijao, -36_000); // 45 → 9: low, added to the approved order
      const back = await getOrder(db(), orderB);
      assert.deepEqual([back.status, back.approvedBy, back.revision], ['draft', null, 0]);
      assert.deepEqual(
        back.lines.map((l) => [l.sku, l.quantity]),
        [
          ['ARROZ', 30],
          ['FEIJAO', 36],
        ],
      );
      assert.deepEqual(
        (await auditOf(orderB, 'restock.approval_withdrawn')).map((a) => [
          a.details.approvedRevision,
          a.details.status,
        ]),
        [[1, 'draft']],
      );

      const outcome = await issueOrder(t.app.ctx, orderB, 'user:ana');
      assert.equal(outcome.issued, false);
      const still = await getOrder(db(), orderB);
      assert.deepEqual([still.status, still.documents, still.issuedAt], ['draft', null, null]);
      assert.equal(await object(`purchase-orders/K1/${orderB}.pdf`), undefined, 'no document was written');
      assert.deepEqual(
        (await auditOf(orderB, 'restock.issue_skipped')).map((a) => a.details.reason),
        ['the order was changed after its approval and is a draft again: it needs approving again'],
      );

      const issued = await approveOrder(t.app.ctx, orderB, 'user:ana');
      assert.deepEqual([issued.status, issued.revision], ['issued', 1]);
      assert.deepEqual(
        issued.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [
          ['ARROZ', 30, 30],
          ['FEIJAO', 36, 36],
        ],
      );
    });

    it('an approved re-issue changed again before it went out is withdrawn; approving then issues everything', async () => {
      const [k1, milho] = [c.store.K1!, c.product.MILHO!];
      await silentMove(t.app, k1, milho, -16_000); // 4
      assert.equal((await draft(k1, milho)).action, 'added');
      assert.deepEqual(await markApproved(database(), orderB, 'user:ana'), { storeId: k1, revision: 2 });
      await silentMove(t.app, k1, milho, -10_000); // −6: 20 − (−6) = 26 → 3 packs of 10
      const raised = await draft(k1, milho);
      assert.deepEqual([raised.action, raised.quantityMilli], ['extended', 30_000]);
      const o = await getOrder(db(), orderB);
      assert.deepEqual([o.status, o.revision, o.pendingChanges], ['issued', 1, true]);
      assert.deepEqual(
        (await auditOf(orderB, 'restock.approval_withdrawn')).map((a) => a.details.approvedRevision),
        [1, 2],
      );
      assert.equal((await issueOrder(t.app.ctx, orderB, 'user:ana')).issued, false);
      assert.equal(await object(`purchase-orders/K1/${orderB}-r2.pdf`), undefined);
      assert.equal(
        (await auditOf(orderB, 'restock.issue_skipped')).at(-1)!.details.reason,
        'the order was changed after its approval: revision 2 needs approving again',
      );

      const r2 = await approveOrder(t.app.ctx, orderB, 'user:ana');
      assert.equal(r2.revision, 2);
      assert.deepEqual(
        r2.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [
          ['ARROZ', 30, 30],
          ['FEIJAO', 36, 36],
          ['MILHO', 30, 30],
        ],
      );
      await silentMove(t.app, k1, milho, 26_000); // back to 20
    });

    it('cancelling frees the store and supplier too', async () => {
      const [k1, arroz] = [c.store.K1!, c.product.ARROZ!];
      await cancelOrder(database(), orderB, 'user:ana');
      assert.deepEqual(await openOrders(k1), []);
      assert.equal(await onHand(t.app, k1, arroz), 4000);
      const fresh = await draft(k1, arroz);
      assert.equal(fresh.action, 'created');
      assert.notEqual(fresh.orderId, orderB);
      assert.deepEqual(
        (await openOrders(k1)).map((o) => [o.id, o.status]),
        [[fresh.orderId, 'draft']],
      );
      await cancelOrder(database(), fresh.orderId!, 'user:ana');
    });

    it('parallel needs of one supplier, from nothing and then on its issued order, leave exactly one open order', async () => {
      const s1 = c.store.S1!;
      const skus = [1, 2, 3, 4, 5, 6].map((n) => c.product[`CAMIL${n}`]!);
      const results = await Promise.all(skus.slice(0, 3).map((p) => draft(s1, p)));
      const open = await openOrders(s1);
      assert.equal(open.length, 1, JSON.stringify(open));
      const id = open[0]!.id;
      assert.deepEqual(results.map((r) => r.orderId).sort(), [id, id, id]);
      assert.deepEqual(results.map((r) => r.action).sort(), ['added', 'added', 'created']);
      const issued = await approveOrder(t.app.ctx, id, 'user:ana');
      assert.deepEqual([issued.status, issued.lines.length], ['issued', 3]);

      const more = await Promise.all([...skus.slice(3), skus[0]!].map((p) => draft(s1, p)));
      assert.deepEqual(
        more.map((r) => [r.action, r.orderId]),
        [
          ['added', id],
          ['added', id],
          ['added', id],
          ['unchanged', id],
        ],
      );
      const all = await db()
        .selectFrom('restock_orders')
        .select('id')
        .where('store_id', '=', s1)
        .where('supplier', '=', CAMIL)
        .execute();
      assert.deepEqual(
        all.map((o) => Number(o.id)),
        [id],
        'no second order, open or otherwise',
      );
      const o = await getOrder(db(), id);
      assert.deepEqual([o.status, o.revision, o.pendingChanges], ['issued', 1, true]);
      assert.deepEqual(
        o.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [1, 2, 3, 4, 5, 6].map((n) => [`CAMIL${n}`, 20, n <= 3 ? 20 : 0]),
      );
    });
  });
}
