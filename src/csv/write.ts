// CSV output (rejected-row files, exports) that people open in a spreadsheet. Text coming from store files or
// users may start with `=`, `+`, `-` or `@`, which a spreadsheet runs as a formula (OWASP "CSV injection"); such
// text gets a leading `'`, which spreadsheets show as a text marker. Values typed as numbers are left alone, so
// numeric columns stay numeric.

export type CsvValue = string | number | bigint | null | undefined;

const FORMULA_START = /^[=+\-@\t\r\0]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  // NaN and ±Infinity are not numbers a spreadsheet reads; `-Infinity` would even start like a formula.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : csvCell(String(value));
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, `,`-separated, ending in CRLF (RFC 4180). */
export function csvLine(values: readonly CsvValue[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += csvCell(values[i]);
  }
  return `${out}\r\n`;
}

/** A whole small file. Numbers and bigints are written as numbers, dates as ISO 8601, anything else as text. */
export function toCsv(header: string[], rows: Iterable<unknown[]>): string {
  let out = csvLine(header);
  for (const row of rows) out += csvLine(row.map(toValue));
  return out;
}

function toValue(v: unknown): CsvValue {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint') {
    return v;
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  return String(v);
}
