// The restock formula: worked examples a manager could redo by hand, then properties over generated figures
// (fast-check prints the seed and the shrunk counterexample of a failure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ceilDiv,
  DEFAULT_RESTOCK_POLICY,
  explainPlan,
  planRestock,
  type RestockFigures,
  roundUpToPack,
} from './restock.ts';

const base: RestockFigures = {
  onHandMilli: 3000,
  onOrderMilli: 0,
  reorderPointMilli: 5000,
  targetLevelMilli: 20000,
  packSizeMilli: 6000,
  leadTimeDays: 2,
};

describe('restock formula', () => {
  it('fills the projected stock up to the target level, rounded up to whole packs', () => {
    const p = planRestock(base);
    assert.equal(p.method, 'target_level');
    assert.equal(p.projectedMilli, 3000);
    assert.equal(p.targetMilli, 20000);
    assert.equal(p.shortfallMilli, 17000);
    assert.equal(p.quantityMilli, 18000); // 3 packs of 6
    assert.equal(p.packs, 3);
    assert.match(
      explainPlan(base, p),
      /projected stock 3 = 3 on hand \+ 0 on order; target level 20; order 18 = 3 packs of 6/,
    );
  });

  it('counts what is already on order', () => {
    assert.equal(planRestock({ ...base, onOrderMilli: 12000 }).quantityMilli, 6000);
    const covered = planRestock({ ...base, onOrderMilli: 18000 });
    assert.equal(covered.quantityMilli, 0);
    assert.match(explainPlan({ ...base, onOrderMilli: 18000 }, covered), /nothing to order/);
    // the guide's example: on hand −36 with 42 on order, target level 30, packs of 6
    const below = { ...base, onHandMilli: -36000, onOrderMilli: 42000, targetLevelMilli: 30000 };
    assert.deepEqual([planRestock(below).projectedMilli, planRestock(below).quantityMilli], [6000, 24000]);
  });

  it('without a target level, aims at twice the reorder point and at least one pack above it', () => {
    assert.equal(planRestock({ ...base, targetLevelMilli: null }).targetMilli, 11000); // 5 + 6 > 2 × 5
    assert.equal(planRestock({ ...base, targetLevelMilli: null, packSizeMilli: 1000 }).targetMilli, 10000);
    // a target level at or below the reorder point is a mistake in the levels, treated as no target level
    assert.equal(planRestock({ ...base, targetLevelMilli: 4000, packSizeMilli: 1000 }).targetMilli, 10000);
  });

  it('with enough history, covers lead time and review period at the recent rate plus safety stock', () => {
    // 42 units in 14 days = 3 a day; lead 2 + review 7 = 9 days → 27; safety 3 days → 9; target 36
    const f = { ...base, history: { days: 14, soldMilli: 42000 } };
    const p = planRestock(f);
    assert.equal(p.method, 'sales_rate');
    assert.equal(p.dailyRateMilli, 3000);
    assert.equal(p.cycleStockMilli, 27000);
    assert.equal(p.safetyStockMilli, 9000);
    assert.equal(p.targetMilli, 36000);
    assert.equal(p.quantityMilli, 36000); // 33 short → 6 packs of 6
    assert.match(explainPlan(f, p), /42 sold in 14 days covers 2 days of lead time \+ 7 days/);
  });

  it('keeps the target-level method with too little history or no sales in it', () => {
    assert.equal(planRestock({ ...base, history: { days: 13, soldMilli: 42000 } }).method, 'target_level');
    assert.equal(planRestock({ ...base, history: { days: 20, soldMilli: 0 } }).method, 'target_level');
  });

  it('never aims at or below the reorder point, so a received order ends the alert', () => {
    // slow seller: 1 unit in 28 days → rate target 1, below the reorder point 5
    const p = planRestock({ ...base, packSizeMilli: 1000, history: { days: 28, soldMilli: 1000 } });
    assert.equal(p.raisedToReorderPoint, true);
    assert.equal(p.targetMilli, 5001);
    assert.equal(p.quantityMilli, 3000); // 3 + 3 = 6 > 5
  });

  it('orders enough to cover a negative balance', () => {
    assert.equal(planRestock({ ...base, onHandMilli: -4000 }).quantityMilli, 24000);
  });

  it('divides exactly', () => {
    assert.equal(ceilDiv(0, 7), 0);
    assert.equal(ceilDiv(7, 7), 1);
    assert.equal(ceilDiv(8, 7), 2);
    assert.equal(ceilDiv(Number.MAX_SAFE_INTEGER, 1), Number.MAX_SAFE_INTEGER);
    assert.equal(ceilDiv(2 ** 53 - 2, 3), Math.ceil((2 ** 53 - 2) / 3));
    assert.equal(roundUpToPack(-5, 6), 0);
    assert.throws(() => ceilDiv(1, 0), RangeError);
    assert.throws(() => planRestock({ ...base, packSizeMilli: 0 }), RangeError);
  });
});

const milli = (max: number) => fc.integer({ min: 0, max });
const figures = fc.record({
  onHandMilli: fc.integer({ min: -50_000, max: 500_000 }),
  onOrderMilli: milli(500_000),
  reorderPointMilli: fc.option(milli(200_000), { nil: null }),
  targetLevelMilli: fc.option(milli(800_000), { nil: null }),
  packSizeMilli: fc.integer({ min: 1, max: 48_000 }),
  leadTimeDays: fc.integer({ min: 0, max: 30 }),
  history: fc.option(fc.record({ days: fc.integer({ min: 1, max: 28 }), soldMilli: milli(5_000_000) }), {
    nil: null,
  }),
});

describe('restock formula properties', () => {
  it('orders whole packs, the fewest that reach the target', () => {
    fc.assert(
      fc.property(figures, (f) => {
        const p = planRestock(f);
        assert.ok(p.quantityMilli >= 0);
        assert.equal(p.quantityMilli % f.packSizeMilli, 0);
        assert.equal(p.projectedMilli, f.onHandMilli + f.onOrderMilli);
        if (p.quantityMilli > 0) {
          assert.ok(p.projectedMilli + p.quantityMilli >= p.targetMilli);
          assert.ok(p.projectedMilli + p.quantityMilli - f.packSizeMilli < p.targetMilli);
        } else assert.ok(p.projectedMilli >= p.targetMilli);
      }),
    );
  });

  it('leaves stock above the reorder point once everything ordered arrives', () => {
    fc.assert(
      fc.property(figures, (f) => {
        const p = planRestock(f);
        if (f.reorderPointMilli !== null) assert.ok(p.projectedMilli + p.quantityMilli > f.reorderPointMilli);
      }),
    );
  });

  it('never orders twice for the same need: with the planned quantity on order, nothing more is due', () => {
    fc.assert(
      fc.property(figures, (f) => {
        const first = planRestock(f);
        const again = planRestock({ ...f, onOrderMilli: f.onOrderMilli + first.quantityMilli });
        assert.equal(again.quantityMilli, 0);
      }),
    );
  });

  it('orders no more when more is on hand or on order', () => {
    fc.assert(
      fc.property(figures, milli(100_000), (f, extra) => {
        const p = planRestock(f);
        assert.ok(planRestock({ ...f, onHandMilli: f.onHandMilli + extra }).quantityMilli <= p.quantityMilli);
        assert.ok(planRestock({ ...f, onOrderMilli: f.onOrderMilli + extra }).quantityMilli <= p.quantityMilli);
      }),
    );
  });

  it('uses the sales rate exactly when the history is long enough and has sales', () => {
    fc.assert(
      fc.property(figures, (f) => {
        const p = planRestock(f);
        const enough =
          !!f.history && f.history.days >= DEFAULT_RESTOCK_POLICY.minHistoryDays && f.history.soldMilli > 0;
        assert.equal(p.method, enough ? 'sales_rate' : 'target_level');
        assert.equal(typeof explainPlan(f, p), 'string');
      }),
    );
  });
});
