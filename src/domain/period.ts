// Periods of business days and the arithmetic the sales dashboard does on them: the previous period of equal
// length, splitting a period into whole months and loose days (so long periods read the month roll-ups), time
// buckets for series, and the KPI formulas. Pure: dates are `YYYY-MM-DD` strings, amounts integers.
import { addDays, daysBetween, daysOf, isValidIsoDate } from './dates.ts';
import { divRound } from './decimal.ts';

export interface Period {
  from: string;
  to: string;
}

export const GRAINS = ['day', 'week', 'month'] as const;
export type Grain = (typeof GRAINS)[number];

/** Ten years and a bit: a period longer than this is a typo, and would make every query wide for nothing. */
export const MAX_PERIOD_DAYS = 3660;

export type PeriodCheck = { ok: true } | { ok: false; problems: Array<{ where: string; problem: string }> };

export function checkPeriod(p: Period, maxDays = MAX_PERIOD_DAYS): PeriodCheck {
  const problems: Array<{ where: string; problem: string }> = [];
  if (!isValidIsoDate(p.from)) problems.push({ where: 'from', problem: `"${p.from}" is not a date (YYYY-MM-DD)` });
  if (!isValidIsoDate(p.to)) problems.push({ where: 'to', problem: `"${p.to}" is not a date (YYYY-MM-DD)` });
  if (problems.length) return { ok: false, problems };
  if (p.from > p.to) return { ok: false, problems: [{ where: 'from', problem: `${p.from} is after to (${p.to})` }] };
  if (periodDays(p) > maxDays) {
    return { ok: false, problems: [{ where: 'to', problem: `the period is longer than ${maxDays} days` }] };
  }
  return { ok: true };
}

/** Days in the period, both ends included. */
export function periodDays(p: Period): number {
  return daysBetween(p.from, p.to) + 1;
}

/** The period of the same length that ends the day before this one starts. */
export function previousPeriod(p: Period): Period {
  const n = periodDays(p);
  return { from: addDays(p.from, -n), to: addDays(p.from, -1) };
}

/** `YYYY-MM` of a date. */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

export function monthStart(month: string): string {
  return `${month}-01`;
}

export function monthEnd(month: string): string {
  return addDays(monthStart(nextMonth(month)), -1);
}

export function nextMonth(month: string): string {
  let y = Number(month.slice(0, 4));
  let m = Number(month.slice(5, 7)) + 1;
  if (m === 13) {
    m = 1;
    y += 1;
  }
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
}

/** Every month the period touches, oldest first. */
export function monthsOverlapping(p: Period): string[] {
  const out: string[] = [];
  for (let m = monthOf(p.from); m <= monthOf(p.to); m = nextMonth(m)) out.push(m);
  return out;
}

export interface Decomposition {
  /** the whole calendar months inside the period, as an inclusive `YYYY-MM` range; null when there is none */
  months: { from: string; to: string } | null;
  /** the days outside those months: at most two runs, before and after them */
  days: Period[];
}

/**
 * Splits a period into the whole months it contains and the days left over at either end. A query then reads one
 * month row where it would read thirty day rows; a year costs twelve month rows plus at most sixty day rows.
 */
export function decompose(p: Period): Decomposition {
  let firstWhole = monthOf(p.from);
  if (monthStart(firstWhole) !== p.from) firstWhole = nextMonth(firstWhole);
  let lastWhole = monthOf(p.to);
  if (monthEnd(lastWhole) !== p.to) lastWhole = previousMonth(lastWhole);
  if (firstWhole > lastWhole) return { months: null, days: [{ ...p }] };
  const days: Period[] = [];
  if (p.from < monthStart(firstWhole)) days.push({ from: p.from, to: addDays(monthStart(firstWhole), -1) });
  if (p.to > monthEnd(lastWhole)) days.push({ from: addDays(monthEnd(lastWhole), 1), to: p.to });
  return { months: { from: firstWhole, to: lastWhole }, days };
}

function previousMonth(month: string): string {
  return monthOf(addDays(monthStart(month), -1));
}

/** ISO 8601 week of a date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(date: string): { year: number; week: number; monday: string } {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const monday = addDays(date, -weekday);
  const thursday = new Date(`${addDays(monday, 3)}T00:00:00Z`);
  const year = thursday.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / 86_400_000 / 7) + 1;
  return { year, week, monday };
}

/** The key of the bucket holding a date: the date, `YYYY-Www` (ISO week) or `YYYY-MM`. */
export function bucketKey(date: string, grain: Grain): string {
  if (grain === 'day') return date;
  if (grain === 'month') return monthOf(date);
  const w = isoWeek(date);
  return `${w.year}-W${String(w.week).padStart(2, '0')}`;
}

export interface Bucket {
  key: string;
  /** the bucket's days inside the period */
  from: string;
  to: string;
  /** the period cuts the bucket: fewer days than a whole week or month */
  partial: boolean;
}

/** The period's buckets, in order, every one of them (a series shows the days without sales as zero). */
export function buckets(p: Period, grain: Grain): Bucket[] {
  if (grain === 'day') return daysOf(p.from, p.to).map((d) => ({ key: d, from: d, to: d, partial: false }));
  const out: Bucket[] = [];
  let start = p.from;
  while (start <= p.to) {
    let fullStart: string;
    let fullEnd: string;
    if (grain === 'week') {
      fullStart = isoWeek(start).monday;
      fullEnd = addDays(fullStart, 6);
    } else {
      fullStart = monthStart(monthOf(start));
      fullEnd = monthEnd(monthOf(start));
    }
    const to = fullEnd < p.to ? fullEnd : p.to;
    out.push({ key: bucketKey(start, grain), from: start, to, partial: start !== fullStart || to !== fullEnd });
    start = addDays(to, 1);
  }
  return out;
}

/** What the roll-ups add up for a selection of sales. */
export interface Totals {
  revenueCents: number;
  /** distinct receipts */
  tickets: number;
  /** units sold, a weighed-goods line counting as one item; returns count negative */
  items: number;
  quantityMilli: number;
  lines: number;
}

export interface Kpis extends Totals {
  /** revenue / tickets, rounded to the cent; null without tickets */
  averageTicketCents: number | null;
  /** items / tickets, two decimals; null without tickets */
  itemsPerTicket: number | null;
}

export const ZERO_TOTALS: Totals = Object.freeze({ revenueCents: 0, tickets: 0, items: 0, quantityMilli: 0, lines: 0 });

export function kpis(t: Totals): Kpis {
  // spelled out, not spread: one key order for every answer, and a series computes this for every day of a year
  return {
    revenueCents: t.revenueCents,
    tickets: t.tickets,
    items: t.items,
    quantityMilli: t.quantityMilli,
    lines: t.lines,
    averageTicketCents: t.tickets > 0 ? divRound(t.revenueCents, t.tickets) : null,
    itemsPerTicket: t.tickets > 0 ? divRound(t.items * 100, t.tickets) / 100 : null,
  };
}

/**
 * (current − previous) / |previous| as a fraction rounded to four decimals (0.1234 is +12.34 %); null when the
 * previous value is zero or unknown, where a percentage means nothing. Integer arithmetic in BigInt: revenue in
 * cents times 10⁴ can pass 2⁵³.
 */
export function relativeChange(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  if (Number.isInteger(current) && Number.isInteger(previous)) {
    const num = (BigInt(current) - BigInt(previous)) * 10000n;
    const den = BigInt(Math.abs(previous));
    const q = num / den;
    const r = num % den;
    const rounded = 2n * (r < 0n ? -r : r) >= den ? q + (num < 0n ? -1n : 1n) : q;
    return Number(rounded) / 10000;
  }
  // items per ticket has two decimals: scale to integers first so the rounding stays exact
  return relativeChange(Math.round(current * 100), Math.round(previous * 100));
}
