// The main region: buckets, network, the two functions, the application server (or the scale-out fleet with RDS),
// its load balancer, snapshots and monitoring.
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { AppServer } from './app-server.ts';
import { budgetFor, describeBudget } from './capacity.ts';
import { type InfraConfig, resourceNames } from './config.ts';
import { Fleet, FleetDatabase } from './fleet.ts';
import { type DatabaseEndpoint, Functions } from './functions.ts';
import { AppHost } from './host.ts';
import { Monitoring } from './monitoring.ts';
import { mysqlHostPattern, Network } from './network.ts';
import { Storage } from './storage.ts';

export interface ShopflowStackProps extends StackProps {
  config: InfraConfig;
}

export class ShopflowStack extends Stack {
  readonly storage: Storage;
  readonly network: Network;
  readonly functions: Functions;
  readonly host: AppHost;
  readonly server?: AppServer;
  readonly fleet?: Fleet;
  readonly database?: FleetDatabase;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly monitoring: Monitoring;
  readonly opsTopic: sns.Topic;
  readonly alertsTopic: sns.Topic;
  readonly dbSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ShopflowStackProps) {
    super(scope, id, props);
    const c = props.config;
    const names = resourceNames(c);

    const budget = budgetFor(c);
    if (!budget.ok) throw new Error(`database connection budget exceeded: ${describeBudget(budget)}`);

    // CloudWatch alarms and Auto Scaling can only publish to an encrypted topic through a customer-managed key
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'shopflow SNS topics (operations and stock alerts)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    if (c.scaleOut.enabled) {
      topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AutoScalingNotifications',
          principals: [
            new iam.ArnPrincipal(
              `arn:aws:iam::${this.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
            ),
          ],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }
    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      topicName: `shopflow-${c.stage}-ops`,
      displayName: `shopflow ${c.stage} operations`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    this.alertsTopic = new sns.Topic(this, 'StockAlertsTopic', {
      topicName: `shopflow-${c.stage}-stock-alerts`,
      displayName: 'shopflow stock',
      masterKey: topicKey,
      enforceSSL: true,
    });
    const subscribe = (topic: sns.Topic, sub: sns.ITopicSubscription) => {
      const subscription = topic.addSubscription(sub);
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'E-mail and SMS deliveries are retried by SNS itself; a queue of undelivered pages would be read by no one.',
      });
    };
    for (const email of c.notifications.opsEmails) subscribe(this.opsTopic, new subs.EmailSubscription(email));
    for (const email of c.notifications.alertEmails) subscribe(this.alertsTopic, new subs.EmailSubscription(email));
    for (const phone of c.notifications.alertPhoneNumbers) subscribe(this.alertsTopic, new subs.SmsSubscription(phone));

    this.storage = new Storage(this, 'Storage', { config: c });
    this.network = new Network(this, 'Network', { config: c, logBucket: this.storage.logs });
    const vpc = this.network.vpc;

    this.dbSecret = new secretsmanager.Secret(this, 'DbAppSecret', {
      description: `shopflow ${c.stage}: the application's database account`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'shopflow' }),
        generateStringKey: 'password',
        // letters and digits only: the password goes into a mysql:// URL and SQL literals unescaped
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    Validations.of(this.dbSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation needs every holder to re-read the secret; the server does on restart, the functions at cold ' +
        'start, so rotation is a runbook step (docs/deploy.md) until the app retries with a fresh secret.',
    });
    const smtpSecret = c.appServer.smtpSecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, 'SmtpSecret', c.appServer.smtpSecretName)
      : undefined;

    const appLogGroup = new logs.LogGroup(this, 'AppLogs', {
      logGroupName: names.appLogGroup,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (c.scaleOut.enabled) this.database = new FleetDatabase(this, 'Database', { config: c, vpc });

    this.host = new AppHost(this, 'AppHost', {
      config: c,
      vpc,
      sales: this.storage.sales,
      reports: this.storage.reports,
      backups: this.storage.backups,
      logBucket: this.storage.logs,
      dbSecret: this.dbSecret,
      dbAdminSecret: this.database?.instance.secret,
      smtpSecret,
      alertsTopic: this.alertsTopic,
      appLogGroup,
    });

    const common = {
      DB_PORT: String(c.database.port),
      DB_NAME: c.database.name,
      DB_SECRET_ARN: this.dbSecret.secretArn,
      DB_CLIENT_HOSTS: mysqlHostPattern(c.vpcCidr),
    };
    this.network.secretsEndpoint.connections.allowDefaultPortFrom(this.host.securityGroup, 'app hosts');
    let database: DatabaseEndpoint;
    if (this.database) {
      const db = this.database;
      this.fleet = new Fleet(this, 'Fleet', { config: c, vpc, host: this.host, opsTopic: this.opsTopic });
      db.securityGroup.connections.allowFrom(this.host.securityGroup, ec2.Port.tcp(c.database.port), 'app hosts');
      this.host.install(
        {
          ...common,
          DB_MODE: 'rds',
          DB_HOST: db.instance.dbInstanceEndpointAddress,
          DB_ADMIN_SECRET_ARN: db.instance.secret!.secretArn,
          DB_MAX_CONNECTIONS: String(c.scaleOut.dbMaxConnections),
          APP_DATA_DIR: '/var/lib/shopflow/data',
        },
        { key: `tag:${names.appRoleTag.key}`, values: [names.appRoleTag.value] },
      );
      database = {
        host: db.instance.dbInstanceEndpointAddress,
        port: c.database.port,
        name: c.database.name,
        secret: this.dbSecret,
        securityGroup: db.securityGroup,
      };
    } else {
      this.server = new AppServer(this, 'AppServer', { config: c, vpc, host: this.host });
      this.host.install(
        {
          ...common,
          DB_MODE: 'local',
          DB_HOST: '127.0.0.1',
          DATA_VOLUME_ID: this.server.dataVolume.volumeId,
          DB_MAX_CONNECTIONS: String(c.database.maxConnections),
          APP_DATA_DIR: '/data/shopflow',
        },
        { key: 'InstanceIds', values: [this.server.instance.instanceId] },
      );
      database = {
        host: this.server.instance.instancePrivateIp,
        port: c.database.port,
        name: c.database.name,
        secret: this.dbSecret,
        securityGroup: this.host.securityGroup,
      };
    }

    this.functions = new Functions(this, 'Functions', {
      config: c,
      vpc,
      secretsEndpoint: this.network.secretsEndpoint,
      sales: this.storage.sales,
      reports: this.storage.reports,
      backups: this.storage.backups,
      database,
      alertsTopic: this.alertsTopic,
      smtpSecret,
    });

    // Without a certificate the load balancer stays internal: sessions must not cross the internet in clear text.
    const https = Boolean(c.access.certificateArn);
    const albSg = new ec2.SecurityGroup(this, 'LoadBalancerSg', {
      vpc,
      allowAllOutbound: false,
      description: 'shopflow load balancer',
    });
    const ingressPeers = https ? c.access.ingressCidrs.map((cidr) => ec2.Peer.ipv4(cidr)) : [ec2.Peer.ipv4(c.vpcCidr)];
    for (const peer of ingressPeers) {
      albSg.addIngressRule(peer, ec2.Port.tcp(https ? 443 : 80), https ? 'HTTPS' : 'HTTP inside the VPC');
      if (https) albSg.addIngressRule(peer, ec2.Port.tcp(80), 'redirect to HTTPS');
    }
    if (https && c.access.ingressCidrs.includes('0.0.0.0/0')) {
      Validations.of(albSg).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'Store employees reach the app from any network over HTTPS; narrow access.ingressCidrs to restrict.',
      });
    }
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: https,
      vpcSubnets: { subnetType: https ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: albSg,
      dropInvalidHeaderFields: true,
      deletionProtection: true,
    });
    this.loadBalancer.logAccessLogs(this.storage.logs, 'alb');
    this.host.securityGroup.connections.allowFrom(albSg, ec2.Port.tcp(c.appServer.port), 'load balancer');
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'AppTargets', {
      vpc,
      port: c.appServer.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/readyz',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    if (this.server) targetGroup.addTarget(new targets.InstanceTarget(this.server.instance, c.appServer.port));
    if (this.fleet) this.fleet.group.attachToApplicationTargetGroup(targetGroup);
    if (https) {
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', c.access.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
        open: false,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    } else {
      this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [targetGroup],
        open: false,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      config: c,
      opsTopic: this.opsTopic,
      ingest: this.functions.ingest,
      alerts: this.functions.alerts,
      ingestFailures: this.functions.ingestFailures,
      alertsFailures: this.functions.alertsFailures,
      replicated: this.storage.replicated,
      loadBalancer: this.loadBalancer,
      targetGroup,
      instance: this.server?.instance,
      autoScalingGroupName: this.fleet?.group.autoScalingGroupName,
      database: this.database?.instance,
    });

    new CfnOutput(this, 'Url', {
      value: `${https ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`,
      description: https ? 'point your DNS name at this' : 'internal: reach it through an SSM port forward',
    });
    new CfnOutput(this, 'SalesBucket', { value: this.storage.sales.bucketName });
    new CfnOutput(this, 'ReportsBucket', { value: this.storage.reports.bucketName });
    new CfnOutput(this, 'BackupsBucket', { value: this.storage.backups.bucketName });
    new CfnOutput(this, 'IngestDeadLetterQueue', { value: this.functions.ingestFailures.queueUrl });
    new CfnOutput(this, 'OpsTopicArn', { value: this.opsTopic.topicArn });
    if (this.server) {
      new CfnOutput(this, 'AppServerInstanceId', { value: this.server.instance.instanceId });
      new CfnOutput(this, 'DataVolumeId', { value: this.server.dataVolume.volumeId });
    }
    if (this.database)
      new CfnOutput(this, 'DatabaseEndpoint', { value: this.database.instance.dbInstanceEndpointAddress });
  }
}
