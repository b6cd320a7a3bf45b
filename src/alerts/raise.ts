// Raising an alert record. One open alert per subject (`open_key`): raising again while it is open changes nothing.
import type { AlertKind } from '../db/schema.ts';
import { isUniqueViolation, nowIso, type Tx } from '../db/tx.ts';

export interface NewAlert {
  kind: AlertKind;
  storeId?: number | null;
  productId?: number | null;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  details?: unknown;
  /** subject of the alert; defaults to kind:store:product */
  openKey?: string;
}

const openKeyOf = (a: NewAlert) => a.openKey ?? `${a.kind}:${a.storeId ?? '-'}:${a.productId ?? '-'}`;

function alertRow(a: NewAlert, openKey: string, raisedAt: string) {
  return {
    kind: a.kind,
    store_id: a.storeId ?? null,
    product_id: a.productId ?? null,
    severity: a.severity,
    status: 'open' as const,
    open_key: openKey,
    // the column holds 1000 characters; the details keep the rest
    message: a.message.length > 1000 ? `${a.message.slice(0, 997)}…` : a.message,
    details: a.details === undefined ? null : JSON.stringify(a.details),
    raised_at: raisedAt,
  };
}

/** Returns the new alert's id, or undefined when an alert for the same subject is already open. */
export async function raiseAlert(trx: Tx, a: NewAlert): Promise<number | undefined> {
  const openKey = openKeyOf(a);
  const existing = await trx.selectFrom('alerts').select('id').where('open_key', '=', openKey).executeTakeFirst();
  if (existing) return undefined;
  try {
    const r = await trx
      .insertInto('alerts')
      .values(alertRow(a, openKey, nowIso()))
      .executeTakeFirstOrThrow();
    return Number(r.insertId);
  } catch (e) {
    if (isUniqueViolation(e)) return undefined;
    throw e;
  }
}

/**
 * raiseAlert for many subjects at once (a file can send hundreds of products low together): one read for those
 * already open, one insert per 500 new ones, one read of their ids. Returns each alert's new id, or undefined where
 * one was already open, in the order given.
 */
export async function raiseAlerts(trx: Tx, alerts: NewAlert[]): Promise<Array<number | undefined>> {
  const keys = alerts.map(openKeyOf);
  const open = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const found = await trx
      .selectFrom('alerts')
      .select('open_key')
      .where('open_key', 'in', keys.slice(i, i + 500))
      .execute();
    for (const f of found) if (f.open_key) open.add(f.open_key);
  }
  const fresh = new Map<string, NewAlert>();
  alerts.forEach((a, i) => {
    if (!open.has(keys[i]!) && !fresh.has(keys[i]!)) fresh.set(keys[i]!, a);
  });
  const ids = new Map<string, number>();
  const entries = [...fresh];
  const at = nowIso();
  for (let i = 0; i < entries.length; i += 500) {
    const part = entries.slice(i, i + 500);
    try {
      await trx
        .insertInto('alerts')
        .values(part.map(([openKey, a]) => alertRow(a, openKey, at)))
        .execute();
    } catch (e) {
      // another transaction raised one of them meanwhile (MySQL): raise these one by one
      if (!isUniqueViolation(e)) throw e;
      for (const [openKey, a] of part) {
        const id = await raiseAlert(trx, { ...a, openKey });
        if (id) ids.set(openKey, id);
      }
      continue;
    }
    const rows = await trx
      .selectFrom('alerts')
      .select(['id', 'open_key'])
      .where(
        'open_key',
        'in',
        part.map(([k]) => k),
      )
      .execute();
    for (const r of rows) ids.set(r.open_key!, Number(r.id));
  }
  const seen = new Set<string>();
  return keys.map((k) => {
    if (!ids.has(k) || seen.has(k)) return undefined;
    seen.add(k);
    return ids.get(k);
  });
}
