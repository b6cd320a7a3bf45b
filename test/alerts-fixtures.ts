// A small chain for the alerts and restock tests, loaded through the real master-data imports: two file stores and
// a self-service store, three products of two suppliers, stock with reorder points and target levels.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { evaluateStock } from '../src/alerts/low-stock.ts';
import type { App } from '../src/app.ts';
import { inTransaction } from '../src/db/tx.ts';
import { ingestLocalFile } from '../src/ingest/submit.ts';
import { applyMovements } from '../src/inventory/ledger.ts';
import { importProducts, importStock, importStores } from '../src/masterdata/import.ts';

export const STORES_CSV = `store_code,name,kind,city,timezone,closing_time
S1,Loja Centro,file,São Paulo,America/Sao_Paulo,22:00
S2,Loja Norte,file,Manaus,America/Manaus,21:00
K1,Pit Stop 1,selfservice,Campinas,America/Sao_Paulo,23:00
`;

// ARROZ and FEIJAO come from the same supplier; LEITE from another
export const PRODUCTS_CSV = `sku,ean,name,category,unit,price,supplier,pack_size,lead_time_days
ARROZ,,Arroz Tipo 1 5kg,Mercearia,UN,25.90,Camil Alimentos,6,2
FEIJAO,,Feijao Carioca 1kg,Mercearia,UN,8.50,Camil Alimentos,12,2
LEITE,,Leite Integral 1L,Laticinios,UN,4.99,Italac,12,1
`;

export const STOCK_CSV = `store_code,sku,on_hand,reorder_point,target_level
S1,ARROZ,20,5,30
S1,FEIJAO,30,10,40
S1,LEITE,50,10,60
S2,ARROZ,20,5,30
K1,ARROZ,20,5,30
K1,FEIJAO,30,10,40
K1,LEITE,50,10,60
`;

export interface Chain {
  store: Record<string, number>;
  product: Record<string, number>;
}

export async function loadChain(app: App): Promise<Chain> {
  const db = app.ctx.database;
  for (const [what, fn, csv] of [
    ['stores', importStores, STORES_CSV],
    ['products', importProducts, PRODUCTS_CSV],
    ['stock', importStock, STOCK_CSV],
  ] as const) {
    const r = await fn(db, Buffer.from(csv), 'test');
    assert.deepEqual(r.rejected, [], `${what} import rejected lines`);
  }
  const stores = await db.db.selectFrom('stores').select(['id', 'code']).execute();
  const products = await db.db.selectFrom('products').select(['id', 'sku']).execute();
  return {
    store: Object.fromEntries(stores.map((s) => [s.code, Number(s.id)])),
    product: Object.fromEntries(products.map((p) => [p.sku, Number(p.id)])),
  };
}

let refs = 0;

/** A stock change as a checkout makes it: ledger movements, then the evaluation, in one transaction. */
export async function checkoutLike(app: App, storeId: number, productId: number, deltaMilli: number): Promise<void> {
  const database = app.ctx.database;
  await inTransaction(database, async (trx) => {
    await applyMovements(trx, [
      { storeId, productId, kind: 'checkout', deltaMilli, ref: `test:${process.pid}:${++refs}`, actor: 'test' },
    ]);
    await evaluateStock(trx, storeId, [productId]);
  });
}

/** A stock change nobody evaluated (what a stock snapshot later catches). */
export async function silentMove(app: App, storeId: number, productId: number, deltaMilli: number): Promise<void> {
  const database = app.ctx.database;
  await inTransaction(database, (trx) =>
    applyMovements(trx, [
      { storeId, productId, kind: 'adjustment', deltaMilli, ref: `test-silent:${process.pid}:${++refs}` },
    ]),
  );
}

const PRICES: Record<string, string> = { ARROZ: '25.90', FEIJAO: '8.50', LEITE: '4.99' };

/** A sales file of one receipt per line, whole units. */
export function salesFile(lines: Array<[sku: string, quantity: number]>): Buffer {
  const rows = ['receipt_id,line_no,sold_at,sku,description,quantity,unit_price,discount,total,payment_method'];
  lines.forEach(([sku, q], i) => {
    const price = PRICES[sku]!;
    const total = ((Math.round(Number(price) * 100) * q) / 100).toFixed(2);
    rows.push(`R${i + 1},1,10:${String(i % 60).padStart(2, '0')},${sku},${sku},${q},${price},0,${total},pix`);
  });
  return Buffer.from(`${rows.join('\n')}\n`);
}

export async function ingest(
  app: App,
  store: string,
  date: string,
  lines: Array<[string, number]>,
  name = 'vendas.csv',
) {
  const r = await ingestLocalFile(app, {
    bytes: salesFile(lines),
    storeCode: store,
    businessDate: date,
    fileName: name,
    timeoutMs: 60_000,
  });
  return r;
}

export async function onHand(app: App, storeId: number, productId: number): Promise<number> {
  const r = await app.ctx.database.db
    .selectFrom('stock_balances')
    .select('on_hand_milli')
    .where('store_id', '=', storeId)
    .where('product_id', '=', productId)
    .executeTakeFirstOrThrow();
  return Number(r.on_hand_milli);
}

export async function alertsOf(app: App, kind: string, storeId?: number, productId?: number) {
  let q = app.ctx.database.db
    .selectFrom('alerts')
    .selectAll()
    .where('kind', '=', kind as 'low_stock')
    .orderBy('id');
  if (storeId !== undefined) q = q.where('store_id', '=', storeId);
  if (productId !== undefined) q = q.where('product_id', '=', productId);
  return (await q.execute()).map((a) => ({ ...a, id: Number(a.id) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Real receivers on loopback: an SMTP server, an SNS-compatible Query endpoint, a webhook receiver.

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** the raw message with quoted-printable undone, for searching text */
  text: string;
}

/** Undoes quoted-printable soft breaks and escapes (bytes as UTF-8), which is how nodemailer writes long or accented text. */
export function decodeQuotedPrintable(s: string): string {
  const joined = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const m = joined[i] === '=' ? /^[0-9A-F]{2}$/.exec(joined.slice(i + 1, i + 3)) : null;
    if (m) {
      bytes.push(Number.parseInt(m[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export async function startSmtp(): Promise<{ url: string; mails: ReceivedMail[]; close(): Promise<void> }> {
  const { SMTPServer } = await import('smtp-server');
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(parts).toString('utf8');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          text: decodeQuotedPrintable(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface HttpRequestSeen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server whose answer to each request is decided by `respond` (status and body). */
export async function startHttp(
  respond: (req: HttpRequestSeen, n: number) => { status: number; body?: string; type?: string },
): Promise<{ url: string; requests: HttpRequestSeen[]; close(): Promise<void> }> {
  const requests: HttpRequestSeen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      requests.push(seen);
      const r = respond(seen, requests.length);
      res.writeHead(r.status, { 'content-type': r.type ?? 'text/plain' });
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const SNS_PUBLISH_OK = (id: string) =>
  `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>req-${id}</RequestId></ResponseMetadata></PublishResponse>`;

/** The text of a PDF as poppler's pdftotext reads it, whitespace folded. */
export async function pdfToText(bytes: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-po-'));
  try {
    const file = join(dir, 'po.pdf');
    writeFileSync(file, bytes);
    const { stdout } = await promisify(execFile)('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-']);
    return stdout.replace(/\s+/g, ' ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
