import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShopflowError } from '../errors.ts';
import { toProblem } from './problem.ts';

describe('toProblem', () => {
  it('keeps a 4xx from Fastify or a plugin (rate limit) with its message', () => {
    const e = Object.assign(new Error('Rate limit exceeded, retry in 1 minute'), { statusCode: 429 });
    const { problem, internal } = toProblem(e);
    assert.equal(internal, false);
    assert.equal(problem.status, 429);
    assert.equal(problem.type, 'urn:shopflow:problem:rate_limited');
    assert.equal(problem.title, 'Too Many Requests');
    assert.equal(problem.detail, 'Rate limit exceeded, retry in 1 minute');
  });

  it('uses about:blank for a 4xx with no shopflow kind', () => {
    const e = Object.assign(new Error('Unsupported Media Type'), {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    });
    assert.equal(toProblem(e).problem.type, 'about:blank');
  });

  it('hides the message of anything that is not a client error', () => {
    for (const e of [
      Object.assign(new Error('upstream 10.0.0.7 refused'), { statusCode: 502 }),
      new TypeError('cannot read x of undefined'),
      'a thrown string',
      undefined,
    ]) {
      const { problem, internal } = toProblem(e);
      assert.equal(internal, true);
      assert.equal(problem.status, 500);
      assert.doesNotMatch(problem.detail, /10\.0\.0\.7|undefined|string/);
    }
  });

  it('names nested and additional fields of a validation failure', () => {
    const e = Object.assign(new Error('x'), {
      statusCode: 400,
      validationContext: 'body',
      validation: [
        { keyword: 'minimum', instancePath: '/lines/0/quantity', schemaPath: '', params: {}, message: 'must be >= 1' },
        { keyword: 'additionalProperties', instancePath: '', schemaPath: '', params: { additionalProperty: 'x' } },
        { keyword: 'enum', instancePath: '/unit', schemaPath: '', params: { allowedValues: ['UN', 'KG'] } },
      ],
    });
    assert.deepEqual(toProblem(e).problem.errors, [
      { where: 'body/lines/0/quantity', problem: 'must be >= 1' },
      { where: 'body/x', problem: 'is not allowed' },
      { where: 'body/unit', problem: 'must be one of "UN", "KG"' },
    ]);
  });

  it('treats a 5xx ShopflowError as internal for logging but keeps its message', () => {
    const { problem, internal } = toProblem(new ShopflowError('unavailable', 'the database is not answering'));
    assert.equal(internal, true);
    assert.equal(problem.status, 503);
    assert.equal(problem.detail, 'the database is not answering');
  });
});
