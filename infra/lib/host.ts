// How application hosts are set up, for the single server and for the fleet alike. Installation is an SSM State
// Manager association rather than user data: user data runs once per instance and changing it stops the
// instance, while the association runs at the first boot and again whenever a deploy changes the app bundle, so
// `cdk deploy` is also the upgrade. The scripts it runs live in infra/host/ inside the bundle itself.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IgnoreMode, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { type InfraConfig, resourceNames } from './config.ts';
import { REPO_ROOT } from './functions.ts';
import { acknowledgeIam5, BUCKET_GRANT_ACTIONS, bucketObjects } from './nag.ts';

/**
 * What the app bundle leaves out (gitignore syntax, so `/data/` is only the top-level data directory): dependencies
 * are installed on the host, and local data, tests, benchmarks and build output never ship.
 */
export const APP_BUNDLE_EXCLUDE = [
  'node_modules/',
  '/data/',
  '.git/',
  'cdk.out/',
  '/.tmp/',
  '/coverage/',
  '/test/',
  '/bench/',
  '*.test.ts',
  '*.log',
  '.env',
  '.env.*',
];

export function appBundleOptions(): s3assets.AssetProps & { path: string } {
  return { path: REPO_ROOT, exclude: APP_BUNDLE_EXCLUDE, ignoreMode: IgnoreMode.GIT };
}

/** Values the host scripts read from /etc/shopflow/host.conf; none of them is secret. */
export interface HostSettings {
  DB_MODE: 'local' | 'rds';
  DATA_VOLUME_ID?: string;
  DB_HOST: string;
  DB_PORT: string;
  DB_NAME: string;
  DB_SECRET_ARN: string;
  DB_ADMIN_SECRET_ARN?: string;
  DB_MAX_CONNECTIONS: string;
  DB_CLIENT_HOSTS: string;
  APP_DATA_DIR: string;
  [key: string]: string | undefined;
}

export interface AppHostProps {
  config: InfraConfig;
  vpc: ec2.IVpc;
  sales: s3.IBucket;
  reports: s3.IBucket;
  backups: s3.IBucket;
  logBucket: s3.IBucket;
  dbSecret: secretsmanager.ISecret;
  dbAdminSecret?: secretsmanager.ISecret;
  smtpSecret?: secretsmanager.ISecret;
  alertsTopic: sns.ITopic;
  appLogGroup: logs.ILogGroup;
}

/** The role, security group and install association every application host uses. */
export class AppHost extends Construct {
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly bundle: s3assets.Asset;
  installDocument?: ssm.CfnDocument;
  association?: ssm.CfnAssociation;
  private readonly props: AppHostProps;

  constructor(scope: Construct, id: string, props: AppHostProps) {
    super(scope, id);
    this.props = props;
    const c = props.config;
    const stack = Stack.of(this);
    const names = resourceNames(c);

    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      // packages (dnf, npm), SSM, Secrets Manager, S3 and the alert channels are all reached over the NAT gateway
      allowAllOutbound: true,
      description: 'shopflow application host',
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'shopflow application host: its buckets, its secrets, metrics and logs, SSM management',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AWS-maintained minimum for Session Manager and Run Command, which replace SSH on this host.',
    });

    // reads files and their versions (uploads through presigned URLs, reconciliation with ListObjectVersions)
    props.sales.grantReadWrite(this.role);
    props.reports.grantReadWrite(this.role);
    props.backups.grantReadWrite(this.role);
    props.dbSecret.grantRead(this.role);
    props.dbAdminSecret?.grantRead(this.role);
    props.smtpSecret?.grantRead(this.role);
    props.alertsTopic.grantPublish(this.role);
    props.appLogGroup.grantWrite(this.role);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'HostMetrics',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the namespace condition is the scope
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': [`${names.metricsNamespace}*`] } },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReenqueueMissedFiles',
        actions: ['lambda:InvokeFunction'],
        resources: [`arn:aws:lambda:${stack.region}:${stack.account}:function:${names.ingestFunction}`],
      }),
    );
    if (c.appServer.sesIdentity) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [`arn:aws:ses:${stack.region}:${stack.account}:identity/${c.appServer.sesIdentity}`],
        }),
      );
    }

    this.bundle = new s3assets.Asset(this, 'Bundle', appBundleOptions());
    this.bundle.grantRead(this.role);
    props.logBucket.grantPut(this.role, 'ssm/*');

    acknowledgeIam5(
      this.role,
      [
        ...BUCKET_GRANT_ACTIONS.read,
        ...BUCKET_GRANT_ACTIONS.put,
        ...BUCKET_GRANT_ACTIONS.delete,
        bucketObjects(props.sales),
        bucketObjects(props.reports),
        bucketObjects(props.backups),
      ],
      'The server is the owner of its three buckets: it uploads, lists versions, restores and prunes objects.',
    );
    acknowledgeIam5(this.role, [bucketObjects(props.logBucket, 'ssm/*')], 'Run Command output of the installs.');
    acknowledgeIam5(
      this.role,
      [`Resource::arn:aws:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`],
      'Reads the app bundle from the CDK asset bucket; asset keys are content hashes known only at deploy time.',
    );
    acknowledgeIam5(
      this.role,
      ['Resource::*'],
      'cloudwatch:PutMetricData has no resource-level permissions; a namespace condition scopes it.',
    );
    acknowledgeIam5(this.role, ['Action::kms:GenerateDataKey*'], 'Publishing to the KMS-encrypted alerts topic.');
  }

  /** Installs the app bundle on the targeted instances (an instance id, or a tag for the fleet). */
  install(settings: HostSettings, target: { key: string; values: string[] }): ssm.CfnAssociation {
    const props = this.props;
    const c = props.config;
    const stack = Stack.of(this);
    const names = resourceNames(c);
    const hostConf: Record<string, string> = {
      STAGE: c.stage,
      REGION: stack.region,
      APP_PORT: String(c.appServer.port),
      API_POOL: String(c.database.apiPool),
      SALES_BUCKET: props.sales.bucketName,
      REPORTS_BUCKET: props.reports.bucketName,
      BACKUPS_BUCKET: props.backups.bucketName,
      SNS_TOPIC_ARN: props.alertsTopic.topicArn,
      MAIL_FROM: c.appServer.mailFrom,
      SES_IDENTITY: c.appServer.sesIdentity ?? '',
      SMTP_SECRET_ARN: props.smtpSecret?.secretArn ?? '',
      METRICS_NAMESPACE: names.metricsNamespace,
      HOST_METRICS_NAMESPACE: names.hostMetricsNamespace,
      APP_LOG_GROUP: names.appLogGroup,
      INGEST_FUNCTION: names.ingestFunction,
      TIMEZONE: c.timezone,
      BACKUP_TIME_UTC: backupTimeUtc(c.snapshots.timeUtc),
      ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v ?? ''])),
    };

    this.installDocument = new ssm.CfnDocument(this, 'InstallDocument', {
      documentType: 'Command',
      updateMethod: 'NewVersion',
      content: installDocumentContent(hostConf, stack.region),
    });
    this.association = new ssm.CfnAssociation(this, 'Install', {
      name: this.installDocument.ref,
      associationName: `shopflow-${c.stage}-install`,
      targets: [{ key: target.key, values: target.values }],
      parameters: { bundleUrl: [this.bundle.s3ObjectUrl] },
      // one host at a time, so a fleet keeps serving while a release rolls out and a bad release stops at one host
      maxConcurrency: '1',
      maxErrors: '0',
      complianceSeverity: 'CRITICAL',
      outputLocation: {
        s3Location: { outputS3BucketName: props.logBucket.bucketName, outputS3KeyPrefix: 'ssm/install' },
      },
    });
    return this.association;
  }
}

/** The app's own database dump runs half an hour before the volume snapshot, so each snapshot also holds it. */
function backupTimeUtc(snapshot: string): string {
  const [h, m] = snapshot.split(':').map(Number) as [number, number];
  const t = (h * 60 + m + 24 * 60 - 30) % (24 * 60);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

export function installDocumentContent(hostConf: Record<string, string>, region: string) {
  const conf = Object.entries(hostConf).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return {
    schemaVersion: '2.2',
    description: 'Install or upgrade shopflow from an app bundle in S3 (provision the host, then the release).',
    parameters: {
      bundleUrl: {
        type: 'String',
        description: 's3:// URL of the zipped repository',
        allowedPattern: "^s3://[^\\s']+$",
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'install',
        inputs: {
          timeoutSeconds: '3600',
          runCommand: [
            'set -euo pipefail',
            `export AWS_DEFAULT_REGION=${region}`,
            'exec 9>/var/lock/shopflow-install.lock',
            'flock 9',
            'install -d -m 0755 /etc/shopflow /opt/shopflow/releases',
            "cat >/etc/shopflow/host.conf <<'SHOPFLOW_CONF'",
            ...conf,
            'SHOPFLOW_CONF',
            'chmod 0644 /etc/shopflow/host.conf',
            "url='{{ bundleUrl }}'",
            'rel="/opt/shopflow/releases/$(basename "$url" .zip)"',
            'if [ ! -d "$rel" ]; then',
            '  tmp=$(mktemp -d /opt/shopflow/releases/.new.XXXXXX)',
            '  aws s3 cp "$url" "$tmp.zip" --only-show-errors',
            '  unzip -q "$tmp.zip" -d "$tmp"',
            '  rm -f "$tmp.zip"',
            '  chmod -R u+rwX,go+rX,go-w "$tmp"',
            '  mv "$tmp" "$rel"',
            'fi',
            'bash "$rel/infra/host/provision.sh"',
            'bash "$rel/infra/host/install.sh" "$rel"',
          ],
        },
      },
    ],
  };
}

export function snapshotHookDocumentContent() {
  const script = readFileSync(resolve(REPO_ROOT, 'infra/host/snapshot-hook.sh'), 'utf8').trimEnd().split('\n');
  return {
    schemaVersion: '2.2',
    description: 'Data Lifecycle Manager pre/post snapshot script: freeze and thaw the shopflow data volume.',
    parameters: {
      executionId: {
        type: 'String',
        default: 'None',
        description: 'set by Data Lifecycle Manager',
        allowedPattern: '^(None|[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12})$',
      },
      command: {
        type: 'String',
        default: 'dry-run',
        description: 'set by Data Lifecycle Manager',
        allowedValues: ['pre-script', 'post-script', 'dry-run'],
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'run',
        inputs: {
          timeoutSeconds: '120',
          runCommand: ["bash -s -- '{{ command }}' <<'SHOPFLOW_HOOK'", ...script, 'SHOPFLOW_HOOK'],
        },
      },
    ],
  };
}
