import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { verifyAudit } from '../audit/index.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';
import { stepAt, totpCode } from './totp.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

describe(`identity and access on ${engineName}`, () => {
  let database: Database;
  let app: App;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 2, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({
      config: testConfig({ loginMaxFailures: 3, loginMaxFailuresPerIp: 50, lockoutMinutes: 15, devTools: true }),
      database,
      billing: new BillingSimulator(database),
      clock: () => new Date(),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
    await database.db.updateTable('users').set({ totp_last_step: null }).execute();
  });

  const outboxCode = async (recipient: string) => {
    const m = await database.db.selectFrom('notifications').select('body').where('recipient', '=', recipient).orderBy('id', 'desc').executeTakeFirstOrThrow();
    return /\b(\d{6})\b/.exec(m.body)![1]!;
  };
  const audit = (action: string) =>
    database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id', 'desc').execute();

  it('logs in an organisation user with a password and sets a hardened cookie', async () => {
    const c = new Client(app);
    const r = await c.post('/api/v1/auth/login', { loginId: 'EDU.Admin', password: DEMO_PASSWORD });
    expect(r.statusCode).toBe(200);
    expect(r.json().stage).toBe('full');
    const cookie = r.cookies.find((k) => k.name === 'sg_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(cookie.path).toBe('/');
    const s = (await c.get('/api/v1/auth/session')).json();
    expect(s).toMatchObject({ authenticated: true, stage: 'full', user: { loginId: 'edu.admin', role: 'org_admin', org: { type: 'state_department' } } });
    const row = (await audit('auth.login'))[0]!;
    expect(row).toMatchObject({ outcome: 'success', actor_label: 'user:edu.admin', ip: '10.0.0.1' });
    expect(row.request_id).toBeTruthy();
  });

  it('sends security headers with a content security policy', async () => {
    const r = await app.inject('/api/v1/auth/session');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers a wrong password and an unknown login ID alike, audits both, and locks the account with a clear message', async () => {
    const c = new Client(app, '10.0.0.2');
    const a = await c.post('/api/v1/auth/login', { loginId: 'edu.viewer', password: 'wrong password!' });
    const b = await c.post('/api/v1/auth/login', { loginId: 'nobody.here', password: 'wrong password!' });
    expect([a.statusCode, b.statusCode]).toEqual([401, 401]);
    expect(a.json().error.message).toEqual(b.json().error.message);
    expect((await audit('auth.login')).filter((e) => e.outcome === 'failure').map((e) => e.actor_label)).toEqual(
      expect.arrayContaining(['login:edu.viewer', 'login:nobody.here']),
    );
    await c.post('/api/v1/auth/login', { loginId: 'edu.viewer', password: 'wrong password!' });
    expect((await c.post('/api/v1/auth/login', { loginId: 'edu.viewer', password: 'wrong password!' })).statusCode).toBe(401);
    // three failures allowed (LOGIN_MAX_FAILURES=3 here); the fourth attempt is refused unchecked
    const fourth = await c.post('/api/v1/auth/login', { loginId: 'edu.viewer', password: 'wrong password!' });
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().error.code).toBe('ACCOUNT_LOCKED');
    expect(fourth.json().error.message.en).toMatch(/Try again after .* IST\./);
    expect(fourth.json().error.message.hi).toMatch(/के बाद फिर प्रयास करें/);
    await c.post('/api/v1/auth/login', { loginId: 'edu.viewer', password: 'wrong password!' });
    const lockouts = await audit('auth.lockout');
    expect(lockouts).toHaveLength(1); // the lock is audited once, not every refused attempt
    expect(lockouts[0]!.org_id).not.toBeNull();
    // locked even with the right password, from another address too
    const right = await new Client(app, '10.0.0.3').post('/api/v1/auth/login', { loginId: 'edu.viewer', password: DEMO_PASSWORD });
    expect(right.statusCode).toBe(429);
    const row = await database.db.selectFrom('throttles').selectAll().where('bucket', '=', 'login-user:edu.viewer').executeTakeFirstOrThrow();
    expect(row.locked_until!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('locks out an address that tries many accounts, even with the right password after', async () => {
    const c = new Client(app, '10.0.0.9');
    const accounts = DEMO_LOGINS.map((l) => l.loginId);
    for (let i = 0; i < 50; i++) {
      const r = await c.post('/api/v1/auth/login', { loginId: accounts[i % accounts.length], password: `not it ${i}` });
      expect(r.statusCode, `attempt ${i}`).toBe(401);
    }
    const r = await c.post('/api/v1/auth/login', { loginId: 'edu.admin', password: DEMO_PASSWORD });
    expect(r.statusCode).toBe(429);
    expect((await new Client(app, '10.0.0.10').post('/api/v1/auth/login', { loginId: 'edu.admin', password: DEMO_PASSWORD })).statusCode).toBe(200);
  });

  it('counts concurrent wrong guesses before checking them: the limit holds under a burst', async () => {
    const c = new Client(app, '10.0.0.11');
    const failed = () =>
      database.db.selectFrom('audit_log').select(sql<bigint>`count(*)`.as('n')).where('action', '=', 'auth.login').where('actor_label', '=', 'login:hdfc.admin').where('outcome', '=', 'failure').executeTakeFirstOrThrow();
    const before = (await failed()).n;
    const guesses = Array.from({ length: 20 }, (_, i) => c.post('/api/v1/auth/login', { loginId: 'hdfc.admin', password: `guess number ${i}` }));
    const right = c.post('/api/v1/auth/login', { loginId: 'hdfc.admin', password: DEMO_PASSWORD });
    const codes = (await Promise.all([...guesses, right])).map((r) => r.statusCode);
    expect(codes.filter((x) => x === 401 || x === 200).length).toBeLessThanOrEqual(3);
    expect(codes.filter((x) => x === 429).length).toBeGreaterThanOrEqual(18);
    expect((await failed()).n - before).toBeLessThanOrEqual(3n);
  });

  it('refuses a NUL character as bad input, never a 500', async () => {
    const r = await new Client(app).post('/api/v1/auth/login', { loginId: 'edu\u0000admin', password: 'x' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details).toEqual([expect.objectContaining({ path: 'body.loginId', problem: 'nul_character' })]);
  });

  it('replaces an authenticator in use only with the password and a current code', async () => {
    const c = await new Client(app).login('edu.approver', DEMO_PASSWORD, secretOf('edu.approver'));
    const bare = await c.post('/api/v1/auth/totp/enrolment', {});
    expect(bare.statusCode).toBe(400);
    expect(bare.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.code', 'body.password']);
    const wrong = await c.post('/api/v1/auth/totp/enrolment', { password: DEMO_PASSWORD, code: '000000' });
    expect(wrong.statusCode).toBe(400);
    await database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', 'edu.approver').execute();
    const ok = await c.post('/api/v1/auth/totp/enrolment', { password: DEMO_PASSWORD, code: totpCode(secretOf('edu.approver'), stepAt(new Date())) });
    expect(ok.statusCode).toBe(200);
    await database.db.updateTable('users').set({ totp_pending_secret: null }).where('login_id', '=', 'edu.approver').execute();
  });

  it('shows the demo authenticator codes of published demo secrets only', async () => {
    const before = (await app.inject('/api/v1/dev/authenticator')).json().codes.map((c: { loginId: string }) => c.loginId);
    expect(before).toEqual(expect.arrayContaining(['admin.discom', 'edu.approver']));
    await database.db.updateTable('users').set({ totp_secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }).where('login_id', '=', 'accounts.sbpdcl').execute();
    const after = (await app.inject('/api/v1/dev/authenticator')).json().codes.map((c: { loginId: string }) => c.loginId);
    expect(after).not.toContain('accounts.sbpdcl');
    await database.db.updateTable('users').set({ totp_secret: secretOf('accounts.sbpdcl') }).where('login_id', '=', 'accounts.sbpdcl').execute();
  });

  it('rotates the session id on login and ends the old session', async () => {
    const c = new Client(app);
    await c.login('edu.viewer', DEMO_PASSWORD);
    const first = c.cookie;
    await c.login('edu.viewer', DEMO_PASSWORD);
    expect(c.cookie).not.toBe(first);
    const stale = await app.inject({ url: '/api/v1/org', headers: { cookie: `sg_session=${first}` } });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('requires the TOTP step for an enrolled approver, refuses a wrong or replayed code, then rotates to a full session', async () => {
    const c = new Client(app);
    const r = await c.post('/api/v1/auth/login', { loginId: 'edu.approver', password: DEMO_PASSWORD });
    expect(r.json().stage).toBe('totp');
    const halfway = c.cookie;
    const blocked = await c.get('/api/v1/org');
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().error.code).toBe('SECOND_FACTOR_REQUIRED');
    expect((await c.post('/api/v1/auth/totp', { code: '000000' })).statusCode).toBe(400);
    const code = totpCode(secretOf('edu.approver'), stepAt(new Date()));
    const ok = await c.post('/api/v1/auth/totp', { code });
    expect(ok.statusCode).toBe(200);
    expect(c.cookie).not.toBe(halfway);
    expect((await c.get('/api/v1/org')).statusCode).toBe(200);
    // the same code cannot log in a second time, and the refusal says why (not "wrong or expired")
    const again = new Client(app);
    await again.post('/api/v1/auth/login', { loginId: 'edu.approver', password: DEMO_PASSWORD });
    const replay = await again.post('/api/v1/auth/totp', { code });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('CODE_ALREADY_USED');
    expect(replay.json().error.message.en).toMatch(/already used.*next one/);
    expect(replay.json().error.message.hi).toMatch(/पहले ही इस्तेमाल/);
    // a wrong code is still "wrong or expired"
    expect((await again.post('/api/v1/auth/totp', { code: code === '123456' ? '654321' : '123456' })).json().error.code).toBe('INVALID_CODE');
  });

  it('makes discom staff without a second factor enrol one before anything else', async () => {
    await database.db.updateTable('users').set({ totp_secret: null, totp_enabled_at: null }).where('login_id', '=', 'auditor.discom').execute();
    const c = new Client(app);
    const r = await c.post('/api/v1/auth/login', { loginId: 'auditor.discom', password: DEMO_PASSWORD });
    expect(r.json().stage).toBe('totp_enrol');
    expect((await c.get('/api/v1/discom/audit')).statusCode).toBe(403);
    const e = await c.post('/api/v1/auth/totp/enrolment');
    expect(e.statusCode).toBe(200);
    const { secret, uri, qrSvg } = e.json();
    expect(uri).toContain(`secret=${secret}`);
    expect(qrSvg).toContain('<svg');
    const bad = await c.post('/api/v1/auth/totp/enrolment/confirm', { code: '123456' });
    expect(bad.statusCode).toBe(400);
    const ok = await c.post('/api/v1/auth/totp/enrolment/confirm', { code: totpCode(secret, stepAt(new Date())) });
    expect(ok.json().stage).toBe('full');
    expect((await c.get('/api/v1/discom/audit')).statusCode).toBe(200);
    expect((await audit('auth.totp_enabled'))[0]!.actor_label).toBe('user:auditor.discom');
    // required roles cannot turn it off
    expect((await c.post('/api/v1/auth/totp/disable', { password: DEMO_PASSWORD })).statusCode).toBe(403);
  });

  it('lets a viewer turn an optional second factor on and off', async () => {
    const c = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const { secret } = (await c.post('/api/v1/auth/totp/enrolment')).json();
    await c.post('/api/v1/auth/totp/enrolment/confirm', { code: totpCode(secret, stepAt(new Date())) });
    expect((await c.get('/api/v1/auth/session')).json().user.totpEnabled).toBe(true);
    expect((await c.post('/api/v1/auth/totp/disable', { password: 'not it at all' })).statusCode).toBe(400);
    expect((await c.post('/api/v1/auth/totp/disable', { password: DEMO_PASSWORD })).statusCode).toBe(204);
    expect((await c.get('/api/v1/auth/session')).json().user.totpEnabled).toBe(false);
  });

  it('refuses a cookie-authenticated write without the CSRF token, accepts it with the token', async () => {
    const c = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const body = { parentId: '0', kind: 'district', code: 'X1', name: 'x' };
    const without = await c.req('POST', '/api/v1/org/offices', body, { 'x-csrf-token': '' });
    expect(without.statusCode).toBe(403);
    expect(without.json().error.code).toBe('CSRF_FAILED');
    const wrong = await c.req('POST', '/api/v1/org/offices', body, { 'x-csrf-token': 'forged' });
    expect(wrong.json().error.code).toBe('CSRF_FAILED');
    const hq = (await c.get('/api/v1/org/offices')).json().offices.find((o: { kind: string }) => o.kind === 'hq');
    const right = await c.post('/api/v1/org/offices', { ...body, parentId: hq.id });
    expect(right.statusCode).toBe(201);
  });

  it('ends a session after the idle timeout and after the absolute timeout', async () => {
    const c = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    expect((await c.get('/api/v1/org')).statusCode).toBe(200);
    await sql`UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE login_id = 'edu.viewer')`.execute(database.db);
    expect((await c.get('/api/v1/org')).statusCode).toBe(401);
    await c.login('edu.viewer', DEMO_PASSWORD);
    await sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE login_id = 'edu.viewer')`.execute(database.db);
    expect((await c.get('/api/v1/org')).statusCode).toBe(401);
  });

  it('logs out, and logs out everywhere', async () => {
    const a = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const b = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    expect((await a.post('/api/v1/auth/logout')).statusCode).toBe(204);
    expect((await a.get('/api/v1/org')).statusCode).toBe(401);
    expect((await b.get('/api/v1/org')).statusCode).toBe(200);
    const c = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const r = await c.post('/api/v1/auth/logout-everywhere');
    expect(r.json().sessionsEnded).toBeGreaterThanOrEqual(2);
    expect((await c.get('/api/v1/org')).statusCode).toBe(401);
    expect((await b.get('/api/v1/org')).statusCode).toBe(401);
  });

  it('resets a forgotten password by a code sent through the notifier, without telling whether a login exists', async () => {
    const anon = new Client(app, '10.0.0.4');
    const unknown = await anon.post('/api/v1/auth/password-reset', { loginId: 'no.such.user' });
    const known = await anon.post('/api/v1/auth/password-reset', { loginId: 'edu.maker' });
    expect([unknown.statusCode, known.statusCode]).toEqual([202, 202]);
    expect(unknown.body).toBe(known.body);
    const code = await outboxCode('9431100003');
    const outbox = (await app.inject('/api/v1/dev/outbox')).json().messages;
    expect(outbox.some((m: { recipient: string; body: string }) => m.recipient === 'ddo.asst.patna@edu.bihar.example.in' && m.body.includes(code))).toBe(true);
    const weak = await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.maker', code, newPassword: 'password123' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.details[0].message.en).toContain('too common');
    const wrongCode = await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.maker', code: code === '111111' ? '222222' : '111111', newPassword: 'Brand new passphrase 7' });
    expect(wrongCode.json().error.code).toBe('INVALID_CODE');
    const ok = await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.maker', code, newPassword: 'Brand new passphrase 7' });
    expect(ok.statusCode).toBe(204);
    expect((await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.maker', code, newPassword: 'Another passphrase 88' })).statusCode).toBe(400);
    await new Client(app).login('edu.maker', 'Brand new passphrase 7');
    expect((await new Client(app).post('/api/v1/auth/login', { loginId: 'edu.maker', password: DEMO_PASSWORD })).statusCode).toBe(401);
  });

  it('stops trying codes after too many wrong ones', async () => {
    const anon = new Client(app, '10.0.0.5');
    await anon.post('/api/v1/auth/password-reset', { loginId: 'edu.viewer' });
    const code = await outboxCode('9431100005');
    const wrong = code === '000001' ? '000002' : '000001';
    for (let i = 0; i < 3; i++) await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.viewer', code: wrong, newPassword: 'Brand new passphrase 7' });
    const r = await anon.post('/api/v1/auth/password-reset/confirm', { loginId: 'edu.viewer', code, newPassword: 'Brand new passphrase 7' });
    expect(r.statusCode).toBe(429);
  });

  it('changes a password: checks the current one and the policy, and ends other sessions', async () => {
    const other = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const c = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const bad = await c.post('/api/v1/auth/password', { currentPassword: DEMO_PASSWORD, newPassword: 'short' });
    expect(new Set(bad.json().error.details.map((d: { path: string }) => d.path))).toEqual(new Set(['body.newPassword']));
    const hasLogin = await c.post('/api/v1/auth/password', { currentPassword: DEMO_PASSWORD, newPassword: 'my edu.admin password' });
    expect(hasLogin.json().error.details[0].message.en).toContain('login ID');
    const wrong = await c.post('/api/v1/auth/password', { currentPassword: 'not the one', newPassword: 'Completely new passphrase 5' });
    expect(wrong.json().error.details[0].path).toBe('body.currentPassword');
    const oldCookie = c.cookie;
    expect((await c.post('/api/v1/auth/password', { currentPassword: DEMO_PASSWORD, newPassword: 'Completely new passphrase 5' })).statusCode).toBe(200);
    expect(c.cookie).not.toBe(oldCookie); // this session got a new id too
    expect((await c.get('/api/v1/org')).statusCode).toBe(200);
    expect((await other.get('/api/v1/org')).statusCode).toBe(401);
    await c.post('/api/v1/auth/password', { currentPassword: 'Completely new passphrase 5', newPassword: DEMO_PASSWORD + '!' });
    await database.db.updateTable('users').set({ password_hash: (await database.db.selectFrom('users').select('password_hash').where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow()).password_hash }).where('login_id', '=', 'edu.admin').execute();
  });

  it('purges sessions that ended more than a day ago, and quiet throttles', async () => {
    const { purgeExpired } = await import('./sessions.ts');
    await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    await sql`UPDATE sessions SET expires_at = now() - interval '2 days' WHERE user_id = (SELECT id FROM users WHERE login_id = 'edu.viewer')`.execute(database.db);
    await sql`INSERT INTO throttles VALUES ('login-ip:old', now() - interval '3 days', 1, NULL)`.execute(database.db);
    const r = await purgeExpired(database.db);
    expect(r.sessions).toBeGreaterThan(0);
    expect(r.throttles).toBe(1);
    const left = await sql<{ n: bigint }>`SELECT count(*) AS n FROM sessions WHERE expires_at < now() - interval '1 day'`.execute(database.db);
    expect(left.rows[0]!.n).toBe(0n);
  });

  it('keeps the audit log verifiable, and detects a changed, a deleted and a cut-off row', async () => {
    const ok = await verifyAudit(database);
    expect(ok.problems).toEqual([]);
    expect(ok.rows).toBeGreaterThan(20);
    const rows = await database.db.selectFrom('audit_log').select(['id', 'chain', 'seq']).where('chain', '<>', 0n).orderBy('chain').orderBy('seq').execute();
    const chain = rows[0]!.chain;
    const ofChain = rows.filter((r) => r.chain === chain);
    expect(ofChain.length).toBeGreaterThanOrEqual(3);
    const saved = await database.db.selectFrom('audit_log').selectAll().where('id', 'in', [ofChain[0]!.id, ofChain[1]!.id, ofChain.at(-1)!.id]).execute();
    const restore = async () => {
      await database.db.deleteFrom('audit_log').where('id', 'in', saved.map((r) => r.id)).execute();
      await database.db.insertInto('audit_log').values(saved.map((r) => ({ ...r, details: JSON.stringify(r.details) }))).execute();
    };
    await database.db.updateTable('audit_log').set({ actor_label: 'someone else' }).where('id', '=', ofChain[0]!.id).execute();
    await database.db.deleteFrom('audit_log').where('id', '=', ofChain[1]!.id).execute();
    const tampered = (await verifyAudit(database)).problems.map((p) => p.message);
    expect(tampered).toEqual(
      expect.arrayContaining([`chain ${chain}: row 1 (id ${ofChain[0]!.id}) was changed after it was written`, `chain ${chain}: row(s) 2 missing (deleted)`]),
    );
    await restore();
    expect((await verifyAudit(database)).problems).toEqual([]);
    await database.db.deleteFrom('audit_log').where('id', '=', ofChain.at(-1)!.id).execute();
    expect((await verifyAudit(database)).problems.map((p) => p.message).join('\n')).toMatch(/at the end are missing/);
    await restore();
    expect((await verifyAudit(database)).problems).toEqual([]);

    // The end cut off and the head rewound to match: only a checkpoint kept elsewhere shows it.
    const { heads } = await verifyAudit(database);
    const head = await database.db.selectFrom('audit_chains').selectAll().where('chain', '=', chain).executeTakeFirstOrThrow();
    const last = saved.find((r) => r.id === ofChain.at(-1)!.id)!;
    const prev = await database.db.selectFrom('audit_log').select(['seq', 'hash']).where('chain', '=', chain).where('seq', '=', last.seq - 1n).executeTakeFirstOrThrow();
    await database.db.deleteFrom('audit_log').where('id', '=', last.id).execute();
    await database.db.updateTable('audit_chains').set({ last_seq: prev.seq, last_hash: prev.hash }).where('chain', '=', chain).execute();
    expect((await verifyAudit(database)).problems).toEqual([]);
    expect((await verifyAudit(database, heads)).problems.map((p) => p.problem)).toEqual(['truncated']);
    await restore();
    await database.db.updateTable('audit_chains').set({ last_seq: head.last_seq, last_hash: head.last_hash }).where('chain', '=', chain).execute();

    // A whole organisation's chain deleted, head and all.
    const orgChain = await database.db.selectFrom('audit_log').selectAll().where('chain', '=', chain).execute();
    const orgHead = await database.db.selectFrom('audit_chains').selectAll().where('chain', '=', chain).executeTakeFirstOrThrow();
    await database.db.deleteFrom('audit_log').where('chain', '=', chain).execute();
    await database.db.deleteFrom('audit_chains').where('chain', '=', chain).execute();
    expect((await verifyAudit(database)).problems.map((p) => p.problem)).toEqual(['missing_chain']);
    await database.db.insertInto('audit_log').values(orgChain.map((r) => ({ ...r, details: JSON.stringify(r.details) }))).execute();
    await database.db.insertInto('audit_chains').values(orgHead).execute();
    expect((await verifyAudit(database)).problems).toEqual([]);

    // With a key, the hashes are HMACs: the wrong key (or none) fails every row.
    const { setAuditKey } = await import('../audit/index.ts');
    setAuditKey('k'.repeat(32));
    try {
      expect((await verifyAudit(database)).problems.every((p) => p.problem === 'changed' || p.problem === 'head_mismatch')).toBe(true);
      expect((await verifyAudit(database)).problems.length).toBeGreaterThan(0);
    } finally {
      setAuditKey(null);
    }
  });
});
