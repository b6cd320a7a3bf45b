import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { divRound, formatScaled, parseScaled, sniffNumberConvention } from './decimal.ts';

const ok = (text: string, conv: 'dot' | 'comma', scale: number) => {
  const r = parseScaled(text, conv, scale);
  assert.ok(r.ok, `${text} should parse: ${!r.ok && r.reason}`);
  return r.value;
};

describe('parseScaled', () => {
  it('reads both conventions with and without thousands separators', () => {
    assert.equal(ok('1234.56', 'dot', 2), 123456);
    assert.equal(ok('1,234.56', 'dot', 2), 123456);
    assert.equal(ok('1234,56', 'comma', 2), 123456);
    assert.equal(ok('1.234,56', 'comma', 2), 123456);
    assert.equal(ok('0,435', 'comma', 3), 435);
    assert.equal(ok('-2', 'dot', 3), -2000);
    assert.equal(ok('.5', 'dot', 2), 50);
    assert.equal(ok('R$ 10,00', 'comma', 2), 1000);
    assert.equal(ok('(3.50)', 'dot', 2), -350);
  });
  it('refuses what is not a number or has too many decimals', () => {
    for (const bad of ['', 'abc', '1.2.3', '1,23,4', '12a', '--1', '1.234,56']) {
      assert.equal(parseScaled(bad, 'dot', 2).ok, false, bad);
    }
    const r = parseScaled('1.2345', 'dot', 3);
    assert.ok(!r.ok && /more than 3 decimal/.test(r.reason));
  });
  it('round-trips every integer amount through formatScaled (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 3 }), (v, scale) => {
        assert.equal(ok(formatScaled(v, scale), 'dot', scale), v);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseScaled fast path', () => {
  it('reads plain values exactly as the general reader does (property)', () => {
    const plain = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{0,17}$/),
        fc.constantFrom('', '.', ','),
        fc.stringMatching(/^[0-9]{0,5}$/),
      )
      .map(([sign, int, sep, frac]) => `${sign}${int}${sep}${frac}`);
    fc.assert(
      fc.property(
        plain,
        fc.constantFrom('dot' as const, 'comma' as const),
        fc.integer({ min: 0, max: 3 }),
        (s, c, k) => {
          // a leading space makes the fast path step aside: the general reader answers
          assert.deepEqual(parseScaled(s, c, k), parseScaled(` ${s}`, c, k), s);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('sniffNumberConvention', () => {
  it('decides from unambiguous values and stays silent on ambiguous ones', () => {
    assert.equal(sniffNumberConvention(['10', '3,50']), 'comma');
    assert.equal(sniffNumberConvention(['1.234,56']), 'comma');
    assert.equal(sniffNumberConvention(['1,234.56']), 'dot');
    assert.equal(sniffNumberConvention(['3.5', '7']), 'dot');
    assert.equal(sniffNumberConvention(['1,234', '1.234', '12']), undefined);
    assert.equal(sniffNumberConvention(['abc']), undefined);
  });
});

describe('divRound', () => {
  it('rounds half away from zero', () => {
    assert.equal(divRound(1005, 10), 101);
    assert.equal(divRound(-1005, 10), -101);
    assert.equal(divRound(1004, 10), 100);
    assert.equal(divRound(435 * 1999, 1000), 870); // 0.435 kg × 19.99 = 8.69565 → 8.70
  });
});
