import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID } from '../src/modules/payments/gateway.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';
import { exampleBody, fill as fillPath, isPublic, routes as allRoutes, withIds, type Op } from './helpers/routes.ts';

/**
 * The tenant-isolation walk's office-scoped pass (decision 0011): within one organisation, a user
 * placed in an office reaches nothing of an office outside their subtree. The head office makes,
 * in Gaya and Muzaffarpur and at the head office itself, a batch waiting for approval, a paid
 * batch with receipts, a batch paying by challan, an upload, a selection, alert preferences, a
 * user and tags; then every /api/v1/org/ route of the OpenAPI document is walked as the Patna
 * Sadar maker, the Patna approver and the Patna district admin, with those ids in paths, bodies
 * and query strings:
 * - a route with such an id in its path answers 403 or 404;
 * - one with such an id in its body is refused or answers without anything of the other offices;
 * - lists and exports (with such an office as filter too) show nothing of the other offices
 *   (markers: their connections' consumer numbers, the batches' references, receipt and
 *   virtual-account numbers, the upload's file name, the offices' and the user's names);
 * - the database is the same before and after.
 * A route whose path takes an id this test cannot supply, or whose body has no example, fails
 * the test: add the fixture or the example.
 */

const secretOf = (login: string) => DEMO_LOGINS.find((l) => l.loginId === login)!.totpSecret;
const SCOPED = ['edu.maker', 'edu.approver', 'edu.patna.admin'] as const;
const UPLOAD_NAME = 'gaya-upload-7731.csv';

type Schema = { properties?: Record<string, { type?: string }> };

describe(`office isolation across every organisation route on ${engineName}`, () => {
  let database: Database;
  let app: App;
  const users = new Map<string, Client>();
  /** Ids of the other offices' objects; batchId is set per pass. */
  const ids: Record<string, string> = {};
  let batchIds: { name: string; id: string }[] = [];
  const markers: string[] = [];

  const newKey = () => `walk-${randomUUID()}`;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 6, connections: 600, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true, loginMaxFailures: 1000, loginMaxFailuresPerIp: 10000 });
    const payments = await buildGateway(config, database.db);
    await payments.sandbox!.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    const { db } = database;
    const edu = await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const office = Object.fromEntries((await db.selectFrom('offices').select(['id', 'code']).where('org_id', '=', edu.id).execute()).map((o) => [o.code, o.id.toString()]));
    const hq = await new Client(app, '10.2.0.1').login('edu.admin', DEMO_PASSWORD);

    // Connections outside Patna with money due, not in an open batch (of one discom, for the challan).
    const outside = async (codes: string[], n: number, discom: string | null = null) => {
      const { rows } = await sql<{ id: bigint }>`
        SELECT d.connection_id AS id FROM connection_dues d JOIN offices f ON f.id = d.office_id JOIN discoms dc ON dc.id = d.discom_id
         WHERE d.org_id = ${edu.id} AND f.code = ANY(${codes}::text[]) AND d.balance_paise > 100000 AND (${discom}::text IS NULL OR dc.code = ${discom})
           AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
         ORDER BY d.connection_id LIMIT ${n}`.execute(db);
      expect(rows.length, `connections of ${codes.join(', ')}`).toBe(n);
      return rows.map((r) => ({ connectionId: r.id.toString() }));
    };
    const batch = async (items: { connectionId: string }[]) => {
      const r = await hq.req('POST', '/api/v1/org/payments/batches', { items }, { 'idempotency-key': newKey() });
      expect(r.statusCode, r.body).toBe(201);
      return r.json<{ id: string; reference: string }>();
    };
    const form = (url: string, fields: Record<string, string>) =>
      app.inject({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

    // A paid batch with receipts, of Gaya's and Muzaffarpur's connections.
    const paid = await batch(await outside(['GAYA', 'MUZAFFARPUR'], 2));
    const co = (await hq.post(`/api/v1/org/payments/batches/${paid.id}/checkout`)).json<{ action: string; fields: Record<string, string> }>();
    expect((await form(co.action, co.fields)).statusCode).toBe(200);
    const done = await form('/sandbox/razorpay/v1/checkout/pay', { ...co.fields, outcome: 'success', method: 'upi' });
    const back = Object.fromEntries([...done.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    expect((await form(co.fields.callback_url!, back)).headers.location).toBe(`/payments/${paid.id}?result=paid`);
    const receipts = await db.selectFrom('receipts').select(['id', 'receipt_no']).where('batch_id', '=', BigInt(paid.id)).orderBy('id').execute();
    // A batch paying by RTGS/NEFT: its challan.
    const byChallan = await batch(await outside(['GAYA-DEO', 'HQ'], 1, 'NBPDCL'));
    const challan = await hq.post(`/api/v1/org/payments/batches/${byChallan.id}/challan`);
    expect(challan.statusCode, challan.body).toBe(200);
    // A batch waiting for approval.
    await db.updateTable('organisations').set({ approval_threshold_paise: 0n }).where('id', '=', edu.id).execute();
    const pending = await batch(await outside(['GAYA', 'GAYA-DEO', 'MUZAFFARPUR'], 3));
    await db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', edu.id).execute();
    batchIds = [{ name: 'pending', id: pending.id }, { name: 'paid', id: paid.id }, { name: 'challan', id: byChallan.id }];

    // An upload, a selection, alert preferences and a user, of the head office and Gaya.
    const upload = await hq.raw('POST', `/api/v1/org/tag-jobs?fileName=${UPLOAD_NAME}`, Buffer.from('consumer_no\n0101000001\n'), 'text/csv');
    expect(upload.statusCode, upload.body).toBe(202);
    const selection = await hq.post('/api/v1/org/dues/selections', {});
    expect(selection.statusCode).toBe(201);
    const prefs = { dueReminders: true, reminderDays: 7, disconnectionAlerts: true, riskThresholdRupees: '40000', byEmail: true, bySms: true };
    expect((await hq.req('PUT', `/api/v1/org/alert-preferences/${office.GAYA}`, prefs)).statusCode).toBe(200);
    const gayaUser = await hq.post('/api/v1/org/users', { loginId: 'ddo.gaya.walk', name: 'Shobha Kumari (DDO Gaya)', mobile: '9431077777', role: 'maker', officeId: office['GAYA-DEO'] });
    expect(gayaUser.statusCode, gayaUser.body).toBe(201);
    // A tag of a Gaya connection (not in any batch), and its latest bill.
    const tag = await db
      .selectFrom('tags as t')
      .innerJoin('offices as f', 'f.id', 't.office_id')
      .select(['t.id', 't.connection_id'])
      .where('t.org_id', '=', edu.id)
      .where('t.status', '=', 'active')
      .where('f.code', '=', 'GAYA')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('payment_batch_items as i').select('i.batch_id').whereRef('i.connection_id', '=', 't.connection_id'))))
      .orderBy('t.id')
      .executeTakeFirstOrThrow();
    const bill = await db.selectFrom('bills').select('id').where('connection_id', '=', tag.connection_id).orderBy('bill_month', 'desc').executeTakeFirstOrThrow();
    const key = await db.selectFrom('api_keys').select('id').where('org_id', '=', edu.id).executeTakeFirst();
    Object.assign(ids, {
      receiptId: receipts[0]!.id.toString(), jobId: upload.json<{ id: string }>().id, selectionId: selection.json<{ id: string }>().id,
      officeId: office.GAYA, parentId: office.GAYA, userId: gayaUser.json<{ id: string }>().id, tagId: tag.id.toString(), connectionId: tag.connection_id.toString(),
      billId: bill.id.toString(), keyId: key?.id.toString() ?? '1',
    });

    // What the scoped users must never see.
    const { rows: theirs } = await sql<{ consumer_no: string }>`
      SELECT d.consumer_no FROM connection_dues d LEFT JOIN offices f ON f.id = d.office_id
       WHERE d.org_id = ${edu.id} AND (f.path IS NULL OR f.path NOT LIKE (SELECT path FROM offices WHERE id = ${BigInt(office.PATNA!)}) || '%')`.execute(db);
    expect(theirs.length).toBeGreaterThan(20);
    const va = await db.selectFrom('challans').select('va_number').where('batch_id', '=', BigInt(byChallan.id)).executeTakeFirstOrThrow();
    markers.push(
      ...theirs.map((r) => r.consumer_no), paid.reference, pending.reference, byChallan.reference, va.va_number, ...receipts.map((r) => r.receipt_no),
      UPLOAD_NAME, 'ddo.gaya.walk', 'Shobha Kumari', 'District Education Office, Gaya', 'DDO, Gaya Town', 'District Education Office, Muzaffarpur',
    );

    for (const [i, login] of SCOPED.entries()) users.set(login, await new Client(app, `10.2.1.${i + 1}`).login(login, DEMO_PASSWORD, secretOf(login)));
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const orgRoutes = () => allRoutes(app).filter((r) => r.path.startsWith('/api/v1/org/') || r.path === '/api/v1/org');
  const leaksIn = (body: string) => markers.filter((m) => body.includes(m));

  /** Required query parameters that the walk can fill; an `…Id` of a fixture (an office as filter). */
  function query(op: Op): string {
    const q = new URLSearchParams();
    for (const p of op.parameters ?? []) {
      if (p.in !== 'query') continue;
      if (p.name === 'from') q.set('from', '2025-01-01');
      if (p.name === 'to') q.set('to', '2027-12-31');
      if (/Id$/.test(p.name) && ids[p.name]) q.set(p.name, ids[p.name]!);
    }
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  /**
   * The example body with every `…Id` field set to the other office's object of that name; with
   * `all`, also every `…Id` field of the schema that the example leaves out.
   */
  function withTheirIds(method: string, path: string, op: Op, all: boolean): { body: unknown; replaced: number } {
    const swapped = withIds(exampleBody(method, path, op), ids, { tagIds: 'tagId' });
    const body = swapped.body as Record<string, unknown> | undefined;
    let replaced = swapped.replaced;
    const schema = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
    if (all && body && typeof body === 'object' && !Array.isArray(body)) {
      for (const [k, s] of Object.entries(schema?.properties ?? {})) {
        if (k in body || !/Ids?$/.test(k) || !ids[k]) continue;
        body[k] = s.type === 'array' ? [ids[k]] : ids[k];
        replaced++;
      }
    }
    return { body, replaced };
  }

  async function walk(who: string, method: string, url: string, body: unknown) {
    return users.get(who)!.req(method as 'GET', url, body, method === 'GET' ? {} : { 'idempotency-key': newKey() });
  }

  it('covers every organisation route', () => {
    expect(orgRoutes().length).toBeGreaterThan(40);
    expect(orgRoutes().filter((r) => /\{\w+\}/.test(r.path)).length).toBeGreaterThan(20);
  });

  it('answers 403 or 404 to another office’s ids in paths, and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let tried = 0;
    for (const { name, id } of batchIds) {
      ids.batchId = id;
      for (const { method, path, op } of orgRoutes()) {
        if (isPublic(op) || !/\{\w+\}/.test(path)) continue;
        // Routes without a batch id are walked once.
        if (name !== 'pending' && !path.includes('{batchId}')) continue;
        const url = fillPath(path, ids) + query(op);
        const body = exampleBody(method, path, op);
        for (const who of SCOPED) {
          tried++;
          const r = await walk(who, method, url, body);
          const leaks = leaksIn(r.body);
          if (![403, 404].includes(r.statusCode) || leaks.length) failures.push(`${who} ${method} ${path} (${name}): ${r.statusCode} ${leaks.slice(0, 3).join(', ')} ${r.body.slice(0, 120)}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses another office’s ids in request bodies, or answers without anything of that office, and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let tried = 0;
    for (const { name, id } of batchIds) {
      ids.batchId = id;
      for (const { method, path, op } of orgRoutes()) {
        if (isPublic(op) || method === 'GET' || /\{\w+\}/.test(path)) continue;
        const some = withTheirIds(method, path, op, false);
        const every = withTheirIds(method, path, op, true);
        for (const { body, replaced } of every.replaced > some.replaced ? [some, every] : [some]) {
          if (!replaced) continue;
          for (const who of SCOPED) {
            tried++;
            const r = await walk(who, method, fillPath(path, ids) + query(op), body);
            const leaks = leaksIn(r.body);
            if ((r.statusCode < 400 && r.statusCode !== 200) || leaks.length) failures.push(`${who} ${method} ${path} (${name}) ${JSON.stringify(body).slice(0, 80)}: ${r.statusCode} ${leaks.slice(0, 3).join(', ')} ${r.body.slice(0, 160)}`);
          }
        }
      }
    }
    expect(tried).toBeGreaterThanOrEqual(20);
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('never shows another office’s objects in lists and exports, even with that office as filter', async () => {
    const leaks: string[] = [];
    let answered = 0;
    for (const { method, path, op } of orgRoutes()) {
      if (method !== 'GET' || /\{\w+\}/.test(path)) continue;
      for (const who of SCOPED) {
        for (const url of [path + query({ ...op, parameters: (op.parameters ?? []).filter((p) => !/Id$/.test(p.name)) }), path + query(op)]) {
          const r = await walk(who, 'GET', url, undefined);
          if (r.statusCode === 200) answered++;
          const found = leaksIn(r.body);
          if (found.length) leaks.push(`${who} GET ${url}: ${r.statusCode} shows ${found.slice(0, 3).join(', ')}`);
        }
      }
    }
    expect(answered).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  it('still shows the head office all of it', async () => {
    const hq = await new Client(app, '10.2.0.9').login('edu.admin', DEMO_PASSWORD);
    for (const { id } of batchIds) expect((await hq.get(`/api/v1/org/payments/batches/${id}`)).statusCode).toBe(200);
    expect((await hq.get(`/api/v1/org/tag-jobs/${ids.jobId}`)).statusCode).toBe(200);
    expect((await hq.get(`/api/v1/org/payments/receipts/${ids.receiptId}.pdf`)).statusCode).toBe(200);
    expect((await hq.get(`/api/v1/org/dues/connections/${ids.connectionId}`)).statusCode).toBe(200);
  });

  /** Everything a refused request could have changed. (Attempt counters of the throttle are left out: counting a try is not a change to anyone's data.) */
  async function snapshot() {
    const { db } = database;
    const count = (table: 'audit_log' | 'notifications' | 'connection_otps' | 'idempotency_keys' | 'receipts' | 'postings' | 'dues_selection_items') =>
      table === 'audit_log'
        ? // Refusals are audited (access.*): that is the walk being recorded, not a change.
          db.selectFrom('audit_log').select(sql<string>`count(*)::text`.as('n')).where('action', 'not like', 'access.%').executeTakeFirstOrThrow()
        : db.selectFrom(table).select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow();
    const [batches, items, attempts, pays, challans, tags, jobs, selections, prefs, users, offices, keys, audit, notes, otps, idem, receipts, postings, selItems] = await Promise.all([
      db.selectFrom('payment_batches').select(['id', 'status', 'mode', 'office_id', 'decided_by', 'decision_reason']).orderBy('id').execute(),
      db.selectFrom('payment_batch_items').select(['batch_id', 'connection_id', 'open']).orderBy('batch_id').orderBy('connection_id').execute(),
      db.selectFrom('payment_attempts').select(['id', 'batch_id', 'status']).orderBy('id').execute(),
      db.selectFrom('payments').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('challans').select(['id', 'status', 'valid_until']).orderBy('id').execute(),
      db.selectFrom('tags').select(['id', 'status', 'office_id', 'org_id']).orderBy('id').execute(),
      db.selectFrom('tag_jobs').select(['id', 'status', 'committed_by']).orderBy('id').execute(),
      db.selectFrom('dues_selections').select(['id', 'office_id', 'expires_at']).orderBy('id').execute(),
      db.selectFrom('alert_preferences').selectAll().orderBy('office_id').execute(),
      db.selectFrom('users').select(['id', 'role', 'status', 'office_id', 'name', 'password_hash']).orderBy('id').execute(),
      db.selectFrom('offices').select(['id', 'name', 'code', 'path']).orderBy('id').execute(),
      db.selectFrom('api_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
      count('audit_log'), count('notifications'), count('connection_otps'), count('idempotency_keys'), count('receipts'), count('postings'), count('dues_selection_items'),
    ]);
    return { batches, items, attempts, pays, challans, tags, jobs, selections, prefs, users, offices, keys, audit, notes, otps, idem, receipts, postings, selItems };
  }
});
