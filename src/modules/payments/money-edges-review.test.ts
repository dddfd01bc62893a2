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
import { buildGateway, SANDBOX_KEY_ID, type Payments } from './gateway.ts';
import { checkInvariants } from './invariants.ts';
import { runJanitor } from './index.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

/**
 * Money at the edges (issue 16) as an outside review attacked it: one transfer told two ways,
 * a settlement report before its webhook, a capture in dollars, a payout seen in two statements,
 * and two cheques with one number.
 */
describe(`money at the edges, as a review attacked it, on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let payments: Payments;
  let sandbox: SandboxGateway;
  let maker: Client;
  let holding: Client;
  let eduOrg: bigint;
  let webhookSecret: string;
  let seq = 0;
  const deliver = () => sandbox.pump(async (d) => (await app.inject({ method: 'POST', url: new URL(d.url).pathname, headers: d.headers, payload: d.body })).statusCode);
  const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const today = () => istDay(new Date());
  const payId = () => `pay_Rev${Date.now().toString(36)}${(++seq).toString().padStart(4, '0')}`;

  async function rebated(n: number): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN discoms dc ON dc.id = d.discom_id
       WHERE d.org_id = ${eduOrg} AND dc.code = 'NBPDCL' AND d.balance_paise > 100000 AND d.rebate_paise >= 5000
         AND d.due_date > ${today()}::date
         AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.bill_id = d.bill_id)
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id LIMIT ${n}`.execute(database.db);
    expect(rows.length).toBe(n);
    return rows.map((r) => r.connection_id.toString());
  }
  async function batchOf(items: { connectionId: string; amountPaise?: string }[]) {
    const r = await maker.req('POST', '/api/v1/org/payments/batches', { items }, { 'idempotency-key': newKey() });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<{ id: string; totalPaise: string; status: string; reference: string }>();
  }
  const batch = async (id: string) => (await maker.get(`/api/v1/org/payments/batches/${id}`)).json<{ status: string; paidPaise: string; paidState: string }>();
  const exceptions = async (who: Client) => (await who.get('/api/v1/discom/recon/exceptions')).json<{ items: { id: string; reason: string; gatewayPaymentId: string | null; utr: string | null }[] }>().items;
  async function webhook(event: string, p: { id: string; orderId: string | null; amount: bigint; currency?: string; method?: string }) {
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      entity: 'event', account_id: 'acc_SangrahanSbx01', event, contains: ['payment'], created_at: now,
      payload: { payment: { entity: { id: p.id, entity: 'payment', amount: Number(p.amount), currency: p.currency ?? 'INR', status: 'captured', order_id: p.orderId, method: p.method ?? 'upi', captured: true, created_at: now - 5 } } },
    });
    const r = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: body, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(body, webhookSecret), 'x-razorpay-event-id': `evt_${p.id}_${event}` } });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ status: string; outcome: string }>();
  }
  const acct = async (account: string) => {
    const { rows } = await sql<{ s: string }>`SELECT coalesce(sum(amount_paise),0)::text AS s FROM ledger_entries WHERE account = ${account}`.execute(database.db);
    return BigInt(rows[0]!.s);
  };

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 16, connections: 900, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true, logLevel: 'error' });
    payments = await buildGateway(config, database.db);
    sandbox = payments.sandbox!;
    webhookSecret = (await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' })).webhookSecret;
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    maker = await new Client(app, '10.0.7.1').login('edu.admin', DEMO_PASSWORD);
    holding = await new Client(app, '10.0.7.4').login('admin.discom', DEMO_PASSWORD, secretOf('admin.discom'));
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
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

  it('counts a Smart Collect credit once when Razorpay also tells it as payment.captured (no order)', async () => {
    const [one, two] = await rebated(2);
    const b = await batchOf([{ connectionId: one! }]);
    const c = (await maker.post(`/api/v1/org/payments/batches/${b.id}/challan`)).json<{ vaNumber: string; amountPaise: string }>();
    const t = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: c.vaNumber, amountPaise: c.amountPaise, channel: 'notification', mode: 'NEFT', payerName: 'DDO', payerAccount: '30001234567', payerIfsc: 'SBIN0000152' } });
    expect(t.statusCode, t.body).toBe(200);
    await deliver();
    expect((await batch(b.id)).status).toBe('paid');
    const credit = await database.db.selectFrom('bank_credits').selectAll().where('utr', '=', t.json<{ utr: string }>().utr).executeTakeFirstOrThrow();
    // Razorpay: "Payments made using Smart Collect will also trigger webhooks much like regular payments" (payment.captured, method bank_transfer, no order of ours).
    const r = await webhook('payment.captured', { id: credit.external_id!, orderId: null, amount: credit.amount_paise, method: 'bank_transfer' });
    // The same money is already the challan's credit: no second copy to assign.
    expect(r.outcome).toContain('payment without an order');
    expect((await exceptions(holding)).some((e) => e.reason === 'unknown_order' && e.gatewayPaymentId === credit.external_id)).toBe(false);
    expect(await database.db.selectFrom('unmatched_captures').select('id').where('gateway_payment_id', '=', credit.external_id!).execute()).toEqual([]);
    expect((await batchOf([{ connectionId: two! }])).status).toBe('ready');
    await checkInvariants(database.db);
  });

  it('counts a payment nobody ordered once when its settlement report comes before its webhook', async () => {
    const id = payId();
    const amount = 250_000n;
    const header = 'entity_id,type,debit,credit,amount,currency,fee,tax,on_hold,settled,created_at,settled_at,settlement_id,description,notes,payment_id,arn,settlement_utr,order_id,order_receipt,method,card_network,card_issuer,card_type,dispute_id';
    const now = Math.floor(Date.now() / 1000);
    const row = `${id},payment,0,${amount},${amount},INR,5000,900,0,1,${now - 100},${now},setl_Rev16B0001,,,,,UTIBN52026111099901,order_Foreign1,,upi,,,,`;
    const s0 = await acct('suspense');
    const g0 = await acct('gateway_clearing');
    const rep = await holding.raw('POST', '/api/v1/discom/recon/settlements?fileName=r.csv', Buffer.from(`${header}\n${row}\n`), 'text/csv');
    expect(rep.statusCode, rep.body).toBe(200);
    // Known from the report: held and in the queue already.
    const ex = (await exceptions(holding)).find((e) => e.reason === 'unknown_order' && e.gatewayPaymentId === id)!;
    expect(ex).toBeDefined();
    await checkInvariants(database.db);
    const r = await webhook('payment.captured', { id, orderId: 'order_Foreign1', amount });
    expect(r.outcome).toBe('duplicate');
    expect(await database.db.selectFrom('unmatched_captures').select('id').where('gateway_payment_id', '=', id).execute()).toHaveLength(1);
    const rf = await holding.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'refund', note: 'not ours' });
    expect(rf.statusCode, rf.body).toBe(200);
    // Settled by the gateway and owed back: nothing left in suspense or gateway clearing.
    expect((await acct('suspense')) - s0).toBe(0n);
    expect((await acct('gateway_clearing')) - g0).toBe(0n);
    await checkInvariants(database.db);
  });

  it('takes a payment of a known order whose settlement report came before its webhook as that order’s, settled once', async () => {
    const [one] = await rebated(1);
    const b = await batchOf([{ connectionId: one! }]);
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ fields: Record<string, string> }>();
    // The payer pays; the webhook is lost for now.
    await sandbox.setControl({ dropWebhooks: true });
    await sandbox.pay(co.fields.key_id!, co.fields.order_id!, 'success', 'upi');
    await sandbox.setControl({ dropWebhooks: false });
    const g0 = await acct('gateway_clearing');
    const s0 = await acct('suspense');
    expect((await app.inject({ method: 'POST', url: '/sandbox/razorpay/settlements', payload: {} })).statusCode).toBe(200);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const report = await app.inject({ method: 'GET', url: `/sandbox/razorpay/settlements/report?from=${from}&to=${to}` });
    const rep = await holding.raw('POST', '/api/v1/discom/recon/settlements', report.rawPayload, 'text/csv');
    expect(rep.statusCode, rep.body).toBe(200);
    // Not money nobody ordered: the order is the portal's.
    expect((await exceptions(holding)).some((e) => e.reason === 'unknown_order')).toBe(false);
    // The status query (the janitor's) finds the payment: the batch is paid, its settlement known.
    await sql`UPDATE payment_batches SET status_changed_at = now() - interval '2 hours' WHERE id = ${BigInt(b.id)}`.execute(database.db);
    await runJanitor({ db: database.db, gateway: payments.gateway }, 15);
    expect((await batch(b.id)).status).toBe('paid');
    const p = await database.db.selectFrom('payments').select(['settlement_id', 'fee_paise']).where('batch_id', '=', BigInt(b.id)).executeTakeFirstOrThrow();
    expect(p.settlement_id).not.toBeNull();
    expect((await acct('suspense')) - s0).toBe(0n);
    expect((await acct('gateway_clearing')) - g0).toBe(0n);
    await checkInvariants(database.db);
  });

  it('holds a capture in another currency for a known order for refund, instead of dropping it', async () => {
    const [one] = await rebated(1);
    const b = await batchOf([{ connectionId: one! }]);
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ orderId: string }>();
    const id = payId();
    await webhook('payment.captured', { id, orderId: co.orderId, amount: 12345n, currency: 'USD' });
    expect((await batch(b.id)).status).toBe('payment_pending');
    const ex = (await exceptions(holding)).find((e) => e.reason === 'unknown_order' && e.gatewayPaymentId === id)!;
    expect(ex).toBeDefined();
    await checkInvariants(database.db);
    const a = await holding.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'assign', batchId: b.id, note: 'try' });
    expect(a.statusCode).toBe(400);
    expect((await holding.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'refund', note: 'USD: back to the payer' })).statusCode).toBe(200);
    await checkInvariants(database.db);
  });

  it('knows a gateway payout line again in a fuller statement of the same day, after its settlement was imported', async () => {
    const header = 'entity_id,type,debit,credit,amount,currency,fee,tax,on_hold,settled,created_at,settled_at,settlement_id,description,notes,payment_id,arn,settlement_utr,order_id,order_receipt,method,card_network,card_issuer,card_type,dispute_id';
    const now = Math.floor(Date.now() / 1000);
    const id = payId();
    // net = 1,00,000.00 - 0 = 100000.00
    const row = `${id},payment,0,10000000,10000000,INR,0,0,0,1,${now - 100},${now},setl_Rev16D0001,,,,,UTIBN52026111077701,order_X,,upi,,,,`;
    const rep = await holding.raw('POST', '/api/v1/discom/recon/settlements?fileName=d.csv', Buffer.from(`${header}\n${row}\n`), 'text/csv');
    expect(rep.statusCode, rep.body).toBe(200);
    const head = '\uFEFFAccount Name :,NBPDCL COLLECTIONS\r\nAccount Number :,="50200011112221"\r\nIFS Code :,SBIN0000152\r\nStatement From :,11/11/2026 to 11/11/2026\r\n\r\nTxn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance\r\n';
    const l1 = '11/11/2026,11/11/2026,NEFT CR-UTIB0000001-RAZORPAY SOFTWARE PVT LTD-UTIBN52026111077701,UTIBN52026111077701,,"1,00,000.00","2,00,000.00"\r\n';
    const l2 = '11/11/2026,11/11/2026,CHQ DEP 009999 STATE BANK CLEARING,009999,,"1,000.00","2,01,000.00"\r\n';
    const imp = async (name: string, body: string) => {
      const r = await holding.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=50200011112221&fileName=${name}`, Buffer.from(body));
      expect(r.statusCode, r.body).toBeLessThan(300);
    };
    const bank0 = await acct('bank');
    await imp('m.csv', head + l1);
    expect((await acct('bank')) - bank0).toBe(0n);
    await imp('e.csv', head + l1 + l2);
    // Only the cheque is new money (the payout is in the bank by the settlement's own entry).
    expect((await acct('bank')) - bank0).toBe(1_000_00n);
    expect(await database.db.selectFrom('bank_credits').select('id').where('utr', '=', 'UTIBN52026111077701').execute()).toEqual([]);
    await checkInvariants(database.db);
  });

  it('takes a cheque on another day with a reused number and the same amount as another cheque', async () => {
    const head = (d: string) => `\uFEFFAccount Name :,NBPDCL COLLECTIONS\r\nAccount Number :,="50200011112221"\r\nIFS Code :,SBIN0000152\r\nStatement From :,${d} to ${d}\r\n\r\nTxn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance\r\n`;
    const imp = async (name: string, body: string) => {
      const r = await holding.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=50200011112221&fileName=${name}`, Buffer.from(body));
      expect(r.statusCode, r.body).toBeLessThan(300);
    };
    const bank0 = await acct('bank');
    await imp('d1.csv', head('01/12/2026') + '01/12/2026,01/12/2026,CHQ DEP 004512 STATE BANK CLEARING MUZAFFARPUR,004512,,"25,000.00","1,25,000.00"\r\n');
    await imp('d2.csv', head('20/12/2026') + '20/12/2026,20/12/2026,CHQ DEP 004512 PUNJAB NATIONAL BANK CLEARING DARBHANGA,004512,,"25,000.00","1,50,000.00"\r\n');
    expect((await acct('bank')) - bank0).toBe(50_000_00n);
    await checkInvariants(database.db);
  });
});
