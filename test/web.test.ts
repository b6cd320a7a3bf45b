// The employees' page in a real browser (Debian's chromium through playwright-core) against the whole server on a
// loopback port: a wrong password is refused on the page, a manager logs in, sends a day's sales file with one bad
// line and sees it loaded with that line's rejection (shown as text, not markup), then sees the day's revenue, best
// seller and the store's low stock as computed here from the rows, records counts, receipts and transfers as
// sheets, works a restock order, makes and revokes a token, an admin manages people, a Brazilian browser is spoken
// to in Portuguese until it asks for English, and the page logs out. The page only uses the API, whose every route
// is tested on both databases elsewhere: one backend is enough here.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type DemoMasterData, generateMasterData, iterateLargeDay } from '../src/demo/generate.ts';
import { productsCsv, salesCsv, storesCsv } from '../src/demo/write.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';
import { createUser, getUser } from '../src/users/users.ts';
import { login } from './support/auth.ts';
import { dayIn, yesterdayIn } from './support/dates.ts';
import { assertBothLanguages, submitLogin } from './support/page.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { onHandMilli } from './support/stock.ts';

const CHROMIUM = process.env.SHOPFLOW_CHROMIUM ?? '/usr/bin/chromium';
const HEADER =
  'store_code,business_date,receipt_id,line_no,sold_at,sku,ean,description,quantity,unit_price,discount,total,payment_method';
const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
// the browser and Node may space the currency differently (a no-break space or a plain one)
const spaced = (s: string) => s.replace(/\s/g, ' ');
const quantityText = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 });
const signed = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3, signDisplay: 'exceptZero' });

const field = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const decimal = (n: number, scale: number) => `${n < 0 ? '-' : ''}${(Math.abs(n) / 10 ** scale).toFixed(scale)}`;

describe('the employees page in a browser', () => {
  let t: TestServer;
  let master: DemoMasterData;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const password = 'a long enough password 1';

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (bash .ci/run does)`);
    t = await startTestServer('sqlite');
    // as `shopflow serve` does: the worker takes the upload's event on its own while the page polls
    t.app.runtime!.start();
    master = generateMasterData({ stores: 2, products: 40, days: 1, seed: 9, selfServiceShare: 0 });
    assert.equal((await importStores(t.app.ctx.database, storesCsv(master))).rejected.length, 0);
    assert.equal((await importProducts(t.app.ctx.database, productsCsv(master))).rejected.length, 0);
    // every shelf well stocked but the first product's, which starts below its reorder point
    const stock = master.products.map((p, i) => `S001,${p.sku},${i === 0 ? 2 : 1000},5,20`);
    const imported = await importStock(
      t.app.ctx.database,
      Buffer.from(`store_code,sku,on_hand,reorder_point,target_level\n${stock.join('\n')}\n`),
    );
    assert.equal(imported.rejected.length, 0);
    await createUser(t.app.ctx.database, { username: 'gerente', password, role: 'manager', stores: ['S001'] }, 'test', {
      hashCost: 'insecure-test-only',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // a browser that asks for English: the tests below read the page's English texts
    // and that lives at UTC+14: the page's dates must follow the store's day (São Paulo), not the browser's
    page = await browser.newPage({ locale: 'en-US', timezoneId: 'Pacific/Kiritimati' });
    // a script the CSP blocked, or any error the page threw, fails the test at the end
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  const onHand = (sku: string) => onHandMilli(t.app.ctx.database.db, 'S001', sku);

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the page and its files so that a browser revalidates them (no stale script after a release)', async () => {
    for (const path of ['/', '/app/app.js', '/app/style.css']) {
      const res = await fetch(`${t.baseUrl}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('cache-control') ?? '', /no-cache|max-age=0/, path);
      await res.arrayBuffer();
    }
  });

  it('refuses a wrong password on the page, then logs in', async () => {
    await page.goto(`${t.baseUrl}/`);
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('#work').isVisible(), false);
    await submitLogin(page, 'gerente', 'not the password');
    await page.locator('#login-error', { hasText: 'wrong username or password' }).waitFor();

    await submitLogin(page, 'gerente', password);
    await page.locator('#work').waitFor();
    assert.match((await page.textContent('#who-name')) ?? '', /gerente \(manager\)/);
    // a manager of S001 is offered S001 only
    assert.deepEqual(
      await page.locator('#upload-store option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
      ['S001'],
    );
    // the day's file defaults to the store's yesterday
    const { timezone } = await t.app.ctx.database.db
      .selectFrom('stores')
      .select('timezone')
      .where('code', '=', 'S001')
      .executeTakeFirstOrThrow();
    assert.equal(await page.inputValue('#upload-form input[name=date]'), yesterdayIn(timezone));
  });

  it("sends a day's file, follows its ingest and shows the rejected line as text", async () => {
    const date = '2026-02-03';
    const rows = [...iterateLargeDay({ rows: 120, seed: 5, storeCode: 'S001', date, products: master.products })];
    const bad = 2; // the third data row, on line 4 of the file
    const lines = rows.map((r, i) =>
      [
        r.store_code,
        r.business_date,
        r.receipt_id,
        String(r.line_no),
        r.sold_at,
        r.sku,
        r.ean,
        r.description,
        i === bad ? '<b>2</b>' : decimal(r.quantity_milli, 3),
        decimal(r.unit_price_cents, 2),
        decimal(r.discount_cents, 2),
        decimal(r.total_cents, 2),
        r.payment_method,
      ]
        .map(field)
        .join(','),
    );
    const body = Buffer.from(`${HEADER}\n${lines.join('\n')}\n`);

    await page.fill('#upload-form input[name=date]', date);
    // a name the bucket key cannot take as it is: the page makes it one
    await page.setInputFiles('#upload-form input[name=file]', {
      name: 'vendas de março.csv',
      mimeType: 'text/csv',
      buffer: body,
    });
    await page.click('#upload-form button[type=submit]');
    await page.locator('#file-status', { hasText: 'loaded' }).waitFor({ timeout: 30_000 });
    assert.match(
      (await page.textContent('#upload-result')) ?? '',
      new RegExp(`${rows.length} lines, ${rows.length - 1} loaded, 1 rejected`),
    );
    const keys = await t.app.ctx.database.db.selectFrom('ingest_files').select('object_key').execute();
    assert.deepEqual(
      keys.map((k) => k.object_key),
      [`incoming/S001/${date}/vendas-de-mar-o.csv`],
    );
    const cells = await page.locator('#rejections tbody tr').first().locator('td').allTextContents();
    assert.equal(cells[0], String(bad + 2));
    assert.equal(cells[1], 'quantity');
    assert.equal(cells[2], '<b>2</b>', 'the value is shown as the file wrote it');
    assert.equal(cells[3], 'quantity is not a number (expected e.g. 1234.56)');
    assert.equal(await page.locator('#rejections b').count(), 0, 'and never as markup');
    assert.equal(await page.locator('#rejections tbody tr').count(), 1);

    // the day's figures on the page are those of the loaded rows
    const loaded = rows.filter((_, i) => i !== bad);
    const revenue = loaded.reduce((a, r) => a + r.total_cents, 0);
    const byProduct = new Map<string, number>();
    for (const r of loaded) byProduct.set(r.sku, (byProduct.get(r.sku) ?? 0) + r.total_cents);
    const top = Math.max(...byProduct.values());

    await page.selectOption('#sales-store', 'S001');
    await page.fill('#sales-form input[name=from]', date);
    await page.fill('#sales-form input[name=to]', date);
    await page.click('#sales-form button[type=submit]');
    await page.locator('#kpi-revenue').waitFor();
    assert.equal(spaced((await page.textContent('#kpi-revenue .value')) ?? ''), spaced(brl.format(revenue / 100)));
    assert.equal(
      (await page.textContent('#kpi-tickets .value'))?.trim(),
      String(new Set(loaded.map((r) => r.receipt_id)).size),
    );
    const first = await page.locator('#best-sellers tbody tr').first().locator('td').allTextContents();
    assert.equal(first[0], '1');
    assert.equal(byProduct.get(first[1]!), top, `${first[1]} is not the best seller`);
    assert.equal(spaced(first[4] ?? ''), spaced(brl.format(top / 100)));
    // the store's low stock: the first product alone, less what the file sold of it
    const lowSku = master.products[0]!.sku;
    const sold = loaded.filter((r) => r.sku === lowSku).reduce((a, r) => a + r.quantity_milli, 0);
    await page.click('#stock-form button[type=submit]');
    await page.locator('#low-stock').waitFor();
    const low = await page
      .locator('#low-stock tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(low.length, 1, JSON.stringify(low));
    assert.equal(low[0]![0], lowSku);
    assert.equal(low[0]![2], new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 }).format((2000 - sold) / 1000));
    assert.deepEqual(low[0]!.slice(3), ['5', '20']);
    // a report of the day, generated from the page and downloaded with the session
    await page.selectOption('#report-form select[name=kind]', 'best-sellers');
    await page.fill('#report-form input[name=from]', date);
    await page.fill('#report-form input[name=to]', date);
    await page.selectOption('#report-form select[name=format]', 'csv');
    await page.click('#report-form button[type=submit]');
    const href = await page.locator('#report-download').getAttribute('href');
    assert.match(href ?? '', /^\/api\/v1\/reports\/\d+\/download$/);
    const report = await page.context().request.get(`${t.baseUrl}${href}`);
    assert.equal(report.status(), 200);
    assert.ok((await report.text()).includes(first[1]!), 'the best seller is in the report');
    assert.deepEqual(
      await page
        .locator('#recent-reports tbody tr td')
        .evaluateAll((tds) => tds.slice(0, 4).map((td) => td.textContent)),
      ['best-sellers', 'S001', date, 'csv'],
    );
    // the CSV links carry the same filters
    const csv = await page.getAttribute('#sales-result .downloads a >> nth=1', 'href');
    assert.equal(csv, `/api/v1/sales/best-sellers?from=${date}&to=${date}&store=S001&limit=100&format=csv`);
  });

  it("lists a store's restock orders, approves a draft and receives its delivery line by line", async () => {
    const { database } = t.app.ctx;
    const low = master.products[0]!;
    // a count on the page puts the shelf at 1, under its reorder point: its low-stock alert drafts the supplier's order
    // a count sheet: one product per line; a line the page cannot read, or a product the server does not know,
    // is named by the line it was typed on, and nothing of the sheet is recorded
    const third = master.products[2]!;
    const previous = await onHand(low.sku);
    const thirdBefore = await onHand(third.sku);
    await page.selectOption('#count-store', 'S001');
    await page.fill('#count-form textarea[name=lines]', `${low.sku} 1\n${third.sku} forty`);
    await page.click('#count-form button[type=submit]');
    await page.locator('#count-result .error', { hasText: `line 2 ("${third.sku} forty")` }).waitFor();
    await page.fill('#count-form textarea[name=lines]', `${low.sku} 1\n\nNO-SUCH-SKU 1`);
    await page.click('#count-form button[type=submit]');
    await page
      .locator('#count-result .error', { hasText: 'line 3: there is no product with SKU NO-SUCH-SKU' })
      .waitFor();
    assert.equal(await onHand(low.sku), previous, 'a refused sheet records nothing');
    await page.fill('#count-form textarea[name=lines]', `${low.sku} 1\n${third.sku};40\n`);
    await page.click('#count-form button[type=submit]');
    await page.locator('#count-done').waitFor();
    assert.deepEqual(await page.locator('#count-done li').allTextContents(), [
      `${low.sku} ${low.name}: ${quantityText.format(previous / 1000)} → 1 (${signed.format((1000 - previous) / 1000)})`,
      `${third.sku} ${third.name}: ${quantityText.format(thirdBefore / 1000)} → 40 (${signed.format((40_000 - thirdBefore) / 1000)})`,
    ]);
    await page.locator('#count-result', { hasText: 'Recorded by user:gerente' }).waitFor();
    assert.equal(await onHand(low.sku), 1000);
    assert.equal(await onHand(third.sku), 40_000);
    // under the count form's usual reason, in the page's language
    const counted = await t.app.ctx.database.db
      .selectFrom('stock_movements')
      .select('reason')
      .where('kind', '=', 'count')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.match(counted.reason ?? '', /^shelf count \(counted 40, /);

    // goods that came without an order, under their delivery note: received once
    const other = master.products[1]!;
    const otherBefore = await onHand(other.sku);
    await page.selectOption('#receipt-store', 'S001');
    await page.fill('#receipt-form input[name=reference]', 'NF-555');
    await page.fill('#receipt-form textarea[name=lines]', `${other.sku}\t12\n${third.sku}   3`);
    await page.click('#receipt-form button[type=submit]');
    await page.locator('#receipt-done').waitFor();
    assert.deepEqual(await page.locator('#receipt-done li').allTextContents(), [
      `${other.sku} ${other.name} +12, now ${quantityText.format(otherBefore / 1000 + 12)} on hand`,
      `${third.sku} ${third.name} +3, now 43 on hand`,
    ]);
    assert.equal(await onHand(other.sku), otherBefore + 12_000);
    assert.equal(await onHand(third.sku), 43_000);
    await page.fill('#receipt-form textarea[name=lines]', `${other.sku} 12`);
    await page.click('#receipt-form button[type=submit]');
    await page.locator('#receipt-result .error', { hasText: 'NF-555' }).waitFor();
    assert.equal(await onHand(other.sku), otherBefore + 12_000, 'the same document is not received twice');
    const draft = await database.db
      .selectFrom('restock_orders as o')
      .innerJoin('restock_order_lines as l', 'l.order_id', 'o.id')
      .innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['o.id', 'o.status', 'l.quantity_milli'])
      .where('p.sku', '=', low.sku)
      .executeTakeFirstOrThrow();
    assert.equal(draft.status, 'draft');
    const ordered = Number(draft.quantity_milli);
    assert.ok(ordered > 0);

    await page.selectOption('#restock-store', 'S001');
    await page.click('#restock-form button[type=submit]');
    const row = page.locator(`#restock-orders tr[data-order="${draft.id}"]`);
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /draft/);
    await row.getByRole('button', { name: 'Open' }).click();
    await page.locator('#order-lines').waitFor();
    const cells = await page.locator('#order-lines tbody tr').first().locator('td').allTextContents();
    assert.equal(cells[0], low.sku);
    assert.equal(cells[2], quantityText.format(ordered / 1000));
    assert.ok((cells[5] ?? '').length > 0, 'each line says why its quantity');

    await page.click('#order-approve');
    await page.locator('#order-status', { hasText: 'issued' }).waitFor();
    await page.locator(`#restock-orders tr[data-order="${draft.id}"]`, { hasText: 'issued' }).waitFor();
    const issued = await database.db
      .selectFrom('restock_orders')
      .select(['status', 'approved_by'])
      .where('id', '=', draft.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(issued, { status: 'issued', approved_by: 'user:gerente' });

    // part of it arrives
    const stockBefore = await onHand(low.sku);
    const part = Math.floor(ordered / 2000);
    assert.ok(part > 0, 'an order of at least two units');
    await page.fill(`#receive-form input[data-sku="${low.sku}"]`, String(part));
    await page.fill('#receive-form input[name=reference]', 'NF-9001');
    await page.click('#receive-form button[type=submit]');
    await page.locator('#order-status', { hasText: 'partly received' }).waitFor();
    assert.equal(await onHand(low.sku), stockBefore + part * 1000);
    // the same delivery note again is refused, and nothing moves
    await page.fill('#receive-form input[name=reference]', 'NF-9001');
    await page.click('#receive-form button[type=submit]');
    await page.locator('#restock-order .error', { hasText: 'NF-9001' }).waitFor();
    assert.equal(await onHand(low.sku), stockBefore + part * 1000);
    // the rest arrives: the order closes
    await page.fill('#receive-form input[name=reference]', 'NF-9002');
    await page.click('#receive-form button[type=submit]');
    await page.locator('#order-status', { hasText: 'closed' }).waitFor();
    // the list follows (it shows open orders: a closed one leaves it)
    await page.locator(`#restock-orders tr[data-order="${draft.id}"]`).waitFor({ state: 'detached' });
    assert.equal(await onHand(low.sku), stockBefore + ordered);
  });

  it("makes a kiosk token for a manager's store, shown once, that works until it is revoked from the page", async () => {
    assert.equal(await page.locator('#tokens').isVisible(), true, "managers make their stores' tokens");
    await page.selectOption('#tokens-store', 'S001');
    await page.selectOption('#tokens-form select[name=purpose]', 'kiosk');
    await page.fill('#tokens-form input[name=label]', 'Kiosk <i>1</i>');
    await page.click('#tokens-form button[type=submit]');
    const secret = (await page.locator('#token-secret').textContent()) ?? '';
    const me = (token: string) =>
      fetch(`${t.baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    const res = await me(secret);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(
      { ...body, tokenId: undefined },
      {
        kind: 'token',
        tokenId: undefined,
        purpose: 'kiosk',
        stores: ['S001'],
        allStores: false,
      },
    );
    const row = page.locator('#tokens-table tbody tr', { hasText: 'Kiosk <i>1</i>' });
    await row.waitFor();
    assert.equal(await page.locator('#tokens-table i').count(), 0, 'the label is text, not markup');
    assert.ok(!(await page.textContent('#tokens-result'))?.includes(secret), 'the list never shows a secret');

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await me(secret)).status, 401, 'a revoked token stops at its next request');
  });

  it('transfers stock between two stores for a manager of both, and refuses more than the sender has', async () => {
    assert.equal(await page.locator('#transfer').isVisible(), false, 'a manager of one store has nowhere to send to');
    await createUser(
      t.app.ctx.database,
      { username: 'regional', password, role: 'manager', stores: ['S001', 'S002'] },
      'test',
      { hashCost: 'insecure-test-only' },
    );
    // the second store lies in a time zone whose day is not the first one's now (UTC+14 or UTC-12, whichever
    // differs at this hour): each form's dates must follow the store it is set to
    const { db } = t.app.ctx.database;
    const first = await db.selectFrom('stores').select('timezone').where('code', '=', 'S001').executeTakeFirstOrThrow();
    const zone = ['Pacific/Kiritimati', 'Etc/GMT+12'].find((z) => dayIn(z) !== dayIn(first.timezone))!;
    await db.updateTable('stores').set({ timezone: zone }).where('code', '=', 'S002').execute();
    await page.click('#logout');
    await submitLogin(page, 'regional', password);
    await page.locator('#transfer').waitFor();
    const dateOf = (form: string, name: string) => page.inputValue(`#${form} input[name=${name}]`);
    assert.equal(await dateOf('upload-form', 'date'), yesterdayIn(first.timezone), 'S001 is chosen first');
    await page.selectOption('#upload-store', 'S002');
    assert.equal(await dateOf('upload-form', 'date'), yesterdayIn(zone), "S002's own yesterday");
    // all the manager's stores together: the yesterday that has ended in both
    const earliest = [yesterdayIn(first.timezone), yesterdayIn(zone)].sort()[0];
    assert.equal(await dateOf('sales-form', 'to'), earliest);
    await page.selectOption('#sales-store', 'S002');
    assert.equal(await dateOf('sales-form', 'to'), yesterdayIn(zone));
    // a date typed by the person is theirs: choosing another store leaves it
    await page.fill('#report-form input[name=from]', '2026-01-15');
    await page.selectOption('#report-store', 'S002');
    assert.equal(await dateOf('report-form', 'from'), '2026-01-15');
    await db.updateTable('stores').set({ timezone: first.timezone }).where('code', '=', 'S002').execute();

    const sku = master.products[1]!.sku;
    const from = await onHand(sku);
    const to = await onHandMilli(t.app.ctx.database.db, 'S002', sku, { missing: 0 });
    // it offers another store to send to, not the sending one
    assert.deepEqual(
      [await page.inputValue('#transfer-from'), await page.inputValue('#transfer-to')],
      ['S001', 'S002'],
    );
    await page.fill('#transfer-form input[name=reason]', 'S002 ran out');
    await page.fill('#transfer-form textarea[name=lines]', `${sku} ${from / 1000 + 1}`);
    await page.click('#transfer-form button[type=submit]');
    await page
      .locator('#transfer-result .error', {
        hasText: `does not have enough to send; nothing was recorded. line 1: only ${from / 1000} on hand`,
      })
      .waitFor();
    assert.equal(await onHand(sku), from, 'a refused transfer moves nothing');

    await page.fill('#transfer-form textarea[name=lines]', `${sku} 3`);
    await page.click('#transfer-form button[type=submit]');
    await page.locator('#transfer-done').waitFor();
    assert.equal(
      await page.textContent('#transfer-done'),
      `${sku} ${master.products[1]!.name}: 3 from S001 (now ${quantityText.format(from / 1000 - 3)}) to S002 (now ${quantityText.format(to / 1000 + 3)})`,
    );
    assert.equal(await onHand(sku), from - 3000);
    assert.equal(await onHandMilli(t.app.ctx.database.db, 'S002', sku), to + 3000);
  });

  it('lets an admin add a person, change their role and stores, disable them and give them a new password', async () => {
    assert.equal(await page.locator('#users').isVisible(), false, 'only admins manage people');
    await createUser(t.app.ctx.database, { username: 'escritorio', password, role: 'admin', stores: [] }, 'test', {
      hashCost: 'insecure-test-only',
    });
    await page.click('#logout');
    await submitLogin(page, 'escritorio', password);
    await page.locator('#users').waitFor();
    const { database } = t.app.ctx;
    const tryLogin = (username: string, pw: string) =>
      fetch(`${t.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: pw }),
      });

    // a clerk needs a store: refused, and nobody is added
    await page.fill('#user-form input[name=username]', 'caixa1');
    await page.selectOption('#user-form select[name=role]', 'clerk');
    await page.click('#user-form button[type=submit]');
    await page.locator('#user-made .error', { hasText: 'needs at least one store' }).waitFor();
    await assert.rejects(getUser(database, 'caixa1'), /does not exist/);

    await page.fill('#user-form input[name=displayName]', 'Ana <b>Caixa</b>');
    await page.selectOption('#user-stores', ['S002']);
    await page.click('#user-form button[type=submit]');
    const first = (await page.locator('#user-password').textContent()) ?? '';
    assert.equal(first.length, 20, first);
    const clerk = await login(t, 'caixa1', first);
    const me = (await (await fetch(`${t.baseUrl}/api/v1/auth/me`, { headers: clerk.headers() })).json()) as {
      role: string;
      stores: string[];
      displayName: string;
    };
    assert.deepEqual([me.role, me.stores, me.displayName], ['clerk', ['S002'], 'Ana <b>Caixa</b>']);
    const row = page.locator('#users-table tr[data-user=caixa1]');
    await row.waitFor();
    assert.equal(await page.locator('#users-table b').count(), 0, 'the name is text, not markup');
    assert.ok(!(await page.textContent('#users-result'))?.includes(first), 'the list never shows a password');

    await row.getByRole('button', { name: 'Change' }).click();
    const change = page.locator('#users-table tr[data-change=caixa1]');
    await change.locator('select[name=role]').selectOption('manager');
    await change.locator('select[name=stores]').selectOption(['S001', 'S002']);
    await change.getByRole('button', { name: 'Save' }).click();
    await row.locator('td', { hasText: 'S001, S002' }).waitFor();
    const changed = await getUser(database, 'caixa1');
    assert.deepEqual([changed.role, changed.stores], ['manager', ['S001', 'S002']]);

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.locator('td', { hasText: 'disabled' }).waitFor();
    assert.equal((await getUser(database, 'caixa1')).disabled, true);
    const ended = await fetch(`${t.baseUrl}/api/v1/auth/me`, { headers: clerk.headers() });
    assert.equal(ended.status, 401, 'disabling ends their sessions');
    assert.equal((await tryLogin('caixa1', first)).status, 401, 'a disabled person cannot log in');

    await row.getByRole('button', { name: 'Enable' }).click();
    await row.locator('td', { hasText: 'active' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'New password' }).click();
    await page.locator('#user-password', { hasNotText: first }).waitFor();
    const second = (await page.locator('#user-password').textContent()) ?? '';
    assert.equal((await tryLogin('caixa1', first)).status, 401, 'the old password stops working');
    assert.equal((await tryLogin('caixa1', second)).status, 200);
  });

  it('speaks Portuguese to a Brazilian browser, and English once asked, remembered at that browser', async () => {
    const pt = await browser.newPage({ locale: 'pt-BR' });
    pt.on('pageerror', (e) => problems.push(e.message));
    try {
      await pt.goto(`${t.baseUrl}/`);
      await pt.locator('#login-form').waitFor();
      assert.equal(await pt.getAttribute('html', 'lang'), 'pt-BR');
      assert.equal(await pt.textContent('#login h2'), 'Entrar');
      await submitLogin(pt, 'gerente', 'not the password');
      await pt.locator('#login-error', { hasText: 'usuário ou senha incorretos' }).waitFor();
      await submitLogin(pt, 'gerente', password);
      await pt.locator('#work').waitFor();
      assert.equal(await pt.textContent('#who-name'), 'gerente (gerente)');
      assert.equal(await pt.textContent('#upload h2'), 'Enviar o arquivo de vendas de um dia');
      assert.equal(await pt.textContent('#logout'), 'Sair');
      assert.deepEqual(await pt.locator('#sales-store option').first().textContent(), 'Todas as minhas lojas');

      await pt.selectOption('#stock-store', 'S001');
      await pt.click('#stock-form button[type=submit]');
      // (the earlier tests restocked the shelf: the answer may be the table or that nothing is low)
      await pt.locator('#stock-result > *').first().waitFor();
      assert.match((await pt.textContent('#stock-result')) ?? '', /Ponto de reposição|Nada está no ponto de reposição/);
      assert.equal(await pt.inputValue('#count-form input[name=reason]'), 'contagem de prateleira');
      await pt.fill('#count-form textarea[name=lines]', 'só texto');
      await pt.click('#count-form button[type=submit]');
      await pt.locator('#count-result .error', { hasText: 'linha 1 ("só texto"): escreva um SKU' }).waitFor();
      // a line the server refuses is said in Portuguese too
      await pt.fill('#count-form textarea[name=lines]', `${master.products[0]!.sku} 3\nNAO-EXISTE 1`);
      await pt.click('#count-form button[type=submit]');
      await pt
        .locator('#count-result .error', {
          hasText: 'Nada foi registrado. linha 2: não há produto com o SKU NAO-EXISTE',
        })
        .waitFor();

      // a day's file: its refused line's reason in the page's language too
      const refusedLine = async (date: string) => {
        const csv = salesCsv(
          [...iterateLargeDay({ rows: 40, seed: 6, storeCode: 'S001', date, products: master.products })].map((r, i) =>
            i === 1 ? { ...r, sku: 'NAO-EXISTE', ean: '' } : r,
          ),
        );
        await pt.fill('#upload-form input[name=date]', date);
        await pt.setInputFiles('#upload-form input[name=file]', { name: 'dia.csv', mimeType: 'text/csv', buffer: csv });
        await pt.click('#upload-form button[type=submit]');
        await pt.locator('#rejections').waitFor({ timeout: 30_000 });
        const cells = await pt.locator('#rejections tbody tr').first().locator('td').allTextContents();
        await pt.locator('#upload-result').evaluate((node) => node.replaceChildren());
        return cells;
      };
      assert.deepEqual(await refusedLine('2026-02-10'), [
        '3',
        'sku',
        'NAO-EXISTE',
        'o produto NAO-EXISTE não está no cadastro',
      ]);

      await pt.click('#language');
      assert.equal(await pt.getAttribute('html', 'lang'), 'en-GB');
      assert.equal(await pt.textContent('#upload h2'), "Send a day's sales file");
      assert.equal(await pt.textContent('#who-name'), 'gerente (manager)');
      await pt.click('#stock-form button[type=submit]');
      await pt.locator('#stock-result', { hasText: /Reorder point|Nothing is at or below/ }).waitFor();
      assert.equal(await pt.inputValue('#count-form input[name=reason]'), 'shelf count', 'the usual reason follows');
      // the browser still asks for Portuguese; the page asks for the language chosen on it
      assert.equal((await refusedLine('2026-02-11'))[3], 'product NAO-EXISTE is not in the catalogue');
      await pt.reload();
      await pt.locator('#work').waitFor();
      assert.equal(await pt.textContent('#language'), 'Português', 'the choice is kept at this browser');
      assert.equal(await pt.textContent('#upload h2'), "Send a day's sales file");
    } finally {
      await pt.close();
    }
  });

  it('says every fixed text of the page in both languages', async () => {
    await assertBothLanguages(`${t.baseUrl}/`, 'app-text.js', 61);
  });

  it('logs out: the session is gone, and a reload shows the login form again', async () => {
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
    for (const id of [
      '#upload-result',
      '#stock-result',
      '#count-result',
      '#receipt-result',
      '#transfer-result',
      '#restock-result',
      '#restock-order',
      '#report-result',
      '#sales-result',
      '#token-made',
      '#tokens-result',
      '#user-made',
      '#users-result',
    ]) {
      assert.equal(await page.locator(`${id} > *`).count(), 0, `${id} is emptied for whoever logs in next`);
    }
    await page.reload();
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('#work').isVisible(), false);
    assert.deepEqual(
      // refused requests the tests provoke (a wrong password, a delivery note received twice) are not faults
      problems.filter((p) => !p.startsWith('Failed to load resource')),
      [],
    );
  });
});
