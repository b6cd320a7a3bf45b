// The products of one file, looked up as its lines arrive. Before each batch of lines is validated, the SKUs and
// barcodes it names that were not met yet are read from the database in one go; validation then finds them in
// memory. On SQLite a file costs the products it sells (a store-day names a thousand or two), not the whole
// catalogue: a chain's 20,000 products read whole took longer than a 5,000-line file's own lines.

import type { Database } from '../db/connect.ts';
import type { Catalogue, CatalogueProduct } from '../domain/sales-row.ts';

export interface IngestProduct extends CatalogueProduct {
  category: string | null;
}

export interface IngestCatalogue extends Catalogue {
  /** the product of a validated line, for summing it into the roll-ups */
  byId(id: number): IngestProduct | undefined;
  /** Reads the products of these lines' SKU and barcode columns that were not looked up yet. */
  learn(rows: Iterable<{ fields: string[] }>, columns: { sku?: number; ean?: number }): Promise<void>;
}

type ProductRow = { id: number; sku: string; ean: string | null; unit: 'UN' | 'KG'; category: string | null };
type Finder = (column: 'sku' | 'ean', values: string[]) => Promise<ProductRow[]>;

const COLUMNS = 'id, sku, ean, unit, category';

/**
 * How a file's products are read. SQLite, by code: on the writer's own handle, which the file's open transaction
 * holds (a Kysely query would wait for that transaction), one statement taking the codes as a JSON array, its rows
 * as arrays (better-sqlite3 builds a row object at half the speed of the rest of the read). MariaDB reads a whole
 * catalogue faster than a store-day's codes one by one (20,000 products in 7.5 ms against 4–8 ms for 1,500
 * lookups), so there the first batch reads every product, on a pooled connection of its own: the file's connection
 * is busy streaming LOAD DATA while lines are parsed.
 */
function finder(database: Database): Finder | 'whole' {
  const { sqlite } = database;
  if (database.dialect !== 'sqlite' || !sqlite) return 'whole';
  const by = {
    sku: sqlite.prepare(`select ${COLUMNS} from products where sku in (select value from json_each(?))`).raw(),
    ean: sqlite.prepare(`select ${COLUMNS} from products where ean in (select value from json_each(?))`).raw(),
  };
  return async (column, values) =>
    (by[column].all(JSON.stringify(values)) as Array<[number, string, string | null, 'UN' | 'KG', string | null]>).map(
      ([id, sku, ean, unit, category]) => ({ id, sku, ean, unit, category }),
    );
}

/** A barcode as the database may hold it: as written, without padding zeros, or with the 14-digit GTIN's zero. */
function barcodeForms(text: string): string[] {
  if (!/^\d{8,14}$/.test(text)) return [];
  const stripped = text.replace(/^0+(?=\d{8,})/, '');
  return [text, stripped, `0${text}`];
}

export function fileCatalogue(database: Database): IngestCatalogue {
  const find = finder(database);
  let whole = false;
  const byId = new Map<number, IngestProduct>();
  const bySku = new Map<string, IngestProduct>();
  const byEan = new Map<string, IngestProduct>();
  // codes already asked for, found or not: each is read once per file
  const askedSku = new Set<string>();
  const askedEan = new Set<string>();
  const keep = (rows: ProductRow[]) => {
    for (const r of rows) {
      const p = byId.get(r.id) ?? { id: r.id, sku: r.sku, ean: r.ean, unit: r.unit, category: r.category };
      byId.set(r.id, p);
      bySku.set(r.sku, p);
      if (r.ean) byEan.set(r.ean, p);
    }
  };
  return {
    byId: (id) => byId.get(id),
    bySku: (sku) => bySku.get(sku),
    // A 13-digit EAN and its 14-digit GTIN form (leading zero) are the same barcode.
    byEan: (ean) => byEan.get(ean) ?? byEan.get(ean.replace(/^0+(?=\d{8,})/, '')) ?? byEan.get(`0${ean}`),
    async learn(rows, columns) {
      if (find === 'whole') {
        if (!whole) {
          keep(await database.db.selectFrom('products').select(['id', 'sku', 'ean', 'unit', 'category']).execute());
          whole = true;
        }
        return;
      }
      const skus: string[] = [];
      if (columns.sku !== undefined) {
        for (const { fields } of rows) {
          const sku = (fields[columns.sku] ?? '').trim();
          if (sku && !askedSku.has(sku)) {
            askedSku.add(sku);
            skus.push(sku);
          }
        }
        if (skus.length > 0) keep(await find('sku', skus));
      }
      if (columns.ean === undefined) return;
      // most lines name both codes of one product: its barcode came with it and is not asked for again
      const eans: string[] = [];
      for (const { fields } of rows) {
        const ean = (fields[columns.ean] ?? '').trim();
        if (!ean || askedEan.has(ean)) continue;
        askedEan.add(ean);
        const forms = barcodeForms(ean);
        if (forms.some((form) => byEan.has(form))) continue;
        for (const form of forms) {
          if (form !== ean && askedEan.has(form)) continue;
          askedEan.add(form);
          eans.push(form);
        }
      }
      if (eans.length > 0) keep(await find('ean', eans));
    },
  };
}
