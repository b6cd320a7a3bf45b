// What alert messages say, without any channel: the subject cannot be split into headers by a product name, the
// HTML escapes what files put in names, the SMS stays short and names the figures, and signatures verify.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signBody, verifySignature } from './channels.ts';
import { alertMessage, emailHtml, emailSubject, emailText, type MessageAlert, smsText, webhookBody } from './render.ts';

const alert = (over: Partial<MessageAlert> = {}): MessageAlert => ({
  id: 7,
  kind: 'low_stock',
  severity: 'warning',
  status: 'open',
  message: 'Arroz (ARROZ) at store K1 is low: 4 on hand, reorder point 5',
  raisedAt: '2026-03-05T12:00:00.000Z',
  store: { code: 'K1', name: 'Pit Stop 1' },
  product: { sku: 'ARROZ', name: 'Arroz' },
  details: { onHand: 4, reorderPoint: 5 },
  restockOrder: { id: 3, status: 'draft' },
  ...over,
});

describe('alert messages', () => {
  it('keeps a product name with line breaks on the subject line', () => {
    const subject = emailSubject([alert({ product: { sku: 'X', name: 'Evil\r\nBcc: all@example.com' } })]);
    assert.equal(subject, '[shopflow] K1: Low stock - Evil Bcc: all@example.com (X)');
    assert.equal(emailSubject([alert(), alert({ id: 8 })]), '[shopflow] 2 alerts at K1 Pit Stop 1');
  });

  it('escapes names in the HTML part', () => {
    const html = emailHtml([alert({ product: { sku: 'X', name: '<script>alert(1)</script>' } })]);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;'));
  });

  it('writes a short SMS with the figures', () => {
    assert.equal(smsText([alert()]), 'shopflow K1: Low: Arroz 4/5');
    assert.equal(
      smsText([alert({ kind: 'missing_file', product: null, message: 'no file for 2026-03-04' })]),
      'shopflow K1: Missing sales file: no file for 2026-03-04',
    );
  });

  it("says every kind in Portuguese from the alert's own figures, English where it has none", () => {
    const kg = alert({ details: { onHand: 2.5, reorderPoint: 3.25 } });
    assert.equal(emailSubject([kg], 'pt'), '[shopflow] K1: Estoque baixo - Arroz (ARROZ)');
    assert.equal(emailSubject([kg, alert({ id: 8 })], 'pt'), '[shopflow] 2 alertas em K1 Pit Stop 1');
    assert.equal(smsText([kg], 'pt'), 'shopflow K1: Baixo: Arroz 2,5/3,25');
    const text = emailText([kg], 'pt');
    assert.match(
      text,
      /^Um alerta em K1 Pit Stop 1:\n\n- \[Estoque baixo\] Arroz \(ARROZ\) na loja K1 está baixo: 2,5 em estoque, ponto de reposição 3,25\. Pedido de reposição #3 \(rascunho\)\. \(alerta #7, 2026-03-05 12:00 UTC\)\n/,
    );
    assert.match(emailHtml([kg], 'pt'), /<th>Alerta<\/th><th>Produto<\/th>.*Pedido de reposição #3 \(rascunho\)</);
    const negative = alert({ kind: 'negative_stock', details: { onHand: -1 }, restockOrder: null });
    assert.equal(
      alertMessage(negative, 'pt'),
      'Arroz (ARROZ) na loja K1 está abaixo de zero (-1): é preciso uma contagem',
    );
    const missing = alert({
      kind: 'missing_file',
      product: null,
      details: { store: 'K1', businessDate: '2026-03-04', dueBy: '2026-03-05T00:00', timezone: 'America/Sao_Paulo' },
    });
    assert.equal(
      alertMessage(missing, 'pt'),
      'A loja K1 (Pit Stop 1) não enviou o arquivo de vendas de 2026-03-04, esperado até 2026-03-05T00:00 (America/Sao_Paulo)',
    );
    const failed = alert({
      kind: 'failed_file',
      product: null,
      message: 'Sales file incoming/K1/2026-03-04/v.csv failed: the file has a header but no sales lines',
      details: {
        key: 'incoming/K1/2026-03-04/v.csv',
        reason: 'the file has a header but no sales lines',
        reasonCode: 'no_lines',
        reasonParams: {},
      },
    });
    assert.equal(
      alertMessage(failed, 'pt'),
      'O arquivo de vendas incoming/K1/2026-03-04/v.csv falhou: o arquivo tem cabeçalho, mas nenhuma linha de venda',
    );
    assert.equal(alertMessage(failed, 'en'), failed.message);
    const ops = alert({ kind: 'ops', product: null, message: 'disk almost full', details: null });
    assert.equal(smsText([ops], 'pt'), 'shopflow K1: Operação: disk almost full');
  });

  it('signs the exact body; any change breaks the signature', () => {
    const body = webhookBody([alert()], 'abc', '2026-03-05T12:05:00.000Z');
    const sig = signBody('s3cret', body);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifySignature('s3cret', body, sig), true);
    assert.equal(verifySignature('s3cret', `${body} `, sig), false);
    assert.equal(verifySignature('other', body, sig), false);
    assert.equal(verifySignature('s3cret', body, undefined), false);
    assert.equal(verifySignature('s3cret', body, 'sha256=00'), false);
  });
});
