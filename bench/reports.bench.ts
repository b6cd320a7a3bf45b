// The report benchmark: a 31-day report of a 20-store × 2,000-product chain, as PDF and CSV, beside two baselines
// measured in the same run — PDFKit drawing the same number of pages of plain text lines (no layout, no formatting),
// and the project's csvLine writing the same rows — so the ratios say what the report layer itself costs.
//
//   node --import tsx bench/reports.bench.ts [--repeat 3]
//
// Data. The reports read only the roll-ups and the stock, so those are loaded directly, without sales lines, by
// bulk SQL inside SQLite (a few seconds instead of the hours a 31-day × 20-store ingest would take):
//   - stores, products (20 categories, UN and KG) and a 31-row day table from recursive CTEs;
//   - sales_daily = stores × days × products where a deterministic hash of the three ids says the product sold that
//     day (about 70%: the long tail does not sell every day), quantities and revenue from the same hash;
//   - sales_daily_store / _category / _payment derived from sales_daily by INSERT … SELECT … GROUP BY, as the real
//     roll-up derives them from lines (payment methods split each store-day in fixed shares);
//   - stock_balances = stores × products with levels, about 10% at or below the reorder point.
// The figures are then exactly what the report queries would meet after a month of ingest, minus the sales lines
// that only a one-day by-hour table reads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import PDFDocument from 'pdfkit';
import { loadConfig } from '../src/config.ts';
import { csvLine } from '../src/csv/write.ts';
import { connect, type Database } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { createFormatter } from '../src/domain/format.ts';
import { renderCsv } from '../src/reports/csv.ts';
import { reportData } from '../src/reports/data.ts';
import type { ReportDoc, ReportKind } from '../src/reports/model.ts';
import { renderPdf } from '../src/reports/pdf.ts';

const args = process.argv.slice(2);
const REPEAT = args.includes('--repeat') ? Number(args[args.indexOf('--repeat') + 1]) || 3 : 3;
const CSV_ROUNDS = 15;
const STORES = 20;
const PRODUCTS = 2000;
const DAYS = 31;
const FROM = '2026-01-01';
const TO = '2026-01-31';
const NOW = new Date('2026-02-01T03:00:00Z');

function load(database: Database): { salesDaily: number; balances: number } {
  const db = database.sqlite!;
  const now = NOW.toISOString();
  db.exec('begin');
  db.exec(`
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${STORES})
    insert into stores (code, name, kind, city, timezone, closing_time, created_at, updated_at)
    select printf('S%03d', i), 'Supermercado ' || i, 'file', 'São Paulo', 'America/Sao_Paulo', '22:00', '${now}', '${now}'
    from n`);
  db.exec(`
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${PRODUCTS})
    insert into products (sku, ean, name, category, unit, price_cents, supplier, pack_size_milli, lead_time_days,
                          created_at, updated_at)
    select printf('P%06d', i), null, 'Produto de teste número ' || i || case when i % 7 = 0 then ' kg' else ' 500g' end,
           'Categoria ' || (i % 20 + 1), case when i % 7 = 0 then 'KG' else 'UN' end, 199 + (i * 37) % 4800,
           'Fornecedor ' || (i % 40 + 1), case when i % 7 = 0 then 1000 else 6000 end, 2, '${now}', '${now}'
    from n`);
  db.exec('create temp table days (d text primary key, k integer)');
  db.exec(`
    with recursive n(k) as (select 0 union all select k + 1 from n where k < ${DAYS - 1})
    insert into days select date('${FROM}', '+' || k || ' days'), k from n`);
  // h: a deterministic hash of (store, day, product); the product sold that day when h % 10 < 7
  db.exec(`
    insert into sales_daily (store_id, business_date, product_id, quantity_milli, revenue_cents, line_count, tickets)
    select s.id, d.d, p.id,
           (1 + (s.id * 7919 + d.k * 104729 + p.id * 1299709) % 23) * case when p.unit = 'KG' then 731 else 1000 end,
           (1 + (s.id * 7919 + d.k * 104729 + p.id * 1299709) % 23) * p.price_cents
             * case when p.unit = 'KG' then 731 else 1000 end / 1000,
           1 + (s.id + d.k + p.id) % 9, 1 + (s.id + d.k + p.id) % 9
    from stores s cross join days d cross join products p
    where (s.id * 31 + d.k * 17 + p.id * 13) % 10 < 7`);
  db.exec(`
    insert into sales_daily_store (store_id, business_date, quantity_milli, revenue_cents, line_count, tickets)
    select store_id, business_date, sum(quantity_milli), sum(revenue_cents), sum(line_count), sum(tickets) / 3
    from sales_daily group by store_id, business_date`);
  db.exec(`
    insert into sales_daily_category (store_id, business_date, category, quantity_milli, revenue_cents, tickets)
    select d.store_id, d.business_date, p.category, sum(d.quantity_milli), sum(d.revenue_cents), sum(d.tickets) / 2
    from sales_daily d join products p on p.id = d.product_id group by d.store_id, d.business_date, p.category`);
  db.exec(`
    insert into sales_daily_payment (store_id, business_date, payment_method, quantity_milli, revenue_cents, tickets)
    select d.store_id, d.business_date, m.method, d.quantity_milli * m.share / 100, d.revenue_cents * m.share / 100,
           d.tickets * m.share / 100
    from sales_daily_store d cross join (select 'credit' as method, 35 as share union all select 'debit', 25
      union all select 'pix', 25 union all select 'cash', 10 union all select 'voucher', 5) m`);
  db.exec(`
    insert into stock_balances (store_id, product_id, on_hand_milli, reorder_point_milli, target_level_milli, updated_at)
    select s.id, p.id, ((s.id * 13 + p.id * 7) % 50) * 1000, 5000, 30000, '${now}'
    from stores s cross join products p`);
  db.exec('commit');
  db.exec('analyze');
  const count = (t: string) => (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
  return { salesDaily: count('sales_daily'), balances: count('stock_balances') };
}

/** PDFKit alone: `pages` pages of `linesPerPage` text lines each, drawn at absolute positions. */
async function baselinePdf(pages: number, lines: string[], linesPerPage: number): Promise<number> {
  const t0 = performance.now();
  const doc = new PDFDocument({ size: 'A4', margins: { top: 32, bottom: 44, left: 36, right: 36 } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((r) => doc.on('end', () => r()));
  doc.font('Helvetica').fontSize(8.5);
  let n = 0;
  for (let p = 0; p < pages; p++) {
    if (p > 0) doc.addPage();
    for (let i = 0; i < linesPerPage; i++) {
      doc.text(lines[n++ % lines.length]!, 36, 76 + i * 13, { lineBreak: false });
    }
  }
  doc.end();
  await ended;
  return performance.now() - t0;
}

function baselineCsv(doc: ReportDoc): { ms: number; rows: number } {
  const t0 = performance.now();
  const parts: string[] = [];
  let rows = 0;
  for (const t of doc.tables) {
    parts.push(csvLine(t.columns.map((c) => c.key)));
    for (const r of t.rows) {
      parts.push(csvLine(r));
      rows++;
    }
  }
  Buffer.from(parts.join(''), 'utf8');
  return { ms: performance.now() - t0, rows };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-reports-bench-'));
  const database = await connect(`sqlite:${join(dir, 'bench.db')}`, { sqliteSynchronous: 'NORMAL' });
  try {
    await migrate(database);
    const t0 = performance.now();
    const counts = load(database);
    const loadMs = performance.now() - t0;
    const config = loadConfig({ SHOPFLOW_DATA_DIR: dir });
    const fmt = createFormatter({ locale: config.locale, currency: config.currency, timeZone: config.timezone });

    const kinds: Array<{ kind: ReportKind; label: string; to?: string }> = [
      { kind: 'products-sold', label: 'products-sold (2,000 products)', to: TO },
      { kind: 'daily-sales', label: 'daily-sales (totals, stores, categories, payments, days)', to: TO },
      { kind: 'best-sellers', label: 'best-sellers (top 50)', to: TO },
      { kind: 'stock-position', label: 'stock-position (40,000 balances → 20 stores + 2,000 products)' },
      { kind: 'low-stock', label: 'low-stock (every low balance of 20 stores)' },
    ];
    const rows: string[] = [];
    for (const k of kinds) {
      const q: number[] = [];
      const pdf: number[] = [];
      const csv: number[] = [];
      const basePdf: number[] = [];
      const baseCsv: number[] = [];
      let pages = 0;
      let csvRows = 0;
      let bytes = 0;
      for (let i = 0; i < REPEAT; i++) {
        let s = performance.now();
        const doc = await reportData(database.db, config, { kind: k.kind, from: FROM, to: k.to }, NOW);
        q.push(performance.now() - s);
        s = performance.now();
        const rendered = await renderPdf(doc, fmt);
        pdf.push(performance.now() - s);
        pages = rendered.pages;
        bytes = rendered.bytes.length;
        // CSV takes milliseconds: many interleaved rounds keep the machine's noise out of the ratio
        for (let j = 0; j < CSV_ROUNDS; j++) {
          s = performance.now();
          renderCsv(doc);
          csv.push(performance.now() - s);
          const b = baselineCsv(doc);
          baseCsv.push(b.ms);
          csvRows = b.rows;
        }
        // the baseline draws as many lines per page as a table page holds, from the same rows as plain text
        const lines = doc.tables.flatMap((t) => t.rows.map((r) => r.join('  ')));
        basePdf.push(await baselinePdf(pages, lines.length ? lines : ['-'], 55));
      }
      const pdfMs = median(pdf);
      rows.push(
        `| ${k.label} | ${ms(median(q))} | ${ms(pdfMs)} | ${pages} | ${Math.round(pages / (pdfMs / 1000))} | ` +
          `${(bytes / 1024).toFixed(0)} KB | ${ms(median(basePdf))} | ${(pdfMs / median(basePdf)).toFixed(1)}× | ` +
          `${ms(median(csv))} | ${csvRows.toLocaleString('en-US')} | ${ms(median(baseCsv))} | ` +
          `${(median(csv) / median(baseCsv)).toFixed(1)}× | ${ms(median(q) + pdfMs + median(csv))} |`,
      );
    }
    return [
      `Chain reports for ${DAYS} days (${FROM} to ${TO}), ${STORES} stores × ${PRODUCTS.toLocaleString('en-US')} products, ` +
        `SQLite: ${counts.salesDaily.toLocaleString('en-US')} sales_daily rows, ${counts.balances.toLocaleString('en-US')} ` +
        `stock balances (bulk-loaded in ${(loadMs / 1000).toFixed(1)} s). Median of ${REPEAT} runs, Node ${process.versions.node}.`,
      '',
      '| report | query (roll-ups) | PDF render | pages | pages/s | PDF size | baseline PDF* | ratio | CSV render | CSV rows | baseline CSV** | ratio | total |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      '\\* PDFKit drawing the same number of pages, 55 plain text lines each (the rows joined), Helvetica, no layout.',
      `\\*\\* the same rows written with \`csvLine\` (src/csv/write.ts), numbers as they are stored; CSV figures are medians of ${CSV_ROUNDS} rounds per run.`,
    ].join('\n');
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
