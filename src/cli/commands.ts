// Subcommands for operators: the event queue (list, replay) and the demo data generator.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { App } from '../app.ts';
import { writeDemoFiles } from '../demo/write.ts';
import { ShopflowError } from '../errors.ts';
import { backupDatabase, restoreDatabase } from '../ops/backup.ts';
import { EVENT_STATUSES, type EventStatus } from '../runtime/queue.ts';

export interface CliKit {
  withApp<T>(fn: (app: App) => Promise<T>, opts?: { runtime?: boolean }): Promise<T>;
  printJson(v: unknown): void;
  printTable(header: string[], rows: Array<Array<string | number>>): void;
  positiveInt(v: string): number;
  date(v: string): string;
}

function runtimeOf(app: App) {
  if (!app.runtime) throw new ShopflowError('config', 'the local event queue exists only with SHOPFLOW_MODE=local');
  return app.runtime;
}

export function registerCommands(program: Command, kit: CliKit): void {
  const events = program
    .command('events')
    .description('the local event queue (what S3 notifications + Lambda do in AWS)');
  events
    .command('list')
    .description('queued, running, finished and dead events')
    .option('--status <status>', `one of ${EVENT_STATUSES.join(', ')}`)
    .option('--topic <topic>', 'only this topic (ingest, alerts)')
    .option('--limit <n>', 'at most this many', kit.positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(async (o: { status?: string; topic?: string; limit: number; json?: boolean }) => {
      if (o.status && !(EVENT_STATUSES as readonly string[]).includes(o.status)) {
        throw new ShopflowError('invalid_input', `--status must be one of ${EVENT_STATUSES.join(', ')}`);
      }
      const rows = await kit.withApp(
        (app) =>
          runtimeOf(app).queue.list({ status: o.status as EventStatus | undefined, topic: o.topic, limit: o.limit }),
        { runtime: true },
      );
      const view = rows.map((r) => ({
        id: r.id,
        topic: r.topic,
        status: r.status,
        attempts: r.attempts,
        maxAttempts: r.max_attempts,
        availableAt: r.available_at,
        lastError: r.last_error,
        payload: JSON.parse(r.payload) as unknown,
      }));
      if (o.json) return kit.printJson(view);
      kit.printTable(
        ['id', 'topic', 'status', 'attempts', 'object', 'last error'],
        view.map((v) => [
          v.id,
          v.topic,
          v.status,
          `${v.attempts}/${v.maxAttempts}`,
          objectOf(v.payload),
          (v.lastError ?? '').slice(0, 60),
        ]),
      );
    });
  events
    .command('replay <id>')
    .description('send a dead event through its handler again')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const row = await kit.withApp(
        async (app) => {
          const rt = runtimeOf(app);
          const r = await rt.queue.replay(kit.positiveInt(id));
          await rt.drain();
          return (await rt.queue.get(r.id)) ?? r;
        },
        { runtime: true },
      );
      if (o.json)
        return kit.printJson({ id: row.id, status: row.status, attempts: row.attempts, lastError: row.last_error });
      process.stdout.write(`event ${row.id}: ${row.status}${row.last_error ? ` (${row.last_error})` : ''}\n`);
    });

  program
    .command('backup')
    .description('copy the database, consistently and while it runs, into the backups bucket')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const r = await kit.withApp((app) => backupDatabase(app.ctx));
      if (o.json) return kit.printJson(r);
      process.stdout.write(`backup saved to ${r.bucket}/${r.key} (version ${r.versionId}, ${r.bytes} bytes)\n`);
    });
  program
    .command('restore <key>')
    .description('restore a backup from the backups bucket (SQLite: into --to FILE, then swap it in while stopped)')
    .option('--to <file>', 'SQLite: where to write the restored database file')
    .option('--version <id>', 'an earlier version of the backup object')
    .action(async (key: string, o: { to?: string; version?: string }) => {
      await kit.withApp((app) => restoreDatabase(app.ctx, key, { targetFile: o.to, versionId: o.version }));
      process.stdout.write(`restored ${key}${o.to ? ` into ${o.to}` : ''}\n`);
    });

  const demo = program.command('demo').description('deterministic demo data');
  demo
    .command('generate')
    .description('write master-data and daily sales files of a demo chain')
    .option('--stores <n>', 'stores', kit.positiveInt, 5)
    .option('--products <n>', 'products', kit.positiveInt, 200)
    .option('--days <n>', 'days of sales', kit.positiveInt, 7)
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 1)
    .option('--start <date>', 'first business day', kit.date)
    .option('--out <dir>', 'output directory', 'demo-data')
    .option('--json', 'machine-readable output')
    .action(
      async (o: {
        stores: number;
        products: number;
        days: number;
        seed: number;
        start?: string;
        out: string;
        json?: boolean;
      }) => {
        const dir = resolve(o.out);
        const files = await writeDemoFiles(dir, {
          stores: o.stores,
          products: o.products,
          days: o.days,
          seed: o.seed,
          ...(o.start ? { startDate: o.start } : {}),
        });
        if (o.json) return kit.printJson({ dir, files });
        process.stdout.write(`wrote ${files.length} files under ${dir}\n`);
      },
    );
}

function objectOf(payload: unknown): string {
  const rec = (payload as { Records?: Array<{ s3?: { object?: { key?: string } } }> })?.Records?.[0];
  return rec?.s3?.object?.key ?? '';
}
