// The sales answers as CSV files for a spreadsheet. Cells go through csvLine (src/csv/write.ts): text that could
// run as a formula (= + - @ tab CR NUL at the start) gets a leading apostrophe, numbers stay numbers. Money is in
// currency units and quantities in units or kilos, as numbers: an integer of cents divided by 100 prints its exact
// two decimals, so the file re-reads to the same cents.
import { csvLine } from '../csv/write.ts';
import type { Kpis } from '../domain/period.ts';
import type { BestSellersAnswer, KpiAnswer, SeriesPoint, TotalsAnswer } from './dashboard.ts';

const money = (cents: number | null) => (cents === null ? null : cents / 100);
const qty = (milli: number) => milli / 1000;

const MEASURE_HEADER = ['revenue', 'tickets', 'average_ticket', 'items', 'items_per_ticket', 'quantity', 'lines'];
const measures = (k: Kpis) => [
  money(k.revenueCents),
  k.tickets,
  money(k.averageTicketCents),
  k.items,
  k.itemsPerTicket,
  qty(k.quantityMilli),
  k.lines,
];

export function kpisCsv(a: KpiAnswer): string {
  let out = csvLine(['metric', 'current', 'previous', 'change', 'from', 'to', 'previous_from', 'previous_to']);
  const rows: Array<[string, number | null, number | null, number | null]> = [
    ['revenue', money(a.current.revenueCents), money(a.previous.revenueCents), a.change.revenue],
    ['tickets', a.current.tickets, a.previous.tickets, a.change.tickets],
    [
      'average_ticket',
      money(a.current.averageTicketCents),
      money(a.previous.averageTicketCents),
      a.change.averageTicket,
    ],
    ['items', a.current.items, a.previous.items, a.change.items],
    ['items_per_ticket', a.current.itemsPerTicket, a.previous.itemsPerTicket, a.change.itemsPerTicket],
    ['quantity', qty(a.current.quantityMilli), qty(a.previous.quantityMilli), a.change.quantity],
  ];
  for (const r of rows) {
    out += csvLine([...r, a.period.from, a.period.to, a.previousPeriod.from, a.previousPeriod.to]);
  }
  return out;
}

export function seriesCsv(points: SeriesPoint[]): string {
  let out = csvLine(['period', 'from', 'to', 'partial', ...MEASURE_HEADER]);
  for (const p of points) out += csvLine([p.period, p.from, p.to, p.partial ? 'yes' : 'no', ...measures(p)]);
  return out;
}

export function totalsCsv(a: TotalsAnswer): string {
  const product = a.by === 'product';
  let out = csvLine([a.by, 'name', ...(product ? ['category', 'unit'] : []), ...MEASURE_HEADER, 'share_percent']);
  for (const r of a.rows) {
    out += csvLine([
      r.key,
      r.name,
      ...(product ? [r.category ?? '', r.unit ?? ''] : []),
      ...measures(r),
      r.shareBasisPoints === null ? null : r.shareBasisPoints / 100,
    ]);
  }
  return out;
}

export function bestSellersCsv(a: BestSellersAnswer): string {
  let out = csvLine(['rank', 'sku', 'name', 'category', 'unit', ...MEASURE_HEADER, 'share_percent']);
  for (const r of a.rows) {
    out += csvLine([
      r.rank,
      r.key,
      r.name,
      r.category ?? '',
      r.unit ?? '',
      ...measures(r),
      r.shareBasisPoints === null ? null : r.shareBasisPoints / 100,
    ]);
  }
  return out;
}
