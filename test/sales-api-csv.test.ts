// CSV exports against spreadsheet formula injection (reliability check 26): 10,000 fuzzed rows whose text fields
// start with = + - @ tab CR or NUL go through every sales CSV writer; every such cell must start with `'`, numeric
// columns must stay numbers, and the file must read back to the same values. Then the same over real HTTP, with
// products whose names and categories came in through the real import and ingest, on SQLite and MariaDB.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import Papa from 'papaparse';
import { generateMasterData, salesRows } from '../src/demo/generate.ts';
import { productsCsv, salesCsv, storesCsv } from '../src/demo/write.ts';
import type { Kpis } from '../src/domain/period.ts';
import { ingestLocalFile } from '../src/ingest/submit.ts';
import { importProducts, importStores } from '../src/masterdata/import.ts';
import { bestSellersCsv, totalsCsv } from '../src/sales/csv.ts';
import type { BestSeller } from '../src/sales/dashboard.ts';
import { createUserAndLogin } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const DANGEROUS = ['=', '+', '-', '@', '\t', '\r', '\0'];

const parse = (text: string) => Papa.parse<string[]>(text, { header: false, skipEmptyLines: false }).data;

describe('sales CSV writers against formula injection', () => {
  const text = fc.tuple(fc.constantFrom(...DANGEROUS, '', 'a'), fc.string({ maxLength: 12 })).map(([a, b]) => a + b);
  const kpis = fc.record({
    revenueCents: fc.integer({ min: -1e11, max: 1e11 }),
    tickets: fc.nat(1e6),
    items: fc.integer({ min: -1e6, max: 1e6 }),
    quantityMilli: fc.integer({ min: -1e9, max: 1e9 }),
    lines: fc.nat(1e6),
    averageTicketCents: fc.option(fc.integer({ min: -1e9, max: 1e9 }), { nil: null }),
    itemsPerTicket: fc.option(
      fc.integer({ min: -100000, max: 100000 }).map((n) => n / 100),
      { nil: null },
    ),
  }) as fc.Arbitrary<Kpis>;
  const row = fc.tuple(text, text, text, kpis, fc.option(fc.integer({ min: -10000, max: 10000 }), { nil: null }));

  it('escapes every dangerous text cell, keeps numbers numeric and re-reads losslessly (10,000 rows)', () => {
    const rows = fc.sample(row, { numRuns: 10_000, seed: 26 });
    const bestSellers: BestSeller[] = rows.map(([sku, name, category, k, share], i) => ({
      rank: i + 1,
      key: sku,
      name,
      category,
      unit: 'UN',
      ...k,
      shareBasisPoints: share,
    }));
    const files = [
      {
        csv: bestSellersCsv({
          period: { from: '2026-01-01', to: '2026-01-31' },
          rankedBy: 'revenue',
          rows: bestSellers,
        }),
        text: [1, 2, 3],
        numeric: [0, 5, 6, 8],
      },
      {
        csv: totalsCsv({
          period: { from: '2026-01-01', to: '2026-01-31' },
          by: 'product',
          total: bestSellers[0]!,
          rows: bestSellers,
        }),
        text: [0, 1, 2],
        numeric: [4, 5, 7],
      },
    ];
    let unescaped = 0;
    for (const f of files) {
      const parsed = parse(f.csv);
      assert.equal(parsed.at(-1)?.join(''), '', 'the file ends with a line break');
      const records = parsed.slice(1, -1);
      assert.equal(records.length, rows.length);
      records.forEach((cells, i) => {
        const [sku, name, category, k] = rows[i]!;
        const original = [sku, name, category];
        f.text.forEach((col, j) => {
          const cell = cells[col]!;
          const source = original[j]!;
          if (DANGEROUS.some((d) => source.startsWith(d))) {
            if (!cell.startsWith("'")) unescaped++;
            assert.equal(cell.slice(1), source, 'the text reads back after the apostrophe');
          } else assert.equal(cell, source);
        });
        for (const col of f.numeric) assert.ok(!Number.isNaN(Number(cells[col])), `column ${col} stays a number`);
        const revenue = f === files[0] ? cells[5] : cells[4];
        assert.equal(Math.round(Number(revenue) * 100), k.revenueCents, 'money reads back to the cent');
      });
    }
    assert.equal(unescaped, 0, 'unescaped dangerous cells');
  });
});

for (const dialect of backends()) {
  describe(`sales CSV over HTTP on ${dialect}`, () => {
    let t: TestServer;
    const names = ['=HYPERLINK("http://x","y")', '+55 11 0000', '-1+2', '@SUM(A1:A9)'];

    before(async () => {
      t = await startTestServer(dialect);
      const opts = { stores: 1, products: 12, days: 1, seed: 5, selfServiceShare: 0, rowsPerStoreDay: 80 };
      const master = generateMasterData(opts);
      master.products.forEach((p, i) => {
        p.name = names[i % names.length]!;
        if (i % 2 === 0) p.category = '=1+1';
      });
      const db = t.app.ctx.database;
      assert.equal((await importStores(db, storesCsv(master))).rejected.length, 0);
      const imported = await importProducts(db, productsCsv(master));
      assert.equal(imported.rejected.length, 0, JSON.stringify(imported.rejected.slice(0, 2)));
      const rows = salesRows({ ...opts, startDate: '2026-02-02' }, master, 'S001', '2026-02-02');
      const r = await ingestLocalFile(t.app, {
        bytes: salesCsv(rows),
        storeCode: 'S001',
        businessDate: '2026-02-02',
        fileName: 'vendas.csv',
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 'loaded', r.reason);
    });
    after(async () => t?.close());

    it('exports product names and categories that look like formulas as text', async () => {
      const admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      for (const path of [
        '/sales/best-sellers?from=2026-02-01&to=2026-02-28&limit=50&format=csv',
        '/sales/totals?from=2026-02-01&to=2026-02-28&by=product&format=csv',
        '/sales/totals?from=2026-02-01&to=2026-02-28&by=category&format=csv',
      ]) {
        const res = await fetch(`${t.baseUrl}/api/v1${path}`, { headers: admin.headers() });
        const body = await res.text();
        assert.equal(res.status, 200, body);
        const cells = parse(body).slice(1).flat();
        const dangerous = cells.filter((c) => DANGEROUS.some((d) => c.replace(/^'/, '').startsWith(d)) && c !== '');
        assert.ok(dangerous.length > 0, `${path} has formula-like text to check`);
        for (const c of dangerous) {
          if (/^-?\d+(\.\d+)?$/.test(c)) continue; // a negative number is a number
          assert.ok(c.startsWith("'"), `${path}: ${JSON.stringify(c)} is not escaped`);
        }
      }
    });
  });
}
