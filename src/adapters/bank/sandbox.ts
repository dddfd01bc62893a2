import { randomBytes, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { hmacHex } from '../gateway/razorpay-protocol.ts';
import { writeCamt053, writeCsv, writeMt940, type ParsedStatement, type StatementFormat, type StatementLine } from './statements/index.ts';
import { ecollectBody, type EcollectCredit } from './ecollect.ts';

/**
 * The embedded sandbox bank: the discoms' collection bank. It keeps accounts (each with the
 * virtual account prefix it allotted), books transfers into them and tells the portal in the
 * three ways real banks do: a Smart Collect virtual_account.credited webhook (through the
 * sandbox gateway, Razorpay's format and signature), the e-collect validate/notify calls
 * (HMAC-signed JSON), or only the statement, which it writes as MT940, camt.053 or CSV. Its
 * tables are in schema bank_sim; the portal reaches it only through this adapter and HTTP.
 */

type Db = Kysely<DB>;

export type Channel = 'notification' | 'ecollect' | 'statement';

export interface TransferIn {
  vaNumber: string;
  amountPaise: bigint;
  /** UPI: paid to the virtual account's UPI address (a Smart Collect VPA receiver). */
  mode?: 'NEFT' | 'RTGS' | 'IMPS' | 'UPI';
  payerName?: string | null;
  payerAccount?: string | null;
  payerIfsc?: string | null;
  utr?: string;
  at?: Date;
  channel: Channel;
}

export interface TransferOut {
  utr: string;
  status: 'booked' | 'returned';
  reason: string | null;
  accountNo: string | null;
}

export interface BankLinks {
  /** Queue the Smart Collect webhook (the sandbox gateway's notifyBankTransfer). */
  notify?: (t: { vaNumber: string; ifsc: string; holder: string; utr: string; mode: string; amountPaise: bigint; payerName: string | null; payerAccount: string | null; payerIfsc: string | null; at: Date }) => Promise<unknown>;
  /** POST a signed JSON body to the portal's e-collect API ('validate' or 'notify'); the answer's JSON. */
  ecollect?: (step: 'validate' | 'notify', body: string, signature: string) => Promise<{ status: number; json: Record<string, unknown> }>;
}

export class BankError extends Error {}

// A UPI credit's reference is the NPCI's 12-digit RRN.
const utrOf = (mode: string, at: Date) => mode === 'UPI' ? `${at.toISOString().slice(2, 4)}${String(randomInt(1e10)).padStart(10, '0')}` : `SBXB${mode === 'RTGS' ? 'R' : mode === 'IMPS' ? 'H' : 'N'}${at.toISOString().slice(0, 10).replaceAll('-', '')}${String(randomInt(1e9)).padStart(9, '0')}`;

export class SandboxBank {
  constructor(private readonly db: Db) {}

  /** The e-collect shared secret (made on first use). */
  async ecollectSecret(): Promise<string> {
    await sql`INSERT INTO bank_sim.settings (id, ecollect_secret) VALUES (1, ${randomBytes(24).toString('base64url')}) ON CONFLICT (id) DO NOTHING`.execute(this.db);
    const { rows } = await sql<{ s: string }>`SELECT ecollect_secret AS s FROM bank_sim.settings WHERE id = 1`.execute(this.db);
    return rows[0]!.s;
  }

  async openAccount(a: { accountNo: string; ifsc: string; holder: string; vaPrefix: string | null; openingPaise?: bigint }): Promise<void> {
    await sql`INSERT INTO bank_sim.accounts (account_no, ifsc, holder, va_prefix, opening_paise)
              VALUES (${a.accountNo}, ${a.ifsc}, ${a.holder}, ${a.vaPrefix}, ${a.openingPaise ?? 0n})
              ON CONFLICT (account_no) DO UPDATE SET ifsc = EXCLUDED.ifsc, holder = EXCLUDED.holder, va_prefix = EXCLUDED.va_prefix`.execute(this.db);
  }

  async accounts(): Promise<{ accountNo: string; ifsc: string; holder: string; vaPrefix: string | null }[]> {
    const { rows } = await sql<{ account_no: string; ifsc: string; holder: string; va_prefix: string | null }>`SELECT account_no, ifsc, holder, va_prefix FROM bank_sim.accounts ORDER BY account_no`.execute(this.db);
    return rows.map((r) => ({ accountNo: r.account_no, ifsc: r.ifsc, holder: r.holder, vaPrefix: r.va_prefix }));
  }

  /**
   * A payer's transfer to a virtual account. The bank knows which of its accounts a virtual
   * account belongs to by its prefix (not whether the portal issued that number). With
   * e-collect it asks the portal first and returns the money when told to.
   */
  async transfer(t: TransferIn, links: BankLinks = {}): Promise<TransferOut> {
    const va = t.vaNumber.trim().toUpperCase();
    const at = t.at ?? new Date();
    const mode = t.mode ?? 'NEFT';
    const utr = t.utr ?? utrOf(mode, at);
    if (t.amountPaise <= 0n) throw new BankError('the amount must be positive');
    const { rows } = await sql<{ account_no: string; ifsc: string; holder: string }>`SELECT account_no, ifsc, holder FROM bank_sim.accounts WHERE va_prefix = ${va.slice(0, 4)}`.execute(this.db);
    const acct = rows[0];
    if (!acct) return { utr, status: 'returned', reason: `no account of this bank has virtual accounts ${va.slice(0, 4)}…`, accountNo: null };
    const credit: EcollectCredit = { utr, vaNumber: va, amountPaise: t.amountPaise, mode, creditedAt: at, payerName: t.payerName ?? null, payerAccount: t.payerAccount ?? null, payerIfsc: t.payerIfsc ?? null };
    if (t.channel === 'ecollect') {
      if (!links.ecollect) throw new BankError('e-collect is not connected');
      const secret = await this.ecollectSecret();
      const body = ecollectBody(credit);
      const r = await links.ecollect('validate', body, hmacHex(secret, body));
      if (r.status !== 200 || r.json.decision !== 'accept') {
        const reason = typeof r.json.reason === 'string' ? r.json.reason : `the portal answered ${r.status}`;
        await this.book(acct.account_no, credit, 'returned', `returned: ${reason}`);
        return { utr, status: 'returned', reason, accountNo: acct.account_no };
      }
    }
    await this.book(acct.account_no, credit, 'booked', `${mode}/${utr}/${credit.payerName ?? ''}/${va}`);
    if (t.channel === 'notification') {
      if (!links.notify) throw new BankError('Smart Collect notifications are not connected');
      await links.notify({ vaNumber: va, ifsc: acct.ifsc, holder: acct.holder, utr, mode, amountPaise: t.amountPaise, payerName: credit.payerName, payerAccount: credit.payerAccount, payerIfsc: credit.payerIfsc, at });
    } else if (t.channel === 'ecollect') {
      const secret = await this.ecollectSecret();
      const body = ecollectBody(credit);
      await links.ecollect!('notify', body, hmacHex(secret, body));
    }
    return { utr, status: 'booked', reason: null, accountNo: acct.account_no };
  }

  /** Any other credit to an account (a gateway's settlement payout, a transfer without a virtual account). */
  async bookCredit(accountNo: string, c: { utr: string; amountPaise: bigint; at: Date; mode: string; narrative: string; payerName?: string | null; payerAccount?: string | null }): Promise<void> {
    await sql`INSERT INTO bank_sim.transactions (account_no, booked_at, direction, amount_paise, utr, va_number, mode, payer_name, payer_account, narrative)
              VALUES (${accountNo}, ${c.at}, 'credit', ${c.amountPaise}, ${c.utr}, NULL, ${c.mode}, ${c.payerName ?? null}, ${c.payerAccount ?? null}, ${c.narrative})
              ON CONFLICT (utr) DO NOTHING`.execute(this.db);
  }

  private async book(accountNo: string, c: EcollectCredit, status: 'booked' | 'returned', narrative: string): Promise<void> {
    await sql`INSERT INTO bank_sim.transactions (account_no, booked_at, direction, amount_paise, utr, va_number, mode, payer_name, payer_account, payer_ifsc, narrative, status)
              VALUES (${accountNo}, ${c.creditedAt}, 'credit', ${c.amountPaise}, ${c.utr}, ${c.vaNumber}, ${c.mode}, ${c.payerName}, ${c.payerAccount}, ${c.payerIfsc}, ${narrative.slice(0, 300)}, ${status})
              ON CONFLICT (utr) DO NOTHING`.execute(this.db);
  }

  /** The account's statement for IST days from..to (inclusive), as the bank would send it. */
  async statement(accountNo: string, from: string, to: string, format: StatementFormat): Promise<{ data: Buffer; statement: ParsedStatement }> {
    const { rows: accts } = await sql<{ opening_paise: bigint }>`SELECT opening_paise FROM bank_sim.accounts WHERE account_no = ${accountNo}`.execute(this.db);
    const acct = accts[0];
    if (!acct) throw new BankError(`no account ${accountNo}`);
    const day = sql`(booked_at AT TIME ZONE 'Asia/Kolkata')::date`;
    const { rows: before } = await sql<{ s: bigint }>`
      SELECT coalesce(sum(CASE direction WHEN 'credit' THEN amount_paise ELSE -amount_paise END), 0)::bigint AS s
        FROM bank_sim.transactions WHERE account_no = ${accountNo} AND status = 'booked' AND ${day} < ${from}::date`.execute(this.db);
    const { rows } = await sql<{ d: string; direction: 'credit' | 'debit'; amount_paise: bigint; utr: string; narrative: string; payer_name: string | null; payer_account: string | null }>`
      SELECT to_char(${day}, 'YYYY-MM-DD') AS d, direction, amount_paise, utr, narrative, payer_name, payer_account
        FROM bank_sim.transactions WHERE account_no = ${accountNo} AND status = 'booked' AND ${day} BETWEEN ${from}::date AND ${to}::date
       ORDER BY booked_at, id`.execute(this.db);
    const opening = BigInt(acct.opening_paise) + BigInt(before[0]!.s);
    const lines: StatementLine[] = rows.map((r, i) => ({
      lineNo: i + 1, valueDate: r.d, bookingDate: r.d, direction: r.direction, amountPaise: BigInt(r.amount_paise), currency: 'INR', bankRef: `SBX${String(i + 1).padStart(6, '0')}`,
      customerRef: null, utr: r.utr, narrative: r.narrative, payerName: r.payer_name, payerAccount: r.payer_account,
    }));
    const credits = lines.filter((l) => l.direction === 'credit').reduce((s, l) => s + l.amountPaise, 0n);
    const debits = lines.filter((l) => l.direction === 'debit').reduce((s, l) => s + l.amountPaise, 0n);
    const statement: ParsedStatement = {
      format, account: accountNo, // An intraday statement asked again after new credits is another statement (its lines known by UTR).
      statementRef: `SBX${from.replaceAll('-', '')}${to.replaceAll('-', '').slice(2)}-${lines.length}`, currency: 'INR', openingPaise: opening, openingDate: from,
      closingPaise: opening + credits - debits, closingDate: to, creditsPaise: credits, debitsPaise: debits, lines,
    };
    const data = format === 'mt940' ? writeMt940(statement) : format === 'camt053' ? writeCamt053(statement) : writeCsv(statement);
    return { data, statement };
  }
}
