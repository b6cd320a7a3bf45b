import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gtinCheckDigit, validateGtin } from './gtin.ts';
import { describe as sayIn } from './reasons.ts';
import { type Catalogue, type RowContext, SALES_COLUMNS, validateSaleRow } from './sales-row.ts';

const products = [
  { id: 1, sku: 'P1', ean: '7891000315507', unit: 'UN' as const },
  { id: 2, sku: 'P2', ean: null, unit: 'KG' as const },
  { id: 3, sku: 'P3', ean: '7894900011517', unit: 'UN' as const },
];
const catalogue: Catalogue = {
  bySku: (s) => products.find((p) => p.sku === s),
  byEan: (e) => products.find((p) => p.ean === e),
};
const header = SALES_COLUMNS.map((c) => c.name);
const ctx: RowContext = {
  storeCode: 'S001',
  businessDate: '2026-03-02',
  convention: 'dot',
  catalogue,
  columns: Object.fromEntries(header.map((h, i) => [h, i])),
};
const base: Record<string, string> = {
  store_code: 'S001',
  business_date: '2026-03-02',
  receipt_id: 'R1',
  line_no: '1',
  sold_at: '10:15',
  sku: 'P1',
  ean: '7891000315507',
  description: 'x',
  quantity: '2',
  unit_price: '3.50',
  discount: '0',
  total: '7.00',
  payment_method: 'pix',
};
const row = (over: Record<string, string>) => header.map((h) => over[h] ?? base[h] ?? '');
const rejected = (over: Record<string, string>) => {
  const r = validateSaleRow(row(over), ctx);
  assert.ok(!r.ok, `expected a rejection for ${JSON.stringify(over)}`);
  return r.rejection;
};

describe('GTIN', () => {
  it('computes and verifies check digits for every length', () => {
    assert.equal(gtinCheckDigit('789100031550'), 7);
    assert.ok(validateGtin('7891000315507').ok);
    assert.ok(validateGtin('96385074').ok); // GTIN-8
    assert.ok(validateGtin('036000291452').ok); // UPC-A
    assert.ok(validateGtin('17891000315504').ok); // GTIN-14
    assert.ok(!validateGtin('7891000315508').ok);
    assert.ok(!validateGtin('78910003155').ok);
  });
});

describe('validateSaleRow', () => {
  it('transforms a good row into integer cents and thousandths', () => {
    const r = validateSaleRow(row({ sku: 'P2', ean: '', quantity: '0.435', unit_price: '19.99', total: '8.70' }), ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.line, {
      receiptId: 'R1',
      lineNo: 1,
      soldAt: '10:15:00',
      hour: 10,
      productId: 2,
      quantityMilli: 435,
      unitPriceCents: 1999,
      discountCents: 0,
      totalCents: 870,
      paymentMethod: 'pix',
    });
  });
  it('accepts a return, a discount, SEM GTIN with a SKU, a lookup by EAN alone, and a 1-cent tolerance', () => {
    const ret = validateSaleRow(row({ quantity: '-1', total: '-3.50' }), ctx);
    assert.ok(ret.ok && ret.line.quantityMilli === -1000 && ret.line.totalCents === -350);
    const disc = validateSaleRow(row({ discount: '1.00', total: '6.00' }), ctx);
    assert.ok(disc.ok && disc.line.discountCents === 100);
    assert.ok(validateSaleRow(row({ ean: 'SEM GTIN' }), ctx).ok);
    const byEan = validateSaleRow(row({ sku: '', ean: '7894900011517' }), ctx);
    assert.ok(byEan.ok && byEan.line.productId === 3);
    assert.ok(validateSaleRow(row({ total: '7.01' }), ctx).ok);
    const dt = validateSaleRow(row({ sold_at: '02/03/2026 23:59:59' }), ctx);
    assert.ok(dt.ok && dt.line.soldAt === '2026-03-02T23:59:59' && dt.line.hour === 23);
  });
  it('names the column and the reason of every rule it enforces, in English and in Portuguese', () => {
    const cases: Array<[Record<string, string>, string, RegExp, RegExp]> = [
      [
        { store_code: 'S002' },
        'store_code',
        /not the store of this file/,
        /^a loja S002 não é a loja deste arquivo \(S001\)$/,
      ],
      [{ business_date: '2026-03-03' }, 'business_date', /not the business day/, /2026-03-03 não é o dia de movimento/],
      [{ business_date: '31/02/2026' }, 'business_date', /not a date/, /não é uma data/],
      [{ receipt_id: '' }, 'receipt_id', /missing/, /falta o número do cupom/],
      [{ receipt_id: 'R'.repeat(65) }, 'receipt_id', /longer than 64/, /mais de 64 caracteres/],
      [{ line_no: '0' }, 'line_no', /whole number/, /número inteiro a partir de 1/],
      [{ line_no: '1.5' }, 'line_no', /whole number/, /número inteiro/],
      [{ sold_at: '25:00' }, 'sold_at', /not a time/, /não é um horário/],
      [{ sku: 'NOPE' }, 'sku', /not in the catalogue/, /o produto NOPE não está no cadastro/],
      [{ sku: '', ean: '' }, 'sku', /missing/, /falta o código do produto/],
      [{ sku: '', ean: 'SEM GTIN' }, 'sku', /SEM GTIN needs/, /SEM GTIN exige/],
      [{ ean: '7891000315508' }, 'ean', /check digit is wrong \(expected 7\)/, /dígito verificador .* \(esperado 7\)/],
      [{ ean: '123' }, 'ean', /8, 12, 13 or 14/, /8, 12, 13 ou 14 dígitos/],
      [{ ean: '78910003155O7' }, 'ean', /digits only/, /só dígitos/],
      [{ ean: '7894900011517' }, 'ean', /belongs to product P3/, /é do produto P3, não do P1/],
      [{ sku: '', ean: '7891234567895' }, 'ean', /no product/, /nenhum produto do cadastro/],
      [{ quantity: '0', total: '0' }, 'quantity', /zero/, /a quantidade é zero/],
      [{ quantity: '1.5', total: '5.25' }, 'quantity', /whole/, /P1 é vendido por unidade/],
      [{ quantity: '200000', total: '700000.00' }, 'quantity', /implausibly large/, /quantidade é grande demais/],
      [{ quantity: '1.2345' }, 'quantity', /more than 3 decimal places/, /^quantidade: mais de 3 casas decimais$/],
      [
        { quantity: 'dois' },
        'quantity',
        /not a number \(expected e\.g\. 1234\.56\)/,
        /^quantidade: não é um número \(exemplo: 1234\.56\)$/,
      ],
      [{ quantity: '9999999999999999' }, 'quantity', /too large/, /número grande demais/],
      [{ unit_price: '-1', total: '-2.00' }, 'unit_price', /negative/, /preço unitário é negativo/],
      [
        { unit_price: '200000', total: '400000.00' },
        'unit_price',
        /implausibly large/,
        /preço unitário é grande demais/,
      ],
      [{ discount: '-1' }, 'discount', /negative/, /desconto é negativo/],
      [{ discount: 'x' }, 'discount', /discount is not a number/, /^desconto: não é um número/],
      [{ total: '7.02' }, 'total', /expected 7\.00/, /não confere .* \(esperado 7,00\)/],
      [{ total: '' }, 'total', /empty/, /^total: valor vazio$/],
      [{ payment_method: 'cheque' }, 'payment_method', /unknown payment/, /forma de pagamento desconhecida/],
    ];
    for (const [over, column, en, pt] of cases) {
      const r = rejected(over);
      assert.equal(r.column, column, JSON.stringify(over));
      assert.match(r.reason, en, JSON.stringify(over));
      assert.equal(r.reason, sayIn(r.code, r.params, 'en'), 'the English text is the code said in English');
      assert.match(sayIn(r.code, r.params, 'pt'), pt, JSON.stringify(over));
      assert.equal(r.value, over[column] ?? '', JSON.stringify(over));
    }
  });
  it('reads decimal-comma files', () => {
    const r = validateSaleRow(row({ quantity: '2', unit_price: '1.234,50', total: '2.469,00' }), {
      ...ctx,
      convention: 'comma',
    });
    assert.ok(r.ok && r.line.unitPriceCents === 123450 && r.line.totalCents === 246900);
  });
});
