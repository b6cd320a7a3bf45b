// The alerts function: a stock snapshot written to the reports bucket (snapshots/<store_code>/<date>/<name>.csv)
// triggers a check of that store's products against their reorder points. The check reads the current balances,
// not the snapshot's figures, so a late or repeated event can only confirm the present state: it is idempotent.
import type { AppContext } from '../context.ts';
import { inTransaction } from '../db/tx.ts';
import { decodeEventKey, type S3Event } from '../storage/object-store.ts';
import { type Evaluation, evaluateStock } from './low-stock.ts';

export interface SnapshotOutcome {
  key: string;
  store: string;
  evaluation: Evaluation;
}

export async function handleSnapshotEvent(ctx: AppContext, event: S3Event): Promise<SnapshotOutcome[]> {
  const out: SnapshotOutcome[] = [];
  for (const record of event.Records ?? []) {
    if (!record.eventName?.startsWith('ObjectCreated')) continue;
    const key = decodeEventKey(record.s3.object.key);
    const m = /^snapshots\/([A-Za-z0-9_-]{1,32})\//.exec(key);
    if (!m) continue;
    const code = m[1]!;
    const store = await ctx.database.db.selectFrom('stores').select('id').where('code', '=', code).executeTakeFirst();
    if (!store) {
      ctx.log.warn({ key }, 'stock snapshot for an unknown store ignored');
      continue;
    }
    const evaluation = await inTransaction(ctx.database, (trx) => evaluateStock(trx, store.id));
    out.push({ key, store: code, evaluation });
  }
  return out;
}
