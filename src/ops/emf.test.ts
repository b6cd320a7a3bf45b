import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emfLine, ingestMetrics } from './emf.ts';

describe('embedded metric format', () => {
  it('declares each metric under its namespace and dimension, with its value at the top level', () => {
    const line = JSON.parse(
      emfLine(
        'Shopflow/prod',
        { Service: 'ingest' },
        ingestMetrics([{ status: 'loaded' }, { status: 'failed' }, { status: 'replaced' }, { status: 'duplicate' }]),
        1700000000000,
      ),
    );
    assert.deepEqual(line, {
      _aws: {
        Timestamp: 1700000000000,
        CloudWatchMetrics: [
          {
            Namespace: 'Shopflow/prod',
            Dimensions: [['Service']],
            Metrics: [
              { Name: 'FilesLoaded', Unit: 'Count' },
              { Name: 'FilesFailed', Unit: 'Count' },
              { Name: 'FilesDuplicate', Unit: 'Count' },
            ],
          },
        ],
      },
      Service: 'ingest',
      FilesLoaded: 2,
      FilesFailed: 1,
      FilesDuplicate: 1,
    });
  });
});
