// The seeds' application server: one EC2 instance running the API and MariaDB, whose data and binary logs live on
// their own encrypted gp3 volume. The volume is a separate resource, so replacing the instance never deletes the
// database, and Data Lifecycle Manager snapshots it every day.
import { RemovalPolicy, Size, Tags, Validations } from 'aws-cdk-lib';
import * as dlm from 'aws-cdk-lib/aws-dlm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { type InfraConfig, resourceNames } from './config.ts';
import { type AppHost, snapshotHookDocumentContent } from './host.ts';

export function machineImage(c: InfraConfig): ec2.IMachineImage {
  return c.appServer.amiId
    ? ec2.MachineImage.genericLinux({ [c.region]: c.appServer.amiId })
    : ec2.MachineImage.latestAmazonLinux2023();
}

export function rootVolume(sizeGb: number): ec2.BlockDevice {
  return {
    deviceName: '/dev/xvda',
    volume: ec2.BlockDeviceVolume.ebs(sizeGb, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true }),
  };
}

export interface AppServerProps {
  config: InfraConfig;
  vpc: ec2.IVpc;
  host: AppHost;
}

export class AppServer extends Construct {
  readonly instance: ec2.Instance;
  readonly dataVolume: ec2.Volume;
  readonly snapshotPolicy: dlm.CfnLifecyclePolicy;

  constructor(scope: Construct, id: string, props: AppServerProps) {
    super(scope, id);
    const c = props.config;
    const names = resourceNames(c);
    // the volume and the instance must share a zone; the first one is as good as any
    const zone = c.availabilityZones[0]!;

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [zone] },
      instanceType: new ec2.InstanceType(c.appServer.instanceType),
      machineImage: machineImage(c),
      role: props.host.role,
      securityGroup: props.host.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      disableApiTermination: true,
      associatePublicIpAddress: false,
      blockDevices: [rootVolume(c.appServer.rootVolumeGb)],
      propagateTagsToVolumeOnCreation: true,
    });
    Tags.of(this.instance).add(names.snapshotTag.key, names.snapshotTag.value);
    Tags.of(this.instance).add(names.appRoleTag.key, names.appRoleTag.value);

    this.dataVolume = new ec2.Volume(this, 'DataVolume', {
      availabilityZone: zone,
      size: Size.gibibytes(c.appServer.dataVolumeGb),
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      iops: c.appServer.dataVolumeIops,
      throughput: c.appServer.dataVolumeThroughput,
      encrypted: true,
      // deleting the stack leaves a final snapshot of the database instead of nothing
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    Tags.of(this.dataVolume).add('Name', `shopflow-${c.stage}-data`);
    new ec2.CfnVolumeAttachment(this, 'DataVolumeAttachment', {
      instanceId: this.instance.instanceId,
      volumeId: this.dataVolume.volumeId,
      device: '/dev/sdf',
    });

    const hookDocument = new ssm.CfnDocument(this, 'SnapshotHook', {
      documentType: 'Command',
      updateMethod: 'NewVersion',
      content: snapshotHookDocumentContent(),
      // the AWS-managed DLM policy for scripts may only run documents carrying this tag
      tags: [{ key: 'DLMScriptsAccess', value: 'true' }],
    });

    const dlmRole = new iam.Role(this, 'SnapshotRole', {
      assumedBy: new iam.ServicePrincipal('dlm.amazonaws.com'),
      description: 'Data Lifecycle Manager: daily snapshots of the shopflow data volume',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSDataLifecycleManagerServiceRole'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDataLifecycleManagerSSMFullAccess'),
      ],
    });
    Validations.of(dlmRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole]',
      reason: 'AWS-maintained policy for Data Lifecycle Manager snapshots; it tracks new EBS snapshot APIs.',
    });
    Validations.of(dlmRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSDataLifecycleManagerSSMFullAccess]',
      reason: 'AWS-maintained policy for DLM pre/post scripts; limited to documents tagged DLMScriptsAccess.',
    });

    const s = c.snapshots;
    this.snapshotPolicy = new dlm.CfnLifecyclePolicy(this, 'DailySnapshots', {
      description: `shopflow ${c.stage} daily snapshot of the database volume`,
      state: 'ENABLED',
      executionRoleArn: dlmRole.roleArn,
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        // instance targeting is what allows the pre/post scripts; the boot volume is rebuilt, not restored
        resourceTypes: ['INSTANCE'],
        targetTags: [{ key: names.snapshotTag.key, value: names.snapshotTag.value }],
        parameters: { excludeBootVolume: true, noReboot: true },
        schedules: [
          {
            name: 'daily',
            copyTags: true,
            tagsToAdd: [{ key: 'shopflow:stage', value: c.stage }],
            createRule: {
              interval: 24,
              intervalUnit: 'HOURS',
              times: [s.timeUtc],
              scripts: [
                {
                  stages: ['PRE', 'POST'],
                  executionHandlerService: 'AWS_SYSTEMS_MANAGER',
                  executionHandler: hookDocument.ref,
                  // a crash-consistent snapshot is still restorable by InnoDB; better than none
                  executeOperationOnScriptFailure: true,
                  executionTimeout: 60,
                  maximumRetryCount: 1,
                },
              ],
            },
            retainRule: { count: s.retainCount },
            ...(s.copyToReplicaRegion
              ? {
                  crossRegionCopyRules: [
                    {
                      target: c.replicaRegion,
                      encrypted: true,
                      copyTags: true,
                      retainRule: { interval: s.copyRetainDays, intervalUnit: 'DAYS' },
                    },
                  ],
                }
              : {}),
          },
        ],
      },
    });
  }
}
