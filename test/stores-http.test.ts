// GET /api/v1/stores on SQLite and MariaDB: each caller gets the stores it may see, each with its time zone and the
// business day it is there now (a store at UTC+14 is often a day ahead of São Paulo).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStores, createTokenHeaders, createUserAndLogin } from './support/auth.ts';
import { dayIn } from './support/dates.ts';
import { backends } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

for (const dialect of backends()) {
  describe(`the stores a caller sees, on ${dialect}`, () => {
    let t: TestServer;
    const stores = async (headers: Record<string, string>) => {
      const r = await fetch(`${t.baseUrl}/api/v1/stores`, { headers });
      return { status: r.status, body: (await r.json()) as Array<Record<string, unknown>> };
    };

    before(async () => {
      t = await startTestServer(dialect);
      await createStores(t, ['LJ01']);
      await createStores(t, ['KI02'], 'selfservice');
      await t.app.ctx.database.db
        .updateTable('stores')
        .set({ timezone: 'Pacific/Kiritimati', city: 'Kiritimati' })
        .where('code', '=', 'KI02')
        .execute();
    });
    after(async () => t?.close());

    it("lists every store for an admin, each with its zone and today's day there", async () => {
      const admin = await createUserAndLogin(t, { role: 'admin', stores: [] });
      const before = new Date();
      const r = await stores(admin.headers());
      const after = new Date();
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.body.map((s) => [s.code, s.kind, s.timezone, s.city]),
        [
          ['KI02', 'selfservice', 'Pacific/Kiritimati', 'Kiritimati'],
          ['LJ01', 'file', 'America/Sao_Paulo', null],
        ],
      );
      for (const s of r.body) {
        const zone = String(s.timezone);
        assert.ok([dayIn(zone, before), dayIn(zone, after)].includes(String(s.today)), `${s.code} ${s.today}`);
      }
    });

    it('lists only their own store to a manager and to a kiosk token, and none without credentials', async () => {
      const manager = await createUserAndLogin(t, { role: 'manager', stores: ['LJ01'] });
      assert.deepEqual(
        (await stores(manager.headers())).body.map((s) => s.code),
        ['LJ01'],
      );
      const kiosk = await createTokenHeaders(t, { store: 'KI02', purpose: 'kiosk' });
      assert.deepEqual(
        (await stores(kiosk)).body.map((s) => s.code),
        ['KI02'],
      );
      assert.equal((await fetch(`${t.baseUrl}/api/v1/stores`)).status, 401);
    });
  });
}
