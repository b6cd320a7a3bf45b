// The second region: versioned copies of the sales, reports and backups buckets. Deployed before the main stack,
// because S3 refuses a replication rule whose destination bucket does not exist yet.
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { bucketNames, type InfraConfig } from './config.ts';
import { accessLogBucket, secureBucketProps } from './storage.ts';

export interface ReplicaStackProps extends StackProps {
  config: InfraConfig;
}

export class ReplicaStack extends Stack {
  readonly buckets: s3.Bucket[];

  constructor(scope: Construct, id: string, props: ReplicaStackProps) {
    super(scope, id, props);
    const c = props.config;
    const names = bucketNames(c);
    const logs = accessLogBucket(this, 'ReplicaAccessLogs', names.replicaLogs, c.lifecycle.logsExpireDays);
    const replica = (bucketId: string, name: string) =>
      new s3.Bucket(this, bucketId, {
        ...secureBucketProps(),
        bucketName: name,
        removalPolicy: RemovalPolicy.RETAIN,
        serverAccessLogsBucket: logs,
        serverAccessLogsPrefix: `s3/${name}/`,
        lifecycleRules: [
          {
            id: 'old-versions',
            noncurrentVersionTransitions: [
              {
                storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                transitionAfter: Duration.days(c.lifecycle.noncurrentToGlacierDays),
              },
            ],
            noncurrentVersionExpiration: Duration.days(c.lifecycle.noncurrentExpireDays),
            abortIncompleteMultipartUploadAfter: Duration.days(7),
            expiredObjectDeleteMarker: true,
          },
        ],
      });
    this.buckets = [
      replica('SalesDataReplica', names.salesReplica),
      replica('ReportsReplica', names.reportsReplica),
      replica('BackupsReplica', names.backupsReplica),
    ];
  }
}
