// The first start of `shopflow serve` on an empty database, on SQLite and MariaDB: it creates `admin` with a random
// password, prints how to log in exactly once, and that password works; a second start prints nothing of the kind.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

interface Started {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
}

function start(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, ['bin/shopflow.js', 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => {
    output += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d;
      const m = /running at (http:\/\/[^ ]+) /.exec(output);
      // serve writes the address and the first-start lines in one write
      if (m && output.endsWith('\n')) {
        clearTimeout(timer);
        resolve({ child, baseUrl: m[1]!, output: () => output });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

for (const dialect of backends()) {
  describe(`first start of shopflow serve on ${dialect}`, () => {
    let db: TestDatabase;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let first: Started | undefined;
    let second: Started | undefined;

    before(async () => {
      db = await createTestDatabase(dialect, { migrated: false });
      await db.database.close();
      dir = mkdtempSync(join(tmpdir(), 'shopflow-first-start-'));
      env = {
        ...process.env,
        SHOPFLOW_DATABASE_URL: db.url,
        SHOPFLOW_DATA_DIR: dir,
        SHOPFLOW_PORT: '0',
        SHOPFLOW_DEMO: 'false',
        SHOPFLOW_LOG_LEVEL: 'warn',
      };
    });
    after(async () => {
      await stop(first);
      await stop(second);
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints the first admin password once, and it logs in', async () => {
      first = await start(env);
      const m = /First start: log in at \S+ as "admin" with password ([A-Za-z0-9]{20}) /.exec(first.output());
      assert.ok(m, first.output());
      const res = await fetch(`${first.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: m[1] }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { user: { role: string } }).user.role, 'admin');
      await stop(first);

      second = await start(env);
      assert.doesNotMatch(second.output(), /First start/);
    });
  });
}
