import { limitText, parseLimits } from '../../../platform/parse-limits.ts';
import { detach, lineDate, nearestMmdd, paiseFromParts, quote, yymmdd } from './common.ts';
import { StatementError, type StatementDraft, type StatementLine } from './types.ts';
import { extractPayerName, extractUtr } from './utr.ts';

/**
 * SWIFT MT940 customer statements, as banks deliver them:
 *
 * - with or without SWIFT blocks (`{1:…}{2:…}{4:` … `-}`), CRLF or LF, several statements per
 *   file: each `:20:` starts a statement, `-` (or `-}`) ends one;
 * - `:28:` or `:28C:`; `:60F:`/`:60M:` opening and `:62F:`/`:62M:` closing balances (M: the
 *   interim balances of a statement split over several messages, each proved on its own);
 * - `:61:` `YYMMDD[MMDD](C|D|RC|RD)[funds letter]amount(4-char type)customer ref[//bank ref]`,
 *   an optional supplementary line after it. `RC` (reversal of a credit) is a debit and `RD` a
 *   credit: that is how the balances add up (de_sepa_large_multi.sta has one);
 * - `:86:` after a `:61:` is that line's narrative, its lines trimmed and joined with a space;
 *   a `:86:` anywhere else is information about the statement and is not kept;
 * - other tags (`:21:`, `:64:`, `:65:`, `:NS:` …) are read past; text outside a statement
 *   that is not a tag (the `ABNANL2A` / `940` header lines some banks put before each `:20:`)
 *   is skipped;
 * - an MT942 interim report (SWIFT header `{2:…942`, or a statement with `:34F:`/`:13D:` and no
 *   opening balance) is refused by name: it has no balances to prove it, and its lines come
 *   again in the day's MT940, which is what to import;
 * - a value or entry date past its month's end (`260230`) dates the line on the month's last
 *   day and keeps the date as sent, for review.
 *
 * The file is read line by line with indexOf, never split or matched as a whole, so a large
 * file costs one pass and the lines it yields. Dates take the year 20YY.
 */

interface Balance {
  paise: bigint;
  date: string;
  currency: string;
}

interface Pending {
  line: Omit<StatementLine, 'narrative' | 'utr' | 'payerName' | 'payerAccount'>;
  narrative: string[];
  supplementary: string[];
}

interface OpenStatement {
  index: number;
  startLine: number;
  ref20: string;
  seq: string | null;
  account: string | null;
  opening: Balance | null;
  closing: Balance | null;
  lines: StatementLine[];
  pending: Pending | null;
  narrativeOpen: boolean;
  /** An MT942 tag (:34F: floor limit, :13D: date-time indication) was seen. */
  interim: boolean;
}

interface Field {
  tag: string;
  lines: string[];
  lineNo: number;
  /** Characters so far, against MAX_CELL_BYTES: a field of endless continuation lines is refused. */
  bytes: number;
}

// `:NS:` is a non-SWIFT field some German banks add; it is read past like other unknown tags.
const TAG = /^:(\d\d[A-Z]?|NS):/;

export function parseMt940(text: string): StatementDraft[] {
  const { maxStatementLines: maxLines, maxCellBytes: maxCell } = parseLimits();
  const out: StatementDraft[] = [];
  let stmt: OpenStatement | null = null;
  let field: Field | null = null;
  let count = 0;
  let lastEnd = 0;
  let firstText: string | null = null;

  const where = (s: OpenStatement) => `MT940 statement ${s.index} (:20: ${s.ref20 || '?'}, line ${s.startLine})`;
  const fail = (s: OpenStatement | null, lineNo: number, msg: string): never => {
    throw new StatementError(s ? `${where(s)}: line ${lineNo}: ${msg}` : `MT940 line ${lineNo}: ${msg}`);
  };

  const finishPending = (s: OpenStatement) => {
    const p = s.pending;
    if (!p) return;
    const refs = [p.line.customerRef, p.line.bankRef, p.supplementary.join(' ')];
    const r = readNarrative(p.narrative, p.line.direction, refs);
    const l = p.line;
    s.lines.push({
      lineNo: l.lineNo,
      valueDate: l.valueDate,
      bookingDate: l.bookingDate,
      direction: l.direction,
      amountPaise: l.amountPaise,
      currency: l.currency,
      bankRef: detach(l.bankRef),
      customerRef: detach(l.customerRef),
      utr: detach(r.utr),
      narrative: detach(r.narrative),
      payerName: detach(r.payerName),
      payerAccount: detach(r.payerAccount),
      ...(l.dateAsSent ? { dateAsSent: l.dateAsSent } : {}),
    });
    s.pending = null;
  };

  const apply = (s: OpenStatement, f: Field) => {
    const content = f.lines[0]!;
    switch (f.tag) {
      case '20':
        s.ref20 = content.trim();
        if (!s.ref20) fail(s, f.lineNo, ':20: transaction reference is empty');
        break;
      case '25':
        s.account = content.trim();
        if (!s.account) fail(s, f.lineNo, ':25: account is empty');
        break;
      case '28':
      case '28C':
        s.seq = content.trim() || null;
        break;
      case '60F':
      case '60M': {
        if (s.opening) fail(s, f.lineNo, `a second opening balance :${f.tag}:`);
        const b = parseBalance(content);
        if (typeof b === 'string') fail(s, f.lineNo, `invalid opening balance :${f.tag}: ${quote(content)}: ${b}`);
        s.opening = b as Balance;
        break;
      }
      case '61': {
        if (!s.opening && s.interim) interimReport(`${where(s)}: `);
        if (!s.opening) fail(s, f.lineNo, ':61: statement line before the opening balance (:60F:/:60M:)');
        if (s.closing) fail(s, f.lineNo, ':61: statement line after the closing balance');
        finishPending(s);
        const n = s.lines.length + 1;
        if (n > maxLines) throw new StatementError(limitText.statementLines(where(s), maxLines).en);
        const r = parseLine61(content);
        if (typeof r === 'string') fail(s, f.lineNo, `statement line ${n} (:61:): ${r}: ${quote(content)}`);
        const l = r as Line61;
        s.pending = {
          line: {
            lineNo: n,
            valueDate: l.valueDate,
            bookingDate: l.bookingDate,
            direction: l.direction,
            amountPaise: l.amountPaise,
            currency: s.opening!.currency,
            bankRef: l.bankRef,
            customerRef: l.customerRef,
            ...(l.dateAsSent ? { dateAsSent: l.dateAsSent } : {}),
          },
          narrative: [],
          supplementary: f.lines.slice(1),
        };
        break;
      }
      case '86':
        if (s.narrativeOpen && s.pending) for (const l of f.lines) s.pending.narrative.push(l);
        break;
      case '62F':
      case '62M': {
        if (!s.opening) fail(s, f.lineNo, `closing balance :${f.tag}: before the opening balance (:60F:/:60M:)`);
        if (s.closing) fail(s, f.lineNo, `a second closing balance :${f.tag}:`);
        finishPending(s);
        const b = parseBalance(content);
        if (typeof b === 'string') fail(s, f.lineNo, `invalid closing balance :${f.tag}: ${quote(content)}: ${b}`);
        s.closing = b as Balance;
        break;
      }
      case '34F':
      case '13D':
        s.interim = true;
        break;
      default:
        break;
    }
    if (f.tag === '61') s.narrativeOpen = true;
    else if (f.tag !== '86') s.narrativeOpen = false;
  };

  const flushField = () => {
    if (field && stmt) apply(stmt, field);
    field = null;
  };

  const endStatement = (lineNo: number) => {
    flushField();
    const s = stmt;
    if (!s) return;
    stmt = null;
    lastEnd = lineNo;
    finishPending(s);
    if (s.interim && !s.opening) interimReport(`${where(s)}: `);
    if (!s.account) fail(s, lineNo, 'no account (:25:) in the statement');
    if (!s.opening) fail(s, lineNo, 'no opening balance (:60F: or :60M:) in the statement');
    if (!s.closing) fail(s, lineNo, 'no closing balance (:62F: or :62M:): the statement is truncated');
    const opening = s.opening!;
    const closing = s.closing!;
    out.push({
      format: 'mt940',
      account: detach(s.account!),
      statementRef: detach(s.seq ? `${s.ref20}/${s.seq}` : s.ref20),
      currency: opening.currency,
      openingPaise: opening.paise,
      openingDate: opening.date,
      closingPaise: closing.paise,
      closingDate: closing.date,
      closingCurrency: closing.currency,
      lines: s.lines,
      where: where(s),
    });
  };

  const handle = (line: string, lineNo: number) => {
    const tag = TAG.exec(line);
    if (tag) {
      flushField();
      const name = tag[1]!;
      if (name === '20') {
        if (stmt) endStatement(lineNo);
        count++;
        stmt = { index: count, startLine: lineNo, ref20: '', seq: null, account: null, opening: null, closing: null, lines: [], pending: null, narrativeOpen: false, interim: false };
      } else if (!stmt) {
        if (count === 0) fail(null, lineNo, `not an MT940 statement: :${name}: before any :20: tag`);
        fail(null, lineNo, `:${name}: outside a statement (statement ${count} ended at line ${lastEnd}; a new one starts with :20:)`);
      }
      field = { tag: name, lines: [line.slice(tag[0].length)], lineNo, bytes: line.length };
      return;
    }
    if (line.trimEnd() === '-') {
      endStatement(lineNo);
      return;
    }
    if (field) {
      field.lines.push(line);
      field.bytes += line.length;
      if (field.bytes > maxCell) fail(stmt, field.lineNo, limitText.cell(`:${field.tag}:`, maxCell).en);
      return;
    }
    // Outside a statement: a bank's header line (not SWIFT), skipped.
    firstText ??= line;
  };

  let pos = 0;
  let lineNo = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    let line = text.slice(pos, end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    pos = end + 1;
    lineNo++;
    if (isBlank(line)) continue;
    // SWIFT envelope: `{1:…}{2:…}{3:…}{4:` opens the text block, `-}` (maybe `-}{5:…}`) closes it.
    if (line.startsWith('-}')) {
      endStatement(lineNo);
      line = line.slice(2);
      if (!line.startsWith('{')) continue;
    }
    if (/^\{\d:/.test(line)) {
      if (/\{2:[IO]942/.test(line)) interimReport(`MT942 line ${lineNo}: `);
      const at = line.indexOf('{4:');
      if (at < 0) continue;
      flushField();
      line = line.slice(at + 3);
      if (isBlank(line)) continue;
    }
    handle(line, lineNo);
  }
  endStatement(lineNo);
  if (out.length === 0) throw new StatementError(`not an MT940 statement: no :20: tag in the file${firstText === null ? '' : ` (its first line reads ${quote(firstText)})`}`);
  return out;
}

function interimReport(where: string): never {
  throw new StatementError(
    `${where}this is an MT942 interim report (intraday, with no opening and closing balance to prove it): it is not imported; import the day's MT940 statement, which holds the same lines`,
  );
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    // Spaces, tabs and control characters (a DOS end-of-file ^Z, a stray NUL) are not content.
    if (c > 32 && c !== 127) return false;
  }
  return true;
}

function parseAmount(s: string): bigint | string {
  if (!/^[\d,.]+$/.test(s)) return 'no amount';
  const seps = s.replace(/\d/g, '');
  if (seps.length > 1) return `amount ${quote(s)} has more than one decimal separator`;
  const at = seps ? s.indexOf(seps) : s.length;
  const r = paiseFromParts(s.slice(0, at), s.slice(at + 1));
  return typeof r === 'string' ? `amount ${quote(s)}: ${r}` : r;
}

function parseBalance(content: string): Balance | string {
  const c = content.trim();
  const m = /^([CD])(\d{6})([A-Z]{3})(.*)$/.exec(c);
  if (!m) return 'expected C or D, a date YYMMDD, a currency and an amount';
  const date = yymmdd(m[2]!);
  if (!date) return `invalid date ${quote(m[2]!)}`;
  const amount = parseAmount(m[4]!);
  if (typeof amount === 'string') return amount;
  return { paise: m[1] === 'D' ? -amount : amount, date, currency: m[3]! };
}

interface Line61 {
  valueDate: string;
  dateAsSent?: string;
  bookingDate: string | null;
  direction: 'credit' | 'debit';
  amountPaise: bigint;
  customerRef: string | null;
  bankRef: string | null;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isLetter = (c: string | undefined) => c !== undefined && c >= 'A' && c <= 'Z';

// Statements repeat a few dates on every line: one string per date, not one per line.
const DATES = new Map<string, string | null>();
function cachedDate(key: string, read: () => string | null): string | null {
  let d = DATES.get(key);
  if (d === undefined) {
    if (DATES.size > 50_000) DATES.clear();
    d = read();
    DATES.set(key, d);
  }
  return d;
}

export function parseLine61(content: string): Line61 | string {
  const s = content;
  const vd = s.slice(0, 6);
  if (!/^\d{6}$/.test(vd)) return 'no value date (YYMMDD)';
  let valueDate = cachedDate(vd, () => yymmdd(vd));
  const asSent: string[] = [];
  if (!valueDate) {
    const past = lineDate(2000 + Number(vd.slice(0, 2)), Number(vd.slice(2, 4)), Number(vd.slice(4, 6)));
    if (!past) return `invalid value date ${quote(vd)}`;
    valueDate = past.date;
    asSent.push(vd);
  }
  let i = 6;
  while (s[i] === ' ') i++;
  let bookingDate: string | null = null;
  if (isDigit(s[i]) && /^\d{4}$/.test(s.slice(i, i + 4))) {
    const ed = s.slice(i, i + 4);
    const vdate = valueDate;
    bookingDate = cachedDate(`${ed}${vdate}`, () => nearestMmdd(ed, vdate));
    if (!bookingDate) {
      // A day past its month's end (0230): that month's last day, in the year nearest the value date.
      const month = Number(ed.slice(0, 2));
      const past = lineDate(Number(vdate.slice(0, 4)), month, Number(ed.slice(2, 4)));
      if (!past) return `invalid entry date ${quote(ed)} (MMDD)`;
      bookingDate = nearestMmdd(past.date.slice(5, 7) + past.date.slice(8, 10), vdate);
      asSent.push(ed);
    }
    i += 4;
  }
  while (s[i] === ' ') i++;
  let direction: 'credit' | 'debit';
  if (s.startsWith('RC', i)) {
    direction = 'debit';
    i += 2;
  } else if (s.startsWith('RD', i)) {
    direction = 'credit';
    i += 2;
  } else if (s[i] === 'C' || s[i] === 'D') {
    direction = s[i] === 'C' ? 'credit' : 'debit';
    i += 1;
  } else return 'no debit/credit mark (C, D, RC or RD) after the dates';
  if (isLetter(s[i])) i++; // funds code: the third letter of the currency code
  const amountStart = i;
  while (i < s.length && (isDigit(s[i]) || s[i] === ',' || s[i] === '.')) i++;
  const amount = parseAmount(s.slice(amountStart, i));
  if (typeof amount === 'string') return amount;
  while (s[i] === ' ') i++; // Commerzbank pads the amount with a space
  const type = s.slice(i, i + 4);
  if (type.length < 4 || !isLetter(type[0])) return 'no transaction type (e.g. NTRF) after the amount';
  i += 4;
  const rest = s.slice(i);
  const slashes = rest.indexOf('//');
  const cust = (slashes < 0 ? rest : rest.slice(0, slashes)).trim();
  const bank = slashes < 0 ? '' : rest.slice(slashes + 2).trim();
  return {
    valueDate,
    ...(asSent.length ? { dateAsSent: asSent.join(' ') } : {}),
    bookingDate,
    direction,
    amountPaise: amount,
    customerRef: cust && cust.toUpperCase() !== 'NONREF' ? cust : null,
    bankRef: bank || null,
  };
}

export interface NarrativeReading {
  narrative: string;
  utr: string | null;
  payerName: string | null;
  payerAccount: string | null;
}

/**
 * What a `:86:` (its lines as in the file) says, with the line's references as further places
 * to find a UTR. The writer calls this to check that it will read back what it wrote.
 *
 * German banks structure `:86:` as `GVC?00text?20…?32name?33name?31IBAN` and wrap it at a fixed
 * width, so subfields are read from the lines joined without a separator; on a credit, ?32/?33 is
 * the remitter and ?31 the remitter's account. Other narratives are tried as Indian ones
 * (`NEFT/UTR …/PAYER NAME/…`); the payer is only named on credits, since on a debit the name in
 * the narrative is the payee.
 */
export function readNarrative(lines: readonly string[], direction: 'credit' | 'debit', refs: readonly (string | null)[]): NarrativeReading {
  const narrative = lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
  const tight = lines.join('');
  const refText = refs.filter((r): r is string => !!r).join(' ');
  const utr = extractUtr(refText ? `${narrative} ${refText}` : narrative) ?? (lines.length > 1 ? extractUtr(tight) : null);
  let payerName: string | null = null;
  let payerAccount: string | null = null;
  if (direction === 'credit') {
    const sub = /^\s*\d{3}\?\d\d/.test(tight) ? subfields(tight) : null;
    if (sub) {
      payerName = `${sub.get('32') ?? ''}${sub.get('33') ?? ''}`.replace(/\s+/g, ' ').trim() || null;
      payerAccount = sub.get('31')?.trim() || null;
    } else payerName = extractPayerName(narrative, utr);
  }
  return { narrative, utr, payerName, payerAccount };
}

function subfields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = text.indexOf('?');
  while (i >= 0) {
    const code = text.slice(i + 1, i + 3);
    let next = text.indexOf('?', i + 1);
    while (next >= 0 && !/^\d\d$/.test(text.slice(next + 1, next + 3))) next = text.indexOf('?', next + 1);
    if (/^\d\d$/.test(code)) out.set(code, (out.get(code) ?? '') + text.slice(i + 3, next < 0 ? text.length : next));
    i = next;
  }
  return out;
}
