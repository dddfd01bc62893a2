import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';
import { exampleBody, fill as fillPath, isPublic, routes as allRoutes, withIds } from './helpers/routes.ts';

/**
 * Walks every route of the OpenAPI document, so that a new route is covered without anyone
 * remembering to add it:
 * - without credentials, every route that is not public answers 401;
 * - organisation B's users and API key, given organisation A's ids, get 403 or 404 and change
 *   nothing;
 * - B's lists never show anything of A;
 * - discom routes refuse organisation users.
 * A route whose path takes an id this test cannot supply, or whose body has no example, fails
 * the test: add the fixture or the example.
 */

describe(`tenant isolation across every route on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let b: Client;
  let bKey: string;
  const ids: Record<string, string> = {};
  const markers: string[] = [];

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 6, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({ config: testConfig({ devTools: true, loginMaxFailures: 1000, loginMaxFailuresPerIp: 10000 }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    const { db } = database;
    const a = await db.selectFrom('organisations').selectAll().where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const aUser = await db.selectFrom('users').selectAll().where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow();
    const aOffice = await db.selectFrom('offices').selectAll().where('org_id', '=', a.id).where('code', '=', 'PATNA').executeTakeFirstOrThrow();
    const aAdmin = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const aKey = (await aAdmin.post('/api/v1/org/api-keys', { name: 'A key', scopes: ['read', 'pay'] })).json().apiKey;
    // A's tag (proved with the latest bill's number) and A's upload.
    const owned = await db
      .selectFrom('connections as c')
      .innerJoin('bills as b', 'b.connection_id', 'c.id')
      .select(['c.id', 'c.consumer_no', 'b.bill_no'])
      .where('c.owner_dept_code', '=', 'BR-EDU')
      .orderBy('b.bill_month', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const tag = await aAdmin.post('/api/v1/org/tags', { connectionId: owned.id.toString(), proof: { type: 'bill_number', value: owned.bill_no } });
    expect(tag.statusCode).toBe(201);
    const upload = await app.inject({
      method: 'POST',
      url: '/api/v1/org/tag-jobs?fileName=a.csv',
      headers: { cookie: `sg_session=${aAdmin.cookie}`, 'x-csrf-token': aAdmin.csrf!, 'content-type': 'text/csv' },
      payload: `consumer_no\n${owned.consumer_no}\n`,
    });
    expect(upload.statusCode).toBe(202);
    const selection = await aAdmin.post('/api/v1/org/dues/selections', {});
    expect(selection.statusCode).toBe(201);
    const batch = await aAdmin.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: owned.id.toString(), amountPaise: '50000' }] }, { 'idempotency-key': 'tenant-isolation-a-1' });
    expect(batch.statusCode, batch.body).toBe(201);
    // A pays it through the sandbox's hosted checkout, as a browser would, so A has receipts.
    const co = (await aAdmin.post(`/api/v1/org/payments/batches/${batch.json().id}/checkout`)).json<{ action: string; fields: Record<string, string> }>();
    const form = (url: string, fields: Record<string, string>) =>
      app.inject({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await form(co.action, co.fields)).statusCode).toBe(200);
    const paid = await form('/sandbox/razorpay/v1/checkout/pay', { ...co.fields, outcome: 'success', method: 'upi' });
    const back = Object.fromEntries([...paid.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    const returned = await form(co.fields.callback_url!, back);
    expect(returned.headers.location).toBe(`/payments/${batch.json().id}?result=paid`);
    const receipt = await db.selectFrom('receipts').select('id').where('batch_id', '=', BigInt(batch.json().id)).executeTakeFirstOrThrow();
    const bill = await db.selectFrom('bills').select('id').where('connection_id', '=', owned.id).orderBy('bill_month', 'desc').executeTakeFirstOrThrow();
    Object.assign(ids, {
      selectionId: selection.json().id, billId: bill.id.toString(),
      orgId: a.id.toString(), userId: aUser.id.toString(), officeId: aOffice.id.toString(), keyId: aKey.id, code: 'NBPDCL',
      connectionId: owned.id.toString(), tagId: tag.json().tagId, jobId: upload.json().id, batchId: batch.json().id, receiptId: receipt.id.toString(),
      // Discom-only objects: refused to organisations whatever the id.
      exceptionId: '1', statementId: '1', importId: '1',
    });
    markers.push(owned.consumer_no);
    markers.push(a.name, 'edu.admin', 'edu.viewer', 'edu.maker', 'DDO, Patna Sadar', aKey.prefix);

    b = await new Client(app, '10.9.9.9').login('phed.admin', DEMO_PASSWORD);
    bKey = (await b.post('/api/v1/org/api-keys', { name: 'B key', scopes: ['read', 'pay'] })).json().key;
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const routes = () => allRoutes(app);
  const fill = (path: string) => fillPath(path, ids);

  it('covers a meaningful set of routes', () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(25);
    expect(all.filter((r) => !isPublic(r.op)).length).toBeGreaterThan(15);
  });

  it('answers 401 to every non-public route without credentials', async () => {
    const failures: string[] = [];
    for (const { method, path, op } of routes()) {
      if (isPublic(op)) continue;
      const body = exampleBody(method, path, op);
      const r = await app.inject({
        method: method as 'GET',
        url: fill(path),
        ...(body !== undefined ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
      if (r.statusCode !== 401) failures.push(`${method} ${path}: ${r.statusCode}`);
    }
    expect(failures).toEqual([]);
  });

  it('gives organisation B 403 or 404 on organisation A’s objects, by session and by API key, and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    for (const { method, path, op } of routes()) {
      if (isPublic(op) || !/\{\w+\}/.test(path)) continue;
      const body = exampleBody(method, path, op);
      const url = fill(path);
      const bySession = await b.req(method as 'GET', url, body);
      if (![403, 404].includes(bySession.statusCode)) failures.push(`session ${method} ${path}: ${bySession.statusCode} ${bySession.body.slice(0, 120)}`);
      const byKey = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${bKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      if (![403, 404].includes(byKey.statusCode)) failures.push(`api key ${method} ${path}: ${byKey.statusCode}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  /** The example body with every `…Id` field set to organisation A's object of that name. */
  const withAIds = (body: unknown) => withIds(body, ids);

  // Asking the discom for a transfer of another organisation's connection is the point of it:
  // it creates B's own request and leaves A's tag alone until the discom decides.
  const BODY_ID_EXEMPT = new Set(['POST /api/v1/org/tags/transfer']);

  it('refuses organisation A’s ids inside B’s request bodies, and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let tried = 0;
    for (const { method, path, op } of routes()) {
      if (isPublic(op) || !op.requestBody || BODY_ID_EXEMPT.has(`${method} ${path}`) || /\{\w+\}/.test(path)) continue;
      const { body, replaced } = withAIds(exampleBody(method, path, op));
      if (!replaced) continue;
      tried++;
      const r = await b.req(method as 'POST', fill(path), body);
      if (r.statusCode < 400) failures.push(`${method} ${path}: ${r.statusCode} ${r.body.slice(0, 120)}`);
    }
    expect(tried).toBeGreaterThanOrEqual(3);
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('never shows organisation A’s data in what B can read', async () => {
    const leaks: string[] = [];
    for (const { method, path, op } of routes()) {
      if (method !== 'GET' || /\{\w+\}/.test(path) || path.startsWith('/api/v1/dev/')) continue;
      for (const [who, res] of [
        ['session', await b.get(path)],
        ['api key', await app.inject({ url: path, headers: { authorization: `Bearer ${bKey}` } })],
      ] as const) {
        if (res.statusCode !== 200) continue;
        for (const m of markers) if (res.body.includes(m)) leaks.push(`${who} GET ${path} shows "${m}"`);
        if (!isPublic(op) && !path.startsWith('/api/v1/discom/')) {
          // a non-public organisation route answered: it must be about B
          expect(res.body, path).not.toContain('"BR-EDU"');
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it('refuses every discom route to organisation users and keys', async () => {
    const failures: string[] = [];
    for (const { method, path, op } of routes()) {
      if (!path.startsWith('/api/v1/discom/')) continue;
      const r = await b.req(method as 'GET', fill(path), exampleBody(method, path, op));
      if (r.statusCode !== 403) failures.push(`${method} ${path}: ${r.statusCode}`);
    }
    expect(failures).toEqual([]);
  });

  async function snapshot() {
    const { db } = database;
    const [users, offices, keys, orgs, tags, jobs, batches, attempts, payments] = await Promise.all([
      db.selectFrom('users').select(['id', 'role', 'status', 'office_id', 'name', 'password_hash']).orderBy('id').execute(),
      db.selectFrom('offices').select(['id', 'name', 'code']).orderBy('id').execute(),
      db.selectFrom('api_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
      db.selectFrom('organisations').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('tags').select(['id', 'status', 'org_id']).orderBy('id').execute(),
      db.selectFrom('tag_jobs').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('payment_batches').select(['id', 'status', 'org_id']).orderBy('id').execute(),
      db.selectFrom('payment_attempts').select(['id', 'batch_id']).orderBy('id').execute(),
      db.selectFrom('payments').select(['id', 'status']).orderBy('id').execute(),
    ]);
    return { users, offices, keys, orgs, tags, jobs, batches, attempts, payments };
  }
});
