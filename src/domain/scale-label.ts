// In-store scale labels: the EAN-13 a deli or produce scale prints on a weighed item. Numbers starting with `2` are
// restricted-circulation GTINs, so every store (every scale brand) lays them out its own way; the store's profile
// says how:
//
//   [prefix: 1–2 digits, starts with 2][item code: 4–6 digits][value: the digits left][check digit]
//
// e.g. the common Toledo layout `2 CCCC VVVVVVV D` is { prefix: '2', codeLength: 4 } with a 7-digit value.
// The value is either the weight (kg with `decimals` decimals) or the price to pay (currency with `decimals`
// decimals). The item code names the product through its SKU: `skuPrefix` + the code, left-padded with zeros to
// `skuDigits` when set (code 0123 with { skuPrefix: 'P', skuDigits: 6 } is SKU P000123).
//
// Stock moves by weight, never by money, so a price label is converted to the weight it stands for:
//   weight (g) = label price ÷ shelf price per kg, rounded to the gram (half away from zero).
// A label of R$ 12.34 for cheese at R$ 24.90/kg is 1234 × 1000 ÷ 2490 = 495.58… → 0.496 kg. The customer pays the
// printed price (12.34), and the sales line records 0.496 kg at the shelf price with that total.
import { divRound } from './decimal.ts';
import { gtinCheckDigit } from './gtin.ts';

export type ScaleMode = 'weight' | 'price';

export interface ScaleProfile {
  /** 1–2 digits, the first one `2` */
  prefix: string;
  /** digits of the item code, 4–6 */
  codeLength: number;
  mode: ScaleMode;
  /** decimals of the value: weight 0–3 (kg), price 0–2 (currency) */
  decimals: number;
  /** text put before the item code to form the SKU ('' by default) */
  skuPrefix: string;
  /** zero-pad the item code to this many digits in the SKU; null keeps the code as printed */
  skuDigits: number | null;
}

export interface ProfileProblem {
  where: string;
  problem: string;
}

export type ProfileResult = { ok: true; profile: ScaleProfile } | { ok: false; problems: ProfileProblem[] };

/** Checks a profile as given by a person or stored as JSON; fills the optional fields. */
export function validateScaleProfile(input: unknown): ProfileResult {
  const problems: ProfileProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ where: 'profile', problem: 'must be an object' }] };
  }
  const p = input as Record<string, unknown>;
  const prefix = p.prefix;
  if (typeof prefix !== 'string' || !/^2\d?$/.test(prefix)) {
    problems.push({ where: 'prefix', problem: 'must be 1 or 2 digits starting with 2 (e.g. "2" or "20")' });
  }
  const codeLength = p.codeLength;
  if (!Number.isInteger(codeLength) || (codeLength as number) < 4 || (codeLength as number) > 6) {
    problems.push({ where: 'codeLength', problem: 'must be a whole number from 4 to 6' });
  }
  const mode = p.mode;
  if (mode !== 'weight' && mode !== 'price') problems.push({ where: 'mode', problem: 'must be "weight" or "price"' });
  const decimals = p.decimals;
  const maxDecimals = mode === 'price' ? 2 : 3;
  if (!Number.isInteger(decimals) || (decimals as number) < 0 || (decimals as number) > maxDecimals) {
    problems.push({
      where: 'decimals',
      problem: `must be a whole number from 0 to ${maxDecimals} (${mode === 'price' ? 'cents are the smallest money unit' : 'grams are the smallest weight unit'})`,
    });
  }
  const skuPrefix = p.skuPrefix ?? '';
  if (typeof skuPrefix !== 'string' || skuPrefix.length > 32) {
    problems.push({ where: 'skuPrefix', problem: 'must be text of at most 32 characters' });
  }
  const skuDigits = p.skuDigits ?? null;
  if (skuDigits !== null && (!Number.isInteger(skuDigits) || (skuDigits as number) < 1 || (skuDigits as number) > 32)) {
    problems.push({ where: 'skuDigits', problem: 'must be a whole number from 1 to 32, or null' });
  }
  for (const k of Object.keys(p)) {
    if (!['prefix', 'codeLength', 'mode', 'decimals', 'skuPrefix', 'skuDigits'].includes(k)) {
      problems.push({ where: k, problem: 'is not a field of a scale profile' });
    }
  }
  if (problems.length === 0 && valueDigits(prefix as string, codeLength as number) < 4) {
    problems.push({ where: 'codeLength', problem: 'leaves fewer than 4 digits for the value' });
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    profile: {
      prefix: prefix as string,
      codeLength: codeLength as number,
      mode: mode as ScaleMode,
      decimals: decimals as number,
      skuPrefix: skuPrefix as string,
      skuDigits: skuDigits as number | null,
    },
  };
}

const valueDigits = (prefix: string, codeLength: number) => 12 - prefix.length - codeLength;

export interface ScaleLabel {
  itemCode: string;
  /** the SKU the item code names under the profile */
  sku: string;
  mode: ScaleMode;
  /** weight labels: the printed weight in grams */
  weightMilli?: number;
  /** price labels: the printed price in cents */
  priceCents?: number;
}

export type DecodeResult =
  | { kind: 'label'; label: ScaleLabel }
  /** not laid out as this profile's labels: look the code up as an ordinary barcode */
  | { kind: 'not_label' }
  | { kind: 'invalid'; reason: string };

export function isScaleLabelCandidate(code: string, profile: ScaleProfile): boolean {
  return code.length === 13 && /^\d{13}$/.test(code) && code.startsWith(profile.prefix);
}

export function decodeScaleLabel(code: string, profile: ScaleProfile): DecodeResult {
  if (!isScaleLabelCandidate(code, profile)) return { kind: 'not_label' };
  const expected = gtinCheckDigit(code.slice(0, 12));
  if (expected !== Number(code[12])) {
    return { kind: 'invalid', reason: `the scale label's check digit is wrong (expected ${expected}): scan it again` };
  }
  const start = profile.prefix.length;
  const itemCode = code.slice(start, start + profile.codeLength);
  const value = Number(code.slice(start + profile.codeLength, 12));
  if (value === 0) {
    return { kind: 'invalid', reason: `the scale label carries a zero ${profile.mode}` };
  }
  const sku = itemCodeToSku(itemCode, profile);
  if (profile.mode === 'weight') {
    return {
      kind: 'label',
      label: { itemCode, sku, mode: 'weight', weightMilli: value * 10 ** (3 - profile.decimals) },
    };
  }
  return { kind: 'label', label: { itemCode, sku, mode: 'price', priceCents: value * 10 ** (2 - profile.decimals) } };
}

export function itemCodeToSku(itemCode: string, profile: Pick<ScaleProfile, 'skuPrefix' | 'skuDigits'>): string {
  const digits =
    profile.skuDigits === null ? itemCode : itemCode.replace(/^0+(?=\d)/, '').padStart(profile.skuDigits, '0');
  return profile.skuPrefix + digits;
}

export type LabelQuantity = { ok: true; quantityMilli: number; totalCents: number } | { ok: false; reason: string };

/**
 * What a decoded label means for a product sold by weight at `shelfPriceCents` per kg: the weight that leaves stock
 * and the amount to pay (see the header for the price-label rule).
 */
export function labelQuantity(label: ScaleLabel, product: { unit: 'UN' | 'KG'; priceCents: number }): LabelQuantity {
  if (product.unit !== 'KG') {
    return { ok: false, reason: 'the product is sold by unit, not by weight: a scale label cannot carry it' };
  }
  if (label.mode === 'weight') {
    const quantityMilli = label.weightMilli!;
    return { ok: true, quantityMilli, totalCents: divRound(quantityMilli * product.priceCents, 1000) };
  }
  if (product.priceCents <= 0) {
    return { ok: false, reason: 'the product has no shelf price, so a price label cannot be turned into a weight' };
  }
  const totalCents = label.priceCents!;
  const quantityMilli = divRound(totalCents * 1000, product.priceCents);
  if (quantityMilli === 0) return { ok: false, reason: 'the label price stands for less than one gram' };
  return { ok: true, quantityMilli, totalCents };
}

/** The label a scale of this profile prints for an item code and a value (grams or cents); for tests and printers. */
export function encodeScaleLabel(profile: ScaleProfile, itemCode: string, value: number): string {
  if (!new RegExp(`^\\d{${profile.codeLength}}$`).test(itemCode)) {
    throw new RangeError(`the item code must have ${profile.codeLength} digits`);
  }
  const scaled = value / 10 ** ((profile.mode === 'weight' ? 3 : 2) - profile.decimals);
  const width = valueDigits(profile.prefix, profile.codeLength);
  if (!Number.isInteger(scaled) || scaled < 0 || String(scaled).length > width) {
    throw new RangeError(`the value does not fit ${width} digits with ${profile.decimals} decimals`);
  }
  const body = profile.prefix + itemCode + String(scaled).padStart(width, '0');
  return body + gtinCheckDigit(body);
}
