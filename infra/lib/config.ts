// Deployment settings of the CDK app. They come from the `shopflow` object in cdk.json context (or `-c
// shopflow='{...}'`), with a few flat `-c` overrides for the values people change per command line. Every value has
// a default so `cdk synth` works offline from a fresh clone; synth never looks anything up in an AWS account, which
// is why the account, the region and the availability zones are explicit here.

export interface LambdaSettings {
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency: number;
  /** connections each warm instance may open: the app reads it as SHOPFLOW_DB_POOL */
  dbPool: number;
}

export interface InfraConfig {
  stage: string;
  account: string;
  region: string;
  replicaRegion: string;
  availabilityZones: string[];
  vpcCidr: string;
  natGateways: number;
  /** the managed prefix list of S3 in the region (com.amazonaws.<region>.s3); narrows the functions' HTTPS egress */
  s3PrefixListId?: string;
  timezone: string;
  /** Lambda runtime identifier; the bundle targets Node 20 syntax, so any newer Node runtime runs it */
  lambdaRuntime: string;
  buckets: {
    /** prepended to every bucket name; bucket names are global, so the default includes the account */
    prefix: string;
    sales: string;
    reports: string;
    backups: string;
    logs: string;
  };
  lifecycle: {
    rawToInfrequentAccessDays: number;
    rawToGlacierDays: number;
    /** 0 keeps raw sales files forever */
    rawExpireDays: number;
    reportsToInfrequentAccessDays: number;
    snapshotsExpireDays: number;
    noncurrentToGlacierDays: number;
    noncurrentExpireDays: number;
    backupsExpireDays: number;
    logsExpireDays: number;
  };
  ingest: LambdaSettings & { retryAttempts: number; maxEventAgeHours: number };
  alerts: LambdaSettings;
  database: {
    name: string;
    port: number;
    maxConnections: number;
    /** SHOPFLOW_DB_POOL of each API server */
    apiPool: number;
  };
  appServer: {
    instanceType: string;
    rootVolumeGb: number;
    dataVolumeGb: number;
    dataVolumeIops: number;
    dataVolumeThroughput: number;
    /** pin the AMI: an unpinned one follows the latest AL2023 and a new release means a new instance */
    amiId?: string;
    port: number;
    mailFrom: string;
    sesIdentity?: string;
    /** name of a Secrets Manager secret whose value is an SMTP URL (smtps://user:pass@host:465) */
    smtpSecretName?: string;
  };
  snapshots: {
    timeUtc: string;
    retainCount: number;
    copyToReplicaRegion: boolean;
    copyRetainDays: number;
  };
  access: {
    /** ACM certificate for HTTPS; without one the load balancer is internal and reached through SSM */
    certificateArn?: string;
    ingressCidrs: string[];
  };
  notifications: {
    opsEmails: string[];
    alertEmails: string[];
    alertPhoneNumbers: string[];
  };
  scaleOut: {
    enabled: boolean;
    minInstances: number;
    desiredInstances: number;
    maxInstances: number;
    instanceType: string;
    dbInstanceType: string;
    dbMultiAz: boolean;
    dbAllocatedGb: number;
    dbMaxConnections: number;
  };
  /** Tests only: placeholder function code instead of an esbuild bundle, to keep synth fast. */
  inlineLambdaCode: boolean;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};
export type InfraConfigInput = DeepPartial<InfraConfig>;

/** The account used when none is given: synth works, deploy refuses (CloudFormation rejects a foreign account). */
export const PLACEHOLDER_ACCOUNT = '123456789012';

export function defaultConfig(account: string, region: string, stage: string): InfraConfig {
  return {
    stage,
    account,
    region,
    replicaRegion: region === 'us-west-2' ? 'us-east-1' : 'us-west-2',
    availabilityZones: [`${region}a`, `${region}b`],
    vpcCidr: '10.40.0.0/16',
    natGateways: 1,
    timezone: 'America/Sao_Paulo',
    // nodejs20.x is deprecated by Lambda since 2026-04-30 (no new functions from 2027-02-01)
    lambdaRuntime: 'nodejs22.x',
    buckets: {
      prefix: `shopflow-${stage}-${account}`,
      sales: 'supermarket-sales-data',
      reports: 'supermarket-reports',
      backups: 'backups',
      logs: 'access-logs',
    },
    lifecycle: {
      rawToInfrequentAccessDays: 30,
      rawToGlacierDays: 90,
      rawExpireDays: 0,
      reportsToInfrequentAccessDays: 90,
      snapshotsExpireDays: 90,
      noncurrentToGlacierDays: 30,
      noncurrentExpireDays: 365,
      backupsExpireDays: 35,
      logsExpireDays: 365,
    },
    ingest: {
      memoryMb: 1024,
      timeoutSeconds: 300,
      reservedConcurrency: 10,
      dbPool: 2,
      // three attempts in all: enough for a transient database error, while a bad file is rejected by the handler
      // itself instead of being retried
      retryAttempts: 2,
      maxEventAgeHours: 6,
    },
    alerts: { memoryMb: 512, timeoutSeconds: 60, reservedConcurrency: 2, dbPool: 2 },
    database: { name: 'shopflow', port: 3306, maxConnections: 200, apiPool: 20 },
    appServer: {
      instanceType: 't3.medium',
      rootVolumeGb: 30,
      dataVolumeGb: 100,
      dataVolumeIops: 3000,
      dataVolumeThroughput: 125,
      port: 8080,
      mailFrom: 'shopflow@example.com',
    },
    snapshots: { timeUtc: '06:00', retainCount: 14, copyToReplicaRegion: true, copyRetainDays: 7 },
    access: { ingressCidrs: ['0.0.0.0/0'] },
    notifications: { opsEmails: [], alertEmails: [], alertPhoneNumbers: [] },
    scaleOut: {
      enabled: false,
      minInstances: 2,
      desiredInstances: 2,
      maxInstances: 4,
      instanceType: 't3.medium',
      dbInstanceType: 'db.t4g.medium',
      dbMultiAz: true,
      dbAllocatedGb: 100,
      dbMaxConnections: 300,
    },
    inlineLambdaCode: false,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge<T>(base: T, over: unknown, path: string): T {
  if (over === undefined || over === null) return base;
  if (!isPlainObject(base)) return over as T;
  if (!isPlainObject(over)) throw new Error(`shopflow config: ${path || 'shopflow'} must be an object`);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in out) && !OPTIONAL_KEYS.has(k)) throw new Error(`shopflow config: unknown setting ${path}${k}`);
    out[k] = merge(out[k], v, `${path}${k}.`);
  }
  return out as T;
}

const OPTIONAL_KEYS = new Set(['s3PrefixListId', 'amiId', 'sesIdentity', 'smtpSecretName', 'certificateArn']);

function parseJsonish(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new Error('shopflow config: the `shopflow` context value is not valid JSON');
  }
}

function bool(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  return ['1', 'true', 'yes', 'on'].includes(String(v).toLowerCase());
}

/**
 * Reads the configuration from a context getter (`node.tryGetContext`) and the environment CDK sets from the caller's
 * credentials. Flat overrides: `-c stage=…`, `-c account=…`, `-c region=…`, `-c replicaRegion=…`, `-c scaleOut=true`.
 */
export function loadInfraConfig(
  getContext: (key: string) => unknown,
  env: NodeJS.ProcessEnv = process.env,
): InfraConfig {
  const input = (parseJsonish(getContext('shopflow')) ?? {}) as InfraConfigInput;
  const flat = (key: string) => {
    const v = getContext(key);
    return v === undefined ? undefined : String(v);
  };
  const stage = flat('stage') ?? input.stage ?? 'prod';
  const account = flat('account') ?? input.account ?? env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ACCOUNT;
  const region = flat('region') ?? input.region ?? env.CDK_DEFAULT_REGION ?? 'us-east-1';
  const merged = merge(defaultConfig(account, region, stage), { ...input, stage, account, region }, '');
  const replicaRegion = flat('replicaRegion');
  if (replicaRegion) merged.replicaRegion = replicaRegion;
  const scaleOut = bool(getContext('scaleOut'));
  if (scaleOut !== undefined) merged.scaleOut.enabled = scaleOut;
  const inline = bool(getContext('inlineLambdaCode'));
  if (inline !== undefined) merged.inlineLambdaCode = inline;
  validate(merged);
  return merged;
}

function validate(c: InfraConfig): void {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  check(/^nodejs(2\d|[3-9]\d)\.x$/.test(c.lambdaRuntime), 'lambdaRuntime must be nodejs20.x or newer');
  check(/^[a-z][a-z0-9-]{0,15}$/.test(c.stage), 'stage must be 1-16 lowercase letters, digits or dashes');
  check(/^\d{12}$/.test(c.account), 'account must be a 12-digit AWS account id');
  check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(c.region), `region ${c.region} is not a region name`);
  check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(c.replicaRegion), `replicaRegion ${c.replicaRegion} is not a region name`);
  check(c.replicaRegion !== c.region, 'replicaRegion must differ from region (cross-region replication)');
  check(c.availabilityZones.length >= 2, 'availabilityZones needs two zones (the load balancer and RDS need them)');
  check(
    c.availabilityZones.every((z) => z.startsWith(c.region)),
    'availabilityZones must be zones of the region',
  );
  check(/^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2[0-4])$/.test(c.vpcCidr), 'vpcCidr must be an IPv4 CIDR from /16 to /24');
  for (const [k, name] of Object.entries(bucketNames(c))) {
    check(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..'),
      `bucket name for ${k} (${name}) is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, dashes)`,
    );
  }
  for (const [k, v] of Object.entries({ ...c.ingest, ...prefixKeys('alerts', c.alerts) })) {
    check(Number.isInteger(v) && v >= 0, `${k} must be a non-negative integer`);
  }
  check(c.ingest.reservedConcurrency >= 1, 'ingest.reservedConcurrency must be at least 1');
  check(c.ingest.retryAttempts <= 2, 'ingest.retryAttempts is at most 2 (a Lambda limit)');
  check(c.ingest.maxEventAgeHours >= 1 && c.ingest.maxEventAgeHours <= 6, 'ingest.maxEventAgeHours is 1 to 6');
  check(c.ingest.timeoutSeconds <= 900 && c.alerts.timeoutSeconds <= 900, 'Lambda timeouts are at most 900 s');
  check(/^([01]\d|2[0-3]):[0-5]\d$/.test(c.snapshots.timeUtc), 'snapshots.timeUtc must be HH:MM');
  check(c.snapshots.retainCount >= 1 && c.snapshots.retainCount <= 1000, 'snapshots.retainCount is 1 to 1000');
  check(
    c.scaleOut.minInstances <= c.scaleOut.desiredInstances && c.scaleOut.desiredInstances <= c.scaleOut.maxInstances,
    'scaleOut needs minInstances <= desiredInstances <= maxInstances',
  );
  check(c.scaleOut.minInstances >= 1, 'scaleOut.minInstances must be at least 1');
  if (problems.length) throw new Error(`invalid shopflow infra config:\n  - ${problems.join('\n  - ')}`);
}

function prefixKeys(prefix: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}.${k}`, v as number]));
}

export interface BucketNames {
  sales: string;
  reports: string;
  backups: string;
  logs: string;
  salesReplica: string;
  reportsReplica: string;
  backupsReplica: string;
  replicaLogs: string;
}

export function bucketNames(c: InfraConfig): BucketNames {
  const n = (base: string) => `${c.buckets.prefix}-${base}`;
  return {
    sales: n(c.buckets.sales),
    reports: n(c.buckets.reports),
    backups: n(c.buckets.backups),
    logs: n(c.buckets.logs),
    salesReplica: n(`${c.buckets.sales}-replica`),
    reportsReplica: n(`${c.buckets.reports}-replica`),
    backupsReplica: n(`${c.buckets.backups}-replica`),
    replicaLogs: n(`${c.buckets.logs}-replica`),
  };
}

/** Names that other resources and the documentation refer to. */
export function resourceNames(c: InfraConfig) {
  const base = `shopflow-${c.stage}`;
  return {
    mainStack: `Shopflow-${c.stage}`,
    replicaStack: `Shopflow-${c.stage}-replica`,
    ingestFunction: `${base}-ingest`,
    alertsFunction: `${base}-alerts`,
    appLogGroup: `/shopflow/${c.stage}/app`,
    metricsNamespace: `Shopflow/${c.stage}`,
    hostMetricsNamespace: `Shopflow/${c.stage}/Host`,
    snapshotTag: { key: 'shopflow:snapshot', value: c.stage },
    appRoleTag: { key: 'shopflow:role', value: `app-${c.stage}` },
    replicationRuleId: 'replicate-all',
  };
}
