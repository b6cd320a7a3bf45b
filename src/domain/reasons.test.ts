import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describe as say, sayReason } from './reasons.ts';

describe('reasons in two languages', () => {
  it("says a file's reasons with each language's numbers", () => {
    const mismatch = { line: 40, declaredCents: 123456, sumCents: -5 };
    assert.equal(
      say('trailer_mismatch', mismatch, 'en'),
      'the TOTAL line (line 40) says 1234.56 but the lines add up to -0.05: the file is truncated or altered',
    );
    assert.equal(
      say('trailer_mismatch', mismatch, 'pt'),
      'a linha TOTAL (linha 40) diz 1234,56, mas as linhas somam -0,05: o arquivo está truncado ou foi alterado',
    );
    const share = { rejected: 1, total: 3, allowed: 0.05 };
    assert.match(say('too_many_rejected', share, 'en'), /^1 of 3 lines \(33\.3%\) .* the 5\.0% allowed/);
    assert.match(say('too_many_rejected', share, 'pt'), /^1 de 3 linhas \(33,3%\) .* os 5,0% permitidos/);
    assert.equal(
      say('data_after_trailer', { trailerLine: 9, line: 10 }, 'pt'),
      'a linha 9 é uma linha TOTAL, mas há dados depois dela, na linha 10: o arquivo está danificado',
    );
    assert.equal(
      say('same_content', { file: 7, store: 'S001', date: '2026-03-02' }, 'pt'),
      'mesmo conteúdo do arquivo 7, já carregado para S001 2026-03-02',
    );
  });

  it('says why a file could not be read at all, in both languages', () => {
    const oneCell = { line: 1, cells: 1, expected: 'receipt_id, sku', found: '"a;b"' };
    assert.match(
      say('not_a_header', oneCell, 'en'),
      /known column name \(and it has no `,`, `;` or tab between names\)\. Expected/,
    );
    assert.match(
      say('not_a_header', oneCell, 'pt'),
      /coluna conhecido \(e não há `,`, `;` ou tabulação entre os nomes\)\. Colunas esperadas, como receipt_id, sku; encontradas "a;b"$/,
    );
    assert.match(say('not_a_header', { ...oneCell, cells: 3 }, 'pt'), /\(falta a linha de cabeçalho\?\)/);
    const both = { line: 2, missing: 'total', twice: 1, found: 'x' };
    assert.equal(
      say('header_unusable', both, 'pt'),
      'o cabeçalho (linha 2) não pode ser usado: faltam colunas obrigatórias: total; uma coluna aparece duas vezes. O cabeçalho tem: x',
    );
    assert.equal(
      say('header_unusable', { ...both, missing: '' }, 'en'),
      'the header (line 2) is not usable: a column appears twice. The header has: x',
    );
    assert.equal(
      say('file_too_large', { max: 10, gzip: 1 }, 'en'),
      'the file is larger than 10 bytes once decompressed; split it or raise the limit',
    );
    assert.equal(
      say('file_too_large', { max: 10, gzip: 0 }, 'pt'),
      'o arquivo tem mais de 10 bytes; divida-o ou aumente o limite',
    );
  });

  it('tells a stored reason from its code, or as it was written when it has none or an unknown one', () => {
    const stored = { text: 'quantity is zero', code: 'quantity_zero', params: '{}' };
    assert.equal(sayReason(stored, 'pt'), 'a quantidade é zero');
    assert.equal(sayReason(stored, 'en'), 'quantity is zero');
    assert.equal(sayReason({ ...stored, code: null, params: null }, 'pt'), 'quantity is zero');
    assert.equal(sayReason({ ...stored, code: 'toString' }, 'pt'), 'quantity is zero');
    assert.equal(sayReason({ ...stored, code: 'sku_unknown', params: '{not json' }, 'pt'), 'quantity is zero');
  });
});
