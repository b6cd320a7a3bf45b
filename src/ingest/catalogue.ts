// The catalogue in memory for one file's validation: a few thousand products, looked up once per line.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Catalogue, CatalogueProduct } from '../domain/sales-row.ts';

export interface IngestProduct extends CatalogueProduct {
  category: string | null;
}

export interface IngestCatalogue extends Catalogue {
  /** the product of a validated line, for summing it into the roll-ups */
  byId(id: number): IngestProduct | undefined;
}

export async function loadCatalogue(db: Kysely<DB>): Promise<IngestCatalogue> {
  const rows = await db.selectFrom('products').select(['id', 'sku', 'ean', 'unit', 'category']).execute();
  const byId = new Map<number, IngestProduct>();
  const bySku = new Map<string, IngestProduct>();
  const byEan = new Map<string, IngestProduct>();
  for (const r of rows) {
    const p: IngestProduct = { id: r.id, sku: r.sku, ean: r.ean, unit: r.unit, category: r.category };
    byId.set(r.id, p);
    bySku.set(r.sku, p);
    if (r.ean) byEan.set(r.ean, p);
  }
  return {
    byId: (id) => byId.get(id),
    bySku: (sku) => bySku.get(sku),
    // A 13-digit EAN and its 14-digit GTIN form (leading zero) are the same barcode.
    byEan: (ean) => byEan.get(ean) ?? byEan.get(ean.replace(/^0+(?=\d{8,})/, '')) ?? byEan.get(`0${ean}`),
  };
}
