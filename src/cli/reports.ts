// `shopflow report KIND --date DATE [--to DATE] [--store CODE] --format csv|pdf`: generates a report, saves it to the
// reports bucket like the API and the schedule do, and prints where it went. `shopflow reports list` and
// `shopflow reports get ID [--out FILE]` read the saved ones back. The CLI runs with the operator's rights (it opens
// the database directly), so chain reports need no admin session here.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { ShopflowError } from '../errors.ts';
import { REPORT_FORMATS, REPORT_KINDS, type ReportFormat, type ReportKind } from '../reports/model.ts';
import { generateReport, getReport, listReports, openReport, type SavedReport } from '../reports/service.ts';
import type { CliKit } from './commands.ts';

const oneOf =
  <T extends string>(what: string, values: readonly T[]) =>
  (v: string): T => {
    if (!(values as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`"${v}" is not a ${what}: use ${values.join(', ')}`);
    }
    return v as T;
  };

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function describe(r: SavedReport): string {
  const size = r.pages === null ? kB(r.sizeBytes) : `${r.pages} page${r.pages === 1 ? '' : 's'}, ${kB(r.sizeBytes)}`;
  return `saved ${r.kind} of ${r.store ?? 'the chain'} for ${r.from === r.to ? r.from : `${r.from} to ${r.to}`} to s3://${r.bucket}/${r.key} (report ${r.id}, ${size})`;
}

export function registerReportCommands(program: Command, kit: CliKit): void {
  program
    .command('report <kind>')
    .description(`generate a report into the reports bucket: ${REPORT_KINDS.join(', ')}`)
    .requiredOption('--date <date>', 'the day, or the first day of the period (YYYY-MM-DD)', kit.date)
    .option('--to <date>', 'the last day of the period', kit.date)
    .option('--store <code>', 'one store (default: the whole chain)')
    .requiredOption('--format <format>', 'csv or pdf', oneOf('format', REPORT_FORMATS))
    .option('--top <n>', 'best-sellers: how many products', kit.positiveInt)
    .option('--json', 'machine-readable output')
    .action(
      async (
        kind: string,
        o: { date: string; to?: string; store?: string; format: ReportFormat; top?: number; json?: boolean },
      ) => {
        if (!(REPORT_KINDS as readonly string[]).includes(kind)) {
          throw new ShopflowError('invalid_input', `unknown report "${kind}": use one of ${REPORT_KINDS.join(', ')}`);
        }
        const saved = await kit.withApp((app) =>
          generateReport(
            app.ctx,
            { kind: kind as ReportKind, from: o.date, to: o.to, store: o.store, top: o.top, format: o.format },
            { actor: 'cli' },
          ),
        );
        if (o.json) return kit.printJson(saved);
        process.stdout.write(`${describe(saved)}\n`);
      },
    );

  const reports = program.command('reports').description('saved reports');
  reports
    .command('list')
    .description('saved reports, newest period first')
    .option('--kind <kind>', 'only this kind', oneOf('report kind', REPORT_KINDS))
    .option('--store <code>', 'only this store')
    .option('--format <format>', 'only this format', oneOf('format', REPORT_FORMATS))
    .option('--from <date>', 'periods ending on or after this day', kit.date)
    .option('--to <date>', 'periods starting on or before this day', kit.date)
    .option('--limit <n>', 'at most this many', kit.positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(
      async (o: {
        kind?: ReportKind;
        store?: string;
        format?: ReportFormat;
        from?: string;
        to?: string;
        limit: number;
        json?: boolean;
      }) => {
        const rows = await kit.withApp((app) => listReports(app.ctx.database.db, o));
        if (o.json) return kit.printJson(rows);
        kit.printTable(
          ['id', 'kind', 'store', 'from', 'to', 'format', 'pages', 'key'],
          rows.map((r) => [r.id, r.kind, r.store ?? 'chain', r.from, r.to, r.format, r.pages ?? '', r.key]),
        );
      },
    );
  reports
    .command('get <id>')
    .description('write a saved report to a file (or to stdout)')
    .option('--out <file>', 'where to write it (default: stdout)')
    .action(async (id: string, o: { out?: string }) => {
      await kit.withApp(async (app) => {
        const report = await getReport(app.ctx.database.db, kit.positiveInt(id));
        const file = await openReport(app.ctx, report);
        await pipeline(file.body, o.out ? createWriteStream(o.out) : process.stdout);
        if (o.out) process.stderr.write(`wrote ${file.fileName} (${kB(file.size)}) to ${o.out}\n`);
      });
    });
}
