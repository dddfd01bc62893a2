import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';
import { buildGateway } from '../payments/gateway.ts';
import { checkInvariants, InvariantBroken } from '../payments/invariants.ts';

/**
 * Issue 16, point 5: a statement, and each line of it, is counted once however often the bank's
 * files tell it. The two fixtures are one account's statement of one day, as exported at 11:00
 * and at the end of the day: the second repeats the first's lines and adds two.
 */

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/statements');
const ACCOUNT = '50200011112221';
const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

type Imported = { statements: { id: string | null; duplicate: boolean; lines: number; counts: Record<string, number> }[] };

describe(`statement identity on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let accounts: Client;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 23, connections: 60, asOf: new Date() });
    const config = testConfig({ devTools: true, logLevel: "error" });
    const payments = await buildGateway(config, database.db);
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    accounts = await new Client(app, '10.0.16.5').login('accounts.nbpdcl', DEMO_PASSWORD, secretOf('accounts.nbpdcl'));
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const importCsv = async (name: string) => {
    const r = await accounts.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=${ACCOUNT}&fileName=${name}`, fs.readFileSync(path.join(FIXTURES, name)));
    expect(r.statusCode, r.body).toBe(200);
    return r.json<Imported>().statements[0]!;
  };
  const money = async () => {
    const { rows } = await sql<{ bank: string; credits: number; statements: number }>`
      SELECT (SELECT coalesce(sum(amount_paise), 0) FROM ledger_entries WHERE account = 'bank')::text AS bank,
             (SELECT count(*)::int FROM bank_credits) AS credits, (SELECT count(*)::int FROM bank_statements) AS statements`.execute(database.db);
    return rows[0]!;
  };

  it('stores a CSV statement imported twice once: no second credit, the ledger’s bank account is what the bank credited', async () => {
    const first = await importCsv('in_bank_day_morning.csv');
    expect(first).toMatchObject({ duplicate: false, lines: 4 });
    expect(first.counts).toMatchObject({ newCredits: 3, notApplicable: 1 });
    const after = await money();
    // Three credits the bank reported: 10,000 + 25,000 + 5,000 rupees, each held (nothing names a challan).
    expect(after.bank).toBe('4000000');
    const again = await importCsv('in_bank_day_morning.csv');
    expect(again).toMatchObject({ duplicate: true, id: null });
    expect(await money()).toEqual(after);
    const held = await accounts.get('/api/v1/discom/recon/exceptions');
    expect(held.json<{ items: unknown[] }>().items).toHaveLength(3);
    await checkInvariants(database.db);
  });

  it('imports a second, fuller file of the same day, recognising the lines it repeats (by UTR, bank reference, or date, amount and narrative)', async () => {
    const evening = await importCsv('in_bank_day_evening.csv');
    expect(evening).toMatchObject({ duplicate: false, lines: 6 });
    // The NEFT by its UTR; the cheque by its reference and amount; the first cash deposit by its
    // content. The second, identical cash deposit is another deposit, and the new cheque is new.
    expect(evening.counts).toMatchObject({ confirmed: 1, known: 2, newCredits: 2, notApplicable: 1 });
    const m = await money();
    expect(m.bank).toBe(String(4_000_000 + 500_000 + 1_250_000));
    expect(m.credits).toBe(5);
    const lines = (await accounts.get(`/api/v1/discom/recon/statements/${evening.id}/lines`)).json<{ items: { lineNo: number; status: string; reason: string | null }[] }>().items;
    expect(lines.map((l) => [l.lineNo, l.status, l.reason])).toEqual([
      [1, 'matched', 'utr'],
      [2, 'matched', 'known_line'],
      [3, 'matched', 'known_line'],
      [4, 'not_applicable', 'a debit'],
      [5, 'matched', 'new credit'],
      [6, 'matched', 'new credit'],
    ]);
    await checkInvariants(database.db);
  });

  it('flags a line dated on a day that does not exist for review, with the date as sent, and imports the rest of the day (decimals padded with zeros read exactly)', async () => {
    const odd = await importCsv('in_bank_odd_forms.csv');
    expect(odd).toMatchObject({ duplicate: false, lines: 3 });
    expect(odd.counts).toMatchObject({ review: 1, newCredits: 2 });
    const listed = (await accounts.get('/api/v1/discom/recon/statements')).json<{ items: { id: string; review: number; currency: string; creditsPaise: string }[] }>().items.find((x) => x.id === odd.id);
    expect(listed).toMatchObject({ review: 1, currency: 'INR', creditsPaise: '644209' });
    const lines = (await accounts.get(`/api/v1/discom/recon/statements/${odd.id}/lines`)).json<{ items: { lineNo: number; valueDate: string; amountPaise: string; review: string | null; dateAsSent: string | null }[] }>().items;
    expect(lines.map((l) => [l.lineNo, l.valueDate, l.amountPaise, l.review, l.dateAsSent])).toEqual([
      [1, '2026-02-27', '100000', null, null],
      [2, '2026-02-28', '544209', 'impossible_date', '30/02/2026'],
      [3, '2026-03-02', '590', null, null],
    ]);
    await checkInvariants(database.db);
  });

  it('refuses a file with an unclosed quote, in English and in Hindi, naming the row', async () => {
    const r = await accounts.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=${ACCOUNT}`, fs.readFileSync(path.join(FIXTURES, 'in_bank_unterminated_quote.csv')));
    expect(r.statusCode).toBe(422);
    const m = r.json<{ error: { details: { message: { en: string; hi: string } }[] } }>().error.details[0]!.message;
    expect(m.en).toMatch(/^CSV statement: row 5: a quoted cell opened in this row is never closed/);
    // Hindi throughout: not the English reason after a Hindi prefix.
    expect(m.hi).toMatch(/^CSV विवरण: पंक्ति 5:/);
    expect(m.hi).not.toContain('never closed');
  });

  /** Runs `breakIt` and verify-money in a transaction that is then rolled back. */
  async function brokenBy(breakIt: (trx: typeof database.db) => Promise<void>): Promise<string> {
    let message = '';
    await database.db
      .transaction()
      .execute(async (trx) => {
        await breakIt(trx);
        await checkInvariants(trx).catch((e: unknown) => {
          expect(e).toBeInstanceOf(InvariantBroken);
          message = (e as Error).message;
        });
        throw new Error('roll back');
      })
      .catch((e: Error) => {
        if (e.message !== 'roll back') throw e;
      });
    await checkInvariants(database.db);
    return message;
  }

  it('verify-money fails on a statement line counted twice (a line duplicated by SQL, with a credit of its own)', async () => {
    const message = await brokenBy(async (trx) => {
      // The evening file's copy of the morning cheque, stored again as a line of its own with a credit of its own.
      const { rows } = await sql<{ id: bigint }>`
        INSERT INTO statement_lines (statement_id, line_no, value_date, booking_date, direction, amount_paise, currency, bank_ref, utr, va_number, narrative, payer_name, payer_account, status, reason, line_key)
        SELECT statement_id, line_no + 100, value_date, booking_date, direction, amount_paise, currency, bank_ref, utr, va_number, narrative, payer_name, payer_account, 'matched', 'new credit', line_key
          FROM statement_lines WHERE reason = 'known_line' AND bank_ref = '004512' RETURNING id`.execute(trx);
      const line = rows[0]!.id;
      await sql`
        INSERT INTO bank_credits (amount_paise, credited_at, narrative, source, sources, status, statement_line_id)
        SELECT amount_paise, now(), narrative, 'statement', ARRAY['statement'], 'received', id FROM statement_lines WHERE id = ${line}`.execute(trx);
      await sql`UPDATE statement_lines l SET credit_id = c.id FROM bank_credits c WHERE c.statement_line_id = l.id AND l.id = ${line}`.execute(trx);
    });
    expect(message).toMatch(/^invariant broken: no statement line is counted twice/);
    expect(message).toContain('R:004512:2026-11-10:2500000#1');
  });

  it('verify-money fails when the bank ledger account holds money no credit the bank reported explains', async () => {
    const message = await brokenBy(async (trx) => {
      const t = await trx.insertInto('ledger_transactions').values({ kind: 'credit_held', memo: 'phantom' }).returning('id').executeTakeFirstOrThrow();
      await trx.insertInto('ledger_entries').values([
        { txn_id: t.id, account: 'bank', connection_id: null, amount_paise: 500_000n },
        { txn_id: t.id, account: 'suspense', connection_id: null, amount_paise: -500_000n },
      ]).execute();
    });
    expect(message).toMatch(/^invariant broken: the bank ledger account equals the credits the bank reported/);
  });
});
