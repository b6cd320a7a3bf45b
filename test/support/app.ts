// A whole application for a test: a fresh database of the dialect, versioned local buckets in a temp directory,
// the local event runtime, and no demo data. Everything is real; only the locations are temporary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, openApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Dialect } from '../../src/db/connect.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestApp {
  app: App;
  config: Config;
  dir: string;
  env: Record<string, string>;
  db: TestDatabase;
  close(): Promise<void>;
}

export async function createTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase(dialect, { migrated: false });
  const dir = mkdtempSync(join(tmpdir(), 'shopflow-app-'));
  const fullEnv: Record<string, string> = {
    SHOPFLOW_DATABASE_URL: db.url,
    SHOPFLOW_DATA_DIR: dir,
    SHOPFLOW_STORAGE: `local:${join(dir, 'buckets')}`,
    SHOPFLOW_DEMO: 'false',
    SHOPFLOW_LOG_LEVEL: 'silent',
    SHOPFLOW_SQLITE_SYNCHRONOUS: 'NORMAL',
    ...env,
  };
  const config = loadConfig(fullEnv);
  // the test database handle is only used to create and drop it; the app opens its own connection
  await db.database.close();
  const app = await openApp(config, { runtime: true, log: pino({ level: 'silent' }) });
  return {
    app,
    config,
    dir,
    env: fullEnv,
    db,
    close: async () => {
      await app.close().catch(() => {});
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
