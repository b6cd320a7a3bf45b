// The default deployment (one application server with MariaDB on its EBS volume), synthesized once and checked
// point by point against issue 6 and reliability check 30.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { budgetFor } from '../lib/capacity.ts';
import { bucketNames, resourceNames } from '../lib/config.ts';
import {
  ACCOUNT,
  acknowledgements,
  asArray,
  egressOf,
  iamStatements,
  type Json,
  logicalIdOf,
  nagFindings,
  only,
  resources,
  synth,
} from './synth.ts';

const s = synth();
after(() => s.dispose());
const t = s.template;
const c = s.config;
const names = bucketNames(c);
const rn = resourceNames(c);

const bucketId = (name: string) => logicalIdOf(t, 'AWS::S3::Bucket', (p) => p.BucketName === name);
const fnId = (name: string) => logicalIdOf(t, 'AWS::Lambda::Function', (p) => p.FunctionName === name);
const fnProps = (name: string) => resources(t, 'AWS::Lambda::Function')[fnId(name)]!.Properties!;
const json = (v: unknown) => JSON.stringify(v);

function assertSecureBucket(tpl: typeof t, id: string, label: string) {
  const b = resources(tpl, 'AWS::S3::Bucket')[id]!.Properties!;
  assert.deepEqual(
    b.PublicAccessBlockConfiguration,
    { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    `${label}: all four public access blocks`,
  );
  assert.equal(b.VersioningConfiguration?.Status, 'Enabled', `${label}: versioned`);
  assert.equal(
    b.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm,
    'AES256',
    `${label}: encrypted`,
  );
  const policies = Object.values(resources(tpl, 'AWS::S3::BucketPolicy')).filter((p) =>
    json(p.Properties!.Bucket).includes(id),
  );
  const tlsDeny = policies
    .flatMap((p) => p.Properties!.PolicyDocument.Statement)
    .find(
      (st: Json) =>
        st.Effect === 'Deny' &&
        st.Condition?.Bool?.['aws:SecureTransport'] === 'false' &&
        asArray(st.Action).includes('s3:*'),
    );
  assert.ok(tlsDeny, `${label}: TLS-only bucket policy`);
}

describe('1. buckets', () => {
  it('creates the sales, reports, backups and access-log buckets with the configured, prefixed names', () => {
    for (const n of [names.sales, names.reports, names.backups, names.logs]) bucketId(n);
    assert.equal(names.sales, `shopflow-prod-${ACCOUNT}-supermarket-sales-data`);
    assert.equal(names.reports, `shopflow-prod-${ACCOUNT}-supermarket-reports`);
  });

  it('gives every bucket, in both regions, BPA ×4, encryption, versioning and a TLS-only policy', () => {
    for (const [id] of Object.entries(resources(t, 'AWS::S3::Bucket'))) assertSecureBucket(t, id, id);
    const replicas = resources(s.replicaTemplate, 'AWS::S3::Bucket');
    assert.equal(Object.keys(replicas).length, 4);
    for (const [id] of Object.entries(replicas)) assertSecureBucket(s.replicaTemplate, id, id);
  });

  it('logs access to the data buckets into the access-log bucket', () => {
    const logs = bucketId(names.logs);
    for (const n of [names.sales, names.reports, names.backups]) {
      const p = resources(t, 'AWS::S3::Bucket')[bucketId(n)]!.Properties!;
      assert.deepEqual(p.LoggingConfiguration.DestinationBucketName, { Ref: logs }, n);
    }
  });

  it('moves old raw files and old versions to cheaper storage and expires them as configured', () => {
    const rules = resources(t, 'AWS::S3::Bucket')[bucketId(names.sales)]!.Properties!.LifecycleConfiguration.Rules;
    const raw = rules.find((r: Json) => r.Id === 'raw-files');
    assert.equal(raw.Prefix, 'incoming/');
    assert.deepEqual(
      raw.Transitions.map((x: Json) => [x.StorageClass, x.TransitionInDays]),
      [
        ['STANDARD_IA', c.lifecycle.rawToInfrequentAccessDays],
        ['GLACIER_IR', c.lifecycle.rawToGlacierDays],
      ],
    );
    for (const n of [names.sales, names.reports, names.backups]) {
      const r = resources(t, 'AWS::S3::Bucket')[bucketId(n)]!.Properties!.LifecycleConfiguration.Rules.find(
        (x: Json) => x.Id === 'old-versions',
      );
      assert.equal(r.NoncurrentVersionExpiration.NoncurrentDays, c.lifecycle.noncurrentExpireDays, n);
      assert.equal(r.NoncurrentVersionTransitions[0].StorageClass, 'GLACIER_IR', n);
    }
    const backups = resources(t, 'AWS::S3::Bucket')[bucketId(names.backups)]!.Properties!.LifecycleConfiguration.Rules;
    assert.equal(backups.find((r: Json) => r.Id === 'backups-expiry').ExpirationInDays, c.lifecycle.backupsExpireDays);
  });

  it('replicates the sales, reports and backups buckets to the replica region with RTC (15 min) and metrics', () => {
    const roleId = logicalIdOf(t, 'AWS::IAM::Role', (p) =>
      json(p.AssumeRolePolicyDocument).includes('s3.amazonaws.com'),
    );
    const pairs: [string, string][] = [
      [names.sales, names.salesReplica],
      [names.reports, names.reportsReplica],
      [names.backups, names.backupsReplica],
    ];
    for (const [src, dst] of pairs) {
      const rc = resources(t, 'AWS::S3::Bucket')[bucketId(src)]!.Properties!.ReplicationConfiguration;
      assert.ok(json(rc.Role).includes(roleId), `${src}: the replication role`);
      const rule = only(Object.fromEntries(rc.Rules.map((r: Json) => [r.Id, r])))[1] as Json;
      assert.equal(rule.Status, 'Enabled');
      assert.equal(rule.Id, rn.replicationRuleId);
      assert.equal(rule.Destination.Bucket, `arn:aws:s3:::${dst}`);
      assert.deepEqual(rule.Destination.ReplicationTime, { Status: 'Enabled', Time: { Minutes: 15 } });
      assert.deepEqual(rule.Destination.Metrics, { Status: 'Enabled', EventThreshold: { Minutes: 15 } });
      assert.equal(rule.DeleteMarkerReplication.Status, 'Enabled');
      assert.deepEqual(rule.Filter, { Prefix: '' }, 'no object is outside the rule');
      s.replicaTemplate.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: dst,
        VersioningConfiguration: { Status: 'Enabled' },
      });
    }
    assert.equal(s.replica.region, c.replicaRegion);
    assert.notEqual(s.replica.region, s.main.region);
    const replicate = iamStatements(t).find((x) => asArray(x.statement.Action).includes('s3:ReplicateObject'));
    assert.ok(replicate, 'the role may write replicas');
    for (const [, dst] of pairs) assert.ok(json(replicate!.statement.Resource).includes(`arn:aws:s3:::${dst}/*`), dst);
  });

  it('synthesizes without any context lookup in an AWS account', () => {
    assert.equal(s.app.synth().manifest.missing, undefined);
  });

  it('deploys the replica stack first', () => {
    assert.ok(s.main.dependencies.includes(s.replica));
  });
});

describe('2. functions', () => {
  const ingest = fnProps(rn.ingestFunction);
  const alerts = fnProps(rn.alertsFunction);

  it('triggers ingest on ObjectCreated under incoming/ for .csv and .csv.gz, and alerts on snapshots/*.csv', () => {
    const notif = (bucket: string) =>
      Object.values(resources(t, 'Custom::S3BucketNotifications')).find(
        (r) => json(r.Properties!.BucketName) === json({ Ref: bucketId(bucket) }),
      )!.Properties!.NotificationConfiguration.LambdaFunctionConfigurations;
    const rules = (cfgs: Json[]) =>
      cfgs.map((x) => ({
        events: x.Events,
        fn: x.LambdaFunctionArn['Fn::GetAtt'][0],
        filter: Object.fromEntries(x.Filter.Key.FilterRules.map((f: Json) => [f.Name, f.Value])),
      }));
    assert.deepEqual(
      rules(notif(names.sales)).sort((a, b) => a.filter.suffix.localeCompare(b.filter.suffix)),
      [
        {
          events: ['s3:ObjectCreated:*'],
          fn: fnId(rn.ingestFunction),
          filter: { prefix: 'incoming/', suffix: '.csv' },
        },
        {
          events: ['s3:ObjectCreated:*'],
          fn: fnId(rn.ingestFunction),
          filter: { prefix: 'incoming/', suffix: '.csv.gz' },
        },
      ],
    );
    assert.deepEqual(rules(notif(names.reports)), [
      { events: ['s3:ObjectCreated:*'], fn: fnId(rn.alertsFunction), filter: { prefix: 'snapshots/', suffix: '.csv' } },
    ]);
  });

  it('retries a failed event twice within 6 h, then sends it to an SQS dead-letter queue', () => {
    for (const [name, queue] of [
      [rn.ingestFunction, 'IngestFailures'],
      [rn.alertsFunction, 'AlertsFailures'],
    ] as const) {
      const cfg = Object.values(resources(t, 'AWS::Lambda::EventInvokeConfig')).find(
        (r) => json(r.Properties!.FunctionName) === json({ Ref: fnId(name) }),
      )!.Properties!;
      assert.equal(cfg.MaximumRetryAttempts, 2);
      assert.equal(cfg.MaximumEventAgeInSeconds, 6 * 3600);
      const dest = cfg.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
      assert.match(dest, new RegExp(`^Functions${queue}`));
      const q = resources(t, 'AWS::SQS::Queue')[dest]!.Properties!;
      assert.equal(q.MessageRetentionPeriod, 14 * 24 * 3600);
      assert.equal(q.SqsManagedSseEnabled, true);
    }
  });

  it('caps concurrency, memory and time explicitly', () => {
    assert.equal(ingest.ReservedConcurrentExecutions, c.ingest.reservedConcurrency);
    assert.equal(ingest.Timeout, c.ingest.timeoutSeconds);
    assert.equal(ingest.MemorySize, c.ingest.memoryMb);
    assert.equal(alerts.ReservedConcurrentExecutions, c.alerts.reservedConcurrency);
    assert.equal(ingest.Runtime, c.lambdaRuntime);
  });

  it('gives the functions the AWS-mode environment and the database secret by ARN, never a password', () => {
    const env = ingest.Environment.Variables;
    assert.equal(env.SHOPFLOW_MODE, 'aws');
    assert.equal(env.SHOPFLOW_STORAGE, 's3://');
    assert.deepEqual(env.SHOPFLOW_SALES_BUCKET, { Ref: bucketId(names.sales) });
    assert.deepEqual(env.SHOPFLOW_REPORTS_BUCKET, { Ref: bucketId(names.reports) });
    assert.deepEqual(env.SHOPFLOW_BACKUPS_BUCKET, { Ref: bucketId(names.backups) });
    const secretId = only(resources(t, 'AWS::SecretsManager::Secret'))[0];
    assert.deepEqual(env.SHOPFLOW_DB_SECRET_ARN, { Ref: secretId });
    assert.deepEqual(env.SHOPFLOW_DB_HOST, {
      'Fn::GetAtt': [only(resources(t, 'AWS::EC2::Instance'))[0], 'PrivateIp'],
    });
    assert.equal(env.SHOPFLOW_DB_PORT, '3306');
    assert.equal(env.SHOPFLOW_DB_NAME, 'shopflow');
    assert.equal(env.SHOPFLOW_DB_POOL, String(c.ingest.dbPool));
    assert.equal(env.SHOPFLOW_METRICS_NAMESPACE, rn.metricsNamespace);
    assert.ok(!Object.keys(env).some((k) => /PASSWORD|DATABASE_URL/.test(k)));
    const alertsEnv = alerts.Environment.Variables;
    assert.deepEqual(alertsEnv.SHOPFLOW_SNS_TOPIC_ARN, {
      Ref: logicalIdOf(t, 'AWS::SNS::Topic', (p) => p.TopicName === `shopflow-prod-stock-alerts`),
    });
  });

  it('runs ingest in subnets without an internet route, reaching only the database port, S3 and Secrets Manager', () => {
    const subnets = ingest.VpcConfig.SubnetIds.map((r: Json) => r.Ref);
    assert.equal(subnets.length, 2);
    const routes = Object.values(resources(t, 'AWS::EC2::Route'));
    for (const subnet of subnets) {
      const assoc = Object.values(resources(t, 'AWS::EC2::SubnetRouteTableAssociation')).find(
        (a) => a.Properties!.SubnetId.Ref === subnet,
      )!;
      const table = assoc.Properties!.RouteTableId.Ref;
      assert.ok(!routes.some((r) => r.Properties!.RouteTableId.Ref === table), `${subnet} has no route out`);
    }
    const sgId = ingest.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const hostSg = logicalIdOf(t, 'AWS::EC2::SecurityGroup', (p) => p.GroupDescription === 'shopflow application host');
    const endpointSg = logicalIdOf(
      t,
      'AWS::EC2::SecurityGroup',
      (p) => p.GroupDescription === 'Secrets Manager endpoint',
    );
    const summary = egressOf(t, sgId);
    assert.deepEqual(summary, [`3306-3306->${hostSg}`, '443-443->0.0.0.0/0', `443-443->${endpointSg}`].sort());
  });

  it('lets ingest read incoming/ and write rejected/ of the sales bucket, and read the database secret', () => {
    const role = fnProps(rn.ingestFunction).Role['Fn::GetAtt'][0];
    const st = iamStatements(t).filter((x) =>
      json(resources(t, 'AWS::IAM::Policy')[x.owner]?.Properties?.Roles).includes(role),
    );
    const writes = st.filter((x) => asArray<string>(x.statement.Action).some((a) => /Put|Delete/.test(a)));
    assert.ok(writes.length > 0);
    for (const w of writes) assert.match(json(w.statement.Resource), /\/rejected\/\*"/);
    assert.ok(!json(writes).includes('Delete'), 'never deletes');
    assert.ok(st.some((x) => asArray(x.statement.Action).includes('secretsmanager:GetSecretValue')));
    assert.ok(json(st).includes('/incoming/*'));
  });
});

describe('3. application server', () => {
  const [instanceId, instance] = only(resources(t, 'AWS::EC2::Instance'));
  const p = instance.Properties!;

  it('runs Amazon Linux 2023 with IMDSv2 required, no key pair, no public address, in a private subnet', () => {
    assert.match(json(t.toJSON().Parameters), /al2023-ami/);
    assert.match(p.ImageId.Ref, /al2023/);
    const lt = resources(t, 'AWS::EC2::LaunchTemplate')[p.LaunchTemplate.Version['Fn::GetAtt'][0]]!.Properties!;
    assert.equal(lt.LaunchTemplateData.MetadataOptions.HttpTokens, 'required');
    assert.equal(p.KeyName, undefined);
    assert.equal(p.NetworkInterfaces[0].AssociatePublicIpAddress, false);
    const subnet = resources(t, 'AWS::EC2::Subnet')[p.NetworkInterfaces[0].SubnetId.Ref]!.Properties!;
    assert.equal(subnet.MapPublicIpOnLaunch, false);
    assert.ok(json(subnet.Tags).includes('"Private"'));
    assert.equal(p.DisableApiTermination, true);
    assert.equal(p.Monitoring, true);
  });

  it('encrypts the gp3 root volume and keeps MariaDB on a separate encrypted gp3 data volume that outlives it', () => {
    assert.deepEqual(p.BlockDeviceMappings[0].Ebs, { Encrypted: true, VolumeSize: 30, VolumeType: 'gp3' });
    const [volId, vol] = only(resources(t, 'AWS::EC2::Volume'));
    assert.equal(vol.Properties!.Encrypted, true);
    assert.equal(vol.Properties!.VolumeType, 'gp3');
    assert.equal(vol.Properties!.Size, c.appServer.dataVolumeGb);
    assert.equal(vol.Properties!.AvailabilityZone, p.AvailabilityZone);
    assert.equal(vol.DeletionPolicy, 'Snapshot');
    t.hasResourceProperties('AWS::EC2::VolumeAttachment', {
      InstanceId: { Ref: instanceId },
      VolumeId: { Ref: volId },
    });
  });

  it('opens the database port only to the functions and the app port only to the load balancer', () => {
    const hostSg = p.NetworkInterfaces[0].GroupSet[0]['Fn::GetAtt'][0];
    const sg = resources(t, 'AWS::EC2::SecurityGroup')[hostSg]!.Properties!;
    assert.equal(sg.SecurityGroupIngress, undefined, 'no CIDR ingress at all');
    const ingress = Object.values(resources(t, 'AWS::EC2::SecurityGroupIngress'))
      .filter((r) => r.Properties!.GroupId['Fn::GetAtt'][0] === hostSg)
      .map((r) => `${r.Properties!.FromPort}<-${r.Properties!.SourceSecurityGroupId['Fn::GetAtt'][0]}`)
      .sort();
    assert.deepEqual(ingress, [
      '3306<-FunctionsAlertsSg304F70E0',
      '3306<-FunctionsIngestSg9E79E5F2',
      '8080<-LoadBalancerSgDE417152',
    ]);
  });

  it('is managed through SSM, with Session Manager instead of SSH', () => {
    const roleId = resources(t, 'AWS::IAM::InstanceProfile')[p.IamInstanceProfile.Ref]!.Properties!.Roles[0].Ref;
    assert.match(
      json(resources(t, 'AWS::IAM::Role')[roleId]!.Properties!.ManagedPolicyArns),
      /AmazonSSMManagedInstanceCore/,
    );
  });

  it('installs the app bundle with an SSM association targeting the instance, in AWS mode with the local database', () => {
    const [, assoc] = only(resources(t, 'AWS::SSM::Association'));
    const a = assoc.Properties!;
    assert.deepEqual(a.Targets, [{ Key: 'InstanceIds', Values: [{ Ref: instanceId }] }]);
    assert.match(json(a.Parameters.bundleUrl), /s3:\/\/cdk-hnb659fds-assets-/);
    assert.equal(a.MaxConcurrency, '1');
    const doc = resources(t, 'AWS::SSM::Document')[a.Name.Ref]!.Properties!;
    const script = json(doc.Content);
    for (const needle of [
      "DB_MODE='local'",
      "DB_HOST='127.0.0.1'",
      "APP_DATA_DIR='/data/shopflow'",
      'infra/host/provision.sh',
      'infra/host/install.sh',
      `DB_MAX_CONNECTIONS='${c.database.maxConnections}'`,
    ]) {
      assert.ok(script.includes(needle), needle);
    }
    assert.ok(script.includes(only(resources(t, 'AWS::EC2::Volume'))[0]), 'the data volume id reaches the host');
  });

  it('serves users through a load balancer that health-checks /readyz on the app port, internal without TLS', () => {
    const [, lb] = only(resources(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
    assert.equal(lb.Properties!.Scheme, 'internal');
    assert.ok(json(lb.Properties!.LoadBalancerAttributes).includes('"access_logs.s3.enabled","Value":"true"'));
    const [tgId, tg] = only(resources(t, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    assert.equal(tg.Properties!.HealthCheckPath, '/readyz');
    assert.equal(tg.Properties!.Port, c.appServer.port);
    assert.deepEqual(tg.Properties!.Targets, [{ Id: { Ref: instanceId }, Port: c.appServer.port }]);
    const [, listener] = only(resources(t, 'AWS::ElasticLoadBalancingV2::Listener'));
    assert.equal(listener.Properties!.Port, 80);
    assert.equal(listener.Properties!.DefaultActions[0].TargetGroupArn.Ref, tgId);
  });
});

describe('4. backups', () => {
  const [, policy] = only(resources(t, 'AWS::DLM::LifecyclePolicy'));
  const d = policy.Properties!.PolicyDetails;

  it('snapshots the data volume daily with retention, targeting the instance by tag', () => {
    assert.equal(policy.Properties!.State, 'ENABLED');
    assert.deepEqual(d.ResourceTypes, ['INSTANCE']);
    assert.equal(d.Parameters.ExcludeBootVolume, true);
    const sched = d.Schedules[0];
    assert.equal(sched.CreateRule.Interval, 24);
    assert.equal(sched.CreateRule.IntervalUnit, 'HOURS');
    assert.deepEqual(sched.CreateRule.Times, [c.snapshots.timeUtc]);
    assert.equal(sched.RetainRule.Count, c.snapshots.retainCount);
    const tag = d.TargetTags[0];
    const [, instance] = only(resources(t, 'AWS::EC2::Instance'));
    assert.ok(instance.Properties!.Tags.some((x: Json) => x.Key === tag.Key && x.Value === tag.Value));
  });

  it('freezes the filesystem around the snapshot and copies it to the replica region', () => {
    const sched = d.Schedules[0];
    const script = sched.CreateRule.Scripts[0];
    assert.deepEqual(script.Stages, ['PRE', 'POST']);
    const doc = resources(t, 'AWS::SSM::Document')[script.ExecutionHandler.Ref]!.Properties!;
    assert.ok(doc.Tags.some((x: Json) => x.Key === 'DLMScriptsAccess' && x.Value === 'true'));
    assert.match(json(doc.Content), /fsfreeze -f \/data/);
    assert.equal(sched.CrossRegionCopyRules[0].Target, c.replicaRegion);
    assert.equal(sched.CrossRegionCopyRules[0].Encrypted, true);
  });

  it('lets the server write its own database dumps to the backups bucket', () => {
    const backups = bucketId(names.backups);
    const st = iamStatements(t).find(
      (x) =>
        asArray<string>(x.statement.Action).includes('s3:PutObject') && json(x.statement.Resource).includes(backups),
    );
    assert.ok(st);
  });
});

describe('5. monitoring', () => {
  const alarms = resources(t, 'AWS::CloudWatch::Alarm');
  const byName = (n: string) =>
    Object.values(alarms).find((a) => a.Properties!.AlarmName === `shopflow-prod-${n}`)?.Properties ??
    assert.fail(`no alarm ${n}`);
  const opsTopic = logicalIdOf(t, 'AWS::SNS::Topic', (p) => p.TopicName === 'shopflow-prod-ops');

  it('sends every alarm to the operations topic, on alarm and on recovery', () => {
    assert.ok(Object.keys(alarms).length >= 20);
    for (const a of Object.values(alarms)) {
      assert.ok(json(a.Properties!.AlarmActions).includes(opsTopic), a.Properties!.AlarmName);
      assert.ok(json(a.Properties!.OKActions).includes(opsTopic), a.Properties!.AlarmName);
    }
  });

  it('alarms on ingest errors, throttles, and duration near the timeout', () => {
    const fn = { Name: 'FunctionName', Value: { Ref: fnId(rn.ingestFunction) } };
    assert.deepEqual(byName('IngestErrors').Dimensions, [fn]);
    assert.equal(byName('IngestErrors').MetricName, 'Errors');
    assert.equal(byName('IngestThrottles').MetricName, 'Throttles');
    const d = byName('IngestDuration');
    assert.equal(d.MetricName, 'Duration');
    assert.equal(d.Statistic, 'Maximum');
    assert.equal(d.Threshold, c.ingest.timeoutSeconds * 1000 * 0.8);
  });

  it('alarms as soon as one event reaches a dead-letter queue', () => {
    const a = byName('IngestDeadLetters');
    assert.equal(a.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.equal(a.Threshold, 1);
    assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
  });

  it('recovers the instance on a system status-check failure and reboots it on an instance check failure', () => {
    const sys = byName('SystemStatusCheck');
    assert.equal(sys.MetricName, 'StatusCheckFailed_System');
    assert.ok(json(sys.AlarmActions).includes(':automate:us-east-1:ec2:recover'));
    assert.ok(json(byName('InstanceStatusCheck').AlarmActions).includes(':automate:us-east-1:ec2:reboot'));
    assert.equal(byName('Cpu').MetricName, 'CPUUtilization');
  });

  it('alarms on disk usage from the CloudWatch agent, for the root and the database volume', () => {
    for (const [n, path] of [
      ['DataDiskUsage', '/data'],
      ['RootDiskUsage', '/'],
    ] as const) {
      const a = byName(n);
      assert.equal(a.Namespace, rn.hostMetricsNamespace);
      assert.equal(a.MetricName, 'disk_used_percent');
      assert.deepEqual(a.Dimensions, [{ Name: 'path', Value: path }]);
    }
    assert.equal(byName('HostMetricsMissing').TreatMissingData, 'breaching');
  });

  it("alarms on the application's failed files, in the namespace the functions are told to write", () => {
    const a = byName('FilesFailed');
    assert.equal(a.Namespace, fnProps(rn.ingestFunction).Environment.Variables.SHOPFLOW_METRICS_NAMESPACE);
    assert.equal(a.MetricName, 'FilesFailed');
  });

  it('alarms on replication latency beyond the 15-minute RTC objective and on failed replication', () => {
    for (const label of ['sales', 'reports', 'backups']) {
      const a = byName(`ReplicationLatency-${label}`);
      assert.equal(a.Namespace, 'AWS/S3');
      assert.equal(a.Threshold, 900);
      assert.ok(a.Dimensions.some((x: Json) => x.Name === 'RuleId' && x.Value === rn.replicationRuleId));
      assert.equal(byName(`ReplicationFailed-${label}`).MetricName, 'OperationsFailedReplication');
    }
  });

  it('alarms when no server answers the load balancer (service unavailable)', () => {
    const a = byName('NoHealthyHost');
    assert.equal(a.MetricName, 'HealthyHostCount');
    assert.equal(a.ComparisonOperator, 'LessThanThreshold');
    assert.equal(a.TreatMissingData, 'breaching');
  });

  it('encrypts the operations topic with a key CloudWatch may use, and has a dashboard', () => {
    const topic = resources(t, 'AWS::SNS::Topic')[opsTopic]!.Properties!;
    const keyId = topic.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = resources(t, 'AWS::KMS::Key')[keyId]!.Properties!;
    assert.equal(key.EnableKeyRotation, true);
    assert.ok(json(key.KeyPolicy).includes('cloudwatch.amazonaws.com'));
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'shopflow-prod' });
  });
});

describe('security gate (reliability check 30)', () => {
  it('has no unacknowledged cdk-nag AwsSolutions or Serverless finding, errors or warnings', () => {
    assert.deepEqual(nagFindings(s.app), []);
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements(s.app);
    assert.ok(acks.length > 10);
    for (const a of acks) assert.ok(a.reason.length >= 30, `${a.path} ${a.id}: "${a.reason}"`);
  });

  it('grants no IAM action on Resource "*" except those AWS offers no resource scope for', () => {
    // cloudwatch:PutMetricData has no resource-level permission (scoped by namespace instead); s3:PutBucketNotification
    // is CDK's own deploy-time notification handler
    const allowed = new Set(['cloudwatch:PutMetricData', 's3:PutBucketNotification']);
    for (const { owner, statement } of iamStatements(t)) {
      if (!asArray(statement.Resource).includes('*')) continue;
      for (const a of asArray<string>(statement.Action)) assert.ok(allowed.has(a), `${owner}: ${a} on *`);
      if (asArray(statement.Action).includes('cloudwatch:PutMetricData')) {
        assert.ok(statement.Condition?.StringLike?.['cloudwatch:namespace'], 'namespace-scoped');
      }
    }
  });

  it('keeps the Lambda connection worst case within the database limit (reliability check 9)', () => {
    const reserved = (n: string) => fnProps(n).ReservedConcurrentExecutions as number;
    const pool = (n: string) => Number(fnProps(n).Environment.Variables.SHOPFLOW_DB_POOL);
    const lambdas =
      reserved(rn.ingestFunction) * pool(rn.ingestFunction) + reserved(rn.alertsFunction) * pool(rn.alertsFunction);
    const [, assoc] = only(resources(t, 'AWS::SSM::Association'));
    const content = json(resources(t, 'AWS::SSM::Document')[assoc.Properties!.Name.Ref]!.Properties!.Content);
    const maxConnections = Number(/DB_MAX_CONNECTIONS='(\d+)'/.exec(content)![1]);
    const apiPool = Number(/API_POOL='(\d+)'/.exec(content)![1]);
    assert.ok(lambdas <= maxConnections - apiPool - Math.ceil(maxConnections * 0.1), `${lambdas} connections`);
    assert.equal(budgetFor(c).lambdas, lambdas);
  });

  it('refuses to synthesize a configuration that breaks the budget', () => {
    assert.throws(() => synth({ shopflow: { ingest: { reservedConcurrency: 100, dbPool: 5 } } }), /connection budget/);
  });
});
