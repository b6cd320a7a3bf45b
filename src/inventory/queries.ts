// Reading stock: balances with their levels, per store, optionally only the low ones.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

export interface StockItem {
  store: string;
  sku: string;
  name: string;
  category: string | null;
  unit: 'UN' | 'KG';
  /** in units or kg */
  onHand: number;
  reorderPoint: number | null;
  targetLevel: number | null;
  low: boolean;
}

export interface StockFilter {
  store?: string;
  stores?: number[];
  low?: boolean;
  category?: string;
  search?: string;
  limit?: number;
  offset?: number;
}

const units = (milli: number | null) => (milli === null ? null : milli / 1000);

export async function listStock(db: Kysely<DB>, f: StockFilter = {}): Promise<StockItem[]> {
  let q = db
    .selectFrom('stock_balances as b')
    .innerJoin('stores as s', 's.id', 'b.store_id')
    .innerJoin('products as p', 'p.id', 'b.product_id')
    .select([
      's.code as store',
      'p.sku',
      'p.name',
      'p.category',
      'p.unit',
      'b.on_hand_milli',
      'b.reorder_point_milli',
      'b.target_level_milli',
    ])
    .orderBy('s.code')
    .orderBy('p.sku');
  if (f.store) q = q.where('s.code', '=', f.store);
  if (f.stores) q = q.where('b.store_id', 'in', f.stores.length ? f.stores : [-1]);
  if (f.low)
    q = q.where('b.reorder_point_milli', 'is not', null).whereRef('b.on_hand_milli', '<=', 'b.reorder_point_milli');
  if (f.category) q = q.where('p.category', '=', f.category);
  if (f.search) {
    const like = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('p.name', 'like', like), eb('p.sku', 'like', like), eb('p.ean', 'like', like)]));
  }
  if (f.limit !== undefined) q = q.limit(f.limit).offset(f.offset ?? 0);
  const rows = await q.execute();
  return rows.map((r) => ({
    store: r.store,
    sku: r.sku,
    name: r.name,
    category: r.category,
    unit: r.unit,
    onHand: r.on_hand_milli / 1000,
    reorderPoint: units(r.reorder_point_milli),
    targetLevel: units(r.target_level_milli),
    low: r.reorder_point_milli !== null && r.on_hand_milli <= r.reorder_point_milli,
  }));
}
