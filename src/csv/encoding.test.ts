import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeChunks, decodeWindows1252, detectEncoding } from './encoding.ts';
import { chunksOf, detect } from './testkit.ts';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const cp1252 = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const utf16le = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
const utf16be = (s: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()]);

async function decodeAll(bytes: Buffer, size: number, encoding = detect(bytes, size).encoding): Promise<string> {
  let out = '';
  for await (const s of decodeChunks(chunksOf(bytes, size), encoding)) out += s;
  return out;
}

describe('EncodingDetector', () => {
  it('lets a BOM decide, even when it arrives one byte at a time', () => {
    for (const size of [1, 2, 3, 100]) {
      assert.deepEqual(detect(Buffer.from([0xef, 0xbb, 0xbf, 0x61]), size), {
        encoding: 'utf-8',
        bom: true,
        binary: false,
        bytes: 4,
      });
      assert.equal(detect(utf16le('sku\n'), size).encoding, 'utf-16le');
      assert.equal(detect(utf16be('sku\n'), size).encoding, 'utf-16be');
    }
    assert.equal(detectEncoding(Buffer.from([0xff, 0xfe])).encoding, 'utf-16le');
  });

  it('says utf-8 for valid UTF-8 wherever the chunks cut its multi-byte characters', () => {
    const bytes = utf8('DESCRIÇÃO;Pão;€;𝄞;ü\n');
    for (let size = 1; size <= 8; size++) {
      assert.deepEqual(detect(bytes, size), { encoding: 'utf-8', bom: false, binary: false, bytes: bytes.length });
    }
  });

  it('says windows-1252 for anything that is not UTF-8, at any chunk size', () => {
    const cases: [string, Buffer][] = [
      ['cp1252 Pão', cp1252('P', [0xe3], 'o')],
      ['€ and ’', cp1252('x', [0x80, 0x92])],
      ['a sequence cut off at the end of the file', Buffer.concat([utf8('Pão'), Buffer.from([0xe2, 0x82])])],
      ['overlong encoding', Buffer.from([0x61, 0xc0, 0x80])],
      ['UTF-16 surrogate encoded in UTF-8', Buffer.from([0x61, 0xed, 0xa0, 0x80])],
      ['lead byte followed by ASCII', Buffer.from([0xe3, 0x61, 0x62, 0x63])],
      ['stray continuation byte', Buffer.from([0x61, 0x80, 0x61])],
    ];
    for (const [name, bytes] of cases) {
      for (let size = 1; size <= 5; size++) assert.equal(detect(bytes, size).encoding, 'windows-1252', name);
    }
  });

  it('finds a Windows-1252 byte after more than 1 MB of ASCII', () => {
    const ascii = Buffer.alloc(1024 * 1024 + 17, 'a,b,c\n');
    const bytes = Buffer.concat([ascii, cp1252('P', [0xe3], 'o\n')]);
    assert.equal(detect(bytes, 65536).encoding, 'windows-1252');
    assert.equal(detect(Buffer.concat([ascii, utf8('Pão\n')]), 65536).encoding, 'utf-8');
  });

  it('reports a NUL byte outside UTF-16 as binary, with its offset', () => {
    const bytes = Buffer.concat([Buffer.alloc(70000, 'a'), Buffer.from([0, 1, 2, 0])]);
    for (const size of [1, 7, 65536, bytes.length]) {
      assert.deepEqual(detect(bytes, size), {
        encoding: 'utf-8',
        bom: false,
        binary: true,
        nulOffset: 70000,
        bytes: bytes.length,
      });
    }
    assert.equal(detect(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0]), 2).nulOffset, 4);
    assert.equal(detect(Buffer.from([0x00]), 1).nulOffset, 0);
    assert.equal(detect(utf16le('sku\n'), 1).binary, false);
  });

  it('calls an empty file UTF-8 text', () => {
    assert.deepEqual(detect(Buffer.alloc(0), 1), { encoding: 'utf-8', bom: false, binary: false, bytes: 0 });
  });

  it('validates at hundreds of MB/s', () => {
    const bytes = Buffer.concat([Buffer.alloc(64 * 1024 * 1024, 'LOJA001,2024-03-15,123,1,2,10.50\n'), utf8('ç')]);
    const t0 = performance.now();
    const verdict = detect(bytes, 65536);
    const mbps = bytes.length / 1e6 / ((performance.now() - t0) / 1000);
    assert.equal(verdict.encoding, 'utf-8');
    assert.ok(mbps > 200, `${mbps.toFixed(0)} MB/s`);
  });
});

describe('decodeChunks', () => {
  it('decodes UTF-8 and drops its BOM, whatever the chunk size', async () => {
    const text = 'DESCRIÇÃO;Pão;€ 𝄞\r\n';
    for (let size = 1; size <= 6; size++) {
      assert.equal(await decodeAll(utf8(text), size), text);
      assert.equal(await decodeAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(text)]), size), text);
    }
  });

  it('decodes Windows-1252, including the bytes where it differs from Latin-1', async () => {
    const bytes = cp1252('DESCRI', [0xc7, 0xc3], 'O;P', [0xe3], 'o;', [0x80, 0x92, 0x93, 0x94, 0x96, 0x85]);
    assert.equal(detect(bytes, 3).encoding, 'windows-1252');
    for (const size of [1, 4, 100]) assert.equal(await decodeAll(bytes, size), 'DESCRIÇÃO;Pão;€’“”–…');
    const high = Array.from({ length: 32 }, (_, i) => 0x80 + i);
    assert.equal(
      decodeWindows1252(Buffer.from(high)),
      '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ',
      'WHATWG windows-1252 for 0x80–0x9F',
    );
    const latin = Array.from({ length: 96 }, (_, i) => 0xa0 + i);
    assert.equal(decodeWindows1252(Buffer.from(latin)), String.fromCharCode(...latin));
  });

  it('decodes UTF-16LE and UTF-16BE with their BOM, characters split across chunks', async () => {
    const text = 'DESCRIÇÃO;Pão;𝄞\n';
    for (const size of [1, 3, 5, 1000]) {
      assert.equal(await decodeAll(utf16le(text), size), text);
      assert.equal(await decodeAll(utf16be(text), size), text);
    }
  });

  it('keeps a U+FEFF that is not at the start', async () => {
    assert.equal(await decodeAll(utf8('a\ufeffb'), 1), 'a\ufeffb');
  });
});
