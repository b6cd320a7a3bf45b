// The torture corpus: every case is bytes built here, read through encoding detection + decode + readTable at
// several chunk sizes (so that chunk boundaries fall inside BOMs, multi-byte characters, CRLF pairs, doubled
// quotes), and must give exactly the golden rows or exactly the expected error.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShopflowError } from '../errors.ts';
import type { TextEncoding } from './encoding.ts';
import { type ColumnSpec, type Delimiter, normalizeColumnName, readTable } from './reader.ts';
import { collect, detect, parseBytes, parseText, SALES_COLUMNS, textChunks } from './testkit.ts';

type Golden = [line: number, ...fields: string[]];

interface Expect {
  encoding?: TextEncoding;
  delimiter?: Delimiter;
  numberConvention?: 'dot' | 'comma';
  headerLine?: number;
  columns?: Record<string, number>;
  headerNames?: string[];
  unknownColumns?: string[];
  rows: Golden[];
}

interface Failure {
  /** `where` of every detail, in order */
  where: string[];
  message: RegExp;
  binaryAt?: number;
}

interface Case {
  name: string;
  bytes: Buffer;
  columns?: ColumnSpec[];
  maxRecordBytes?: number;
  expect: Expect | Failure;
}

const u = (s: string) => Buffer.from(s, 'utf8');
const cp1252 = (s: string) => {
  // Test text is written with the characters; map them back to their Windows-1252 bytes.
  const table: Record<string, number> = { '€': 0x80, '‚': 0x82, '’': 0x92, '“': 0x93, '”': 0x94, '–': 0x96 };
  return Buffer.from([...s].map((c) => table[c] ?? c.charCodeAt(0)));
};
const H = 'receipt_id,line_no,sku,quantity,unit_price,total';
const HEADER6 = { receipt_id: 0, line_no: 1, sku: 2, quantity: 3, unit_price: 4, total: 5 };

const bigAscii = (() => {
  const lines: string[] = [];
  let size = 0;
  for (let i = 1; size <= 1024 * 1024; i++) {
    const l = `R${i},1,SKU${i},1,2.50,2.50\n`;
    lines.push(l);
    size += l.length;
  }
  return lines;
})();

const SKU_QTY: ColumnSpec[] = [
  { name: 'sku', aliases: ['codigo'], required: true },
  { name: 'quantity', aliases: ['quantidade', 'qtd'], numeric: true },
];
const SKU_ONLY: ColumnSpec[] = [{ name: 'sku', aliases: ['codigo'], required: true }];

const cases: Case[] = [
  {
    name: 'UTF-8 without BOM, LF',
    bytes: u(`${H}\nR1,1,A,2,1.50,3.00\nR1,2,B,1,0.99,0.99\n`),
    expect: {
      encoding: 'utf-8',
      delimiter: ',',
      numberConvention: 'dot',
      headerLine: 1,
      columns: HEADER6,
      rows: [
        [2, 'R1', '1', 'A', '2', '1.50', '3.00'],
        [3, 'R1', '2', 'B', '1', '0.99', '0.99'],
      ],
    },
  },
  {
    name: 'UTF-8 with BOM: the BOM is not part of the first header name',
    bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), u(`${H},description\nR1,1,A,1,5,5,Pão de açúcar\n`)]),
    expect: {
      encoding: 'utf-8',
      columns: { ...HEADER6, description: 6 },
      headerNames: ['receipt_id', 'line_no', 'sku', 'quantity', 'unit_price', 'total', 'description'],
      rows: [[2, 'R1', '1', 'A', '1', '5', '5', 'Pão de açúcar']],
    },
  },
  {
    name: 'UTF-16LE with BOM, CRLF',
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${H},DESCRIÇÃO\r\nR1,1,A,1,5,5,Pão\r\n`, 'utf16le')]),
    expect: {
      encoding: 'utf-16le',
      delimiter: ',',
      columns: { ...HEADER6, description: 6 },
      rows: [[2, 'R1', '1', 'A', '1', '5', '5', 'Pão']],
    },
  },
  {
    name: 'UTF-16BE with BOM',
    bytes: Buffer.concat([
      Buffer.from([0xfe, 0xff]),
      Buffer.from(`${H},descricao\nR1,1,A,1,5,5,Pão\n`, 'utf16le').swap16(),
    ]),
    expect: { encoding: 'utf-16be', rows: [[2, 'R1', '1', 'A', '1', '5', '5', 'Pão']] },
  },
  {
    name: 'Windows-1252: DESCRIÇÃO header and Pão',
    bytes: cp1252('CUPOM;ITEM;CÓDIGO;DESCRIÇÃO;QUANTIDADE;PREÇO;VALOR\r\n7;1;123;Pão francês;0,250;12,90;3,23\r\n'),
    expect: {
      encoding: 'windows-1252',
      delimiter: ';',
      numberConvention: 'comma',
      columns: { receipt_id: 0, line_no: 1, sku: 2, description: 3, quantity: 4, unit_price: 5, total: 6 },
      rows: [[2, '7', '1', '123', 'Pão francês', '0,250', '12,90', '3,23']],
    },
  },
  {
    name: 'Windows-1252 characters that Latin-1 lacks: € (0x80), ’ (0x92), “ ” –',
    bytes: cp1252(`${H},descricao\nR1,1,A,1,5,5,“Chef’s” – 5€\n`),
    expect: { encoding: 'windows-1252', rows: [[2, 'R1', '1', 'A', '1', '5', '5', '“Chef’s” – 5€']] },
  },
  {
    name: 'Windows-1252 whose first non-ASCII byte is after 1 MB of ASCII',
    bytes: Buffer.concat([
      u(`${H},descricao\n`),
      u(bigAscii.map((l) => l.replace('\n', ',x\n')).join('')),
      cp1252('R0,9,Z,1,1,1,Pão\n'),
    ]),
    expect: {
      encoding: 'windows-1252',
      rows: [
        ...bigAscii.map((_, i): Golden => [i + 2, `R${i + 1}`, '1', `SKU${i + 1}`, '1', '2.50', '2.50', 'x']),
        [bigAscii.length + 2, 'R0', '9', 'Z', '1', '1', '1', 'Pão'],
      ],
    },
  },
  {
    name: 'CRLF line endings',
    bytes: u(`${H}\r\nR1,1,A,1,1,1\r\nR1,2,B,1,1,1\r\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1'],
        [3, 'R1', '2', 'B', '1', '1', '1'],
      ],
    },
  },
  {
    name: 'lone CR line endings (old Mac exports)',
    bytes: u(`${H}\rR1,1,A,1,1,1\rR1,2,B,1,1,1\r`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1'],
        [3, 'R1', '2', 'B', '1', '1', '1'],
      ],
    },
  },
  {
    name: 'LF, CRLF and CR mixed in one file',
    bytes: u(`${H}\r\nR1,1,A,1,1,1\nR1,2,B,1,1,1\rR1,3,C,1,1,1\r\n\rR1,4,D,1,1,1`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1'],
        [3, 'R1', '2', 'B', '1', '1', '1'],
        [4, 'R1', '3', 'C', '1', '1', '1'],
        [6, 'R1', '4', 'D', '1', '1', '1'],
      ],
    },
  },
  {
    name: 'newline (LF) inside quotes, and the line numbers after it',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,"two\nlines"\nR1,2,B,1,1,1,x\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1', 'two\nlines'],
        [4, 'R1', '2', 'B', '1', '1', '1', 'x'],
      ],
    },
  },
  {
    name: 'CRLF and lone CR inside quotes each count as one line',
    bytes: u(`${H},descricao\r\nR1,1,A,1,1,1,"a\r\nb\rc\n"\r\nR1,2,B,1,1,1,"\r\n"\r\nR1,3,C,1,1,1,x\r\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1', 'a\r\nb\rc\n'],
        [6, 'R1', '2', 'B', '1', '1', '1', '\r\n'],
        [8, 'R1', '3', 'C', '1', '1', '1', 'x'],
      ],
    },
  },
  {
    name: 'doubled quotes inside quotes',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,"TV 32"" ""LED"""\nR1,2,B,1,1,1,""""\nR1,3,C,1,1,1,""\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1', 'TV 32" "LED"'],
        [3, 'R1', '2', 'B', '1', '1', '1', '"'],
        [4, 'R1', '3', 'C', '1', '1', '1', ''],
      ],
    },
  },
  {
    name: 'delimiters inside quotes',
    bytes: u(`${H},descricao\n"R,1",1,A,1,1,1,"a,b;c\td"\n`),
    expect: { rows: [[2, 'R,1', '1', 'A', '1', '1', '1', 'a,b;c\td']] },
  },
  {
    name: 'quoted header names',
    bytes: u(`"receipt_id";"line_no";"quantity";"unit_price";"total"\n"R1";"1";"2";"3,50";"7,00"\n`),
    expect: { delimiter: ';', numberConvention: 'comma', rows: [[2, 'R1', '1', '2', '3,50', '7,00']] },
  },
  {
    name: '; delimiter with decimal comma',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\nR1;1;1,5;2,00;3,00\n'),
    expect: { delimiter: ';', numberConvention: 'comma', rows: [[2, 'R1', '1', '1,5', '2,00', '3,00']] },
  },
  {
    name: 'TAB delimiter',
    bytes: u(
      'receipt_id\tline_no\tquantity\tunit_price\ttotal\tdescricao\nR1\t1\t2\t1.25\t2.50\tPão, integral; fatiado\n',
    ),
    expect: {
      delimiter: '\t',
      numberConvention: 'dot',
      rows: [[2, 'R1', '1', '2', '1.25', '2.50', 'Pão, integral; fatiado']],
    },
  },
  {
    name: ', delimiter with quoted decimal comma values',
    bytes: u(`${H}\nR1,1,A,"0,5","10,00","5,00"\n`),
    expect: { delimiter: ',', numberConvention: 'comma', rows: [[2, 'R1', '1', 'A', '0,5', '10,00', '5,00']] },
  },
  {
    name: '1.234,56 is the comma convention',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\nR1;1;1;1.234,56;1.234,56\n'),
    expect: { numberConvention: 'comma', rows: [[2, 'R1', '1', '1', '1.234,56', '1.234,56']] },
  },
  {
    name: '1,234.56 is the dot convention, even in a ; file',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\nR1;1;1;1,234.56;1,234.56\n'),
    expect: { delimiter: ';', numberConvention: 'dot', rows: [[2, 'R1', '1', '1', '1,234.56', '1,234.56']] },
  },
  {
    name: 'whole numbers only in a ; file: comma by default',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\nR1;1;2;3;6\n'),
    expect: { numberConvention: 'comma', rows: [[2, 'R1', '1', '2', '3', '6']] },
  },
  {
    name: 'whole numbers only in a , file: dot by default; `1,234` alone decides nothing',
    bytes: u(`${H}\nR1,1,A,2,"1,234","2,468"\n`),
    expect: { numberConvention: 'dot', rows: [[2, 'R1', '1', 'A', '2', '1,234', '2,468']] },
  },
  {
    name: 'blank lines in the middle are skipped and counted',
    bytes: u(`${H}\n\nR1,1,A,1,1,1\n\n\n\nR1,2,B,1,1,1\n`),
    expect: {
      rows: [
        [3, 'R1', '1', 'A', '1', '1', '1'],
        [7, 'R1', '2', 'B', '1', '1', '1'],
      ],
    },
  },
  {
    name: 'blank and whitespace-only lines at the end',
    bytes: u(`${H}\r\nR1,1,A,1,1,1\r\n\r\n   \r\n\t\r\n\r\n`),
    expect: { rows: [[2, 'R1', '1', 'A', '1', '1', '1']] },
  },
  {
    name: 'whitespace-only lines in the middle',
    bytes: u(`${H}\nR1,1,A,1,1,1\n  \t \nR1,2,B,1,1,1\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1'],
        [4, 'R1', '2', 'B', '1', '1', '1'],
      ],
    },
  },
  {
    name: 'rows of empty cells that spreadsheets append are blank',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\nR1;1;1;1;1\n;;;;\n; ;;\t;\n'),
    expect: { rows: [[2, 'R1', '1', '1', '1', '1']] },
  },
  {
    name: 'blank lines before the header',
    bytes: u(`\r\n  \r\n${H}\r\nR1,1,A,1,1,1\r\n`),
    expect: { headerLine: 3, rows: [[4, 'R1', '1', 'A', '1', '1', '1']] },
  },
  {
    name: 'exact line numbers after multi-line quoted fields and blank lines',
    bytes: u(
      `\n${H},descricao\n\nR1,1,A,1,1,1,"line 1\nline 2\n\nline 4"\n\n"R\n2",2,B,1,1,1,""""\n\r\n` +
        `R3,3,C,1,1,1,"x\r\n""y""\r\n"\n\n\nR4,4,D,1,1,1,z`,
    ),
    expect: {
      headerLine: 2,
      rows: [
        [4, 'R1', '1', 'A', '1', '1', '1', 'line 1\nline 2\n\nline 4'],
        [9, 'R\n2', '2', 'B', '1', '1', '1', '"'],
        [12, 'R3', '3', 'C', '1', '1', '1', 'x\r\n"y"\r\n'],
        [17, 'R4', '4', 'D', '1', '1', '1', 'z'],
      ],
    },
  },
  {
    name: 'last row without a line ending',
    bytes: u(`${H}\nR1,1,A,1,1,1`),
    expect: { rows: [[2, 'R1', '1', 'A', '1', '1', '1']] },
  },
  {
    name: 'last row ending in a quoted field without a line ending',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,"x\ny"`),
    expect: { rows: [[2, 'R1', '1', 'A', '1', '1', '1', 'x\ny']] },
  },
  {
    name: 'rows with too few or too many fields are the caller’s business',
    bytes: u(`${H}\nR1,1\nR1,2,B,1,1,1,extra,more\n`),
    expect: {
      rows: [
        [2, 'R1', '1'],
        [3, 'R1', '2', 'B', '1', '1', '1', 'extra', 'more'],
      ],
    },
  },
  {
    name: 'a quote inside an unquoted field is a character',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,TV 32" LED\nR1,2,B,1,1,1,x"y"\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1', 'TV 32" LED'],
        [3, 'R1', '2', 'B', '1', '1', '1', 'x"y"'],
      ],
    },
  },
  {
    name: 'text after a closing quote is kept, as spreadsheets do',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,"TV" 32\n`),
    expect: { rows: [[2, 'R1', '1', 'A', '1', '1', '1', 'TV 32']] },
  },
  {
    name: 'the TOTAL line is an ordinary row for the reader',
    bytes: u(`${H}\nR1,1,A,1,1,1\nTOTAL,,,,,1\n`),
    expect: {
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1'],
        [3, 'TOTAL', '', '', '', '', '1'],
      ],
    },
  },
  {
    name: 'Portuguese headers: Código, QUANTIDADE, Preço Unitário, valor_total, cupom, Item',
    bytes: u('Cupom;Item;Código;QUANTIDADE;Preço Unitário;valor_total\n9;1;789;1;2,5;2,5\n'),
    expect: {
      columns: { receipt_id: 0, line_no: 1, sku: 2, quantity: 3, unit_price: 4, total: 5 },
      unknownColumns: [],
      rows: [[2, '9', '1', '789', '1', '2,5', '2,5']],
    },
  },
  {
    name: 'header names in any case, with spaces, dots, dashes and accents',
    bytes: u(' Receipt ID ,LINE-NO,Quantidade.,PREÇO_UNITÁRIO,Valor Total,Forma_Pagamento\nR1,1,1,1,1,pix\n'),
    expect: {
      columns: { receipt_id: 0, line_no: 1, quantity: 2, unit_price: 3, total: 4, payment_method: 5 },
      rows: [[2, 'R1', '1', '1', '1', '1', 'pix']],
    },
  },
  {
    name: 'unknown header names are listed; empty header cells are not',
    bytes: u(`${H},Observação,vendedor,\nR1,1,A,1,1,1,obs,joão,\n`),
    expect: {
      columns: HEADER6,
      unknownColumns: ['Observação', 'vendedor'],
      rows: [[2, 'R1', '1', 'A', '1', '1', '1', 'obs', 'joão', '']],
    },
  },
  {
    name: 'header-only file',
    bytes: u(`${H}\n`),
    expect: { headerLine: 1, columns: HEADER6, rows: [] },
  },
  {
    name: 'header-only file without a line ending',
    bytes: u(H),
    expect: { headerLine: 1, columns: HEADER6, rows: [] },
  },
  {
    name: 'header-only file followed by blank lines',
    bytes: u('receipt_id;line_no;quantity;unit_price;total\r\n\r\n\r\n'),
    expect: { delimiter: ';', rows: [] },
  },
  {
    name: 'a one-column header is fine when one column is all the specs need',
    columns: SKU_ONLY,
    bytes: u('Código\n123\n456\n'),
    expect: {
      delimiter: ',',
      columns: { sku: 0 },
      rows: [
        [2, '123'],
        [3, '456'],
      ],
    },
  },
  {
    name: 'a header cell with an unquoted comma in a ; file: the delimiter that names more columns wins',
    columns: SKU_QTY,
    bytes: u('codigo;descrição, completa;qtd\n1;a, b;2\n'),
    expect: { delimiter: ';', columns: { sku: 0, quantity: 2 }, rows: [[2, '1', 'a, b', '2']] },
  },
  {
    name: 'invalid UTF-8 anywhere makes the whole file Windows-1252',
    bytes: Buffer.concat([u(`${H},descricao\nR1,1,A,1,1,1,Pão\n`), Buffer.from('R1,2,B,1,1,1,P\xe3o\n', 'latin1')]),
    expect: {
      encoding: 'windows-1252',
      rows: [
        [2, 'R1', '1', 'A', '1', '1', '1', 'PÃ£o'],
        [3, 'R1', '2', 'B', '1', '1', '1', 'Pão'],
      ],
    },
  },
  // ---- files that fail as a whole
  {
    name: 'empty file',
    bytes: Buffer.alloc(0),
    expect: { where: ['header (line 1)'], message: /the file is empty/ },
  },
  {
    name: 'only blank lines',
    bytes: u('\r\n \r\n\t\n'),
    expect: { where: ['header (line 1)'], message: /the file is empty/ },
  },
  {
    name: 'a BOM and nothing else',
    bytes: Buffer.from([0xef, 0xbb, 0xbf]),
    expect: { where: ['header (line 1)'], message: /the file is empty/ },
  },
  {
    name: 'duplicate header',
    bytes: u(`${H},total\nR1,1,A,1,1,1,1\n`),
    expect: { where: ['header (line 1)'], message: /a column appears twice.*"total"/ },
  },
  {
    name: 'duplicate through an alias: sku and Código',
    bytes: u(`\n${H},Código\n`),
    expect: { where: ['header (line 2)'], message: /a column appears twice/ },
  },
  {
    name: 'missing required headers: every one is named',
    bytes: u('cupom;codigo;qtd\n1;2;3\n'),
    expect: {
      where: ['header (line 1)', 'header (line 1)', 'header (line 1)'],
      message: /required column\(s\) missing: line_no, unit_price, total\. The header has: "cupom", "codigo", "qtd"/,
    },
  },
  {
    name: 'a one-column header when more columns are required',
    bytes: u('receipt_id\nR1\n'),
    expect: { where: ['header (line 1)', 'header (line 1)', 'header (line 1)', 'header (line 1)'], message: /missing/ },
  },
  {
    name: 'a first line that is data, not a header',
    bytes: u('R1,1,A,1,1.50,1.50\nR1,2,B,1,1,1\n'),
    expect: { where: ['header (line 1)'], message: /line 1 does not look like a CSV header/ },
  },
  {
    name: 'a header with an unsupported delimiter',
    bytes: u('receipt_id|line_no|quantity|unit_price|total\n'),
    expect: { where: ['header (line 1)'], message: /does not look like a CSV header.*no `,`, `;` or tab/ },
  },
  {
    name: 'a PNG image',
    bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
    expect: { where: ['header (line 1)'], message: /^line 1 does not look like a CSV header.*found "‰PNG"$/ },
  },
  {
    name: 'NUL bytes in a data row',
    bytes: u(`${H}\nR1,1,A,1,1,1\nR1,2,B\0\0,1,1,1\n`),
    expect: { where: ['line 3'], message: /^line 3: the file contains a NUL character/, binaryAt: H.length + 14 + 6 },
  },
  {
    name: 'a NUL character inside a quoted field of a UTF-16 file',
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${H}\n"R\n1\0",1,A,1,1,1\n`, 'utf16le')]),
    expect: { where: ['line 2'], message: /NUL character/ },
  },
  {
    name: 'NUL in the header',
    bytes: u('receipt_id,line\0_no\n'),
    expect: { where: ['line 1'], message: /NUL character/, binaryAt: 15 },
  },
  {
    name: 'unterminated quote at the end: the error names the line where the record starts',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,"ok\nfine"\n\nR1,2,B,1,1,1,"never\nclosed\n\n`),
    expect: { where: ['line 5'], message: /^line 5: a quoted field is never closed/ },
  },
  {
    name: 'a 1 MiB unquoted field',
    bytes: u(`${H},descricao\nR1,1,A,1,1,1,x\nR1,2,B,1,1,1,${'y'.repeat(1024 * 1024)}\nR1,3,C,1,1,1,z\n`),
    expect: { where: ['line 3'], message: /^line 3: the record is longer than 65536 bytes/ },
  },
  {
    name: 'a 1 MiB quoted field with line breaks',
    bytes: u(`${H},descricao\n\nR1,1,A,1,1,1,"${'multi\nline '.repeat(90000)}"\n`),
    expect: { where: ['line 3'], message: /^line 3: the record is longer than 65536 bytes/ },
  },
  {
    name: 'a record one byte over a small limit (counted in UTF-8 bytes)',
    columns: SKU_QTY,
    maxRecordBytes: 30,
    bytes: u(`sku,qtd\nA,1\n${'Ç'.repeat(14)},12\n`),
    expect: { where: ['line 3'], message: /^line 3: the record is longer than 30 bytes/ },
  },
  {
    name: 'a record exactly at a small limit is accepted',
    columns: SKU_QTY,
    maxRecordBytes: 30,
    bytes: u(`sku,qtd\nA,1\n${'Ç'.repeat(14)},1\n`),
    expect: {
      rows: [
        [2, 'A', '1'],
        [3, 'Ç'.repeat(14), '1'],
      ],
    },
  },
];

function isFailure(e: Expect | Failure): e is Failure {
  return 'where' in e;
}

/** Several chunk sizes for small files (1 byte splits everything), fewer for the big ones. */
function chunkSizes(bytes: Buffer): number[] {
  if (bytes.length > 200_000) return [bytes.length, 65536, 100_003];
  return [bytes.length || 1, 1, 2, 3, 7, 64];
}

describe('torture corpus', () => {
  it('has at least 40 cases', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const columns = c.columns ?? SALES_COLUMNS;
      for (const chunkSize of chunkSizes(c.bytes)) {
        const opts = { chunkSize, ...(c.maxRecordBytes ? { maxRecordBytes: c.maxRecordBytes } : {}) };
        const at = `chunks of ${chunkSize} bytes`;
        const expect = c.expect;
        if (isFailure(expect)) {
          await assert.rejects(
            () => parseBytes(c.bytes, columns, opts),
            (e: unknown) => {
              assert.ok(e instanceof ShopflowError, `${at}: ${String(e)}`);
              assert.equal(e.kind, 'invalid_input');
              assert.match(e.message, expect.message, at);
              assert.deepEqual(
                e.details.map((d) => d.where),
                expect.where,
                at,
              );
              return true;
            },
          );
          if (expect.binaryAt !== undefined) {
            const v = detect(c.bytes, chunkSize);
            assert.deepEqual({ binary: v.binary, at: v.nulOffset }, { binary: true, at: expect.binaryAt }, at);
          }
          continue;
        }
        const r = await parseBytes(c.bytes, columns, opts);
        const rows = r.rows.map((row): Golden => [row.line, ...row.fields]);
        assert.deepEqual(rows, expect.rows, at);
        for (const key of [
          'delimiter',
          'numberConvention',
          'headerLine',
          'columns',
          'headerNames',
          'unknownColumns',
        ] as const) {
          if (expect[key] !== undefined) assert.deepEqual(r[key], expect[key], `${at}: ${key}`);
        }
        if (expect.encoding) assert.equal(r.verdict.encoding, expect.encoding, at);
      }
    });
  }
});

describe('readTable', () => {
  it('refuses an over-long record after reading little more than the limit', async () => {
    let pulled = 0;
    async function* source() {
      yield `${H},descricao\nR1,1,A,1,1,1,"`;
      for (let i = 0; i < 64; i++) {
        pulled++;
        yield 'x'.repeat(16 * 1024);
      }
    }
    await assert.rejects(
      async () => collect(await readTable(source(), SALES_COLUMNS)),
      (e: unknown) => e instanceof ShopflowError && e.details[0]?.where === 'line 2',
    );
    assert.ok(pulled <= 10, `read ${pulled} chunks of 16 KiB before refusing`);
  });

  it('streams a 1,000,000-row file, reading no further ahead than a batch and a chunk', async () => {
    let produced = 0;
    async function* source() {
      yield `${H}\n`;
      for (let i = 0; i < 1_000_000; i += 500) {
        let text = '';
        for (let k = i; k < i + 500; k++) text += `R${k},${(k % 9) + 1},SKU${k % 1000},1,2.50,2.50\n`;
        produced = i + 500;
        yield text;
      }
    }
    const table = await readTable(source(), SALES_COLUMNS);
    let rows = 0;
    let maxAhead = 0;
    let wrong = 0;
    for await (const batch of table.batches()) {
      for (const r of batch) {
        if (r.line !== rows + 2 || r.fields[0] !== `R${rows}` || r.fields.length !== 6) wrong++;
        rows++;
      }
      maxAhead = Math.max(maxAhead, produced - rows);
    }
    assert.equal(rows, 1_000_000);
    assert.equal(wrong, 0);
    assert.ok(maxAhead <= 1500, `read ${maxAhead} rows ahead`);
  });

  it('throws errors after the header from the iterator, after the rows before them', async () => {
    const table = await readTable(textChunks(`${H}\nR1,1,A,1,1,1\nR1,2,"B\n`, 5), SALES_COLUMNS);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const batch of table.batches()) seen.push(...batch.map((r) => r.line));
    }, /line 3: a quoted field is never closed/);
    assert.deepEqual(seen, [2]);
  });

  it('gives batches of at most 1000 rows, in order, and can be consumed once', async () => {
    const text = `${H}\n${Array.from({ length: 2500 }, (_, i) => `R${i},1,A,1,1,1\n`).join('')}`;
    const table = await readTable(textChunks(text, 4096), SALES_COLUMNS);
    const sizes: number[] = [];
    const lines: number[] = [];
    for await (const batch of table.batches()) {
      sizes.push(batch.length);
      lines.push(...batch.map((r) => r.line));
    }
    assert.ok(sizes.every((s) => s > 0 && s <= 1000));
    assert.deepEqual(
      lines,
      Array.from({ length: 2500 }, (_, i) => i + 2),
    );
    await assert.rejects(async () => {
      for await (const _ of table.batches()) {
        // consumed once already
      }
    }, /only once/);
  });

  it('releases the source when the reader stops early or the header is refused', async () => {
    let closed = 0;
    const source = (text: string) =>
      (async function* () {
        try {
          for (let i = 0; i < text.length; i += 10) yield text.slice(i, i + 10);
        } finally {
          closed++;
        }
      })();
    const long = `${H}\n${'R1,1,A,1,1,1\n'.repeat(5000)}`;
    const table = await readTable(source(long), SALES_COLUMNS);
    for await (const _ of table.batches()) break;
    assert.equal(closed, 1);
    await assert.rejects(readTable(source(`nope\n${'x\n'.repeat(100)}`), SALES_COLUMNS));
    assert.equal(closed, 2);
    await (await readTable(source(long), SALES_COLUMNS)).close();
    assert.equal(closed, 3);
  });

  it('sniffs the number convention from the numeric columns only', async () => {
    // The sku column is full of dots-and-three-digits that would vote for the comma convention.
    const text = `${H}\n${Array.from({ length: 50 }, (_, i) => `R${i},1,1.234.${i},1,2.50,2.50\n`).join('')}`;
    assert.equal((await parseText(text, SALES_COLUMNS)).numberConvention, 'dot');
  });

  it('normalizes header names', () => {
    assert.equal(normalizeColumnName(' Preço Unitário '), 'precounitario');
    assert.equal(normalizeColumnName('VALOR_TOTAL'), 'valortotal');
    assert.equal(normalizeColumnName('data-movimento'), 'datamovimento');
    assert.equal(normalizeColumnName('Cód. Barras'), 'codbarras');
  });
});
