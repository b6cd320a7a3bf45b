// Child process for the cross-process test of the local store: puts `count` versions of one key and prints one
// JSON line per put ({ versionId, sequencer, body }), so the parent can check nothing was lost or reordered.
// It prints `ready` once its store is open, then waits for a line on stdin before the first put, so the parent can
// start several children at the same instant whatever their start-up times.
// Usage: node --import tsx test/support/put-many.ts <root> <bucket> <key> <count> <tag>
import { once } from 'node:events';
import { LocalObjectStore } from '../../src/storage/local.ts';

const [root, bucket, key, countArg, tag] = process.argv.slice(2);
if (!root || !bucket || !key || !countArg || !tag) {
  console.error('usage: put-many.ts <root> <bucket> <key> <count> <tag>');
  process.exit(2);
}
const store = new LocalObjectStore({ root });
await store.ensureBucket(bucket);
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.pause();
for (let i = 0; i < Number(countArg); i++) {
  const body = `${tag}-${i}`;
  const info = await store.put(bucket, key, body);
  process.stdout.write(`${JSON.stringify({ versionId: info.versionId, sequencer: info.sequencer, body })}\n`);
}
