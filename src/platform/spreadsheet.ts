import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { csvLine } from './csv.ts';
import { paiseToRupeeString } from './money.ts';

/**
 * Tables for download, as CSV or XLSX, streamed page by page so 1,00,000 rows never sit in
 * memory at once. Every text cell that a spreadsheet would run as a formula (= + - @, tab, CR)
 * is neutralised with a leading apostrophe. Money is given in paise and written as rupees:
 * '1234.50' in CSV, a number with two decimals in XLSX (so totals can be summed there).
 */

export interface Money {
  paise: bigint;
}
export type Cell = string | number | Money | null;

export const money = (paise: bigint): Money => ({ paise });

export function neutralise(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

const isMoney = (c: Cell): c is Money => typeof c === 'object' && c !== null;

function csvCell(c: Cell): string | number | null {
  if (isMoney(c)) return paiseToRupeeString(c.paise);
  return typeof c === 'string' ? neutralise(c) : c;
}

function xlsxCell(c: Cell): string | number | null {
  if (isMoney(c)) return Number(c.paise) / 100; // presentation only; exact to the paisa below 2^53
  return typeof c === 'string' ? neutralise(c) : c;
}

export interface SheetSpec {
  sheet: string;
  header: string[];
  /** Rows, in pages; a page is written before the next is read. */
  pages: AsyncIterable<Cell[][]>;
  /** Lines written after the rows (totals), in the same columns. */
  footer?: () => Cell[][];
}

export function sheetStream(spec: SheetSpec, format: 'csv' | 'xlsx'): Readable {
  if (format === 'csv') {
    return Readable.from(
      (async function* () {
        yield `\uFEFF${csvLine(spec.header)}`;
        for await (const page of spec.pages) yield page.map((r) => csvLine(r.map(csvCell))).join('');
        for (const r of spec.footer?.() ?? []) yield csvLine(r.map(csvCell));
      })(),
    );
  }
  const out = new PassThrough();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
  const ws = wb.addWorksheet(spec.sheet);
  ws.addRow(spec.header).commit();
  const add = (r: Cell[]) => {
    const row = ws.addRow(r.map(xlsxCell));
    r.forEach((c, i) => {
      if (isMoney(c)) row.getCell(i + 1).numFmt = '#,##0.00';
    });
    row.commit();
  };
  void (async () => {
    try {
      for await (const page of spec.pages) for (const r of page) add(r);
      for (const r of spec.footer?.() ?? []) add(r);
      ws.commit();
      await wb.commit();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return out;
}

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
} as const;
