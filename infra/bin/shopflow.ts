// Entry point of `cdk synth` / `cdk deploy` (see infra/cdk.json and docs/deploy.md).
import { Annotations } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.ts';
import { PLACEHOLDER_ACCOUNT } from '../lib/config.ts';

const { app, config, main } = buildApp();
if (config.account === PLACEHOLDER_ACCOUNT) {
  Annotations.of(main).addWarningV2(
    'shopflow:placeholder-account',
    'No AWS account configured: synth uses a placeholder. Deploy with credentials or -c account=<id>.',
  );
}
if (!config.appServer.amiId) {
  Annotations.of(main).addWarningV2(
    'shopflow:unpinned-ami',
    'appServer.amiId is not pinned: after a new AL2023 release a deploy would replace the application server, which the attached data volume blocks. Pin it (docs/deploy.md).',
  );
}
app.synth();
