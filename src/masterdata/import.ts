// Master data imports (../shared/formats/master-data.md): stores, products, and stock counts and levels. Same
// tolerant reader as the sales files; each import is an upsert (nothing is deleted by omission), good rows are
// applied in one transaction and every bad row is reported with its line, column, value and reason.
import { randomUUID } from 'node:crypto';
import { decodeChunks, EncodingDetector } from '../csv/encoding.ts';
import { type ColumnSpec, readTable, type TableReader } from '../csv/reader.ts';
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import type { ProductUnit, StoreKind } from '../db/schema.ts';
import { inTransaction, nowIso, type Tx } from '../db/tx.ts';
import { type NumberConvention, parseScaled } from '../domain/decimal.ts';
import { validateGtin } from '../domain/gtin.ts';
import { foldText } from '../domain/payment.ts';
import { ShopflowError } from '../errors.ts';
import { applyMovements, type Movement } from '../inventory/ledger.ts';

export interface RowError {
  line: number;
  column: string;
  value: string;
  reason: string;
}

export interface ImportResult {
  rowsTotal: number;
  inserted: number;
  updated: number;
  rejected: RowError[];
  warnings: string[];
}

const STORE_COLUMNS: ColumnSpec[] = [
  { name: 'store_code', aliases: ['loja', 'codigo_loja'], required: true },
  { name: 'name', aliases: ['nome'], required: true },
  { name: 'kind', aliases: ['tipo'] },
  { name: 'city', aliases: ['cidade'] },
  { name: 'timezone', aliases: ['fuso', 'fuso_horario'] },
  { name: 'closing_time', aliases: ['fechamento', 'horario_fechamento'] },
];

const PRODUCT_COLUMNS: ColumnSpec[] = [
  { name: 'sku', aliases: ['codigo', 'codigo_produto'], required: true },
  { name: 'ean', aliases: ['gtin', 'codigo_barras'] },
  { name: 'name', aliases: ['nome', 'descricao'], required: true },
  { name: 'category', aliases: ['categoria', 'departamento'] },
  { name: 'unit', aliases: ['unidade'] },
  { name: 'price', aliases: ['preco', 'preco_venda'], required: true, numeric: true },
  { name: 'supplier', aliases: ['fornecedor'] },
  { name: 'pack_size', aliases: ['embalagem', 'multiplo'], numeric: true },
  { name: 'lead_time_days', aliases: ['prazo_entrega'] },
];

const STOCK_COLUMNS: ColumnSpec[] = [
  { name: 'store_code', aliases: ['loja', 'codigo_loja'], required: true },
  { name: 'sku', aliases: ['codigo', 'codigo_produto'], required: true },
  { name: 'on_hand', aliases: ['estoque', 'saldo'], numeric: true },
  { name: 'reorder_point', aliases: ['estoque_minimo', 'ponto_pedido'], numeric: true },
  { name: 'target_level', aliases: ['estoque_maximo', 'estoque_alvo'], numeric: true },
];

export const STORE_CODE_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Opens CSV bytes with the same encoding detection and sniffing as the sales files. */
export async function openTable(bytes: Buffer, columns: ColumnSpec[]): Promise<TableReader> {
  const detector = new EncodingDetector();
  detector.push(bytes);
  const verdict = detector.finish();
  if (verdict.binary) {
    throw new ShopflowError('invalid_input', `this is not a text CSV file (a NUL byte at offset ${verdict.nulOffset})`);
  }
  async function* one() {
    yield bytes;
  }
  return readTable(decodeChunks(one(), verdict.encoding), columns);
}

interface Row {
  line: number;
  get(column: string): string;
}

async function rowsOf(table: TableReader, errors: RowError[]): Promise<Row[]> {
  const rows: Row[] = [];
  const width = table.headerNames.length;
  for await (const batch of table.batches()) {
    for (const r of batch) {
      if (r.fields.length !== width) {
        errors.push({
          line: r.line,
          column: '*',
          value: r.fields.join(table.delimiter).slice(0, 200),
          reason: `the line has ${r.fields.length} fields but the header has ${width}`,
        });
        continue;
      }
      rows.push({
        line: r.line,
        get: (c) => {
          const i = table.columns[c];
          return i === undefined ? '' : (r.fields[i] ?? '').trim();
        },
      });
    }
  }
  return rows;
}

function unknownWarning(table: TableReader): string[] {
  return table.unknownColumns.length ? [`unknown columns ignored: ${table.unknownColumns.join(', ')}`] : [];
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export async function importStores(database: Database, bytes: Buffer, actor = 'cli'): Promise<ImportResult> {
  const table = await openTable(bytes, STORE_COLUMNS);
  const errors: RowError[] = [];
  const rows = await rowsOf(table, errors);
  const seen = new Map<string, number>();
  const good: Array<{
    code: string;
    name: string;
    kind: StoreKind;
    city: string | null;
    timezone: string;
    closing: string | null;
  }> = [];
  for (const r of rows) {
    const err = (column: string, value: string, reason: string) => errors.push({ line: r.line, column, value, reason });
    const code = r.get('store_code');
    if (!STORE_CODE_RE.test(code)) {
      err('store_code', code, 'store code must be 1–32 letters, digits, _ or -');
      continue;
    }
    if (seen.has(code)) {
      err('store_code', code, `store ${code} appears again (first on line ${seen.get(code)})`);
      continue;
    }
    const name = r.get('name');
    if (!name) {
      err('name', '', 'name is missing');
      continue;
    }
    const kindText = foldText(r.get('kind'));
    const kind: StoreKind | undefined =
      kindText === '' || kindText === 'file' || kindText === 'arquivo'
        ? 'file'
        : ['selfservice', 'autoatendimento'].includes(kindText)
          ? 'selfservice'
          : undefined;
    if (!kind) {
      err('kind', r.get('kind'), 'kind must be file or selfservice (autoatendimento)');
      continue;
    }
    const tz = r.get('timezone') || 'America/Sao_Paulo';
    if (!validTimeZone(tz)) {
      err('timezone', tz, 'is not an IANA time zone (e.g. America/Sao_Paulo)');
      continue;
    }
    const closing = r.get('closing_time');
    if (closing && !/^([01]\d|2[0-3]):[0-5]\d$/.test(closing)) {
      err('closing_time', closing, 'closing time must be HH:MM');
      continue;
    }
    seen.set(code, r.line);
    good.push({ code, name, kind, city: r.get('city') || null, timezone: tz, closing: closing || null });
  }
  let inserted = 0;
  let updated = 0;
  await inTransaction(database, async (trx) => {
    const now = nowIso();
    for (const s of good) {
      const existing = await trx.selectFrom('stores').select('id').where('code', '=', s.code).executeTakeFirst();
      const values = {
        name: s.name,
        kind: s.kind,
        city: s.city,
        timezone: s.timezone,
        ...(s.closing ? { closing_time: s.closing } : {}),
        updated_at: now,
      };
      if (existing) {
        await trx.updateTable('stores').set(values).where('id', '=', existing.id).execute();
        updated++;
      } else {
        await trx
          .insertInto('stores')
          .values({ code: s.code, ...values, created_at: now })
          .execute();
        inserted++;
      }
    }
    await audit(trx, actor, 'stores.import', { inserted, updated, rejected: errors.length });
  });
  return importResult(table, rows.length, inserted, updated, errors);
}

export async function importProducts(database: Database, bytes: Buffer, actor = 'cli'): Promise<ImportResult> {
  const table = await openTable(bytes, PRODUCT_COLUMNS);
  const conv = table.numberConvention;
  const errors: RowError[] = [];
  const rows = await rowsOf(table, errors);
  const seenSku = new Map<string, number>();
  const seenEan = new Map<string, number>();
  type P = {
    line: number;
    sku: string;
    ean: string | null;
    name: string;
    category: string | null;
    unit: ProductUnit;
    price: number;
    supplier: string | null;
    pack: number | undefined;
    lead: number | undefined;
  };
  const good: P[] = [];
  for (const r of rows) {
    const err = (column: string, value: string, reason: string) => errors.push({ line: r.line, column, value, reason });
    const sku = r.get('sku');
    if (!sku || sku.length > 64) {
      err('sku', sku, sku ? 'SKU is longer than 64 characters' : 'SKU is missing');
      continue;
    }
    if (seenSku.has(sku)) {
      err('sku', sku, `SKU ${sku} appears again (first on line ${seenSku.get(sku)})`);
      continue;
    }
    const eanText = r.get('ean');
    let ean: string | null = null;
    if (eanText) {
      const g = validateGtin(eanText);
      if (!g.ok) {
        err('ean', eanText, `barcode ${g.reason}`);
        continue;
      }
      if (seenEan.has(g.value)) {
        err('ean', eanText, `barcode appears again (first on line ${seenEan.get(g.value)})`);
        continue;
      }
      ean = g.value;
    }
    const name = r.get('name');
    if (!name) {
      err('name', '', 'name is missing');
      continue;
    }
    const unitText = r.get('unit').toUpperCase() || 'UN';
    if (unitText !== 'UN' && unitText !== 'KG') {
      err('unit', r.get('unit'), 'unit must be UN (whole units) or KG (weighed)');
      continue;
    }
    const unit = unitText as ProductUnit;
    const price = parseScaled(r.get('price'), conv, 2);
    if (!price.ok || price.value < 0) {
      err('price', r.get('price'), price.ok ? 'price is negative' : `price ${price.reason}`);
      continue;
    }
    let pack: number | undefined;
    const packText = r.get('pack_size');
    if (packText) {
      const p = parseScaled(packText, conv, 3);
      if (!p.ok || p.value <= 0 || (unit === 'UN' && p.value % 1000 !== 0)) {
        err(
          'pack_size',
          packText,
          !p.ok
            ? `pack size ${p.reason}`
            : p.value <= 0
              ? 'pack size must be above zero'
              : 'pack size must be whole for UN',
        );
        continue;
      }
      pack = p.value;
    }
    let lead: number | undefined;
    const leadText = r.get('lead_time_days');
    if (leadText) {
      if (!/^\d{1,3}$/.test(leadText)) {
        err('lead_time_days', leadText, 'lead time must be a whole number of days');
        continue;
      }
      lead = Number(leadText);
    }
    seenSku.set(sku, r.line);
    if (ean) seenEan.set(ean, r.line);
    good.push({
      line: r.line,
      sku,
      ean,
      name,
      category: r.get('category') || null,
      unit,
      price: price.value,
      supplier: r.get('supplier') || null,
      pack,
      lead,
    });
  }
  let inserted = 0;
  let updated = 0;
  await inTransaction(database, async (trx) => {
    const now = nowIso();
    for (const p of good) {
      const existing = await trx.selectFrom('products').select('id').where('sku', '=', p.sku).executeTakeFirst();
      if (p.ean) {
        const owner = await trx
          .selectFrom('products')
          .select(['id', 'sku'])
          .where('ean', '=', p.ean)
          .executeTakeFirst();
        if (owner && owner.id !== existing?.id) {
          errors.push({
            line: p.line,
            column: 'ean',
            value: p.ean,
            reason: `barcode already belongs to product ${owner.sku}`,
          });
          continue;
        }
      }
      const values = {
        ean: p.ean,
        name: p.name,
        category: p.category,
        unit: p.unit,
        price_cents: p.price,
        supplier: p.supplier,
        ...(p.pack !== undefined ? { pack_size_milli: p.pack } : {}),
        ...(p.lead !== undefined ? { lead_time_days: p.lead } : {}),
        updated_at: now,
      };
      if (existing) {
        await trx.updateTable('products').set(values).where('id', '=', existing.id).execute();
        updated++;
      } else {
        await trx
          .insertInto('products')
          .values({ sku: p.sku, ...values, created_at: now })
          .execute();
        inserted++;
      }
    }
    await audit(trx, actor, 'products.import', { inserted, updated, rejected: errors.length });
  });
  return importResult(table, rows.length, inserted, updated, errors);
}

export async function importStock(database: Database, bytes: Buffer, actor = 'cli'): Promise<ImportResult> {
  const table = await openTable(bytes, STOCK_COLUMNS);
  const conv = table.numberConvention;
  const errors: RowError[] = [];
  const rows = await rowsOf(table, errors);
  let inserted = 0;
  let updated = 0;
  const importId = randomUUID();
  await inTransaction(database, async (trx) => {
    const stores = new Map(
      (await trx.selectFrom('stores').select(['id', 'code']).execute()).map((s) => [s.code, s.id] as const),
    );
    const seen = new Map<string, number>();
    const movements: Movement[] = [];
    const now = nowIso();
    for (const r of rows) {
      const err = (column: string, value: string, reason: string) =>
        errors.push({ line: r.line, column, value, reason });
      const code = r.get('store_code');
      const storeId = stores.get(code);
      if (storeId === undefined) {
        err('store_code', code, code ? `store ${code} does not exist (import stores first)` : 'store code is missing');
        continue;
      }
      const sku = r.get('sku');
      const product = sku
        ? await trx.selectFrom('products').select(['id', 'unit']).where('sku', '=', sku).executeTakeFirst()
        : undefined;
      if (!product) {
        err('sku', sku, sku ? `product ${sku} does not exist (import products first)` : 'SKU is missing');
        continue;
      }
      const k = `${storeId}:${product.id}`;
      if (seen.has(k)) {
        err('sku', sku, `store ${code} and product ${sku} appear again (first on line ${seen.get(k)})`);
        continue;
      }
      const q = (column: string) => quantity(r.get(column), conv, product.unit);
      const onHand = q('on_hand');
      const reorder = q('reorder_point');
      const target = q('target_level');
      const bad = [
        ['on_hand', onHand],
        ['reorder_point', reorder],
        ['target_level', target],
      ].find(([, v]) => typeof v === 'string') as [string, string] | undefined;
      if (bad) {
        err(bad[0], r.get(bad[0]), bad[1]);
        continue;
      }
      if (onHand === undefined && reorder === undefined && target === undefined) {
        err('on_hand', '', 'the line sets nothing: give on_hand, reorder_point or target_level');
        continue;
      }
      const current = await lockedBalance(trx, database.dialect, storeId, product.id);
      const newReorder = reorder ?? current?.reorder_point_milli ?? null;
      const newTarget = target ?? current?.target_level_milli ?? null;
      if (newReorder !== null && newTarget !== null && (newTarget as number) < (newReorder as number)) {
        err('target_level', r.get('target_level'), 'target level is below the reorder point');
        continue;
      }
      seen.set(k, r.line);
      if (!current) {
        await trx
          .insertInto('stock_balances')
          .values({
            store_id: storeId,
            product_id: product.id,
            on_hand_milli: 0,
            reorder_point_milli: newReorder as number | null,
            target_level_milli: newTarget as number | null,
            updated_at: now,
          })
          .execute();
        inserted++;
      } else {
        await trx
          .updateTable('stock_balances')
          .set({
            reorder_point_milli: newReorder as number | null,
            target_level_milli: newTarget as number | null,
            updated_at: now,
          })
          .where('store_id', '=', storeId)
          .where('product_id', '=', product.id)
          .execute();
        updated++;
      }
      if (typeof onHand === 'number') {
        const delta = onHand - (current?.on_hand_milli ?? 0);
        movements.push({
          storeId,
          productId: product.id,
          kind: 'count',
          deltaMilli: delta,
          ref: `count:${importId}:${storeId}:${product.id}`,
          reason: `stock count imported (line ${r.line}): counted ${onHand / 1000}`,
          actor,
        });
      }
    }
    await applyMovements(trx, movements, now);
    await audit(trx, actor, 'stock.import', { inserted, updated, counts: movements.length, rejected: errors.length });
  });
  return importResult(table, rows.length, inserted, updated, errors);
}

function quantity(text: string, conv: NumberConvention, unit: ProductUnit): number | string | undefined {
  if (text === '') return undefined;
  const q = parseScaled(text, conv, 3);
  if (!q.ok) return `quantity ${q.reason}`;
  if (q.value < 0) return 'quantity is negative';
  if (unit === 'UN' && q.value % 1000 !== 0) return 'the product is sold by unit: the quantity must be whole';
  return q.value;
}

async function lockedBalance(trx: Tx, dialect: Database['dialect'], storeId: number, productId: number) {
  const q = trx
    .selectFrom('stock_balances')
    .select(['on_hand_milli', 'reorder_point_milli', 'target_level_milli'])
    .where('store_id', '=', storeId)
    .where('product_id', '=', productId);
  return (dialect === 'mysql' ? q.forUpdate() : q).executeTakeFirst();
}

function importResult(table: TableReader, goodShape: number, inserted: number, updated: number, errors: RowError[]) {
  // rows rejected for their shape never reached the row list: count them into the total
  const badShape = errors.filter((e) => e.column === '*').length;
  return {
    rowsTotal: goodShape + badShape,
    inserted,
    updated,
    rejected: errors.sort((a, b) => a.line - b.line),
    warnings: unknownWarning(table),
  };
}
