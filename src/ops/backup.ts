// The application's own database backup, into the backups bucket (versioned, replicated in AWS), beside the EBS
// snapshots. SQLite: `VACUUM INTO` takes a consistent copy while the server keeps writing (a raw copy of the .db file
// is not a backup under WAL). MySQL/MariaDB: `mariadb-dump --single-transaction`, a consistent InnoDB snapshot.
// Both are gzipped and put at db/<UTC timestamp>.<sqlite|sql>.gz.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { AppContext } from '../context.ts';
import { parseMysqlUrl } from '../db/connect.ts';
import { ShopflowError } from '../errors.ts';

export interface BackupResult {
  bucket: string;
  key: string;
  versionId: string;
  bytes: number;
}

function mysqlArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv; database: string } {
  const c = parseMysqlUrl(url);
  // the password goes through the environment, never on a command line other users can read
  return {
    args: ['-h', c.host, '-P', String(c.port), '-u', c.user],
    env: { ...process.env, MYSQL_PWD: c.password },
    database: c.database,
  };
}

async function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: Readable,
  stdout?: (out: Readable) => Promise<void>,
) {
  const child = spawn(cmd, args, { env, stdio: [stdin ? 'pipe' : 'ignore', stdout ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  const piping: Promise<unknown>[] = [];
  if (stdin && child.stdin) piping.push(pipeline(stdin, child.stdin));
  if (stdout && child.stdout) piping.push(stdout(child.stdout));
  const [code] = await Promise.all([exited, ...piping]);
  if (code !== 0)
    throw new ShopflowError('unavailable', `${cmd} failed (exit ${code}): ${stderr.trim().slice(0, 500)}`);
}

export async function backupDatabase(ctx: AppContext, now = new Date()): Promise<BackupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-backup-'));
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  try {
    const gz = join(dir, 'backup.gz');
    let key: string;
    if (ctx.database.dialect === 'sqlite') {
      const copy = join(dir, 'copy.sqlite');
      ctx.database.sqlite!.prepare('vacuum into ?').run(copy);
      await pipeline(createReadStream(copy), createGzip(), createWriteStream(gz));
      key = `db/${stamp}.sqlite.gz`;
    } else {
      const m = mysqlArgs(ctx.database.url);
      await run(
        'mariadb-dump',
        [...m.args, '--single-transaction', '--routines', '--triggers', m.database],
        m.env,
        undefined,
        (out) => pipeline(out, createGzip(), createWriteStream(gz)),
      );
      key = `db/${stamp}.sql.gz`;
    }
    const info = await ctx.store.put(ctx.config.buckets.backups, key, createReadStream(gz), {
      contentType: 'application/gzip',
    });
    return { bucket: info.bucket, key: info.key, versionId: info.versionId, bytes: info.size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Restores a backup from the bucket. SQLite: written to `targetFile` (a path the server is not using; move it into
 * place while the server is stopped). MySQL: loaded into the configured database.
 */
export async function restoreDatabase(
  ctx: AppContext,
  key: string,
  opts: { targetFile?: string; versionId?: string } = {},
): Promise<void> {
  const { body } = await ctx.store.get(
    ctx.config.buckets.backups,
    key,
    opts.versionId ? { versionId: opts.versionId } : {},
  );
  if (key.endsWith('.sqlite.gz')) {
    if (!opts.targetFile) throw new ShopflowError('invalid_input', 'restoring a SQLite backup needs --to FILE');
    await pipeline(body, createGunzip(), createWriteStream(opts.targetFile, { flags: 'wx' }));
    return;
  }
  if (!key.endsWith('.sql.gz') || ctx.database.dialect !== 'mysql') {
    throw new ShopflowError('invalid_input', `${key} is not a backup this database can load`);
  }
  const m = mysqlArgs(ctx.database.url);
  await run('mariadb', [...m.args, m.database], m.env, Readable.from(body.pipe(createGunzip())));
}
