// The CSV tokenizer under readTable.
//
// Why not papaparse (installed, well kept): the reader must give the exact file line on which every record starts
// (what a store clerk looks up), accept LF, CRLF and lone CR in the same file, and refuse an over-long record as
// soon as it passes the limit. Papaparse guesses one newline style per file (in `a,b\r\nc,d\ne,f\r\n` the lone LF
// silently becomes part of a field), reports positions as character offsets rather than lines, turns an unclosed
// quote into a row warning whose field holds the rest of the file, and has no record-size limit. Wrapping it would
// mean a second scan of the text for line numbers and limits. This tokenizer does it all in one pass and, measured
// in the same run (bench/csv.bench.ts), is about as fast on unquoted files and about twice as fast on quoted ones.
//
// How it stays fast: a line without a quote or NUL (almost every line of a real export) is cut with indexOf and
// String#split, both native. Positions of the next LF, CR, quote and NUL are cached per buffer, so every character
// is searched for each of them at most once. Only records containing a quote take the field-by-field path.
//
// Leniency, as spreadsheets behave: a quote is special only at the start of a field; text after a closing quote,
// up to the next delimiter, is kept literally (`"ab"c` → `abc`).

import { reasonError, type ShopflowError } from '../errors.ts';

export interface CsvRow {
  /** 1-based line of the file on which the record starts */
  line: number;
  fields: string[];
}

// Rows are made with `new` and field arrays with split()/slice(), never with literals: V8 tracks literal
// allocation sites, and when a scavenge catches a whole batch alive it starts allocating that site's objects
// straight in the old generation ("pretenuring"). Rows there keep their young strings alive through every scavenge
// until a full collection, and reading becomes 2-3 times slower for the rest of the process.
class Row implements CsvRow {
  line: number;
  fields: string[];
  constructor(line: number, fields: string[]) {
    this.line = line;
    this.fields = fields;
  }
}

export type TokenizerStatus = 'full' | 'need-input' | 'done';

const LF = 10;
const CR = 13;
const QUOTE = 34;

export class Tokenizer {
  private readonly delim: string;
  private readonly delimCode: number;
  private readonly maxBytes: number;
  /** records up to this many UTF-16 units cannot exceed maxBytes in UTF-8: no need to count their bytes */
  private readonly safeChars: number;
  private buf = '';
  private pos = 0;
  /** line of the file at `pos` */
  private line = 1;
  /** text pushed since the last merge; a string rather than an array, see readTable's nextBatch */
  private pending = '';
  private ended = false;
  private nextLF = -1;
  private nextCR = -1;
  private nextQ = -1;
  private nextNul = -1;
  /** fields of the record being parsed; copied out with slice(), see Row */
  private readonly scratch: string[] = [];
  private recordEnd = 0;
  private recordLines = 0;

  constructor(delimiter: string, maxRecordBytes: number) {
    this.delim = delimiter;
    this.delimCode = delimiter.charCodeAt(0);
    this.maxBytes = maxRecordBytes;
    this.safeChars = Math.floor(maxRecordBytes / 3);
  }

  push(chunk: string): void {
    if (chunk.length === 0) return;
    this.pending = this.pending.length === 0 ? chunk : this.pending + chunk;
  }

  end(): void {
    this.ended = true;
  }

  /** Parses records into `out` until it holds `max` rows ('full'), input runs out ('need-input'), or the text
   * is over ('done'). Blank records are skipped. */
  next(out: CsvRow[], max: number): TokenizerStatus {
    for (;;) {
      const final = this.ended && this.pending.length === 0;
      if (this.parse(out, max, final)) return 'full';
      if (final) return 'done';
      if (this.pending.length === 0) return 'need-input';
      // An incomplete record is parsed again from its start once more text arrives; waiting until the new text is
      // at least as long as the leftover keeps that linear when a stream hands over tiny chunks.
      const tail = this.buf.length - this.pos;
      if (!this.ended && this.pending.length < tail) return 'need-input';
      this.buf = tail > 0 ? this.buf.slice(this.pos) + this.pending : this.pending;
      this.pos = 0;
      this.pending = '';
      this.nextLF = this.nextCR = this.nextQ = this.nextNul = -1;
    }
  }

  /** true when `out` is full; false when the buffer holds no further complete record */
  private parse(out: CsvRow[], max: number, final: boolean): boolean {
    const s = this.buf;
    const n = s.length;
    const d = this.delim;
    const dc = this.delimCode;
    let pos = this.pos;
    let line = this.line;
    let full = false;
    while (pos < n) {
      if (out.length >= max) {
        full = true;
        break;
      }
      if (this.nextLF < pos) this.nextLF = indexOrEnd(s, '\n', pos);
      if (this.nextCR < pos) this.nextCR = indexOrEnd(s, '\r', pos);
      if (this.nextQ < pos) this.nextQ = indexOrEnd(s, '"', pos);
      if (this.nextNul < pos) this.nextNul = indexOrEnd(s, '\0', pos);
      const eol = Math.min(this.nextLF, this.nextCR);
      if (this.nextQ < eol || this.nextNul < eol) {
        const fields = this.quotedRecord(s, pos, final, line);
        if (fields === undefined) break;
        const end = this.recordEnd;
        if (end - pos > this.safeChars) this.checkSize(s.slice(pos, end), line);
        if (this.nextNul < end) throw nulError(line);
        if (!isBlank(fields)) out.push(new Row(line, fields));
        line += this.recordLines;
        pos = end;
        continue;
      }
      let next: number;
      if (eol === n) {
        if (!final) break;
        next = n;
      } else if (eol === this.nextCR) {
        if (eol + 1 === n && !final) break; // CR at the end of the buffer: is an LF coming?
        next = s.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1;
      } else {
        next = eol + 1;
      }
      if (eol > pos) {
        if (eol - pos > this.safeChars) this.checkSize(s.slice(pos, eol), line);
        const fields = s.slice(pos, eol).split(d);
        const c0 = s.charCodeAt(pos);
        if (!((c0 <= 32 || c0 === dc || c0 > 126) && isBlank(fields))) out.push(new Row(line, fields));
      }
      line++;
      pos = next;
    }
    // A throw above leaves this state stale; the reader gives up on the text then anyway.
    this.pos = pos;
    this.line = line;
    if (!full && n - pos > this.safeChars) this.checkSize(s.slice(pos), line);
    return full;
  }

  /**
   * The fields of a record with quotes, from `pos`; undefined when the buffer ends inside it and more text may
   * come. Sets recordEnd and recordLines (the line breaks it spans, its own terminator included).
   */
  private quotedRecord(s: string, pos: number, final: boolean, line: number): string[] | undefined {
    const n = s.length;
    const dc = this.delimCode;
    const fields = this.scratch;
    fields.length = 0;
    let lines = 0;
    let p = pos;
    for (;;) {
      let value: string;
      if (p < n && s.charCodeAt(p) === QUOTE) {
        const q = p + 1;
        let j = s.indexOf('"', q);
        // Most quoted fields hold no doubled quote: one slice, no concatenation.
        while (j !== -1 && j + 1 < n && s.charCodeAt(j + 1) === QUOTE) j = s.indexOf('"', j + 2);
        if (j === -1) {
          if (!final) return undefined;
          // Over-long is the likelier story when the unclosed field runs past the limit.
          this.checkSize(s.slice(pos), line);
          throw reasonError('invalid_input', 'unclosed_quote', { line }, [
            { where: `line ${line}`, problem: 'a quote (") opens a field that is never closed' },
          ]);
        }
        lines += this.breaksBefore(s, j);
        value = s.slice(q, j);
        if (value.includes('""')) value = value.replaceAll('""', '"');
        p = j + 1;
        if (p < n) {
          const c = s.charCodeAt(p);
          if (c !== dc && c !== LF && c !== CR) {
            const k = fieldEnd(s, p, dc);
            value += s.slice(p, k);
            p = k;
          }
        }
      } else {
        const k = fieldEnd(s, p, dc);
        value = s.slice(p, k);
        p = k;
      }
      fields.push(value);
      if (p >= n) {
        if (!final) return undefined;
        this.recordEnd = n;
        this.recordLines = lines + 1;
        return fields.slice();
      }
      const c = s.charCodeAt(p);
      if (c === LF || c === CR) {
        if (c === CR && p + 1 === n && !final) return undefined;
        this.recordEnd = c === CR && s.charCodeAt(p + 1) === LF ? p + 2 : p + 1;
        this.recordLines = lines + 1;
        return fields.slice();
      }
      p++; // the delimiter
    }
  }

  /** Line breaks (CRLF, lone CR and LF each once) between the cached positions and `to`, advancing the caches:
   * every character is searched at most once per kind, however many fields hold line breaks. */
  private breaksBefore(s: string, to: number): number {
    let count = 0;
    while (this.nextLF < to) {
      count++;
      this.nextLF = indexOrEnd(s, '\n', this.nextLF + 1);
    }
    while (this.nextCR < to) {
      if (s.charCodeAt(this.nextCR + 1) !== LF) count++;
      this.nextCR = indexOrEnd(s, '\r', this.nextCR + 1);
    }
    return count;
  }

  private checkSize(record: string, line: number): void {
    if (Buffer.byteLength(record, 'utf8') <= this.maxBytes) return;
    throw reasonError('invalid_input', 'record_too_long', { line, max: this.maxBytes }, [
      { where: `line ${line}`, problem: `record longer than ${this.maxBytes} bytes` },
    ]);
  }
}

function indexOrEnd(s: string, c: string, from: number): number {
  const i = s.indexOf(c, from);
  return i === -1 ? s.length : i;
}

/** First delimiter, CR or LF at or after p, or the end. */
function fieldEnd(s: string, p: number, dc: number): number {
  const n = s.length;
  while (p < n) {
    const c = s.charCodeAt(p);
    if (c === dc || c === LF || c === CR) return p;
    p++;
  }
  return n;
}

/** A record whose every field is empty or whitespace, such as the `;;;;` rows spreadsheets write. */
function isBlank(fields: string[]): boolean {
  for (const f of fields) if (f.length > 0 && f.trim().length > 0) return false;
  return true;
}

function nulError(line: number): ShopflowError {
  return reasonError('invalid_input', 'nul_character', { line }, [
    { where: `line ${line}`, problem: 'NUL character (binary data)' },
  ]);
}
