// The alerts' scheduled jobs, run by the local scheduler (once per slot across processes): the digest every minute,
// and the missing-file check every five minutes (each store's cut-off is in its own time zone, so one chain-wide
// job in UTC looks at all of them).
import type { AppContext } from '../context.ts';
import { EventQueue } from '../runtime/queue.ts';
import type { Scheduler } from '../runtime/scheduler.ts';
import { Worker } from '../runtime/worker.ts';
import { handleNotifyEvent } from './deliver.ts';
import { NOTIFY_MAX_ATTEMPTS, NOTIFY_TOPIC, runDigest } from './digest.ts';
import { checkMissingFiles } from './missing-files.ts';

export const DIGEST_JOB = 'alerts-digest';
export const MISSING_FILES_JOB = 'alerts-missing-files';

export function registerAlertJobs(scheduler: Scheduler, ctx: AppContext): void {
  scheduler.add({
    name: DIGEST_JOB,
    cron: '* * * * *',
    timezone: 'UTC',
    run: async (slot) => {
      const r = await runDigest(ctx, { now: slot });
      if (r.messages > 0) ctx.log.info({ ...r }, 'alert messages queued');
    },
  });
  scheduler.add({
    name: MISSING_FILES_JOB,
    cron: '*/5 * * * *',
    timezone: 'UTC',
    run: async (slot) => {
      const r = await checkMissingFiles(ctx.database, {
        now: slot,
        graceMinutes: ctx.config.alerts.missingFileGraceMinutes,
      });
      if (r.raised.length > 0) ctx.log.warn({ raised: r.raised.length }, 'daily sales files are missing');
    },
  });
}

/**
 * In AWS mode there is no local runtime (S3 notifications call the Lambdas), but alert messages still go through
 * the `notify` events the digest queues in the database: the server runs a worker for them. Nothing else is queued
 * in that mode, so this worker sees only its own topic.
 */
export function startNotifyWorker(ctx: AppContext): Worker {
  const worker = new Worker({
    queue: new EventQueue(ctx.database, { maxAttempts: NOTIFY_MAX_ATTEMPTS }),
    handlers: { [NOTIFY_TOPIC]: (payload, meta) => handleNotifyEvent(ctx, payload, meta) },
    concurrency: 1,
    pollMs: 2000,
    leaseSeconds: ctx.config.events.leaseSeconds,
    log: ctx.log,
  });
  worker.start();
  return worker;
}
