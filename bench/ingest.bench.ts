// The ingest benchmark: one generated sales file through the whole pipeline on SQLite and on MariaDB, beside each
// database's own bulk loader and a naive row-at-a-time insert, measured in the same run on the same file and an
// equivalent table. Prints a markdown table of rows/s, the ratio to the bulk loader, and peak RSS.
//   node --import tsx bench/ingest.bench.ts [--rows 1000000] [--rounds 3] [--big]   (--big adds a ~1 GB file)
// The bulk loader and the pipeline run in alternation, --rounds times each on a fresh database: the table gives the
// median of each and the median of the rounds' ratios, so that one noisy moment of a shared machine does not decide.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { createConnection } from 'mysql2/promise';
import { generateMasterData } from '../src/demo/generate.ts';
import { writeDemoFiles, writeLargeSalesFile } from '../src/demo/write.ts';
import { importTableDdl } from './ingest-tables.ts';

const args = process.argv.slice(2);
const ROWS = Number(args[args.indexOf('--rows') + 1] || 0) || 1_000_000;
const BIG = args.includes('--big');
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 0) || 3;
const MYSQL = process.env.SHOPFLOW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const NAIVE_ROWS = 20_000;
const SMALL_FILES = 21;

interface Measure {
  seconds: number;
  /** per file, when several were loaded */
  each?: number[];
  rows: number;
  maxRssMb: number;
  status?: string;
}

// The measuring child runs as one esbuild bundle, the form the ingest Lambda is deployed in; `viaTsx` runs the
// TypeScript through tsx instead, as `npm start` does (same code, ~65 MB more resident: the loader's own state).
const BUNDLE = join(import.meta.dirname, '.build', 'ingest-child.mjs');
function buildChild() {
  buildSync({
    entryPoints: [join(import.meta.dirname, 'ingest-child.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    banner: {
      js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
}

function child(
  mode: string,
  file: string,
  url: string,
  extraEnv: Record<string, string> = {},
  rows?: number,
  viaTsx = false,
): Measure {
  const entry = viaTsx ? ['--import', 'tsx', 'bench/ingest-child.ts'] : [BUNDLE];
  const r = spawnSync(process.execPath, [...entry, mode, file, url, String(rows ?? '')], {
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
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
function loaded(m: Measure): Measure {
  if (m.status !== 'loaded') throw new Error(`the pipeline answered ${m.status}, not loaded`);
  return m;
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Rounds {
  baseRate: number;
  rate: number;
  /** the median of the rounds' own ratios */
  ratio: number;
  /** each round's ratio, for the table */
  ratios: string;
  baseRssMb: number;
  maxRssMb: number;
}

function summarize(pairs: Array<[Measure, Measure]>): Rounds {
  const ratios = pairs.map(([b, p]) => rate(p) / rate(b));
  return {
    baseRate: median(pairs.map(([b]) => rate(b))),
    rate: median(pairs.map(([, p]) => rate(p))),
    ratio: median(ratios),
    ratios: ratios.map((r) => r.toFixed(2)).join(', '),
    baseRssMb: Math.max(...pairs.map(([b]) => b.maxRssMb)),
    maxRssMb: Math.max(...pairs.map(([, p]) => p.maxRssMb)),
  };
}

/** The reference and the pipeline, one after the other, ROUNDS times. */
async function alternate(
  base: (round: number) => Promise<Measure>,
  pipeline: (round: number) => Promise<Measure>,
): Promise<Rounds> {
  const pairs: Array<[Measure, Measure]> = [];
  for (let round = 0; round < ROUNDS; round++) pairs.push([await base(round), await pipeline(round)]);
  return summarize(pairs);
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-ingest-bench-'));
  buildChild();
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
    const env = { BENCH_MASTER_DIR: join(dir, 'master') };
    const mb = statSync(file).size / 1e6;
    const out: string[] = [
      `Ingest of one ${fmt(ROWS)}-row sales file (${mb.toFixed(0)} MB, 13 columns, 2,000 products), rows/s; ratio = against the database's own bulk loader in the same run.`,
      '',
      '| database | what | rows/s | ratio | peak RSS |',
      '|---|---|---:|---:|---:|',
    ];

    // SQLite: sqlite3 .import into the equivalent table is the physical reference.
    const sqliteImportOnce = (round: number): Measure => {
      const importDb = join(dir, `import-${round}.db`);
      execFileSync('sqlite3', [
        importDb,
        'pragma journal_mode=wal;',
        'pragma synchronous=normal;',
        ...importTableDdl('sqlite').map((d) => `${d};`),
      ]);
      const t0 = process.hrtime.bigint();
      execFileSync('sqlite3', [importDb, '.mode csv', `.import --skip 1 ${file} sales_import`]);
      const m = { seconds: Number(process.hrtime.bigint() - t0) / 1e9, rows: ROWS, maxRssMb: Number.NaN };
      rmSync(importDb, { force: true });
      return m;
    };
    const sqliteRounds = await alternate(
      async (round) => sqliteImportOnce(round),
      async (round) => {
        const db = join(dir, `pipeline-${round}.db`);
        const m = loaded(child('pipeline', file, `sqlite:${db}`, env));
        // the last round's database takes the small files below
        if (round < ROUNDS - 1) for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
        return m;
      },
    );
    const naiveDb = join(dir, 'naive.db');
    execFileSync('sqlite3', [naiveDb, 'pragma journal_mode=wal;', ...importTableDdl('sqlite').map((d) => `${d};`)]);
    const sqliteNaive = child('naive-sqlite', file, `sqlite:${naiveDb}`, {}, NAIVE_ROWS);
    const sqliteTsx = loaded(child('pipeline', file, `sqlite:${join(dir, 'pipeline-tsx.db')}`, env, undefined, true));
    // one 5,000-row file per business day, each written for its own day, loaded by one process one after another
    // twenty-one days: the first file meets a cold process, the next five a warming one, the last ten one that has
    // loaded files before, as a server or a warm Lambda container has
    const smallDates = Array.from({ length: SMALL_FILES }, (_, i) =>
      new Date(Date.UTC(2026, 2, 3 + i)).toISOString().slice(0, 10),
    );
    const smallFiles: string[] = [];
    for (const [i, date] of smallDates.entries()) {
      const f = join(dir, `small-${date}.csv`);
      await writeLargeSalesFile(f, { rows: 5000, seed: 20 + i, storeCode: 'S001', date, products: master.products });
      smallFiles.push(f);
    }
    const smallEnv = { ...env, BENCH_DATES: smallDates.join(','), BENCH_STOCK: '1' };
    const sqliteSmall = loaded(
      child('pipeline', smallFiles.join(','), `sqlite:${join(dir, `pipeline-${ROUNDS - 1}.db`)}`, smallEnv),
    );
    const base = sqliteRounds.baseRate;
    out.push(`| SQLite | \`sqlite3 .import\` (1 unique index) | ${fmt(base)} | 1.00 | — |`);
    out.push(
      `| SQLite | shopflow pipeline (validate, transform, load, stock, roll-up) | ${fmt(sqliteRounds.rate)} | ${sqliteRounds.ratio.toFixed(2)} (${sqliteRounds.ratios}) | ${sqliteRounds.maxRssMb} MB |`,
    );
    out.push(
      `| SQLite | the same, run through tsx as \`npm start\` runs it (once) | ${fmt(rate(sqliteTsx))} | ${(rate(sqliteTsx) / base).toFixed(2)} | ${sqliteTsx.maxRssMb} MB |`,
    );
    out.push(
      `| SQLite | naive INSERT per row, autocommit (first ${fmt(NAIVE_ROWS)} rows) | ${fmt(rate(sqliteNaive))} | ${(rate(sqliteNaive) / base).toFixed(3)} | ${sqliteNaive.maxRssMb} MB |`,
    );

    // MariaDB: LOAD DATA LOCAL INFILE is the reference.
    const suffix = `${process.pid}`;
    const myRounds = await alternate(
      async (round) => {
        const url = await mysqlDb(`bench_load_${suffix}_${round}`, true);
        const m = child('load-data', file, url);
        await dropMysql(`bench_load_${suffix}_${round}`);
        return m;
      },
      async (round) => {
        const url = await mysqlDb(`bench_pipe_${suffix}_${round}`, false);
        const m = loaded(child('pipeline', file, url, env));
        // the last round's database takes the small files below
        if (round < ROUNDS - 1) await dropMysql(`bench_pipe_${suffix}_${round}`);
        return m;
      },
    );
    const naiveUrl = await mysqlDb(`bench_naive_${suffix}`, true);
    const myNaive = child('naive-mysql', file, naiveUrl, {}, NAIVE_ROWS);
    const pipeUrl = `${MYSQL.replace(/\/$/, '')}/bench_pipe_${suffix}_${ROUNDS - 1}`;
    const mySmall = loaded(child('pipeline', smallFiles.join(','), pipeUrl, smallEnv));
    await dropMysql(`bench_naive_${suffix}`);
    await dropMysql(`bench_pipe_${suffix}_${ROUNDS - 1}`);
    const mbase = myRounds.baseRate;
    out.push(
      `| MariaDB | \`LOAD DATA LOCAL INFILE\` (1 unique index) | ${fmt(mbase)} | 1.00 | ${myRounds.baseRssMb} MB |`,
    );
    out.push(
      `| MariaDB | shopflow pipeline | ${fmt(myRounds.rate)} | ${myRounds.ratio.toFixed(2)} (${myRounds.ratios}) | ${myRounds.maxRssMb} MB |`,
    );
    out.push(
      `| MariaDB | naive INSERT per row, autocommit (first ${fmt(NAIVE_ROWS)} rows) | ${fmt(rate(myNaive))} | ${(rate(myNaive) / mbase).toFixed(3)} | ${myNaive.maxRssMb} MB |`,
    );

    const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
    const small = (m: Measure) =>
      `${ms(median(m.each!.slice(-10)))} (the first, cold: ${ms(m.each![0]!)}; the next five: ${ms(median(m.each!.slice(1, 6)))})`;
    out.push('');
    out.push(
      `One 5,000-row store-day file into the database above, from event to commit, median of the last 10 of the ${SMALL_FILES} days a process loads one after another: SQLite ${small(sqliteSmall)}, MariaDB ${small(mySmall)}.`,
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
      const bigEnv = { ...env, BENCH_DATES: '2026-03-09' };
      const bigRun = loaded(child('pipeline', bigFile, `sqlite:${join(dir, 'big.db')}`, bigEnv));
      const bigTsx = loaded(child('pipeline', bigFile, `sqlite:${join(dir, 'big-tsx.db')}`, bigEnv, undefined, true));
      out.push(
        `A ${(statSync(bigFile).size / 1e9).toFixed(2)} GB file (10,000,000 rows) through the pipeline on SQLite: ${fmt(rate(bigRun))} rows/s, peak RSS ${bigRun.maxRssMb} MB bundled (the Lambda's form), ${bigTsx.maxRssMb} MB through tsx.`,
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
