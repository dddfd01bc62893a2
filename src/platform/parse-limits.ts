import type { Text } from './errors.ts';

/**
 * Limits on the files people and banks upload (mass-tagging sheets, bank statements, settlement
 * reports), checked before parsing starts or while streaming, so that no file can hold the
 * event loop or fill the memory. Each refusal names the limit and the file's figure, in English
 * and Hindi. The values come from the configuration (config.ts: MAX_LINE_BYTES …); parse
 * workers receive them with every task.
 */

export interface ParseLimits {
  /** Longest line of a text file (CSV, MT940), in bytes. */
  maxLineBytes: number;
  /** Longest cell of a CSV or spreadsheet, or field of a statement, in bytes (characters for XLSX). */
  maxCellBytes: number;
  /** Sum of the uncompressed sizes an XLSX's central directory declares. */
  maxXlsxUncompressedBytes: number;
  /** Entries (files) in an XLSX's zip. */
  maxXlsxEntries: number;
  /** Transaction lines in one bank statement; rows of a settlement report. */
  maxStatementLines: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxLineBytes: 64 * 1024,
  maxCellBytes: 32 * 1024,
  maxXlsxUncompressedBytes: 100 * 1024 * 1024,
  maxXlsxEntries: 1000,
  maxStatementLines: 200_000,
});

let current: ParseLimits = { ...DEFAULT_PARSE_LIMITS };

/** The limits in force: the configuration's, once configureParsing (parse-pool.ts) has run. */
export function parseLimits(): ParseLimits {
  return current;
}

export function setParseLimits(limits: Partial<ParseLimits>): void {
  current = { ...DEFAULT_PARSE_LIMITS, ...limits };
}

export type LimitName = 'line' | 'cell' | 'xlsx_size' | 'xlsx_entries' | 'rows' | 'statement_lines';

const MB = 1024 * 1024;
// Rounded up in KB, so a line just over a 64 KB limit never reads as "64 KB long".
const kb = (n: number) => (n >= MB ? `${Number((n / MB).toFixed(1))} MB` : n >= 1024 ? `${Math.ceil(n / 1024)} KB` : `${n} bytes`);
const num = (n: number) => n.toLocaleString('en-IN');

/** A file over one of the limits; `text` is the reason for people, in both languages. */
export class LimitError extends Error {
  override name = 'LimitError';
  constructor(
    readonly limit: LimitName,
    readonly text: Text,
  ) {
    super(text.en);
  }
}

/** The reasons, composed here so every parser words a limit the same way. */
export const limitText = {
  line: (lineNo: number, bytes: number, max: number): Text => ({
    en: `line ${num(lineNo)} is ${kb(bytes)} long, over the limit of ${kb(max)} for one line: the file is not read (a file that is one long line is not a table or a statement)`,
    hi: `पंक्ति ${num(lineNo)} ${kb(bytes)} लंबी है, एक पंक्ति की सीमा ${kb(max)} से अधिक: फ़ाइल पढ़ी नहीं गई (एक ही लंबी पंक्ति वाली फ़ाइल तालिका या विवरण नहीं होती)`,
  }),
  cell: (where: string, max: number): Text => ({
    en: `${where}: a cell is longer than the limit of ${kb(max)}: the file is not read`,
    hi: `${where}: एक खाना ${kb(max)} की सीमा से लंबा है: फ़ाइल पढ़ी नहीं गई`,
  }),
  xlsxSize: (declared: number, max: number): Text => ({
    en: `the spreadsheet would unpack to ${kb(declared)}, over the limit of ${kb(max)}: it was not unpacked (a sheet of 1,00,000 rows unpacks to a few MB)`,
    hi: `स्प्रेडशीट खुलकर ${kb(declared)} की होती, ${kb(max)} की सीमा से अधिक: इसे खोला नहीं गया (1,00,000 पंक्तियों की शीट खुलकर कुछ MB की होती है)`,
  }),
  xlsxEntries: (entries: number, max: number): Text => ({
    en: `the spreadsheet holds ${num(entries)} files inside its zip, over the limit of ${num(max)}: it was not unpacked`,
    hi: `स्प्रेडशीट के zip में ${num(entries)} फ़ाइलें हैं, ${num(max)} की सीमा से अधिक: इसे खोला नहीं गया`,
  }),
  xlsxBroken: (why: string): Text => ({
    en: `the spreadsheet is not a readable XLSX file (${why}): save it again from Excel as .xlsx`,
    hi: `स्प्रेडशीट पढ़ने योग्य XLSX फ़ाइल नहीं है (${why}): इसे Excel से .xlsx के रूप में फिर से सहेजें`,
  }),
  rows: (max: number): Text => ({
    en: `More than ${num(max)} rows.`,
    hi: `${num(max)} से अधिक पंक्तियाँ।`,
  }),
  statementLines: (where: string, max: number): Text => ({
    en: `${where}: more than ${num(max)} transaction lines, over the limit for one statement: the file is not read`,
    hi: `${where}: ${num(max)} से अधिक लेन-देन प्रविष्टियाँ, एक विवरण की सीमा से अधिक: फ़ाइल पढ़ी नहीं गई`,
  }),
};

/**
 * The longest line of a text file, found with indexOf on the bytes (UTF-16 included: its
 * newline holds the byte 0x0A too), before anything is decoded. Refuses the file at the first
 * line over the limit, naming it.
 */
export function checkLineLengths(data: Uint8Array, max: number): void {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let start = 0;
  let lineNo = 1;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    // A file whose lines end in a lone CR (old Mac style) is read by the parsers too: its lines are the CR-separated ones.
    if (end - start > max && !crLinesWithin(buf, start, end, max)) throw new LimitError('line', limitText.line(lineNo, end - start, max));
    start = end + 1;
    lineNo++;
  }
}

/** Whether every CR-separated piece of buf[start, end) is at most max bytes long. */
function crLinesWithin(buf: Buffer, start: number, end: number, max: number): boolean {
  let from = start;
  while (from < end) {
    let cr = buf.indexOf(13, from);
    if (cr < 0 || cr > end) cr = end;
    if (cr - from > max) return false;
    from = cr + 1;
  }
  return true;
}
