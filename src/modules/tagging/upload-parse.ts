import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import type { Text } from '../../platform/errors.ts';
import { checkLineLengths, LimitError, limitText, parseLimits } from '../../platform/parse-limits.ts';
import { ParsePoolError, runParse } from '../../platform/parse-pool.ts';
import { readCentralDirectory, rebuildForStreaming, verifyInflatedSizes } from '../../platform/zip-guard.ts';

/**
 * Reads a mass-tagging upload as it arrives from office PCs: CSV or XLSX; UTF-8 with or
 * without BOM, UTF-16 ("Unicode text", tab-separated) or Windows-1252; comma, semicolon or tab;
 * English or Hindi headers; blank rows skipped. Rows come out one at a time with their line
 * (or sheet row) number, as raw text: nothing is corrected here.
 *
 * The file is read in a parse worker (parse-pool.ts), within the limits of parse-limits.ts: a
 * line, a cell, the rows, and for XLSX the size and entries its zip declares, checked before
 * anything is unpacked (zip-guard.ts). A file over a limit, or over the time or memory budget,
 * is refused as a whole with the reason in English and Hindi.
 */

export interface UploadRow {
  rowNo: number;
  consumer: string | null;
  discom: string | null;
  office: string | null;
  proof: string | null;
}

export interface UploadInfo {
  format: 'csv' | 'xlsx';
  encoding: string;
  delimiter: string | null;
  /** A rough count of data rows, for progress (CSV only). */
  estimatedRows: number | null;
}

export class UploadError extends Error {
  constructor(
    readonly problem: 'empty' | 'no_consumer_column' | 'unreadable' | 'limit',
    message: string,
    /** Both languages, for a refusal by a limit or budget (the message then holds both). */
    readonly text?: Text,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

const bilingual = (t: Text) => `${t.en} — ${t.hi}`;

const norm = (h: string) => h.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}\p{M}]/gu, '');

const ALIASES: Record<'consumer' | 'discom' | 'office' | 'proof', string[]> = {
  consumer: ['consumerno', 'consumernumber', 'consumer', 'cano', 'canumber', 'contractaccount', 'accountno', 'accountnumber', 'उपभोक्तासंख्या', 'उपभोक्ताक्रमांक', 'उपभोक्तानंबर', 'उपभोक्ता'],
  discom: ['discom', 'discomcode', 'डिस्कॉम', 'डिस्कॉमकोड'],
  office: ['office', 'officecode', 'कार्यालय', 'कार्यालयकोड'],
  proof: ['proof', 'billno', 'billnumber', 'billamount', 'amount', 'प्रमाण', 'बिलसंख्या', 'बिलनंबर', 'राशि'],
};

export const CONSUMER_HEADERS = 'consumer_no, consumer number, CA number, उपभोक्ता संख्या';

function mapHeader(cells: string[]): Record<keyof typeof ALIASES, number> {
  const idx = { consumer: -1, discom: -1, office: -1, proof: -1 };
  cells.forEach((c, i) => {
    const n = norm(c);
    for (const key of Object.keys(ALIASES) as (keyof typeof ALIASES)[]) {
      if (idx[key] === -1 && ALIASES[key].includes(n)) idx[key] = i;
    }
  });
  if (idx.consumer === -1) {
    throw new UploadError('no_consumer_column', `The first row must name the columns, with one for the consumer number (${CONSUMER_HEADERS}). Found: ${cells.map((c) => `"${c}"`).join(', ') || 'nothing'}.`);
  }
  return idx;
}

function detectEncoding(buf: Buffer): { encoding: string; offset: number } {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return { encoding: 'utf-8', offset: 3 };
  if (buf[0] === 0xff && buf[1] === 0xfe) return { encoding: 'utf-16le', offset: 2 };
  if (buf[0] === 0xfe && buf[1] === 0xff) return { encoding: 'utf-16be', offset: 2 };
  // UTF-16 without a BOM: ASCII text with a zero byte beside every character.
  const sample = buf.subarray(0, Math.min(buf.length, 400));
  let zeroOdd = 0;
  for (let i = 1; i < sample.length; i += 2) if (sample[i] === 0) zeroOdd++;
  if (sample.length > 8 && zeroOdd > sample.length / 4) return { encoding: 'utf-16le', offset: 0 };
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return { encoding: 'utf-8', offset: 0 };
  } catch {
    return { encoding: 'windows-1252', offset: 0 };
  }
}

function* decodeChunks(buf: Buffer, encoding: string, offset: number): Generator<string> {
  const decoder = new TextDecoder(encoding);
  const CHUNK = 64 * 1024;
  for (let i = offset; i < buf.length; i += CHUNK) yield decoder.decode(buf.subarray(i, Math.min(buf.length, i + CHUNK)), { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

const isXlsx = (buf: Buffer) => buf.length > 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;

const cell = (v: string | undefined) => {
  const t = v?.trim();
  return t ? t : null;
};

/** Rows the worker reads at most: bulk.ts passes its MAX_ROWS. */
export const DEFAULT_MAX_ROWS = 100_000;

type ReadResult =
  | { ok: true; info: UploadInfo; rows: UploadRow[] }
  | { ok: false; problem: UploadError['problem']; message: string; text?: Text };

/**
 * The upload's rows, read in a parse worker; the same rows and errors as reading here, with
 * the file refused (UploadError 'limit') when it is over a limit or its time or memory budget.
 */
export async function openUpload(buf: Buffer, opts: { maxRows?: number } = {}): Promise<{ info: UploadInfo; rows: AsyncGenerator<UploadRow> }> {
  let r: ReadResult;
  try {
    r = await runParse<ReadResult>(new URL(import.meta.url), 'readUpload', [buf, opts.maxRows ?? DEFAULT_MAX_ROWS]);
  } catch (e) {
    if (e instanceof ParsePoolError) throw new UploadError('limit', bilingual(e.text), e.text);
    throw e;
  }
  if (!r.ok) throw new UploadError(r.problem, r.message, r.text);
  const rows = r.rows;
  // The header and blank-row errors come from reading, as they did when rows were read lazily.
  return {
    info: r.info,
    rows: (async function* () {
      yield* rows;
    })(),
  };
}

/** Runs in a parse worker (see openUpload): every row, or the reason the file is refused. */
export async function readUpload(buf: Buffer, maxRows: number): Promise<ReadResult> {
  try {
    const { info, rows } = await openUploadHere(buf, maxRows);
    const out: UploadRow[] = [];
    for await (const r of rows) out.push(r);
    return { ok: true, info, rows: out };
  } catch (e) {
    if (e instanceof UploadError) return { ok: false, problem: e.problem, message: e.message, ...(e.text ? { text: e.text } : {}) };
    throw e;
  }
}

const asUploadError = (e: unknown) => (e instanceof LimitError ? new UploadError('limit', bilingual(e.text), e.text) : e);

/**
 * Reads the upload in this thread (the worker's side of openUpload; and for tests): a file over
 * a limit is an UploadError 'limit', at opening or while its rows are read.
 */
export async function openUploadHere(buf: Buffer, maxRows = DEFAULT_MAX_ROWS): Promise<{ info: UploadInfo; rows: AsyncGenerator<UploadRow> }> {
  let u: Awaited<ReturnType<typeof openRaw>>;
  try {
    u = await openRaw(buf, maxRows);
  } catch (e) {
    throw asUploadError(e);
  }
  const rows = u.rows;
  return {
    info: u.info,
    rows: (async function* () {
      try {
        yield* rows;
      } catch (e) {
        throw asUploadError(e);
      }
    })(),
  };
}

async function openRaw(buf: Buffer, maxRows: number): Promise<{ info: UploadInfo; rows: AsyncGenerator<UploadRow> }> {
  if (buf.length === 0) throw new UploadError('empty', 'The file is empty.');
  const limits = parseLimits();
  if (isXlsx(buf)) return openXlsx(buf, maxRows);
  checkLineLengths(buf, limits.maxLineBytes);
  const { encoding, offset } = detectEncoding(buf);
  const head = new TextDecoder(encoding).decode(buf.subarray(offset, offset + 4096));
  const firstLine = head.split(/\r?\n/)[0] ?? '';
  const counts = { '\t': firstLine.split('\t').length, ',': firstLine.split(',').length, ';': firstLine.split(';').length };
  const delimiter = (Object.entries(counts).sort((a, b) => b[1] - a[1])[0]![0]) as '\t' | ',' | ';';
  const text = [...decodeChunks(buf, encoding, offset)];
  const estimatedRows = text.reduce((n, t) => n + (t.match(/\n/g)?.length ?? 0), 0);
  const parser = Readable.from(text).pipe(
    parse({ delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, info: true, bom: true, max_record_size: limits.maxCellBytes }),
  );
  async function* rows(): AsyncGenerator<UploadRow> {
    let idx: ReturnType<typeof mapHeader> | null = null;
    let n = 0;
    let line = 0;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        line = info.lines;
        if (record.every((c) => !c.trim())) continue; // blank row
        if (!idx) {
          idx = mapHeader(record);
          continue;
        }
        if (++n > maxRows) throw new LimitError('rows', limitText.rows(maxRows));
        const at = (i: number) => (i >= 0 ? cell(record[i]) : null);
        yield { rowNo: info.lines, consumer: at(idx.consumer), discom: at(idx.discom), office: at(idx.office), proof: at(idx.proof) };
      }
    } catch (e) {
      if (e instanceof CsvError && e.code === 'CSV_MAX_RECORD_SIZE') throw new LimitError('cell', limitText.cell(`row ${line + 1}`, limits.maxCellBytes));
      throw e;
    } finally {
      parser.destroy();
    }
    if (!idx) throw new UploadError('empty', 'The file has no rows.');
  }
  return { info: { format: 'csv', encoding, delimiter, estimatedRows: Math.max(0, estimatedRows - 1) }, rows: rows() };
}

function xlsxText(v: ExcelJS.CellValue): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if ('richText' in v) return v.richText.map((r) => r.text).join('');
  if ('result' in v) return xlsxText(v.result);
  if ('text' in v) return String(v.text);
  return null;
}

async function openXlsx(buf: Buffer, maxRows: number): Promise<{ info: UploadInfo; rows: AsyncGenerator<UploadRow> }> {
  const limits = parseLimits();
  // The zip's own directory first: a bomb is refused by what it declares, before any inflating.
  const entries = readCentralDirectory(buf, limits);
  await verifyInflatedSizes(buf, entries);
  const input = Readable.from(rebuildForStreaming(buf, entries));
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, { sharedStrings: 'cache', worksheets: 'emit', entries: 'emit', hyperlinks: 'ignore', styles: 'ignore' });
  async function* rows(): AsyncGenerator<UploadRow> {
    let idx: ReturnType<typeof mapHeader> | null = null;
    let n = 0;
    try {
      for await (const sheet of reader) {
        for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
          const values = (row.values as ExcelJS.CellValue[]).slice(1).map(xlsxText);
          for (const v of values) {
            if (v && v.length * 3 > limits.maxCellBytes && Buffer.byteLength(v) > limits.maxCellBytes) throw new LimitError('cell', limitText.cell(`row ${row.number}`, limits.maxCellBytes));
          }
          if (values.every((v) => !v?.trim())) continue;
          if (!idx) {
            idx = mapHeader(values.map((v) => v ?? ''));
            continue;
          }
          if (++n > maxRows) throw new LimitError('rows', limitText.rows(maxRows));
          const at = (i: number) => (i >= 0 ? cell(values[i] ?? undefined) : null);
          yield { rowNo: row.number, consumer: at(idx.consumer), discom: at(idx.discom), office: at(idx.office), proof: at(idx.proof) };
        }
        break; // the first sheet only
      }
    } catch (e) {
      if (e instanceof UploadError || e instanceof LimitError) throw e;
      throw new UploadError('unreadable', `The spreadsheet could not be read: ${(e as Error).message}`);
    } finally {
      input.destroy();
    }
    if (!idx) throw new UploadError('empty', 'The spreadsheet has no rows.');
  }
  return { info: { format: 'xlsx', encoding: 'xlsx', delimiter: null, estimatedRows: null }, rows: rows() };
}
