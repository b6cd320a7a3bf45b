// The roll-ups behind the sales API, on SQLite and MariaDB: whatever sequence of receipts added one by one
// (addReceiptToRollups, the checkout's way), days recomputed after their lines changed (recomputeDailyRollup, the
// ingest's way, including a day that lost products or all its lines) and full rebuilds, every roll-up table equals
// its lines (rollupMismatches, with today's categories) and the three ways give the same rows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../src/db/connect.ts';
import { inTransaction, nowIso } from '../src/db/tx.ts';
import { addReceiptToRollups, rebuildAllRollups, recomputeDailyRollup, rollupMismatches } from '../src/sales/rollup.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

const TABLES = [
  'sales_daily',
  'sales_daily_store',
  'sales_daily_payment',
  'sales_daily_category',
  'sales_daily_category_payment',
  'sales_monthly',
  'sales_monthly_store',
  'sales_monthly_payment',
  'sales_monthly_category',
  'sales_monthly_category_payment',
  'sales_chain_daily',
  'sales_chain_monthly',
  'sales_chain_daily_total',
  'sales_chain_monthly_total',
  'sales_chain_daily_payment',
  'sales_chain_monthly_payment',
  'sales_chain_daily_category',
  'sales_chain_monthly_category',
];

const DATES = ['2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02'];
const PAYMENTS = ['cash', 'pix', null] as const;

interface LineSpec {
  product: number;
  quantityMilli: number;
  totalCents: number;
}

for (const dialect of backends()) {
  describe(`sales roll-ups on ${dialect}`, () => {
    let tdb: TestDatabase;
    let database: Database;
    const products: Array<{ id: number; unit: 'UN' | 'KG' }> = [];
    const stores: number[] = [];
    let receipt = 0;

    before(async () => {
      tdb = await createTestDatabase(dialect);
      database = tdb.database;
      const now = nowIso();
      for (const code of ['R1', 'R2']) {
        const r = await database.db
          .insertInto('stores')
          .values({
            code,
            name: code,
            kind: 'selfservice',
            city: null,
            timezone: 'UTC',
            scale_profile: null,
            created_at: now,
            updated_at: now,
          })
          .executeTakeFirstOrThrow();
        stores.push(Number(r.insertId));
      }
      const specs: Array<[string, 'UN' | 'KG', string | null]> = [
        ['A', 'UN', 'Bebidas'],
        ['B', 'UN', 'Bebidas'],
        ['C', 'KG', 'Hortifruti'],
        ['D', 'UN', null],
        ['E', 'KG', 'Padaria'],
      ];
      for (const [sku, unit, category] of specs) {
        const r = await database.db
          .insertInto('products')
          .values({
            sku,
            ean: null,
            name: sku,
            category,
            unit,
            price_cents: 100,
            supplier: null,
            created_at: now,
            updated_at: now,
          })
          .executeTakeFirstOrThrow();
        products.push({ id: Number(r.insertId), unit });
      }
    });
    after(async () => tdb?.drop());

    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const t of TABLES) {
        const rows = (await sql<Record<string, unknown>>`select * from ${sql.raw(t)}`.execute(database.db)).rows;
        out[t] = rows
          .map((r) =>
            JSON.stringify(
              Object.fromEntries(
                Object.entries(r).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'bigint' ? Number(v) : v]),
              ),
            ),
          )
          .sort();
      }
      return out;
    };
    const check = async (label: string) =>
      assert.deepEqual(await rollupMismatches(database.db, { exactCategories: true }), [], label);

    /** A receipt as the checkout writes it: its lines, then its deltas. */
    async function addReceipt(store: number, date: string, payment: string | null, lines: LineSpec[]) {
      const id = `T${++receipt}`;
      await inTransaction(database, async (trx) => {
        await trx
          .insertInto('sales_lines')
          .values(
            lines.map((l, i) => ({
              store_id: store,
              business_date: date,
              source: 'checkout' as const,
              file_id: null,
              checkout_id: null,
              receipt_id: id,
              line_no: i + 1,
              sold_at: null,
              hour: null,
              product_id: products[l.product]!.id,
              quantity_milli: l.quantityMilli,
              unit_price_cents: 0,
              discount_cents: 0,
              total_cents: l.totalCents,
              payment_method: payment,
            })),
          )
          .execute();
        await addReceiptToRollups(trx, {
          storeId: store,
          businessDate: date,
          paymentMethod: payment,
          lines: lines.map((l) => ({
            productId: products[l.product]!.id,
            quantityMilli: l.quantityMilli,
            totalCents: l.totalCents,
          })),
        });
      });
    }

    const lineArb = fc
      .tuple(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -2, max: 5 }),
        fc.integer({ min: 1, max: 2999 }),
        fc.integer({ min: -500, max: 5000 }),
      )
      .map(([product, units, grams, total]): LineSpec => {
        const kg = products[product]!.unit === 'KG';
        const sign = units < 0 ? -1 : 1;
        return { product, quantityMilli: kg ? sign * grams : (units === 0 ? 1 : units) * 1000, totalCents: total };
      });
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('receipt' as const),
        store: fc.integer({ min: 0, max: 1 }),
        date: fc.constantFrom(...DATES),
        payment: fc.constantFrom(...PAYMENTS),
        lines: fc.array(lineArb, { minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        kind: fc.constant('drop-product' as const),
        store: fc.integer({ min: 0, max: 1 }),
        date: fc.constantFrom(...DATES),
        product: fc.integer({ min: 0, max: 4 }),
      }),
      fc.record({
        kind: fc.constant('drop-day' as const),
        store: fc.integer({ min: 0, max: 1 }),
        date: fc.constantFrom(...DATES),
      }),
    );

    it('keeps every roll-up equal to the lines through receipts, replaced days and emptied days (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 14 }), async (ops) => {
          for (const o of ops) {
            const store = stores[o.store]!;
            if (o.kind === 'receipt') await addReceipt(store, o.date, o.payment, o.lines);
            else {
              // what a replacing file does to a day: its lines change, then the day is recomputed
              await inTransaction(database, async (trx) => {
                let q = trx.deleteFrom('sales_lines').where('store_id', '=', store).where('business_date', '=', o.date);
                if (o.kind === 'drop-product') q = q.where('product_id', '=', products[o.product]!.id);
                await q.execute();
                await recomputeDailyRollup(trx, store, o.date);
              });
            }
          }
          await check(`after ${ops.map((o) => o.kind).join(', ')}`);
          const incremental = await snapshot();
          for (const s of stores) {
            for (const d of DATES) await inTransaction(database, (trx) => recomputeDailyRollup(trx, s, d));
          }
          assert.deepEqual(await snapshot(), incremental, 'recomputing every day changes nothing');
          await inTransaction(database, (trx) => rebuildAllRollups(trx));
          assert.deepEqual(await snapshot(), incremental, 'a full rebuild gives the same rows');
        }),
        { numRuns: 12, seed: 7 },
      );
    });

    it('leaves no row behind for a day whose lines are all gone', async () => {
      await inTransaction(database, async (trx) => {
        await trx.deleteFrom('sales_lines').execute();
        for (const s of stores) for (const d of DATES) await recomputeDailyRollup(trx, s, d);
      });
      for (const t of TABLES) {
        const n = (await sql<{ n: number }>`select count(*) as n from ${sql.raw(t)}`.execute(database.db)).rows[0]!;
        assert.equal(Number(n.n), 0, t);
      }
    });
  });
}
