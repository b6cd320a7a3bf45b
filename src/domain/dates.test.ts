import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addDays, daysOf, startOfDayIn, todayIn } from './dates.ts';

describe('startOfDayIn', () => {
  it('finds local midnight in zones behind and ahead of UTC', () => {
    assert.equal(startOfDayIn('2026-03-10', 'America/Sao_Paulo').toISOString(), '2026-03-10T03:00:00.000Z');
    assert.equal(startOfDayIn('2026-03-10', 'Asia/Tokyo').toISOString(), '2026-03-09T15:00:00.000Z');
    assert.equal(startOfDayIn('2026-03-10', 'UTC').toISOString(), '2026-03-10T00:00:00.000Z');
  });

  it('uses the offset in force at that midnight across daylight-saving changes', () => {
    // Berlin goes from +01:00 to +02:00 at 02:00 on 29 March 2026, and back on 25 October
    assert.equal(startOfDayIn('2026-03-29', 'Europe/Berlin').toISOString(), '2026-03-28T23:00:00.000Z');
    assert.equal(startOfDayIn('2026-03-30', 'Europe/Berlin').toISOString(), '2026-03-29T22:00:00.000Z');
    assert.equal(startOfDayIn('2026-10-26', 'Europe/Berlin').toISOString(), '2026-10-25T23:00:00.000Z');
  });

  it('is the first instant whose local date is that date, for every day of a year', () => {
    for (const zone of ['America/Sao_Paulo', 'America/Manaus', 'Europe/Berlin', 'America/New_York']) {
      for (let i = 0; i < 365; i++) {
        const date = addDays('2026-01-01', i);
        const start = startOfDayIn(date, zone);
        assert.equal(todayIn(zone, start), date, `${zone} ${date}`);
        assert.equal(todayIn(zone, new Date(start.getTime() - 1)), addDays(date, -1), `${zone} ${date}`);
      }
    }
  });
});

describe('daysOf', () => {
  it('lists the same days as stepping with addDays, across month ends, leap days and years (property)', () => {
    const day = fc
      .integer({ min: Date.UTC(1999, 0, 1), max: Date.UTC(2101, 11, 31) })
      .map((t) => new Date(t).toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, fc.integer({ min: -3, max: 800 }), (from, span) => {
        const to = addDays(from, span);
        const expected: string[] = [];
        for (let d = from; d <= to; d = addDays(d, 1)) expected.push(d);
        assert.deepEqual(daysOf(from, to), expected);
      }),
      { numRuns: 300 },
    );
    assert.deepEqual(daysOf('2024-02-28', '2024-03-01'), ['2024-02-28', '2024-02-29', '2024-03-01']);
    assert.deepEqual(daysOf('2100-02-28', '2100-03-01'), ['2100-02-28', '2100-03-01']);
  });
});
