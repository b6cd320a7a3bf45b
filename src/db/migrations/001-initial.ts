// The whole schema of the first release, for SQLite and MySQL/MariaDB alike (see src/db/schema.ts for meanings).
import { type ColumnDataType, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, sql } from 'kysely';
import type { Dialect } from '../connect.ts';

type Col = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
const notNull: Col = (c) => c.notNull();

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const idType = dialect === 'sqlite' ? 'integer' : 'bigint';
  const refType = dialect === 'sqlite' ? 'integer' : 'bigint';
  // utf8mb4_bin: text compares byte for byte, as in SQLite (SKUs `abc` and `ABC` are different products).
  const table = (name: string) => {
    const t = db.schema.createTable(name);
    return dialect === 'mysql' ? t.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`) : t;
  };
  const withId = <T extends string>(t: CreateTableBuilder<T, never>) =>
    t.addColumn('id', idType, (c) => c.primaryKey().autoIncrement());
  const ts = 'varchar(32)';
  const day = 'varchar(10)';

  await withId(table('stores'))
    .addColumn('code', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', notNull)
    .addColumn('kind', 'varchar(16)', notNull)
    .addColumn('city', 'varchar(120)')
    .addColumn('timezone', 'varchar(64)', notNull)
    .addColumn('closing_time', 'varchar(5)', (c) => c.notNull().defaultTo('22:00'))
    .addColumn('scale_profile', 'text')
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .execute();

  await withId(table('products'))
    .addColumn('sku', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('ean', 'varchar(14)', (c) => c.unique())
    .addColumn('name', 'varchar(300)', notNull)
    .addColumn('category', 'varchar(120)')
    .addColumn('unit', 'varchar(2)', notNull)
    .addColumn('price_cents', 'bigint', notNull)
    .addColumn('supplier', 'varchar(200)')
    .addColumn('pack_size_milli', 'bigint', (c) => c.notNull().defaultTo(1000))
    .addColumn('lead_time_days', 'integer', (c) => c.notNull().defaultTo(2))
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .execute();
  await db.schema.createIndex('products_category').on('products').column('category').execute();

  await table('stock_balances')
    .addColumn('store_id', refType, notNull)
    .addColumn('product_id', refType, notNull)
    .addColumn('on_hand_milli', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reorder_point_milli', 'bigint')
    .addColumn('target_level_milli', 'bigint')
    .addColumn('updated_at', ts, notNull)
    .addPrimaryKeyConstraint('stock_balances_pk', ['store_id', 'product_id'])
    .execute();

  await withId(table('stock_movements'))
    .addColumn('store_id', refType, notNull)
    .addColumn('product_id', refType, notNull)
    .addColumn('kind', 'varchar(16)', notNull)
    .addColumn('delta_milli', 'bigint', notNull)
    .addColumn('ref', 'varchar(191)', (c) => c.notNull().unique())
    .addColumn('reason', 'varchar(500)')
    .addColumn('actor', 'varchar(120)')
    .addColumn('created_at', ts, notNull)
    .execute();
  await db.schema
    .createIndex('stock_movements_store_product')
    .on('stock_movements')
    .columns(['store_id', 'product_id', 'id'])
    .execute();

  await withId(table('sales_lines'))
    .addColumn('store_id', refType, notNull)
    .addColumn('business_date', day, notNull)
    .addColumn('source', 'varchar(8)', notNull)
    .addColumn('file_id', refType)
    .addColumn('checkout_id', refType)
    .addColumn('receipt_id', 'varchar(64)', notNull)
    .addColumn('line_no', 'integer', notNull)
    .addColumn('sold_at', ts)
    .addColumn('hour', 'integer')
    .addColumn('product_id', refType, notNull)
    .addColumn('quantity_milli', 'bigint', notNull)
    .addColumn('unit_price_cents', 'bigint', notNull)
    .addColumn('discount_cents', 'bigint', notNull)
    .addColumn('total_cents', 'bigint', notNull)
    .addColumn('payment_method', 'varchar(16)')
    .addUniqueConstraint('sales_lines_natural', ['store_id', 'business_date', 'source', 'receipt_id', 'line_no'])
    .execute();

  // The sales roll-ups (src/sales/rollup.ts): every table carries the same measures. Keys lead with the store and
  // the period, the order in which a store-day is recomputed; the extra indexes serve the period queries. In SQLite
  // the primary key is the table (WITHOUT ROWID), so a range of it is read in place, as InnoDB does.
  const month = 'varchar(7)';
  const rollup = async (
    name: string,
    keys: Array<[string, ColumnDataType]>,
    o: { gross?: boolean; wide?: boolean } = {},
  ) => {
    const counter = o.wide ? 'bigint' : 'integer';
    let t: CreateTableBuilder<string, string> = table(name);
    if (dialect === 'sqlite') t = t.modifyEnd(sql`without rowid`);
    for (const [column, type] of keys) t = t.addColumn(column, type, notNull);
    // Defaults only so that an older writer fails the roll-up check (rollupMismatches) instead of an insert.
    const zero: Col = (c) => c.notNull().defaultTo(0);
    t = t
      .addColumn('quantity_milli', 'bigint', notNull)
      .addColumn('revenue_cents', 'bigint', notNull)
      .addColumn('line_count', counter, zero)
      .addColumn('tickets', counter, notNull)
      .addColumn('items', 'bigint', zero);
    if (o.gross) {
      t = t.addColumn('gross_revenue_cents', 'bigint', zero).addColumn('gross_quantity_milli', 'bigint', zero);
    }
    await t.addPrimaryKeyConstraint(`${name}_pk`, keys.map(([column]) => column) as never).execute();
  };
  const index = (name: string, on: string, columns: string[]) =>
    db.schema.createIndex(name).on(on).columns(columns).execute();
  const storeDay: Array<[string, ColumnDataType]> = [
    ['store_id', refType],
    ['business_date', day],
  ];
  const storeMonth: Array<[string, ColumnDataType]> = [
    ['store_id', refType],
    ['month', month],
  ];
  const product: [string, ColumnDataType] = ['product_id', refType];
  const payment: [string, ColumnDataType] = ['payment_method', 'varchar(16)'];
  const category: [string, ColumnDataType] = ['category', 'varchar(120)'];

  await rollup('sales_daily', [...storeDay, product], { gross: true });
  await index('sales_daily_date', 'sales_daily', ['business_date', 'product_id']);
  await index('sales_daily_product', 'sales_daily', ['store_id', 'product_id', 'business_date']);
  await rollup('sales_daily_store', storeDay);
  await index('sales_daily_store_date', 'sales_daily_store', ['business_date']);
  await rollup('sales_daily_payment', [...storeDay, payment]);
  await index('sales_daily_payment_method', 'sales_daily_payment', ['store_id', 'payment_method', 'business_date']);
  await rollup('sales_daily_category', [...storeDay, category]);
  await index('sales_daily_category_name', 'sales_daily_category', ['store_id', 'category', 'business_date']);
  await rollup('sales_daily_category_payment', [...storeDay, category, payment]);
  await index('sales_daily_category_payment_key', 'sales_daily_category_payment', [
    'store_id',
    'category',
    'payment_method',
    'business_date',
  ]);

  await rollup('sales_monthly', [...storeMonth, product], { gross: true, wide: true });
  await index('sales_monthly_by_revenue', 'sales_monthly', ['store_id', 'month', 'gross_revenue_cents']);
  await index('sales_monthly_by_quantity', 'sales_monthly', ['store_id', 'month', 'gross_quantity_milli']);
  await index('sales_monthly_product', 'sales_monthly', ['store_id', 'product_id', 'month']);
  await rollup('sales_monthly_store', storeMonth, { wide: true });
  await rollup('sales_monthly_payment', [...storeMonth, payment], { wide: true });
  await rollup('sales_monthly_category', [...storeMonth, category], { wide: true });
  await rollup('sales_monthly_category_payment', [...storeMonth, category, payment], { wide: true });

  await rollup('sales_chain_daily', [['business_date', day], product], { gross: true, wide: true });
  await index('sales_chain_daily_product', 'sales_chain_daily', ['product_id', 'business_date']);
  await rollup('sales_chain_monthly', [['month', month], product], { gross: true, wide: true });
  await index('sales_chain_monthly_by_revenue', 'sales_chain_monthly', ['month', 'gross_revenue_cents']);
  await index('sales_chain_monthly_by_quantity', 'sales_chain_monthly', ['month', 'gross_quantity_milli']);
  await index('sales_chain_monthly_product', 'sales_chain_monthly', ['product_id', 'month']);

  await withId(table('ingest_files'))
    .addColumn('object_ref', 'char(64)', (c) => c.notNull().unique())
    .addColumn('bucket', 'varchar(63)', notNull)
    .addColumn('object_key', 'varchar(1024)', notNull)
    .addColumn('version_id', 'varchar(128)', notNull)
    .addColumn('sequencer', 'varchar(64)')
    .addColumn('upload_order', 'varchar(100)')
    .addColumn('checksum', 'char(64)')
    .addColumn('size_bytes', 'bigint')
    .addColumn('store_code', 'varchar(32)')
    .addColumn('business_date', day)
    .addColumn('status', 'varchar(16)', notNull)
    .addColumn('rows_total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_loaded', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason', 'text')
    .addColumn('related_file_id', refType)
    .addColumn('warnings', 'text')
    .addColumn('received_at', ts, notNull)
    .addColumn('started_at', ts)
    .addColumn('finished_at', ts)
    .addColumn('duration_ms', 'integer')
    .execute();
  await db.schema
    .createIndex('ingest_files_store_day')
    .on('ingest_files')
    .columns(['store_code', 'business_date'])
    .execute();
  await db.schema.createIndex('ingest_files_checksum').on('ingest_files').column('checksum').execute();

  await withId(table('ingest_rejections'))
    .addColumn('file_id', refType, notNull)
    .addColumn('line', 'integer', notNull)
    .addColumn('column_name', 'varchar(64)', notNull)
    .addColumn('value', 'text', notNull)
    .addColumn('reason', 'varchar(500)', notNull)
    .execute();
  await db.schema.createIndex('ingest_rejections_file').on('ingest_rejections').columns(['file_id', 'line']).execute();

  await table('store_days')
    .addColumn('store_id', refType, notNull)
    .addColumn('business_date', day, notNull)
    .addColumn('file_id', refType, notNull)
    .addColumn('checksum', 'char(64)', notNull)
    .addColumn('upload_order', 'varchar(100)', notNull)
    .addColumn('updated_at', ts, notNull)
    .addPrimaryKeyConstraint('store_days_pk', ['store_id', 'business_date'])
    .execute();

  await withId(table('events'))
    .addColumn('topic', 'varchar(32)', notNull)
    .addColumn('dedupe_key', 'varchar(191)', (c) => c.notNull().unique())
    .addColumn('payload', 'text', notNull)
    .addColumn('status', 'varchar(8)', notNull)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', notNull)
    .addColumn('available_at', ts, notNull)
    .addColumn('leased_until', ts)
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('last_error', 'text')
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .execute();
  await db.schema.createIndex('events_status').on('events').columns(['status', 'available_at']).execute();
  // finds the leases of crashed workers without scanning the done events
  await db.schema.createIndex('events_lease').on('events').columns(['status', 'leased_until']).execute();

  await table('scheduler_runs')
    .addColumn('job', 'varchar(64)', notNull)
    .addColumn('slot', ts, notNull)
    .addColumn('started_at', ts, notNull)
    .addColumn('finished_at', ts)
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('scheduler_runs_pk', ['job', 'slot'])
    .execute();

  await withId(table('users'))
    .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('display_name', 'varchar(200)')
    .addColumn('email', 'varchar(254)')
    .addColumn('phone', 'varchar(32)')
    .addColumn('password_hash', 'varchar(200)', notNull)
    .addColumn('role', 'varchar(8)', notNull)
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', ts)
    .addColumn('last_login_at', ts)
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .execute();

  await table('user_stores')
    .addColumn('user_id', refType, notNull)
    .addColumn('store_id', refType, notNull)
    .addPrimaryKeyConstraint('user_stores_pk', ['user_id', 'store_id'])
    .execute();

  await table('sessions')
    .addColumn('id_hash', 'char(64)', (c) => c.primaryKey())
    .addColumn('user_id', refType, notNull)
    .addColumn('csrf_token', 'varchar(64)', notNull)
    .addColumn('created_at', ts, notNull)
    .addColumn('expires_at', ts, notNull)
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await withId(table('api_tokens'))
    .addColumn('token_hash', 'char(64)', (c) => c.notNull().unique())
    .addColumn('store_id', refType, notNull)
    .addColumn('purpose', 'varchar(8)', notNull)
    .addColumn('label', 'varchar(200)')
    .addColumn('created_by', 'varchar(120)')
    .addColumn('created_at', ts, notNull)
    .addColumn('revoked_at', ts)
    .addColumn('last_used_at', ts)
    .execute();
  await db.schema.createIndex('api_tokens_store').on('api_tokens').column('store_id').execute();

  await table('idempotency_keys')
    .addColumn('scope', 'varchar(64)', notNull)
    .addColumn('idem_key', 'varchar(128)', notNull)
    .addColumn('request_hash', 'char(64)', notNull)
    .addColumn('status_code', 'integer')
    .addColumn('response', 'text')
    .addColumn('created_at', ts, notNull)
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'idem_key'])
    .execute();
  // the daily expiry (src/checkout/idempotency.ts) deletes by age
  await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_at').execute();

  await withId(table('checkouts'))
    .addColumn('store_id', refType, notNull)
    .addColumn('business_date', day, notNull)
    .addColumn('receipt_id', 'varchar(64)', notNull)
    .addColumn('payment_method', 'varchar(16)', notNull)
    .addColumn('total_cents', 'bigint', notNull)
    .addColumn('status', 'varchar(10)', notNull)
    .addColumn('actor', 'varchar(120)')
    .addColumn('created_at', ts, notNull)
    .addColumn('voided_at', ts)
    .addColumn('voided_by', 'varchar(120)')
    .addColumn('void_reason', 'varchar(500)')
    .addColumn('void_date', day)
    .addUniqueConstraint('checkouts_receipt', ['store_id', 'receipt_id'])
    .execute();
  await db.schema.createIndex('checkouts_store_day').on('checkouts').columns(['store_id', 'business_date']).execute();

  await withId(table('alerts'))
    .addColumn('kind', 'varchar(16)', notNull)
    .addColumn('store_id', refType)
    .addColumn('product_id', refType)
    .addColumn('severity', 'varchar(8)', notNull)
    .addColumn('status', 'varchar(8)', notNull)
    .addColumn('open_key', 'varchar(191)', (c) => c.unique())
    .addColumn('message', 'varchar(1000)', notNull)
    .addColumn('details', 'text')
    .addColumn('raised_at', ts, notNull)
    .addColumn('resolved_at', ts)
    .addColumn('acknowledged_at', ts)
    .addColumn('acknowledged_by', 'varchar(120)')
    .addColumn('snoozed_until', ts)
    .addColumn('notified_at', ts)
    .execute();
  await db.schema.createIndex('alerts_store_status').on('alerts').columns(['store_id', 'status']).execute();
  // the digest job's scan: alerts not yet taken, oldest first
  await db.schema.createIndex('alerts_notify').on('alerts').columns(['notified_at', 'raised_at']).execute();

  await withId(table('alert_deliveries'))
    .addColumn('alert_id', refType, notNull)
    .addColumn('channel', 'varchar(8)', notNull)
    .addColumn('recipient', 'varchar(300)', notNull)
    .addColumn('message_key', 'varchar(64)', notNull)
    .addColumn('status', 'varchar(8)', notNull)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('created_at', ts, notNull)
    .addColumn('sent_at', ts)
    .execute();
  await db.schema.createIndex('alert_deliveries_alert').on('alert_deliveries').column('alert_id').execute();
  await db.schema.createIndex('alert_deliveries_message').on('alert_deliveries').column('message_key').execute();

  await withId(table('alert_subscriptions'))
    .addColumn('store_id', refType)
    .addColumn('kind', 'varchar(16)')
    .addColumn('channel', 'varchar(8)', notNull)
    .addColumn('recipient', 'varchar(300)', notNull)
    .addColumn('created_by', 'varchar(120)')
    .addColumn('created_at', ts, notNull)
    .execute();

  await withId(table('suppliers'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    .addColumn('email', 'varchar(254)')
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .execute();

  await withId(table('restock_orders'))
    .addColumn('store_id', refType, notNull)
    .addColumn('supplier', 'varchar(200)', notNull)
    .addColumn('status', 'varchar(20)', notNull)
    .addColumn('open_key', 'varchar(191)', (c) => c.unique())
    .addColumn('document_key', 'varchar(1024)')
    .addColumn('created_at', ts, notNull)
    .addColumn('updated_at', ts, notNull)
    .addColumn('approved_by', 'varchar(120)')
    .addColumn('approved_at', ts)
    .addColumn('issued_at', ts)
    .addColumn('receipt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('emailed_to', 'varchar(254)')
    .addColumn('emailed_at', ts)
    .addColumn('closed_at', ts)
    .addColumn('cancelled_at', ts)
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('approved_revision', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('amended_at', ts)
    .addColumn('emailed_revision', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('restock_orders_store_status')
    .on('restock_orders')
    .columns(['store_id', 'status'])
    .execute();

  await withId(table('restock_order_lines'))
    .addColumn('order_id', refType, notNull)
    .addColumn('product_id', refType, notNull)
    .addColumn('quantity_milli', 'bigint', notNull)
    .addColumn('received_milli', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('issued_milli', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rationale', 'text', notNull)
    .addUniqueConstraint('restock_order_lines_product', ['order_id', 'product_id'])
    .execute();
  // the projection's scan: what is still on order for a product
  await db.schema
    .createIndex('restock_order_lines_by_product')
    .on('restock_order_lines')
    .column('product_id')
    .execute();

  await withId(table('reports'))
    .addColumn('kind', 'varchar(32)', notNull)
    .addColumn('store_id', refType)
    .addColumn('date_from', day, notNull)
    .addColumn('date_to', day, notNull)
    .addColumn('format', 'varchar(4)', notNull)
    .addColumn('bucket', 'varchar(63)', notNull)
    // report keys are short (reports/<kind>/<from>_<to>/<store>.pdf); 255 keeps the unique key within InnoDB's limit
    .addColumn('object_key', 'varchar(255)', notNull)
    .addColumn('version_id', 'varchar(128)', notNull)
    .addColumn('size_bytes', 'bigint', notNull)
    .addColumn('pages', 'integer')
    .addColumn('created_by', 'varchar(120)')
    .addColumn('created_at', ts, notNull)
    // one row per report object: generating it again records the new version in the same row
    .addUniqueConstraint('reports_object', ['bucket', 'object_key'])
    .execute();
  await db.schema.createIndex('reports_kind_date').on('reports').columns(['kind', 'date_from']).execute();
  await db.schema.createIndex('reports_store_date').on('reports').columns(['store_id', 'date_from']).execute();

  await withId(table('audit_log'))
    .addColumn('at', ts, notNull)
    .addColumn('actor', 'varchar(120)', notNull)
    .addColumn('action', 'varchar(64)', notNull)
    .addColumn('target', 'varchar(300)')
    .addColumn('store_id', refType)
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
}
