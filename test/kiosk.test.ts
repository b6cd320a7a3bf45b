// The self-checkout terminal page in a real browser (Debian's chromium through playwright-core) against the whole
// server on a loopback port: pairing refuses a wrong token and an upload token, a customer scans barcodes (faster
// than they are looked up), a SKU, a scale label and a weighed product, pays and gets the receipt; stock moves by exactly what was bought. A payment
// whose answer is lost (the request reaches the server, the answer never reaches the page) keeps the basket locked,
// survives a reload, and "Try again" records it once. A refusal (not enough stock) unlocks the basket. A terminal
// paired in Portuguese speaks it, a customer switches to English, and the next customer is greeted in Portuguese.
// A manager finds a purchase by the number on its receipt on the employees' page and voids it. The checkout
// API itself is tested on both databases elsewhere: one backend is enough here.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page, type Route } from 'playwright-core';
import { setScaleProfile } from '../src/checkout/scale-profile.ts';
import { nowIso } from '../src/db/tx.ts';
import { gtinCheckDigit } from '../src/domain/gtin.ts';
import { encodeScaleLabel, type ScaleProfile } from '../src/domain/scale-label.ts';
import { ledgerMismatches } from '../src/inventory/ledger.ts';
import { receiveGoods } from '../src/inventory/operations.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import { createToken } from '../src/users/tokens.ts';
import { createUser } from '../src/users/users.ts';
import { createStores } from './support/auth.ts';
import { assertBothLanguages, submitLogin } from './support/page.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { onHandMilli } from './support/stock.ts';

const CHROMIUM = process.env.SHOPFLOW_CHROMIUM ?? '/usr/bin/chromium';
const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
// the browser and Node may space the currency differently (a no-break space or a plain one)
const spaced = (s: string | null) => (s ?? '').replace(/\s/g, ' ').trim();
const money = (cents: number) => spaced(brl.format(cents / 100));

const ean = (body12: string) => body12 + gtinCheckDigit(body12);
const WATER = { sku: 'W001', ean: ean('789100000001'), name: 'Água mineral 500 ml', unit: 'UN', price: 250 } as const;
const CHOC = { sku: 'C001', ean: ean('789100000002'), name: 'Chocolate <b>90 g</b>', unit: 'UN', price: 799 } as const;
const CHEESE = { sku: 'P000123', ean: null, name: 'Queijo prato', unit: 'KG', price: 2490 } as const;
const HAM = { sku: 'P004567', ean: null, name: 'Presunto cozido', unit: 'KG', price: 3990 } as const;
const PROFILE: ScaleProfile = { prefix: '2', codeLength: 4, mode: 'weight', decimals: 3, skuPrefix: 'P', skuDigits: 6 };

describe('the self-checkout terminal page in a browser', () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let token: string;
  let uploadToken: string;
  const problems: string[] = [];
  const db = () => t.app.ctx.database.db;

  const onHand = (sku: string) => onHandMilli(t.app.ctx.database.db, 'K01', sku);
  const checkouts = () =>
    db().selectFrom('checkouts').select(['id', 'receipt_id', 'total_cents']).orderBy('id').execute();
  const invariants = async () => {
    assert.deepEqual(await ledgerMismatches(db()), [], 'every balance equals the sum of its movements');
    assert.deepEqual(await rollupMismatches(db()), [], 'the roll-up equals the sum of the sales lines');
  };
  const scan = async (code: string) => {
    await page.fill('#code', code);
    await page.press('#code', 'Enter');
  };
  const basketRows = () =>
    page
      .locator('#basket tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (bash .ci/run does)`);
    t = await startTestServer('sqlite');
    await createStores(t, ['K01'], 'selfservice');
    const now = nowIso();
    await db()
      .insertInto('products')
      .values(
        [WATER, CHOC, CHEESE, HAM].map((p) => ({
          sku: p.sku,
          ean: p.ean,
          name: p.name,
          category: 'c',
          unit: p.unit,
          price_cents: p.price,
          supplier: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await setScaleProfile(t.app.ctx.database, 'K01', PROFILE, 'test');
    const lines = [
      { sku: WATER.sku, quantity: 10 },
      { sku: CHOC.sku, quantity: 1 },
      { sku: CHEESE.sku, quantity: '5' },
      { sku: HAM.sku, quantity: '5' },
    ];
    await receiveGoods(t.app.ctx.database, 'K01', { reference: 'NF-1', lines }, 'test');
    token = (await createToken(t.app.ctx.database, { store: 'K01', purpose: 'kiosk' }, 'test')).token;
    uploadToken = (await createToken(t.app.ctx.database, { store: 'K01', purpose: 'upload' }, 'test')).token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // a terminal whose browser asks for English: the tests below read its English texts
    page = await browser.newPage({ locale: 'en-US' });
    page.on('console', (m) => {
      // refused requests (a wrong token, an unknown code, no stock, the lost answer) are what the tests provoke;
      // any other error (a script the CSP blocked, an exception) is a fault of the page
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the terminal page and its script so that a browser revalidates them', async () => {
    for (const path of ['/kiosk', '/app/kiosk.js']) {
      const res = await fetch(`${t.baseUrl}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('cache-control') ?? '', /no-cache|max-age=0/, path);
      await res.arrayBuffer();
    }
  });

  it('is paired only with a kiosk token, and takes its store from it', async () => {
    await page.goto(`${t.baseUrl}/kiosk`);
    await page.locator('#pair-form').waitFor();
    const pair = async (secret: string) => {
      await page.fill('#pair-form input[name=token]', secret);
      await page.click('#pair-form button[type=submit]');
    };
    await pair('sft_not-a-real-token');
    await page.locator('#pair-error', { hasText: 'not accepted' }).waitFor();
    await pair(uploadToken);
    await page.locator('#pair-error', { hasText: 'an upload token, not a kiosk token' }).waitFor();
    assert.equal(await page.locator('#sale').isVisible(), false);
    await pair(token);
    await page.locator('#sale').waitFor();
    assert.equal(await page.textContent('#terminal-store'), 'Store K01');
    // the terminal stays paired across a reload
    await page.reload();
    await page.locator('#sale').waitFor();
  });

  it('sells scanned barcodes, a SKU, a scale label and a weighed product, and moves stock by exactly that', async () => {
    const before = {
      water: await onHand(WATER.sku),
      choc: await onHand(CHOC.sku),
      cheese: await onHand(CHEESE.sku),
      ham: await onHand(HAM.sku),
    };
    // lookups answered slowly: a scanner types the next codes before the first one is looked up, and none is lost
    const slow = async (route: Route) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await route.continue();
    };
    await page.route('**/api/v1/checkouts/products?*', slow);
    // typed key by key, as a scanner does: an answer arrives while the next code is being typed
    for (const code of [WATER.ean, WATER.ean, CHOC.sku])
      await page.locator('#code').pressSequentially(`${code}\n`, { delay: 25 });
    await page.locator('#basket tbody tr').nth(1).waitFor();
    await page.unroute('**/api/v1/checkouts/products?*', slow);
    await scan(ean('789100000099'));
    await page.locator('#scan-error', { hasText: 'no product has this code' }).waitFor();
    await scan(encodeScaleLabel(PROFILE, '0123', 435)); // 0.435 kg of cheese, priced by the store
    // a weighed product left out adds nothing
    await scan(HAM.sku);
    await page.locator('#weight-form').waitFor();
    await page.click('#weight-cancel');
    await page.locator('#code').waitFor();
    assert.equal(await page.locator('#basket tbody tr').count(), 3);
    await scan(HAM.sku);
    await page.locator('#weight-form').waitFor();
    await page.fill('#kg', 'abc');
    await page.press('#kg', 'Enter');
    await page.locator('#scan-error', { hasText: 'is not a weight' }).waitFor();
    assert.equal(await page.locator('#scan-form').isVisible(), false, 'scanning waits for the weight');
    await page.fill('#kg', '0,350');
    await page.press('#kg', 'Enter');
    await page.locator('#basket tbody tr').nth(3).waitFor();
    assert.equal(await page.locator('#weight-form').isVisible(), false);
    assert.equal(await page.locator('#code').isVisible(), true);

    const cheeseCents = Math.round((435 * CHEESE.price) / 1000);
    const hamCents = Math.round((350 * HAM.price) / 1000);
    const total = 2 * WATER.price + CHOC.price + cheeseCents + hamCents;
    const rows = await basketRows();
    assert.deepEqual(
      rows.map((r) => [r[0], spaced(r[1] ?? ''), spaced(r[3] ?? '')]),
      [
        [WATER.name, '2', money(2 * WATER.price)],
        [CHOC.name, '1', money(CHOC.price)],
        [CHEESE.name, '0,435 kg', money(cheeseCents)],
        [HAM.name, '0,35 kg', money(hamCents)],
      ],
      'the product name is shown as text, never as markup',
    );
    assert.equal(spaced(await page.textContent('#total')), money(total));

    await page.click('#pay button[data-method=pix]');
    await page.locator('#receipt').waitFor();
    const [c] = await checkouts();
    assert.ok(c);
    assert.equal(await page.textContent('#receipt-id'), c.receipt_id);
    assert.equal(await page.textContent('#receipt-number'), String(c.id), 'the number staff find it by');
    assert.equal(Number(c.total_cents), total);
    assert.equal(spaced(await page.textContent('#receipt-total')), money(total));
    assert.equal(await page.textContent('#receipt-method'), 'Pix');
    assert.equal(await page.locator('#receipt-lines tbody tr').count(), 4);
    assert.equal(await onHand(WATER.sku), before.water - 2000);
    assert.equal(await onHand(CHOC.sku), before.choc - 1000);
    assert.equal(await onHand(CHEESE.sku), before.cheese - 435);
    assert.equal(await onHand(HAM.sku), before.ham - 350);
    await invariants();

    await page.click('#next');
    await page.locator('#sale').waitFor();
    assert.equal(await page.locator('#basket tbody tr').count(), 0);
  });

  it('keeps a payment whose answer was lost, across a reload, and records it once when tried again', async () => {
    const countBefore = (await checkouts()).length;
    const waterBefore = await onHand(WATER.sku);
    let lost = 0;
    // the request reaches the server and is recorded; its answer never reaches the page
    await page.route('**/api/v1/checkouts', async (route) => {
      if (lost++ > 0) return route.continue();
      await route.fetch();
      await route.abort('failed');
    });
    await scan(WATER.ean);
    await page.locator('#basket tbody tr').first().waitFor();
    await page.click('#pay button[data-method=debit]');
    await page.locator('#unresolved').waitFor();
    await page.locator('#pay-error', { hasText: 'No answer' }).waitFor();
    assert.equal((await checkouts()).length, countBefore + 1, 'the server did record it');
    assert.equal(await page.locator('#code').isDisabled(), true, 'the basket is locked');
    assert.equal(await page.locator('#pay button[data-method=cash]').isDisabled(), true);

    await page.reload();
    await page.locator('#unresolved').waitFor();
    assert.deepEqual(
      (await basketRows()).map((r) => r[0]),
      [WATER.name],
    );
    await page.click('#retry');
    await page.locator('#receipt').waitFor();
    const all = await checkouts();
    assert.equal(all.length, countBefore + 1, 'trying again recorded nothing more');
    assert.equal(await page.textContent('#receipt-id'), all.at(-1)?.receipt_id, 'the first answer, replayed');
    assert.equal(await onHand(WATER.sku), waterBefore - 1000);
    assert.equal(lost, 2);
    await page.unroute('**/api/v1/checkouts');
    await invariants();
    await page.click('#next');
  });

  it('shows a refusal (not enough stock) and lets the basket be changed and paid', async () => {
    assert.equal(await onHand(CHOC.sku), 0);
    const countBefore = (await checkouts()).length;
    await scan(CHOC.ean);
    await scan(WATER.ean);
    await page.locator('#basket tbody tr').nth(1).waitFor();
    await page.click('#pay button[data-method=cash]');
    await page.locator('#pay-error', { hasText: 'not enough stock' }).waitFor();
    assert.match((await page.textContent('#pay-error')) ?? '', /C001/);
    assert.equal(await page.locator('#unresolved').isVisible(), false);
    assert.equal((await checkouts()).length, countBefore);
    await page.getByRole('button', { name: `Remove ${CHOC.name}` }).click();
    await page.click('#pay button[data-method=cash]');
    await page.locator('#receipt').waitFor();
    assert.equal((await checkouts()).length, countBefore + 1);
    await invariants();
    assert.deepEqual(problems, [], 'no console error or CSP refusal');
  });

  it('speaks Portuguese on a Brazilian terminal, lets a customer switch to English, and greets the next in Portuguese', async () => {
    const pt = await browser.newPage({ locale: 'pt-BR' });
    pt.on('pageerror', (e) => problems.push(e.message));
    // the language each purchase was sent in: the server says its refusals in it
    const sentIn: string[] = [];
    pt.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/checkouts'))
        sentIn.push(r.headers()['accept-language'] ?? '');
    });
    try {
      await pt.goto(`${t.baseUrl}/kiosk`);
      await pt.locator('#pair-form').waitFor();
      assert.equal(await pt.textContent('#pair h2'), 'Configurar este terminal');
      assert.equal(await pt.locator('#pair-form select[name=lang]').inputValue(), 'pt');
      await pt.fill('#pair-form input[name=token]', uploadToken);
      await pt.click('#pair-form button[type=submit]');
      await pt.locator('#pair-error', { hasText: 'não de quiosque' }).waitFor();
      await pt.fill('#pair-form input[name=token]', token);
      await pt.click('#pair-form button[type=submit]');
      await pt.locator('#sale').waitFor();
      assert.equal(await pt.getAttribute('html', 'lang'), 'pt-BR');
      assert.equal(await pt.textContent('#terminal-store'), 'Loja K01');
      assert.equal(await pt.textContent('#pay button[data-method=cash]'), 'Dinheiro');

      await pt.fill('#code', ean('789100000099'));
      await pt.press('#code', 'Enter');
      await pt.locator('#scan-error', { hasText: 'nenhum produto tem este código' }).waitFor();
      // chocolate is out of stock since the test before: the refusal names it, in Portuguese
      assert.equal(await onHand(CHOC.sku), 0);
      await pt.fill('#code', CHOC.ean);
      await pt.press('#code', 'Enter');
      await pt.getByRole('button', { name: `Remover ${CHOC.name}` }).waitFor();
      await pt.click('#pay button[data-method=pix]');
      await pt.locator('#pay-error', { hasText: `estoque insuficiente de ${CHOC.name} (${CHOC.sku})` }).waitFor();

      // the customer switches: every fixed text and the basket's buttons follow
      await pt.click('#language');
      assert.equal(await pt.getAttribute('html', 'lang'), 'en-GB');
      assert.equal(await pt.textContent('#pay button[data-method=cash]'), 'Cash');
      assert.equal(await pt.textContent('#language'), 'Português');
      await pt.getByRole('button', { name: `Remove ${CHOC.name}` }).click();
      await pt.fill('#code', WATER.ean);
      await pt.press('#code', 'Enter');
      await pt.locator('#basket tbody tr').first().waitFor();
      await pt.click('#pay button[data-method=voucher]');
      await pt.locator('#receipt').waitFor();
      assert.deepEqual(sentIn, ['pt-BR', 'en-GB'], 'each purchase asks for the language on the screen');
      assert.equal(await pt.textContent('#receipt h2'), 'Thank you!');
      assert.equal(await pt.textContent('#receipt-method'), 'Meal voucher');
      await pt.click('#language');
      assert.equal(await pt.textContent('#receipt-method'), 'Vale-refeição', 'the receipt on the screen follows too');
      await pt.click('#language');

      await pt.click('#next');
      await pt.locator('#sale').waitFor();
      assert.equal(
        await pt.textContent('#pay button[data-method=cash]'),
        'Dinheiro',
        'the next customer is greeted in Portuguese',
      );
      await pt.reload();
      await pt.locator('#sale').waitFor();
      assert.equal(await pt.textContent('#terminal-store'), 'Loja K01', "the terminal's language is kept with it");
    } finally {
      await pt.close();
    }
    await invariants();
  });

  it('says every fixed text of the terminal in both languages', async () => {
    await assertBothLanguages(`${t.baseUrl}/kiosk`, 'kiosk-text.js', 21);
  });

  it('lets a manager find the first purchase by its number on the employees page and void it', async () => {
    const password = 'a long enough password 2';
    await createUser(t.app.ctx.database, { username: 'gerente', password, role: 'manager', stores: ['K01'] }, 'test', {
      hashCost: 'insecure-test-only',
    });
    const [first] = await checkouts();
    assert.ok(first);
    const before = { water: await onHand(WATER.sku), ham: await onHand(HAM.sku) };
    const staff = await browser.newPage({ locale: 'en-US' });
    try {
      await staff.goto(`${t.baseUrl}/`);
      await submitLogin(staff, 'gerente', password);
      await staff.locator('#work').waitFor();
      await staff.selectOption('#purchase-store', 'K01');
      await staff.fill('#purchase-form input[name=number]', String(first.id));
      await staff.click('#purchase-form button[type=submit]');
      await staff.locator('#purchase-lines').waitFor();
      assert.equal(await staff.locator('#purchase-lines tbody tr').count(), 4);
      assert.equal(await staff.textContent('#purchase-status'), 'completed');
      await staff.fill('#void-form input[name=reason]', 'customer returned it');
      await staff.click('#void-form button[type=submit]');
      await staff.locator('#purchase-status', { hasText: 'voided (customer returned it)' }).waitFor();
      assert.equal(await staff.locator('#void-form').count(), 0, 'a voided purchase cannot be voided again');
    } finally {
      await staff.close();
    }
    const voided = await db()
      .selectFrom('checkouts')
      .select('status')
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow();
    assert.equal(voided.status, 'voided');
    assert.equal(await onHand(WATER.sku), before.water + 2000, 'the goods are back on the shelf');
    assert.equal(await onHand(HAM.sku), before.ham + 350);
    await invariants();
  });
});
