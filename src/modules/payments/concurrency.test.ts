import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { Delivery } from '../../adapters/gateway/sandbox.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID, type Payments } from './gateway.ts';
import { checkInvariants } from './invariants.ts';
import { SandboxBank } from '../../adapters/bank/sandbox.ts';
import { ecollectBody } from '../../adapters/bank/ecollect.ts';
import { hmacHex } from '../../adapters/gateway/razorpay-protocol.ts';
import { applyWaitingCredits } from '../reconciliation/index.ts';

/**
 * Races need real connections: PostgreSQL only (PGlite has one session). Requests are fired
 * together through the HTTP layer; the database's locks and unique indexes decide.
 */
describe.runIf(engineName === 'postgres')('payments under concurrency on PostgreSQL', () => {
  let database: Database;
  let app: App;
  let payments: Payments;
  let maker: Client;
  let other: Client;
  let orgId: bigint;

  const connections = async (n: number, offset: number) =>
    (
      await sql<{ connection_id: bigint }>`SELECT connection_id FROM connection_dues WHERE org_id = ${orgId} AND balance_paise > 0
                                            ORDER BY connection_id OFFSET ${offset} LIMIT ${n}`.execute(database.db)
    ).rows.map((r) => ({ connectionId: r.connection_id.toString() }));

  beforeAll(async () => {
    database = await freshDatabase({ poolMax: 12 });
    await seedDemo(database, { seed: 13, connections: 3000, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig();
    payments = await buildGateway(config, database.db);
    await payments.sandbox!.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    maker = await new Client(app, '10.2.0.1').login('edu.admin', DEMO_PASSWORD);
    other = await new Client(app, '10.2.0.2').login('edu.admin', DEMO_PASSWORD);
    orgId = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('creates one batch when the same submission arrives twice at once', async () => {
    const body = { items: await connections(20, 0) };
    const [a, b] = await Promise.all([
      maker.req('POST', '/api/v1/org/payments/batches', body, { 'idempotency-key': 'same-submission-0001' }),
      maker.req('POST', '/api/v1/org/payments/batches', body, { 'idempotency-key': 'same-submission-0001' }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 201]);
    expect(a.json<{ id: string }>().id).toBe(b.json<{ id: string }>().id);
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payment_batches WHERE org_id = ${orgId}`.execute(database.db);
    expect(n.rows[0]!.n).toBe(1);
  });

  it('lets one of two concurrent batches over the same bills win; the other is told why and leaves nothing', async () => {
    const shared = await connections(30, 20);
    const rounds = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? other : maker).req('POST', '/api/v1/org/payments/batches', { items: i < 3 ? shared : [...shared].reverse() }, { 'idempotency-key': `race-round-${i}-xyz` })),
    );
    const codes = rounds.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    for (const r of rounds.filter((x) => x.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('BILL_IN_OPEN_BATCH');
    }
    const open = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payment_batch_items WHERE open AND connection_id = ANY(${shared.map((s) => s.connectionId)}::bigint[])`.execute(database.db);
    expect(open.rows[0]!.n).toBe(30);
    await checkInvariants(database.db);
  });

  it('settles each batch exactly once under a storm of duplicated, delayed and shuffled webhooks', async () => {
    const sandbox = payments.sandbox!;
    await sandbox.setControl({ duplicates: 3, delaySeconds: 0, jitterSeconds: 0 });
    const batches: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await maker.req('POST', '/api/v1/org/payments/batches', { items: await connections(1, 50 + i) }, { 'idempotency-key': `storm-batch-${i}-abcdef` });
      expect(r.statusCode, r.body).toBe(201);
      const id = r.json<{ id: string }>().id;
      const co = await maker.post(`/api/v1/org/payments/batches/${id}/checkout`);
      const f = co.json<{ fields: Record<string, string> }>().fields;
      // A few fail first and are paid on a second try; the browser never comes back (no callback).
      if (i % 7 === 0) await sandbox.pay(f.key_id!, f.order_id!, 'failure', 'card');
      await sandbox.pay(f.key_id!, f.order_id!, 'success', 'upi');
      batches.push(id);
    }
    // Collect every delivery (4 copies of each event), shuffle, and fire them 16 at a time.
    const all: Delivery[] = [];
    await sandbox.pump(async (d) => {
      all.push(d);
      return 500; // not delivered: kept for the storm below
    }, 10_000);
    expect(all.length).toBe(40 * 2 * 4 + 6 * 4);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const statuses: number[] = [];
    for (let i = 0; i < all.length; i += 16) {
      const res = await Promise.all(all.slice(i, i + 16).map((d) => app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', headers: d.headers, payload: d.body })));
      statuses.push(...res.map((r) => r.statusCode));
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const { rows } = await sql<{ status: string; settled: number; ledger: number }>`
      SELECT b.status,
             (SELECT count(*) FROM payments p WHERE p.batch_id = b.id AND p.status = 'captured' AND p.settled_at IS NOT NULL)::int AS settled,
             (SELECT count(*) FROM ledger_transactions t WHERE t.batch_id = b.id)::int AS ledger
        FROM payment_batches b WHERE b.id = ANY(${batches}::bigint[])`.execute(database.db);
    expect(rows).toHaveLength(40);
    for (const r of rows) expect(r).toEqual({ status: 'paid', settled: 1, ledger: 1 });
    const events = await sql<{ processed: number; dupes: number }>`
      SELECT count(*) FILTER (WHERE status = 'processed')::int AS processed, sum(duplicates)::int AS dupes FROM webhook_events WHERE verified`.execute(database.db);
    expect(events.rows[0]).toEqual({ processed: 86, dupes: 86 * 3 });
    await checkInvariants(database.db);
  });

  it('applies a bank credit once when two e-collect notifications of it and the statement carrying it arrive at once; later transfers to the paid challan are refused by e-collect', async () => {
    const { rows: free } = await sql<{ id: bigint }>`
      SELECT d.connection_id AS id FROM connection_dues d JOIN connections c ON c.id = d.connection_id JOIN discoms dc ON dc.id = c.discom_id
       WHERE d.org_id = ${orgId} AND d.balance_paise > 0 AND dc.code = 'NBPDCL'
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id DESC LIMIT 1`.execute(database.db);
    const batch = await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: free[0]!.id.toString() }] }, { 'idempotency-key': 'rtgs-race-0001' });
    expect(batch.statusCode, batch.body).toBe(201);
    const c = (await maker.post(`/api/v1/org/payments/batches/${batch.json<{ id: string }>().id}/challan`)).json<{ vaNumber: string; amountPaise: string; batchId: string }>();
    const bank = new SandboxBank(database.db);
    const utr = 'RACEN0000000000001';
    // Booked at the bank only (the statement will carry it), then told three ways at once.
    await bank.transfer({ vaNumber: c.vaNumber, amountPaise: BigInt(c.amountPaise), channel: 'statement', utr });
    const secret = await bank.ecollectSecret();
    const body = ecollectBody({ utr, vaNumber: c.vaNumber, amountPaise: BigInt(c.amountPaise), mode: 'NEFT', creditedAt: new Date(), payerName: null, payerAccount: null, payerIfsc: null });
    const today = new Date(Date.now() + 5.5 * 3_600_000).toISOString().slice(0, 10);
    const st = await app.inject({ method: 'GET', url: `/sandbox/bank/statement?account=50200011112221&from=${today}&to=${today}&format=mt940` });
    // NBPDCL's accounts team imports NBPDCL's collection account's statement.
    const accounts = await new Client(app, '10.2.0.9').login('accounts.nbpdcl', DEMO_PASSWORD, 'Q65AUCO2N7KERX6BDPTXGW4WXJ6HXVV7');
    const results = await Promise.all([
      app.inject({ method: 'POST', url: '/api/v1/bank/ecollect/notify', headers: { 'content-type': 'application/json', 'x-bank-signature': hmacHex(secret, body) }, payload: body }),
      app.inject({ method: 'POST', url: '/api/v1/bank/ecollect/notify', headers: { 'content-type': 'application/json', 'x-bank-signature': hmacHex(secret, body) }, payload: body }),
      accounts.raw('POST', '/api/v1/discom/recon/statements?format=mt940', st.rawPayload),
    ]);
    for (const r of results) expect(r.statusCode, r.body).toBeLessThan(300);
    await applyWaitingCredits(database.db);
    const pays = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payments WHERE gateway = 'bank' AND gateway_payment_id = ${utr}`.execute(database.db);
    expect(pays.rows[0]!.n).toBe(1);
    const credit = await database.db.selectFrom('bank_credits').select(['status', 'sources']).where('utr', '=', utr).executeTakeFirstOrThrow();
    expect(credit.status).toBe('applied');
    expect([...credit.sources].sort()).toEqual(['ecollect', 'statement']);
    // Two more transfers to the now-paid challan, at once: both held as duplicates, nothing applied twice.
    const two = await Promise.all(['RACEN0000000000002', 'RACEN0000000000003'].map((u) => bank.transfer({ vaNumber: c.vaNumber, amountPaise: BigInt(c.amountPaise), channel: 'ecollect', utr: u }, { ecollect: async (step, b, sig) => {
      const res = await app.inject({ method: 'POST', url: `/api/v1/bank/ecollect/${step}`, headers: { 'content-type': 'application/json', 'x-bank-signature': sig }, payload: b });
      return { status: res.statusCode, json: res.json<Record<string, unknown>>() };
    } })));
    expect(two.map((t) => t.status)).toEqual(['returned', 'returned']); // e-collect refuses money for a paid challan
    await checkInvariants(database.db);
  });
});
