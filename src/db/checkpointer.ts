// SQLite checkpoints helped along by a worker thread. In WAL mode a commit appends its pages to the log, and a
// checkpoint copies the log back into the database file and syncs it. SQLite runs one inside whichever commit takes
// the log past 1,000 pages, copying all of them while the event loop waits: under a busy kiosk store, every couple
// of dozen group-commit batches, one stalls every waiting request for tens of milliseconds. A second connection in
// a worker thread runs passive checkpoints between those (they never block the writer or readers), so the pages
// are mostly copied by the time the writer's own checkpoint runs, which then has only the last few to copy. The
// writer's checkpoint stays: only a checkpoint that ends with nothing left to copy lets the next commit start the
// log again from its beginning, and under steady commits the worker's never quite does.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated by the worker: the same text runs under tsx, from the bundles and from a build.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Driver = require(workerData.driver);
const db = new Driver(workerData.file);
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // a transient failure (a full disk, say): the next round tries again, and the writer checkpoints anyway
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Runs a passive checkpoint of `file` every `everyMs` from a worker thread, until stopped. */
export function startCheckpointer(file: string, everyMs = 10): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // execArgv: [] keeps the parent's loaders (tsx) out of a worker that runs plain JavaScript
  const worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { driver, file, everyMs } });
  // a process is not kept alive by its checkpointer; if it fails, the writer's own checkpoints still do the work
  worker.unref();
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // held until it has ended, or the process could exit with the worker's connection open
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
