// Builds the whole CDK app: the replica stack in the second region first, then the main stack. cdk-nag's AWS
// Solutions and Serverless packs run as synthesis validations, so `cdk synth` fails on any finding that is not
// acknowledged (with its reason) next to the resource it concerns.
import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type InfraConfig, loadInfraConfig, resourceNames } from './config.ts';
import { ReplicaStack } from './replica-stack.ts';
import { ShopflowStack } from './shopflow-stack.ts';

export interface ShopflowApp {
  app: App;
  config: InfraConfig;
  main: ShopflowStack;
  replica: ReplicaStack;
}

export function nagPacks() {
  return [new AwsSolutionsChecks(), new ServerlessChecks()];
}

export function buildApp(props: AppProps = {}, env: NodeJS.ProcessEnv = process.env): ShopflowApp {
  const app = new App(props);
  const config = loadInfraConfig((k) => app.node.tryGetContext(k), env);
  const names = resourceNames(config);
  // Vpc checks the configured zones against the stack's zones, which would otherwise be looked up in the account;
  // answering from the configuration keeps synth offline.
  const azKey = `availability-zones:account=${config.account}:region=${config.region}`;
  if (app.node.tryGetContext(azKey) === undefined) app.node.setContext(azKey, config.availabilityZones);
  const replica = new ReplicaStack(app, names.replicaStack, {
    config,
    env: { account: config.account, region: config.replicaRegion },
    description: `shopflow ${config.stage}: replica buckets in ${config.replicaRegion}`,
    crossRegionReferences: false,
  });
  const main = new ShopflowStack(app, names.mainStack, {
    config,
    env: { account: config.account, region: config.region },
    description: `shopflow ${config.stage}: sales files, functions, application server, backups and monitoring`,
  });
  main.addStackDependency(replica, 'replication rules need their destination buckets');
  Tags.of(app).add('project', 'shopflow');
  Tags.of(app).add('shopflow:stage', config.stage);
  Validations.of(app).addPlugins(...nagPacks());
  return { app, config, main, replica };
}
