// Uploading sales files over real HTTP, on SQLite and MariaDB: the body streams into the sales bucket, the file
// record is there at once to poll, the real ingest (queue + worker) loads it, and the sales API then shows its
// totals, computed here from the generated rows. Refusals (too large, not text, a bad date, someone else's store)
// store nothing. On S3 (moto) the server hands out a presigned PUT for exactly the store-day's key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { eventRoutes } from '../src/app.ts';
import { type DemoMasterData, generateMasterData, iterateLargeDay, salesRows } from '../src/demo/generate.ts';
import { productsCsv, salesCsv, storesCsv } from '../src/demo/write.ts';
import { importProducts, importStores } from '../src/masterdata/import.ts';
import { reconcileObjects } from '../src/runtime/object-events.ts';
import { createTokenHeaders, createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startVersionedS3Server } from './support/s3-server.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const OPTS = { stores: 2, products: 40, days: 1, seed: 9, selfServiceShare: 0, rowsPerStoreDay: 25 };
// above Fastify's default body limit (1 MiB), which must not apply to a streamed upload
const LIMIT = 3 * 1024 * 1024;

async function setup(t: TestServer): Promise<DemoMasterData> {
  const master = generateMasterData(OPTS);
  assert.equal((await importStores(t.app.ctx.database, storesCsv(master))).rejected.length, 0);
  assert.equal((await importProducts(t.app.ctx.database, productsCsv(master))).rejected.length, 0);
  return master;
}

async function objectsUnder(t: TestServer, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of t.app.ctx.store.list(t.config.buckets.sales, prefix)) keys.push(o.key);
  return keys;
}

for (const dialect of backends()) {
  describe(`sales file uploads on ${dialect}`, () => {
    let t: TestServer;
    let master: DemoMasterData;
    let token: { authorization: string };
    let manager: LoggedInUser;

    const put = (path: string, body: Buffer | string | ReadableStream, headers: Record<string, string>) =>
      fetch(`${t.baseUrl}/api/v1${path}`, {
        method: 'PUT',
        headers,
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);

    /** Polls the file until the ingest has an answer, running the worker between polls. */
    async function poll(location: string, headers: Record<string, string>) {
      for (;;) {
        await t.app.runtime!.drain();
        const res = await fetch(`${t.baseUrl}${location}`, { headers });
        const file = (await res.json()) as { status: string; rowsLoaded: number; rowsTotal: number; reason: string };
        assert.equal(res.status, 200);
        if (!['received', 'processing'].includes(file.status)) return file;
      }
    }

    async function dayRevenue(store: string, date: string): Promise<{ revenueCents: number; tickets: number }> {
      const res = await fetch(`${t.baseUrl}/api/v1/sales/kpis?store=${store}&from=${date}&to=${date}`, {
        headers: manager.headers(),
      });
      return ((await res.json()) as { current: { revenueCents: number; tickets: number } }).current;
    }

    before(async () => {
      t = await startTestServer(dialect, { SHOPFLOW_MAX_FILE_BYTES: String(LIMIT) });
      master = await setup(t);
      token = await createTokenHeaders(t, { store: 'S001', purpose: 'upload' });
      manager = await createUserAndLogin(t, { role: 'manager', stores: ['S001'] });
    });
    after(async () => t?.close());

    it('stores the body, gives a file id to poll, and the ingest loads it with the right totals', async () => {
      const date = '2026-02-02';
      const rows = [...iterateLargeDay({ rows: 16_000, seed: 4, storeCode: 'S001', date, products: master.products })];
      const body = salesCsv(rows);
      assert.ok(body.length > 1024 * 1024 && body.length < LIMIT, `${body.length} bytes`);
      const res = await put(`/stores/S001/sales-files/${date}?name=vendas.csv`, body, {
        ...token,
        'content-type': 'text/csv',
      });
      const answer = (await res.json()) as { fileId: number; key: string; status: string; sizeBytes: number };
      assert.equal(res.status, 202, JSON.stringify(answer));
      assert.equal(answer.key, `incoming/S001/${date}/vendas.csv`);
      assert.equal(answer.sizeBytes, body.length);
      assert.equal(res.headers.get('location'), `/api/v1/files/${answer.fileId}`);
      assert.deepEqual(await objectsUnder(t, `incoming/S001/${date}/`), [answer.key]);
      const file = await poll(res.headers.get('location')!, token);
      assert.equal(file.status, 'loaded', file.reason);
      assert.equal(file.rowsLoaded, rows.length);
      const day = await dayRevenue('S001', date);
      assert.equal(
        day.revenueCents,
        rows.reduce((a, r) => a + r.total_cents, 0),
      );
      assert.equal(day.tickets, new Set(rows.map((r) => r.receipt_id)).size);
      const records = await t.app.ctx.database.db
        .selectFrom('ingest_files')
        .select('id')
        .where('object_key', '=', answer.key)
        .execute();
      assert.equal(records.length, 1, 'the ingest reused the record the upload created');
    });

    it('accepts a gzip file from a manager, streamed without a declared length', async () => {
      const date = '2026-02-03';
      const rows = salesRows({ ...OPTS, startDate: date }, master, 'S001', date);
      const gz = gzipSync(salesCsv(rows));
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(gz.subarray(0, 10));
          c.enqueue(gz.subarray(10));
          c.close();
        },
      });
      const res = await put(`/stores/S001/sales-files/${date}?name=vendas.csv.gz`, stream, {
        ...manager.headers(),
        'content-type': 'application/gzip',
      });
      assert.equal(res.status, 202, await res.clone().text());
      const file = await poll(res.headers.get('location')!, manager.headers());
      assert.equal(file.status, 'loaded', file.reason);
      assert.equal(
        (await dayRevenue('S001', date)).revenueCents,
        rows.reduce((a, r) => a + r.total_cents, 0),
      );
    });

    it('refuses a file over the limit with 413 and stores nothing, declared or streamed', async () => {
      const date = '2026-02-04';
      const big = Buffer.alloc(LIMIT * 3, 'a,b,c\n');
      const declared = await put(`/stores/S001/sales-files/${date}?name=big.csv`, big, {
        ...token,
        'content-type': 'text/csv',
      });
      assert.equal(declared.status, 413);
      assert.match(((await declared.json()) as { detail: string }).detail, /limit/);
      const streamed = await put(
        `/stores/S001/sales-files/${date}?name=big.csv`,
        new ReadableStream({
          start(c) {
            for (let i = 0; i < 6; i++) c.enqueue(big.subarray(i * LIMIT * 0.5, (i + 1) * LIMIT * 0.5));
            c.close();
          },
        }),
        { ...token, 'content-type': 'text/csv' },
      );
      assert.equal(streamed.status, 413);
      // refused before the body was read through: the connection is not reused for the client's next request,
      // which would otherwise wait behind the rest of this body
      assert.equal(streamed.headers.get('connection'), 'close');
      assert.equal(declared.headers.get('connection'), 'close');
      assert.deepEqual(await objectsUnder(t, `incoming/S001/${date}/`), []);
      const records = await t.app.ctx.database.db
        .selectFrom('ingest_files')
        .select('id')
        .where('business_date', '=', date)
        .execute();
      assert.deepEqual(records, []);
    });

    it('refuses a body that is not text, naming what it looks like, and stores nothing', async () => {
      const date = '2026-02-05';
      const cases: Array<[string, Buffer, string, RegExp]> = [
        ['x.csv', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'application/octet-stream', /PDF/],
        ['x.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), 'text/csv', /spreadsheet|ZIP/],
        ['x.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'text/csv', /PNG/],
        ['x.csv', Buffer.from('receipt_id,line_no\n1,\0\0\0\0'), 'text/csv', /NUL byte at offset 21/],
        ['x.csv', gzipSync(Buffer.from('a,b\n1,2\n')), 'text/csv', /gzip.*\.csv\.gz/],
        ['x.csv.gz', Buffer.from('a,b\n1,2\n'), 'application/gzip', /not gzip/],
        ['x.csv.gz', gzipSync(Buffer.from('ab\0cd')), 'application/gzip', /NUL byte.*inflated/],
        ['x.csv', Buffer.alloc(0), 'text/csv', /empty/],
      ];
      for (const [name, body, type, re] of cases) {
        const res = await put(`/stores/S001/sales-files/${date}?name=${name}`, body, {
          ...token,
          'content-type': type,
        });
        const problem = (await res.json()) as { detail: string };
        assert.equal(res.status, 400, `${name} ${type}: ${JSON.stringify(problem)}`);
        assert.match(problem.detail, re);
      }
      const json = await put(`/stores/S001/sales-files/${date}`, '{"a":1}', {
        ...token,
        'content-type': 'application/json',
      });
      assert.equal(json.status, 415);
      assert.deepEqual(await objectsUnder(t, `incoming/S001/${date}/`), []);
    });

    it('refuses a wrong date or file name in the request with 400', async () => {
      const body = salesCsv(salesRows({ ...OPTS, startDate: '2026-02-06' }, master, 'S001', '2026-02-06'));
      for (const path of [
        '/stores/S001/sales-files/2026-02-30',
        '/stores/S001/sales-files/06-02-2026',
        '/stores/S001/sales-files/yesterday',
        '/stores/S001/sales-files/2026-02-06?name=../x.csv',
        '/stores/S001/sales-files/2026-02-06?name=x.xlsx',
      ]) {
        const res = await put(path, body, { ...token, 'content-type': 'text/csv' });
        assert.equal(res.status, 400, `${path}: ${await res.text()}`);
      }
      assert.deepEqual(await objectsUnder(t, 'incoming/S001/2026-02-06/'), []);
    });

    it("says a file's and its lines' reasons in the language the caller prefers", async () => {
      const date = '2026-02-08';
      const rows = salesRows({ ...OPTS, startDate: date }, master, 'S001', date);
      const send = async (body: Buffer, name: string) => {
        const res = await put(`/stores/S001/sales-files/${date}?name=${name}`, body, {
          ...token,
          'content-type': 'text/csv',
        });
        assert.equal(res.status, 202, await res.clone().text());
        return (await poll(res.headers.get('location')!, token)) as unknown as { id: number; status: string };
      };
      // one unknown product in 25 lines: loaded, that line refused
      const one = await send(salesCsv(rows.map((r, i) => (i === 3 ? { ...r, sku: 'NOPE', ean: '' } : r))), 'a.csv');
      assert.equal(one.status, 'loaded');
      type Detail = { reason: string | null; rejections: Array<{ line: number; reason: string }> };
      const detail = async (id: number, language?: string) => {
        const res = await fetch(`${t.baseUrl}/api/v1/files/${id}`, {
          headers: { ...token, ...(language ? { 'accept-language': language } : {}) },
        });
        assert.equal(res.status, 200);
        return { body: (await res.json()) as Detail, language: res.headers.get('content-language') };
      };
      const pt = await detail(one.id, 'pt-BR,pt;q=0.9,en;q=0.8');
      assert.equal(pt.language, 'pt-BR');
      assert.deepEqual(pt.body.rejections, [
        { line: 5, column: 'sku', value: 'NOPE', reason: 'o produto NOPE não está no cadastro' },
      ]);
      for (const language of [undefined, 'en-GB,pt;q=0.5', 'de-DE']) {
        const en = await detail(one.id, language);
        assert.equal(en.language, 'en', language);
        assert.equal(en.body.rejections[0]?.reason, 'product NOPE is not in the catalogue', language);
      }

      // the same with three of them: over the 5% allowed, the file fails as a whole
      const many = await send(
        salesCsv(rows.map((r, i) => (i % 8 === 0 ? { ...r, sku: 'NOPE', ean: '' } : r))),
        'b.csv',
      );
      assert.equal(many.status, 'failed');
      const failed = await detail(many.id, 'pt');
      assert.equal(
        failed.body.reason,
        '4 de 25 linhas (16,0%) foram recusadas, mais que os 5,0% permitidos: nada foi carregado',
      );
      assert.equal(
        (await detail(many.id)).body.reason,
        '4 of 25 lines (16.0%) were rejected, more than the 5.0% allowed: nothing was loaded',
      );
      // a file its reader cannot use: the header lacks a required column
      const [head = '', ...body] = salesCsv(rows).toString('utf8').split('\n');
      const noTotal = (line: string) => line.split(',').slice(0, -2).concat(line.split(',').slice(-1)).join(',');
      assert.ok(head.split(',').at(-2) === 'total', head);
      const headless = await send(Buffer.from([noTotal(head), ...body.map(noTotal)].join('\n')), 'c.csv');
      assert.equal(headless.status, 'failed');
      assert.match(
        (await detail(headless.id, 'pt')).body.reason ?? '',
        /^o cabeçalho \(linha 1\) não pode ser usado: faltam colunas obrigatórias: total\. O cabeçalho tem: /,
      );
      assert.match(
        (await detail(headless.id)).body.reason ?? '',
        /^the header \(line 1\) is not usable: required column\(s\) missing: total\. The header has: /,
      );

      const listed = await fetch(`${t.baseUrl}/api/v1/files?store=S001&date=${date}`, {
        headers: { ...token, 'accept-language': 'pt-BR' },
      });
      const files = (await listed.json()) as Array<{ id: number; reason: string | null }>;
      assert.equal(files.find((f) => f.id === many.id)?.reason, failed.body.reason);
    });

    it("lets only the store's upload token and its managers upload", async () => {
      const date = '2026-02-07';
      const body = salesCsv(salesRows({ ...OPTS, startDate: date }, master, 'S002', date));
      const clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['S002'] });
      const kiosk = await createTokenHeaders(t, { store: 'S002', purpose: 'kiosk' });
      const csv = { 'content-type': 'text/csv' };
      const cases: Array<[Record<string, string>, number, string]> = [
        [{ ...token, ...csv }, 403, 'upload token of another store'],
        [{ ...manager.headers(), ...csv }, 403, 'manager of another store'],
        [{ ...clerk.headers(), ...csv }, 403, 'clerk of the store'],
        [{ ...kiosk, ...csv }, 403, 'kiosk token of the store'],
        [{ ...manager.headers(), ...csv, 'x-csrf-token': 'wrong' }, 403, 'no CSRF token'],
        [csv, 401, 'no credentials'],
      ];
      for (const [headers, status, who] of cases) {
        assert.equal((await put(`/stores/S002/sales-files/${date}`, body, headers)).status, status, who);
      }
      assert.equal((await put(`/stores/NOPE/sales-files/${date}`, body, { ...token, ...csv })).status, 404);
      assert.deepEqual(await objectsUnder(t, 'incoming/S002/'), []);
    });

    it('answers 409 to a presign request when the buckets are local', async () => {
      const res = await fetch(`${t.baseUrl}/api/v1/stores/S001/sales-files/2026-02-08/presign`, {
        method: 'POST',
        headers: { ...token, 'content-type': 'application/json' },
        body: JSON.stringify({ contentLength: 100 }),
      });
      assert.equal(res.status, 409);
    });
  });

  describe(`presigned uploads on S3 (moto) with ${dialect}`, {
    skip: process.env.SHOPFLOW_TEST_SKIP_MOTO === '1',
  }, () => {
    let t: TestServer;
    let master: DemoMasterData;
    let stopS3: () => Promise<void>;

    before(async () => {
      const s3 = await startVersionedS3Server();
      stopS3 = s3.stop;
      // the S3 adapter takes credentials from the SDK's default chain; moto accepts any
      process.env.AWS_ACCESS_KEY_ID ??= 'test';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
      t = await startTestServer(dialect, {
        SHOPFLOW_STORAGE: 's3://',
        SHOPFLOW_S3_ENDPOINT: s3.endpoint,
        SHOPFLOW_S3_FORCE_PATH_STYLE: 'true',
        SHOPFLOW_MAX_FILE_BYTES: String(LIMIT),
      });
      master = await setup(t);
    });
    after(async () => {
      await t?.close();
      await stopS3?.();
    });

    it("hands out a PUT URL for exactly the store-day's key; what it uploads is ingested", async () => {
      const manager = await createUserAndLogin(t, { role: 'manager', stores: ['S001'] });
      const date = '2026-02-09';
      const rows = salesRows({ ...OPTS, startDate: date }, master, 'S001', date);
      const body = salesCsv(rows);
      const presign = (store: string, payload: object) =>
        fetch(`${t.baseUrl}/api/v1/stores/${store}/sales-files/${date}/presign`, {
          method: 'POST',
          headers: manager.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify(payload),
        });
      const res = await presign('S001', { name: 'vendas.csv', contentLength: body.length });
      const answer = (await res.json()) as { url: string; key: string; headers: Record<string, string> };
      assert.equal(res.status, 200, JSON.stringify(answer));
      const url = new URL(answer.url);
      assert.equal(decodeURIComponent(url.pathname), `/${t.config.buckets.sales}/incoming/S001/${date}/vendas.csv`);
      assert.deepEqual(url.searchParams.get('X-Amz-SignedHeaders')?.split(';').sort(), [
        'content-length',
        'content-type',
        'host',
      ]);
      assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
      assert.equal((await presign('S002', { contentLength: 10 })).status, 403, "another store's prefix");
      assert.equal((await presign('S001', { contentLength: LIMIT + 1 })).status, 413);

      const upload = await fetch(answer.url, { method: 'PUT', headers: answer.headers, body });
      assert.equal(upload.status, 200, await upload.text());
      // Locally nothing notifies the runtime of a direct S3 upload: the reconciliation finds it, as it finds any
      // object written while nobody listened.
      const queued = await reconcileObjects(t.app.ctx.store, t.app.runtime!.queue, eventRoutes(t.config));
      assert.equal(queued, 1);
      await t.app.runtime!.drain();
      const file = await t.app.ctx.database.db
        .selectFrom('ingest_files')
        .selectAll()
        .where('object_key', '=', answer.key)
        .executeTakeFirstOrThrow();
      assert.equal(file.status, 'loaded', file.reason ?? '');
      assert.equal(file.rows_loaded, rows.length);
    });
  });
}
