import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../test/helpers/config.ts';
import { engineName, freshDatabase } from '../test/helpers/db.ts';
import { Client } from '../test/helpers/http.ts';
import { BillingSimulator } from './adapters/billing-system/simulator.ts';
import { signWebhook } from './adapters/gateway/razorpay-protocol.ts';
import { buildJobRunner } from './jobs.ts';
import { DEMO_PASSWORD } from './modules/demo/people.ts';
import { seedDemo } from './modules/demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID } from './modules/payments/index.ts';
import type { App } from './platform/context.ts';
import type { Database } from './platform/db/database.ts';
import type { JobRunner } from './platform/jobs.ts';
import { buildApp } from './server.ts';

/** Issue 17, point 5: unverified deliveries, the mass-tagging lookup limit, concurrent exports. */
describe(`limits on cheap abuse on ${engineName}`, () => {
  const PER_IP = 5;
  const LOOKUPS = 12;
  let database: Database;
  let app: App;
  let runner: JobRunner;
  let webhookSecret: string;
  let edu: Client;
  let viewer: Client;
  // A route as expensive as an export that answers only when the test lets it.
  let entered = 0;
  let bothIn: () => void = () => {};
  const twoInside = new Promise<void>((r) => (bothIn = r));
  let letGo: () => void = () => {};
  const released = new Promise<void>((r) => (letGo = r));

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 8, connections: 400, asOf: new Date('2026-11-26T12:00:00Z') });
    const config = testConfig({ devTools: true, unverifiedDeliveriesPerIp: PER_IP, tagLookupsPerDay: LOOKUPS, exportsPerUser: 2 });
    const payments = await buildGateway(config, database.db);
    webhookSecret = (await payments.sandbox!.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' })).webhookSecret;
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    app.get('/api/v1/org/test-slow-export', { config: { access: { roles: 'org' }, expensive: true } }, async () => {
      if (++entered === 2) bothIn();
      await released;
      return { ok: true };
    });
    await app.ready();
    runner = buildJobRunner(database, {}, { tagLookupsPerDay: LOOKUPS });
    edu = await new Client(app, '10.0.9.1').login('edu.admin', DEMO_PASSWORD);
    viewer = await new Client(app, '10.0.9.2').login('edu.viewer', DEMO_PASSWORD);
  });
  afterAll(async () => {
    letGo();
    await app?.close();
    await database?.close();
  });

  const webhook = (body: Buffer | string, ip: string, signature: string) =>
    app.inject({ method: 'POST', url: '/api/v1/webhooks/razorpay', remoteAddress: ip, payload: body, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signature } });

  it('keeps a webhook whose signature fails bounded, and refuses a flood of them from one address unstored', async () => {
    const big = Buffer.from(JSON.stringify({ event: 'payment.captured', padding: 'x'.repeat(100_000) }));
    const stored = () => database.db.selectFrom('webhook_events').select(['verified', 'body_bytes', 'body_sha256', sql<number>`octet_length(raw_body)`.as('kept')]).where('verified', '=', false).execute();
    for (let i = 0; i < PER_IP; i++) expect((await webhook(big, '203.0.113.7', 'forged')).statusCode).toBe(401);
    const rows = await stored();
    expect(rows).toHaveLength(PER_IP);
    for (const r of rows) {
      expect(Number(r.kept)).toBe(4096);
      expect(r.body_bytes).toBe(big.length);
      expect(r.body_sha256).toBe(createHash('sha256').update(big).digest('hex'));
    }

    const refused = await webhook(big, '203.0.113.7', 'forged');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    expect(refused.json().error.message.en).toContain('signature');
    expect(refused.json().error.message.hi).toContain('हस्ताक्षर');
    expect(await stored()).toHaveLength(PER_IP);

    // Another address is counted on its own; a verified delivery from the flooding one is never refused, and kept whole.
    expect((await webhook('{}', '198.51.100.9', 'forged')).statusCode).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const good = JSON.stringify({
      entity: 'event', account_id: 'acc_SangrahanSbx01', event: 'payment.failed', contains: ['payment'], created_at: now,
      payload: { payment: { entity: { id: 'pay_AbuseTest0001', entity: 'payment', amount: 100, currency: 'INR', status: 'failed', order_id: 'order_NotOurs00001', method: 'upi', captured: false, created_at: now } } },
    });
    const ok = await webhook(good, '203.0.113.7', signWebhook(good, webhookSecret));
    expect(ok.statusCode, ok.body).toBe(200);
    const kept = await database.db.selectFrom('webhook_events').select(['body_bytes', sql<number>`octet_length(raw_body)`.as('kept')]).where('verified', '=', true).where('gateway_payment_id', '=', 'pay_AbuseTest0001').executeTakeFirstOrThrow();
    expect(Number(kept.kept)).toBe(Buffer.byteLength(good));
    expect(kept.body_bytes).toBe(Buffer.byteLength(good));
  });

  it('limits bank e-collect calls whose signature fails per address', async () => {
    const call = (ip: string) =>
      app.inject({ method: 'POST', url: '/api/v1/bank/ecollect/notify', remoteAddress: ip, payload: '{"utr":"FORGED0001"}', headers: { 'content-type': 'application/json', 'x-bank-signature': 'forged' } });
    for (let i = 0; i < PER_IP; i++) expect((await call('2001:db8:1:2::1')).statusCode).toBe(401);
    // Another address of the same IPv6 /64 is the same sender.
    const refused = await call('2001:db8:1:2::99');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await call('2001:db8:1:3::1')).statusCode).toBe(401);
  });

  it('charges rows about connections the organisation has not shown to be its own to a daily limit, and refuses the rows past it', async () => {
    const pick = (where: ReturnType<typeof sql>, n: number) =>
      sql<{ id: bigint; consumer_no: string; discom: string }>`
        SELECT c.id, c.consumer_no, d.code AS discom FROM connections c JOIN discoms d ON d.id = c.discom_id
         WHERE ${where} AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = c.id) ORDER BY c.id LIMIT ${n}`.execute(database.db).then((r) => r.rows);
    const own = await pick(sql`c.owner_dept_code = 'BR-EDU'`, 4);
    const free = await pick(sql`c.owner_dept_code IS NULL AND c.owner_pan IS NULL`, 9);
    const line = (c: { consumer_no: string; discom: string }) => `${c.consumer_no},${c.discom}`;
    const upload = async (lines: string[]) => {
      const res = await edu.raw('POST', '/api/v1/org/tag-jobs?fileName=list.csv', Buffer.from(['consumer_no,discom', ...lines].join('\n')), 'text/csv');
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().lookups).toMatchObject({ perDay: LOOKUPS });
      await runner.drain();
      return (await edu.get(`/api/v1/org/tag-jobs/${res.json().id}`)).json();
    };

    // 3 of its own (not counted), 5 requests and 3 numbers not found (8 counted), 1 malformed (no lookup).
    const first = await upload([...own.slice(0, 3).map(line), ...free.slice(0, 5).map(line), '99999999901', '99999999902', '99999999903', '12ab']);
    expect(first.counts).toMatchObject({ activate: 3, request: 5, error: 4 });
    expect(first.lookups).toEqual({ charged: 8, refused: 0, perDay: LOOKUPS, remainingToday: LOOKUPS - 8 });

    // 4 left: of the next 7 counted rows, in file order, the last 3 are refused, found or not alike.
    const second = await upload([line(free[5]!), line(free[6]!), '99999999904', line(free[7]!), line(free[8]!), '99999999905', '99999999906', line(own[3]!)]);
    expect(second.lookups).toEqual({ charged: 4, refused: 3, perDay: LOOKUPS, remainingToday: 0 });
    expect(second.counts).toMatchObject({ activate: 1, request: 3, error: 4 });
    const problems = (await edu.get(`/api/v1/org/tag-jobs/${second.id}/rows?outcome=problems`)).json().rows as { rowNo: number; problem: string; message: { en: string; hi: string } }[];
    expect(problems.map((r) => [r.rowNo, r.problem])).toEqual([
      [4, 'not_found'],
      [6, 'daily_lookup_limit'],
      [7, 'daily_lookup_limit'],
      [8, 'daily_lookup_limit'],
    ]);
    expect(problems[1]!.message.en).toContain(`limit of ${LOOKUPS} rows`);
    expect(problems[1]!.message.hi).toContain('सीमा');

    // The commit applies every valid row and no refused one.
    expect((await edu.post(`/api/v1/org/tag-jobs/${second.id}/commit`)).statusCode).toBe(202);
    await runner.drain();
    const done = (await edu.get(`/api/v1/org/tag-jobs/${second.id}`)).json();
    expect(done.status).toBe('committed');
    const tagged = async (c: { id: bigint }) => (await database.db.selectFrom('tags').select('status').where('connection_id', '=', c.id).execute()).map((t) => t.status);
    expect(await tagged(free[7]!)).toEqual(['requested']);
    expect(await tagged(free[8]!)).toEqual([]);
    expect(await tagged(own[3]!)).toEqual(['active']);

    // Spent for today: only the organisation's own rows are still answered.
    const third = await upload([line(free[8]!), line(own[3]!)]);
    expect(third.lookups).toMatchObject({ charged: 0, refused: 1, remainingToday: 0 });
    expect(third.counts).toMatchObject({ noop: 1, error: 1 });
    expect((await edu.get('/api/v1/org/tag-jobs')).json().lookups).toEqual({ perDay: LOOKUPS, usedToday: LOOKUPS, remainingToday: 0 });
  });

  it('refuses a third export in progress for one user with 429 and Retry-After, and not another user', async () => {
    const a = edu.get('/api/v1/org/test-slow-export');
    const b = edu.get('/api/v1/org/test-slow-export');
    await twoInside;
    const third = await edu.get('/api/v1/org/dues/export?format=csv');
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('10');
    expect(third.json().error.code).toBe('RATE_LIMITED');
    expect(third.json().error.message.en).toContain('2 downloads or reports');
    expect(third.json().error.message.hi).toContain('डाउनलोड');
    expect((await edu.get('/api/v1/org/dues/statement?from=2026-01-01&to=2026-11-30&format=pdf')).statusCode).toBe(429);

    const other = await viewer.get('/api/v1/org/dues/export?format=csv');
    expect(other.statusCode, other.body).toBe(200);

    letGo();
    expect((await a).statusCode).toBe(200);
    expect((await b).statusCode).toBe(200);
    // The slots are given back when the responses are over.
    const again = await edu.get('/api/v1/org/dues/export?format=csv');
    expect(again.statusCode, again.body).toBe(200);
  });
});
