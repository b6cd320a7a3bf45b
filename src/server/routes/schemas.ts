// JSON-schema pieces every route file uses the same way: a store code, a numeric id in the path, a nullable text,
// and the error answers of a store-scoped route.
import { problemResponse } from '../problem.ts';

export const storeCode = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

export const nullableString = { type: ['string', 'null'] } as const;

/** 400/401/403/404 of a route whose caller may see only some stores; `notFound` says what 404 means there. */
export function scopedProblems(notFound: string) {
  return {
    400: problemResponse('a field is wrong: each one is named'),
    401: problemResponse('not logged in'),
    403: problemResponse('not allowed for this role or store'),
    404: problemResponse(notFound),
  } as const;
}
