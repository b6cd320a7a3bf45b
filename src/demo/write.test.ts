import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { divRound, type NumberConvention, parseScaled } from '../domain/decimal.ts';
import { validateGtin } from '../domain/gtin.ts';
import { encodeWindows1252 } from './encoding.ts';
import { type DemoOptions, demoDates, generateMasterData, iterateLargeDay, salesRows } from './generate.ts';
import {
  type CsvFormat,
  productsCsv,
  salesCsv,
  stockCsv,
  storesCsv,
  writeDemoFiles,
  writeLargeSalesFile,
} from './write.ts';

const OPTS: DemoOptions = { stores: 4, products: 60, days: 3, seed: 11 };
const master = generateMasterData(OPTS);
const rows = salesRows(OPTS, master, 'S001', '2026-01-03');

function parse(text: string, delimiter: string): string[][] {
  const r = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: true });
  assert.deepEqual(r.errors, []);
  return r.data;
}

function scaled(text: string, convention: NumberConvention, scale: number): number {
  const r = parseScaled(text, convention, scale);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.reason}`);
  return r.value;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shopflow-demo-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeDemoFiles', () => {
  async function snapshot(root: string, paths: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of paths)
      out.set(
        relative(root, p),
        createHash('sha256')
          .update(await readFile(p))
          .digest('hex'),
      );
    return out;
  }

  test('same seed, same bytes; another seed, other bytes; no files for kiosks', async () => {
    const fmt: Partial<CsvFormat> = { encoding: 'windows-1252', delimiter: ';', decimal: 'comma', trailer: true };
    const [a, b, c] = [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')];
    const pa = await writeDemoFiles(a, OPTS, fmt);
    const pb = await writeDemoFiles(b, OPTS, fmt);
    const pc = await writeDemoFiles(c, { ...OPTS, seed: 12 }, fmt);
    const fileStores = master.stores.filter((s) => s.kind === 'file').map((s) => s.store_code);
    const expected = [
      'stores.csv',
      'products.csv',
      'stock.csv',
      ...fileStores.flatMap((s) => demoDates(OPTS).map((d) => join('sales', s, `${d}.csv`))),
    ];
    assert.deepEqual(
      pa.map((p) => relative(a, p)),
      expected,
    );
    assert.ok(master.stores.some((s) => s.kind === 'selfservice'));
    const [sa, sb, sc] = [await snapshot(a, pa), await snapshot(b, pb), await snapshot(c, pc)];
    assert.deepEqual(sa, sb);
    for (const [name, hash] of sa) assert.notEqual(sc.get(name), hash, name);
  });
});

describe('encodings', () => {
  test('Windows-1252 output decodes to the same text as UTF-8, with Pão as 50 E3 6F', () => {
    for (const write of [storesCsv, productsCsv, stockCsv]) {
      for (const headers of ['en', 'pt'] as const) {
        const utf8 = write(master, { headers });
        const cp = write(master, { headers, encoding: 'windows-1252' });
        assert.equal(new TextDecoder('windows-1252').decode(cp), utf8.toString('utf8'));
      }
    }
    const utf8 = salesCsv(rows, { headers: 'pt', trailer: true });
    const cp = salesCsv(rows, { headers: 'pt', trailer: true, encoding: 'windows-1252' });
    assert.equal(new TextDecoder('windows-1252').decode(cp), utf8.toString('utf8'));
    const products = productsCsv(master, { encoding: 'windows-1252' });
    assert.ok(products.includes(Buffer.from([0x50, 0xe3, 0x6f])), 'Pão');
    assert.ok(!products.includes(Buffer.from('Pão', 'utf8')));
    // the Portuguese header's ç and ã
    assert.ok(cp.subarray(0, 200).includes(Buffer.from([0x64, 0x65, 0x73, 0x63, 0x72, 0x69, 0xe7, 0xe3, 0x6f])));
  });

  test('the encoder maps the cp1252 specials and refuses what it cannot encode', () => {
    const latin = 'R$ 5,00 promoção: pão, maçã, açúcar, café ÿ';
    assert.equal(new TextDecoder('windows-1252').decode(encodeWindows1252(latin)), latin);
    // Checked against the code page table, not TextDecoder: Node 20's decoder reads 0x80–0x9F as Latin-1 controls.
    assert.deepEqual(
      [...encodeWindows1252('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ')],
      [
        0x80, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8e, 0x91, 0x92, 0x93, 0x94, 0x95,
        0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9e, 0x9f,
      ],
    );
    assert.throws(() => encodeWindows1252('ok ✓'), /U\+2713.*offset 3/);
    assert.throws(() => encodeWindows1252('🍞'), /U\+1F35E/);
    assert.throws(() => encodeWindows1252('\u0081'), /Windows-1252/);
  });

  test('UTF-8 with BOM is the UTF-8 bytes behind EF BB BF', () => {
    const plain = salesCsv(rows);
    const bom = salesCsv(rows, { encoding: 'utf-8-bom' });
    assert.deepEqual([...bom.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.deepEqual(bom.subarray(3), plain);
  });
});

describe('salesCsv', () => {
  test('every written line parses back to the row, in every dialect', () => {
    const dialects: Partial<CsvFormat>[] = [
      {},
      { delimiter: ';', decimal: 'comma', headers: 'pt', dates: 'br', lineEnding: '\r\n' },
      { delimiter: '\t', decimal: 'comma' },
      { delimiter: ',', decimal: 'comma', trailer: true },
    ];
    const pt = {
      dinheiro: 'dinheiro',
      debito: 'debito',
      credito: 'credito',
      pix: 'pix',
      voucher: 'voucher',
      outros: 'outros',
    };
    const en = {
      dinheiro: 'cash',
      debito: 'debit',
      credito: 'credit',
      pix: 'pix',
      voucher: 'voucher',
      outros: 'other',
    };
    for (const fmt of dialects) {
      const f = { delimiter: ',', decimal: 'dot', headers: 'en', dates: 'iso', lineEnding: '\n', ...fmt };
      const text = salesCsv(rows, fmt).toString('utf8');
      const data = parse(text, f.delimiter);
      const header = data.shift()!;
      assert.equal(header.length, 13);
      assert.equal(header[7], f.headers === 'pt' ? 'descrição' : 'description');
      if (fmt.trailer) assert.equal(data.pop()![0], 'TOTAL');
      assert.equal(data.length, rows.length);
      const conv = f.decimal as NumberConvention;
      data.forEach((fields, i) => {
        const r = rows[i]!;
        assert.equal(fields.length, 13);
        assert.equal(fields[1], f.dates === 'br' ? '03/01/2026' : '2026-01-03');
        assert.deepEqual(
          [fields[0], fields[2], Number(fields[3]), fields[4], fields[5], fields[6], fields[7]],
          [r.store_code, r.receipt_id, r.line_no, r.sold_at, r.sku, r.ean, r.description],
        );
        for (const n of [fields[8]!, fields[9]!, fields[10]!, fields[11]!]) {
          assert.match(n, conv === 'comma' ? /^-?\d+(,\d{1,3})?$/ : /^-?\d+(\.\d{1,3})?$/);
        }
        assert.equal(scaled(fields[8]!, conv, 3), r.quantity_milli);
        assert.equal(scaled(fields[9]!, conv, 2), r.unit_price_cents);
        assert.equal(scaled(fields[10]!, conv, 2), r.discount_cents);
        assert.equal(scaled(fields[11]!, conv, 2), r.total_cents);
        assert.equal(fields[12], (f.headers === 'pt' ? pt : en)[r.payment_method]);
      });
      if (f.lineEnding === '\r\n') assert.equal(text.split('\r\n').length, rows.length + 2);
      else assert.ok(!text.includes('\r'));
    }
  });

  test('decimal comma writes 5,49 and quotes it when the comma is also the delimiter', () => {
    const semicolon = salesCsv(rows, { delimiter: ';', decimal: 'comma' }).toString();
    assert.ok(
      !/\d\.\d/.test(
        semicolon
          .split('\n')
          .slice(1)
          .join('\n')
          .replace(/\d{2}:\d{2}:\d{2}/g, ''),
      ),
    );
    assert.match(semicolon, /;\d+,\d{2};\d+,\d{2};-?\d+,\d{2};/);
    const comma = salesCsv(rows, { delimiter: ',', decimal: 'comma' }).toString();
    assert.match(comma, /,"\d+,\d{2}","?\d+,\d{2}"?,/);
  });

  test('the trailer carries the sum of the total column', () => {
    const sum = rows.reduce((a, r) => a + r.total_cents, 0);
    for (const decimal of ['dot', 'comma'] as const) {
      const text = salesCsv(rows, { trailer: true, delimiter: ';', decimal }).toString();
      const data = parse(text, ';');
      const trailer = data.at(-1)!;
      assert.equal(trailer[0], 'TOTAL');
      assert.equal(trailer.length, 13);
      assert.equal(scaled(trailer[11]!, decimal, 2), sum);
      const written = data.slice(1, -1).reduce((a, f) => a + scaled(f[11]!, decimal, 2), 0);
      assert.equal(written, sum);
    }
  });

  test('descriptions with quotes and commas survive RFC 4180 quoting', () => {
    const tricky = master.products.filter((p) => /[",]/.test(p.name));
    assert.ok(tricky.some((p) => p.name.includes('"')) && tricky.some((p) => p.name.includes(',')));
    for (const delimiter of [',', ';', '\t'] as const) {
      const data = parse(productsCsv(master, { delimiter }).toString(), delimiter);
      assert.deepEqual(
        data.slice(1).map((f) => f[2]),
        master.products.map((p) => p.name),
      );
    }
    assert.match(productsCsv(master).toString(), /,"Pano de Prato ""Listrado"" 45x70cm",/);
  });
});

describe('master data files', () => {
  test('stores, products and stock write the contract columns', () => {
    const stores = parse(storesCsv(master, { headers: 'pt' }).toString(), ',');
    assert.deepEqual(stores[0], ['loja', 'nome', 'tipo', 'cidade', 'fuso']);
    assert.deepEqual(stores[1], ['S001', 'Supermercado Centro 1', 'file', 'São Paulo', 'America/Sao_Paulo']);
    assert.ok(stores.some((f) => f[2] === 'autoatendimento'));
    const products = parse(productsCsv(master, { decimal: 'comma', delimiter: ';' }).toString(), ';');
    assert.deepEqual(products[0], [
      'sku',
      'ean',
      'name',
      'category',
      'unit',
      'price',
      'supplier',
      'pack_size',
      'lead_time_days',
    ]);
    assert.deepEqual(products[1]!.slice(0, 6), ['P000001', '', 'Pão Francês', 'Padaria', 'KG', '16,99']);
    const stock = parse(stockCsv(master, { headers: 'pt' }).toString(), ',');
    assert.deepEqual(stock[0], ['loja', 'código', 'estoque', 'estoque_mínimo', 'estoque_máximo']);
    assert.equal(stock.length, 1 + master.stock.length);
    const unit = new Map(master.products.map((p) => [p.sku, p.unit]));
    for (const f of stock.slice(1)) {
      assert.match(f[2]!, unit.get(f[1]!) === 'KG' ? /^\d+\.\d{3}$/ : /^\d+$/);
    }
  });
});

describe('writeLargeSalesFile', () => {
  const products = generateMasterData({ stores: 1, products: 500, days: 1, seed: 3 }).products;
  const opts = { rows: 100_000, seed: 5, storeCode: 'S042', date: '2026-02-14', products };

  test('100,000 rows: a header plus 100,000 valid lines', async () => {
    const path = join(dir, 'large', 'S042.csv');
    const result = await writeLargeSalesFile(path, opts);
    const bytes = await readFile(path);
    assert.equal(result.rows, 100_000);
    assert.equal(result.bytes, (await stat(path)).size);
    const text = bytes.toString('utf8');
    assert.equal(text.split('\n').length - 1, 100_001);
    const data = parse(text, ',');
    assert.equal(data.length, 100_001);
    const bySku = new Map(products.map((p) => [p.sku, p]));
    let sum = 0;
    for (const f of data.slice(1)) {
      const p = bySku.get(f[5]!)!;
      assert.ok(p, f[5]);
      assert.equal(f[0], 'S042');
      assert.equal(f[1], '2026-02-14');
      if (p.ean) assert.equal(validateGtin(f[6]!).ok, true);
      const q = scaled(f[8]!, 'dot', 3);
      const price = scaled(f[9]!, 'dot', 2);
      const total = scaled(f[11]!, 'dot', 2);
      assert.equal(total, divRound(q * price, 1000) - scaled(f[10]!, 'dot', 2), f.join(','));
      sum += total;
    }
    assert.equal(sum, result.totalCents);
    const again = await writeLargeSalesFile(join(dir, 'large', 'again.csv'), opts);
    assert.deepEqual(await readFile(again.path), bytes);
  });

  test('writes the same bytes as salesCsv over the same rows, in every dialect', async () => {
    const dialects: Partial<CsvFormat>[] = [
      {},
      { encoding: 'utf-8-bom', lineEnding: '\r\n', trailer: true },
      { encoding: 'windows-1252', delimiter: ';', decimal: 'comma', headers: 'pt', dates: 'br' },
      { delimiter: ',', decimal: 'comma', trailer: true },
      { delimiter: '\t', decimal: 'comma', headers: 'pt' },
    ];
    const small = { ...opts, rows: 15_000 };
    const expectedRows = [...iterateLargeDay(small)];
    for (const [i, format] of dialects.entries()) {
      const path = join(dir, 'large', `dialect-${i}.csv`);
      const result = await writeLargeSalesFile(path, { ...small, format });
      const bytes = await readFile(path);
      assert.ok(bytes.equals(salesCsv(expectedRows, format)), JSON.stringify(format));
      assert.equal(result.bytes, bytes.length);
    }
  });

  test('with a trailer, in Windows-1252', async () => {
    const path = join(dir, 'large', 'trailer.csv');
    const result = await writeLargeSalesFile(path, {
      ...opts,
      rows: 20_000,
      format: { encoding: 'windows-1252', delimiter: ';', decimal: 'comma', trailer: true, lineEnding: '\r\n' },
    });
    const text = new TextDecoder('windows-1252').decode(await readFile(path));
    const data = parse(text, ';');
    assert.equal(data.length, 20_002);
    assert.equal(data.at(-1)![0], 'TOTAL');
    assert.equal(scaled(data.at(-1)![11]!, 'comma', 2), result.totalCents);
    assert.ok(text.includes('Pão Francês'));
  });
});
