// What alert messages say, without any channel: the subject cannot be split into headers by a product name, the
// HTML escapes what files put in names, the SMS stays short and names the figures, and signatures verify.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signBody, verifySignature } from './channels.ts';
import { emailHtml, emailSubject, type MessageAlert, smsText, webhookBody } from './render.ts';

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
