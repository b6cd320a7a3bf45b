// The catalogue in memory for one file's validation: a few thousand products, looked up once per line.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Catalogue, CatalogueProduct } from '../domain/sales-row.ts';

export async function loadCatalogue(db: Kysely<DB>): Promise<Catalogue> {
  const rows = await db.selectFrom('products').select(['id', 'sku', 'ean', 'unit']).execute();
  const bySku = new Map<string, CatalogueProduct>();
  const byEan = new Map<string, CatalogueProduct>();
  for (const r of rows) {
    const p: CatalogueProduct = { id: r.id, sku: r.sku, ean: r.ean, unit: r.unit };
    bySku.set(r.sku, p);
    if (r.ean) byEan.set(r.ean, p);
  }
  return {
    bySku: (sku) => bySku.get(sku),
    // A 13-digit EAN and its 14-digit GTIN form (leading zero) are the same barcode.
    byEan: (ean) => byEan.get(ean) ?? byEan.get(ean.replace(/^0+(?=\d{8,})/, '')) ?? byEan.get(`0${ean}`),
  };
}
