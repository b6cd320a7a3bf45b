// Authentication and sessions over real HTTP, on SQLite and MariaDB (reliability check 28): login, me, logout,
// throttling, session rotation and expiry, disabling, CSRF, cookie attributes, argon2id parameters, and the audit
// rows each security event leaves.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildServer } from '../src/server/app.ts';
import { ALL_ROLES } from '../src/server/auth/contract.ts';
import { allRoutes } from '../src/server/routes/index.ts';
import { HARD_LOCK_FAILURES, LoginThrottle, lockSeconds } from '../src/users/login.ts';
import { PRODUCTION_ARGON2 } from '../src/users/passwords.ts';
import { createUser, ensureFirstAdmin } from '../src/users/users.ts';
import { createStores, createUserAndLogin, type LoggedInUser, login } from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// Extra routes served beside the real ones: a state-changing route open to kiosk tokens (CSRF must not apply to
// bearer tokens) with its store in the body, and a route that forgot config.access (deny by default).
const probeRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { store: string } }>(
    '/probe/echo',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['kiosk'], store: { in: 'body', name: 'store' } } },
      schema: {
        body: {
          type: 'object',
          required: ['store'],
          properties: { store: { type: 'string', pattern: '^[A-Z0-9]+$' } },
        },
      },
    },
    async (request) => ({ store: request.accessStore?.code, actor: request.principal?.kind }),
  );
  app.get('/probe/undeclared', async () => ({ ok: true }));
};

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.addresses()[0] as { port: number }).port}`;
}

for (const dialect of backends()) {
  describe(`authentication on ${dialect}`, () => {
    let t: TestServer;
    let probe: FastifyInstance;
    let probeUrl: string;
    let admin: LoggedInUser;
    let firstAdminPassword: string;

    const api = (path: string, init: RequestInit = {}, base = t.baseUrl) => fetch(`${base}/api/v1${path}`, init);
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const loginRequest = (username: string, password: string, headers: Record<string, string> = {}) =>
      api('/auth/login', json({ username, password }, headers));
    const auditRows = (action: string) =>
      t.app.ctx.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
    const userRow = (username: string) =>
      t.app.ctx.database.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
    const newUser = async (role: 'admin' | 'manager' | 'clerk', stores: string[]) => {
      const username = `u${Math.random().toString(36).slice(2, 10)}`;
      const password = `correct-horse-${username}`;
      await createUser(t.app.ctx.database, { username, password, role, stores }, 'test', {
        hashCost: 'insecure-test-only',
      });
      return { username, password };
    };

    before(async () => {
      t = await startTestServer(dialect);
      const first = await ensureFirstAdmin(t.app.ctx.database);
      assert.ok(first, 'an empty database gets a first admin');
      firstAdminPassword = first.password;
      await createStores(t, ['ALPHA01', 'BRAVO02']);
      probe = await buildServer(t.app.ctx, { logger: false, routes: [...allRoutes, probeRoutes] });
      probeUrl = await listen(probe);
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
    });
    after(async () => {
      await probe?.close();
      await t?.close();
    });

    it('creates the first admin once, with a production-strength argon2id hash that logs in', async () => {
      assert.equal(await ensureFirstAdmin(t.app.ctx.database), undefined, 'never a second time');
      assert.match(firstAdminPassword, /^[A-Za-z0-9]{20}$/);
      const row = await userRow('admin');
      assert.equal(row.role, 'admin');
      // reliability check 28: $argon2id$, m ≥ 19456, t ≥ 2, p = 1
      const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(row.password_hash);
      assert.ok(m, row.password_hash.slice(0, 30));
      assert.ok(Number(m[1]) >= 19456 && Number(m[2]) >= 2 && Number(m[3]) === 1, row.password_hash.slice(0, 30));
      assert.deepEqual(
        { m: PRODUCTION_ARGON2.memoryCost, t: PRODUCTION_ARGON2.timeCost, p: PRODUCTION_ARGON2.parallelism },
        { m: 19456, t: 2, p: 1 },
      );
      const res = await loginRequest('admin', firstAdminPassword);
      assert.equal(res.status, 200);
      const created = await auditRows('user.create');
      assert.equal(created[0]?.actor, 'system:first-start');
    });

    it('hashes passwords set through the API with the production parameters', async () => {
      const res = await api(
        '/users',
        json({ username: 'prodhash', role: 'clerk', stores: ['ALPHA01'] }, admin.headers()),
      );
      assert.equal(res.status, 201);
      const body = (await res.json()) as { password: string; user: { username: string; stores: string[] } };
      assert.deepEqual(body.user.stores, ['ALPHA01']);
      assert.match((await userRow('prodhash')).password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal((await loginRequest('prodhash', body.password)).status, 200);
    });

    it('logs in with a 256-bit session id in an HttpOnly SameSite=Strict cookie, stored only as its sha256', async () => {
      const { username, password } = await newUser('manager', ['ALPHA01']);
      const res = await loginRequest(username, password);
      assert.equal(res.status, 200);
      const setCookie = res.headers.get('set-cookie') ?? '';
      const m = /^shopflow_session=([A-Za-z0-9_-]+); (.*)$/.exec(setCookie);
      assert.ok(m, setCookie);
      const id = m[1]!;
      assert.equal(Buffer.from(id, 'base64url').length, 32, '256 random bits');
      const attrs = m[2]!.split('; ');
      assert.ok(attrs.includes('HttpOnly'));
      assert.ok(attrs.includes('SameSite=Strict'));
      assert.ok(attrs.includes('Path=/'));
      assert.ok(!attrs.includes('Secure'), 'plain http://127.0.0.1 needs a cookie without Secure');
      const body = (await res.json()) as { user: Record<string, unknown>; csrfToken: string };
      assert.deepEqual(body.user, {
        kind: 'user',
        username,
        displayName: null,
        role: 'manager',
        stores: ['ALPHA01'],
        allStores: false,
      });
      const rows = await t.app.ctx.database.db.selectFrom('sessions').selectAll().execute();
      assert.ok(rows.some((r) => r.id_hash === sha256(id)));
      assert.ok(!rows.some((r) => JSON.stringify(r).includes(id)), 'the raw id is never stored');

      const me = await api('/auth/me', { headers: { cookie: `shopflow_session=${id}` } });
      assert.equal(me.status, 200);
      assert.deepEqual(await me.json(), { ...body.user, csrfToken: body.csrfToken });
    });

    it('names the cookie __Host-shopflow and marks it Secure when SHOPFLOW_COOKIE_SECURE is on', async () => {
      const secure = await buildServer(
        { ...t.app.ctx, config: { ...t.app.ctx.config, cookieSecure: true } },
        { logger: false, routes: allRoutes },
      );
      try {
        const base = await listen(secure);
        const { username, password } = await newUser('clerk', ['ALPHA01']);
        const res = await api('/auth/login', json({ username, password }), base);
        assert.equal(res.status, 200);
        const setCookie = res.headers.get('set-cookie') ?? '';
        assert.match(setCookie, /^__Host-shopflow=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
        const cookie = setCookie.split(';')[0]!;
        assert.equal((await api('/auth/me', { headers: { cookie } }, base)).status, 200);
        const plainName = cookie.replace('__Host-shopflow', 'shopflow_session');
        assert.equal((await api('/auth/me', { headers: { cookie: plainName } }, base)).status, 401);
      } finally {
        await secure.close();
      }
    });

    it('refuses a wrong password and an unknown user alike, and audits both', async () => {
      const { username } = await newUser('clerk', ['ALPHA01']);
      const wrong = await loginRequest(username, 'not-the-password');
      const unknown = await loginRequest('nobody-here', 'not-the-password');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      const a = (await wrong.json()) as { detail: string };
      const b = (await unknown.json()) as { detail: string };
      assert.equal(a.detail, b.detail);
      assert.equal(wrong.headers.get('set-cookie'), null);
      const failed = await auditRows('auth.login_failed');
      const mine = failed.find((r) => r.target === `user:${username}`);
      assert.equal(mine?.actor, 'anonymous');
      assert.match(mine?.details ?? '', /"reason":"wrong_password".*"ip":"127\.0\.0\.1"/);
      assert.ok(failed.some((r) => r.target === 'user:nobody-here' && /unknown_user/.test(r.details ?? '')));
    });

    it('answers 429 with Retry-After after 5 consecutive failures, even to the right password, and audits it', async () => {
      const { username, password } = await newUser('clerk', ['ALPHA01']);
      for (let i = 1; i <= 5; i++)
        assert.equal((await loginRequest(username, `wrong-${i}`)).status, 401, `attempt ${i}`);
      const locked = await loginRequest(username, password);
      assert.equal(locked.status, 429);
      const wait = Number(locked.headers.get('retry-after'));
      assert.ok(wait > 0 && wait <= 60, `Retry-After ${wait}: the first lock lasts a minute`);
      const refusal = (await locked.json()) as { type: string; detail: string };
      assert.equal(refusal.type, 'urn:shopflow:problem:rate_limited');
      assert.equal(refusal.detail, `too many failed logins: try again in ${wait} s`);
      // the page of a Brazilian clerk asks in Portuguese
      const pt = await loginRequest(username, password, { 'accept-language': 'pt-BR' });
      assert.equal(pt.status, 429);
      assert.match(
        ((await pt.json()) as { detail: string }).detail,
        /^tentativas de entrar erradas demais: tente de novo em \d+ s$/,
      );
      const row = await userRow(username);
      assert.equal(row.failed_logins, 5);
      assert.ok(row.locked_until && row.locked_until > new Date().toISOString());
      assert.ok(
        (await auditRows('auth.login_failed')).some(
          (r) => r.target === `user:${username}` && /account_throttled/.test(r.details ?? ''),
        ),
      );

      // an unknown username is throttled the same way, so 429 does not reveal which accounts exist
      for (let i = 1; i <= 5; i++) assert.equal((await loginRequest('ghost-user', `wrong-${i}`)).status, 401);
      assert.equal((await loginRequest('ghost-user', 'wrong-6')).status, 429);

      // once the lock has passed (moved into the past rather than waited for), the right password works and resets
      await t.app.ctx.database.db
        .updateTable('users')
        .set({ locked_until: '2000-01-01T00:00:00.000Z' })
        .where('username', '=', username)
        .execute();
      assert.equal((await loginRequest(username, password)).status, 200);
      assert.equal((await userRow(username)).failed_logins, 0);
    });

    it(`locks an account for good at ${HARD_LOCK_FAILURES} consecutive failures until an admin sets a password`, async () => {
      const { username, password } = await newUser('clerk', ['ALPHA01']);
      await t.app.ctx.database.db
        .updateTable('users')
        .set({ failed_logins: HARD_LOCK_FAILURES - 1, locked_until: null })
        .where('username', '=', username)
        .execute();
      assert.equal((await loginRequest(username, 'wrong-100')).status, 401, 'the 100th guess is still checked');
      const row = await userRow(username);
      assert.equal(row.failed_logins, HARD_LOCK_FAILURES);
      assert.ok((row.locked_until ?? '') > '9000');
      // even with the time lock cleared, the counter alone keeps it shut
      await t.app.ctx.database.db
        .updateTable('users')
        .set({ locked_until: null })
        .where('username', '=', username)
        .execute();
      const refused = await loginRequest(username, password);
      assert.equal(refused.status, 429);
      assert.equal((await userRow(username)).failed_logins, HARD_LOCK_FAILURES, 'no 101st verification');

      const reset = await api(`/users/${username}/password`, {
        method: 'PUT',
        headers: admin.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ password: 'a-brand-new-password' }),
      });
      assert.equal(reset.status, 204);
      assert.equal((await loginRequest(username, 'a-brand-new-password')).status, 200);
      assert.ok((await auditRows('user.password')).some((r) => r.target === `user:${username}`));
    });

    it('rotates the session id at every login and ends the one presented', async () => {
      const { username, password } = await newUser('clerk', ['ALPHA01']);
      const first = await login(t, username, password);
      const again = await loginRequest(username, password, { cookie: first.cookie });
      assert.equal(again.status, 200);
      const second = (again.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.notEqual(second, first.cookie);
      assert.equal((await api('/auth/me', { headers: { cookie: first.cookie } })).status, 401);
      assert.equal((await api('/auth/me', { headers: { cookie: second } })).status, 200);
    });

    it('logs out: needs the CSRF token, ends the session, clears the cookie, audits', async () => {
      const user = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const noCsrf = await api('/auth/logout', { method: 'POST', headers: { cookie: user.cookie } });
      assert.equal(noCsrf.status, 403);
      const badCsrf = await api('/auth/logout', {
        method: 'POST',
        headers: { cookie: user.cookie, 'x-csrf-token': `${user.csrf.slice(0, -1)}x` },
      });
      assert.equal(badCsrf.status, 403);
      assert.equal((await api('/auth/me', { headers: user.headers() })).status, 200, 'still logged in');
      const out = await api('/auth/logout', { method: 'POST', headers: user.headers() });
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /^shopflow_session=; .*Max-Age=0/);
      const after = await api('/auth/me', { headers: user.headers() });
      assert.equal(after.status, 401);
      assert.match(after.headers.get('set-cookie') ?? '', /Max-Age=0/, 'a dead cookie is cleared');
      assert.ok((await auditRows('auth.logout')).some((r) => r.actor === `user:${user.username}`));
      const denied = await auditRows('auth.denied');
      assert.ok(denied.some((r) => r.actor === `user:${user.username}` && /"reason":"csrf"/.test(r.details ?? '')));
    });

    it('requires the CSRF token on cookie-authenticated state changes but not with a bearer token', async () => {
      const clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const body = { store: 'ALPHA01' };
      const withCookieOnly = await api('/probe/echo', json(body, { cookie: clerk.cookie }), probeUrl);
      assert.equal(withCookieOnly.status, 403);
      const withCsrf = await api('/probe/echo', json(body, clerk.headers()), probeUrl);
      assert.equal(withCsrf.status, 200);
      assert.deepEqual(await withCsrf.json(), { store: 'ALPHA01', actor: 'user' });

      const created = await api('/tokens', json({ store: 'ALPHA01', purpose: 'kiosk' }, admin.headers()));
      assert.equal(created.status, 201);
      const { token } = (await created.json()) as { token: string };
      const bearer = await api('/probe/echo', json(body, { authorization: `Bearer ${token}` }), probeUrl);
      assert.equal(bearer.status, 200, 'no CSRF token needed');
      assert.deepEqual(await bearer.json(), { store: 'ALPHA01', actor: 'token' });
      // the store in the body is checked before validation: another store is 403, an unknown one 404
      const other = await api(
        '/probe/echo',
        json({ store: 'BRAVO02' }, { authorization: `Bearer ${token}` }),
        probeUrl,
      );
      assert.equal(other.status, 403);
      const missing = await api(
        '/probe/echo',
        json({ store: 'NOPE9' }, { authorization: `Bearer ${token}` }),
        probeUrl,
      );
      assert.equal(missing.status, 404);
    });

    it('ends every session of a user who is disabled, and refuses their login', async () => {
      const clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const res = await api(`/users/${clerk.username}`, {
        method: 'PATCH',
        headers: admin.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ disabled: true }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { disabled: boolean }).disabled, true);
      assert.equal((await api('/auth/me', { headers: clerk.headers() })).status, 401);
      assert.equal((await loginRequest(clerk.username, clerk.password)).status, 401);
      assert.ok((await auditRows('user.disable')).some((r) => r.target === `user:${clerk.username}`));
      // even a session row that survived (written by a concurrent login) is refused for a disabled user
      const row = await userRow(clerk.username);
      await t.app.ctx.database.db
        .insertInto('sessions')
        .values({
          id_hash: sha256('A'.repeat(43)),
          user_id: row.id,
          csrf_token: 'x',
          created_at: new Date().toISOString(),
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        })
        .execute();
      assert.equal((await api('/auth/me', { headers: { cookie: `shopflow_session=${'A'.repeat(43)}` } })).status, 401);
    });

    it('expires a session after the idle time and after the absolute lifetime', async () => {
      const db = t.app.ctx.database.db;
      const idle = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const idHash = sha256(idle.cookie.split('=')[1]!);
      const row = await db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirstOrThrow();
      const minutes = (Date.parse(row.expires_at) - Date.parse(row.created_at)) / 60_000;
      assert.equal(Math.round(minutes), 30, 'idle expiry defaults to 30 minutes');
      await db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id_hash', '=', idHash)
        .execute();
      assert.equal((await api('/auth/me', { headers: idle.headers() })).status, 401);

      const old = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const oldHash = sha256(old.cookie.split('=')[1]!);
      await db
        .updateTable('sessions')
        .set({ created_at: new Date(Date.now() - 13 * 3_600_000).toISOString() })
        .where('id_hash', '=', oldHash)
        .execute();
      assert.equal((await api('/auth/me', { headers: old.headers() })).status, 401, 'past the 12-hour lifetime');
    });

    it('answers 401 with WWW-Authenticate for no credentials and for a malformed, unknown or revoked token', async () => {
      const none = await api('/stock');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="shopflow"');
      for (const authorization of ['Bearer nope', `Bearer sft_${'x'.repeat(43)}`, 'Basic YWRtaW46YWRtaW4=']) {
        assert.equal((await api('/stock', { headers: { authorization } })).status, 401, authorization);
      }
      assert.equal((await api('/stock', { headers: { cookie: 'shopflow_session=forged' } })).status, 401);
    });

    it('treats a route without config.access as admin-only', async () => {
      const clerk = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      assert.equal((await api('/probe/undeclared', {}, probeUrl)).status, 401);
      assert.equal((await api('/probe/undeclared', { headers: clerk.headers() }, probeUrl)).status, 403);
      assert.equal((await api('/probe/undeclared', { headers: admin.headers() }, probeUrl)).status, 200);
      assert.ok(probe.auth.routes.some((r) => r.url === '/api/v1/probe/undeclared' && r.access === undefined));
    });

    it('lets people change their own password, keeping this session and ending the others', async () => {
      const { username, password } = await newUser('clerk', ['ALPHA01']);
      const here = await login(t, username, password);
      const elsewhere = await login(t, username, password);
      const change = (currentPassword: string, newPassword: string) =>
        api('/auth/password', json({ currentPassword, newPassword }, here.headers()));
      assert.equal((await change('wrong-current-pw', 'another-long-password')).status, 400);
      assert.equal((await change(password, 'short')).status, 400);
      assert.equal((await change(password, 'another-long-password')).status, 204);
      assert.equal((await api('/auth/me', { headers: here.headers() })).status, 200);
      assert.equal((await api('/auth/me', { headers: elsewhere.headers() })).status, 401);
      assert.equal((await loginRequest(username, 'another-long-password')).status, 200);
    });
  });

  describe(`login throttling per client address on ${dialect}`, () => {
    let t: TestServer;
    before(async () => {
      process.env.SHOPFLOW_LOGIN_IP_MAX_FAILURES = '3';
      try {
        t = await startTestServer(dialect);
      } finally {
        delete process.env.SHOPFLOW_LOGIN_IP_MAX_FAILURES;
      }
    });
    after(async () => t?.close());

    it('answers 429 to an address after its failures, whatever the account', async () => {
      await createStores(t, ['ALPHA01']);
      const user = await createUserAndLogin(t, { role: 'clerk', stores: ['ALPHA01'] });
      const attempt = (username: string, password: string) =>
        fetch(`${t.baseUrl}/api/v1/auth/login`, json2({ username, password }));
      for (const name of ['a1', 'a2', 'a3']) assert.equal((await attempt(name, 'wrong-password')).status, 401);
      const refused = await attempt(user.username, user.password);
      assert.equal(refused.status, 429);
      const wait = Number(refused.headers.get('retry-after'));
      assert.ok(wait > 0 && wait <= 15 * 60, `Retry-After ${wait}: until the 15-minute window ends`);
      // sessions already open are not affected
      assert.equal((await fetch(`${t.baseUrl}/api/v1/auth/me`, { headers: user.headers() })).status, 200);
    });
  });
}

function json2(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

describe('login throttling rules', () => {
  it('locks an account for 1 minute at the 5th failure, doubling to at most an hour, and for good at 100', () => {
    assert.deepEqual(
      [1, 4, 5, 6, 7, 10, 11, 12, 99].map((n) => lockSeconds(n, 5)),
      [0, 0, 60, 120, 240, 1920, 3600, 3600, 3600],
    );
    assert.equal(lockSeconds(HARD_LOCK_FAILURES, 5), Number.POSITIVE_INFINITY);
  });

  it('refuses an address after its failures until its window ends, then counts afresh', () => {
    const throttle = new LoginThrottle({ maxFailures: 5, ipMaxFailures: 3, ipWindowMinutes: 15 });
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.ipBlocked('10.0.0.1', t0), 0);
      throttle.ipFailed('10.0.0.1', t0 + i * 1000);
    }
    assert.equal(throttle.ipBlocked('10.0.0.1', t0 + 3000), 15 * 60 - 3, 'the window runs from the first failure');
    assert.equal(throttle.ipBlocked('10.0.0.2', t0 + 3000), 0, 'other addresses are not affected');
    assert.equal(throttle.ipBlocked('10.0.0.1', t0 + 15 * 60_000), 0);
    throttle.ipFailed('10.0.0.1', t0 + 15 * 60_000);
    assert.equal(throttle.ipBlocked('10.0.0.1', t0 + 15 * 60_000), 0, 'a new window starts at 1');
  });

  it('throttles unknown usernames like real ones', () => {
    const throttle = new LoginThrottle();
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    for (let i = 0; i < 5; i++) assert.equal(throttle.unknownAttempt('ghost', t0), 0);
    assert.equal(throttle.unknownAttempt('ghost', t0 + 1000), 59);
    assert.equal(throttle.unknownAttempt('ghost', t0 + 61_000), 0, 'the 6th attempt after the minute');
  });
});
