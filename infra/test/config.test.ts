// The parts of the infra that are plain functions: configuration, the connection budget, host scripts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { IgnoreStrategy } from 'aws-cdk-lib';
import { budgetFor, connectionBudget } from '../lib/capacity.ts';
import { bucketNames, defaultConfig, loadInfraConfig } from '../lib/config.ts';
import { REPO_ROOT } from '../lib/functions.ts';
import { appBundleOptions, installDocumentContent } from '../lib/host.ts';
import { mysqlHostPattern } from '../lib/network.ts';

const ctx = (values: Record<string, unknown>) => (k: string) => values[k];

describe('infra config', () => {
  it('has defaults that synthesize without any AWS account or lookup', () => {
    const c = loadInfraConfig(ctx({}), {});
    assert.equal(c.account, '123456789012');
    assert.equal(c.region, 'us-east-1');
    assert.notEqual(c.replicaRegion, c.region);
    assert.deepEqual(c.availabilityZones, ['us-east-1a', 'us-east-1b']);
    assert.equal(c.scaleOut.enabled, false);
  });

  it('takes the caller environment, cdk.json values and flat -c overrides, in that order of precedence', () => {
    const c = loadInfraConfig(
      ctx({
        shopflow: { stage: 'staging', ingest: { reservedConcurrency: 4 }, buckets: { sales: 'vendas' } },
        region: 'sa-east-1',
        scaleOut: 'true',
      }),
      { CDK_DEFAULT_ACCOUNT: '222222222222', CDK_DEFAULT_REGION: 'eu-west-1' },
    );
    assert.equal(c.stage, 'staging');
    assert.equal(c.account, '222222222222');
    assert.equal(c.region, 'sa-east-1');
    assert.deepEqual(c.availabilityZones, ['sa-east-1a', 'sa-east-1b']);
    assert.equal(c.ingest.reservedConcurrency, 4);
    assert.equal(c.ingest.dbPool, 2, 'untouched nested defaults survive a partial override');
    assert.equal(c.scaleOut.enabled, true);
    assert.equal(bucketNames(c).sales, 'shopflow-staging-222222222222-vendas');
    assert.equal(bucketNames(c).salesReplica, 'shopflow-staging-222222222222-vendas-replica');
  });

  it('accepts the shopflow object as a JSON string (as -c passes it)', () => {
    const c = loadInfraConfig(ctx({ shopflow: '{"natGateways": 2}' }), {});
    assert.equal(c.natGateways, 2);
  });

  it('rejects unknown settings and invalid values with a message naming them', () => {
    assert.throws(
      () => loadInfraConfig(ctx({ shopflow: { ingest: { reservedConcurency: 3 } } }), {}),
      /reservedConcurency/,
    );
    assert.throws(() => loadInfraConfig(ctx({ replicaRegion: 'us-east-1' }), {}), /replicaRegion must differ/);
    assert.throws(() => loadInfraConfig(ctx({ shopflow: { buckets: { sales: 'Bad_Name' } } }), {}), /bucket name/);
    assert.throws(() => loadInfraConfig(ctx({ shopflow: { ingest: { retryAttempts: 5 } } }), {}), /retryAttempts/);
    assert.throws(() => loadInfraConfig(ctx({ shopflow: { lambdaRuntime: 'nodejs18.x' } }), {}), /lambdaRuntime/);
  });

  it('keeps every default bucket name within S3 limits', () => {
    for (const name of Object.values(bucketNames(defaultConfig('123456789012', 'ap-southeast-2', 'staging')))) {
      assert.ok(name.length <= 63, name);
    }
  });
});

describe('database connection budget (reliability check 9)', () => {
  it('is reserved concurrency × pool ≤ max_connections − API pool − 10%', () => {
    const b = connectionBudget(200, { name: 'api', instances: 1, poolPerInstance: 20 }, [
      { name: 'ingest', instances: 10, poolPerInstance: 2 },
      { name: 'alerts', instances: 2, poolPerInstance: 2 },
    ]);
    assert.equal(b.headroom, 20);
    assert.equal(b.lambdas, 24);
    assert.equal(b.lambdaAllowance, 200 - 20 - 20);
    assert.equal(b.ok, true);
  });

  it('fails exactly when the Lambda worst case passes the allowance', () => {
    const at = (ingest: number) =>
      connectionBudget(100, { name: 'api', instances: 2, poolPerInstance: 20 }, [
        { name: 'ingest', instances: ingest, poolPerInstance: 5 },
      ]);
    // allowance = 100 − 40 − 10 = 50 = 10 instances × 5
    assert.equal(at(10).ok, true);
    assert.equal(at(11).ok, false);
  });

  it('holds for the default single-server and scale-out configurations', () => {
    const single = defaultConfig('123456789012', 'us-east-1', 'prod');
    assert.equal(budgetFor(single).ok, true);
    const scale = { ...single, scaleOut: { ...single.scaleOut, enabled: true } };
    const b = budgetFor(scale);
    assert.equal(b.api, scale.scaleOut.maxInstances * scale.database.apiPool, 'every fleet member at its maximum');
    assert.equal(b.ok, true);
  });
});

describe('host scripts', () => {
  const hostDir = resolve(REPO_ROOT, 'infra/host');

  it('are valid bash', () => {
    for (const f of readdirSync(hostDir).filter((n) => n.endsWith('.sh'))) {
      execFileSync('bash', ['-n', resolve(hostDir, f)]);
    }
  });

  it('configure MariaDB for durability on the data volume and check it after start (reliability check 19)', () => {
    const p = readFileSync(resolve(hostDir, 'provision.sh'), 'utf8');
    for (const line of [
      'datadir=/data/mysql',
      'innodb_flush_log_at_trx_commit=1',
      'sync_binlog=1',
      'innodb_doublewrite=1',
      'log_bin=/data/mysql-binlog/mysql-bin',
      `max_connections=\${DB_MAX_CONNECTIONS}`,
    ]) {
      assert.ok(p.includes(line), line);
    }
    assert.match(p, /@@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, @@innodb_doublewrite/);
    assert.match(p, /RequiresMountsFor=\/data/);
    assert.match(p, /mkfs\.xfs/);
  });

  it('run the server under systemd in AWS mode with the secret read at start, never stored', () => {
    const run = readFileSync(resolve(hostDir, 'run.sh'), 'utf8');
    assert.match(run, /export SHOPFLOW_MODE=aws/);
    assert.match(run, /export SHOPFLOW_STORAGE=s3:\/\//);
    assert.match(run, /get-secret-value --secret-id "\$DB_SECRET_ARN"/);
    assert.match(run, /exec \/usr\/local\/bin\/node bin\/shopflow\.js "\$@"/);
    assert.doesNotMatch(run, />\s*\/etc\//, 'writes no file with the secret');
    const p = readFileSync(resolve(hostDir, 'provision.sh'), 'utf8');
    assert.match(p, /ExecStart=\/usr\/local\/sbin\/shopflow-run serve/);
    assert.match(p, /User=shopflow/);
    assert.match(p, /shopflow-backup\.timer/);
  });

  it('install with npm ci --omit=dev and roll back a release that never gets ready', () => {
    const i = readFileSync(resolve(hostDir, 'install.sh'), 'utf8');
    assert.match(i, /npm ci --omit=dev/);
    assert.match(i, /\/readyz/);
    assert.match(i, /rolling back/);
  });

  it('leave dependencies, data, tests and CDK output out of the app bundle, and keep what the host runs', () => {
    const o = appBundleOptions();
    const ignore = IgnoreStrategy.fromCopyOptions(o, o.path);
    const at = (p: string) => resolve(REPO_ROOT, p);
    for (const p of [
      'node_modules/x/i.js',
      'web/node_modules/y.js',
      'data/shopflow.db',
      '.git/HEAD',
      'infra/cdk.out/m.json',
      'test/e2e.ts',
      'src/db/migrate.test.ts',
      '.env',
    ]) {
      assert.ok(ignore.ignores(at(p)), `excluded: ${p}`);
    }
    for (const p of [
      'bin/shopflow.js',
      'src/db/connect.ts',
      'src/reports/data/x.ts',
      'infra/host/provision.sh',
      'package-lock.json',
      'web/dist/index.html',
    ]) {
      assert.ok(!ignore.ignores(at(p)), `kept: ${p}`);
    }
  });

  it('produce an install document whose host.conf is safely quoted', () => {
    const doc = installDocumentContent({ A: "it's", B: 'plain' }, 'us-east-1');
    const lines = doc.mainSteps[0]!.inputs.runCommand;
    assert.ok(lines.includes(`A='it'\\''s'`));
    assert.ok(lines.includes("B='plain'"));
    const script = lines.join('\n').replace('{{ bundleUrl }}', 's3://b/k.zip');
    execFileSync('bash', ['-n'], { input: script });
  });
});

describe('MySQL host pattern', () => {
  it('turns a CIDR into the address/netmask form MySQL accounts accept', () => {
    assert.equal(mysqlHostPattern('10.40.0.0/16'), '10.40.0.0/255.255.0.0');
    assert.equal(mysqlHostPattern('172.16.0.0/20'), '172.16.0.0/255.255.240.0');
    assert.equal(mysqlHostPattern('192.168.1.0/24'), '192.168.1.0/255.255.255.0');
  });
});
