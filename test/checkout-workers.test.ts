// Reliability check 11, the last units, across processes: four `shopflow serve` processes share one database (a
// SQLite file; a MariaDB schema); a product has 10 units; 200 single-unit purchases are sent at once, spread over the
// four servers, and this is repeated. Exactly 10 succeed, the other 190 are refused with 409, stock ends at 0 and the
// ledger holds. A mixed-quantity variant (1–3 units each) never takes stock below zero, and once a single unit was
// refused nothing is left. Each process has its own group commit, so the database's locking alone keeps them apart.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inTransaction, nowIso } from '../src/db/tx.ts';
import { applyMovements, ledgerMismatches } from '../src/inventory/ledger.ts';
import { createToken } from '../src/users/tokens.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

const SERVERS = 4;
const BUYERS = 200;
const STOCK = 10;
const REPETITIONS = 50;
const MIXED_REPETITIONS = 10;

async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/shopflow.js', 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a server did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`a server exited (${code}) before listening: ${out}`)));
  });
  return { url, child };
}

for (const dialect of backends()) {
  describe(`the last units across ${SERVERS} server processes on ${dialect}`, () => {
    let t: TestDatabase;
    let dir: string;
    let servers: Array<{ url: string; child: ChildProcess }> = [];
    let token: string;
    let storeId: number;
    let productId: number;

    const onHand = async () =>
      Number(
        (
          await t.database.db
            .selectFrom('stock_balances')
            .select('on_hand_milli')
            .where('store_id', '=', storeId)
            .where('product_id', '=', productId)
            .executeTakeFirstOrThrow()
        ).on_hand_milli,
      );
    const restock = async (units: number) => {
      const delta = units * 1000 - (await onHand());
      await inTransaction(t.database, (trx) =>
        applyMovements(trx, [
          { storeId, productId, kind: 'adjustment', deltaMilli: delta, ref: `test:${randomUUID()}`, reason: 'count' },
        ]),
      );
    };
    const buy = async (i: number, quantity: number) => {
      const r = await fetch(`${servers[i % SERVERS]!.url}/api/v1/checkouts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({ store: 'LAST', paymentMethod: 'cash', lines: [{ sku: 'LAST1', quantity }] }),
      });
      await r.arrayBuffer();
      return r.status;
    };

    before(async () => {
      t = await createTestDatabase(dialect);
      dir = mkdtempSync(join(tmpdir(), 'shopflow-workers-'));
      const now = nowIso();
      const db = t.database.db;
      await db
        .insertInto('stores')
        .values({
          code: 'LAST',
          name: 'Last units',
          kind: 'selfservice',
          city: null,
          timezone: 'America/Sao_Paulo',
          scale_profile: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await db
        .insertInto('products')
        .values({
          sku: 'LAST1',
          ean: null,
          name: 'The last product',
          category: 'x',
          unit: 'UN',
          price_cents: 500,
          supplier: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      storeId = Number((await db.selectFrom('stores').select('id').executeTakeFirstOrThrow()).id);
      productId = Number((await db.selectFrom('products').select('id').executeTakeFirstOrThrow()).id);
      await inTransaction(t.database, (trx) =>
        applyMovements(trx, [
          { storeId, productId, kind: 'receipt', deltaMilli: 1000, ref: 'test:opening', reason: 'opening' },
        ]),
      );
      token = (await createToken(t.database, { store: 'LAST', purpose: 'kiosk' }, 'test')).token;
      servers = await Promise.all(
        Array.from({ length: SERVERS }, (_, i) =>
          startServer({
            SHOPFLOW_DATABASE_URL: t.url,
            SHOPFLOW_DATA_DIR: join(dir, String(i)),
            SHOPFLOW_DEMO: 'false',
            SHOPFLOW_PORT: '0',
            SHOPFLOW_LOG_LEVEL: 'warn',
          }),
        ),
      );
    });
    after(async () => {
      await Promise.all(
        servers.map(async ({ child }) => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }),
      );
      await t?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(`sells exactly ${STOCK} of ${BUYERS} single units, ${REPETITIONS} times`, async () => {
      for (let rep = 0; rep < REPETITIONS; rep++) {
        await restock(STOCK);
        const statuses = await Promise.all(Array.from({ length: BUYERS }, (_, i) => buy(i, 1)));
        const count = (s: number) => statuses.filter((x) => x === s).length;
        assert.deepEqual(
          { sold: count(201), refused: count(409), other: BUYERS - count(201) - count(409) },
          { sold: STOCK, refused: BUYERS - STOCK, other: 0 },
          `repetition ${rep}`,
        );
        assert.equal(await onHand(), 0, `repetition ${rep}: stock ends at zero`);
      }
      assert.deepEqual(await ledgerMismatches(t.database.db), [], 'every balance equals the sum of its movements');
    });

    it('never goes below zero with mixed quantities, and a refused single unit means none was left', async () => {
      for (let rep = 0; rep < MIXED_REPETITIONS; rep++) {
        await restock(STOCK);
        const quantities = Array.from({ length: BUYERS }, (_, i) => 1 + ((i * 7 + rep) % 3));
        const statuses = await Promise.all(quantities.map((q, i) => buy(i, q)));
        assert.ok(
          statuses.every((s) => s === 201 || s === 409),
          `repetition ${rep}: ${statuses.filter((s) => s !== 201 && s !== 409)}`,
        );
        const sold = quantities.reduce((a, q, i) => a + (statuses[i] === 201 ? q : 0), 0);
        const left = (await onHand()) / 1000;
        assert.ok(left >= 0, `repetition ${rep}: ${left} left`);
        assert.equal(sold, STOCK - left, `repetition ${rep}: what was sold is what left the shelf`);
        if (quantities.some((q, i) => q === 1 && statuses[i] === 409)) assert.equal(left, 0, `repetition ${rep}`);
      }
      assert.deepEqual(await ledgerMismatches(t.database.db), []);
    });
  });
}
