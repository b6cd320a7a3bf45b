// The audit trail: who changed stock, levels, users, tokens and master data, and when. Append-only.
import { insertRows } from './insert.ts';
import { nowIso, type Tx } from './tx.ts';

export async function audit(
  trx: Tx,
  actor: string,
  action: string,
  details: unknown,
  target?: string,
  storeId?: number,
): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      at: nowIso(),
      actor,
      action,
      target: target ?? null,
      store_id: storeId ?? null,
      details: JSON.stringify(details),
    })
    .execute();
}

/** Several entries in one statement per 500 (a batch of changes made together). */
export async function auditMany(
  trx: Tx,
  entries: Array<{ actor: string; action: string; details: unknown; target?: string; storeId?: number }>,
): Promise<void> {
  const at = nowIso();
  await insertRows(
    trx,
    'audit_log',
    entries.map((e) => ({
      at,
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      store_id: e.storeId ?? null,
      details: JSON.stringify(e.details),
    })),
  );
}
