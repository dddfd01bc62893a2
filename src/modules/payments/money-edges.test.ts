import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import { signWebhook } from '../../adapters/gateway/razorpay-protocol.ts';
import type { SandboxGateway } from '../../adapters/gateway/sandbox.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { istDay } from '../dues/index.ts';
import { intakeCredit } from '../reconciliation/index.ts';
import { rebateDeadline } from '../reconciliation/challans.ts';
import { buildGateway, SANDBOX_KEY_ID, type Payments } from './gateway.ts';
import { checkInvariants } from './invariants.ts';

/**
 * Money at the edges (issue 16): the rebate on every rail, dues that can always be paid, part
 * payments said as such, and no money without a trace (captures for unknown orders, credits by
 * UPI, a UTR told twice with two amounts).
 */

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

interface BatchJson {
  id: string;
  reference: string;
  status: string;
  totalPaise: string;
  rebatePaise: string;
  paidPaise: string;
  paidState: string | null;
  stillDuePaise: string | null;
  rebateCreditedPaise: string | null;
}
interface ExceptionJson {
  id: string;
  reason: string;
  amountPaise: string;
  utr: string | null;
  batchId: string | null;
  gatewayPaymentId: string | null;
  actions: string[];
  detail: string | null;
}

describe(`money at the edges on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let payments: Payments;
  let sandbox: SandboxGateway;
  let maker: Client;
  let accounts: Client;
  let holding: Client;
  let eduOrg: bigint;
  let webhookSecret: string;
  let seq = 0;

  const deliver = () => sandbox.pump(async (d) => (await app.inject({ method: 'POST', url: new URL(d.url).pathname, headers: d.headers, payload: d.body })).statusCode);
  const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const today = () => istDay(new Date());

  /** Connections of the organisation, of NBPDCL, not in an open batch, whose bill earns a rebate if paid by a due date still ahead. */
  async function rebated(n: number, minRebate = 5_000n): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN discoms dc ON dc.id = d.discom_id
       WHERE d.org_id = ${eduOrg} AND dc.code = 'NBPDCL' AND d.balance_paise > 100000 AND d.rebate_paise >= ${minRebate}
         AND d.due_date > ${today()}::date
         AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.bill_id = d.bill_id)
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id LIMIT ${n}`.execute(database.db);
    expect(rows.length).toBe(n);
    return rows.map((r) => r.connection_id.toString());
  }

  async function batchOf(items: { connectionId: string; amountPaise?: string }[]): Promise<BatchJson> {
    const r = await maker.req('POST', '/api/v1/org/payments/batches', { items }, { 'idempotency-key': newKey() });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<BatchJson>();
  }
  const batch = async (id: string) => (await maker.get(`/api/v1/org/payments/batches/${id}`)).json<BatchJson>();
  const exceptions = async (who: Client) => (await who.get('/api/v1/discom/recon/exceptions')).json<{ items: ExceptionJson[] }>().items;

  /** A verified Razorpay webhook for one payment, as the gateway would sign it. */
  async function webhook(event: string, p: { id: string; orderId: string | null; amount: bigint; status?: string }) {
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      entity: 'event', account_id: 'acc_SangrahanSbx01', event, contains: ['payment'], created_at: now,
      payload: { payment: { entity: { id: p.id, entity: 'payment', amount: Number(p.amount), currency: 'INR', status: p.status ?? 'captured', order_id: p.orderId, method: 'upi', captured: true, created_at: now - 5 } } },
    });
    const r = await app.inject({
      method: 'POST', url: '/api/v1/webhooks/razorpay', payload: body,
      headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(body, webhookSecret), 'x-razorpay-event-id': `evt_${p.id}_${event}` },
    });
    expect(r.statusCode, r.body).toBe(200);
    return r;
  }
  const payId = () => `pay_Edge${Date.now().toString(36)}${(++seq).toString().padStart(4, '0')}`;

  async function transfer(va: string, amountPaise: bigint | string, extra: Record<string, unknown> = {}) {
    const r = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: va, amountPaise: String(amountPaise), channel: 'notification', mode: 'NEFT', payerName: 'Education Dept DDO Patna', payerAccount: '30001234567', payerIfsc: 'SBIN0000152', ...extra } });
    expect(r.statusCode, r.body).toBe(200);
    await deliver();
    return r.json<{ utr: string; status: string }>();
  }

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 16, connections: 900, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true });
    payments = await buildGateway(config, database.db);
    sandbox = payments.sandbox!;
    webhookSecret = (await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' })).webhookSecret;
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    maker = await new Client(app, '10.0.6.1').login('edu.admin', DEMO_PASSWORD);
    accounts = await new Client(app, '10.0.6.3').login('accounts.nbpdcl', DEMO_PASSWORD, secretOf('accounts.nbpdcl'));
    holding = await new Client(app, '10.0.6.4').login('admin.discom', DEMO_PASSWORD, secretOf('admin.discom'));
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
    // Every current bill with a rebate still to be earned (the seed makes some overdue, as a discom has).
    await sql`UPDATE bills SET due_date = (now() AT TIME ZONE 'Asia/Kolkata')::date + 10
               WHERE id IN (SELECT bill_id FROM connection_dues WHERE org_id = ${eduOrg} AND rebate_paise > 0)`.execute(database.db);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
    await sandbox.setControl({ duplicates: 0, delaySeconds: 0, jitterSeconds: 0, dropWebhooks: false, apiDownUntil: null, pendingSeconds: 30 });
  });

  it('gives an RTGS/NEFT challan paid in full and on time every rebate the batch counted on: no connection is left owing', async () => {
    const ids = await rebated(3);
    const b = await batchOf(ids.map((connectionId) => ({ connectionId })));
    expect(BigInt(b.rebatePaise)).toBeGreaterThan(0n);
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ vaNumber: string; amountPaise: string; validUntil: string }>();
    // The challan's amount is what clears the bills if the money arrives by the due date, and it is valid no longer than that.
    expect(c.amountPaise).toBe(b.totalPaise);
    const due = (await database.db.selectFrom('payment_batch_items').select((eb) => eb.fn.min('due_date').as('d')).where('batch_id', '=', BigInt(b.id)).executeTakeFirstOrThrow()).d;
    expect(new Date(c.validUntil).getTime()).toBeLessThanOrEqual(rebateDeadline(String(due).slice(0, 10)).getTime());
    await transfer(c.vaNumber, c.amountPaise, { mode: 'RTGS' });
    const paid = await batch(b.id);
    expect(paid).toMatchObject({ status: 'paid', paidState: 'paid', stillDuePaise: '0', rebateCreditedPaise: b.rebatePaise });
    const receipts = await database.db.selectFrom('receipts').select(['connection_id', 'rebate_paise', 'balance_after_paise']).where('batch_id', '=', BigInt(b.id)).execute();
    expect(receipts).toHaveLength(3);
    for (const r of receipts) {
      expect(r.rebate_paise).toBeGreaterThan(0n);
      expect(r.balance_after_paise).toBe(0n);
    }
    await checkInvariants(database.db);
  });

  it('keeps a challan no longer than the earliest rebated due date, and refuses one whose rebate has lapsed', async () => {
    const [first, second] = await rebated(2);
    const b = await batchOf([{ connectionId: first! }]);
    // The bill falls due today: the challan lasts to the end of today (IST), not the usual 72 hours.
    await database.db.updateTable('payment_batch_items').set({ due_date: today() }).where('batch_id', '=', BigInt(b.id)).execute();
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ validUntil: string }>();
    expect(c.validUntil).toBe(rebateDeadline(today()).toISOString());

    const lapsed = await batchOf([{ connectionId: second! }]);
    const yesterday = istDay(new Date(Date.now() - 86_400_000));
    await database.db.updateTable('payment_batch_items').set({ due_date: yesterday }).where('batch_id', '=', BigInt(lapsed.id)).execute();
    const r = await maker.post(`/api/v1/org/payments/batches/${lapsed.id}/challan`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('CHALLAN_REBATE_LAPSED');
    expect(r.json().error.message.en).toContain(yesterday.split('-').reverse().join('-'));
    expect(r.json().error.message.hi).toContain('छूट');
    expect((await batch(lapsed.id)).status).toBe('ready');
    expect((await maker.post(`/api/v1/org/payments/batches/${lapsed.id}/cancel`, { reason: 'rebate lapsed' })).statusCode).toBe(200);
  });

  it('lets every balance shown as due be paid: a balance smaller than the rebate, and a leftover below the discom’s minimum', async () => {
    const [small, leftover] = await rebated(2, 10_000n);
    // An advance credit has paid all but ₹50 of a bill whose rebate is more than that.
    await database.db.updateTable('connections').set({ balance_paise: 5_000n }).where('id', '=', BigInt(small!)).execute();
    const q = await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: small }] });
    expect(q.statusCode, q.body).toBe(200);
    // The rebate stops a paisa short of the balance: a paisa pays it, and earns the rest.
    expect(q.json().rows[0]).toMatchObject({ amountPaise: '1', rebatePaise: '4999' });

    // A part payment one paisa short of the net leaves the rebate and a paisa: that paisa is payable (with the rebate, by the due date).
    const quote = (await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: leftover }] })).json<{ rows: { netNowPaise: string; rebatePaise: string; outstandingPaise: string }[] }>().rows[0]!;
    const part = await batchOf([{ connectionId: leftover!, amountPaise: String(BigInt(quote.netNowPaise) - 1n) }]);
    const co = (await maker.post(`/api/v1/org/payments/batches/${part.id}/checkout`)).json<{ orderId: string }>();
    await webhook('payment.captured', { id: payId(), orderId: co.orderId, amount: BigInt(part.totalPaise) });
    expect((await batch(part.id)).status).toBe('paid');
    const again = await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: leftover }] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().rows[0]).toMatchObject({ amountPaise: '1', rebatePaise: quote.rebatePaise });
    await checkInvariants(database.db);
  });

  it('says "part paid" for a gateway capture below its order, with what is still due, the rebate credited, a notice and an exception', async () => {
    const ids = await rebated(2);
    const b = await batchOf(ids.map((connectionId) => ({ connectionId })));
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ orderId: string }>();
    const short = BigInt(b.totalPaise) - 50_000n;
    const id = payId();
    await webhook('payment.captured', { id, orderId: co.orderId, amount: short });
    const paid = await batch(b.id);
    expect(paid).toMatchObject({ status: 'paid', paidState: 'part_paid', paidPaise: short.toString() });
    // The last row lost its rebate with the shortfall: what remains is the shortfall and that rebate.
    expect(BigInt(paid.stillDuePaise!)).toBeGreaterThanOrEqual(50_000n);
    const receipts = await database.db.selectFrom('receipts').select(['rebate_paise', 'balance_after_paise']).where('batch_id', '=', BigInt(b.id)).execute();
    expect(paid.rebateCreditedPaise).toBe(receipts.reduce((s, r) => s + r.rebate_paise, 0n).toString());
    expect(paid.stillDuePaise).toBe(receipts.reduce((s, r) => s + (r.balance_after_paise > 0n ? r.balance_after_paise : 0n), 0n).toString());
    const notice = await database.db.selectFrom('notifications').select('body').where('purpose', '=', 'payment_settled').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(notice.body).toContain(`Part payment received`);
    expect(notice.body).toContain('Still due on these connections');
    expect(notice.body).toContain('अभी भी बकाया');
    // The gateway's money is the holding company's to reconcile.
    const ex = (await exceptions(holding)).find((e) => e.reason === 'short_capture' && e.gatewayPaymentId === id);
    expect(ex).toMatchObject({ amountPaise: '50000', batchId: b.id, actions: ['acknowledge'] });
    expect((await exceptions(accounts)).some((e) => e.id === ex!.id)).toBe(false);
    expect((await holding.post(`/api/v1/discom/recon/exceptions/${ex!.id}/resolve`, { action: 'acknowledge' })).statusCode).toBe(400);
    const ok = await holding.post(`/api/v1/discom/recon/exceptions/${ex!.id}/resolve`, { action: 'acknowledge', note: 'Payer told; the rest by RTGS' });
    expect(ok.json()).toMatchObject({ outcome: 'acknowledged' });
    await checkInvariants(database.db);
  });

  it('holds a capture for an order the portal never made as an exception, to assign to a batch or refund; a replay changes nothing', async () => {
    const [one] = await rebated(1);
    const b = await batchOf([{ connectionId: one! }]);
    const id = payId();
    const r = await webhook('payment.captured', { id, orderId: 'order_NotOursAtAll01', amount: BigInt(b.totalPaise) });
    expect(r.json()).toMatchObject({ outcome: 'unknown order: held as an exception' });
    // The same payment told again (another event) is one capture.
    await webhook('order.paid', { id, orderId: 'order_NotOursAtAll01', amount: BigInt(b.totalPaise) });
    expect(await database.db.selectFrom('unmatched_captures').select('id').where('gateway_payment_id', '=', id).execute()).toHaveLength(1);
    const ex = (await exceptions(holding)).find((e) => e.reason === 'unknown_order' && e.gatewayPaymentId === id)!;
    expect(ex).toMatchObject({ amountPaise: b.totalPaise, actions: ['assign', 'refund'] });
    expect((await exceptions(accounts)).some((e) => e.id === ex.id)).toBe(false);
    await checkInvariants(database.db);
    const a = await holding.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'assign', batchId: b.id, note: 'Paid by payment link; letter 7/2026' });
    expect(a.statusCode, a.body).toBe(200);
    expect(a.json()).toMatchObject({ outcome: 'applied' });
    expect(await batch(b.id)).toMatchObject({ status: 'paid', paidState: 'paid', stillDuePaise: '0' });
    await checkInvariants(database.db);

    // A payment with no order at all is Smart Collect's (told again as virtual_account.credited): not a capture to hold.
    const orderless = payId();
    expect((await webhook('payment.captured', { id: orderless, orderId: null, amount: 123_45n })).json().outcome).toContain('payment without an order');
    expect(await database.db.selectFrom('unmatched_captures').select('id').where('gateway_payment_id', '=', orderless).execute()).toEqual([]);
    // Another unknown order, refunded.
    const other = payId();
    await webhook('payment.captured', { id: other, orderId: 'order_NotOursAtAll02', amount: 123_45n });
    const ex2 = (await exceptions(holding)).find((e) => e.reason === 'unknown_order' && e.gatewayPaymentId === other)!;
    const rf = await holding.post(`/api/v1/discom/recon/exceptions/${ex2.id}/resolve`, { action: 'refund', note: 'Not ours: refund to payer' });
    expect(rf.json()).toMatchObject({ outcome: 'refund' });
    const owed = await sql<{ s: bigint }>`SELECT sum(e.amount_paise) AS s FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
                                           JOIN unmatched_captures u ON u.id = t.capture_id WHERE u.gateway_payment_id = ${other} AND e.account = 'refunds_payable'`.execute(database.db);
    expect(BigInt(owed.rows[0]!.s)).toBe(-123_45n);
    await checkInvariants(database.db);
  });

  it('applies a Smart Collect credit paid by UPI to the virtual account like a bank transfer', async () => {
    const ids = await rebated(1);
    const b = await batchOf(ids.map((connectionId) => ({ connectionId })));
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ vaNumber: string; amountPaise: string }>();
    const t = await transfer(c.vaNumber, c.amountPaise, { mode: 'UPI' });
    expect(t.utr).toMatch(/^[0-9]{12}$/);
    expect(await batch(b.id)).toMatchObject({ status: 'paid', paidState: 'paid', stillDuePaise: '0' });
    const credit = await database.db.selectFrom('bank_credits').select(['mode', 'status', 'narrative']).where('utr', '=', t.utr).executeTakeFirstOrThrow();
    expect(credit).toMatchObject({ mode: 'UPI', status: 'applied' });
    expect(credit.narrative).toContain('UPI');
    await checkInvariants(database.db);
  });

  it('puts a UTR told again with another amount in the exception queue, once, for the discom’s accounts team', async () => {
    const ids = await rebated(1);
    const b = await batchOf(ids.map((connectionId) => ({ connectionId })));
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ vaNumber: string; amountPaise: string }>();
    const t = await transfer(c.vaNumber, c.amountPaise);
    const told = { utr: t.utr, vaNumber: c.vaNumber, amountPaise: BigInt(c.amountPaise) + 100n, creditedAt: new Date(), mode: 'NEFT', payerName: null, payerAccount: null, payerIfsc: null, narrative: null, externalId: null, source: 'ecollect' as const };
    expect((await intakeCredit(database.db, told)).outcome).toBe('conflict');
    expect((await intakeCredit(database.db, told)).outcome).toBe('conflict');
    const found = (await exceptions(accounts)).filter((e) => e.reason === 'utr_amount_mismatch' && e.utr === t.utr);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ amountPaise: told.amountPaise.toString(), batchId: b.id, actions: ['acknowledge'] });
    // The first report stands: the batch stays paid once.
    expect((await batch(b.id)).status).toBe('paid');
    await checkInvariants(database.db);
    // The bank's statement tells the same UTR with a third amount: a second exception, from the statement, once however often it is imported.
    await sql`UPDATE bank_sim.transactions SET amount_paise = amount_paise + 500 WHERE utr = ${t.utr}`.execute(database.db);
    const day = istDay(new Date());
    const st = await app.inject({ method: 'GET', url: `/sandbox/bank/statement?account=50200011112221&from=${day}&to=${day}&format=mt940` });
    expect(st.statusCode).toBe(200);
    for (let i = 0; i < 2; i++) {
      const imp = await accounts.raw('POST', '/api/v1/discom/recon/statements?format=mt940', st.rawPayload);
      expect(imp.statusCode, imp.body).toBeLessThan(300);
    }
    const both = (await exceptions(accounts)).filter((e) => e.reason === 'utr_amount_mismatch' && e.utr === t.utr);
    expect(both.map((e) => e.amountPaise).sort()).toEqual([told.amountPaise.toString(), (BigInt(c.amountPaise) + 500n).toString()].sort());
    await checkInvariants(database.db);
    const ok = await accounts.post(`/api/v1/discom/recon/exceptions/${found[0]!.id}/resolve`, { action: 'acknowledge', note: 'Bank confirms the first amount' });
    expect(ok.json()).toMatchObject({ outcome: 'acknowledged' });
    expect((await database.db.selectFrom('bank_credits').select('status').where('utr', '=', t.utr).executeTakeFirstOrThrow()).status).toBe('applied');
    await checkInvariants(database.db);
  });

  it('does not take a UTR credited to one discom’s virtual account as confirmed by the other discom’s statement: a contradiction for the accounts team, the batch paid once', async () => {
    const ids = await rebated(1);
    const b = await batchOf(ids.map((connectionId) => ({ connectionId })));
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ vaNumber: string; amountPaise: string }>();
    expect(c.vaNumber.startsWith('NBPD')).toBe(true);
    const t = await transfer(c.vaNumber, c.amountPaise);
    expect((await batch(b.id)).status).toBe('paid');
    // The bank's other account (SBPDCL's) shows the same UTR and amount: a bank's error.
    await sql`UPDATE bank_sim.transactions SET account_no = '50200011113331' WHERE utr = ${t.utr}`.execute(database.db);
    const day = istDay(new Date());
    const st = await app.inject({ method: 'GET', url: `/sandbox/bank/statement?account=50200011113331&from=${day}&to=${day}&format=mt940` });
    expect(st.statusCode).toBe(200);
    const imp = await holding.raw('POST', '/api/v1/discom/recon/statements?format=mt940', st.rawPayload);
    expect(imp.statusCode, imp.body).toBeLessThan(300);
    const line = await database.db.selectFrom('statement_lines').select(['status', 'reason']).where('utr', '=', t.utr).executeTakeFirstOrThrow();
    expect(line).toMatchObject({ status: 'exception', reason: expect.stringContaining('another discom') });
    const found = (await exceptions(holding)).filter((e) => e.reason === 'utr_amount_mismatch' && e.utr === t.utr);
    expect(found).toHaveLength(1);
    expect(found[0]!.detail).toContain('SBPDCL');
    expect((await database.db.selectFrom('bank_credits').select(['status', 'discom_id']).where('utr', '=', t.utr).executeTakeFirstOrThrow()).status).toBe('applied');
    await checkInvariants(database.db);
  });
});
