// Helpers shared by the CSV tests: push bytes through the same steps as the ingest pipeline (encoding detection over
// the whole file, then decode + readTable), in chunks of a chosen size so that chunk boundaries land everywhere.

import { SALES_COLUMNS as SALES_COLUMN_DEFS } from '../domain/sales-row.ts';
import { decodeChunks, EncodingDetector, type EncodingVerdict } from './encoding.ts';
import { type ColumnSpec, type CsvRow, readTable, type TableReader } from './reader.ts';

// The contract's sales columns, as the ingest reads them.
export const SALES_COLUMNS: ColumnSpec[] = SALES_COLUMN_DEFS.map((c) => ({ ...c, aliases: [...c.aliases] }));

export async function* chunksOf(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function* textChunks(text: string, size: number): AsyncIterable<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

export function detect(bytes: Buffer, chunkSize: number): EncodingVerdict {
  const d = new EncodingDetector();
  for (let i = 0; i < bytes.length; i += chunkSize) d.push(bytes.subarray(i, i + chunkSize));
  return d.finish();
}

export type Parsed = Omit<TableReader, 'batches' | 'close'> & { rows: CsvRow[] };

export async function collect(table: TableReader): Promise<Parsed> {
  const rows: CsvRow[] = [];
  for await (const batch of table.batches()) rows.push(...batch);
  const { batches: _b, close: _c, ...info } = table;
  return { ...info, rows };
}

/** The pipeline over bytes: detection, then decode + readTable in chunks of `chunkSize` bytes. */
export async function parseBytes(
  bytes: Buffer,
  columns: ColumnSpec[],
  opts: { chunkSize?: number; maxRecordBytes?: number } = {},
): Promise<Parsed & { verdict: EncodingVerdict }> {
  const size = opts.chunkSize ?? Math.max(1, bytes.length);
  const verdict = detect(bytes, size);
  const table = await readTable(
    decodeChunks(chunksOf(bytes, size), verdict.encoding),
    columns,
    opts.maxRecordBytes === undefined ? {} : { maxRecordBytes: opts.maxRecordBytes },
  );
  return { ...(await collect(table)), verdict };
}

/** The pipeline over text. */
export async function parseText(
  text: string,
  columns: ColumnSpec[],
  opts: { chunkSize?: number; maxRecordBytes?: number } = {},
): Promise<Parsed> {
  const table = await readTable(
    textChunks(text, opts.chunkSize ?? Math.max(1, text.length)),
    columns,
    opts.maxRecordBytes === undefined ? {} : { maxRecordBytes: opts.maxRecordBytes },
  );
  return collect(table);
}
