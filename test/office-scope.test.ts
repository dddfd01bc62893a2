import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import type { SandboxGateway } from '../src/adapters/gateway/sandbox.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../src/modules/identity/index.ts';
import { buildGateway, SANDBOX_KEY_ID } from '../src/modules/payments/gateway.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';

/**
 * Office scope (decision 0011), as the security report found it: the Patna approver approved a
 * head-office batch of connections outside Patna, and a DDO's maker cancelled it. A user placed
 * in an office sees and acts only on the batches, uploads, selections and alert preferences of
 * offices within their subtree; a batch spanning offices belongs to their nearest common office;
 * anything else answers 404 and changes nothing. Users of the whole organisation and API keys
 * see all of the organisation.
 */

const APPROVER_SECRET = DEMO_LOGINS.find((l) => l.loginId === 'edu.approver')!.totpSecret!;

interface BatchJson {
  id: string;
  reference: string;
  status: string;
  office: { id: string; code: string; name: string } | null;
}

describe(`office scope of payments, uploads, selections and alerts on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let sandbox: SandboxGateway;
  let admin: Client; // edu.admin: the whole organisation
  let viewer: Client; // edu.viewer: the whole organisation, read only
  let patnaAdmin: Client; // edu.patna.admin: PATNA
  let approver: Client; // edu.approver: PATNA
  let maker: Client; // edu.maker: PATNA-DEO
  let apiKey: string;
  let eduOrg: bigint;
  const office: Record<string, bigint> = {};
  let hqPending: BatchJson; // outside Patna, waiting for approval
  let hqPaid: BatchJson; // outside Patna, paid, with receipts
  let hqChallan: BatchJson; // outside Patna, paying by RTGS/NEFT
  let spanning: BatchJson; // PATNA-DEO and PATNA-DANAPUR: belongs to PATNA
  let makers: BatchJson; // edu.maker's own, PATNA-DEO
  let receiptId: string;

  const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;

  /** Payable connections of the Education Department tagged to the given offices (n of each), not in an open batch. */
  async function payableIn(codes: string[], n: number, discom?: string): Promise<string[]> {
    const out: string[] = [];
    for (const code of codes) {
      const { rows } = await sql<{ connection_id: bigint }>`
        SELECT d.connection_id FROM connection_dues d
          JOIN offices f ON f.id = d.office_id JOIN discoms dc ON dc.id = d.discom_id
         WHERE d.org_id = ${eduOrg} AND f.code = ${code} AND d.balance_paise > 100000
           AND (${discom ?? null}::text IS NULL OR dc.code = ${discom ?? null})
           AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
         ORDER BY d.connection_id LIMIT ${n}`.execute(database.db);
      expect(rows.length, `payable connections of ${code}`).toBe(n);
      out.push(...rows.map((r) => r.connection_id.toString()));
    }
    return out;
  }

  async function makeBatch(c: Client, ids: string[]): Promise<BatchJson> {
    const r = await c.req('POST', '/api/v1/org/payments/batches', { items: ids.map((connectionId) => ({ connectionId })) }, { 'idempotency-key': newKey() });
    expect(r.statusCode, r.body).toBe(201);
    return r.json<BatchJson>();
  }

  const threshold = (paise: bigint | null) => database.db.updateTable('organisations').set({ approval_threshold_paise: paise }).where('id', '=', eduOrg).execute();
  const form = (url: string, fields: Record<string, string>) =>
    app.inject({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const listed = async (c: Client, query = '') => (await c.get(`/api/v1/org/payments/batches?limit=100${query}`)).json<{ items: BatchJson[] }>().items.map((b) => b.id);
  const officeOf = async (batchId: string) => (await database.db.selectFrom('payment_batches').select('office_id').where('id', '=', BigInt(batchId)).executeTakeFirstOrThrow()).office_id;

  /** What a refused request could have changed. */
  async function snapshot() {
    const { db } = database;
    const [batches, attempts, challans, audit, jobs, prefs, throttles, notifications] = await Promise.all([
      db.selectFrom('payment_batches').select(['id', 'status', 'decided_by', 'decision_reason', 'mode', 'office_id']).orderBy('id').execute(),
      db.selectFrom('payment_attempts').select(['id', 'batch_id', 'status']).orderBy('id').execute(),
      db.selectFrom('challans').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('audit_log').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow(),
      db.selectFrom('tag_jobs').select(['id', 'status', 'committed_by']).orderBy('id').execute(),
      db.selectFrom('alert_preferences').selectAll().orderBy('office_id').execute(),
      db.selectFrom('throttles').selectAll().execute(),
      db.selectFrom('notifications').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow(),
    ]);
    return { batches, attempts, challans, audit, jobs, prefs, throttles, notifications };
  }

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 11, connections: 1200, asOf: new Date() });
    await tagDemoConnections(database);
    const config = testConfig({ devTools: true, loginMaxFailures: 1000, loginMaxFailuresPerIp: 10000 });
    const payments = await buildGateway(config, database.db);
    sandbox = payments.sandbox!;
    await sandbox.merchant(SANDBOX_KEY_ID, { webhookUrl: 'http://portal.test/api/v1/webhooks/razorpay' });
    app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
    await app.ready();
    const { db } = database;
    eduOrg = (await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    for (const o of await db.selectFrom('offices').select(['id', 'code']).where('org_id', '=', eduOrg).execute()) office[o.code] = o.id;
    admin = await new Client(app, '10.1.0.1').login('edu.admin', DEMO_PASSWORD);
    viewer = await new Client(app, '10.1.0.2').login('edu.viewer', DEMO_PASSWORD);
    patnaAdmin = await new Client(app, '10.1.0.3').login('edu.patna.admin', DEMO_PASSWORD);
    approver = await new Client(app, '10.1.0.4').login('edu.approver', DEMO_PASSWORD, APPROVER_SECRET);
    maker = await new Client(app, '10.1.0.5').login('edu.maker', DEMO_PASSWORD);
    apiKey = (await admin.post('/api/v1/org/api-keys', { name: 'ERP', scopes: ['read', 'pay'] })).json<{ key: string }>().key;

    // The head office's batches, of connections outside Patna only.
    await threshold(null);
    hqPaid = await makeBatch(admin, await payableIn(['GAYA-DEO', 'MUZAFFARPUR'], 1));
    const co = (await admin.post(`/api/v1/org/payments/batches/${hqPaid.id}/checkout`)).json<{ action: string; fields: Record<string, string> }>();
    expect((await form(co.action, co.fields)).statusCode).toBe(200);
    const paid = await form('/sandbox/razorpay/v1/checkout/pay', { ...co.fields, outcome: 'success', method: 'upi' });
    const back = Object.fromEntries([...paid.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    expect((await form(co.fields.callback_url!, back)).headers.location).toBe(`/payments/${hqPaid.id}?result=paid`);
    receiptId = (await db.selectFrom('receipts').select('id').where('batch_id', '=', BigInt(hqPaid.id)).orderBy('id').executeTakeFirstOrThrow()).id.toString();
    hqChallan = await makeBatch(admin, await payableIn(['GAYA', 'MUZAFFARPUR'], 1, 'NBPDCL'));
    const challan = await admin.post(`/api/v1/org/payments/batches/${hqChallan.id}/challan`);
    expect(challan.statusCode, challan.body).toBe(200);
    // Above the threshold: waiting for an approver.
    await threshold(0n);
    hqPending = await makeBatch(admin, await payableIn(['GAYA', 'GAYA-DEO', 'MUZAFFARPUR'], 2));
    spanning = await makeBatch(patnaAdmin, await payableIn(['PATNA-DEO', 'PATNA-DANAPUR'], 2));
    makers = await makeBatch(maker, await payableIn(['PATNA-DEO'], 1));
    await threshold(null);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
  });

  it('gives each batch the nearest common office of its connections', async () => {
    expect(hqPending.status).toBe('pending_approval');
    for (const b of [hqPending, hqPaid, hqChallan]) {
      expect(await officeOf(b.id)).toBe(office.HQ);
      expect(b.office?.code).toBe('HQ');
    }
    expect(await officeOf(spanning.id)).toBe(office.PATNA);
    expect(spanning.office?.code).toBe('PATNA');
    expect(await officeOf(makers.id)).toBe(office['PATNA-DEO']);
  });

  it('hides a head-office batch of connections outside Patna from the Patna approver and the DDO’s maker: list, read, items, receipts, challan', async () => {
    for (const [who, c] of [['edu.approver', approver], ['edu.maker', maker], ['edu.patna.admin', patnaAdmin]] as const) {
      const ids = [...(await listed(c)), ...(await listed(c, '&status=awaiting_approval')), ...(await listed(c, '&status=paid'))];
      for (const b of [hqPending, hqPaid, hqChallan]) expect(ids, `${who} lists ${b.reference}`).not.toContain(b.id);
      const urls = [
        ...[hqPending, hqPaid, hqChallan].flatMap((b) => [`/api/v1/org/payments/batches/${b.id}`, `/api/v1/org/payments/batches/${b.id}/items`, `/api/v1/org/payments/batches/${b.id}/reconciliation`]),
        `/api/v1/org/payments/batches/${hqPaid.id}/receipt.pdf`,
        `/api/v1/org/payments/batches/${hqPaid.id}/receipts.zip`,
        `/api/v1/org/payments/receipts/${receiptId}.pdf`,
        `/api/v1/org/payments/batches/${hqChallan.id}/challan`,
        `/api/v1/org/payments/batches/${hqChallan.id}/challan.pdf`,
        `/api/v1/org/payments/batches/${hqChallan.id}/challan-bulk.csv`,
      ];
      for (const url of urls) {
        const r = await c.get(url);
        expect([r.statusCode, r.body.includes(hqPending.reference) || r.body.includes(hqChallan.reference)], `${who} GET ${url}`).toEqual([404, false]);
      }
    }
  });

  it('answers 404 to the Patna approver’s approve and reject and the maker’s cancel, checkout, refresh and challan of that batch, and changes nothing', async () => {
    const before = await snapshot();
    const code = totpCode(APPROVER_SECRET, stepAt(new Date()) + 1);
    const tries: [string, Client, string, unknown][] = [
      ['edu.approver', approver, `/api/v1/org/payments/batches/${hqPending.id}/approve`, { code }],
      ['edu.approver', approver, `/api/v1/org/payments/batches/${hqPending.id}/reject`, { code, reason: 'not ours' }],
      ['edu.approver', approver, `/api/v1/org/payments/batches/${hqPending.id}/cancel`, { reason: 'not ours' }],
      ['edu.maker', maker, `/api/v1/org/payments/batches/${hqPending.id}/cancel`, { reason: 'not ours' }],
      ['edu.maker', maker, `/api/v1/org/payments/batches/${hqChallan.id}/cancel`, {}],
      ['edu.maker', maker, `/api/v1/org/payments/batches/${hqPending.id}/checkout`, {}],
      ['edu.maker', maker, `/api/v1/org/payments/batches/${hqPaid.id}/refresh`, {}],
      ['edu.maker', maker, `/api/v1/org/payments/batches/${hqChallan.id}/challan`, {}],
      ['edu.patna.admin', patnaAdmin, `/api/v1/org/payments/batches/${hqPending.id}/approve`, { code: '123456' }],
      ['edu.patna.admin', patnaAdmin, `/api/v1/org/payments/batches/${hqPending.id}/cancel`, {}],
    ];
    for (const [who, c, url, body] of tries) {
      const r = await c.post(url, body);
      expect([r.statusCode, r.json<{ error?: { code: string } }>().error?.code], `${who} POST ${url}`).toEqual([404, 'NOT_FOUND']);
    }
    expect(await snapshot()).toEqual(before);
    // The head office still sees it as it was, and may act on it.
    expect((await admin.get(`/api/v1/org/payments/batches/${hqPending.id}`)).json<BatchJson>().status).toBe('pending_approval');
  });

  it('lets the Patna approver see and approve a batch spanning Patna Sadar and Danapur, which the Patna Sadar maker does not see', async () => {
    expect(await listed(approver, '&status=awaiting_approval')).toContain(spanning.id);
    expect(await listed(maker)).not.toContain(spanning.id);
    expect((await maker.get(`/api/v1/org/payments/batches/${spanning.id}`)).statusCode).toBe(404);
    expect((await maker.get(`/api/v1/org/payments/batches/${spanning.id}/items`)).statusCode).toBe(404);
    expect((await maker.post(`/api/v1/org/payments/batches/${spanning.id}/cancel`, {})).statusCode).toBe(404);
    const ok = await approver.post(`/api/v1/org/payments/batches/${spanning.id}/approve`, { code: totpCode(APPROVER_SECRET, stepAt(new Date()) + 1) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<BatchJson>().status).toBe('ready');
    expect((await maker.post(`/api/v1/org/payments/batches/${spanning.id}/checkout`, {})).statusCode).toBe(404);
    // Its connections are the maker's too, but the batch holding one is not named to the maker.
    const held = (await database.db.selectFrom('payment_batch_items as i').innerJoin('connection_dues as d', 'd.connection_id', 'i.connection_id')
      .select('i.connection_id').where('i.batch_id', '=', BigInt(spanning.id)).where('d.office_id', '=', office['PATNA-DEO']!).executeTakeFirstOrThrow()).connection_id.toString();
    const again = await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: held }] }, { 'idempotency-key': newKey() });
    expect(again.json<{ error: { code: string } }>().error.code).toBe('BILL_IN_OPEN_BATCH');
    expect(again.body).not.toContain(spanning.reference);
    expect((await patnaAdmin.req('POST', '/api/v1/org/payments/quote', { items: [{ connectionId: held }] })).body).toContain(spanning.reference);
    const tag = await database.db.selectFrom('tags').select('id').where('connection_id', '=', BigInt(held)).where('status', '=', 'active').executeTakeFirstOrThrow();
    const untag = await maker.post(`/api/v1/org/tags/${tag.id}/untag`, { reason: 'test' });
    expect(untag.json<{ error: { code: string } }>().error.code).toBe('CONNECTION_IN_OPEN_PAYMENT');
    expect(untag.body).not.toContain(spanning.reference);
  });

  it('shows a batch to its own office and to the offices above it', async () => {
    for (const c of [maker, approver, patnaAdmin, admin]) expect(await listed(c)).toContain(makers.id);
    expect((await maker.get(`/api/v1/org/payments/batches/${makers.id}`)).statusCode).toBe(200);
  });

  it('shows every batch to users of the whole organisation and to its API keys', async () => {
    const all = [hqPending, hqPaid, hqChallan, spanning, makers].map((b) => b.id);
    expect(await listed(admin)).toEqual(expect.arrayContaining(all));
    expect(await listed(viewer)).toEqual(expect.arrayContaining(all));
    const byKey = await app.inject({ url: '/api/v1/org/payments/batches?limit=100', headers: { authorization: `Bearer ${apiKey}` } });
    expect(byKey.json<{ items: BatchJson[] }>().items.map((b) => b.id)).toEqual(expect.arrayContaining(all));
    for (const url of [`/api/v1/org/payments/batches/${hqPaid.id}/receipt.pdf`, `/api/v1/org/payments/receipts/${receiptId}.pdf`, `/api/v1/org/payments/batches/${hqChallan.id}/challan`]) {
      expect((await viewer.get(url)).statusCode, url).toBe(200);
      expect((await app.inject({ url, headers: { authorization: `Bearer ${apiKey}` } })).statusCode, url).toBe(200);
    }
  });

  it('still refuses a maker’s batch of connections outside their office, and makes nothing', async () => {
    const [gaya] = await payableIn(['GAYA'], 1);
    const before = await snapshot();
    const r = await maker.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: gaya }] }, { 'idempotency-key': newKey() });
    expect(r.statusCode).toBe(400);
    expect(r.json<{ error: { details: { path: string; problem: string }[] } }>().error.details.map((d) => [d.path, d.problem])).toEqual([['body.items.0', 'not_tagged']]);
    expect(await snapshot()).toEqual(before);
  });

  it('keeps uploads to the uploader’s office and those above it', async () => {
    const upload = async (c: Client) => {
      const r = await c.raw('POST', '/api/v1/org/tag-jobs?fileName=list.csv', Buffer.from('consumer_no\n0101000001\n'), 'text/csv');
      expect(r.statusCode, r.body).toBe(202);
      return r.json<{ id: string }>().id;
    };
    const hqJob = await upload(admin);
    const patnaJob = await upload(patnaAdmin);
    const makerJob = await upload(maker);
    const jobs = async (c: Client) => (await c.get('/api/v1/org/tag-jobs')).json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id);
    expect(await jobs(admin)).toEqual(expect.arrayContaining([hqJob, patnaJob, makerJob]));
    expect(await jobs(viewer)).toEqual(expect.arrayContaining([hqJob, patnaJob, makerJob]));
    expect(await jobs(patnaAdmin)).toEqual(expect.arrayContaining([patnaJob, makerJob]));
    expect(await jobs(patnaAdmin)).not.toContain(hqJob);
    expect(await jobs(maker)).toContain(makerJob);
    expect(await jobs(maker)).not.toContain(hqJob);
    expect(await jobs(maker)).not.toContain(patnaJob);
    expect((await patnaAdmin.get(`/api/v1/org/tag-jobs/${makerJob}`)).statusCode).toBe(200);
    const before = await snapshot();
    for (const [who, c, ids] of [['edu.patna.admin', patnaAdmin, [hqJob]], ['edu.maker', maker, [hqJob, patnaJob]]] as const) {
      for (const id of ids) {
        for (const url of [`/api/v1/org/tag-jobs/${id}`, `/api/v1/org/tag-jobs/${id}/rows`, `/api/v1/org/tag-jobs/${id}/problems.csv`]) {
          expect((await c.get(url)).statusCode, `${who} GET ${url}`).toBe(404);
        }
        for (const url of [`/api/v1/org/tag-jobs/${id}/commit`, `/api/v1/org/tag-jobs/${id}/cancel`]) {
          expect((await c.post(url)).statusCode, `${who} POST ${url}`).toBe(404);
        }
      }
    }
    expect(await snapshot()).toEqual(before);
    const jobOffice = async (id: string) => (await database.db.selectFrom('tag_jobs').select('office_id').where('id', '=', BigInt(id)).executeTakeFirstOrThrow()).office_id;
    expect([await jobOffice(hqJob), await jobOffice(patnaJob), await jobOffice(makerJob)]).toEqual([office.HQ, office.PATNA, office['PATNA-DEO']]);
  });

  it('lets only users at or above a selection’s office use it, and fills it within its creator’s offices', async () => {
    const hqSel = (await admin.post('/api/v1/org/dues/selections', {})).json<{ id: string; count: number }>();
    const patnaSel = (await patnaAdmin.post('/api/v1/org/dues/selections', { status: 'overdue' })).json<{ id: string; count: number }>();
    const makerSel = (await maker.post('/api/v1/org/dues/selections', {})).json<{ id: string; count: number }>();
    // A selection holds connections of its creator's offices only.
    const { rows } = await sql<{ code: string | null }>`
      SELECT DISTINCT f.code FROM dues_selection_items i JOIN connection_dues d ON d.connection_id = i.connection_id LEFT JOIN offices f ON f.id = d.office_id
       WHERE i.selection_id = ${BigInt(makerSel.id)}`.execute(database.db);
    expect(makerSel.count).toBeGreaterThan(0);
    expect(rows.map((r) => r.code)).toEqual(['PATNA-DEO']);
    const quote = (c: Client, selectionId: string) => c.post('/api/v1/org/payments/quote', { selectionId });
    // Out of scope reads exactly like a selection that does not exist.
    const none = await quote(maker, '987654321');
    expect(none.statusCode).toBe(400);
    for (const [c, id] of [[maker, hqSel.id], [maker, patnaSel.id], [patnaAdmin, hqSel.id], [approver, hqSel.id]] as const) {
      const r = await quote(c, id);
      expect([r.statusCode, r.json<{ error: { details: unknown } }>().error.details]).toEqual([400, none.json<{ error: { details: unknown } }>().error.details]);
      const b = await c.req('POST', '/api/v1/org/payments/batches', { selectionId: id }, { 'idempotency-key': newKey() });
      expect(b.statusCode).toBe(400);
      expect(b.body).not.toMatch(/"connection \d+/);
    }
    expect((await maker.get(`/api/v1/org/dues/selections/${hqSel.id}`)).statusCode).toBe(404);
    // The Patna approver may pay from the Patna admin's selection, the maker from their own, the
    // head office from any (their connections may be in open batches already: that is no refusal of the selection).
    for (const [c, id] of [[approver, patnaSel.id], [maker, makerSel.id], [admin, patnaSel.id], [patnaAdmin, makerSel.id]] as const) {
      const r = await quote(c, id);
      expect([200, 409]).toContain(r.statusCode);
      expect(r.body).not.toContain('body.selectionId');
    }
    const selOffice = async (id: string) => (await database.db.selectFrom('dues_selections').select('office_id').where('id', '=', BigInt(id)).executeTakeFirstOrThrow()).office_id;
    expect([await selOffice(hqSel.id), await selOffice(patnaSel.id), await selOffice(makerSel.id)]).toEqual([office.HQ, office.PATNA, office['PATNA-DEO']]);
  });

  it('reads and changes alert preferences only for offices within the user’s subtree', async () => {
    const body = { dueReminders: true, reminderDays: 5, disconnectionAlerts: true, riskThresholdRupees: '25000', byEmail: true, bySms: true };
    expect((await admin.req('PUT', `/api/v1/org/alert-preferences/${office.GAYA}`, body)).statusCode).toBe(200);
    const before = await snapshot();
    for (const id of [office.GAYA, office.HQ, office['GAYA-DEO']]) {
      const r = await patnaAdmin.req('PUT', `/api/v1/org/alert-preferences/${id}`, { ...body, reminderDays: 1 });
      expect(r.statusCode, `office ${id}`).toBe(404);
    }
    expect(await snapshot()).toEqual(before);
    const seen = async (c: Client) => (await c.get('/api/v1/org/alert-preferences')).json<{ offices: { code: string }[] }>().offices.map((o) => o.code).sort();
    expect(await seen(patnaAdmin)).toEqual(['PATNA', 'PATNA-DANAPUR', 'PATNA-DEO']);
    expect(await seen(maker)).toEqual(['PATNA-DEO']);
    expect(await seen(admin)).toEqual(expect.arrayContaining(['HQ', 'GAYA', 'PATNA', 'PATNA-DEO']));
    expect((await patnaAdmin.req('PUT', `/api/v1/org/alert-preferences/${office['PATNA-DANAPUR']}`, body)).statusCode).toBe(200);
  });
});
