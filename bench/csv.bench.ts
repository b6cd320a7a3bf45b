// CSV reading throughput against the I/O floor, on a generated 1,000,000-row, 11-column sales file (and the same
// rows with every field quoted, as some point-of-sale exports write them). Every figure comes from the same run:
// only the ratios are comparable between machines.
//
//   node --import tsx bench/csv.bench.ts

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import Papa from 'papaparse';
import { decodeChunks, EncodingDetector } from '../src/csv/encoding.ts';
import { type ColumnSpec, readTable } from '../src/csv/reader.ts';

const ROWS = 1_000_000;
const REPEAT = 5;
const CHUNK = 64 * 1024;

const SALES_COLUMNS: ColumnSpec[] = [
  { name: 'store_code', aliases: ['loja', 'codigo_loja'] },
  { name: 'business_date', aliases: ['data', 'data_movimento'] },
  { name: 'receipt_id', aliases: ['cupom', 'nota', 'transacao', 'chave_acesso'], required: true },
  { name: 'line_no', aliases: ['item', 'sequencia'], required: true },
  { name: 'sold_at', aliases: ['hora', 'data_hora'] },
  { name: 'sku', aliases: ['codigo', 'codigo_produto'] },
  { name: 'ean', aliases: ['gtin', 'codigo_barras', 'cean'] },
  { name: 'description', aliases: ['descricao', 'produto'] },
  { name: 'quantity', aliases: ['quantidade', 'qtd'], required: true, numeric: true },
  { name: 'unit_price', aliases: ['preco_unitario', 'preco'], required: true, numeric: true },
  { name: 'total', aliases: ['valor_total', 'valor'], required: true, numeric: true },
];

const DESCRIPTIONS = [
  'ARROZ TIPO 1 5KG',
  'FEIJAO CARIOCA 1KG',
  'PAO FRANCES KG',
  'LEITE INTEGRAL 1L',
  'CAFE TORRADO 500G',
  'ACUCAR REFINADO 1KG',
  'OLEO DE SOJA 900ML',
  'BANANA PRATA KG',
];

async function generate(path: string, quoted: boolean): Promise<void> {
  const out = createWriteStream(path);
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const line = (cells: string[]) => (quoted ? `"${cells.join('","')}"\n` : `${cells.join(',')}\n`);
  let buf = line(SALES_COLUMNS.map((c) => c.name));
  for (let i = 0; i < ROWS; i++) {
    const qty = 1 + (rnd() % 5);
    const price = 100 + (rnd() % 5000);
    buf += line([
      'LOJA001',
      '2024-03-15',
      String(100000 + (i >> 2)).padStart(8, '0'),
      String((i & 3) + 1),
      `${String(8 + (i % 12)).padStart(2, '0')}:${String(rnd() % 60).padStart(2, '0')}:${String(rnd() % 60).padStart(2, '0')}`,
      `SKU${String(rnd() % 100000).padStart(6, '0')}`,
      `789${String(rnd() % 1e9).padStart(10, '0')}`,
      DESCRIPTIONS[rnd() % DESCRIPTIONS.length]!,
      String(qty),
      (price / 100).toFixed(2),
      ((qty * price) / 100).toFixed(2),
    ]);
    if (buf.length > CHUNK) {
      const flowing = out.write(buf);
      buf = '';
      if (!flowing) await once(out, 'drain');
    }
  }
  out.end(buf);
  await finished(out);
}

async function rawRead(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(10);
    while (i !== -1) {
      lines++;
      i = chunk.indexOf(10, i + 1);
    }
  }
  return lines - 1;
}

async function detect(path: string): Promise<number> {
  const d = new EncodingDetector();
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) d.push(chunk);
  if (d.finish().encoding !== 'utf-8') throw new Error('expected utf-8');
  return ROWS;
}

function papaparse(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    Papa.parse<unknown>(createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK }), {
      chunk: (r) => {
        rows += r.data.length;
      },
      complete: () => resolve(rows - 1),
      error: reject,
    });
  });
}

let peakRss = 0;
async function shopflowReader(path: string): Promise<number> {
  const bytes = createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>;
  const table = await readTable(decodeChunks(bytes, 'utf-8'), SALES_COLUMNS);
  let rows = 0;
  let batches = 0;
  for await (const batch of table.batches()) {
    rows += batch.length;
    if (++batches % 64 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  return rows;
}

interface Measure {
  name: string;
  path: string;
  fn: (path: string) => Promise<number>;
  wall: number[];
  cpu: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds interleave the measures, so that load from other processes on the machine spreads over all of them. */
async function measureAll(measures: Measure[]): Promise<void> {
  for (let round = 0; round < REPEAT; round++) {
    for (const m of measures) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const rows = await m.fn(m.path);
      m.wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      m.cpu.push((c.user + c.system) / 1000);
      if (rows !== ROWS) throw new Error(`${m.name}: ${rows} rows, expected ${ROWS}`);
    }
  }
}

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shopflow-csv-bench-'));
  try {
    const plain = join(dir, 'sales.csv');
    const quoted = join(dir, 'sales-quoted.csv');
    await generate(plain, false);
    await generate(quoted, true);
    const plainMb = (await stat(plain)).size / 1e6;
    const quotedMb = (await stat(quoted)).size / 1e6;
    const measure = (name: string, path: string, fn: Measure['fn']): Measure => ({ name, path, fn, wall: [], cpu: [] });
    const measures = [
      measure('raw read, counting newlines (floor)', plain, rawRead),
      measure('EncodingDetector pass', plain, detect),
      measure('papaparse alone', plain, papaparse),
      measure('readTable (decode + parse + batches)', plain, shopflowReader),
      measure('papaparse alone, every field quoted', quoted, papaparse),
      measure('readTable, every field quoted', quoted, shopflowReader),
    ];
    await measureAll(measures);
    const sizes = new Map([
      [plain, plainMb],
      [quoted, quotedMb],
    ]);
    const floor = ROWS / (median(measures[0]!.wall) / 1000);
    const k = (n: number) => `${Math.round(n / 1000).toLocaleString('en-US')}K`;
    const lines = [
      `CSV reading, ${ROWS.toLocaleString('en-US')} rows × 11 columns (${plainMb.toFixed(0)} MB; quoted ${quotedMb.toFixed(0)} MB), ` +
        `median of ${REPEAT} interleaved rounds, Node ${process.versions.node}`,
      '',
      '| what | rows/s | MB/s | ratio to raw read | rows per CPU-second |',
      '|---|---:|---:|---:|---:|',
      ...measures.map((m) => {
        const sec = median(m.wall) / 1000;
        const rps = ROWS / sec;
        return `| ${m.name} | ${k(rps)} | ${(sizes.get(m.path)! / sec).toFixed(0)} | ${(rps / floor).toFixed(2)} | ${k(ROWS / (median(m.cpu) / 1000))} |`;
      }),
      '',
      "CPU time includes the garbage collector's helper threads: on a busy machine it shows the work, wall time the wait.",
      `Peak RSS of the process while readTable ran: ${(peakRss / 2 ** 20).toFixed(0)} MB`,
    ];
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
