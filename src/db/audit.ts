// The audit trail: who changed stock, levels, users, tokens and master data, and when. Append-only.
import { chunks } from './chunks.ts';
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
  for (const part of chunks(entries)) {
    await trx
      .insertInto('audit_log')
      .values(
        part.map((e) => ({
          at,
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          store_id: e.storeId ?? null,
          details: JSON.stringify(e.details),
        })),
      )
      .execute();
  }
}
