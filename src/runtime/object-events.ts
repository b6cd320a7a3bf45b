// The local S3 → Lambda wiring: each new object version under a routed prefix becomes one queued event carrying the
// S3 notification JSON that Lambda would receive. A crash between "object written" and "event recorded", or an
// event lost any other way, is repaired by reconcileObjects, which compares the bucket's versions with the queue
// (the periodic ListObjectVersions reconciliation AWS deployments need too).
import {
  decodeEventKey,
  type ObjectInfo,
  type ObjectStore,
  objectCreatedEvent,
  type S3Event,
  type S3EventRecord,
} from '../storage/object-store.ts';
import type { EventQueue } from './queue.ts';

export interface ObjectRoute {
  bucket: string;
  prefix: string;
  /** the key must end with one of these (compared exactly, as S3 filters do); any key when absent or empty */
  suffixes?: string[];
  topic: string;
}

/** The first route that takes the object, as one S3 notification configuration per prefix would. */
export function matchRoute(routes: ObjectRoute[], bucket: string, key: string): ObjectRoute | undefined {
  return routes.find(
    (r) =>
      r.bucket === bucket &&
      key.startsWith(r.prefix) &&
      (!r.suffixes || r.suffixes.length === 0 || r.suffixes.some((s) => key.endsWith(s))),
  );
}

/** One key per object version, whoever records it (the listener or the reconciliation). */
export function objectDedupeKey(bucket: string, key: string, versionId: string): string {
  return `s3:${bucket}/${key}#${versionId}`;
}

/** Queues every routed ObjectCreated record of the store. Returns the unsubscribe function. */
export function bindObjectEvents(store: ObjectStore, queue: EventQueue, routes: ObjectRoute[]): () => void {
  return store.onObjectCreated(async (event: S3Event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      await enqueueRecord(queue, routes, record);
    }
  });
}

async function enqueueRecord(queue: EventQueue, routes: ObjectRoute[], record: S3EventRecord): Promise<boolean> {
  const bucket = record.s3.bucket.name;
  const key = decodeEventKey(record.s3.object.key);
  const route = matchRoute(routes, bucket, key);
  if (!route) return false;
  // S3 omits versionId for unversioned buckets; the sequencer still tells one write from the next
  const version = record.s3.object.versionId ?? `seq:${record.s3.object.sequencer}`;
  const payload: S3Event = { Records: [record] };
  const { created } = await queue.enqueue(route.topic, objectDedupeKey(bucket, key, version), payload);
  return created;
}

/**
 * Queues an event for every routed object version that has none (skipping delete markers). Returns how many it
 * queued. Safe to run at any time and from several processes: the dedupe key keeps each version to one event.
 */
export async function reconcileObjects(store: ObjectStore, queue: EventQueue, routes: ObjectRoute[]): Promise<number> {
  let queued = 0;
  const seen = new Set<string>();
  for (const route of routes) {
    const scope = `${route.bucket}\u0000${route.prefix}`;
    if (seen.has(scope)) continue;
    seen.add(scope);
    let batch: ObjectInfo[] = [];
    const flush = async () => {
      const keys = batch.map((i) => objectDedupeKey(i.bucket, i.key, i.versionId));
      const have = await queue.existing(keys);
      for (const [n, info] of batch.entries()) {
        if (have.has(keys[n] as string)) continue;
        const record = objectCreatedEvent(info).Records[0] as S3EventRecord;
        if (await enqueueRecord(queue, routes, record)) queued++;
      }
      batch = [];
    };
    for await (const info of store.listVersions(route.bucket, route.prefix)) {
      if (info.deleteMarker) continue;
      // under overlapping prefixes an object belongs to the first route that takes it, as with live events
      if (matchRoute(routes, info.bucket || route.bucket, info.key) === undefined) continue;
      batch.push({ ...info, bucket: info.bucket || route.bucket });
      if (batch.length >= 200) await flush();
    }
    if (batch.length > 0) await flush();
  }
  return queued;
}
