// `shopflow users …` and `shopflow tokens …` on SQLite and MariaDB, run in-process through the CLI's own `main`
// (the same parsing, output and exit codes as the command; a child process per call would cost seconds each).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { readPasswordFromStdin } from '../src/cli/users.ts';
import { connect, type Database } from '../src/db/connect.ts';
import { LoginThrottle, login } from '../src/users/login.ts';
import { findToken } from '../src/users/tokens.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

// The CLI writes strings; the test runner's own channel on the same stdout carries Buffers, which pass through.
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const restore: Array<() => void> = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string') {
        captured[name] += chunk;
        return true;
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  try {
    process.exitCode = undefined;
    const code = await main(argv);
    return { code, ...captured };
  } finally {
    for (const r of restore) r();
    process.exitCode = undefined;
  }
}

for (const dialect of backends()) {
  describe(`users and tokens CLI on ${dialect}`, () => {
    let db: TestDatabase;
    let dir: string;
    let database: Database;
    const saved = { ...process.env };

    before(async () => {
      db = await createTestDatabase(dialect);
      await db.database.close();
      dir = mkdtempSync(join(tmpdir(), 'shopflow-cli-users-'));
      Object.assign(process.env, {
        SHOPFLOW_DATABASE_URL: db.url,
        SHOPFLOW_DATA_DIR: dir,
        SHOPFLOW_STORAGE: `local:${join(dir, 'buckets')}`,
        SHOPFLOW_DEMO: 'false',
        SHOPFLOW_LOG_LEVEL: 'warn',
      });
      database = await connect(db.url);
      const now = new Date().toISOString();
      for (const code of ['S01', 'S02']) {
        await database.db
          .insertInto('stores')
          .values({
            code,
            name: code,
            kind: 'file',
            city: null,
            timezone: 'America/Sao_Paulo',
            scale_profile: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
    });
    after(async () => {
      await database?.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('adds a user with a generated password that logs in, lists and disables them', async () => {
      const added = await run('users', 'add', 'Joana', '--role', 'manager', '--stores', 'S01,S02', '--json');
      assert.equal(added.code, 0, added.stderr);
      const body = JSON.parse(added.stdout) as { user: { username: string; stores: string[] }; password: string };
      assert.equal(body.user.username, 'joana');
      assert.deepEqual(body.user.stores, ['S01', 'S02']);
      assert.match(body.password, /^[A-Za-z0-9]{20}$/);

      const outcome = await login(
        database,
        { username: 'joana', password: body.password, ip: '127.0.0.1' },
        new LoginThrottle(),
        { idleMinutes: 30, maxHours: 12 },
      );
      assert.equal(outcome.ok, true);

      const human = await run('users', 'add', 'caixa1', '--role', 'clerk', '--stores', 'S01');
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /user caixa1 created: clerk, stores S01\npassword: [A-Za-z0-9]{20}\n/);

      const list = await run('users', 'list', '--json');
      const users = JSON.parse(list.stdout) as Array<{ username: string; disabled: boolean }>;
      assert.deepEqual(
        users.map((u) => u.username),
        ['caixa1', 'joana'],
      );
      assert.doesNotMatch(list.stdout, /argon2/);

      const disabled = await run('users', 'disable', 'joana');
      assert.equal(disabled.code, 0);
      assert.match(disabled.stdout, /user joana disabled/);
      const table = await run('users', 'list');
      assert.match(table.stdout, /joana\s+manager\s+S01,S02\s+disabled/);

      const audit = await database.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
      assert.deepEqual(
        audit.filter((r) => r.target === 'user:joana').map((r) => r.action),
        ['user.create', 'auth.login', 'user.disable'],
      );
      assert.match(audit[0]!.actor, /^cli/);
    });

    it('refuses bad input with an exit code and a message', async () => {
      const noStore = await run('users', 'add', 'pedro', '--role', 'clerk');
      assert.equal(noStore.code, 2);
      assert.match(noStore.stderr, /a clerk needs at least one store/);
      const badRole = await run('users', 'add', 'pedro', '--role', 'boss', '--stores', 'S01');
      assert.equal(badRole.code, 2);
      const unknown = await run('users', 'disable', 'nobody');
      assert.equal(unknown.code, 4);
      const dup = await run('users', 'add', 'caixa1', '--role', 'clerk', '--stores', 'S01');
      assert.equal(dup.code, 5);
      assert.match(dup.stderr, /already exists/);
    });

    it('creates a token shown once, lists it without its secret, and revokes it', async () => {
      const created = await run(
        'tokens',
        'create',
        '--store',
        'S02',
        '--purpose',
        'kiosk',
        '--label',
        'kiosk 1',
        '--json',
      );
      assert.equal(created.code, 0, created.stderr);
      const token = JSON.parse(created.stdout) as { id: number; token: string; store: string; purpose: string };
      assert.equal(token.store, 'S02');
      assert.equal(token.purpose, 'kiosk');
      assert.deepEqual(await findToken(database, token.token), { tokenId: token.id, storeId: 2, purpose: 'kiosk' });

      const human = await run('tokens', 'create', '--store', 'S01', '--purpose', 'upload');
      assert.match(human.stdout, /^token \d+ for store S01 \(upload\):\nsft_[A-Za-z0-9_-]{43}\n/);
      assert.equal((await run('tokens', 'create', '--store', 'S01', '--purpose', 'admin')).code, 2);
      assert.equal((await run('tokens', 'create', '--store', 'NOPE', '--purpose', 'upload')).code, 2);

      const list = await run('tokens', 'list', '--store', 'S02', '--json');
      const rows = JSON.parse(list.stdout) as Array<{ id: number; label: string }>;
      assert.deepEqual(
        rows.map((r) => [r.id, r.label]),
        [[token.id, 'kiosk 1']],
      );
      assert.doesNotMatch((await run('tokens', 'list')).stdout, /sft_/);

      const revoked = await run('tokens', 'revoke', String(token.id));
      assert.equal(revoked.code, 0);
      assert.match(revoked.stdout, new RegExp(`token ${token.id} \\(S02, kiosk\\) revoked`));
      assert.equal(await findToken(database, token.token), undefined);
      assert.deepEqual(JSON.parse((await run('tokens', 'list', '--store', 'S02', '--json')).stdout), []);
      assert.equal((await run('tokens', 'revoke', '999')).code, 4);
    });

    it('sets a new password that ends the login lock', async () => {
      await database.db.updateTable('users').set({ failed_logins: 100 }).where('username', '=', 'caixa1').execute();
      const res = await run('users', 'passwd', 'caixa1');
      assert.equal(res.code, 0);
      const password = /password: ([A-Za-z0-9]{20})/.exec(res.stdout)?.[1];
      assert.ok(password);
      const row = await database.db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', 'caixa1')
        .executeTakeFirstOrThrow();
      assert.equal(row.failed_logins, 0);
    });
  });
}

describe('reading a password from standard input', () => {
  it('takes the first line, without its line break', async () => {
    assert.equal(
      await readPasswordFromStdin(Readable.from(['s3cret pass phrase\r\n', 'ignored\n'])),
      's3cret pass phrase',
    );
    await assert.rejects(readPasswordFromStdin(Readable.from(['\n'])), /no password/);
  });
});
