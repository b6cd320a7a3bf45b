// Properties of the reader over generated input. fast-check prints the seed and the shrunk counterexample of a
// failure; rerun it with `seed` and `path` in the fc.assert options.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ShopflowError } from '../errors.ts';
import type { ColumnSpec, Delimiter } from './reader.ts';
import { parseBytes, parseText } from './testkit.ts';
import { csvLine } from './write.ts';

const columnsOf = (n: number): ColumnSpec[] => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, aliases: [] }));
const headerOf = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

/** Text a CSV file can hold (NUL makes it binary), biased towards what makes CSV hard. */
const tricky = fc.string({
  unit: fc.constantFrom('"', ',', ';', '\t', '\r', '\n', ' ', 'a', 'Z', '0', 'ç', 'Ã', '€', '𝄞', '\u00a0', '\ufeff'),
  maxLength: 10,
});
const field = fc
  .oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }))
  .filter((s) => !s.includes('\0'));

const table = fc.integer({ min: 1, max: 6 }).chain((cols) =>
  fc.record({
    cols: fc.constant(cols),
    rows: fc.array(fc.array(field, { minLength: cols, maxLength: cols }), { maxLength: 15 }),
  }),
);

/** What the reader gives back: the rows in order, without those whose every field is blank. */
const expectedRows = (rows: string[][]) => rows.filter((r) => r.some((f) => f.trim() !== ''));

const breaks = (s: string) => (s.match(/\r\n|\r|\n/g) ?? []).length;

function rawLine(fields: string[], delim: string, eol: string, quoteAll: boolean): string {
  const cells = fields.map((f) =>
    quoteAll || f.includes(delim) || /["\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f,
  );
  return cells.join(delim) + eol;
}

const FORMULA_START = /^[=+\-@\t\r\0]/;

describe('round trip', () => {
  it('readTable(csvLine(header) + rows.map(csvLine)) gives the rows back, with their lines', async () => {
    const safeTable = table.filter(({ rows }) => rows.every((r) => r.every((f) => !FORMULA_START.test(f))));
    await fc.assert(
      fc.asyncProperty(safeTable, fc.integer({ min: 1, max: 64 }), async ({ cols, rows }, chunkSize) => {
        let text = csvLine(headerOf(cols));
        const lines: number[] = [];
        for (const r of rows) {
          const l = csvLine(r);
          if (r.some((f) => f.trim() !== '')) lines.push(breaks(text) + 1);
          text += l;
        }
        const got = await parseText(text, columnsOf(cols), { chunkSize });
        assert.deepEqual(
          got.rows.map((r) => r.fields),
          expectedRows(rows),
        );
        assert.deepEqual(
          got.rows.map((r) => r.line),
          lines,
        );
      }),
      { numRuns: 10_000 },
    );
  });

  it('holds for every delimiter, line ending and quoting style, split anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        table,
        fc.constantFrom<Delimiter>(',', ';', '\t'),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.integer({ min: 1, max: 300 }),
        async ({ cols, rows }, delimChoice, eol, quoteAll, chunkSize) => {
          // A one-column header has no delimiter to sniff: the reader takes `,`.
          const delim = cols === 1 ? ',' : delimChoice;
          let text = `\n${rawLine(headerOf(cols), delim, eol, quoteAll)}`;
          const lines: number[] = [];
          for (const r of rows) {
            if (r.some((f) => f.trim() !== '')) lines.push(breaks(text) + 1);
            text += rawLine(r, delim, eol, quoteAll);
          }
          const got = await parseText(text, columnsOf(cols), { chunkSize });
          assert.equal(got.delimiter, delim);
          assert.equal(got.headerLine, 2);
          assert.deepEqual(
            got.rows.map((r) => r.fields),
            expectedRows(rows),
          );
          assert.deepEqual(
            got.rows.map((r) => r.line),
            lines,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('arbitrary bytes', () => {
  const COLUMNS: ColumnSpec[] = [
    { name: 'sku', aliases: ['codigo'], required: true },
    { name: 'quantity', aliases: ['qtd'], numeric: true },
    { name: 'description', aliases: ['descricao'] },
  ];
  // NUL is kept rare: one in a file already decides the outcome.
  const csvish = fc.array(
    fc.oneof(
      {
        arbitrary: fc.constantFrom(0x22, 0x2c, 0x3b, 0x09, 0x0d, 0x0a, 0x20, 0x61, 0x31, 0xc3, 0xa3, 0x80),
        weight: 5000,
      },
      { arbitrary: fc.constantFrom(0xef, 0xbb, 0xbf, 0xff, 0xfe), weight: 50 },
      { arbitrary: fc.constant(0x00), weight: 1 },
    ),
    { maxLength: 64 * 1024 },
  );
  const prefixes = ['', 'sku,qtd,descricao\n', '\ufeffCódigo;QTD\r\n', 'sku\tqtd\n"', '\n\nsku,"'];
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 64 * 1024 }).map((b) => Buffer.from(b)),
    fc
      .tuple(fc.constantFrom(...prefixes), csvish)
      .map(([p, b]) => Buffer.concat([Buffer.from(p, 'utf8'), Buffer.from(b)]).subarray(0, 64 * 1024)),
  );

  // The time each input takes is reported, not asserted (tests never depend on timing; bench/csv.bench.ts measures speed).
  it('returns rows or throws a ShopflowError, the same for any chunking', async (t) => {
    let slowest = { msPerKiB: 0, bytes: 0 };
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        input,
        fc.integer({ min: 1, max: 70_000 }),
        fc.constantFrom(undefined, 100, 4096),
        async (bytes, chunkSize, maxRecordBytes) => {
          const outcome = async (size: number) => {
            const t0 = performance.now();
            try {
              const r = await parseBytes(bytes, COLUMNS, { chunkSize: size, maxRecordBytes });
              return { ms: performance.now() - t0, value: { rows: r.rows, columns: r.columns } as unknown };
            } catch (e) {
              if (!(e instanceof ShopflowError)) throw e;
              assert.equal(e.kind, 'invalid_input');
              assert.ok(e.details.length > 0 && e.details.every((d) => /^(header \()?line \d+\)?$/.test(d.where)));
              return { ms: performance.now() - t0, value: { error: e.message } as unknown };
            }
          };
          const whole = await outcome(Math.max(1, bytes.length));
          if ('error' in (whole.value as object)) refused++;
          else accepted++;
          const split = await outcome(chunkSize);
          assert.deepEqual(split.value, whole.value);
          const kib = Math.max(1, bytes.length / 1024);
          for (const { ms } of [whole, split]) {
            if (ms / kib > slowest.msPerKiB) slowest = { msPerKiB: ms / kib, bytes: bytes.length };
          }
        },
      ),
      { numRuns: 300 },
    );
    t.diagnostic(`slowest: ${slowest.msPerKiB.toFixed(3)} ms/KiB (${slowest.bytes} bytes)`);
    t.diagnostic(`outcomes: ${accepted} read, ${refused} refused`);
    // Both paths must be exercised for the property to mean something.
    assert.ok(accepted >= 30 && refused >= 30, `${accepted} read, ${refused} refused`);
  });
});
