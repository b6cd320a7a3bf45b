// A report as CSV, for spreadsheets and other programs: RFC 4180, `,`-separated, CRLF, UTF-8 with a BOM (without
// it Excel reads the accents of "Hortifrúti" as Latin-1). Numbers are plain decimals with a dot — amounts in
// currency units with two decimals (`1234.56`), quantities with three (`12.345`), shares in percent (`12.34`) — so
// any program reads them exactly; dates are `YYYY-MM-DD`. Text goes through csvCell, which defuses formulas.
// A report with several tables becomes one rectangular table: a first `section` column names the table, and the
// header is the union of the tables' columns (cells a table does not have stay empty).
import { csvCell } from '../csv/write.ts';
import { formatScaled } from '../domain/decimal.ts';
import type { Cell, Column, ReportDoc } from './model.ts';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
const BOM = '\uFEFF';

function cellText(type: Column['type'], v: Cell): string {
  if (v === null || v === undefined || v === '') return '';
  switch (type) {
    case 'money':
      return formatScaled(Number(v), 2);
    case 'quantity':
      return formatScaled(Number(v), 3);
    case 'percent':
      return formatScaled(Number(v), 2);
    case 'count':
      return String(v);
    default:
      return csvCell(String(v));
  }
}

export function renderCsv(doc: ReportDoc): Buffer {
  const tables = doc.tables.filter((t) => t.hidden !== 'csv');
  const sectioned = tables.length > 1;
  const header: Column[] = [];
  const position = new Map<string, number>();
  for (const t of tables) {
    for (const c of t.columns) {
      if (c.hidden === 'csv' || position.has(c.key)) continue;
      position.set(c.key, header.length);
      header.push(c);
    }
  }
  const parts: string[] = [
    `${BOM}${(sectioned ? ['section', ...header.map((c) => c.key)] : header.map((c) => c.key)).map(csvCell).join(',')}\r\n`,
  ];
  for (const t of tables) {
    const slots = t.columns.map((c) => (c.hidden === 'csv' ? -1 : (position.get(c.key) as number)));
    const width = header.length;
    for (const row of t.rows) {
      const cells = new Array<string>(width).fill('');
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        if (slot >= 0) cells[slot] = cellText(t.columns[i]!.type, row[i] ?? null);
      }
      parts.push(`${sectioned ? `${csvCell(t.id)},` : ''}${cells.join(',')}\r\n`);
    }
  }
  return Buffer.from(parts.join(''), 'utf8');
}
