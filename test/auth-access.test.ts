// Authorization with real data in two stores, on SQLite and MariaDB: API tokens bound to one store and one purpose,
// revocation, who may manage users and tokens, and chain-wide lists filtered to the caller's stores.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createTokenHeaders,
  createUserAndLogin,
  type LoggedInUser,
  type ScopedFixtures,
  seedTwoStores,
} from './support/auth.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

for (const dialect of backends()) {
  describe(`authorization across stores on ${dialect}`, () => {
    let t: TestServer;
    let f: ScopedFixtures;
    let admin: LoggedInUser;
    let managerA: LoggedInUser;
    let clerkA: LoggedInUser;
    let managerB: LoggedInUser;

    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${t.baseUrl}/api/v1${path}`, { headers });
    const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${t.baseUrl}/api/v1${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const auditRows = (action: string) =>
      t.app.ctx.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

    before(async () => {
      t = await startTestServer(dialect);
      f = await seedTwoStores(t);
      admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      managerA = await createUserAndLogin(t, { role: 'manager', stores: [f.stores.A] });
      clerkA = await createUserAndLogin(t, { role: 'clerk', stores: [f.stores.A] });
      managerB = await createUserAndLogin(t, { role: 'manager', stores: [f.stores.B] });
    });
    after(async () => t?.close());

    it('binds a kiosk token to its store and purpose', async () => {
      const kiosk = await createTokenHeaders(t, { store: f.stores.A, purpose: 'kiosk' });
      const own = await get(`/stock?store=${f.stores.A}`, kiosk);
      assert.equal(own.status, 200);
      assert.equal(((await own.json()) as unknown[]).length, 1);
      assert.equal((await get(`/stock?store=${f.stores.B}`, kiosk)).status, 403);
      const all = await get('/stock', kiosk);
      assert.equal(all.status, 200);
      const text = await all.text();
      assert.match(text, new RegExp(f.stores.A));
      assert.doesNotMatch(text, new RegExp(f.stores.B), 'a chain-wide list shows only the token store');
      // not its purpose: files are for upload tokens, sales and users for people
      for (const path of [
        '/files',
        `/files/${f.files.A}`,
        '/sales?from=2026-01-01&to=2026-01-31',
        '/users',
        '/tokens',
      ]) {
        assert.equal((await get(path, kiosk)).status, 403, path);
      }
      const me = await get('/auth/me', kiosk);
      assert.deepEqual(await me.json(), {
        kind: 'token',
        tokenId: (
          await t.app.ctx.database.db
            .selectFrom('api_tokens')
            .select('id')
            .orderBy('id', 'desc')
            .executeTakeFirstOrThrow()
        ).id,
        purpose: 'kiosk',
        stores: [f.stores.A],
        allStores: false,
      });
      const denied = await auditRows('auth.denied');
      assert.ok(denied.some((r) => r.actor.startsWith('token:') && /token_purpose/.test(r.details ?? '')));
      assert.ok(denied.some((r) => r.actor.startsWith('token:') && /"reason":"store"/.test(r.details ?? '')));
    });

    it('binds an upload token to its store: its own files only, another store’s file is not found', async () => {
      const upload = await createTokenHeaders(t, { store: f.stores.A, purpose: 'upload' });
      const list = await get('/files', upload);
      assert.equal(list.status, 200);
      const files = (await list.json()) as Array<{ id: number; store: string }>;
      assert.deepEqual(
        files.map((x) => x.store),
        [f.stores.A],
      );
      assert.equal((await get(`/files/${f.files.A}`, upload)).status, 200);
      assert.equal((await get(`/files/${f.files.B}`, upload)).status, 404);
      assert.equal((await get(`/files?store=${f.stores.B}`, upload)).status, 403);
      assert.equal((await get('/stock', upload)).status, 403);
    });

    it('stops a revoked token at its next request and audits the revocation', async () => {
      const created = await send('POST', '/tokens', managerA.headers(), {
        store: f.stores.A,
        purpose: 'kiosk',
        label: 'kiosk 1',
      });
      assert.equal(created.status, 201);
      const token = (await created.json()) as { id: number; token: string; store: string; createdBy: string };
      assert.match(token.token, /^sft_[A-Za-z0-9_-]{43}$/);
      assert.equal(token.createdBy, `user:${managerA.username}`);
      const row = await t.app.ctx.database.db
        .selectFrom('api_tokens')
        .selectAll()
        .where('id', '=', token.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.token_hash, createHash('sha256').update(token.token).digest('hex'));
      assert.ok(!JSON.stringify(row).includes(token.token.slice(4)), 'the secret is not stored');

      const bearer = { authorization: `Bearer ${token.token}` };
      assert.equal((await get('/stock', bearer)).status, 200);
      // another store's manager cannot see it, so cannot revoke it
      assert.equal((await send('DELETE', `/tokens/${token.id}`, managerB.headers())).status, 404);
      assert.equal((await send('DELETE', `/tokens/${token.id}`, clerkA.headers())).status, 403);
      const revoked = await send('DELETE', `/tokens/${token.id}`, managerA.headers());
      assert.equal(revoked.status, 200);
      assert.ok(((await revoked.json()) as { revokedAt: string | null }).revokedAt);
      assert.equal((await get('/stock', bearer)).status, 401);
      const rows = await auditRows('token.revoke');
      assert.ok(rows.some((r) => r.target === `token:${token.id}` && r.actor === `user:${managerA.username}`));
      assert.ok((await auditRows('token.create')).some((r) => r.target === `token:${token.id}`));
    });

    it('lets managers manage tokens of their own stores only, and never clerks', async () => {
      assert.equal(
        (await send('POST', '/tokens', managerA.headers(), { store: f.stores.B, purpose: 'upload' })).status,
        403,
      );
      assert.equal(
        (await send('POST', '/tokens', clerkA.headers(), { store: f.stores.A, purpose: 'upload' })).status,
        403,
      );
      assert.equal(
        (await send('POST', '/tokens', admin.headers(), { store: f.stores.B, purpose: 'upload' })).status,
        201,
      );
      const listA = (await (await get('/tokens', managerA.headers())).json()) as Array<{ store: string }>;
      assert.ok(listA.length > 0 && listA.every((x) => x.store === f.stores.A));
      const listAll = (await (await get('/tokens', admin.headers())).json()) as Array<{ store: string }>;
      assert.ok(listAll.some((x) => x.store === f.stores.B));
      assert.equal((await get(`/tokens?store=${f.stores.B}`, managerA.headers())).status, 403);
      assert.ok(!JSON.stringify(listAll).includes('sft_'), 'lists never carry secrets');
    });

    it('lets only admins manage users, audits changes, and keeps the last admin', async () => {
      for (const who of [managerA, clerkA]) {
        assert.equal((await get('/users', who.headers())).status, 403);
        assert.equal(
          (
            await send('POST', '/users', who.headers(), {
              username: 'mallory',
              role: 'admin',
              password: 'x'.repeat(16),
            })
          ).status,
          403,
        );
      }
      const created = await send('POST', '/users', admin.headers(), {
        username: 'Carla.Souza',
        role: 'clerk',
        stores: [f.stores.A],
        displayName: 'Carla Souza',
        email: 'carla@example.com',
      });
      assert.equal(created.status, 201);
      const body = (await created.json()) as { user: { username: string }; password: string };
      assert.equal(body.user.username, 'carla.souza');
      assert.match(body.password, /^[A-Za-z0-9]{20}$/);
      assert.equal(
        (
          await send('POST', '/users', admin.headers(), {
            username: 'carla.souza',
            role: 'clerk',
            stores: [f.stores.A],
          })
        ).status,
        409,
      );
      assert.equal(
        (await send('POST', '/users', admin.headers(), { username: 'nostore', role: 'clerk', stores: [] })).status,
        400,
      );
      assert.equal(
        (await send('POST', '/users', admin.headers(), { username: 'badstore', role: 'clerk', stores: ['NOPE9'] }))
          .status,
        400,
      );
      // the same refusals to an admin whose page speaks Portuguese, and in English to one whose page does not
      const problem = async (res: Response) =>
        [res.status, res.headers.get('content-language'), await res.json()] as [
          number,
          string | null,
          { detail: string; errors: Array<{ where: string; problem: string }> },
        ];
      const pt = { ...admin.headers(), 'accept-language': 'pt-BR,pt;q=0.9' };
      const [dupStatus, dupLang, dup] = await problem(
        await send('POST', '/users', pt, { username: 'carla.souza', role: 'clerk', stores: [f.stores.A] }),
      );
      assert.deepEqual([dupStatus, dupLang], [409, 'pt-BR']);
      assert.equal(dup.detail, 'o usuário carla.souza já existe');
      assert.deepEqual(dup.errors, [{ where: 'username', problem: 'já em uso' }]);
      const [, , noStore] = await problem(
        await send('POST', '/users', pt, { username: 'nostore', role: 'manager', stores: [] }),
      );
      assert.equal(noStore.detail, 'um gerente precisa de ao menos uma loja');
      const [, , unknown] = await problem(
        await send('POST', '/users', pt, { username: 'badstore', role: 'clerk', stores: ['NOPE9', 'NOPE8'] }),
      );
      assert.equal(unknown.detail, 'lojas desconhecidas: NOPE9, NOPE8');
      assert.deepEqual(unknown.errors, [{ where: 'stores', problem: 'não há loja NOPE9, NOPE8' }]);
      const [, enLang, unknownEn] = await problem(
        await send('POST', '/users', admin.headers(), { username: 'badstore', role: 'clerk', stores: ['NOPE9'] }),
      );
      assert.equal(enLang, null);
      assert.equal(unknownEn.detail, 'unknown store: NOPE9');
      const [tokenStatus, , token] = await problem(
        await send('POST', '/tokens', pt, { store: 'NOPE9', purpose: 'kiosk', label: 'k' }),
      );
      assert.deepEqual([tokenStatus, token.detail], [404, 'a loja NOPE9 não existe']);
      const [goneStatus, , gone] = await problem(await send('DELETE', '/tokens/999999', pt));
      assert.deepEqual([goneStatus, gone.detail], [404, 'o token 999999 não existe']);

      const moved = await send('PATCH', '/users/carla.souza', admin.headers(), {
        role: 'manager',
        stores: [f.stores.B],
      });
      assert.equal(moved.status, 200);
      assert.deepEqual(((await moved.json()) as { stores: string[] }).stores, [f.stores.B]);
      const update = (await auditRows('user.update')).find((r) => r.target === 'user:carla.souza');
      assert.deepEqual(JSON.parse(update?.details ?? '{}').stores, { from: [f.stores.A], to: [f.stores.B] });

      const list = (await (await get('/users', admin.headers())).json()) as Array<{ username: string }>;
      assert.ok(list.some((u) => u.username === 'carla.souza'));
      assert.ok(!JSON.stringify(list).includes('argon2'), 'no hashes in the API');

      // every admin but one disabled: the last cannot be disabled or demoted
      const admins = (
        await t.app.ctx.database.db.selectFrom('users').select('username').where('role', '=', 'admin').execute()
      ).map((r) => r.username);
      assert.deepEqual(admins, [admin.username]);
      assert.equal((await send('PATCH', `/users/${admin.username}`, admin.headers(), { disabled: true })).status, 409);
      assert.equal(
        (await send('PATCH', `/users/${admin.username}`, admin.headers(), { role: 'clerk', stores: [f.stores.A] }))
          .status,
        409,
      );
    });

    it('takes a change of stores into account at the next request of an open session', async () => {
      const user = await createUserAndLogin(t, { role: 'clerk', stores: [f.stores.A] });
      assert.equal((await get(`/stock?store=${f.stores.B}`, user.headers())).status, 403);
      assert.equal(
        (await send('PATCH', `/users/${user.username}`, admin.headers(), { stores: [f.stores.B] })).status,
        200,
      );
      assert.equal((await get(`/stock?store=${f.stores.B}`, user.headers())).status, 200);
      assert.equal((await get(`/stock?store=${f.stores.A}`, user.headers())).status, 403);
    });

    it('filters chain-wide lists to the stores a user may see', async () => {
      const sales = async (who: LoggedInUser) =>
        (await (await get('/sales?from=2026-01-01&to=2026-01-31&by=store', who.headers())).json()) as Array<{
          key: string;
        }>;
      assert.deepEqual(
        (await sales(clerkA)).map((r) => r.key),
        [f.stores.A],
      );
      assert.deepEqual(
        (await sales(managerB)).map((r) => r.key),
        [f.stores.B],
      );
      assert.deepEqual(
        (await sales(admin)).map((r) => r.key),
        [f.stores.A, f.stores.B],
      );
      const stock = (await (await get('/stock', managerB.headers())).json()) as Array<{ store: string }>;
      assert.deepEqual(
        stock.map((r) => r.store),
        [f.stores.B],
      );
      assert.equal((await get(`/files/${f.files.A}`, managerB.headers())).status, 404);
      assert.equal((await get(`/files/${f.files.B}`, managerB.headers())).status, 200);
      assert.equal((await get('/files/999999', admin.headers())).status, 404);
    });
  });
}
