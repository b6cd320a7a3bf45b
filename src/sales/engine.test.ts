import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Scope, sourceFor } from './engine.ts';

const chain: Scope = { allStoreIds: [1, 2, 3] };
const two: Scope = { storeIds: [1, 2], allStoreIds: [1, 2, 3] };

describe('sourceFor', () => {
  it('reads the chain-wide tables for every store, unless the answer is by store', () => {
    assert.deepEqual(sourceFor(chain, 'day'), { kind: 'rollup', family: 'store', chain: true });
    assert.deepEqual(sourceFor(chain, 'none'), { kind: 'rollup', family: 'store', chain: true });
    assert.deepEqual(sourceFor(chain, 'category'), { kind: 'rollup', family: 'category', chain: true });
    assert.deepEqual(sourceFor({ ...chain, payment: 'pix' }, 'month'), {
      kind: 'rollup',
      family: 'payment',
      chain: true,
    });
    assert.deepEqual(sourceFor(chain, 'product'), { kind: 'rollup', family: 'product', chain: true });
    assert.deepEqual(sourceFor(chain, 'store'), { kind: 'rollup', family: 'store', chain: false });
  });

  it("reads the stores' own tables for some stores, and for category with payment (no chain twin)", () => {
    assert.deepEqual(sourceFor(two, 'day'), { kind: 'rollup', family: 'store', chain: false });
    assert.deepEqual(sourceFor(two, 'category'), { kind: 'rollup', family: 'category', chain: false });
    assert.deepEqual(sourceFor({ ...chain, category: 'Bebidas' }, 'payment'), {
      kind: 'rollup',
      family: 'category_payment',
      chain: false,
    });
  });

  it('sums the lines for product with payment', () => {
    assert.deepEqual(sourceFor({ ...chain, payment: 'pix' }, 'product'), { kind: 'lines' });
  });
});
