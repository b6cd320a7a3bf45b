// Quantities of goods as checkouts, counts, receipts and transfers take them: parsing a person's quantity into
// integer thousandths, pricing a line, checking a basket against the stock on hand, and the rule between a
// product's reorder point and its target level.
import { divRound, parseScaled } from './decimal.ts';
import { describe, type Reason, type ReasonCode, type ReasonParams } from './reasons.ts';

export type Unit = 'UN' | 'KG';

/** Larger than any real line (a million units or a thousand tonnes): keeps every product of two amounts < 2^53. */
export const MAX_QUANTITY_MILLI = 1_000_000_000;

export type QuantityResult = { ok: true; milli: number } | { ok: false; reason: string; why: Reason };

const refuse = (code: ReasonCode, params: ReasonParams = {}): QuantityResult => ({
  ok: false,
  reason: describe(code, params, 'en'),
  why: { code, params },
});

/**
 * A quantity in units or kg as JSON gives it (a number or a decimal string: `2`, `0.435`, `"1.5"`) → thousandths.
 * The text of the number is parsed, so no binary fraction is ever rounded into a stored amount. `UN` products take
 * whole units only. `allowZero` is for counts (a shelf can be empty).
 */
export function parseQuantity(input: number | string, unit: Unit, opts: { allowZero?: boolean } = {}): QuantityResult {
  const text = typeof input === 'number' ? String(input) : input;
  if (typeof input === 'number' && !Number.isFinite(input)) return refuse('qty_not_number');
  if (/^-/.test(text.trim())) return refuse('qty_negative');
  // plain decimals only: `1,500` is 1.5 to some people and 1500 to others
  if (!/^\d+(?:\.\d+)?$/.test(text.trim())) return refuse('qty_not_plain', { text });
  const r = parseScaled(text, 'dot', 3);
  // a plain decimal fails only by its size or its decimals
  if (!r.ok) return r.why === 'decimals' ? refuse('qty_decimals', { text }) : refuse('qty_too_large');
  if (r.value === 0 && !opts.allowZero) return refuse('qty_zero');
  if (r.value > MAX_QUANTITY_MILLI) return refuse('qty_too_large');
  if (unit === 'UN' && r.value % 1000 !== 0) return refuse('qty_not_whole');
  return { ok: true, milli: r.value };
}

/** The amount of a line: quantity × unit price, to the cent (half away from zero). */
export function lineTotal(quantityMilli: number, unitPriceCents: number): number {
  return divRound(quantityMilli * unitPriceCents, 1000);
}

/** Thousandths → units or kg, for JSON (exact in decimal: at most 3 decimals). */
export const toUnits = (milli: number) => milli / 1000;

export interface Need {
  productId: number;
  quantityMilli: number;
}

/** The stock a basket takes, one entry per product, in product-id order (the order rows are locked in). */
export function requiredStock(lines: Need[]): Need[] {
  const sum = new Map<number, number>();
  for (const l of lines) sum.set(l.productId, (sum.get(l.productId) ?? 0) + l.quantityMilli);
  return [...sum]
    .map(([productId, quantityMilli]) => ({ productId, quantityMilli }))
    .sort((a, b) => a.productId - b.productId);
}

export interface Shortfall {
  productId: number;
  requestedMilli: number;
  availableMilli: number;
}

/** The products a basket would take below zero. `onHand` lacks products that have no balance yet (none on hand). */
export function shortfalls(required: Need[], onHand: ReadonlyMap<number, number>): Shortfall[] {
  const out: Shortfall[] = [];
  for (const r of required) {
    const available = onHand.get(r.productId) ?? 0;
    if (available < r.quantityMilli) {
      out.push({ productId: r.productId, requestedMilli: r.quantityMilli, availableMilli: Math.max(available, 0) });
    }
  }
  return out;
}

export type LevelsResult = { ok: true } | { ok: false; where: string; problem: string };

/** A target level below the reorder point would order stock that is already "low" on arrival. */
export function checkLevels(reorderPointMilli: number | null, targetLevelMilli: number | null): LevelsResult {
  if (reorderPointMilli !== null && targetLevelMilli !== null && targetLevelMilli < reorderPointMilli) {
    return {
      ok: false,
      where: 'targetLevel',
      problem: `must be at least the reorder point (${toUnits(reorderPointMilli)})`,
    };
  }
  return { ok: true };
}

// Building an Intl.DateTimeFormat costs tens of microseconds (more than the rest of a checkout's arithmetic), so one
// formatter per time zone is kept; formatting with it is cheap.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The store's business date (its local date, as todayIn gives it) and local hour (0–23) of an instant: what a
 * sales line records.
 */
export function localDateHour(timeZone: string, at: Date): { date: string; hour: number } {
  // every zone's offset has been a whole number of minutes for decades, so the answer holds for the whole minute
  const minute = Math.floor(at.getTime() / 60_000);
  const hit = lastMinute.get(timeZone);
  if (hit?.minute === minute) return hit.value;
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const value = { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
  lastMinute.set(timeZone, { minute, value });
  return value;
}

const lastMinute = new Map<string, { minute: number; value: { date: string; hour: number } }>();
