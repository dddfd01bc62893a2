import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS } from '../../../platform/parse-limits.ts';
import { closeParsePool, configureParsing, DEFAULT_POOL_SETTINGS } from '../../../platform/parse-pool.ts';
import { hindiReason, INDIAN_BANK_CSV, parseStatements, parseStatementsOffThread, readStatementsOffThread, StatementError, type CsvLayout } from './index.ts';
import { parseSettlementReport, parseSettlementReportOffThread } from '../../../modules/reconciliation/settlement-report.ts';
import { AppError } from '../../../platform/errors.ts';

/**
 * Statements over the limits (parse-limits.ts), and statements read in a parse worker: the same
 * result as in this thread, or a refusal naming the limit, the time budget or the memory, in a
 * reason hindiReason translates.
 */

const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`);

/** One MT940 statement of `n` credits of ₹1.00, balanced. */
function mt940(n: number): Buffer {
  const out = [':20:BIG1', ':25:50200011112221', ':28C:1/1', ':60F:C261101INR0,00'];
  for (let i = 0; i < n; i++) out.push(':61:2611011101C1,00NTRFNONREF//B' + i, `:86:NEFT-SBIN0000${String(i).padStart(12, '0')}-PAYER ${i}`);
  out.push(`:62F:C261101INR${n},00`, '-');
  return crlf(out);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

function expectHindi(en: string) {
  const hi = hindiReason(en);
  expect(hi).toMatch(/[\u0900-\u097F]/);
  const latin = hi.replace(/"(?:[^"\\]|\\.)*"/g, '').match(/\b[a-z]{3,}\b/g) ?? [];
  expect(latin.filter((w) => w !== 'camt'), hi).toEqual([]);
}

const layout: CsvLayout = { ...INDIAN_BANK_CSV, account: 'ACC1' };
const header = 'Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance';

afterEach(async () => {
  await configureParsing({ ...DEFAULT_POOL_SETTINGS, limits: { ...DEFAULT_PARSE_LIMITS } });
});
afterAll(closeParsePool);

describe('statement limits', () => {
  it('refuses a statement with more lines than MAX_STATEMENT_LINES, in MT940, CSV and camt.053, saying so in both languages', async () => {
    await configureParsing({ limits: { ...DEFAULT_PARSE_LIMITS, maxStatementLines: 100 } });
    expect(parseStatements(mt940(100))[0]!.lines).toHaveLength(100);
    const e = thrown(() => parseStatements(mt940(101)));
    expect(e).toBeInstanceOf(StatementError);
    expect(e.message).toBe('MT940 statement 1 (:20: BIG1, line 1): more than 100 transaction lines, over the limit for one statement: the file is not read');
    expectHindi(e.message);

    const rows = (n: number) => [header, ...Array.from({ length: n }, (_, i) => `01/11/2026,01/11/2026,NEFT ${i},,,1.00,${i + 1}.00`)].join('\n');
    expect(parseStatements(Buffer.from(rows(100)), { csvLayout: layout })[0]!.lines).toHaveLength(100);
    const c = thrown(() => parseStatements(Buffer.from(rows(101)), { csvLayout: layout }));
    expect(c.message).toBe('CSV statement: more than 100 transaction lines, over the limit for one statement: the file is not read');
    expectHindi(c.message);

    const entry = '<Ntry><Amt Ccy="INR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><ValDt><Dt>2026-11-01</Dt></ValDt></Ntry>';
    const camt = (n: number) =>
      Buffer.from(
        `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><Othr><Id>ACC1</Id></Othr></Id></Acct>` +
          `<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-01</Dt></Dt></Bal>` +
          `<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="INR">${n}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-01</Dt></Dt></Bal>` +
          `${entry.repeat(n)}</Stmt></BkToCstmrStmt></Document>`,
      );
    expect(parseStatements(camt(100))[0]!.lines).toHaveLength(100);
    const x = thrown(() => parseStatements(camt(101)));
    expect(x.message).toBe('camt.053 statement 1 (Id S1, line 1): more than 100 transaction lines, over the limit for one statement: the file is not read');
    expectHindi(x.message);
  });

  it('refuses a statement with a line over MAX_LINE_BYTES before decoding it, and a CSV cell over MAX_CELL_BYTES', () => {
    const oneLine = Buffer.alloc(19 * 1024 * 1024, 'A');
    const t0 = performance.now();
    const e = thrown(() => parseStatements(oneLine, { csvLayout: layout }));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.message).toBe('line 1 is 19 MB long, over the limit of 64 KB for one line: the file is not read (a file that is one long line is not a table or a statement)');
    expectHindi(e.message);
    const mt = thrown(() => parseStatements(Buffer.concat([crlf([':20:R', ':25:A']), Buffer.alloc(70_000, 'B')]), { format: 'mt940' }));
    expect(mt.message).toMatch(/^line 3 is 69 KB long/);

    // A quoted cell running over many short lines: every line is short, the cell is not.
    const long = `${header}\n01/11/2026,01/11/2026,"${'x\n'.repeat(20_000)}",,,1.00,1.00\n`;
    const c = thrown(() => parseStatements(Buffer.from(long), { csvLayout: layout }));
    expect(c.message).toMatch(/^CSV statement: row \d+: a cell is longer than the limit of 32 KB: the file is not read$/);
    expectHindi(c.message);
  });
});

describe('statements read off the event loop', () => {
  it('gives the same statements, and the same refusals, as reading in this thread', async () => {
    const file = mt940(2000);
    const here = parseStatements(file);
    const there = await parseStatementsOffThread(file);
    expect(there).toEqual(here);
    expect((await readStatementsOffThread(file))[0]!.proof).toEqual({ ok: true });
    const e = await rejected(parseStatementsOffThread(Buffer.from('hello')));
    expect(e).toBeInstanceOf(StatementError);
    expect(e.message).toBe(thrown(() => parseStatements(Buffer.from('hello'))).message);
  });

  it('keeps the event loop free while a large statement is read, and cuts a read off at its time budget, saying so', async () => {
    const big = mt940(150_000); // ~11 MB, 300,000 lines of text
    let ticks = 0;
    let worst = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      ticks++;
    }, 10);
    try {
      const t0 = performance.now();
      const s = await parseStatementsOffThread(big);
      const took = performance.now() - t0;
      expect(s[0]!.lines).toHaveLength(150_000);
      // The loop ran all along: never held for anything like the parse itself.
      expect(ticks).toBeGreaterThan(took / 100);
      expect(worst).toBeLessThan(Math.max(250, took / 4));
      console.log(`MT940 150,000 lines off-thread: ${Math.round(took)} ms (first task includes worker start); worst timer gap ${Math.round(worst)} ms`);
    } finally {
      clearInterval(timer);
    }

    await configureParsing({ timeBudgetMs: 150 });
    await parseStatementsOffThread(mt940(1)); // the worker up and the parser loaded: the budget is the parse's own
    const e = await rejected(parseStatementsOffThread(big));
    expect(e).toBeInstanceOf(StatementError);
    expect(e.message).toBe('reading the file took longer than the limit of 0.15 s and was stopped');
    expectHindi(e.message);
    // The worker was replaced: the next file is read.
    expect((await parseStatementsOffThread(mt940(3)))[0]!.lines).toHaveLength(3);
  });

  it('stops a read that needs more memory than its worker may have, and carries on', async () => {
    await configureParsing({ maxOldGenerationSizeMb: 64, timeBudgetMs: 60_000 });
    const before = process.memoryUsage().rss;
    const e = await rejected(parseStatementsOffThread(mt940(190_000)));
    expect(e.message).toBe('reading the file needed more than the 64 MB of memory allowed and was stopped');
    expectHindi(e.message);
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
    expect((await parseStatementsOffThread(mt940(2)))[0]!.lines).toHaveLength(2);
  });
});

describe('settlement report limits', () => {
  const head = 'entity_id,type,debit,credit,amount,currency,fee,tax,on_hold,settled,created_at,settled_at,settlement_id,settlement_utr,order_id,method';
  const row = (i: number) => `pay_${String(i).padStart(14, 'A')},payment,0,10000,10000,INR,200,36,0,1,1762000000,1762100000,setl_A1,UTR${i},order_x,upi`;

  it('refuses a report over the line, cell or row limits, and reads one off the event loop as in this thread', async () => {
    await configureParsing({ limits: { ...DEFAULT_PARSE_LIMITS, maxStatementLines: 50 } });
    const ok = Buffer.from([head, ...Array.from({ length: 50 }, (_, i) => row(i))].join('\n'));
    expect(parseSettlementReport(ok)).toHaveLength(50);
    expect(await parseSettlementReportOffThread(ok)).toEqual(parseSettlementReport(ok));
    const many = Buffer.from([head, ...Array.from({ length: 51 }, (_, i) => row(i))].join('\n'));
    for (const e of [thrown(() => parseSettlementReport(many)), await rejected(parseSettlementReportOffThread(many))]) {
      expect(e).toBeInstanceOf(AppError);
      const msg = (e as AppError).details[0]!.message;
      expect(msg.en).toBe('settlement report: more than 50 rows, over the limit for one report: the file is not read');
      expect(msg.hi).toMatch(/^निपटान रिपोर्ट: 50 से अधिक पंक्तियाँ/);
    }
    const wide = thrown(() => parseSettlementReport(Buffer.from(`${head}\n${'x'.repeat(100_000)}\n`)));
    expect(((wide as AppError).details[0]!.message as { en: string }).en).toBe('settlement report: line 2 is 98 KB long, over the limit of 64 KB for one line: the file is not read (a file that is one long line is not a table or a statement)');
    const cell = thrown(() => parseSettlementReport(Buffer.from(`${head}\n"${'y\n'.repeat(20_000)}"\n`)));
    expect(((cell as AppError).details[0]!.message as { en: string }).en).toMatch(/^settlement report: row \S+: a cell is longer than the limit of 32 KB/);
  });
});
