// Operations endpoints, outside /api/v1: liveness (/healthz: the process answers), readiness (/readyz: the
// database and the buckets answer; a load balancer stops sending traffic while it is 503) and /metrics.

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { sql } from 'kysely';
import { CONTENT_TYPE, metrics } from '../../ops/metrics.ts';
import { problemResponse, sendProblem } from '../problem.ts';

// A probe that hangs is as bad as one that fails, and must not hold the probe's own HTTP timeout hostage.
const CHECK_TIMEOUT_MS = 3000;

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

const readySchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready'] },
    checks: {
      type: 'object',
      properties: { database: { type: 'string' }, store: { type: 'string' } },
    },
  },
} as const;

export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { database, store, config } = app.ctx;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process is running',
        response: {
          200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
        },
      },
    },
    async (_request, reply) => {
      noStore(reply);
      return { status: 'ok' };
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the database answers and the sales and reports buckets are reachable',
        response: { 200: readySchema, 503: problemResponse('a dependency is down; `errors` names which') },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const [db, bucket] = await Promise.allSettled([
        within(CHECK_TIMEOUT_MS, sql`select 1`.execute(database.db)),
        within(CHECK_TIMEOUT_MS, store.check([config.buckets.sales, config.buckets.reports])),
      ]);
      const down: { where: string; problem: string }[] = [];
      // The reasons go to the log only: driver messages carry host names and paths a caller has no use for.
      if (db.status === 'rejected') {
        request.log.warn({ err: db.reason }, 'readiness: database check failed');
        down.push({ where: 'database', problem: 'does not answer select 1' });
      }
      if (bucket.status === 'rejected') {
        request.log.warn({ err: bucket.reason }, 'readiness: object store check failed');
        down.push({
          where: 'store',
          problem: `buckets ${config.buckets.sales} and ${config.buckets.reports} are not reachable`,
        });
      }
      if (down.length === 0) return { status: 'ready', checks: { database: 'ok', store: 'ok' } };
      return sendProblem(request, reply, {
        problem: {
          type: 'urn:shopflow:problem:unavailable',
          title: 'Service Unavailable',
          status: 503,
          detail: `not ready: ${down.map((d) => d.where).join(' and ')} down`,
          errors: down,
        },
        internal: false,
      });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus text exposition (format 0.0.4)' } },
    async (_request, reply) => {
      noStore(reply);
      return reply.type(CONTENT_TYPE).send(await metrics.render());
    },
  );
};
