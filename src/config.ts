// One typed configuration, read from the environment and validated once at start. Defaults run everything on one
// machine: a SQLite file and versioned buckets under ./data. Secrets (database password, SMTP password, webhook
// secret) are never printed: `describeConfig` masks them.
import { resolve } from 'node:path';
import { z } from 'zod';
import { ShopflowError } from './errors.ts';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const ianaZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone name (e.g. America/Sao_Paulo)' },
);

const schema = z.object({
  SHOPFLOW_DATA_DIR: z.string().default('./data'),
  SHOPFLOW_DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|mysql:\/\/|mariadb:\/\/)/, 'must start with sqlite: or mysql://')
    .optional(),
  SHOPFLOW_SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  SHOPFLOW_DB_POOL: z.coerce.number().int().min(1).max(200).default(10),
  /** `local:<dir>` (default `<data dir>/buckets`) or `s3://` (buckets by name, optional endpoint below) */
  SHOPFLOW_STORAGE: z
    .string()
    .regex(/^(local:|s3:\/\/)/, 'must start with local: or s3://')
    .optional(),
  SHOPFLOW_S3_ENDPOINT: z.string().url().optional(),
  SHOPFLOW_S3_REGION: z.string().default('us-east-1'),
  SHOPFLOW_S3_FORCE_PATH_STYLE: bool.default(false),
  SHOPFLOW_SALES_BUCKET: z.string().min(3).default('supermarket-sales-data'),
  SHOPFLOW_REPORTS_BUCKET: z.string().min(3).default('supermarket-reports'),
  SHOPFLOW_BACKUPS_BUCKET: z.string().min(3).default('shopflow-backups'),
  SHOPFLOW_HOST: z.string().default('127.0.0.1'),
  SHOPFLOW_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SHOPFLOW_TIMEZONE: ianaZone.default('America/Sao_Paulo'),
  SHOPFLOW_CURRENCY: z.string().length(3).default('BRL'),
  SHOPFLOW_LOCALE: z.string().default('pt-BR'),
  SHOPFLOW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `local` runs the event worker and scheduler in-process; `aws` leaves events to S3 notifications + Lambda */
  SHOPFLOW_MODE: z.enum(['local', 'aws']).default('local'),
  SHOPFLOW_DEMO: bool.default(true),
  SHOPFLOW_REJECT_THRESHOLD: z.coerce.number().min(0).max(1).default(0.05),
  SHOPFLOW_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  /** limit of a file's bytes once decompressed (.csv.gz), and of any file read by the ingest */
  SHOPFLOW_MAX_EXPANDED_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
  SHOPFLOW_MAX_RECORD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  SHOPFLOW_EVENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  SHOPFLOW_EVENT_LEASE_SECONDS: z.coerce.number().int().min(1).default(300),
  SHOPFLOW_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** how often self-service stores' stock is written to the reports bucket; a whole fraction of an hour or a day */
  SHOPFLOW_SNAPSHOT_MINUTES: z.coerce
    .number()
    .int()
    .refine((m) => (m >= 1 && m < 60 && 60 % m === 0) || (m >= 60 && m % 60 === 0 && 1440 % m === 0), {
      message: 'must divide an hour (1–30) or be whole hours dividing a day (60, 120, 180, 240, 360, 480, 720, 1440)',
    })
    .default(60),
  SHOPFLOW_SMTP_URL: z.string().optional(),
  SHOPFLOW_MAIL_FROM: z.string().default('shopflow@localhost'),
  SHOPFLOW_WEBHOOK_URL: z.string().url().optional(),
  SHOPFLOW_WEBHOOK_SECRET: z.string().optional(),
  SHOPFLOW_SNS_ENDPOINT: z.string().url().optional(),
  /** SMS through SNS: every alert digest is also published to this topic */
  SHOPFLOW_SNS_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
    .optional(),
  SHOPFLOW_SNS_REGION: z.string().optional(),
  /** SMS through SNS straight to the phone numbers of the default recipients (store managers) */
  SHOPFLOW_SMS_TO_PHONES: bool.default(false),
  /** the language of alert e-mails, SMS and webhook texts: the stores' managers read Portuguese */
  SHOPFLOW_ALERT_LANGUAGE: z.enum(['pt', 'en']).default('pt'),
  /** alerts of one store raised within this window go out as one message */
  SHOPFLOW_ALERT_DIGEST_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** a file store's daily file is missing this long after its closing time */
  SHOPFLOW_MISSING_FILE_GRACE_MINUTES: z.coerce.number().int().min(0).max(1440).default(120),
  SHOPFLOW_COOKIE_SECURE: bool.default(false),
  /** how long a kiosk's Idempotency-Key is remembered (a retry after that is a new purchase) */
  SHOPFLOW_IDEMPOTENCY_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});

export type Env = z.infer<typeof schema>;

export interface Config {
  dataDir: string;
  databaseUrl: string;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  dbPool: number;
  storage: { kind: 'local'; root: string } | { kind: 's3'; endpoint?: string; region: string; forcePathStyle: boolean };
  buckets: { sales: string; reports: string; backups: string };
  host: string;
  port: number;
  timezone: string;
  currency: string;
  locale: string;
  logLevel: Env['SHOPFLOW_LOG_LEVEL'];
  mode: 'local' | 'aws';
  demo: boolean;
  rejectThreshold: number;
  maxFileBytes: number;
  maxExpandedBytes: number;
  maxRecordBytes: number;
  events: { maxAttempts: number; leaseSeconds: number; concurrency: number };
  /** minutes between stock snapshots of self-service stores */
  snapshotMinutes: number;
  smtpUrl?: string;
  mailFrom: string;
  webhookUrl?: string;
  webhookSecret?: string;
  snsEndpoint?: string;
  alerts: {
    snsTopicArn?: string;
    snsRegion: string;
    smsToPhones: boolean;
    digestSeconds: number;
    missingFileGraceMinutes: number;
    language: 'pt' | 'en';
  };
  cookieSecure: boolean;
  idempotencyDays: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('SHOPFLOW_') && v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ where: String(i.path.join('.')), problem: i.message }));
    const lines = details.map((d) => `${d.where} ${d.problem}`).join('; ');
    throw new ShopflowError('config', `invalid configuration: ${lines}`, details);
  }
  const e = parsed.data;
  const dataDir = resolve(e.SHOPFLOW_DATA_DIR);
  const storage: Config['storage'] = e.SHOPFLOW_STORAGE?.startsWith('s3://')
    ? {
        kind: 's3',
        endpoint: e.SHOPFLOW_S3_ENDPOINT,
        region: e.SHOPFLOW_S3_REGION,
        forcePathStyle: e.SHOPFLOW_S3_FORCE_PATH_STYLE,
      }
    : { kind: 'local', root: resolve(e.SHOPFLOW_STORAGE?.slice('local:'.length) || `${dataDir}/buckets`) };
  return {
    dataDir,
    databaseUrl: e.SHOPFLOW_DATABASE_URL ?? `sqlite:${dataDir}/shopflow.db`,
    sqliteSynchronous: e.SHOPFLOW_SQLITE_SYNCHRONOUS,
    dbPool: e.SHOPFLOW_DB_POOL,
    storage,
    buckets: { sales: e.SHOPFLOW_SALES_BUCKET, reports: e.SHOPFLOW_REPORTS_BUCKET, backups: e.SHOPFLOW_BACKUPS_BUCKET },
    host: e.SHOPFLOW_HOST,
    port: e.SHOPFLOW_PORT,
    timezone: e.SHOPFLOW_TIMEZONE,
    currency: e.SHOPFLOW_CURRENCY,
    locale: e.SHOPFLOW_LOCALE,
    logLevel: e.SHOPFLOW_LOG_LEVEL,
    mode: e.SHOPFLOW_MODE,
    demo: e.SHOPFLOW_DEMO,
    rejectThreshold: e.SHOPFLOW_REJECT_THRESHOLD,
    maxFileBytes: e.SHOPFLOW_MAX_FILE_BYTES,
    maxExpandedBytes: e.SHOPFLOW_MAX_EXPANDED_BYTES,
    maxRecordBytes: e.SHOPFLOW_MAX_RECORD_BYTES,
    events: {
      maxAttempts: e.SHOPFLOW_EVENT_MAX_ATTEMPTS,
      leaseSeconds: e.SHOPFLOW_EVENT_LEASE_SECONDS,
      concurrency: e.SHOPFLOW_WORKER_CONCURRENCY,
    },
    snapshotMinutes: e.SHOPFLOW_SNAPSHOT_MINUTES,
    smtpUrl: e.SHOPFLOW_SMTP_URL,
    mailFrom: e.SHOPFLOW_MAIL_FROM,
    webhookUrl: e.SHOPFLOW_WEBHOOK_URL,
    webhookSecret: e.SHOPFLOW_WEBHOOK_SECRET,
    snsEndpoint: e.SHOPFLOW_SNS_ENDPOINT,
    alerts: {
      snsTopicArn: e.SHOPFLOW_SNS_TOPIC_ARN,
      snsRegion: e.SHOPFLOW_SNS_REGION ?? e.SHOPFLOW_S3_REGION,
      smsToPhones: e.SHOPFLOW_SMS_TO_PHONES,
      digestSeconds: e.SHOPFLOW_ALERT_DIGEST_SECONDS,
      missingFileGraceMinutes: e.SHOPFLOW_MISSING_FILE_GRACE_MINUTES,
      language: e.SHOPFLOW_ALERT_LANGUAGE,
    },
    cookieSecure: e.SHOPFLOW_COOKIE_SECURE,
    idempotencyDays: e.SHOPFLOW_IDEMPOTENCY_DAYS,
  };
}

/** A printable view of the configuration: passwords in URLs and secrets are masked. */
export function describeConfig(c: Config): Record<string, unknown> {
  const maskUrl = (u: string | undefined) => u?.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
  return {
    ...c,
    databaseUrl: maskUrl(c.databaseUrl),
    smtpUrl: maskUrl(c.smtpUrl),
    webhookSecret: c.webhookSecret ? '***' : undefined,
  };
}
