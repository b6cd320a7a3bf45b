// SQLite checkpoints helped along by a worker thread (src/db/checkpointer.ts): commits too small for the writer's
// own checkpoint still reach the database file, the log is started again rather than growing with every commit,
// and closing loses nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../src/db/connect.ts';

describe('SQLite checkpoints from a worker thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-ckpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const size = (f: string) => statSync(f, { throwIfNoEntry: false })?.size ?? 0;

  it('copies commits into the database file, keeps the log bounded, and loses nothing on close', async () => {
    const file = join(dir, 'a.db');
    const database = await connect(`sqlite:${file}`, { backgroundCheckpoint: true });
    const raw = database.sqlite!;
    raw.exec('create table t (id integer primary key, pad text not null)');
    const insert = raw.prepare('insert into t (pad) values (?)');
    const pad = 'x'.repeat(1000);
    const write = (rows: number) =>
      raw.transaction(() => {
        for (let i = 0; i < rows; i++) insert.run(pad);
      })();
    // ~300 pages: below the 1,000 at which the writer checkpoints by itself, so only the worker copies them
    write(1200);
    const startSize = size(file);
    for (const giveUp = Date.now() + 20_000; size(file) < startSize + 1_000_000; ) {
      assert.ok(Date.now() < giveUp, 'the commit never reached the database file');
      await new Promise((r) => setTimeout(r, 20));
    }
    // ~60 MB in 200 commits: the log is started again as it goes instead of holding all of it
    for (let i = 0; i < 200; i++) write(300);
    assert.ok(size(`${file}-wal`) < 30_000_000, `the log stayed bounded (${size(`${file}-wal`)} bytes)`);
    await database.close();
    const again = await connect(`sqlite:${file}`);
    assert.equal((again.sqlite!.prepare('select count(*) as n from t').get() as { n: number }).n, 1200 + 200 * 300);
    await again.close();
  });
});
