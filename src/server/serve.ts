// `shopflow serve`: the application server of the seeds' EC2 box, plus, in local mode, the event worker and the
// scheduler that stand in for S3 notifications, Lambda and EventBridge.
import { openApp } from '../app.ts';
import type { Config } from '../config.ts';
import { loadDemoIfEmpty } from '../demo/load.ts';
import { buildServer } from './app.ts';
import { allRoutes } from './routes/index.ts';

export async function serve(config: Config): Promise<void> {
  const app = await openApp(config, { runtime: true });
  const server = await buildServer(app.ctx, { routes: allRoutes });
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.ctx.log.info({ signal }, 'shutting down');
    await server.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await server.listen({ host: config.host, port: config.port });
  app.runtime?.start();
  if (config.demo && (await loadDemoIfEmpty(app))) {
    process.stdout.write('A demo chain was loaded (set SHOPFLOW_DEMO=false to start empty).\n');
  }
  const address = server.addresses()[0] as { address: string; family: string; port: number } | undefined;
  const url = address
    ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : '';
  process.stdout.write(`shopflow is running at ${url} — API docs at ${url}/docs, health at ${url}/healthz\n`);
}
