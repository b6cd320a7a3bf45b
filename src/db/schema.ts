// Table types for Kysely. Money columns end in `_cents` (integer cents), quantities in `_milli` (integer
// thousandths of a unit or of a kilogram). Timestamps are ISO-8601 UTC strings (`2026-11-24T19:36:18.123Z`) and
// business dates `YYYY-MM-DD` strings, so that both databases store, compare and sort them the same way.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type StoreKind = 'file' | 'selfservice';
export type ProductUnit = 'UN' | 'KG';

export interface StoresTable {
  id: Generated<number>;
  code: string;
  name: string;
  kind: StoreKind;
  city: string | null;
  timezone: string;
  /** HH:MM local time after which the day's file is due and the daily reports run */
  closing_time: Generated<string>;
  /** JSON of the in-store scale label profile (see src/domain/scale-label.ts), null when none */
  scale_profile: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  id: Generated<number>;
  sku: string;
  ean: string | null;
  name: string;
  category: string | null;
  unit: ProductUnit;
  price_cents: number;
  supplier: string | null;
  pack_size_milli: Generated<number>;
  lead_time_days: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface StockBalancesTable {
  store_id: number;
  product_id: number;
  on_hand_milli: Generated<number>;
  reorder_point_milli: number | null;
  target_level_milli: number | null;
  updated_at: string;
}

export type MovementKind =
  | 'sale' // a sales-file line (or a file's aggregate for one product)
  | 'return'
  | 'checkout'
  | 'void'
  | 'receipt'
  | 'count'
  | 'adjustment'
  | 'transfer_in'
  | 'transfer_out'
  | 'reversal'; // undoing the movements of a replaced sales file

export interface StockMovementsTable {
  id: Generated<number>;
  store_id: number;
  product_id: number;
  kind: MovementKind;
  delta_milli: number;
  /** what caused it, unique per movement: `file:12:sku:4`, `checkout:88:line:1`, `count:…` */
  ref: string;
  reason: string | null;
  actor: string | null;
  created_at: string;
}

export interface SalesLinesTable {
  id: Generated<number>;
  store_id: number;
  business_date: string;
  source: 'file' | 'checkout';
  file_id: number | null;
  checkout_id: number | null;
  receipt_id: string;
  line_no: number;
  sold_at: string | null;
  /** 0–23, local hour of the sale when known */
  hour: number | null;
  product_id: number;
  quantity_milli: number;
  unit_price_cents: number;
  discount_cents: number;
  total_cents: number;
  payment_method: string | null;
}

/**
 * What every sales roll-up row carries. Tickets are distinct receipts of the row's grouping; a receipt belongs to
 * one store-day, so tickets add up across days and stores but never across products, categories or payments.
 * Items are units sold, a weighed-goods line counting as one. A row exists exactly when lines exist for it.
 */
export interface RollupMeasures {
  quantity_milli: number;
  revenue_cents: number;
  line_count: Generated<number>;
  tickets: number;
  items: Generated<number>;
}

/** Bounds for best-seller ranking: the sum of the positive line totals / quantities, never below the net sum. */
export interface RollupGross {
  gross_revenue_cents: Generated<number>;
  gross_quantity_milli: Generated<number>;
}

/**
 * The sales roll-ups (src/sales/rollup.ts keeps them; nothing else writes them). Day tables per store; month tables
 * (`month` is `YYYY-MM`) so that long periods read a row per month; the product grain also chain-wide, since a
 * store × day × product table is about as large as the lines themselves when the catalogue has a long tail.
 */
export interface SalesDailyTable extends RollupMeasures, RollupGross {
  store_id: number;
  business_date: string;
  product_id: number;
}

/** Daily roll-up per store and day: tickets can't be summed from the per-product rows, so they live here. */
export interface SalesDailyStoreTable extends RollupMeasures {
  store_id: number;
  business_date: string;
}

export interface SalesDailyPaymentTable extends RollupMeasures {
  store_id: number;
  business_date: string;
  payment_method: string;
}

/** Per category, as the product's category was when the day was loaded; tickets are distinct receipts. */
export interface SalesDailyCategoryTable extends RollupMeasures {
  store_id: number;
  business_date: string;
  category: string;
}

export interface SalesDailyCategoryPaymentTable extends RollupMeasures {
  store_id: number;
  business_date: string;
  category: string;
  payment_method: string;
}

export interface SalesMonthlyTable extends RollupMeasures, RollupGross {
  store_id: number;
  month: string;
  product_id: number;
}

export interface SalesMonthlyStoreTable extends RollupMeasures {
  store_id: number;
  month: string;
}

export interface SalesMonthlyPaymentTable extends RollupMeasures {
  store_id: number;
  month: string;
  payment_method: string;
}

export interface SalesMonthlyCategoryTable extends RollupMeasures {
  store_id: number;
  month: string;
  category: string;
}

export interface SalesMonthlyCategoryPaymentTable extends RollupMeasures {
  store_id: number;
  month: string;
  category: string;
  payment_method: string;
}

/** Chain-wide (every store) per day and product. */
export interface SalesChainDailyTable extends RollupMeasures, RollupGross {
  business_date: string;
  product_id: number;
}

/** Chain-wide per month and product: the lists best-seller ranking walks. */
export interface SalesChainMonthlyTable extends RollupMeasures, RollupGross {
  month: string;
  product_id: number;
}

/** Chain-wide (every store) per day or month, without the product: the office's default view reads these. */
export interface SalesChainDailyTotalTable extends RollupMeasures {
  business_date: string;
}

export interface SalesChainMonthlyTotalTable extends RollupMeasures {
  month: string;
}

export interface SalesChainDailyPaymentTable extends RollupMeasures {
  business_date: string;
  payment_method: string;
}

export interface SalesChainMonthlyPaymentTable extends RollupMeasures {
  month: string;
  payment_method: string;
}

export interface SalesChainDailyCategoryTable extends RollupMeasures {
  business_date: string;
  category: string;
}

export interface SalesChainMonthlyCategoryTable extends RollupMeasures {
  month: string;
  category: string;
}

export type FileStatus = 'received' | 'processing' | 'loaded' | 'replaced' | 'duplicate' | 'failed' | 'superseded';

export interface IngestFilesTable {
  id: Generated<number>;
  /** sha256 of bucket, key and version: a stable unique id for one object version (keys can be long) */
  object_ref: string;
  bucket: string;
  object_key: string;
  version_id: string;
  sequencer: string | null;
  /** object time + sequencer: which of two uploads for the same store-day is newer, whatever order events come in */
  upload_order: string | null;
  checksum: string | null;
  size_bytes: number | null;
  store_code: string | null;
  business_date: string | null;
  status: FileStatus;
  rows_total: Generated<number>;
  rows_loaded: Generated<number>;
  rows_rejected: Generated<number>;
  /** in English; reason_code and reason_params (JSON) say it in another language (src/domain/reasons.ts) */
  reason: string | null;
  reason_code: string | null;
  reason_params: string | null;
  /** id of the file whose content this one repeats (duplicate) or that replaced it (superseded) */
  related_file_id: number | null;
  warnings: string | null;
  received_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface IngestRejectionsTable {
  id: Generated<number>;
  file_id: number;
  line: number;
  column_name: string;
  value: string;
  /** in English; reason_code and reason_params (JSON) say it in another language (src/domain/reasons.ts) */
  reason: string;
  reason_code: string | null;
  reason_params: string | null;
}

/** The file whose sales currently count for a store and business day. Switching it is the atomic replace. */
export interface StoreDaysTable {
  store_id: number;
  business_date: string;
  file_id: number;
  checksum: string;
  upload_order: string;
  updated_at: string;
}

export type EventStatus = 'pending' | 'leased' | 'done' | 'dead';

export interface EventsTable {
  id: Generated<number>;
  /** which handler takes it: `ingest`, `alerts`, … */
  topic: string;
  /** the same object version never queues twice */
  dedupe_key: string;
  payload: string;
  status: EventStatus;
  attempts: Generated<number>;
  max_attempts: number;
  available_at: string;
  leased_until: string | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface SchedulerRunsTable {
  job: string;
  /** the scheduled instant (UTC ISO) this run is for: a job fires once per slot, whatever restarts happen */
  slot: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
}

export type Role = 'admin' | 'manager' | 'clerk';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  password_hash: string;
  role: Role;
  disabled: Generated<number>;
  /** consecutive failed logins; reset by a successful login or a new password */
  failed_logins: Generated<number>;
  /** login refused until then (throttling); a far-future value is the hard lock after too many failures */
  locked_until: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserStoresTable {
  user_id: number;
  store_id: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: Generated<number>;
  token_hash: string;
  store_id: number;
  purpose: 'upload' | 'kiosk';
  label: string | null;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  idem_key: string;
  request_hash: string;
  status_code: number | null;
  response: string | null;
  created_at: string;
}

export interface CheckoutsTable {
  id: Generated<number>;
  store_id: number;
  business_date: string;
  receipt_id: string;
  payment_method: string;
  total_cents: number;
  status: 'completed' | 'voided';
  actor: string | null;
  created_at: string;
  voided_at: string | null;
  voided_by: string | null;
  void_reason: string | null;
  /** business date the void was booked on (its reversing lines), which may be later than the sale's */
  void_date: string | null;
}

export type AlertKind = 'low_stock' | 'negative_stock' | 'missing_file' | 'failed_file' | 'dead_event' | 'ops';

export interface AlertsTable {
  id: Generated<number>;
  kind: AlertKind;
  store_id: number | null;
  product_id: number | null;
  severity: 'info' | 'warning' | 'critical';
  status: 'open' | 'resolved';
  /** set while open to `kind:store:product`: a unique index keeps one open alert per subject */
  open_key: string | null;
  message: string;
  details: string | null;
  raised_at: string;
  resolved_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  snoozed_until: string | null;
  /** when the digest job took the alert (planned its deliveries, or decided none were due); null until then */
  notified_at: string | null;
}

export type AlertChannel = 'email' | 'sms' | 'webhook';

export interface AlertDeliveriesTable {
  id: Generated<number>;
  alert_id: number;
  channel: AlertChannel;
  recipient: string;
  /** one message (a digest of one or more alerts to one recipient) has one key: its delivery rows share it */
  message_key: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** Who hears about which alerts. Null store or kind = any. A matching row replaces the default recipients. */
export interface AlertSubscriptionsTable {
  id: Generated<number>;
  store_id: number | null;
  kind: AlertKind | null;
  channel: AlertChannel;
  /** an e-mail address, an E.164 phone number, or an https URL */
  recipient: string;
  created_by: string | null;
  created_at: string;
}

/** Suppliers by the name products carry in `products.supplier`: where purchase orders are e-mailed. */
export interface SuppliersTable {
  id: Generated<number>;
  name: string;
  email: string | null;
  created_at: string;
  updated_at: string;
}

export interface RestockOrdersTable {
  id: Generated<number>;
  store_id: number;
  supplier: string;
  status: 'draft' | 'approved' | 'issued' | 'partially_received' | 'closed' | 'cancelled';
  /** `restock:<store>:<supplier>` for as long as the order is open (draft to partially received), cleared when it
   * is closed or cancelled: the unique index makes it THE open order of its store and supplier, which every new
   * need extends instead of starting a second order */
  open_key: string | null;
  /** the PDF purchase order in the reports bucket; the CSV is the same key ending in .csv */
  document_key: string | null;
  created_at: string;
  updated_at: string;
  approved_by: string | null;
  approved_at: string | null;
  issued_at: string | null;
  /** receipts recorded so far (numbers the movements of receipts without a delivery-note reference) */
  receipt_count: Generated<number>;
  emailed_to: string | null;
  emailed_at: string | null;
  closed_at: string | null;
  cancelled_at: string | null;
  /** the revision the supplier was last sent: 0 before the first issue, 1 after it, +1 per re-issue */
  revision: Generated<number>;
  /** the revision the manager approved for issuing; ahead of `revision` while that issue is still to be done */
  approved_revision: Generated<number>;
  /** set when a need changed an issued order: changes awaiting approval and re-issue; cleared by the re-issue */
  amended_at: string | null;
  /** the revision last e-mailed to the supplier (each revision is e-mailed once) */
  emailed_revision: Generated<number>;
}

export interface RestockOrderLinesTable {
  id: Generated<number>;
  order_id: number;
  product_id: number;
  quantity_milli: number;
  received_milli: Generated<number>;
  /** the quantity the supplier was sent in the latest revision (0 until the line is first issued) */
  issued_milli: Generated<number>;
  /** JSON: the figures that produced the quantity */
  rationale: string;
}

export interface ReportsTable {
  id: Generated<number>;
  kind: string;
  store_id: number | null;
  date_from: string;
  date_to: string;
  format: 'csv' | 'pdf';
  bucket: string;
  object_key: string;
  /** the object version this row describes (the latest generation of the report) */
  version_id: string;
  size_bytes: number;
  /** PDF pages, null for CSV */
  pages: number | null;
  created_by: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  store_id: number | null;
  details: string | null;
}

export interface DB {
  stores: StoresTable;
  products: ProductsTable;
  stock_balances: StockBalancesTable;
  stock_movements: StockMovementsTable;
  sales_lines: SalesLinesTable;
  sales_daily: SalesDailyTable;
  sales_daily_store: SalesDailyStoreTable;
  sales_daily_payment: SalesDailyPaymentTable;
  sales_daily_category: SalesDailyCategoryTable;
  sales_daily_category_payment: SalesDailyCategoryPaymentTable;
  sales_monthly: SalesMonthlyTable;
  sales_monthly_store: SalesMonthlyStoreTable;
  sales_monthly_payment: SalesMonthlyPaymentTable;
  sales_monthly_category: SalesMonthlyCategoryTable;
  sales_monthly_category_payment: SalesMonthlyCategoryPaymentTable;
  sales_chain_daily: SalesChainDailyTable;
  sales_chain_daily_total: SalesChainDailyTotalTable;
  sales_chain_monthly_total: SalesChainMonthlyTotalTable;
  sales_chain_daily_payment: SalesChainDailyPaymentTable;
  sales_chain_monthly_payment: SalesChainMonthlyPaymentTable;
  sales_chain_daily_category: SalesChainDailyCategoryTable;
  sales_chain_monthly_category: SalesChainMonthlyCategoryTable;
  sales_chain_monthly: SalesChainMonthlyTable;
  ingest_files: IngestFilesTable;
  ingest_rejections: IngestRejectionsTable;
  store_days: StoreDaysTable;
  events: EventsTable;
  scheduler_runs: SchedulerRunsTable;
  users: UsersTable;
  user_stores: UserStoresTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  idempotency_keys: IdempotencyKeysTable;
  checkouts: CheckoutsTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  restock_orders: RestockOrdersTable;
  restock_order_lines: RestockOrderLinesTable;
  alert_subscriptions: AlertSubscriptionsTable;
  suppliers: SuppliersTable;
  reports: ReportsTable;
  audit_log: AuditLogTable;
}

export type Store = Selectable<StoresTable>;
export type NewStore = Insertable<StoresTable>;
export type Product = Selectable<ProductsTable>;
export type NewProduct = Insertable<ProductsTable>;
export type ProductUpdate = Updateable<ProductsTable>;
export type IngestFile = Selectable<IngestFilesTable>;
export type EventRow = Selectable<EventsTable>;
