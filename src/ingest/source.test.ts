// Reading a sales object on a real local bucket: a small one is kept from the hashing pass and parsed from memory,
// a larger one is read again from the bucket; both give the same text, hash and encoding, gzip included, and the
// byte limit holds on either path.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LocalObjectStore } from '../storage/local.ts';
import { inspectSource, openText } from './source.ts';

const BUCKET = 'sales-test';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const c of chunks) s += c;
  return s;
}

describe('reading a sales object', () => {
  let dir: string;
  let store: LocalObjectStore;
  // Windows-1252 bytes (é = 0xE9), so that the encoding decided in the first pass matters in the second
  const latin = Buffer.concat([
    Buffer.from('sku,description\n'),
    Buffer.from([0x50, 0x31, 0x2c, 0x63, 0x61, 0x66, 0xe9, 0x0a]),
  ]);
  // several read chunks long
  const big = Buffer.from(`sku,qty\n${Array.from({ length: 20_000 }, (_, i) => `P${i},${i}`).join('\n')}\n`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shopflow-source-'));
    store = new LocalObjectStore({ root: dir });
    await store.ensureBucket(BUCKET);
    await store.put(BUCKET, 'latin.csv', latin);
    await store.put(BUCKET, 'big.csv', big);
    await store.put(BUCKET, 'big.csv.gz', gzipSync(big));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, keep] of [
    ['kept in memory', 1 << 20],
    ['read again from the bucket', 100],
  ] as const) {
    it(`gives the same text, hash and encoding when ${name}`, async () => {
      for (const [key, gzip, expected, sha] of [
        ['latin.csv', false, 'sku,description\nP1,café\n', latin],
        ['big.csv', false, big.toString(), big],
        ['big.csv.gz', true, big.toString(), big],
      ] as const) {
        const ref = { bucket: BUCKET, key };
        const facts = await inspectSource(store, ref, gzip, 10 << 20, keep);
        assert.equal(facts.content !== undefined, facts.bytes <= keep, `${key}: kept only under the limit`);
        assert.equal(facts.checksum, createHash('sha256').update(sha).digest('hex'), key);
        assert.equal(await text(await openText(store, ref, gzip, 10 << 20, facts)), expected, key);
      }
    });
  }

  it('refuses an object over the byte limit before keeping any of it', async () => {
    await assert.rejects(
      inspectSource(store, { bucket: BUCKET, key: 'big.csv.gz' }, true, 1000),
      /larger than 1000 bytes once decompressed/,
    );
  });
});
