// The table the bulk loaders fill: the sales file's columns, typed, with the same unique key as sales_lines
// (receipt and line), so that the reference loaders do the same index work as the pipeline.
import { SALES_COLUMNS } from '../src/domain/sales-row.ts';

export const IMPORT_TABLE_COLUMNS: string[] = SALES_COLUMNS.map((c) => c.name);

export function importTableDdl(dialect: 'sqlite' | 'mysql'): string[] {
  const text = dialect === 'sqlite' ? 'text' : 'varchar(200)';
  const num = dialect === 'sqlite' ? 'numeric' : 'decimal(14,3)';
  const cols = IMPORT_TABLE_COLUMNS.map((c) =>
    ['quantity', 'unit_price', 'discount', 'total'].includes(c)
      ? `${c} ${num}`
      : c === 'line_no'
        ? `${c} integer`
        : `${c} ${text}`,
  );
  return [
    `create table sales_import (${cols.join(', ')})${dialect === 'mysql' ? ' engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin' : ''}`,
    'create unique index sales_import_natural on sales_import (store_code, business_date, receipt_id, line_no)',
  ];
}
