// The `shopflow` command. Each subcommand opens the app (configuration from the environment, database migrated,
// buckets ready), does one thing and prints either a human table or, with --json, machine-readable JSON. Errors
// print one line and exit non-zero; the exit code comes from the error kind (src/errors.ts), in this one place.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { type App, openApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { isValidIsoDate } from '../domain/dates.ts';
import { isShopflowError, ShopflowError } from '../errors.ts';
import { fileDetail, listFiles } from '../ingest/files.ts';
import { ingestLocalFile } from '../ingest/submit.ts';
import { listStock } from '../inventory/queries.ts';
import { type ImportResult, importProducts, importStock, importStores } from '../masterdata/import.ts';
import { SALES_GROUPINGS, type SalesGrouping, salesBy } from '../sales/queries.ts';
import { registerCommands } from './commands.ts';
import { printTable } from './output.ts';
import { registerReportCommands } from './reports.ts';
import { registerRestockCommands } from './restock.ts';
import { registerUserCommands } from './users.ts';

type Out = { json?: boolean };

const date = (v: string) => {
  if (!isValidIsoDate(v)) throw new InvalidArgumentError(`"${v}" is not a date (YYYY-MM-DD)`);
  return v;
};
const positiveInt = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`"${v}" is not a whole number ≥ 1`);
  return Number(v);
};

async function withApp<T>(fn: (app: App) => Promise<T>, opts: { runtime?: boolean } = {}): Promise<T> {
  const app = await openApp(loadConfig(), { runtime: opts.runtime ?? false, quiet: true });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function printJson(v: unknown) {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

function printImport(what: string, r: ImportResult, o: Out) {
  if (o.json) return printJson(r);
  process.stdout.write(
    `${what}: ${r.inserted} added, ${r.updated} updated, ${r.rejected.length} rejected of ${r.rowsTotal} lines\n`,
  );
  for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
  for (const e of r.rejected) {
    process.stdout.write(`  line ${e.line}, ${e.column} ${JSON.stringify(e.value)}: ${e.reason}\n`);
  }
}

export function buildProgram(): Command {
  const program = new Command('shopflow')
    .description('Sales and inventory for a supermarket chain and self-service stores')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('start the server (API, dashboard, kiosk) with the local event worker and scheduler')
    .action(async () => {
      const { serve } = await import('../server/serve.ts');
      await serve(loadConfig());
    });

  program
    .command('migrate')
    .description('bring the database schema up to date')
    .option('--json', 'machine-readable output')
    .action(async (o: Out) => {
      await withApp(async (app) => {
        if (o.json) printJson({ applied: app.migrations });
        else process.stdout.write(app.migrations.length ? `applied: ${app.migrations.join(', ')}\n` : 'up to date\n');
      });
    });

  const importer =
    (what: string, fn: typeof importStores) =>
    async (file: string, o: Out): Promise<void> => {
      const bytes = await readInput(file);
      const r = await withApp((app) => fn(app.ctx.database, bytes, 'cli'));
      printImport(what, r, o);
    };
  program
    .command('stores')
    .description('stores of the chain')
    .command('import <file>')
    .description('add or update stores from a CSV file')
    .option('--json', 'machine-readable output')
    .action(importer('stores', importStores));
  program
    .command('products')
    .description('the product catalogue')
    .command('import <file>')
    .description('add or update products from a CSV file')
    .option('--json', 'machine-readable output')
    .action(importer('products', importProducts));

  const stock = program.command('stock').description('stock balances, counts and levels');
  stock
    .command('import <file>')
    .description('import stock counts and reorder levels from a CSV file')
    .option('--json', 'machine-readable output')
    .action(importer('stock', importStock));
  stock
    .command('list')
    .description('stock per store and product')
    .option('--store <code>', 'only this store')
    .option('--low', 'only products at or below their reorder point')
    .option('--json', 'machine-readable output')
    .action(async (o: Out & { store?: string; low?: boolean }) => {
      const items = await withApp((app) => listStock(app.ctx.database.db, { store: o.store, low: o.low }));
      if (o.json) {
        return printJson(
          items.map((i) => ({
            store: i.store,
            sku: i.sku,
            onHand: i.onHand,
            reorderPoint: i.reorderPoint,
            targetLevel: i.targetLevel,
            low: i.low,
          })),
        );
      }
      printTable(
        ['store', 'sku', 'name', 'on hand', 'reorder at', 'target', 'low'],
        items.map((i) => [
          i.store,
          i.sku,
          i.name,
          i.onHand,
          i.reorderPoint ?? '',
          i.targetLevel ?? '',
          i.low ? 'LOW' : '',
        ]),
      );
    });

  program
    .command('ingest <file>')
    .description('put a daily sales file in the sales bucket, wait for the ingest and print its result')
    .requiredOption('--store <code>', 'store code')
    .requiredOption('--date <date>', 'business date YYYY-MM-DD', date)
    .option('--name <name>', 'file name in the bucket (default: the file name)')
    .option('--timeout <seconds>', 'how long to wait for the result', positiveInt, 600)
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: Out & { store: string; date: string; name?: string; timeout: number }) => {
      const bytes = await readInput(file);
      const r = await withApp(
        (app) =>
          ingestLocalFile(app, {
            bytes,
            storeCode: o.store,
            businessDate: o.date,
            fileName: o.name ?? basename(file),
            timeoutMs: o.timeout * 1000,
          }),
        { runtime: true },
      );
      if (o.json) {
        const { status, rowsTotal, rowsLoaded, rowsRejected, rejections, reason } = r;
        printJson({ status, rowsTotal, rowsLoaded, rowsRejected, rejections, ...(reason ? { reason } : {}) });
      } else {
        process.stdout.write(
          `${r.status}: ${r.rowsLoaded} of ${r.rowsTotal} lines loaded, ${r.rowsRejected} rejected${r.reason ? ` — ${r.reason}` : ''}\n`,
        );
        for (const e of r.rejections) {
          process.stdout.write(`  line ${e.line}, ${e.column} ${JSON.stringify(e.value)}: ${e.reason}\n`);
        }
      }
      if (r.status === 'failed') process.exitCode = 1;
    });

  program
    .command('sales')
    .description('sales totals for a period')
    .requiredOption('--from <date>', 'first day YYYY-MM-DD', date)
    .requiredOption('--to <date>', 'last day YYYY-MM-DD', date)
    .option('--store <code>', 'only this store')
    .option('--by <grouping>', `one of ${SALES_GROUPINGS.join(', ')}`, 'day')
    .option('--json', 'machine-readable output')
    .action(async (o: Out & { from: string; to: string; store?: string; by: string }) => {
      if (!(SALES_GROUPINGS as readonly string[]).includes(o.by)) {
        throw new ShopflowError('invalid_input', `--by must be one of ${SALES_GROUPINGS.join(', ')}`);
      }
      const rows = await withApp((app) =>
        salesBy(app.ctx.database.db, { from: o.from, to: o.to, store: o.store, by: o.by as SalesGrouping }),
      );
      if (o.json) return printJson(rows);
      printTable(
        [o.by, 'quantity', 'revenue', 'tickets'],
        rows.map((r) => [r.key, r.quantity, (r.revenueCents / 100).toFixed(2), r.tickets]),
      );
    });

  const files = program.command('files').description('ingested sales files');
  files
    .command('list')
    .description('files, newest first')
    .option('--store <code>', 'only this store')
    .option('--date <date>', 'only this business day', date)
    .option('--status <status>', 'only this status')
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(async (o: Out & { store?: string; date?: string; status?: string; limit: number }) => {
      const rows = await withApp((app) => listFiles(app.ctx.database.db, o));
      if (o.json) return printJson(rows);
      printTable(
        ['id', 'store', 'date', 'status', 'lines', 'loaded', 'rejected', 'key'],
        rows.map((f) => [
          f.id,
          f.store ?? '',
          f.businessDate ?? '',
          f.status,
          f.rowsTotal,
          f.rowsLoaded,
          f.rowsRejected,
          f.key,
        ]),
      );
    });
  files
    .command('show <id>')
    .description('one file, its result and its rejected lines')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: Out) => {
      const f = await withApp((app) => fileDetail(app.ctx.database.db, positiveInt(id)));
      if (o.json) return printJson(f);
      process.stdout.write(
        `file ${f.id}: ${f.key}\n  store ${f.store ?? '?'}, day ${f.businessDate ?? '?'}, status ${f.status}\n  ${f.rowsLoaded} of ${f.rowsTotal} lines loaded, ${f.rowsRejected} rejected\n`,
      );
      if (f.reason) process.stdout.write(`  reason: ${f.reason}\n`);
      if (f.warnings) process.stdout.write(`  warning: ${f.warnings}\n`);
      for (const e of f.rejections) {
        process.stdout.write(`  line ${e.line}, ${e.column} ${JSON.stringify(e.value)}: ${e.reason}\n`);
      }
    });

  registerCommands(program, { withApp, printJson, printTable, positiveInt, date });
  registerUserCommands(program, { withApp, printJson, printTable, positiveInt, date });
  registerRestockCommands(program, { withApp, printJson, printTable, positiveInt, date });
  registerReportCommands(program, { withApp, printJson, printTable, positiveInt, date });
  return program;
}

async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ShopflowError(
      'invalid_input',
      code === 'ENOENT' ? `file ${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`,
    );
  }
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version end here too, with code 0; commander already printed the message
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isShopflowError(e)) {
      const where = e.details.map((d) => `${d.where}: ${d.problem}`).join('; ');
      process.stderr.write(`shopflow: ${e.message}${where && !e.message.includes(where) ? ` (${where})` : ''}\n`);
      return e.exitCode;
    }
    process.stderr.write(`shopflow: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
