// A report as a PDF a manager reads: on every page the title, the store (or "Rede"), the period and "Página N de M";
// on the first, the key figures and the charts (drawn as vector bars, no image library); then the tables with
// aligned columns, their header repeated on each page. PDFKit's standard fonts (Helvetica) need no font files and
// encode text as WinAnsi, which covers Portuguese; characters outside it are reduced to their base letter or `?`.
//
// Everything is placed at absolute positions with `lineBreak: false`: PDFKit's line wrapper is slow and may add
// pages on its own, while a table row here is one line by construction (long text is cut with `…`).
import PDFDocument from 'pdfkit';
import type { Formatter } from '../domain/format.ts';
import type { BarChart, Cell, Column, Highlight, ReportDoc, Table } from './model.ts';

export const PDF_CONTENT_TYPE = 'application/pdf';

const PAGE = { width: 595.28, height: 841.89 }; // A4
const MARGIN = { left: 36, right: 36, top: 32, bottom: 44 };
const CONTENT_W = PAGE.width - MARGIN.left - MARGIN.right;
const BOTTOM = PAGE.height - MARGIN.bottom;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const ITALIC = 'Helvetica-Oblique';
const ROW_H = 13;
const CELL_PAD = 3;
const BODY_SIZE = 8.5;
const INK = '#1f2933';
const MUTED = '#616e7c';
const RULE = '#cbd2d9';
const STRIPE = '#f2f4f7';
const HEAD_BG = '#e4e7eb';
const BAR = '#3b6fb6';
// widths are sums of floats: a string measured to fit its column must not be cut by a rounding error
const FIT_SLACK = 0.01;

// WinAnsi (CP1252) beyond Latin-1: what PDFKit's standard fonts can show above U+00FF.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const OUTSIDE_WIN_ANSI = /[^\x20-\x7e\xa0-\xff]/;

/** Text as the standard fonts can draw it: accents kept, other letters reduced to their base, the rest `?`. */
export function toWinAnsi(text: string): string {
  if (!OUTSIDE_WIN_ANSI.test(text)) return text;
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (ch === '\t' || ch === '\n' || ch === '\r') out += ' ';
    else {
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      out += base.length > 0 && !OUTSIDE_WIN_ANSI.test(base) ? base : '?';
    }
  }
  return out;
}

export interface PdfResult {
  bytes: Buffer;
  pages: number;
}

const NUMERIC: ReadonlySet<Column['type']> = new Set(['money', 'quantity', 'count', 'percent']);

type Doc = PDFKit.PDFDocument;

class Writer {
  readonly doc: Doc;
  y = MARGIN.top;
  private readonly header: { title: string; scope: string; period: string; generated: string };

  constructor(
    readonly report: ReportDoc,
    readonly fmt: Formatter,
  ) {
    const periodLabel = report.from === report.to ? 'Data' : 'Período';
    const scope =
      report.scope.storeCode === null ? report.scope.name : `Loja ${report.scope.storeCode} · ${report.scope.name}`;
    this.header = {
      title: toWinAnsi(report.title),
      scope: toWinAnsi(scope),
      period: `${periodLabel}: ${fmt.period(report.from, report.to)}`,
      generated: `Gerado em ${fmt.dateTime(report.generatedAt)}`,
    };
    this.doc = new PDFDocument({
      size: 'A4',
      margins: MARGIN,
      bufferPages: true,
      autoFirstPage: false,
      info: {
        Title: toWinAnsi(`${report.title} — ${report.scope.name} — ${this.header.period}`),
        Author: 'shopflow',
        CreationDate: report.generatedAt,
      },
    });
    this.newPage();
  }

  newPage(): void {
    const d = this.doc;
    d.addPage();
    const top = MARGIN.top;
    d.fillColor(INK).font(BOLD).fontSize(15).text(this.header.title, MARGIN.left, top, { lineBreak: false });
    d.font(FONT).fontSize(10);
    this.right(this.header.scope, PAGE.width - MARGIN.right, top + 3);
    d.fontSize(9)
      .fillColor(MUTED)
      .text(this.header.period, MARGIN.left, top + 21, { lineBreak: false });
    this.right(this.header.generated, PAGE.width - MARGIN.right, top + 21);
    d.moveTo(MARGIN.left, top + 35)
      .lineTo(PAGE.width - MARGIN.right, top + 35)
      .lineWidth(0.7)
      .strokeColor(RULE)
      .stroke();
    d.fillColor(INK);
    this.y = top + 44;
  }

  /** right-aligned single line ending at x (the current font) */
  right(text: string, x: number, y: number): void {
    this.doc.text(text, x - this.doc.widthOfString(text), y, { lineBreak: false });
  }

  ensure(height: number): boolean {
    if (this.y + height <= BOTTOM) return false;
    this.newPage();
    return true;
  }

  fit(text: string, width: number): string {
    const d = this.doc;
    if (d.widthOfString(text) <= width + FIT_SLACK) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (d.widthOfString(`${text.slice(0, mid)}…`) <= width + FIT_SLACK) lo = mid;
      else hi = mid - 1;
    }
    return `${text.slice(0, lo).trimEnd()}…`;
  }

  format(type: Column['type'], v: Cell, unit?: Cell): string {
    if (v === null || v === undefined || v === '') return '';
    const f = this.fmt;
    switch (type) {
      case 'money':
        return f.money(Number(v));
      case 'quantity':
        return f.quantity(Number(v), unit === 'UN' || unit === 'KG' ? unit : undefined);
      case 'count':
        return f.count(Number(v));
      case 'percent':
        return f.percent(Number(v));
      case 'date':
        return f.date(String(v));
      default:
        return toWinAnsi(String(v));
    }
  }

  notes(notes: string[]): void {
    if (notes.length === 0) return;
    const d = this.doc.font(ITALIC).fontSize(8.5).fillColor(MUTED);
    for (const note of notes) {
      d.text(toWinAnsi(note), MARGIN.left, this.y, { lineBreak: false });
      this.y += 12;
    }
    this.y += 4;
    d.fillColor(INK);
  }

  highlights(items: Highlight[]): void {
    if (items.length === 0) return;
    const d = this.doc;
    const gap = 8;
    const w = (CONTENT_W - gap * (items.length - 1)) / items.length;
    const h = 40;
    this.ensure(h + 12);
    items.forEach((item, i) => {
      const x = MARGIN.left + i * (w + gap);
      d.roundedRect(x, this.y, w, h, 3).fillColor(STRIPE).fill();
      d.fillColor(MUTED)
        .font(FONT)
        .fontSize(8)
        .text(this.fit(toWinAnsi(item.label), w - 12), x + 6, this.y + 6, {
          lineBreak: false,
        });
      d.fillColor(INK).font(BOLD).fontSize(12.5);
      d.text(this.fit(this.format(item.type, item.value), w - 12), x + 6, this.y + 20, { lineBreak: false });
    });
    this.y += h + 14;
  }

  chart(c: BarChart): void {
    if (c.orientation === 'vertical') this.columns(c);
    else this.bars(c);
  }

  private chartTitle(title: string, height: number): void {
    this.ensure(height + 22);
    this.doc.fillColor(INK).font(BOLD).fontSize(10.5).text(toWinAnsi(title), MARGIN.left, this.y, { lineBreak: false });
    this.y += 17;
  }

  private noData(): void {
    this.doc.font(ITALIC).fontSize(8.5).fillColor(MUTED).text('Sem dados para o gráfico.', MARGIN.left, this.y, {
      lineBreak: false,
    });
    this.doc.fillColor(INK);
    this.y += 20;
  }

  /** horizontal bars: label, bar, value */
  private bars(c: BarChart): void {
    const d = this.doc;
    const barH = 10;
    const step = 14;
    this.chartTitle(c.title, Math.max(1, c.bars.length) * step);
    const max = Math.max(0, ...c.bars.map((b) => b.value));
    if (c.bars.length === 0 || max <= 0) {
      this.noData();
      return;
    }
    const labelW = 150;
    d.font(FONT).fontSize(8);
    const values = c.bars.map((b) => this.format(c.type, b.value));
    const valueW = Math.max(...values.map((v) => d.widthOfString(v))) + 6;
    const x0 = MARGIN.left + labelW + 6;
    const plotW = CONTENT_W - labelW - 6 - valueW;
    c.bars.forEach((b, i) => {
      const y = this.y + i * step;
      const len = Math.max(0, (b.value / max) * plotW);
      d.fillColor(INK).text(this.fit(toWinAnsi(b.label), labelW), MARGIN.left, y + 1.5, { lineBreak: false });
      if (len > 0) d.rect(x0, y, len, barH).fillColor(BAR).fill();
      d.fillColor(MUTED).text(values[i]!, x0 + len + 4, y + 1.5, { lineBreak: false });
    });
    d.fillColor(INK);
    this.y += c.bars.length * step + 14;
  }

  /** vertical columns over a time axis, with a value scale on the left */
  private columns(c: BarChart): void {
    const d = this.doc;
    const plotH = 130;
    this.chartTitle(c.title, plotH + 30);
    const max = Math.max(0, ...c.bars.map((b) => b.value));
    if (c.bars.length === 0 || max <= 0) {
      this.noData();
      return;
    }
    d.font(FONT).fontSize(7);
    const ticks = [0, max / 2, max].map((v) => this.format(c.type, Math.round(v)));
    const axisW = Math.max(...ticks.map((t) => d.widthOfString(t))) + 6;
    const x0 = MARGIN.left + axisW;
    const plotW = CONTENT_W - axisW;
    const top = this.y + 4;
    const base = top + plotH;
    ticks.forEach((t, i) => {
      const y = base - (plotH * i) / 2;
      d.moveTo(x0, y)
        .lineTo(x0 + plotW, y)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke();
      d.fillColor(MUTED);
      this.right(t, x0 - 4, y - 3);
    });
    const slot = plotW / c.bars.length;
    const barW = Math.min(28, slot * 0.7);
    c.bars.forEach((b, i) => {
      const h = Math.max(0, (b.value / max) * plotH);
      const cx = x0 + slot * i + slot / 2;
      if (h > 0)
        d.rect(cx - barW / 2, base - h, barW, h)
          .fillColor(BAR)
          .fill();
      const label = toWinAnsi(b.label);
      d.fillColor(MUTED).text(label, cx - d.widthOfString(label) / 2, base + 3, { lineBreak: false });
    });
    d.fillColor(INK);
    this.y = base + 20;
  }

  table(t: Table): void {
    const d = this.doc;
    const cols = t.columns
      .map((c, i) => ({ c, i, unitAt: c.unitKey ? t.columns.findIndex((u) => u.key === c.unitKey) : -1 }))
      .filter((x) => x.c.hidden !== 'pdf');
    const numeric = cols.map((x) => NUMERIC.has(x.c.type));

    this.ensure(17 + ROW_H * 3);
    d.fillColor(INK).font(BOLD).fontSize(10.5).text(toWinAnsi(t.title), MARGIN.left, this.y, { lineBreak: false });
    this.y += 16;
    if (t.rows.length === 0) {
      d.font(ITALIC).fontSize(BODY_SIZE).fillColor(MUTED);
      d.text(toWinAnsi(t.empty ?? 'Sem dados.'), MARGIN.left, this.y, { lineBreak: false });
      d.fillColor(INK);
      this.y += ROW_H + 10;
      return;
    }

    // Every cell is formatted and measured once: the widths decide the columns and place right-aligned numbers.
    const text = (row: Cell[]) =>
      cols.map((x) => this.format(x.c.type, row[x.i] ?? null, x.unitAt >= 0 ? row[x.unitAt] : null));
    const body = t.rows.map(text);
    const total = t.total ? text(t.total) : undefined;
    d.font(FONT).fontSize(BODY_SIZE);
    const bodyW = body.map((r) => r.map((s) => d.widthOfString(s)));
    d.font(BOLD);
    const labels = cols.map((x) => toWinAnsi(x.c.label));
    const headW = labels.map((l) => d.widthOfString(l));
    const totalW = total?.map((s) => d.widthOfString(s));
    const natural = cols.map((_, j) => {
      let w = Math.max(headW[j]!, totalW?.[j] ?? 0);
      for (const r of bodyW) if (r[j]! > w) w = r[j]!;
      return w + 2 * CELL_PAD;
    });
    const widths = layoutColumns(natural, numeric, CONTENT_W);
    const xs: number[] = [];
    widths.reduce((x, w, j) => {
      xs[j] = x;
      return x + w;
    }, MARGIN.left);

    const drawHead = () => {
      d.rect(MARGIN.left, this.y, CONTENT_W, ROW_H + 1)
        .fillColor(HEAD_BG)
        .fill();
      d.fillColor(INK).font(BOLD).fontSize(BODY_SIZE);
      cols.forEach((_, j) => {
        const label = this.fit(labels[j]!, widths[j]! - 2 * CELL_PAD);
        const x = numeric[j] ? xs[j]! + widths[j]! - CELL_PAD - d.widthOfString(label) : xs[j]! + CELL_PAD;
        d.text(label, x, this.y + 3, { lineBreak: false });
      });
      this.y += ROW_H + 1;
      d.font(FONT);
    };
    const drawRow = (cells: string[], measured: number[] | undefined, stripe: boolean) => {
      if (stripe) d.rect(MARGIN.left, this.y, CONTENT_W, ROW_H).fillColor(STRIPE).fill();
      d.fillColor(INK);
      cells.forEach((s, j) => {
        if (s === '') return;
        const room = widths[j]! - 2 * CELL_PAD;
        let w = measured ? measured[j]! : d.widthOfString(s);
        let shown = s;
        if (w > room + FIT_SLACK) {
          shown = this.fit(s, room);
          w = d.widthOfString(shown);
        }
        d.text(shown, numeric[j] ? xs[j]! + widths[j]! - CELL_PAD - w : xs[j]! + CELL_PAD, this.y + 3, {
          lineBreak: false,
        });
      });
      this.y += ROW_H;
    };

    drawHead();
    d.font(FONT).fontSize(BODY_SIZE);
    body.forEach((cells, r) => {
      if (this.ensure(ROW_H)) {
        d.fillColor(MUTED)
          .font(ITALIC)
          .fontSize(8)
          .text(toWinAnsi(`${t.title} (continuação)`), MARGIN.left, this.y, {
            lineBreak: false,
          });
        this.y += 12;
        drawHead();
        d.font(FONT).fontSize(BODY_SIZE);
      }
      drawRow(cells, bodyW[r], r % 2 === 1);
    });
    if (total) {
      this.ensure(ROW_H + 2);
      d.moveTo(MARGIN.left, this.y)
        .lineTo(MARGIN.left + CONTENT_W, this.y)
        .lineWidth(0.7)
        .strokeColor(INK)
        .stroke();
      d.font(BOLD).fontSize(BODY_SIZE);
      drawRow(total, totalW, false);
      d.font(FONT);
    }
    this.y += 12;
  }

  footers(): number {
    const d = this.doc;
    const range = d.bufferedPageRange();
    const pages = range.count;
    const left = toWinAnsi(`shopflow · ${this.report.title} · ${this.report.scope.name} · ${this.header.period}`);
    for (let i = 0; i < pages; i++) {
      d.switchToPage(range.start + i);
      const y = PAGE.height - MARGIN.bottom + 16;
      d.moveTo(MARGIN.left, y - 5)
        .lineTo(PAGE.width - MARGIN.right, y - 5)
        .lineWidth(0.5)
        .strokeColor(RULE)
        .stroke();
      d.font(FONT).fontSize(8).fillColor(MUTED);
      d.text(this.fit(left, CONTENT_W - 90), MARGIN.left, y, { lineBreak: false });
      this.right(`Página ${i + 1} de ${pages}`, PAGE.width - MARGIN.right, y);
    }
    return pages;
  }
}

/**
 * Column widths. Numbers keep their natural width, so they are never cut. When everything fits, the room to spare
 * goes a little to the numbers (air between them) and the rest to the text columns. When it does not, the text
 * columns are capped at one common width chosen so that they fill what the numbers leave: short texts (codes) keep
 * their width and only the long ones (names) are cut with …. Only when even a minimum text width does not fit do
 * the numbers shrink too.
 */
export function layoutColumns(natural: number[], numeric: boolean[], available: number): number[] {
  const fixed = natural.reduce((a, w, j) => a + (numeric[j] ? w : 0), 0);
  const texts = natural.filter((_, j) => !numeric[j]);
  const flex = texts.reduce((a, w) => a + w, 0);
  const numbers = natural.length - texts.length;
  const room = available - fixed;
  if (room >= flex) {
    let spare = room - flex;
    const perNumber = numbers > 0 ? Math.min(14, (texts.length > 0 ? spare / 2 : spare) / numbers) : 0;
    spare -= perNumber * numbers;
    return natural.map((w, j) =>
      numeric[j] ? w + perNumber : w + (flex > 0 ? (spare * w) / flex : spare / Math.max(texts.length, 1)),
    );
  }
  const minText = 36;
  if (room >= minText * texts.length) {
    // water-filling: the cap c with Σ min(w, max(c, minText)) = room
    const sorted = [...texts].sort((a, b) => a - b);
    let used = 0;
    let cap = room / texts.length;
    for (let i = 0; i < sorted.length; i++) {
      const left = texts.length - i;
      cap = (room - used) / left;
      if (sorted[i]! > cap) break;
      used += sorted[i]!;
    }
    return natural.map((w, j) => (numeric[j] ? w : Math.min(w, Math.max(cap, minText))));
  }
  const widths = natural.map((w, j) => (numeric[j] ? w : minText));
  const sum = widths.reduce((a, w) => a + w, 0);
  return widths.map((w) => (w * available) / sum);
}

export async function renderPdf(report: ReportDoc, fmt: Formatter): Promise<PdfResult> {
  const w = new Writer(report, fmt);
  const chunks: Buffer[] = [];
  w.doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    w.doc.on('end', () => resolve());
    w.doc.on('error', reject);
  });
  w.notes(report.notes);
  w.highlights(report.highlights);
  for (const c of report.charts) w.chart(c);
  for (const t of report.tables) if (t.hidden !== 'pdf') w.table(t);
  const pages = w.footers();
  w.doc.end();
  await ended;
  return { bytes: Buffer.concat(chunks), pages };
}
