import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkLevels,
  lineTotal,
  localDateHour,
  MAX_QUANTITY_MILLI,
  parseQuantity,
  requiredStock,
  shortfalls,
} from './basket.ts';
import { todayIn } from './dates.ts';
import { formatScaled } from './decimal.ts';

describe('parseQuantity', () => {
  it('reads numbers and decimal strings into thousandths without float arithmetic', () => {
    assert.deepEqual(parseQuantity(2, 'UN'), { ok: true, milli: 2000 });
    assert.deepEqual(parseQuantity(0.435, 'KG'), { ok: true, milli: 435 });
    assert.deepEqual(parseQuantity('1.5', 'KG'), { ok: true, milli: 1500 });
    assert.deepEqual(parseQuantity(0.3, 'KG'), { ok: true, milli: 300 });
    assert.deepEqual(parseQuantity(0, 'UN', { allowZero: true }), { ok: true, milli: 0 });
  });
  it('reads back every quantity written with up to 3 decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_QUANTITY_MILLI }), (milli) => {
        assert.deepEqual(parseQuantity(formatScaled(milli, 3), 'KG'), { ok: true, milli });
        assert.deepEqual(parseQuantity(milli / 1000, 'KG'), { ok: true, milli });
      }),
    );
  });
  it('refuses what a person could mean two ways, fractions of units, and nonsense', () => {
    for (const [q, unit] of [
      ['1,500', 'KG'],
      [1.5, 'UN'],
      [0, 'UN'],
      [-1, 'KG'],
      [0.0001, 'KG'],
      [1e21, 'UN'],
      [Number.NaN, 'UN'],
      ['', 'UN'],
      [2_000_000, 'UN'],
    ] as const) {
      assert.equal(parseQuantity(q, unit).ok, false, `${q} ${unit}`);
    }
  });
});

describe('basket arithmetic', () => {
  it('prices a line to the cent, half away from zero', () => {
    assert.equal(lineTotal(435, 2490), 1083);
    assert.equal(lineTotal(3000, 499), 1497);
    assert.equal(lineTotal(-3000, 499), -1497);
    assert.equal(lineTotal(500, 1), 1); // 0.5 cent rounds up
  });
  it('sums what a basket takes per product, in product-id order', () => {
    assert.deepEqual(
      requiredStock([
        { productId: 9, quantityMilli: 1000 },
        { productId: 3, quantityMilli: 500 },
        { productId: 9, quantityMilli: 2000 },
      ]),
      [
        { productId: 3, quantityMilli: 500 },
        { productId: 9, quantityMilli: 3000 },
      ],
    );
  });
  it('finds the products that would go below zero, counting missing balances as none', () => {
    const need = requiredStock([
      { productId: 1, quantityMilli: 2000 },
      { productId: 2, quantityMilli: 1000 },
      { productId: 3, quantityMilli: 1000 },
    ]);
    assert.deepEqual(
      shortfalls(
        need,
        new Map([
          [1, 2000],
          [2, -4000],
        ]),
      ),
      [
        { productId: 2, requestedMilli: 1000, availableMilli: 0 },
        { productId: 3, requestedMilli: 1000, availableMilli: 0 },
      ],
    );
  });
});

describe('levels and hours', () => {
  it('refuses a target level below the reorder point', () => {
    assert.deepEqual(checkLevels(5000, 10_000), { ok: true });
    assert.deepEqual(checkLevels(null, 1000), { ok: true });
    const r = checkLevels(5000, 4000);
    assert.ok(!r.ok && r.where === 'targetLevel' && r.problem.includes('5'));
  });
  it('gives the local date and hour of a store, the date being todayIn’s', () => {
    const at = new Date('2026-03-10T02:30:00Z');
    assert.deepEqual(localDateHour('America/Sao_Paulo', at), { date: '2026-03-09', hour: 23 });
    assert.deepEqual(localDateHour('UTC', at), { date: '2026-03-10', hour: 2 });
    const zones = fc.constantFrom('America/Sao_Paulo', 'America/Manaus', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC');
    fc.assert(
      fc.property(zones, fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }), (zone, ms) => {
        const d = new Date(ms);
        const r = localDateHour(zone, d);
        assert.equal(r.date, todayIn(zone, d));
        const hour = Number(
          new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(d),
        );
        assert.equal(r.hour, hour);
      }),
    );
  });
});
