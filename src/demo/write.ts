// Writes demo data in the contract formats (../shared/formats), in any of the dialects stores really export:
// encodings, delimiters, decimal conventions, Portuguese headers, Brazilian dates, CRLF, a TOTAL trailer.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatScaled } from '../domain/decimal.ts';
import { encodeWindows1252 } from './encoding.ts';
import {
  type DemoMasterData,
  type DemoOptions,
  type DemoPaymentMethod,
  type DemoSaleRow,
  demoDates,
  generateMasterData,
  iterateLargeDay,
  iterateSalesRows,
  type LargeDayOptions,
} from './generate.ts';

export interface CsvFormat {
  encoding: 'utf-8' | 'utf-8-bom' | 'windows-1252';
  delimiter: ',' | ';' | '\t';
  decimal: 'dot' | 'comma';
  headers: 'en' | 'pt';
  dates: 'iso' | 'br';
  lineEnding: '\n' | '\r\n';
  /** sales files only: a last line `TOTAL` with the sum of the total column */
  trailer: boolean;
}

export const DEFAULT_FORMAT: CsvFormat = {
  encoding: 'utf-8',
  delimiter: ',',
  decimal: 'dot',
  headers: 'en',
  dates: 'iso',
  lineEnding: '\n',
  trailer: false,
};

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// Portuguese headers are written with their accents, as Brazilian exports do; the readers fold them away.
const HEADERS = {
  stores: {
    en: ['store_code', 'name', 'kind', 'city', 'timezone'],
    pt: ['loja', 'nome', 'tipo', 'cidade', 'fuso'],
  },
  products: {
    en: ['sku', 'ean', 'name', 'category', 'unit', 'price', 'supplier', 'pack_size', 'lead_time_days'],
    pt: [
      'código',
      'código_barras',
      'nome',
      'categoria',
      'unidade',
      'preço',
      'fornecedor',
      'embalagem',
      'prazo_entrega',
    ],
  },
  stock: {
    en: ['store_code', 'sku', 'on_hand', 'reorder_point', 'target_level'],
    pt: ['loja', 'código', 'estoque', 'estoque_mínimo', 'estoque_máximo'],
  },
  sales: {
    en: [
      'store_code',
      'business_date',
      'receipt_id',
      'line_no',
      'sold_at',
      'sku',
      'ean',
      'description',
      'quantity',
      'unit_price',
      'discount',
      'total',
      'payment_method',
    ],
    pt: [
      'loja',
      'data',
      'cupom',
      'item',
      'hora',
      'código',
      'código_barras',
      'descrição',
      'quantidade',
      'preço_unitário',
      'desconto',
      'valor_total',
      'forma_pagamento',
    ],
  },
} as const;

const TOTAL_COLUMN = HEADERS.sales.en.indexOf('total');

const PAYMENT_EN: Record<DemoPaymentMethod, string> = {
  dinheiro: 'cash',
  debito: 'debit',
  credito: 'credit',
  pix: 'pix',
  voucher: 'voucher',
  outros: 'other',
};

export function encodeText(text: string, encoding: CsvFormat['encoding']): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([BOM, Buffer.from(text, 'utf8')]);
    case 'windows-1252':
      return encodeWindows1252(text);
  }
}

/** The field and number formatting of one dialect. */
class Dialect {
  readonly f: CsvFormat;
  private readonly special: RegExp;

  constructor(fmt: Partial<CsvFormat> = {}) {
    this.f = { ...DEFAULT_FORMAT, ...fmt };
    const d = this.f.delimiter === '\t' ? '\\t' : this.f.delimiter;
    this.special = new RegExp(`["\\r\\n${d}]`);
  }

  /** RFC 4180: quote a field holding the delimiter, a quote or a line break, doubling its quotes. */
  text(s: string): string {
    return this.special.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  }

  /** Numbers only need quoting when the decimal comma is also the delimiter. */
  number(plain: string): string {
    return this.f.decimal === 'comma' ? this.text(plain.replace('.', ',')) : plain;
  }

  money(cents: number): string {
    return this.number(formatScaled(cents, 2));
  }

  /** Whole quantities as integers (units must be whole), fractions with three places as a scale prints them. */
  quantity(milli: number, weighed = milli % 1000 !== 0): string {
    return weighed ? this.number(formatScaled(milli, 3)) : String(milli / 1000);
  }

  date(iso: string): string {
    return this.f.dates === 'br' ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : iso;
  }

  line(fields: readonly string[]): string {
    return fields.join(this.f.delimiter) + this.f.lineEnding;
  }

  header(names: readonly string[]): string {
    return this.line(names.map((n) => this.text(n)));
  }

  encode(text: string): Buffer {
    return encodeText(text, this.f.encoding);
  }

  saleLine(r: DemoSaleRow): string {
    return this.line([
      this.text(r.store_code),
      this.date(r.business_date),
      this.text(r.receipt_id),
      String(r.line_no),
      r.sold_at,
      this.text(r.sku),
      this.text(r.ean),
      this.text(r.description),
      this.quantity(r.quantity_milli),
      this.money(r.unit_price_cents),
      this.money(r.discount_cents),
      this.money(r.total_cents),
      this.payment(r.payment_method),
    ]);
  }

  payment(m: DemoPaymentMethod): string {
    return this.f.headers === 'pt' ? m : PAYMENT_EN[m];
  }

  salesHeader(): string {
    return this.header(HEADERS.sales[this.f.headers]);
  }

  salesTrailer(totalCents: number): string {
    const fields = HEADERS.sales.en.map(() => '');
    fields[0] = 'TOTAL';
    fields[TOTAL_COLUMN] = this.money(totalCents);
    return this.line(fields);
  }
}

export function storesCsv(master: DemoMasterData, fmt?: Partial<CsvFormat>): Buffer {
  const d = new Dialect(fmt);
  let out = d.header(HEADERS.stores[d.f.headers]);
  for (const s of master.stores) {
    const kind = s.kind === 'selfservice' && d.f.headers === 'pt' ? 'autoatendimento' : s.kind;
    out += d.line([d.text(s.store_code), d.text(s.name), kind, d.text(s.city), d.text(s.timezone)]);
  }
  return d.encode(out);
}

export function productsCsv(master: DemoMasterData, fmt?: Partial<CsvFormat>): Buffer {
  const d = new Dialect(fmt);
  let out = d.header(HEADERS.products[d.f.headers]);
  for (const p of master.products) {
    out += d.line([
      d.text(p.sku),
      d.text(p.ean),
      d.text(p.name),
      d.text(p.category),
      p.unit,
      d.money(p.price_cents),
      d.text(p.supplier),
      String(p.pack_size),
      String(p.lead_time_days),
    ]);
  }
  return d.encode(out);
}

export function stockCsv(master: DemoMasterData, fmt?: Partial<CsvFormat>): Buffer {
  const d = new Dialect(fmt);
  const weighed = new Set(master.products.filter((p) => p.unit === 'KG').map((p) => p.sku));
  const parts: string[] = [d.header(HEADERS.stock[d.f.headers])];
  for (const s of master.stock) {
    const kg = weighed.has(s.sku);
    parts.push(
      d.line([
        d.text(s.store_code),
        d.text(s.sku),
        d.quantity(s.on_hand_milli, kg),
        d.quantity(s.reorder_point_milli, kg),
        d.quantity(s.target_level_milli, kg),
      ]),
    );
  }
  return d.encode(parts.join(''));
}

export function salesCsv(rows: Iterable<DemoSaleRow>, fmt?: Partial<CsvFormat>): Buffer {
  const d = new Dialect(fmt);
  const parts: string[] = [d.salesHeader()];
  let total = 0;
  for (const r of rows) {
    parts.push(d.saleLine(r));
    total += r.total_cents;
  }
  if (d.f.trailer) parts.push(d.salesTrailer(total));
  return d.encode(parts.join(''));
}

/**
 * Writes `stores.csv`, `products.csv`, `stock.csv` and `sales/<store_code>/<date>.csv` for every day of every
 * file-fed store (self-service stores sell through the kiosk and send no files). Returns the paths written.
 */
export async function writeDemoFiles(dir: string, opts: DemoOptions, fmt?: Partial<CsvFormat>): Promise<string[]> {
  const master = generateMasterData(opts);
  const written: string[] = [];
  const put = async (path: string, body: Buffer) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    written.push(path);
  };
  await put(join(dir, 'stores.csv'), storesCsv(master, fmt));
  await put(join(dir, 'products.csv'), productsCsv(master, fmt));
  await put(join(dir, 'stock.csv'), stockCsv(master, fmt));
  const dates = demoDates(opts);
  for (const store of master.stores) {
    if (store.kind !== 'file') continue;
    for (const date of dates) {
      const rows = iterateSalesRows(opts, master, store.store_code, date);
      await put(join(dir, 'sales', store.store_code, `${date}.csv`), salesCsv(rows, fmt));
    }
  }
  return written;
}

export interface LargeSalesFileOptions extends LargeDayOptions {
  format?: Partial<CsvFormat>;
}

export interface LargeSalesFileResult {
  path: string;
  rows: number;
  bytes: number;
  totalCents: number;
}

/** Bytes per chunk handed to the stream. */
const CHUNK_BYTES = 1 << 20;

const QUOTE = 0x22;
const MINUS = 0x2d;
const ascii = (s: string) => Buffer.from(s, 'latin1');

/**
 * Writes sales lines straight into bytes, byte-identical to `Dialect.saleLine` + encoding (a test holds them
 * equal). Building a string per line costs more in string ropes and GC than generating the data, so the parts
 * that repeat (store-day prefix, product fields, receipt, time, payment) are encoded once and copied, and numbers
 * are written digit by digit.
 */
class SalesLineBytes {
  private readonly delimiter: number;
  private readonly separator: number;
  /** with a decimal comma in a comma-delimited file, numbers with a fraction are quoted */
  private readonly quoteFractions: boolean;
  private readonly lineEnd: Buffer;
  private readonly digits = new Uint8Array(24);
  private readonly products = new Map<string, { ean: string; description: string; bytes: Buffer }>();
  private readonly payments = new Map<string, Buffer>();
  private prefix: { store: string; date: string; bytes: Buffer } = { store: '', date: '', bytes: Buffer.alloc(0) };
  private receipt: { id: string; bytes: Buffer } = { id: '', bytes: Buffer.alloc(0) };
  private time: { soldAt: string; bytes: Buffer } = { soldAt: '', bytes: Buffer.alloc(0) };

  constructor(
    private readonly d: Dialect,
    private readonly encode: (text: string) => Buffer,
  ) {
    this.delimiter = d.f.delimiter.charCodeAt(0);
    this.separator = d.f.decimal === 'comma' ? 0x2c : 0x2e;
    this.quoteFractions = d.f.decimal === 'comma' && d.f.delimiter === ',';
    this.lineEnd = ascii(d.f.lineEnding);
  }

  /** Upper bound of the bytes `write` needs for the row. */
  maxBytes(r: DemoSaleRow): number {
    return 4 * (r.store_code.length + r.receipt_id.length + r.sku.length + r.ean.length + r.description.length) + 160;
  }

  write(r: DemoSaleRow, buf: Buffer, pos: number): number {
    const d = this.d;
    const sep = d.f.delimiter;
    if (r.store_code !== this.prefix.store || r.business_date !== this.prefix.date) {
      const bytes = this.encode(d.text(r.store_code) + sep + d.date(r.business_date) + sep);
      this.prefix = { store: r.store_code, date: r.business_date, bytes };
    }
    if (r.receipt_id !== this.receipt.id) {
      this.receipt = { id: r.receipt_id, bytes: this.encode(d.text(r.receipt_id) + sep) };
    }
    if (r.sold_at !== this.time.soldAt) this.time = { soldAt: r.sold_at, bytes: ascii(sep + r.sold_at + sep) };
    let product = this.products.get(r.sku);
    if (!product || product.ean !== r.ean || product.description !== r.description) {
      const bytes = this.encode(d.text(r.sku) + sep + d.text(r.ean) + sep + d.text(r.description) + sep);
      product = { ean: r.ean, description: r.description, bytes };
      this.products.set(r.sku, product);
    }
    let payment = this.payments.get(r.payment_method);
    if (!payment) {
      payment = this.encode(d.payment(r.payment_method));
      this.payments.set(r.payment_method, payment);
    }

    pos += this.prefix.bytes.copy(buf, pos);
    pos += this.receipt.bytes.copy(buf, pos);
    pos = this.number(buf, pos, r.line_no, 0);
    pos += this.time.bytes.copy(buf, pos);
    pos += product.bytes.copy(buf, pos);
    const q = r.quantity_milli;
    pos = q % 1000 === 0 ? this.number(buf, pos, q / 1000, 0) : this.number(buf, pos, q, 3);
    buf[pos++] = this.delimiter;
    pos = this.number(buf, pos, r.unit_price_cents, 2);
    buf[pos++] = this.delimiter;
    pos = this.number(buf, pos, r.discount_cents, 2);
    buf[pos++] = this.delimiter;
    pos = this.number(buf, pos, r.total_cents, 2);
    buf[pos++] = this.delimiter;
    pos += payment.copy(buf, pos);
    pos += this.lineEnd.copy(buf, pos);
    return pos;
  }

  /** An integer scaled by 10^scale as decimal text, like formatScaled. */
  private number(buf: Buffer, pos: number, value: number, scale: number): number {
    const quote = scale > 0 && this.quoteFractions;
    if (quote) buf[pos++] = QUOTE;
    let n = value;
    if (n < 0) {
      buf[pos++] = MINUS;
      n = -n;
    }
    const digits = this.digits;
    let len = 0;
    do {
      digits[len++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0 || len <= scale);
    for (let i = len - 1; i >= 0; i--) {
      buf[pos++] = digits[i]!;
      if (i === scale && scale > 0) buf[pos++] = this.separator;
    }
    if (quote) buf[pos++] = QUOTE;
    return pos;
  }
}

/**
 * Streams one sales file of exactly `rows` lines (plus header, and trailer when the format asks) for benchmarks.
 * Lines are written into ~1 MB chunks and the pipeline waits for the disk whenever the stream's buffer is full, so
 * memory stays flat up to files of gigabytes.
 */
export async function writeLargeSalesFile(path: string, o: LargeSalesFileOptions): Promise<LargeSalesFileResult> {
  const d = new Dialect(o.format);
  const result: LargeSalesFileResult = { path, rows: 0, bytes: 0, totalCents: 0 };
  // a BOM belongs at the start of the file only
  const bodyEncoding = d.f.encoding === 'utf-8-bom' ? 'utf-8' : d.f.encoding;
  const lines = new SalesLineBytes(d, (text) => encodeText(text, bodyEncoding));
  function* chunks(): Generator<Buffer> {
    const header = d.encode(d.salesHeader());
    result.bytes += header.length;
    yield header;
    let buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let pos = 0;
    for (const row of iterateLargeDay(o)) {
      if (pos + lines.maxBytes(row) > buf.length) {
        result.bytes += pos;
        yield buf.subarray(0, pos);
        // the stream may still hold the chunk just yielded: never write into it again
        buf = Buffer.allocUnsafe(CHUNK_BYTES);
        pos = 0;
      }
      pos = lines.write(row, buf, pos);
      result.rows++;
      result.totalCents += row.total_cents;
    }
    result.bytes += pos;
    yield buf.subarray(0, pos);
    if (d.f.trailer) {
      const trailer = encodeText(d.salesTrailer(result.totalCents), bodyEncoding);
      result.bytes += trailer.length;
      yield trailer;
    }
  }
  await mkdir(dirname(path), { recursive: true });
  await pipeline(Readable.from(chunks(), { objectMode: false }), createWriteStream(path));
  return result;
}
