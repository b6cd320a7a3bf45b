// How amounts, quantities and dates look to people (reports, PDFs), in the chain's locale and currency: pt-BR and
// BRL by default, so `R$ 1.234,56`, `12,345 kg`, `02/03/2026`. Stored values stay integers; formatting goes through
// a decimal string built from them, so no amount ever passes through a float on its way to the page.
// Intl formatters are costly to build and cheap to reuse: one Formatter holds them for a whole report.
import { formatScaled } from './decimal.ts';

export interface FormatOptions {
  locale: string;
  currency: string;
  /** the zone timestamps are shown in */
  timeZone: string;
}

export type QuantityUnit = 'UN' | 'KG';

export interface Formatter {
  readonly options: FormatOptions;
  /** integer cents → `R$ 1.234,56` */
  money(cents: number): string;
  /** integer thousandths → `12,345 kg` (KG), `12 un` (UN), or a bare number when the unit is unknown or mixed */
  quantity(milli: number, unit?: QuantityUnit | null): string;
  /** integer → `1.234` */
  count(n: number): string;
  /** basis points (1/100 of a percent) → `12,34%` */
  percent(basisPoints: number): string;
  /** `YYYY-MM-DD` → `02/03/2026` */
  date(iso: string): string;
  /** a period: one day, or `01/03/2026 a 31/03/2026` */
  period(from: string, to: string): string;
  /** an instant → `02/03/2026 22:05` in the formatter's zone */
  dateTime(at: Date): string;
}

const PERIOD_JOINER: Record<string, string> = { pt: 'a', es: 'a', en: 'to' };
const UNIT_LABEL: Record<QuantityUnit, string> = { UN: 'un', KG: 'kg' };

export function createFormatter(options: FormatOptions): Formatter {
  const { locale, currency, timeZone } = options;
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = money.resolvedOptions().maximumFractionDigits ?? 2;
  const minorScale = 10 ** digits;
  const qty3 = new Intl.NumberFormat(locale, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  const qtyFree = new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: 3 });
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const pct = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const day = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: '2-digit', month: '2-digit', year: 'numeric' });
  const stamp = new Intl.DateTimeFormat(locale, {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const joiner = PERIOD_JOINER[locale.split('-')[0]!.toLowerCase()] ?? '–';
  const dec = (value: number, scale: number) => formatScaled(value, scale) as `${number}`;
  const date = (iso: string) => day.format(new Date(`${iso}T00:00:00Z`));

  return {
    options,
    // currencies without minor units (JPY) still keep amounts in hundredths here, as every amount in shopflow does
    money: (cents) => money.format(digits === 2 ? dec(cents, 2) : dec(Math.round((cents * minorScale) / 100), digits)),
    quantity: (milli, unit) => {
      if (unit === 'KG') return `${qty3.format(dec(milli, 3))} ${UNIT_LABEL.KG}`;
      if (unit === 'UN') return `${qtyFree.format(dec(milli, 3))} ${UNIT_LABEL.UN}`;
      return qtyFree.format(dec(milli, 3));
    },
    count: (n) => integer.format(n),
    percent: (bp) => pct.format(dec(bp, 4)),
    date,
    period: (from, to) => (from === to ? date(from) : `${date(from)} ${joiner} ${date(to)}`),
    dateTime: (at) => stamp.format(at).replace(',', ''),
  };
}

/** Share of `part` in `whole` in basis points (12,34% → 1234), rounded half away from zero; 0 when whole is 0. */
export function shareBasisPoints(part: number, whole: number): number {
  if (whole === 0) return 0;
  const scaled = part * 10_000;
  const q = Math.floor(Math.abs(scaled) / Math.abs(whole));
  const r = Math.abs(scaled) - q * Math.abs(whole);
  const rounded = r * 2 >= Math.abs(whole) ? q + 1 : q;
  return Math.sign(scaled) * Math.sign(whole) < 0 ? -rounded : rounded;
}
