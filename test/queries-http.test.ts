// The ingest's three queries over HTTP (sales, stock, files), on SQLite and MariaDB: the same shapes as the CLI's
// --json, filtered to the stores the caller may see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DemoMasterData, type DemoOptions, generateMasterData, salesRows } from '../src/demo/generate.ts';
import { productsCsv, salesCsv, stockCsv, storesCsv } from '../src/demo/write.ts';
import { ingestLocalFile } from '../src/ingest/submit.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';
import { createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const OPTS: DemoOptions = { stores: 2, products: 40, days: 1, seed: 5, selfServiceShare: 0, rowsPerStoreDay: 80 };
const DATE = '2026-04-06';

for (const dialect of backends()) {
  describe(`sales, stock and files over HTTP on ${dialect}`, () => {
    let t: TestServer;
    let master: DemoMasterData;
    let a: string;
    let b: string;
    let managerA: LoggedInUser;
    let admin: LoggedInUser;
    const rows: Record<string, ReturnType<typeof salesRows>> = {};
    const get = async (user: LoggedInUser, path: string) => {
      const r = await fetch(`${t.baseUrl}/api/v1${path}`, { headers: user.headers() });
      return { status: r.status, body: (await r.json()) as unknown };
    };

    before(async () => {
      t = await startTestServer(dialect);
      master = generateMasterData(OPTS);
      const db = t.app.ctx.database;
      await importStores(db, storesCsv(master));
      await importProducts(db, productsCsv(master));
      await importStock(db, stockCsv(master));
      [a, b] = master.stores.map((s) => s.store_code) as [string, string];
      for (const code of [a, b]) {
        rows[code] = salesRows({ ...OPTS, startDate: DATE }, master, code, DATE);
        const r = await ingestLocalFile(t.app, {
          bytes: salesCsv(rows[code]!),
          storeCode: code,
          businessDate: DATE,
          fileName: 'vendas.csv',
          timeoutMs: 60_000,
        });
        assert.equal(r.status, 'loaded');
      }
      managerA = await createUserAndLogin(t, { role: 'manager', stores: [a] });
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
    });
    after(async () => t?.close());

    it('answers sales by store in the CLI shape, only for the stores the caller sees', async () => {
      const revenue = (code: string) => rows[code]!.reduce((s, r) => s + r.total_cents, 0);
      const tickets = (code: string) => new Set(rows[code]!.map((r) => r.receipt_id)).size;
      const all = await get(admin, `/sales?from=${DATE}&to=${DATE}&by=store`);
      assert.equal(all.status, 200);
      assert.deepEqual(
        (all.body as Array<{ key: string; revenueCents: number; tickets: number }>).map((r) => [
          r.key,
          r.revenueCents,
          r.tickets,
        ]),
        [a, b].map((c) => [c, revenue(c), tickets(c)]),
      );
      const mine = await get(managerA, `/sales?from=${DATE}&to=${DATE}&by=store`);
      assert.deepEqual(
        (mine.body as Array<{ key: string }>).map((r) => r.key),
        [a],
      );
      const other = await get(managerA, `/sales?from=${DATE}&to=${DATE}&by=day&store=${b}`);
      assert.equal(other.status, 403);
      const bad = await get(admin, `/sales?from=2026-04-31&to=${DATE}`);
      assert.equal(bad.status, 400);
    });

    it('answers stock in the CLI shape', async () => {
      const r = await get(managerA, `/stock?store=${a}`);
      assert.equal(r.status, 200);
      const items = r.body as Array<{ store: string; sku: string; onHand: number; low: boolean }>;
      assert.equal(items.length, master.products.length);
      const sold = rows[a]!.reduce(
        (m, x) => m.set(x.sku, (m.get(x.sku) ?? 0) + x.quantity_milli),
        new Map<string, number>(),
      );
      for (const s of master.stock.filter((x) => x.store_code === a)) {
        const item = items.find((i) => i.sku === s.sku)!;
        assert.equal(Math.round(item.onHand * 1000), s.on_hand_milli - (sold.get(s.sku) ?? 0), s.sku);
      }
      const mine = await get(managerA, '/stock');
      assert.ok((mine.body as Array<{ store: string }>).every((i) => i.store === a));
    });

    it('lists files and shows one, and hides another store’s file', async () => {
      const r = await get(admin, '/files');
      const files = r.body as Array<{ id: number; store: string; status: string; rowsLoaded: number }>;
      assert.deepEqual(files.map((f) => [f.store, f.status]).sort(), [
        [a, 'loaded'],
        [b, 'loaded'],
      ]);
      const fileB = files.find((f) => f.store === b)!;
      assert.equal(fileB.rowsLoaded, rows[b]!.length);
      const shown = await get(admin, `/files/${fileB.id}`);
      assert.equal(shown.status, 200);
      assert.deepEqual((shown.body as { rejections: unknown[] }).rejections, []);
      const hidden = await get(managerA, `/files/${fileB.id}`);
      assert.equal(hidden.status, 404);
      const mine = await get(managerA, '/files');
      assert.deepEqual(
        (mine.body as Array<{ store: string }>).map((f) => f.store),
        [a],
      );
    });
  });
}
