// A worker process for crash tests: opens the app from the environment and processes queued events until killed.
// With STALL_KEY_SUFFIX set, the load's own read of a matching object (the second read: the first one hashes it)
// stops halfway through the file and says "stalled" on stderr, so that the test kills the process while the file's
// transaction is open, whatever the machine's speed.
import { Readable } from 'node:stream';
import pino from 'pino';
import { openApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

const app = await openApp(loadConfig(process.env), { runtime: true, log: pino({ level: 'silent' }) });
const suffix = process.env.STALL_KEY_SUFFIX;
if (suffix) {
  const store = app.ctx.store;
  const get = store.get.bind(store);
  const reads = new Map<string, number>();
  store.get = async (bucket, key, opts) => {
    const got = await get(bucket, key, opts);
    const n = (reads.get(key) ?? 0) + 1;
    reads.set(key, n);
    if (!key.endsWith(suffix) || n < 2) return got;
    const all = Buffer.concat(await got.body.toArray());
    const half = all.subarray(0, all.length >> 1);
    const body = new Readable({ read() {} });
    body.push(half);
    // stderr is written once the half has been consumed: by then lines are inside the open transaction
    body.once('data', () => setTimeout(() => process.stderr.write('stalled\n'), 200));
    return { ...got, body };
  };
}
for (;;) {
  await app.runtime!.drain();
  await new Promise((r) => setTimeout(r, 50));
}
