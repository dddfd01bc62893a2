import { createRequire } from 'node:module';
import fs from 'node:fs';
import { inflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';

/**
 * PDFs in English and Hindi. Noto Sans (Latin) and Noto Sans Devanagari come from npm
 * (@fontsource), embedded and subset by pdfkit, which shapes Devanagari (conjuncts, matras)
 * through fontkit. Each font covers one script, so text is written in runs: Devanagari letters,
 * signs and ₹ in the Devanagari font, everything else in the Latin one.
 */

const require = createRequire(import.meta.url);
const FONTS = {
  latin: require.resolve('@fontsource/noto-sans/files/noto-sans-latin-400-normal.woff'),
  'latin-bold': require.resolve('@fontsource/noto-sans/files/noto-sans-latin-700-normal.woff'),
  deva: require.resolve('@fontsource/noto-sans-devanagari/files/noto-sans-devanagari-devanagari-400-normal.woff'),
  'deva-bold': require.resolve('@fontsource/noto-sans-devanagari/files/noto-sans-devanagari-devanagari-700-normal.woff'),
  // Currency signs (₹) from Noto Sans itself, so they sit on the Latin baseline.
  sym: require.resolve('@fontsource/noto-sans/files/noto-sans-latin-ext-400-normal.woff'),
  'sym-bold': require.resolve('@fontsource/noto-sans/files/noto-sans-latin-ext-700-normal.woff'),
};

export type Doc = PDFKit.PDFDocument;

/**
 * WOFF 1.0 → plain sfnt (TrueType/OpenType), once per process: registering the .woff file made
 * every document inflate every font again (a second per Hindi receipt); fontkit reads the
 * decompressed buffer lazily.
 */
export function woffToSfnt(woff: Buffer): Buffer {
  if (woff.toString('latin1', 0, 4) !== 'wOFF') throw new Error('not a WOFF 1.0 font');
  const n = woff.readUInt16BE(12);
  const tables = Array.from({ length: n }, (_, i) => {
    const at = 44 + i * 20;
    const [offset, comp, orig] = [woff.readUInt32BE(at + 4), woff.readUInt32BE(at + 8), woff.readUInt32BE(at + 12)];
    const raw = woff.subarray(offset, offset + comp);
    return { tag: woff.subarray(at, at + 4), checksum: woff.readUInt32BE(at + 16), data: comp < orig ? inflateSync(raw) : raw };
  });
  const pow = 2 ** Math.floor(Math.log2(n));
  const head = Buffer.alloc(12 + 16 * n);
  woff.copy(head, 0, 4, 8);
  head.writeUInt16BE(n, 4);
  head.writeUInt16BE(pow * 16, 6);
  head.writeUInt16BE(Math.log2(pow), 8);
  head.writeUInt16BE(n * 16 - pow * 16, 10);
  const parts: Buffer[] = [head];
  let offset = head.length;
  tables.forEach((t, i) => {
    t.tag.copy(head, 12 + i * 16);
    head.writeUInt32BE(t.checksum, 12 + i * 16 + 4);
    head.writeUInt32BE(offset, 12 + i * 16 + 8);
    head.writeUInt32BE(t.data.length, 12 + i * 16 + 12);
    const padded = Buffer.alloc((t.data.length + 3) & ~3);
    t.data.copy(padded);
    parts.push(padded);
    offset += padded.length;
  });
  return Buffer.concat(parts);
}

let fontData: [string, Buffer][] | null = null;
const fonts = () => (fontData ??= Object.entries(FONTS).map(([name, file]) => [name, woffToSfnt(fs.readFileSync(file))]));

export function newDoc(opts: { title: string; landscape?: boolean }): Doc {
  const doc = new PDFDocument({
    size: 'A4',
    layout: opts.landscape ? 'landscape' : 'portrait',
    margin: 36,
    bufferPages: true,
    info: { Title: opts.title, Producer: 'Sangrahan', Creator: 'Sangrahan' },
    lang: 'en-IN',
  });
  for (const [name, data] of fonts()) doc.registerFont(name, data);
  doc.font('latin');
  return doc;
}

// Devanagari block, Vedic extensions, Devanagari extended, ZWNJ/ZWJ.
// eslint-disable-next-line no-misleading-character-class -- code points tested one at a time
const DEVA = /[\u0900-\u097F\u1CD0-\u1CFF\uA8E0-\uA8FF\u200C\u200D]/u;
const SYM = /[\u20A0-\u20C0]/u;

export type Face = 'latin' | 'deva' | 'sym';

/** Splits text into runs of one font; spaces and punctuation stay with the Latin font. */
export function runs(text: string): { face: Face; text: string }[] {
  const out: { face: Face; text: string }[] = [];
  for (const ch of text) {
    // Spaces between two Devanagari words stay in the Devanagari run (it has a space glyph).
    const face: Face = DEVA.test(ch) || (ch === ' ' && out.at(-1)?.face === 'deva') ? 'deva' : SYM.test(ch) ? 'sym' : 'latin';
    const last = out.at(-1);
    if (last && last.face === face) last.text += ch;
    else out.push({ face, text: ch });
  }
  return out;
}

export interface TextOpts {
  x?: number;
  y?: number;
  width?: number;
  align?: 'left' | 'right' | 'center';
  bold?: boolean;
  size?: number;
  color?: string;
  lineBreak?: boolean;
}

/**
 * Writes text (any mix of English and Hindi) at x, y or at the cursor. One line
 * (`lineBreak: false`) is laid out run by run, so right and centre alignment hold for mixed
 * scripts; flowing text wraps within `width`, its runs continued left to right.
 */
export function write(doc: Doc, text: string, o: TextOpts = {}): void {
  const parts = runs(text);
  if (!parts.length) parts.push({ face: 'latin', text: '' });
  if (o.size) doc.fontSize(o.size);
  doc.fillColor(o.color ?? '#111111');
  const fontOf = (p: { face: Face }) => `${p.face}${o.bold ? '-bold' : ''}`;
  const x = o.x ?? doc.x;
  const y = o.y ?? doc.y;
  // The scripts' fonts have different ascenders: every run is placed by its baseline, the
  // Latin font's, so a line of mixed text sits on one line.
  const ascent = ((doc.font('latin') as unknown as { _font: { ascender: number } })._font.ascender / 1000) * (doc as unknown as { _fontSize: number })._fontSize;
  if (o.lineBreak === false) {
    const widths = parts.map((p) => doc.font(fontOf(p)).widthOfString(p.text));
    const total = widths.reduce((a, b) => a + b, 0);
    const room = o.width ?? total;
    let cx = o.align === 'right' ? x + room - total : o.align === 'center' ? x + (room - total) / 2 : x;
    parts.forEach((p, i) => {
      doc.font(fontOf(p)).text(p.text, cx, y + ascent, { lineBreak: false, baseline: 'alphabetic' });
      cx += widths[i]!;
    });
    doc.x = x;
    doc.y = y + doc.font('latin').currentLineHeight(true);
    return;
  }
  const base: PDFKit.Mixins.TextOptions = { width: o.width, align: parts.length > 1 ? 'left' : (o.align ?? 'left'), baseline: 'alphabetic' };
  parts.forEach((p, i) => {
    doc.font(fontOf(p));
    const continued = i < parts.length - 1;
    if (i === 0) doc.text(p.text, x, y + ascent, { ...base, continued });
    else doc.text(p.text, { ...base, continued });
  });
  doc.x = x;
}

export interface Column {
  header: string;
  width: number;
  align?: 'left' | 'right';
}

/** A table that breaks across pages, repeating its header; cells are one line, cut to fit. */
export function table(doc: Doc, columns: Column[], rows: Iterable<string[]>, opts: { size?: number } = {}): void {
  const size = opts.size ?? 8;
  const rowH = size * 1.9;
  const left = doc.page.margins.left;
  const bottom = () => doc.page.height - doc.page.margins.bottom - rowH;
  const header = () => {
    let x = left;
    const y = doc.y;
    doc.rect(left, y - 2, columns.reduce((s, c) => s + c.width, 0), rowH).fill('#e8edf3');
    for (const c of columns) {
      write(doc, fit(doc, c.header, c.width - 6, size, true), { x: x + 3, y: y + 1, width: c.width - 6, align: c.align ?? 'left', bold: true, size, lineBreak: false });
      x += c.width;
    }
    doc.y = y + rowH;
  };
  header();
  let n = 0;
  for (const r of rows) {
    if (doc.y > bottom()) {
      doc.addPage();
      header();
    }
    const y = doc.y;
    if (n++ % 2 === 1) doc.rect(left, y - 2, columns.reduce((s, c) => s + c.width, 0), rowH).fill('#f6f8fa');
    let x = left;
    columns.forEach((c, i) => {
      const v = fit(doc, r[i] ?? '', c.width - 6, size);
      write(doc, v, { x: x + 3, y: y + 1, width: c.width - 6, align: c.align ?? 'left', size, lineBreak: false });
      x += c.width;
    });
    doc.y = y + rowH;
  }
}

/** Width of mixed-script text, each run in its own font. */
export function widthOf(doc: Doc, text: string, size: number, bold = false): number {
  doc.fontSize(size);
  return runs(text).reduce((w, p) => w + doc.font(`${p.face}${bold ? '-bold' : ''}`).widthOfString(p.text), 0);
}

export function fit(doc: Doc, text: string, width: number, size: number, bold = false): string {
  if (widthOf(doc, text, size, bold) <= width) return text;
  const chars = [...text];
  while (chars.length > 1 && widthOf(doc, `${chars.join('')}…`, size, bold) > width) chars.pop();
  return `${chars.join('')}…`;
}

/** Page numbers ("page 2 of 5" / "पृष्ठ 2 / 5") and a footer line on every page. */
export function footer(doc: Doc, text: (page: number, pages: number) => string): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const m = doc.page.margins;
    const bottomMargin = m.bottom;
    m.bottom = 0; // writing in the margin must not start a new page
    write(doc, text(i + 1, range.count), { x: m.left, y: doc.page.height - 24, width: doc.page.width - m.left - m.right, align: 'center', size: 7, color: '#555555', lineBreak: false });
    m.bottom = bottomMargin;
  }
}

/** The finished document as a Buffer. */
export function finish(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.end();
  });
}

/** Label–value lines in a column; a long value wraps and pushes the next line down. */
export function pairs(doc: Doc, items: [string, string][], x: number, width: number): number {
  let y = doc.y;
  for (const [k, v] of items) {
    write(doc, k, { x, y, width: width * 0.45 - 4, size: 9, color: '#444444' });
    const below = doc.y;
    write(doc, v, { x: x + width * 0.45, y, width: width * 0.55, size: 9 });
    y = Math.max(y + 14, below + 2, doc.y + 2);
  }
  return y;
}
