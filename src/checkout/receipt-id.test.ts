import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newReceiptId } from './receipt-id.ts';

describe('newReceiptId', () => {
  it('gives unique ids that sort in the order they were made, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newReceiptId());
    for (const id of ids) assert.match(id, /^CK-[0-9A-Z]{18}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
  });
});
