// Inventory over real HTTP on SQLite and MariaDB: stock lists with filters, counts, goods receipts, transfers,
// reorder levels and one product's movement history, with who may do each. After every operation the ledger
// (balance = Σ movements) and the roll-up (= Σ sales lines) must hold, and the change must say who and why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nowIso } from '../src/db/tx.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import { createStores, createTokenHeaders, createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

interface StockItem {
  sku: string;
  onHand: number;
  reorderPoint: number | null;
  targetLevel: number | null;
  low: boolean;
}

for (const dialect of backends()) {
  describe(`inventory on ${dialect}`, () => {
    let t: TestServer;
    let manager: LoggedInUser; // S1 and S2
    let localManager: LoggedInUser; // S1 only
    let clerk: LoggedInUser; // S1
    let kiosk: Record<string, string>;
    const db = () => t.app.ctx.database.db;
    const api = (path: string) => `${t.baseUrl}/api/v1${path}`;
    const send = (method: string, path: string, who: LoggedInUser | Record<string, string>, body?: unknown) =>
      fetch(api(path), {
        method,
        headers:
          'headers' in who && typeof who.headers === 'function'
            ? (who as LoggedInUser).headers(body === undefined ? {} : { 'content-type': 'application/json' })
            : {
                ...(who as Record<string, string>),
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const item = async (store: string, sku: string): Promise<StockItem> => {
      const r = await send('GET', `/stock/${store}/products/${sku}`, manager);
      assert.equal(r.status, 200);
      return (await r.json()) as StockItem;
    };
    const invariants = async () => {
      assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
      assert.deepEqual(await rollupMismatches(db()), [], 'the roll-up equals the sum of the sales lines');
    };

    before(async () => {
      t = await startTestServer(dialect);
      await createStores(t, ['S1', 'S2', 'S3']);
      const now = nowIso();
      await db()
        .insertInto('products')
        .values(
          [
            ['RICE5', 'Arroz 5 kg', 'UN', 'mercearia'],
            ['BEANS1', 'Feijão 1 kg', 'UN', 'mercearia'],
            ['APPLE', 'Maçã gala', 'KG', 'hortifruti'],
            ['SOAP', 'Sabonete', 'UN', 'higiene'],
          ].map(([sku, name, unit, category]) => ({
            sku: sku!,
            ean: null,
            name: name!,
            category: category!,
            unit: unit as 'UN' | 'KG',
            price_cents: 1000,
            supplier: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      manager = await createUserAndLogin(t, { role: 'manager', stores: ['S1', 'S2'] });
      localManager = await createUserAndLogin(t, { role: 'manager', stores: ['S1'] });
      clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['S1'] });
      kiosk = await createTokenHeaders(t, { store: 'S1', purpose: 'kiosk' });
    });
    after(async () => t?.close());

    describe('goods receipts', () => {
      it('a clerk receives goods under an invoice number; stock rises and the movement says who and why', async () => {
        const r = await send('POST', '/stock/S1/receipts', clerk, {
          reference: 'NF-1001',
          supplier: 'Camil',
          lines: [
            { sku: 'RICE5', quantity: 40 },
            { sku: 'BEANS1', quantity: '25' },
            { sku: 'APPLE', quantity: 12.5 },
          ],
        });
        assert.equal(r.status, 201, await r.clone().text());
        const body = (await r.json()) as { actor: string; lines: Array<{ sku: string; onHand: number }> };
        assert.equal(body.actor, `user:${clerk.username}`);
        assert.deepEqual(
          body.lines.map((l) => [l.sku, l.onHand]),
          [
            ['RICE5', 40],
            ['BEANS1', 25],
            ['APPLE', 12.5],
          ],
        );
        const m = await db()
          .selectFrom('stock_movements')
          .select(['kind', 'actor', 'reason', 'delta_milli'])
          .where('ref', 'like', 'receipt:%NF-1001%')
          .orderBy('id')
          .execute();
        assert.deepEqual(
          m.map((x) => [x.kind, x.actor, Number(x.delta_milli)]),
          [
            ['receipt', `user:${clerk.username}`, 40_000],
            ['receipt', `user:${clerk.username}`, 25_000],
            ['receipt', `user:${clerk.username}`, 12_500],
          ],
        );
        assert.match(m[0]!.reason ?? '', /NF-1001 from Camil/);
        const audit = await db().selectFrom('audit_log').selectAll().where('action', '=', 'stock.receipt').execute();
        assert.equal(audit.length, 1);
        assert.equal(audit[0]!.actor, `user:${clerk.username}`);
        await invariants();
      });

      it('the same document is not received twice, even sent twice at once', async () => {
        const again = await send('POST', '/stock/S1/receipts', clerk, {
          reference: 'NF-1001',
          lines: [{ sku: 'SOAP', quantity: 1 }],
        });
        assert.equal(again.status, 409);
        assert.match(((await again.json()) as { detail: string }).detail, /NF-1001 was already received/);
        const body = { reference: 'NF-2002', lines: [{ sku: 'SOAP', quantity: 10 }] };
        const both = await Promise.all([
          send('POST', '/stock/S1/receipts', clerk, body),
          send('POST', '/stock/S1/receipts', clerk, body),
        ]);
        assert.deepEqual(both.map((r) => r.status).sort(), [201, 409]);
        assert.equal((await item('S1', 'SOAP')).onHand, 10);
        await invariants();
      });

      it('names each wrong line; a kiosk may not receive', async () => {
        const r = await send('POST', '/stock/S1/receipts', clerk, {
          reference: 'NF-3003',
          lines: [
            { sku: 'NOPE', quantity: 1 },
            { sku: 'RICE5', quantity: 1.5 },
            { sku: 'APPLE', quantity: 0 },
          ],
        });
        assert.equal(r.status, 400);
        const p = (await r.json()) as { errors: Array<{ where: string }> };
        assert.deepEqual(
          p.errors.map((e) => e.where),
          ['lines/0/sku'],
        );
        const units = await send('POST', '/stock/S1/receipts', clerk, {
          reference: 'NF-3003',
          lines: [
            { sku: 'RICE5', quantity: 1.5 },
            { sku: 'APPLE', quantity: 0 },
          ],
        });
        assert.equal(units.status, 400);
        assert.deepEqual(
          ((await units.json()) as { errors: Array<{ where: string }> }).errors.map((e) => e.where),
          ['lines/0/quantity', 'lines/1/quantity'],
        );
        const byKiosk = await send('POST', '/stock/S1/receipts', kiosk, {
          reference: 'NF-4',
          lines: [{ sku: 'SOAP', quantity: 1 }],
        });
        assert.equal(byKiosk.status, 403);
        await invariants();
      });
    });

    describe('counts', () => {
      it('sets each product to the counted quantity with a count movement of the difference and its reason', async () => {
        const r = await send('POST', '/stock/S1/counts', clerk, {
          reason: 'weekly count',
          lines: [
            { sku: 'RICE5', counted: 37 },
            { sku: 'BEANS1', counted: 25 },
            { sku: 'APPLE', counted: '12.350' },
          ],
        });
        assert.equal(r.status, 201, await r.clone().text());
        const c = (await r.json()) as {
          id: string;
          lines: Array<{ sku: string; previous: number; counted: number; difference: number }>;
        };
        assert.deepEqual(
          c.lines.map((l) => [l.sku, l.previous, l.counted, l.difference]),
          [
            ['RICE5', 40, 37, -3],
            ['BEANS1', 25, 25, 0],
            ['APPLE', 12.5, 12.35, -0.15],
          ],
        );
        const moves = await db()
          .selectFrom('stock_movements')
          .select(['kind', 'delta_milli', 'reason', 'actor'])
          .where('ref', 'like', `count:${c.id}:%`)
          .orderBy('id')
          .execute();
        assert.deepEqual(
          moves.map((m) => [m.kind, Number(m.delta_milli)]),
          [
            ['count', -3000],
            ['count', -150],
          ],
          'a matching count moves nothing',
        );
        assert.match(moves[0]!.reason ?? '', /weekly count \(counted 37, system had 40\)/);
        assert.equal((await item('S1', 'RICE5')).onHand, 37);
        await invariants();
      });

      it('a count may set a product the store never had, and an empty shelf to zero', async () => {
        const r = await send('POST', '/stock/S2/counts', manager, {
          reason: 'opening count',
          lines: [{ sku: 'SOAP', counted: 4 }],
        });
        assert.equal(r.status, 201);
        assert.equal((await item('S2', 'SOAP')).onHand, 4);
        const zero = await send('POST', '/stock/S2/counts', manager, {
          reason: 'shelf empty',
          lines: [{ sku: 'SOAP', counted: 0 }],
        });
        assert.equal(zero.status, 201);
        assert.equal((await item('S2', 'SOAP')).onHand, 0);
        await invariants();
      });

      it('refuses a count without a reason, and a clerk of another store', async () => {
        const noReason = await send('POST', '/stock/S1/counts', clerk, { lines: [{ sku: 'RICE5', counted: 1 }] });
        assert.equal(noReason.status, 400);
        const blank = await send('POST', '/stock/S1/counts', clerk, {
          reason: '   ',
          lines: [{ sku: 'RICE5', counted: 1 }],
        });
        assert.equal(blank.status, 400);
        const other = await send('POST', '/stock/S2/counts', clerk, {
          reason: 'x',
          lines: [{ sku: 'RICE5', counted: 1 }],
        });
        assert.equal(other.status, 403);
        assert.equal((await item('S1', 'RICE5')).onHand, 37);
      });
    });

    describe('transfers', () => {
      it('moves goods out of one store and into the other in one transaction', async () => {
        const r = await send('POST', '/stock/S1/transfers', manager, {
          to: 'S2',
          reason: 'S2 ran out before the delivery',
          lines: [
            { sku: 'RICE5', quantity: 7 },
            { sku: 'APPLE', quantity: 2.35 },
          ],
        });
        assert.equal(r.status, 201, await r.clone().text());
        const tr = (await r.json()) as { id: string; lines: Array<{ fromOnHand: number; toOnHand: number }> };
        assert.deepEqual(
          tr.lines.map((l) => [l.fromOnHand, l.toOnHand]),
          [
            [30, 7],
            [10, 2.35],
          ],
        );
        assert.equal((await item('S1', 'RICE5')).onHand, 30);
        assert.equal((await item('S2', 'RICE5')).onHand, 7);
        const moves = await db()
          .selectFrom('stock_movements')
          .select(['kind', 'store_id', 'delta_milli', 'actor'])
          .where('ref', 'like', `transfer:${tr.id}:%`)
          .execute();
        assert.equal(moves.length, 4);
        assert.equal(
          moves.reduce((a, m) => a + Number(m.delta_milli), 0),
          0,
          'what leaves one store enters the other',
        );
        assert.ok(moves.every((m) => m.actor === `user:${manager.username}`));
        const audit = await db()
          .selectFrom('audit_log')
          .select(['action', 'store_id'])
          .where('target', '=', `transfer:${tr.id}`)
          .execute();
        assert.deepEqual(audit.map((a) => a.action).sort(), ['stock.transfer_in', 'stock.transfer_out']);
        await invariants();
      });

      it('refuses to send more than the store has (409, naming what is there), and changes nothing', async () => {
        const r = await send('POST', '/stock/S1/transfers', manager, {
          to: 'S2',
          reason: 'too much',
          lines: [
            { sku: 'RICE5', quantity: 1 },
            { sku: 'BEANS1', quantity: 26 },
          ],
        });
        assert.equal(r.status, 409);
        const p = (await r.json()) as { detail: string; errors: Array<{ where: string }> };
        assert.match(p.detail, /Feijão 1 kg \(BEANS1\): 26 asked, 25 on hand/);
        assert.deepEqual(
          p.errors.map((e) => e.where),
          ['lines/1/quantity'],
        );
        assert.equal((await item('S1', 'RICE5')).onHand, 30);

        // a caller who prefers Portuguese is told the same in Portuguese
        const pt = await fetch(api('/stock/S1/transfers'), {
          method: 'POST',
          headers: manager.headers({ 'content-type': 'application/json', 'accept-language': 'pt-BR' }),
          body: JSON.stringify({ to: 'S2', reason: 'too much', lines: [{ sku: 'BEANS1', quantity: 26 }] }),
        });
        assert.equal(pt.status, 409);
        assert.equal(pt.headers.get('content-language'), 'pt-BR');
        assert.deepEqual(await pt.json().then((b) => [(b as typeof p).detail, (b as typeof p).errors]), [
          'a loja S1 não tem o suficiente para enviar: Feijão 1 kg (BEANS1): 26 pedidos, 25 em estoque',
          [{ where: 'lines/0/quantity', problem: 'só 25 em estoque' }],
        ]);
        await invariants();
      });

      it('needs both stores visible, a manager, two different stores, and a store that exists', async () => {
        const body = { to: 'S2', reason: 'x', lines: [{ sku: 'RICE5', quantity: 1 }] };
        assert.equal((await send('POST', '/stock/S1/transfers', localManager, body)).status, 403);
        assert.equal((await send('POST', '/stock/S1/transfers', clerk, body)).status, 403);
        assert.equal((await send('POST', '/stock/S1/transfers', manager, { ...body, to: 'S3' })).status, 403);
        assert.equal((await send('POST', '/stock/S1/transfers', manager, { ...body, to: 'S9' })).status, 404);
        assert.equal((await send('POST', '/stock/S1/transfers', manager, { ...body, to: 'S1' })).status, 400);
        assert.equal((await item('S1', 'RICE5')).onHand, 30);
        await invariants();
      });
    });

    describe('levels', () => {
      it('a manager sets the reorder point and target level; the product turns low and an alert opens', async () => {
        const r = await send('PUT', '/stock/S1/products/RICE5/levels', manager, {
          reorderPoint: 30,
          targetLevel: 60,
          reason: 'new season',
        });
        assert.equal(r.status, 200, await r.clone().text());
        assert.deepEqual(await r.json(), {
          store: 'S1',
          sku: 'RICE5',
          name: 'Arroz 5 kg',
          onHand: 30,
          reorderPoint: 30,
          targetLevel: 60,
          low: true,
        });
        const alert = await db()
          .selectFrom('alerts')
          .select(['kind', 'status'])
          .where('kind', '=', 'low_stock')
          .execute();
        assert.equal(alert.length, 1);
        const audit = await db()
          .selectFrom('audit_log')
          .select('details')
          .where('action', '=', 'stock.levels')
          .executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(audit.details!).after, { reorderPoint: 30, targetLevel: 60 });
        const low = await send('GET', '/stock/S1?low=true', clerk);
        assert.deepEqual(
          ((await low.json()) as StockItem[]).map((i) => i.sku),
          ['RICE5'],
        );
        await invariants();
      });

      it('refuses a target below the reorder point, also against the level already set', async () => {
        const both = await send('PUT', '/stock/S1/products/RICE5/levels', manager, {
          reorderPoint: 10,
          targetLevel: 5,
        });
        assert.equal(both.status, 400);
        assert.equal(((await both.json()) as { errors: Array<{ where: string }> }).errors[0]!.where, 'targetLevel');
        const one = await send('PUT', '/stock/S1/products/RICE5/levels', manager, { targetLevel: 20 });
        assert.equal(one.status, 400, 'the reorder point already set is 30');
        const cleared = await send('PUT', '/stock/S1/products/RICE5/levels', manager, { reorderPoint: null });
        assert.equal(cleared.status, 200);
        const after = (await cleared.json()) as StockItem;
        assert.deepEqual([after.reorderPoint, after.targetLevel, after.low], [null, 60, false]);
        const resolved = await db()
          .selectFrom('alerts')
          .select('status')
          .where('kind', '=', 'low_stock')
          .executeTakeFirstOrThrow();
        assert.equal(resolved.status, 'resolved');
      });

      it('a clerk may not change levels; unknown products are 404', async () => {
        assert.equal((await send('PUT', '/stock/S1/products/RICE5/levels', clerk, { reorderPoint: 1 })).status, 403);
        assert.equal((await send('PUT', '/stock/S1/products/NOPE/levels', manager, { reorderPoint: 1 })).status, 404);
      });
    });

    describe('reading', () => {
      it('lists a store’s stock with category and search filters', async () => {
        const byCategory = (await (await send('GET', '/stock/S1?category=mercearia', clerk)).json()) as StockItem[];
        assert.deepEqual(
          byCategory.map((i) => i.sku),
          ['BEANS1', 'RICE5'],
        );
        const bySearch = (await (await send('GET', '/stock/S1?search=Ma%C3%A7%C3%A3', clerk)).json()) as StockItem[];
        assert.deepEqual(
          bySearch.map((i) => [i.sku, i.onHand]),
          [['APPLE', 10]],
        );
        const search = async (text: string) =>
          (
            (await (await send('GET', `/stock/S1?search=${encodeURIComponent(text)}`, clerk)).json()) as StockItem[]
          ).map((i) => i.sku);
        assert.deepEqual(await search('ARROZ'), ['RICE5'], 'any case');
        assert.deepEqual(await search('rice'), ['RICE5'], 'the SKU too');
        assert.deepEqual(await search('%'), [], 'a typed % is a literal character, not a wildcard');
        assert.deepEqual(await search('_'), [], 'a typed _ too');
        assert.equal((await send('GET', '/stock/S2', clerk)).status, 403);
        assert.equal((await send('GET', '/stock/S1', kiosk)).status, 403);
      });

      it('pages one product’s movements, newest first, each with who and why', async () => {
        const first = await send('GET', '/stock/S1/products/RICE5/movements?limit=2', clerk);
        assert.equal(first.status, 200);
        const p1 = (await first.json()) as {
          items: Array<{ id: number; kind: string; delta: number; actor: string; reason: string }>;
          nextBefore: number | null;
        };
        assert.deepEqual(
          p1.items.map((m) => [m.kind, m.delta]),
          [
            ['transfer_out', -7],
            ['count', -3],
          ],
        );
        assert.ok(p1.items.every((m) => m.actor && m.reason));
        assert.ok(p1.nextBefore);
        const p2 = (await (
          await send('GET', `/stock/S1/products/RICE5/movements?limit=2&before=${p1.nextBefore}`, clerk)
        ).json()) as {
          items: Array<{ kind: string; delta: number }>;
          nextBefore: number | null;
        };
        assert.deepEqual(
          p2.items.map((m) => [m.kind, m.delta]),
          [['receipt', 40]],
        );
        assert.equal(p2.nextBefore, null);
      });
    });
  });
}
