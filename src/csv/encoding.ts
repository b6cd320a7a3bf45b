// Text encoding of an imported file. Stores send UTF-8 (with or without BOM) or Windows-1252 from Brazilian
// point-of-sale exports, and nothing in the file says which: the only reliable test is whether the WHOLE file is
// valid UTF-8, because a Windows-1252 export is usually plain ASCII until the first `Pão` deep inside it. So the
// detector sees every byte (the ingest pipeline reads the object once for hashing and detection, then again to
// parse) and must cost little next to the read itself.

import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface EncodingVerdict {
  encoding: TextEncoding;
  /** the file starts with a byte order mark (decodeChunks drops it) */
  bom: boolean;
  /** a NUL byte in a file that is not UTF-16: not a text file */
  binary: boolean;
  /** byte offset of the first NUL byte, when `binary` */
  nulOffset?: number;
  /** bytes seen */
  bytes: number;
}

type Mode = 'start' | 'validate' | 'invalid' | 'utf8-bom' | 'utf16';

export class EncodingDetector {
  private mode: Mode = 'start';
  private head: Buffer[] = [];
  private headLen = 0;
  private bomEncoding: TextEncoding | undefined;
  private offset = 0;
  private nulOffset = -1;
  /** bytes of a UTF-8 sequence that the previous chunk cut short */
  private carry: Buffer | undefined;
  private finished: EncodingVerdict | undefined;

  push(chunk: Buffer): void {
    if (this.finished) throw new Error('EncodingDetector.push after finish');
    if (chunk.length === 0) return;
    if (this.mode === 'start') {
      // A BOM is up to 3 bytes and a stream may hand them over one at a time.
      this.head.push(chunk);
      this.headLen += chunk.length;
      if (this.headLen >= 3) this.decideBom();
      return;
    }
    this.scan(chunk);
  }

  finish(): EncodingVerdict {
    if (this.finished) return this.finished;
    if (this.mode === 'start') this.decideBom();
    let encoding: TextEncoding;
    if (this.bomEncoding) encoding = this.bomEncoding;
    else encoding = this.mode === 'validate' && this.carry === undefined ? 'utf-8' : 'windows-1252';
    const binary = this.mode !== 'utf16' && this.nulOffset >= 0;
    this.finished = {
      encoding,
      bom: this.bomEncoding !== undefined,
      binary,
      ...(binary ? { nulOffset: this.nulOffset } : {}),
      bytes: this.offset,
    };
    return this.finished;
  }

  private decideBom(): void {
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [];
    if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
      this.bomEncoding = 'utf-8';
      this.mode = 'utf8-bom';
    } else if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) {
      this.bomEncoding = 'utf-16le';
      this.mode = 'utf16';
    } else if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) {
      this.bomEncoding = 'utf-16be';
      this.mode = 'utf16';
    } else {
      this.mode = 'validate';
    }
    this.scan(head);
  }

  private scan(chunk: Buffer): void {
    if (this.mode === 'utf16') {
      this.offset += chunk.length;
      return;
    }
    if (this.nulOffset < 0) {
      const i = chunk.indexOf(0);
      if (i >= 0) this.nulOffset = this.offset + i;
    }
    if (this.mode === 'validate') this.validate(chunk);
    this.offset += chunk.length;
  }

  /** isUtf8 is SIMD-fast but not incremental: complete the sequence left over from the last chunk, then validate
   * this chunk up to its own last complete sequence. */
  private validate(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      const need = sequenceLength(this.carry[0]!);
      const take = Math.min(need - this.carry.length, chunk.length);
      const joined = Buffer.concat([this.carry, chunk.subarray(0, take)]);
      if (joined.length < need) {
        this.carry = joined;
        return;
      }
      this.carry = undefined;
      if (!isUtf8(joined)) {
        this.mode = 'invalid';
        return;
      }
      start = take;
    }
    const cut = completeEnd(chunk, start);
    if (!isUtf8(chunk.subarray(start, cut))) {
      this.mode = 'invalid';
      return;
    }
    if (cut < chunk.length) this.carry = Buffer.from(chunk.subarray(cut));
  }
}

/** Length a lead byte announces; 1 for bytes that cannot start a multi-byte sequence (isUtf8 judges those). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** End of the last complete sequence in chunk[start..]: an incomplete trailing sequence is at most 3 bytes. */
function completeEnd(chunk: Buffer, start: number): number {
  const n = chunk.length;
  for (let i = n - 1; i >= start && i >= n - 3; i--) {
    const b = chunk[i]!;
    if (b < 0x80) return n;
    if (b >= 0xc0) return sequenceLength(b) > n - i ? i : n;
  }
  return n;
}

/** Detects the encoding of a whole buffer (small files, tests). */
export function detectEncoding(bytes: Buffer): EncodingVerdict {
  const d = new EncodingDetector();
  d.push(bytes);
  return d.finish();
}

// WHATWG windows-1252: bytes 0x80–0x9F differ from Latin-1. Node 20's TextDecoder('windows-1252') decodes them as
// Latin-1 control characters (0x80 → U+0080 instead of €), so the table is applied here.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/;
const C1_ALL = /[\u0080-\u009f]/g;
const fromC1 = (c: string) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!;

export function decodeWindows1252(bytes: Buffer): string {
  const s = bytes.toString('latin1');
  return C1.test(s) ? s.replace(C1_ALL, fromC1) : s;
}

/**
 * Decodes a byte stream to text in streaming mode (multi-byte characters split across chunks come out whole) and
 * drops a leading BOM.
 */
export async function* decodeChunks(source: AsyncIterable<Buffer>, encoding: TextEncoding): AsyncIterable<string> {
  let first = true;
  const emit = (s: string) => {
    if (first && s.length > 0) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) return s.slice(1);
    }
    return s;
  };
  if (encoding === 'windows-1252') {
    for await (const chunk of source) {
      const s = emit(decodeWindows1252(chunk));
      if (s.length > 0) yield s;
    }
    return;
  }
  // StringDecoder is several times faster than TextDecoder in Node 20; it has no UTF-16BE.
  if (encoding === 'utf-8' || encoding === 'utf-16le') {
    const d = new StringDecoder(encoding === 'utf-8' ? 'utf8' : 'utf16le');
    for await (const chunk of source) {
      const s = emit(d.write(chunk));
      if (s.length > 0) yield s;
    }
    const rest = emit(d.end());
    if (rest.length > 0) yield rest;
    return;
  }
  const d = new TextDecoder('utf-16be', { ignoreBOM: true });
  for await (const chunk of source) {
    const s = emit(d.decode(chunk, { stream: true }));
    if (s.length > 0) yield s;
  }
  const rest = emit(d.decode());
  if (rest.length > 0) yield rest;
}
