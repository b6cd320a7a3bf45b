// The ObjectStore port over S3 (AWS, or any S3-compatible server through `endpoint`). In AWS, bucket notifications
// deliver ObjectCreated events to Lambda, so by default put does not call listeners; `emitEvents` makes it behave
// like the local store, for running the local runtime (queue + worker) against an S3 server.
//
// Sequencers: the S3 API does not expose the `sequencer` of its own notifications, so objects read back from S3
// carry none. With `emitEvents`, put stamps its events with a process-local sequencer (clock in microseconds, never
// repeating within the process): it orders one process's writes to a key, but two processes writing the same key
// in the same instant are ordered only as well as their clocks agree.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ShopflowError } from '../errors.ts';
import { assertValidBucketName, assertValidKey, toBuffer, tooLarge } from './local.ts';
import {
  type GetResult,
  type ObjectCreatedListener,
  type ObjectInfo,
  type ObjectStore,
  objectCreatedEvent,
  type PutOptions,
} from './object-store.ts';

export interface S3ObjectStoreOptions {
  region: string;
  /** an S3-compatible server (MinIO, s3rver, LocalStack); AWS when absent */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** the SDK's default provider chain (environment, profile, instance role) when absent */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** put calls the ObjectCreated listeners, as the local store does (default false: in AWS, S3 notifies) */
  emitEvents?: boolean;
  /**
   * Accept a server that cannot version objects (s3rver): ensureBucket then goes on without versioning, and
   * versionIds are S3's `null`. Default false: shopflow relies on versions to recover overwritten or deleted files.
   */
  allowUnversioned?: boolean;
  /** multipart part size for streamed bodies, bytes (default 8 MiB; S3's minimum is 5 MiB) */
  partSize?: number;
}

export interface PresignPutOptions {
  /** 1 s to 7 days */
  expiresSeconds: number;
  /** when set, `contentLength` is required and must not exceed it */
  maxBytes?: number;
  /** signed: the upload must send exactly this Content-Type */
  contentType?: string;
  /**
   * Signed: the upload must send exactly this many bytes. A presigned PUT cannot express "at most N bytes" (only
   * a presigned POST policy can), so a size limit is enforced by pinning the declared size.
   */
  contentLength?: number;
}

const hex16 = (n: bigint) => n.toString(16).padStart(16, '0');
let lastSequencer = 0n;
function nextSequencer(): string {
  const now = BigInt(Date.now()) * 1000n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return hex16(lastSequencer);
}

interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function awsError(e: unknown): AwsError {
  return typeof e === 'object' && e !== null ? (e as AwsError) : {};
}

function statusOf(e: unknown): number | undefined {
  return awsError(e).$metadata?.httpStatusCode;
}

/** The server does not implement the operation at all (as opposed to refusing this request). */
function isUnsupported(e: unknown): boolean {
  const { name } = awsError(e);
  return name === 'NotImplemented' || name === 'MethodNotAllowed' || statusOf(e) === 501 || statusOf(e) === 405;
}

function isMissing(e: unknown): boolean {
  const { name } = awsError(e);
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion' || statusOf(e) === 404;
}

/** Maps an SDK failure to the shopflow error family; `what` names the bucket/key in the message. */
function mapError(e: unknown, what: string, bucket: string): ShopflowError {
  if (e instanceof ShopflowError) return e;
  const { name, message } = awsError(e);
  const detail = `${name ?? 'Error'}: ${message ?? String(e)}`;
  if (name === 'NoSuchBucket')
    return new ShopflowError('not_found', `bucket ${bucket} does not exist`, [], { cause: e });
  if (isMissing(e)) return new ShopflowError('not_found', `${what} does not exist`, [], { cause: e });
  if (name === 'EntityTooLarge') return new ShopflowError('too_large', `${what}: ${detail}`, [], { cause: e });
  if (statusOf(e) === 400) return new ShopflowError('invalid_input', `${what}: ${detail}`, [], { cause: e });
  return new ShopflowError('unavailable', `${what}: S3 request failed (${detail})`, [], { cause: e });
}

function iso(d: Date | undefined): string {
  return (d ?? new Date(0)).toISOString();
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly listeners = new Set<ObjectCreatedListener>();
  private readonly region: string;
  private readonly endpoint: string | undefined;
  /** whether put calls the ObjectCreated listeners */
  readonly emitEvents: boolean;
  private readonly allowUnversioned: boolean;
  private readonly partSize: number;
  /** per bucket: whether the server answers ListObjectVersions (learnt on first use) */
  private readonly versionListing = new Map<string, Promise<boolean>>();

  constructor(opts: S3ObjectStoreOptions) {
    const base: S3ClientConfig = {
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.forcePathStyle !== undefined ? { forcePathStyle: opts.forcePathStyle } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    };
    // Third-party servers often reject or mis-store the flexible checksums newer SDKs send by default; AWS keeps them.
    const onlyRequiredChecksums = {
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } as const;
    this.client = new S3Client(opts.endpoint ? { ...base, ...onlyRequiredChecksums } : base);
    // A presigned URL signed with default checksums carries the CRC of an empty body, and S3 then refuses the upload.
    this.presignClient = new S3Client({ ...base, ...onlyRequiredChecksums });
    this.region = opts.region;
    this.endpoint = opts.endpoint;
    this.emitEvents = opts.emitEvents ?? false;
    this.allowUnversioned = opts.allowUnversioned ?? false;
    this.partSize = opts.partSize ?? 8 * 1024 * 1024;
  }

  async ensureBucket(bucket: string): Promise<void> {
    assertValidBucketName(bucket);
    const where = `S3 bucket ${bucket}`;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if (!isMissing(e) && awsError(e).name !== 'NoSuchBucket') throw mapError(e, where, bucket);
      try {
        await this.client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(this.region === 'us-east-1'
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } }),
          }),
        );
      } catch (ce) {
        const name = awsError(ce).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw mapError(ce, where, bucket);
        // created meanwhile by another process of ours, or taken by another account: only the former is usable
        await this.client.send(new HeadBucketCommand({ Bucket: bucket })).catch((he) => {
          throw new ShopflowError('config', `${where} exists but is not accessible to us (${awsError(he).name})`);
        });
      }
    }
    if (await this.versioningEnabled(bucket)) return;
    let putError: unknown;
    try {
      await this.client.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    } catch (e) {
      putError = e;
    }
    // verify rather than trust the answer: s3rver, for one, takes PutBucketVersioning for CreateBucket
    if (await this.versioningEnabled(bucket)) return;
    if (putError !== undefined && !isUnsupported(putError) && awsError(putError).name !== 'BucketAlreadyExists') {
      throw mapError(putError, `enabling versioning on ${where}`, bucket);
    }
    if (!this.allowUnversioned) {
      throw new ShopflowError(
        'config',
        `the S3 server${this.endpoint ? ` at ${this.endpoint}` : ''} does not keep versions of objects in ${where}; ` +
          'shopflow needs versioning to recover overwritten or deleted files (use AWS S3 or MinIO)',
      );
    }
  }

  private async versioningEnabled(bucket: string): Promise<boolean> {
    try {
      const res = await this.client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      return res.Status === 'Enabled';
    } catch (e) {
      if (isUnsupported(e)) return false;
      throw mapError(e, `reading the versioning of S3 bucket ${bucket}`, bucket);
    }
  }

  async put(bucket: string, key: string, body: Buffer | string | Readable, opts: PutOptions = {}): Promise<ObjectInfo> {
    assertValidBucketName(bucket);
    assertValidKey(key);
    const what = `object ${bucket}/${key}`;
    const contentType = opts.contentType ?? 'application/octet-stream';
    const metadata = opts.metadata
      ? Object.fromEntries(Object.entries(opts.metadata).map(([k, v]) => [k.toLowerCase(), v]))
      : undefined;
    let size = 0;
    let etag: string | undefined;
    let versionId: string | undefined;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const buf = toBuffer(body);
      size = buf.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) throw tooLarge(bucket, key, opts.maxBytes);
      try {
        const res = await this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: buf,
            ContentLength: size,
            // S3 checks the bytes it received against this and refuses the put on a mismatch
            ContentMD5: createHash('md5').update(buf).digest('base64'),
            ContentType: contentType,
            ...(metadata ? { Metadata: metadata } : {}),
          }),
        );
        etag = res.ETag;
        versionId = res.VersionId;
      } catch (e) {
        throw mapError(e, `storing ${what}`, bucket);
      }
    } else {
      let overLimit = false;
      const maxBytes = opts.maxBytes;
      async function* counted(source: Readable): AsyncGenerator<Buffer> {
        for await (const chunk of source) {
          const buf = toBuffer(chunk);
          size += buf.length;
          if (maxBytes !== undefined && size > maxBytes) {
            overLimit = true;
            throw tooLarge(bucket, key, maxBytes);
          }
          yield buf;
        }
      }
      // Multipart keeps at most queueSize parts in memory, whatever the length; an over-limit body fails the
      // upload, which aborts the multipart upload, so no object appears.
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: Readable.from(counted(body)),
          ContentType: contentType,
          ...(metadata ? { Metadata: metadata } : {}),
        },
        partSize: this.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      try {
        const res = await upload.done();
        etag = res.ETag;
        versionId = res.VersionId;
      } catch (e) {
        // the abort itself may fail (s3rver cannot abort); the cause that matters is the size
        if (overLimit && opts.maxBytes !== undefined) throw tooLarge(bucket, key, opts.maxBytes);
        throw mapError(e, `storing ${what}`, bucket);
      }
    }
    const info: ObjectInfo = {
      bucket,
      key,
      versionId: versionId ?? 'null',
      size,
      etag: etag ?? '',
      lastModified: new Date().toISOString(),
      isLatest: true,
      contentType,
      ...(metadata ? { metadata } : {}),
    };
    if (this.emitEvents) {
      info.sequencer = nextSequencer();
      await this.emit(info);
    }
    return info;
  }

  private async emit(info: ObjectInfo): Promise<void> {
    const listeners = [...this.listeners];
    if (listeners.length === 0) return;
    const event = objectCreatedEvent(info, this.region);
    const results = await Promise.allSettled(listeners.map(async (l) => l(structuredClone(event))));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} ObjectCreated listeners failed`);
  }

  async get(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<GetResult> {
    assertValidBucketName(bucket);
    assertValidKey(key);
    const what = `object ${opts.versionId ? `version ${opts.versionId} of ` : ''}${bucket}/${key}`;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(opts.versionId ? { VersionId: opts.versionId } : {}) }),
      );
      if (!(res.Body instanceof Readable)) throw new Error('the S3 client returned a body that is not a Node stream');
      const info: ObjectInfo = {
        bucket,
        key,
        versionId: res.VersionId ?? 'null',
        size: res.ContentLength ?? 0,
        etag: res.ETag ?? '',
        lastModified: iso(res.LastModified),
        ...(res.ContentType ? { contentType: res.ContentType } : {}),
        ...(res.Metadata ? { metadata: res.Metadata } : {}),
      };
      return { body: res.Body, info };
    } catch (e) {
      // S3 answers 405 for a version that is a delete marker, 400 for a malformed version id
      if (opts.versionId && (statusOf(e) === 405 || statusOf(e) === 400)) {
        throw new ShopflowError('not_found', `${what} does not exist`, [], { cause: e });
      }
      throw mapError(e, what, bucket);
    }
  }

  async head(bucket: string, key: string, opts: { versionId?: string } = {}): Promise<ObjectInfo | undefined> {
    assertValidBucketName(bucket);
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ...(opts.versionId ? { VersionId: opts.versionId } : {}) }),
      );
      return {
        bucket,
        key,
        versionId: res.VersionId ?? 'null',
        size: res.ContentLength ?? 0,
        etag: res.ETag ?? '',
        lastModified: iso(res.LastModified),
        ...(res.ContentType ? { contentType: res.ContentType } : {}),
        ...(res.Metadata ? { metadata: res.Metadata } : {}),
      };
    } catch (e) {
      if (isMissing(e) || statusOf(e) === 405 || (opts.versionId && statusOf(e) === 400)) return undefined;
      throw mapError(e, `object ${bucket}/${key}`, bucket);
    }
  }

  /** Whether ListObjectVersions works for the bucket; servers without versioning (s3rver) refuse it. */
  private listsVersions(bucket: string): Promise<boolean> {
    let known = this.versionListing.get(bucket);
    if (!known) {
      known = this.client.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1 })).then(
        () => true,
        (e) => {
          if (isUnsupported(e)) return false;
          this.versionListing.delete(bucket);
          throw mapError(e, `listing S3 bucket ${bucket}`, bucket);
        },
      );
      this.versionListing.set(bucket, known);
    }
    return known;
  }

  async *list(bucket: string, prefix = ''): AsyncIterable<ObjectInfo> {
    assertValidBucketName(bucket);
    if (await this.listsVersions(bucket)) {
      for await (const v of this.versionEntries(bucket, prefix)) if (v.isLatest && !v.deleteMarker) yield v;
    } else {
      yield* this.currentObjects(bucket, prefix);
    }
  }

  async *listVersions(bucket: string, prefix = ''): AsyncIterable<ObjectInfo> {
    assertValidBucketName(bucket);
    if (await this.listsVersions(bucket)) yield* this.versionEntries(bucket, prefix);
    else yield* this.currentObjects(bucket, prefix);
  }

  private async *currentObjects(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
      } catch (e) {
        throw mapError(e, `listing S3 bucket ${bucket}`, bucket);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield {
          bucket,
          key: o.Key,
          versionId: 'null',
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: iso(o.LastModified),
          isLatest: true,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Versions and delete markers, by key, newest first within a key (the SDK returns the two kinds apart). */
  private async *versionEntries(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      let page: ListObjectVersionsCommandOutput;
      try {
        page = await this.client.send(
          new ListObjectVersionsCommand({
            Bucket: bucket,
            Prefix: prefix,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(versionMarker !== undefined ? { VersionIdMarker: versionMarker } : {}),
          }),
        );
      } catch (e) {
        throw mapError(e, `listing versions in S3 bucket ${bucket}`, bucket);
      }
      const entries: ObjectInfo[] = [];
      for (const v of page.Versions ?? []) {
        if (v.Key === undefined) continue;
        entries.push({
          bucket,
          key: v.Key,
          versionId: v.VersionId ?? 'null',
          size: v.Size ?? 0,
          etag: v.ETag ?? '',
          lastModified: iso(v.LastModified),
          isLatest: v.IsLatest ?? false,
        });
      }
      for (const d of page.DeleteMarkers ?? []) {
        if (d.Key === undefined) continue;
        entries.push({
          bucket,
          key: d.Key,
          versionId: d.VersionId ?? 'null',
          size: 0,
          etag: '',
          lastModified: iso(d.LastModified),
          isLatest: d.IsLatest ?? false,
          deleteMarker: true,
        });
      }
      entries.sort(
        (a, b) =>
          Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')) ||
          Number(b.isLatest) - Number(a.isLatest) ||
          (a.lastModified < b.lastModified ? 1 : a.lastModified > b.lastModified ? -1 : 0),
      );
      yield* entries;
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
      if (keyMarker === undefined) return;
    }
  }

  async delete(bucket: string, key: string): Promise<{ versionId: string }> {
    assertValidBucketName(bucket);
    assertValidKey(key);
    try {
      const res = await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return { versionId: res.VersionId ?? 'null' };
    } catch (e) {
      throw mapError(e, `deleting object ${bucket}/${key}`, bucket);
    }
  }

  onObjectCreated(listener: ObjectCreatedListener): () => void {
    const entry: ObjectCreatedListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async check(buckets: string[]): Promise<void> {
    for (const bucket of buckets) {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (e) {
        const { name } = awsError(e);
        throw new ShopflowError('unavailable', `S3 bucket ${bucket} is not reachable (${name ?? String(e)})`, [], {
          cause: e,
        });
      }
    }
  }

  /**
   * A URL through which a browser or a store's system can PUT one object, `key`, without credentials of its own.
   * Content-Type and Content-Length, when given, are signed: S3 refuses an upload that sends other values.
   */
  async presignPut(bucket: string, key: string, opts: PresignPutOptions): Promise<string> {
    assertValidBucketName(bucket);
    assertValidKey(key);
    const { expiresSeconds, maxBytes, contentType, contentLength } = opts;
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 7 * 24 * 3600) {
      throw new ShopflowError('invalid_input', 'expiresSeconds must be a whole number from 1 to 604800', [
        { where: 'expiresSeconds', problem: 'out of range' },
      ]);
    }
    if (contentLength !== undefined && (!Number.isInteger(contentLength) || contentLength < 0)) {
      throw new ShopflowError('invalid_input', 'contentLength must be a whole number of bytes', [
        { where: 'contentLength', problem: 'not a byte count' },
      ]);
    }
    if (maxBytes !== undefined) {
      if (contentLength === undefined) {
        throw new ShopflowError(
          'invalid_input',
          'a size-limited upload URL needs the size of the file (contentLength): a PUT URL can only pin an exact size',
          [{ where: 'contentLength', problem: 'required with maxBytes' }],
        );
      }
      if (contentLength > maxBytes) throw tooLarge(bucket, key, maxBytes);
    }
    const signed = new Set(['host']);
    if (contentType !== undefined) signed.add('content-type');
    if (contentLength !== undefined) signed.add('content-length');
    return getSignedUrl(
      this.presignClient,
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(contentType !== undefined ? { ContentType: contentType } : {}),
        ...(contentLength !== undefined ? { ContentLength: contentLength } : {}),
      }),
      { expiresIn: expiresSeconds, signableHeaders: signed },
    );
  }

  /** Closes the HTTP connections of the SDK clients. */
  destroy(): void {
    this.client.destroy();
    this.presignClient.destroy();
  }
}
