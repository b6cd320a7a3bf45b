// Opening the application: configuration → database (migrated) → buckets → in local mode, the event runtime that
// stands in for S3 notifications + Lambda (a durable queue, a worker calling the same handlers, a scheduler).
// The server, the CLI and the tests all start here, so the system they exercise is the same.
import pino, { type Logger } from 'pino';
import { handleNotifyEvent } from './alerts/deliver.ts';
import { NOTIFY_TOPIC } from './alerts/digest.ts';
import { handleSnapshotEvent } from './alerts/handler.ts';
import { raiseAlert } from './alerts/raise.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { connect } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { inTransaction } from './db/tx.ts';
import { handleIngestEvent } from './ingest/handler.ts';
import { bindObjectEvents, reconcileObjects } from './runtime/object-events.ts';
import { EventQueue } from './runtime/queue.ts';
import { Worker } from './runtime/worker.ts';
import type { S3Event } from './storage/object-store.ts';
import { openObjectStore } from './storage/open.ts';

export interface LocalRuntime {
  queue: EventQueue;
  worker: Worker;
  /** process every event that is available now (the CLI waits on its own file this way) */
  drain(): Promise<unknown>;
  start(): void;
  stop(): Promise<void>;
}

export interface App {
  ctx: AppContext;
  runtime?: LocalRuntime;
  migrations: string[];
  close(): Promise<void>;
}

export function eventRoutes(config: Config) {
  return [
    {
      bucket: config.buckets.sales,
      prefix: 'incoming/',
      suffixes: ['.csv', '.csv.gz', '.CSV', '.CSV.GZ'],
      topic: 'ingest',
    },
    { bucket: config.buckets.reports, prefix: 'snapshots/', suffixes: ['.csv'], topic: 'alerts' },
  ];
}

export function makeLogger(config: Config, quiet = false): Logger {
  return pino(
    {
      level: quiet && config.logLevel === 'info' ? 'warn' : config.logLevel,
      redact: ['*.password', '*.authorization', '*.cookie', 'password'],
    },
    pino.destination(2),
  );
}

export async function openApp(
  config: Config,
  opts: { runtime?: boolean; quiet?: boolean; log?: Logger } = {},
): Promise<App> {
  const log = opts.log ?? makeLogger(config, opts.quiet);
  const database = await connect(config.databaseUrl, {
    sqliteSynchronous: config.sqliteSynchronous,
    pool: config.dbPool,
    // the processes that stay up (the server, the local runtime) write the most; a one-shot command needs no thread
    backgroundCheckpoint: opts.runtime !== false,
  });
  let migrations: string[];
  try {
    migrations = await migrate(database);
  } catch (e) {
    await database.close();
    throw e;
  }
  const store = openObjectStore(config);
  for (const b of [config.buckets.sales, config.buckets.reports, config.buckets.backups]) await store.ensureBucket(b);
  const ctx: AppContext = { config, database, store, log };

  let runtime: LocalRuntime | undefined;
  const unbind: Array<() => void> = [];
  if (opts.runtime !== false && config.mode === 'local') {
    const routes = eventRoutes(config);
    const queue = new EventQueue(database, { maxAttempts: config.events.maxAttempts });
    unbind.push(bindObjectEvents(store, queue, routes));
    const worker = new Worker({
      queue,
      handlers: {
        ingest: async (payload) => {
          await handleIngestEvent(ctx, payload as S3Event);
        },
        alerts: async (payload) => {
          await handleSnapshotEvent(ctx, payload as S3Event);
        },
        // alert messages and purchase-order e-mails, retried with backoff until sent (src/alerts/deliver.ts)
        [NOTIFY_TOPIC]: (payload, meta) => handleNotifyEvent(ctx, payload, meta),
      },
      concurrency: config.events.concurrency,
      pollMs: 500,
      leaseSeconds: config.events.leaseSeconds,
      log,
      onDead: async (row) => {
        await inTransaction(database, (trx) =>
          raiseAlert(trx, {
            kind: 'dead_event',
            severity: 'critical',
            message: `Event ${row.id} (${row.topic}) failed ${row.attempts} times and was set aside: ${(row.last_error ?? '').split('\n')[0]}`,
            details: { eventId: row.id, topic: row.topic, error: row.last_error },
            openKey: `dead_event:${row.id}`,
          }),
        );
      },
    });
    // Objects written while nothing listened (a crash between the write and the enqueue) get their events now.
    const missing = await reconcileObjects(store, queue, routes);
    if (missing > 0) log.warn({ missing }, 'queued events for objects that had none');
    runtime = {
      queue,
      worker,
      drain: () => worker.drain(),
      start: () => worker.start(),
      stop: () => worker.stop(),
    };
  }

  return {
    ctx,
    runtime,
    migrations,
    close: async () => {
      for (const u of unbind) u();
      await runtime?.stop();
      await database.close();
    },
  };
}
