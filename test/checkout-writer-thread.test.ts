// SQLite checkouts are written by a worker thread with a connection of its own (src/checkout/batch-thread.ts):
//   - while another connection holds the database's write lock, a purchase waits for it without holding up the
//     server's thread (its event loop keeps turning), then is recorded once the lock is let go; had the batch run on
//     the server's own connection, its BEGIN would have failed inside the open transaction;
//   - a refusal made by the worker reaches the caller as the same error: kind, field problems, reason code;
//   - errors cross between threads with the fields the callers read;
//   - a writer that cannot open its connection answers its batches 503, and the next batch starts another.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchThread, fromWire, toWire } from '../src/checkout/batch-thread.ts';
import { registerCheckout } from '../src/checkout/checkouts.ts';
import type { Database } from '../src/db/connect.ts';
import { ShopflowError } from '../src/errors.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { receiveGoods } from '../src/inventory/operations.ts';
import { createProducts, createStores } from './support/auth.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { onHandMilli } from './support/stock.ts';

describe('errors between threads', () => {
  it('keep a ShopflowError’s kind, details and reason, and a driver error’s code and errno', () => {
    const e = fromWire(
      toWire(
        new ShopflowError('conflict', 'not enough', [{ where: 'lines[0]', problem: 'only 1 left' }], {
          reason: { code: 'not_enough_to_send', params: { sku: 'A', available: 1 } },
        }),
      ),
    );
    assert.ok(e instanceof ShopflowError);
    assert.equal(e.kind, 'conflict');
    assert.equal(e.status, 409);
    assert.equal(e.message, 'not enough');
    assert.deepEqual(e.details, [{ where: 'lines[0]', problem: 'only 1 left' }]);
    assert.deepEqual(e.reason, { code: 'not_enough_to_send', params: { sku: 'A', available: 1 } });

    const driver = Object.assign(new Error('UNIQUE constraint failed'), {
      code: 'SQLITE_CONSTRAINT_UNIQUE',
      errno: 2067,
    });
    const back = fromWire(toWire(driver)) as Error & { code?: string; errno?: number };
    assert.ok(!(back instanceof ShopflowError));
    assert.equal(back.message, 'UNIQUE constraint failed');
    assert.equal(back.code, 'SQLITE_CONSTRAINT_UNIQUE');
    assert.equal(back.errno, 2067);
    assert.equal(fromWire(toWire('plain text')).message, 'plain text');
  });
});

describe('a writer thread that cannot work', () => {
  it('answers its batches 503 and starts again with the next one', async () => {
    const closing: Array<() => Promise<void>> = [];
    // a database the worker cannot open: its folder would be where a file is
    const dir = mkdtempSync(join(tmpdir(), 'shopflow-writer-'));
    writeFileSync(join(dir, 'not-a-folder'), '');
    const database = {
      url: `sqlite:${join(dir, 'not-a-folder', 'shop.db')}`,
      options: {},
      onClose: (fn: () => Promise<void>) => closing.push(fn),
    } as unknown as Database;
    const thread = new BatchThread<number, number>(database);
    for (const attempt of [1, 2]) {
      await assert.rejects(thread.commit([attempt]), (e: unknown) => {
        assert.ok(e instanceof ShopflowError, String(e));
        assert.equal(e.status, 503);
        assert.match(e.message, /checkout writer failed .*not-a-folder/);
        return true;
      });
    }
    assert.equal(closing.length, 1, 'the thread stops with its database');
    for (const fn of closing) await fn();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('SQLite checkouts written by a worker thread', () => {
  let t: TestServer;
  const database = () => t.app.ctx.database;
  const buy = (lines: Array<{ sku: string; quantity?: number }>) =>
    registerCheckout(
      database(),
      { store: 'W01', paymentMethod: 'pix', lines },
      { actor: 'kiosk:W01', idempotencyKey: randomUUID() },
    );

  before(async () => {
    t = await startTestServer('sqlite');
    await createStores(t, ['W01'], 'selfservice');
    await createProducts(t, ['W1']);
    await receiveGoods(database(), 'W01', { reference: 'NF-W', lines: [{ sku: 'W1', quantity: 10 }] }, 'test');
  });
  after(async () => t?.close());

  it('waits for another connection’s write lock without holding up the server’s thread', async () => {
    const before = await onHandMilli(database().db, 'W01', 'W1');
    await buy([{ sku: 'W1' }]); // the worker is started and has its connection
    const raw = database().sqlite!;
    raw.exec('begin immediate');
    let settled = false;
    const pending = buy([{ sku: 'W1', quantity: 2 }]).finally(() => {
      settled = true;
    });
    let turns = 0;
    try {
      // the event loop keeps turning while the purchase waits for the lock
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 5));
        turns++;
      }
      assert.equal(settled, false, 'the purchase cannot commit while the lock is held');
    } finally {
      raw.exec('commit');
    }
    assert.equal(turns, 20);
    const view = await pending;
    assert.equal(view.statusCode, 201);
    assert.equal(await onHandMilli(database().db, 'W01', 'W1'), before - 3000);
    assert.deepEqual(await ledgerMismatches(database().db), []);
  });

  it('answers a refusal the worker made as the same error', async () => {
    await assert.rejects(buy([{ sku: 'W1', quantity: 1000 }]), (e: unknown) => {
      assert.ok(e instanceof ShopflowError, String(e));
      assert.equal(e.kind, 'conflict');
      assert.match(e.details.map((d) => d.where).join(' '), /W1|lines/);
      return true;
    });
    await assert.rejects(buy([{ sku: 'NOPE' }]), (e: unknown) => {
      assert.ok(e instanceof ShopflowError, String(e));
      assert.equal(e.status, 400);
      assert.deepEqual(e.details, [{ where: 'lines/0', problem: 'there is no product with SKU NOPE' }]);
      return true;
    });
  });
});
