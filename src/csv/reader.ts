// The tolerant table reader every file import goes through: a header row names the columns (English or Portuguese,
// in any order, any case, with or without accents), the delimiter and the decimal convention are sniffed because
// the stores' systems are not configurable, and every row carries the file line a clerk can find it on.

import { type NumberConvention, sniffNumberConvention } from '../domain/decimal.ts';
import { type FieldProblem, reasonError, type ShopflowError } from '../errors.ts';
import { type CsvRow, Tokenizer, type TokenizerStatus } from './tokenizer.ts';

export type { CsvRow } from './tokenizer.ts';

export interface ColumnSpec {
  name: string;
  aliases: string[];
  required?: boolean;
  numeric?: boolean;
}

export type Delimiter = ',' | ';' | '\t';

export interface TableReader {
  delimiter: Delimiter;
  /** sniffed from the numeric columns of the first rows; 'comma' for `;` files when they do not decide, else 'dot' */
  numberConvention: NumberConvention;
  /** canonical column name → field index, for the columns present */
  columns: Record<string, number>;
  /** header cells as written */
  headerNames: string[];
  /** header cells that matched no column (empty cells left out) */
  unknownColumns: string[];
  headerLine: number;
  /** data rows in file order, in batches of up to 1000 (a batch also ends where the text read so far ends); blank
   * lines skipped. Consumable once. Errors that make the file unreadable (unclosed quote, over-long record, NUL) are
   * thrown from here, after the rows before the broken record, naming the line where that record starts. */
  batches(): AsyncIterable<CsvRow[]>;
  /** releases the source when the rows are not going to be read to the end */
  close(): Promise<void>;
}

export interface ReadTableOptions {
  /** longest record accepted, in UTF-8 bytes of its text (default 64 KiB) */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;
const BATCH_ROWS = 1000;
const DELIMITERS: Delimiter[] = [',', ';', '\t'];

/** Header cell → comparable key: case, accents, spaces, `_`, `-` and `.` do not matter. */
export function normalizeColumnName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_.-]/g, '');
}

interface Candidate {
  delimiter: Delimiter;
  tok: Tokenizer;
  header?: CsvRow;
  error?: unknown;
  settled: boolean;
}

export async function readTable(
  chunks: AsyncIterable<string>,
  columns: ColumnSpec[],
  opts: ReadTableOptions = {},
): Promise<TableReader> {
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const it = chunks[Symbol.asyncIterator]();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await it.return?.();
  };
  let first = true;
  const pull = async (toks: Tokenizer[]) => {
    const r = await it.next();
    if (r.done) {
      for (const t of toks) t.end();
      return;
    }
    let text = r.value;
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (const t of toks) t.push(text);
  };

  try {
    // The record boundaries of the header depend on the delimiter (a quote opens a field only after one), so each
    // candidate delimiter reads the header its own way; the one whose cells name the most columns wins, then the
    // one that splits the line the most.
    const candidates: Candidate[] = DELIMITERS.map((delimiter) => ({
      delimiter,
      tok: new Tokenizer(delimiter, maxRecordBytes),
      settled: false,
    }));
    for (;;) {
      for (const c of candidates) {
        if (c.settled) continue;
        try {
          const out: CsvRow[] = [];
          const status = c.tok.next(out, 1);
          if (out[0]) {
            c.header = out[0];
            c.settled = true;
          } else if (status === 'done') c.settled = true;
        } catch (e) {
          c.error = e;
          c.settled = true;
        }
      }
      if (candidates.every((c) => c.settled)) break;
      // Every candidate gets every chunk: the winner continues from where its header ended.
      await pull(candidates.map((c) => c.tok));
    }

    const lookup = new Map<string, ColumnSpec>();
    for (const spec of columns) {
      for (const n of [spec.name, ...spec.aliases]) {
        const key = normalizeColumnName(n);
        if (!lookup.has(key)) lookup.set(key, spec);
      }
    }
    let best: { c: Candidate; header: CsvRow; matched: number } | undefined;
    for (const c of candidates) {
      if (!c.header) continue;
      const matched = c.header.fields.filter((f) => lookup.has(normalizeColumnName(f))).length;
      if (
        !best ||
        matched > best.matched ||
        (matched === best.matched && c.header.fields.length > best.header.fields.length)
      ) {
        best = { c, header: c.header, matched };
      }
    }
    if (!best) {
      const failed = candidates.find((c) => c.error !== undefined);
      if (failed) throw failed.error;
      throw reasonError('invalid_input', 'empty_file', {}, [
        { where: 'header (line 1)', problem: 'no header: the file has no text' },
      ]);
    }

    const { header } = best;
    const delimiter = best.c.delimiter;
    const where = `header (line ${header.line})`;
    if (best.matched === 0) throw notAHeader(header, where, columns);

    const mapped: Record<string, number> = {};
    const unknownColumns: string[] = [];
    const problems: FieldProblem[] = [];
    header.fields.forEach((cell, i) => {
      const spec = lookup.get(normalizeColumnName(cell));
      if (!spec) {
        if (cell.trim() !== '') unknownColumns.push(cell);
        return;
      }
      const earlier = mapped[spec.name];
      if (earlier === undefined) {
        mapped[spec.name] = i;
        return;
      }
      problems.push({
        where,
        problem: `columns ${earlier + 1} ("${header.fields[earlier]}") and ${i + 1} ("${cell}") are both the ${spec.name} column`,
      });
    });
    const missing = columns.filter((s) => s.required && mapped[s.name] === undefined);
    for (const s of missing) {
      problems.push({
        where,
        problem:
          `missing required column ${s.name}` +
          (s.aliases.length > 0 ? ` (also accepted: ${s.aliases.join(', ')})` : ''),
      });
    }
    if (problems.length > 0) {
      const missingNames = missing.map((s) => s.name).join(', ');
      throw reasonError(
        'invalid_input',
        'header_unusable',
        {
          line: header.line,
          missing: missingNames,
          twice: missing.length < problems.length ? 1 : 0,
          found: listCells(header.fields),
        },
        problems,
      );
    }

    const tok = best.c.tok;
    // A batch is handed out as soon as the text read so far runs out, even short of BATCH_ROWS, and it is a copy
    // of a long-lived array: a batch array that waited for the next chunk, or one from an array literal (whose
    // allocation site V8 may decide to place straight in the old generation), keeps every row pushed into it alive
    // until a full collection. Measured: either made reading 2-3 times slower.
    const scratch: CsvRow[] = [];
    let finished = false;
    /** a broken record: thrown once the rows before it are handed out */
    let broken: unknown;
    const nextBatch = async (max = BATCH_ROWS): Promise<CsvRow[]> => {
      if (broken !== undefined) throw broken;
      for (;;) {
        let status: TokenizerStatus;
        try {
          status = tok.next(scratch, max);
        } catch (e) {
          if (scratch.length === 0) throw e;
          broken = e;
          status = 'full';
        }
        if (status === 'done') finished = true;
        if (status !== 'need-input' || scratch.length > 0) {
          const rows = scratch.slice();
          scratch.length = 0;
          return rows;
        }
        await pull([tok]);
      }
    };
    // The first batch is read ahead to sniff the number convention; a broken record in it is reported when the
    // rows are read, like any other.
    let firstBatch: CsvRow[] = [];
    let firstError: unknown;
    try {
      while (!finished && firstBatch.length < BATCH_ROWS) {
        firstBatch = firstBatch.concat(await nextBatch(BATCH_ROWS - firstBatch.length));
      }
    } catch (e) {
      firstError = e;
    }
    const numericIdx = columns
      .filter((s) => s.numeric)
      .map((s) => mapped[s.name])
      .filter((i): i is number => i !== undefined);
    const numberConvention =
      sniffNumberConvention(numericValues(firstBatch, numericIdx)) ?? (delimiter === ';' ? 'comma' : 'dot');

    let consumed = false;
    async function* batches(): AsyncGenerator<CsvRow[]> {
      if (consumed) throw new Error('TableReader.batches() can be consumed only once');
      consumed = true;
      try {
        if (firstBatch.length > 0) yield firstBatch;
        if (firstError !== undefined) throw firstError;
        while (!finished) {
          const rows = await nextBatch();
          if (rows.length > 0) yield rows;
        }
      } finally {
        await release();
      }
    }

    return {
      delimiter,
      numberConvention,
      columns: mapped,
      headerNames: header.fields,
      unknownColumns,
      headerLine: header.line,
      batches,
      close: release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

function* numericValues(rows: CsvRow[], idx: number[]): Iterable<string> {
  for (const r of rows) {
    for (const i of idx) {
      const v = r.fields[i];
      if (v !== undefined && v !== '') yield v;
    }
  }
}

function listCells(cells: string[]): string {
  const s = cells.map((c) => JSON.stringify(c)).join(', ');
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function notAHeader(header: CsvRow, where: string, columns: ColumnSpec[]): ShopflowError {
  const expected = columns
    .filter((s) => s.required)
    .map((s) => s.name)
    .join(', ');
  return reasonError(
    'invalid_input',
    'not_a_header',
    {
      line: header.line,
      cells: header.fields.length,
      expected: expected || columns.map((s) => s.name).join(', '),
      found: listCells(header.fields),
    },
    [{ where, problem: 'not a CSV header: no known column name' }],
  );
}
