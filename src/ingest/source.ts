// Reading a sales object: a first pass hashes the bytes (ETag is not a content hash) and decides the encoding over
// the whole file; a second pass decodes it for the parser. Both passes stream, so memory stays flat, and a gzip
// member is inflated under a byte limit so that a small bomb cannot expand without bound. A small object (a store's
// day is well under a megabyte) is kept from the first pass and parsed from memory: no second read of the bucket.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { decodeChunks, EncodingDetector, type TextEncoding } from '../csv/encoding.ts';
import { reasonError, ShopflowError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** objects up to this many bytes (inflated) are read once and kept for the parse */
const KEEP_BYTES = 8 * 1024 * 1024;

export interface SourceFacts {
  checksum: string;
  bytes: number;
  encoding: TextEncoding;
  /** the whole content, when it is at most KEEP_BYTES */
  content?: Buffer[];
}

async function* limited(body: Readable, gzip: boolean, maxBytes: number): AsyncIterable<Buffer> {
  const stream = gzip ? body.pipe(createGunzip()) : body;
  if (gzip) body.on('error', (e) => stream.destroy(e));
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        throw reasonError('too_large', 'file_too_large', { max: maxBytes, gzip: gzip ? 1 : 0 });
      }
      yield chunk;
    }
  } catch (e) {
    if (e instanceof ShopflowError) throw e;
    const msg = (e as Error).message ?? String(e);
    if (gzip && /incorrect header|invalid|unexpected end/i.test(msg)) {
      throw reasonError('invalid_input', 'not_gzip', { detail: msg });
    }
    throw e;
  } finally {
    body.destroy();
    if (gzip) stream.destroy();
  }
}

export async function inspectSource(
  store: ObjectStore,
  ref: ObjectRef,
  gzip: boolean,
  maxBytes: number,
  keepBytes = KEEP_BYTES,
): Promise<SourceFacts> {
  const { body } = await store.get(ref.bucket, ref.key, ref.versionId ? { versionId: ref.versionId } : {});
  const hash = createHash('sha256');
  const detector = new EncodingDetector();
  let bytes = 0;
  let content: Buffer[] | undefined = [];
  for await (const chunk of limited(body, gzip, maxBytes)) {
    hash.update(chunk);
    detector.push(chunk);
    bytes += chunk.length;
    if (bytes > keepBytes) content = undefined;
    else content?.push(chunk);
  }
  const verdict = detector.finish();
  if (verdict.binary) {
    throw reasonError('invalid_input', 'not_text', { offset: verdict.nulOffset ?? '?' });
  }
  return { checksum: hash.digest('hex'), bytes, encoding: verdict.encoding, ...(content ? { content } : {}) };
}

/** The object's text, from the content inspectSource kept or else read again from the bucket. */
export async function openText(
  store: ObjectStore,
  ref: ObjectRef,
  gzip: boolean,
  maxBytes: number,
  facts: SourceFacts,
): Promise<AsyncIterable<string>> {
  const { encoding, content } = facts;
  if (content) return decodeChunks(kept(content), encoding);
  const { body } = await store.get(ref.bucket, ref.key, ref.versionId ? { versionId: ref.versionId } : {});
  return decodeChunks(limited(body, gzip, maxBytes), encoding);
}

async function* kept(content: Buffer[]): AsyncIterable<Buffer> {
  yield* content;
}
