// Helpers to acknowledge cdk-nag findings precisely: cdk-nag v3 wants one acknowledgement per finding, named by the
// exact action or resource pattern, so a new wildcard introduced later is still reported.
import { Stack, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/** The finding id cdk-nag reports for `<bucket ARN>/<suffix>` in a policy. */
export function bucketObjects(bucket: s3.IBucket, suffix = '*'): string {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  return `Resource::<${Stack.of(bucket).getLogicalId(cfn)}.Arn>/${suffix}`;
}

export function acknowledgeIam5(scope: IConstruct, findings: string[], reason: string): void {
  for (const f of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${f}]`, reason });
}

/** The action wildcards of CDK's bucket grants (grantRead, grantPut, grantReadWrite). */
export const BUCKET_GRANT_ACTIONS = {
  read: ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*'],
  put: ['Action::s3:Abort*'],
  delete: ['Action::s3:DeleteObject*'],
};
