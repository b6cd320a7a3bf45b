// Restock orders over HTTP, on SQLite and MariaDB, with real logins: a draft made by low stock is listed with its
// reasoning, approved by a manager (not a clerk, not another store's manager), issued to the reports bucket,
// received in two deliveries by a clerk, closed; the next order, changed after its issue, shows its pending changes
// and is re-issued as revision 2; suppliers' addresses are the admins'.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { type Chain, checkoutLike, loadChain, onHand } from './alerts-fixtures.ts';
import { createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

interface OrderJson {
  id: number;
  store: string;
  supplier: string;
  status: string;
  lineCount?: number;
  revision: number;
  pendingChanges: boolean;
  amendedAt?: string | null;
  documents: { pdf: string; csv: string } | null;
  lines: Array<{
    sku: string;
    quantity: number;
    received: number;
    outstanding: number;
    issued: number;
    rationale: { method: string; explanation: string; onHandMilli: number };
  }>;
}

for (const dialect of backends()) {
  describe(`restock orders over HTTP on ${dialect}`, () => {
    let t: TestServer;
    let c: Chain;
    let admin: LoggedInUser;
    let managerK1: LoggedInUser;
    let clerkK1: LoggedInUser;
    let managerS1: LoggedInUser;
    let orderId: number;

    const call = async <T>(method: string, path: string, who: LoggedInUser, body?: unknown) => {
      const headers = who.headers(body === undefined ? {} : { 'content-type': 'application/json' });
      const res = await fetch(`${t.baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    };

    before(async () => {
      t = await startTestServer(dialect);
      c = await loadChain(t.app);
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      managerK1 = await createUserAndLogin(t, { role: 'manager', stores: ['K1'] });
      clerkK1 = await createUserAndLogin(t, { role: 'clerk', stores: ['K1'] });
      managerS1 = await createUserAndLogin(t, { role: 'manager', stores: ['S1'] });
      await checkoutLike(t.app, c.store.K1!, c.product.ARROZ!, -16_000);
      await checkoutLike(t.app, c.store.K1!, c.product.FEIJAO!, -21_000);
    });
    after(async () => {
      if (t) assert.deepEqual(await ledgerMismatches(t.app.ctx.database.db), []);
      await t?.close();
    });

    it('lists the draft with the reasoning behind each line, to the people of its store only', async () => {
      const list = await call<OrderJson[]>('GET', '/restock-orders?status=open', clerkK1);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.map((o) => [o.store, o.supplier, o.status, o.lineCount, o.revision, o.pendingChanges]),
        [['K1', 'Camil Alimentos', 'draft', 2, 0, false]],
      );
      orderId = list.body[0]!.id;
      assert.deepEqual((await call<OrderJson[]>('GET', '/restock-orders', managerS1)).body, []);
      assert.equal((await call('GET', '/restock-orders?store=K1', managerS1)).status, 403);
      assert.equal((await call('GET', `/restock-orders/${orderId}`, managerS1)).status, 404);
      const one = await call<OrderJson>('GET', `/restock-orders/${orderId}`, clerkK1);
      assert.equal(one.status, 200);
      const arroz = one.body.lines.find((l) => l.sku === 'ARROZ')!;
      assert.equal(arroz.quantity, 30);
      assert.equal(arroz.rationale.method, 'target_level');
      assert.equal(arroz.rationale.onHandMilli, 4000);
      assert.match(arroz.rationale.explanation, /order 30 = 5 packs of 6/);
    });

    it('managers of the store approve: the purchase order is issued to the reports bucket', async () => {
      assert.equal((await call('POST', `/restock-orders/${orderId}/approve`, clerkK1)).status, 403);
      assert.equal((await call('POST', `/restock-orders/${orderId}/approve`, managerS1)).status, 404);
      const approved = await call<OrderJson>('POST', `/restock-orders/${orderId}/approve`, managerK1);
      assert.equal(approved.status, 200);
      assert.equal(approved.body.status, 'issued');
      assert.deepEqual([approved.body.revision, approved.body.pendingChanges], [1, false]);
      assert.deepEqual(
        approved.body.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [
          ['ARROZ', 30, 30],
          ['FEIJAO', 36, 36],
        ],
      );
      assert.deepEqual(approved.body.documents, {
        pdf: `purchase-orders/K1/${orderId}.pdf`,
        csv: `purchase-orders/K1/${orderId}.csv`,
      });
      const head = await t.app.ctx.store.head(t.config.buckets.reports, approved.body.documents!.pdf);
      assert.ok(head && head.size > 500);
      const again = await call<{ detail: string }>('POST', `/restock-orders/${orderId}/approve`, managerK1);
      assert.equal(again.status, 409);
      assert.match(again.body.detail, /is issued with no changes awaiting approval/);
    });

    it('a clerk receives the goods in two deliveries; the order closes with the stock right', async () => {
      const [k1, arroz, feijao] = [c.store.K1!, c.product.ARROZ!, c.product.FEIJAO!];
      const before = [await onHand(t.app, k1, arroz), await onHand(t.app, k1, feijao)];
      const bad = await call('POST', `/restock-orders/${orderId}/receive`, clerkK1, {
        lines: [{ sku: 'ARROZ', quantity: '1,5' }],
      });
      assert.equal(bad.status, 400);
      const over = await call<{ detail: string }>('POST', `/restock-orders/${orderId}/receive`, clerkK1, {
        lines: [{ sku: 'ARROZ', quantity: 31 }],
      });
      assert.equal(over.status, 409);
      assert.match(over.body.detail, /exceeds what is outstanding/);
      assert.equal(
        (
          await call('POST', `/restock-orders/${orderId}/receive`, managerS1, {
            lines: [{ sku: 'ARROZ', quantity: 1 }],
          })
        ).status,
        404,
      );

      const first = await call<{ receipt: number; order: OrderJson }>(
        'POST',
        `/restock-orders/${orderId}/receive`,
        clerkK1,
        {
          lines: [{ sku: 'ARROZ', quantity: 30 }],
          reference: 'NF-77',
        },
      );
      assert.equal(first.status, 200);
      assert.equal(first.body.receipt, 1);
      assert.equal(first.body.order.status, 'partially_received');
      const dup = await call('POST', `/restock-orders/${orderId}/receive`, clerkK1, {
        lines: [{ sku: 'FEIJAO', quantity: 1 }],
        reference: 'NF-77',
      });
      assert.equal(dup.status, 409, 'a delivery note is received once');
      const second = await call<{ order: OrderJson }>('POST', `/restock-orders/${orderId}/receive`, clerkK1, {
        lines: [{ sku: 'FEIJAO', quantity: '36' }],
        reference: 'NF-78',
      });
      assert.equal(second.status, 200);
      assert.equal(second.body.order.status, 'closed');
      assert.deepEqual(
        second.body.order.lines.map((l) => [l.sku, l.received, l.outstanding]),
        [
          ['ARROZ', 30, 0],
          ['FEIJAO', 36, 0],
        ],
      );
      assert.deepEqual(
        [await onHand(t.app, k1, arroz), await onHand(t.app, k1, feijao)],
        [before[0]! + 30_000, before[1]! + 36_000],
      );
      assert.equal((await call('POST', `/restock-orders/${orderId}/cancel`, managerK1)).status, 409);
      const alerts = await call<Array<{ kind: string }>>('GET', '/alerts?store=K1', managerK1);
      assert.deepEqual(alerts.body, [], 'both low-stock alerts resolved by the receipts');
    });

    it('a need after the next order was issued changes it: pending changes shown, approval re-issues revision 2', async () => {
      const [k1, arroz, feijao] = [c.store.K1!, c.product.ARROZ!, c.product.FEIJAO!];
      await checkoutLike(t.app, k1, arroz, -30_000); // 34 → 4: a new order, the closed one is done with
      const [next] = (await call<OrderJson[]>('GET', '/restock-orders?status=open', managerK1)).body;
      assert.ok(next && next.id !== orderId);
      assert.equal((await call('POST', `/restock-orders/${next.id}/approve`, managerK1)).status, 200);

      await checkoutLike(t.app, k1, feijao, -36_000); // 45 → 9: same supplier, same order
      const open = await call<OrderJson[]>('GET', '/restock-orders?status=open', clerkK1);
      assert.deepEqual(
        open.body.map((o) => [o.id, o.status, o.revision, o.pendingChanges, o.lineCount]),
        [[next.id, 'issued', 1, true, 2]],
      );
      const amended = await call<OrderJson>('GET', `/restock-orders/${next.id}`, clerkK1);
      assert.ok(amended.body.amendedAt);
      assert.deepEqual(
        amended.body.lines.map((l) => [l.sku, l.quantity, l.issued]),
        [
          ['ARROZ', 30, 30],
          ['FEIJAO', 36, 0],
        ],
      );
      assert.equal((await call('POST', `/restock-orders/${next.id}/approve`, clerkK1)).status, 403);
      const r2 = await call<OrderJson>('POST', `/restock-orders/${next.id}/approve`, managerK1);
      assert.equal(r2.status, 200);
      assert.deepEqual([r2.body.status, r2.body.revision, r2.body.pendingChanges], ['issued', 2, false]);
      assert.deepEqual(r2.body.documents, {
        pdf: `purchase-orders/K1/${next.id}-r2.pdf`,
        csv: `purchase-orders/K1/${next.id}-r2.csv`,
      });
      assert.ok(await t.app.ctx.store.head(t.config.buckets.reports, r2.body.documents!.csv));
      assert.equal((await call('POST', `/restock-orders/${next.id}/cancel`, managerK1)).status, 200);
    });

    it('suppliers: managers read, admins set the purchase-order address', async () => {
      const list = await call<Array<{ name: string; email: string | null; products: number }>>(
        'GET',
        '/suppliers',
        managerK1,
      );
      assert.deepEqual(list.body, [
        { name: 'Camil Alimentos', email: null, products: 2 },
        { name: 'Italac', email: null, products: 1 },
      ]);
      assert.equal(
        (await call('PUT', '/suppliers/Italac', managerK1, { email: 'pedidos@italac.example' })).status,
        403,
      );
      assert.equal((await call('PUT', '/suppliers/Italac', admin, { email: 'not an address' })).status, 400);
      const set = await call<{ email: string }>('PUT', `/suppliers/${encodeURIComponent('Camil Alimentos')}`, admin, {
        email: 'pedidos@camil.example',
      });
      assert.equal(set.status, 200);
      assert.equal(set.body.email, 'pedidos@camil.example');
    });
  });
}
