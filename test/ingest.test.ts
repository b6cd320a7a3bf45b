// The ingest function end to end, on SQLite and MariaDB: files go into the real (local, versioned) sales bucket,
// events go through the durable queue, the same handler the Lambda runs loads them. After every scenario the
// ledger (balance = Σ movements) and the roll-up (= Σ sales lines) are checked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { registerCheckout } from '../src/checkout/checkouts.ts';
import { inTransaction } from '../src/db/tx.ts';
import { type DemoMasterData, type DemoOptions, generateMasterData, salesRows } from '../src/demo/generate.ts';
import { type CsvFormat, productsCsv, salesCsv, stockCsv, storesCsv } from '../src/demo/write.ts';
import { gtinCheckDigit } from '../src/domain/gtin.ts';
import { handleIngestEvent } from '../src/ingest/handler.ts';
import { ingestLocalFile, putSalesFile } from '../src/ingest/submit.ts';
import { applyMovements, ledgerMismatches } from '../src/inventory/ledger.ts';
import { listStock } from '../src/inventory/queries.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';
import { salesBy } from '../src/sales/queries.ts';
import { rollupMismatches } from '../src/sales/rollup.ts';
import type { S3Event } from '../src/storage/object-store.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { createStores } from './support/auth.ts';
import { backends } from './support/db.ts';

const OPTS: DemoOptions = { stores: 3, products: 60, days: 1, seed: 7, selfServiceShare: 0, rowsPerStoreDay: 120 };

for (const dialect of backends()) {
  describe(`ingest on ${dialect}`, () => {
    let t: TestApp;
    let master: DemoMasterData;
    let store: string;
    let initial: Map<string, number>;

    const submit = (bytes: Buffer, date: string, name = 'vendas.csv', storeCode = store) =>
      ingestLocalFile(t.app, { bytes, storeCode, businessDate: date, fileName: name, timeoutMs: 60_000 });
    const invariants = async () => {
      const db = t.app.ctx.database.db;
      assert.deepEqual(await ledgerMismatches(db), [], 'every balance equals the sum of its movements');
      assert.deepEqual(await rollupMismatches(db), [], 'the roll-up equals the sum of the sales lines');
    };
    const dayTotal = async (date: string) => {
      const rows = await salesBy(t.app.ctx.database.db, { from: date, to: date, by: 'store', store });
      return rows[0] ?? { key: store, quantity: 0, revenueCents: 0, tickets: 0 };
    };
    const onHand = async () =>
      new Map((await listStock(t.app.ctx.database.db, { store })).map((s) => [s.sku, Math.round(s.onHand * 1000)]));
    const rowsFor = (date: string) => salesRows({ ...OPTS, startDate: date }, master, store, date);
    const expected = (rows: ReturnType<typeof rowsFor>) => ({
      revenueCents: rows.reduce((a, r) => a + r.total_cents, 0),
      tickets: new Set(rows.map((r) => r.receipt_id)).size,
      bySku: rows.reduce((m, r) => m.set(r.sku, (m.get(r.sku) ?? 0) + r.quantity_milli), new Map<string, number>()),
    });

    before(async () => {
      t = await createTestApp(dialect, {
        SHOPFLOW_EVENT_LEASE_SECONDS: '2',
        SHOPFLOW_MAX_EXPANDED_BYTES: String(16 * 1024 * 1024),
      });
      master = generateMasterData(OPTS);
      store = master.stores[0]!.store_code;
      const db = t.app.ctx.database;
      assert.equal((await importStores(db, storesCsv(master))).rejected.length, 0);
      assert.equal((await importProducts(db, productsCsv(master))).rejected.length, 0);
      assert.equal((await importStock(db, stockCsv(master))).rejected.length, 0);
      initial = await onHand();
    });
    after(async () => t?.close());

    it('loads a file: sales, tickets and stock exactly as in the file', async () => {
      const rows = rowsFor('2026-02-02');
      const r = await submit(salesCsv(rows), '2026-02-02');
      assert.equal(r.status, 'loaded');
      assert.equal(r.rowsTotal, rows.length);
      assert.equal(r.rowsLoaded, rows.length);
      assert.deepEqual(r.rejections, []);
      const exp = expected(rows);
      const day = await dayTotal('2026-02-02');
      assert.equal(day.revenueCents, exp.revenueCents);
      assert.equal(day.tickets, exp.tickets);
      const now = await onHand();
      for (const [sku, q] of exp.bySku) assert.equal(now.get(sku), (initial.get(sku) ?? 0) - q, sku);
      await invariants();
    });

    it('reads every format variant of the contract to the same totals', async () => {
      const variants: Array<[string, Partial<CsvFormat>, boolean]> = [
        [
          'windows-1252, semicolon, decimal comma, Portuguese headers, BR dates, CRLF, trailer',
          {
            encoding: 'windows-1252',
            delimiter: ';',
            decimal: 'comma',
            headers: 'pt',
            dates: 'br',
            lineEnding: '\r\n',
            trailer: true,
          },
          false,
        ],
        ['UTF-8 with BOM, tab', { encoding: 'utf-8-bom', delimiter: '\t' }, false],
        ['gzip, decimal comma, comma delimiter (quoted numbers)', { decimal: 'comma' }, true],
        ['UTF-8, trailer, Portuguese headers', { headers: 'pt', trailer: true }, false],
      ];
      let day = 10;
      for (const [label, fmt, gz] of variants) {
        const date = `2026-02-${String(day++).padStart(2, '0')}`;
        const rows = rowsFor(date);
        const bytes = salesCsv(rows, fmt);
        const r = await submit(gz ? gzipSync(bytes) : bytes, date, gz ? 'vendas.csv.gz' : 'vendas.csv');
        assert.equal(r.status, 'loaded', `${label}: ${r.reason ?? JSON.stringify(r.rejections.slice(0, 3))}`);
        assert.equal(r.rowsLoaded, rows.length, label);
        assert.equal((await dayTotal(date)).revenueCents, expected(rows).revenueCents, label);
      }
      await invariants();
    });

    it('rejects each broken rule with its line, column and reason, loads the rest, and writes the errors file', async () => {
      const sku = master.products.find((p) => p.unit === 'UN' && p.ean)!;
      const kg = master.products.find((p) => p.unit === 'KG')!;
      const other = master.products.find((p) => p.ean && p.ean !== sku.ean)!;
      // a product the file names only by its 14-digit GTIN form: nothing else brought it in
      const alone = master.products.find((p) => p.unit === 'UN' && p.ean && p !== sku && p !== other)!;
      const price = (sku.price_cents / 100).toFixed(2);
      const alonePrice = (alone.price_cents / 100).toFixed(2);
      const unknownEan = `789999999999${gtinCheckDigit('789999999999')}`;
      assert.ok(sku.ean?.length === 13 && !master.products.some((p) => p.ean === unknownEan));
      const good = (receipt: string, line: number) =>
        `${receipt},${line},10:00,${sku.sku},${sku.ean},"Item, with comma",1,${price},0,${price},pix`;
      const lines = [
        'receipt_id,line_no,sold_at,sku,ean,description,quantity,unit_price,discount,total,payment_method',
        ...Array.from({ length: 120 }, (_, i) => good(`R${i}`, 1)),
        `X1,1,10:00,NOPE,,x,1,1.00,0,1.00,pix`, // line 122: unknown sku
        `X2,1,10:00,${sku.sku},${sku.ean},x,1.5,1.00,0,1.50,pix`, // 123: fractional UN
        `X3,1,10:00,${kg.sku},,"two\nlines",0.250,10.00,0,2.60,pix`, // 124-125: wrong total
        `R0,1,10:00,${sku.sku},${sku.ean},dup,1,1.00,0,1.00,pix`, // 126: duplicate line of receipt R0
        `Y1,1,10:00,,${sku.ean},x,1,${price},0,${price},pix`, // 127: the barcode alone names the product
        `Y2,1,10:00,,0${alone.ean},x,1,${alonePrice},0,${alonePrice},pix`, // 128: a 14-digit GTIN form too
        `Y3,1,10:00,${sku.sku},${other.ean},x,1,${price},0,${price},pix`, // 129: another product's barcode
        `Y4,1,10:00,,${unknownEan},x,1,${price},0,${price},pix`, // 130: a barcode no product has
      ];
      const r = await submit(Buffer.from(`${lines.join('\n')}\n`), '2026-02-20', 'com-erros.csv');
      assert.equal(r.status, 'loaded', r.reason);
      assert.equal(r.rowsTotal, 128);
      assert.equal(r.rowsLoaded, 122);
      assert.deepEqual(
        r.rejections.map((x) => [x.line, x.column]),
        [
          [122, 'sku'],
          [123, 'quantity'],
          [124, 'total'],
          [126, 'line_no'],
          [129, 'ean'],
          [130, 'ean'],
        ],
      );
      assert.match(r.rejections[0]!.reason, /not in the catalogue/);
      assert.match(r.rejections[2]!.reason, /expected 2\.50/);
      assert.equal(r.rejections[4]!.reason, `barcode belongs to product ${other.sku}, not to ${sku.sku}`);
      assert.match(r.rejections[5]!.reason, /no product in the catalogue has this barcode/);
      const errors = await t.app.ctx.store.get(
        t.config.buckets.sales,
        `rejected/${store}/2026-02-20/com-erros.errors.csv`,
      );
      const body = await text(errors.body);
      // the reason in English, then (motivo) in Portuguese for the store's people
      assert.match(
        body,
        /^line,column,value,reason,motivo\r\n122,sku,NOPE,product NOPE is not in the catalogue,o produto NOPE não está no cadastro\r\n/,
      );
      assert.equal(body.trim().split('\r\n').length, 7);
      await invariants();
    });

    it('fails a file over the reject threshold and loads nothing of it', async () => {
      const before = await onHand();
      const rows = rowsFor('2026-02-21');
      const broken = rows.map((r, i) => (i % 10 === 0 ? { ...r, total_cents: r.total_cents + 50 } : r));
      const r = await submit(salesCsv(broken), '2026-02-21');
      assert.equal(r.status, 'failed');
      assert.match(r.reason ?? '', /more than the 5\.0% allowed/);
      assert.ok(r.rejections.length > 0 && r.rejections.every((x) => x.column === 'total'));
      assert.equal((await dayTotal('2026-02-21')).revenueCents, 0);
      assert.deepEqual(await onHand(), before);
      const alerts = await t.app.ctx.database.db
        .selectFrom('alerts')
        .selectAll()
        .where('kind', '=', 'failed_file')
        .execute();
      const alert = alerts.find((a) => a.message.includes('2026-02-21'));
      assert.ok(alert);
      // the reason's code goes with it, for the alert's message in Portuguese
      assert.equal((JSON.parse(String(alert.details)) as { reasonCode?: string }).reasonCode, 'too_many_rejected');
      await invariants();
    });

    it('fails a file whose TOTAL line does not match, and one that is not text', async () => {
      const rows = rowsFor('2026-02-22');
      const csv = salesCsv(rows, { trailer: true }).toString('utf8');
      const altered = csv.replace(
        /\nTOTAL,([^\n]*)/,
        (_m, rest: string) =>
          `\nTOTAL,${rest.replace(/(\d)(\.\d\d)/, (_x, d: string, c: string) => `${(Number(d) + 1) % 10}${c}`)}`,
      );
      assert.notEqual(altered, csv);
      const r = await submit(Buffer.from(altered), '2026-02-22');
      assert.equal(r.status, 'failed');
      assert.match(r.reason ?? '', /TOTAL line .* truncated or altered/);
      const bin = await submit(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2]), '2026-02-22', 'planilha.csv');
      assert.equal(bin.status, 'failed');
      assert.match(bin.reason ?? '', /not a text CSV/);
      const noHeader = await submit(Buffer.from('1,2,3\n4,5,6\n'), '2026-02-22', 'sem-cabecalho.csv');
      assert.equal(noHeader.status, 'failed');
      assert.equal((await dayTotal('2026-02-22')).revenueCents, 0);
      await invariants();
    });

    it('answers duplicate for the same content under any name, and changes nothing', async () => {
      const date = '2026-02-02';
      const beforeStock = await onHand();
      const beforeDay = await dayTotal(date);
      const r = await submit(salesCsv(rowsFor(date)), date, 'de-novo.csv');
      assert.equal(r.status, 'duplicate');
      assert.deepEqual(await onHand(), beforeStock);
      assert.deepEqual(await dayTotal(date), beforeDay);
      await invariants();
    });

    it('replaces a store-day with a corrected file as a whole, and keeps both on record', async () => {
      const date = '2026-02-02';
      const v1 = rowsFor(date);
      const v2 = v1.slice(0, Math.floor(v1.length / 2));
      const before = await onHand();
      const r = await submit(salesCsv(v2), date, 'corrigido.csv');
      assert.equal(r.status, 'replaced');
      assert.equal((await dayTotal(date)).revenueCents, expected(v2).revenueCents);
      const e1 = expected(v1).bySku;
      const e2 = expected(v2).bySku;
      const now = await onHand();
      for (const p of master.products) {
        const delta = (e1.get(p.sku) ?? 0) - (e2.get(p.sku) ?? 0);
        assert.equal(now.get(p.sku), (before.get(p.sku) ?? 0) + delta, p.sku);
      }
      const files = await t.app.ctx.database.db
        .selectFrom('ingest_files')
        .select(['status', 'object_key'])
        .where('store_code', '=', store)
        .where('business_date', '=', date)
        .execute();
      assert.deepEqual(files.map((f) => f.status).sort(), ['duplicate', 'replaced', 'superseded']);
      await invariants();
    });

    it('keeps the newer upload when events arrive out of order, and ignores a repeated event', async () => {
      const date = '2026-02-23';
      const v1 = rowsFor(date);
      const v2 = v1.slice(5);
      // Two uploads; their events are taken from the queue and delivered by hand, newest first, then again.
      const p1 = await putSalesFile(t.app, {
        bytes: salesCsv(v1),
        storeCode: store,
        businessDate: date,
        fileName: 'a.csv',
      });
      const p2 = await putSalesFile(t.app, {
        bytes: salesCsv(v2),
        storeCode: store,
        businessDate: date,
        fileName: 'b.csv',
      });
      const events = await t.app.runtime!.queue.list({ status: 'pending', topic: 'ingest' });
      const payloadOf = (key: string) =>
        JSON.parse(
          events.find((e) => JSON.parse(e.payload).Records[0].s3.object.key === key.replace(/ /g, '+'))!.payload,
        ) as S3Event;
      const [o2] = await handleIngestEvent(t.app.ctx, payloadOf(p2.key));
      const [o1] = await handleIngestEvent(t.app.ctx, payloadOf(p1.key));
      const [again] = await handleIngestEvent(t.app.ctx, payloadOf(p2.key));
      assert.equal(o2!.status, 'loaded');
      assert.equal(o1!.status, 'superseded');
      assert.equal(again!.status, 'loaded');
      assert.equal((await dayTotal(date)).revenueCents, expected(v2).revenueCents);
      await t.app.runtime!.drain(); // the queued copies of both events are no-ops now
      assert.equal((await dayTotal(date)).revenueCents, expected(v2).revenueCents);
      await invariants();
    });

    it('finishes a load after the loading process is killed mid-file, with exact totals', async () => {
      const date = '2026-02-24';
      // more than the 8 MB that the first read keeps, so that the load reads the object again and the child can
      // stall that read halfway
      const big = salesRows({ ...OPTS, rowsPerStoreDay: 90_000, startDate: date }, master, store, date);
      const bytes = salesCsv(big);
      assert.ok(bytes.length > 8 * 1024 * 1024, `${bytes.length} bytes`);
      await putSalesFile(t.app, { bytes, storeCode: store, businessDate: date, fileName: 'grande.csv' });
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/ingest-worker-child.ts'], {
        env: { ...process.env, ...t.env, STALL_KEY_SUFFIX: '/grande.csv' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      const stalled = new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          if (stderr.includes('stalled\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the child exited (${code}) before the load: ${stderr}`)));
        setTimeout(
          () => reject(new Error(`the child did not reach the middle of the load: ${stderr}`)),
          60_000,
        ).unref();
      });
      await stalled.catch((e) => {
        child.kill('SIGKILL');
        throw e;
      });
      const { db } = t.app.ctx.database;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const mid = await db
        .selectFrom('ingest_files')
        .select('status')
        .where('object_key', 'like', '%grande.csv')
        .executeTakeFirstOrThrow();
      assert.equal(mid.status, 'processing', `the child should die mid-load (${stderr})`);
      assert.equal((await dayTotal(date)).revenueCents, 0, 'nothing of a half-loaded file is visible');
      await new Promise((r) => setTimeout(r, 2100)); // the dead worker's lease runs out
      await t.app.runtime!.drain();
      const f = await db
        .selectFrom('ingest_files')
        .selectAll()
        .where('object_key', 'like', '%grande.csv')
        .executeTakeFirstOrThrow();
      assert.equal(f.status, 'loaded');
      assert.equal((await dayTotal(date)).revenueCents, expected(big).revenueCents);
      await invariants();
    });

    it('loads a file whose name has spaces, +, % and accents', async () => {
      const rows = rowsFor('2026-02-25');
      const r = await submit(salesCsv(rows), '2026-02-25', 'vendas café+1 100%.csv');
      assert.equal(r.status, 'loaded', r.reason);
      assert.equal(r.key, `incoming/${store}/2026-02-25/vendas café+1 100%.csv`);
      assert.equal((await dayTotal('2026-02-25')).revenueCents, expected(rows).revenueCents);
    });

    it('commits once when the same event is delivered to two handlers at the same time', async () => {
      const date = '2026-02-26';
      const rows = rowsFor(date);
      const p = await putSalesFile(t.app, {
        bytes: salesCsv(rows),
        storeCode: store,
        businessDate: date,
        fileName: 'x.csv',
      });
      const ev = (await t.app.runtime!.queue.list({ status: 'pending', topic: 'ingest' })).find(
        (e) => JSON.parse(e.payload).Records[0].s3.object.key === p.key.replace(/ /g, '+'),
      )!;
      const payload = JSON.parse(ev.payload) as S3Event;
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, () => handleIngestEvent(t.app.ctx, payload).then((o) => o[0]!.status)),
      );
      assert.deepEqual(outcomes, ['loaded', 'loaded', 'loaded', 'loaded']);
      const lines = await t.app.ctx.database.db
        .selectFrom('sales_lines')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('business_date', '=', date)
        .executeTakeFirstOrThrow();
      assert.equal(Number(lines.n), rows.length);
      await t.app.runtime!.drain();
      await invariants();
    });

    it('aborts a gzip file that expands beyond the limit, without loading it', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x41)); // 64 MiB of 'A' in about 64 KB
      assert.ok(bomb.length < 200_000);
      const r = await submit(bomb, '2026-02-27', 'bomba.csv.gz');
      assert.equal(r.status, 'failed');
      assert.match(r.reason ?? '', /larger than 16777216 bytes once decompressed/);
      assert.equal((await dayTotal('2026-02-27')).revenueCents, 0);
    });

    it('sets aside an event that keeps failing and raises an operations alert for it', async () => {
      const payload = {
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: 'local',
            eventTime: new Date().toISOString(),
            eventName: 'ObjectCreated:Put',
            s3: {
              s3SchemaVersion: '1.0',
              bucket: { name: 'no-such-bucket', arn: 'arn:aws:s3:::no-such-bucket' },
              object: {
                key: `incoming/${store}/2026-02-28/x.csv`,
                size: 1,
                eTag: '"0"',
                versionId: 'v1',
                sequencer: '1',
              },
            },
          },
        ],
      };
      const { id } = await t.app.runtime!.queue.enqueue('ingest', 'test:dead-event', payload, { maxAttempts: 1 });
      await t.app.runtime!.drain();
      assert.equal((await t.app.runtime!.queue.get(id))?.status, 'dead');
      const alert = await t.app.ctx.database.db
        .selectFrom('alerts')
        .selectAll()
        .where('open_key', '=', `dead_event:${id}`)
        .executeTakeFirst();
      assert.ok(alert, 'a dead_event alert is open');
      assert.equal(alert.severity, 'critical');
      await t.app.runtime!.queue.replay(id);
      await t.app.runtime!.drain();
      assert.equal((await t.app.runtime!.queue.get(id))?.status, 'dead', 'replayed, and set aside again');
    });

    it("counts tickets exactly when a receipt's lines are scattered through the file", async () => {
      const date = '2026-03-10';
      // every first line, then every second line…: no receipt is one contiguous run any more
      const rows = [...rowsFor(date)].sort((a, b) => a.line_no - b.line_no || a.receipt_id.localeCompare(b.receipt_id));
      assert.ok(rows.some((r, i) => i > 0 && r.receipt_id !== rows[i - 1]!.receipt_id && r.line_no > 1));
      const r = await submit(salesCsv(rows), date, 'embaralhado.csv');
      assert.equal(r.status, 'loaded');
      assert.equal((await dayTotal(date)).tickets, expected(rows).tickets);
      const bySku = await salesBy(t.app.ctx.database.db, { from: date, to: date, by: 'product', store });
      for (const row of bySku) {
        const receipts = new Set(rows.filter((x) => x.sku === row.key).map((x) => x.receipt_id));
        assert.equal(row.tickets, receipts.size, row.key);
      }
      await invariants();
    });

    it("counts a sale once when it is both a checkout and a line of that day's file (reliability check 15)", async () => {
      await createStores({ app: t.app } as never, ['KIOSK9'], 'selfservice');
      const db = t.app.ctx.database;
      const kiosk9 = await db.db
        .selectFrom('stores')
        .select('id')
        .where('code', '=', 'KIOSK9')
        .executeTakeFirstOrThrow();
      const product = master.products[0]!;
      const productId = Number(
        (await db.db.selectFrom('products').select('id').where('sku', '=', product.sku).executeTakeFirstOrThrow()).id,
      );
      await inTransaction(db, (trx) =>
        applyMovements(trx, [
          {
            storeId: Number(kiosk9.id),
            productId,
            kind: 'receipt',
            deltaMilli: 10_000,
            ref: 'test:kiosk9',
            reason: 'shelf',
          },
        ]),
      );
      const sale = JSON.parse(
        (
          await registerCheckout(
            db,
            { store: 'KIOSK9', paymentMethod: 'pix', lines: [{ sku: product.sku, quantity: 2 }] },
            { actor: 'test', idempotencyKey: 'ingest-test-kiosk9' },
          )
        ).body,
      ) as { receiptId: string; businessDate: string; totalCents: number };
      // the store's system also exports the day, that sale included
      const rows = rowsFor(sale.businessDate).map((x, i) =>
        i === 0 ? { ...x, store_code: 'KIOSK9', receipt_id: sale.receiptId } : { ...x, store_code: 'KIOSK9' },
      );
      const r = await submit(salesCsv(rows), sale.businessDate, 'vendas.csv', 'KIOSK9');
      assert.equal(r.status, 'failed');
      assert.match(r.reason ?? '', /self-service store.*count them twice/);
      const [day] = await salesBy(db.db, {
        from: sale.businessDate,
        to: sale.businessDate,
        by: 'store',
        store: 'KIOSK9',
      });
      assert.deepEqual([day?.revenueCents, day?.tickets], [sale.totalCents, 1], 'the checkout, once');
      const [left] = await listStock(db.db, { store: 'KIOSK9' });
      assert.equal(left?.onHand, 8, 'stock moved once');
      await invariants();
    });

    it('keeps stock consistent with all files loaded', async () => {
      await inTransaction(t.app.ctx.database, async (trx) => {
        assert.deepEqual(await ledgerMismatches(trx), []);
      });
    });
  });
}
