// Three tiers: public subnets hold only the load balancer and the NAT gateway; `app` subnets (outbound through NAT)
// hold the servers and the alerts function, which must reach SMTP servers and webhooks on the internet; `data`
// subnets have no route out at all and hold the ingest function and RDS, which reach S3 through the gateway
// endpoint and Secrets Manager through an interface endpoint.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { InfraConfig } from './config.ts';

export interface NetworkProps {
  config: InfraConfig;
  logBucket: s3.IBucket;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly secretsEndpoint: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const c = props.config;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(c.vpcCidr),
      availabilityZones: c.availabilityZones,
      natGateways: c.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // the default group is unused; restricting it needs a custom-resource Lambda for no practical gain
      restrictDefaultSecurityGroup: false,
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toS3(props.logBucket, 'vpc-flow-logs/'),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // closed by default: each client security group is let in explicitly
    const endpointSg = new ec2.SecurityGroup(this, 'SecretsEndpointSg', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Secrets Manager endpoint',
    });
    this.secretsEndpoint = this.vpc.addInterfaceEndpoint('SecretsManager', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      privateDnsEnabled: true,
      securityGroups: [endpointSg],
      open: false,
    });
  }
}

/** Dotted netmask of a CIDR, for MySQL account host patterns ('user'@'10.40.0.0/255.255.0.0'). */
export function mysqlHostPattern(cidr: string): string {
  const [addr, bits] = cidr.split('/') as [string, string];
  const n = Number(bits);
  const mask = [0, 1, 2, 3].map((i) => {
    const b = Math.max(0, Math.min(8, n - i * 8));
    return 256 - 2 ** (8 - b);
  });
  return `${addr}/${mask.join('.')}`;
}
