import { camtUtr } from './camt053.ts';
import { INDIAN_BANK_CSV, readCsvTexts } from './csv.ts';
import { readNarrative } from './mt940.ts';
import { StatementError, type CsvLayout, type ParsedStatement, type StatementLine } from './types.ts';
import { looksLikeUtr } from './utr.ts';

/**
 * Statements out, for the sandbox bank: MT940, camt.053.001.08 and CSV. Each writer puts the UTR
 * and the payer where this module's parsers find them again, and checks it: a line's narrative
 * is written as it is when the parser reads the same UTR and payer from it; otherwise the writer
 * tries, in order, `NEFT/UTR <utr>/<payer>/<narrative>` (the rail from the UTR's shape: RTGS,
 * NEFT, IMPS for 12 digits, else TRF), `UTR <utr> <narrative>` and `<narrative> UTR <utr>`, and
 * keeps the first that reads back. MT940 and CSV name the payer of credits only (on a debit the
 * name in a narrative is the payee); camt carries it in `RltdPties/Dbtr` either way.
 *
 * Pure: no clock. Message and creation times derive from the statement's closing date.
 */

interface Reading {
  utr: string | null;
  payerName: string | null;
}

function railOf(utr: string | null): string {
  if (!utr) return 'TRF';
  if (/^\d{12}$/.test(utr)) return 'IMPS';
  if (looksLikeUtr(utr)) return utr[4] === 'R' ? 'RTGS' : 'NEFT';
  return 'TRF';
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

/** The narrative to write for a line so that `read` gives back its UTR and (where carried) payer. */
function narrativeFor(l: StatementLine, carriesPayer: boolean, read: (narrative: string) => Reading): string {
  const narrative = oneLine(l.narrative);
  const payer = carriesPayer && l.payerName ? oneLine(l.payerName) : null;
  const ok = (n: string) => {
    const r = read(n);
    return r.utr === l.utr && (!carriesPayer || r.payerName === payer);
  };
  const rest = narrative ? `/${narrative}` : '';
  const candidates = [narrative];
  if (payer) candidates.push(l.utr ? `${railOf(l.utr)}/UTR ${l.utr}/${payer}${rest}` : `TRF/${payer}${rest}`);
  if (l.utr) candidates.push(`UTR ${l.utr} ${narrative}`.trim(), `${narrative} UTR ${l.utr}`.trim());
  for (const c of candidates) if (ok(c)) return c;
  return candidates[1] ?? narrative;
}

/**
 * Breaks text into lines of at most `width`, after a space (kept at the end of its line, so that
 * joining the lines gives the text back) or else after a '/', so a reference is never cut.
 */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const window = rest.slice(0, width);
    let cut = window.lastIndexOf(' ') + 1;
    if (cut <= 0) cut = window.lastIndexOf('/') + 1;
    if (cut <= 0) cut = width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest || out.length === 0) out.push(rest);
  return out;
}

function linesOfOneCurrency(s: ParsedStatement, format: string): void {
  for (const l of s.lines) {
    if (l.currency !== s.currency) {
      throw new StatementError(`${format} carries one currency: line ${l.lineNo} is in ${l.currency}, the statement in ${s.currency}`);
    }
  }
}

function statementDates(s: ParsedStatement): { opening: string; closing: string } {
  const first = s.lines[0];
  const last = s.lines[s.lines.length - 1];
  const opening = s.openingDate ?? (first ? (first.bookingDate ?? first.valueDate) : null) ?? s.closingDate;
  const closing = s.closingDate ?? (last ? (last.bookingDate ?? last.valueDate) : null) ?? s.openingDate;
  if (!opening || !closing) throw new StatementError(`statement ${s.statementRef} has no dates to write its balances with`);
  return { opening, closing };
}

const decimals = (paise: bigint, sep: string) => {
  const abs = paise < 0n ? -paise : paise;
  return `${abs / 100n}${sep}${String(abs % 100n).padStart(2, '0')}`;
};

// ---------------------------------------------------------------------------------------- MT940

const yymmdd = (iso: string) => `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;

/** A :86: continuation must not look like a tag, an end of message or a SWIFT block. */
const safeContinuation = (line: string) => (/^(?::(?:\d\d[A-Z]?|NS):|-\s*$|-\}|\{\d:)/.test(line) ? ` ${line}` : line);

export function writeMt940(s: ParsedStatement): Buffer {
  linesOfOneCurrency(s, 'MT940');
  const { opening, closing } = statementDates(s);
  const slash = s.statementRef.indexOf('/');
  const ref20 = slash > 0 ? s.statementRef.slice(0, slash) : s.statementRef;
  const seq = slash > 0 ? s.statementRef.slice(slash + 1) : '1';
  const balance = (paise: bigint, date: string) => `${paise < 0n ? 'D' : 'C'}${yymmdd(date)}${s.currency}${decimals(paise, ',')}`;
  const ref = (r: string | null) => (r ? oneLine(r).replace(/\/\/+/g, '/') : null);
  const out = [`:20:${oneLine(ref20)}`, `:25:${oneLine(s.account)}`, `:28C:${oneLine(seq)}`, `:60F:${balance(s.openingPaise, opening)}`];
  for (const l of s.lines) {
    const entry = l.bookingDate ? l.bookingDate.slice(5, 7) + l.bookingDate.slice(8, 10) : '';
    const cust = ref(l.customerRef) ?? 'NONREF';
    const bank = ref(l.bankRef);
    out.push(`:61:${yymmdd(l.valueDate)}${entry}${l.direction === 'credit' ? 'C' : 'D'}${decimals(l.amountPaise, ',')}NTRF${cust}${bank ? `//${bank}` : ''}`);
    const refs = [cust === 'NONREF' ? null : cust, bank];
    const narrative = narrativeFor(l, l.direction === 'credit', (n) => readNarrative(wrap(n, 65), l.direction, refs));
    if (narrative) {
      const [first, ...more] = wrap(narrative, 65);
      out.push(`:86:${first!}`, ...more.map(safeContinuation));
    }
  }
  out.push(`:62F:${balance(s.closingPaise, closing)}`, '-');
  return Buffer.from(`${out.join('\r\n')}\r\n`, 'utf8');
}

// -------------------------------------------------------------------------------------- camt.053

const xmlText = (s: string) =>
  s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

function accountId(id: string, indent: string): string {
  return IBAN.test(id) ? `${indent}<Id><IBAN>${xmlText(id)}</IBAN></Id>` : `${indent}<Id><Othr><Id>${xmlText(id)}</Id></Othr></Id>`;
}

export function writeCamt053(s: ParsedStatement): Buffer {
  const { opening, closing } = statementDates(s);
  const seqMatch = /^(.+)\/(\d+)$/.exec(s.statementRef);
  const id = seqMatch ? seqMatch[1]! : s.statementRef;
  const created = `${closing}T23:59:59+05:30`;
  const amt = (paise: bigint, ccy: string) => `<Amt Ccy="${xmlText(ccy)}">${decimals(paise, '.')}</Amt>`;
  const ind = (credit: boolean) => `<CdtDbtInd>${credit ? 'CRDT' : 'DBIT'}</CdtDbtInd>`;
  const bal = (code: string, paise: bigint, date: string) =>
    [
      '      <Bal>',
      `        <Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp>`,
      `        ${amt(paise < 0n ? -paise : paise, s.currency)}`,
      `        ${ind(paise >= 0n)}`,
      `        <Dt><Dt>${date}</Dt></Dt>`,
      '      </Bal>',
    ].join('\n');
  const inCcy = s.lines.filter((l) => l.currency === s.currency);
  const sum = (ls: StatementLine[]) => ls.reduce((t, l) => t + l.amountPaise, 0n);
  const credits = inCcy.filter((l) => l.direction === 'credit');
  const debits = inCcy.filter((l) => l.direction === 'debit');
  const net = sum(credits) - sum(debits);

  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '  <BkToCstmrStmt>',
    '    <GrpHdr>',
    `      <MsgId>${xmlText(`${id}-${closing}`.slice(0, 35))}</MsgId>`,
    `      <CreDtTm>${created}</CreDtTm>`,
    '    </GrpHdr>',
    '    <Stmt>',
    `      <Id>${xmlText(id)}</Id>`,
    ...(seqMatch ? [`      <ElctrncSeqNb>${seqMatch[2]!}</ElctrncSeqNb>`] : []),
    `      <CreDtTm>${created}</CreDtTm>`,
    '      <Acct>',
    accountId(s.account, '        '),
    `        <Ccy>${xmlText(s.currency)}</Ccy>`,
    '      </Acct>',
    bal('OPBD', s.openingPaise, opening),
    bal('CLBD', s.closingPaise, closing),
    '      <TxsSummry>',
    `        <TtlNtries><NbOfNtries>${s.lines.length}</NbOfNtries><Sum>${decimals(sum(inCcy), '.')}</Sum><TtlNetNtry><Amt>${decimals(net, '.')}</Amt>${ind(net >= 0n)}</TtlNetNtry></TtlNtries>`,
    `        <TtlCdtNtries><NbOfNtries>${credits.length}</NbOfNtries><Sum>${decimals(sum(credits), '.')}</Sum></TtlCdtNtries>`,
    `        <TtlDbtNtries><NbOfNtries>${debits.length}</NbOfNtries><Sum>${decimals(sum(debits), '.')}</Sum></TtlDbtNtries>`,
    '      </TxsSummry>',
  ];
  for (const l of s.lines) {
    const credit = l.direction === 'credit';
    const refs = [l.customerRef, l.utr, l.bankRef].filter((r): r is string => !!r);
    const narrative = narrativeFor(l, false, (n) => ({ utr: camtUtr(n, refs, l.currency, l.utr), payerName: null }));
    const date = (d: string) => `<Dt>${d}</Dt>`;
    out.push(
      '      <Ntry>',
      `        <NtryRef>${l.lineNo}</NtryRef>`,
      `        ${amt(l.amountPaise, l.currency)}`,
      `        ${ind(credit)}`,
      '        <Sts><Cd>BOOK</Cd></Sts>',
      ...(l.bookingDate ? [`        <BookgDt>${date(l.bookingDate)}</BookgDt>`] : []),
      `        <ValDt>${date(l.valueDate)}</ValDt>`,
      ...(l.bankRef ? [`        <AcctSvcrRef>${xmlText(l.bankRef)}</AcctSvcrRef>`] : []),
      `        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${credit ? 'RCDT' : 'ICDT'}</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>`,
      '        <NtryDtls>',
      '          <TxDtls>',
      '            <Refs>',
      `              <EndToEndId>${xmlText(l.customerRef ?? 'NOTPROVIDED')}</EndToEndId>`,
      ...(l.utr ? [`              <ClrSysRef>${xmlText(l.utr)}</ClrSysRef>`] : []),
      '            </Refs>',
      `            ${amt(l.amountPaise, l.currency)}`,
      `            ${ind(credit)}`,
    );
    if (l.payerName || l.payerAccount) {
      out.push('            <RltdPties>');
      if (l.payerName) out.push(`              <Dbtr><Pty><Nm>${xmlText(oneLine(l.payerName))}</Nm></Pty></Dbtr>`);
      if (l.payerAccount) out.push('              <DbtrAcct>', accountId(l.payerAccount, '                '), '              </DbtrAcct>');
      out.push('            </RltdPties>');
    }
    if (narrative) {
      out.push('            <RmtInf>');
      for (const part of wrap(narrative, 140)) out.push(`              <Ustrd>${xmlText(part)}</Ustrd>`);
      out.push('            </RmtInf>');
    }
    out.push('          </TxDtls>', '        </NtryDtls>', '      </Ntry>');
  }
  out.push('    </Stmt>', '  </BkToCstmrStmt>', '</Document>', '');
  return Buffer.from(out.join('\n'), 'utf8');
}

// ------------------------------------------------------------------------------------------- CSV

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function formatDate(iso: string, format: CsvLayout['dateFormat']): string {
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  switch (format) {
    case 'DD/MM/YYYY':
      return `${d}/${m}/${y}`;
    case 'DD-MM-YYYY':
      return `${d}-${m}-${y}`;
    case 'YYYY-MM-DD':
      return iso;
    case 'DD-MMM-YYYY':
      return `${d}-${MONTHS[Number(m) - 1]!}-${y}`;
    case 'DD MMM YYYY':
      return `${d} ${MONTHS[Number(m) - 1]!} ${y}`;
  }
}

/** 1,23,456.78 */
export function indianGrouping(paise: bigint): string {
  const neg = paise < 0n;
  const [int, frac] = decimals(paise, '.').split('.') as [string, string];
  let grouped = int;
  if (int.length > 3) {
    const head = int.slice(0, -3);
    grouped = `${head.replace(/\B(?=(\d{2})+$)/g, ',')},${int.slice(-3)}`;
  }
  return `${neg ? '-' : ''}${grouped}.${frac}`;
}

/** A text cell that a spreadsheet would run as a formula gets a leading quote; the parser drops it. */
const guard = (s: string) => (/^[=+\-@]/.test(s) ? `'${s}` : s);

export function writeCsv(s: ParsedStatement, layout: Omit<CsvLayout, 'account'> = INDIAN_BANK_CSV): Buffer {
  linesOfOneCurrency(s, 'CSV');
  const c = layout.columns;
  const delim = layout.delimiter ?? ',';
  const inr = (layout.currency ?? 'INR') === 'INR';
  const money = (p: bigint) => (inr ? indianGrouping(p) : `${p < 0n ? '-' : ''}${decimals(p, '.')}`);
  const byDebitCredit = !!(c.debit && c.credit);
  if (!byDebitCredit && !c.amount) throw new StatementError('CSV layout must name debit and credit columns, or an amount column');
  const cell = (v: string) => (v.includes(delim) || /["\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v);

  type Col = { name: string; value: (l: StatementLine, balance: bigint, narrative: string, ref: string) => string };
  const cols: Col[] = [];
  const add = (name: string | undefined, value: Col['value']) => {
    if (name) cols.push({ name, value });
  };
  add(c.bookingDate, (l) => (l.bookingDate ? formatDate(l.bookingDate, layout.dateFormat) : ''));
  add(c.valueDate, (l) => formatDate(l.valueDate, layout.dateFormat));
  add(c.narrative, (_l, _b, n) => guard(n));
  add(c.ref, (_l, _b, _n, ref) => guard(ref));
  add(c.utr, (l) => l.utr ?? '');
  add(c.payerName, (l) => guard(l.payerName ? oneLine(l.payerName) : ''));
  if (byDebitCredit) {
    add(c.debit, (l) => (l.direction === 'debit' ? money(l.amountPaise) : ''));
    add(c.credit, (l) => (l.direction === 'credit' ? money(l.amountPaise) : ''));
  } else {
    add(c.amount, (l) => (c.drCr ? money(l.amountPaise) : money(l.direction === 'credit' ? l.amountPaise : -l.amountPaise)));
    add(c.drCr, (l) => (l.direction === 'credit' ? 'CR' : 'DR'));
  }
  add(c.balance, (_l, b) => money(b));

  const rows = [cols.map((col) => cell(col.name)).join(delim)];
  let balance = s.openingPaise;
  for (const l of s.lines) {
    balance += l.direction === 'credit' ? l.amountPaise : -l.amountPaise;
    const ref = c.ref ? oneLine(l.bankRef ?? (c.utr ? '' : (l.utr ?? ''))) : '';
    const utrCell = c.utr ? l.utr : null;
    const payerCell = c.payerName ? (l.payerName ? oneLine(l.payerName) : null) : null;
    const narrative = narrativeFor(l, !c.payerName && l.direction === 'credit', (n) => readCsvTexts(n, ref || null, utrCell, payerCell, l.direction));
    rows.push(cols.map((col) => cell(col.value(l, balance, narrative, ref))).join(delim));
  }
  return Buffer.from(`\uFEFF${rows.join('\r\n')}\r\n`, 'utf8');
}
