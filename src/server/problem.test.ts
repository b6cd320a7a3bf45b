import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reasonError, reasonProblem, ShopflowError } from '../errors.ts';
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
        {
          keyword: 'minimum',
          instancePath: '/lines/0/quantity',
          schemaPath: '',
          params: { comparison: '>=', limit: 1 },
          message: 'must be >= 1',
        },
        { keyword: 'additionalProperties', instancePath: '', schemaPath: '', params: { additionalProperty: 'x' } },
        { keyword: 'enum', instancePath: '/unit', schemaPath: '', params: { allowedValues: ['UN', 'KG'] } },
      ],
    });
    assert.deepEqual(toProblem(e).problem.errors, [
      { where: 'body/lines/0/quantity', problem: 'must be >= 1' },
      { where: 'body/x', problem: 'is not allowed' },
      { where: 'body/unit', problem: 'must be one of "UN", "KG"' },
    ]);
    assert.deepEqual(toProblem(e, 'pt').problem.errors, [
      { where: 'body/lines/0/quantity', problem: 'deve ser >= 1' },
      { where: 'body/x', problem: 'não é permitido' },
      { where: 'body/unit', problem: 'deve ser um destes: "UN", "KG"' },
    ]);
    assert.equal(e.validation[0]!.message, 'must be >= 1', 'the error itself is left as it was');
  });

  it("says a refusal's reasons in the caller's language, and only its reasons", () => {
    const e = reasonError(
      'conflict',
      'not_enough_to_send',
      { store: 'S1', items: JSON.stringify([['Sal', 'SAL1', 2.5, 1]]) },
      [
        reasonProblem('lines/0/quantity', 'only_on_hand', { available: 1.5 }),
        { where: 'lines/0/sku', problem: 'written without a code' },
      ],
    );
    const en = toProblem(e);
    assert.equal(en.problem.detail, 'store S1 does not have enough to send: Sal (SAL1): 2.5 asked, 1 on hand');
    assert.equal(en.said, 'en');
    const pt = toProblem(e, 'pt');
    assert.equal(
      pt.problem.detail,
      'a loja S1 não tem o suficiente para enviar: Sal (SAL1): 2,5 pedidos, 1 em estoque',
    );
    // the codes stay inside the server: a field problem is where and what
    assert.deepEqual(pt.problem.errors, [
      { where: 'lines/0/quantity', problem: 'só 1,5 em estoque' },
      { where: 'lines/0/sku', problem: 'written without a code' },
    ]);
    assert.equal(pt.said, 'pt');
    assert.equal(toProblem(new ShopflowError('conflict', 'plain'), 'pt').said, 'en');
  });

  it('treats a 5xx ShopflowError as internal for logging but keeps its message', () => {
    const { problem, internal } = toProblem(new ShopflowError('unavailable', 'the database is not answering'));
    assert.equal(internal, true);
    assert.equal(problem.status, 503);
    assert.equal(problem.detail, 'the database is not answering');
  });
});
