import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_PASSWORD } from '../../modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../../modules/demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID } from '../../modules/payments/index.ts';
import { RazorpayGateway } from './adapters.ts';
import type { SandboxGateway } from './sandbox.ts';
import { GatewayRefused, GatewayUnavailable } from './types.ts';

/**
 * The Razorpay adapter cannot reach Razorpay from here: it is tested against the sandbox over
 * real HTTP, by pointing the official SDK at the sandbox's address. Then the portal itself runs
 * on the Razorpay adapter end to end.
 */
describe(`the Razorpay SDK adapter against the sandbox on ${engineName}`, () => {
  let database: Database;
  let gatewayApp: App;
  let portal: App;
  let sandbox: SandboxGateway;
  let rz: RazorpayGateway;
  let base: string;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 19, connections: 400, asOf: new Date() });
    await tagDemoConnections(database);
    const billing = new BillingSimulator(database);
    // The app that serves the sandbox gateway, over a real socket.
    const sandboxPayments = await buildGateway(testConfig(), database.db);
    sandbox = sandboxPayments.sandbox!;
    gatewayApp = await buildApp({ config: testConfig(), database, billing, clock: () => new Date(), payments: sandboxPayments });
    const address = await gatewayApp.listen({ host: '127.0.0.1', port: 0 });
    base = `${address}/sandbox/razorpay`;
    const m = await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    rz = new RazorpayGateway({ keyId: m.keyId, keySecret: m.keySecret, webhookSecret: m.webhookSecret, apiUrl: base, checkoutUrl: `${base}/v1/checkout/embedded`, timeoutMs: 5_000 });
    // The portal, configured for Razorpay, whose "Razorpay" is the sandbox.
    portal = await buildApp({ config: testConfig(), database, billing, clock: () => new Date(), payments: { gateway: rz, sandbox: null } });
    await portal.ready();
  });
  afterAll(async () => {
    await portal?.close();
    await gatewayApp?.close();
    await database?.close();
  });

  it('creates orders and reads payments through the official SDK', async () => {
    const order = await rz.createOrder({ amountPaise: 123_456n, receipt: 'sdk-test-1', notes: { batch: 'PB1' } });
    expect(order).toMatchObject({ amountPaise: 123_456n, receipt: 'sdk-test-1', status: 'created' });
    expect(order.id).toMatch(/^order_[A-Za-z0-9]{14}$/);
    expect(await rz.orderPayments(order.id)).toEqual([]);
    await sandbox.pay(SANDBOX_KEY_ID, order.id, 'failure', 'card');
    await sandbox.pay(SANDBOX_KEY_ID, order.id, 'success', 'netbanking');
    const pays = await rz.orderPayments(order.id);
    expect(pays.map((p) => [p.status, p.method, p.amountPaise]).sort((a, b) => String(b[0]).localeCompare(String(a[0])))).toEqual([
      ['failed', 'card', 123_456n],
      ['captured', 'netbanking', 123_456n],
    ]);
    expect(pays.find((p) => p.status === 'failed')!.errorCode).toBe('BAD_REQUEST_ERROR');
  });

  it('tells refusals (4xx) from outages (5xx and timeouts)', async () => {
    await expect(rz.createOrder({ amountPaise: 100n, receipt: 'x'.repeat(41), notes: {} })).rejects.toBeInstanceOf(GatewayRefused);
    const wrongKey = new RazorpayGateway({ keyId: SANDBOX_KEY_ID, keySecret: 'not-the-secret', webhookSecret: 'w', apiUrl: base, checkoutUrl: '', timeoutMs: 5_000 });
    await expect(wrongKey.createOrder({ amountPaise: 100n, receipt: 'r', notes: {} })).rejects.toBeInstanceOf(GatewayRefused);
    await sandbox.setControl({ apiDownUntil: new Date(Date.now() + 60_000) });
    try {
      await expect(rz.createOrder({ amountPaise: 100n, receipt: 'down', notes: {} })).rejects.toBeInstanceOf(GatewayUnavailable);
    } finally {
      await sandbox.setControl({ apiDownUntil: null });
    }
    const nowhere = new RazorpayGateway({ keyId: SANDBOX_KEY_ID, keySecret: 's', webhookSecret: 'w', apiUrl: 'http://127.0.0.1:9', checkoutUrl: '', timeoutMs: 2_000 });
    await expect(nowhere.orderPayments('order_x')).rejects.toBeInstanceOf(GatewayUnavailable);
  });

  it('runs the portal’s whole online payment on the Razorpay adapter', async () => {
    const admin = await new Client(portal, '10.4.0.1').login('edu.admin', DEMO_PASSWORD);
    const orgId = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    const { rows } = await sql<{ connection_id: bigint }>`SELECT connection_id FROM connection_dues WHERE org_id = ${orgId} AND balance_paise > 0 ORDER BY connection_id LIMIT 3`.execute(database.db);
    const made = await admin.req('POST', '/api/v1/org/payments/batches', { items: rows.map((r) => ({ connectionId: r.connection_id.toString() })) }, { 'idempotency-key': 'razorpay-adapter-flow-1' });
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json<{ id: string }>().id;
    const co = await admin.post(`/api/v1/org/payments/batches/${id}/checkout`);
    expect(co.statusCode, co.body).toBe(200);
    const { action, fields } = co.json<{ action: string; fields: Record<string, string> }>();
    expect(action).toBe(`${base}/v1/checkout/embedded`);
    // The hosted checkout page, over HTTP as a browser would post it.
    const page = await fetch(action, { method: 'POST', body: new URLSearchParams(fields) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(fields.order_id);
    const back = await sandbox.pay(fields.key_id!, fields.order_id!, 'success', 'upi');
    const cb = await portal.inject({ method: 'POST', url: new URL(fields.callback_url!, 'http://x').pathname, payload: new URLSearchParams(back).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(cb.headers.location).toBe(`/payments/${id}?result=paid`);
    const attempt = await database.db.selectFrom('payment_attempts').select('gateway').where('batch_id', '=', BigInt(id)).executeTakeFirstOrThrow();
    expect(attempt.gateway).toBe('razorpay');
    // Its webhooks, signed by the sandbox, verify with the adapter's secret and change nothing more.
    const delivered = await sandbox.pump(async (d) => (await portal.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', headers: d.headers, payload: d.body })).statusCode);
    expect(delivered).toBeGreaterThanOrEqual(2); // with the first test's, for an order the portal does not know
    const view = (await admin.get(`/api/v1/org/payments/batches/${id}`)).json<{ status: string; payments: unknown[]; receipts: number }>();
    expect(view).toMatchObject({ status: 'paid', receipts: 3 });
    expect(view.payments).toHaveLength(1);
  });
});
