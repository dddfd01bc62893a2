import { CsvError, parse } from 'csv-parse/sync';
import { limitText, parseLimits } from '../../../platform/parse-limits.ts';
import { detach, formatPaise, lineDate, paiseFromParts, quote } from './common.ts';
import { StatementError, type CsvLayout, type StatementDraft, type StatementLine } from './types.ts';
import { extractPayerName, extractUtr } from './utr.ts';

/**
 * CSV statements as Indian banks export them, mapped by a layout:
 *
 * - the header row is the first row holding every configured column (rows above it, such as the
 *   account holder and period that banks print first, are skipped); the delimiter, unless the
 *   layout names one, is whichever of `,` `;` tab finds that header;
 * - a row is a transaction when it has an amount; a row with only a description is the
 *   continuation of the row above (banks wrap long descriptions); other rows without an amount
 *   (blank rows, "Opening balance", footers) are skipped. A transaction row dropped by damage
 *   still shows, because the running balance breaks at the next row;
 * - records are read by csv-parse (RFC 4180: quoted cells may hold delimiters, doubled quotes and
 *   line breaks; a stray quote inside an unquoted cell is kept as text). A quote that is never
 *   closed refuses the file, naming the row it opens in: read on, it would swallow the rest of
 *   the file into one cell, and the shortened statement could still balance;
 * - amounts take Indian grouping (`1,23,456.78`) or none, two decimals; more are accepted when
 *   they are zeros (`1000.000`), refused with the figure when not; a balance may carry
 *   `Cr`/`Dr` or a minus sign; a figure Excel turned into `1.02345E+11` is reported, not guessed;
 * - dates: any of DD/MM/YYYY, DD-MM-YYYY, YYYY-MM-DD, DD-MMM-YYYY, DD MMM YYYY (all day-first or
 *   ISO, so none can be read as another). A day past its month's end (`30/02/2026`) dates the
 *   line on the month's last day and keeps the date as sent, for review;
 * - the running balance proves the file: each row's balance must be the previous one plus the
 *   credit or minus the debit. Files listed newest first are recognised by their balances and
 *   put in date order. The opening balance is the first balance less its own row;
 * - a cell made safe against formula injection (`'=…`) is read without the quote.
 *
 * Every bad row is reported in one StatementError, not just the first.
 */

export const INDIAN_BANK_CSV: Omit<CsvLayout, 'account'> = Object.freeze({
  currency: 'INR',
  dateFormat: 'DD/MM/YYYY',
  columns: Object.freeze({
    bookingDate: 'Txn Date',
    valueDate: 'Value Date',
    narrative: 'Description',
    ref: 'Ref No./Cheque No.',
    debit: 'Debit',
    credit: 'Credit',
    balance: 'Balance',
  }),
});

interface Rec {
  cells: string[];
  line: number;
}

/**
 * RFC 4180 records by csv-parse, each with the line of the file it starts on. A quote that is
 * never closed is a StatementError naming that line.
 */
export function readRecords(text: string, delim: string, limit = Infinity): Rec[] {
  let lastLine = 0;
  const lineOf = (ctx: { lines: number }) => {
    const start = lastLine + 1;
    lastLine = ctx.lines;
    return start;
  };
  const starts: number[] = [];
  try {
    const rows = parse(text, {
      delimiter: delim,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      max_record_size: parseLimits().maxCellBytes,
      ...(Number.isFinite(limit) ? { to: limit } : {}),
      on_record: (cells: string[], ctx) => {
        starts.push(lineOf(ctx));
        return cells;
      },
    });
    return rows.map((cells, i) => ({ cells, line: starts[i]! }));
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
      const at = lastLine + 1;
      const shown = text.split('\n', at)[at - 1] ?? '';
      throw new StatementError(
        `CSV statement: row ${at}: a quoted cell opened in this row is never closed (no closing quote mark), so the rest of the file would be read as one cell; nothing was imported (the row reads ${quote(shown)})`,
      );
    }
    if (e.code === 'CSV_MAX_RECORD_SIZE') throw new StatementError(limitText.cell(`CSV statement: row ${lastLine + 1}`, parseLimits().maxCellBytes).en);
    throw new StatementError(`CSV statement: row ${lastLine + 1}: ${e.message}`);
  }
}

const norm = (s: string) => s.normalize('NFC').replace(/^\uFEFF/, '').trim().replace(/\s+/g, ' ').toLowerCase();

type ColumnKey = keyof CsvLayout['columns'];

function configuredColumns(layout: CsvLayout): [ColumnKey, string][] {
  const c = layout.columns;
  const byDebitCredit = !!(c.debit && c.credit);
  if (!byDebitCredit && !c.amount) throw new StatementError('CSV layout must name debit and credit columns, or an amount column (with a Dr/Cr column, or signed)');
  const out: [ColumnKey, string][] = [];
  for (const [k, v] of Object.entries(c) as [ColumnKey, string | undefined][]) {
    if (!v) continue;
    if (byDebitCredit && (k === 'amount' || k === 'drCr')) continue;
    out.push([k, v]);
  }
  return out;
}

function findHeader(recs: Rec[], wanted: [ColumnKey, string][]): { index: number; cols: Map<ColumnKey, number> } | null {
  for (let r = 0; r < recs.length; r++) {
    const cells = recs[r]!.cells.map(norm);
    const cols = new Map<ColumnKey, number>();
    for (const [k, name] of wanted) {
      const at = cells.indexOf(norm(name));
      if (at >= 0) cols.set(k, at);
    }
    if (cols.size === wanted.length) return { index: r, cols };
  }
  return null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A CSV date: the calendar day, or the last day of the month for a day past its end (see lineDate). */
export function readCsvDate(raw: string): { date: string; impossible: boolean } | null {
  const s = raw.trim().replace(/\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?$/i, '');
  let m = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(s);
  if (m) return lineDate(Number(m[4]), Number(m[3]), Number(m[1]));
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) return lineDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    return month > 0 ? lineDate(Number(m[3]), month, Number(m[1])) : null;
  }
  return null;
}

/** A CSV date that is a calendar day, else null. */
export function parseCsvDate(raw: string): string | null {
  const d = readCsvDate(raw);
  return d && !d.impossible ? d.date : null;
}

const EXCEL_SCIENTIFIC = /^-?\d+(?:\.\d+)?E[+-]?\d+$/i;

/** A signed amount in minor units, or a reason. */
export function parseCsvNumber(raw: string): bigint | string {
  let s = raw.trim().replace(/^(?:₹|INR|Rs\.?)\s*/i, '');
  if (EXCEL_SCIENTIFIC.test(s)) return `${quote(raw)} was turned into scientific notation by Excel; export the file again with the column as text`;
  let negative = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    s = s.slice(1, -1).trim();
  } else if (s.startsWith('-')) {
    negative = true;
    s = s.slice(1).trim();
  }
  const m = /^(\d{1,3}(?:,\d{2,3})+|\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return `${quote(raw)} is not an amount`;
  const v = paiseFromParts(m[1]!.replace(/,/g, ''), m[2] ?? '');
  if (typeof v === 'string') return `${quote(raw)}: ${v}`;
  return negative ? -v : v;
}

function parseBalanceCell(raw: string): bigint | string {
  const m = /^(.*?)\s*(CR|DR)\.?$/i.exec(raw.trim());
  if (!m) return parseCsvNumber(raw);
  const v = parseCsvNumber(m[1]!);
  if (typeof v === 'string' || v < 0n) return `${quote(raw)} is not a balance`;
  return m[2]!.toUpperCase() === 'DR' ? -v : v;
}

/** A cell as written, without the quote that guards against formula injection or Excel's ="…". */
function unguard(raw: string): string {
  let s = raw.trim();
  const excelText = /^="(.*)"$/.exec(s);
  if (excelText) s = excelText[1]!;
  if (s.length > 1 && s[0] === "'" && '=+-@'.includes(s[1]!)) s = s.slice(1);
  return s;
}

const isRrn = (s: string) => /^\d{12}$/.test(s);

/** What the parser makes of a row's texts: also used by the writer to check that it reads back. */
export function readCsvTexts(narrative: string, ref: string | null, utrCell: string | null, payerCell: string | null, direction: 'credit' | 'debit') {
  let utr: string | null = utrCell ? utrCell.toUpperCase() : null;
  utr ??= extractUtr(ref ? `${narrative} ${ref}` : narrative);
  if (!utr && ref && isRrn(ref) && /\b(?:IMPS|UPI)\b/i.test(narrative)) utr = ref;
  const payerName = payerCell ?? (direction === 'credit' ? extractPayerName(narrative, utr) : null);
  return { utr, payerName };
}

interface Row {
  line: number;
  valueDate: string;
  dateAsSent: string | undefined;
  bookingDate: string | null;
  direction: 'credit' | 'debit';
  amount: bigint;
  balance: bigint;
  narrative: string;
  ref: string | null;
  utrCell: string | null;
  payerCell: string | null;
}

export function parseCsvStatement(text: string, layout: CsvLayout): StatementDraft {
  if (!layout.account) throw new StatementError('CSV layout has no account');
  const wanted = configuredColumns(layout);
  const names = wanted.map(([, v]) => quote(v)).join(', ');
  let delim = layout.delimiter;
  let header: ReturnType<typeof findHeader> = null;
  for (const d of delim ? [delim] : [',', ';', '\t']) {
    header = findHeader(readRecords(text, d, 100), wanted);
    if (header) {
      delim = d;
      break;
    }
  }
  if (!header || !delim) {
    const first = text.split(/\r?\n/, 1)[0] ?? '';
    throw new StatementError(`CSV statement: no header row with the columns ${names} in the first 100 rows (the first row reads ${quote(first)})`);
  }
  // Read no further than one row past the limit: enough to know the file is over it.
  const maxLines = parseLimits().maxStatementLines;
  const recs = readRecords(text, delim, header.index + 2 + maxLines);
  if (recs.length > header.index + 1 + maxLines) throw new StatementError(limitText.statementLines('CSV statement', maxLines).en);
  const cols = header.cols;
  const c = layout.columns;
  const byDebitCredit = !!(c.debit && c.credit);
  const get = (r: Rec, k: ColumnKey): string => {
    const at = cols.get(k);
    return at === undefined ? '' : unguard(r.cells[at] ?? '');
  };
  const colName = (k: ColumnKey) => quote(c[k] ?? k);

  const rows: Row[] = [];
  const errors: string[] = [];
  let lastTxn: Row | null = null;
  for (const r of recs.slice(header.index + 1)) {
    if (r.cells.every((x) => x.trim() === '')) {
      lastTxn = null;
      continue;
    }
    const amountCells = byDebitCredit ? [get(r, 'debit'), get(r, 'credit')] : [get(r, 'amount')];
    if (amountCells.every((x) => x === '')) {
      const textual = new Set([cols.get('narrative'), cols.get('ref'), cols.get('utr'), cols.get('payerName')]);
      const onlyText = r.cells.every((x, i) => textual.has(i) || x.trim() === '');
      const more = get(r, 'narrative');
      if (onlyText && more && lastTxn) lastTxn.narrative = `${lastTxn.narrative} ${more}`.trim();
      else lastTxn = null;
      continue;
    }
    const problems: string[] = [];
    const bad = (msg: string) => problems.push(msg);
    const vd = get(r, 'valueDate');
    const value = readCsvDate(vd);
    if (!value) bad(`${colName('valueDate')} ${quote(vd)} is not a date (${layout.dateFormat})`);
    const asSent: string[] = value?.impossible ? [vd.trim()] : [];
    let bookingDate: string | null = null;
    if (cols.has('bookingDate')) {
      const bd = get(r, 'bookingDate');
      const booking = bd ? readCsvDate(bd) : null;
      bookingDate = booking?.date ?? null;
      if (booking?.impossible && bd.trim() !== vd.trim()) asSent.push(bd.trim());
      if (bd && !bookingDate) bad(`${colName('bookingDate')} ${quote(bd)} is not a date (${layout.dateFormat})`);
    }
    let direction: 'credit' | 'debit' = 'credit';
    let amount = 0n;
    if (byDebitCredit) {
      const [dr, cr] = amountCells as [string, string];
      const d = dr ? parseCsvNumber(dr) : 0n;
      const k = cr ? parseCsvNumber(cr) : 0n;
      if (typeof d === 'string') bad(`${colName('debit')} ${d}`);
      if (typeof k === 'string') bad(`${colName('credit')} ${k}`);
      else if (k < 0n) bad(`${colName('credit')} ${quote(cr)} is negative`);
      if (typeof d === 'bigint' && typeof k === 'bigint') {
        if (d !== 0n && k !== 0n) bad(`both ${colName('debit')} and ${colName('credit')} hold an amount`);
        direction = k !== 0n || (d === 0n && cr !== '') ? 'credit' : 'debit';
        amount = direction === 'credit' ? k : d < 0n ? -d : d;
      }
    } else {
      const raw = amountCells[0]!;
      const v = parseCsvNumber(raw);
      if (typeof v === 'string') bad(`${colName('amount')} ${v}`);
      else if (cols.has('drCr')) {
        const mark = get(r, 'drCr').toUpperCase().replace(/[.\s]/g, '');
        if (['C', 'CR', 'CREDIT', 'DEPOSIT'].includes(mark)) direction = 'credit';
        else if (['D', 'DR', 'DEBIT', 'WITHDRAWAL'].includes(mark)) direction = 'debit';
        else bad(`${colName('drCr')} ${quote(mark)} is neither Dr nor Cr`);
        if (v < 0n) bad(`${colName('amount')} ${quote(raw)} is negative beside a Dr/Cr column`);
        amount = v < 0n ? -v : v;
      } else {
        direction = v < 0n ? 'debit' : 'credit';
        amount = v < 0n ? -v : v;
      }
    }
    const balRaw = get(r, 'balance');
    const balance = balRaw ? parseBalanceCell(balRaw) : `is empty`;
    if (typeof balance === 'string') bad(`${colName('balance')} ${balance}`);
    const ref = get(r, 'ref') || null;
    const utrCell = get(r, 'utr') || null;
    for (const [k, v] of [['ref', ref], ['utr', utrCell]] as const) {
      if (v && EXCEL_SCIENTIFIC.test(v)) bad(`${colName(k)} ${quote(v)} was turned into scientific notation by Excel; export the file again with the column as text`);
    }
    if (utrCell && !/^[A-Za-z0-9]{6,30}$/.test(utrCell)) bad(`${colName('utr')} ${quote(utrCell)} is not a UTR`);
    lastTxn = null;
    if (problems.length > 0) {
      errors.push(`row ${r.line}: ${problems.join(', ')}`);
      continue;
    }
    lastTxn = {
      line: r.line,
      valueDate: value!.date,
      dateAsSent: asSent.length ? asSent.join(' / ') : undefined,
      bookingDate,
      direction,
      amount,
      balance: balance as bigint,
      narrative: get(r, 'narrative'),
      ref,
      utrCell,
      payerCell: get(r, 'payerName') || null,
    };
    rows.push(lastTxn);
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, 50).join('; ');
    throw new StatementError(`CSV statement: ${errors.length} bad row${errors.length > 1 ? 's' : ''}: ${shown}${errors.length > 50 ? `; and ${errors.length - 50} more` : ''}`);
  }
  if (rows.length === 0) throw new StatementError(`CSV statement: no transaction rows after the header (row ${recs[header.index]!.line}); without one there is no balance to prove`);

  const ordered = runningOrder(rows);
  const currency = layout.currency ?? 'INR';
  const lines: StatementLine[] = ordered.map((r, i) => {
    const { utr, payerName } = readCsvTexts(r.narrative, r.ref, r.utrCell, r.payerCell, r.direction);
    return {
      lineNo: i + 1,
      valueDate: r.valueDate,
      bookingDate: r.bookingDate,
      direction: r.direction,
      amountPaise: r.amount,
      currency,
      bankRef: detach(r.ref),
      customerRef: null,
      utr: detach(utr),
      narrative: detach(r.narrative),
      payerName: detach(payerName),
      payerAccount: null,
      ...(r.dateAsSent ? { dateAsSent: r.dateAsSent } : {}),
    };
  });
  const first = ordered[0]!;
  const last = ordered[ordered.length - 1]!;
  const day = (r: Row) => r.bookingDate ?? r.valueDate;
  return {
    format: 'csv',
    account: layout.account,
    statementRef: `${day(first)}..${day(last)}`,
    currency,
    openingPaise: first.balance - signed(first),
    openingDate: null,
    closingPaise: last.balance,
    closingDate: day(last),
    closingCurrency: currency,
    lines,
    where: `CSV statement (account ${layout.account}, rows ${first.line < last.line ? first.line : last.line}–${first.line < last.line ? last.line : first.line})`,
  };
}

const signed = (r: Row) => (r.direction === 'credit' ? r.amount : -r.amount);

/** First index whose balance does not follow from the one before, reading in the given order. */
function firstBreak(rows: Row[]): number {
  for (let i = 1; i < rows.length; i++) if (rows[i - 1]!.balance + signed(rows[i]!) !== rows[i]!.balance) return i;
  return -1;
}

function runningOrder(rows: Row[]): Row[] {
  const asc = firstBreak(rows);
  if (asc < 0) return rows;
  const reversed = [...rows].reverse();
  const desc = firstBreak(reversed);
  if (desc < 0) return reversed;
  const [order, at, how] = desc > asc ? [reversed, desc, ' (reading the file newest first)'] : [rows, asc, ''];
  const prev = order[at - 1]!;
  const row = order[at]!;
  const expected = prev.balance + signed(row);
  throw new StatementError(
    `CSV statement: the running balance does not add up at row ${row.line}${how}: previous balance ${formatPaise(prev.balance)} (row ${prev.line}) ${row.direction === 'credit' ? '+ credit' : '− debit'} ${formatPaise(row.amount)} = ${formatPaise(expected)}, but the row's balance is ${formatPaise(row.balance)} (difference ${formatPaise(row.balance - expected)})`,
  );
}
