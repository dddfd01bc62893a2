import { checkLineLengths, LimitError, parseLimits } from '../../../platform/parse-limits.ts';
import { ParsePoolError, runParse } from '../../../platform/parse-pool.ts';
import { parseCamt053 } from './camt053.ts';
import { decodeText, formatPaise } from './common.ts';
import { parseCsvStatement } from './csv.ts';
import { parseMt940 } from './mt940.ts';
import { StatementError, type CsvLayout, type ParsedStatement, type StatementDraft, type StatementFormat } from './types.ts';

/**
 * Bank statements in, statement lines out: MT940, camt.053 (.02/.04/.08) and CSV by layout.
 * Pure code, no database.
 *
 * Every statement proves itself before it is returned: opening + credits − debits = closing, in
 * the statement currency (that of the opening balance). Lines in another currency are parsed and
 * returned, but are not in that sum: camt allows an entry in a currency other than the account's,
 * and such an entry does not move the balance of the account as stated. A statement whose
 * closing balance is stated in another currency than its opening cannot prove itself and is
 * refused. The camt053_001_04.xml sample is such a file: opening OPBD EUR 18.15 credit, one EUR
 * 8.85 credit entry, closing CLBD SEK 27.00 *debit*. The figures 18.15 + 8.85 = 27.00 agree, but
 * only if both the closing currency and its debit mark are ignored, which would let through a
 * statement that really is wrong, so it is refused with the reason (the sample tests how a parser
 * reads each balance's currency; it is not a consistent statement).
 *
 * Limits (parse-limits.ts): a line of an MT940 or CSV file (MAX_LINE_BYTES, checked on the bytes
 * before anything is decoded), a field or cell (MAX_CELL_BYTES), the lines of one statement
 * (MAX_STATEMENT_LINES). parseStatementsOffThread runs the parsing in a parse worker
 * (parse-pool.ts), within a time budget and a heap limit; each refusal is a StatementError whose
 * message hindiReason translates.
 */

export type { CsvLayout, ParsedStatement, StatementFormat, StatementLine } from './types.ts';
export { StatementError } from './types.ts';
export { INDIAN_BANK_CSV } from './csv.ts';
export { extractPayerName, extractUtr } from './utr.ts';
export { hindiReason } from './hindi.ts';
export { writeCamt053, writeCsv, writeMt940 } from './writers.ts';

/** camt: XML with BkToCstmrStmt; MT940: :20: and :60F:/:60M: tags. A CSV cannot be told by its bytes: null. */
export function detectFormat(data: Buffer): StatementFormat | null {
  if (data.length === 0) return null;
  const utf16 = data.length >= 2 && ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff));
  const probe: Buffer | string = utf16 ? decodeText(data) : data;
  const has = (s: string) => (typeof probe === 'string' ? probe.includes(s) : probe.includes(s, 0, 'latin1'));
  let i = 0;
  if (!utf16 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) i = 3;
  const firstChar = () => {
    if (typeof probe === 'string') return probe.trimStart()[0];
    while (i < probe.length && (probe[i] === 0x20 || probe[i] === 0x09 || probe[i] === 0x0a || probe[i] === 0x0d)) i++;
    return i < probe.length ? String.fromCharCode(probe[i]!) : undefined;
  };
  if (firstChar() === '<') return has('BkToCstmrStmt') ? 'camt053' : null;
  if (has(':20:') && (has(':60F:') || has(':60M:'))) return 'mt940';
  // An MT942 interim report: read as MT940, whose parser refuses it by name.
  if (has(':20:') && (has(':34F:') || has(':13D:') || has('{2:O942') || has('{2:I942'))) return 'mt940';
  return null;
}

/**
 * Every statement in the file, each proved. The format is detected when not given (a CSV needs
 * `csvLayout`). Throws StatementError for anything that is not a valid statement.
 */
export function parseStatements(data: Buffer, opts: { format?: StatementFormat; csvLayout?: CsvLayout } = {}): ParsedStatement[] {
  return readStatements(data, opts).map((r) => {
    if (!r.proof.ok) throw new StatementError(r.proof.reason);
    return r.statement;
  });
}

export type Proof = { ok: true } | { ok: false; reason: string };

/**
 * Every statement in the file, each with the check of its balance, without refusing those that
 * do not add up (a file that is not a statement at all still throws). For showing what a file
 * holds and why it cannot be imported; importing uses parseStatements.
 */
export function readStatements(data: Buffer, opts: { format?: StatementFormat; csvLayout?: CsvLayout } = {}): { statement: ParsedStatement; proof: Proof }[] {
  if (data.length === 0) throw new StatementError('the statement file is empty');
  const format = opts.format ?? detectFormat(data) ?? (opts.csvLayout ? 'csv' : null);
  if (!format) throw new StatementError(unrecognised(data));
  if (format !== 'camt053') {
    // camt.053 may well be one line of XML; its entries are counted instead.
    try {
      checkLineLengths(data, parseLimits().maxLineBytes);
    } catch (e) {
      if (e instanceof LimitError) throw new StatementError(e.text.en);
      throw e;
    }
  }
  let drafts: StatementDraft[];
  switch (format) {
    case 'mt940':
      drafts = parseMt940(decodeText(data));
      break;
    case 'camt053':
      drafts = parseCamt053(data);
      break;
    case 'csv':
      if (!opts.csvLayout) throw new StatementError('a CSV statement needs a layout (csvLayout) saying which column is which');
      drafts = [parseCsvStatement(decodeText(data), opts.csvLayout)];
      break;
    default: {
      const never: never = format;
      throw new StatementError(`unknown statement format ${String(never)}`);
    }
  }
  return drafts.map(proveBalance);
}

function unrecognised(data: Buffer): string {
  const head = data.subarray(0, 4096);
  let control = 0;
  for (const b of head) if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) control++;
  if (control > 0 && control * 20 >= head.length) return 'unrecognised statement file: it is binary, not text (not an MT940, camt.053 or CSV statement)';
  return 'unrecognised statement file: not an MT940 statement (no :20: tag with a :60F:/:60M: opening balance), not camt.053 XML (no BkToCstmrStmt), and no CSV layout was given';
}

/** opening + credits − debits = closing, in the statement currency; if not, the figures. */
function proveBalance(d: StatementDraft): { statement: ParsedStatement; proof: Proof } {
  let proof: Proof = { ok: true };
  if (d.closingCurrency !== d.currency) {
    proof = { ok: false, reason: `${d.where}: the closing balance is in ${d.closingCurrency} but the opening balance is in ${d.currency}; the statement cannot prove its balance across currencies` };
  }
  let credits = 0n;
  let debits = 0n;
  for (const l of d.lines) {
    if (l.currency !== d.currency) continue;
    if (l.direction === 'credit') credits += l.amountPaise;
    else debits += l.amountPaise;
  }
  const expected = d.openingPaise + credits - debits;
  if (proof.ok && expected !== d.closingPaise) {
    const f = formatPaise;
    proof = {
      ok: false,
      reason: `${d.where}, account ${d.account}: the balance does not add up: opening ${f(d.openingPaise)} + credits ${f(credits)} − debits ${f(debits)} = ${f(expected)} ${d.currency}, but the closing balance is ${f(d.closingPaise)} (difference ${f(d.closingPaise - expected)})`,
    };
  }
  const statement: ParsedStatement = {
    format: d.format,
    account: d.account,
    statementRef: d.statementRef,
    currency: d.currency,
    openingPaise: d.openingPaise,
    openingDate: d.openingDate,
    closingPaise: d.closingPaise,
    closingDate: d.closingDate,
    creditsPaise: credits,
    debitsPaise: debits,
    lines: d.lines,
  };
  return { statement, proof };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

async function offThread<T>(fn: 'parseStatementsHere' | 'readStatementsHere', data: Buffer, opts: StatementOptions): Promise<T> {
  let r: Outcome<T>;
  try {
    r = await runParse<Outcome<T>>(new URL(import.meta.url), fn, [data, opts]);
  } catch (e) {
    if (e instanceof ParsePoolError) throw new StatementError(e.text.en);
    throw e;
  }
  if (!r.ok) throw new StatementError(r.message);
  return r.value;
}

type StatementOptions = { format?: StatementFormat; csvLayout?: CsvLayout };

/**
 * parseStatements in a parse worker: the same statements, or the same StatementError, plus a
 * StatementError when the file is over its time budget (PARSE_TIME_BUDGET_MS) or its worker's
 * heap (PARSE_WORKER_MEMORY_MB). The event loop is free meanwhile.
 */
export function parseStatementsOffThread(data: Buffer, opts: StatementOptions = {}): Promise<ParsedStatement[]> {
  return offThread<ParsedStatement[]>('parseStatementsHere', data, opts);
}

/** readStatements in a parse worker, as parseStatementsOffThread. */
export function readStatementsOffThread(data: Buffer, opts: StatementOptions = {}): Promise<{ statement: ParsedStatement; proof: Proof }[]> {
  return offThread<{ statement: ParsedStatement; proof: Proof }[]>('readStatementsHere', data, opts);
}

/** Runs in a parse worker: a StatementError comes back as a value (an error loses its class on the way). */
export function parseStatementsHere(data: Buffer, opts: StatementOptions): Outcome<ParsedStatement[]> {
  return outcome(() => parseStatements(data, opts));
}

export function readStatementsHere(data: Buffer, opts: StatementOptions): Outcome<{ statement: ParsedStatement; proof: Proof }[]> {
  return outcome(() => readStatements(data, opts));
}

function outcome<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof StatementError) return { ok: false, message: e.message };
    throw e;
  }
}
