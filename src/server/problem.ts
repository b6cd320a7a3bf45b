// The one place where a failure becomes an HTTP response: every error and every unknown route is answered with
// application/problem+json (RFC 9457). Feature routes never build error bodies; they throw ShopflowError (or let
// schema validation fail) and this module decides status, body and logging.
//
// What reaches the client: a ShopflowError's message and details (written for people, with no secrets), schema
// validation failures field by field, and the messages of Fastify's own 4xx errors (malformed JSON, body too large,
// unsupported media type, rate limit). Anything else is a bug or an outage: the client gets a generic 500 with the
// request id, and the error itself goes to the log under that id.
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describe, type Lang, type Reason } from '../domain/reasons.ts';
import { type ErrorKind, type FieldProblem, isShopflowError } from '../errors.ts';
import { preferredLang } from './language.ts';

/** ajv-i18n's Portuguese (a CommonJS function whose typings NodeNext resolution misreads as a module object) */
const localizePt = createRequire(import.meta.url)('ajv-i18n/localize/pt-BR') as (errors: object[]) => void;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors: FieldProblem[];
  requestId: string;
}

/** Registered with `app.addSchema`; the OpenAPI document lists it as components/schemas/Problem. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'An RFC 9457 problem detail',
  required: ['type', 'title', 'status', 'detail', 'instance', 'errors', 'requestId'],
  properties: {
    type: {
      type: 'string',
      description: 'urn:shopflow:problem:<kind>, or about:blank',
      examples: ['urn:shopflow:problem:conflict'],
    },
    title: { type: 'string', description: 'the HTTP status phrase' },
    status: { type: 'integer' },
    detail: { type: 'string', description: 'what went wrong, for a person' },
    instance: { type: 'string', description: 'the request URL' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['where', 'problem'],
        properties: { where: { type: 'string' }, problem: { type: 'string' } },
      },
    },
    requestId: { type: 'string', description: 'also in the x-request-id header and on every log line' },
  },
} as const;

/**
 * A response-schema entry for an error status, to spread into a route's `schema.response`:
 * `response: { 201: Item, 409: problemResponse('the stock is too low') }`.
 */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } };
}

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'unavailable',
};

// Bounds the response (and the log line) when a large invalid array fails item by item.
const MAX_FIELD_PROBLEMS = 50;

const typeOf = (kind: string | undefined) => (kind ? `urn:shopflow:problem:${kind}` : 'about:blank');

export interface ProblemOutcome {
  problem: Omit<Problem, 'instance' | 'requestId'>;
  /** the error is the server's fault: log it whole */
  internal: boolean;
  /** the language its sentences were said in (English unless some had a reason to say otherwise) */
  said?: Lang;
}

/**
 * Maps any thrown value to the problem the client sees. A ShopflowError's message and field problems that carry a
 * reason (src/domain/reasons.ts) are said in `lang`; the others stay as written (English).
 */
export function toProblem(error: unknown, lang: Lang = 'en'): ProblemOutcome {
  if (isShopflowError(error)) {
    const say = (text: string, reason: Reason | undefined) =>
      reason && lang !== 'en' ? describe(reason.code, reason.params, lang) : text;
    return {
      problem: {
        type: typeOf(error.kind),
        title: title(error.status),
        status: error.status,
        detail: say(error.message, error.reason),
        errors: error.details
          .slice(0, MAX_FIELD_PROBLEMS)
          .map((d) => ({ where: d.where, problem: say(d.problem, d.reason) })),
      },
      internal: error.status >= 500,
      said: lang !== 'en' && (Boolean(error.reason) || error.details.some((d) => d.reason)) ? lang : 'en',
    };
  }
  const e = error as Partial<FastifyError> | undefined;
  if (e && Array.isArray(e.validation)) {
    const failed = e.validation.slice(0, MAX_FIELD_PROBLEMS).map((v) => ({ ...v }));
    // ajv's own sentences, in Portuguese from ajv-i18n (it rewrites the copies' messages in place)
    if (lang === 'pt') localizePt(failed);
    const errors = failed.map((v) => fieldProblem(e.validationContext, v, lang));
    return {
      problem: {
        type: typeOf('invalid_input'),
        title: title(400),
        status: 400,
        detail: errors.map((f) => `${f.where} ${f.problem}`).join('; '),
        errors,
      },
      internal: false,
      said: lang,
    };
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return {
      problem: {
        type: typeOf(KIND_BY_STATUS[status]),
        title: title(status),
        status,
        detail: typeof e?.message === 'string' && e.message ? e.message : title(status),
        errors: [],
      },
      internal: false,
    };
  }
  return {
    problem: {
      type: typeOf('internal'),
      title: title(500),
      status: 500,
      detail: 'an unexpected error occurred; quote the request id when reporting it',
      errors: [],
    },
    internal: true,
  };
}

function fieldProblem(
  context: string | undefined,
  v: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string },
  lang: Lang,
): FieldProblem {
  let where = `${context ?? 'request'}${v.instancePath}`;
  let problem = v.message ?? describe('is_invalid', {}, lang);
  // the field is named in `where`: these say what is wrong with it, not its name again
  if (v.keyword === 'required' && typeof v.params.missingProperty === 'string') {
    where += `/${v.params.missingProperty}`;
    problem = describe('required', {}, lang);
  } else if (v.keyword === 'additionalProperties' && typeof v.params.additionalProperty === 'string') {
    where += `/${v.params.additionalProperty}`;
    problem = describe('not_allowed', {}, lang);
  } else if (v.keyword === 'enum' && Array.isArray(v.params.allowedValues)) {
    const choices = v.params.allowedValues.map((x) => JSON.stringify(x)).join(', ');
    problem = describe('one_of', { choices }, lang);
  }
  return { where, problem };
}

function title(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, outcome: ProblemOutcome): FastifyReply {
  const body: Problem = { ...outcome.problem, instance: request.url, requestId: String(request.id) };
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Installs the error and not-found handlers on the root instance (children inherit them). */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.addSchema(problemSchema);

  app.setErrorHandler((error, request, reply) => {
    const outcome = toProblem(error, preferredLang(request.headers['accept-language']));
    if (outcome.said === 'pt') reply.header('content-language', 'pt-BR');
    // Refused before its body was read to the end (an upload over the limit, or one that is not text): the rest of
    // the body may still be on its way, and a client that sent the next request on the same connection would find
    // it unanswered. Closing the connection after the answer keeps a client's next request on a fresh one.
    if (!request.raw.complete) reply.header('connection', 'close');
    if (outcome.internal) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info(
        { problem: { type: outcome.problem.type, status: outcome.problem.status, detail: outcome.problem.detail } },
        'request refused',
      );
    }
    return sendProblem(request, reply, outcome);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      problem: {
        type: typeOf('not_found'),
        title: title(404),
        status: 404,
        detail: `there is no ${request.method} ${request.url.split('?')[0]}`,
        errors: [],
      },
      internal: false,
    }),
  );
}
