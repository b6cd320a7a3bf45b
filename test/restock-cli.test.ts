// `shopflow restock …` as an operator runs it (a child process on the same database and buckets), on SQLite and
// MariaDB: list, show with the reasoning, approve (issues the purchase order), receive twice, and the exit codes of
// refusals; an issued order changed by a later need shows its pending changes and is re-issued as revision 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Chain, checkoutLike, loadChain, onHand } from './alerts-fixtures.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

const run = promisify(execFile);

for (const dialect of backends()) {
  describe(`shopflow restock on ${dialect}`, () => {
    let t: TestApp;
    let c: Chain;
    const cli = async (...args: string[]) => {
      try {
        const r = await run(process.execPath, ['bin/shopflow.js', 'restock', ...args], {
          env: { ...process.env, ...t.env, SHOPFLOW_LOG_LEVEL: 'warn' },
        });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    };

    before(async () => {
      t = await createTestApp(dialect);
      c = await loadChain(t.app);
      await checkoutLike(t.app, c.store.K1!, c.product.ARROZ!, -16_000);
      await checkoutLike(t.app, c.store.K1!, c.product.FEIJAO!, -21_000);
    });
    after(async () => t?.close());

    it('list, show, approve, receive in two deliveries, closed', async () => {
      const list = await cli('list', '--status', 'open', '--json');
      assert.equal(list.code, 0, list.stderr);
      const orders = JSON.parse(list.stdout) as Array<{
        id: number;
        store: string;
        supplier: string;
        lineCount: number;
      }>;
      assert.deepEqual(
        orders.map((o) => [o.store, o.supplier, o.lineCount]),
        [['K1', 'Camil Alimentos', 2]],
      );
      const id = String(orders[0]!.id);

      const show = await cli('show', id);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /ARROZ {2}Arroz Tipo 1 5kg: 30 UN ordered, 0 received, 30 outstanding/);
      assert.match(
        show.stdout,
        /why: projected stock 4 = 4 on hand \+ 0 on order; target level 30; order 30 = 5 packs of 6/,
      );

      const approve = await cli('approve', id, '--json');
      assert.equal(approve.code, 0, approve.stderr);
      const approved = JSON.parse(approve.stdout) as { status: string; approvedBy: string; documents: { pdf: string } };
      assert.equal(approved.status, 'issued');
      assert.match(approved.approvedBy, /^cli:/);
      assert.equal(approved.documents.pdf, `purchase-orders/K1/${id}.pdf`);

      const before = await onHand(t.app, c.store.K1!, c.product.FEIJAO!);
      const first = await cli('receive', id, '--line', 'ARROZ=30', '--line', 'FEIJAO=12', '--reference', 'NF-9');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /receipt 1 recorded; order \d+ is partially received/);
      const again = await cli('receive', id, '--line', 'FEIJAO=1', '--reference', 'NF-9');
      assert.equal(again.code, 5, 'a conflict');
      assert.match(again.stderr, /delivery note NF-9 was already received/);
      const last = await cli('receive', id, '--line', 'FEIJAO=24', '--json');
      assert.equal(last.code, 0, last.stderr);
      assert.equal((JSON.parse(last.stdout) as { order: { status: string } }).order.status, 'closed');
      assert.equal(await onHand(t.app, c.store.K1!, c.product.FEIJAO!), before + 36_000);

      const bad = await cli('list', '--status', 'lost');
      assert.equal(bad.code, 2);
      const missing = await cli('show', '999999');
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /restock order 999999 does not exist/);
    });

    it('show and list the pending changes of an issued order; approve re-issues it as revision 2', async () => {
      const [k1, arroz, feijao] = [c.store.K1!, c.product.ARROZ!, c.product.FEIJAO!];
      await checkoutLike(t.app, k1, arroz, -30_000); // 34 → 4
      const [order] = JSON.parse((await cli('list', '--status', 'open', '--json')).stdout) as Array<{ id: number }>;
      const id = String(order!.id);
      assert.equal((await cli('approve', id)).code, 0);
      await checkoutLike(t.app, k1, feijao, -36_000); // 45 → 9: extends the issued order

      const list = await cli('list', '--status', 'open');
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /issued\s+1 \(changes pending\)\s+2/);
      const show = await cli('show', id);
      assert.match(
        show.stdout,
        new RegExp(`restock order ${id}: K1 \\(Pit Stop 1\\) ← Camil Alimentos, issued, revision 1`),
      );
      assert.match(show.stdout, /changes since revision 1 await approval/);
      assert.match(show.stdout, /FEIJAO {2}Feijao Carioca 1kg: 36 UN ordered, 0 received, 36 outstanding, 0 issued/);

      const approve = await cli('approve', id, '--json');
      assert.equal(approve.code, 0, approve.stderr);
      const r2 = JSON.parse(approve.stdout) as {
        revision: number;
        pendingChanges: boolean;
        documents: { pdf: string };
        lines: Array<{ sku: string; issued: number }>;
      };
      assert.deepEqual(
        [r2.revision, r2.pendingChanges, r2.documents.pdf],
        [2, false, `purchase-orders/K1/${id}-r2.pdf`],
      );
      assert.deepEqual(
        r2.lines.map((l) => [l.sku, l.issued]),
        [
          ['ARROZ', 30],
          ['FEIJAO', 36],
        ],
      );
      const again = await cli('approve', id);
      assert.equal(again.code, 5);
      assert.match(again.stderr, /is issued with no changes awaiting approval/);
    });
  });
}
