// The whole HTTP server of a test app on a loopback port: every route of src/server/routes/index.ts, real database,
// real buckets, real event runtime (drain it with `t.app.runtime.drain()`).
import type { FastifyInstance } from 'fastify';
import type { Dialect } from '../../src/db/connect.ts';
import { buildServer } from '../../src/server/app.ts';
import { allRoutes } from '../../src/server/routes/index.ts';
import { createTestApp, type TestApp } from './app.ts';

export interface TestServer extends TestApp {
  server: FastifyInstance;
  baseUrl: string;
}

export async function startTestServer(dialect: Dialect, env: Record<string, string> = {}): Promise<TestServer> {
  const t = await createTestApp(dialect, env);
  const server = await buildServer(t.app.ctx, { logger: false, routes: allRoutes });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.addresses()[0] as { port: number };
  return {
    ...t,
    server,
    baseUrl: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      // A test may leave a request half-sent (a streamed upload answered 413 early): close its socket rather than
      // wait for a body that will never come.
      server.server.closeAllConnections();
      await server.close();
      await t.close();
    },
  };
}
