// The in-app inbox: every alert, whatever else was sent, with its deliveries; acknowledging ("someone is on it") and
// snoozing ("not now": no message until the snooze ends). Callers pass the stores the person may see; alerts of
// other stores, and chain-wide alerts for anyone without every store, do not exist for them.
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import type { AlertKind } from '../db/schema.ts';
import { inTransaction, type Tx } from '../db/tx.ts';
import { conflict, invalid, notFound } from '../errors.ts';

export const ALERT_KINDS: readonly AlertKind[] = [
  'low_stock',
  'negative_stock',
  'missing_file',
  'failed_file',
  'dead_event',
  'ops',
];

export interface AlertView {
  id: number;
  kind: AlertKind;
  severity: 'info' | 'warning' | 'critical';
  status: 'open' | 'resolved';
  store: string | null;
  storeName: string | null;
  sku: string | null;
  productName: string | null;
  message: string;
  details: unknown;
  raisedAt: string;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  snoozedUntil: string | null;
  notifiedAt: string | null;
}

export interface DeliveryView {
  channel: 'email' | 'sms' | 'webhook';
  recipient: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface AlertFilter {
  /** the stores the caller may see; undefined for all (chain-wide alerts included) */
  storeIds?: number[];
  status?: 'open' | 'resolved' | 'all';
  kind?: AlertKind;
  store?: string;
  /** true: acknowledged only; false: not yet acknowledged */
  acknowledged?: boolean;
  limit?: number;
  offset?: number;
}

function baseQuery(db: Tx) {
  return db
    .selectFrom('alerts as a')
    .leftJoin('stores as s', 's.id', 'a.store_id')
    .leftJoin('products as p', 'p.id', 'a.product_id')
    .selectAll('a')
    .select(['s.code', 's.name as store_name', 'p.sku', 'p.name as product_name']);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

function view(r: Row): AlertView {
  let details: unknown = null;
  try {
    details = r.details ? JSON.parse(r.details) : null;
  } catch {
    details = r.details;
  }
  return {
    id: Number(r.id),
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    store: r.code ?? null,
    storeName: r.store_name ?? null,
    sku: r.sku ?? null,
    productName: r.product_name ?? null,
    message: r.message,
    details,
    raisedAt: r.raised_at,
    resolvedAt: r.resolved_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    snoozedUntil: r.snoozed_until,
    notifiedAt: r.notified_at,
  };
}

/** Newest first. */
export async function listAlerts(db: Tx, f: AlertFilter = {}): Promise<AlertView[]> {
  let q = baseQuery(db)
    .orderBy('a.raised_at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(f.limit ?? 100)
    .offset(f.offset ?? 0);
  if (f.storeIds) q = q.where('a.store_id', 'in', f.storeIds.length ? f.storeIds : [-1]);
  const status = f.status ?? 'open';
  if (status !== 'all') q = q.where('a.status', '=', status);
  if (f.kind) q = q.where('a.kind', '=', f.kind);
  if (f.store) q = q.where('s.code', '=', f.store);
  if (f.acknowledged === true) q = q.where('a.acknowledged_at', 'is not', null);
  if (f.acknowledged === false) q = q.where('a.acknowledged_at', 'is', null);
  return (await q.execute()).map(view);
}

async function visibleAlert(db: Tx, id: number, storeIds?: number[]): Promise<Row> {
  // no row lock: the joins would lock the store row too, which a file load holds for its whole transaction; the
  // changes below are single-row updates whose conditions settle a race
  const r = await baseQuery(db).where('a.id', '=', id).executeTakeFirst();
  const visible = r && (!storeIds || (r.store_id !== null && storeIds.includes(Number(r.store_id))));
  if (!r || !visible) throw notFound(`alert ${id} does not exist`);
  return r;
}

export async function getAlert(
  db: Tx,
  id: number,
  storeIds?: number[],
): Promise<AlertView & { deliveries: DeliveryView[] }> {
  const a = view(await visibleAlert(db, id, storeIds));
  const deliveries = await db
    .selectFrom('alert_deliveries')
    .selectAll()
    .where('alert_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    ...a,
    deliveries: deliveries.map((d) => ({
      channel: d.channel,
      recipient: d.recipient,
      status: d.status,
      attempts: Number(d.attempts),
      lastError: d.last_error,
      createdAt: d.created_at,
      sentAt: d.sent_at,
    })),
  };
}

/** Acknowledging twice keeps the first acknowledgement (who saw it first is what matters). */
export async function acknowledgeAlert(
  database: Database,
  id: number,
  actor: string,
  storeIds?: number[],
  now = new Date(),
): Promise<AlertView> {
  return inTransaction(database, async (trx) => {
    const r = await visibleAlert(trx, id, storeIds);
    if (!r.acknowledged_at) {
      await trx
        .updateTable('alerts')
        .set({ acknowledged_at: now.toISOString(), acknowledged_by: actor })
        .where('id', '=', id)
        .where('acknowledged_at', 'is', null)
        .execute();
      await audit(trx, actor, 'alert.acknowledge', { kind: r.kind }, `alert:${id}`, r.store_id ?? undefined);
    }
    return view(await visibleAlert(trx, id, storeIds));
  });
}

export const MAX_SNOOZE_DAYS = 30;

export async function snoozeAlert(
  database: Database,
  id: number,
  until: string,
  actor: string,
  storeIds?: number[],
  now = new Date(),
): Promise<AlertView> {
  const t = Date.parse(until);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(until) || Number.isNaN(t)) {
    throw invalid(`"${until}" is not a date and time (e.g. 2026-05-01T08:00:00Z)`, [
      { where: 'until', problem: 'is not an ISO 8601 date-time' },
    ]);
  }
  if (t <= now.getTime())
    throw invalid('a snooze must end in the future', [{ where: 'until', problem: 'is not in the future' }]);
  if (t > now.getTime() + MAX_SNOOZE_DAYS * 86_400_000) {
    throw invalid(`a snooze lasts at most ${MAX_SNOOZE_DAYS} days`, [
      { where: 'until', problem: `is more than ${MAX_SNOOZE_DAYS} days away` },
    ]);
  }
  const iso = new Date(t).toISOString();
  return inTransaction(database, async (trx) => {
    const r = await visibleAlert(trx, id, storeIds);
    if (r.status !== 'open') throw conflict(`alert ${id} is resolved; there is nothing to snooze`);
    await trx
      .updateTable('alerts')
      .set({ snoozed_until: iso })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .execute();
    await audit(trx, actor, 'alert.snooze', { until: iso }, `alert:${id}`, r.store_id ?? undefined);
    return view(await visibleAlert(trx, id, storeIds));
  });
}
