// A worker in its own process for crash tests: it leases events of topic `block`, prints one JSON line per event
// it starts (`{"started":id,"attempt":n,"owner":"…"}`), and never finishes them, until the test kills it.
// Usage: node --import tsx test/support/worker-child.ts <database-url> <lease-seconds>
import { connect } from '../../src/db/connect.ts';
import { EventQueue } from '../../src/runtime/queue.ts';
import { Worker } from '../../src/runtime/worker.ts';

const [url, leaseArg] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: worker-child.ts <database-url> <lease-seconds>\n');
  process.exit(2);
}
const database = await connect(url);
const queue = new EventQueue(database);
const worker = new Worker({
  queue,
  concurrency: 1,
  pollMs: 50,
  leaseSeconds: Number(leaseArg ?? 1),
  owner: `child:${process.pid}`,
  handlers: {
    block: async (_payload, meta) => {
      process.stdout.write(`${JSON.stringify({ started: meta.id, attempt: meta.attempt, owner: worker.owner })}\n`);
      await new Promise(() => {});
    },
  },
});
worker.start();
process.stdout.write(`${JSON.stringify({ ready: true, owner: worker.owner })}\n`);
