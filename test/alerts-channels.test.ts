// Alert messages over real channels on loopback, on SQLite and MariaDB: e-mail to a real SMTP server, SMS as the
// exact SNS Publish request the AWS SDK sends, a webhook to a real HTTP receiver that checks the HMAC signature and
// fails once (the durable queue retries it). Three alerts in the digest window make ONE message per recipient;
// a snoozed alert waits for the end of its snooze; subscriptions replace the default recipients.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SIGNATURE_HEADER, verifySignature } from '../src/alerts/channels.ts';
import { runDigest } from '../src/alerts/digest.ts';
import { acknowledgeAlert, getAlert, snoozeAlert } from '../src/alerts/inbox.ts';
import { addSubscription } from '../src/alerts/subscriptions.ts';
import { createUser } from '../src/users/users.ts';
import {
  alertsOf,
  type Chain,
  checkoutLike,
  type HttpRequestSeen,
  loadChain,
  SNS_PUBLISH_OK,
  startHttp,
  startSmtp,
} from './alerts-fixtures.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { backends } from './support/db.ts';

// the SDK signs SNS requests; the loopback endpoint does not check the signature
process.env.AWS_ACCESS_KEY_ID ??= 'test-access-key';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret-key';

const SECRET = 'whsec-test-0123456789';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:shopflow-alerts';
const WINDOW_S = 300;
const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

for (const dialect of backends()) {
  describe(`alert channels on ${dialect}`, () => {
    let t: TestApp;
    let c: Chain;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let sns: Awaited<ReturnType<typeof startHttp>>;
    let hook: Awaited<ReturnType<typeof startHttp>>;
    const signatureOk: boolean[] = [];

    const drain = () => t.app.runtime!.drain();
    /** the queue's backoff before the next attempt, elapsed */
    const backoffElapses = () =>
      t.app.ctx.database.db
        .updateTable('events')
        .set({ available_at: new Date(0).toISOString() })
        .where('topic', '=', 'notify')
        .where('status', '=', 'pending')
        .execute();
    const manager = async (username: string, store: string, email: string, phone: string | null) =>
      createUser(
        t.app.ctx.database,
        { username, password: randomBytes(16).toString('hex'), role: 'manager', stores: [store], email, phone },
        'test',
        { hashCost: 'insecure-test-only' },
      );

    before(async () => {
      smtp = await startSmtp();
      sns = await startHttp((_req, n) => ({ status: 200, type: 'text/xml', body: SNS_PUBLISH_OK(`msg-${n}`) }));
      hook = await startHttp((req: HttpRequestSeen, n: number) => {
        if (req.url === '/gone') return { status: 410 };
        signatureOk.push(verifySignature(SECRET, req.body, req.headers[SIGNATURE_HEADER] as string | undefined));
        // the receiver is down the first time
        return { status: n === 1 ? 503 : 204 };
      });
      t = await createTestApp(dialect, {
        SHOPFLOW_SMTP_URL: smtp.url,
        SHOPFLOW_MAIL_FROM: 'alertas@shopflow.example',
        SHOPFLOW_SNS_ENDPOINT: sns.url,
        SHOPFLOW_SNS_REGION: 'us-east-1',
        SHOPFLOW_SNS_TOPIC_ARN: TOPIC,
        SHOPFLOW_SMS_TO_PHONES: 'true',
        SHOPFLOW_WEBHOOK_URL: `${hook.url}/hooks/shopflow`,
        SHOPFLOW_WEBHOOK_SECRET: SECRET,
        SHOPFLOW_ALERT_DIGEST_SECONDS: String(WINDOW_S),
      });
      c = await loadChain(t.app);
      await manager(`ana-${dialect}`, 'K1', 'ana@pitstop.example', '+55 (11) 98765-4321');
      await manager(`bia-${dialect}`, 'S1', 'bia@lojacentro.example', null);
      await manager(`caio-${dialect}`, 'S2', 'caio@lojanorte.example', null);
    });
    after(async () => {
      await t?.close();
      await Promise.all([smtp?.close(), sns?.close(), hook?.close()]);
    });

    it('three alerts in the window: one e-mail, one SMS, one webhook, each listing the three products', async () => {
      const k1 = c.store.K1!;
      await checkoutLike(t.app, k1, c.product.ARROZ!, -16_000); // 4 of reorder point 5
      await checkoutLike(t.app, k1, c.product.FEIJAO!, -21_000); // 9 of 10
      await checkoutLike(t.app, k1, c.product.LEITE!, -41_000); // 9 of 10
      assert.equal((await alertsOf(t.app, 'low_stock', k1)).length, 3);

      const early = await runDigest(t.app.ctx);
      assert.deepEqual(early, { messages: 0, alerts: 0, silent: 0, waiting: 3 }, 'inside the window nothing goes out');
      const due = await runDigest(t.app.ctx, { now: later(WINDOW_S + 1) });
      // e-mail and SMS to the manager, the chain's webhook and SNS topic: four messages, each for the three alerts
      assert.deepEqual(due, { messages: 4, alerts: 3, silent: 0, waiting: 0 });
      assert.deepEqual(await runDigest(t.app.ctx, { now: later(WINDOW_S + 61) }), {
        messages: 0,
        alerts: 0,
        silent: 0,
        waiting: 0,
      });
      await drain();

      assert.equal(smtp.mails.length, 1);
      const mail = smtp.mails[0]!;
      assert.deepEqual(mail.to, ['ana@pitstop.example']);
      assert.equal(mail.from, 'alertas@shopflow.example');
      // in Portuguese, the default language of alert messages (SHOPFLOW_ALERT_LANGUAGE)
      assert.match(mail.text, /Subject: \[shopflow\] 3 alertas em K1 Pit Stop 1/);
      for (const product of ['Arroz Tipo 1 5kg (ARROZ)', 'Feijao Carioca 1kg (FEIJAO)', 'Leite Integral 1L (LEITE)']) {
        assert.ok(mail.text.includes(product), `the e-mail names ${product}`);
      }
      assert.match(
        mail.text,
        /Arroz Tipo 1 5kg \(ARROZ\) na loja K1 está baixo: 4 em estoque, ponto de reposição 5\. Pedido de reposição #\d+ \(rascunho\)/,
      );

      // the exact SNS requests: one to the manager's phone (normalised to E.164), one to the topic
      const smsText =
        'shopflow K1: 3 alertas. Baixo: Arroz Tipo 1 5kg 4/5; Baixo: Feijao Carioca 1kg 9/10; Baixo: Leite Integral 1L 9/10';
      const published = sns.requests.map((r) => {
        assert.equal(r.method, 'POST');
        assert.equal(r.url, '/');
        assert.match(String(r.headers['content-type']), /^application\/x-www-form-urlencoded/);
        assert.match(
          String(r.headers.authorization),
          /^AWS4-HMAC-SHA256 Credential=test-access-key\/\d{8}\/us-east-1\/sns\/aws4_request/,
        );
        return Object.fromEntries(new URLSearchParams(r.body));
      });
      const byTarget = (k: string) => published.find((p) => k in p);
      assert.equal(published.length, 2);
      assert.deepEqual(byTarget('PhoneNumber'), {
        Action: 'Publish',
        Version: '2010-03-31',
        PhoneNumber: '+5511987654321',
        Message: smsText,
        'MessageAttributes.entry.1.Name': 'AWS.SNS.SMS.SMSType',
        'MessageAttributes.entry.1.Value.DataType': 'String',
        'MessageAttributes.entry.1.Value.StringValue': 'Transactional',
      });
      assert.deepEqual(byTarget('TopicArn'), {
        Action: 'Publish',
        Version: '2010-03-31',
        TopicArn: TOPIC,
        Message: smsText,
      });

      // the webhook receiver was down: verified signature, 503, nothing lost; after the backoff it succeeds
      assert.equal(hook.requests.length, 1);
      const alertIds = (await alertsOf(t.app, 'low_stock', k1)).map((a) => a.id);
      let deliveries = (await getAlert(t.app.ctx.database.db, alertIds[0]!)).deliveries;
      const webhook = () => deliveries.find((d) => d.channel === 'webhook')!;
      assert.equal(webhook().status, 'pending');
      assert.equal(webhook().attempts, 1);
      assert.match(webhook().lastError ?? '', /answered 503/);
      await backoffElapses();
      await drain();
      assert.equal(hook.requests.length, 2);
      assert.deepEqual(signatureOk, [true, true]);
      const [first, second] = hook.requests;
      assert.equal(
        first!.headers['x-shopflow-delivery'],
        second!.headers['x-shopflow-delivery'],
        'the same delivery id on a retry',
      );
      assert.equal(first!.url, '/hooks/shopflow');
      const body = JSON.parse(second!.body) as {
        type: string;
        language: string;
        text: string;
        store: { code: string };
        alerts: Array<{ id: number; message: string; product: { sku: string } }>;
      };
      assert.equal(body.type, 'shopflow.alerts');
      // the text for people in the language, each alert's recorded sentence as it is for machines
      assert.equal(body.language, 'pt');
      assert.match(body.text, /^3 alertas em K1 Pit Stop 1:/);
      assert.match(body.alerts[0]!.message, /^Arroz Tipo 1 5kg \(ARROZ\) at store K1 is low: 4 on hand/);
      assert.equal(body.store.code, 'K1');
      assert.deepEqual(
        body.alerts.map((a) => a.product.sku),
        ['ARROZ', 'FEIJAO', 'LEITE'],
      );
      // a forged body does not verify
      assert.equal(
        verifySignature(SECRET, second!.body.replace('ARROZ', 'ARR0Z'), second!.headers[SIGNATURE_HEADER] as string),
        false,
      );

      for (const id of alertIds) {
        deliveries = (await getAlert(t.app.ctx.database.db, id)).deliveries;
        assert.deepEqual(deliveries.map((d) => [d.channel, d.recipient, d.status]).sort(), [
          ['email', 'ana@pitstop.example', 'sent'],
          ['sms', '+5511987654321', 'sent'],
          ['sms', TOPIC, 'sent'],
          ['webhook', `${hook.url}/hooks/shopflow`, 'sent'],
        ]);
        assert.equal(deliveries.find((d) => d.channel === 'webhook')!.attempts, 2);
      }
    });

    it('a snoozed alert is not sent until its snooze ends; an acknowledged one is not sent at all', async () => {
      const s1 = c.store.S1!;
      const before = smtp.mails.length;
      await checkoutLike(t.app, s1, c.product.ARROZ!, -15_000); // 5 of 5
      await checkoutLike(t.app, s1, c.product.LEITE!, -40_000); // 10 of 10
      const [arroz] = await alertsOf(t.app, 'low_stock', s1, c.product.ARROZ!);
      const [leite] = await alertsOf(t.app, 'low_stock', s1, c.product.LEITE!);
      await snoozeAlert(t.app.ctx.database, arroz!.id, later(3600).toISOString(), 'user:bia');
      await acknowledgeAlert(t.app.ctx.database, leite!.id, 'user:bia');
      await assert.rejects(
        snoozeAlert(t.app.ctx.database, arroz!.id, later(-60).toISOString(), 'user:bia'),
        /a snooze must end in the future/,
      );

      const r1 = await runDigest(t.app.ctx, { now: later(WINDOW_S + 1) });
      assert.equal(r1.messages, 0);
      assert.equal(r1.silent, 1, 'the acknowledged alert is taken without a message');
      assert.equal(r1.waiting, 1, 'the snoozed one waits');
      await drain();
      assert.equal(smtp.mails.length, before);

      const r2 = await runDigest(t.app.ctx, { now: later(3600 + WINDOW_S + 1) });
      assert.equal(r2.alerts, 1);
      await drain();
      const mails = smtp.mails.slice(before);
      assert.equal(mails.length, 1);
      assert.deepEqual(mails[0]!.to, ['bia@lojacentro.example']);
      assert.match(mails[0]!.text, /Arroz Tipo 1 5kg \(ARROZ\)/);
      assert.ok(!mails[0]!.text.includes('LEITE'), 'the acknowledged alert is not in it');
    });

    it('a subscription for a store and kind replaces the default recipients', async () => {
      const s2 = c.store.S2!;
      const before = smtp.mails.length;
      await addSubscription(
        t.app.ctx.database,
        t.config,
        { store: 'S2', kind: 'low_stock', channel: 'email', recipient: 'compras@norte.example' },
        'user:admin',
      );
      await assert.rejects(
        addSubscription(
          t.app.ctx.database,
          t.config,
          { store: 'S2', channel: 'sms', recipient: '11 9999' },
          'user:admin',
        ),
        /neither an E.164 phone number/,
      );
      await assert.rejects(
        addSubscription(
          t.app.ctx.database,
          t.config,
          { store: 'S2', channel: 'webhook', recipient: 'https://example.com/x' },
          'user:caio',
          [s2],
        ),
        /only an admin can add a webhook/,
      );
      await checkoutLike(t.app, s2, c.product.ARROZ!, -16_000);
      await runDigest(t.app.ctx, { now: later(WINDOW_S + 1) });
      await drain();
      const mails = smtp.mails.slice(before);
      assert.deepEqual(
        mails.map((m) => m.to),
        [['compras@norte.example']],
        'not the store manager: the subscription replaced the default',
      );
    });

    it('a receiver that refuses for good (4xx) is not retried: the delivery is recorded as failed', async () => {
      const s1 = c.store.S1!;
      await addSubscription(
        t.app.ctx.database,
        t.config,
        { store: 'S1', kind: 'negative_stock', channel: 'webhook', recipient: `${hook.url}/gone` },
        'user:admin',
      );
      const seen = hook.requests.length;
      await checkoutLike(t.app, s1, c.product.FEIJAO!, -31_000); // 30 → −1
      const [neg] = await alertsOf(t.app, 'negative_stock', s1);
      await runDigest(t.app.ctx, { now: later(WINDOW_S + 1) });
      await drain();
      const gone = hook.requests.slice(seen).filter((r) => r.url === '/gone');
      assert.equal(gone.length, 1);
      const d = (await getAlert(t.app.ctx.database.db, neg!.id)).deliveries.find((x) => x.recipient.endsWith('/gone'))!;
      assert.equal(d.status, 'failed');
      assert.equal(d.attempts, 1);
      assert.match(d.lastError ?? '', /answered 410/);
      const pending = await t.app.ctx.database.db
        .selectFrom('events')
        .select('id')
        .where('topic', '=', 'notify')
        .where('status', 'in', ['pending', 'dead'])
        .execute();
      assert.deepEqual(pending, [], 'nothing left to retry, nothing dead');
    });
  });
}
