// Reading stock: balances with their levels, per store, optionally only the low ones.
import { type Kysely, sql } from 'kysely';
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
    // Case-insensitive on both databases (MariaDB's binary collation would not be; SQLite folds ASCII only), and
    // a % or _ typed by a person is literal. The escape character is `!`: SQLite has no default one, and a
    // backslash would need escaping differently in each dialect's string literals.
    const like = `%${f.search.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const matches = (col: 'p.name' | 'p.sku' | 'p.ean') => sql<boolean>`lower(${sql.ref(col)}) like ${like} escape '!'`;
    q = q.where((eb) => eb.or([matches('p.name'), matches('p.sku'), matches('p.ean')]));
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

export interface MovementItem {
  id: number;
  kind: string;
  /** units or kg, signed */
  delta: number;
  ref: string;
  reason: string | null;
  actor: string | null;
  at: string;
}

export interface MovementPage {
  store: string;
  sku: string;
  items: MovementItem[];
  /** pass as `before` for the next (older) page; null on the last page */
  nextBefore: number | null;
}

/** One product's movements at one store, newest first, paged by id (stable while new movements arrive). */
export async function movementHistory(
  db: Kysely<DB>,
  q: { storeId: number; storeCode: string; productId: number; sku: string; limit: number; before?: number },
): Promise<MovementPage> {
  let query = db
    .selectFrom('stock_movements')
    .select(['id', 'kind', 'delta_milli', 'ref', 'reason', 'actor', 'created_at'])
    .where('store_id', '=', q.storeId)
    .where('product_id', '=', q.productId)
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  const rows = await query.execute();
  const page = rows.slice(0, q.limit);
  return {
    store: q.storeCode,
    sku: q.sku,
    items: page.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      delta: Number(r.delta_milli) / 1000,
      ref: r.ref,
      reason: r.reason,
      actor: r.actor,
      at: r.created_at,
    })),
    nextBefore: rows.length > q.limit ? Number(page[page.length - 1]!.id) : null,
  };
}

/** One product's stock at one store; a product the store never had reads as zero without levels. */
export async function productStock(
  db: Kysely<DB>,
  store: { id: number; code: string },
  product: { id: number; sku: string; name: string; category: string | null; unit: 'UN' | 'KG' },
): Promise<StockItem> {
  const b = await db
    .selectFrom('stock_balances')
    .select(['on_hand_milli', 'reorder_point_milli', 'target_level_milli'])
    .where('store_id', '=', store.id)
    .where('product_id', '=', product.id)
    .executeTakeFirst();
  const onHand = b ? Number(b.on_hand_milli) : 0;
  const reorder = b?.reorder_point_milli ?? null;
  return {
    store: store.code,
    sku: product.sku,
    name: product.name,
    category: product.category,
    unit: product.unit,
    onHand: onHand / 1000,
    reorderPoint: units(reorder),
    targetLevel: units(b?.target_level_milli ?? null),
    low: reorder !== null && onHand <= reorder,
  };
}
