// The worker thread that writes a SQLite database's checkout batches (see batch-thread.ts): its own connection,
// opened as the server's was, and the same batch work the server runs in-thread on MySQL. Batches are written one
// after another, in the order they were sent; the stop message comes after the last one.
import { parentPort, workerData } from 'node:worker_threads';
import { type ConnectOptions, connect } from '../db/connect.ts';
import { type BatchReply, outcomesToWire, toWire } from './batch-thread.ts';
import { type CheckoutJob, registerBatch } from './checkouts.ts';
import { commitBatch } from './group-commit.ts';

const port = parentPort!;
const { url, options } = workerData as { url: string; options: ConnectOptions };
// the server's own connection already has the checkpointer, if any
const database = await connect(url, { ...options, backgroundCheckpoint: false });
let chain = Promise.resolve();

port.on('message', (m: { id: number; jobs: CheckoutJob[] } | { stop: true }) => {
  chain = chain.then(async () => {
    if ('stop' in m) {
      await database.close();
      port.close();
      return;
    }
    let reply: BatchReply<unknown>;
    try {
      const r = await commitBatch(database, (trx, jobs: CheckoutJob[]) => registerBatch(trx, 'sqlite', jobs), m.jobs);
      reply = { id: m.id, result: { outcomes: outcomesToWire(r.outcomes), split: r.split } };
    } catch (e) {
      reply = { id: m.id, error: toWire(e) };
    }
    port.postMessage(reply);
  });
});
