// Decimal text to scaled integers, without floating point: money to cents (scale 2), quantities to thousandths
// (scale 3). A file uses one number convention; `sniffNumberConvention` finds it from the values themselves.

/** `dot`: 1234.56 and 1,234.56 · `comma`: 1234,56 and 1.234,56 */
export type NumberConvention = 'dot' | 'comma';

import type { NumberProblem } from './reasons.ts';

export type ParseResult = { ok: true; value: number } | { ok: false; reason: string; why: NumberProblem };

/** a number as a convention writes it, for telling someone what was expected */
export const numberExample = (convention: NumberConvention) => (convention === 'dot' ? '1234.56' : '1234,56');

const DOT = /^([+-])?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?$/;
const COMMA = /^([+-])?(\d{1,3}(?:\.\d{3})+|\d+)?(?:,(\d+))?$/;

/**
 * Parses `text` in the convention into an integer scaled by 10^scale. More decimals than `scale` is an error (not
 * rounding): a quantity of 1.2345 kg is not something a scale prints.
 */
export function parseScaled(text: string, convention: NumberConvention, scale: number): ParseResult {
  const plain = plainScaled(text, convention === 'dot' ? 46 : 44, scale);
  if (plain !== undefined) return { ok: true, value: plain };
  let s = text.trim();
  if (s === '') return { ok: false, reason: 'is empty', why: 'empty' };
  // Some exports write negatives as (12.50) or 12.50-.
  let negative = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    s = s.slice(1, -1).trim();
  } else if (s.endsWith('-') && s.length > 1) {
    negative = true;
    s = s.slice(0, -1).trim();
  }
  s = s.replace(/^R\$\s*/i, '');
  const m = (convention === 'dot' ? DOT : COMMA).exec(s);
  if (!m || (m[2] === undefined && m[3] === undefined)) {
    return {
      ok: false,
      reason: `is not a number (expected e.g. ${numberExample(convention)})`,
      why: 'not_number',
    };
  }
  const intPart = (m[2] ?? '0').replace(/[.,]/g, '');
  const frac = m[3] ?? '';
  if (frac.length > scale) return { ok: false, reason: `has more than ${scale} decimal places`, why: 'decimals' };
  const digits = intPart + frac.padEnd(scale, '0');
  if (digits.replace(/^0+/, '').length > 15) return { ok: false, reason: 'is too large', why: 'too_large' };
  let value = Number(digits);
  if (m[1] === '-') negative = !negative;
  if (negative) value = -value;
  return { ok: true, value: value === 0 ? 0 : value };
}

/**
 * The shape almost every value of a sales file has (`-12`, `1234.5`, `0,435`: a sign, digits, one decimal
 * separator) read without a regular expression, since a file has four numbers per line. Anything else (spaces,
 * thousands groups, currency, parentheses, too many digits or decimals) is left to the general reader: undefined.
 */
function plainScaled(s: string, decimalSeparator: number, scale: number): number | undefined {
  const n = s.length;
  let i = 0;
  let negative = false;
  const first = s.charCodeAt(0);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i = 1;
  }
  let value = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
    digits++;
  }
  let decimals = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== decimalSeparator || i === n - 1) return undefined;
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9 || decimals === scale) return undefined;
      value = value * 10 + c;
      decimals++;
      digits++;
    }
  }
  if (digits === 0 || digits + scale - decimals > 15) return undefined;
  for (; decimals < scale; decimals++) value *= 10;
  return negative && value !== 0 ? -value : value;
}

/**
 * Finds the convention from sample values. A value with both separators decides by the last one; a lone separator
 * followed by other than exactly three digits is a decimal separator. `1,234` alone proves nothing.
 */
export function sniffNumberConvention(samples: Iterable<string>): NumberConvention | undefined {
  let dot = 0;
  let comma = 0;
  for (const raw of samples) {
    const s = raw.trim();
    if (!/^[+(-]?(R\$\s*)?[\d.,]+\)?-?$/.test(s)) continue;
    const lastDot = s.lastIndexOf('.');
    const lastComma = s.lastIndexOf(',');
    if (lastDot >= 0 && lastComma >= 0) {
      if (lastDot > lastComma) dot++;
      else comma++;
    } else if (lastComma >= 0) {
      const after = s.slice(lastComma + 1).replace(/\D/g, '');
      if (after.length !== 3 || s.indexOf(',') !== lastComma) {
        if (s.indexOf(',') === lastComma) comma++;
        else dot++; // 1,234,567: thousands groups
      }
    } else if (lastDot >= 0) {
      const after = s.slice(lastDot + 1).replace(/\D/g, '');
      if (after.length !== 3 || s.indexOf('.') !== lastDot) {
        if (s.indexOf('.') === lastDot) dot++;
        else comma++; // 1.234.567
      }
    }
  }
  if (dot === 0 && comma === 0) return undefined;
  return comma > dot ? 'comma' : 'dot';
}

/** cents → `1234.56` (plain, for machine formats) */
export function formatScaled(value: number, scale: number): string {
  const neg = value < 0;
  const s = String(Math.abs(value)).padStart(scale + 1, '0');
  const out = scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  return neg ? `-${out}` : out;
}

/** Round half away from zero of a / b, both integers (b > 0). */
export function divRound(a: number, b: number): number {
  const q = Math.floor(Math.abs(a) / b);
  const r = Math.abs(a) - q * b;
  const rounded = r * 2 >= b ? q + 1 : q;
  return a < 0 ? -rounded : rounded;
}
