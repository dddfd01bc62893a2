import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import { SandboxBank, type Channel } from '../../adapters/bank/sandbox.ts';
import { signWebhook } from '../../adapters/gateway/razorpay-protocol.ts';
import type { SandboxGateway } from '../../adapters/gateway/sandbox.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID, type Payments } from '../payments/gateway.ts';
import { checkInvariants } from '../payments/invariants.ts';
import { runJanitor } from '../payments/index.ts';
import { CHALLAN_TRANSITIONS, expireChallans, rebateDeadline } from './challans.ts';
import { flagUnsettled } from './settlements.ts';
import { isVaNumber, vaNumber } from './va.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;
const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/razorpay');

interface ChallanJson {
  id: string;
  batchId: string;
  vaNumber: string;
  ifsc: string;
  amountPaise: string;
  validUntil: string;
  status: string;
  credits: { utr: string | null; amountPaise: string; status: string; sources: string[]; exception: { id: string; reason: string; status: string } | null }[];
}
interface ExceptionJson {
  id: string;
  reason: string;
  amountPaise: string;
  utr: string | null;
  batchId: string | null;
  actions: string[];
}

describe(`RTGS/NEFT challans and bank credits on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let payments: Payments;
  let sandbox: SandboxGateway;
  let bank: SandboxBank;
  let maker: Client;
  let phed: Client;
  /** NBPDCL's accounts team: the challans here are NBPDCL's (virtual accounts NBPD…). */
  let accounts: Client;
  /** The holding company's admin: the online collections account, gateway settlements, credits to accounts not ours. */
  let holding: Client;
  let eduOrg: bigint;
  let webhookSecret: string;
  let utrNo = 0;

  const deliver = () => sandbox.pump(async (d) => (await app.inject({ method: 'POST', url: new URL(d.url).pathname, headers: d.headers, payload: d.body })).statusCode);
  const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;

  /** Connection ids of the organisation with something due, not in an open batch, of one discom. */
  async function payable(orgId: bigint, n: number, discom = 'NBPDCL'): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN connections c ON c.id = d.connection_id JOIN discoms dc ON dc.id = c.discom_id
       WHERE d.org_id = ${orgId} AND d.balance_paise > 100000 AND dc.code = ${discom}
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id LIMIT ${n}`.execute(database.db);
    expect(rows.length).toBe(n);
    return rows.map((r) => r.connection_id.toString());
  }

  async function readyBatch(ids: string[]): Promise<{ id: string; totalPaise: string }> {
    const r = await maker.req('POST', '/api/v1/org/payments/batches', { items: ids.map((connectionId) => ({ connectionId })) }, { 'idempotency-key': newKey() });
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  }

  async function challanFor(n = 2): Promise<ChallanJson> {
    const b = await readyBatch(await payable(eduOrg, n));
    const r = await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json<ChallanJson>();
  }

  /** A payer's transfer through the sandbox bank, told to the portal by the channel. */
  async function transfer(va: string, amountPaise: bigint | string, channel: Channel, extra: Record<string, unknown> = {}) {
    const r = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: va, amountPaise: String(amountPaise), channel, mode: 'NEFT', payerName: 'Education Dept DDO Patna', payerAccount: '30001234567', payerIfsc: 'SBIN0000152', ...extra } });
    expect(r.statusCode, r.body).toBe(200);
    if (channel === 'notification') await deliver();
    return r.json<{ utr: string; status: string; reason: string | null }>();
  }

  const challan = async (batchId: string) => (await maker.get(`/api/v1/org/payments/batches/${batchId}/challan`)).json<ChallanJson>();
  const batch = async (batchId: string) => (await maker.get(`/api/v1/org/payments/batches/${batchId}`)).json<{ status: string; paidPaise: string; receipts: number; mode: string }>();
  const openExceptions = async (who = accounts) => (await who.get('/api/v1/discom/recon/exceptions')).json<{ items: ExceptionJson[]; counts: Record<string, number> }>();
  const exceptionOf = async (utr: string, who = accounts) => {
    const e = (await openExceptions(who)).items.find((x) => x.utr === utr);
    expect(e, `an open exception for ${utr}`).toBeDefined();
    return e!;
  };
  const resolve = async (id: string, body: Record<string, unknown>, who = accounts) => who.post(`/api/v1/discom/recon/exceptions/${id}/resolve`, body);

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 11, connections: 800, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true });
    payments = await buildGateway(config, database.db);
    sandbox = payments.sandbox!;
    webhookSecret = (await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' })).webhookSecret;
    bank = new SandboxBank(database.db);
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    maker = await new Client(app, '10.0.2.1').login('edu.admin', DEMO_PASSWORD);
    phed = await new Client(app, '10.0.2.2').login('phed.admin', DEMO_PASSWORD);
    accounts = await new Client(app, '10.0.2.3').login('accounts.nbpdcl', DEMO_PASSWORD, secretOf('accounts.nbpdcl'));
    holding = await new Client(app, '10.0.2.4').login('admin.discom', DEMO_PASSWORD, secretOf('admin.discom'));
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
    await sandbox.setControl({ duplicates: 0, delaySeconds: 0, jitterSeconds: 0, dropWebhooks: false, apiDownUntil: null, pendingSeconds: 30 });
  });

  it('declares the challan’s moves as data, and the database refuses any other', async () => {
    const table = await database.db.selectFrom('state_transitions').selectAll().where('machine', '=', 'challan').execute();
    const declared = Object.entries(CHALLAN_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
    expect(table.map((t) => `${t.from_state}->${t.to_state}`).sort()).toEqual(declared.sort());
  });

  it('makes virtual account numbers whose check digit catches a mistyped or swapped digit', () => {
    const va = vaNumber('NBPD', 1234n);
    expect(va).toMatch(/^NBPD0000001234[0-9]$/);
    expect(isVaNumber(va)).toBe(true);
    const typo = `${va.slice(0, 10)}${(Number(va[10]) + 1) % 10}${va.slice(11)}`;
    expect(isVaNumber(typo)).toBe(false);
    const swapped = `${va.slice(0, 11)}${va[12]}${va[11]}${va.slice(13)}`;
    if (va[11] !== va[12]) expect(isVaNumber(swapped)).toBe(false);
  });

  it('issues a challan: its own virtual account, the exact amount, a deadline; the bills stay locked; PDF in both languages and a bank bulk file', async () => {
    const ids = await payable(eduOrg, 3);
    const b = await readyBatch(ids);
    const r = await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`);
    expect(r.statusCode, r.body).toBe(200);
    const c = r.json<ChallanJson>();
    expect(isVaNumber(c.vaNumber)).toBe(true);
    expect(c.vaNumber.startsWith('NBPD')).toBe(true);
    expect(c.ifsc).toBe('SBXB0000101');
    expect(c.amountPaise).toBe(b.totalPaise);
    // 72 hours, or less: to the end of the earliest due date whose rebate the amount counts on.
    const rebatedDue = (await database.db.selectFrom('payment_batch_items').select((eb) => eb.fn.min('due_date').as('d')).where('batch_id', '=', BigInt(b.id)).where('rebate_paise', '>', 0n).executeTakeFirst())?.d;
    const deadline = rebatedDue ? rebateDeadline(String(rebatedDue).slice(0, 10)).getTime() : Infinity;
    if (deadline > Date.now() + 72 * 3_600_000) expect(new Date(c.validUntil).getTime() - Date.now()).toBeGreaterThan(71 * 3_600_000);
    else expect(new Date(c.validUntil).getTime()).toBe(deadline);
    expect(c.status).toBe('active');
    // Asking again gives the same challan.
    expect((await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<ChallanJson>().vaNumber).toBe(c.vaNumber);
    expect(await batch(b.id)).toMatchObject({ status: 'payment_pending', mode: 'rtgs_neft' });
    // Its bills cannot enter another batch while the challan is valid.
    const again = await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: ids[0] }] }, { 'idempotency-key': newKey() });
    expect(again.statusCode).toBe(409);
    // Another organisation sees nothing of it.
    expect((await phed.get(`/api/v1/org/payments/batches/${b.id}/challan`)).statusCode).toBe(404);
    for (const lang of ['en', 'hi']) {
      const pdf = await maker.get(`/api/v1/org/payments/batches/${b.id}/challan.pdf?lang=${lang}`);
      expect(pdf.statusCode).toBe(200);
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    }
    const bulk = await maker.get(`/api/v1/org/payments/batches/${b.id}/challan-bulk.csv`);
    expect(bulk.statusCode).toBe(200);
    const cols = bulk.body.trimEnd().split(',');
    expect(cols[0]).toBe(BigInt(c.amountPaise) >= 2_00_000_00n ? 'R' : 'N');
    expect(cols[2]).toBe(c.vaNumber);
    expect(cols[3]).toBe(`${BigInt(c.amountPaise) / 100n}.${(BigInt(c.amountPaise) % 100n).toString().padStart(2, '0')}`);
    expect(cols).toContain('SBXB0000101');
    await checkInvariants(database.db);
  });

  it('refuses a challan for a batch with bills of both discoms, naming why', async () => {
    const ids = [...(await payable(eduOrg, 1, 'NBPDCL')), ...(await payable(eduOrg, 1, 'SBPDCL'))];
    const b = await readyBatch(ids);
    const r = await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`);
    expect(r.statusCode).toBe(409);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('CHALLAN_MIXED_DISCOMS');
    await maker.post(`/api/v1/org/payments/batches/${b.id}/cancel`, {});
  });

  it('applies a Smart Collect credit of the exact amount once: receipts, postings, the UTR shown to the payer; a repeated notification changes nothing', async () => {
    const c = await challanFor(2);
    await sandbox.setControl({ duplicates: 2 });
    const t = await transfer(c.vaNumber, c.amountPaise, 'notification');
    expect(t.status).toBe('booked');
    const after = await challan(c.batchId);
    expect(after.status).toBe('paid');
    expect(after.credits).toHaveLength(1);
    expect(after.credits[0]).toMatchObject({ utr: t.utr, amountPaise: c.amountPaise, status: 'applied' });
    const b = await batch(c.batchId);
    expect(b).toMatchObject({ status: 'paid', paidPaise: c.amountPaise, receipts: 2 });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payments WHERE gateway = 'bank' AND gateway_payment_id = ${t.utr}`.execute(database.db);
    expect(rows[0]!.n).toBe(1);
    // The same credit told again by e-collect: one credit, two sources, nothing else moves.
    const receiptsBefore = await database.db.selectFrom('receipts').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    const again = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: c.vaNumber, amountPaise: c.amountPaise, channel: 'ecollect', utr: t.utr } });
    expect(again.statusCode).toBe(200);
    expect((await challan(c.batchId)).credits[0]!.sources.sort()).toEqual(['ecollect', 'va_notification']);
    expect((await database.db.selectFrom('receipts').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n).toBe(receiptsBefore.n);
    await checkInvariants(database.db);
  });

  it('answers e-collect validation: accepts the exact amount, refuses others with a reason (the bank returns the money), then applies the notified credit', async () => {
    const c = await challanFor(1);
    const short = await transfer(c.vaNumber, BigInt(c.amountPaise) - 100n, 'ecollect');
    expect(short).toMatchObject({ status: 'returned' });
    expect(short.reason).toMatch(/amount must be exactly/);
    const unknown = await transfer(vaNumber('NBPD', 99_999_999n), 50000n, 'ecollect');
    expect(unknown).toMatchObject({ status: 'returned', reason: 'unknown virtual account' });
    const ok = await transfer(c.vaNumber, c.amountPaise, 'ecollect');
    expect(ok.status).toBe('booked');
    expect((await challan(c.batchId)).status).toBe('paid');
    // A bad signature is refused and records nothing.
    const body = JSON.stringify({ utr: 'FAKEN00000000001', virtual_account: c.vaNumber, amount: '1.00', credited_at: new Date().toISOString() });
    const forged = await app.inject({ method: 'POST', url: '/api/v1/bank/ecollect/notify', headers: { 'content-type': 'application/json', 'x-bank-signature': signWebhook(body, 'wrong') }, payload: body });
    expect(forged.statusCode).toBe(401);
    expect(await database.db.selectFrom('bank_credits').select('id').where('utr', '=', 'FAKEN00000000001').executeTakeFirst()).toBeUndefined();
    await checkInvariants(database.db);
  });

  it('holds a short credit and lets the accounts team accept it as part payment, allocated by rule', async () => {
    const c = await challanFor(3);
    const paid = BigInt(c.amountPaise) - 50_000n;
    const t = await transfer(c.vaNumber, paid, 'notification');
    const e = await exceptionOf(t.utr);
    expect(e).toMatchObject({ reason: 'amount_short', amountPaise: paid.toString(), batchId: c.batchId });
    expect(e.actions).toEqual(['part_payment', 'assign', 'refund']);
    expect((await batch(c.batchId)).status).toBe('payment_pending');
    await checkInvariants(database.db);
    // The payer cannot resolve it; the accounts team can.
    expect((await maker.post(`/api/v1/discom/recon/exceptions/${e.id}/resolve`, { action: 'part_payment' })).statusCode).toBe(403);
    const r = await resolve(e.id, { action: 'part_payment', note: 'Treasury sent less; balance next month' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ outcome: 'applied' });
    const b = await batch(c.batchId);
    expect(b).toMatchObject({ status: 'paid', paidPaise: paid.toString() });
    const { rows } = await sql<{ s: string }>`SELECT sum(amount_paise)::text AS s FROM receipts WHERE batch_id = ${c.batchId}`.execute(database.db);
    expect(rows[0]!.s).toBe(paid.toString());
    expect((await resolve(e.id, { action: 'part_payment' })).statusCode).toBe(409);
    await checkInvariants(database.db);
  });

  it('holds an excess credit and applies it as advance credit to a connection of the batch', async () => {
    const c = await challanFor(2);
    const paid = BigInt(c.amountPaise) + 12_345n;
    const t = await transfer(c.vaNumber, paid, 'notification');
    const e = await exceptionOf(t.utr);
    expect(e.reason).toBe('amount_excess');
    expect((await resolve(e.id, { action: 'refund' })).statusCode).toBe(400); // a refund needs a reason
    const r = await resolve(e.id, { action: 'advance' });
    expect(r.statusCode, r.body).toBe(200);
    const { rows } = await sql<{ s: string }>`SELECT coalesce(sum(amount_paise), 0)::text AS s FROM allocations WHERE batch_id = ${c.batchId} AND kind = 'advance'`.execute(database.db);
    expect(BigInt(rows[0]!.s)).toBeGreaterThanOrEqual(12_345n);
    expect((await batch(c.batchId)).paidPaise).toBe(paid.toString());
    await checkInvariants(database.db);
  });

  it('holds a credit to an unknown virtual account and applies it when assigned to a batch by hand', async () => {
    const b = await readyBatch(await payable(eduOrg, 1));
    const t = await transfer(vaNumber('NBPD', 88_888_888n), b.totalPaise, 'notification');
    const e = await exceptionOf(t.utr);
    expect(e).toMatchObject({ reason: 'unknown_va', batchId: null });
    const r = await resolve(e.id, { action: 'assign', batchId: b.id, note: 'Payer quoted the wrong account; letter EDU/88' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ outcome: 'applied' });
    expect(await batch(b.id)).toMatchObject({ status: 'paid', mode: 'rtgs_neft' });
    await checkInvariants(database.db);
  });

  it('holds a second credit to a paid challan as a duplicate and marks it for refund (owed back in the ledger)', async () => {
    const c = await challanFor(1);
    await transfer(c.vaNumber, c.amountPaise, 'notification');
    const t = await transfer(c.vaNumber, c.amountPaise, 'notification');
    const e = await exceptionOf(t.utr);
    expect(e.reason).toBe('duplicate_credit');
    const r = await resolve(e.id, { action: 'refund', note: 'Paid twice by mistake' });
    expect(r.json()).toMatchObject({ outcome: 'refund' });
    const { rows } = await sql<{ s: string }>`
      SELECT sum(e.amount_paise)::text AS s FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
        JOIN bank_credits c ON c.id = t.credit_id WHERE c.utr = ${t.utr} AND e.account = 'refunds_payable'`.execute(database.db);
    expect(rows[0]!.s).toBe(`-${c.amountPaise}`);
    await checkInvariants(database.db);
  });

  it('expires an unpaid challan (freeing its bills); money after the deadline is held, and applied once the challan is extended', async () => {
    const ids = await payable(eduOrg, 2);
    const b = await readyBatch(ids);
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<ChallanJson>();
    const later = new Date(new Date(c.validUntil).getTime() + 60_000);
    expect(await expireChallans(database.db, later)).toBeGreaterThanOrEqual(1);
    expect((await challan(b.id)).status).toBe('expired');
    expect((await batch(b.id)).status).toBe('expired');
    const free = await database.db.selectFrom('payment_batch_items').select('open').where('batch_id', '=', BigInt(b.id)).execute();
    expect(free.every((i) => !i.open)).toBe(true);
    const t = await transfer(c.vaNumber, c.amountPaise, 'notification', { at: later.toISOString() });
    const e = await exceptionOf(t.utr);
    expect(e.reason).toBe('challan_expired');
    const r = await resolve(e.id, { action: 'extend', note: 'Treasury delay' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ outcome: 'applied' });
    expect(await batch(b.id)).toMatchObject({ status: 'paid' });
    await checkInvariants(database.db);
  });

  it('applies money credited before the deadline but learnt after expiry, reopening the challan', async () => {
    const c = await challanFor(1);
    const before = new Date(new Date(c.validUntil).getTime() - 60_000);
    await expireChallans(database.db, new Date(new Date(c.validUntil).getTime() + 1000));
    expect((await challan(c.batchId)).status).toBe('expired');
    await transfer(c.vaNumber, c.amountPaise, 'notification', { at: before.toISOString() });
    expect((await challan(c.batchId)).status).toBe('paid');
    expect((await batch(c.batchId)).status).toBe('paid');
    await checkInvariants(database.db);
  });

  /** The collection account's statement for today from the sandbox bank, imported by the accounts team. */
  async function importToday(format: 'mt940' | 'camt053' | 'csv', account = '50200011112221', who = accounts) {
    const today = new Date(Date.now() + 5.5 * 3_600_000).toISOString().slice(0, 10);
    const st = await app.inject({ method: 'GET', url: `/sandbox/bank/statement?account=${account}&from=${today}&to=${today}&format=${format}` });
    expect(st.statusCode, st.body).toBe(200);
    return importFile(st.rawPayload, format, account, who);
  }
  async function importFile(data: Buffer, format?: string, account?: string, who = accounts) {
    const q = new URLSearchParams({ fileName: `statement.${format ?? 'sta'}`, ...(format ? { format } : {}), ...(format === 'csv' && account ? { account } : {}) });
    return who.raw('POST', `/api/v1/discom/recon/statements?${q.toString()}`, data);
  }
  type Imported = { statements: { id: string | null; duplicate: boolean; lines: number; counts: Record<string, number> }[]; applied: number; held: number; waiting: number };

  it('imports the bank statement: credits already notified are confirmed by UTR (applied once), statement-only credits are matched by their virtual account and applied', async () => {
    const told = await challanFor(1);
    const t1 = await transfer(told.vaNumber, told.amountPaise, 'notification');
    const quiet = await challanFor(1);
    const t2 = await transfer(quiet.vaNumber, quiet.amountPaise, 'statement');
    expect((await challan(quiet.batchId)).status).toBe('active');
    const receipts = async () => (await database.db.selectFrom('receipts').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    const before = await receipts();
    const r = await importToday('mt940');
    expect(r.statusCode, r.body).toBe(200);
    const out = r.json<Imported>();
    expect(out.statements).toHaveLength(1);
    expect(out.statements[0]!.counts.confirmed).toBeGreaterThanOrEqual(1);
    expect(out.applied).toBeGreaterThanOrEqual(1);
    expect((await challan(quiet.batchId)).status).toBe('paid');
    expect((await challan(quiet.batchId)).credits[0]).toMatchObject({ utr: t2.utr, sources: ['statement'], status: 'applied' });
    expect((await challan(told.batchId)).credits[0]!.sources.sort()).toEqual(['statement', 'va_notification']);
    expect(await receipts()).toBe(before + 1);
    // The same file again: nothing changes. The same day as camt.053 (another statement of the same credits): confirmed, nothing applied twice.
    const again = await importToday('mt940');
    expect(again.json<Imported>().statements[0]!.duplicate).toBe(true);
    const camt = await importToday('camt053');
    expect(camt.statusCode, camt.body).toBe(200);
    expect(await receipts()).toBe(before + 1);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payments WHERE gateway_payment_id IN (${t1.utr}, ${t2.utr})`.execute(database.db);
    expect(rows[0]!.n).toBe(2);
    await checkInvariants(database.db);
  });

  it('matches statement credits without a virtual account by tier-2 rules with a single candidate (batch reference; known payer account and exact amount), and holds those with none or several', async () => {
    const acct = '50200011112221';
    const at = new Date();
    const utr = () => `SBINN${String(++utrNo).padStart(14, '0')}`;
    const refOf = async (c: ChallanJson) => (await maker.get(`/api/v1/org/payments/batches/${c.batchId}`)).json<{ reference: string }>().reference;
    // 1. The batch reference in the narrative.
    const byRef = await challanFor(1);
    const u1 = utr();
    await bank.bookCredit(acct, { utr: u1, amountPaise: BigInt(byRef.amountPaise), at, mode: 'NEFT', narrative: `NEFT ${u1} EDU DDO for ${await refOf(byRef)}`, payerName: 'EDU DDO' });
    // 2. Nothing to go by.
    const u2 = utr();
    await bank.bookCredit(acct, { utr: u2, amountPaise: 4_321_00n, at, mode: 'NEFT', narrative: `NEFT ${u2} UNKNOWN PAYER electricity`, payerName: 'UNKNOWN PAYER' });
    // 3. Two batch references: two candidates.
    const twinA = await challanFor(1);
    const twinB = await challanFor(1);
    const u3 = utr();
    await bank.bookCredit(acct, { utr: u3, amountPaise: BigInt(twinA.amountPaise), at, mode: 'NEFT', narrative: `NEFT ${u3} for ${await refOf(twinA)} and ${await refOf(twinB)}`, payerName: 'EDU DDO' });
    // 4. The payer account an earlier applied credit of the Education Department came from, and the exact amount of one of its open challans.
    const earlier = await challanFor(1);
    await transfer(earlier.vaNumber, earlier.amountPaise, 'notification', { payerAccount: '30001234567' });
    const byPayer = await challanFor(1);
    const u4 = utr();
    await bank.bookCredit(acct, { utr: u4, amountPaise: BigInt(byPayer.amountPaise), at, mode: 'NEFT', narrative: `NEFT ${u4} electricity dues`, payerName: 'Education Dept DDO Patna', payerAccount: '30001234567' });
    const r = await importToday('camt053', acct);
    expect(r.statusCode, r.body).toBe(200);
    expect((await challan(byRef.batchId)).credits[0]).toMatchObject({ utr: u1, status: 'applied' });
    expect((await challan(byPayer.batchId)).credits[0]).toMatchObject({ utr: u4, status: 'applied' });
    expect((await exceptionOf(u2)).reason).toBe('no_candidate');
    const several = await exceptionOf(u3);
    expect(several.reason).toBe('several_candidates');
    expect((await challan(twinA.batchId)).status).toBe('active');
    // Resolved by hand: the several-candidates credit to the first twin; the stray credit marked for refund.
    const res = await resolve(several.id, { action: 'assign', batchId: twinA.batchId, note: 'Payer letter: this was for the first batch' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'applied' });
    expect((await challan(twinA.batchId)).status).toBe('paid');
    expect((await resolve((await exceptionOf(u2)).id, { action: 'refund', note: 'Not a discom payment' })).json()).toMatchObject({ outcome: 'refund' });
    await checkInvariants(database.db);
  });

  it('imports the shared samples: foreign-currency lines are reported as not applicable; a file that is not a statement, or does not add up, is refused with the reason', async () => {
    const dir = path.resolve(import.meta.dirname, '../../../test/fixtures/statements/shared');
    // Statements of accounts not ours: a discom's staff may not import them (403, naming the account); the holding company's may.
    const refused = await importFile(fs.readFileSync(path.join(dir, 'mt940/volksbank_de.sta')));
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ error: { message: { en: string; hi: string } } }>().error.message.en).toMatch(/is of account .+, not of your discom’s collection account 50200011112221 \(NBPDCL\)/);
    expect(refused.json<{ error: { message: { en: string; hi: string } } }>().error.message.hi).toMatch(/[\u0900-\u097F]/);
    const ok = await importFile(fs.readFileSync(path.join(dir, 'mt940/volksbank_de.sta')), undefined, undefined, holding);
    expect(ok.statusCode, ok.body).toBe(200);
    const v = ok.json<Imported>();
    expect(v.statements).toHaveLength(8);
    const lines = v.statements.reduce((s2, x) => s2 + x.lines, 0);
    expect(v.statements.reduce((s2, x) => s2 + x.counts.notApplicable!, 0)).toBe(lines);
    expect(v.statements.every((x) => x.counts.newCredits === 0)).toBe(true);
    const stored = await holding.get(`/api/v1/discom/recon/statements/${v.statements[0]!.id}/lines`);
    expect((await accounts.get(`/api/v1/discom/recon/statements/${v.statements[0]!.id}/lines`)).statusCode).toBe(404);
    expect(stored.json<{ items: { status: string; reason: string }[] }>().items[0]).toMatchObject({ status: 'not_applicable', reason: 'currency EUR: Sangrahan collects INR only' });
    for (const [f, pattern] of [['mt940/invalid_not_mt940.sta', /not an MT940 statement/], ['camt053/camt053_001_02_wrong_invalid.xml', /no Stmt|no statement/i], ['mt940/ing_nl_swift_blocks_crlf.sta', /does not add up/]] as const) {
      const bad = await importFile(fs.readFileSync(path.join(dir, f)), undefined, undefined, holding);
      expect(bad.statusCode, f).toBe(422);
      expect(bad.json<{ error: { code: string; details: { message: { en: string } }[] } }>().error).toMatchObject({ code: 'STATEMENT_INVALID' });
      expect(bad.json<{ error: { details: { message: { en: string } }[] } }>().error.details[0]!.message.en).toMatch(pattern);
    }
    await checkInvariants(database.db);
  });

  it('reconciles gateway settlements: a payment not settled in 3 working days is an exception; the report matches payments, records fees and tax, and its UTR matches the statement payout', async () => {
    // An online payment through the sandbox gateway.
    const b = await readyBatch(await payable(eduOrg, 1));
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ fields: Record<string, string> }>();
    const back = await sandbox.pay(co.fields.key_id!, co.fields.order_id!, 'success', 'upi');
    await app.inject({ method: 'POST', url: new URL(co.fields.callback_url!, 'http://x').pathname, payload: new URLSearchParams(back).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await batch(b.id)).status).toBe('paid');
    const pay = await database.db.selectFrom('payments').select(['id', 'gateway_payment_id', 'amount_paise']).where('batch_id', '=', BigInt(b.id)).executeTakeFirstOrThrow();
    // Five days on, still not settled: an exception, raised once.
    const later = new Date(Date.now() + 6 * 86_400_000);
    expect(await flagUnsettled(database.db, later)).toBeGreaterThanOrEqual(1);
    expect(await flagUnsettled(database.db, later)).toBe(0);
    // A gateway payment's settlement is the holding company's: a discom's accounts team does not see it.
    expect((await openExceptions()).items.find((x) => x.reason === 'not_settled' && x.batchId === b.id)).toBeUndefined();
    const ns = (await openExceptions(holding)).items.find((x) => x.reason === 'not_settled' && x.batchId === b.id);
    expect(ns?.actions).toEqual(['settled']);
    // The gateway settles; the payout reaches the bank; the statement is imported before the report.
    const st = await app.inject({ method: 'POST', url: '/sandbox/razorpay/settlements', payload: { before: new Date(Date.now() + 60_000).toISOString() } });
    expect(st.statusCode, st.body).toBe(200);
    const setl = st.json<{ settlement: { id: string; utr: string; amountPaise: string; payments: number } }>().settlement;
    expect(setl.payments).toBeGreaterThanOrEqual(1);
    expect((await importToday('camt053', '50200011110001')).statusCode).toBe(403);
    const imported = await importToday('camt053', '50200011110001', holding);
    expect(imported.statusCode, imported.body).toBe(200);
    const payout = await exceptionOf(setl.utr, holding);
    expect(payout).toMatchObject({ reason: 'no_candidate', amountPaise: setl.amountPaise });
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = await app.inject({ method: 'GET', url: `/sandbox/razorpay/settlements/report?from=${from}&to=${to}` });
    expect(report.body.split('\n')[0]).toBe('entity_id,type,debit,credit,amount,currency,fee,tax,on_hold,settled,created_at,settled_at,settlement_id,description,notes,payment_id,arn,settlement_utr,order_id,order_receipt,method,card_network,card_issuer,card_type,dispute_id');
    const denied = await accounts.raw('POST', '/api/v1/discom/recon/settlements?fileName=report.csv', report.rawPayload, 'text/csv');
    expect(denied.statusCode).toBe(403);
    expect((await accounts.get('/api/v1/discom/recon/settlements')).statusCode).toBe(403);
    const r = await holding.raw('POST', '/api/v1/discom/recon/settlements?fileName=report.csv', report.rawPayload, 'text/csv');
    expect(r.statusCode, r.body).toBe(200);
    const out = r.json<{ matched: number; unknown: string[]; settlements: { id: string; bankMatched: boolean; feesPaise: string; taxPaise: string }[] }>();
    expect(out.unknown).toEqual([]);
    const mine = out.settlements.find((x) => x.id === setl.id)!;
    expect(mine.bankMatched).toBe(true);
    const settled = await database.db.selectFrom('payments').select(['fee_paise', 'tax_paise', 'settlement_id']).where('id', '=', pay.id).executeTakeFirstOrThrow();
    expect(settled).toEqual({ fee_paise: (pay.amount_paise * 2n) / 100n, tax_paise: (pay.amount_paise * 36n) / 10_000n, settlement_id: setl.id });
    // The payout's credit and the late-settlement exception have left the queue.
    const open = (await openExceptions(holding)).items;
    expect(open.find((x) => x.id === payout.id)).toBeUndefined();
    expect(open.find((x) => x.id === ns!.id)).toBeUndefined();
    // The same report again: nothing changes.
    const again = await holding.raw('POST', '/api/v1/discom/recon/settlements?fileName=report.csv', report.rawPayload, 'text/csv');
    expect(again.json<{ duplicate: boolean }>().duplicate).toBe(true);
    // A period without settlements: the header alone, nothing to import.
    const none = await holding.raw('POST', '/api/v1/discom/recon/settlements', Buffer.from(`${report.body.split('\n')[0]}\n`), 'text/csv');
    expect(none.statusCode, none.body).toBe(200);
    expect(none.json<{ settlements: unknown[] }>().settlements).toEqual([]);
    const bad = await holding.raw('POST', '/api/v1/discom/recon/settlements', Buffer.from('a,b\n1,2\n'), 'text/csv');
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toMatch(/columns missing: entity_id/);
    await checkInvariants(database.db);
  });

  it('shows the three-way view of a batch, the daily report (JSON, PDF in both languages, XLSX) and the collections dashboard with exports', async () => {
    const c = await challanFor(1);
    await transfer(c.vaNumber, c.amountPaise, 'notification');
    const three = await maker.get(`/api/v1/org/payments/batches/${c.batchId}/reconciliation`);
    expect(three.statusCode, three.body).toBe(200);
    const v = three.json<{ received: { source: string; amountPaise: string }[]; banked: { inStatement: boolean }[]; posted: { postings: number }; legs: Record<string, boolean> }>();
    expect(v.received).toEqual([expect.objectContaining({ source: 'bank', amountPaise: c.amountPaise })]);
    expect(v.legs).toEqual({ received: true, banked: false, posted: false });
    // The statement shows the credit: the bank leg is complete.
    await importToday('mt940');
    const after = (await accounts.get(`/api/v1/discom/recon/batches/${c.batchId}`)).json<{ legs: Record<string, boolean> }>();
    expect(after.legs.banked).toBe(true);
    expect((await phed.get(`/api/v1/org/payments/batches/${c.batchId}/reconciliation`)).statusCode).toBe(404);
    const daily = (await accounts.get('/api/v1/discom/recon/daily')).json<{ received: { mode: string; count: number }[]; exceptionsOpen: { reason: string; count: number }[]; openItems: unknown[] }>();
    expect(daily.received.find((x) => x.mode === 'rtgs_neft')!.count).toBeGreaterThanOrEqual(1);
    expect(daily.exceptionsOpen.reduce((s2, x) => s2 + x.count, 0)).toBe(daily.openItems.length);
    for (const lang of ['en', 'hi']) {
      const pdf = await accounts.get(`/api/v1/discom/recon/daily.pdf?lang=${lang}`);
      expect(pdf.statusCode).toBe(200);
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    }
    const xlsx = await accounts.get('/api/v1/discom/recon/daily.xlsx');
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
    const col = (await accounts.get('/api/v1/discom/collections')).json<{ totals: { count: number; amountPaise: string }; byMode: { mode: string; amountPaise: string }[]; byDivision: unknown[]; topDues: { organisation: string }[]; byDay: unknown[] }>();
    expect(col.totals.count).toBeGreaterThan(0);
    expect(BigInt(col.totals.amountPaise)).toBe(col.byMode.reduce((s2, m) => s2 + BigInt(m.amountPaise), 0n));
    expect(col.byDivision.length).toBeGreaterThan(0);
    expect(col.topDues.length).toBeGreaterThan(0);
    const csv = await accounts.get('/api/v1/discom/collections/export?section=by_mode&format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('Mode,Payments,Amount (₹)');
    expect((await maker.get('/api/v1/discom/collections')).statusCode).toBe(403);
  });

  it('leaves an RTGS/NEFT batch alone in the gateway janitor, even when it had an earlier online try', async () => {
    const b = await readyBatch(await payable(eduOrg, 1));
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ fields: Record<string, string> }>();
    expect(co.fields.order_id).toBeDefined();
    // The payer closes the checkout; after a while the batch is paid by challan instead.
    await sql`UPDATE payment_batches SET status = 'ready' WHERE id = ${b.id}`.execute(database.db);
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<ChallanJson>();
    await sql`UPDATE payment_batches SET status_changed_at = now() - interval '2 days' WHERE id = ${b.id}`.execute(database.db);
    await runJanitor({ db: database.db, gateway: payments.gateway }, 15);
    expect((await batch(b.id)).status).toBe('payment_pending');
    expect((await challan(b.id)).status).toBe('active');
    await transfer(c.vaNumber, c.amountPaise, 'notification');
    expect((await batch(b.id)).status).toBe('paid');
    await checkInvariants(database.db);
  });

  it('processes Razorpay’s documented virtual_account.credited sample: verified, and held (its account is not one of ours)', async () => {
    const raw = fs.readFileSync(path.join(FIXTURES, 'virtual_account.credited.bank_transfer.json'));
    const r = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(raw, webhookSecret), 'x-razorpay-event-id': 'evt_fixture_va_1' }, payload: raw });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<{ outcome: string }>().outcome).toBe('credit held: unknown_va');
    const e = await exceptionOf('156767598340', holding);
    expect(e).toMatchObject({ reason: 'unknown_va', amountPaise: '61900' });
    // Its virtual account is no discom's: the holding company's exception, not NBPDCL's.
    expect((await openExceptions()).items.find((x) => x.utr === '156767598340')).toBeUndefined();
    const credit = await database.db.selectFrom('bank_credits').selectAll().where('utr', '=', '156767598340').executeTakeFirstOrThrow();
    expect(credit).toMatchObject({ va_number: '1112220006712324', mode: 'NEFT', payer_name: 'Saurav Kumar', payer_ifsc: 'KKBK0000007', external_id: 'pay_DETA2KrOlhqQzF' });
    // The same event again (Razorpay retries) and the same UTR under another event id: nothing new.
    await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(raw, webhookSecret), 'x-razorpay-event-id': 'evt_fixture_va_2' }, payload: raw });
    expect((await database.db.selectFrom('recon_exceptions').select('id').where('credit_id', '=', credit.id).execute()).length).toBe(1);
    await checkInvariants(database.db);
  });
});
