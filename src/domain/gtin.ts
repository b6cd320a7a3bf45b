// EAN/GTIN barcodes (GTIN-8, UPC-A/GTIN-12, EAN-13, GTIN-14). Kept as text: leading zeros matter.
import type { BarcodeProblem } from './reasons.ts';

export function gtinCheckDigit(body: string): number {
  let sum = 0;
  // weights 3,1,3,1… from the rightmost digit of the body
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return (10 - (sum % 10)) % 10;
}

export type GtinResult =
  | { ok: true; value: string }
  | { ok: false; reason: string; why: BarcodeProblem; expected?: number };

export function validateGtin(text: string): GtinResult {
  const s = text.trim();
  if (!/^\d+$/.test(s)) return { ok: false, reason: 'must contain digits only', why: 'digits' };
  if (![8, 12, 13, 14].includes(s.length))
    return { ok: false, reason: 'must have 8, 12, 13 or 14 digits', why: 'length' };
  const expected = gtinCheckDigit(s.slice(0, -1));
  if (expected !== s.charCodeAt(s.length - 1) - 48) {
    return { ok: false, reason: `check digit is wrong (expected ${expected})`, why: 'check_digit', expected };
  }
  return { ok: true, value: s };
}

/** "SEM GTIN" is how Brazilian fiscal documents say a product has no barcode. */
export function isNoGtin(text: string): boolean {
  return /^sem\s*gtin$/i.test(text.trim());
}
