import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ShopflowError } from '../errors.ts';
import { LocalObjectStore } from './local.ts';
import { decodeEventKey, type ObjectInfo, type S3Event } from './object-store.ts';

const BUCKET = 'supermarket-sales-data';
const md5 = (s: string | Buffer) => `"${createHash('md5').update(s).digest('hex')}"`;

async function text(store: LocalObjectStore, key: string, versionId?: string): Promise<string> {
  const { body } = await store.get(BUCKET, key, versionId ? { versionId } : {});
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function isError(kind: ShopflowError['kind'], ...mentions: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ShopflowError, `expected a ShopflowError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention "${m}"`);
    return true;
  };
}

/** every file under dir, relative, for "nothing was left behind" checks */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

function assertStrictlyIncreasing(seqs: string[]) {
  for (const s of seqs) assert.match(s, /^[0-9a-f]{16}$/);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok((seqs[i - 1] as string) < (seqs[i] as string), `sequencer ${seqs[i]} should follow ${seqs[i - 1]}`);
    assert.ok(BigInt(`0x${seqs[i - 1]}`) < BigInt(`0x${seqs[i]}`));
  }
}

describe('LocalObjectStore', () => {
  let root: string;
  let store: LocalObjectStore;
  let n = 0;
  // each test writes under its own prefix so tests do not see each other's objects
  const prefix = () => `t${++n}/`;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'shopflow-local-store-'));
    store = new LocalObjectStore({ root });
    await store.ensureBucket(BUCKET);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('put then get and head return the bytes and S3-like metadata', async () => {
    const key = `${prefix()}a.csv`;
    const info = await store.put(BUCKET, key, 'store;date\n42;2024-05-01\n', {
      contentType: 'text/csv',
      metadata: { 'Uploaded-By': 'store-42' },
    });
    assert.equal(info.bucket, BUCKET);
    assert.equal(info.key, key);
    assert.equal(info.size, 25);
    assert.equal(info.etag, md5('store;date\n42;2024-05-01\n'));
    assert.match(info.versionId, /^[0-9a-f]{32}$/);
    assert.equal(new Date(info.lastModified).toISOString(), info.lastModified);
    assert.equal(info.contentType, 'text/csv');
    assert.deepEqual(info.metadata, { 'uploaded-by': 'store-42' });
    assert.equal(info.isLatest, true);
    assert.equal(await text(store, key), 'store;date\n42;2024-05-01\n');
    const { info: got } = await store.get(BUCKET, key);
    assert.deepEqual(got, info);
    assert.deepEqual(await store.head(BUCKET, key), info);
    assert.deepEqual(await store.head(BUCKET, key, { versionId: info.versionId }), info);
    assert.equal(await store.head(BUCKET, `${key}.missing`), undefined);
  });

  test('overwrite keeps the earlier version readable by versionId', async () => {
    const key = `${prefix()}sales.csv`;
    const v1 = await store.put(BUCKET, key, 'v1');
    const v2 = await store.put(BUCKET, key, Buffer.from('version two'));
    assert.notEqual(v1.versionId, v2.versionId);
    assert.equal(await text(store, key), 'version two');
    assert.equal(await text(store, key, v1.versionId), 'v1');
    assert.equal(await text(store, key, v2.versionId), 'version two');
    const old = await store.head(BUCKET, key, { versionId: v1.versionId });
    assert.equal(old?.isLatest, false);
    assert.equal(old?.size, 2);
    const versions = await collect(store.listVersions(BUCKET, key));
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.isLatest]),
      [
        [v2.versionId, true],
        [v1.versionId, false],
      ],
    );
  });

  test('delete adds a delete marker; the object is gone but its versions stay readable', async () => {
    const key = `${prefix()}sales.csv`;
    const v1 = await store.put(BUCKET, key, 'one');
    const v2 = await store.put(BUCKET, key, 'two');
    const { versionId: marker } = await store.delete(BUCKET, key);
    assert.equal(await store.head(BUCKET, key), undefined);
    await assert.rejects(store.get(BUCKET, key), isError('not_found', BUCKET, key));
    await assert.rejects(store.get(BUCKET, key, { versionId: marker }), isError('not_found', 'delete marker'));
    assert.equal(await store.head(BUCKET, key, { versionId: marker }), undefined);
    assert.deepEqual(await collect(store.list(BUCKET, key)), []);
    const versions = await collect(store.listVersions(BUCKET, key));
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.deleteMarker === true, v.isLatest]),
      [
        [marker, true, true],
        [v2.versionId, false, false],
        [v1.versionId, false, false],
      ],
    );
    assertStrictlyIncreasing(versions.map((v) => v.sequencer as string).reverse());
    // recovering the previous version, as an operator would after an accidental delete (check 22)
    assert.equal(await text(store, key, v2.versionId), 'two');
    assert.equal(await text(store, key, v1.versionId), 'one');
    const restored = await store.put(BUCKET, key, (await store.get(BUCKET, key, { versionId: v2.versionId })).body);
    assert.equal(await text(store, key), 'two');
    assert.equal(restored.etag, v2.etag);
  });

  test('get of a missing key, version or bucket is not_found naming what is missing', async () => {
    const key = `${prefix()}nothing here.csv`;
    await assert.rejects(store.get(BUCKET, key), isError('not_found', BUCKET, key));
    const v = await store.put(BUCKET, key, 'x');
    const otherId = `${v.versionId.slice(0, 16)}${'0'.repeat(16)}`;
    await assert.rejects(store.get(BUCKET, key, { versionId: otherId }), isError('not_found', otherId, key));
    await assert.rejects(store.get(BUCKET, key, { versionId: 'null' }), isError('not_found', key));
    await assert.rejects(store.get('no-such-bucket', key), isError('not_found', 'no-such-bucket'));
    await assert.rejects(store.put('no-such-bucket', key, 'x'), isError('not_found', 'no-such-bucket'));
  });

  test('list shows current, non-deleted objects under a prefix in S3 key order', async () => {
    const p = prefix();
    const keys = [
      `${p}b.csv`,
      `${p}a.csv`,
      `${p}sub/z.csv`,
      `${p}é.csv`,
      `${p}😀.csv`,
      `${p}\uffff.csv`,
      `${p}gone.csv`,
    ];
    for (const k of keys) await store.put(BUCKET, k, k);
    await store.put(BUCKET, `${p}a.csv`, 'newer');
    await store.delete(BUCKET, `${p}gone.csv`);
    await store.put(BUCKET, `other-${p}x.csv`, 'outside the prefix');
    const listed = await collect(store.list(BUCKET, p));
    // UTF-8 byte order: U+FFFF (EF BF BF) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16 order
    assert.deepEqual(
      listed.map((i) => i.key),
      [`${p}a.csv`, `${p}b.csv`, `${p}sub/z.csv`, `${p}é.csv`, `${p}\uffff.csv`, `${p}😀.csv`],
    );
    assert.equal(listed[0]?.size, 5);
    assert.ok(listed.every((i) => i.isLatest === true && !i.deleteMarker));
    const sub = await collect(store.list(BUCKET, `${p}sub/`));
    assert.deepEqual(
      sub.map((i) => i.key),
      [`${p}sub/z.csv`],
    );
    const all = await collect(store.listVersions(BUCKET, p));
    assert.equal(all.length, keys.length + 2);
  });

  test('ObjectCreated events carry the S3 notification JSON, key URL-encoded as AWS does', async () => {
    const key = `incoming/42/2024-05-01/café +1%.csv`;
    const events: S3Event[] = [];
    const unsubscribe = store.onObjectCreated((e) => {
      events.push(e);
    });
    try {
      const v1 = await store.put(BUCKET, key, 'a;b\n');
      const v2 = await store.put(BUCKET, key, 'a;b\n1;2\n');
      const v3 = await store.put(BUCKET, key, 'a;b\n1;2\n3;4\n');
      assert.equal(events.length, 3);
      const r = events[0]?.Records[0];
      assert.ok(r);
      assert.equal(r.eventSource, 'aws:s3');
      assert.equal(r.eventName, 'ObjectCreated:Put');
      assert.equal(r.eventTime, v1.lastModified);
      assert.equal(r.s3.bucket.name, BUCKET);
      assert.equal(r.s3.bucket.arn, `arn:aws:s3:::${BUCKET}`);
      assert.equal(r.s3.object.key, 'incoming/42/2024-05-01/caf%C3%A9+%2B1%25.csv');
      assert.equal(decodeEventKey(r.s3.object.key), key);
      assert.equal(r.s3.object.size, 4);
      assert.equal(r.s3.object.eTag, md5('a;b\n'));
      assert.equal(r.s3.object.versionId, v1.versionId);
      assert.equal(r.s3.object.sequencer, v1.sequencer);
      assert.deepEqual(
        events.map((e) => e.Records[0]?.s3.object.versionId),
        [v1.versionId, v2.versionId, v3.versionId],
      );
      assertStrictlyIncreasing(events.map((e) => e.Records[0]?.s3.object.sequencer as string));
      // the object is still in the store when the listener is called
      assert.equal((await store.head(BUCKET, key))?.versionId, v3.versionId);
    } finally {
      unsubscribe();
    }
    await store.put(BUCKET, key, 'after unsubscribe');
    assert.equal(events.length, 3);
    await store.delete(BUCKET, key);
    assert.equal(events.length, 3, 'a delete is not an ObjectCreated event');
  });

  test('a failing listener fails the put, but the object stays and other listeners still get the event', async () => {
    const key = `${prefix()}a.csv`;
    const seen: string[] = [];
    const offA = store.onObjectCreated(() => {
      throw new Error('queue is down');
    });
    const offB = store.onObjectCreated(async (e) => {
      seen.push(e.Records[0]?.s3.object.key ?? '');
    });
    try {
      await assert.rejects(store.put(BUCKET, key, 'kept'), /queue is down/);
    } finally {
      offA();
      offB();
    }
    assert.deepEqual(seen, [key]);
    assert.equal(await text(store, key), 'kept');
  });

  test('keys with spaces, +, %, unicode and long keys round-trip through storage and event encoding', async () => {
    const p = prefix();
    const keys = [
      `${p}incoming/42/2024-05-01/café +1%.csv`,
      `${p}stores/42/2024-05-01 café+1.csv`,
      `${p}a%2Fb %20 + ++.csv`,
      `${p}日本語/データ.csv`,
      `${p}emoji 😀/x.csv`,
      `${p}quote"'<>&?#=;:,!*()[]{}~.csv`,
      `${p}${'long segment é '.repeat(40)}.csv`, // beyond the hex name limit: stored under its hash
      `${p}trailing slash/`,
      `${p}double//slash`,
    ];
    const encoded = new Map<string, string>();
    const off = store.onObjectCreated((e) => {
      const o = e.Records[0]?.s3.object;
      if (o) encoded.set(o.versionId ?? '', o.key);
    });
    try {
      for (const key of keys) {
        const info = await store.put(BUCKET, key, `body of ${key}`);
        const wire = encoded.get(info.versionId);
        assert.ok(wire !== undefined);
        assert.ok(!wire.includes(' '), `an event key has no raw spaces: ${wire}`);
        assert.equal(decodeEventKey(wire), key);
        assert.equal(await text(store, decodeEventKey(wire)), `body of ${key}`);
      }
    } finally {
      off();
    }
    const listed = (await collect(store.list(BUCKET, p))).map((i) => i.key);
    assert.deepEqual([...listed].sort(), [...keys].sort());
    // a fresh instance (another process) sees the same keys
    const again = new LocalObjectStore({ root });
    assert.deepEqual((await collect(again.list(BUCKET, p))).map((i) => i.key).sort(), [...keys].sort());
  });

  test('keys that could escape the bucket directory and bad bucket names are refused', async () => {
    const bad = ['../escape.csv', 'a/../../escape.csv', 'a/..', '..', '/etc/passwd', 'a\\..\\b', 'a\u0000b', './a', ''];
    for (const key of bad) {
      await assert.rejects(store.put(BUCKET, key, 'x'), isError('invalid_input'), JSON.stringify(key));
      await assert.rejects(store.get(BUCKET, key), isError('invalid_input'), JSON.stringify(key));
      await assert.rejects(store.head(BUCKET, key), isError('invalid_input'), JSON.stringify(key));
      await assert.rejects(store.delete(BUCKET, key), isError('invalid_input'), JSON.stringify(key));
    }
    await assert.rejects(store.put(BUCKET, 'x'.repeat(1025), 'x'), isError('invalid_input'));
    await assert.rejects(store.put(BUCKET, 'lone \ud800 surrogate', 'x'), isError('invalid_input'));
    assert.ok(!existsSync(join(root, '..', 'escape.csv')));
    assert.ok(!existsSync(resolve(root, '..', '..', 'escape.csv')));
    const badBuckets = [
      'ab',
      'A-bucket',
      'has_underscore',
      '-start',
      'end-',
      'a..b',
      '192.168.1.10',
      '../up',
      'x'.repeat(64),
    ];
    for (const b of badBuckets) {
      await assert.rejects(store.ensureBucket(b), isError('invalid_input', 'bucket'), b);
      await assert.rejects(store.put(b, 'k', 'x'), isError('invalid_input', 'bucket'), b);
    }
    await store.ensureBucket('abc');
    await store.ensureBucket('my.bucket-1');
  });

  test('maxBytes refuses a larger body, leaving no object and no temp files', async () => {
    const key = `${prefix()}big.csv`;
    const tmp = join(root, '.versions', BUCKET, 'tmp');
    await assert.rejects(store.put(BUCKET, key, 'x'.repeat(11), { maxBytes: 10 }), isError('too_large', key, '10'));
    let destroyed = false;
    const stream = Readable.from(
      (function* () {
        try {
          for (let i = 0; i < 100; i++) yield Buffer.alloc(64 * 1024, 1);
        } finally {
          destroyed = true;
        }
      })(),
    );
    await assert.rejects(store.put(BUCKET, key, stream, { maxBytes: 1_000_000 }), isError('too_large', key));
    assert.ok(destroyed, 'the source stream is not read to its end');
    assert.equal(await store.head(BUCKET, key), undefined);
    assert.deepEqual(await collect(store.listVersions(BUCKET, key)), []);
    assert.deepEqual(files(tmp), []);
    assert.ok(!existsSync(join(root, BUCKET, key)));
    const exact = await store.put(BUCKET, key, Readable.from([Buffer.alloc(6), Buffer.alloc(4)]), { maxBytes: 10 });
    assert.equal(exact.size, 10);
    assert.deepEqual(files(tmp), []);
  });

  test('a body stream that fails midway fails the put with its own error and stores nothing', async () => {
    const key = `${prefix()}aborted.csv`;
    const body = Readable.from(
      (function* () {
        yield Buffer.alloc(1000);
        throw new Error('client went away');
      })(),
    );
    await assert.rejects(store.put(BUCKET, key, body), /client went away/);
    assert.equal(await store.head(BUCKET, key), undefined);
    assert.deepEqual(files(join(root, '.versions', BUCKET, 'tmp')), []);
  });

  test('50 concurrent puts to one key are 50 distinct versions with strictly increasing sequencers', async () => {
    const key = `${prefix()}hot.csv`;
    const infos = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.put(BUCKET, key, Readable.from([`body ${i}`]))),
    );
    assert.equal(new Set(infos.map((i) => i.versionId)).size, 50);
    assert.equal(new Set(infos.map((i) => i.sequencer)).size, 50);
    const versions = await collect(store.listVersions(BUCKET, key));
    assert.equal(versions.length, 50);
    assert.deepEqual(new Set(versions.map((v) => v.versionId)), new Set(infos.map((i) => i.versionId)));
    const oldestFirst = [...versions].reverse();
    assertStrictlyIncreasing(oldestFirst.map((v) => v.sequencer as string));
    for (let i = 1; i < oldestFirst.length; i++) {
      assert.ok((oldestFirst[i - 1]?.lastModified as string) <= (oldestFirst[i]?.lastModified as string));
    }
    for (const [i, info] of infos.entries()) assert.equal(await text(store, key, info.versionId), `body ${i}`);
    assert.equal((await store.head(BUCKET, key))?.versionId, versions[0]?.versionId);
    assert.equal(readFileSync(join(root, BUCKET, key), 'utf8'), await text(store, key), 'the view shows the latest');
  });

  test('two processes putting the same key at once lose nothing and keep sequencers increasing', async () => {
    const key = `${prefix()}shared key +%é.csv`;
    const script = resolve(import.meta.dirname, '../../test/support/put-many.ts');
    const child = (tag: string) => {
      const p = spawn(process.execPath, ['--import', 'tsx', script, root, BUCKET, key, '40', tag], {
        cwd: resolve(import.meta.dirname, '../..'),
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let stdout = '';
      const ready = new Promise<void>((ok) => {
        p.stdout.on('data', (d: Buffer) => {
          stdout += d.toString('utf8');
          if (stdout.startsWith('ready\n')) ok();
        });
      });
      const done = new Promise<string>((ok, fail) => {
        p.on('error', fail);
        p.on('exit', (code) =>
          code === 0 ? ok(stdout.slice('ready\n'.length)) : fail(new Error(`${tag} exited ${code}`)),
        );
      });
      return { p, ready, done };
    };
    const children = [child('A'), child('B')];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.p.stdin.end('go\n');
    const [a, b] = await Promise.all(children.map((c) => c.done));
    const parse = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { versionId: string; sequencer: string; body: string });
    const fromA = parse(a as string);
    const fromB = parse(b as string);
    assert.equal(fromA.length, 40);
    assert.equal(fromB.length, 40);
    // within one process, each put comes after the previous one, so its sequencer must be larger
    assertStrictlyIncreasing(fromA.map((x) => x.sequencer));
    assertStrictlyIncreasing(fromB.map((x) => x.sequencer));
    const versions = await collect(store.listVersions(BUCKET, key));
    assert.equal(versions.length, 80);
    assertStrictlyIncreasing(versions.map((v) => v.sequencer as string).reverse());
    const all = [...fromA, ...fromB];
    assert.deepEqual(new Set(versions.map((v) => v.versionId)), new Set(all.map((x) => x.versionId)));
    for (const x of all) assert.equal(await text(store, key, x.versionId), x.body);
    const latest = all.find((x) => x.versionId === versions[0]?.versionId);
    assert.equal(await text(store, key), latest?.body);
    assert.equal(readFileSync(join(root, BUCKET, key), 'utf8'), latest?.body, 'the view shows the latest');
    // the runs overlapped: their sequencers interleave rather than forming two blocks
    const owners = versions.map((v) => (fromA.some((x) => x.versionId === v.versionId) ? 'A' : 'B')).join('');
    assert.ok(/AB|BA/.test(owners.replace(/(.)\1+/g, '$1')), owners);
  });

  test('a 200 MB stream is written without holding it in memory', async () => {
    const key = `${prefix()}large.bin`;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const expected = createHash('md5');
    for (let i = 0; i < 200; i++) expected.update(chunk);
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < 200; i++) yield chunk;
        })(),
      );
      const info = await store.put(BUCKET, key, body, { maxBytes: 300 * 1024 * 1024 });
      peak = Math.max(peak, process.memoryUsage().rss);
      assert.equal(info.size, 200 * 1024 * 1024);
      assert.equal(info.etag, `"${expected.digest('hex')}"`);
    } finally {
      clearInterval(timer);
    }
    const growthMb = (peak - baseline) / 1024 / 1024;
    assert.ok(growthMb < 64, `RSS grew by ${growthMb.toFixed(1)} MB while storing 200 MB`);
    const { body, info } = await store.get(BUCKET, key);
    let read = 0;
    for await (const c of body) read += (c as Buffer).length;
    assert.equal(read, info.size);
  });

  test('the current version of each object is browsable at <root>/<bucket>/<key>', async () => {
    const key = `${prefix()}incoming/42/2024-05-01/café +1%.csv`;
    const view = join(root, BUCKET, key);
    await store.put(BUCKET, key, 'first');
    assert.equal(readFileSync(view, 'utf8'), 'first');
    const v2 = await store.put(BUCKET, key, 'second');
    assert.equal(readFileSync(view, 'utf8'), 'second');
    assert.equal(statSync(view).mode & 0o222, 0, 'the view is read-only');
    await store.delete(BUCKET, key);
    assert.ok(!existsSync(view));
    assert.equal(await text(store, key, v2.versionId), 'second');
    // "a" and "a/b" can both be S3 objects; the view shows the first, the store keeps both
    const p = prefix();
    await store.put(BUCKET, `${p}a`, 'file');
    await store.put(BUCKET, `${p}a/b`, 'nested');
    assert.equal(await text(store, `${p}a`), 'file');
    assert.equal(await text(store, `${p}a/b`), 'nested');
    assert.equal(readFileSync(join(root, BUCKET, p, 'a'), 'utf8'), 'file');
    // no temp link is left behind in the view, even when re-publishing the same version
    assert.deepEqual(
      files(join(root, BUCKET)).filter((f) => f.includes('.shopflow-tmp-')),
      [],
    );
  });

  test('sequencers keep increasing across store instances, and ensureBucket sweeps stale temp files', async () => {
    const key = `${prefix()}k.csv`;
    const first = await store.put(BUCKET, key, '1');
    const other = new LocalObjectStore({ root });
    const second = await other.put(BUCKET, key, '2');
    assert.ok((first.sequencer as string) < (second.sequencer as string));
    // the first version of a key starts from the clock, so a recreated bucket does not reuse old sequencers
    const micros = BigInt(Date.now()) * 1000n;
    const seq = BigInt(`0x${first.sequencer}`);
    assert.ok(seq <= micros && seq > micros - 60_000_000n, 'first sequencer is close to now in microseconds');

    const tmp = join(root, '.versions', BUCKET, 'tmp');
    const stale = join(tmp, 'crashed.data');
    const fresh = join(tmp, 'in-progress.data');
    writeFileSync(stale, 'x');
    writeFileSync(fresh, 'x');
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(stale, old, old);
    await store.ensureBucket(BUCKET);
    assert.ok(!existsSync(stale));
    assert.ok(existsSync(fresh), 'a temp file another process may be writing is left alone');
    rmSync(fresh);
  });

  test('check verifies the root is writable and the buckets exist', async () => {
    await store.check([BUCKET]);
    await assert.rejects(store.check([BUCKET, 'never-created']), isError('unavailable', 'never-created'));
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'x');
    const broken = new LocalObjectStore({ root: file });
    await assert.rejects(broken.check([]), isError('unavailable', file));
    await assert.rejects(broken.ensureBucket(BUCKET), isError('unavailable'));
  });
});
