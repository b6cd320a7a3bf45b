// AWS Lambda entry point of the alerts function: a stock snapshot written to the reports bucket → the shared handler.

import { lambdaRuntime } from '../runtime/lambda-context.ts';
import type { S3Event } from '../storage/object-store.ts';
import { handleSnapshotEvent } from './handler.ts';

export const handler = async (event: S3Event): Promise<unknown> => {
  const ctx = await lambdaRuntime();
  return handleSnapshotEvent(ctx, event);
};
