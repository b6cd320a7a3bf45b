import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { gtinCheckDigit } from './gtin.ts';
import {
  decodeScaleLabel,
  encodeScaleLabel,
  itemCodeToSku,
  labelQuantity,
  type ScaleProfile,
  validateScaleProfile,
} from './scale-label.ts';

const profile = (p: Partial<ScaleProfile>): ScaleProfile => {
  const r = validateScaleProfile({ prefix: '2', codeLength: 4, mode: 'weight', decimals: 3, ...p });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.profile;
};
const withCheck = (body: string) => body + gtinCheckDigit(body);

describe('scale profiles', () => {
  it('accepts the common layouts and fills the optional fields', () => {
    assert.deepEqual(profile({}), {
      prefix: '2',
      codeLength: 4,
      mode: 'weight',
      decimals: 3,
      skuPrefix: '',
      skuDigits: null,
    });
    assert.equal(profile({ prefix: '20', codeLength: 6, mode: 'price', decimals: 2 }).codeLength, 6);
  });
  it('names every wrong field', () => {
    const r = validateScaleProfile({ prefix: '3', codeLength: 7, mode: 'volume', decimals: 4, extra: 1 });
    assert.ok(!r.ok);
    assert.deepEqual(r.problems.map((p) => p.where).sort(), ['codeLength', 'decimals', 'extra', 'mode', 'prefix']);
    const price = validateScaleProfile({ prefix: '2', codeLength: 4, mode: 'price', decimals: 3 });
    assert.ok(!price.ok && price.problems[0]!.where === 'decimals');
    assert.ok(!validateScaleProfile(null).ok);
  });
});

describe('decoding scale labels', () => {
  it('reads a weight label: item code, SKU and grams', () => {
    const p = profile({ skuPrefix: 'P', skuDigits: 6 });
    const code = withCheck('201230000435'); // item 0123, 0.435 kg
    const r = decodeScaleLabel(code, p);
    assert.equal(r.kind, 'label');
    assert.ok(r.kind === 'label');
    assert.deepEqual(r.label, { itemCode: '0123', sku: 'P000123', mode: 'weight', weightMilli: 435 });
  });
  it('reads weight labels printed with fewer decimals', () => {
    const p = profile({ codeLength: 5, decimals: 2 });
    const r = decodeScaleLabel(withCheck('212345000150'), p); // 1.50 kg
    assert.ok(r.kind === 'label' && r.label.weightMilli === 1500 && r.label.sku === '12345');
  });
  it('reads a price label in cents', () => {
    const p = profile({ prefix: '20', codeLength: 5, mode: 'price', decimals: 2 });
    const r = decodeScaleLabel(withCheck('200042101234'), p); // item 00421, R$ 12.34
    assert.ok(r.kind === 'label');
    assert.deepEqual(r.label, { itemCode: '00421', sku: '00421', mode: 'price', priceCents: 1234 });
  });
  it('refuses a wrong check digit, naming the right one', () => {
    const good = withCheck('201230000435');
    const bad = good.slice(0, 12) + String((Number(good[12]) + 1) % 10);
    const r = decodeScaleLabel(bad, profile({}));
    assert.equal(r.kind, 'invalid');
    assert.ok(r.kind === 'invalid' && r.reason.includes(`expected ${good[12]}`));
  });
  it('refuses a zero weight', () => {
    assert.equal(decodeScaleLabel(withCheck('201230000000'), profile({})).kind, 'invalid');
  });
  it('leaves other barcodes alone', () => {
    const p = profile({});
    assert.equal(decodeScaleLabel('7891000315507', p).kind, 'not_label');
    assert.equal(decodeScaleLabel('20123000043', p).kind, 'not_label');
    assert.equal(decodeScaleLabel(withCheck('211230000435'), profile({ prefix: '20' })).kind, 'not_label');
  });
  it('round-trips every item code and value a profile can print', () => {
    const profiles = fc.record({
      prefix: fc.constantFrom('2', '20', '21', '29'),
      codeLength: fc.integer({ min: 4, max: 6 }),
      mode: fc.constantFrom('weight' as const, 'price' as const),
      decimals: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(profiles, fc.nat(), fc.nat(), (raw, codeSeed, valueSeed) => {
        const p = profile(raw);
        const itemCode = String(codeSeed % 10 ** p.codeLength).padStart(p.codeLength, '0');
        const width = 12 - p.prefix.length - p.codeLength;
        const printed = 1 + (valueSeed % (10 ** width - 1));
        const value = printed * 10 ** ((p.mode === 'weight' ? 3 : 2) - p.decimals);
        const r = decodeScaleLabel(encodeScaleLabel(p, itemCode, value), p);
        assert.ok(r.kind === 'label');
        assert.equal(r.label.itemCode, itemCode);
        assert.equal(p.mode === 'weight' ? r.label.weightMilli : r.label.priceCents, value);
      }),
    );
  });
});

describe('what a label means for stock and money', () => {
  const cheese = { unit: 'KG' as const, priceCents: 2490 };
  it('a weight label: that weight, priced at the shelf price to the cent', () => {
    assert.deepEqual(labelQuantity({ itemCode: '1', sku: '1', mode: 'weight', weightMilli: 435 }, cheese), {
      ok: true,
      quantityMilli: 435,
      totalCents: 1083, // 0.435 × 24.90 = 10.8315
    });
  });
  it('a price label: the printed price, and the weight it buys at the shelf price, to the gram', () => {
    assert.deepEqual(labelQuantity({ itemCode: '1', sku: '1', mode: 'price', priceCents: 1234 }, cheese), {
      ok: true,
      quantityMilli: 496, // 12.34 ÷ 24.90 = 0.49558 kg
      totalCents: 1234,
    });
  });
  it('refuses unit products and prices that buy no gram', () => {
    assert.equal(
      labelQuantity({ itemCode: '1', sku: '1', mode: 'weight', weightMilli: 5 }, { unit: 'UN', priceCents: 100 }).ok,
      false,
    );
    assert.equal(
      labelQuantity({ itemCode: '1', sku: '1', mode: 'price', priceCents: 1 }, { unit: 'KG', priceCents: 999_999 }).ok,
      false,
    );
    assert.equal(
      labelQuantity({ itemCode: '1', sku: '1', mode: 'price', priceCents: 100 }, { unit: 'KG', priceCents: 0 }).ok,
      false,
    );
  });
  it('maps item codes to SKUs', () => {
    assert.equal(itemCodeToSku('0123', { skuPrefix: '', skuDigits: null }), '0123');
    assert.equal(itemCodeToSku('0123', { skuPrefix: 'P', skuDigits: 6 }), 'P000123');
    assert.equal(itemCodeToSku('0000', { skuPrefix: '', skuDigits: 2 }), '00');
  });
});
