// The sales API over real HTTP, on SQLite and MariaDB. The data is a generated chain put through the real ingest
// (files into the sales bucket, events, the worker); every expected figure is computed here from the generated
// rows, never from the implementation. Periods cross month ends, so both the day and the month roll-ups answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import Papa from 'papaparse';
import { type DemoMasterData, type DemoOptions, generateMasterData, salesRows } from '../src/demo/generate.ts';
import { productsCsv, salesCsv, storesCsv } from '../src/demo/write.ts';
import { addDays } from '../src/domain/dates.ts';
import { putSalesFile } from '../src/ingest/submit.ts';
import { importProducts, importStores } from '../src/masterdata/import.ts';
import { resolveFilter } from '../src/sales/dashboard.ts';
import { rankProducts } from '../src/sales/ranking.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import { createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const FIRST = '2026-01-26';
const DAYS = 42; // to 2026-03-08: a cut January, a whole February, a cut March
const OPTS: DemoOptions = { stores: 3, products: 60, days: DAYS, seed: 21, selfServiceShare: 0, rowsPerStoreDay: 30 };
const PAYMENT: Record<string, string> = {
  dinheiro: 'cash',
  debito: 'debit',
  credito: 'credit',
  pix: 'pix',
  voucher: 'voucher',
  outros: 'other',
};

interface Line {
  store: string;
  date: string;
  receipt: string;
  sku: string;
  category: string;
  unit: string;
  q: number;
  total: number;
  payment: string;
}

interface Expected {
  revenueCents: number;
  tickets: number;
  items: number;
  quantityMilli: number;
  lines: number;
}

function totalsOf(lines: Line[]): Expected {
  const tickets = new Set(lines.map((l) => `${l.store}|${l.date}|${l.receipt}`));
  let items = 0;
  for (const l of lines) items += l.unit === 'KG' ? Math.sign(l.q) : l.q / 1000;
  return {
    revenueCents: lines.reduce((a, l) => a + l.total, 0),
    tickets: tickets.size,
    items,
    quantityMilli: lines.reduce((a, l) => a + l.q, 0),
    lines: lines.length,
  };
}

interface Filter {
  from: string;
  to: string;
  stores?: string[];
  category?: string;
  sku?: string;
  payment?: string;
}

function select(all: Line[], f: Filter): Line[] {
  return all.filter(
    (l) =>
      l.date >= f.from &&
      l.date <= f.to &&
      (!f.stores || f.stores.includes(l.store)) &&
      (f.category === undefined || l.category === f.category) &&
      (f.sku === undefined || l.sku === f.sku) &&
      (f.payment === undefined || l.payment === f.payment),
  );
}

function groupBy(lines: Line[], key: (l: Line) => string): Map<string, Line[]> {
  const m = new Map<string, Line[]>();
  for (const l of lines) m.set(key(l), [...(m.get(key(l)) ?? []), l]);
  return m;
}

const avgTicket = (e: Expected) => (e.tickets ? Math.round(e.revenueCents / e.tickets) : null);
const change = (c: number, p: number) => (p === 0 ? null : (c - p) / Math.abs(p));

function isoWeekKey(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const thursday = new Date(d);
  thursday.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) + 3);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function assertTotals(actual: Record<string, unknown>, expected: Expected, label: string) {
  assert.deepEqual(
    {
      revenueCents: actual.revenueCents,
      tickets: actual.tickets,
      items: actual.items,
      quantityMilli: actual.quantityMilli,
      lines: actual.lines,
    },
    expected,
    label,
  );
}

function query(f: Filter, extra: Record<string, string | number> = {}): string {
  const q = new URLSearchParams({ from: f.from, to: f.to });
  if (f.stores) q.set('stores', f.stores.join(','));
  if (f.category !== undefined) q.set('category', f.category);
  if (f.sku !== undefined) q.set('product', f.sku);
  if (f.payment !== undefined) q.set('payment', f.payment);
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q.toString();
}

for (const dialect of backends()) {
  describe(`sales API on ${dialect}`, () => {
    let t: TestServer;
    let master: DemoMasterData;
    let lines: Line[];
    let admin: LoggedInUser;
    let manager: LoggedInUser; // S001 and S003
    let clerk: LoggedInUser; // S002
    let categories: string[];

    const get = async (user: LoggedInUser | undefined, path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.baseUrl}/api/v1${path}`, { headers: { ...(user?.headers() ?? {}), ...headers } });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        type,
        text,
        disposition: res.headers.get('content-disposition'),
        // biome-ignore lint/suspicious/noExplicitAny: test reads whatever JSON came back
        json: (type.includes('json') ? JSON.parse(text) : undefined) as any,
      };
    };

    before(async () => {
      t = await startTestServer(dialect);
      master = generateMasterData(OPTS);
      const db = t.app.ctx.database;
      assert.equal((await importStores(db, storesCsv(master))).rejected.length, 0);
      assert.equal((await importProducts(db, productsCsv(master))).rejected.length, 0);
      const bySku = new Map(master.products.map((p) => [p.sku, p]));
      lines = [];
      let files = 0;
      for (let d = 0; d < DAYS; d++) {
        const date = addDays(FIRST, d);
        for (const s of master.stores) {
          const rows = salesRows({ ...OPTS, startDate: FIRST }, master, s.store_code, date);
          for (const r of rows) {
            const p = bySku.get(r.sku)!;
            lines.push({
              store: r.store_code,
              date: r.business_date,
              receipt: r.receipt_id,
              sku: r.sku,
              category: p.category,
              unit: p.unit,
              q: r.quantity_milli,
              total: r.total_cents,
              payment: PAYMENT[r.payment_method]!,
            });
          }
          await putSalesFile(t.app, {
            bytes: salesCsv(rows),
            storeCode: s.store_code,
            businessDate: date,
            fileName: 'vendas.csv',
          });
          files++;
        }
      }
      for (;;) {
        await t.app.runtime!.drain();
        const done = await db.db.selectFrom('ingest_files').select(['status']).execute();
        if (done.length === files && done.every((f) => f.status === 'loaded')) break;
        assert.ok(
          done.every((f) => f.status !== 'failed'),
          'a file failed to load',
        );
      }
      assert.deepEqual(await rollupMismatches(db.db, { exactCategories: true }), []);
      categories = [...new Set(lines.map((l) => l.category))].sort();
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      manager = await createUserAndLogin(t, { role: 'manager', stores: ['S001', 'S003'] });
      clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['S002'] });
    });
    after(async () => t?.close());

    it('gives the KPIs of a period and the change against the previous period of equal length', async () => {
      const f = { from: '2026-02-22', to: '2026-03-08' }; // 15 days; previous: 2026-02-07 … 2026-02-21
      const r = await get(admin, `/sales/kpis?${query(f)}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.period, f);
      assert.deepEqual(r.json.previousPeriod, { from: '2026-02-07', to: '2026-02-21' });
      const cur = totalsOf(select(lines, f));
      const prev = totalsOf(select(lines, { from: '2026-02-07', to: '2026-02-21' }));
      assertTotals(r.json.current, cur, 'current');
      assertTotals(r.json.previous, prev, 'previous');
      assert.equal(r.json.current.averageTicketCents, avgTicket(cur));
      assert.equal(r.json.current.itemsPerTicket, Math.round((cur.items / cur.tickets) * 100) / 100);
      const near = (a: number | null, b: number | null, label: string) =>
        assert.ok(a !== null && b !== null && Math.abs(a - b) <= 0.00005 + 1e-9, `${label}: ${a} vs ${b}`);
      near(r.json.change.revenue, change(cur.revenueCents, prev.revenueCents), 'revenue change');
      near(r.json.change.tickets, change(cur.tickets, prev.tickets), 'tickets change');
      near(r.json.change.averageTicket, change(avgTicket(cur)!, avgTicket(prev)!), 'average ticket change');
    });

    it('answers a period before any sale with zeros and no change', async () => {
      const r = await get(admin, `/sales/kpis?${query({ from: '2026-01-01', to: '2026-01-20' })}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.current.revenueCents, 0);
      assert.equal(r.json.current.averageTicketCents, null);
      assert.equal(r.json.change.revenue, null);
    });

    it('combines filters: stores, category, product and payment method', async () => {
      const sku = master.products[1]!.sku;
      const cases: Filter[] = [
        { from: '2026-01-28', to: '2026-03-03', stores: ['S001', 'S003'] },
        { from: '2026-01-28', to: '2026-03-03', category: categories[0] },
        { from: '2026-01-28', to: '2026-03-03', payment: 'pix' },
        { from: '2026-01-28', to: '2026-03-03', stores: ['S002'], category: categories[1], payment: 'credit' },
        { from: '2026-01-28', to: '2026-03-03', sku },
        { from: '2026-01-28', to: '2026-03-03', stores: ['S001'], sku, category: master.products[1]!.category },
        // product and payment together are summed from the lines (a period of at most 31 days)
        { from: '2026-02-10', to: '2026-03-02', stores: ['S001', 'S002'], sku, payment: 'debit' },
      ];
      for (const f of cases) {
        const r = await get(admin, `/sales/kpis?${query(f)}`);
        assert.equal(r.status, 200, `${JSON.stringify(f)}: ${r.text}`);
        assertTotals(r.json.current, totalsOf(select(lines, f)), JSON.stringify(f));
      }
      const long = await get(
        admin,
        `/sales/kpis?${query({ from: '2026-01-01', to: '2026-03-08', sku, payment: 'pix' })}`,
      );
      assert.equal(long.status, 400);
      assert.match(long.json.detail, /at most 31 days/);
      const portuguese = await get(
        admin,
        `/sales/kpis?${query({ from: '2026-02-01', to: '2026-02-28' })}&payment=dinheiro`,
      );
      assertTotals(
        portuguese.json.current,
        totalsOf(select(lines, { from: '2026-02-01', to: '2026-02-28', payment: 'cash' })),
        'payment by its Portuguese name',
      );
    });

    it('gives series by day, ISO week and month, every bucket present', async () => {
      const f: Filter = { from: '2026-01-24', to: '2026-03-05', stores: ['S001', 'S002'], category: categories[2] };
      const sel = select(lines, f);
      for (const [grain, keyOf] of [
        ['day', (l: Line) => l.date],
        ['week', (l: Line) => isoWeekKey(l.date)],
        ['month', (l: Line) => l.date.slice(0, 7)],
      ] as const) {
        const r = await get(admin, `/sales/series?${query(f, { grain })}`);
        assert.equal(r.status, 200, r.text);
        const groups = groupBy(sel, keyOf);
        const keys = new Set<string>();
        for (let d = f.from; d <= f.to; d = addDays(d, 1)) keys.add(keyOf({ date: d } as Line));
        assert.deepEqual(
          r.json.rows.map((p: { period: string }) => p.period),
          [...keys],
          `${grain}: one row per bucket, in order`,
        );
        for (const p of r.json.rows) assertTotals(p, totalsOf(groups.get(p.period) ?? []), `${grain} ${p.period}`);
        assert.equal(r.json.rows[0].from, f.from);
        assert.equal(r.json.rows.at(-1).to, f.to);
      }
      const months = await get(admin, `/sales/series?${query(f, { grain: 'month' })}`);
      assert.deepEqual(
        months.json.rows.map((p: { partial: boolean }) => p.partial),
        [true, false, true],
      );
    });

    it('gives totals by store (with zeros), category, payment method and product', async () => {
      const f: Filter = { from: '2026-01-30', to: '2026-03-04' };
      const sel = select(lines, f);
      const whole = totalsOf(sel);
      for (const [by, keyOf] of [
        ['store', (l: Line) => l.store],
        ['category', (l: Line) => l.category],
        ['payment', (l: Line) => l.payment],
        ['product', (l: Line) => l.sku],
      ] as const) {
        const r = await get(admin, `/sales/totals?${query(f, { by, limit: 1000 })}`);
        assert.equal(r.status, 200, r.text);
        assertTotals(r.json.total, whole, `${by} total`);
        const groups = groupBy(sel, keyOf);
        const expectedKeys = [...groups.keys()];
        if (by === 'store') expectedKeys.push(...master.stores.map((s) => s.store_code).filter((c) => !groups.has(c)));
        assert.deepEqual(new Set(r.json.rows.map((x: { key: string }) => x.key)), new Set(expectedKeys), by);
        for (const row of r.json.rows) assertTotals(row, totalsOf(groups.get(row.key) ?? []), `${by} ${row.key}`);
        const revenues = r.json.rows.map((x: { revenueCents: number }) => x.revenueCents);
        assert.deepEqual(
          revenues,
          [...revenues].sort((a, b) => b - a),
          `${by}: by revenue`,
        );
      }
      // a page of products
      const page = await get(admin, `/sales/totals?${query(f, { by: 'product', limit: 5, offset: 5 })}`);
      const ranked = [...groupBy(sel, (l) => l.sku)]
        .map(([sku, ls]) => ({ sku, r: totalsOf(ls).revenueCents }))
        .sort((a, b) => b.r - a.r || (a.sku < b.sku ? -1 : 1));
      assert.deepEqual(
        page.json.rows.map((x: { key: string }) => x.key),
        ranked.slice(5, 10).map((x) => x.sku),
      );
    });

    it('ranks best sellers by revenue and by quantity, filters combined', async () => {
      const cases: Array<[Filter, 'revenue' | 'quantity', number]> = [
        [{ from: '2026-01-26', to: '2026-03-08' }, 'revenue', 10],
        [{ from: '2026-02-03', to: '2026-02-26', stores: ['S003'] }, 'quantity', 7],
        [{ from: '2026-01-29', to: '2026-03-02', category: categories[0], stores: ['S001', 'S002'] }, 'revenue', 5],
        [{ from: '2026-02-01', to: '2026-02-20', payment: 'credit' }, 'revenue', 8],
      ];
      for (const [f, rank, limit] of cases) {
        const r = await get(admin, `/sales/best-sellers?${query(f, { rank, limit })}`);
        assert.equal(r.status, 200, r.text);
        const metric = (e: Expected) => (rank === 'revenue' ? e.revenueCents : e.quantityMilli);
        const expected = [...groupBy(select(lines, f), (l) => l.sku)]
          .map(([sku, ls]) => ({ sku, t: totalsOf(ls) }))
          .sort((a, b) => metric(b.t) - metric(a.t) || (a.sku < b.sku ? -1 : 1))
          .slice(0, limit);
        assert.deepEqual(
          r.json.rows.map((x: { sku: string }) => x.sku),
          expected.map((e) => e.sku),
          JSON.stringify(f),
        );
        r.json.rows.forEach((row: Record<string, unknown>, i: number) => {
          assert.equal(row.rank, i + 1);
          assertTotals(row, expected[i]!.t, `${JSON.stringify(f)} #${i + 1}`);
          const product = master.products.find((p) => p.sku === row.sku)!;
          assert.equal(row.name, product.name);
          assert.equal(row.category, product.category);
        });
      }
    });

    it('ranks exactly whichever way it finds the answer: threshold from depth 1, or grouping all (property)', async () => {
      const db = t.app.ctx.database.db;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: DAYS - 1 }),
          fc.integer({ min: 0, max: 40 }),
          fc.constantFrom<string[] | undefined>(undefined, ['S001'], ['S002', 'S003'], ['S001', 'S002', 'S003']),
          fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
          fc.constantFrom('revenue' as const, 'quantity' as const),
          fc.integer({ min: 1, max: 12 }),
          async (start, len, stores, cat, metric, limit) => {
            const f: Filter = {
              from: addDays(FIRST, start),
              to: addDays(FIRST, Math.min(start + len, DAYS - 1)),
              ...(stores ? { stores } : {}),
              ...(cat !== undefined ? { category: categories[cat % categories.length] } : {}),
            };
            const resolved = await resolveFilter(
              db,
              {
                from: f.from,
                to: f.to,
                ...(f.stores ? { stores: f.stores } : {}),
                ...(f.category !== undefined ? { category: f.category } : {}),
              },
              undefined,
            );
            const m = (e: Expected) => (metric === 'revenue' ? e.revenueCents : e.quantityMilli);
            const expected = [...groupBy(select(lines, f), (l) => l.sku)]
              .map(([sku, ls]) => ({ sku, t: totalsOf(ls) }))
              .sort((a, b) => m(b.t) - m(a.t) || (a.sku < b.sku ? -1 : 1))
              .slice(0, limit)
              .map((e) => e.sku);
            for (const strategy of ['threshold', 'direct'] as const) {
              const got = await rankProducts(db, resolved.period, resolved.scope, metric, limit, 0, {
                strategy,
                initialDepth: 1,
              });
              assert.deepEqual(
                got.products.map((p) => p.sku),
                expected,
                `${strategy} ${JSON.stringify(f)} ${metric} top ${limit}`,
              );
            }
          },
        ),
        { numRuns: 25, seed: 42 },
      );
    });

    it('exports any answer as CSV, by format or by Accept header, with the same figures', async () => {
      const f: Filter = { from: '2026-02-01', to: '2026-03-01', stores: ['S001', 'S003'] };
      const parse = (text: string) =>
        Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true }).data;
      const kpis = await get(admin, `/sales/kpis?${query(f, { format: 'csv' })}`);
      assert.equal(kpis.status, 200);
      assert.match(kpis.type, /^text\/csv/);
      assert.match(kpis.disposition ?? '', /attachment; filename="sales-kpis-2026-02-01_2026-03-01\.csv"/);
      const exp = totalsOf(select(lines, f));
      const byMetric = new Map(parse(kpis.text).map((r) => [r.metric, r]));
      assert.equal(Math.round(Number(byMetric.get('revenue')!.current) * 100), exp.revenueCents);
      assert.equal(Number(byMetric.get('tickets')!.current), exp.tickets);

      const series = await get(admin, `/sales/series?${query(f, { grain: 'week' })}`, { accept: 'text/csv' });
      assert.match(series.type, /^text\/csv/);
      const json = await get(admin, `/sales/series?${query(f, { grain: 'week' })}`);
      const rows = parse(series.text);
      assert.equal(rows.length, json.json.rows.length);
      rows.forEach((row, i) => {
        const j = json.json.rows[i];
        assert.equal(row.period, j.period);
        assert.equal(Math.round(Number(row.revenue) * 100), j.revenueCents);
        assert.equal(Math.round(Number(row.quantity) * 1000), j.quantityMilli);
        assert.equal(Number(row.tickets), j.tickets);
      });

      const products = await get(admin, `/sales/totals?${query(f, { by: 'product', format: 'csv', limit: 1000 })}`);
      const productRows = parse(products.text);
      const expectedProducts = groupBy(select(lines, f), (l) => l.sku);
      assert.equal(productRows.length, expectedProducts.size);
      for (const row of productRows) {
        assert.equal(Math.round(Number(row.revenue) * 100), totalsOf(expectedProducts.get(row.product!)!).revenueCents);
      }
      const best = await get(admin, `/sales/best-sellers?${query(f, { format: 'csv', limit: 3 })}`);
      assert.deepEqual(Object.keys(parse(best.text)[0]!).slice(0, 3), ['rank', 'sku', 'name']);
      // JSON stays the default
      assert.match((await get(admin, `/sales/kpis?${query(f)}`)).type, /application\/json/);
    });

    it('shows people only their stores, refuses the others', async () => {
      const f: Filter = { from: '2026-02-01', to: '2026-02-28' };
      const mine = await get(manager, `/sales/totals?${query(f, { by: 'store' })}`);
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.json.rows.map((r: { key: string }) => r.key).sort(), ['S001', 'S003']);
      assertTotals(mine.json.total, totalsOf(select(lines, { ...f, stores: ['S001', 'S003'] })), 'manager total');
      const clerkKpis = await get(clerk, `/sales/kpis?${query(f)}`);
      assertTotals(clerkKpis.json.current, totalsOf(select(lines, { ...f, stores: ['S002'] })), 'clerk sees S002');
      assert.equal((await get(manager, `/sales/kpis?${query({ ...f, stores: ['S001', 'S002'] })}`)).status, 403);
      assert.equal((await get(manager, `/sales/kpis?${query(f)}&store=S002`)).status, 403);
      assert.equal((await get(clerk, `/sales/best-sellers?${query({ ...f, stores: ['S001'] })}`)).status, 403);
      assert.equal((await get(admin, `/sales/kpis?${query({ ...f, stores: ['NOPE'] })}`)).status, 404);
      assert.equal((await get(undefined, `/sales/kpis?${query(f)}`)).status, 401);
      const leak = await get(clerk, `/sales/totals?${query(f, { by: 'store', format: 'csv' })}`);
      assert.doesNotMatch(leak.text, /S001|S003/);
    });

    it('refuses what is not a valid question, naming the field', async () => {
      const cases: Array<[string, RegExp]> = [
        ['/sales/kpis?from=2026-02-10&to=2026-02-01', /after/],
        ['/sales/kpis?from=2026-02-30&to=2026-03-01', /not a date/],
        ['/sales/kpis?from=2026-02-01', /to/],
        ['/sales/kpis?from=2026-02-01&to=2026-02-02&payment=bitcoin', /payment/],
        ['/sales/kpis?from=2026-02-01&to=2026-02-02&product=NO-SUCH-SKU', /SKU/],
        ['/sales/series?from=2026-02-01&to=2026-02-02&grain=year', /grain/],
        ['/sales/best-sellers?from=2026-02-01&to=2026-02-02&limit=0', /limit/],
        ['/sales/totals?from=2026-02-01&to=2026-02-02&by=hour', /by/],
      ];
      for (const [path, re] of cases) {
        const r = await get(admin, path);
        assert.equal(r.status, 400, `${path}: ${r.text}`);
        assert.match(JSON.stringify(r.json), re, path);
      }
    });
  });
}
