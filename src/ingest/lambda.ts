// AWS Lambda entry point of the ingest function: S3 ObjectCreated under incoming/ → the shared handler. Each
// invocation also writes its outcome counts in CloudWatch embedded metric format (the FilesFailed alarm).
import { emfLine, ingestMetrics } from '../ops/emf.ts';
import { lambdaRuntime } from '../runtime/lambda-context.ts';
import type { S3Event } from '../storage/object-store.ts';
import { handleIngestEvent } from './handler.ts';

export const handler = async (event: S3Event): Promise<unknown> => {
  const ctx = await lambdaRuntime();
  const outcomes = await handleIngestEvent(ctx, event);
  const namespace = process.env.SHOPFLOW_METRICS_NAMESPACE ?? 'Shopflow';
  process.stdout.write(`${emfLine(namespace, { Service: 'ingest' }, ingestMetrics(outcomes))}\n`);
  return outcomes;
};
