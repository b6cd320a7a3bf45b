import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSoldAt } from '../domain/dates.ts';
import { divRound } from '../domain/decimal.ts';
import { validateGtin } from '../domain/gtin.ts';
import {
  type DemoOptions,
  type DemoSaleRow,
  demoDates,
  generateMasterData,
  iterateLargeDay,
  iterateSalesRows,
  salesRows,
} from './generate.ts';
import { DEMO_OPTIONS } from './load.ts';

const OPTS: DemoOptions = { stores: 8, products: 120, days: 14, seed: 7 };

/** Every contract rule a generated line must satisfy, checked independently of how it was produced. */
function assertValidRows(rows: DemoSaleRow[], master: ReturnType<typeof generateMasterData>, store: string): void {
  const bySku = new Map(master.products.map((p) => [p.sku, p]));
  const receipts = new Map<string, { lines: Set<number>; soldAt: string; payment: string }>();
  let previousTime = '';
  for (const r of rows) {
    const where = `${r.receipt_id}/${r.line_no}`;
    assert.equal(r.store_code, store);
    const p = bySku.get(r.sku);
    assert.ok(p, `${where}: unknown sku ${r.sku}`);
    if (p.ean === '') assert.ok(r.ean === '' || r.ean === 'SEM GTIN', `${where}: ${r.ean}`);
    else {
      assert.equal(r.ean, p.ean, where);
      assert.deepEqual(validateGtin(r.ean), { ok: true, value: r.ean }, where);
    }
    assert.equal(r.description, p.name);
    assert.equal(r.unit_price_cents, p.price_cents);
    assert.ok(Number.isInteger(r.quantity_milli) && r.quantity_milli !== 0, where);
    if (p.unit === 'UN') assert.ok(r.quantity_milli % 1000 === 0, `${where}: units must be whole`);
    else assert.ok(r.quantity_milli % 1000 !== 0, `${where}: a weight reads as a weight`);
    assert.ok(Number.isInteger(r.discount_cents) && r.discount_cents >= 0, where);
    assert.equal(r.total_cents, divRound(r.quantity_milli * r.unit_price_cents, 1000) - r.discount_cents, where);
    assert.ok(r.line_no >= 1 && r.line_no <= 15, where);
    const t = parseSoldAt(r.sold_at);
    assert.ok(t && /^\d{2}:\d{2}:\d{2}$/.test(r.sold_at), `${where}: sold_at ${r.sold_at}`);
    assert.ok(r.sold_at >= previousTime, `${where}: receipts are in time order`);
    previousTime = r.sold_at;
    assert.ok(['dinheiro', 'debito', 'credito', 'pix', 'voucher', 'outros'].includes(r.payment_method));

    let receipt = receipts.get(r.receipt_id);
    if (!receipt) {
      receipt = { lines: new Set(), soldAt: r.sold_at, payment: r.payment_method };
      receipts.set(r.receipt_id, receipt);
    }
    assert.ok(!receipt.lines.has(r.line_no), `${where}: line_no repeated within its receipt`);
    receipt.lines.add(r.line_no);
    assert.equal(r.sold_at, receipt.soldAt, `${where}: one time per receipt`);
    assert.equal(r.payment_method, receipt.payment, `${where}: one payment per receipt`);
  }
  for (const id of receipts.keys()) {
    assert.ok(/^\d{6}$|^\d{44}$/.test(id), `receipt id ${id}`);
    if (id.length === 44) assertNfceCheckDigit(id);
  }
}

function assertNfceCheckDigit(key: string): void {
  let sum = 0;
  let weight = 2;
  for (let i = 42; i >= 0; i--) {
    sum += Number(key[i]) * weight;
    weight = weight === 9 ? 2 : weight + 1;
  }
  const r = sum % 11;
  assert.equal(Number(key[43]), r < 2 ? 0 : 11 - r, `NFC-e key ${key}`);
}

describe('generateMasterData', () => {
  test('the same options give the same data; another seed gives other data', () => {
    assert.deepEqual(generateMasterData(OPTS), generateMasterData({ ...OPTS }));
    assert.notDeepEqual(generateMasterData(OPTS).products, generateMasterData({ ...OPTS, seed: 8 }).products);
  });

  test('a larger chain keeps the stores and products of a smaller one', () => {
    const small = generateMasterData({ ...OPTS, stores: 4, products: 50 });
    const large = generateMasterData({ ...OPTS, stores: 12, products: 300 });
    assert.deepEqual(large.stores.slice(0, 4), small.stores);
    assert.deepEqual(large.products.slice(0, 50), small.products);
  });

  test('stores follow the master-data contract', () => {
    const { stores } = generateMasterData({ ...OPTS, stores: 20 });
    assert.deepEqual(
      stores.map((s) => s.store_code),
      Array.from({ length: 20 }, (_, i) => `S${String(i + 1).padStart(3, '0')}`),
    );
    assert.deepEqual(stores[0], {
      store_code: 'S001',
      name: 'Supermercado Centro 1',
      kind: 'file',
      city: 'São Paulo',
      timezone: 'America/Sao_Paulo',
    });
    assert.equal(stores.filter((s) => s.kind === 'selfservice').length, 5);
    for (const s of stores) {
      assert.match(s.name, s.kind === 'file' ? /^Supermercado .+ \d+$/ : /^Pit Stop \d+$/);
      assert.ok(['America/Sao_Paulo', 'America/Recife', 'America/Manaus'].includes(s.timezone));
    }
    assert.ok(stores.some((s) => s.timezone === 'America/Recife'));
    assert.ok(stores.some((s) => s.timezone === 'America/Manaus'));
    assert.ok(stores.filter((s) => s.timezone === 'America/Sao_Paulo').length >= 14);
    const noKiosks = generateMasterData({ ...OPTS, selfServiceShare: 0 }).stores;
    assert.ok(noKiosks.every((s) => s.kind === 'file'));
  });

  test('products have unique SKUs, unique valid 789 EANs, Portuguese names and sane fields', () => {
    const { products } = generateMasterData({ ...OPTS, products: 2000 });
    assert.equal(new Set(products.map((p) => p.sku)).size, products.length);
    assert.equal(products[0]!.name, 'Pão Francês');
    assert.ok(products.some((p) => p.name === 'Açúcar Cristal 1kg'));
    assert.ok(products.some((p) => p.name === 'Maçã Gala'));
    const eans = products.map((p) => p.ean).filter((e) => e !== '');
    assert.equal(new Set(eans).size, eans.length, 'EANs are unique');
    for (const e of eans) {
      assert.match(e, /^789\d{10}$/);
      assert.deepEqual(validateGtin(e), { ok: true, value: e });
    }
    const withoutEan = products.length - eans.length;
    assert.ok(withoutEan > 0 && withoutEan < products.length * 0.1, `${withoutEan} without EAN`);
    const weighed = products.filter((p) => p.unit === 'KG').length / products.length;
    assert.ok(weighed > 0.1 && weighed < 0.2, `share of KG products ${weighed}`);
    const categories = new Set(products.map((p) => p.category));
    for (const c of ['Padaria', 'Hortifruti', 'Bebidas', 'Mercearia', 'Laticínios', 'Limpeza', 'Higiene', 'Açougue']) {
      assert.ok(categories.has(c), c);
    }
    for (const p of products) {
      assert.ok(Number.isInteger(p.price_cents) && p.price_cents > 0, p.sku);
      assert.ok(p.supplier.length > 0);
      assert.ok(p.unit === 'KG' ? p.pack_size === 1 : [6, 12, 24].includes(p.pack_size), `${p.sku} pack`);
      assert.ok(p.lead_time_days >= 1 && p.lead_time_days <= 5, `${p.sku} lead time`);
    }
  });

  test('stock covers every store × product, in whole units for UN, some already low', () => {
    // no days of sales to come: the shelves are at their levels
    const master = generateMasterData({ ...OPTS, days: 0 });
    assert.equal(master.stock.length, OPTS.stores * OPTS.products);
    const unit = new Map(master.products.map((p) => [p.sku, p.unit]));
    for (const s of master.stock) {
      for (const v of [s.on_hand_milli, s.reorder_point_milli, s.target_level_milli]) {
        assert.ok(Number.isInteger(v) && v >= 0);
        if (unit.get(s.sku) === 'UN') assert.equal(v % 1000, 0);
      }
      assert.ok(s.reorder_point_milli < s.target_level_milli);
      assert.ok(s.on_hand_milli <= s.target_level_milli);
    }
    const low = master.stock.filter((s) => s.on_hand_milli <= s.reorder_point_milli).length;
    assert.ok(low > 0 && low < master.stock.length * 0.15, `${low} low`);
  });

  test("the demo's stock holds what its week will sell: after it some shelves are low, few below zero", () => {
    const demo = { ...DEMO_OPTIONS, startDate: '2026-11-18' };
    const master = generateMasterData(demo);
    const sold = new Map<string, number>();
    for (const store of master.stores) {
      if (store.kind !== 'file') continue;
      for (const date of demoDates(demo)) {
        for (const r of iterateSalesRows(demo, master, store.store_code, date)) {
          const k = `${store.store_code} ${r.sku}`;
          sold.set(k, (sold.get(k) ?? 0) + r.quantity_milli);
        }
      }
    }
    const shelves = master.stock.filter(
      (s) => master.stores.find((x) => x.store_code === s.store_code)?.kind === 'file',
    );
    const after = shelves.map((s) => ({ ...s, end: s.on_hand_milli - (sold.get(`${s.store_code} ${s.sku}`) ?? 0) }));
    const low = after.filter((s) => s.end <= s.reorder_point_milli).length;
    const negative = after.filter((s) => s.end < 0).length;
    assert.ok(low > 0 && low < shelves.length * 0.25, `${low} of ${shelves.length} low`);
    assert.ok(negative < shelves.length * 0.05, `${negative} of ${shelves.length} below zero`);
  });

  test('rejects nonsense options', () => {
    assert.throws(() => generateMasterData({ ...OPTS, stores: 0 }), /stores/);
    assert.throws(() => generateMasterData({ ...OPTS, products: 1.5 }), /products/);
    assert.throws(() => generateMasterData({ ...OPTS, startDate: '2026-02-30' }), /startDate/);
    assert.throws(() => generateMasterData({ ...OPTS, selfServiceShare: 2 }), /selfServiceShare/);
  });
});

describe('salesRows', () => {
  const master = generateMasterData(OPTS);
  const fileStores = master.stores.filter((s) => s.kind === 'file').map((s) => s.store_code);

  test('every row of every store-day satisfies the sales-file contract', () => {
    for (const store of master.stores.map((s) => s.store_code)) {
      for (const date of demoDates(OPTS)) assertValidRows(salesRows(OPTS, master, store, date), master, store);
    }
  });

  test('a store-day depends only on the seed, the store and the date', () => {
    const alone = salesRows(OPTS, generateMasterData(OPTS), 'S003', '2026-01-05');
    salesRows(OPTS, master, 'S001', '2026-01-05');
    assert.deepEqual(salesRows({ ...OPTS, days: 90, stores: 30 }, master, 'S003', '2026-01-05'), alone);
    assert.notDeepEqual(salesRows({ ...OPTS, seed: 8 }, master, 'S003', '2026-01-05'), alone);
    assert.notDeepEqual(salesRows(OPTS, master, 'S003', '2026-01-06'), alone);
  });

  test('volumes: about rowsPerStoreDay lines, more on Saturdays, far fewer at kiosks', () => {
    const perDay = (store: string, date: string) => salesRows(OPTS, master, store, date).length;
    const dates = demoDates(OPTS);
    let all = 0;
    let saturdays = 0;
    let weekdays = 0;
    for (const store of fileStores) {
      for (const date of dates) {
        const n = perDay(store, date);
        all += n;
        const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
        if (wd === 6) saturdays += n;
        if (wd === 2) weekdays += n;
      }
    }
    const mean = all / (fileStores.length * dates.length);
    assert.ok(mean > 250 && mean < 350, `mean ${mean}`);
    assert.ok(saturdays > weekdays * 1.3, `saturdays ${saturdays} vs tuesdays ${weekdays}`);
    const kiosk = master.stores.find((s) => s.kind === 'selfservice')!.store_code;
    assert.ok(perDay(kiosk, '2026-01-07') < 150);
    assert.equal(salesRows({ ...OPTS, rowsPerStoreDay: 3000 }, master, 'S001', '2026-01-07').length > 2500, true);
  });

  test('realistic mix: long tail, baskets of 1–15 lines, payments, discounts, rare returns, KG weights', () => {
    const rows = fileStores.flatMap((s) => demoDates(OPTS).flatMap((d) => salesRows(OPTS, master, s, d)));
    const bySku = new Map<string, number>();
    for (const r of rows) bySku.set(r.sku, (bySku.get(r.sku) ?? 0) + 1);
    const counts = [...bySku.values()].sort((a, b) => b - a);
    const top10 = counts.slice(0, 10).reduce((a, b) => a + b, 0);
    assert.ok(top10 > rows.length * 0.25, 'the ten best sellers carry a large share');
    assert.equal(bySku.get('P000001'), counts[0], 'Pão Francês sells most');
    const receipts = new Map<string, number>();
    for (const r of rows) receipts.set(`${r.store_code}/${r.business_date}/${r.receipt_id}`, r.line_no);
    const sizes = [...receipts.values()];
    assert.ok(Math.max(...sizes) >= 12 && sizes.filter((n) => n === 1).length > sizes.length * 0.1);
    const share = (f: (r: DemoSaleRow) => boolean) => rows.filter(f).length / rows.length;
    const returns = share((r) => r.quantity_milli < 0);
    assert.ok(returns > 0.001 && returns < 0.012, `returns ${returns}`);
    const discounts = share((r) => r.discount_cents > 0);
    assert.ok(discounts > 0.02 && discounts < 0.07, `discounts ${discounts}`);
    for (const m of ['dinheiro', 'debito', 'credito', 'pix', 'voucher']) {
      assert.ok(share((r) => r.payment_method === m) > 0.02, m);
    }
    const weighed = rows.filter((r) => r.quantity_milli % 1000 !== 0);
    assert.ok(weighed.length > rows.length * 0.1);
    assert.ok(weighed.every((r) => Math.abs(r.quantity_milli) >= 100 && Math.abs(r.quantity_milli) <= 2500));
    // supermarkets open at 7 (8 on Sundays) and close at 22
    assert.ok(rows.every((r) => r.sold_at >= '07:00:00' && r.sold_at < '22:00:00'));
  });

  test('rejects unknown stores and bad dates', () => {
    assert.throws(() => salesRows(OPTS, master, 'S999', '2026-01-01'), /S999/);
    assert.throws(() => salesRows(OPTS, master, 'S001', '01/01/2026'), /YYYY-MM-DD/);
  });
});

describe('iterateLargeDay', () => {
  test('yields exactly the rows asked for, over any product list', () => {
    const products = generateMasterData({ ...OPTS, products: 40 }).products.slice(10);
    const rows = [...iterateLargeDay({ rows: 5000, seed: 1, storeCode: 'X9', date: '2026-03-01', products })];
    assert.equal(rows.length, 5000);
    assertValidRows(rows, { stores: [], products, stock: [] }, 'X9');
  });
});
