import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backends, createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { isShopflowError } from '../errors.ts';
import { Scheduler } from './scheduler.ts';

function clock(start: string) {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    set(iso: string) {
      t = new Date(iso).getTime();
    },
  };
}

const iso = (d: Date) => d.toISOString();

describe('Scheduler time zones', () => {
  // no database is touched by nextRuns
  const database = {} as never;

  it('reads a daily 23:00 in America/Sao_Paulo (UTC−3, no DST since 2019) as 02:00Z the next day', () => {
    const c = clock('2026-03-10T01:59:59Z');
    const s = new Scheduler(database, { now: c.now });
    s.add({ name: 'daily', cron: '0 23 * * *', timezone: 'America/Sao_Paulo', run: async () => {} });
    assert.deepEqual(s.nextRuns('daily', 2).map(iso), ['2026-03-10T02:00:00.000Z', '2026-03-11T02:00:00.000Z']);
    // in January 2019 São Paulo still kept summer time (UTC−2)
    c.set('2019-01-10T00:00:00Z');
    assert.deepEqual(s.nextRuns('daily', 1).map(iso), ['2019-01-10T01:00:00.000Z']);
  });

  it('takes a fixed UTC offset and UTC itself', () => {
    const c = clock('2026-03-10T00:00:00Z');
    const s = new Scheduler(database, { now: c.now });
    s.add({ name: 'offset', cron: '0 23 * * *', timezone: '-03:00', run: async () => {} });
    s.add({ name: 'utc', cron: '0 23 * * *', timezone: 'UTC', run: async () => {} });
    s.add({ name: 'plus', cron: '30 6 * * *', timezone: '+05:30', run: async () => {} });
    assert.deepEqual(s.nextRuns('offset', 1).map(iso), ['2026-03-10T02:00:00.000Z']);
    assert.deepEqual(s.nextRuns('utc', 1).map(iso), ['2026-03-10T23:00:00.000Z']);
    assert.deepEqual(s.nextRuns('plus', 1).map(iso), ['2026-03-10T01:00:00.000Z']);
  });

  it('follows a zone with DST across its change', () => {
    const c = clock('2026-03-07T12:00:00Z');
    const s = new Scheduler(database, { now: c.now });
    s.add({ name: 'ny', cron: '0 23 * * *', timezone: 'America/New_York', run: async () => {} });
    // EST (UTC−5) until 8 March 2026, then EDT (UTC−4)
    assert.deepEqual(s.nextRuns('ny', 2).map(iso), ['2026-03-08T04:00:00.000Z', '2026-03-09T03:00:00.000Z']);
  });

  it('refuses a bad cron, a bad zone, a duplicate and an unknown name', () => {
    const s = new Scheduler(database);
    const run = async () => {};
    assert.throws(
      () => s.add({ name: 'a', cron: '0 23 * *', timezone: 'UTC', run }),
      (e) => isShopflowError(e) && e.kind === 'invalid_input' && /job a/.test(e.message),
    );
    assert.throws(
      () => s.add({ name: 'b', cron: '0 23 * * *', timezone: 'Mars/Olympus', run }),
      (e) => isShopflowError(e) && /Mars\/Olympus/.test(e.message),
    );
    s.add({ name: 'c', cron: '0 23 * * *', timezone: 'UTC', run });
    assert.throws(() => s.add({ name: 'c', cron: '0 1 * * *', timezone: 'UTC', run }), /already scheduled/);
    assert.throws(
      () => s.nextRuns('nope', 1),
      (e) => isShopflowError(e) && e.kind === 'not_found',
    );
  });
});

for (const dialect of backends()) {
  describe(`Scheduler on ${dialect}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => t?.drop());
    beforeEach(async () => {
      await t.database.db.deleteFrom('scheduler_runs').execute();
    });

    const rowsOf = (job: string) =>
      t.database.db.selectFrom('scheduler_runs').selectAll().where('job', '=', job).orderBy('slot').execute();

    it('fires a 23:00 São Paulo job at 02:00Z the next day, once', async () => {
      const c = clock('2026-03-10T01:59:59Z');
      const s = new Scheduler(t.database, { now: c.now });
      const slots: string[] = [];
      s.add({
        name: 'close',
        cron: '0 23 * * *',
        timezone: 'America/Sao_Paulo',
        catchUp: false,
        run: async (slot) => {
          slots.push(iso(slot));
        },
      });
      await s.tick();
      assert.deepEqual(slots, [], 'not before 02:00Z');
      c.set('2026-03-10T02:00:00Z');
      await s.tick();
      assert.deepEqual(slots, ['2026-03-10T02:00:00.000Z']);
      c.set('2026-03-10T02:00:30Z');
      await s.tick();
      assert.equal(slots.length, 1, 'a slot runs once');
      const rows = await rowsOf('close');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.slot, '2026-03-10T02:00:00.000Z');
      assert.equal(rows[0]?.started_at, '2026-03-10T02:00:00.000Z');
      assert.ok(rows[0]?.finished_at);
      assert.equal(rows[0]?.error, null);
    });

    it('after an outage, runs every day missed since its last run, oldest first, up to catchUpDays back', async () => {
      const ran: string[] = [];
      const job = (s: Scheduler) =>
        s.add({
          name: 'closing',
          cron: '0 23 * * *',
          timezone: 'America/Sao_Paulo',
          catchUpDays: 7,
          run: async (slot) => {
            ran.push(iso(slot));
          },
        });
      // a new job starts with its latest slot only
      const c = clock('2026-03-10T02:30:00Z');
      const first = new Scheduler(t.database, { now: c.now });
      job(first);
      await first.tick();
      assert.deepEqual(ran, ['2026-03-10T02:00:00.000Z']);
      // the server is down for three days; a new process starts on the fourth
      c.set('2026-03-13T10:00:00Z');
      const second = new Scheduler(t.database, { now: c.now });
      job(second);
      await second.tick();
      assert.deepEqual(ran.slice(1), [
        '2026-03-11T02:00:00.000Z',
        '2026-03-12T02:00:00.000Z',
        '2026-03-13T02:00:00.000Z',
      ]);
      await second.tick();
      assert.equal(ran.length, 4, 'each slot once');
      // a month-long outage catches up only the last 7 days
      c.set('2026-04-20T03:00:00Z');
      const third = new Scheduler(t.database, { now: c.now });
      job(third);
      await third.tick();
      assert.deepEqual(ran.slice(4), [
        '2026-04-14T02:00:00.000Z',
        '2026-04-15T02:00:00.000Z',
        '2026-04-16T02:00:00.000Z',
        '2026-04-17T02:00:00.000Z',
        '2026-04-18T02:00:00.000Z',
        '2026-04-19T02:00:00.000Z',
        '2026-04-20T02:00:00.000Z',
      ]);
      assert.equal((await rowsOf('closing')).length, 11);
    });

    it('fires at 02:00Z for a fixed −03:00 offset too', async () => {
      const c = clock('2026-07-01T01:00:00Z');
      const s = new Scheduler(t.database, { now: c.now });
      const slots: string[] = [];
      s.add({
        name: 'offset',
        cron: '0 23 * * *',
        timezone: '-03:00',
        catchUp: false,
        run: async (slot) => {
          slots.push(iso(slot));
        },
      });
      await s.tick();
      c.set('2026-07-01T02:00:05Z');
      await s.tick();
      assert.deepEqual(slots, ['2026-07-01T02:00:00.000Z']);
    });

    it('runs a slot once when two instances tick it at the same time', async () => {
      const c = clock('2026-03-10T01:59:00Z');
      let runs = 0;
      const make = () => {
        const s = new Scheduler(t.database, { now: c.now });
        s.add({
          name: 'shared',
          cron: '0 23 * * *',
          timezone: 'America/Sao_Paulo',
          catchUp: false,
          run: async () => {
            runs++;
            await sleep(20);
          },
        });
        return s;
      };
      const a = make();
      const b = make();
      await Promise.all([a.tick(), b.tick()]);
      c.set('2026-03-10T02:00:00Z');
      await Promise.all([a.tick(), b.tick()]);
      await Promise.all([a.tick(), b.tick()]);
      assert.equal(runs, 1);
      assert.equal((await rowsOf('shared')).length, 1);
    });

    it('catches up the most recent missed slot of the last 24 h once, across restarts, unless told not to', async () => {
      const c = clock('2026-03-10T05:00:00Z');
      const slots: string[] = [];
      const job = (name: string, catchUp?: boolean, cron = '0 23 * * *') => ({
        name,
        cron,
        timezone: 'America/Sao_Paulo',
        ...(catchUp === undefined ? {} : { catchUp }),
        run: async (slot: Date) => {
          slots.push(`${name}@${iso(slot)}`);
        },
      });
      const first = new Scheduler(t.database, { now: c.now });
      first.add(job('catch'));
      first.add(job('nocatch', false));
      // Thursdays 23:00 local: at Tuesday 10 March its latest slot (6 March 02:00Z) is four days old
      first.add(job('weekly', true, '0 23 * * 4'));
      await first.tick();
      assert.deepEqual(slots, ['catch@2026-03-10T02:00:00.000Z']);

      const restarted = new Scheduler(t.database, { now: c.now });
      restarted.add(job('catch'));
      await restarted.tick();
      assert.equal(slots.length, 1, 'a restart does not run the slot again');
      assert.equal((await rowsOf('catch')).length, 1);
      assert.equal((await rowsOf('weekly')).length, 0, 'a slot older than 24 h is not caught up');
    });

    it('records a failed run with its error and does not retry the slot', async () => {
      const c = clock('2026-03-10T02:00:00Z');
      const s = new Scheduler(t.database, { now: c.now });
      let runs = 0;
      s.add({
        name: 'broken',
        cron: '0 23 * * *',
        timezone: 'America/Sao_Paulo',
        run: async () => {
          runs++;
          throw new Error('report bucket unreachable');
        },
      });
      await s.tick();
      await s.tick();
      assert.equal(runs, 1);
      const [row] = await rowsOf('broken');
      assert.match(row?.error ?? '', /report bucket unreachable/);
      assert.ok(row?.finished_at);
    });

    it('start() fires due slots on its own timer and stop() ends it', async () => {
      const s = new Scheduler(t.database);
      const slots: number[] = [];
      s.add({
        name: 'every-second',
        cron: '* * * * * *',
        timezone: 'UTC',
        run: async (slot) => {
          slots.push(slot.getTime());
        },
      });
      s.start();
      await sleep(2300);
      await s.stop();
      const count = slots.length;
      assert.ok(count >= 2 && count <= 4, `ran ${count} times in 2.3 s`);
      assert.equal(new Set(slots).size, count);
      assert.ok(slots.every((ms) => ms % 1000 === 0));
      assert.equal((await rowsOf('every-second')).length, count);
      await sleep(1100);
      assert.equal(slots.length, count, 'nothing runs after stop()');
    });
  });
}
