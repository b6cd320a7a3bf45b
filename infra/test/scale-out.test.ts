// The scale-out path (issue 6, point 6): RDS MySQL and an Auto Scaling group from a launch template behind the
// load balancer. The same synth also covers the optional settings: HTTPS with a certificate, an S3 prefix list for
// the ingest egress, SES, and notification subscribers.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { budgetFor } from '../lib/capacity.ts';
import { resourceNames } from '../lib/config.ts';
import {
  asArray,
  egressOf,
  iamStatements,
  type Json,
  logicalIdOf,
  nagFindings,
  only,
  resources,
  synth,
} from './synth.ts';

const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/0e7f1a9c-1111-2222-3333-444455556666';
const s = synth({
  scaleOut: true,
  shopflow: {
    access: { certificateArn: CERT, ingressCidrs: ['203.0.113.0/24'] },
    s3PrefixListId: 'pl-63a5400a',
    appServer: { sesIdentity: 'mercado.example.com', mailFrom: 'estoque@mercado.example.com' },
    notifications: { opsEmails: ['ops@mercado.example.com'], alertPhoneNumbers: ['+5511999990000'] },
  },
});
after(() => s.dispose());
const t = s.template;
const c = s.config;
const rn = resourceNames(c);
const json = (v: unknown) => JSON.stringify(v);
const fnProps = (name: string) =>
  resources(t, 'AWS::Lambda::Function')[logicalIdOf(t, 'AWS::Lambda::Function', (p) => p.FunctionName === name)]!
    .Properties!;

describe('6. scale-out path', () => {
  const [dbId, db] = only(resources(t, 'AWS::RDS::DBInstance'));
  const [asgId, asg] = only(resources(t, 'AWS::AutoScaling::AutoScalingGroup'));

  it('replaces the single server: no instance, no data volume, no volume snapshot policy', () => {
    t.resourceCountIs('AWS::EC2::Instance', 0);
    t.resourceCountIs('AWS::EC2::Volume', 0);
    t.resourceCountIs('AWS::DLM::LifecyclePolicy', 0);
  });

  it('puts the database on encrypted, multi-AZ, backed-up RDS MySQL in the isolated subnets', () => {
    const p = db.Properties!;
    assert.equal(p.Engine, 'mysql');
    assert.equal(p.StorageEncrypted, true);
    assert.equal(p.MultiAZ, true);
    assert.equal(p.DeletionProtection, true);
    assert.equal(p.BackupRetentionPeriod, 7);
    assert.notEqual(p.PubliclyAccessible, true);
    assert.equal(db.DeletionPolicy, 'Snapshot');
    const group = resources(t, 'AWS::RDS::DBSubnetGroup')[p.DBSubnetGroupName.Ref]!.Properties!;
    for (const subnet of group.SubnetIds) {
      const tags = resources(t, 'AWS::EC2::Subnet')[subnet.Ref]!.Properties!.Tags;
      assert.ok(json(tags).includes('"Isolated"'));
    }
  });

  it('sets max_connections and full durability explicitly in the parameter group', () => {
    const params = only(resources(t, 'AWS::RDS::DBParameterGroup'))[1].Properties!.Parameters;
    assert.equal(params.max_connections, String(c.scaleOut.dbMaxConnections));
    assert.equal(params.innodb_flush_log_at_trx_commit, '1');
    assert.equal(params.sync_binlog, '1');
  });

  it('launches app servers from a launch template with IMDSv2, encrypted gp3 root and no key pair', () => {
    const ltRef = asg.Properties!.LaunchTemplate;
    const lt = resources(t, 'AWS::EC2::LaunchTemplate')[ltRef.LaunchTemplateId.Ref]!.Properties!.LaunchTemplateData;
    assert.equal(lt.MetadataOptions.HttpTokens, 'required');
    assert.equal(lt.KeyName, undefined);
    assert.deepEqual(lt.BlockDeviceMappings[0].Ebs, { Encrypted: true, VolumeSize: 30, VolumeType: 'gp3' });
    assert.match(json(lt.ImageId), /al2023/);
  });

  it('runs the group behind the load balancer with ELB health checks, scaling and ops notifications', () => {
    const p = asg.Properties!;
    assert.equal(p.MinSize, String(c.scaleOut.minInstances));
    assert.equal(p.MaxSize, String(c.scaleOut.maxInstances));
    assert.equal(p.HealthCheckType, 'ELB');
    const tgId = only(resources(t, 'AWS::ElasticLoadBalancingV2::TargetGroup'))[0];
    assert.deepEqual(p.TargetGroupARNs, [{ Ref: tgId }]);
    const ops = logicalIdOf(t, 'AWS::SNS::Topic', (x) => x.TopicName === 'shopflow-prod-ops');
    assert.deepEqual(p.NotificationConfigurations[0].TopicARN, { Ref: ops });
    assert.ok(
      p.Tags.some((x: Json) => x.Key === rn.appRoleTag.key && x.Value === rn.appRoleTag.value && x.PropagateAtLaunch),
    );
    for (const sub of p.VPCZoneIdentifier) {
      assert.ok(json(resources(t, 'AWS::EC2::Subnet')[sub.Ref]!.Properties!.Tags).includes('"Private"'));
    }
    t.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      AutoScalingGroupName: { Ref: asgId },
      PolicyType: 'TargetTrackingScaling',
    });
    assert.ok(asgIdHasRollingUpdate());
  });

  function asgIdHasRollingUpdate() {
    return Boolean(resources(t, 'AWS::AutoScaling::AutoScalingGroup')[asgId]!.UpdatePolicy?.AutoScalingRollingUpdate);
  }

  it('installs every group member by tag, one at a time, against RDS', () => {
    const a = only(resources(t, 'AWS::SSM::Association'))[1].Properties!;
    assert.deepEqual(a.Targets, [{ Key: `tag:${rn.appRoleTag.key}`, Values: [rn.appRoleTag.value] }]);
    assert.equal(a.MaxConcurrency, '1');
    const content = json(resources(t, 'AWS::SSM::Document')[a.Name.Ref]!.Properties!.Content);
    assert.ok(content.includes("DB_MODE='rds'"));
    assert.ok(content.includes(`"Fn::GetAtt":["${dbId}","Endpoint.Address"]`));
  });

  it('points the functions at RDS and lets only them and the app hosts reach its port', () => {
    const env = fnProps(rn.ingestFunction).Environment.Variables;
    assert.deepEqual(env.SHOPFLOW_DB_HOST, { 'Fn::GetAtt': [dbId, 'Endpoint.Address'] });
    const dbSg = db.Properties!.VPCSecurityGroups[0]['Fn::GetAtt'][0];
    const sources = Object.values(resources(t, 'AWS::EC2::SecurityGroupIngress'))
      .filter((r) => r.Properties!.GroupId['Fn::GetAtt'][0] === dbSg)
      .map((r) => `${r.Properties!.FromPort}<-${r.Properties!.SourceSecurityGroupId['Fn::GetAtt'][0]}`)
      .sort();
    assert.deepEqual(sources, [
      '3306<-AppHostSg623A1C98',
      '3306<-FunctionsAlertsSg304F70E0',
      '3306<-FunctionsIngestSg9E79E5F2',
    ]);
  });

  it('budgets connections for every fleet member at its maximum (reliability check 9)', () => {
    const lambdas =
      c.ingest.reservedConcurrency * Number(fnProps(rn.ingestFunction).Environment.Variables.SHOPFLOW_DB_POOL) +
      c.alerts.reservedConcurrency * Number(fnProps(rn.alertsFunction).Environment.Variables.SHOPFLOW_DB_POOL);
    const max = Number(only(resources(t, 'AWS::RDS::DBParameterGroup'))[1].Properties!.Parameters.max_connections);
    const api = c.scaleOut.maxInstances * c.database.apiPool;
    assert.ok(lambdas <= max - api - Math.ceil(max * 0.1));
    assert.equal(budgetFor(c).api, api);
  });
});

describe('optional settings', () => {
  it('serves HTTPS on an internet-facing load balancer when a certificate is given, redirecting HTTP', () => {
    const lb = only(resources(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))[1].Properties!;
    assert.equal(lb.Scheme, 'internet-facing');
    const listeners = Object.values(resources(t, 'AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties!);
    const https = listeners.find((l) => l.Port === 443)!;
    assert.equal(https.Protocol, 'HTTPS');
    assert.deepEqual(https.Certificates, [{ CertificateArn: CERT }]);
    assert.match(https.SslPolicy, /TLS13/);
    assert.equal(listeners.find((l) => l.Port === 80)!.DefaultActions[0].Type, 'redirect');
    const sg = resources(t, 'AWS::EC2::SecurityGroup')[lb.SecurityGroups[0]['Fn::GetAtt'][0]]!.Properties!;
    assert.deepEqual(sg.SecurityGroupIngress.map((r: Json) => `${r.CidrIp}:${r.FromPort}`).sort(), [
      '203.0.113.0/24:443',
      '203.0.113.0/24:80',
    ]);
  });

  it('narrows the ingest HTTPS egress to the S3 prefix list when one is given', () => {
    const sgId = fnProps(rn.ingestFunction).VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const dbSg = only(resources(t, 'AWS::RDS::DBInstance'))[1].Properties!.VPCSecurityGroups[0]['Fn::GetAtt'][0];
    const endpointSg = logicalIdOf(
      t,
      'AWS::EC2::SecurityGroup',
      (p) => p.GroupDescription === 'Secrets Manager endpoint',
    );
    assert.deepEqual(
      egressOf(t, sgId),
      [`3306-3306->${dbSg}`, `443-443->${endpointSg}`, '443-443->pl-63a5400a'].sort(),
    );
  });

  it('lets the alerts function and the server send mail through SES from the configured identity only', () => {
    const identity = 'arn:aws:ses:us-east-1:111111111111:identity/mercado.example.com';
    const ses = iamStatements(t).filter((x) => asArray<string>(x.statement.Action).includes('ses:SendEmail'));
    assert.equal(ses.length, 2);
    for (const x of ses) assert.deepEqual(asArray(x.statement.Resource), [identity]);
    assert.equal(fnProps(rn.alertsFunction).Environment.Variables.SHOPFLOW_SES_IDENTITY, 'mercado.example.com');
  });

  it('subscribes the configured operators and store managers', () => {
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@mercado.example.com' });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+5511999990000' });
  });

  it('passes the cdk-nag gate in this variant too', () => {
    assert.deepEqual(nagFindings(s.app), []);
  });
});
