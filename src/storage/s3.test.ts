// The S3 adapter over the wire, against two real S3-compatible servers: s3rver (npm; no versioning) and moto
// (Python's moto_server; keeps versions). SHOPFLOW_TEST_SKIP_MOTO=1 skips the moto half, except under CI=true.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  S3_TEST_CREDENTIALS,
  type S3TestServer,
  startS3Server,
  startVersionedS3Server,
} from '../../test/support/s3-server.ts';
import { ShopflowError } from '../errors.ts';
import { decodeEventKey, type ObjectInfo, type S3Event } from './object-store.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3.ts';

const md5 = (s: string | Buffer) => `"${createHash('md5').update(s).digest('hex')}"`;
const MiB = 1024 * 1024;

async function bytes(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
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

/** 1 MiB chunks, made lazily, each filled with its index */
function mebibytes(count: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield Buffer.alloc(MiB, i);
    })(),
  );
}

const skipMoto = process.env.SHOPFLOW_TEST_SKIP_MOTO === '1';
if (skipMoto && process.env.CI === 'true') throw new Error('SHOPFLOW_TEST_SKIP_MOTO is not allowed under CI=true');

const servers = [
  { name: 's3rver, without versioning', start: startS3Server, versioned: false, skip: false },
  { name: 'moto, with versioning', start: startVersionedS3Server, versioned: true, skip: skipMoto },
];

for (const server of servers) {
  describe(`S3ObjectStore against ${server.name}`, { skip: server.skip }, () => {
    let srv: S3TestServer;
    const stores: S3ObjectStore[] = [];
    const BUCKET = 'supermarket-sales-data';
    let n = 0;
    const prefix = () => `t${++n}/`;

    const open = (extra: Partial<S3ObjectStoreOptions> = {}) => {
      const s = new S3ObjectStore({
        region: 'us-east-1',
        endpoint: srv.endpoint,
        forcePathStyle: true,
        credentials: S3_TEST_CREDENTIALS,
        allowUnversioned: !server.versioned,
        partSize: 5 * MiB,
        ...extra,
      });
      stores.push(s);
      return s;
    };
    let store: S3ObjectStore;

    before(async () => {
      srv = await server.start();
      store = open();
      await store.ensureBucket(BUCKET);
    });
    after(async () => {
      for (const s of stores) s.destroy();
      await srv?.stop();
    });

    test('ensureBucket is idempotent and reports what the server does about versioning', async () => {
      await store.ensureBucket(BUCKET);
      await store.ensureBucket('second-bucket');
      await store.check([BUCKET, 'second-bucket']);
      if (server.versioned) {
        const { GetBucketVersioningCommand } = await import('@aws-sdk/client-s3');
        const res = await store.client.send(new GetBucketVersioningCommand({ Bucket: 'second-bucket' }));
        assert.equal(res.Status, 'Enabled');
      } else {
        const strict = open({ allowUnversioned: false });
        await assert.rejects(strict.ensureBucket('third-bucket'), isError('config', 'versioning', 'third-bucket'));
      }
      await assert.rejects(store.ensureBucket('Bad_Bucket'), isError('invalid_input', 'bucket'));
    });

    test('put, get, head, list and delete', async () => {
      const p = prefix();
      const key = `${p}incoming/42/2024-05-01/café +1%.csv`;
      const info = await store.put(BUCKET, key, 'store;date\n42;2024-05-01\n', {
        contentType: 'text/csv',
        metadata: { 'Uploaded-By': 'store-42' },
      });
      assert.equal(info.size, 25);
      assert.equal(info.etag, md5('store;date\n42;2024-05-01\n'));
      assert.equal(info.contentType, 'text/csv');
      if (server.versioned) assert.notEqual(info.versionId, 'null');
      else assert.equal(info.versionId, 'null');

      const { body, info: got } = await store.get(BUCKET, key);
      assert.equal((await bytes(body)).toString('utf8'), 'store;date\n42;2024-05-01\n');
      assert.equal(got.size, 25);
      assert.equal(got.etag, info.etag);
      assert.equal(got.versionId, info.versionId);
      assert.equal(got.contentType, 'text/csv');
      assert.deepEqual(got.metadata, { 'uploaded-by': 'store-42' });
      const head = await store.head(BUCKET, key);
      assert.equal(head?.size, 25);
      assert.equal(head?.etag, info.etag);
      assert.equal(await store.head(BUCKET, `${key}.missing`), undefined);
      await assert.rejects(store.get(BUCKET, `${key}.missing`), isError('not_found', BUCKET, `${key}.missing`));

      const others = [`${p}a b+c%d.csv`, `${p}日本語/データ.csv`, `${p}z.csv`];
      for (const k of others) await store.put(BUCKET, k, k);
      await store.put(BUCKET, `other-${p}x.csv`, 'outside the prefix');
      const listed = await collect(store.list(BUCKET, p));
      assert.deepEqual(
        listed.map((i) => i.key),
        [`${p}a b+c%d.csv`, key, `${p}z.csv`, `${p}日本語/データ.csv`],
      );
      assert.equal(listed[1]?.size, 25);
      assert.equal(listed[1]?.etag, info.etag);
      for (const k of others) assert.equal((await bytes((await store.get(BUCKET, k)).body)).toString(), k);

      await store.delete(BUCKET, key);
      assert.equal(await store.head(BUCKET, key), undefined);
      await assert.rejects(store.get(BUCKET, key), isError('not_found', key));
      assert.deepEqual(
        (await collect(store.list(BUCKET, p))).map((i) => i.key),
        [`${p}a b+c%d.csv`, `${p}z.csv`, `${p}日本語/データ.csv`],
      );
      await assert.rejects(store.get('no-such-bucket', key), isError('not_found', 'no-such-bucket'));
    });

    test('a stream of unknown length is uploaded in parts and reads back intact', async () => {
      const key = `${prefix()}large.bin`;
      const expected = createHash('md5');
      for (let i = 0; i < 12; i++) expected.update(Buffer.alloc(MiB, i));
      const info = await store.put(BUCKET, key, mebibytes(12));
      assert.equal(info.size, 12 * MiB);
      // s3rver hashes the whole object; S3 and moto name the part count
      if (server.versioned) assert.match(info.etag, /-3"$/, 'uploaded in three parts');
      const { body } = await store.get(BUCKET, key);
      const got = createHash('md5');
      let size = 0;
      for await (const c of body) {
        got.update(c as Buffer);
        size += (c as Buffer).length;
      }
      assert.equal(size, 12 * MiB);
      assert.equal(got.digest('hex'), expected.digest('hex'));
      const small = await store.put(BUCKET, `${key}.small`, Readable.from(['a', Buffer.from('b')]));
      assert.equal(small.size, 2);
      assert.equal(small.etag, md5('ab'));
    });

    test('maxBytes refuses larger bodies before or during upload, leaving no object', async () => {
      const p = prefix();
      await assert.rejects(store.put(BUCKET, `${p}a`, 'x'.repeat(11), { maxBytes: 10 }), isError('too_large', 'a'));
      await assert.rejects(
        store.put(BUCKET, `${p}b`, Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), { maxBytes: 10 }),
        isError('too_large', `${p}b`, '10'),
      );
      // past the first part: the multipart upload has begun and must be abandoned
      let pulled = 0;
      const endless = Readable.from(
        (function* () {
          for (;;) {
            pulled++;
            yield Buffer.alloc(MiB);
          }
        })(),
      );
      await assert.rejects(store.put(BUCKET, `${p}c`, endless, { maxBytes: 7 * MiB }), isError('too_large', `${p}c`));
      assert.ok(pulled <= 9, `stopped reading soon after the limit (read ${pulled} MiB)`);
      for (const k of ['a', 'b', 'c']) assert.equal(await store.head(BUCKET, `${p}${k}`), undefined);
      assert.deepEqual(await collect(store.listVersions(BUCKET, p)), []);
      const exact = await store.put(BUCKET, `${p}d`, Readable.from([Buffer.alloc(10)]), { maxBytes: 10 });
      assert.equal(exact.size, 10);
    });

    test('emitEvents: put announces the object with the S3 event JSON; without it, nothing', async () => {
      const key = `${prefix()}incoming/42/2024-05-01/café +1%.csv`;
      const quiet: S3Event[] = [];
      store.onObjectCreated((e) => {
        quiet.push(e);
      });
      await store.put(BUCKET, key, 'quiet');
      assert.deepEqual(quiet, []);

      const loud = open({ emitEvents: true });
      const events: S3Event[] = [];
      const off = loud.onObjectCreated((e) => {
        events.push(e);
      });
      const v1 = await loud.put(BUCKET, key, 'a;b\n');
      const v2 = await loud.put(BUCKET, key, Readable.from(['a;b\n1;2\n']));
      off();
      await loud.put(BUCKET, key, 'after unsubscribe');
      assert.equal(events.length, 2);
      const r = events[0]?.Records[0];
      assert.ok(r);
      assert.equal(r.eventName, 'ObjectCreated:Put');
      assert.equal(r.awsRegion, 'us-east-1');
      assert.equal(r.s3.bucket.name, BUCKET);
      assert.equal(r.s3.object.key.endsWith('incoming/42/2024-05-01/caf%C3%A9+%2B1%25.csv'), true, r.s3.object.key);
      assert.equal(decodeEventKey(r.s3.object.key), key);
      assert.equal(r.s3.object.size, 4);
      assert.equal(r.s3.object.eTag, md5('a;b\n'));
      assert.equal(r.s3.object.versionId, v1.versionId);
      assert.equal(events[1]?.Records[0]?.s3.object.versionId, v2.versionId);
      const seqs = events.map((e) => e.Records[0]?.s3.object.sequencer as string);
      assert.match(seqs[0] as string, /^[0-9a-f]{16}$/);
      assert.ok((seqs[0] as string) < (seqs[1] as string));

      const failing = open({ emitEvents: true });
      failing.onObjectCreated(() => {
        throw new Error('queue is down');
      });
      await assert.rejects(failing.put(BUCKET, `${key}.2`, 'kept'), /queue is down/);
      assert.equal((await bytes((await store.get(BUCKET, `${key}.2`)).body)).toString(), 'kept');
    });

    test('keys that could escape a directory are refused before any request', async () => {
      for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a\u0000b', '']) {
        await assert.rejects(store.put(BUCKET, key, 'x'), isError('invalid_input'), JSON.stringify(key));
        await assert.rejects(store.get(BUCKET, key), isError('invalid_input'), JSON.stringify(key));
        await assert.rejects(store.presignPut(BUCKET, key, { expiresSeconds: 60 }), isError('invalid_input'));
      }
    });

    test('presignPut gives a URL for one key with its type and size signed', async () => {
      const key = `${prefix()}uploads/café +1%.csv`;
      const body = 'store;date\n42;2024-05-01\n';
      const url = new URL(
        await store.presignPut(BUCKET, key, {
          expiresSeconds: 300,
          maxBytes: 1000,
          contentType: 'text/csv',
          contentLength: body.length,
        }),
      );
      assert.equal(url.searchParams.get('X-Amz-Expires'), '300');
      assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'content-length;content-type;host');
      assert.equal(url.searchParams.get('x-amz-checksum-crc32'), null, 'no checksum of an empty body is baked in');
      assert.ok(decodeURIComponent(url.pathname).endsWith(`/${BUCKET}/${key}`), url.pathname);
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'text/csv' } });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await bytes((await store.get(BUCKET, key)).body)).toString(), body);
      await assert.rejects(
        store.presignPut(BUCKET, key, { expiresSeconds: 300, maxBytes: 1000 }),
        isError('invalid_input', 'contentLength'),
      );
      await assert.rejects(
        store.presignPut(BUCKET, key, { expiresSeconds: 300, maxBytes: 1000, contentLength: 1001 }),
        isError('too_large'),
      );
      await assert.rejects(store.presignPut(BUCKET, key, { expiresSeconds: 0 }), isError('invalid_input'));
      await assert.rejects(store.presignPut(BUCKET, key, { expiresSeconds: 8 * 24 * 3600 }), isError('invalid_input'));
    });

    test('check fails as unavailable for a missing bucket or an unreachable server', async () => {
      await assert.rejects(store.check([BUCKET, 'never-created']), isError('unavailable', 'never-created'));
      const dead = new S3ObjectStore({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        forcePathStyle: true,
        credentials: S3_TEST_CREDENTIALS,
      });
      stores.push(dead);
      await assert.rejects(dead.check([BUCKET]), isError('unavailable', BUCKET));
      await assert.rejects(dead.put(BUCKET, 'k', 'x'), isError('unavailable'));
    });

    if (server.versioned) {
      test('overwrite and delete keep earlier versions readable; listVersions is newest first', async () => {
        const p = prefix();
        const key = `${p}sales 1+1.csv`;
        const v1 = await store.put(BUCKET, key, 'one');
        const v2 = await store.put(BUCKET, key, 'two');
        await store.put(BUCKET, `${p}other.csv`, 'x');
        assert.notEqual(v1.versionId, v2.versionId);
        assert.equal((await bytes((await store.get(BUCKET, key)).body)).toString(), 'two');
        assert.equal((await bytes((await store.get(BUCKET, key, { versionId: v1.versionId })).body)).toString(), 'one');
        assert.equal((await store.head(BUCKET, key, { versionId: v1.versionId }))?.etag, md5('one'));
        const { versionId: marker } = await store.delete(BUCKET, key);
        assert.notEqual(marker, 'null');
        assert.equal(await store.head(BUCKET, key), undefined);
        assert.equal(await store.head(BUCKET, key, { versionId: marker }), undefined);
        await assert.rejects(store.get(BUCKET, key, { versionId: marker }), isError('not_found', key));
        await assert.rejects(store.get(BUCKET, key, { versionId: 'no-such-version' }), isError('not_found', key));
        assert.equal((await bytes((await store.get(BUCKET, key, { versionId: v2.versionId })).body)).toString(), 'two');
        assert.deepEqual(
          (await collect(store.list(BUCKET, p))).map((i) => i.key),
          [`${p}other.csv`],
        );
        const versions = await collect(store.listVersions(BUCKET, p));
        assert.deepEqual(
          versions.map((v) => [v.key, v.versionId, v.isLatest, v.deleteMarker === true]),
          [
            [`${p}other.csv`, versions[0]?.versionId, true, false],
            [key, marker, true, true],
            [key, v2.versionId, false, false],
            [key, v1.versionId, false, false],
          ],
        );
        assert.ok(versions.every((v) => v.bucket === BUCKET));
      });

      test('listVersions follows the pages of a long listing', async () => {
        const p = prefix();
        const key = `${p}many.csv`;
        const ids: string[] = [];
        for (let i = 0; i < 1005; i++) {
          ids.push((await store.put(BUCKET, i % 2 ? key : `${p}k${String(i).padStart(4, '0')}`, `${i}`)).versionId);
        }
        const versions = await collect(store.listVersions(BUCKET, p));
        assert.equal(versions.length, 1005);
        assert.deepEqual(new Set(versions.map((v) => v.versionId)), new Set(ids));
        assert.equal((await collect(store.list(BUCKET, p))).length, 504); // 503 k* keys and many.csv
      });
    } else {
      test('without server versioning, listVersions lists the current objects as version "null"', async () => {
        const p = prefix();
        await store.put(BUCKET, `${p}a.csv`, 'one');
        await store.put(BUCKET, `${p}a.csv`, 'two');
        await store.put(BUCKET, `${p}b.csv`, 'x');
        const versions = await collect(store.listVersions(BUCKET, p));
        assert.deepEqual(
          versions.map((v) => [v.key, v.versionId, v.isLatest, v.size]),
          [
            [`${p}a.csv`, 'null', true, 3],
            [`${p}b.csv`, 'null', true, 1],
          ],
        );
      });
    }
  });
}
