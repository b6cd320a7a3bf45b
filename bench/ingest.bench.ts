// The ingest benchmark: one generated sales file through the whole pipeline on SQLite and on MariaDB, beside each
// database's own bulk loader and a naive row-at-a-time insert, measured in the same run on the same file and an
// equivalent table. Prints a markdown table of rows/s, the ratio to the bulk loader, and peak RSS.
//   node --import tsx bench/ingest.bench.ts [--rows 1000000] [--big]     (--big adds a ~1 GB file, RSS only)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { generateMasterData } from '../src/demo/generate.ts';
import { writeDemoFiles, writeLargeSalesFile } from '../src/demo/write.ts';
import { importTableDdl } from './ingest-tables.ts';

const args = process.argv.slice(2);
const ROWS = Number(args[args.indexOf('--rows') + 1] || 0) || 1_000_000;
const BIG = args.includes('--big');
const MYSQL = process.env.SHOPFLOW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const NAIVE_ROWS = 20_000;

interface Measure {
  seconds: number;
  rows: number;
  maxRssMb: number;
  status?: string;
}

function child(mode: string, file: string, url: string, extraEnv: Record<string, string> = {}, rows?: number): Measure {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/ingest-child.ts', mode, file, url, String(rows ?? '')],
    {
      env: { ...process.env, ...extraEnv },
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measure;
}

async function mysqlDb(name: string, withImportTable: boolean): Promise<string> {
  const server = new URL(MYSQL);
  const c = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: server.username || 'root',
    password: server.password,
  });
  await c.query(`drop database if exists \`${name}\``);
  await c.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`);
  if (withImportTable) {
    await c.query(`use \`${name}\``);
    for (const ddl of importTableDdl('mysql')) await c.query(ddl);
  }
  await c.end();
  return `${MYSQL.replace(/\/$/, '')}/${name}`;
}

async function dropMysql(name: string) {
  const server = new URL(MYSQL);
  const c = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: server.username || 'root',
    password: server.password,
  });
  await c.query(`drop database if exists \`${name}\``);
  await c.end();
}

const rate = (m: Measure) => m.rows / m.seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-ingest-bench-'));
  try {
    const opts = { stores: 1, products: 2000, days: 1, seed: 11, selfServiceShare: 0 };
    await writeDemoFiles(join(dir, 'master'), { ...opts, days: 0 });
    const master = generateMasterData(opts);
    const file = join(dir, 'sales.csv');
    await writeLargeSalesFile(file, {
      rows: ROWS,
      seed: 3,
      storeCode: 'S001',
      date: '2026-03-02',
      products: master.products,
    });
    const small = join(dir, 'small.csv');
    const env = { BENCH_MASTER_DIR: join(dir, 'master') };
    const mb = statSync(file).size / 1e6;
    const out: string[] = [
      `Ingest of one ${fmt(ROWS)}-row sales file (${mb.toFixed(0)} MB, 13 columns, 2,000 products), rows/s; ratio = against the database's own bulk loader in the same run.`,
      '',
      '| database | what | rows/s | ratio | peak RSS |',
      '|---|---|---:|---:|---:|',
    ];

    // SQLite: sqlite3 .import into the equivalent table is the physical reference.
    const importDb = join(dir, 'import.db');
    execFileSync('sqlite3', [
      importDb,
      'pragma journal_mode=wal;',
      'pragma synchronous=normal;',
      ...importTableDdl('sqlite').map((d) => `${d};`),
    ]);
    const t0 = process.hrtime.bigint();
    execFileSync('sqlite3', [importDb, '.mode csv', `.import --skip 1 ${file} sales_import`]);
    const sqliteImport = { seconds: Number(process.hrtime.bigint() - t0) / 1e9, rows: ROWS, maxRssMb: Number.NaN };
    const naiveDb = join(dir, 'naive.db');
    execFileSync('sqlite3', [naiveDb, 'pragma journal_mode=wal;', ...importTableDdl('sqlite').map((d) => `${d};`)]);
    const sqliteNaive = child('naive-sqlite', file, `sqlite:${naiveDb}`, {}, NAIVE_ROWS);
    const sqlitePipe = child('pipeline', file, `sqlite:${join(dir, 'pipeline.db')}`, env);
    if (sqlitePipe.status !== 'loaded') throw new Error(`pipeline status ${sqlitePipe.status}`);
    await writeLargeSalesFile(small, {
      rows: 5000,
      seed: 5,
      storeCode: 'S001',
      date: '2026-03-03',
      products: master.products,
    });
    const smallRuns = [3, 4, 5, 6, 7].map((d) =>
      child('pipeline', small, `sqlite:${join(dir, 'pipeline.db')}`, { ...env, BENCH_DATE: `2026-03-0${d}` }),
    );
    const base = rate(sqliteImport);
    out.push(`| SQLite | \`sqlite3 .import\` (1 unique index) | ${fmt(base)} | 1.00 | — |`);
    out.push(
      `| SQLite | shopflow pipeline (validate, transform, load, stock, roll-up) | ${fmt(rate(sqlitePipe))} | ${(rate(sqlitePipe) / base).toFixed(2)} | ${sqlitePipe.maxRssMb} MB |`,
    );
    out.push(
      `| SQLite | naive INSERT per row, autocommit (first ${fmt(NAIVE_ROWS)} rows) | ${fmt(rate(sqliteNaive))} | ${(rate(sqliteNaive) / base).toFixed(3)} | ${sqliteNaive.maxRssMb} MB |`,
    );

    // MariaDB: LOAD DATA LOCAL INFILE is the reference.
    const suffix = `${process.pid}`;
    const loadUrl = await mysqlDb(`bench_load_${suffix}`, true);
    const load = child('load-data', file, loadUrl);
    const naiveUrl = await mysqlDb(`bench_naive_${suffix}`, true);
    const myNaive = child('naive-mysql', file, naiveUrl, {}, NAIVE_ROWS);
    const pipeUrl = await mysqlDb(`bench_pipe_${suffix}`, false);
    const myPipe = child('pipeline', file, pipeUrl, env);
    const mySmall = [3, 4, 5, 6, 7].map((d) =>
      child('pipeline', small, pipeUrl, { ...env, BENCH_DATE: `2026-03-0${d}` }),
    );
    for (const n of ['load', 'naive', 'pipe']) await dropMysql(`bench_${n}_${suffix}`);
    const mbase = rate(load);
    out.push(`| MariaDB | \`LOAD DATA LOCAL INFILE\` (1 unique index) | ${fmt(mbase)} | 1.00 | ${load.maxRssMb} MB |`);
    out.push(
      `| MariaDB | shopflow pipeline | ${fmt(rate(myPipe))} | ${(rate(myPipe) / mbase).toFixed(2)} | ${myPipe.maxRssMb} MB |`,
    );
    out.push(
      `| MariaDB | naive INSERT per row, autocommit (first ${fmt(NAIVE_ROWS)} rows) | ${fmt(rate(myNaive))} | ${(rate(myNaive) / mbase).toFixed(3)} | ${myNaive.maxRssMb} MB |`,
    );

    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    out.push('');
    out.push(
      `One 5,000-row store-day file into the database above (median of 5, whole pipeline from event to commit): SQLite ${(median(smallRuns.map((m) => m.seconds)) * 1000).toFixed(0)} ms, MariaDB ${(median(mySmall.map((m) => m.seconds)) * 1000).toFixed(0)} ms.`,
    );

    if (BIG) {
      const bigFile = join(dir, 'big.csv');
      await writeLargeSalesFile(bigFile, {
        rows: 10_000_000,
        seed: 9,
        storeCode: 'S001',
        date: '2026-03-09',
        products: master.products,
      });
      rmSync(file);
      const bigRun = child('pipeline', bigFile, `sqlite:${join(dir, 'big.db')}`, { ...env, BENCH_DATE: '2026-03-09' });
      out.push(
        `A ${(statSync(bigFile).size / 1e9).toFixed(2)} GB file (10,000,000 rows) through the pipeline on SQLite: ${fmt(rate(bigRun))} rows/s, peak RSS ${bigRun.maxRssMb} MB.`,
      );
    }
    return out.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
