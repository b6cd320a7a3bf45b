// The bucket port. Two adapters implement it: a versioned local-disk store (src/storage/local.ts), the embedded
// default, and S3 (src/storage/s3.ts). Both announce each new object version to subscribers with the same JSON an
// S3 event notification carries, so the handlers that react to it are the ones Lambda runs in AWS.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  bucket: string;
  key: string;
  versionId: string;
  size: number;
  etag: string;
  lastModified: string;
  /** increases with every write to the same key: orders one key's events (S3's `sequencer`) */
  sequencer?: string;
  isLatest?: boolean;
  deleteMarker?: boolean;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** refuse bodies larger than this many bytes (the put fails with `too_large`, nothing is stored) */
  maxBytes?: number;
}

export interface GetResult {
  body: Readable;
  info: ObjectInfo;
}

/** One record of an S3 event notification (the fields shopflow reads; AWS sends more). */
export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  s3: {
    s3SchemaVersion: string;
    configurationId?: string;
    bucket: { name: string; arn: string };
    /** `key` is URL-encoded as in AWS: a space is `+`, `+` is `%2B` */
    object: { key: string; size: number; eTag: string; versionId?: string; sequencer: string };
  };
}

export interface S3Event {
  Records: S3EventRecord[];
}

export type ObjectCreatedListener = (event: S3Event) => Promise<void> | void;

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  ensureBucket(bucket: string): Promise<void>;
  /** Writes a new version; resolves after every ObjectCreated listener has taken the event. */
  put(bucket: string, key: string, body: Buffer | string | Readable, opts?: PutOptions): Promise<ObjectInfo>;
  get(bucket: string, key: string, opts?: { versionId?: string }): Promise<GetResult>;
  /** undefined when the object (or that version) does not exist */
  head(bucket: string, key: string, opts?: { versionId?: string }): Promise<ObjectInfo | undefined>;
  /** the current version of every object under the prefix, by key */
  list(bucket: string, prefix?: string): AsyncIterable<ObjectInfo>;
  /** every version and delete marker under the prefix, newest first within a key */
  listVersions(bucket: string, prefix?: string): AsyncIterable<ObjectInfo>;
  /** Hides the object behind a delete marker; earlier versions stay readable by versionId. */
  delete(bucket: string, key: string): Promise<{ versionId: string }>;
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /** throws when the store cannot be reached (for /readyz) */
  check(buckets: string[]): Promise<void>;
}

/** Encodes a key as S3 does in event notifications (form encoding: space → `+`). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Decodes the key of an S3 event record. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function objectCreatedEvent(info: ObjectInfo, region = 'local'): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: info.lastModified,
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'shopflow',
          bucket: { name: info.bucket, arn: `arn:aws:s3:::${info.bucket}` },
          object: {
            key: encodeEventKey(info.key),
            size: info.size,
            eTag: info.etag,
            versionId: info.versionId,
            sequencer: info.sequencer ?? '0',
          },
        },
      },
    ],
  };
}
