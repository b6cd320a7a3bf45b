// The application context inside AWS Lambda: built once per container (cold start) and reused by later
// invocations. The database URL is assembled from a Secrets Manager secret when SHOPFLOW_DB_SECRET_ARN is set, so
// no password sits in the function's environment.

import { makeLogger } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { AppContext } from '../context.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { openObjectStore } from '../storage/open.ts';

let cached: Promise<AppContext> | undefined;

async function databaseUrlFromSecret(arn: string): Promise<string> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const r = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  const s = JSON.parse(r.SecretString ?? '{}') as {
    username?: string;
    password?: string;
    host?: string;
    port?: number;
    dbname?: string;
  };
  const host = process.env.SHOPFLOW_DB_HOST ?? s.host;
  const port = process.env.SHOPFLOW_DB_PORT ?? String(s.port ?? 3306);
  const name = process.env.SHOPFLOW_DB_NAME ?? s.dbname ?? 'shopflow';
  if (!host || !s.username) throw new Error('the database secret has no host or username');
  return `mysql://${encodeURIComponent(s.username)}:${encodeURIComponent(s.password ?? '')}@${host}:${port}/${name}`;
}

export function lambdaRuntime(): Promise<AppContext> {
  cached ??= (async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SHOPFLOW_MODE: 'aws' };
    if (process.env.SHOPFLOW_DB_SECRET_ARN && !process.env.SHOPFLOW_DATABASE_URL) {
      env.SHOPFLOW_DATABASE_URL = await databaseUrlFromSecret(process.env.SHOPFLOW_DB_SECRET_ARN);
    }
    const config = loadConfig(env);
    const database = await connect(config.databaseUrl, { pool: config.dbPool });
    await migrate(database);
    return { config, database, store: openObjectStore(config), log: makeLogger(config) };
  })().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}
