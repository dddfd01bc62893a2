import fs from 'node:fs';
import path from 'node:path';
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
import { syncFromBillingSystem } from '../connections/index.ts';
import { DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { stepAt, totpCode } from '../identity/index.ts';
import { buildGateway, SANDBOX_KEY_ID, type Payments } from './gateway.ts';
import { runJanitor, runPostings } from './index.ts';
import { checkInvariants } from './invariants.ts';
import { BATCH_TRANSITIONS, POSTING_TRANSITIONS } from './rules.ts';

const APPROVER_SECRET = 'ORSWG2DFOIQGC4DQOJXXMZLSEBSGK3LP';
const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/razorpay');

interface BatchView {
  id: string;
  reference: string;
  status: string;
  totalPaise: string;
  itemCount: number;
  rebatePaise: string;
  requiresApproval: boolean;
}

describe(`consolidated online payment on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let payments: Payments;
  let sandbox: SandboxGateway;
  let billing: BillingSimulator;
  let maker: Client;
  let approver: Client;
  let phed: Client;
  let eduOrg: bigint;
  let webhookSecret: string;
  let keySecret: string;

  /** Delivers the sandbox's due webhooks to the app, as the gateway would. */
  const deliver = () =>
    sandbox.pump(async (d) => (await app.inject({ method: 'POST', url: new URL(d.url).pathname, headers: d.headers, payload: d.body })).statusCode);

  /** Connection ids of the organisation with something due, not in any open batch. */
  async function payable(orgId: bigint, n: number, offset = 0): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d
       WHERE d.org_id = ${orgId} AND d.balance_paise > 100000
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id OFFSET ${offset} LIMIT ${n}`.execute(database.db);
    return rows.map((r) => r.connection_id.toString());
  }

  /** The same, of connections in the Patna district's offices (where the demo's approver sits: a batch is seen at and above its office). */
  async function payableInPatna(n: number, offset = 0): Promise<string[]> {
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN offices f ON f.id = d.office_id
       WHERE d.org_id = ${eduOrg} AND d.balance_paise > 100000
         AND f.path LIKE (SELECT p.path FROM offices p WHERE p.org_id = ${eduOrg} AND p.code = 'PATNA') || '%'
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id OFFSET ${offset} LIMIT ${n}`.execute(database.db);
    expect(rows).toHaveLength(n);
    return rows.map((r) => r.connection_id.toString());
  }

  const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;

  async function makeBatch(c: Client, ids: string[], extra: Record<string, unknown> = {}): Promise<BatchView> {
    const r = await c.req('POST', '/api/v1/org/payments/batches', { items: ids.map((connectionId) => ({ connectionId })), ...extra }, { 'idempotency-key': newKey() });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<BatchView>();
  }

  async function payOnline(c: Client, batchId: string, outcome: 'success' | 'failure' | 'pending' = 'success') {
    const co = await c.post(`/api/v1/org/payments/batches/${batchId}/checkout`);
    expect(co.statusCode, co.body).toBe(200);
    const { fields } = co.json<{ fields: Record<string, string> }>();
    const back = await sandbox.pay(fields.key_id!, fields.order_id!, outcome, 'upi');
    const cb = await app.inject({ method: 'POST', url: new URL(fields.callback_url!, 'http://x').pathname, payload: new URLSearchParams(back).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(cb.statusCode).toBe(303);
    return { location: cb.headers.location as string, orderId: fields.order_id! };
  }

  const batch = async (c: Client, id: string) => (await c.get(`/api/v1/org/payments/batches/${id}`)).json<BatchView & { payments: { status: string; gatewayPaymentId: string }[]; receipts: number; postings: Record<string, number>; exceptions: unknown[] }>();

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 11, connections: 800, asOf: new Date() });
    await tagDemoConnections(database);
    billing = new BillingSimulator(database);
    const config = testConfig({ devTools: true });
    payments = await buildGateway(config, database.db);
    sandbox = payments.sandbox!;
    const m = await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    webhookSecret = m.webhookSecret;
    keySecret = m.keySecret;
    app = await buildApp({ config, database, billing, clock: () => new Date(), payments });
    await app.ready();
    maker = await new Client(app, '10.0.1.1').login('edu.admin', DEMO_PASSWORD);
    approver = await new Client(app, '10.0.1.2').login('edu.approver', DEMO_PASSWORD, APPROVER_SECRET);
    phed = await new Client(app, '10.0.1.3').login('phed.admin', DEMO_PASSWORD);
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
    await sandbox.setControl({ duplicates: 0, delaySeconds: 0, jitterSeconds: 0, dropWebhooks: false, apiDownUntil: null, pendingSeconds: 30 });
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
  });

  it('quotes a selection: totals, the rebate for paying now, DPS avoided, anomalies', async () => {
    const ids = await payable(eduOrg, 5);
    const r = await maker.post('/api/v1/org/payments/quote', { items: ids.map((connectionId) => ({ connectionId })) });
    expect(r.statusCode, r.body).toBe(200);
    const q = r.json<{ itemCount: number; totalPaise: string; outstandingPaise: string; rebatePaise: string; rows: { amountPaise: string; netNowPaise: string; outstandingPaise: string; rebatePaise: string }[] }>();
    expect(q.itemCount).toBe(5);
    expect(BigInt(q.totalPaise)).toBe(q.rows.reduce((s, x) => s + BigInt(x.amountPaise), 0n));
    for (const row of q.rows) {
      expect(BigInt(row.amountPaise)).toBe(BigInt(row.netNowPaise));
      expect(BigInt(row.netNowPaise)).toBe(BigInt(row.outstandingPaise) - BigInt(row.rebatePaise));
    }
    // Another organisation's connections are refused, each named.
    const other = await phed.post('/api/v1/org/payments/quote', { items: ids.slice(0, 2).map((connectionId) => ({ connectionId })) });
    expect(other.statusCode).toBe(400);
    expect(other.json<{ error: { details: { path: string; problem: string }[] } }>().error.details.map((d) => [d.path, d.problem])).toEqual([
      ['body.items.0', 'not_tagged'],
      ['body.items.1', 'not_tagged'],
    ]);
  });

  it('replays a batch for the same Idempotency-Key and body, refuses the key with another body', async () => {
    const ids = await payable(eduOrg, 2);
    const body = { items: ids.map((connectionId) => ({ connectionId })), budgetHead: '2801-80-800' };
    const key = newKey();
    const a = await maker.req('POST', '/api/v1/org/payments/batches', body, { 'idempotency-key': key });
    const b = await maker.req('POST', '/api/v1/org/payments/batches', body, { 'idempotency-key': key });
    expect(a.statusCode, a.body).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json<BatchView>().id).toBe(a.json<BatchView>().id);
    const c = await maker.req('POST', '/api/v1/org/payments/batches', { ...body, budgetHead: 'other' }, { 'idempotency-key': key });
    expect(c.statusCode).toBe(422);
    expect(c.json<{ error: { code: string } }>().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const none = await maker.req('POST', '/api/v1/org/payments/batches', body);
    expect(none.statusCode).toBe(400);
    // Its bills are now held: a second batch over one of them is refused, naming the first.
    const again = await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: ids[0] }] }, { 'idempotency-key': newKey() });
    expect(again.statusCode).toBe(409);
    const err = again.json<{ error: { code: string; details: { message: { en: string } }[] } }>().error;
    expect(err.code).toBe('BILL_IN_OPEN_BATCH');
    expect(err.details[0]!.message.en).toContain(a.json<BatchView>().reference);
    // Cancelling frees them.
    expect((await maker.post(`/api/v1/org/payments/batches/${a.json<BatchView>().id}/cancel`, { reason: 'test' })).statusCode).toBe(200);
    expect((await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: ids[0] }] }, { 'idempotency-key': newKey() })).statusCode).toBe(201);
  });

  it('pays a batch online: settled once from the callback and webhooks (sent three times), receipts, ledger, postings, balances', async () => {
    await sandbox.setControl({ duplicates: 2 });
    const ids = await payable(eduOrg, 6);
    const before = await database.db.selectFrom('connections').select(['id', 'balance_paise']).where('id', 'in', ids.map(BigInt)).execute();
    const b = await makeBatch(maker, ids);
    expect(b.status).toBe('ready');
    const { location } = await payOnline(maker, b.id);
    expect(location).toBe(`/payments/${b.id}?result=paid`);
    expect(await deliver()).toBe(6); // payment.captured and order.paid, three copies each
    const view = await batch(maker, b.id);
    expect(view.status).toBe('paid');
    expect(view.payments).toHaveLength(1);
    expect(view.receipts).toBe(6);
    const rebated = await database.db.selectFrom('receipts').select('id').where('batch_id', '=', BigInt(b.id)).where('rebate_paise', '>', 0n).execute();
    expect(view.postings.pending).toBe(6 + rebated.length);
    const events = await database.db.selectFrom('webhook_events').select(['status', 'duplicates', 'outcome']).where('order_id', 'is not', null).execute();
    expect(events.filter((e) => e.status === 'processed')).toHaveLength(2);
    expect(events.every((e) => e.duplicates === 2)).toBe(true);
    expect(events.map((e) => e.outcome).sort()).toEqual(['duplicate', 'duplicate']); // the callback's status query came first
    // Each connection's balance fell by what its receipt credits (money and rebate).
    const receipts = await database.db.selectFrom('receipts').selectAll().where('batch_id', '=', BigInt(b.id)).execute();
    const after = await database.db.selectFrom('connections').select(['id', 'balance_paise']).where('id', 'in', ids.map(BigInt)).execute();
    for (const r of receipts) {
      const was = before.find((x) => x.id === r.connection_id)!.balance_paise;
      expect(after.find((x) => x.id === r.connection_id)!.balance_paise).toBe(was - r.amount_paise - r.rebate_paise);
      expect(r.balance_after_paise).toBe(0n);
    }
    // Receipts: consolidated, per connection, and all as one ZIP; another organisation gets none.
    const pdf = await maker.get(`/api/v1/org/payments/batches/${b.id}/receipt.pdf?lang=hi`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.rawPayload.subarray(0, 4).toString()).toBe('%PDF');
    const one = await maker.get(`/api/v1/org/payments/receipts/${receipts[0]!.id}.pdf`);
    expect(one.statusCode).toBe(200);
    expect(one.headers['content-disposition']).toContain(receipts[0]!.receipt_no.replaceAll('/', '-'));
    const zip = await maker.get(`/api/v1/org/payments/batches/${b.id}/receipts.zip`);
    expect(zip.statusCode).toBe(200);
    expect(zip.rawPayload.subarray(0, 2).toString()).toBe('PK');
    expect((await phed.get(`/api/v1/org/payments/receipts/${receipts[0]!.id}.pdf`)).statusCode).toBe(404);
    expect((await phed.get(`/api/v1/org/payments/batches/${b.id}/receipts.zip`)).statusCode).toBe(404);
    await checkInvariants(database.db);
  });

  it('posts to the billing system once it is back, and then the portal and the billing system agree', async () => {
    await sql`UPDATE billing_sim.control SET down_until = now() + interval '1 hour'`.execute(database.db);
    const down = await runPostings(database.db, billing);
    expect(down.deferred).toBeGreaterThan(0);
    const waiting = await database.db.selectFrom('postings').select(['attempts', 'last_error', 'next_attempt_at']).where('status', '=', 'pending').execute();
    expect(waiting.every((p) => p.attempts === 1 && p.last_error?.includes('unavailable'))).toBe(true);
    // Each discom sees its own; the holding company sees them all, and can send them again now.
    const north = await new Client(app, '10.0.1.8').login('co.nbpdcl', DEMO_PASSWORD, 'JVSWK3TBEBFXK3LBOJUSA23JEBRW63DM');
    const { rows: byDiscom } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM postings p JOIN discoms d ON d.id = p.discom_id WHERE p.status = 'pending' AND d.code = 'NBPDCL'`.execute(database.db);
    expect((await north.get('/api/v1/discom/postings')).json<{ counts: { retrying: number } }>().counts.retrying).toBe(byDiscom[0]!.n);
    const co = await new Client(app, '10.0.1.9').login('admin.discom', DEMO_PASSWORD, 'KRUGKIDROVUWG2ZAMJZG653OEBTG66BA');
    const list = await co.get('/api/v1/discom/postings');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ counts: { retrying: number } }>().counts.retrying).toBe(waiting.length);
    await sql`UPDATE billing_sim.control SET down_until = NULL`.execute(database.db);
    const retry = await co.post('/api/v1/discom/postings/retry', { ids: list.json<{ items: { id: string }[] }>().items.map((i) => i.id) });
    expect(retry.json<{ retried: number }>().retried).toBe(waiting.length);
    const up = await runPostings(database.db, billing);
    expect(up.acknowledged).toBe(waiting.length);
    expect(await database.db.selectFrom('postings').select('id').where('status', '<>', 'acknowledged').execute()).toHaveLength(0);
    // Before the next sync the portal still shows them paid (in flight); after it, the mirror does.
    await syncFromBillingSystem(database, billing);
    const { rows } = await sql<{ consumer_no: string; portal: bigint; billing: bigint; in_flight: bigint }>`
      SELECT c.consumer_no, c.balance_paise AS portal, k.balance_paise AS billing, c.in_flight_paise AS in_flight
        FROM connections c JOIN discoms d ON d.id = c.discom_id
        JOIN billing_sim.consumers k ON k.discom_code = d.code AND k.consumer_no = c.consumer_no
       WHERE c.id IN (SELECT connection_id FROM receipts)`.execute(database.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect([r.consumer_no, r.portal, r.in_flight]).toEqual([r.consumer_no, r.billing, 0n]);
    await checkInvariants(database.db);
  });

  it('needs an approver who is not the maker, with a TOTP code, above the threshold', async () => {
    await database.db.updateTable('organisations').set({ approval_threshold_paise: 0n }).where('id', '=', eduOrg).execute();
    const b = await makeBatch(maker, await payableInPatna(2));
    expect(b.status).toBe('pending_approval');
    expect((await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ error: { code: string } }>().error.code).toBe('APPROVAL_REQUIRED');
    const own = await makeBatch(approver, await payableInPatna(1, 10));
    const self = await approver.post(`/api/v1/org/payments/batches/${own.id}/approve`, { code: '000000' });
    expect(self.json<{ error: { code: string } }>().error.code).toBe('MAKER_CANNOT_APPROVE');
    const wrong = await approver.post(`/api/v1/org/payments/batches/${b.id}/approve`, { code: '000000' });
    expect(wrong.json<{ error: { code: string } }>().error.code).toBe('INVALID_CODE');
    const noReason = await approver.post(`/api/v1/org/payments/batches/${b.id}/reject`, { code: totpCode(APPROVER_SECRET, stepAt(new Date()) + 1) });
    expect(noReason.json<{ error: { details: { path: string }[] } }>().error.details[0]!.path).toBe('body.reason');
    // The login used the current step; the next one is still accepted, once.
    const ok = await approver.post(`/api/v1/org/payments/batches/${b.id}/approve`, { code: totpCode(APPROVER_SECRET, stepAt(new Date()) + 1) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<BatchView>().status).toBe('ready');
    const audit = await database.db.selectFrom('audit_log').select(['action', 'details']).where('target_id', '=', b.id).where('action', 'like', 'payment.%').execute();
    expect(audit.map((a) => a.action)).toEqual(['payment.batch_created', 'payment.batch_approved']);
    const replay = await approver.post(`/api/v1/org/payments/batches/${own.id}/approve`, { code: totpCode(APPROVER_SECRET, stepAt(new Date()) + 1) });
    expect(replay.statusCode).toBe(403);
  });

  it('returns a failed payment’s batch to ready, and a later success on the same order settles it', async () => {
    const b = await makeBatch(maker, await payable(eduOrg, 3));
    const first = await payOnline(maker, b.id, 'failure');
    expect(first.location).toBe(`/payments/${b.id}?result=failed`);
    await deliver();
    expect((await batch(maker, b.id)).status).toBe('ready');
    const second = await payOnline(maker, b.id, 'success');
    expect(second.orderId).toBe(first.orderId);
    await deliver();
    const v = await batch(maker, b.id);
    expect(v.status).toBe('paid');
    expect(v.payments.map((p) => p.status).sort()).toEqual(['captured', 'failed']);
    await checkInvariants(database.db);
  });

  it('settles a pending payment from its webhook, or by the janitor’s status query when webhooks are lost', async () => {
    await sandbox.setControl({ pendingSeconds: 0, dropWebhooks: true });
    const b = await makeBatch(maker, await payable(eduOrg, 2));
    const r = await payOnline(maker, b.id, 'pending');
    expect(r.location).toBe(`/payments/${b.id}?result=pending`);
    await deliver(); // captures it; the webhooks are dropped
    expect((await batch(maker, b.id)).status).toBe('payment_pending');
    await sql`UPDATE payment_batches SET status_changed_at = now() - interval '1 hour' WHERE id = ${BigInt(b.id)}`.execute(database.db);
    await sql`UPDATE payment_attempts SET last_checked_at = now() - interval '10 minutes' WHERE batch_id = ${BigInt(b.id)}`.execute(database.db);
    const j = await runJanitor({ db: database.db, gateway: payments.gateway }, 15);
    expect(j.queried).toBe(1);
    const v = await batch(maker, b.id);
    expect(v.status).toBe('paid');
    expect(v.payments[0]).toMatchObject({ status: 'captured' });
    expect((await database.db.selectFrom('payments').select('confirmed_by').where('batch_id', '=', BigInt(b.id)).executeTakeFirstOrThrow()).confirmed_by).toBe('status_query');
  });

  it('never trusts an unverifiable webhook: stored, answered 401, and only a status query follows', async () => {
    const b = await makeBatch(maker, await payable(eduOrg, 1));
    const co = (await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).json<{ orderId: string }>();
    const forged = JSON.stringify({
      entity: 'event', account_id: 'acc_x', event: 'payment.captured', contains: ['payment'], created_at: 1,
      payload: { payment: { entity: { id: 'pay_Forged00000001', amount: Number(b.totalPaise), currency: 'INR', status: 'captured', order_id: co.orderId, method: 'upi', created_at: 1 } } },
    });
    const r = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: forged, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(forged, 'wrong-secret'), 'x-razorpay-event-id': 'evt_forged' } });
    expect(r.statusCode).toBe(401);
    const ev = await database.db.selectFrom('webhook_events').select(['verified', 'status', 'outcome']).where('event_id', '=', 'evt_forged').executeTakeFirstOrThrow();
    expect(ev).toMatchObject({ verified: false, status: 'ignored' });
    expect(ev.outcome).toContain('status query: nothing');
    expect(await database.db.selectFrom('payments').select('id').where('gateway_payment_id', '=', 'pay_Forged00000001').execute()).toHaveLength(0);
    expect((await batch(maker, b.id)).status).toBe('payment_pending');
  });

  it('processes Razorpay’s documented samples: order.paid and payment.captured settle orders of ours, a late payment.failed changes nothing', async () => {
    const raw = fs.readFileSync(path.join(FIXTURES, 'order.paid.upi.json'));
    const sample = JSON.parse(raw.toString('utf8')) as { payload: { payment: { entity: { order_id: string; amount: number; id: string } } } };
    const e = sample.payload.payment.entity;
    // A batch of ₹1 whose order is the sample's: the sample's own bytes are then signed by the gateway.
    const [id] = await payable(eduOrg, 1);
    const b = await makeBatch(maker, [id!], {});
    await sql`UPDATE payment_batches SET total_paise = ${e.amount} WHERE id = ${BigInt(b.id)}`.execute(database.db);
    await sql`UPDATE payment_batch_items SET amount_paise = ${e.amount} WHERE batch_id = ${BigInt(b.id)}`.execute(database.db);
    await database.db.insertInto('payment_attempts').values({ batch_id: BigInt(b.id), org_id: eduOrg, gateway: 'sandbox', order_id: e.order_id, receipt: 'rcptid #1', amount_paise: BigInt(e.amount) }).execute();
    await sql`UPDATE payment_batches SET status = 'payment_pending' WHERE id = ${BigInt(b.id)}`.execute(database.db);
    const r = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: raw, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(raw, webhookSecret), 'x-razorpay-event-id': 'evt_docsample' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ status: 'processed', outcome: 'settled' });
    const p = await database.db.selectFrom('payments').selectAll().where('gateway_payment_id', '=', e.id).executeTakeFirstOrThrow();
    expect(p).toMatchObject({ amount_paise: 100n, status: 'captured', method: 'upi', confirmed_by: 'webhook' });
    expect(p.captured_at?.toISOString()).toBe(new Date(1567675356 * 1000).toISOString());
    expect((await batch(maker, b.id)).status).toBe('paid');
    // The same bytes again: nothing more.
    const again = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: raw, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(raw, webhookSecret), 'x-razorpay-event-id': 'evt_docsample' } });
    expect(again.json()).toEqual({ status: 'duplicate', outcome: 'already processed' });
    // The documented payment.failed sample is the same payment, arriving late: it changes nothing.
    const failed = fs.readFileSync(path.join(FIXTURES, 'payment.failed.upi.json'));
    const late = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: failed, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(failed, webhookSecret), 'x-razorpay-event-id': 'evt_docsample_failed' } });
    expect(late.json()).toEqual({ status: 'duplicate', outcome: 'duplicate' });
    expect((await database.db.selectFrom('payments').select('status').where('gateway_payment_id', '=', e.id).executeTakeFirstOrThrow()).status).toBe('captured');
    // The documented payment.captured sample (net banking) settles a batch of its own order.
    const cap = fs.readFileSync(path.join(FIXTURES, 'payment.captured.netbanking.json'));
    const ce = (JSON.parse(cap.toString('utf8')) as { payload: { payment: { entity: { order_id: string; amount: number; id: string } } } }).payload.payment.entity;
    const [id2] = await payable(eduOrg, 1);
    const b2 = await makeBatch(maker, [id2!], {});
    await sql`UPDATE payment_batches SET total_paise = ${ce.amount}, status = 'payment_pending' WHERE id = ${BigInt(b2.id)}`.execute(database.db);
    await sql`UPDATE payment_batch_items SET amount_paise = ${ce.amount} WHERE batch_id = ${BigInt(b2.id)}`.execute(database.db);
    await database.db.insertInto('payment_attempts').values({ batch_id: BigInt(b2.id), org_id: eduOrg, gateway: 'sandbox', order_id: ce.order_id, receipt: 'rcptid #2', amount_paise: BigInt(ce.amount) }).execute();
    const c = await app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', payload: cap, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(cap, webhookSecret), 'x-razorpay-event-id': 'evt_docsample_captured' } });
    expect(c.json()).toEqual({ status: 'processed', outcome: 'settled' });
    expect(await database.db.selectFrom('payments').select(['method', 'amount_paise']).where('gateway_payment_id', '=', ce.id).executeTakeFirstOrThrow()).toEqual({ method: 'netbanking', amount_paise: 100n });
    expect(keySecret).toBeTruthy();
    await checkInvariants(database.db);
  });

  it('guards money in the database: declared moves only, a ledger that balances and is never rewritten', async () => {
    const table = await database.db.selectFrom('state_transitions').selectAll().where('machine', 'in', ['batch', 'posting']).execute();
    const declared = [
      ...Object.entries(BATCH_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `batch ${from}->${to}`)),
      ...Object.entries(POSTING_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `posting ${from}->${to}`)),
    ].sort();
    expect(table.map((t) => `${t.machine} ${t.from_state}->${t.to_state}`).sort()).toEqual(declared);
    const paid = await database.db.selectFrom('payment_batches').select('id').where('status', '=', 'paid').executeTakeFirstOrThrow();
    await expect(sql`UPDATE payment_batches SET status = 'ready' WHERE id = ${paid.id}`.execute(database.db)).rejects.toThrow(/illegal batch transition paid -> ready/);
    await expect(sql`UPDATE ledger_entries SET amount_paise = amount_paise + 1 WHERE id = (SELECT min(id) FROM ledger_entries)`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM ledger_transactions`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(
      database.db.transaction().execute(async (trx) => {
        const t = await trx.insertInto('ledger_transactions').values({ kind: 'test' }).returning('id').executeTakeFirstOrThrow();
        await trx.insertInto('ledger_entries').values([{ txn_id: t.id, account: 'bank', amount_paise: 100n }, { txn_id: t.id, account: 'suspense', amount_paise: -99n }]).execute();
      }),
    ).rejects.toThrow(/does not balance/);
  });

  it('leaves connections an open payment holds out of an "all matching" selection, and says so before the batch is made', async () => {
    const made = await maker.post('/api/v1/org/dues/selections', { status: 'overdue' });
    expect(made.statusCode, made.body).toBe(201);
    const sel = made.json<{ id: string; count: number; inOpenBatch: number }>();
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT i.connection_id FROM dues_selection_items i JOIN connection_dues d ON d.connection_id = i.connection_id
       WHERE i.selection_id = ${BigInt(sel.id)} AND d.balance_paise > 100000
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items x WHERE x.connection_id = i.connection_id AND x.open)
       ORDER BY i.connection_id LIMIT 1`.execute(database.db);
    const held = rows[0]!.connection_id.toString();
    const holder = await makeBatch(maker, [held]);
    const info = (await maker.get(`/api/v1/org/dues/selections/${sel.id}`)).json<{ inOpenBatch: number }>();
    expect(info.inOpenBatch).toBe(sel.inOpenBatch + 1);

    const quoted = await maker.post('/api/v1/org/payments/quote', { selectionId: sel.id });
    expect(quoted.statusCode, quoted.body).toBe(200);
    const q = quoted.json<{ itemCount: number; held: number; heldBatches: string[]; skipped: number; rows: { connectionId: string }[] }>();
    expect(q.held).toBe(info.inOpenBatch);
    expect(q.heldBatches).toContain(holder.reference);
    expect(q.rows.map((r) => r.connectionId)).not.toContain(held);
    expect(q.itemCount + q.held + q.skipped).toBe(sel.count);

    const b = await maker.req('POST', '/api/v1/org/payments/batches', { selectionId: sel.id }, { 'idempotency-key': newKey() });
    expect(b.statusCode, b.body).toBe(201);
    const batchView = b.json<BatchView>();
    expect(batchView.itemCount).toBe(q.itemCount);
    const audit = await database.db.selectFrom('audit_log').select('details').where('target_id', '=', batchView.id).where('action', '=', 'payment.batch_created').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ selection_id: sel.id, left_out_in_open_batch: q.held });
    // Listed by hand, a held connection is still refused, naming the payment that holds it.
    const byHand = await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: held }] });
    expect(byHand.json<{ error: { code: string; details: { message: { en: string } }[] } }>().error.details[0]!.message.en).toContain(holder.reference);
    for (const id of [batchView.id, holder.id]) expect((await maker.post(`/api/v1/org/payments/batches/${id}/cancel`, {})).statusCode).toBe(200);
  });

  it('names each quoted row’s discom and the amounts per discom, and makes one batch per discom from a selection', async () => {
    const one = async (code: string) =>
      (await sql<{ connection_id: bigint }>`
        SELECT d.connection_id FROM connection_dues d JOIN discoms dc ON dc.id = d.discom_id AND dc.code = ${code}
         WHERE d.org_id = ${eduOrg} AND d.balance_paise > 100000
           AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
         ORDER BY d.connection_id LIMIT 1`.execute(database.db)).rows[0]!.connection_id.toString();
    const [nb, sb] = [await one('NBPDCL'), await one('SBPDCL')];
    const quoted = await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: nb }, { connectionId: sb }] });
    expect(quoted.statusCode, quoted.body).toBe(200);
    const q = quoted.json<{ totalPaise: string; rows: { connectionId: string; discom: string; amountPaise: string }[]; discoms: { code: string; itemCount: number; totalPaise: string }[] }>();
    expect(q.rows.map((r) => [r.connectionId, r.discom])).toEqual([[nb, 'NBPDCL'], [sb, 'SBPDCL']]);
    expect(q.discoms).toEqual([
      { code: 'NBPDCL', itemCount: 1, totalPaise: q.rows[0]!.amountPaise },
      { code: 'SBPDCL', itemCount: 1, totalPaise: q.rows[1]!.amountPaise },
    ]);
    // A mixed batch says which discoms it spans; its challan is refused.
    const mixed = await makeBatch(maker, [nb, sb]);
    const detail = (await maker.get(`/api/v1/org/payments/batches/${mixed.id}`)).json<{ discoms: string[] }>();
    expect(detail.discoms).toEqual(['NBPDCL', 'SBPDCL']);
    expect((await maker.post(`/api/v1/org/payments/batches/${mixed.id}/challan`)).json<{ error: { code: string } }>().error.code).toBe('CHALLAN_MIXED_DISCOMS');
    expect((await maker.post(`/api/v1/org/payments/batches/${mixed.id}/cancel`, {})).statusCode).toBe(200);

    // A selection split by discom: each batch holds that discom's rows only, and together all of them.
    const sel = (await maker.post('/api/v1/org/dues/selections', { status: 'overdue', minRupees: '1000' })).json<{ id: string }>();
    const whole = (await maker.post('/api/v1/org/payments/quote', { selectionId: sel.id })).json<{ itemCount: number; discoms: { code: string; itemCount: number }[] }>();
    expect(whole.discoms.map((d) => d.code)).toEqual(['NBPDCL', 'SBPDCL']);
    const made: string[] = [];
    for (const d of whole.discoms) {
      const part = (await maker.post('/api/v1/org/payments/quote', { selectionId: sel.id, discom: d.code })).json<{ itemCount: number; discoms: { code: string; itemCount: number }[] }>();
      expect(part.discoms).toEqual([{ ...d, totalPaise: expect.any(String) }]);
      const b = await maker.req('POST', '/api/v1/org/payments/batches', { selectionId: sel.id, discom: d.code }, { 'idempotency-key': newKey() });
      expect(b.statusCode, b.body).toBe(201);
      expect(b.json<BatchView>().itemCount).toBe(d.itemCount);
      made.push(b.json<BatchView>().id);
      expect((await maker.get(`/api/v1/org/payments/batches/${b.json<BatchView>().id}`)).json<{ discoms: string[] }>().discoms).toEqual([d.code]);
    }
    // A discom is for splitting a selection; listed rows are split by the caller.
    const wrong = await maker.post('/api/v1/org/payments/quote', { items: [{ connectionId: nb }], discom: 'NBPDCL' });
    expect(wrong.json<{ error: { details: { path: string; problem: string }[] } }>().error.details).toMatchObject([{ path: 'body.discom', problem: 'selection_only' }]);
    for (const id of made) expect((await maker.post(`/api/v1/org/payments/batches/${id}/cancel`, {})).statusCode).toBe(200);
  });

  it('checks a waiting payment’s status: a checkout nobody paid is ready to pay again (audited), a pending payment keeps it waiting, and checks are limited', async () => {
    const b = await makeBatch(maker, await payable(eduOrg, 2));
    expect((await maker.post(`/api/v1/org/payments/batches/${b.id}/checkout`)).statusCode).toBe(200);
    expect((await batch(maker, b.id)).status).toBe('payment_pending');
    // The payer closed the gateway's window: the gateway holds no payment for the order.
    const checked = await maker.post(`/api/v1/org/payments/batches/${b.id}/refresh`);
    expect(checked.statusCode, checked.body).toBe(200);
    expect(checked.json<BatchView>().status).toBe('ready');
    const audit = await database.db.selectFrom('audit_log').select(['action', 'details']).where('target_id', '=', b.id).where('action', '=', 'payment.checkout_abandoned').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ reference: b.reference, from: 'payment_pending' });
    // Another office's or organisation's batch is not there.
    expect((await phed.post(`/api/v1/org/payments/batches/${b.id}/refresh`)).statusCode).toBe(404);

    // A payment the gateway holds as pending: the batch waits, checked or not.
    await sandbox.setControl({ pendingSeconds: 3600 });
    const r = await payOnline(maker, b.id, 'pending');
    expect(r.location).toBe(`/payments/${b.id}?result=pending`);
    const again = await maker.post(`/api/v1/org/payments/batches/${b.id}/refresh`);
    expect(again.json<BatchView>().status).toBe('payment_pending');

    // Each check asks the gateway: 30 a user in 10 minutes (two used above; the 404 was refused before counting).
    const codes: number[] = [];
    for (let i = 0; i < 28; i++) codes.push((await maker.post(`/api/v1/org/payments/batches/${b.id}/refresh`)).statusCode);
    expect(codes.filter((c) => c !== 200)).toEqual([]);
    const limited = await maker.post(`/api/v1/org/payments/batches/${b.id}/refresh`);
    expect(limited.statusCode).toBe(429);
    expect(limited.json<{ error: { code: string; message: { hi: string } } }>().error).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses to untag a connection while it is in an open payment', async () => {
    const [id] = await payable(eduOrg, 1);
    await makeBatch(maker, [id!]);
    const tag = await database.db.selectFrom('tags').select('id').where('connection_id', '=', BigInt(id!)).where('status', '=', 'active').executeTakeFirstOrThrow();
    const r = await maker.post(`/api/v1/org/tags/${tag.id}/untag`, { reason: 'moved' });
    expect(r.json<{ error: { code: string } }>().error.code).toBe('CONNECTION_IN_OPEN_PAYMENT');
  });
});
