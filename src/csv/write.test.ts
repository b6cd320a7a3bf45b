import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import Papa from 'papaparse';
import type { ColumnSpec } from './reader.ts';
import { parseText } from './testkit.ts';
import { csvCell, csvLine, toCsv } from './write.ts';

const DANGEROUS = ['=', '+', '-', '@', '\t', '\r', '\0'];

describe('csvCell / csvLine / toCsv', () => {
  it('quotes per RFC 4180 only when needed', () => {
    assert.equal(csvCell('plain text'), 'plain text');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('cr\rhere'), '"cr\rhere"');
    assert.equal(csvCell('a;b\tc'), 'a;b\tc');
    assert.equal(csvCell(''), '');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(undefined), '');
  });

  it('prefixes text that a spreadsheet would run as a formula', () => {
    assert.equal(csvCell('=SUM(A1:A9)'), "'=SUM(A1:A9)");
    assert.equal(csvCell('+55 11 99999'), "'+55 11 99999");
    assert.equal(csvCell('-2'), "'-2");
    assert.equal(csvCell('@cmd'), "'@cmd");
    assert.equal(csvCell('\tx'), "'\tx");
    assert.equal(csvCell('\r=1'), '"\'\r=1"');
    assert.equal(csvCell('\0x'), "'\0x");
    assert.equal(csvCell('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
    assert.equal(csvCell(' =1'), ' =1', 'only the first character counts');
    assert.equal(csvCell('a=1'), 'a=1');
  });

  it('writes numbers as plain numbers, negative ones included', () => {
    assert.equal(csvCell(-12.5), '-12.5');
    assert.equal(csvCell(0), '0');
    assert.equal(csvCell(1234567), '1234567');
    assert.equal(csvCell(12345678901234567890n), '12345678901234567890');
    assert.equal(csvCell(-5n), '-5');
    assert.equal(csvCell(Number.NEGATIVE_INFINITY), "'-Infinity");
    assert.equal(csvCell(Number.NaN), 'NaN');
  });

  it('ends records with CRLF', () => {
    assert.equal(csvLine(['a', 1, null, '=x', 'b,c']), 'a,1,,\'=x,"b,c"\r\n');
    assert.equal(csvLine([]), '\r\n');
    assert.equal(
      toCsv(
        ['sku', 'qty', 'when', 'ok'],
        [
          ['A', 2, new Date('2024-03-15T10:00:00Z'), true],
          ['-B', -1, null, undefined],
        ],
      ),
      "sku,qty,when,ok\r\nA,2,2024-03-15T10:00:00.000Z,true\r\n'-B,-1,,\r\n",
    );
  });
});

describe('formula injection on export', () => {
  // Columns: text that starts dangerously, a number, free text, dangerous text again, an integer.
  const dangerousText = fc
    .tuple(fc.constantFrom(...DANGEROUS), fc.string({ unit: 'grapheme', maxLength: 15 }))
    .map(([c, rest]) => c + rest);
  const anyText = fc.oneof(dangerousText, fc.string({ unit: 'grapheme', maxLength: 15 }));
  const number = fc.oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const row = fc.tuple(dangerousText, number, anyText, dangerousText, fc.integer());
  const rows = fc.sample(row, { numRuns: 10_000, seed: 26 });
  const header = ['name', 'amount', 'note', 'code', 'count'];
  const TEXT = [0, 2, 3];
  const NUMBERS = [1, 4];
  const expectedCell = (v: string | number) =>
    typeof v === 'number' ? String(v) : DANGEROUS.includes(v[0] ?? '') ? `'${v}` : v;

  function checkReparsed(parsed: string[][], source: (string | number)[][]) {
    assert.equal(parsed.length, source.length);
    let unescaped = 0;
    parsed.forEach((cells, r) => {
      const original = source[r]!;
      assert.deepEqual(cells, original.map(expectedCell), `row ${r + 1}`);
      for (const i of TEXT) if (DANGEROUS.includes(cells[i]![0]!)) unescaped++;
      for (const i of NUMBERS) assert.ok(Number(cells[i]) === original[i], `row ${r + 1} column ${i + 1}`);
    });
    assert.equal(unescaped, 0, 'dangerous cells without the prefix');
  }

  it('prefixes every dangerous text cell of 10,000 fuzzed rows; numbers stay numbers', () => {
    assert.equal(rows.length, 10_000);
    let dangerous = 0;
    for (const r of rows) {
      for (const i of TEXT) {
        const v = r[i] as string;
        if (!DANGEROUS.includes(v[0]!)) continue;
        dangerous++;
        const cell = csvCell(v);
        const unquoted = cell.startsWith('"') ? cell.slice(1) : cell;
        assert.ok(unquoted.startsWith("'"), JSON.stringify(v));
      }
      for (const i of NUMBERS) assert.equal(csvCell(r[i] as number), String(r[i]));
    }
    assert.ok(dangerous >= 20_000);
  });

  it('re-parses losslessly with an independent parser (papaparse), apart from the prefix', () => {
    const text = toCsv(header, rows);
    const parsed = Papa.parse<string[]>(text, { newline: '\r\n', header: false });
    assert.deepEqual(parsed.errors, []);
    const data = parsed.data.filter((r) => !(r.length === 1 && r[0] === ''));
    assert.deepEqual(data[0], header);
    checkReparsed(data.slice(1), rows);
  });

  it('re-parses losslessly with readTable (rows without NUL, which readTable refuses as binary)', async () => {
    const clean = rows.filter((r) => !r.some((v) => typeof v === 'string' && v.includes('\0')));
    assert.ok(clean.length > 5000);
    const columns: ColumnSpec[] = header.map((name) => ({ name, aliases: [] }));
    const got = await parseText(toCsv(header, clean), columns, { chunkSize: 4096 });
    checkReparsed(
      got.rows.map((r) => r.fields),
      clean,
    );
  });
});
