// Reports over HTTP and from the CLI, on SQLite and MariaDB, with real logins: generated on demand, listed and
// downloaded with the access of the data inside them (a store's report for those who see the store, chain reports
// for admins), the download being the saved file with its content type.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Chain, DAYS, decimal, loadChain, money, parseCsv, pdfText } from '../src/reports/testkit.ts';
import { createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const run = promisify(execFile);

interface ReportView {
  id: number;
  kind: string;
  store: string | null;
  from: string;
  to: string;
  format: string;
  key: string;
  pages: number | null;
  download: string;
}

for (const dialect of backends()) {
  describe(`reports API and CLI on ${dialect}`, () => {
    let t: TestServer;
    let chain: Chain;
    let A: string;
    let B: string;
    let admin: LoggedInUser;
    let managerA: LoggedInUser;
    let clerkA: LoggedInUser;

    const call = async (user: LoggedInUser | undefined, method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = user ? user.headers() : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${t.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, bytes, json: () => JSON.parse(bytes.toString('utf8')) };
    };
    const generate = async (user: LoggedInUser | undefined, body: Record<string, unknown>) =>
      call(user, 'POST', '/api/v1/reports', body);
    const revenueOf = (store: string, day: string) =>
      chain.sales
        .get(store)!
        .filter((r) => r.business_date === day)
        .reduce((a, r) => a + r.total_cents, 0);

    before(async () => {
      t = await startTestServer(dialect);
      chain = await loadChain(t.app);
      [A, B] = chain.fileStores as [string, string];
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      managerA = await createUserAndLogin(t, { role: 'manager', stores: [A] });
      clerkA = await createUserAndLogin(t, { role: 'clerk', stores: [A] });
    });
    after(async () => t?.close());

    it('a manager generates a store PDF and downloads it; a clerk the CSV', async () => {
      const res = await generate(managerA, { kind: 'daily-sales', date: DAYS[0], store: A, format: 'pdf' });
      assert.equal(res.status, 201, res.bytes.toString());
      const pdf = res.json() as ReportView;
      assert.equal(pdf.key, `reports/daily-sales/${DAYS[0]}/${A}.pdf`);
      assert.equal(pdf.store, A);
      assert.ok((pdf.pages ?? 0) >= 1, 'pages are reported');
      assert.equal(pdf.download, `/api/v1/reports/${pdf.id}/download`);

      const file = await call(managerA, 'GET', pdf.download);
      assert.equal(file.status, 200);
      assert.equal(file.headers.get('content-type'), 'application/pdf');
      assert.match(
        file.headers.get('content-disposition') ?? '',
        new RegExp(`filename="daily-sales_${DAYS[0]}_${A}\\.pdf"`),
      );
      const text = await pdfText(file.bytes);
      assert.ok(text.text.includes(`Faturamento ${money(revenueOf(A, DAYS[0]!))}`), 'the day’s revenue in pt-BR');
      assert.match(text.text, /Página 1 de/);

      const csvRes = await generate(clerkA, { kind: 'daily-sales', date: DAYS[0], store: A, format: 'csv' });
      assert.equal(csvRes.status, 201, csvRes.bytes.toString());
      const csvFile = await call(clerkA, 'GET', (csvRes.json() as ReportView).download);
      assert.equal(csvFile.headers.get('content-type'), 'text/csv; charset=utf-8');
      const total = parseCsv(csvFile.bytes).rows.find((r) => r.section === 'total')!;
      assert.equal(total.revenue, decimal(revenueOf(A, DAYS[0]!), 2));
    });

    it('refuses other stores, chain reports for non-admins, anonymous callers and bad periods', async () => {
      assert.equal(
        (await generate(managerA, { kind: 'daily-sales', date: DAYS[0], store: B, format: 'csv' })).status,
        403,
      );
      assert.equal((await generate(managerA, { kind: 'daily-sales', date: DAYS[0], format: 'csv' })).status, 403);
      assert.equal(
        (await generate(undefined, { kind: 'daily-sales', date: DAYS[0], store: A, format: 'csv' })).status,
        401,
      );
      const bad = await generate(managerA, {
        kind: 'daily-sales',
        date: DAYS[1],
        to: DAYS[0],
        store: A,
        format: 'csv',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const badKind = await generate(managerA, { kind: 'nope', date: DAYS[0], store: A, format: 'csv' });
      assert.equal(badKind.status, 400);
      const stockPeriod = await generate(managerA, {
        kind: 'low-stock',
        date: DAYS[0],
        to: DAYS[1],
        store: A,
        format: 'csv',
      });
      assert.equal(stockPeriod.status, 400);
      assert.equal(
        (await generate(managerA, { kind: 'daily-sales', date: DAYS[0], store: 'NOPE1', format: 'csv' })).status,
        404,
      );
    });

    it('lists and serves each report only to those who see its data', async () => {
      const chainReport = await generate(admin, {
        kind: 'best-sellers',
        date: DAYS[0],
        to: DAYS[1],
        format: 'pdf',
        top: 5,
      });
      assert.equal(chainReport.status, 201, chainReport.bytes.toString());
      const chainView = chainReport.json() as ReportView;
      assert.equal(chainView.key, `reports/best-sellers/${DAYS[0]}_${DAYS[1]}/chain.pdf`);
      const bReport = (
        await generate(admin, { kind: 'low-stock', date: DAYS[1], store: B, format: 'csv' })
      ).json() as ReportView;

      const mine = (await call(managerA, 'GET', '/api/v1/reports')).json() as ReportView[];
      assert.ok(mine.length >= 2, 'A’s reports are listed');
      assert.ok(
        mine.every((r) => r.store === A),
        'only store A’s reports for A’s manager',
      );
      const all = (await call(admin, 'GET', '/api/v1/reports')).json() as ReportView[];
      assert.ok(all.some((r) => r.id === chainView.id) && all.some((r) => r.id === bReport.id), 'admins see all');
      const onlyB = (await call(admin, 'GET', `/api/v1/reports?store=${B}`)).json() as ReportView[];
      assert.deepEqual(
        onlyB.map((r) => r.id),
        [bReport.id],
      );
      const pdfs = (await call(admin, 'GET', '/api/v1/reports?format=pdf&kind=best-sellers')).json() as ReportView[];
      assert.deepEqual(
        pdfs.map((r) => r.id),
        [chainView.id],
      );
      assert.equal((await call(managerA, 'GET', `/api/v1/reports?store=${B}`)).status, 403);

      assert.equal((await call(managerA, 'GET', chainView.download)).status, 404, 'a chain report is not a manager’s');
      assert.equal((await call(managerA, 'GET', bReport.download)).status, 404, 'nor another store’s');
      assert.equal((await call(managerA, 'GET', '/api/v1/reports/999999/download')).status, 404);
      assert.equal((await call(undefined, 'GET', '/api/v1/reports')).status, 401);

      const chainPdf = await call(admin, 'GET', chainView.download);
      assert.equal(chainPdf.status, 200);
      const text = await pdfText(chainPdf.bytes);
      assert.match(text.text, /Mais vendidos Rede/);
      assert.match(text.text, /Período: 02\/03\/2026 a 03\/03\/2026/);
    });

    it('the CLI generates a report and prints where it saved it', async () => {
      const cli = (...args: string[]) =>
        run(process.execPath, ['bin/shopflow.js', ...args], { env: { ...process.env, ...t.env }, maxBuffer: 16 << 20 });
      const { stdout } = await cli(
        'report',
        'products-sold',
        '--date',
        DAYS[0]!,
        '--to',
        DAYS[1]!,
        '--store',
        A,
        '--format',
        'pdf',
      );
      const key = `reports/products-sold/${DAYS[0]}_${DAYS[1]}/${A}.pdf`;
      assert.match(
        stdout,
        new RegExp(
          `saved products-sold of ${A} for ${DAYS[0]} to ${DAYS[1]} to s3://${t.config.buckets.reports}/${key.replace(/\//g, '\\/')} \\(report \\d+, \\d+ pages?, `,
        ),
      );
      const head = await t.app.ctx.store.head(t.config.buckets.reports, key);
      assert.equal(head?.contentType, 'application/pdf');

      const listed = JSON.parse(
        (await cli('reports', 'list', '--kind', 'products-sold', '--json')).stdout,
      ) as ReportView[];
      assert.deepEqual(
        listed.map((r) => r.key),
        [key],
      );

      const refused = await cli('report', 'daily-sales', '--date', '2026-02-30', '--format', 'csv').then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /not a date/);
    });
  });
}
