// Picks the bucket adapter the configuration asks for. Against an S3 endpoint in `local` mode nothing in the cloud
// sends notifications, so the S3 store announces its own puts to the local runtime, as the disk store does.
import type { Config } from '../config.ts';
import { LocalObjectStore } from './local.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3.ts';

export function openObjectStore(config: Config): ObjectStore {
  const storage = config.storage;
  if (storage.kind === 'local') return new LocalObjectStore({ root: storage.root });
  return new S3ObjectStore({
    region: storage.region,
    ...(storage.endpoint ? { endpoint: storage.endpoint } : {}),
    forcePathStyle: storage.forcePathStyle,
    emitEvents: config.mode === 'local',
  });
}
