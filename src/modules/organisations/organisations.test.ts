import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD, PENDING_REGISTRATION } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

const registration = (over: Record<string, unknown> = {}) => ({
  type: 'private',
  name: 'Ganga Cold Storage Private Limited',
  pan: 'AAGCG4321K',
  gstin: '10AAGCG4321K1Z' + 'X',
  address: 'Industrial Area, Hajipur 844101',
  email: 'accounts@ganga.example.in',
  mobile: '9431055555',
  discomCode: 'NBPDCL',
  admin: { loginId: 'ganga.admin', name: 'Ramesh Thakur', password: 'Cold storage keys 2026' },
  ...over,
});

describe(`organisations, users, offices and API keys on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let officer: Client;
  let eduAdmin: Client;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 4, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({ config: testConfig({ devTools: true }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    officer = await new Client(app).login('co.nbpdcl', DEMO_PASSWORD, secretOf('co.nbpdcl'));
    eduAdmin = await new Client(app).login('edu.admin', DEMO_PASSWORD);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
  });

  const outboxCode = async (recipient: string) => {
    const m = await database.db.selectFrom('notifications').select('body').where('recipient', '=', recipient).orderBy('id', 'desc').executeTakeFirstOrThrow();
    return /\b(\d{6})\b/.exec(m.body)![1]!;
  };

  it('lists every problem of a bad registration, per field, in both languages', async () => {
    const r = await new Client(app).post('/api/v1/organisations/register', {
      ...registration({ pan: 'ABCDE12345', gstin: '10AAGCG4321K1Z5', mobile: '12345', email: 'not-an-email', tan: 'XYZ' }),
      admin: { loginId: 'A', name: 'x', password: 'password1' },
    });
    expect(r.statusCode).toBe(400);
    const details: { path: string; message: { en: string; hi: string } }[] = r.json().error.details;
    expect(details.map((d) => d.path).sort()).toEqual(
      ['body.admin.loginId', 'body.admin.password', 'body.admin.password', 'body.email', 'body.gstin', 'body.mobile', 'body.pan', 'body.tan'].sort(),
    );
    for (const d of details) expect(d.message.hi).toMatch(/[\u0900-\u097F]/);
  });

  it('needs a department code from a state department and a PAN from anyone else, and a GSTIN that holds the PAN', async () => {
    const dept = await new Client(app).post('/api/v1/organisations/register', registration({ type: 'state_department', pan: undefined, gstin: undefined }));
    expect(dept.json().error.details).toEqual([expect.objectContaining({ path: 'body.departmentCode', problem: 'required' })]);
    const psu = await new Client(app).post('/api/v1/organisations/register', registration({ type: 'central_psu', pan: undefined, gstin: undefined }));
    expect(psu.json().error.details).toEqual([expect.objectContaining({ path: 'body.pan', problem: 'required' })]);
    const { gstinCheckChar } = await import('../../platform/identifiers.ts');
    const other = '10AAFCZ9999Q1Z';
    const mismatch = await new Client(app).post('/api/v1/organisations/register', registration({ gstin: other + gstinCheckChar(other) }));
    expect(mismatch.json().error.details).toEqual([expect.objectContaining({ path: 'body.gstin', problem: 'pan_mismatch' })]);
  });

  it('answers a registration whose login ID or identifier is taken like any other, says so by e-mail only, and a pending registration’s login tells nothing either', async () => {
    const free = await new Client(app).post('/api/v1/organisations/register', registration({ pan: 'AAFCM5678Q', gstin: undefined, email: 'office@mango.example.in', admin: { loginId: 'mango.admin', name: 'M', password: 'Cold storage keys 2026' } }));
    const loginTaken = await new Client(app).post('/api/v1/organisations/register', registration({ pan: 'AAFCL8765R', gstin: undefined, email: 'office@litchi.example.in', admin: { loginId: 'edu.admin', name: 'L', password: 'Cold storage keys 2026' } }));
    const panTaken = await new Client(app).post('/api/v1/organisations/register', registration({ pan: 'AABCB1234M', gstin: undefined, email: 'office@jamun.example.in', admin: { loginId: 'jamun.admin', name: 'J', password: 'Cold storage keys 2026' } }));
    // The same status and body: nothing tells them apart.
    expect([free.statusCode, loginTaken.statusCode, panTaken.statusCode]).toEqual([202, 202, 202]);
    expect(loginTaken.body).toBe(free.body);
    expect(panTaken.body).toBe(free.body);
    expect(free.json()).toEqual({ status: 'received' });
    const { db } = database;
    expect(await db.selectFrom('organisations').select('id').where('pan', '=', 'AAFCM5678Q').execute()).toHaveLength(1);
    expect(await db.selectFrom('organisations').select('id').where('pan', '=', 'AAFCL8765R').execute()).toEqual([]);
    expect(await db.selectFrom('users').select('id').where('login_id', '=', 'jamun.admin').execute()).toEqual([]);
    const mail = async (to: string) => await db.selectFrom('notifications').select(['body', 'purpose']).where('recipient', '=', to).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(await mail('office@mango.example.in')).toMatchObject({ purpose: 'registration_received', body: expect.stringContaining('(PAN AAFCM5678Q, login ID mango.admin) was received') });
    expect(await mail('office@litchi.example.in')).toMatchObject({ purpose: 'registration_refused', body: expect.stringContaining('the login ID edu.admin is not available') });
    expect(await mail('office@jamun.example.in')).toMatchObject({ purpose: 'registration_refused', body: expect.stringContaining('an organisation with PAN AABCB1234M is already registered') });
    // The login ID's holder hears that it was named, in the portal's words only; their account is as it was.
    const holder = await mail('it.cell@edu.bihar.example.in');
    expect(holder).toMatchObject({ purpose: 'registration_refused', body: expect.stringContaining('named your login ID edu.admin') });
    expect(holder.body).not.toContain('Ganga');
    expect((await new Client(app).post('/api/v1/auth/login', { loginId: 'edu.admin', password: DEMO_PASSWORD })).statusCode).toBe(200);
    // Logging in with the password just registered: a free ID (pending) and a taken one answer alike.
    const asFree = await new Client(app).post('/api/v1/auth/login', { loginId: 'mango.admin', password: 'Cold storage keys 2026' });
    const asTaken = await new Client(app).post('/api/v1/auth/login', { loginId: 'edu.admin', password: 'Cold storage keys 2026' });
    expect([asFree.statusCode, asFree.json().error.code]).toEqual([asTaken.statusCode, asTaken.json().error.code]);
    const audit = await db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'organisation.registration_refused').orderBy('id').execute();
    expect(audit.map((a) => [a.outcome, (a.details as { reasons: string[] }).reasons])).toEqual([['failure', ['login_id_taken']], ['failure', ['PAN taken']]]);
  });

  it('registers an organisation as pending; its admin cannot log in until a discom officer approves it', async () => {
    const { gstinCheckChar } = await import('../../platform/identifiers.ts');
    const g = '10AAGCG4321K1Z';
    const r = await new Client(app).post('/api/v1/organisations/register', registration({ gstin: g + gstinCheckChar(g) }));
    expect(r.statusCode).toBe(202);
    const orgId = (await database.db.selectFrom('organisations').select('id').where('gstin', '=', g + gstinCheckChar(g)).executeTakeFirstOrThrow()).id.toString();
    const early = await new Client(app).post('/api/v1/auth/login', { loginId: 'ganga.admin', password: 'Cold storage keys 2026' });
    // Like a wrong password: a pending registration's login tells nobody whether its ID was free.
    expect(early.statusCode).toBe(401);
    expect(early.json().error.code).toBe('INVALID_CREDENTIALS');

    const queue = (await officer.get('/api/v1/discom/organisations?status=pending')).json().organisations;
    expect(queue.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['Ganga Cold Storage Private Limited', PENDING_REGISTRATION.name]));
    // an organisation admin may not approve
    expect((await eduAdmin.post(`/api/v1/discom/organisations/${orgId}/approve`)).statusCode).toBe(403);
    expect((await officer.post(`/api/v1/discom/organisations/${orgId}/approve`)).statusCode).toBe(204);
    expect((await officer.post(`/api/v1/discom/organisations/${orgId}/approve`)).statusCode).toBe(409);
    await new Client(app).login('ganga.admin', 'Cold storage keys 2026');
    const audit = await database.db.selectFrom('audit_log').selectAll().where('org_id', '=', BigInt(orgId)).orderBy('seq').execute();
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(['organisation.registered:success', 'auth.login:failure', 'organisation.approved:success', 'auth.login:success']);
    expect(audit[1]!.details).toEqual({ reason: 'organisation_pending' });
    expect(audit[2]!.actor_label).toBe('user:co.nbpdcl');
    const notices = await database.db.selectFrom('notifications').selectAll().where('org_id', '=', BigInt(orgId)).where('purpose', '=', 'organisation_approved').execute();
    expect(notices.map((n) => n.channel).sort()).toEqual(['email', 'sms']);
  });

  it('rejects a registration with a reason, which the admin sees; the identifiers may register again', async () => {
    const pending = await database.db.selectFrom('organisations').select('id').where('name', '=', PENDING_REGISTRATION.name).executeTakeFirstOrThrow();
    const noReason = await officer.post(`/api/v1/discom/organisations/${pending.id}/reject`, { reason: '   ' });
    expect(noReason.statusCode).toBe(400);
    expect((await officer.post(`/api/v1/discom/organisations/${pending.id}/reject`, { reason: 'Registration letter missing' })).statusCode).toBe(204);
    const login = await new Client(app).post('/api/v1/auth/login', { loginId: PENDING_REGISTRATION.admin, password: DEMO_PASSWORD });
    expect(login.json().error.code).toBe('ORGANISATION_REJECTED');
    const detail = (await officer.get(`/api/v1/discom/organisations/${pending.id}`)).json();
    expect(detail).toMatchObject({ status: 'rejected', decisionReason: 'Registration letter missing' });
    const again = await new Client(app).post(
      '/api/v1/organisations/register',
      registration({ type: 'state_psu', pan: PENDING_REGISTRATION.pan, gstin: undefined, admin: { loginId: 'bmsicl.admin2', name: 'X', password: 'Cold storage keys 2026' } }),
    );
    expect(again.statusCode).toBe(202);
    expect(await database.db.selectFrom('organisations').select('status').where('pan', '=', PENDING_REGISTRATION.pan).orderBy('id').execute()).toEqual([{ status: 'rejected' }, { status: 'pending' }]);
  });

  it('invites a user, who sets a password with the code sent and logs in with the given role and office', async () => {
    const offices = (await eduAdmin.get('/api/v1/org/offices')).json().offices;
    const gaya = offices.find((o: { code: string }) => o.code === 'GAYA');
    const r = await eduAdmin.post('/api/v1/org/users', { loginId: 'gaya.maker', name: 'Shabnam Khan', mobile: '9431077777', role: 'maker', officeId: gaya.id });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ status: 'invited', role: 'maker', office: { code: 'GAYA' }, mobile: '94XXXXXX77' });
    const code = await outboxCode('9431077777');
    const set = await new Client(app).post('/api/v1/auth/password-reset/confirm', { loginId: 'gaya.maker', code, newPassword: 'Gaya maker passphrase 1' });
    expect(set.statusCode).toBe(204);
    const c = await new Client(app).login('gaya.maker', 'Gaya maker passphrase 1');
    expect((await c.get('/api/v1/auth/session')).json().user).toMatchObject({ role: 'maker', office: { code: 'GAYA' } });
    // makers do not manage users
    expect((await c.get('/api/v1/org/users')).statusCode).toBe(403);
  });

  it('changes roles with an audit of old and new, but never the caller’s own, and keeps one admin', async () => {
    const users = (await eduAdmin.get('/api/v1/org/users')).json().users;
    const viewer = users.find((u: { loginId: string }) => u.loginId === 'edu.viewer');
    const self = users.find((u: { loginId: string }) => u.loginId === 'edu.admin');
    const r = await eduAdmin.req('PATCH', `/api/v1/org/users/${viewer.id}`, { role: 'approver' });
    expect(r.json().role).toBe('approver');
    const a = await database.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.role_changed').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(a.details).toMatchObject({ from: 'viewer', to: 'approver', totp_required: true });
    expect((await eduAdmin.req('PATCH', `/api/v1/org/users/${self.id}`, { role: 'viewer' })).statusCode).toBe(409);
    expect((await eduAdmin.post(`/api/v1/org/users/${self.id}/disable`)).statusCode).toBe(409);
    await eduAdmin.req('PATCH', `/api/v1/org/users/${viewer.id}`, { role: 'viewer' });
  });

  it('disables a user: sessions end and login is refused; enabling restores it', async () => {
    const victim = await new Client(app).login('edu.viewer', DEMO_PASSWORD);
    const users = (await eduAdmin.get('/api/v1/org/users')).json().users;
    const viewer = users.find((u: { loginId: string }) => u.loginId === 'edu.viewer');
    expect((await eduAdmin.post(`/api/v1/org/users/${viewer.id}/disable`)).statusCode).toBe(204);
    expect((await victim.get('/api/v1/org')).statusCode).toBe(401);
    const login = await new Client(app).post('/api/v1/auth/login', { loginId: 'edu.viewer', password: DEMO_PASSWORD });
    expect(login.json().error.code).toBe('ACCOUNT_DISABLED');
    expect((await eduAdmin.post(`/api/v1/org/users/${viewer.id}/enable`)).statusCode).toBe(204);
    await new Client(app).login('edu.viewer', DEMO_PASSWORD);
  });

  it('limits an office-scoped admin to their subtree', async () => {
    const patna = await new Client(app).login('edu.patna.admin', DEMO_PASSWORD);
    const offices = (await patna.get('/api/v1/org/offices')).json().offices.map((o: { code: string }) => o.code);
    expect(offices.sort()).toEqual(['PATNA', 'PATNA-DANAPUR', 'PATNA-DEO']);
    const users = (await patna.get('/api/v1/org/users')).json().users.map((u: { loginId: string }) => u.loginId);
    expect(users).toEqual(expect.arrayContaining(['edu.patna.admin', 'edu.maker', 'edu.approver']));
    expect(users).not.toContain('edu.admin');
    expect(users).not.toContain('gaya.maker');
    const all = (await eduAdmin.get('/api/v1/org/users')).json().users;
    const outside = all.find((u: { loginId: string }) => u.loginId === 'gaya.maker');
    expect((await patna.post(`/api/v1/org/users/${outside.id}/disable`)).statusCode).toBe(404);
    const gaya = (await eduAdmin.get('/api/v1/org/offices')).json().offices.find((o: { code: string }) => o.code === 'GAYA');
    const office = await patna.post('/api/v1/org/offices', { parentId: gaya.id, kind: 'office', code: 'GAYA-X', name: 'x' });
    expect(office.statusCode).toBe(404);
    const unplaced = await patna.post('/api/v1/org/users', { loginId: 'patna.new', name: 'New', mobile: '9431066666', role: 'viewer' });
    expect(unplaced.json().error.details[0].path).toBe('body.officeId');
  });

  it('keeps API keys to admins of the whole organisation, and admins from moving themselves', async () => {
    const patna = await new Client(app).login('edu.patna.admin', DEMO_PASSWORD);
    expect((await patna.get('/api/v1/org/api-keys')).statusCode).toBe(403);
    expect((await patna.post('/api/v1/org/api-keys', { name: 'mine', scopes: ['read', 'pay'] })).statusCode).toBe(403);
    const users = (await eduAdmin.get('/api/v1/org/users')).json().users;
    const self = users.find((u: { loginId: string }) => u.loginId === 'edu.admin');
    const gaya = (await eduAdmin.get('/api/v1/org/offices')).json().offices.find((o: { code: string }) => o.code === 'GAYA');
    expect((await eduAdmin.req('PATCH', `/api/v1/org/users/${self.id}`, { officeId: gaya.id })).statusCode).toBe(409);
    // a scoped admin cannot place anyone outside their subtree
    const maker = users.find((u: { loginId: string }) => u.loginId === 'edu.maker');
    expect((await patna.req('PATCH', `/api/v1/org/users/${maker.id}`, { officeId: gaya.id })).json().error.details[0].path).toBe('body.officeId');
    expect((await patna.post('/api/v1/org/users', { loginId: 'gaya.someone', name: 'X', mobile: '9431011111', role: 'viewer', officeId: gaya.id })).json().error.details[0].path).toBe('body.officeId');
  });

  it.runIf(engineName === 'postgres')('never leaves an organisation without an admin when two admins demote each other at once', async () => {
    const phed = await new Client(app).login('phed.admin', DEMO_PASSWORD);
    const second = await phed.post('/api/v1/org/users', { loginId: 'phed.admin2', name: 'Second admin', mobile: '9431033333', role: 'org_admin' });
    const code = await outboxCode('9431033333');
    await new Client(app).post('/api/v1/auth/password-reset/confirm', { loginId: 'phed.admin2', code, newPassword: 'Second admin passphrase 2' });
    const other = await new Client(app).login('phed.admin2', 'Second admin passphrase 2');
    const list = (await phed.get('/api/v1/org/users')).json().users;
    const first = list.find((u: { loginId: string }) => u.loginId === 'phed.admin');
    const [a, b] = await Promise.all([
      phed.req('PATCH', `/api/v1/org/users/${second.json().id}`, { role: 'viewer' }),
      other.req('PATCH', `/api/v1/org/users/${first.id}`, { role: 'viewer' }),
    ]);
    // the loser is refused: as no longer an admin (403), or with its session ended by the winner (401)
    const codes = [a.statusCode, b.statusCode].sort();
    expect(codes[0]).toBe(200);
    expect([401, 403]).toContain(codes[1]);
    const admins = await database.db.selectFrom('users').select('login_id').where('role', '=', 'org_admin').where('login_id', 'in', ['phed.admin', 'phed.admin2']).execute();
    expect(admins).toHaveLength(1);
  });

  it.runIf(engineName === 'postgres')('answers concurrent invitations of one login ID with one success and field errors, never a 500', async () => {
    const codes = (await Promise.all([1, 2, 3, 4].map(() => eduAdmin.post('/api/v1/org/users', { loginId: 'race.user', name: 'Race', mobile: '9431044444', role: 'viewer' })))).map((r) => r.statusCode);
    expect(codes.sort()).toEqual([201, 400, 400, 400]);
  });

  it('creates offices in a tree and refuses a district under a district', async () => {
    const offices = (await eduAdmin.get('/api/v1/org/offices')).json().offices;
    const patna = offices.find((o: { code: string }) => o.code === 'PATNA');
    const bad = await eduAdmin.post('/api/v1/org/offices', { parentId: patna.id, kind: 'district', code: 'NALANDA', name: 'x' });
    expect(bad.json().error.details[0].path).toBe('body.parentId');
    const ok = await eduAdmin.post('/api/v1/org/offices', { parentId: patna.id, kind: 'office', code: 'patna-barh', name: 'DDO, Barh' });
    expect(ok.json()).toMatchObject({ code: 'PATNA-BARH', kind: 'office', parentId: patna.id, depth: 2 });
    const dup = await eduAdmin.post('/api/v1/org/offices', { parentId: patna.id, kind: 'office', code: 'PATNA-BARH', name: 'again' });
    expect(dup.json().error.details[0].problem).toBe('taken');
  });

  it('creates an API key shown once, authenticates with it by scope, and revokes it', async () => {
    const r = await eduAdmin.post('/api/v1/org/api-keys', { name: 'SAP ERP', scopes: ['read'] });
    expect(r.statusCode).toBe(201);
    const { key, apiKey } = r.json();
    expect(key).toMatch(/^sgk_[a-z2-7]{8}_/);
    const stored = await database.db.selectFrom('api_keys').selectAll().where('id', '=', BigInt(apiKey.id)).executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(key.slice(13));
    expect(JSON.stringify((await eduAdmin.get('/api/v1/org/api-keys')).json())).not.toContain(key.slice(13));
    const auth = { authorization: `Bearer ${key}` };
    const org = await app.inject({ url: '/api/v1/org', headers: auth });
    expect(org.statusCode).toBe(200);
    expect(org.json().departmentCode).toBe('BR-EDU');
    // not for routes without API-key access
    expect((await app.inject({ url: '/api/v1/org/users', headers: auth })).statusCode).toBe(403);
    expect((await app.inject({ url: '/api/v1/org', headers: { authorization: `Bearer ${key}x` } })).statusCode).toBe(401);
    const used = await database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', BigInt(apiKey.id)).executeTakeFirstOrThrow();
    expect(used.last_used_at).toBeInstanceOf(Date);
    expect((await eduAdmin.post(`/api/v1/org/api-keys/${apiKey.id}/revoke`)).statusCode).toBe(204);
    expect((await app.inject({ url: '/api/v1/org', headers: auth })).statusCode).toBe(401);
    const actions = (await database.db.selectFrom('audit_log').select('action').where('target_type', '=', 'api_key').execute()).map((a) => a.action);
    expect(actions).toEqual(['api_key.created', 'api_key.revoked']);
  });

  it('lets discom auditors search the audit log by action, actor and organisation, page by page', async () => {
    const auditor = await new Client(app).login('auditor.discom', DEMO_PASSWORD, secretOf('auditor.discom'));
    const logins = (await auditor.get('/api/v1/discom/audit?action=auth.login&outcome=success&limit=2')).json();
    expect(logins.entries).toHaveLength(2);
    expect(logins.entries.every((e: { action: string }) => e.action === 'auth.login')).toBe(true);
    const next = (await auditor.get(`/api/v1/discom/audit?action=auth.login&outcome=success&limit=2&before=${logins.next}`)).json();
    expect(Number(next.entries[0].id)).toBeLessThan(Number(logins.entries[1].id));
    const prefixed = (await auditor.get('/api/v1/discom/audit?action=auth.')).json().entries;
    expect(new Set(prefixed.map((e: { action: string }) => e.action.split('.')[0]))).toEqual(new Set(['auth']));
    const byActor = (await auditor.get('/api/v1/discom/audit?actor=co.nbpdcl')).json().entries;
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((e: { actor: string }) => e.actor.includes('co.nbpdcl'))).toBe(true);
    const edu = await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const byOrg = (await auditor.get(`/api/v1/discom/audit?orgId=${edu.id}`)).json().entries;
    expect(byOrg.every((e: { orgId: string }) => e.orgId === edu.id.toString())).toBe(true);
    expect((await eduAdmin.get('/api/v1/discom/audit')).statusCode).toBe(403);
  });
});
