// Every report on a known chain (demo data through the real imports and ingest), on SQLite and MariaDB, in both
// formats: the CSV parsed back and compared with figures computed here from the generated sales rows, the PDF read
// back with pdftotext for its title, store, period, pt-BR totals and page numbers. Then saving: the bucket key, the
// `reports` row, regeneration as a new version of the same object.
import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inTransaction } from '../src/db/tx.ts';
import { addDays, startOfDayIn, todayIn } from '../src/domain/dates.ts';
import { divRound } from '../src/domain/decimal.ts';
import { isShopflowError } from '../src/errors.ts';
import { applyMovements } from '../src/inventory/ledger.ts';
import type { ReportRequest } from '../src/reports/data.ts';
import { reportData } from '../src/reports/data.ts';
import {
  generateReport,
  generateReports,
  getReport,
  listReports,
  openReport,
  renderReport,
} from '../src/reports/service.ts';
import {
  byCategory,
  byHour,
  byPayment,
  type Chain,
  type CsvRow,
  DAYS,
  decimal,
  type Group,
  groupSales,
  loadChain,
  money,
  parseCsv,
  pdfText,
} from '../src/reports/testkit.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

const NOW = new Date('2026-03-04T12:00:00Z');
/** the reports' own day at NOW: stock reports for it show the stock at generation time */
const TODAY = '2026-03-04';

for (const dialect of backends()) {
  describe(`reports on ${dialect}`, () => {
    let t: TestApp;
    let chain: Chain;
    let store: string;

    const both = async (r: ReportRequest) => {
      const doc = await reportData(t.app.ctx.database.db, t.app.ctx.config, r, NOW);
      const csv = parseCsv((await renderReport(t.app.ctx, doc, 'csv')).bytes);
      const pdf = await renderReport(t.app.ctx, doc, 'pdf');
      return { csv, pdf: { ...(await pdfText(pdf.bytes)), count: pdf.pages ?? 0 } };
    };
    const section = (rows: CsvRow[], name: string) => rows.filter((r) => r.section === name);
    /** the CSV rows of a grouping, as key → [revenue, quantity, tickets] in CSV text */
    const asCsv = (groups: Map<string, Group>) =>
      new Map(
        [...groups].map(([k, g]) => [k, [decimal(g.revenue, 2), decimal(g.quantity, 3), String(g.tickets)]] as const),
      );
    const fromCsv = (rows: CsvRow[]) => new Map(rows.map((r) => [r.key!, [r.revenue, r.quantity, r.tickets]] as const));
    const allRows = () => [...chain.sales.values()].flat();
    const onHandNow = () => {
      // the stock file's counts minus what the sales files took (returns give back)
      const sold = new Map<string, number>();
      for (const r of allRows())
        sold.set(`${r.store_code}|${r.sku}`, (sold.get(`${r.store_code}|${r.sku}`) ?? 0) + r.quantity_milli);
      return chain.master.stock.map((s) => ({
        ...s,
        onHand: s.on_hand_milli - (sold.get(`${s.store_code}|${s.sku}`) ?? 0),
      }));
    };

    before(async () => {
      t = await createTestApp(dialect);
      chain = await loadChain(t.app);
      store = chain.fileStores[0]!;
    });
    after(async () => t?.close());

    it('daily-sales of one store and day: totals, categories, payment methods and hours', async () => {
      const day = DAYS[0]!;
      const rows = chain.sales.get(store)!.filter((r) => r.business_date === day);
      const { csv, pdf } = await both({ kind: 'daily-sales', from: day, store });

      assert.deepEqual(csv.header, ['section', 'key', 'name', 'quantity', 'revenue', 'tickets', 'share']);
      const total = groupSales(rows, () => 'total').get('total')!;
      assert.deepEqual(fromCsv(section(csv.rows, 'total')), asCsv(new Map([['total', total]])));
      assert.deepEqual(fromCsv(section(csv.rows, 'category')), asCsv(groupSales(rows, byCategory(chain.master))));
      assert.deepEqual(fromCsv(section(csv.rows, 'payment')), asCsv(groupSales(rows, byPayment)));
      assert.deepEqual(fromCsv(section(csv.rows, 'hour')), asCsv(groupSales(rows, byHour)));
      assert.equal(section(csv.rows, 'store').length, 0, 'a store report has no per-store table');
      // shares add up to about 100%
      const shares = section(csv.rows, 'category').reduce((a, r) => a + Number(r.share), 0);
      assert.ok(Math.abs(shares - 100) < 0.1, `category shares add up to ${shares}`);

      const storeName = chain.master.stores.find((s) => s.store_code === store)!.name;
      assert.match(pdf.text, /Vendas do dia/);
      assert.ok(pdf.text.includes(`Loja ${store} · ${storeName}`), 'the store is named');
      assert.match(pdf.text, /Data: 02\/03\/2026/);
      assert.ok(pdf.text.includes(money(total.revenue)), `the total ${money(total.revenue)} is on the page`);
      const tickets = new Set(rows.map((r) => r.receipt_id)).size;
      assert.ok(pdf.text.includes(`Faturamento ${money(total.revenue)} Cupons ${tickets}`), 'revenue and tickets');
      assert.ok(pdf.text.includes(`Ticket médio ${money(divRound(total.revenue, tickets))}`), 'the average ticket');
      assert.match(pdf.text, /Faturamento por categoria/);
      assert.match(pdf.text, /Faturamento por hora/);
      assert.match(pdf.pages[0]!, new RegExp(`Página 1 de ${pdf.count}`));
      assert.equal(pdf.pages.length, pdf.count);
      // every category's revenue appears in pt-BR
      for (const g of groupSales(rows, byCategory(chain.master)).values()) {
        assert.ok(pdf.text.includes(money(g.revenue)), money(g.revenue));
      }
    });

    it('daily-sales of the chain for a period: by store and by day instead of by hour', async () => {
      const rows = allRows();
      const { csv, pdf } = await both({ kind: 'daily-sales', from: DAYS[0]!, to: DAYS[1]! });
      assert.deepEqual(fromCsv(section(csv.rows, 'store')), asCsv(groupSales(rows, (r) => r.store_code)));
      assert.deepEqual(fromCsv(section(csv.rows, 'day')), asCsv(groupSales(rows, (r) => r.business_date)));
      assert.deepEqual(fromCsv(section(csv.rows, 'payment')), asCsv(groupSales(rows, byPayment)));
      assert.equal(section(csv.rows, 'hour').length, 0);
      const total = rows.reduce((a, r) => a + r.total_cents, 0);
      assert.equal(section(csv.rows, 'total')[0]!.revenue, decimal(total, 2));
      assert.match(pdf.text, /Vendas do dia Rede/);
      assert.match(pdf.text, /Período: 02\/03\/2026 a 03\/03\/2026/);
      assert.ok(pdf.text.includes(`Faturamento ${money(total)}`), 'the period revenue');
      assert.match(pdf.text, /Faturamento por dia/);
      assert.match(pdf.text, /Página 1 de \d+/);
    });

    it('daily-sales of the chain for one day counts hours and receipts store by store', async () => {
      const rows = allRows().filter((r) => r.business_date === DAYS[1]);
      const { csv } = await both({ kind: 'daily-sales', from: DAYS[1]! });
      assert.deepEqual(fromCsv(section(csv.rows, 'hour')), asCsv(groupSales(rows, byHour)));
      assert.deepEqual(fromCsv(section(csv.rows, 'category')), asCsv(groupSales(rows, byCategory(chain.master))));
      assert.equal(section(csv.rows, 'store').length, chain.fileStores.length);
    });

    it('products-sold: every product with its quantity, revenue and receipts', async () => {
      const rows = allRows();
      const { csv, pdf } = await both({ kind: 'products-sold', from: DAYS[0]!, to: DAYS[1]! });
      assert.deepEqual(csv.header, ['sku', 'name', 'category', 'unit', 'quantity', 'revenue', 'tickets', 'share']);
      const expected = groupSales(rows, (r) => r.sku);
      assert.deepEqual(new Map(csv.rows.map((r) => [r.sku!, [r.revenue, r.quantity, r.tickets]])), asCsv(expected));
      const products = new Map(chain.master.products.map((p) => [p.sku, p]));
      for (const r of csv.rows) {
        assert.equal(r.name, products.get(r.sku!)!.name);
        assert.equal(r.unit, products.get(r.sku!)!.unit);
      }
      const total = rows.reduce((a, r) => a + r.total_cents, 0);
      assert.match(pdf.text, /Produtos vendidos Rede/);
      assert.ok(pdf.text.includes(`Total ${money(total)} 100,00%`), 'the closing total line');
      assert.ok(pdf.count >= 2, 'sixty products take more than one page');
      assert.match(pdf.pages[pdf.count - 1]!, new RegExp(`Página ${pdf.count} de ${pdf.count}`));
      // a kilo product shows its grams, a unit product its units
      const kg = csv.rows.find((r) => r.unit === 'KG')!;
      const kgText = `${Number(kg.quantity).toFixed(3).replace('.', ',')} kg`;
      assert.ok(pdf.text.includes(kgText), kgText);
    });

    it('best-sellers: the top products by revenue, ranked', async () => {
      const rows = chain.sales.get(store)!;
      const { csv, pdf } = await both({ kind: 'best-sellers', from: DAYS[0]!, to: DAYS[1]!, store, top: 10 });
      const expected = [...groupSales(rows, (r) => r.sku)]
        .sort((a, b) => b[1].revenue - a[1].revenue || b[1].quantity - a[1].quantity || (a[0] < b[0] ? -1 : 1))
        .slice(0, 10);
      assert.deepEqual(
        csv.rows.map((r) => [r.rank, r.sku, r.revenue]),
        expected.map(([sku, g], i) => [String(i + 1), sku, decimal(g.revenue, 2)]),
      );
      const total = rows.reduce((a, r) => a + r.total_cents, 0);
      assert.equal(csv.rows[0]!.share, decimal(divRound(expected[0]![1].revenue * 10_000, total), 2));
      assert.match(pdf.text, /Mais vendidos/);
      assert.match(pdf.text, /Os 10 produtos que mais faturaram/);
      assert.ok(pdf.text.includes(money(expected[0]![1].revenue)), 'the best seller’s revenue');
      assert.ok(pdf.text.includes(`Faturamento do período ${money(total)}`), 'the period revenue');
    });

    it('low-stock: what is at or below its reorder point, with the order that brings it to target', async () => {
      const products = new Map(chain.master.products.map((p) => [p.sku, p]));
      const expected = onHandNow()
        .filter((s) => s.onHand <= s.reorder_point_milli)
        .map((s) => {
          const pack = Math.round(products.get(s.sku)!.pack_size * 1000);
          const need = Math.max(s.target_level_milli - s.onHand, 1);
          return { store: s.store_code, sku: s.sku, onHand: s.onHand, suggested: Math.ceil(need / pack) * pack };
        });
      assert.ok(expected.length > 0, 'the data set has low products');
      const { csv, pdf } = await both({ kind: 'low-stock', from: TODAY });
      assert.deepEqual(
        csv.rows.map((r) => `${r.store}|${r.sku}|${r.on_hand}|${r.suggested}`).sort(),
        expected.map((e) => `${e.store}|${e.sku}|${decimal(e.onHand, 3)}|${decimal(e.suggested, 3)}`).sort(),
      );
      assert.match(pdf.text, /Produtos a repor Rede/);
      assert.match(pdf.text, /Estoque na posição do momento/);
      assert.ok(pdf.text.includes(`Produtos a repor ${expected.length}`), 'the count of products to restock');

      // one store's report lists only that store
      const one = await both({ kind: 'low-stock', from: TODAY, store: chain.selfService[0]! });
      assert.deepEqual(
        one.csv.rows.map((r) => r.sku).sort(),
        expected
          .filter((e) => e.store === chain.selfService[0])
          .map((e) => e.sku)
          .sort(),
      );
    });

    it('stock-position: every balance and its value for a store, totals per store and product for the chain', async () => {
      const products = new Map(chain.master.products.map((p) => [p.sku, p]));
      const stock = onHandNow();
      const value = (s: (typeof stock)[number]) =>
        s.onHand > 0 ? divRound(s.onHand * products.get(s.sku)!.price_cents, 1000) : 0;
      const mine = stock.filter((s) => s.store_code === store);
      const { csv, pdf } = await both({ kind: 'stock-position', from: TODAY, store });
      assert.deepEqual(
        csv.rows.map((r) => `${r.sku}|${r.on_hand}|${r.value}`).sort(),
        mine.map((s) => `${s.sku}|${decimal(s.onHand, 3)}|${decimal(value(s), 2)}`).sort(),
      );
      const storeValue = mine.reduce((a, s) => a + value(s), 0);
      assert.ok(pdf.text.includes(`Valor do estoque ${money(storeValue)}`), 'the store’s stock value');
      assert.match(pdf.text, /Posição de estoque Loja/);

      const all = await both({ kind: 'stock-position', from: TODAY });
      const perStore = section(all.csv.rows, 'store');
      for (const s of chain.master.stores) {
        const v = stock.filter((x) => x.store_code === s.store_code).reduce((a, x) => a + value(x), 0);
        assert.equal(perStore.find((r) => r.store === s.store_code)?.value, decimal(v, 2), s.store_code);
      }
      const total = stock.reduce((a, s) => a + value(s), 0);
      assert.equal(section(all.csv.rows, 'product').length, chain.master.products.length);
      assert.ok(all.pdf.text.includes(`Valor do estoque ${money(total)}`), 'the chain stock value');
    });

    it('an empty period still renders, saying there were no sales', async () => {
      const { csv, pdf } = await both({ kind: 'daily-sales', from: '2025-01-01' });
      assert.equal(section(csv.rows, 'total')[0]!.revenue, '0.00');
      assert.equal(section(csv.rows, 'category').length, 0);
      assert.match(pdf.text, /Sem vendas no período/);
      assert.ok(pdf.text.includes(`Faturamento ${money(0)}`), 'a zero total');
      assert.match(pdf.text, /Sem dados para o gráfico/);
    });

    it('refuses an unknown store', async () => {
      await assert.rejects(
        reportData(t.app.ctx.database.db, t.app.ctx.config, { kind: 'daily-sales', from: DAYS[0]!, store: 'NOPE' }),
        (e) => isShopflowError(e) && e.kind === 'not_found',
      );
    });

    it('saves to the reports bucket, records the report once per object, and reads back the recorded version', async () => {
      const ctx = t.app.ctx;
      const [pdf, csv] = await generateReports(ctx, { kind: 'daily-sales', from: DAYS[0]!, store }, ['pdf', 'csv'], {
        actor: 'test',
      });
      assert.equal(pdf!.key, `reports/daily-sales/${DAYS[0]}/${store}.pdf`);
      assert.equal(csv!.key, `reports/daily-sales/${DAYS[0]}/${store}.csv`);
      assert.equal(pdf!.bucket, ctx.config.buckets.reports);
      assert.ok(pdf!.pages! >= 1, 'pages are counted');
      const head = await ctx.store.head(pdf!.bucket, pdf!.key);
      assert.equal(head?.contentType, 'application/pdf');
      assert.equal(head?.size, pdf!.sizeBytes);

      const again = await generateReport(ctx, { kind: 'daily-sales', from: DAYS[0]!, store, format: 'pdf' });
      assert.equal(again.id, pdf!.id, 'the same report keeps its row');
      assert.notEqual(again.versionId, pdf!.versionId, 'as a new version of the same object');
      assert.equal((await getReport(ctx.database.db, pdf!.id)).versionId, again.versionId);

      const chainReport = await generateReport(ctx, {
        kind: 'best-sellers',
        from: DAYS[0]!,
        to: DAYS[1]!,
        format: 'csv',
      });
      assert.equal(chainReport.key, `reports/best-sellers/${DAYS[0]}_${DAYS[1]}/chain.csv`);
      assert.equal(chainReport.store, null);

      const mineOnly = await listReports(ctx.database.db, { storeIds: [pdf!.storeId!], includeChain: false });
      assert.deepEqual(mineOnly.map((r) => r.id).sort(), [pdf!.id, csv!.id].sort());
      const chainOnly = await listReports(ctx.database.db, { storeIds: [], includeChain: true });
      assert.deepEqual(
        chainOnly.map((r) => r.id),
        [chainReport.id],
      );
      const byKind = await listReports(ctx.database.db, { kind: 'best-sellers' });
      assert.deepEqual(
        byKind.map((r) => r.id),
        [chainReport.id],
      );
      const byPeriod = await listReports(ctx.database.db, { from: DAYS[1], to: DAYS[1] });
      assert.deepEqual(
        byPeriod.map((r) => r.id),
        [chainReport.id],
        'only the report whose period reaches 03/03',
      );

      const opened = await openReport(ctx, await getReport(ctx.database.db, csv!.id));
      assert.equal(opened.contentType, 'text/csv; charset=utf-8');
      assert.equal(opened.fileName, `daily-sales_${DAYS[0]}_${store}.csv`);
      assert.match((await buffer(opened.body)).toString('utf8'), /^\uFEFFsection,key,name/);
    });

    it('a stock report for a past date shows the stock recorded by the end of that day', async () => {
      const db = t.app.ctx.database;
      const tz = t.app.ctx.config.timezone;
      const now = new Date();
      const yesterday = addDays(todayIn(tz, now), -1);
      const storeId = Number(
        (await db.db.selectFrom('stores').select('id').where('code', '=', store).executeTakeFirstOrThrow()).id,
      );
      const [first, second] = await db.db
        .selectFrom('products')
        .select(['id', 'sku'])
        .orderBy('sku')
        .limit(2)
        .execute();
      // a delivery recorded three days ago, and a count recorded today
      await inTransaction(db, (trx) =>
        applyMovements(
          trx,
          [{ storeId, productId: first!.id, kind: 'receipt', deltaMilli: 7000, ref: 'test:past', reason: 'delivery' }],
          new Date(now.getTime() - 3 * 86_400_000).toISOString(),
        ),
      );
      await inTransaction(db, (trx) =>
        applyMovements(trx, [
          { storeId, productId: second!.id, kind: 'adjustment', deltaMilli: 4000, ref: 'test:today', reason: 'count' },
        ]),
      );
      // the ledger itself says what was on hand at the end of yesterday: every movement recorded before today began
      const endOfYesterday = startOfDayIn(todayIn(tz, now), tz).toISOString();
      const recorded = await db.db
        .selectFrom('stock_movements as m')
        .innerJoin('products as p', 'p.id', 'm.product_id')
        .select(['p.sku', sql<number>`sum(m.delta_milli)`.as('q')])
        .where('m.store_id', '=', storeId)
        .where('m.created_at', '<', endOfYesterday)
        .groupBy('p.sku')
        .execute();
      const expected = new Map(recorded.map((r) => [r.sku, Number(r.q)]));
      assert.equal(expected.get(first!.sku), 7000, 'only the backdated delivery was recorded before today');
      const doc = await reportData(db.db, t.app.ctx.config, { kind: 'stock-position', from: yesterday, store }, now);
      const csv = parseCsv((await renderReport(t.app.ctx, doc, 'csv')).bytes);
      assert.deepEqual(
        csv.rows.map((r) => `${r.sku}|${r.on_hand}`).sort(),
        csv.rows.map((r) => `${r.sku}|${decimal(expected.get(r.sku!) ?? 0, 3)}`).sort(),
      );
      assert.ok(doc.notes[0]!.startsWith(`Estoque ao fim de ${yesterday}`));
      // today's report has today's count in it
      const today = await reportData(
        db.db,
        t.app.ctx.config,
        { kind: 'stock-position', from: todayIn(tz, now), store },
        now,
      );
      const todayCsv = parseCsv((await renderReport(t.app.ctx, today, 'csv')).bytes);
      const balance = await db.db
        .selectFrom('stock_balances')
        .select('on_hand_milli')
        .where('store_id', '=', storeId)
        .where('product_id', '=', second!.id)
        .executeTakeFirstOrThrow();
      assert.equal(
        todayCsv.rows.find((r) => r.sku === second!.sku)?.on_hand,
        decimal(Number(balance.on_hand_milli), 3),
      );
    });
  });
}
