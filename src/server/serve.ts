// `shopflow serve`: the application server of the seeds' EC2 box, plus, in local mode, the event worker and the
// scheduler that stand in for S3 notifications, Lambda and EventBridge.
import { eventRoutes, openApp } from '../app.ts';
import type { Config } from '../config.ts';
import { loadDemoIfEmpty } from '../demo/load.ts';
import { reconcileObjects } from '../runtime/object-events.ts';
import { Scheduler } from '../runtime/scheduler.ts';
import { buildServer } from './app.ts';
import { allRoutes } from './routes/index.ts';

export async function serve(config: Config): Promise<void> {
  const app = await openApp(config, { runtime: true });
  const server = await buildServer(app.ctx, { routes: allRoutes });
  let closing = false;
  // assigned once the server listens; a signal may arrive before
  let scheduler: Scheduler | undefined;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.ctx.log.info({ signal }, 'shutting down');
    await server.close();
    await scheduler?.stop();
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
  scheduler.start();
  if (config.demo && (await loadDemoIfEmpty(app))) {
    process.stdout.write('A demo chain was loaded (set SHOPFLOW_DEMO=false to start empty).\n');
  }
  const address = server.addresses()[0] as { address: string; family: string; port: number } | undefined;
  const url = address
    ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : '';
  process.stdout.write(`shopflow is running at ${url} — API docs at ${url}/docs, health at ${url}/healthz\n`);
}
