// Who is told about an alert, and how. Subscriptions (`alert_subscriptions`) name recipients per store and per
// alert kind (null = any); when at least one matches an alert, they are its recipients. Otherwise the default:
// the managers linked to the alert's store (the admins for alerts of no store, such as a dead event), by e-mail,
// and by SMS when SHOPFLOW_SMS_TO_PHONES is on. The chain-wide webhook (SHOPFLOW_WEBHOOK_URL) and SNS topic
// (SHOPFLOW_SNS_TOPIC_ARN) hear about every alert. A channel that is not configured is left out.
import type { Config } from '../config.ts';
import type { AlertChannel, AlertKind } from '../db/schema.ts';
import type { Tx } from '../db/tx.ts';
import { emailAvailable, webhookAvailable } from './channels.ts';
import { PHONE_RE } from './subscriptions.ts';

export interface Recipient {
  channel: AlertChannel;
  recipient: string;
}

interface Subscription extends Recipient {
  store_id: number | null;
  kind: AlertKind | null;
}

/** Resolves recipients for many alerts at once, reading subscriptions and users once per store. */
export class RecipientResolver {
  private subs: Subscription[] | undefined;
  private readonly people = new Map<string, Array<{ email: string | null; phone: string | null }>>();

  constructor(
    private readonly trx: Tx,
    private readonly config: Config,
  ) {}

  async for(alert: { kind: AlertKind; store_id: number | null }): Promise<Recipient[]> {
    this.subs ??= (
      await this.trx.selectFrom('alert_subscriptions').select(['store_id', 'kind', 'channel', 'recipient']).execute()
    ).map((s) => ({ ...s, store_id: s.store_id === null ? null : Number(s.store_id) }));
    const matching = this.subs.filter(
      (s) => (s.store_id === null || s.store_id === alert.store_id) && (s.kind === null || s.kind === alert.kind),
    );
    const out: Recipient[] = matching.length
      ? matching.map((s) => ({ channel: s.channel, recipient: s.recipient }))
      : await this.defaults(alert.store_id);
    if (this.config.webhookUrl) out.push({ channel: 'webhook', recipient: this.config.webhookUrl });
    if (this.config.alerts.snsTopicArn) out.push({ channel: 'sms', recipient: this.config.alerts.snsTopicArn });
    const seen = new Set<string>();
    return out.filter((r) => {
      const k = `${r.channel}\n${r.recipient}`;
      if (seen.has(k) || !this.available(r.channel)) return false;
      seen.add(k);
      return true;
    });
  }

  private available(channel: AlertChannel): boolean {
    if (channel === 'email') return emailAvailable(this.config);
    if (channel === 'webhook') return webhookAvailable(this.config);
    return true;
  }

  private async defaults(storeId: number | null): Promise<Recipient[]> {
    const key = storeId === null ? 'admins' : `store:${storeId}`;
    let users = this.people.get(key);
    if (!users) {
      users =
        storeId === null
          ? await this.trx
              .selectFrom('users')
              .select(['email', 'phone'])
              .where('role', '=', 'admin')
              .where('disabled', '=', 0)
              .orderBy('id')
              .execute()
          : await this.trx
              .selectFrom('users as u')
              .innerJoin('user_stores as us', 'us.user_id', 'u.id')
              .select(['u.email', 'u.phone'])
              .where('us.store_id', '=', storeId)
              .where('u.role', '=', 'manager')
              .where('u.disabled', '=', 0)
              .orderBy('u.id')
              .execute();
      this.people.set(key, users);
    }
    const out: Recipient[] = [];
    for (const u of users) {
      if (u.email) out.push({ channel: 'email', recipient: u.email });
      const phone = u.phone?.replace(/[\s()-]/g, '');
      // SNS takes E.164 only; a number kept without its country code cannot be guessed
      if (phone && PHONE_RE.test(phone) && this.config.alerts.smsToPhones)
        out.push({ channel: 'sms', recipient: phone });
    }
    return out;
  }
}
