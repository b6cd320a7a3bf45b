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

/** Returns the new alert's id, or undefined when an alert for the same subject is already open. */
export async function raiseAlert(trx: Tx, a: NewAlert): Promise<number | undefined> {
  const openKey = a.openKey ?? `${a.kind}:${a.storeId ?? '-'}:${a.productId ?? '-'}`;
  const existing = await trx.selectFrom('alerts').select('id').where('open_key', '=', openKey).executeTakeFirst();
  if (existing) return undefined;
  try {
    const r = await trx
      .insertInto('alerts')
      .values({
        kind: a.kind,
        store_id: a.storeId ?? null,
        product_id: a.productId ?? null,
        severity: a.severity,
        status: 'open',
        open_key: openKey,
        // the column holds 1000 characters; the details keep the rest
        message: a.message.length > 1000 ? `${a.message.slice(0, 997)}…` : a.message,
        details: a.details === undefined ? null : JSON.stringify(a.details),
        raised_at: nowIso(),
      })
      .executeTakeFirstOrThrow();
    return Number(r.insertId);
  } catch (e) {
    if (isUniqueViolation(e)) return undefined;
    throw e;
  }
}
