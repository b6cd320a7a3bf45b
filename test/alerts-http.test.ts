// The alerts inbox and subscriptions over HTTP, on SQLite and MariaDB, with real logins: each person sees the
// alerts of their stores only (another store's alert is "not found"), acknowledges and snoozes them; managers keep
// their stores' subscriptions, admins the chain-wide ones.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chain, checkoutLike, loadChain } from './alerts-fixtures.ts';
import { createUserAndLogin, type LoggedInUser } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

interface AlertJson {
  id: number;
  kind: string;
  store: string | null;
  sku: string | null;
  status: string;
  acknowledgedBy: string | null;
  snoozedUntil: string | null;
  deliveries?: unknown[];
}

for (const dialect of backends()) {
  describe(`alerts over HTTP on ${dialect}`, () => {
    let t: TestServer;
    let c: Chain;
    let admin: LoggedInUser;
    let managerK1: LoggedInUser;
    let clerkK1: LoggedInUser;
    let managerS1: LoggedInUser;

    const call = async <T>(method: string, path: string, who: LoggedInUser | null, body?: unknown) => {
      const headers: Record<string, string> = who ? who.headers() : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${t.baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    };

    before(async () => {
      t = await startTestServer(dialect);
      c = await loadChain(t.app);
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      managerK1 = await createUserAndLogin(t, { role: 'manager', stores: ['K1'] });
      clerkK1 = await createUserAndLogin(t, { role: 'clerk', stores: ['K1'] });
      managerS1 = await createUserAndLogin(t, { role: 'manager', stores: ['S1'] });
      await checkoutLike(t.app, c.store.K1!, c.product.ARROZ!, -16_000);
      await checkoutLike(t.app, c.store.S1!, c.product.LEITE!, -45_000);
      await t.app.runtime!.queue.enqueue('no-such-topic', `http-dead:${dialect}`, {});
      await t.app.runtime!.drain();
    });
    after(async () => t?.close());

    it('lists the alerts of the caller’s stores, with filters', async () => {
      const k1 = await call<AlertJson[]>('GET', '/alerts', managerK1);
      assert.equal(k1.status, 200);
      assert.deepEqual(
        k1.body.map((a) => [a.kind, a.store, a.sku]),
        [['low_stock', 'K1', 'ARROZ']],
      );
      const all = await call<AlertJson[]>('GET', '/alerts?status=all', admin);
      assert.deepEqual(all.body.map((a) => [a.kind, a.store]).sort(), [
        ['dead_event', null],
        ['low_stock', 'K1'],
        ['low_stock', 'S1'],
      ]);
      assert.deepEqual(
        (await call<AlertJson[]>('GET', '/alerts?kind=dead_event', admin)).body.map((a) => a.kind),
        ['dead_event'],
      );
      assert.deepEqual(
        (await call<AlertJson[]>('GET', '/alerts?store=S1', admin)).body.map((a) => a.sku),
        ['LEITE'],
      );
      assert.equal((await call('GET', '/alerts?store=K1', managerS1)).status, 403);
      assert.equal((await call('GET', '/alerts?kind=nonsense', admin)).status, 400);
      assert.equal((await call('GET', '/alerts', null)).status, 401);
    });

    it("another store's alert does not exist for a caller", async () => {
      const [k1Alert] = (await call<AlertJson[]>('GET', '/alerts', managerK1)).body;
      assert.equal((await call('GET', `/alerts/${k1Alert!.id}`, managerS1)).status, 404);
      assert.equal((await call('POST', `/alerts/${k1Alert!.id}/ack`, managerS1)).status, 404);
      const one = await call<AlertJson>('GET', `/alerts/${k1Alert!.id}`, clerkK1);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body.deliveries, []);
    });

    it('acknowledges and snoozes', async () => {
      const [a] = (await call<AlertJson[]>('GET', '/alerts', managerK1)).body;
      // a state change without the session's CSRF token is refused
      const noCsrf = await fetch(`${t.baseUrl}/api/v1/alerts/${a!.id}/ack`, {
        method: 'POST',
        headers: { cookie: clerkK1.cookie },
      });
      assert.equal(noCsrf.status, 403);
      const ack = await call<AlertJson>('POST', `/alerts/${a!.id}/ack`, clerkK1);
      assert.equal(ack.status, 200);
      assert.equal(ack.body.acknowledgedBy, `user:${clerkK1.username}`);
      assert.deepEqual((await call<AlertJson[]>('GET', '/alerts?acknowledged=false', managerK1)).body, []);
      const until = new Date(Date.now() + 3600_000).toISOString();
      const snoozed = await call<AlertJson>('POST', `/alerts/${a!.id}/snooze`, managerK1, { until });
      assert.equal(snoozed.status, 200);
      assert.equal(snoozed.body.snoozedUntil, until);
      assert.equal((await call('POST', `/alerts/${a!.id}/snooze`, managerK1, { until: 'tomorrow' })).status, 400);
      const past = await call<{ detail: string }>('POST', `/alerts/${a!.id}/snooze`, managerK1, {
        until: '2020-01-01T00:00:00Z',
      });
      assert.equal(past.status, 400);
      assert.match(past.body.detail, /must end in the future/);
      const audit = await t.app.ctx.database.db
        .selectFrom('audit_log')
        .select(['actor', 'action'])
        .where('action', 'in', ['alert.acknowledge', 'alert.snooze'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        audit.map((r) => [r.action, r.actor]),
        [
          ['alert.acknowledge', `user:${clerkK1.username}`],
          ['alert.snooze', `user:${managerK1.username}`],
        ],
      );
    });

    it('subscriptions: managers for their stores, admins for the chain and webhooks', async () => {
      const mine = await call<{ id: number; store: string }>('POST', '/alert-subscriptions', managerK1, {
        store: 'K1',
        kind: 'low_stock',
        channel: 'email',
        recipient: 'estoque@pitstop.example',
      });
      assert.equal(mine.status, 201);
      assert.equal(mine.body.store, 'K1');
      assert.equal(
        (
          await call('POST', '/alert-subscriptions', managerK1, {
            channel: 'email',
            recipient: 'tudo@pitstop.example',
          })
        ).status,
        403,
        'chain-wide: admins only',
      );
      assert.equal(
        (
          await call('POST', '/alert-subscriptions', managerK1, {
            store: 'S1',
            channel: 'email',
            recipient: 'x@y.example',
          })
        ).status,
        404,
      );
      assert.equal(
        (await call('POST', '/alert-subscriptions', clerkK1, { channel: 'email', recipient: 'a@b.co' })).status,
        403,
      );
      const hook = await call<{ detail: string }>('POST', '/alert-subscriptions', admin, {
        channel: 'webhook',
        recipient: 'https://hooks.example/shopflow',
      });
      assert.equal(hook.status, 409);
      assert.match(hook.body.detail, /SHOPFLOW_WEBHOOK_SECRET/);
      assert.deepEqual(
        (await call<Array<{ id: number }>>('GET', '/alert-subscriptions', managerS1)).body,
        [],
        'S1 sees none of K1’s',
      );
      assert.equal((await call('DELETE', `/alert-subscriptions/${mine.body.id}`, managerS1)).status, 404);
      assert.equal((await call('DELETE', `/alert-subscriptions/${mine.body.id}`, managerK1)).status, 204);
      assert.deepEqual((await call<unknown[]>('GET', '/alert-subscriptions', admin)).body, []);
    });
  });
}
