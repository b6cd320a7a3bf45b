// The seeds' buckets: sales files in, reports out, plus the application's database dumps. Every bucket keeps its
// versions (audit and recovery of an overwritten or deleted file) and is copied to the replica region within
// 15 minutes (Replication Time Control), so a lost region or a deleted bucket does not lose the chain's history.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketNames, type InfraConfig, resourceNames } from './config.ts';

/** Settings every shopflow bucket shares, here and in the replica region. */
export function secureBucketProps(): Pick<
  s3.BucketProps,
  'blockPublicAccess' | 'encryption' | 'enforceSSL' | 'minimumTLSVersion' | 'versioned' | 'objectOwnership'
> {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // SSE-S3 rather than KMS: S3 server access logs and ALB logs can only be delivered to SSE-S3 buckets, and
    // replication of SSE-S3 objects needs no key grants in the second region.
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  };
}

export function accessLogBucket(scope: Construct, id: string, name: string, expireDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...secureBucketProps(),
    bucketName: name,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      { id: 'expire-logs', expiration: Duration.days(expireDays), noncurrentVersionExpiration: Duration.days(7) },
      { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
    ],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the access-log bucket itself; logging it into itself would loop and another bucket adds nothing.',
  });
  return bucket;
}

export interface StorageProps {
  config: InfraConfig;
}

export class Storage extends Construct {
  readonly logs: s3.Bucket;
  readonly sales: s3.Bucket;
  readonly reports: s3.Bucket;
  readonly backups: s3.Bucket;
  readonly replicationRole: iam.Role;
  /** source bucket → destination bucket name, for the replication alarms */
  readonly replicated: { label: string; source: s3.Bucket; destinationName: string }[] = [];

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const c = props.config;
    const names = bucketNames(c);
    const lc = c.lifecycle;
    const account = Stack.of(this).account;

    this.logs = accessLogBucket(this, 'AccessLogs', names.logs, lc.logsExpireDays);

    // One role for the three buckets; CDK's per-bucket default role has a fixed name and would collide.
    this.replicationRole = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'S3 cross-region replication of the shopflow buckets to the replica region',
    });

    const oldVersions: s3.LifecycleRule = {
      id: 'old-versions',
      noncurrentVersionTransitions: [
        {
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          transitionAfter: Duration.days(lc.noncurrentToGlacierDays),
        },
      ],
      noncurrentVersionExpiration: Duration.days(lc.noncurrentExpireDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
      expiredObjectDeleteMarker: true,
    };

    const make = (bucketId: string, label: string, name: string, replicaName: string, rules: s3.LifecycleRule[]) => {
      const destination = s3.Bucket.fromBucketAttributes(this, `${bucketId}ReplicaRef`, {
        bucketArn: `arn:aws:s3:::${replicaName}`,
        bucketName: replicaName,
        region: c.replicaRegion,
        account,
      });
      const bucket = new s3.Bucket(this, bucketId, {
        ...secureBucketProps(),
        bucketName: name,
        removalPolicy: RemovalPolicy.RETAIN,
        serverAccessLogsBucket: this.logs,
        serverAccessLogsPrefix: `s3/${name}/`,
        lifecycleRules: [...rules, oldVersions],
        replicationRole: this.replicationRole,
        replicationRules: [
          {
            id: resourceNames(c).replicationRuleId,
            destination,
            replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
            metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
            // a delete marker hides a file without destroying a version, so the replica mirrors what users see
            deleteMarkerReplication: true,
            storageClass: s3.StorageClass.INFREQUENT_ACCESS,
          },
        ],
      });
      bucket.grantReplicationPermission(this.replicationRole, { destinations: [{ bucket: destination }] });
      this.replicated.push({ label, source: bucket, destinationName: replicaName });
      return bucket;
    };

    const rawTiering: s3.LifecycleRule = {
      id: 'raw-files',
      prefix: 'incoming/',
      transitions: [
        {
          storageClass: s3.StorageClass.INFREQUENT_ACCESS,
          transitionAfter: Duration.days(lc.rawToInfrequentAccessDays),
        },
        {
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          transitionAfter: Duration.days(lc.rawToGlacierDays),
        },
      ],
      ...(lc.rawExpireDays > 0 ? { expiration: Duration.days(lc.rawExpireDays) } : {}),
    };
    this.sales = make('SalesData', 'sales', names.sales, names.salesReplica, [rawTiering]);

    this.reports = make('Reports', 'reports', names.reports, names.reportsReplica, [
      {
        id: 'reports-tiering',
        prefix: 'reports/',
        transitions: [
          {
            storageClass: s3.StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(lc.reportsToInfrequentAccessDays),
          },
        ],
      },
      // stock snapshots only exist to trigger the alerts function; a few months cover any investigation
      { id: 'snapshots-expiry', prefix: 'snapshots/', expiration: Duration.days(lc.snapshotsExpireDays) },
    ]);

    this.backups = make('Backups', 'backups', names.backups, names.backupsReplica, [
      { id: 'backups-expiry', expiration: Duration.days(lc.backupsExpireDays) },
    ]);

    for (const b of [this.sales, this.reports, this.backups]) {
      const logical = Stack.of(this).getLogicalId(b.node.defaultChild as s3.CfnBucket);
      Validations.of(this.replicationRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logical}.Arn>/*]`,
        reason: 'Replication reads every object version of its source bucket: object-level actions need bucket/*.',
      });
    }
    for (const name of [names.salesReplica, names.reportsReplica, names.backupsReplica]) {
      Validations.of(this.replicationRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:aws:s3:::${name}/*]`,
        reason: 'Replication writes any key into its replica bucket: object-level actions need bucket/*.',
      });
    }
  }
}
