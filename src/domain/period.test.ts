import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addDays, daysBetween } from './dates.ts';
import {
  bucketKey,
  buckets,
  checkPeriod,
  decompose,
  isoWeek,
  kpis,
  monthEnd,
  monthsOverlapping,
  previousPeriod,
  relativeChange,
} from './period.ts';

// Any date from 1999 to 2031, as an offset from a fixed day.
const dateArb = fc.integer({ min: 0, max: 12000 }).map((n) => addDays('1999-01-01', n));
const periodArb = fc
  .tuple(dateArb, fc.integer({ min: 0, max: 400 }))
  .map(([from, len]) => ({ from, to: addDays(from, len) }));

function everyDay(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

describe('checkPeriod', () => {
  it('names what is wrong', () => {
    assert.deepEqual(checkPeriod({ from: '2026-01-01', to: '2026-01-31' }), { ok: true });
    const bad = checkPeriod({ from: '2026-02-30', to: 'x' });
    assert.ok(!bad.ok && bad.problems.map((p) => p.where).join() === 'from,to');
    const reversed = checkPeriod({ from: '2026-02-02', to: '2026-02-01' });
    assert.ok(!reversed.ok && /after/.test(reversed.problems[0]!.problem));
    assert.equal(checkPeriod({ from: '2020-01-01', to: '2026-01-01' }, 366).ok, false);
  });
});

describe('previousPeriod', () => {
  it('is as long as the period and ends the day before it', () => {
    assert.deepEqual(previousPeriod({ from: '2026-03-01', to: '2026-03-31' }), {
      from: '2026-01-29',
      to: '2026-02-28',
    });
    assert.deepEqual(previousPeriod({ from: '2026-01-01', to: '2026-01-01' }), {
      from: '2025-12-31',
      to: '2025-12-31',
    });
    fc.assert(
      fc.property(periodArb, (p) => {
        const prev = previousPeriod(p);
        assert.equal(daysBetween(prev.from, prev.to), daysBetween(p.from, p.to));
        assert.equal(addDays(prev.to, 1), p.from);
      }),
    );
  });
});

describe('decompose', () => {
  it('splits into whole months and the loose days at both ends', () => {
    assert.deepEqual(decompose({ from: '2026-01-15', to: '2026-04-10' }), {
      months: { from: '2026-02', to: '2026-03' },
      days: [
        { from: '2026-01-15', to: '2026-01-31' },
        { from: '2026-04-01', to: '2026-04-10' },
      ],
    });
    assert.deepEqual(decompose({ from: '2024-02-01', to: '2024-02-29' }), {
      months: { from: '2024-02', to: '2024-02' },
      days: [],
    });
    assert.deepEqual(decompose({ from: '2026-01-02', to: '2026-01-30' }), {
      months: null,
      days: [{ from: '2026-01-02', to: '2026-01-30' }],
    });
  });
  it('covers every day of the period exactly once (property)', () => {
    fc.assert(
      fc.property(periodArb, (p) => {
        const d = decompose(p);
        const covered: string[] = [];
        for (const run of d.days) covered.push(...everyDay(run.from, run.to));
        if (d.months) {
          for (const m of monthsOverlapping({ from: `${d.months.from}-01`, to: monthEnd(d.months.to) })) {
            covered.push(...everyDay(`${m}-01`, monthEnd(m)));
          }
        }
        covered.sort();
        assert.deepEqual(covered, everyDay(p.from, p.to));
        assert.ok(d.days.length <= 2);
        // with a whole month inside, the loose days are less than a month at either end
        if (d.months) for (const run of d.days) assert.ok(daysBetween(run.from, run.to) < 31);
        else assert.ok(daysBetween(p.from, p.to) < 62);
      }),
      { numRuns: 300 },
    );
  });
});

describe('isoWeek and buckets', () => {
  it('numbers weeks as ISO 8601 does, across year ends', () => {
    assert.deepEqual(isoWeek('2026-01-01'), { year: 2026, week: 1, monday: '2025-12-29' });
    assert.deepEqual(isoWeek('2021-01-03'), { year: 2020, week: 53, monday: '2020-12-28' });
    assert.deepEqual(isoWeek('2024-12-30'), { year: 2025, week: 1, monday: '2024-12-30' });
    assert.equal(bucketKey('2026-06-14', 'week'), '2026-W24');
    assert.equal(bucketKey('2026-06-14', 'month'), '2026-06');
  });
  it('gives consecutive buckets that cover the period, marking the cut ones (property)', () => {
    fc.assert(
      fc.property(periodArb, fc.constantFrom('day', 'week', 'month' as const), (p, grain) => {
        const bs = buckets(p, grain);
        assert.equal(bs[0]!.from, p.from);
        assert.equal(bs.at(-1)!.to, p.to);
        for (let i = 1; i < bs.length; i++) assert.equal(bs[i]!.from, addDays(bs[i - 1]!.to, 1));
        for (const b of bs) {
          assert.equal(bucketKey(b.from, grain), b.key);
          assert.equal(bucketKey(b.to, grain), b.key);
          const len = daysBetween(b.from, b.to) + 1;
          if (grain === 'day') assert.equal(b.partial, false);
          if (grain === 'week') assert.equal(b.partial, len !== 7);
        }
        assert.equal(new Set(bs.map((b) => b.key)).size, bs.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('KPI maths', () => {
  it('averages per ticket in whole cents and items to two decimals', () => {
    const k = kpis({ revenueCents: 1000, tickets: 3, items: 7, quantityMilli: 7000, lines: 5 });
    assert.equal(k.averageTicketCents, 333);
    assert.equal(k.itemsPerTicket, 2.33);
    assert.equal(
      kpis({ revenueCents: 1001, tickets: 2, items: 5, quantityMilli: 0, lines: 2 }).averageTicketCents,
      501,
    );
    const none = kpis({ revenueCents: 0, tickets: 0, items: 0, quantityMilli: 0, lines: 0 });
    assert.equal(none.averageTicketCents, null);
    assert.equal(none.itemsPerTicket, null);
  });
  it('gives the change as a fraction rounded to four decimals, null against zero', () => {
    assert.equal(relativeChange(1125, 1000), 0.125);
    assert.equal(relativeChange(900, 1000), -0.1);
    assert.equal(relativeChange(2, 3), -0.3333);
    assert.equal(relativeChange(1, 3), -0.6667);
    assert.equal(relativeChange(5, 0), null);
    assert.equal(relativeChange(null, 4), null);
    assert.equal(relativeChange(-50, -100), 0.5);
    assert.equal(relativeChange(2.5, 2), 0.25);
    // cents beyond 2^53 / 10^4 stay exact
    assert.equal(relativeChange(9_000_000_000_000_001, 9_000_000_000_000_000), 0);
  });
  it('matches the exact fraction within half a basis point (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: -1e9, max: 1e9 }), (c, p) => {
        const r = relativeChange(c, p);
        if (p === 0) return assert.equal(r, null);
        assert.ok(Math.abs(r! - (c - p) / Math.abs(p)) <= 0.00005 + 1e-12);
      }),
    );
  });
});
