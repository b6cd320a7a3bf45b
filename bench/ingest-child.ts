// One measurement of the ingest benchmark, in a fresh process so that its peak RSS is its own.
// argv: <mode> <file> <database url> [rows]
//   pipeline      the whole ingest (bucket put → event → handler → database) of <file>
//   naive-sqlite  one INSERT per row, each its own transaction (autocommit), first [rows] rows
//   naive-mysql   the same on MySQL
//   load-data     MySQL's LOAD DATA LOCAL INFILE of <file> into the import table
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import SQLite from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import Papa from 'papaparse';
import pino from 'pino';
import { openApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { parseMysqlUrl } from '../src/db/connect.ts';
import { putSalesFile, waitForFile } from '../src/ingest/submit.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';
import { IMPORT_TABLE_COLUMNS } from './ingest-tables.ts';

const [mode, file, url, rowsArg] = process.argv.slice(2) as [string, string, string, string | undefined];
const result: Record<string, unknown> = { mode };

async function* lines(limit: number) {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let n = -1;
  for await (const line of rl) {
    if (n++ < 0) continue;
    if (n > limit) break;
    yield Papa.parse<string[]>(line).data[0] ?? [];
  }
  rl.close();
}

if (mode === 'pipeline') {
  // <file> may list several files (comma-separated) with BENCH_DATES giving each one's business day: they are
  // loaded one after another by the same process, as a server or a warm Lambda container does.
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-bench-'));
  const config = loadConfig({
    SHOPFLOW_DATABASE_URL: url,
    SHOPFLOW_DATA_DIR: dir,
    SHOPFLOW_STORAGE: `local:${join(dir, 'buckets')}`,
    SHOPFLOW_DEMO: 'false',
    SHOPFLOW_MAX_FILE_BYTES: String(4 * 1024 ** 3),
    SHOPFLOW_MAX_EXPANDED_BYTES: String(4 * 1024 ** 3),
    SHOPFLOW_EVENT_LEASE_SECONDS: '3600',
    SHOPFLOW_SQLITE_SYNCHRONOUS: 'NORMAL',
  });
  const app = await openApp(config, { runtime: true, log: pino({ level: 'silent' }) });
  const masterDir = process.env.BENCH_MASTER_DIR!;
  if (!(await app.ctx.database.db.selectFrom('stores').select('id').limit(1).executeTakeFirst())) {
    await importStores(app.ctx.database, readFileSync(join(masterDir, 'stores.csv')));
    await importProducts(app.ctx.database, readFileSync(join(masterDir, 'products.csv')));
  }
  // shelves stocked as the master data says before the files (not timed): a day's file then sends some products
  // below their reorder point (a few hundred of the 2,000: the master data's reorder points are high for a store
  // selling 5,000 lines a day), instead of every product being below zero after the previous run
  if (process.env.BENCH_STOCK === '1') await importStock(app.ctx.database, readFileSync(join(masterDir, 'stock.csv')));
  const files = file.split(',');
  const dates = (process.env.BENCH_DATES ?? '2026-03-02').split(',');
  const seconds: number[] = [];
  const statuses: string[] = [];
  let rows = 0;
  for (const [i, f] of files.entries()) {
    const ref = await putSalesFile(app, {
      bytes: createReadStream(f),
      storeCode: 'S001',
      businessDate: dates[i]!,
      fileName: 'bench.csv',
    });
    const t0 = process.hrtime.bigint();
    const r = await waitForFile(app, ref, 3_600_000);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    statuses.push(r.status);
    rows += r.rowsLoaded;
  }
  result.seconds = seconds.reduce((a, b) => a + b, 0);
  result.each = seconds;
  result.rows = rows;
  result.status = statuses.every((x) => x === 'loaded') ? 'loaded' : statuses.join(',');
  await app.close();
  // the bucket holds a copy of every file loaded (a 1 GB one included)
  rmSync(dir, { recursive: true, force: true });
} else if (mode === 'naive-sqlite') {
  const limit = Number(rowsArg);
  const db = new SQLite(url.slice('sqlite:'.length));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const stmt = db.prepare(
    `insert into sales_import (${IMPORT_TABLE_COLUMNS.join(',')}) values (${IMPORT_TABLE_COLUMNS.map(() => '?').join(',')})`,
  );
  const t0 = process.hrtime.bigint();
  let n = 0;
  for await (const f of lines(limit)) {
    stmt.run(f.slice(0, IMPORT_TABLE_COLUMNS.length));
    n++;
  }
  result.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  result.rows = n;
  db.close();
} else if (mode === 'naive-mysql' || mode === 'load-data') {
  const c = await createConnection({ ...parseMysqlUrl(url), infileStreamFactory: () => createReadStream(file) });
  const t0 = process.hrtime.bigint();
  let n = 0;
  if (mode === 'load-data') {
    const [r] = (await c.query(
      `load data local infile 'bench.csv' into table sales_import fields terminated by ',' optionally enclosed by '"' lines terminated by '\\n' ignore 1 lines (${IMPORT_TABLE_COLUMNS.join(',')})`,
    )) as unknown as [{ affectedRows: number }];
    n = r.affectedRows;
  } else {
    const sql = `insert into sales_import (${IMPORT_TABLE_COLUMNS.join(',')}) values (${IMPORT_TABLE_COLUMNS.map(() => '?').join(',')})`;
    for await (const f of lines(Number(rowsArg))) {
      await c.execute(sql, f.slice(0, IMPORT_TABLE_COLUMNS.length));
      n++;
    }
  }
  result.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  result.rows = n;
  await c.end();
}
result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
