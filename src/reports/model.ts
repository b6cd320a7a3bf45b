// A report as data: what data.ts computes once and both renderers (csv.ts, pdf.ts) draw. Values are the stored
// integers (cents, thousandths, basis points) typed by their column, so each renderer formats them its own way:
// plain decimals for machines, pt-BR currency for people.

export const REPORT_KINDS = ['daily-sales', 'products-sold', 'low-stock', 'best-sellers', 'stock-position'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const REPORT_FORMATS = ['csv', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Kinds that show the stock as it is when generated, not a period of sales. */
export const STOCK_KINDS: readonly ReportKind[] = ['low-stock', 'stock-position'];

export const KIND_TITLES: Record<ReportKind, string> = {
  'daily-sales': 'Vendas do dia',
  'products-sold': 'Produtos vendidos',
  'low-stock': 'Produtos a repor',
  'best-sellers': 'Mais vendidos',
  'stock-position': 'Posição de estoque',
};

/**
 * text: a string · money: integer cents · quantity: integer thousandths (unit from the `unitKey` column) ·
 * count: integer · percent: basis points · date: `YYYY-MM-DD`
 */
export type ColumnType = 'text' | 'money' | 'quantity' | 'count' | 'percent' | 'date';

export interface Column {
  /** the CSV header */
  key: string;
  /** the PDF header */
  label: string;
  type: ColumnType;
  /** for quantities: the column holding `UN` or `KG` */
  unitKey?: string;
  /** left out of one format: `pdf` for codes the page shows another way, `csv` for decoration */
  hidden?: 'pdf' | 'csv';
}

export type Cell = string | number | null;

export interface Table {
  /** the CSV `section` value when a report has several tables */
  id: string;
  title: string;
  columns: Column[];
  /** one array per row, in column order */
  rows: Cell[][];
  /** a closing line (PDF only; CSV readers sum the rows themselves) */
  total?: Cell[];
  /** shown instead of an empty table */
  empty?: string;
  /** left out of one format (the PDF shows a one-line total table as highlights already) */
  hidden?: 'pdf' | 'csv';
}

export interface Highlight {
  label: string;
  type: Exclude<ColumnType, 'text' | 'date'>;
  value: number;
}

export interface BarChart {
  title: string;
  type: 'money' | 'count';
  /** horizontal bars for rankings (categories, stores), vertical columns for time (hours, days) */
  orientation: 'horizontal' | 'vertical';
  bars: Array<{ label: string; value: number }>;
}

export interface ReportScope {
  /** null for the whole chain */
  storeId: number | null;
  storeCode: string | null;
  /** the store's name, or `Rede` */
  name: string;
  timezone: string;
}

export interface ReportDoc {
  kind: ReportKind;
  title: string;
  scope: ReportScope;
  from: string;
  to: string;
  generatedAt: Date;
  highlights: Highlight[];
  charts: BarChart[];
  tables: Table[];
  /** remarks printed under the header, e.g. that stock figures are those at generation time */
  notes: string[];
}
