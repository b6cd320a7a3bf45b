// The audit trail: who changed stock, levels, users, tokens and master data, and when. Append-only.
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
