// Credentials for HTTP tests: a logged-in user of a role and stores, or a store's API token.
//
//   const t = await startTestServer(dialect);
//   await createStores(t, ['S001', 'S002']);                     // when the test has no stores yet
//   const alice = await createUserAndLogin(t, { role: 'manager', stores: ['S001'] });
//   await fetch(`${t.baseUrl}/api/v1/stock/counts`, { method: 'POST', headers: alice.headers({ 'content-type': 'application/json' }), body });
//   const kiosk = await createTokenHeaders(t, { store: 'S001', purpose: 'kiosk' });
//   await fetch(`${t.baseUrl}/api/v1/checkouts`, { method: 'POST', headers: { ...kiosk, 'content-type': 'application/json' }, body });
//
// Users are created directly in the database (with a cheap test-only password hash) and logged in over HTTP, so
// the cookie and the CSRF token are the real ones.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/db/schema.ts';
import { inTransaction, nowIso } from '../../src/db/tx.ts';
import { recomputeDailyRollup } from '../../src/sales/rollup.ts';
import { createToken, type TokenPurpose } from '../../src/users/tokens.ts';
import { createUser } from '../../src/users/users.ts';
import type { TestServer } from './server.ts';

export interface LoggedInUser {
  username: string;
  password: string;
  /** `name=value`, ready for a Cookie header */
  cookie: string;
  csrf: string;
  /** Cookie and x-csrf-token, plus any extra headers */
  headers(extra?: Record<string, string>): Record<string, string>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;

/** Inserts stores with these codes that do not exist yet (kind `file`, unless given). */
export async function createStores(
  t: TestServer,
  codes: string[],
  kind: 'file' | 'selfservice' = 'file',
): Promise<void> {
  const db = t.app.ctx.database.db;
  for (const code of codes) {
    const exists = await db.selectFrom('stores').select('id').where('code', '=', code).executeTakeFirst();
    if (exists) continue;
    const now = nowIso();
    await db
      .insertInto('stores')
      .values({
        code,
        name: `Store ${code}`,
        kind,
        city: null,
        timezone: 'America/Sao_Paulo',
        scale_profile: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
}

/**
 * Inserts `UN` products with these SKUs (named `Product <SKU>`, priced 100 + their place in the list, in cents) and
 * returns their ids by SKU. `category` gives each one's category.
 */
export async function createProducts(
  t: TestServer,
  skus: string[],
  category: (sku: string, i: number) => string = () => 'c',
): Promise<Map<string, number>> {
  const now = nowIso();
  const ids = new Map<string, number>();
  for (const [i, sku] of skus.entries()) {
    const r = await t.app.ctx.database.db
      .insertInto('products')
      .values({
        sku,
        ean: null,
        name: `Product ${sku}`,
        category: category(sku, i),
        unit: 'UN',
        price_cents: 100 + i,
        supplier: null,
        created_at: now,
        updated_at: now,
      })
      .executeTakeFirstOrThrow();
    ids.set(sku, Number(r.insertId));
  }
  return ids;
}

/** Logs in over HTTP and returns the session cookie and CSRF token. */
export async function login(t: TestServer, username: string, password: string): Promise<LoggedInUser> {
  const res = await fetch(`${t.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `login of ${username} failed: ${res.status} ${text}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  assert.ok(cookie.includes('='), `login of ${username} set no cookie`);
  const { csrfToken } = JSON.parse(text) as { csrfToken: string };
  return {
    username,
    password,
    cookie,
    csrf: csrfToken,
    headers: (extra = {}) => ({ cookie, 'x-csrf-token': csrfToken, ...extra }),
  };
}

/**
 * Creates a user of the role with access to the stores (codes that must exist; see createStores) and logs them in.
 * Admins see every store whatever `stores` says.
 */
export async function createUserAndLogin(
  t: TestServer,
  opts: { role: Role; stores: string[]; username?: string },
): Promise<LoggedInUser> {
  const username = opts.username ?? unique(opts.role);
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await createUser(t.app.ctx.database, { username, password, role: opts.role, stores: opts.stores }, 'test', {
    hashCost: 'insecure-test-only',
  });
  return login(t, username, password);
}

/** Creates an API token for the store and purpose; returns `{ authorization: 'Bearer sft_…' }`. */
export async function createTokenHeaders(
  t: TestServer,
  opts: { store: string; purpose: TokenPurpose; label?: string },
): Promise<{ authorization: string }> {
  const created = await createToken(t.app.ctx.database, opts, 'test');
  return { authorization: `Bearer ${created.token}` };
}

export interface ScopedFixtures {
  stores: { A: string; B: string };
  storeIds: { A: number; B: number };
  /** an ingested-file id in each store */
  files: { A: number; B: number };
  sku: string;
  businessDate: string;
}

/**
 * Two stores with a little data each (a product's stock, a loaded sales file, a day of sales), so that a test can
 * check that one store's principal never sees the other's rows. Store codes are distinctive strings, so a leak
 * shows up as the other code anywhere in a response body.
 */
export async function seedTwoStores(t: TestServer, codes = { A: 'ALPHA01', B: 'BRAVO02' }): Promise<ScopedFixtures> {
  const db = t.app.ctx.database.db;
  // self-service: the matrix covers kiosk checkouts as well as uploads (a file for them fails at ingest, not at upload)
  await createStores(t, [codes.A, codes.B], 'selfservice');
  const storeIds = { A: 0, B: 0 };
  for (const k of ['A', 'B'] as const) {
    const row = await db.selectFrom('stores').select('id').where('code', '=', codes[k]).executeTakeFirstOrThrow();
    storeIds[k] = Number(row.id);
  }
  const now = nowIso();
  const sku = 'SEED-SKU-1';
  let product = await db.selectFrom('products').select('id').where('sku', '=', sku).executeTakeFirst();
  if (!product) {
    await db
      .insertInto('products')
      .values({
        sku,
        ean: null,
        name: 'Seed product',
        category: 'Seed',
        unit: 'UN',
        price_cents: 100,
        supplier: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    product = await db.selectFrom('products').select('id').where('sku', '=', sku).executeTakeFirstOrThrow();
  }
  const productId = Number(product.id);
  const businessDate = '2026-01-05';
  const files = { A: 0, B: 0 };
  for (const k of ['A', 'B'] as const) {
    const storeId = storeIds[k];
    const code = codes[k];
    await db
      .insertInto('stock_balances')
      .values({
        store_id: storeId,
        product_id: productId,
        on_hand_milli: 5000,
        reorder_point_milli: 1000,
        target_level_milli: 10000,
        updated_at: now,
      })
      .execute()
      .catch(() => {});
    // One sales line per store, with its roll-ups derived the only way they may be: from the lines.
    await inTransaction(t.app.ctx.database, async (trx) => {
      const exists = await trx
        .selectFrom('sales_lines')
        .select('id')
        .where('store_id', '=', storeId)
        .where('business_date', '=', businessDate)
        .executeTakeFirst();
      if (exists) return;
      await trx
        .insertInto('sales_lines')
        .values({
          store_id: storeId,
          business_date: businessDate,
          source: 'file',
          file_id: null,
          checkout_id: null,
          receipt_id: 'seed-1',
          line_no: 1,
          sold_at: '10:00:00',
          hour: 10,
          product_id: productId,
          quantity_milli: 1000,
          unit_price_cents: 100,
          discount_cents: 0,
          total_cents: 100,
          payment_method: 'pix',
        })
        .execute();
      await recomputeDailyRollup(trx, storeId, businessDate);
    });
    const key = `incoming/${code}/${businessDate}/seed.csv`;
    const objectRef = randomBytes(32).toString('hex');
    const inserted = await db
      .insertInto('ingest_files')
      .values({
        object_ref: objectRef,
        bucket: t.config.buckets.sales,
        object_key: key,
        version_id: 'seed',
        sequencer: null,
        upload_order: null,
        checksum: null,
        size_bytes: 10,
        store_code: code,
        business_date: businessDate,
        status: 'loaded',
        reason: null,
        related_file_id: null,
        warnings: null,
        received_at: now,
        started_at: now,
        finished_at: now,
        duration_ms: 1,
      })
      .executeTakeFirstOrThrow();
    files[k] = Number(inserted.insertId);
  }
  return { stores: codes, storeIds, files, sku, businessDate };
}
