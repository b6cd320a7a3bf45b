// The one error family of shopflow. Every failure a person can cause is one of these, with a message that says
// what was wrong and where. The HTTP layer maps `status` to application/problem+json (src/server/problem.ts) and the
// CLI maps `exitCode` (src/cli/main.ts); nothing else decides how an error looks to the outside.

import { describe, type Reason, type ReasonCode, type ReasonParams } from './domain/reasons.ts';

export type ErrorKind =
  | 'invalid_input' // a request, file or argument that breaks a rule
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict' // the request is valid but the current state refuses it (stock too low, order already issued)
  | 'unprocessable' // e.g. an Idempotency-Key reused with a different body
  | 'too_large'
  | 'rate_limited'
  | 'unavailable' // a dependency (database, bucket) is down: worth retrying
  | 'config'; // the configuration is wrong: fix the environment and start again

const STATUS: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  config: 500,
};

const EXIT: Record<ErrorKind, number> = {
  invalid_input: 2,
  unauthenticated: 3,
  forbidden: 3,
  not_found: 4,
  conflict: 5,
  unprocessable: 5,
  too_large: 2,
  rate_limited: 6,
  unavailable: 7,
  config: 78, // EX_CONFIG
};

/** An error whose message is a reason's English sentence, the reason kept for saying it in another language. */
export function reasonError(
  kind: ErrorKind,
  code: ReasonCode,
  params: ReasonParams,
  details: FieldProblem[] = [],
): ShopflowError {
  return new ShopflowError(kind, describe(code, params, 'en'), details, { reason: { code, params } });
}

export interface FieldProblem {
  /** where: a field name, a column, `line 12`, a CLI option */
  where: string;
  problem: string;
  /** the problem as a code and values, for saying it in the caller's language (never sent as such) */
  reason?: Reason;
}

/** A field problem whose text is a reason's English sentence. */
export const reasonProblem = (where: string, code: ReasonCode, params: ReasonParams = {}): FieldProblem => ({
  where,
  problem: describe(code, params, 'en'),
  reason: { code, params },
});

export class ShopflowError extends Error {
  readonly kind: ErrorKind;
  readonly details: FieldProblem[];
  /** the message as a code and values, for saying it in the caller's language (src/domain/reasons.ts) */
  readonly reason?: Reason;
  constructor(
    kind: ErrorKind,
    message: string,
    details: FieldProblem[] = [],
    options?: { cause?: unknown; reason?: Reason },
  ) {
    super(message, options);
    this.name = 'ShopflowError';
    this.kind = kind;
    this.details = details;
    if (options?.reason) this.reason = options.reason;
  }
  get status(): number {
    return STATUS[this.kind];
  }
  get exitCode(): number {
    return EXIT[this.kind];
  }
}

export const invalid = (message: string, details: FieldProblem[] = []) =>
  new ShopflowError('invalid_input', message, details);
export const notFound = (message: string) => new ShopflowError('not_found', message);
export const conflict = (message: string, details: FieldProblem[] = []) =>
  new ShopflowError('conflict', message, details);
export const forbidden = (message = 'you do not have access to this') => new ShopflowError('forbidden', message);

export function isShopflowError(e: unknown): e is ShopflowError {
  return e instanceof ShopflowError;
}
