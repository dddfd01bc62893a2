import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCamt053 } from './camt053.ts';
import { readRecords } from './csv.ts';
import { detectFormat, extractPayerName, extractUtr, hindiReason, INDIAN_BANK_CSV, parseStatements, readStatements, StatementError, writeCamt053, writeCsv, writeMt940, type CsvLayout, type ParsedStatement, type StatementLine } from './index.ts';
import { parseMt940 } from './mt940.ts';
import { indianGrouping } from './writers.ts';
import { parseXml } from './xml.ts';

// Third-party samples (shared fixtures, bytes exact) and the project's own Indian samples.
const SHARED = path.resolve(import.meta.dirname, '../../../../test/fixtures/statements/shared');
const OWN = path.resolve(import.meta.dirname, '../../../../test/fixtures/statements');
const shared = (name: string) => fs.readFileSync(path.join(SHARED, name));
const own = (name: string) => fs.readFileSync(path.join(OWN, name));
const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`);

function thrown(fn: () => unknown): StatementError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatementError);
    return e as StatementError;
  }
  throw new Error('expected a StatementError');
}

/** Every statement of a parse result adds up (parseStatements proves it; this re-checks the sums). */
function expectBalanced(statements: ParsedStatement[]) {
  for (const s of statements) {
    const inCcy = s.lines.filter((l) => l.currency === s.currency);
    const sum = (d: string) => inCcy.filter((l) => l.direction === d).reduce((t, l) => t + l.amountPaise, 0n);
    expect(s.creditsPaise).toBe(sum('credit'));
    expect(s.debitsPaise).toBe(sum('debit'));
    expect(s.openingPaise + s.creditsPaise - s.debitsPaise).toBe(s.closingPaise);
    s.lines.forEach((l, i) => {
      expect(l.lineNo).toBe(i + 1);
      expect(l.amountPaise >= 0n).toBe(true);
      expect(l.valueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    });
  }
}

describe('detectFormat', () => {
  it.each([
    ['mt940/citi_usd.sta', 'mt940'],
    ['mt940/commerzbank_de.sta', 'mt940'],
    ['mt940/de_sepa_large_multi.sta', 'mt940'],
    ['mt940/ing_nl_swift_blocks_crlf.sta', 'mt940'],
    ['mt940/volksbank_de.sta', 'mt940'],
    ['mt940/invalid_not_mt940.sta', null],
    ['camt053/camt053_001_02_multi_statement.xml', 'camt053'],
    ['camt053/camt053_001_04.xml', 'camt053'],
    ['camt053/camt053_001_02_wrong_invalid.xml', 'camt053'],
  ])('tells %s as %s', (name, format) => {
    expect(detectFormat(shared(name))).toBe(format);
  });

  it('cannot tell a CSV or an empty file by its bytes', () => {
    expect(detectFormat(own('in_bank_inr.csv'))).toBeNull();
    expect(detectFormat(Buffer.alloc(0))).toBeNull();
    expect(detectFormat(Buffer.from('<html><body>:20:x :60F:</body></html>'))).toBeNull();
  });
});

describe('every shared sample that is a statement', () => {
  // The fixtures README names two files that are not statements; the other seven are read, and
  // each statement's balance checked. Three of them do not add up (their own figures disagree):
  // they read, but cannot be imported, and the reason names the figures.
  const files = ['mt940/citi_usd.sta', 'mt940/commerzbank_de.sta', 'mt940/de_sepa_large_multi.sta', 'mt940/ing_nl_swift_blocks_crlf.sta', 'mt940/volksbank_de.sta', 'camt053/camt053_001_02_multi_statement.xml', 'camt053/camt053_001_04.xml'];
  it('reads every one, and checks opening + credits − debits = closing for each statement', () => {
    const proved = new Map<string, boolean[]>();
    for (const f of files) {
      const read = readStatements(shared(f));
      expect(read.length, f).toBeGreaterThan(0);
      for (const r of read) expect(r.statement.lines.every((l) => l.amountPaise >= 0n && /^\d{4}-\d{2}-\d{2}$/.test(l.valueDate)), f).toBe(true);
      proved.set(f, read.map((r) => r.proof.ok));
    }
    expect(Object.fromEntries([...proved].map(([f, p]) => [f, p.every(Boolean)]))).toEqual({
      'mt940/citi_usd.sta': true,
      'mt940/commerzbank_de.sta': false,
      'mt940/de_sepa_large_multi.sta': true,
      'mt940/ing_nl_swift_blocks_crlf.sta': false,
      'mt940/volksbank_de.sta': true,
      'camt053/camt053_001_02_multi_statement.xml': true,
      'camt053/camt053_001_04.xml': false,
    });
    expect(proved.get('mt940/de_sepa_large_multi.sta')).toHaveLength(26);
  });
});

describe('MT940: the shared samples', () => {
  it('reads Citi USD: :28: short form, blank entry date, funds code, multi-line :86:, lines without :86:', () => {
    const [s, ...more] = parseStatements(shared('mt940/citi_usd.sta'));
    expect(more).toHaveLength(0);
    expect(s).toMatchObject({ format: 'mt940', account: '123456789', statementRef: 'asdfsdfdsf/1/1', currency: 'USD', openingPaise: 1737667n, openingDate: '2024-03-12', closingPaise: 1623392n, closingDate: '2024-03-12', creditsPaise: 0n, debitsPaise: 114275n });
    expect(s!.lines).toHaveLength(5);
    expect(s!.lines[0]).toEqual({
      lineNo: 1,
      valueDate: '2024-03-12',
      bookingDate: null,
      direction: 'debit',
      amountPaise: 21239n,
      currency: 'USD',
      bankRef: null,
      customerRef: null,
      utr: null,
      narrative: '/PT/FT/PY/SOMETHING FOO BAR          112233 123456789',
      payerName: null,
      payerAccount: null,
    });
    expect(s!.lines[2]).toMatchObject({ direction: 'credit', amountPaise: 0n, narrative: '' });
    expectBalanced([s!]);
  });

  it('reads Volksbank: CRLF, 8 statements, ?-structured :86: with the remitter in ?32 and ?31', () => {
    const all = parseStatements(shared('mt940/volksbank_de.sta'));
    expect(all).toHaveLength(8);
    expectBalanced(all);
    expect(all.every((s) => s.account === '66642399/93387' && s.statementRef === 'STARTUMS/0' && s.currency === 'EUR')).toBe(true);
    expect(all.reduce((n, s) => n + s.lines.length, 0)).toBe(12);
    expect(all[0]).toMatchObject({ openingPaise: 308500n, openingDate: '2020-02-19', closingPaise: 323000n, creditsPaise: 14500n });
    expect(all[7]).toMatchObject({ openingPaise: 377500n, closingPaise: 383000n, closingDate: '2020-03-10' });
    expect(all[0]!.lines[0]).toMatchObject({ valueDate: '2020-02-19', direction: 'credit', amountPaise: 6500n, payerName: 'Olivia Dorn', payerAccount: 'DE40500105174675974588', utr: null });
    // A name cut across subfields ?32/?33 is joined back.
    expect(all[3]!.lines[0]!.payerName).toBe('Hellwig, Annegret, Hellwig, Dieter');
  });

  it('reads de_sepa_large_multi: 26 statements, 97 lines, debit opening balances, 60M/62M, RC reversal', () => {
    const all = parseStatements(shared('mt940/de_sepa_large_multi.sta'));
    expect(all).toHaveLength(26);
    expect(all.reduce((n, s) => n + s.lines.length, 0)).toBe(97);
    expectBalanced(all);
    const first = all[0]!;
    expect(first).toMatchObject({ statementRef: 'T089413946000001/00004/00001', account: '50880050/0194774600888', openingPaise: -123471836n, openingDate: '2007-09-03', closingPaise: -123762823n, closingDate: '2007-09-04' });
    expect(first.lines[0]).toMatchObject({ valueDate: '2007-09-04', bookingDate: '2007-09-04', direction: 'credit', amountPaise: 30000n, customerRef: 'TFNr 40005 MSGID', bankRef: '0724710345313905' });
    // `RCR204,88`: RC (reversal of a credit) with funds code R is a debit; that is what balances.
    expect(first.lines[5]).toMatchObject({ direction: 'debit', amountPaise: 20488n, customerRef: null, bankRef: null });
    // `:60F:D070903EUR970499,9`: one decimal digit.
    expect(all[1]!.openingPaise).toBe(-97049990n);
    expect(all[1]!.lines[0]!.payerName).toBe('Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx');
    const interim = all.find((s) => s.statementRef === 'T089414006000002/00004/00002')!;
    expect(interim).toMatchObject({ openingPaise: -3050383n, openingDate: '2007-09-04' });
    expect(all[0]!.lines.every((l) => l.utr === null)).toBe(true);
  });

  it('refuses ING (SWIFT blocks, CRLF, UTF-8): its balances do not add up, and says by how much', () => {
    const e = thrown(() => parseStatements(shared('mt940/ing_nl_swift_blocks_crlf.sta')));
    expect(e.message).toContain('MT940 statement 1 (:20: MPBZ, line 4), account 0001234567: the balance does not add up');
    expect(e.message).toContain('opening 0.00 + credits 4.68 − debits 50.27 = -45.59 EUR, but the closing balance is 3.47 (difference 49.06)');
    // Before the proof, the file reads as it should.
    const [s] = parseMt940(shared('mt940/ing_nl_swift_blocks_crlf.sta').toString('utf8'));
    expect(s!.lines).toHaveLength(7);
    expect(s!.lines[2]).toMatchObject({ direction: 'debit', amountPaise: 111n, customerRef: 'TMG TANGO', bankRef: null });
    expect(s!.lines[2]!.narrative).toContain('10\u00ad06\u00ad2010'); // UTF-8 soft hyphens kept
    expect(s!.lines[0]!.narrative).toBe('RC AFREKENING BETALINGSVERKEER BETREFT REKENING 4715589 PERIODE: 01-10-2010 / 31-12-2010 ING Bank N.V. tarifering ING');
    // The :86: after :62F: is about the statement, not the last line.
    expect(s!.lines[6]!.narrative).toBe('0111111111 Hr S Marechal ROSMALEN Hr S Marechal ROSMALEN Betaling transactiedatum: 22-07-2010');
  });

  it('refuses Commerzbank: a 12.35 debit between two zero balances', () => {
    const e = thrown(() => parseStatements(shared('mt940/commerzbank_de.sta')));
    expect(e.message).toContain('opening 0.00 + credits 0.00 − debits 12.35 = -12.35 EUR, but the closing balance is 0.00 (difference 12.35)');
    const [s] = parseMt940(shared('mt940/commerzbank_de.sta').toString('utf8'));
    expect(s!.lines[0]).toMatchObject({ valueDate: '2020-06-08', bookingDate: '2020-06-08', direction: 'debit', amountPaise: 1235n, customerRef: 'KREF+', bankRef: '2016021783252833', payerName: null });
    expect(s!.statementRef).toBe('01LGX08DLMWH5GWA/00143/1');
  });

  it('rejects a file that is not a statement, saying so', () => {
    const data = shared('mt940/invalid_not_mt940.sta');
    expect(thrown(() => parseStatements(data)).message).toMatch(/not an MT940 statement \(no :20: tag/);
    expect(thrown(() => parseStatements(data, { format: 'mt940' })).message).toBe('not an MT940 statement: no :20: tag in the file (its first line reads "1")');
  });
});

describe('camt.053: the shared samples', () => {
  it('reads two statements in one .02 message', () => {
    const all = parseStatements(shared('camt053/camt053_001_02_multi_statement.xml'));
    expect(all).toHaveLength(2);
    expectBalanced(all);
    expect(all[0]).toMatchObject({ format: 'camt053', account: 'NL26VAYB8060476890', statementRef: '253EURNL26VAYB8060476890/12312', currency: 'EUR', openingPaise: 1815n, openingDate: '2014-12-30', closingPaise: 2700n, closingDate: '2014-12-31', creditsPaise: 885n, debitsPaise: 0n });
    expect(all[0]!.lines).toEqual([
      { lineNo: 1, valueDate: '2015-01-02', bookingDate: '2014-12-31', direction: 'credit', amountPaise: 885n, currency: 'EUR', bankRef: null, customerRef: '000000001', utr: null, narrative: 'Transaction Description 1', payerName: null, payerAccount: null },
    ]);
    expect(all[1]).toMatchObject({ statementRef: '254EURNL26VAYB8060476890', openingPaise: 2700n, closingPaise: 2000n, debitsPaise: 700n });
    expect(all[1]!.lines[0]).toMatchObject({ direction: 'debit', amountPaise: 700n, customerRef: '000000002' });
  });

  it('refuses the .04 sample, whose closing balance is a SEK debit against a EUR opening', () => {
    const e = thrown(() => parseStatements(shared('camt053/camt053_001_04.xml')));
    expect(e.message).toBe('camt.053 statement 1 (Id 253EURNL26VAYB8060476890, line 30): the closing balance is in SEK but the opening balance is in EUR; the statement cannot prove its balance across currencies');
    const [s] = parseCamt053(shared('camt053/camt053_001_04.xml'));
    expect(s).toMatchObject({ account: 'NL26VAYB8060476890', statementRef: '253EURNL26VAYB8060476890/12312', currency: 'EUR', openingPaise: 1815n, closingPaise: -2700n, closingCurrency: 'SEK' });
    expect(s!.lines[0]).toMatchObject({ amountPaise: 885n, currency: 'EUR', bankRef: 'AAAASESS-FP-CN_98765/01', customerRef: null, payerName: 'NAME NAME', payerAccount: 'NL56AGDH9619008421', narrative: '4654654654654654' });
  });

  it('rejects a message with a header and no statement', () => {
    expect(thrown(() => parseStatements(shared('camt053/camt053_001_02_wrong_invalid.xml'))).message).toBe('camt.053 file has no Stmt: BkToCstmrStmt at line 3 holds no statement');
  });
});

describe('Indian samples (test/fixtures/statements)', () => {
  it('reads the collection account MT940: UTRs from :86:, payers, IMPS/UPI RRNs, an RC reversal', () => {
    const all = parseStatements(own('in_sbi_collection.sta'));
    expect(all).toHaveLength(2);
    expectBalanced(all);
    expect(all[0]).toMatchObject({ account: '00000039876543210', statementRef: 'SBI2611270001/00331/1', currency: 'INR', openingPaise: 123456789n, closingPaise: 247772739n, creditsPaise: 274374950n, debitsPaise: 150059000n });
    expect(all[1]).toMatchObject({ statementRef: 'SBI2611280001/00332/1', openingPaise: 247772739n, closingPaise: 250917914n });
    const pick = (l: StatementLine) => [l.direction, l.amountPaise, l.utr, l.payerName];
    expect(all[0]!.lines.map(pick)).toEqual([
      ['credit', 15000000n, 'SBINN52026112712345', 'MAHALAXMI TRADERS'],
      ['credit', 250000000n, 'HDFCR52026112700012345', 'M/S SHREE GANESH COLD STORAGE PVT LTD'],
      ['credit', 499900n, '633112345678', 'RAMESH KUMAR'],
      ['credit', 125050n, '633198765432', 'SUNITA DEVI'],
      ['debit', 150000000n, null, null],
      ['debit', 59000n, null, null],
      // The UTR is cut across the two :86: lines; it is found in the lines joined as written.
      ['credit', 8750000n, 'ICICN52026112798765', 'PRAKASH AGRO INDUSTRIES'],
    ]);
    expect(all[0]!.lines[0]).toMatchObject({ valueDate: '2026-11-27', bookingDate: '2026-11-27', bankRef: 'S81234567', customerRef: null, narrative: 'NEFT/UTR SBINN52026112712345/MAHALAXMI TRADERS/CONS 110234567890 NOV 2026 BILL' });
    expect(all[1]!.lines.map(pick)).toEqual([
      ['debit', 499900n, '633112345678', null],
      ['credit', 3645075n, 'PUNBN52026112800077', 'KISAN SEVA KENDRA'],
    ]);
  });

  it('reads the INR CSV: BOM, preamble, Indian grouping, Hindi payer, wrapped description, footer', () => {
    const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: '00000039876543210' };
    const [s, ...more] = parseStatements(own('in_bank_inr.csv'), { csvLayout: layout });
    expect(more).toHaveLength(0);
    expectBalanced([s!]);
    expect(s).toMatchObject({ format: 'csv', account: '00000039876543210', statementRef: '2026-11-01..2026-11-07', currency: 'INR', openingPaise: 113456789n, openingDate: null, closingPaise: 352354439n, closingDate: '2026-11-07' });
    expect(s!.lines.map((l) => [l.valueDate, l.direction, l.amountPaise, l.utr, l.payerName])).toEqual([
      ['2026-11-01', 'credit', 15000000n, 'SBINN52026110100001', 'MAHALAXMI TRADERS'],
      ['2026-11-02', 'credit', 250000000n, 'HDFCR52026110200012345', 'M/S SHREE GANESH COLD STORAGE PVT LTD'],
      ['2026-11-03', 'credit', 499900n, '633012345678', 'रमेश कुमार'],
      ['2026-11-05', 'debit', 150000000n, null, null],
      ['2026-11-06', 'debit', 59000n, null, null],
      ['2026-11-07', 'credit', 123456750n, 'ICICN52026110712345', 'PRAKASH AGRO INDUSTRIES'],
    ]);
    expect(s!.lines[3]).toMatchObject({ bankRef: 'SWP0511', narrative: 'TO TRANSFER-SWEEP TO MAIN A/C 00000011223344556 DISCOM HQ COLLECTION POOL' });
  });
});

describe('statement errors name the statement, the line and the field', () => {
  const mt = (...body: string[]) => crlf([':20:REF1', ':25:ACC', ':28C:1/1', ...body]);

  it('rejects an empty file and binary junk', () => {
    expect(thrown(() => parseStatements(Buffer.alloc(0))).message).toBe('the statement file is empty');
    const junk = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256));
    expect(thrown(() => parseStatements(junk)).message).toMatch(/binary/);
    expect(thrown(() => parseStatements(junk, { format: 'mt940' })).message).toMatch(/not an MT940 statement/);
    expect(thrown(() => parseStatements(junk, { format: 'camt053' })).message).toMatch(/^camt\.053: malformed XML|^not a camt\.053 file/);
  });

  it('rejects a truncated statement: no closing balance', () => {
    const text = shared('mt940/de_sepa_large_multi.sta').toString('latin1');
    const cut = text.slice(0, text.indexOf(':62F:', text.indexOf(':20:T089413956000001')));
    const e = thrown(() => parseStatements(Buffer.from(cut, 'latin1')));
    expect(e.message).toBe('MT940 statement 2 (:20: T089413956000001, line 26): line 40: no closing balance (:62F: or :62M:): the statement is truncated');
  });

  it('rejects a bad value date, naming the statement, the line of the file and the :61:', () => {
    const e = thrown(() => parseStatements(mt(':60F:C261101INR100,00', ':61:261332C10,00NTRFNONREF', ':62F:C261101INR110,00', '-')));
    expect(e.message).toBe('MT940 statement 1 (:20: REF1, line 1): line 5: statement line 1 (:61:): invalid value date "261332": "261332C10,00NTRFNONREF"');
  });

  it('rejects bad balances, amounts with three decimals, and a missing type', () => {
    expect(thrown(() => parseStatements(mt(':60F:C261301INR100,00', ':62F:C261101INR100,00', '-'))).message).toContain('line 4: invalid opening balance :60F: "C261301INR100,00": invalid date "261301"');
    expect(thrown(() => parseStatements(mt(':60F:C261101INR100,00', ':61:261101C10,001NTRF', ':62F:C261101INR110,00', '-'))).message).toContain('amount "10,001": more than 2 decimals (3)');
    expect(thrown(() => parseStatements(mt(':60F:C261101INR100,00', ':61:261101C10,00', ':62F:C261101INR110,00', '-'))).message).toContain('no transaction type');
    expect(thrown(() => parseStatements(mt(':61:261101C10,00NTRF', '-'), { format: 'mt940' })).message).toContain(':61: statement line before the opening balance');
  });

  it('rejects a statement that does not add up, with the figures and the difference', () => {
    const e = thrown(() => parseStatements(mt(':60F:D261101INR100,00', ':61:261101C10,50NTRFNONREF', ':62F:C261101INR110,00', '-')));
    expect(e.message).toBe('MT940 statement 1 (:20: REF1, line 1), account ACC: the balance does not add up: opening -100.00 + credits 10.50 − debits 0.00 = -89.50 INR, but the closing balance is 110.00 (difference 199.50)');
  });

  it('names the second of several statements when it is the bad one', () => {
    const good = [':20:A', ':25:ACC', ':28C:1', ':60F:C261101INR0,', ':62F:C261101INR0,', '-'];
    const e = thrown(() => parseStatements(crlf([...good, ':20:B', ':25:ACC', ':28C:2', ':60F:C261102INR0,', ':61:2611021331C1,NTRF', ':62F:C261102INR1,', '-'])));
    expect(e.message).toBe('MT940 statement 2 (:20: B, line 7): line 11: statement line 1 (:61:): invalid entry date "1331" (MMDD): "2611021331C1,NTRF"');
  });

  it('rejects malformed camt XML with its line, and refuses a DOCTYPE with entities', () => {
    const xml = '<?xml version="1.0"?>\n<Document>\n<BkToCstmrStmt>\n<Stmt></Stmts>\n</BkToCstmrStmt></Document>';
    expect(thrown(() => parseStatements(Buffer.from(xml))).message).toBe('camt.053: malformed XML at line 4: end tag </Stmts> does not close <Stmt>');
    const bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document><BkToCstmrStmt/></Document>';
    expect(thrown(() => parseStatements(Buffer.from(bomb))).message).toContain('a DOCTYPE with an internal subset is not accepted');
  });

  it('rejects a camt entry without a valid amount or date, naming the entry', () => {
    const e = thrown(() => parseStatements(camt({ entries: [entry({ amt: '10.005' })] })));
    expect(e.message).toMatch(/^camt\.053 statement 1 \(Id S1, line 4\): line \d+: entry 1: Amt "10\.005": more than 2 decimals \(3\), and not zeros past the paisa$/);
    const d = thrown(() => parseStatements(camt({ entries: [entry({ valDt: '<Dt>2026-13-01</Dt>' })] })));
    expect(d.message).toContain('entry 1: ValDt: invalid date "2026-13-01"');
  });
});

interface EntryOpts {
  amt?: string;
  ccy?: string;
  ind?: 'CRDT' | 'DBIT';
  valDt?: string;
  extra?: string;
  details?: string;
}

function entry(o: EntryOpts = {}): string {
  return `<Ntry><Amt Ccy="${o.ccy ?? 'INR'}">${o.amt ?? '100.00'}</Amt><CdtDbtInd>${o.ind ?? 'CRDT'}</CdtDbtInd>${o.extra ?? ''}<BookgDt><Dt>2026-11-27</Dt></BookgDt><ValDt>${o.valDt ?? '<Dt>2026-11-27</Dt>'}</ValDt>${o.details ?? ''}</Ntry>`;
}

function camt(o: { open?: string; close?: string; entries: string[]; bal?: string; prefix?: string }): Buffer {
  const bal = (code: string, amt: string) => `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="INR">${amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>2026-11-27T18:00:00+05:30</DtTm></Dt></Bal>`;
  const p = o.prefix ? `${o.prefix}:` : '';
  const doc = o.prefix ? `<${p}Document xmlns:${o.prefix}="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">` : '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">';
  const body = `<Stmt>\n<Id>S1</Id><Acct><Id><Othr><Id>0000123</Id></Othr></Id></Acct>${o.bal ?? `${bal('OPBD', o.open ?? '1000.00')}${bal('CLBD', o.close ?? '1100.00')}`}${o.entries.join('')}</Stmt>`;
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${doc}\n<BkToCstmrStmt>\n${body}</BkToCstmrStmt></${p}Document>`;
  return Buffer.from(o.prefix ? xml.replace(/<(\/?)(?!\?|\/|[a-z]+:)([A-Za-z]+)/g, `<$1${p}$2`) : xml);
}

describe('camt.053 details', () => {
  it('reads .08 parties, references, entities, CDATA, prefixed names and date-times', () => {
    const details = `<NtryDtls><TxDtls><Refs><InstrId>NOTPROVIDED</InstrId><EndToEndId>NOTPROVIDED</EndToEndId><ClrSysRef>633112345678</ClrSysRef></Refs><RltdPties><Dbtr><Pty><Nm>Ramesh &amp; Sons &#x20B9;</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>12345678901</Id></Othr></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>IMPS credit &lt;bill 42&gt;</Ustrd><Ustrd><![CDATA[consumer <110234567890>]]></Ustrd></RmtInf><AddtlTxInf>via app</AddtlTxInf></TxDtls></NtryDtls><AddtlNtryInf>ENTRY INFO</AddtlNtryInf>`;
    const [s] = parseStatements(camt({ entries: [entry({ extra: '<AcctSvcrRef>B-1</AcctSvcrRef>', details })], prefix: 'ns' }));
    expect(s).toMatchObject({ account: '0000123', openingDate: '2026-11-27', closingPaise: 110000n });
    expect(s!.lines[0]).toMatchObject({ bankRef: 'B-1', customerRef: null, utr: '633112345678', payerName: 'Ramesh & Sons ₹', payerAccount: '12345678901', narrative: 'IMPS credit <bill 42> consumer <110234567890> ENTRY INFO via app' });
  });

  it('leaves entries in another currency out of the proof, and pending entries out of the lines', () => {
    const [s] = parseStatements(camt({ entries: [entry(), entry({ ccy: 'USD', amt: '5.00' }), entry({ amt: '999.00', extra: '<Sts><Cd>PDNG</Cd></Sts>' })] }));
    expect(s!.lines.map((l) => [l.currency, l.amountPaise])).toEqual([
      ['INR', 10000n],
      ['USD', 500n],
    ]);
    expect(s).toMatchObject({ creditsPaise: 10000n, debitsPaise: 0n });
  });

  it('keeps the direction of a reversal from CdtDbtInd', () => {
    const [s] = parseStatements(camt({ close: '900.00', entries: [entry({ ind: 'DBIT', extra: '<RvslInd>true</RvslInd>' })] }));
    expect(s!.lines[0]).toMatchObject({ direction: 'debit', amountPaise: 10000n });
  });

  it('splits a batch entry into its transactions when their amounts add up, else keeps one line', () => {
    const tx = (amt: string, utr: string, name: string) => `<TxDtls><Refs><EndToEndId>${utr}</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="INR">${amt}</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>${name}</Nm></Dbtr></RltdPties></TxDtls>`;
    const batch = (a: string, b: string) => entry({ details: `<NtryDtls>${tx(a, 'SBINN52026112700000001', 'A ONE')}${tx(b, 'SBINN52026112700000002', 'B TWO')}</NtryDtls>` });
    const [split] = parseStatements(camt({ entries: [batch('60.00', '40.00')] }));
    expect(split!.lines.map((l) => [l.lineNo, l.amountPaise, l.utr, l.customerRef, l.payerName])).toEqual([
      [1, 6000n, 'SBINN52026112700000001', 'SBINN52026112700000001', 'A ONE'],
      [2, 4000n, 'SBINN52026112700000002', 'SBINN52026112700000002', 'B TWO'],
    ]);
    const [whole] = parseStatements(camt({ entries: [batch('60.00', '30.00')] }));
    expect(whole!.lines.map((l) => [l.amountPaise, l.utr, l.payerName])).toEqual([[10000n, 'SBINN52026112700000001', 'A ONE']]);
  });

  it('takes interim balances (ITBD) of a paged statement as opening and closing', () => {
    const bal = (amt: string) => `<Bal><Tp><CdOrPrtry><Cd>ITBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">${amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-27</Dt></Dt></Bal>`;
    const [s] = parseStatements(camt({ bal: bal('5.00') + bal('105.00'), entries: [entry()] }));
    expect(s).toMatchObject({ openingPaise: 500n, closingPaise: 10500n });
  });
});

describe('extractUtr', () => {
  it.each([
    ['NEFT/UTR SBINN52026112712345/RAMESH', 'SBINN52026112712345'],
    ['RTGS HDFCR52026112700012345 ACME LTD', 'HDFCR52026112700012345'],
    ['by transfer utr no: sbinh26331123456 from x', 'SBINH26331123456'],
    ['UTR-NUMBER AXISCN0012345678', 'AXISCN0012345678'],
    ['UTR:N328240234567890', 'N328240234567890'],
    ['IMPS/P2A/633112345678/RAMESH', '633112345678'],
    ['MMT/IMPS/633112345678/X', '633112345678'],
    ['UPI/633198765432/SUNITA/sunita@oksbi', '633198765432'],
    ['RRN 633198765432 card', '633198765432'],
  ])('finds %s', (text, utr) => {
    expect(extractUtr(text)).toBe(utr);
  });

  it('prefers a labelled UTR to a token of the right shape', () => {
    expect(extractUtr('NEFT SBINN52026112712345 UTR: AXISCN0012345678')).toBe('AXISCN0012345678');
    expect(extractUtr('UTR: NOT AVAILABLE SBINN52026112712345')).toBe('SBINN52026112712345');
  });

  it('finds nothing in plain text, IBANs, BICs, card numbers or bare 12-digit numbers', () => {
    for (const t of ['', 'CASH DEPOSIT', 'IBAN: DE40500105174675974588 BIC: HEISDE66', 'CONS 110234567890 NOV BILL', 'SBIN0001234', 'ABCDN1234', 'ABCDNXXXXXXXXXXXXX12']) {
      expect(extractUtr(t)).toBeNull();
    }
  });

  it('finds no UTR in the European samples (and does not choke on them)', () => {
    const lines = [
      ...['citi_usd.sta', 'volksbank_de.sta', 'de_sepa_large_multi.sta'].flatMap((f) => parseStatements(shared(`mt940/${f}`))),
      ...['commerzbank_de.sta', 'ing_nl_swift_blocks_crlf.sta'].flatMap((f) => parseMt940(shared(`mt940/${f}`).toString('utf8'))),
      ...parseStatements(shared('camt053/camt053_001_02_multi_statement.xml')),
      ...parseCamt053(shared('camt053/camt053_001_04.xml')),
    ].flatMap((s) => s.lines);
    expect(lines.length).toBe(5 + 12 + 97 + 1 + 7 + 2 + 1);
    for (const l of lines) {
      expect(l.utr).toBeNull();
      expect(extractUtr(l.narrative)).toBeNull();
    }
  });

  it('reads a long text once (no backtracking)', () => {
    const long = `${'A1'.repeat(500_000)} ${'X '.repeat(200_000)}UTR`;
    expect(extractUtr(long)).toBeNull();
  });
});

describe('extractPayerName', () => {
  it.each([
    ['NEFT/UTR SBINN52026112712345/RAMESH KUMAR/BILL', 'SBINN52026112712345', 'RAMESH KUMAR'],
    ['IMPS/P2A/633112345678/SUNITA  DEVI/SBIN', '633112345678', 'SUNITA DEVI'],
    ['BY TRANSFER-NEFT*SBIN0001234*SBINN52026112712345*M/S ACME TRADERS', 'SBINN52026112712345', 'M/S ACME TRADERS'],
    ['NEFT CR-SBIN0001234-RAMESH KUMAR-BILL 42-SBINN52026112712345', 'SBINN52026112712345', 'RAMESH KUMAR'],
    ['UPI/633198765432/रमेश कुमार/r@oksbi', '633198765432', 'रमेश कुमार'],
    ['166?00UEBERWEISUNG?10931?20SVWZ+Musical', null, null],
    ['/PT/FT/PY/SOMETHING FOO BAR', null, null],
    ['NEFT/UTR SBINN52026112712345', 'SBINN52026112712345', null],
  ])('reads %s', (text, utr, name) => {
    expect(extractPayerName(text, utr)).toBe(name);
  });
});

describe('CSV layouts', () => {
  const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: 'ACC1' };
  const csv = (rows: string[], bom = true) => Buffer.from(`${bom ? '\uFEFF' : ''}${rows.join('\r\n')}\r\n`);
  const header = 'Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance';

  it('puts a newest-first file in date order, recognised by its running balances', () => {
    const [s] = parseStatements(csv([header, '03/11/2026,03/11/2026,B,,"1,000.00",,"10,500.00"', '02/11/2026,02/11/2026,A,,,"1,500.00","11,500.00"', '01/11/2026,01/11/2026,OPEN,,,100.00,"10,000.00"']), { csvLayout: layout });
    expect(s!.lines.map((l) => [l.lineNo, l.narrative, l.direction, l.amountPaise])).toEqual([
      [1, 'OPEN', 'credit', 10000n],
      [2, 'A', 'credit', 150000n],
      [3, 'B', 'debit', 100000n],
    ]);
    expect(s).toMatchObject({ openingPaise: 990000n, closingPaise: 1050000n, statementRef: '2026-11-01..2026-11-03' });
  });

  it('names the first row whose running balance breaks', () => {
    const e = thrown(() => parseStatements(csv([header, '01/11/2026,01/11/2026,A,,,100.00,"1,100.00"', '02/11/2026,02/11/2026,B,,50.00,,"1,060.00"', '03/11/2026,03/11/2026,C,,,10.00,"1,070.00"']), { csvLayout: layout }));
    expect(e.message).toBe("CSV statement: the running balance does not add up at row 3: previous balance 1100.00 (row 2) − debit 50.00 = 1050.00, but the row's balance is 1060.00 (difference 10.00)");
  });

  it('lists every damaged row: bad dates, Excel notation, two amounts, more than two decimals', () => {
    const e = thrown(() =>
      parseStatements(
        csv([header, '32/01/2026,32/01/2026,A,,,100.00,100.00', '01/11/2026,01/11/2026,B,6.33112E+11,,100.00,200.00', '02/11/2026,02/11/2026,C,,5.00,5.00,200.00', '03/11/2026,03/11/2026,D,,,1.005,201.01', '04/11/2026,04/11/2026,E,,,1.00,1.02345E+11']),
        { csvLayout: layout },
      ),
    );
    expect(e.message).toMatch(/^CSV statement: 5 bad rows: /);
    expect(e.message).toContain('row 2: "Value Date" "32/01/2026" is not a date (DD/MM/YYYY)');
    expect(e.message).toContain('row 3: "Ref No./Cheque No." "6.33112E+11" was turned into scientific notation by Excel');
    expect(e.message).toContain('row 4: both "Debit" and "Credit" hold an amount');
    expect(e.message).toContain('row 5: "Credit" "1.005": more than 2 decimals (3)');
    expect(e.message).toContain('row 6: "Balance" "1.02345E+11" was turned into scientific notation by Excel');
  });

  it('reads a semicolon file with one amount column, a Dr/Cr column, DD-MMM-YYYY dates, Cr/Dr balances and a payer column', () => {
    const l: CsvLayout = {
      account: 'ACC2',
      dateFormat: 'DD-MMM-YYYY',
      columns: { valueDate: 'Date', narrative: 'Particulars', utr: 'UTR', amount: 'Amount', drCr: 'Dr/Cr', balance: 'Balance', payerName: 'Remitter' },
    };
    const [s] = parseStatements(csv(['Date;Particulars;UTR;Remitter;Amount;Dr/Cr;Balance', '27-Nov-2026;NEFT INWARD;sbinn52026112712345;Asha Rao;1,23,456.78;CR;1,23,456.78 Cr', '28-Nov-2026;=cmd|calc;;;2,00,000.00;Dr.;76,543.22 Dr'], false), { csvLayout: l });
    expect(s).toMatchObject({ openingPaise: 0n, closingPaise: -7654322n, currency: 'INR' });
    expect(s!.lines.map((x) => [x.valueDate, x.direction, x.amountPaise, x.utr, x.payerName, x.narrative])).toEqual([
      ['2026-11-27', 'credit', 12345678n, 'SBINN52026112712345', 'Asha Rao', 'NEFT INWARD'],
      ['2026-11-28', 'debit', 20000000n, null, null, '=cmd|calc'],
    ]);
  });

  it('reads Excel "Unicode text": UTF-16LE, tab-separated', () => {
    const text = `${header.replace(/,/g, '\t')}\r\n01/11/2026\t01/11/2026\tNEFT/UTR SBINN52026110100001/ACME\t\t\t1,000.00\t1,000.00\r\n`;
    const data = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const [s] = parseStatements(data, { csvLayout: layout });
    expect(s!.lines[0]).toMatchObject({ utr: 'SBINN52026110100001', payerName: 'ACME', amountPaise: 100000n });
  });

  it('says which columns it could not find, and asks for a layout', () => {
    expect(thrown(() => parseStatements(csv(['Date,Narration,Withdrawal,Deposit,Closing Balance']), { csvLayout: layout })).message).toMatch(/^CSV statement: no header row with the columns "Txn Date", "Value Date", /);
    expect(thrown(() => parseStatements(csv([header]), { format: 'csv' })).message).toContain('needs a layout');
    expect(thrown(() => parseStatements(csv([header]), { csvLayout: layout })).message).toContain('no transaction rows after the header (row 1)');
  });

  it('reads quoted cells with delimiters, doubled quotes and line breaks', () => {
    expect(readRecords('a,"b,""c""\nd",e\r\nf', ',').map((r) => [r.line, r.cells])).toEqual([
      [1, ['a', 'b,"c"\nd', 'e']],
      [3, ['f']],
    ]);
  });
});

describe('MT940 details', () => {
  it('decodes a Windows-1252 file and takes entry dates across the year end', () => {
    const text = [':20:X', ':25:A', ':28C:1', ':60F:C261231EUR0,', ':61:2612310102C1,NTRFNONREF', ':86:Zahlung M\u00fcller', ':NS:22Extra', ':61:2701011231C1,NTRFNONREF', ':62F:C270101EUR2,', '-'].join('\n');
    const [s] = parseStatements(Buffer.from(text, 'latin1'));
    expect(s!.lines[0]).toMatchObject({ valueDate: '2026-12-31', bookingDate: '2027-01-02', narrative: 'Zahlung Müller' });
    expect(s!.lines[1]).toMatchObject({ valueDate: '2027-01-01', bookingDate: '2026-12-31' });
  });

  it('reads messages glued in one line of SWIFT blocks, and a UTR in the bank reference', () => {
    const text = '{1:F01X}{2:I940X}{4:\n:20:A\n:25:ACC\n:28C:1\n:60F:C261127INR0,\n:61:261127C5,NTRFNONREF//SBINN52026112712345\n:62F:C261127INR5,\n-}{5:{CHK:1}}{1:F01X}{2:I940X}{4::20:B\n:25:ACC\n:28:2\n:60M:C261127INR5,\n:62M:C261127INR5,\n-}';
    const all = parseStatements(Buffer.from(text));
    expect(all.map((s) => s.statementRef)).toEqual(['A/1', 'B/2']);
    expect(all[0]!.lines[0]).toMatchObject({ bankRef: 'SBINN52026112712345', utr: 'SBINN52026112712345' });
  });

  it('parses a generated 20,000-line file', () => {
    const n = 20_000;
    const out = [':20:BIG', ':25:00000039876543210', ':28C:1/1', ':60F:C261126INR0,00'];
    let total = 0n;
    for (let i = 0; i < n; i++) {
      const paise = BigInt(100 + i);
      total += paise;
      out.push(`:61:2611271127C${paise / 100n},${String(paise % 100n).padStart(2, '0')}NTRFNONREF//S${i}`, `:86:NEFT/UTR SBINN5202611${String(i).padStart(8, '0')}/PAYER ${i}/CONS`, `${i}`);
    }
    out.push(`:62F:C261127INR${total / 100n},${String(total % 100n).padStart(2, '0')}`, '-');
    const [s] = parseStatements(Buffer.from(out.join('\n')));
    expect(s!.lines).toHaveLength(n);
    expect(s!.creditsPaise).toBe(total);
    expect(s!.lines[n - 1]).toMatchObject({ lineNo: n, utr: `SBINN5202611${String(n - 1).padStart(8, '0')}`, payerName: `PAYER ${n - 1}`, narrative: `NEFT/UTR SBINN5202611${String(n - 1).padStart(8, '0')}/PAYER ${n - 1}/CONS ${n - 1}` });
  });
});

describe('writers', () => {
  const line = (l: Partial<StatementLine> & Pick<StatementLine, 'lineNo' | 'direction' | 'amountPaise'>): StatementLine => ({
    valueDate: '2026-11-27',
    bookingDate: '2026-11-27',
    currency: 'INR',
    bankRef: null,
    customerRef: null,
    utr: null,
    narrative: '',
    payerName: null,
    payerAccount: null,
    ...l,
  });
  // What the sandbox bank would hand over for a collection account.
  const sandbox: ParsedStatement = {
    format: 'mt940',
    account: '00000039876543210',
    statementRef: 'SANDBOX2611/27',
    currency: 'INR',
    openingPaise: 10_000_00n,
    openingDate: '2026-11-26',
    closingPaise: 10_000_00n + 1_50_000_00n + 25_00_000_00n + 4_999_00n + 1_250_50n + 500_00n - 15_00_000_00n - 590_00n,
    closingDate: '2026-11-27',
    creditsPaise: 1_50_000_00n + 25_00_000_00n + 4_999_00n + 1_250_50n + 500_00n,
    debitsPaise: 15_00_000_00n + 590_00n,
    lines: [
      line({ lineNo: 1, direction: 'credit', amountPaise: 1_50_000_00n, utr: 'SBINN52026112712345', payerName: 'MAHALAXMI TRADERS', narrative: 'Consumer 110234567890 November bill', bankRef: 'S1' }),
      line({ lineNo: 2, direction: 'credit', amountPaise: 25_00_000_00n, utr: 'HDFCR52026112700012345', payerName: 'M/S SHREE GANESH COLD STORAGE PVT LTD', narrative: 'RTGS dues for connections 1102 1103 1104 1105 1106 1107 1108 1109 1110 1111 1112 1113 1114', valueDate: '2026-11-26', bookingDate: '2026-11-27' }),
      line({ lineNo: 3, direction: 'credit', amountPaise: 4_999_00n, utr: '633112345678', payerName: 'रमेश कुमार', narrative: 'electricity', bookingDate: null }),
      line({ lineNo: 4, direction: 'credit', amountPaise: 1_250_50n, utr: '633198765432', payerName: null, narrative: 'UPI collect' }),
      line({ lineNo: 5, direction: 'credit', amountPaise: 500_00n, narrative: '=SUM(A1) CASH DEPOSIT', customerRef: 'CSH42' }),
      line({ lineNo: 6, direction: 'debit', amountPaise: 15_00_000_00n, narrative: 'SWEEP TO MAIN A/C', bankRef: 'SWP1' }),
      line({ lineNo: 7, direction: 'debit', amountPaise: 590_00n, narrative: 'CHARGES', utr: 'SBINN52026112799999' }),
    ],
  };
  const fields = (s: ParsedStatement) => s.lines.map((l) => ({ lineNo: l.lineNo, valueDate: l.valueDate, bookingDate: l.bookingDate, direction: l.direction, amountPaise: l.amountPaise, currency: l.currency, utr: l.utr, payerName: l.payerName }));
  const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: sandbox.account };

  it.each([
    ['mt940', (s: ParsedStatement) => parseStatements(writeMt940(s))],
    ['camt053', (s: ParsedStatement) => parseStatements(writeCamt053(s))],
    ['csv', (s: ParsedStatement) => parseStatements(writeCsv(s), { csvLayout: { ...layout, account: s.account } })],
  ] as const)('%s: parse(write(s)) gives the same lines, UTRs and payers', (format, roundTrip) => {
    const [back, ...more] = roundTrip(sandbox);
    expect(more).toHaveLength(0);
    expect(back!.format).toBe(format);
    expect(fields(back!)).toEqual(fields(sandbox));
    expect(back).toMatchObject({ account: sandbox.account, currency: 'INR', openingPaise: sandbox.openingPaise, closingPaise: sandbox.closingPaise, creditsPaise: sandbox.creditsPaise, debitsPaise: sandbox.debitsPaise });
    if (format !== 'csv') expect(back!.statementRef).toBe(sandbox.statementRef);
  });

  it('writes MT940 lines of at most 65 characters after the tag, CRLF, the UTR never cut', () => {
    const text = writeMt940(sandbox).toString('utf8');
    expect(text.endsWith('\r\n-\r\n')).toBe(true);
    expect(text.split('\r\n').every((l) => l.replace(/^:\d\d[A-Z]?:/, '').length <= 65)).toBe(true);
    expect(text).toContain(':86:RTGS/UTR HDFCR52026112700012345/M/S SHREE GANESH COLD STORAGE ');
    expect(text).toContain(':61:2611261127C2500000,00NTRFNONREF\r\n');
    expect(text).toContain(':61:261127C4999,00NTRFNONREF\r\n');
  });

  it('writes camt.053.001.08 that reads as XML, with the UTR in ClrSysRef and the payer as Dbtr', () => {
    const xml = writeCamt053(sandbox).toString('utf8');
    const doc = parseXml(xml);
    expect(doc.name).toBe('Document');
    expect(doc.attrs.xmlns).toBe('urn:iso:std:iso:20022:tech:xsd:camt.053.001.08');
    expect(xml).toContain('<ClrSysRef>SBINN52026112712345</ClrSysRef>');
    expect(xml).toContain('<Dbtr><Pty><Nm>M/S SHREE GANESH COLD STORAGE PVT LTD</Nm></Pty></Dbtr>');
    expect(xml).toContain('<Id>SANDBOX2611</Id>');
    expect(xml).toContain('<ElctrncSeqNb>27</ElctrncSeqNb>');
  });

  it('writes the Indian CSV layout with a BOM, Indian grouping and a guard against formulas', () => {
    const text = writeCsv(sandbox).toString('utf8');
    expect(text.startsWith('\uFEFFTxn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance\r\n')).toBe(true);
    expect(text).toContain(',"25,00,000.00",');
    expect(text).toContain(",'=SUM(A1) CASH DEPOSIT,");
    expect(indianGrouping(123456789n)).toBe('12,34,567.89');
    expect(indianGrouping(-100000n)).toBe('-1,000.00');
    expect(indianGrouping(5n)).toBe('0.05');
  });

  it('round-trips the samples through every writer', () => {
    const samples = [
      ...parseStatements(own('in_sbi_collection.sta')),
      ...parseStatements(own('in_bank_inr.csv'), { csvLayout: { ...INDIAN_BANK_CSV, account: 'A' } }),
      ...parseStatements(shared('mt940/volksbank_de.sta')),
      ...parseStatements(shared('mt940/de_sepa_large_multi.sta')),
      ...parseStatements(shared('camt053/camt053_001_02_multi_statement.xml')),
    ];
    for (const s of samples) {
      const csvLayout: CsvLayout = { ...INDIAN_BANK_CSV, currency: s.currency, account: s.account };
      const mt = parseStatements(writeMt940(s));
      const cx = parseStatements(writeCamt053(s));
      const cv = parseStatements(writeCsv(s, csvLayout), { csvLayout });
      // MT940 and CSV name the payer of credits only; camt carries the payer of debits too.
      const creditPayers = (x: ParsedStatement) => fields(x).map((f) => ({ ...f, payerName: f.direction === 'credit' ? f.payerName : null }));
      expect(creditPayers(mt[0]!)).toEqual(creditPayers(s));
      expect(fields(cx[0]!)).toEqual(fields(s));
      expect(creditPayers(cv[0]!)).toEqual(creditPayers(s));
      for (const back of [mt[0]!, cx[0]!, cv[0]!]) expect([back.openingPaise, back.closingPaise]).toEqual([s.openingPaise, s.closingPaise]);
    }
  });

  it('refuses to write a line in another currency into a one-currency format', () => {
    const mixed = { ...sandbox, lines: [...sandbox.lines, line({ lineNo: 8, direction: 'credit', amountPaise: 1n, currency: 'USD' })] };
    expect(thrown(() => writeMt940(mixed)).message).toBe('MT940 carries one currency: line 8 is in USD, the statement in INR');
    expect(thrown(() => writeCsv(mixed)).message).toContain('CSV carries one currency');
    expect(parseStatements(writeCamt053(mixed))[0]!.lines[7]).toMatchObject({ currency: 'USD', amountPaise: 1n });
  });
});

describe('what banks really send (issue 16, point 6)', () => {
  const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: '50200011112221' };

  it('refuses a CSV with a quote that is never closed, naming its row, instead of reading the rest of the file as one cell', () => {
    const e = thrown(() => parseStatements(own('in_bank_unterminated_quote.csv'), { csvLayout: layout }));
    expect(e.message).toMatch(/^CSV statement: row 5: a quoted cell opened in this row is never closed/);
    expect(e.message).toContain('(the row reads "02/11/2026,02/11/2026,\\"CHQ DEP 000077 SHARMA & SONS,000077,,…")');
  });

  it('reads CSV records with csv-parse: quoted delimiters, doubled quotes, line breaks, and the row each starts on', () => {
    expect(readRecords('a,"b,""c""\nd",e\r\n\r\nf,ab"c', ',').map((r) => [r.line, r.cells])).toEqual([
      [1, ['a', 'b,"c"\nd', 'e']],
      [3, ['']],
      [4, ['f', 'ab"c']],
    ]);
  });

  it('accepts amounts with more decimals when the extra digits are zeros, in CSV, MT940 and camt.053', () => {
    const [c] = parseStatements(own('in_bank_odd_forms.csv'), { csvLayout: layout });
    expect(c!.lines.map((l) => l.amountPaise)).toEqual([100000n, 544209n, 590n]);
    const [m, m2] = parseStatements(own('in_bank_header_lines.sta'));
    expect(m!.lines[0]!.amountPaise).toBe(100000n);
    expect(m2!.lines[0]!.amountPaise).toBe(544209n);
    const [x] = parseStatements(camt({ close: '1100.000', entries: [entry({ amt: '100.00000' })] }));
    expect(x!.lines[0]!.amountPaise).toBe(10000n);
  });

  it('refuses amounts whose digits past the paisa are not zeros, quoting each figure', () => {
    const e = thrown(() => parseStatements(own('in_bank_odd_decimals_bad.csv'), { csvLayout: layout }));
    expect(e.message).toContain('row 4: "Credit" "1000.001": more than 2 decimals (3), and not zeros past the paisa');
    expect(e.message).toContain('row 5: "Credit" "5442.09500": more than 2 decimals (5), and not zeros past the paisa');
    const mt = crlf([':20:R', ':25:A', ':60F:C261101INR0,', ':61:261101C1,0010NTRFNONREF', ':62F:C261101INR1,00', '-']);
    expect(thrown(() => parseStatements(mt)).message).toContain('amount "1,0010": more than 2 decimals (4), and not zeros past the paisa');
  });

  it('keeps a line dated on a day that does not exist, dated the month’s last day, with the date as sent (CSV, MT940, camt.053)', () => {
    const [c] = parseStatements(own('in_bank_odd_forms.csv'), { csvLayout: layout });
    expect(c!.lines[1]).toMatchObject({ valueDate: '2026-02-28', bookingDate: '2026-02-28', dateAsSent: '30/02/2026' });
    expect(c!.lines[0]!.dateAsSent).toBeUndefined();
    const [m] = parseStatements(own('in_bank_header_lines.sta'));
    expect(m!.lines[1]).toMatchObject({ valueDate: '2026-02-28', bookingDate: '2026-02-28', dateAsSent: '260230 0230' });
    const [x] = parseStatements(camt({ entries: [entry({ valDt: '<Dt>2028-02-30</Dt>' })] }));
    expect(x!.lines[0]).toMatchObject({ valueDate: '2028-02-29', dateAsSent: '2028-02-30' });
    const leap = parseStatements(Buffer.from(`Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance\n31-Apr-2026,31 Apr 2026,X,,,1.00,1.00\n`), { csvLayout: layout });
    expect(leap[0]!.lines[0]).toMatchObject({ valueDate: '2026-04-30', dateAsSent: '31 Apr 2026 / 31-Apr-2026' });
  });

  it('recognises an MT942 interim report and refuses it by name, asking for the MT940', () => {
    expect(detectFormat(own('in_sbi_interim.942'))).toBe('mt940');
    for (const opts of [{}, { format: 'mt940' as const }]) {
      const e = thrown(() => parseStatements(own('in_sbi_interim.942'), opts));
      expect(e.message).toBe("MT942 line 1: this is an MT942 interim report (intraday, with no opening and closing balance to prove it): it is not imported; import the day's MT940 statement, which holds the same lines");
    }
    // Without the SWIFT header: known by its :34F: floor limit and :13D: date-time, with no opening balance.
    const bare = own('in_sbi_interim.942').toString('latin1').split('\r\n').slice(1).join('\r\n').replace('-}', '-');
    expect(thrown(() => parseStatements(Buffer.from(bare, 'latin1'))).message).toMatch(/^MT940 statement 1 \(:20: SBI942261102A, line 1\): this is an MT942 interim report/);
  });

  it('skips non-SWIFT header lines a bank puts before each :20:', () => {
    const statements = parseStatements(own('in_bank_header_lines.sta'));
    expect(statements.map((s) => [s.statementRef, s.account, s.lines.length, s.closingPaise])).toEqual([
      ['SBI261102/00101/001', '50200011112221', 2, 150000n],
      ['SBI261103/00102/001', '50200011112221', 1, 694209n],
    ]);
    // A tag before the first :20: is still not a statement.
    expect(thrown(() => parseStatements(crlf(['HEADER', ':25:A', ':20:R']), { format: 'mt940' })).message).toBe('MT940 line 2: not an MT940 statement: :25: before any :20: tag');
  });
});

describe('the reason for a refused file, in Hindi', () => {
  const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: 'ACC1' };
  const header = 'Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance';
  const mt = (...body: string[]) => crlf([':20:REF1', ':25:ACC', ':28C:1/1', ...body]);
  // Every way the parsers refuse a file that these tests make.
  const refusals: [string, () => unknown][] = [
    ['empty', () => parseStatements(Buffer.alloc(0))],
    ['unrecognised', () => parseStatements(Buffer.from('hello'))],
    ['not MT940', () => parseStatements(shared('mt940/invalid_not_mt940.sta'), { format: 'mt940' })],
    ['tag before :20:', () => parseStatements(crlf([':25:A', ':20:R']), { format: 'mt940' })],
    ['truncated', () => parseStatements(mt(':60F:C261101INR100,00', '-'))],
    ['value date', () => parseStatements(mt(':60F:C261101INR100,00', ':61:261332C10,00NTRFNONREF', ':62F:C261101INR110,00', '-'))],
    ['opening', () => parseStatements(mt(':60F:C261301INR100,00', ':62F:C261101INR100,00', '-'))],
    ['decimals', () => parseStatements(mt(':60F:C261101INR100,00', ':61:261101C10,001NTRF', ':62F:C261101INR110,00', '-'))],
    ['type', () => parseStatements(mt(':60F:C261101INR100,00', ':61:261101C10,00', ':62F:C261101INR110,00', '-'))],
    ['61 first', () => parseStatements(mt(':61:261101C10,00NTRF', '-'), { format: 'mt940' })],
    ['balance', () => parseStatements(mt(':60F:D261101INR100,00', ':61:261101C10,50NTRFNONREF', ':62F:C261101INR110,00', '-'))],
    ['MT942', () => parseStatements(own('in_sbi_interim.942'))],
    ['ING', () => parseStatements(shared('mt940/ing_nl_swift_blocks_crlf.sta'))],
    ['camt currencies', () => parseStatements(shared('camt053/camt053_001_04.xml'))],
    ['camt no statement', () => parseStatements(shared('camt053/camt053_001_02_wrong_invalid.xml'))],
    ['camt amount', () => parseStatements(camt({ entries: [entry({ amt: '10.005' })] }))],
    ['camt date', () => parseStatements(camt({ entries: [entry({ valDt: '<Dt>2026-13-01</Dt>' })] }))],
    ['CSV quote', () => parseStatements(own('in_bank_unterminated_quote.csv'), { csvLayout: { ...layout, account: '50200011112221' } })],
    ['CSV decimals', () => parseStatements(own('in_bank_odd_decimals_bad.csv'), { csvLayout: layout })],
    ['CSV running balance', () => parseStatements(Buffer.from([header, '01/11/2026,01/11/2026,A,,,100.00,"1,100.00"', '02/11/2026,02/11/2026,B,,50.00,,"1,060.00"'].join('\n')), { csvLayout: layout })],
    ['CSV bad rows', () => parseStatements(Buffer.from([header, '32/01/2026,32/01/2026,A,,,100.00,100.00', '01/11/2026,01/11/2026,B,6.33112E+11,,100.00,200.00', '02/11/2026,02/11/2026,C,,5.00,5.00,200.00', '04/11/2026,04/11/2026,E,,,1.00,'].join('\n')), { csvLayout: layout })],
    ['CSV header', () => parseStatements(Buffer.from('Date,Narration,Withdrawal,Deposit,Closing Balance\n'), { csvLayout: layout })],
    ['CSV no rows', () => parseStatements(Buffer.from(`${header}\n`), { csvLayout: layout })],
  ];

  it.each(refusals)('says in Hindi why it refused: %s', (_name, refuse) => {
    const e = thrown(refuse);
    const hi = hindiReason(e.message);
    expect(hi).toMatch(/[\u0900-\u097F]/);
    // No English phrase left: what remains in Latin letters is the file's own text (quoted), tags, element names, codes and figures.
    const latin = hi.replace(/"(?:[^"\\]|\\.)*"/g, '').match(/\b[a-z]{3,}\b/g) ?? [];
    expect(latin.filter((w) => !['camt', 'text'].includes(w)), hi).toEqual([]);
  });
});
