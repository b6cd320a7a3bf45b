// The scale-out path of the seeds ("more instances from an image"): the database moves to RDS MySQL and the API
// runs in an Auto Scaling group launched from a template, behind the same load balancer. Every instance installs
// the same bundle through the same SSM association, targeted by tag, one instance at a time.
import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { machineImage, rootVolume } from './app-server.ts';
import { type InfraConfig, resourceNames } from './config.ts';
import type { AppHost } from './host.ts';

export interface FleetDatabaseProps {
  config: InfraConfig;
  vpc: ec2.IVpc;
}

export class FleetDatabase extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly securityGroup: ec2.SecurityGroup;
  readonly parameterGroup: rds.ParameterGroup;

  constructor(scope: Construct, id: string, props: FleetDatabaseProps) {
    super(scope, id);
    const c = props.config;
    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'shopflow RDS MySQL',
    });
    const engine = rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of('8.4', '8.4') });
    this.parameterGroup = new rds.ParameterGroup(this, 'Params', {
      engine,
      description: 'shopflow: explicit connection limit (the Lambda budget depends on it) and full durability',
      parameters: {
        max_connections: String(c.scaleOut.dbMaxConnections),
        innodb_flush_log_at_trx_commit: '1',
        sync_binlog: '1',
        transaction_isolation: 'REPEATABLE-READ',
        character_set_server: 'utf8mb4',
        collation_server: 'utf8mb4_unicode_ci',
      },
    });
    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(c.scaleOut.dbInstanceType.replace(/^db\./, '')),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      port: c.database.port,
      multiAz: c.scaleOut.dbMultiAz,
      allocatedStorage: c.scaleOut.dbAllocatedGb,
      maxAllocatedStorage: c.scaleOut.dbAllocatedGb * 4,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      credentials: rds.Credentials.fromGeneratedSecret('shopflow_admin', {
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      }),
      databaseName: c.database.name,
      parameterGroup: this.parameterGroup,
      backupRetention: Duration.days(7),
      preferredBackupWindow: '05:00-05:30',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason: 'The standard MySQL port: the database is only reachable from the app and function security groups.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS6',
      reason: 'The app authenticates with Secrets Manager passwords; IAM tokens would need a driver-side signer.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Administrator secret, used only when a host creates the application account; rotated by hand.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E9006',
      reason: 'A major version only (8.4): RDS applies minor upgrades itself without the template fighting them.',
    });
  }
}

export interface FleetProps {
  config: InfraConfig;
  vpc: ec2.IVpc;
  host: AppHost;
  opsTopic: sns.ITopic;
}

export class Fleet extends Construct {
  readonly group: autoscaling.AutoScalingGroup;
  readonly launchTemplate: ec2.LaunchTemplate;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    const c = props.config;
    const names = resourceNames(c);
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(c.scaleOut.instanceType),
      machineImage: machineImage(c),
      role: props.host.role,
      securityGroup: props.host.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      blockDevices: [rootVolume(c.appServer.rootVolumeGb)],
      userData: ec2.UserData.forLinux(),
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: c.scaleOut.minInstances,
      desiredCapacity: c.scaleOut.desiredInstances,
      maxCapacity: c.scaleOut.maxInstances,
      // a new instance installs packages and the app (npm ci) before it can answer /readyz
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(20),
      }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        minInstancesInService: c.scaleOut.minInstances,
        pauseTime: Duration.minutes(20),
      }),
      notifications: [{ topic: props.opsTopic }],
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    this.group.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60, cooldown: Duration.minutes(5) });
    // the install association finds fleet members by this tag
    Tags.of(this.group).add(names.appRoleTag.key, names.appRoleTag.value, { applyToLaunchedInstances: true });
  }
}
