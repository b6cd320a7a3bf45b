// Seed §7: metrics of the function and the server, and alerts when processing fails or the service is down. Every
// alarm notifies the operations topic on ALARM and on OK, so a page also says when it is over.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type InfraConfig, resourceNames } from './config.ts';

/** Fraction of the timeout at which a function's duration pages: close enough to warn, early enough to act. */
export const DURATION_ALARM_FRACTION = 0.8;
/** Replication Time Control promises 15 minutes; past that the replica lags the contract. */
export const REPLICATION_LATENCY_LIMIT_SECONDS = 900;

export interface MonitoringProps {
  config: InfraConfig;
  opsTopic: sns.ITopic;
  ingest: lambda.Function;
  alerts: lambda.Function;
  ingestFailures: sqs.IQueue;
  alertsFailures: sqs.IQueue;
  replicated: { label: string; source: s3.IBucket; destinationName: string }[];
  loadBalancer: elbv2.ApplicationLoadBalancer;
  targetGroup: elbv2.ApplicationTargetGroup;
  /** single-server mode */
  instance?: ec2.Instance;
  /** scale-out mode */
  autoScalingGroupName?: string;
  database?: rds.DatabaseInstance;
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const c = props.config;
    const names = resourceNames(c);
    const notify = new actions.SnsAction(props.opsTopic);
    const five = Duration.minutes(5);

    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      o: Partial<cloudwatch.CreateAlarmOptions> & { threshold: number; description: string },
      extra: cloudwatch.IAlarmAction[] = [],
    ) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmName: `shopflow-${c.stage}-${alarmId}`,
        alarmDescription: o.description,
        ...o,
      });
      a.addAlarmAction(notify, ...extra);
      a.addOkAction(notify);
      this.alarms.push(a);
      return a;
    };

    // the ingest function: failures, throttling (a burst beyond the reserved concurrency) and slowness
    alarm('IngestErrors', props.ingest.metricErrors({ period: five, statistic: 'Sum' }), {
      threshold: 1,
      description: 'The ingest function threw: a sales file was not loaded and will be retried, then dead-lettered.',
    });
    alarm('IngestThrottles', props.ingest.metricThrottles({ period: five, statistic: 'Sum' }), {
      threshold: 1,
      description: 'Uploads arrive faster than the reserved concurrency; events wait in the async queue.',
    });
    alarm('IngestDuration', props.ingest.metricDuration({ period: five, statistic: 'Maximum' }), {
      threshold: Math.round(c.ingest.timeoutSeconds * 1000 * DURATION_ALARM_FRACTION),
      description: `An ingest run took over ${DURATION_ALARM_FRACTION * 100}% of its timeout; larger files will time out.`,
    });
    alarm('AlertsErrors', props.alerts.metricErrors({ period: five, statistic: 'Sum' }), {
      threshold: 1,
      description: 'The alerts function threw: a low-stock alert or restock order may be missing.',
    });
    alarm('AlertsThrottles', props.alerts.metricThrottles({ period: five, statistic: 'Sum' }), {
      threshold: 1,
      description: 'Stock snapshots arrive faster than the alerts function may run.',
    });
    alarm(
      'IngestDeadLetters',
      props.ingestFailures.metric('ApproximateNumberOfMessagesVisible', { period: five, statistic: 'Maximum' }),
      { threshold: 1, description: 'A sales-file event exhausted its retries; see docs/deploy.md to redrive it.' },
    );
    alarm(
      'AlertsDeadLetters',
      props.alertsFailures.metric('ApproximateNumberOfMessagesVisible', { period: five, statistic: 'Maximum' }),
      { threshold: 1, description: 'A stock-snapshot event exhausted its retries.' },
    );

    // the application's own metrics, written by the functions in embedded metric format
    const filesFailed = new cloudwatch.Metric({
      namespace: names.metricsNamespace,
      metricName: 'FilesFailed',
      dimensionsMap: { Service: 'ingest' },
      period: five,
      statistic: 'Sum',
    });
    const filesLoaded = new cloudwatch.Metric({
      namespace: names.metricsNamespace,
      metricName: 'FilesLoaded',
      dimensionsMap: { Service: 'ingest' },
      period: five,
      statistic: 'Sum',
    });
    alarm('FilesFailed', filesFailed, {
      threshold: 1,
      description: 'A sales file was rejected or failed to load; the store must resend or fix it.',
    });

    // the service itself, as users see it through the load balancer
    const lb = props.loadBalancer.metrics;
    const tg = props.targetGroup.metrics;
    alarm('NoHealthyHost', tg.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' }), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      description: 'No application server answers /readyz: the service is unavailable.',
    });
    alarm('Http5xx', tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: five, statistic: 'Sum' }), {
      threshold: 10,
      description: 'The application answered 5xx repeatedly.',
    });

    const hostNs = names.hostMetricsNamespace;
    const hostMetric = (metricName: string, dims: Record<string, string>) =>
      new cloudwatch.Metric({ namespace: hostNs, metricName, dimensionsMap: dims, period: five, statistic: 'Maximum' });
    alarm('RootDiskUsage', hostMetric('disk_used_percent', { path: '/' }), {
      threshold: 85,
      description: 'The root disk of an application host is over 85% full.',
    });
    alarm('MemoryUsage', hostMetric('mem_used_percent', {}), {
      threshold: 90,
      evaluationPeriods: 3,
      description: 'An application host has used over 90% of its memory for 15 minutes.',
    });
    // a host that stops reporting (agent stopped, host gone) must not look healthy
    alarm('HostMetricsMissing', hostMetric('mem_used_percent', {}).with({ statistic: 'SampleCount' }), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      description: 'No CloudWatch agent metrics for 15 minutes: the agent or the host is down.',
    });

    if (props.instance) {
      const ec2Metric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName,
          dimensionsMap: { InstanceId: props.instance!.instanceId },
          period: Duration.minutes(1),
          statistic,
        });
      alarm(
        'SystemStatusCheck',
        ec2Metric('StatusCheckFailed_System', 'Maximum'),
        {
          threshold: 1,
          evaluationPeriods: 2,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          description: 'The hardware under the application server failed; EC2 recovers the instance onto new hardware.',
        },
        [new actions.Ec2Action(actions.Ec2InstanceAction.RECOVER)],
      );
      alarm(
        'InstanceStatusCheck',
        ec2Metric('StatusCheckFailed_Instance', 'Maximum'),
        {
          threshold: 1,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          description: 'The application server OS stopped responding; it is rebooted.',
        },
        [new actions.Ec2Action(actions.Ec2InstanceAction.REBOOT)],
      );
      alarm('Cpu', ec2Metric('CPUUtilization', 'Average').with({ period: five }), {
        threshold: 80,
        evaluationPeriods: 3,
        description: 'The application server has been over 80% CPU for 15 minutes: time to resize or scale out.',
      });
      alarm('DataDiskUsage', hostMetric('disk_used_percent', { path: '/data' }), {
        threshold: 80,
        description: 'The database volume is over 80% full; grow it (docs/deploy.md) before MariaDB stops.',
      });
    }

    if (props.autoScalingGroupName) {
      alarm(
        'Cpu',
        new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName: 'CPUUtilization',
          dimensionsMap: { AutoScalingGroupName: props.autoScalingGroupName },
          period: five,
          statistic: 'Average',
        }),
        {
          threshold: 80,
          evaluationPeriods: 3,
          description: 'The fleet has been over 80% CPU for 15 minutes despite scaling: raise maxInstances.',
        },
      );
    }

    if (props.database) {
      const db = props.database;
      alarm('DbCpu', db.metricCPUUtilization({ period: five }), {
        threshold: 80,
        evaluationPeriods: 3,
        description: 'RDS CPU over 80% for 15 minutes.',
      });
      alarm('DbFreeStorage', db.metricFreeStorageSpace({ period: five, statistic: 'Minimum' }), {
        threshold: 10 * 1024 ** 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description: 'RDS has under 10 GiB free (storage autoscaling should have acted).',
      });
      alarm('DbConnections', db.metricDatabaseConnections({ period: five, statistic: 'Maximum' }), {
        threshold: Math.floor(c.scaleOut.dbMaxConnections * 0.9),
        description: 'Database connections are within 10% of max_connections.',
      });
    }

    for (const r of props.replicated) {
      const dims = {
        SourceBucket: r.source.bucketName,
        DestinationBucket: r.destinationName,
        RuleId: names.replicationRuleId,
      };
      const short = r.label;
      alarm(
        `ReplicationLatency-${short}`,
        new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName: 'ReplicationLatency',
          dimensionsMap: dims,
          period: Duration.minutes(15),
          statistic: 'Maximum',
        }),
        {
          threshold: REPLICATION_LATENCY_LIMIT_SECONDS,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          description: `Replication to ${r.destinationName} is slower than its 15-minute objective.`,
        },
      );
      alarm(
        `ReplicationFailed-${short}`,
        new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName: 'OperationsFailedReplication',
          dimensionsMap: dims,
          period: five,
          statistic: 'Sum',
        }),
        { threshold: 1, description: `Objects failed to replicate to ${r.destinationName}.` },
      );
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `shopflow-${c.stage}`,
      defaultInterval: Duration.days(1),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      graph('Sales files', [filesLoaded, filesFailed]),
      graph(
        'Ingest function',
        [props.ingest.metricInvocations(), props.ingest.metricErrors(), props.ingest.metricThrottles()],
        [props.ingest.metricDuration({ statistic: 'p95' })],
      ),
      graph(
        'Alerts function',
        [props.alerts.metricInvocations(), props.alerts.metricErrors()],
        [props.alerts.metricDuration({ statistic: 'p95' })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Load balancer',
        [lb.requestCount(), tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT)],
        [lb.targetResponseTime({ statistic: 'p95' })],
      ),
      graph(
        'Hosts',
        [hostMetric('disk_used_percent', { path: '/' }), hostMetric('mem_used_percent', {})].concat(
          props.instance
            ? [
                hostMetric('disk_used_percent', { path: '/data' }),
                new cloudwatch.Metric({
                  namespace: 'AWS/EC2',
                  metricName: 'CPUUtilization',
                  dimensionsMap: { InstanceId: props.instance.instanceId },
                }),
              ]
            : [],
        ),
      ),
      graph(
        'Dead letters and replication',
        [
          props.ingestFailures.metric('ApproximateNumberOfMessagesVisible'),
          props.alertsFailures.metric('ApproximateNumberOfMessagesVisible'),
        ],
        props.replicated.map(
          (r) =>
            new cloudwatch.Metric({
              namespace: 'AWS/S3',
              metricName: 'ReplicationLatency',
              dimensionsMap: {
                SourceBucket: r.source.bucketName,
                DestinationBucket: r.destinationName,
                RuleId: names.replicationRuleId,
              },
              statistic: 'Maximum',
            }),
        ),
      ),
    );
    if (props.database) {
      const db = props.database;
      this.dashboard.addWidgets(graph('Database', [db.metricDatabaseConnections()], [db.metricCPUUtilization()]));
    }
  }
}
