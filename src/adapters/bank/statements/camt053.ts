import { TextDecoder } from 'node:util';
import { limitText, parseLimits } from '../../../platform/parse-limits.ts';
import { decodeText, detach, isoDate, lineDate, paiseFromParts, quote } from './common.ts';
import { StatementError, type StatementDraft, type StatementLine } from './types.ts';
import { extractUtr } from './utr.ts';
import { at, child, childrenNamed, lineAt, parseXml, textAt, XmlError, type XmlElement } from './xml.ts';

/**
 * ISO 20022 camt.053 bank-to-customer statements, versions .02, .04 and .08 (and others of the
 * same shape), read by local element names:
 *
 * - `BkToCstmrStmt/Stmt`, each one statement: `Id` (+ `/ElctrncSeqNb`), `Acct/Id/IBAN` or
 *   `Acct/Id/Othr/Id`;
 * - balances by `Tp/CdOrPrtry/Cd`: opening `OPBD` (else `PRCD`), closing `CLBD`. A statement
 *   split over pages carries `ITBD` (interim booked) instead: the first stands for the opening
 *   and the last for the closing when OPBD/PRCD or CLBD are missing;
 * - `Ntry`: `Amt@Ccy`, `CdtDbtInd`, `BookgDt`, `ValDt` (`Dt` or `DtTm`; the date part of a
 *   date-time as written), `AcctSvcrRef`, `NtryDtls/TxDtls`, `AddtlNtryInf`. Entries with status
 *   PDNG or INFO are not booked, are not in the booked balances, and are left out.
 * - `RvslInd` true marks a reversal, but `CdtDbtInd` already says which way the reversal was
 *   booked (a returned credit is a DBIT entry), so the direction is taken from `CdtDbtInd` alone;
 *   that is also what makes the balances add up.
 * - An entry with several `TxDtls` (a batch) becomes one line per transaction when every
 *   transaction states its amount in the entry's currency and direction and they sum to the
 *   entry; otherwise it stays one line, with the references of its first transaction and the
 *   texts of all.
 * - narrative: `RmtInf/Ustrd` (all), `RmtInf/Strd/CdtrRefInf/Ref` (a structured reference, which
 *   is where a bill number may be), `AddtlNtryInf`, `AddtlTxInf`, joined with spaces.
 * - payer: `RltdPties/Dbtr/Nm` (.02, .04) or `RltdPties/Dbtr/Pty/Nm` (.08), account
 *   `RltdPties/DbtrAcct/Id/IBAN` or `…/Othr/Id`.
 * - UTR: from the narrative and the references (EndToEndId, InstrId, TxId, AcctSvcrRef,
 *   ClrSysRef); on an INR entry a `ClrSysRef` of another shape (an IMPS RRN) is taken as is,
 *   since for Indian rails the clearing system reference is the UTR.
 */

export function decodeXml(data: Buffer): string {
  const head = data.subarray(0, 256).toString('latin1');
  const m = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?\s*<\?xml\s[^>?]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  const label = m?.[1];
  if (!label || /^utf-?8$/i.test(label) || /^utf-?16/i.test(label)) return decodeText(data);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    throw new StatementError(`camt.053: unsupported XML encoding ${quote(label)}`);
  }
  return decoder.decode(data);
}

function findStatementRoot(root: XmlElement): XmlElement | null {
  // Document/BkToCstmrStmt, possibly inside an envelope (a business application header wrapper).
  let level: XmlElement[] = [root];
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
    const next: XmlElement[] = [];
    for (const el of level) {
      if (el.name === 'BkToCstmrStmt') return el;
      next.push(...el.children);
    }
    level = next;
  }
  return null;
}

interface Bal {
  code: string;
  paise: bigint;
  currency: string;
  date: string | null;
}

export function parseCamt053(data: Buffer): StatementDraft[] {
  const text = decodeXml(data);
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) throw new StatementError(`camt.053: malformed XML at line ${lineAt(text, e.pos)}: ${e.message}`);
    throw e;
  }
  const bk = findStatementRoot(root);
  if (!bk) throw new StatementError(`not a camt.053 file: no BkToCstmrStmt element (the root element is <${root.name}>)`);
  const stmts = childrenNamed(bk, 'Stmt');
  if (stmts.length === 0) throw new StatementError(`camt.053 file has no Stmt: BkToCstmrStmt at line ${lineAt(text, bk.pos)} holds no statement`);
  return stmts.map((s, k) => readStatement(text, s, k + 1));
}

function readStatement(text: string, s: XmlElement, index: number): StatementDraft {
  const id = textAt(s, 'Id');
  const where = `camt.053 statement ${index} (Id ${id ?? '?'}, line ${lineAt(text, s.pos)})`;
  const fail = (msg: string, el?: XmlElement): never => {
    throw new StatementError(`${where}: ${el ? `line ${lineAt(text, el.pos)}: ` : ''}${msg}`);
  };
  if (!id) fail('no Stmt/Id');
  const seq = textAt(s, 'ElctrncSeqNb');
  const account = textAt(s, 'Acct/Id/IBAN') ?? textAt(s, 'Acct/Id/Othr/Id');
  if (!account) fail('no account (Acct/Id/IBAN or Acct/Id/Othr/Id)', child(s, 'Acct') ?? undefined);

  const bals: Bal[] = [];
  for (const b of childrenNamed(s, 'Bal')) {
    const code = textAt(b, 'Tp/CdOrPrtry/Cd') ?? textAt(b, 'Tp/CdOrPrtry/Prtry') ?? '';
    const amt = readAmount(child(b, 'Amt'));
    if (typeof amt === 'string') fail(`balance ${code || '?'}: ${amt}`, b);
    const { paise, currency } = amt as Amount;
    const ind = textAt(b, 'CdtDbtInd');
    if (ind !== 'CRDT' && ind !== 'DBIT' && !(ind === null && paise === 0n)) fail(`balance ${code}: CdtDbtInd ${quote(ind ?? '')} is neither CRDT nor DBIT`, b);
    const date = readDate(child(b, 'Dt'), (why) => fail(`balance ${code}: ${why}`, b));
    bals.push({ code, paise: ind === 'DBIT' ? -paise : paise, currency, date });
  }
  const interim = bals.filter((b) => b.code === 'ITBD');
  const opening = bals.find((b) => b.code === 'OPBD') ?? bals.find((b) => b.code === 'PRCD') ?? interim[0];
  const closing = bals.find((b) => b.code === 'CLBD') ?? (interim.length > 0 && interim[interim.length - 1] !== opening ? interim[interim.length - 1] : undefined);
  if (!opening) fail('no opening balance (Bal with Tp/CdOrPrtry/Cd OPBD or PRCD)');
  if (!closing) fail('no closing balance (Bal with Tp/CdOrPrtry/Cd CLBD)');

  const lines: StatementLine[] = [];
  let entryNo = 0;
  const entries = childrenNamed(s, 'Ntry');
  const max = parseLimits().maxStatementLines;
  if (entries.length > max) throw new StatementError(limitText.statementLines(where, max).en);
  for (const e of entries) {
    entryNo++;
    const status = textAt(e, 'Sts/Cd') ?? textAt(e, 'Sts');
    if (status === 'PDNG' || status === 'INFO') continue;
    const failEntry = (msg: string): never => fail(`entry ${entryNo}: ${msg}`, e);
    const amt = readAmount(child(e, 'Amt'));
    if (typeof amt === 'string') failEntry(amt);
    const { paise, currency } = amt as Amount;
    const ind = textAt(e, 'CdtDbtInd');
    if (ind !== 'CRDT' && ind !== 'DBIT') failEntry(`CdtDbtInd ${quote(ind ?? '')} is neither CRDT nor DBIT`);
    const direction = ind === 'CRDT' ? 'credit' : 'debit';
    const asSent: string[] = [];
    const booking = readDate(child(e, 'BookgDt'), (why) => failEntry(`BookgDt: ${why}`), asSent);
    const value = readDate(child(e, 'ValDt'), (why) => failEntry(`ValDt: ${why}`), asSent);
    const valueDate = value ?? booking;
    if (!valueDate) failEntry('neither a value date (ValDt) nor a booking date (BookgDt)');
    const txs = childrenNamed(e, 'NtryDtls').flatMap((d) => childrenNamed(d, 'TxDtls'));
    const common = {
      valueDate: valueDate!,
      bookingDate: booking,
      direction,
      currency,
      entryRef: textAt(e, 'AcctSvcrRef'),
      entryInfo: textAt(e, 'AddtlNtryInf'),
      dateAsSent: asSent.length ? [...new Set(asSent)].join(' / ') : undefined,
    } as const;
    const parts = splitBatch(txs, paise, currency, ind!);
    if (parts) for (const p of parts) lines.push(makeLine(lines.length + 1, { ...common, amountPaise: p.paise }, [p.tx]));
    else lines.push(makeLine(lines.length + 1, { ...common, amountPaise: paise }, txs));
  }

  return {
    format: 'camt053',
    account: account!,
    statementRef: seq ? `${id!}/${seq}` : id!,
    currency: opening!.currency,
    openingPaise: opening!.paise,
    openingDate: opening!.date,
    closingPaise: closing!.paise,
    closingDate: closing!.date,
    closingCurrency: closing!.currency,
    lines,
    where,
  };
}

interface Amount {
  paise: bigint;
  currency: string;
}

function readAmount(el: XmlElement | null): Amount | string {
  if (!el) return 'no Amt';
  const currency = el.attrs.Ccy ?? '';
  if (!/^[A-Z]{3}$/.test(currency)) return `Amt has no valid Ccy attribute (${quote(currency)})`;
  const t = el.text.trim();
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return `Amt ${quote(t)} is not an amount`;
  const paise = paiseFromParts(m[1]!, m[2] ?? '');
  if (typeof paise === 'string') return `Amt ${quote(t)}: ${paise}`;
  return { paise, currency };
}

/**
 * `Dt` or `DtTm` inside a date holder (BookgDt, ValDt, Bal/Dt); null when absent. An entry's
 * date (given `asSent`) past its month's end is that month's last day, the date as sent noted.
 */
function readDate(holder: XmlElement | null, fail: (why: string) => never, asSent?: string[]): string | null {
  if (!holder) return null;
  const raw = textAt(holder, 'Dt') ?? textAt(holder, 'DtTm');
  if (raw === null) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(raw);
  if (!m) return fail(`invalid date ${quote(raw)}`);
  if (!asSent) return isoDate(Number(m[1]), Number(m[2]), Number(m[3])) ?? fail(`invalid date ${quote(raw)}`);
  const d = lineDate(Number(m[1]), Number(m[2]), Number(m[3])) ?? fail(`invalid date ${quote(raw)}`);
  if (d.impossible) asSent.push(raw.trim());
  return d.date;
}

function txAmount(tx: XmlElement): Amount | null {
  const direct = child(tx, 'Amt') ?? at(tx, 'AmtDtls/TxAmt/Amt');
  if (!direct) return null;
  const a = readAmount(direct);
  return typeof a === 'string' ? null : a;
}

function splitBatch(txs: XmlElement[], paise: bigint, currency: string, ind: string): { tx: XmlElement; paise: bigint }[] | null {
  if (txs.length < 2) return null;
  const parts: { tx: XmlElement; paise: bigint }[] = [];
  let sum = 0n;
  for (const tx of txs) {
    const a = txAmount(tx);
    const txInd = textAt(tx, 'CdtDbtInd');
    if (!a || a.currency !== currency || (txInd !== null && txInd !== ind)) return null;
    parts.push({ tx, paise: a.paise });
    sum += a.paise;
  }
  return sum === paise ? parts : null;
}

/** The UTR of a camt line: from its texts and references, else (INR) its clearing system reference. */
export function camtUtr(narrative: string, refs: readonly string[], currency: string, clrSysRef: string | null): string | null {
  const found = extractUtr(refs.length > 0 ? `${narrative} ${refs.join(' ')}` : narrative);
  if (found) return found;
  return currency === 'INR' && clrSysRef && /^[A-Za-z0-9]{8,30}$/.test(clrSysRef) ? clrSysRef.toUpperCase() : null;
}

const provided = (s: string | null) => (s && s.toUpperCase() !== 'NOTPROVIDED' ? s : null);

interface LineCommon {
  valueDate: string;
  bookingDate: string | null;
  direction: 'credit' | 'debit';
  currency: string;
  amountPaise: bigint;
  entryRef: string | null;
  entryInfo: string | null;
  dateAsSent: string | undefined;
}

function makeLine(lineNo: number, c: LineCommon, txs: XmlElement[]): StatementLine {
  const texts: string[] = [];
  const infos: string[] = [];
  const refs: string[] = [];
  let customerRef: string | null = null;
  let txRef: string | null = null;
  let clrSysRef: string | null = null;
  let payerName: string | null = null;
  let payerAccount: string | null = null;
  for (const tx of txs) {
    const r = child(tx, 'Refs');
    customerRef ??= provided(textAt(r, 'EndToEndId')) ?? provided(textAt(r, 'InstrId'));
    txRef ??= textAt(r, 'AcctSvcrRef');
    clrSysRef ??= textAt(r, 'ClrSysRef');
    for (const name of ['EndToEndId', 'InstrId', 'TxId', 'AcctSvcrRef', 'ClrSysRef']) {
      const v = provided(textAt(r, name));
      if (v) refs.push(v);
    }
    const rmt = child(tx, 'RmtInf');
    for (const u of childrenNamed(rmt, 'Ustrd')) if (u.text.trim()) texts.push(u.text.trim());
    for (const strd of childrenNamed(rmt, 'Strd')) {
      const ref = textAt(strd, 'CdtrRefInf/Ref');
      if (ref) texts.push(ref);
    }
    const info = textAt(tx, 'AddtlTxInf');
    if (info) infos.push(info);
    const parties = child(tx, 'RltdPties');
    payerName ??= textAt(parties, 'Dbtr/Nm') ?? textAt(parties, 'Dbtr/Pty/Nm');
    payerAccount ??= textAt(parties, 'DbtrAcct/Id/IBAN') ?? textAt(parties, 'DbtrAcct/Id/Othr/Id');
  }
  if (c.entryInfo) texts.push(c.entryInfo);
  const narrative = [...texts, ...infos].join(' ').trim();
  if (c.entryRef) refs.push(c.entryRef);
  const utr = camtUtr(narrative, refs, c.currency, clrSysRef);
  return {
    lineNo,
    valueDate: c.valueDate,
    bookingDate: c.bookingDate,
    direction: c.direction,
    amountPaise: c.amountPaise,
    currency: c.currency,
    bankRef: detach(c.entryRef ?? txRef),
    customerRef: detach(customerRef),
    utr: detach(utr),
    narrative: detach(narrative),
    payerName: detach(payerName),
    payerAccount: detach(payerAccount),
    ...(c.dateAsSent ? { dateAsSent: c.dateAsSent } : {}),
  };
}
