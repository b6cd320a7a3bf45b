// AWS Lambda entry point of the ingest function: S3 ObjectCreated under incoming/ → the shared handler.

import { lambdaRuntime } from '../runtime/lambda-context.ts';
import type { S3Event } from '../storage/object-store.ts';
import { handleIngestEvent } from './handler.ts';

export const handler = async (event: S3Event): Promise<unknown> => {
  const ctx = await lambdaRuntime();
  return handleIngestEvent(ctx, event);
};
