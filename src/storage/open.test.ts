import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config.ts';
import { LocalObjectStore } from './local.ts';
import { openObjectStore } from './open.ts';
import { S3ObjectStore } from './s3.ts';

test('the default configuration opens local buckets under the data directory', () => {
  const store = openObjectStore(loadConfig({ SHOPFLOW_DATA_DIR: '/srv/shopflow' }));
  assert.ok(store instanceof LocalObjectStore);
  assert.equal(store.kind, 'local');
  assert.equal(store.root, resolve('/srv/shopflow/buckets'));
  const explicit = openObjectStore(loadConfig({ SHOPFLOW_STORAGE: 'local:/mnt/buckets' }));
  assert.ok(explicit instanceof LocalObjectStore);
  assert.equal(explicit.root, '/mnt/buckets');
});

test('s3:// opens S3; in local mode its puts announce themselves, in aws mode S3 notifications do', () => {
  const local = openObjectStore(
    loadConfig({ SHOPFLOW_STORAGE: 's3://', SHOPFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000', SHOPFLOW_MODE: 'local' }),
  );
  assert.ok(local instanceof S3ObjectStore);
  assert.equal(local.kind, 's3');
  assert.equal(local.emitEvents, true);
  local.destroy();
  const aws = openObjectStore(loadConfig({ SHOPFLOW_STORAGE: 's3://', SHOPFLOW_MODE: 'aws' }));
  assert.ok(aws instanceof S3ObjectStore);
  assert.equal(aws.emitEvents, false);
  aws.destroy();
});
