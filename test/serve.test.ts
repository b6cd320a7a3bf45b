// `npm start` as a newcomer runs it: the server process starts on an empty database, loads the demo chain through
// the ordinary pipeline, answers /healthz and /readyz, and its demo files get loaded by the local worker.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

describe('shopflow serve (the npm start command)', () => {
  let dir: string;
  let child: ChildProcess;
  let baseUrl: string;
  let output = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shopflow-serve-'));
    child = spawn(process.execPath, ['bin/shopflow.js', 'serve'], {
      env: { ...process.env, SHOPFLOW_DATA_DIR: dir, SHOPFLOW_PORT: '0', SHOPFLOW_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 120_000);
      child.stdout!.on('data', (d: Buffer) => {
        output += d;
        const m = /running at (http:\/\/[^ ]+) /.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /healthz and /readyz', async () => {
    const h = await fetch(`${baseUrl}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await fetch(`${baseUrl}/readyz`);
    assert.equal(r.status, 200);
  });

  it('tells the newcomer that a demo chain was loaded, and the worker loads its sales files', async () => {
    assert.match(output, /demo chain was loaded/);
    const { openApp } = await import('../src/app.ts');
    const { loadConfig } = await import('../src/config.ts');
    const app = await openApp(loadConfig({ SHOPFLOW_DATA_DIR: dir, SHOPFLOW_LOG_LEVEL: 'silent' }), { runtime: false });
    try {
      const deadline = Date.now() + 120_000;
      let loaded = 0;
      let total = 0;
      while (Date.now() < deadline) {
        const files = await app.ctx.database.db.selectFrom('ingest_files').select('status').execute();
        total = files.length;
        loaded = files.filter((f) => f.status === 'loaded').length;
        if (total > 0 && loaded === total) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(total > 0, 'the demo put sales files in the bucket');
      assert.equal(loaded, total, 'every demo file was loaded by the background worker');
    } finally {
      await app.close();
    }
  });
});
