import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AggregateLine, DayAggregate, itemsOf } from './day-aggregate.ts';

const UN = { unit: 'UN', category: 'Mercearia' } as const;
const KG = { unit: 'KG', category: 'Hortifruti' } as const;
const line = (receiptId: string, productId: number, q: number, cents: number, pay: string | null = 'pix') =>
  ({ receiptId, productId, quantityMilli: q, totalCents: cents, paymentMethod: pay }) satisfies AggregateLine;

describe('DayAggregate', () => {
  it('sums every grouping, one ticket per receipt and group', () => {
    const a = new DayAggregate();
    a.add(line('R1', 1, 2000, 1000), UN);
    a.add(line('R1', 1, 1000, 500), UN); // the same product twice on one receipt: still one ticket
    a.add(line('R1', 2, 1250, 900), KG);
    a.add(line('R2', 2, 500, 400, 'cash'), KG);
    a.add(line('R3', 1, -1000, -500, null), UN); // a return, unknown payment
    assert.equal(a.receiptRuns, 3);
    assert.deepEqual(a.byProduct.get(1)!.f, [2000, 1000, 3, 2, 2, 1500, 3000]);
    assert.deepEqual(a.byProduct.get(2)!.f, [1750, 1300, 2, 2, 2, 1300, 1750]);
    assert.deepEqual(a.byPayment.get('pix')!.f.slice(0, 5), [4250, 2400, 3, 1, 4]);
    assert.deepEqual(a.byPayment.get('unknown')!.f.slice(0, 5), [-1000, -500, 1, 1, -1]);
    assert.deepEqual(a.byCategory.get('Hortifruti')!.f.slice(0, 5), [1750, 1300, 2, 2, 2]);
    assert.deepEqual(a.byCategoryPayment.get('Mercearia\u0000pix')!.f.slice(0, 5), [3000, 1500, 2, 1, 3]);
    assert.deepEqual(a.whole.f.slice(0, 5), [3750, 2300, 5, 3, 4]);
    assert.equal(a.lineCount, 5);
  });

  it('counts a receipt that comes back later as a new run, so the caller can tell the counts are not exact', () => {
    const a = new DayAggregate();
    for (const r of ['R1', 'R2', 'R1']) a.add(line(r, 1, 1000, 100), UN);
    assert.equal(a.receiptRuns, 3, 'three runs for two receipts');
    assert.equal(a.byProduct.get(1)!.f[3], 3);
  });

  it('counts whole units toward zero and a weighed line as one item', () => {
    assert.equal(itemsOf('UN', 2999), 2);
    assert.equal(itemsOf('UN', -1500), -1);
    assert.equal(itemsOf('KG', 250), 1);
    assert.equal(itemsOf('KG', -250), -1);
  });
});
