// Shared by the report tests (test/reports*.test.ts): a small demo chain loaded through the real imports and ingest, the figures the reports
// must show computed straight from the generated rows (never from the database), and readers for both formats.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Papa from 'papaparse';
import type { App } from '../app.ts';
import {
  type DemoMasterData,
  type DemoOptions,
  type DemoSaleRow,
  generateMasterData,
  salesRows,
} from '../demo/generate.ts';
import { productsCsv, salesCsv, stockCsv, storesCsv } from '../demo/write.ts';
import { ingestLocalFile } from '../ingest/submit.ts';
import { importProducts, importStock, importStores } from '../masterdata/import.ts';

const run = promisify(execFile);

export const OPTS: DemoOptions = {
  stores: 3,
  products: 60,
  days: 2,
  seed: 5,
  selfServiceShare: 0.34,
  rowsPerStoreDay: 120,
  startDate: '2026-03-02',
};
export const DAYS = ['2026-03-02', '2026-03-03'];

export interface Chain {
  master: DemoMasterData;
  /** every loaded sales row, per store code */
  sales: Map<string, DemoSaleRow[]>;
  fileStores: string[];
  selfService: string[];
}

export async function loadChain(app: App): Promise<Chain> {
  const master = generateMasterData(OPTS);
  const db = app.ctx.database;
  assert.equal((await importStores(db, storesCsv(master))).rejected.length, 0);
  assert.equal((await importProducts(db, productsCsv(master))).rejected.length, 0);
  assert.equal((await importStock(db, stockCsv(master))).rejected.length, 0);
  const fileStores = master.stores.filter((s) => s.kind === 'file').map((s) => s.store_code);
  const selfService = master.stores.filter((s) => s.kind === 'selfservice').map((s) => s.store_code);
  assert.ok(fileStores.length >= 2 && selfService.length >= 1, 'the chain has file stores and a self-service store');
  const sales = new Map<string, DemoSaleRow[]>();
  for (const store of fileStores) {
    const all: DemoSaleRow[] = [];
    for (const date of DAYS) {
      const rows = salesRows(OPTS, master, store, date);
      const r = await ingestLocalFile(app, {
        bytes: salesCsv(rows),
        storeCode: store,
        businessDate: date,
        fileName: 'vendas.csv',
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 'loaded', `${store} ${date}: ${r.reason ?? ''}`);
      assert.equal(r.rowsLoaded, rows.length);
      all.push(...rows);
    }
    sales.set(store, all);
  }
  return { master, sales, fileStores, selfService };
}

const PAYMENT: Record<string, string> = {
  dinheiro: 'cash',
  debito: 'debit',
  credito: 'credit',
  pix: 'pix',
  voucher: 'voucher',
  outros: 'other',
};

export interface Group {
  revenue: number;
  quantity: number;
  tickets: number;
}

/**
 * Sales of the given rows grouped by `keyOf`. Tickets are distinct receipts per store and day within a group,
 * added up over store-days, as the roll-ups count them.
 */
export function groupSales(rows: DemoSaleRow[], keyOf: (r: DemoSaleRow) => string): Map<string, Group> {
  const out = new Map<string, Group>();
  const receipts = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = keyOf(r);
    const g = out.get(k) ?? { revenue: 0, quantity: 0, tickets: 0 };
    g.revenue += r.total_cents;
    g.quantity += r.quantity_milli;
    out.set(k, g);
    const seen = receipts.get(k) ?? new Set<string>();
    seen.add(`${r.store_code}|${r.business_date}|${r.receipt_id}`);
    receipts.set(k, seen);
  }
  for (const [k, g] of out) g.tickets = receipts.get(k)!.size;
  return out;
}

export const byPayment = (r: DemoSaleRow) => PAYMENT[r.payment_method]!;
export const byHour = (r: DemoSaleRow) => r.sold_at.slice(0, 2);
export const byCategory = (master: DemoMasterData) => {
  const cat = new Map(master.products.map((p) => [p.sku, p.category]));
  return (r: DemoSaleRow) => cat.get(r.sku)!;
};

/** `1234.56` from cents, as the CSV writes money */
export const decimal = (value: number, scale: number) => {
  const s = String(Math.abs(value)).padStart(scale + 1, '0');
  return `${value < 0 ? '-' : ''}${s.slice(0, -scale)}.${s.slice(-scale)}`;
};

const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
/** what a person reads: `R$ 1.234,56`, with a plain space */
export const money = (cents: number) => brl.format(cents / 100).replace(/\s/g, ' ');

export type CsvRow = Record<string, string>;

export function parseCsv(bytes: Buffer): { header: string[]; rows: CsvRow[] } {
  const text = bytes.toString('utf8');
  assert.ok(text.startsWith('\uFEFF'), 'a UTF-8 BOM so that spreadsheets read the accents');
  assert.ok(text.includes('\r\n'), 'CRLF line ends');
  const parsed = Papa.parse<CsvRow>(text.slice(1), { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.errors, []);
  return { header: parsed.meta.fields ?? [], rows: parsed.data };
}

/**
 * The text of a PDF as pdftotext extracts it in drawing order (`-raw`: a key figure's label right before its value,
 * a table row on one line), whitespace (NBSP included) folded to single spaces.
 */
export async function pdfText(bytes: Buffer): Promise<{ text: string; pages: string[] }> {
  assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-pdf-'));
  try {
    const file = join(dir, 'r.pdf');
    writeFileSync(file, bytes);
    const { stdout } = await run('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-'], { maxBuffer: 64 << 20 });
    const pages = stdout
      .split('\f')
      .filter((p) => p.trim() !== '')
      .map((p) => p.replace(/\s+/g, ' '));
    return { text: pages.join(' '), pages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
