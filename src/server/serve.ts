// `shopflow serve`: the application server of the seeds' EC2 box, plus, in local mode, the event worker and the
// scheduler that stand in for S3 notifications, Lambda and EventBridge.

import { registerAlertJobs, startNotifyWorker } from '../alerts/jobs.ts';
import { eventRoutes, openApp } from '../app.ts';
import { expireKeys } from '../checkout/idempotency.ts';
import type { Config } from '../config.ts';
import { loadDemoIfEmpty } from '../demo/load.ts';
import { type ReportJobs, registerReportJobs } from '../reports/schedule.ts';
import { reconcileObjects } from '../runtime/object-events.ts';
import { Scheduler } from '../runtime/scheduler.ts';
import { ensureFirstAdmin } from '../users/users.ts';
import { buildServer } from './app.ts';
import { allRoutes } from './routes/index.ts';

export async function serve(config: Config): Promise<void> {
  const app = await openApp(config, { runtime: true });
  const server = await buildServer(app.ctx, { routes: allRoutes });
  const firstAdmin = await ensureFirstAdmin(app.ctx.database);
  let closing = false;
  // assigned once the server listens; a signal may arrive before
  let scheduler: Scheduler | undefined;
  let reportJobs: ReportJobs | undefined;
  // AWS mode: no local runtime, but alert messages still need a worker (src/alerts/jobs.ts)
  const notifier = app.runtime ? undefined : startNotifyWorker(app.ctx);
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.ctx.log.info({ signal }, 'shutting down');
    // in-flight requests get 10 s to finish; a client that stopped sending an upload does not hold the exit
    setTimeout(() => server.server.closeAllConnections(), 10_000).unref();
    await server.close();
    reportJobs?.stop();
    await scheduler?.stop();
    await notifier?.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await server.listen({ host: config.host, port: config.port });
  app.runtime?.start();
  scheduler = new Scheduler(app.ctx.database, { log: app.ctx.log });
  if (app.runtime) {
    const runtime = app.runtime;
    // S3 can drop an event under load, and a crash can fall between a write and its event: once a day every
    // object version under a routed prefix that never got an event gets one now.
    scheduler.add({
      name: 'reconcile-objects',
      cron: '30 3 * * *',
      timezone: config.timezone,
      run: async () => {
        const missing = await reconcileObjects(app.ctx.store, runtime.queue, eventRoutes(config));
        if (missing > 0) app.ctx.log.warn({ missing }, 'reconciliation queued events for unprocessed objects');
      },
    });
  }
  scheduler.add({
    name: 'expire-idempotency-keys',
    cron: '15 4 * * *',
    timezone: config.timezone,
    run: async () => {
      const removed = await expireKeys(app.ctx.database.db, config.idempotencyDays);
      app.ctx.log.info({ removed, days: config.idempotencyDays }, 'expired old idempotency keys');
    },
  });
  // the digest queues `notify` events for the worker; the missing-file check raises alerts
  registerAlertJobs(scheduler, app.ctx);
  // daily reports at each store's closing time, the chain's weekly ones, self-service stock snapshots; in AWS mode
  // too: the server writes them to the real bucket, whose notifications reach the alerts Lambda
  reportJobs = await registerReportJobs(scheduler, app.ctx);
  scheduler.start();
  if (config.demo && (await loadDemoIfEmpty(app))) {
    process.stdout.write('A demo chain was loaded (set SHOPFLOW_DEMO=false to start empty).\n');
    // its stores get their closing-time reports now, not at the next periodic sync
    await reportJobs.sync();
  }
  const address = server.addresses()[0] as { address: string; family: string; port: number } | undefined;
  const url = address
    ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : '';
  // The only time the first admin's password exists outside its hash: written to the terminal, never logged. One
  // write with the address line, so whoever reads that line has the password too.
  const firstStart = firstAdmin
    ? `First start: log in at ${url} as "${firstAdmin.username}" with password ${firstAdmin.password} ` +
      '(shown once; change it after logging in, or set another with `shopflow users passwd admin`).\n'
    : '';
  process.stdout.write(
    `shopflow is running at ${url} — API docs at ${url}/docs, health at ${url}/healthz\n${firstStart}`,
  );
}
