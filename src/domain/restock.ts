// How much to reorder, as a pure function of the figures a restock line records (its `rationale`). Quantities are
// integer thousandths throughout; rates are kept as the fraction sold/days so that nothing is rounded until the end,
// and every rounding is upwards (a shortage costs more than a few extra units).
//
//   projected = on hand + on order (open orders, not yet received)
//   target    = sales-rate method, with ≥ minHistoryDays of history:
//                 ⌈sold × (lead time + review period) / days⌉ + ⌈sold × safety days / days⌉
//               target-level method otherwise:
//                 the target level, or without one max(2 × reorder point, reorder point + one pack)
//               and never at or below the reorder point, so that a received order ends the low-stock alert
//   quantity  = ⌈max(0, target − projected) / pack⌉ × pack

export interface RestockPolicy {
  /** the window of recent sales the rate is measured over, in days ending today */
  historyDays: number;
  /** days of sales the store must have reported in that window before the rate is trusted */
  minHistoryDays: number;
  /** days between two orders to the same supplier: what an order must last beyond its lead time */
  reviewPeriodDays: number;
  /** days of sales kept in reserve for a late delivery or a busier week */
  safetyDays: number;
}

export const DEFAULT_RESTOCK_POLICY: RestockPolicy = {
  historyDays: 28,
  minHistoryDays: 14,
  reviewPeriodDays: 7,
  safetyDays: 3,
};

export interface SalesHistory {
  /** days within the window on which the store reported sales (days without the product count as zero) */
  days: number;
  /** the product's sales over those days, thousandths */
  soldMilli: number;
}

export interface RestockFigures {
  onHandMilli: number;
  /** ordered and not yet received on open orders, excluding the line being sized */
  onOrderMilli: number;
  reorderPointMilli: number | null;
  targetLevelMilli: number | null;
  packSizeMilli: number;
  leadTimeDays: number;
  history?: SalesHistory | null;
}

export type RestockMethod = 'sales_rate' | 'target_level';

export interface RestockPlan {
  method: RestockMethod;
  projectedMilli: number;
  targetMilli: number;
  /** target − projected, before rounding to packs; ≤ 0 means nothing to order */
  shortfallMilli: number;
  quantityMilli: number;
  packs: number;
  /** sales-rate method only */
  cycleStockMilli?: number;
  safetyStockMilli?: number;
  /** the recent daily rate, thousandths per day rounded up, for people to read (the plan uses the exact fraction) */
  dailyRateMilli?: number;
  /** true when the computed target was raised to stay above the reorder point */
  raisedToReorderPoint: boolean;
}

/** ⌈a / b⌉ for integers a ≥ 0, b > 0, exact for every safe integer. */
export function ceilDiv(a: number, b: number): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b <= 0) {
    throw new RangeError(`ceilDiv needs integers a >= 0 and b > 0, got ${a} and ${b}`);
  }
  let q = Math.floor(a / b);
  // float division can land one off for large operands
  while (q * b < a) q++;
  while (q > 0 && (q - 1) * b >= a) q--;
  return q;
}

/** The smallest multiple of `pack` that is ≥ `quantity` (0 for a quantity ≤ 0). */
export function roundUpToPack(quantityMilli: number, packMilli: number): number {
  if (quantityMilli <= 0) return 0;
  return ceilDiv(quantityMilli, packMilli) * packMilli;
}

export function usesSalesRate(history: SalesHistory | null | undefined, policy = DEFAULT_RESTOCK_POLICY): boolean {
  return !!history && history.days >= policy.minHistoryDays && history.soldMilli > 0;
}

export function planRestock(f: RestockFigures, policy: RestockPolicy = DEFAULT_RESTOCK_POLICY): RestockPlan {
  for (const [name, v] of [
    ['onHandMilli', f.onHandMilli],
    ['onOrderMilli', f.onOrderMilli],
    ['packSizeMilli', f.packSizeMilli],
    ['leadTimeDays', f.leadTimeDays],
  ] as const) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer, got ${v}`);
  }
  if (f.packSizeMilli <= 0) throw new RangeError(`packSizeMilli must be positive, got ${f.packSizeMilli}`);
  if (f.onOrderMilli < 0) throw new RangeError(`onOrderMilli must not be negative, got ${f.onOrderMilli}`);
  const pack = f.packSizeMilli;
  const rop = f.reorderPointMilli;
  const projected = f.onHandMilli + f.onOrderMilli;
  // The order must lift stock strictly above the reorder point, or the alert it answers would never resolve.
  const floor = rop === null ? 0 : rop + 1;

  let method: RestockMethod;
  let target: number;
  let cycle: number | undefined;
  let safety: number | undefined;
  let dailyRate: number | undefined;
  if (usesSalesRate(f.history, policy)) {
    const h = f.history!;
    method = 'sales_rate';
    cycle = ceilDiv(h.soldMilli * (Math.max(0, f.leadTimeDays) + policy.reviewPeriodDays), h.days);
    safety = ceilDiv(h.soldMilli * policy.safetyDays, h.days);
    dailyRate = ceilDiv(h.soldMilli, h.days);
    target = cycle + safety;
  } else {
    method = 'target_level';
    if (f.targetLevelMilli !== null && (rop === null || f.targetLevelMilli > rop)) target = f.targetLevelMilli;
    else if (rop !== null) target = Math.max(2 * rop, rop + pack);
    else target = f.targetLevelMilli ?? 0;
  }
  const raised = target < floor;
  if (raised) target = floor;
  const shortfall = target - projected;
  const quantity = roundUpToPack(shortfall, pack);
  return {
    method,
    projectedMilli: projected,
    targetMilli: target,
    shortfallMilli: shortfall,
    quantityMilli: quantity,
    packs: quantity / pack,
    ...(cycle !== undefined ? { cycleStockMilli: cycle, safetyStockMilli: safety, dailyRateMilli: dailyRate } : {}),
    raisedToReorderPoint: raised,
  };
}

/** thousandths as a plain decimal, for people (`42`, `1.25`, `-8`) */
export const units = (milli: number) => {
  const s = (Math.abs(milli) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return milli < 0 ? `-${s}` : s;
};

/** One sentence a manager can check with a pocket calculator. */
export function explainPlan(f: RestockFigures, p: RestockPlan, policy: RestockPolicy = DEFAULT_RESTOCK_POLICY): string {
  const parts: string[] = [];
  parts.push(
    `projected stock ${units(p.projectedMilli)} = ${units(f.onHandMilli)} on hand + ${units(f.onOrderMilli)} on order`,
  );
  if (p.method === 'sales_rate') {
    const h = f.history!;
    parts.push(
      `target ${units(p.targetMilli)}${p.raisedToReorderPoint ? ' (raised above the reorder point)' : ''}: ` +
        `${units(h.soldMilli)} sold in ${h.days} days covers ${f.leadTimeDays} days of lead time + ` +
        `${policy.reviewPeriodDays} days until the next order (${units(p.cycleStockMilli!)}) + ` +
        `${policy.safetyDays} days of safety stock (${units(p.safetyStockMilli!)})`,
    );
  } else if (f.targetLevelMilli !== null && !p.raisedToReorderPoint && p.targetMilli === f.targetLevelMilli) {
    parts.push(`target level ${units(p.targetMilli)}`);
  } else {
    parts.push(
      `target ${units(p.targetMilli)} (${f.targetLevelMilli === null ? 'no target level' : 'the target level is not above the reorder point'}: twice the reorder point ${units(f.reorderPointMilli ?? 0)}, at least one pack above it)`,
    );
  }
  if (p.quantityMilli === 0) parts.push('nothing to order: the projected stock already reaches the target');
  else {
    parts.push(
      `order ${units(p.quantityMilli)} = ${p.packs} pack${p.packs === 1 ? '' : 's'} of ${units(f.packSizeMilli)} covering the shortfall of ${units(p.shortfallMilli)}`,
    );
  }
  return `${parts.join('; ')}.`;
}
