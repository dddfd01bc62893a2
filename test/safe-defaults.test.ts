import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotificationSender, blankExpiredCodes } from '../src/adapters/notifier/notifier.ts';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { AuditKeyMismatch, recordAudit, setAuditKey } from '../src/modules/audit/audit.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { openSecret, stepAt, totpCode } from '../src/modules/identity/index.ts';
import { loadConfig, type Config } from '../src/platform/config.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { holdsDemoData } from '../src/platform/installation.ts';
import { sql } from 'kysely';
import { buildApp } from '../src/server.ts';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';

/**
 * Safe by default (issue 15): what a default install exposes, to whom and from where. Each test
 * reproduces an attack that worked before: reading one-time codes from the developer pages
 * through a proxy or on a real install, forging a client address through X-Forwarded-For,
 * reading /metrics from elsewhere, flooding password resets, and so on.
 */

/** A development configuration as `npm start` reads it (not the tests' NODE_ENV=test). */
const devConfig = (env: Record<string, string> = {}, overrides: Partial<Config> = {}) =>
  loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', DEMO_SEED: 'false', BILLING_SYNC_INTERVAL_S: '0', ...env }, overrides);

describe(`safe defaults on ${engineName}`, { timeout: 180_000 }, () => {
  let demo: Database;
  let empty: Database;
  const apps: App[] = [];

  const build = async (database: Database, config: Config) => {
    const app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    demo = await freshDatabase();
    await seedDemo(demo, { seed: 4, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
    await tagDemoConnections(demo);
    empty = await freshDatabase();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await demo.close();
    await empty.close();
  });
  beforeEach(async () => {
    await demo.db.deleteFrom('throttles').execute();
  });
  // Each test's apps closed after it: their background loops all share one embedded database,
  // and seventeen of them left running slowed every later test (521 s for this file in CI).
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
  });

  const DEV_PAGES = ['/api/v1/dev/outbox', '/api/v1/dev/authenticator', '/sandbox/razorpay/control'];

  it('turns the developer pages on for a demo database on this machine, and answers direct loopback requests only', async () => {
    const app = await build(demo, devConfig());
    for (const url of DEV_PAGES) {
      expect((await app.inject({ url, remoteAddress: '127.0.0.1' })).statusCode, url).toBe(200);
      expect((await app.inject({ url, remoteAddress: '::1' })).statusCode, url).toBe(200);
      // From elsewhere, or relayed by a reverse proxy on this machine (which connects from 127.0.0.1).
      expect((await app.inject({ url, remoteAddress: '10.0.0.7' })).statusCode, url).toBe(403);
      for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via', 'x-original-forwarded-for', 'x-cluster-client-ip', 'x-forwarded-proto']) {
        const r = await app.inject({ url, remoteAddress: '127.0.0.1', headers: { [h]: h === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' } });
        expect(r.statusCode, `${url} with ${h}`).toBe(403);
        expect(r.json().error.message.en).toContain('only requests made on this machine directly');
      }
    }
  });

  it('keeps an outsider from taking over an account through a reset code read off the developer pages', async () => {
    // The "small install behind nginx on the same host": every request arrives from 127.0.0.1.
    const app = await build(demo, devConfig());
    const viaProxy = { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.23' } };
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { loginId: 'admin.discom' }, ...viaProxy })).statusCode).toBe(202);
    const outbox = await app.inject({ url: '/api/v1/dev/outbox', ...viaProxy });
    expect(outbox.statusCode).toBe(403);
    expect(outbox.body).not.toMatch(/reset code for admin\.discom is \d{6}/);
    const codes = await app.inject({ url: '/api/v1/dev/authenticator', ...viaProxy });
    expect(codes.statusCode).toBe(403);
    expect(codes.body).not.toContain('admin.discom');
  });

  it('has no developer pages on a real install, nor with anything that reaches outside this machine', async () => {
    const cases: [string, Database, Config][] = [
      ['an embedded database without demo data', empty, devConfig()],
      ['a non-loopback HOST', demo, devConfig({ HOST: '0.0.0.0' })],
      ['SMTP', demo, devConfig({ SMTP_URL: 'smtp://mail.example.in:25' })],
      ['SMS', demo, devConfig({ SMS_WEBHOOK_URL: 'https://sms.example.in/send' })],
      ['a trusted proxy', demo, devConfig({ TRUST_PROXY: '127.0.0.1' })],
      ['DEV_TOOLS=false', demo, devConfig({ DEV_TOOLS: 'false' })],
    ];
    const open: string[] = [];
    for (const [what, database, config] of cases) {
      const app = await build(database, config);
      for (const url of DEV_PAGES) {
        const r = await app.inject({ url, remoteAddress: '127.0.0.1' });
        if (r.statusCode !== 404) open.push(`${what}: ${url} answered ${r.statusCode}`);
      }
      expect((await app.inject('/api/v1/meta')).json().devTools, what).toBe(false);
    }
    expect(open).toEqual([]);
    // DEV_TOOLS=true forces them on outside production, on an empty database too.
    const forced = await build(empty, devConfig({ DEV_TOOLS: 'true' }));
    expect((await forced.inject({ url: '/api/v1/dev/outbox', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
  });

  it('mounts a sandbox only when it is the configured gateway or bank, and says the install is a demo', async () => {
    const sandboxes = await build(demo, devConfig());
    const bankTransfer = { method: 'POST' as const, url: '/sandbox/bank/transfers', payload: { vaNumber: 'NBPD00000000017', amountPaise: '100', channel: 'statement' } };
    expect((await sandboxes.inject(bankTransfer)).statusCode).not.toBe(404);
    expect((await sandboxes.inject('/sandbox/bank/statement?account=50200011112221&from=2026-11-01&to=2026-11-02&format=csv')).statusCode).toBe(200);
    expect((await sandboxes.inject('/api/v1/meta')).json()).toMatchObject({ demo: true, demoData: true, sandboxGateway: true, sandboxBank: true });

    const realBank = await build(empty, devConfig({ COLLECTION_BANK: 'ecollect', BANK_ECOLLECT_SECRET: 'a-shared-secret-of-the-bank-0123456789' }));
    expect((await realBank.inject(bankTransfer)).statusCode).toBe(404);
    expect((await realBank.inject('/sandbox/bank/statement?account=50200011112221&from=2026-11-01&to=2026-11-02&format=csv')).statusCode).toBe(404);
    expect((await realBank.inject({ method: 'POST', url: '/sandbox/razorpay/settlements', payload: {} })).statusCode).toBe(404);

    const real = await build(empty, devConfig({
      COLLECTION_BANK: 'ecollect', BANK_ECOLLECT_SECRET: 'a-shared-secret-of-the-bank-0123456789', PAYMENT_GATEWAY: 'razorpay',
      RAZORPAY_KEY_ID: 'rzp_live_x', RAZORPAY_KEY_SECRET: 's', RAZORPAY_WEBHOOK_SECRET: 'w', PUBLIC_URL: 'https://sangrahan.example.in',
    }));
    const checkout = await real.inject({ method: 'POST', url: '/sandbox/razorpay/v1/checkout/embedded', payload: 'key_id=rzp_test_sandbox&order_id=order_1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(checkout.statusCode).toBe(404);
    expect((await real.inject('/api/v1/meta')).json()).toMatchObject({ demo: false, demoData: false, sandboxGateway: false, sandboxBank: false, devTools: false });
  });

  it('takes the client address from the trusted proxy hop, so a forged X-Forwarded-For moves neither the throttle bucket nor the audited address', async () => {
    // TRUST_PROXY=1: one nginx in front, which appends the address it saw to what the client sent.
    const app = await build(demo, devConfig({ TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_IP: '4' }));
    const login = (spoofed: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${spoofed}, 203.0.113.9` }, payload: { loginId: `nobody${spoofed.replaceAll('.', '')}`, password: 'wrong password here' } });
    for (let i = 1; i <= 4; i++) expect((await login(`6.6.6.${i}`)).statusCode).toBe(401);
    // Four tries from one real address, whatever each claimed: the fifth is locked out.
    expect((await login('6.6.6.5')).statusCode).toBe(429);
    const buckets = (await demo.db.selectFrom('throttles').select('bucket').where('bucket', 'like', 'login-ip:%').execute()).map((b) => b.bucket);
    expect(buckets).toEqual(['login-ip:203.0.113.9']);
    const ips = await demo.db.selectFrom('audit_log').select('ip').where('action', '=', 'auth.login').where('actor_label', 'like', 'login:nobody666%').execute();
    expect(ips.length).toBeGreaterThan(0);
    expect(new Set(ips.map((r) => r.ip))).toEqual(new Set(['203.0.113.9']));

    // Without TRUST_PROXY the header is not read at all: the address is the peer's.
    const direct = await build(demo, devConfig());
    await direct.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '192.0.2.44', headers: { 'x-forwarded-for': '6.6.6.6' }, payload: { loginId: 'nobody.direct', password: 'wrong password here' } });
    const row = await demo.db.selectFrom('audit_log').select('ip').where('actor_label', '=', 'login:nobody.direct').executeTakeFirstOrThrow();
    expect(row.ip).toBe('192.0.2.44');
  });

  it('takes no form posts on the API (no login CSRF), only where the gateway returns the payer', async () => {
    const app = await build(demo, testConfig());
    const form = (url: string, body: string) => app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
    const login = await form('/api/v1/auth/login', `loginId=edu.viewer&password=${encodeURIComponent(DEMO_PASSWORD)}`);
    expect(login.statusCode).toBe(415);
    expect(login.cookies.find((c) => c.name === 'sg_session')).toBeUndefined();
    expect((await form('/api/v1/auth/password-reset', 'loginId=edu.viewer')).statusCode).toBe(415);
    expect((await form('/api/v1/organisations/register', 'name=x')).statusCode).toBe(415);
    // The gateway's return still arrives as a form (an unknown attempt: back to the payments page).
    const back = await form('/api/v1/payments/callback/999999', 'razorpay_payment_id=pay_x&razorpay_order_id=order_x&razorpay_signature=00');
    expect(back.statusCode).toBe(303);
  });

  it('answers /metrics to a scraper on this machine or with METRICS_TOKEN only', async () => {
    const token = 'metrics-token-0123456789abcdefghijklmnop';
    const app = await build(demo, devConfig({ METRICS_TOKEN: token }));
    expect((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '10.1.2.3' } })).statusCode).toBe(404);
    expect((await app.inject({ url: '/metrics', remoteAddress: '10.1.2.3', headers: { authorization: 'Bearer wrong-token-0123456789abcdefghijklmn' } })).statusCode).toBe(404);
    const scraped = await app.inject({ url: '/metrics', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${token}` } });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain('sangrahan_http_requests_total');
    const noToken = await build(demo, devConfig());
    expect((await noToken.inject({ url: '/metrics', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(404);
  }, 180_000);

  it('tells browsers and proxies to keep no copy of what a logged-in user sees: JSON, PDF and exports', async () => {
    const app = await build(demo, testConfig());
    const edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const conn = await demo.db
      .selectFrom('tags as t')
      .innerJoin('organisations as o', 'o.id', 't.org_id')
      .innerJoin('bills as b', 'b.connection_id', 't.connection_id')
      .select(['t.connection_id', 'b.id as bill_id'])
      .where('o.department_code', '=', 'BR-EDU')
      .where('t.status', '=', 'active')
      .executeTakeFirstOrThrow();
    for (const url of [
      '/api/v1/auth/session',
      '/api/v1/org/dues/summary',
      `/api/v1/org/dues/connections/${conn.connection_id}/bills/${conn.bill_id}.pdf`,
      '/api/v1/org/dues/export?format=csv',
      '/api/v1/org/dues/export?format=xlsx',
      '/api/v1/org/connections/export?format=csv',
    ]) {
      const r = await edu.get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('throttles password resets per account and per address, answering alike whether or not the login exists', async () => {
    const app = await build(demo, testConfig());
    const ask = (loginId: string, ip: string) => app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', remoteAddress: ip, payload: { loginId } });
    const before = Number((await demo.db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('n')).where('purpose', '=', 'password_reset').executeTakeFirstOrThrow()).n);
    // Ten requests for one account, from ten addresses: three codes go out (an SMS and an e-mail each), the rest are answered alike.
    for (let i = 0; i < 10; i++) {
      const r = await ask('edu.viewer', `10.20.0.${i}`);
      expect(r.statusCode).toBe(202);
      expect(r.json()).toEqual({ sent: true });
    }
    const after = Number((await demo.db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('n')).where('purpose', '=', 'password_reset').executeTakeFirstOrThrow()).n);
    expect(after - before).toBe(6);
    expect((await ask('no.such.login', '10.20.1.1')).json()).toEqual({ sent: true });
    // From one address, ten requests whatever the login IDs; the eleventh is refused.
    for (let i = 0; i < 10; i++) expect((await ask(`someone${i}`, '10.30.0.1')).statusCode).toBe(202);
    const refused = await ask('someone.else', '10.30.0.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.message.en).toMatch(/^Password resets from your address are limited to 10 in 15 minutes\. Try again after /);
    // An IPv6 subscriber counts as one address for its whole /64.
    for (let i = 0; i < 10; i++) expect((await ask(`v6user${i}`, `2001:db8:7:8::${i + 1}`)).statusCode).toBe(202);
    expect((await ask('v6user.more', '2001:db8:7:8:ffff::9')).statusCode).toBe(429);
  });

  it('says how many lookups are allowed, not "failed attempts", when a maker has looked up many connections', async () => {
    const app = await build(demo, testConfig());
    const edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const c = await demo.db.selectFrom('connections').select('consumer_no').executeTakeFirstOrThrow();
    for (let i = 0; i < 300; i++) expect((await edu.post('/api/v1/org/tags/lookup', { consumerNo: c.consumer_no })).statusCode).toBe(200);
    const r = await edu.post('/api/v1/org/tags/lookup', { consumerNo: c.consumer_no });
    expect(r.statusCode).toBe(429);
    const msg = r.json().error.message;
    expect(msg.en).not.toMatch(/failed/i);
    expect(msg.en).toMatch(/^You have looked up 300 connections in the last hour, the most allowed .*Try again after /);
    expect(msg.hi).toContain('300 कनेक्शन खोजे हैं');
  });

  it('audits refusals (a missing CSRF token, a forbidden route) per actor, up to a limit', async () => {
    const app = await build(demo, testConfig());
    const viewer = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const userId = (await demo.db.selectFrom('users').select('id').where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow()).id;
    const noCsrf = await app.inject({ method: 'POST', url: '/api/v1/auth/logout-everywhere', remoteAddress: '10.0.0.1', headers: { cookie: `sg_session=${viewer.cookie}` }, payload: {} });
    expect(noCsrf.statusCode).toBe(403);
    expect((await viewer.get('/api/v1/discom/recon/exceptions')).statusCode).toBe(403);
    const entries = await demo.db.selectFrom('audit_log').selectAll().where('actor_user_id', '=', userId).where('action', 'like', 'access.%').orderBy('id').execute();
    expect(entries.map((e) => [e.action, e.outcome, (e.details as { code: string }).code, e.target_id])).toEqual([
      ['access.refused', 'failure', 'CSRF_FAILED', 'POST /api/v1/auth/logout-everywhere'],
      ['access.refused', 'failure', 'FORBIDDEN', 'GET /api/v1/discom/recon/exceptions'],
    ]);
    expect(entries[0]!.ip).toBe('10.0.0.1');
    // A flood of refusals writes 20 entries, then one saying the rest are not written.
    for (let i = 0; i < 30; i++) await viewer.get('/api/v1/discom/collections');
    const all = await demo.db.selectFrom('audit_log').select('action').where('actor_user_id', '=', userId).where('action', 'like', 'access.%').execute();
    expect(all.filter((e) => e.action === 'access.refused')).toHaveLength(20);
    expect(all.filter((e) => e.action === 'access.refusals_suppressed')).toHaveLength(1);
  });

  it('keeps authenticator secrets encrypted in the database', async () => {
    const app = await build(demo, testConfig());
    const stored = await demo.db.selectFrom('users').select(['login_id', 'totp_secret']).where('totp_secret', 'is not', null).execute();
    expect(stored.length).toBeGreaterThan(3);
    for (const u of stored) {
      const published = DEMO_LOGINS.find((l) => l.loginId === u.login_id)?.totpSecret;
      expect(u.totp_secret).toMatch(/^enc1:[0-9a-f]{12}:/);
      if (published) expect(u.totp_secret).not.toContain(published);
      expect(openSecret(u.totp_secret!)).toBe(published);
    }
    // Enrolling a new authenticator stores it sealed too, and the code from it logs in.
    const viewer = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const { secret } = (await viewer.post('/api/v1/auth/totp/enrolment', {})).json<{ secret: string }>();
    const pending = await demo.db.selectFrom('users').select('totp_pending_secret').where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow();
    expect(pending.totp_pending_secret).toMatch(/^enc1:/);
    expect(pending.totp_pending_secret).not.toContain(secret);
    expect((await viewer.post('/api/v1/auth/totp/enrolment/confirm', { code: totpCode(secret, stepAt(new Date())) })).statusCode).toBe(200);
    const enabled = await demo.db.selectFrom('users').select('totp_secret').where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow();
    expect(enabled.totp_secret).toMatch(/^enc1:/);
    expect(openSecret(enabled.totp_secret!)).toBe(secret);
  });

  it('blanks the one-time code in the stored copy of a message once it is sent', async () => {
    const received: string[] = [];
    const sms = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(body);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => sms.listen(0, '127.0.0.1', r));
    try {
      const app = await build(demo, testConfig());
      expect((await app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { loginId: 'edu.maker' } })).statusCode).toBe(202);
      const sender = new NotificationSender(demo.db, { smtpUrl: undefined, smtpFrom: 'x@example.in', smsWebhookUrl: `http://127.0.0.1:${(sms.address() as AddressInfo).port}/send` });
      expect(await sender.flush()).toBeGreaterThan(0);
      const code = /code for edu\.maker is (\d{6})/.exec(received.join('\n'))?.[1];
      expect(code).toMatch(/^\d{6}$/);
      const stored = await demo.db.selectFrom('notifications').select(['body', 'status']).where('purpose', '=', 'password_reset').where('channel', '=', 'sms').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(stored.status).toBe('sent');
      expect(stored.body).not.toContain(code);
      expect(stored.body).toContain('code for edu.maker is ••••••');
    } finally {
      sms.close();
    }
  });

  it('knows a database seeded before the demo flag existed as a demo, by its published logins', async () => {
    const old = await freshDatabase();
    try {
      await seedDemo(old, { seed: 5, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
      // As it was before migration 0014.
      await sql`DROP TABLE installation`.execute(old.db);
      await sql`ALTER TABLE audit_chains DROP COLUMN key_id`.execute(old.db);
      await sql`DROP INDEX notifications_waiting`.execute(old.db);
      await sql`ALTER TABLE notifications DROP COLUMN attempts, DROP COLUMN next_attempt_at`.execute(old.db);
      await sql`DELETE FROM schema_migrations WHERE version = '0014'`.execute(old.db);
      expect(await migrate(old)).toEqual(['0014_safe_defaults']);
      expect(await holdsDemoData(old.db)).toBe(true);
      expect(await holdsDemoData(empty.db)).toBe(false);
    } finally {
      await old.close();
    }
  });

  it('answers a body nested thousands deep with 400, not 500, on public and logged-in routes', async () => {
    const app = await build(demo, testConfig());
    const deep = (n: number) => `{"loginId":${'['.repeat(n)}${']'.repeat(n)}}`;
    for (const n of [40, 3000, 20000]) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: deep(n), headers: { 'content-type': 'application/json' } });
      expect(r.statusCode, `depth ${n}`).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    const edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const r = await edu.req('POST', '/api/v1/org/payments/quote', JSON.parse(`{"items":${'['.repeat(100)}${']'.repeat(100)}}`));
    expect(r.statusCode).toBe(400);
  });

  it('tries a refused message again, and blanks any code once it has expired, sent or not', async () => {
    let up = false;
    const received: string[] = [];
    const sms = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (up) received.push(body);
        res.statusCode = up ? 200 : 503;
        res.end('{}');
      });
    });
    await new Promise<void>((r) => sms.listen(0, '127.0.0.1', r));
    try {
      const app = await build(demo, testConfig());
      await demo.db.updateTable('notifications').set({ status: 'sent' }).where('status', '<>', 'sent').execute();
      expect((await app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', remoteAddress: '10.44.0.1', payload: { loginId: 'edu.approver' } })).statusCode).toBe(202);
      const sender = new NotificationSender(demo.db, { smtpUrl: undefined, smtpFrom: 'x@example.in', smsWebhookUrl: `http://127.0.0.1:${(sms.address() as AddressInfo).port}/send` });
      const row = () => demo.db.selectFrom('notifications').selectAll().where('purpose', '=', 'password_reset').where('channel', '=', 'sms').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(await sender.flush()).toBe(0);
      expect(await row()).toMatchObject({ status: 'failed', attempts: 1 });
      // Not again before its time; then, the gateway back, it goes.
      expect(await sender.flush()).toBe(0);
      up = true;
      await demo.db.updateTable('notifications').set({ next_attempt_at: new Date(Date.now() - 1000) }).where('status', '=', 'failed').execute();
      expect(await sender.flush()).toBe(1);
      expect((await row()).status).toBe('sent');
      expect(received.join('')).toMatch(/code for edu\.approver is \d{6}/);
      // The e-mail copy (no SMTP here) keeps its code until the code expires, then loses it too.
      const email = () => demo.db.selectFrom('notifications').select(['body', 'status']).where('purpose', '=', 'password_reset').where('channel', '=', 'email').orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect((await email()).body).toMatch(/code for edu\.approver is \d{6}/);
      await demo.db.updateTable('notifications').set({ created_at: new Date(Date.now() - 16 * 60_000) }).where('purpose', '=', 'password_reset').execute();
      expect(await blankExpiredCodes(demo.db)).toBeGreaterThan(0);
      expect(await email()).toMatchObject({ status: 'outbox', body: expect.stringContaining('code for edu.approver is ••••••') });
    } finally {
      sms.close();
    }
  });

  it('refuses to write an audit entry on a chain kept with another key', async () => {
    setAuditKey('another-key-0123456789abcdefghijklmnopqrstuv');
    try {
      await expect(demo.db.transaction().execute((trx) => recordAudit(trx, { action: 'test.other_key', actor: null, actorLabel: 'test', orgId: null, meta: null }))).rejects.toBeInstanceOf(AuditKeyMismatch);
    } finally {
      setAuditKey(null);
    }
    expect(await demo.db.selectFrom('audit_log').select('id').where('action', '=', 'test.other_key').execute()).toEqual([]);
  });
});
