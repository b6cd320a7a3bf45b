// The pure parts of reports: pt-BR formatting, WinAnsi text for the standard PDF fonts, column layout, the restock
// suggestion, stock value, the CSV shape and the schedule's arithmetic. No database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Papa from 'papaparse';
import { loadConfig } from '../src/config.ts';
import { createFormatter, shareBasisPoints } from '../src/domain/format.ts';
import { isShopflowError } from '../src/errors.ts';
import { renderCsv } from '../src/reports/csv.ts';
import { normalizeRequest, stockValue, suggestedOrder } from '../src/reports/data.ts';
import type { ReportDoc } from '../src/reports/model.ts';
import { layoutColumns, toWinAnsi } from '../src/reports/pdf.ts';
import { closedBusinessDate, closingCron, snapshotCron } from '../src/reports/schedule.ts';
import { reportKey } from '../src/reports/service.ts';
import { localStamp, snapshotKey } from '../src/reports/snapshot.ts';

const plain = (s: string) => s.replace(/\u00a0/g, ' ');

describe('pt-BR formatting', () => {
  const f = createFormatter({ locale: 'pt-BR', currency: 'BRL', timeZone: 'America/Sao_Paulo' });

  it('writes money from integer cents, exactly, however large', () => {
    assert.equal(plain(f.money(123456)), 'R$ 1.234,56');
    assert.equal(plain(f.money(5)), 'R$ 0,05');
    assert.equal(plain(f.money(-1999)), '-R$ 19,99');
    assert.equal(plain(f.money(0)), 'R$ 0,00');
    // 2^53 − 1 cents: a float division would already have lost the last digit
    assert.equal(plain(f.money(9_007_199_254_740_991)), 'R$ 90.071.992.547.409,91');
  });

  it('writes quantities in kg with grams, units without decimals, and mixed figures bare', () => {
    assert.equal(f.quantity(12345, 'KG'), '12,345 kg');
    assert.equal(f.quantity(500, 'KG'), '0,500 kg');
    assert.equal(f.quantity(12000, 'UN'), '12 un');
    assert.equal(f.quantity(-3000, 'UN'), '-3 un');
    assert.equal(f.quantity(1234567), '1.234,567');
    assert.equal(f.quantity(1_000_000, 'UN'), '1.000 un');
  });

  it('writes counts, shares, dates, periods and timestamps', () => {
    assert.equal(f.count(1234567), '1.234.567');
    assert.equal(plain(f.percent(1234)), '12,34%');
    assert.equal(plain(f.percent(10000)), '100,00%');
    assert.equal(f.date('2026-03-02'), '02/03/2026');
    assert.equal(f.period('2026-03-02', '2026-03-02'), '02/03/2026');
    assert.equal(f.period('2026-03-01', '2026-03-31'), '01/03/2026 a 31/03/2026');
    // 01:05 UTC is 22:05 of the day before in São Paulo
    assert.equal(f.dateTime(new Date('2026-03-03T01:05:00Z')), '02/03/2026 22:05');
  });

  it('follows another locale and currency when configured', () => {
    const us = createFormatter({ locale: 'en-US', currency: 'USD', timeZone: 'UTC' });
    assert.equal(us.money(123456), '$1,234.56');
    assert.equal(us.quantity(12345, 'KG'), '12.345 kg');
    assert.equal(us.period('2026-03-01', '2026-03-31'), '03/01/2026 to 03/31/2026');
  });

  it('computes shares in basis points, rounding half away from zero', () => {
    assert.equal(shareBasisPoints(1, 3), 3333);
    assert.equal(shareBasisPoints(2, 3), 6667);
    assert.equal(shareBasisPoints(1, 8), 1250);
    assert.equal(shareBasisPoints(-1, 8), -1250);
    assert.equal(shareBasisPoints(5, 0), 0);
  });
});

describe('PDF text and layout', () => {
  it('keeps Portuguese (WinAnsi) and reduces the rest to base letters or ?', () => {
    const pt = 'Açúcar, Pão Francês, Maçã Gala, Feijão – “promoção” … € 5';
    assert.equal(toWinAnsi(pt), pt);
    assert.equal(toWinAnsi('Čapek Łódź 東京 ✓'), 'Capek ?ódz ?? ?');
    assert.equal(toWinAnsi('a\tb'), 'a b');
  });

  it('gives numbers their natural width and cuts only long text columns', () => {
    // fits: text columns take the spare room, numbers a little of it
    const roomy = layoutColumns([40, 100, 50], [false, false, true], 400);
    assert.ok(Math.abs(roomy.reduce((a, b) => a + b, 0) - 400) < 1e-9);
    assert.ok(roomy[2]! >= 50);
    // too wide: the short code keeps its width, the long name is capped, the numbers are untouched
    const tight = layoutColumns([40, 400, 300, 60, 60], [false, false, false, true, true], 500);
    assert.equal(tight[0], 40);
    assert.equal(tight[3], 60);
    assert.equal(tight[4], 60);
    assert.ok(Math.abs(tight.reduce((a, b) => a + b, 0) - 500) < 1e-9);
    assert.ok(Math.abs(tight[1]! - tight[2]!) < 1e-9, 'the long columns share the rest equally');
  });
});

describe('report figures', () => {
  it('suggests whole packs up to the target level', () => {
    // 24 to reach 36, packs of 12 → 24
    assert.equal(suggestedOrder(12_000, 12_000, 36_000, 12_000), 24_000);
    // 8.549 kg short, packs of 1 kg → 9 kg
    assert.equal(suggestedOrder(2_851, 3_800, 11_400, 1_000), 9_000);
    // negative stock counts in full
    assert.equal(suggestedOrder(-4_000, 5_000, 17_000, 12_000), 24_000);
    // no target: the reorder point; at the target already: still one pack
    assert.equal(suggestedOrder(2_000, 6_000, null, 6_000), 6_000);
    assert.equal(suggestedOrder(10_000, 10_000, 10_000, 6_000), 6_000);
  });

  it('values stock at shelf price and negative stock at nothing', () => {
    assert.equal(stockValue(2_851, 3_990), 11_375); // 2,851 kg × R$ 39,90 = R$ 113,7549
    assert.equal(stockValue(1_500, 1_001), 1_502); // R$ 15,015 rounds half up
    assert.equal(stockValue(-5_000, 1_000), 0);
  });

  it('refuses bad kinds, bad periods and periods for stock reports', () => {
    const refused = (r: Parameters<typeof normalizeRequest>[0], where: string) =>
      assert.throws(
        () => normalizeRequest(r),
        (e) => isShopflowError(e) && e.kind === 'invalid_input' && e.details.some((d) => d.where === where),
      );
    refused({ kind: 'nope' as never, from: '2026-03-02' }, 'kind');
    refused({ kind: 'daily-sales', from: '2026-02-30' }, 'date');
    refused({ kind: 'daily-sales', from: '2026-03-02', to: '2026-03-01' }, 'to');
    refused({ kind: 'daily-sales', from: '2025-01-01', to: '2026-03-01' }, 'to');
    refused({ kind: 'low-stock', from: '2026-03-01', to: '2026-03-02' }, 'to');
    refused({ kind: 'best-sellers', from: '2026-03-01', top: 0 }, 'top');
    assert.deepEqual(normalizeRequest({ kind: 'best-sellers', from: '2026-03-01' }), {
      kind: 'best-sellers',
      from: '2026-03-01',
      to: '2026-03-01',
      store: undefined,
      top: 50,
    });
  });

  it('names report objects by kind, period and store or chain', () => {
    assert.equal(
      reportKey('daily-sales', '2026-03-02', '2026-03-02', 'S001', 'pdf'),
      'reports/daily-sales/2026-03-02/S001.pdf',
    );
    assert.equal(
      reportKey('best-sellers', '2026-03-02', '2026-03-08', null, 'csv'),
      'reports/best-sellers/2026-03-02_2026-03-08/chain.csv',
    );
  });
});

describe('CSV shape', () => {
  const doc = (tables: ReportDoc['tables']): ReportDoc => ({
    kind: 'daily-sales',
    title: 'Vendas do dia',
    scope: { storeId: 1, storeCode: 'S001', name: 'Loja', timezone: 'UTC' },
    from: '2026-03-02',
    to: '2026-03-02',
    generatedAt: new Date(0),
    highlights: [],
    charts: [],
    notes: [],
    tables,
  });

  it('writes one table as is, numbers as plain decimals and text defused', () => {
    const csv = renderCsv(
      doc([
        {
          id: 'p',
          title: 'p',
          columns: [
            { key: 'name', label: 'Nome', type: 'text' },
            { key: 'qty', label: 'Qtd', type: 'quantity' },
            { key: 'revenue', label: 'R', type: 'money' },
            { key: 'share', label: '%', type: 'percent' },
            { key: 'hidden', label: 'x', type: 'text', hidden: 'csv' },
          ],
          rows: [
            ['=cmd|x', -1500, -1999, 1234, 'no'],
            ['Pão, "francês"', 250, 5, 0, 'no'],
            [null, null, null, null, null],
          ],
        },
      ]),
    ).toString('utf8');
    assert.equal(
      csv,
      '\uFEFFname,qty,revenue,share\r\n\'=cmd|x,-1.500,-19.99,12.34\r\n"Pão, ""francês""",0.250,0.05,0.00\r\n,,,\r\n',
    );
  });

  it('stacks several tables under a section column with the union of their columns', () => {
    const csv = renderCsv(
      doc([
        {
          id: 'a',
          title: 'a',
          columns: [
            { key: 'k', label: 'k', type: 'text' },
            { key: 'n', label: 'n', type: 'count' },
          ],
          rows: [['x', 1]],
        },
        {
          id: 'b',
          title: 'b',
          columns: [
            { key: 'k', label: 'k', type: 'text' },
            { key: 'v', label: 'v', type: 'money' },
          ],
          rows: [['y', 250]],
        },
      ]),
    ).toString('utf8');
    const parsed = Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true });
    assert.deepEqual(parsed.data, [
      ['section', 'k', 'n', 'v'],
      ['a', 'x', '1', ''],
      ['b', 'y', '', '2.50'],
    ]);
  });
});

describe('schedule arithmetic', () => {
  it('turns closing times and snapshot intervals into crons', () => {
    assert.equal(closingCron('22:00'), '0 22 * * *');
    assert.equal(closingCron('07:05'), '5 7 * * *');
    assert.throws(() => closingCron('24:00'));
    assert.equal(snapshotCron(15), '*/15 * * * *');
    assert.equal(snapshotCron(1), '* * * * *');
    assert.equal(snapshotCron(60), '0 * * * *');
    assert.equal(snapshotCron(180), '0 */3 * * *');
    assert.equal(snapshotCron(1440), '0 0 * * *');
  });

  it('takes snapshot intervals that divide an hour or a day, and nothing else', () => {
    assert.equal(loadConfig({}).snapshotMinutes, 60);
    for (const ok of ['1', '15', '30', '120', '1440'])
      assert.equal(loadConfig({ SHOPFLOW_SNAPSHOT_MINUTES: ok }).snapshotMinutes, Number(ok));
    for (const bad of ['0', '7', '45', '90', '2880', 'x']) {
      assert.throws(
        () => loadConfig({ SHOPFLOW_SNAPSHOT_MINUTES: bad }),
        (e) => isShopflowError(e) && e.kind === 'config' && /SHOPFLOW_SNAPSHOT_MINUTES/.test(e.message),
        bad,
      );
    }
  });

  it('closes the local business day, or the day before for a closing after midnight', () => {
    // 22:00 in São Paulo is 01:00Z the next day
    assert.equal(closedBusinessDate(new Date('2026-03-11T01:00:00Z'), 'America/Sao_Paulo', '22:00'), '2026-03-10');
    assert.equal(closedBusinessDate(new Date('2026-03-11T04:30:00Z'), 'America/Sao_Paulo', '01:30'), '2026-03-10');
    assert.equal(closedBusinessDate(new Date('2026-03-10T21:00:00Z'), 'Europe/Lisbon', '21:00'), '2026-03-10');
  });

  it('names snapshots by the store’s local date and time', () => {
    assert.deepEqual(localStamp(new Date('2026-03-11T01:00:05Z'), 'America/Sao_Paulo'), {
      date: '2026-03-10',
      time: '220005',
    });
    assert.equal(snapshotKey('K01', new Date('2026-03-10T12:00:00Z'), 'UTC'), 'snapshots/K01/2026-03-10/120000.csv');
  });
});
