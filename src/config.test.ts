import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig, loadConfig } from './config.ts';
import { ShopflowError } from './errors.ts';

describe('configuration', () => {
  it('defaults to the embedded local setup', () => {
    const c = loadConfig({});
    assert.match(c.databaseUrl, /^sqlite:.*data\/shopflow\.db$/);
    assert.equal(c.storage.kind, 'local');
    assert.equal(c.buckets.sales, 'supermarket-sales-data');
    assert.equal(c.buckets.reports, 'supermarket-reports');
    assert.equal(c.port, 8080);
    assert.equal(c.timezone, 'America/Sao_Paulo');
    assert.equal(c.rejectThreshold, 0.05);
    assert.equal(c.sqliteSynchronous, 'FULL');
  });

  it('reads MySQL and S3 settings', () => {
    const c = loadConfig({
      SHOPFLOW_DATABASE_URL: 'mysql://app:pw@db:3306/shopflow',
      SHOPFLOW_STORAGE: 's3://',
      SHOPFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000',
      SHOPFLOW_S3_FORCE_PATH_STYLE: 'true',
      SHOPFLOW_MODE: 'aws',
    });
    assert.deepEqual(c.storage, {
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    assert.equal(c.mode, 'aws');
  });

  it('names every wrong variable in one error', () => {
    try {
      loadConfig({ SHOPFLOW_PORT: 'eighty', SHOPFLOW_TIMEZONE: 'Mars/Olympus', SHOPFLOW_DATABASE_URL: 'postgres://x' });
      assert.fail('should have thrown');
    } catch (e) {
      assert.ok(e instanceof ShopflowError && e.kind === 'config');
      assert.deepEqual(e.details.map((d) => d.where).sort(), [
        'SHOPFLOW_DATABASE_URL',
        'SHOPFLOW_PORT',
        'SHOPFLOW_TIMEZONE',
      ]);
      assert.equal(e.exitCode, 78);
    }
  });

  it('never shows secrets', () => {
    const c = loadConfig({
      SHOPFLOW_DATABASE_URL: 'mysql://app:s3cret@db:3306/shopflow',
      SHOPFLOW_SMTP_URL: 'smtp://mailer:hunter2@mail:587',
      SHOPFLOW_WEBHOOK_SECRET: 'whsec',
    });
    const shown = JSON.stringify(describeConfig(c));
    for (const secret of ['s3cret', 'hunter2', 'whsec']) assert.ok(!shown.includes(secret), secret);
    assert.match(shown, /mysql:\/\/app:\*\*\*@db/);
  });
});
