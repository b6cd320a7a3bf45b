// The two functions of the seeds. Both are asynchronous S3 targets, so failures are handled by Lambda itself:
// a limited number of retries, then the event goes to an SQS queue (alarmed on) instead of vanishing. Reserved
// concurrency caps how many database pools a burst of uploads can open.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type InfraConfig, type LambdaSettings, resourceNames } from './config.ts';
import { acknowledgeIam5, BUCKET_GRANT_ACTIONS, bucketObjects } from './nag.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the functions find the database; the app builds its URL from these at cold start. */
export interface DatabaseEndpoint {
  host: string;
  port: number;
  name: string;
  secret: secretsmanager.ISecret;
  securityGroup: ec2.ISecurityGroup;
}

export interface FunctionsProps {
  config: InfraConfig;
  vpc: ec2.IVpc;
  secretsEndpoint: ec2.InterfaceVpcEndpoint;
  sales: s3.Bucket;
  reports: s3.Bucket;
  backups: s3.Bucket;
  database: DatabaseEndpoint;
  alertsTopic: sns.ITopic;
  smtpSecret?: secretsmanager.ISecret;
}

// Lambda's Node runtime provides the AWS SDK v3 clients. Helper packages (lib-storage, the presigner) are not
// guaranteed there, so they are bundled. better-sqlite3 is the local-only database driver (native code that would
// not load in Lambda anyway).
export const EXTERNAL_MODULES = ['@aws-sdk/client-*', 'better-sqlite3'];

// esbuild's ESM output keeps CommonJS dependencies' require() calls; Node's ESM scope has no require, so one is made.
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __shopflowCreateRequire } from 'node:module'; const require = __shopflowCreateRequire(import.meta.url);";

export function bundlingOptions(): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    externalModules: EXTERNAL_MODULES,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    tsconfig: resolve(REPO_ROOT, 'tsconfig.json'),
    logLevel: nodejs.LogLevel.ERROR,
  };
}

interface FunctionSpec {
  functionName: string;
  entry: string;
  description: string;
  settings: LambdaSettings;
  subnets: ec2.SubnetSelection;
  securityGroup: ec2.ISecurityGroup;
  environment: Record<string, string>;
  retryAttempts: number;
  maxEventAge: Duration;
  onFailure: sqs.IQueue;
}

function shopflowFunction(scope: Construct, id: string, c: InfraConfig, vpc: ec2.IVpc, spec: FunctionSpec) {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    logGroupName: `/aws/lambda/${spec.functionName}`,
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const common: lambda.FunctionOptions = {
    functionName: spec.functionName,
    description: spec.description,
    memorySize: spec.settings.memoryMb,
    timeout: Duration.seconds(spec.settings.timeoutSeconds),
    reservedConcurrentExecutions: spec.settings.reservedConcurrency,
    architecture: lambda.Architecture.ARM_64,
    vpc,
    vpcSubnets: spec.subnets,
    securityGroups: [spec.securityGroup],
    logGroup,
    environment: { ...spec.environment, NODE_OPTIONS: '--enable-source-maps' },
    retryAttempts: spec.retryAttempts,
    maxEventAge: spec.maxEventAge,
    onFailure: new SqsDestination(spec.onFailure),
  };
  const fn = c.inlineLambdaCode
    ? new lambda.Function(scope, id, {
        ...common,
        runtime: lambdaRuntime(c),
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => { throw new Error("placeholder code"); };'),
      })
    : new nodejs.NodejsFunction(scope, id, {
        ...common,
        runtime: lambdaRuntime(c),
        entry: spec.entry,
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: resolve(REPO_ROOT, 'package-lock.json'),
        bundling: bundlingOptions(),
      });
  const runtimeReason =
    'The runtime is chosen in config (lambdaRuntime) to match what the code is tested on, and upgraded on purpose.';
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: 'Asynchronous S3 invocations use an on-failure destination (SQS), which keeps the error with the event.',
  });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaTracing',
    reason: 'No X-Ray: the ingest function has no route to the X-Ray API; EMF metrics and JSON logs cover it.',
  });
  return fn;
}

function lambdaRuntime(c: InfraConfig): lambda.Runtime {
  return (
    lambda.Runtime.ALL.find((r) => r.name === c.lambdaRuntime) ??
    new lambda.Runtime(c.lambdaRuntime, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true })
  );
}

function failureQueue(scope: Construct, id: string): sqs.Queue {
  const q = new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  Validations.of(q).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter destination of a function; nothing consumes it automatically.',
  });
  Validations.of(q).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: 'This queue is itself the dead-letter destination of a function; messages are redriven by hand.',
  });
  return q;
}

export class Functions extends Construct {
  readonly ingest: lambda.Function;
  readonly alerts: lambda.Function;
  readonly ingestFailures: sqs.Queue;
  readonly alertsFailures: sqs.Queue;
  readonly ingestSecurityGroup: ec2.SecurityGroup;
  readonly alertsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const c = props.config;
    const names = resourceNames(c);
    const db = props.database;
    const stack = Stack.of(this);

    this.ingestSecurityGroup = new ec2.SecurityGroup(this, 'IngestSg', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'shopflow ingest function: database port, S3 and Secrets Manager only',
    });
    this.ingestSecurityGroup.connections.allowTo(db.securityGroup, ec2.Port.tcp(db.port), 'MySQL');
    // The data subnets have no internet route, so HTTPS only reaches the S3 gateway endpoint there; the prefix list,
    // when given, also narrows the rule itself.
    this.ingestSecurityGroup.addEgressRule(
      c.s3PrefixListId ? ec2.Peer.prefixList(c.s3PrefixListId) : ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'S3 through the gateway endpoint',
    );
    this.ingestSecurityGroup.connections.allowTo(props.secretsEndpoint, ec2.Port.tcp(443), 'Secrets Manager endpoint');

    this.alertsSecurityGroup = new ec2.SecurityGroup(this, 'AlertsSg', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'shopflow alerts function: database port, HTTPS and SMTP submission',
    });
    this.alertsSecurityGroup.connections.allowTo(db.securityGroup, ec2.Port.tcp(db.port), 'MySQL');
    this.alertsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (SNS, SES) and webhooks');
    this.alertsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(465), 'SMTP over TLS');
    this.alertsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(587), 'SMTP submission');

    const shared = {
      SHOPFLOW_MODE: 'aws',
      SHOPFLOW_STORAGE: 's3://',
      SHOPFLOW_S3_REGION: stack.region,
      SHOPFLOW_SALES_BUCKET: props.sales.bucketName,
      SHOPFLOW_REPORTS_BUCKET: props.reports.bucketName,
      SHOPFLOW_BACKUPS_BUCKET: props.backups.bucketName,
      SHOPFLOW_DB_SECRET_ARN: db.secret.secretArn,
      SHOPFLOW_DB_HOST: db.host,
      SHOPFLOW_DB_PORT: String(db.port),
      SHOPFLOW_DB_NAME: db.name,
      SHOPFLOW_DATA_DIR: '/tmp/shopflow',
      SHOPFLOW_TIMEZONE: c.timezone,
      SHOPFLOW_DEMO: 'false',
      SHOPFLOW_LOG_LEVEL: 'info',
      SHOPFLOW_METRICS_NAMESPACE: names.metricsNamespace,
    };

    this.ingestFailures = failureQueue(this, 'IngestFailures');
    this.ingest = shopflowFunction(this, 'Ingest', c, props.vpc, {
      functionName: names.ingestFunction,
      entry: resolve(REPO_ROOT, 'src/ingest/lambda.ts'),
      description: 'shopflow: load a daily sales CSV from the sales bucket into MySQL',
      settings: c.ingest,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroup: this.ingestSecurityGroup,
      environment: { ...shared, SHOPFLOW_DB_POOL: String(c.ingest.dbPool) },
      retryAttempts: c.ingest.retryAttempts,
      maxEventAge: Duration.hours(c.ingest.maxEventAgeHours),
      onFailure: this.ingestFailures,
    });
    props.sales.grantRead(this.ingest, 'incoming/*');
    // the rows a file got rejected for go back to the store next to it
    props.sales.grantPut(this.ingest, 'rejected/*');
    db.secret.grantRead(this.ingest);
    for (const suffix of ['.csv', '.csv.gz']) {
      props.sales.addEventNotification(s3.EventType.OBJECT_CREATED, new LambdaDestination(this.ingest), {
        prefix: 'incoming/',
        suffix,
      });
    }

    this.alertsFailures = failureQueue(this, 'AlertsFailures');
    const alertsEnv: Record<string, string> = {
      ...shared,
      SHOPFLOW_DB_POOL: String(c.alerts.dbPool),
      SHOPFLOW_SNS_TOPIC_ARN: props.alertsTopic.topicArn,
      SHOPFLOW_MAIL_FROM: c.appServer.mailFrom,
    };
    if (c.appServer.sesIdentity) alertsEnv.SHOPFLOW_SES_IDENTITY = c.appServer.sesIdentity;
    if (props.smtpSecret) alertsEnv.SHOPFLOW_SMTP_SECRET_ARN = props.smtpSecret.secretArn;
    this.alerts = shopflowFunction(this, 'Alerts', c, props.vpc, {
      functionName: names.alertsFunction,
      entry: resolve(REPO_ROOT, 'src/alerts/lambda.ts'),
      description: 'shopflow: low-stock alerts and restock orders from stock snapshots in the reports bucket',
      settings: c.alerts,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: this.alertsSecurityGroup,
      environment: alertsEnv,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: this.alertsFailures,
    });
    props.reports.grantRead(this.alerts, 'snapshots/*');
    db.secret.grantRead(this.alerts);
    props.smtpSecret?.grantRead(this.alerts);
    props.alertsTopic.grantPublish(this.alerts);
    if (c.appServer.sesIdentity) {
      this.alerts.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [`arn:aws:ses:${stack.region}:${stack.account}:identity/${c.appServer.sesIdentity}`],
        }),
      );
    }
    props.reports.addEventNotification(s3.EventType.OBJECT_CREATED, new LambdaDestination(this.alerts), {
      prefix: 'snapshots/',
      suffix: '.csv',
    });

    acknowledgeIam5(
      this.ingest.role!,
      [
        ...BUCKET_GRANT_ACTIONS.read,
        ...BUCKET_GRANT_ACTIONS.put,
        bucketObjects(props.sales, 'incoming/*'),
        bucketObjects(props.sales, 'rejected/*'),
      ],
      'Reads incoming/ and writes rejected-row reports to rejected/ of the sales bucket, nothing else.',
    );
    acknowledgeIam5(
      this.alerts.role!,
      [...BUCKET_GRANT_ACTIONS.read, bucketObjects(props.reports, 'snapshots/*'), 'Action::kms:GenerateDataKey*'],
      'Reads the stock snapshots under snapshots/ only; publishes to the KMS-encrypted alerts topic.',
    );
    for (const sg of [this.ingestSecurityGroup, this.alertsSecurityGroup]) {
      props.secretsEndpoint.connections.allowDefaultPortFrom(sg, 'shopflow function');
    }
    const notifications = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      Validations.of(notifications).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's own handler that configures S3 notifications at deploy time; it only writes its logs.",
      });
    }

    for (const fn of [this.ingest, this.alerts]) {
      const role = fn.role!;
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWS-maintained minimum for writing the function logs.',
      });
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'AWS-maintained minimum for a function attached to a VPC (network interfaces).',
      });
    }
  }
}
