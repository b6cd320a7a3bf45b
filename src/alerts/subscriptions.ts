// Recipients and channels per store and per alert kind (see recipients.ts for how they are applied). Managers keep
// the subscriptions of their own stores; chain-wide ones and webhooks are for admins, since a webhook makes the
// server POST to an address of the caller's choosing.
import type { Config } from '../config.ts';
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import type { AlertChannel, AlertKind } from '../db/schema.ts';
import { inTransaction, nowIso, type Tx } from '../db/tx.ts';
import { conflict, forbidden, invalid, notFound } from '../errors.ts';
import { EMAIL_RE } from '../restock/suppliers.ts';

export const CHANNELS: readonly AlertChannel[] = ['email', 'sms', 'webhook'];
export const PHONE_RE = /^\+[1-9]\d{6,14}$/;
const TOPIC_RE = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

export interface SubscriptionView {
  id: number;
  store: string | null;
  kind: AlertKind | null;
  channel: AlertChannel;
  recipient: string;
  createdBy: string | null;
  createdAt: string;
}

export interface NewSubscription {
  store?: string | null;
  kind?: AlertKind | null;
  channel: AlertChannel;
  recipient: string;
}

export async function listSubscriptions(db: Tx, storeIds?: number[]): Promise<SubscriptionView[]> {
  let q = db
    .selectFrom('alert_subscriptions as a')
    .leftJoin('stores as s', 's.id', 'a.store_id')
    .selectAll('a')
    .select('s.code')
    .orderBy('a.id');
  if (storeIds) q = q.where('a.store_id', 'in', storeIds.length ? storeIds : [-1]);
  return (await q.execute()).map((r) => ({
    id: Number(r.id),
    store: r.code ?? null,
    kind: r.kind,
    channel: r.channel,
    recipient: r.recipient,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }));
}

export function checkRecipient(channel: AlertChannel, recipient: string): void {
  const bad = (problem: string) => invalid(`"${recipient}" ${problem}`, [{ where: 'recipient', problem }]);
  if (recipient.length > 300) throw bad('is longer than 300 characters');
  if (channel === 'email' && !EMAIL_RE.test(recipient)) throw bad('is not an e-mail address');
  if (channel === 'sms' && !PHONE_RE.test(recipient) && !TOPIC_RE.test(recipient)) {
    throw bad('is neither an E.164 phone number (+5511987654321) nor an SNS topic ARN');
  }
  if (channel === 'webhook') {
    let u: URL;
    try {
      u = new URL(recipient);
    } catch {
      throw bad('is not a URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('is not an http(s) URL');
    if (u.username || u.password) throw bad('must not carry credentials; the body is signed instead');
  }
}

export async function addSubscription(
  database: Database,
  config: Config,
  s: NewSubscription,
  actor: string,
  /** the stores the caller manages; undefined for an admin */
  storeIds?: number[],
): Promise<SubscriptionView> {
  checkRecipient(s.channel, s.recipient);
  if (storeIds && !s.store) throw forbidden('only an admin can subscribe to the alerts of every store');
  if (storeIds && s.channel === 'webhook') throw forbidden('only an admin can add a webhook');
  if (s.channel === 'webhook' && !config.webhookSecret) {
    throw conflict('webhooks are signed with SHOPFLOW_WEBHOOK_SECRET, which is not set');
  }
  const id = await inTransaction(database, async (trx) => {
    let storeId: number | null = null;
    if (s.store) {
      const row = await trx.selectFrom('stores').select('id').where('code', '=', s.store).executeTakeFirst();
      if (!row || (storeIds && !storeIds.includes(Number(row.id)))) throw notFound(`store ${s.store} does not exist`);
      storeId = Number(row.id);
    }
    const r = await trx
      .insertInto('alert_subscriptions')
      .values({
        store_id: storeId,
        kind: s.kind ?? null,
        channel: s.channel,
        recipient: s.recipient,
        created_by: actor,
        created_at: nowIso(),
      })
      .executeTakeFirstOrThrow();
    const newId = Number(r.insertId);
    await audit(trx, actor, 'alert.subscribe', s, `alert_subscription:${newId}`, storeId ?? undefined);
    return newId;
  });
  return (await listSubscriptions(database.db)).find((v) => v.id === id)!;
}

export async function removeSubscription(
  database: Database,
  id: number,
  actor: string,
  storeIds?: number[],
): Promise<void> {
  await inTransaction(database, async (trx) => {
    const r = await trx.selectFrom('alert_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    const visible = r && (!storeIds || (r.store_id !== null && storeIds.includes(Number(r.store_id))));
    if (!r || !visible) throw notFound(`alert subscription ${id} does not exist`);
    await trx.deleteFrom('alert_subscriptions').where('id', '=', id).execute();
    await audit(
      trx,
      actor,
      'alert.unsubscribe',
      { channel: r.channel, recipient: r.recipient },
      `alert_subscription:${id}`,
      r.store_id ?? undefined,
    );
  });
}
