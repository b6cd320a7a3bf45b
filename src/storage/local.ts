// Versioned buckets on the local disk: the embedded stand-in for S3 when shopflow runs on one machine.
//
// Layout under the root:
//
//   <root>/<bucket>/<key>                   read-only view: the current version of each object, as a hard link to
//                                           its bytes, for people browsing the disk. Nothing in shopflow reads it.
//   <root>/.versions/<bucket>/              the bucket itself (it exists once ensureBucket ran)
//     tmp/                                  files being written (same filesystem, so link/rename are atomic)
//     keys/<k>/                             one directory per key; <k> is `x` + hex of the UTF-8 key, or `h` +
//                                           SHA-256 of it when the key is longer than 120 bytes (then the key is
//                                           in keys/<k>/key). Hex keeps names legal and unique on every filesystem,
//                                           case-insensitive ones included, and sorts like S3 (UTF-8 byte order).
//       v/<sequencer>.json                  one file per version or delete marker: its metadata (ObjectInfo)
//       d/<blob>                            the bytes of each version, read-only, never changed or removed
//       base                                the sequencer of the key's first version
//
// The truth is keys/: the current version of a key is its highest v/ entry. A put writes the bytes to tmp/, fsyncs
// and renames them into d/, then commits by hard-linking a fully written, fsynced metadata file to
// v/<sequencer>.json. link() never replaces an existing name, so each sequencer slot is taken exactly once even
// when several processes write the same key; the loser re-reads the highest slot and takes the next one. Because
// the next slot is always "highest seen + 1", sequencers grow in commit order, across processes too. The first
// version of a key takes the clock in microseconds, written once to keys/<k>/base, so a wiped and recreated bucket
// does not hand out sequencers older than those a database may still remember.
//
// A crash leaves at most unreferenced bytes in tmp/ or d/ (never a half-written version): ensureBucket sweeps old
// tmp/ files. The view is refreshed after each commit and re-checked, so it converges to the current version; a key
// the view cannot show (one that is both an object and a "folder", empty or `.` segments, names too long for the
// filesystem) is simply missing from it.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ShopflowError } from '../errors.ts';
import {
  type GetResult,
  type ObjectCreatedListener,
  type ObjectInfo,
  type ObjectStore,
  objectCreatedEvent,
  type PutOptions,
} from './object-store.ts';

export interface LocalObjectStoreOptions {
  /** directory holding the buckets; created when missing */
  root: string;
}

const INTERNAL = '.versions';
const SEQ_RE = /^[0-9a-f]{16}\.json$/;
const VERSION_ID_RE = /^[0-9a-f]{32}$/;
const MAX_HEX_KEY_BYTES = 120;
const STALE_TMP_MS = 24 * 3600 * 1000;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface VersionRecord {
  key: string;
  versionId: string;
  sequencer: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType?: string;
  metadata?: Record<string, string>;
  deleteMarker?: boolean;
  /** file name under d/ (absent for delete markers) */
  blob?: string;
}

/** S3 bucket naming rules (general purpose buckets). Throws `invalid_input`. */
export function assertValidBucketName(bucket: string): void {
  const problem =
    typeof bucket !== 'string' || bucket.length < 3 || bucket.length > 63
      ? 'must be 3 to 63 characters long'
      : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)
        ? 'may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit'
        : bucket.includes('..')
          ? 'must not contain two adjacent dots'
          : /^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)
            ? 'must not look like an IP address'
            : /^(xn--|sthree-|amzn-s3-demo-)/.test(bucket) || /(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(bucket)
              ? 'uses a prefix or suffix S3 reserves'
              : undefined;
  if (problem) {
    throw new ShopflowError('invalid_input', `invalid bucket name "${bucket}": ${problem}`, [
      { where: 'bucket', problem },
    ]);
  }
}

/**
 * Any S3 key (spaces, `+`, `%`, unicode) except those that could name a path outside the bucket when written to a
 * disk or joined to a prefix: `..` or `.` segments, a leading `/`, a backslash or NUL. Throws `invalid_input`.
 */
export function assertValidKey(key: string): void {
  let problem: string | undefined;
  if (typeof key !== 'string' || key.length === 0) problem = 'must not be empty';
  else if (Buffer.byteLength(key, 'utf8') > 1024) problem = 'must be at most 1024 bytes of UTF-8';
  else if (key.startsWith('/')) problem = 'must not start with "/"';
  else if (key.includes('\u0000')) problem = 'must not contain NUL';
  else if (key.includes('\\')) problem = 'must not contain a backslash';
  else if (key.split('/').some((s) => s === '..' || s === '.')) problem = 'must not contain "." or ".." segments';
  else if (LONE_SURROGATE_RE.test(key)) problem = 'must be valid unicode (a lone surrogate cannot be stored)';
  if (problem) {
    throw new ShopflowError('invalid_input', `invalid object key ${JSON.stringify(key)}: ${problem}`, [
      { where: 'key', problem },
    ]);
  }
}

function keyDirName(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  return bytes.length <= MAX_HEX_KEY_BYTES
    ? `x${bytes.toString('hex')}`
    : `h${createHash('sha256').update(bytes).digest('hex')}`;
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const hex16 = (n: bigint) => n.toString(16).padStart(16, '0');
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; there the rename itself is as durable as it gets.
  if (process.platform === 'win32') return;
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** A chunk of a body stream as bytes (streams may yield strings or plain Uint8Arrays). */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new ShopflowError('invalid_input', 'the object body stream yielded something other than bytes or text');
}

/** The error of a body over `maxBytes`, shared by both adapters so callers see one message. */
export function tooLarge(bucket: string, key: string, maxBytes: number): ShopflowError {
  return new ShopflowError('too_large', `object ${bucket}/${key} is larger than the limit of ${maxBytes} bytes`, [
    { where: 'body', problem: `exceeds ${maxBytes} bytes` },
  ]);
}

function unavailable(what: string, e: unknown): ShopflowError {
  const msg = e instanceof Error ? e.message : String(e);
  return new ShopflowError('unavailable', `${what}: ${msg}`, [], { cause: e });
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly listeners = new Set<ObjectCreatedListener>();
  /** per key: commits of this process queue here, so they do not race each other for the same slot */
  private readonly commitQueues = new Map<string, Promise<void>>();

  constructor(opts: LocalObjectStoreOptions) {
    this.root = resolve(opts.root);
  }

  private storeDir(bucket: string): string {
    return join(this.root, INTERNAL, bucket);
  }

  private keyDir(bucket: string, key: string): string {
    return join(this.storeDir(bucket), 'keys', keyDirName(key));
  }

  async ensureBucket(bucket: string): Promise<void> {
    assertValidBucketName(bucket);
    const store = this.storeDir(bucket);
    try {
      await mkdir(join(store, 'keys'), { recursive: true });
      await mkdir(join(store, 'tmp'), { recursive: true });
      await mkdir(join(this.root, bucket), { recursive: true });
      await fsyncDir(join(this.root, INTERNAL));
      await fsyncDir(store);
    } catch (e) {
      throw unavailable(`cannot create local bucket ${bucket} under ${this.root}`, e);
    }
    await this.sweepTmp(bucket);
  }

  /** Removes temp files a crashed process left behind (old enough that no live put can still own them). */
  private async sweepTmp(bucket: string): Promise<void> {
    const tmp = join(this.storeDir(bucket), 'tmp');
    const now = Date.now();
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const p = join(tmp, name);
      const st = await stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > STALE_TMP_MS) await unlink(p).catch(() => {});
    }
  }

  private async assertBucket(bucket: string): Promise<void> {
    assertValidBucketName(bucket);
    try {
      await stat(join(this.storeDir(bucket), 'keys'));
    } catch (e) {
      if (errCode(e) === 'ENOENT') {
        throw new ShopflowError('not_found', `bucket ${bucket} does not exist (under ${this.root})`);
      }
      throw unavailable(`cannot read local bucket ${bucket}`, e);
    }
  }

  async put(bucket: string, key: string, body: Buffer | string | Readable, opts: PutOptions = {}): Promise<ObjectInfo> {
    assertValidKey(key);
    await this.assertBucket(bucket);
    const tmpDir = join(this.storeDir(bucket), 'tmp');
    const tmpPath = join(tmpDir, `${randomHex(16)}.data`);
    const hash = createHash('md5');
    let size = 0;
    const diskError = (e: unknown) => {
      throw unavailable(`cannot store ${bucket}/${key}`, e);
    };
    try {
      // Read-only from birth: the bytes of a version never change, and the view's hard link shares this inode.
      const fh = await open(tmpPath, 'wx', 0o444).catch(diskError);
      try {
        if (typeof body === 'string' || Buffer.isBuffer(body)) {
          const buf = toBuffer(body);
          size = buf.length;
          if (opts.maxBytes !== undefined && size > opts.maxBytes) throw tooLarge(bucket, key, opts.maxBytes);
          hash.update(buf);
          await writeAll(fh, buf).catch(diskError);
        } else {
          // for-await pulls one chunk at a time and destroys the source if we stop early (too large, disk error)
          for await (const chunk of body) {
            const buf = toBuffer(chunk);
            size += buf.length;
            if (opts.maxBytes !== undefined && size > opts.maxBytes) throw tooLarge(bucket, key, opts.maxBytes);
            hash.update(buf);
            await writeAll(fh, buf).catch(diskError);
          }
        }
        await fh.sync().catch(diskError);
      } finally {
        await fh.close();
      }
    } catch (e) {
      // the source's own failure (a client that went away) is rethrown as it is: it is not the store's
      await unlink(tmpPath).catch(() => {});
      throw e;
    }

    let info: ObjectInfo;
    try {
      const keyDir = this.keyDir(bucket, key);
      await this.prepareKeyDir(bucket, key, keyDir);
      const blob = randomHex(16);
      await rename(tmpPath, join(keyDir, 'd', blob));
      await fsyncDir(join(keyDir, 'd'));
      const etag = `"${hash.digest('hex')}"`;
      const metadata = opts.metadata
        ? Object.fromEntries(Object.entries(opts.metadata).map(([k, v]) => [k.toLowerCase(), v]))
        : undefined;
      const record = await this.commit(bucket, keyDir, (r) => ({
        ...r,
        key,
        size,
        etag,
        contentType: opts.contentType ?? 'application/octet-stream',
        ...(metadata ? { metadata } : {}),
        blob,
      }));
      info = { ...toInfo(bucket, record), isLatest: true };
    } catch (e) {
      await unlink(tmpPath).catch(() => {});
      if (e instanceof ShopflowError) throw e;
      throw unavailable(`cannot store ${bucket}/${key}`, e);
    }
    await this.emit(info);
    return info;
  }

  private async emit(info: ObjectInfo): Promise<void> {
    const listeners = [...this.listeners];
    if (listeners.length === 0) return;
    const event = objectCreatedEvent(info);
    // Every listener gets the event even if an earlier one failed; the put still reports the failure, and the
    // object stays for the runtime's reconciliation to pick up.
    const results = await Promise.allSettled(listeners.map(async (l) => l(structuredClone(event))));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} ObjectCreated listeners failed`);
  }

  private async prepareKeyDir(bucket: string, key: string, keyDir: string): Promise<void> {
    const created = await mkdir(join(keyDir, 'v'), { recursive: true });
    await mkdir(join(keyDir, 'd'), { recursive: true });
    if (created !== undefined) {
      await fsyncDir(keyDir);
      await fsyncDir(dirname(keyDir));
    }
    if (basename(keyDir).startsWith('h')) {
      const keyFile = join(keyDir, 'key');
      const existing = await readFile(keyFile, 'utf8').catch(() => undefined);
      if (existing === undefined) {
        const tmp = join(this.storeDir(bucket), 'tmp', `${randomHex(16)}.key`);
        await writeDurable(tmp, key);
        await rename(tmp, keyFile);
        await fsyncDir(keyDir);
      } else if (existing !== key) {
        const both = `${JSON.stringify(existing)} and ${JSON.stringify(key)}`;
        throw new ShopflowError('unavailable', `SHA-256 collision between keys ${both} in bucket ${bucket}`);
      }
    }
  }

  /**
   * Takes the next sequencer slot of the key for a new version record. `build` fills in the record around the
   * slot's sequencer, version id and time; it may be called again if another writer took the slot first.
   */
  private async commit(
    bucket: string,
    keyDir: string,
    build: (slot: { versionId: string; sequencer: string; lastModified: string }) => VersionRecord,
  ): Promise<VersionRecord> {
    return this.serialized(keyDir, async () => {
      const vDir = join(keyDir, 'v');
      for (let attempt = 0; attempt < 10_000; attempt++) {
        const latest = await latestSlot(vDir);
        let seq: bigint;
        let lastModified = new Date().toISOString();
        if (latest === undefined) {
          seq = await this.firstSequencer(bucket, keyDir);
        } else {
          seq = BigInt(`0x${latest.slice(0, 16)}`) + 1n;
          // lastModified never goes backwards within a key, even if the clock does, so (time, sequencer) agree
          const prev = await readRecord(join(vDir, latest));
          if (prev.lastModified > lastModified) lastModified = prev.lastModified;
        }
        const sequencer = hex16(seq);
        const record = build({ versionId: sequencer + randomHex(8), sequencer, lastModified });
        const tmp = join(this.storeDir(bucket), 'tmp', `${randomHex(16)}.json`);
        await writeDurable(tmp, JSON.stringify(record));
        try {
          await link(tmp, join(vDir, `${sequencer}.json`));
        } catch (e) {
          if (errCode(e) === 'EEXIST') continue;
          throw e;
        } finally {
          await unlink(tmp).catch(() => {});
        }
        await fsyncDir(vDir);
        await this.refreshView(bucket, record.key, keyDir);
        return record;
      }
      throw new ShopflowError('unavailable', `too much contention writing ${bucket}/${basename(keyDir)}`);
    });
  }

  /**
   * The sequencer of a key's first version: the clock in microseconds when the key was first written, fixed once
   * in keys/<k>/base. Every writer must derive the same candidate from what it read, or two "first" versions
   * could take different slots and commit out of order.
   */
  private async firstSequencer(bucket: string, keyDir: string): Promise<bigint> {
    const base = join(keyDir, 'base');
    let text = await readFile(base, 'utf8').catch((e) => {
      if (errCode(e) === 'ENOENT') return undefined;
      throw e;
    });
    if (text === undefined) {
      const tmp = join(this.storeDir(bucket), 'tmp', `${randomHex(16)}.base`);
      await writeDurable(tmp, hex16(BigInt(Date.now()) * 1000n));
      try {
        await link(tmp, base);
        await fsyncDir(keyDir);
      } catch (e) {
        if (errCode(e) !== 'EEXIST') throw e;
      } finally {
        await unlink(tmp).catch(() => {});
      }
      text = await readFile(base, 'utf8');
    }
    return BigInt(`0x${text}`);
  }

  private async serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.commitQueues.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.commitQueues.set(id, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.commitQueues.get(id) === tail) this.commitQueues.delete(id);
    }
  }

  /**
   * Points <root>/<bucket>/<key> at the key's current version. Another writer may publish an older version after
   * us, so after each update we look again and repeat until what we published is still the newest; the last
   * writer to touch the view therefore leaves it right. Failures only cost the view, never the object.
   */
  private async refreshView(bucket: string, key: string, keyDir: string): Promise<void> {
    const segments = key.split('/');
    if (segments.some((s) => s === '' || Buffer.byteLength(s) > 255)) return;
    const target = join(this.root, bucket, ...segments);
    const vDir = join(keyDir, 'v');
    try {
      for (let round = 0; round < 10; round++) {
        const slot = await latestSlot(vDir);
        if (slot === undefined) return;
        const current = await readRecord(join(vDir, slot));
        if (current.deleteMarker || !current.blob) {
          await unlink(target).catch((e) => {
            if (errCode(e) !== 'ENOENT') throw e;
          });
        } else {
          const dir = dirname(target);
          await mkdir(dir, { recursive: true });
          const tmp = join(dir, `.shopflow-tmp-${randomHex(8)}`);
          await link(join(keyDir, 'd', current.blob), tmp);
          try {
            await rename(tmp, target);
          } finally {
            // rename is a no-op when both names already link the same inode, which would leave tmp behind
            await unlink(tmp).catch(() => {});
          }
        }
        if ((await latestSlot(vDir)) === slot) return;
      }
    } catch {
      // the view is a convenience for people; the versions under .versions/ are the store
    }
  }

  async get(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<GetResult> {
    const found = await this.find(bucket, key, opts.versionId);
    if ('missing' in found) {
      const what = opts.versionId === undefined ? '' : `version ${opts.versionId} of `;
      throw new ShopflowError('not_found', `object ${what}${bucket}/${key} does not exist${found.missing}`);
    }
    const { record, isLatest, keyDir } = found;
    if (!record.blob) throw new Error(`version record of ${bucket}/${key} names no bytes`);
    try {
      const fh = await open(join(keyDir, 'd', record.blob), 'r');
      return { body: fh.createReadStream(), info: { ...toInfo(bucket, record), isLatest } };
    } catch (e) {
      throw unavailable(`cannot read ${bucket}/${key}`, e);
    }
  }

  async head(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<ObjectInfo | undefined> {
    const found = await this.find(bucket, key, opts.versionId);
    return 'record' in found ? { ...toInfo(bucket, found.record), isLatest: found.isLatest } : undefined;
  }

  /** The version asked for, or why there is none (`missing` reads as the end of "object ... does not exist"). */
  private async find(
    bucket: string,
    key: string,
    versionId: string | undefined,
  ): Promise<{ record: VersionRecord; isLatest: boolean; keyDir: string } | { missing: string }> {
    assertValidKey(key);
    await this.assertBucket(bucket);
    const keyDir = this.keyDir(bucket, key);
    const vDir = join(keyDir, 'v');
    const latest = await latestSlot(vDir);
    if (latest === undefined) return { missing: '' };
    let record: VersionRecord | undefined;
    if (versionId === undefined) {
      record = await readRecord(join(vDir, latest));
    } else if (VERSION_ID_RE.test(versionId)) {
      record = await readRecord(join(vDir, `${versionId.slice(0, 16)}.json`)).catch((e) => {
        if (errCode(e) === 'ENOENT') return undefined;
        throw e;
      });
      if (record?.versionId !== versionId) record = undefined;
    }
    if (!record) return { missing: '' };
    if (record.deleteMarker) {
      return {
        missing:
          versionId === undefined ? ' (it was deleted; earlier versions remain)' : ' (that version is a delete marker)',
      };
    }
    return { record, isLatest: `${record.sequencer}.json` === latest, keyDir };
  }

  async *list(bucket: string, prefix = ''): AsyncIterable<ObjectInfo> {
    for await (const { key, keyDir } of this.keys(bucket, prefix)) {
      const vDir = join(keyDir, 'v');
      const latest = await latestSlot(vDir);
      if (latest === undefined) continue;
      const record = await readRecord(join(vDir, latest));
      if (record.deleteMarker) continue;
      yield { ...toInfo(bucket, record), key, isLatest: true };
    }
  }

  async *listVersions(bucket: string, prefix = ''): AsyncIterable<ObjectInfo> {
    for await (const { key, keyDir } of this.keys(bucket, prefix)) {
      const vDir = join(keyDir, 'v');
      const slots = (await readdir(vDir).catch(() => [] as string[])).filter((n) => SEQ_RE.test(n));
      slots.sort().reverse();
      for (const [i, slot] of slots.entries()) {
        yield { ...toInfo(bucket, await readRecord(join(vDir, slot))), key, isLatest: i === 0 };
      }
    }
  }

  /** Keys under the prefix, in S3 order (UTF-8 bytes). */
  private async *keys(bucket: string, prefix: string): AsyncIterable<{ key: string; keyDir: string }> {
    await this.assertBucket(bucket);
    const keysDir = join(this.storeDir(bucket), 'keys');
    const hexPrefix = `x${Buffer.from(prefix, 'utf8').toString('hex')}`;
    const found: { key: string; keyDir: string }[] = [];
    for (const name of await readdir(keysDir)) {
      const keyDir = join(keysDir, name);
      if (name.startsWith('x')) {
        // hex of a prefix is a prefix of the hex: no need to decode names that cannot match
        if (name.startsWith(hexPrefix)) found.push({ key: Buffer.from(name.slice(1), 'hex').toString('utf8'), keyDir });
      } else if (name.startsWith('h')) {
        const key = await readFile(join(keyDir, 'key'), 'utf8').catch(() => undefined);
        if (key?.startsWith(prefix)) found.push({ key, keyDir });
      }
    }
    found.sort((a, b) => compareKeys(a.key, b.key));
    yield* found;
  }

  async delete(bucket: string, key: string): Promise<{ versionId: string }> {
    assertValidKey(key);
    await this.assertBucket(bucket);
    try {
      const keyDir = this.keyDir(bucket, key);
      await this.prepareKeyDir(bucket, key, keyDir);
      const record = await this.commit(bucket, keyDir, (r) => ({ ...r, key, size: 0, etag: '', deleteMarker: true }));
      return { versionId: record.versionId };
    } catch (e) {
      if (e instanceof ShopflowError) throw e;
      throw unavailable(`cannot delete ${bucket}/${key}`, e);
    }
  }

  onObjectCreated(listener: ObjectCreatedListener): () => void {
    // a wrapper per subscription, so subscribing the same function twice gives two independent subscriptions
    const entry: ObjectCreatedListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async check(buckets: string[]): Promise<void> {
    const probe = join(this.root, INTERNAL, `.probe-${process.pid}-${randomHex(6)}`);
    try {
      await mkdir(dirname(probe), { recursive: true });
      await writeDurable(probe, 'ok');
      await unlink(probe);
    } catch (e) {
      await unlink(probe).catch(() => {});
      throw unavailable(`local bucket root ${this.root} is not writable`, e);
    }
    for (const bucket of buckets) {
      try {
        await this.assertBucket(bucket);
      } catch (e) {
        if (e instanceof ShopflowError && e.kind === 'not_found') throw new ShopflowError('unavailable', e.message);
        throw e;
      }
    }
  }
}

async function writeDurable(path: string, content: string): Promise<void> {
  const fh = await open(path, 'wx', 0o444);
  try {
    await writeFile(fh, content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The highest v/ entry name, i.e. the current version or delete marker, or undefined for a key never written. */
async function latestSlot(vDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(vDir);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  let best: string | undefined;
  for (const n of names) if (SEQ_RE.test(n) && (best === undefined || n > best)) best = n;
  return best;
}

async function readRecord(path: string): Promise<VersionRecord> {
  return JSON.parse(await readFile(path, 'utf8')) as VersionRecord;
}

function toInfo(bucket: string, r: VersionRecord): ObjectInfo {
  const info: ObjectInfo = {
    bucket,
    key: r.key,
    versionId: r.versionId,
    size: r.size,
    etag: r.etag,
    lastModified: r.lastModified,
    sequencer: r.sequencer,
  };
  if (r.deleteMarker) info.deleteMarker = true;
  if (r.contentType !== undefined) info.contentType = r.contentType;
  if (r.metadata !== undefined) info.metadata = { ...r.metadata };
  return info;
}
