import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preferredLang } from './language.ts';

describe('the language an answer is said in', () => {
  it('takes the first of Portuguese and English the header prefers, English otherwise', () => {
    const cases: Array<[string | undefined, 'pt' | 'en']> = [
      [undefined, 'en'],
      ['', 'en'],
      ['pt-BR', 'pt'],
      ['PT', 'pt'],
      ['pt-BR,pt;q=0.9,en-US;q=0.8', 'pt'],
      ['en-GB,pt;q=0.5', 'en'],
      ['de-DE,pt;q=0.7,en;q=0.3', 'pt'],
      ['de-DE,fr;q=0.9', 'en'],
      ['en;q=0.2, pt-PT;q=0.8', 'pt'],
      ['pt;q=0', 'en'],
      ['pt;q=abc', 'en'],
      ['portuguese', 'en'],
    ];
    for (const [header, lang] of cases) assert.equal(preferredLang(header), lang, String(header));
  });
});
