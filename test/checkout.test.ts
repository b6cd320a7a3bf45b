// Self-checkout over real HTTP on SQLite and MariaDB: product lookup (barcodes, SKUs, weight and price scale
// labels), purchases with the stock refusal of self-service stores, Idempotency-Key replays, voids, and who may do
// what. After every scenario the ledger (balance = Σ movements) and the roll-up (= Σ sales lines) must hold.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { expireKeys } from '../src/checkout/idempotency.ts';
import { nowIso } from '../src/db/tx.ts';
import { todayIn } from '../src/domain/dates.ts';
import { gtinCheckDigit } from '../src/domain/gtin.ts';
import { encodeScaleLabel, type ScaleProfile } from '../src/domain/scale-label.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { receiveGoods } from '../src/inventory/operations.ts';
import { salesBy } from '../src/sales/queries.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import { createStores, createTokenHeaders, createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { onHandMilli } from './support/stock.ts';

const ean = (body12: string) => body12 + gtinCheckDigit(body12);
const WATER = {
  sku: 'W001',
  ean: ean('789100000001'),
  name: 'Água mineral 500 ml',
  unit: 'UN',
  price: 250,
  category: 'bebidas',
} as const;
const CHOC = {
  sku: 'C001',
  ean: ean('789100000002'),
  name: 'Chocolate 90 g',
  unit: 'UN',
  price: 799,
  category: 'doces',
} as const;
const CHEESE = { sku: 'P000123', ean: null, name: 'Queijo prato', unit: 'KG', price: 2490, category: 'frios' } as const;
const HAM = { sku: 'P004567', ean: null, name: 'Presunto cozido', unit: 'KG', price: 3990, category: 'frios' } as const;
const PRODUCTS = [WATER, CHOC, CHEESE, HAM];

const WEIGHT_PROFILE: ScaleProfile = {
  prefix: '2',
  codeLength: 4,
  mode: 'weight',
  decimals: 3,
  skuPrefix: 'P',
  skuDigits: 6,
};
const PRICE_PROFILE: ScaleProfile = {
  prefix: '20',
  codeLength: 5,
  mode: 'price',
  decimals: 2,
  skuPrefix: 'P',
  skuDigits: 6,
};

for (const dialect of backends()) {
  describe(`self-checkout on ${dialect}`, () => {
    let t: TestServer;
    let kiosk: Record<string, string>;
    let kioskOther: Record<string, string>;
    let manager: LoggedInUser;
    let clerk: LoggedInUser;
    const api = (path: string) => `${t.baseUrl}/api/v1${path}`;
    const db = () => t.app.ctx.database.db;

    const invariants = async () => {
      assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
      assert.deepEqual(await rollupMismatches(db()), [], 'the roll-up equals the sum of the sales lines');
    };
    const onHand = (store: string, sku: string) => onHandMilli(db(), store, sku, { missing: 0 });
    const buy = (body: unknown, key: string = randomUUID(), headers = kiosk) =>
      fetch(api('/checkouts'), {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
    const receive = (store: string, sku: string, quantity: number | string) =>
      receiveGoods(
        t.app.ctx.database,
        store,
        { reference: `NF-${randomUUID().slice(0, 8)}`, lines: [{ sku, quantity }] },
        'test',
      );

    before(async () => {
      t = await startTestServer(dialect);
      await createStores(t, ['K01', 'K02'], 'selfservice');
      await createStores(t, ['F01'], 'file');
      const now = nowIso();
      await db()
        .insertInto('products')
        .values(
          PRODUCTS.map((p) => ({
            sku: p.sku,
            ean: p.ean,
            name: p.name,
            category: p.category,
            unit: p.unit,
            price_cents: p.price,
            supplier: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      kiosk = await createTokenHeaders(t, { store: 'K01', purpose: 'kiosk' });
      kioskOther = await createTokenHeaders(t, { store: 'K02', purpose: 'kiosk' });
      manager = await createUserAndLogin(t, { role: 'manager', stores: ['K01', 'F01'] });
      clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['K01'] });
      await receive('K01', WATER.sku, 50);
      await receive('K01', CHOC.sku, 5);
      await receive('K01', CHEESE.sku, '10.000');
      await receive('K01', HAM.sku, 4);
    });
    after(async () => t?.close());

    describe('scale labels', () => {
      const setProfile = async (profile: ScaleProfile | null) => {
        const r = await fetch(api('/checkouts/scale-profile'), {
          method: 'PUT',
          headers: manager.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ store: 'K01', profile }),
        });
        assert.equal(r.status, 200, await r.text());
      };
      const lookup = (code: string, headers: Record<string, string> = kiosk) =>
        fetch(api(`/checkouts/products?store=K01&code=${code}`), { headers });

      it('a manager sets the profile; a clerk or a kiosk may not; a wrong field is named', async () => {
        await setProfile(WEIGHT_PROFILE);
        const got = await fetch(api('/checkouts/scale-profile?store=K01'), { headers: clerk.headers() });
        assert.deepEqual(await got.json(), { store: 'K01', profile: WEIGHT_PROFILE });
        const byClerk = await fetch(api('/checkouts/scale-profile'), {
          method: 'PUT',
          headers: clerk.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ store: 'K01', profile: WEIGHT_PROFILE }),
        });
        assert.equal(byClerk.status, 403);
        const byKiosk = await fetch(api('/checkouts/scale-profile'), {
          method: 'PUT',
          headers: { ...kiosk, 'content-type': 'application/json' },
          body: JSON.stringify({ store: 'K01', profile: WEIGHT_PROFILE }),
        });
        assert.equal(byKiosk.status, 403);
        const bad = await fetch(api('/checkouts/scale-profile'), {
          method: 'PUT',
          headers: manager.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ store: 'K01', profile: { ...WEIGHT_PROFILE, mode: 'price', decimals: 3 } }),
        });
        assert.equal(bad.status, 400);
        const problem = (await bad.json()) as { errors: Array<{ where: string }> };
        assert.ok(
          problem.errors.some((e) => e.where === 'profile/decimals'),
          JSON.stringify(problem),
        );
      });

      it('looks up ordinary barcodes and SKUs', async () => {
        const byEan = await lookup(WATER.ean);
        assert.equal(byEan.status, 200);
        assert.deepEqual(await byEan.json(), {
          sku: WATER.sku,
          ean: WATER.ean,
          name: WATER.name,
          unit: 'UN',
          category: 'bebidas',
          priceCents: 250,
          matchedBy: 'ean',
          label: null,
        });
        const bySku = (await (await lookup(CHEESE.sku)).json()) as { matchedBy: string };
        assert.equal(bySku.matchedBy, 'sku');
      });

      it('reads a weight label: the item code names the product, the label its weight', async () => {
        const label = encodeScaleLabel(WEIGHT_PROFILE, '0123', 435);
        const r = await lookup(label);
        assert.equal(r.status, 200);
        const body = (await r.json()) as { sku: string; matchedBy: string; label: unknown };
        assert.equal(body.sku, CHEESE.sku);
        assert.equal(body.matchedBy, 'scale_label');
        assert.deepEqual(body.label, { itemCode: '0123', mode: 'weight', quantity: 0.435, totalCents: 1083 });
      });

      it('refuses a label with a bad check digit (400) and an unknown item code (404)', async () => {
        const good = encodeScaleLabel(WEIGHT_PROFILE, '0123', 435);
        const bad = good.slice(0, 12) + String((Number(good[12]) + 1) % 10);
        const r = await lookup(bad);
        assert.equal(r.status, 400);
        assert.match(((await r.json()) as { detail: string }).detail, /check digit/);
        const unknown = await lookup(encodeScaleLabel(WEIGHT_PROFILE, '0999', 435));
        assert.equal(unknown.status, 404);
        assert.match(((await unknown.json()) as { detail: string }).detail, /item code 0999/);
        const buyBad = await buy({ store: 'K01', paymentMethod: 'pix', lines: [{ ean: bad }] });
        assert.equal(buyBad.status, 400);
        const buyUnknown = await buy({
          store: 'K01',
          paymentMethod: 'pix',
          lines: [{ ean: encodeScaleLabel(WEIGHT_PROFILE, '0999', 435) }],
        });
        assert.equal(buyUnknown.status, 400);
        assert.match(((await buyUnknown.json()) as { detail: string }).detail, /lines\/0.*item code 0999/);
      });

      it('sells a weight label: its weight leaves stock, priced at the shelf price', async () => {
        const before = await onHand('K01', CHEESE.sku);
        const r = await buy({
          store: 'K01',
          paymentMethod: 'debit',
          lines: [{ ean: encodeScaleLabel(WEIGHT_PROFILE, '0123', 435) }, { ean: WATER.ean, quantity: 2 }],
        });
        assert.equal(r.status, 201, await r.clone().text());
        const c = (await r.json()) as {
          totalCents: number;
          lines: Array<{ sku: string; quantity: number; totalCents: number }>;
        };
        assert.deepEqual(
          c.lines.map((l) => [l.sku, l.quantity, l.totalCents]),
          [
            [CHEESE.sku, 0.435, 1083],
            [WATER.sku, 2, 500],
          ],
        );
        assert.equal(c.totalCents, 1583);
        assert.equal(await onHand('K01', CHEESE.sku), before - 435);
        await invariants();
      });

      it('sells a price label: the printed price, and the weight it buys leaves stock (to the gram)', async () => {
        await setProfile(PRICE_PROFILE);
        const label = encodeScaleLabel(PRICE_PROFILE, '04567', 1234); // R$ 12.34 of ham at R$ 39.90/kg
        const looked = (await (await lookup(label)).json()) as { label: unknown };
        assert.deepEqual(looked.label, { itemCode: '04567', mode: 'price', quantity: 0.309, totalCents: 1234 });
        const before = await onHand('K01', HAM.sku);
        const r = await buy({ store: 'K01', paymentMethod: 'cash', lines: [{ ean: label }] });
        assert.equal(r.status, 201);
        const c = (await r.json()) as {
          totalCents: number;
          lines: Array<{ quantity: number; unitPriceCents: number }>;
        };
        assert.equal(c.totalCents, 1234);
        assert.deepEqual(
          c.lines.map((l) => [l.quantity, l.unitPriceCents]),
          [[0.309, 3990]],
        );
        assert.equal(await onHand('K01', HAM.sku), before - 309); // 12.34 ÷ 39.90 = 0.30927 kg
        const withQuantity = await buy({ store: 'K01', paymentMethod: 'cash', lines: [{ ean: label, quantity: 1 }] });
        assert.equal(withQuantity.status, 400);
        await setProfile(WEIGHT_PROFILE);
        await invariants();
      });
    });

    describe('purchases', () => {
      it('records the sale on the store’s business date, with a receipt, and moves stock in one go', async () => {
        const before = await onHand('K01', WATER.sku);
        const r = await buy({
          store: 'K01',
          paymentMethod: 'pix',
          lines: [{ sku: WATER.sku }, { ean: CHOC.ean, quantity: '1' }, { sku: CHEESE.sku, quantity: 0.25 }],
        });
        assert.equal(r.status, 201);
        const c = (await r.json()) as { id: number; receiptId: string; businessDate: string; totalCents: number };
        assert.equal(c.businessDate, todayIn('America/Sao_Paulo'));
        assert.equal(c.totalCents, 250 + 799 + 623);
        assert.equal(await onHand('K01', WATER.sku), before - 1000);
        const lines = await db().selectFrom('sales_lines').selectAll().where('checkout_id', '=', c.id).execute();
        assert.equal(lines.length, 3);
        assert.ok(
          lines.every(
            (l) => l.source === 'checkout' && l.receipt_id === c.receiptId && l.business_date === c.businessDate,
          ),
        );
        const got = await fetch(api(`/checkouts/${c.id}?store=K01`), { headers: manager.headers() });
        assert.equal(got.status, 200);
        assert.equal(((await got.json()) as { receiptId: string }).receiptId, c.receiptId);
        const day = await salesBy(db(), { from: c.businessDate, to: c.businessDate, by: 'store', store: 'K01' });
        assert.ok(day[0] && day[0].tickets >= 1);
        await invariants();
      });

      it('refuses (409) what a self-service store does not have, naming the product and what is available', async () => {
        const before = await onHand('K01', CHOC.sku);
        const r = await buy({
          store: 'K01',
          paymentMethod: 'cash',
          lines: [{ sku: CHOC.sku, quantity: before / 1000 + 1 }],
        });
        assert.equal(r.status, 409);
        const p = (await r.json()) as { detail: string; errors: Array<{ where: string }> };
        assert.match(p.detail, new RegExp(`Chocolate 90 g \\(C001\\).*${before / 1000} available`));
        assert.equal(p.errors[0]!.where, 'lines/0');
        assert.equal(await onHand('K01', CHOC.sku), before, 'nothing moved');
        // a refused purchase is not remembered: the same key succeeds once the basket fits
        await invariants();
      });

      it('names each wrong line: unknown codes, fractions of units, weighed goods without a weight', async () => {
        const r = await buy({
          store: 'K01',
          paymentMethod: 'cash',
          lines: [{ sku: 'NOPE' }, { sku: WATER.sku, quantity: 1.5 }, { sku: CHEESE.sku }, { ean: '7891000000005' }],
        });
        assert.equal(r.status, 400);
        const p = (await r.json()) as { errors: Array<{ where: string; problem: string }> };
        assert.deepEqual(
          p.errors.map((e) => e.where),
          ['lines/0', 'lines/1', 'lines/2', 'lines/3'],
        );
        const noKey = await fetch(api('/checkouts'), {
          method: 'POST',
          headers: { ...kiosk, 'content-type': 'application/json' },
          body: JSON.stringify({ store: 'K01', paymentMethod: 'cash', lines: [{ sku: WATER.sku }] }),
        });
        assert.equal(noKey.status, 400);
        assert.match(((await noKey.json()) as { detail: string }).detail, /idempotency-key/i);
      });

      it('refuses a checkout at a file-fed store, whose sales come from its daily file', async () => {
        const token = await createTokenHeaders(t, { store: 'F01', purpose: 'kiosk' });
        const before = await onHand('F01', WATER.sku);
        const r = await buy(
          { store: 'F01', paymentMethod: 'cash', lines: [{ sku: WATER.sku, quantity: 3 }] },
          randomUUID(),
          token,
        );
        assert.equal(r.status, 409);
        assert.match(((await r.json()) as { detail: string }).detail, /sends daily sales files.*count twice/);
        assert.equal(await onHand('F01', WATER.sku), before, 'stock did not move');
        await invariants();
      });
    });

    describe('Idempotency-Key', () => {
      it('5 sends (2 of them concurrent) record one purchase and answer byte-identical bodies', async () => {
        const before = await onHand('K01', WATER.sku);
        const key = randomUUID();
        const body = { store: 'K01', paymentMethod: 'credit', lines: [{ sku: WATER.sku, quantity: 2 }] };
        const first = await buy(body, key);
        const concurrent = await Promise.all([buy(body, key), buy(body, key)]);
        const later = [await buy(body, key), await buy(body, key)];
        const all = [first, ...concurrent, ...later];
        const texts = await Promise.all(all.map((r) => r.text()));
        assert.deepEqual(
          all.map((r) => r.status),
          [201, 201, 201, 201, 201],
        );
        for (const text of texts) assert.equal(text, texts[0]);
        assert.equal(first.headers.get('idempotent-replayed'), null);
        assert.equal(later[0]!.headers.get('idempotent-replayed'), 'true');
        assert.equal(await onHand('K01', WATER.sku), before - 2000, 'one decrement');
        const id = (JSON.parse(texts[0]!) as { id: number }).id;
        assert.equal(
          (await db().selectFrom('sales_lines').select('id').where('checkout_id', '=', id).execute()).length,
          1,
        );
        await invariants();
      });

      it('forgets a key after the retention period: the same key is then a new purchase', async () => {
        const before = await onHand('K01', WATER.sku);
        const key = randomUUID();
        const body = { store: 'K01', paymentMethod: 'pix', lines: [{ sku: WATER.sku }] };
        const first = (await (await buy(body, key)).json()) as { id: number };
        // 29 days later the key still answers the first purchase; 31 days later it has been expired
        assert.equal(await expireKeys(db(), 30, new Date(Date.now() + 29 * 86_400_000)), 0);
        assert.equal(((await (await buy(body, key)).json()) as { id: number }).id, first.id);
        assert.ok((await expireKeys(db(), 30, new Date(Date.now() + 31 * 86_400_000))) >= 1);
        const again = await buy(body, key);
        assert.equal(again.status, 201);
        assert.notEqual(((await again.json()) as { id: number }).id, first.id);
        assert.equal(await onHand('K01', WATER.sku), before - 2000, 'two purchases');
        await invariants();
      });

      it('two first sends at the same moment still record one purchase', async () => {
        const before = await onHand('K01', WATER.sku);
        const key = randomUUID();
        const body = { store: 'K01', paymentMethod: 'pix', lines: [{ sku: WATER.sku }] };
        const rs = await Promise.all([buy(body, key), buy(body, key)]);
        const texts = await Promise.all(rs.map((r) => r.text()));
        assert.deepEqual(
          rs.map((r) => r.status),
          [201, 201],
        );
        assert.equal(texts[0], texts[1]);
        assert.equal(await onHand('K01', WATER.sku), before - 1000);
        await invariants();
      });

      it('the same key with a different body is refused (422) and changes nothing', async () => {
        const key = randomUUID();
        const r1 = await buy({ store: 'K01', paymentMethod: 'pix', lines: [{ sku: WATER.sku }] }, key);
        assert.equal(r1.status, 201);
        const before = await onHand('K01', WATER.sku);
        const r2 = await buy({ store: 'K01', paymentMethod: 'pix', lines: [{ sku: WATER.sku, quantity: 5 }] }, key);
        assert.equal(r2.status, 422);
        assert.equal(await onHand('K01', WATER.sku), before);
        // the same key in another store is another purchase (keys are per store)
        await receive('K02', WATER.sku, 1);
        const r3 = await buy({ store: 'K02', paymentMethod: 'pix', lines: [{ sku: WATER.sku }] }, key, kioskOther);
        assert.equal(r3.status, 201);
        await invariants();
      });
    });

    describe('voids', () => {
      it('reverses lines and movements on the day of the void; a second void changes nothing', async () => {
        const before = await onHand('K01', WATER.sku);
        const r = await buy({ store: 'K01', paymentMethod: 'debit', lines: [{ sku: WATER.sku, quantity: 4 }] });
        const c = (await r.json()) as { id: number; receiptId: string; businessDate: string };
        assert.equal(await onHand('K01', WATER.sku), before - 4000);
        const dayBefore = (
          await salesBy(db(), { from: c.businessDate, to: c.businessDate, by: 'store', store: 'K01' })
        )[0]!;
        const v = await fetch(api(`/checkouts/${c.id}/void`), {
          method: 'POST',
          headers: { ...kiosk, 'content-type': 'application/json' },
          body: JSON.stringify({ store: 'K01', reason: 'customer changed their mind' }),
        });
        assert.equal(v.status, 200);
        const voided = (await v.json()) as { status: string; voidReason: string; voidDate: string };
        assert.equal(voided.status, 'voided');
        assert.equal(voided.voidReason, 'customer changed their mind');
        assert.equal(await onHand('K01', WATER.sku), before);
        const dayAfter = (
          await salesBy(db(), { from: c.businessDate, to: c.businessDate, by: 'store', store: 'K01' })
        )[0]!;
        assert.equal(dayAfter.revenueCents, dayBefore.revenueCents - 1000);
        const reversed = await db()
          .selectFrom('sales_lines')
          .selectAll()
          .where('receipt_id', '=', `${c.receiptId}-V`)
          .execute();
        assert.deepEqual(
          reversed.map((l) => [Number(l.quantity_milli), Number(l.total_cents)]),
          [[-4000, -1000]],
        );
        const movement = await db()
          .selectFrom('stock_movements')
          .select(['kind', 'actor', 'reason'])
          .where('ref', '=', `checkout:${c.id}:void:1`)
          .executeTakeFirstOrThrow();
        assert.equal(movement.kind, 'void');
        assert.match(movement.reason ?? '', /customer changed their mind/);
        const again = await fetch(api(`/checkouts/${c.id}/void`), {
          method: 'POST',
          headers: { ...kiosk, 'content-type': 'application/json' },
          body: JSON.stringify({ store: 'K01', reason: 'retry' }),
        });
        assert.equal(again.status, 200);
        assert.equal(((await again.json()) as { voidReason: string }).voidReason, 'customer changed their mind');
        assert.equal(await onHand('K01', WATER.sku), before);
        const audit = await db()
          .selectFrom('audit_log')
          .select('action')
          .where('target', '=', `checkout:${c.id}`)
          .execute();
        assert.deepEqual(audit.map((a) => a.action).sort(), ['checkout.register', 'checkout.void']);
        await invariants();
      });

      it('a checkout of another store is not found, and a clerk may not void', async () => {
        const r = await buy({ store: 'K01', paymentMethod: 'debit', lines: [{ sku: WATER.sku }] });
        const c = (await r.json()) as { id: number };
        const other = await fetch(api(`/checkouts/${c.id}/void`), {
          method: 'POST',
          headers: { ...kioskOther, 'content-type': 'application/json' },
          body: JSON.stringify({ store: 'K02', reason: 'x' }),
        });
        assert.equal(other.status, 404);
        const byClerk = await fetch(api(`/checkouts/${c.id}/void`), {
          method: 'POST',
          headers: clerk.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify({ store: 'K01', reason: 'x' }),
        });
        assert.equal(byClerk.status, 403);
        await invariants();
      });
    });

    describe('access', () => {
      it('a kiosk token buys and looks up only in its own store, and does nothing else', async () => {
        const foreign = await buy({ store: 'K02', paymentMethod: 'cash', lines: [{ sku: WATER.sku }] });
        assert.equal(foreign.status, 403);
        const lookup = await fetch(api(`/checkouts/products?store=K02&code=${WATER.sku}`), { headers: kiosk });
        assert.equal(lookup.status, 403);
        const read = await fetch(api('/checkouts/1?store=K01'), { headers: kiosk });
        assert.equal(read.status, 403);
        const count = await fetch(api('/stock/K01/counts'), {
          method: 'POST',
          headers: { ...kiosk, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'x', lines: [{ sku: WATER.sku, counted: 1 }] }),
        });
        assert.equal(count.status, 403);
        const anonymous = await fetch(api('/checkouts'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ store: 'K01', paymentMethod: 'cash', lines: [{ sku: WATER.sku }] }),
        });
        assert.equal(anonymous.status, 401);
      });

      it('an employee of the store may register a purchase; the actor is recorded', async () => {
        const r = await buy(
          { store: 'K01', paymentMethod: 'cash', lines: [{ sku: WATER.sku }] },
          randomUUID(),
          clerk.headers(),
        );
        assert.equal(r.status, 201);
        const c = (await r.json()) as { id: number };
        const row = await db().selectFrom('checkouts').select('actor').where('id', '=', c.id).executeTakeFirstOrThrow();
        assert.equal(row.actor, `user:${clerk.username}`);
        await invariants();
      });
    });
  });
}
