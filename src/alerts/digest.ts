// The digest: a job every minute takes the alerts nobody has been told about yet and turns them into messages. A
// store's alerts wait until the oldest of them is older than the digest window (SHOPFLOW_ALERT_DIGEST_SECONDS), so
// that a burst (a sales file that leaves ten products low) becomes ONE message per recipient listing them all.
//
// Planning is one transaction: the alerts are marked taken (`notified_at`), a delivery row is written per alert and
// recipient, and one `notify` event per message is queued. The event exists exactly when the plan committed, and the
// queue retries it with backoff until it is sent, so neither a crash nor a failing channel loses a message.
//
// Not sent: alerts snoozed (until the snooze ends), alerts already resolved or acknowledged before their turn came
// (the inbox keeps them; telling someone about what is over or already handled is noise).
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { dialectOf, inTransaction } from '../db/tx.ts';
import { EventQueue } from '../runtime/queue.ts';
import { resolveArrivedFiles } from './missing-files.ts';
import { RecipientResolver } from './recipients.ts';

export const NOTIFY_TOPIC = 'notify';
/** about 8 minutes of retries with the queue's backoff (1 s, 2 s, 4 s … with jitter) before a delivery fails */
export const NOTIFY_MAX_ATTEMPTS = 10;
const SCAN_LIMIT = 2000;

export type NotifyPayload =
  | { type: 'alerts'; messageKey: string }
  /** one e-mail per revision of a purchase order (no revision: the order's latest) */
  | { type: 'purchase_order'; orderId: number; revision?: number };

export interface DigestResult {
  /** messages queued (one per recipient and store) */
  messages: number;
  /** alerts covered by those messages */
  alerts: number;
  /** alerts taken without a message: resolved or acknowledged first, or nobody to tell */
  silent: number;
  /** alerts left for a later run: inside the window or snoozed */
  waiting: number;
}

export async function runDigest(ctx: AppContext, opts: { now?: Date } = {}): Promise<DigestResult> {
  const now = opts.now ?? new Date();
  const nowIso = now.toISOString();
  const cutoff = new Date(now.getTime() - ctx.config.alerts.digestSeconds * 1000).toISOString();
  await resolveArrivedFiles(ctx.database);
  // the queue keeps the real clock: a message is due as soon as it is planned, whatever instant the plan is for
  const queue = new EventQueue(ctx.database, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
  return inTransaction(ctx.database, async (trx) => {
    const result: DigestResult = { messages: 0, alerts: 0, silent: 0, waiting: 0 };
    const pending = await trx
      .selectFrom('alerts')
      .select(['id', 'kind', 'store_id', 'status', 'raised_at', 'acknowledged_at', 'snoozed_until'])
      .where('notified_at', 'is', null)
      .orderBy('raised_at')
      .orderBy('id')
      .limit(SCAN_LIMIT)
      .$if(dialectOf(trx) === 'mysql', (q) => q.forUpdate())
      .execute();
    const byStore = new Map<string, typeof pending>();
    for (const a of pending) {
      const k = String(a.store_id ?? '-');
      const list = byStore.get(k);
      if (list) list.push(a);
      else byStore.set(k, [a]);
    }
    const resolver = new RecipientResolver(trx, ctx.config);
    const taken: number[] = [];
    for (const alerts of byStore.values()) {
      const ready: typeof pending = [];
      for (const a of alerts) {
        if (a.status !== 'open' || a.acknowledged_at) {
          taken.push(Number(a.id));
          result.silent++;
        } else if (a.snoozed_until && a.snoozed_until > nowIso) result.waiting++;
        else ready.push(a);
      }
      // an alert whose snooze just ended counts from the end of the snooze, so it can gather company too
      const since = (a: (typeof pending)[number]) =>
        a.snoozed_until && a.snoozed_until > a.raised_at ? a.snoozed_until : a.raised_at;
      if (ready.length === 0) continue;
      const oldest = ready.map(since).sort()[0]!;
      if (oldest > cutoff) {
        result.waiting += ready.length;
        continue;
      }
      const messages = new Map<string, { channel: string; recipient: string; alertIds: number[] }>();
      for (const a of ready) {
        taken.push(Number(a.id));
        const recipients = await resolver.for({
          kind: a.kind,
          store_id: a.store_id === null ? null : Number(a.store_id),
        });
        if (recipients.length === 0) result.silent++;
        else result.alerts++;
        for (const r of recipients) {
          const k = `${r.channel}\n${r.recipient}`;
          const m = messages.get(k);
          if (m) m.alertIds.push(Number(a.id));
          else messages.set(k, { ...r, alertIds: [Number(a.id)] });
        }
      }
      for (const m of messages.values()) {
        const messageKey = randomUUID().replaceAll('-', '');
        await trx
          .insertInto('alert_deliveries')
          .values(
            m.alertIds.map((alertId) => ({
              alert_id: alertId,
              channel: m.channel as 'email' | 'sms' | 'webhook',
              recipient: m.recipient,
              message_key: messageKey,
              status: 'pending' as const,
              attempts: 0,
              last_error: null,
              created_at: nowIso,
              sent_at: null,
            })),
          )
          .execute();
        const payload: NotifyPayload = { type: 'alerts', messageKey };
        await queue.enqueue(NOTIFY_TOPIC, `notify:${messageKey}`, payload, { trx, maxAttempts: NOTIFY_MAX_ATTEMPTS });
        result.messages++;
      }
    }
    for (let i = 0; i < taken.length; i += 500) {
      await trx
        .updateTable('alerts')
        .set({ notified_at: nowIso })
        .where('id', 'in', taken.slice(i, i + 500))
        .where('notified_at', 'is', null)
        .execute();
    }
    return result;
  });
}
