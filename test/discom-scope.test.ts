import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import type { SandboxGateway } from '../src/adapters/gateway/sandbox.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { runPostings } from '../src/modules/payments/index.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { AppError } from '../src/platform/errors.ts';
import { discomScope, type UserPrincipal } from '../src/platform/principal.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { COLLECTION_ACCOUNT, Payer, appWithSandbox, importStatement, loginAs, statementOf } from './helpers/discoms.ts';
import { Client } from './helpers/http.ts';

/**
 * Discom staff act for their discom only (decision 0010): SBPDCL's staff neither see nor change
 * NBPDCL's exceptions, registrations, tag requests, postings, reports and audit entries, and the
 * other way round; the holding company's staff (BSPHCL) see and act on both.
 */

describe(`discom staff see and act on their own discom only, on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let sandbox: SandboxGateway;
  let edu: Payer;
  let eduOrg: bigint;
  const clients = new Map<string, Client>();
  let ip = 0;
  /** One session per demo login, made when first needed. */
  const as = async (loginId: string) => {
    if (!clients.has(loginId)) clients.set(loginId, await loginAs(app, loginId, `10.8.0.${++ip}`));
    return clients.get(loginId)!;
  };
  const discomId = async (code: string) => (await database.db.selectFrom('discoms').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id;
  const exceptionOfUtr = async (utr: string) =>
    (await database.db.selectFrom('recon_exceptions as e').innerJoin('bank_credits as c', 'c.id', 'e.credit_id').select(['e.id', 'e.status', 'e.discom_id']).where('c.utr', '=', utr).where('e.status', '=', 'open').executeTakeFirstOrThrow());

  /** The money tables a refused request must leave as they were. */
  async function money() {
    const { db } = database;
    const [exceptions, credits, payments, postings, batches, statements, ledger, audit] = await Promise.all([
      db.selectFrom('recon_exceptions').select(['id', 'status', 'resolution', 'resolved_by']).orderBy('id').execute(),
      db.selectFrom('bank_credits').select(['id', 'status', 'payment_id', 'challan_id']).orderBy('id').execute(),
      db.selectFrom('payments').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('postings').select(['id', 'status', 'attempts', 'next_attempt_at']).orderBy('id').execute(),
      db.selectFrom('payment_batches').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('bank_statements').select('id').orderBy('id').execute(),
      db.selectFrom('ledger_entries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
      // Refusals are audited (access.*): the walk being recorded is not a change.
      db.selectFrom('audit_log').select(sql<string>`coalesce(max(id), 0)::text`.as('last')).where('action', 'not like', 'access.%').executeTakeFirstOrThrow(),
    ]);
    return { exceptions, credits, payments, postings, batches, statements, ledger, audit };
  }

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 11, connections: 800, asOf: new Date() });
    await tagDemoConnections(database);
    ({ app, sandbox } = await appWithSandbox(database));
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
    edu = new Payer(app, database, await loginAs(app, 'edu.admin', '10.8.1.1'), eduOrg);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
  });

  it('never pays an NBPDCL batch with money that came into SBPDCL’s account, whatever its narrative names (virtual account or batch reference); it is held in SBPDCL’s queue, and cannot be assigned across', async () => {
    const batchState = async (id: string) => (await database.db.selectFrom('payment_batches').select(['status', 'paid_paise']).where('id', '=', BigInt(id)).executeTakeFirstOrThrow());
    // A: a transfer into SBPDCL's account (an SBPDCL virtual account no challan has), its remitter line naming NBPDCL's challan.
    const b1 = await edu.batch(await edu.payable(1, 'NBPDCL'));
    const c1 = await edu.challan(b1.id);
    const t1 = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: 'SBPD00099999995', amountPaise: c1.amountPaise, channel: 'statement', mode: 'NEFT', payerName: c1.vaNumber } });
    expect(t1.statusCode, t1.body).toBe(200);
    // B: a plain transfer into SBPDCL's account whose narrative carries the NBPDCL batch's reference.
    const b2 = await edu.batch(await edu.payable(1, 'NBPDCL', 1));
    const c2 = await edu.challan(b2.id);
    const t2 = await app.inject({ method: 'POST', url: '/sandbox/bank/transfers', payload: { vaNumber: 'SBPD00099999986', amountPaise: c2.amountPaise, channel: 'statement', mode: 'NEFT', payerName: 'DDO' } });
    expect(t2.statusCode, t2.body).toBe(200);
    const csv = (await statementOf(app, COLLECTION_ACCOUNT.SBPDCL, 'csv')).toString().replace('/DDO/SBPD00099999986', `/DDO/${b2.reference}`);
    expect(csv).toContain(b2.reference);
    const south = await as('accounts.sbpdcl');
    const r = await importStatement(south, Buffer.from(csv), 'csv', COLLECTION_ACCOUNT.SBPDCL);
    expect(r.statusCode, r.body).toBe(200);
    for (const b of [b1, b2]) expect(await batchState(b.id)).toEqual({ status: 'payment_pending', paid_paise: 0n });
    // Held in SBPDCL's queue, where the money is, saying why.
    const held = await database.db
      .selectFrom('recon_exceptions as e')
      .innerJoin('bank_credits as c', 'c.id', 'e.credit_id')
      .select(['e.id', 'e.reason', 'e.detail', 'e.discom_id', 'c.status'])
      .where('c.amount_paise', 'in', [BigInt(c1.amountPaise), BigInt(c2.amountPaise)])
      .where('e.status', '=', 'open')
      .where('c.discom_id', '=', await discomId('SBPDCL'))
      .execute();
    expect(held.map((h) => h.discom_id)).toEqual([await discomId('SBPDCL'), await discomId('SBPDCL')]);
    expect(held.some((h) => /is a challan of another discom, but the money came into this discom's account/.test(h.detail ?? ''))).toBe(true);
    // Not even the holding company may assign it to the NBPDCL batch: it is refunded instead.
    const holding = await as('admin.discom');
    const before = await money();
    const assign = await holding.post(`/api/v1/discom/recon/exceptions/${held[0]!.id}/resolve`, { action: 'assign', batchId: b1.id, note: 'Remitter named this challan' });
    expect(assign.statusCode, assign.body).toBe(400);
    expect(assign.json().error.details[0]).toMatchObject({ path: 'body.batchId', problem: 'other_discom' });
    expect(await money()).toEqual(before);
  });

  it('keeps an NBPDCL exception from SBPDCL’s accounts team: not listed, not resolved, not refunded, nothing changes; NBPDCL’s and the holding company’s staff see it', async () => {
    const b = await edu.batch(await edu.payable(1, 'NBPDCL'));
    const c = await edu.challan(b.id);
    const utr = await edu.transfer(c.vaNumber, BigInt(c.amountPaise) - 5_000n, 'statement');
    const imported = await importStatement(await as('admin.discom'), await statementOf(app, COLLECTION_ACCOUNT.NBPDCL));
    expect(imported.statusCode, imported.body).toBe(200);
    const ex = await exceptionOfUtr(utr);

    const south = await as('accounts.sbpdcl');
    const before = await money();
    for (const status of ['open', 'resolved']) {
      const list = await south.get(`/api/v1/discom/recon/exceptions?status=${status}`);
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(utr);
      expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).not.toContain(ex.id.toString());
    }
    const counted = await database.db.selectFrom('recon_exceptions').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'open').where('discom_id', '=', await discomId('SBPDCL')).executeTakeFirstOrThrow();
    const counts = (await south.get('/api/v1/discom/recon/exceptions')).json<{ counts: Record<string, number> }>().counts;
    expect(Object.values(counts).reduce((s, n) => s + n, 0)).toBe(counted.n);
    for (const body of [{ action: 'part_payment' }, { action: 'refund', note: 'Not ours' }, { action: 'assign', batchId: b.id, note: 'By letter' }]) {
      const r = await south.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, body);
      expect(r.statusCode, `${body.action}: ${r.body}`).toBe(404);
    }
    expect(await money()).toEqual(before);
    expect(ex.discom_id).toBe(await discomId('NBPDCL'));

    // NBPDCL's accounts team and the holding company's staff see it; NBPDCL's refunds it.
    for (const who of ['accounts.nbpdcl', 'admin.discom', 'auditor.discom']) {
      expect((await (await as(who)).get('/api/v1/discom/recon/exceptions')).body, who).toContain(utr);
    }
    const refund = await (await as('accounts.nbpdcl')).post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'refund', note: 'Payer asked for it back' });
    expect(refund.statusCode, refund.body).toBe(200);
    expect(refund.json()).toMatchObject({ outcome: 'refund' });
  });

  it('lets SBPDCL’s accounts team resolve its own exceptions, but not assign their money to an NBPDCL batch', async () => {
    const sb = await edu.batch(await edu.payable(1, 'SBPDCL'));
    const c = await edu.challan(sb.id);
    const utr = await edu.transfer(c.vaNumber, BigInt(c.amountPaise) + 7_000n, 'statement');
    const south = await as('accounts.sbpdcl');
    const imported = await importStatement(south, await statementOf(app, COLLECTION_ACCOUNT.SBPDCL));
    expect(imported.statusCode, imported.body).toBe(200);
    const ex = await exceptionOfUtr(utr);
    expect((await south.get('/api/v1/discom/recon/exceptions')).body).toContain(utr);
    expect((await (await as('accounts.nbpdcl')).get('/api/v1/discom/recon/exceptions')).body).not.toContain(utr);
    const north = await edu.batch(await edu.payable(1, 'NBPDCL'));
    const before = await money();
    const r = await south.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'assign', batchId: north.id, note: 'Payer says so' });
    expect(r.statusCode, r.body).toBe(404);
    expect(r.json<{ error: { details: { path: string }[] } }>().error.details[0]!.path).toBe('body.batchId');
    expect(await money()).toEqual(before);
    const ok = await south.post(`/api/v1/discom/recon/exceptions/${ex.id}/resolve`, { action: 'advance' });
    expect(ok.statusCode, ok.body).toBe(200);
    await edu.client.post(`/api/v1/org/payments/batches/${north.id}/cancel`, {});
  });

  it('refuses a statement of another discom’s account, naming it, and keeps statements, their lines and gateway settlements to their discom', async () => {
    const south = await as('accounts.sbpdcl');
    const before = await money();
    const r = await importStatement(south, await statementOf(app, COLLECTION_ACCOUNT.NBPDCL, 'camt053'), 'camt053');
    expect(r.statusCode).toBe(403);
    const msg = r.json<{ error: { message: { en: string; hi: string } } }>().error.message;
    expect(msg.en).toContain(`account ${COLLECTION_ACCOUNT.NBPDCL} (NBPDCL)`);
    expect(msg.en).toContain(`${COLLECTION_ACCOUNT.SBPDCL} (SBPDCL)`);
    expect(msg.hi).toContain(COLLECTION_ACCOUNT.NBPDCL);
    expect(msg.hi).toMatch(/[\u0900-\u097F]/);
    const csv = await importStatement(south, await statementOf(app, COLLECTION_ACCOUNT.NBPDCL, 'csv'), 'csv', COLLECTION_ACCOUNT.NBPDCL);
    expect(csv.statusCode).toBe(403);
    expect(await money()).toEqual(before);
    const north = await database.db.selectFrom('bank_statements').select('id').where('account', '=', COLLECTION_ACCOUNT.NBPDCL).executeTakeFirstOrThrow();
    const listed = (await south.get('/api/v1/discom/recon/statements')).json<{ items: { id: string; account: string }[] }>().items;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((s) => s.account === COLLECTION_ACCOUNT.SBPDCL)).toBe(true);
    expect((await south.get(`/api/v1/discom/recon/statements/${north.id}/lines`)).statusCode).toBe(404);
    expect((await (await as('accounts.nbpdcl')).get(`/api/v1/discom/recon/statements/${north.id}/lines`)).statusCode).toBe(200);
    const all = (await (await as('admin.discom')).get('/api/v1/discom/recon/statements')).json<{ items: { account: string }[] }>().items;
    expect(new Set(all.map((s) => s.account))).toEqual(new Set([COLLECTION_ACCOUNT.NBPDCL, COLLECTION_ACCOUNT.SBPDCL]));
    // Gateway settlements pay both discoms at once: the holding company's only.
    expect((await south.get('/api/v1/discom/recon/settlements')).statusCode).toBe(403);
    expect((await south.raw('POST', '/api/v1/discom/recon/settlements', Buffer.from('entity_id,type\n'), 'text/csv')).statusCode).toBe(403);
    expect((await (await as('admin.discom')).get('/api/v1/discom/recon/settlements')).statusCode).toBe(200);
  });

  it('keeps an SBPDCL-home registration from NBPDCL’s officer: not listed, not shown, not approved or rejected; SBPDCL’s officer decides it', async () => {
    const unknown = await new Client(app, '10.8.2.1').post('/api/v1/organisations/register', registration('Kosi Agro Foods Private Limited', 'AAKCK5555P', 'kosi.admin', 'XBPDCL'));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ error: { details: { path: string; problem: string }[] } }>().error.details).toEqual([expect.objectContaining({ path: 'body.discomCode', problem: 'unknown' })]);
    const r = await new Client(app, '10.8.2.1').post('/api/v1/organisations/register', registration('Kosi Agro Foods Private Limited', 'AAKCK5555P', 'kosi.admin', 'SBPDCL'));
    expect(r.statusCode, r.body).toBe(202);
    const orgId = (await database.db.selectFrom('organisations').select('id').where('pan', '=', 'AAKCK5555P').executeTakeFirstOrThrow()).id.toString();
    const north = await as('co.nbpdcl');
    expect((await north.get('/api/v1/discom/organisations?status=pending')).body).not.toContain('Kosi Agro');
    expect((await north.get(`/api/v1/discom/organisations/${orgId}`)).statusCode).toBe(404);
    expect((await north.post(`/api/v1/discom/organisations/${orgId}/approve`)).statusCode).toBe(404);
    expect((await north.post(`/api/v1/discom/organisations/${orgId}/reject`, { reason: 'Not known to us' })).statusCode).toBe(404);
    const row = await database.db.selectFrom('organisations').select(['status', 'decided_at']).where('id', '=', BigInt(orgId)).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', decided_at: null });
    // SBPDCL's officer and the holding company's admin see it; SBPDCL's officer approves it.
    expect((await (await as('admin.discom')).get('/api/v1/discom/organisations?status=pending')).body).toContain('Kosi Agro');
    const south = await as('co.sbpdcl');
    const queue = (await south.get('/api/v1/discom/organisations?status=pending')).json<{ organisations: { id: string; discomCode: string }[] }>().organisations;
    expect(queue.find((o) => o.id === orgId)).toMatchObject({ discomCode: 'SBPDCL' });
    expect((await south.post(`/api/v1/discom/organisations/${orgId}/approve`)).statusCode).toBe(204);
    // Approved, it holds no tag on NBPDCL's connections: NBPDCL still does not see it. An
    // organisation of the other home discom that holds tags on NBPDCL's connections, it does.
    expect((await north.get('/api/v1/discom/organisations?status=approved')).body).not.toContain('Kosi Agro');
    expect((await north.get(`/api/v1/discom/organisations/${orgId}`)).statusCode).toBe(404);
    const phed = await database.db.selectFrom('organisations as o').innerJoin('discoms as d', 'd.id', 'o.discom_id').select(['o.id', 'd.code']).where('o.department_code', '=', 'BR-PHED').executeTakeFirstOrThrow();
    expect(phed.code).toBe('SBPDCL');
    expect((await north.get(`/api/v1/discom/organisations/${phed.id}`)).statusCode).toBe(200);
  });

  it('decides nothing when a tag-request decision names another discom’s connections, and says so; “all” means the officer’s discom’s', async () => {
    const phed = await loginAs(app, 'phed.admin', '10.8.3.1');
    const phedOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-PHED').executeTakeFirstOrThrow()).id;
    const heldBy = async (code: string) =>
      (await sql<{ id: bigint }>`
        SELECT c.id FROM tags t JOIN connections c ON c.id = t.connection_id JOIN discoms d ON d.id = c.discom_id
         WHERE t.org_id = ${eduOrg} AND t.status = 'active' AND d.code = ${code}
           AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = c.id)
         ORDER BY c.id LIMIT 1`.execute(database.db)).rows[0]!.id;
    const ask = async (connectionId: bigint) => {
      const r = await phed.post('/api/v1/org/tags/transfer', { connectionId: connectionId.toString(), reason: 'Pump house handed over' });
      expect(r.statusCode, r.body).toBe(201);
      return r.json<{ tagId: string }>().tagId;
    };
    const northTag = await ask(await heldBy('NBPDCL'));
    const southTag = await ask(await heldBy('SBPDCL'));
    const tags = () => database.db.selectFrom('tags').select(['id', 'status', 'org_id']).where('connection_id', 'in', database.db.selectFrom('tags').select('connection_id').where('id', 'in', [BigInt(northTag), BigInt(southTag)])).orderBy('id').execute();
    const before = await tags();

    const north = await as('co.nbpdcl');
    const listed = (await north.get(`/api/v1/discom/tag-requests/${phedOrg}?kind=transfer`)).json<{ requests: { tagId: string }[] }>().requests.map((x) => x.tagId);
    expect(listed).toContain(northTag);
    expect(listed).not.toContain(southTag);
    for (const tagIds of [[southTag], [northTag, southTag]]) {
      const r = await north.post(`/api/v1/discom/tag-requests/${phedOrg}/decide`, { kind: 'transfer', decision: 'approve', tagIds });
      expect(r.statusCode, r.body).toBe(403);
      expect(r.json<{ error: { message: { en: string } } }>().error.message.en).toMatch(/another discom.*Nothing was decided/);
    }
    const rej = await north.post(`/api/v1/discom/tag-requests/${phedOrg}/decide`, { kind: 'transfer', decision: 'reject', tagIds: [southTag], reason: 'No' });
    expect(rej.statusCode).toBe(403);
    expect(await tags()).toEqual(before);

    // "All" is all of NBPDCL's: SBPDCL's request stays for SBPDCL's officer.
    const all = await north.post(`/api/v1/discom/tag-requests/${phedOrg}/decide`, { kind: 'transfer', decision: 'approve' });
    expect(all.json()).toEqual({ approved: 1, rejected: 0 });
    const after = await database.db.selectFrom('tags').select(['id', 'status']).where('id', 'in', [BigInt(northTag), BigInt(southTag)]).orderBy('id').execute();
    expect(after.map((t) => t.status)).toEqual(['active', 'requested']);
    const groups = (await (await as('co.sbpdcl')).get('/api/v1/discom/tag-requests')).json<{ groups: { orgId: string; transfers: number }[] }>().groups;
    expect(groups.find((g) => g.orgId === phedOrg.toString())?.transfers).toBe(1);
    const holding = await (await as('admin.discom')).post(`/api/v1/discom/tag-requests/${phedOrg}/decide`, { kind: 'transfer', decision: 'reject', tagIds: [southTag], reason: 'Handover not recorded' });
    expect(holding.json()).toEqual({ approved: 0, rejected: 1 });
  });

  it('retries nothing when the postings named include another discom’s; each discom lists its own', async () => {
    const billing = new BillingSimulator(database);
    const mixed = await edu.batch([...(await edu.payable(1, 'NBPDCL')), ...(await edu.payable(1, 'SBPDCL'))]);
    await edu.payOnline(sandbox, mixed.id);
    await billing.setDown(new Date(Date.now() + 3_600_000));
    try {
      expect((await runPostings(database.db, billing)).deferred).toBeGreaterThan(0);
      const of = async (code: string) =>
        (await database.db.selectFrom('postings as p').innerJoin('discoms as d', 'd.id', 'p.discom_id').select(['p.id', 'p.consumer_no']).where('p.batch_id', '=', BigInt(mixed.id)).where('d.code', '=', code).executeTakeFirstOrThrow());
      const n = await of('NBPDCL');
      const s = await of('SBPDCL');
      const south = await as('accounts.sbpdcl');
      const list = await south.get('/api/v1/discom/postings');
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(n.consumer_no);
      expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toContain(s.id.toString());
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM postings p JOIN discoms d ON d.id = p.discom_id WHERE p.status = 'pending' AND p.attempts > 0 AND d.code = 'SBPDCL'`.execute(database.db);
      expect(list.json<{ counts: { retrying: number } }>().counts.retrying).toBe(rows[0]!.n);
      const before = await money();
      for (const ids of [[n.id.toString()], [s.id.toString(), n.id.toString()]]) {
        const r = await south.post('/api/v1/discom/postings/retry', { ids });
        expect(r.statusCode, r.body).toBe(403);
        expect(r.json<{ error: { message: { en: string } } }>().error.message.en).toMatch(/another discom.*Nothing was retried/);
      }
      expect(await money()).toEqual(before);
      expect((await south.post('/api/v1/discom/postings/retry', { ids: [s.id.toString()] })).json()).toEqual({ retried: 1 });
      expect((await (await as('admin.discom')).post('/api/v1/discom/postings/retry', { ids: [n.id.toString()] })).json()).toEqual({ retried: 1 });
      // The three-way view of a batch of both discoms is the holding company's.
      expect((await south.get(`/api/v1/discom/recon/batches/${mixed.id}`)).statusCode).toBe(404);
      expect((await (await as('accounts.nbpdcl')).get(`/api/v1/discom/recon/batches/${mixed.id}`)).statusCode).toBe(404);
      expect((await (await as('admin.discom')).get(`/api/v1/discom/recon/batches/${mixed.id}`)).statusCode).toBe(200);
    } finally {
      await billing.setDown(null);
    }
  });

  it('shows each discom only its own collections, daily report (JSON, PDF, XLSX) and exports; the holding company both, or one on asking', async () => {
    const paid: Record<string, { utr: string; batchId: string; va: string }> = {};
    for (const code of ['NBPDCL', 'SBPDCL'] as const) {
      const b = await edu.batch(await edu.payable(1, code));
      const c = await edu.challan(b.id);
      paid[code] = { utr: await edu.transfer(c.vaNumber, c.amountPaise, 'ecollect'), batchId: b.id, va: c.vaNumber };
    }
    // What the database says each discom received today (money allocated to its connections).
    const receivedBy = async (code: string) =>
      (await sql<{ s: string }>`
        SELECT coalesce(sum(a.amount_paise), 0)::text AS s FROM allocations a JOIN payments p ON p.id = a.payment_id
          JOIN connections c ON c.id = a.connection_id JOIN discoms d ON d.id = c.discom_id
         WHERE p.status = 'captured' AND d.code = ${code}
           AND (p.captured_at AT TIME ZONE 'Asia/Kolkata')::date = (now() AT TIME ZONE 'Asia/Kolkata')::date`.execute(database.db)).rows[0]!.s;
    const north = paid.NBPDCL!;
    const south = await as('accounts.sbpdcl');

    const col = await south.get('/api/v1/discom/collections');
    expect(col.statusCode).toBe(200);
    const c = col.json<{ discom: string; totals: { amountPaise: string }; byDivision: { discom: string }[]; byDay: { online: string; rtgsNeft: string }[] }>();
    expect(c.discom).toBe('SBPDCL');
    expect(c.byDivision.length).toBeGreaterThan(0);
    expect(c.byDivision.every((d) => d.discom === 'SBPDCL')).toBe(true);
    expect(col.body).not.toContain(north.utr);
    const daily = await south.get('/api/v1/discom/recon/daily');
    expect(daily.statusCode).toBe(200);
    const d = daily.json<{ discom: string; received: { amountPaise: string }[]; settlements: unknown; openItems: { id: string }[] }>();
    expect(d.discom).toBe('SBPDCL');
    expect(d.settlements).toBeNull();
    expect(d.received.reduce((s, x) => s + BigInt(x.amountPaise), 0n).toString()).toBe(await receivedBy('SBPDCL'));
    expect(daily.body).not.toContain(north.utr);
    expect(daily.body).not.toContain(north.va);
    const sbId = await discomId('SBPDCL');
    const openSouth = await database.db.selectFrom('recon_exceptions').select('id').where('status', '=', 'open').where('discom_id', '=', sbId).execute();
    expect(d.openItems.map((i) => i.id).sort()).toEqual(openSouth.map((e) => e.id.toString()).sort());
    const xlsx = await south.get('/api/v1/discom/recon/daily.xlsx');
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const cells: string[] = [];
    wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((cell) => void cells.push(cell.text))));
    expect(cells).toContain('SBPDCL');
    expect(cells.join('|')).not.toContain(north.utr);
    expect((await south.get('/api/v1/discom/recon/daily.pdf?lang=hi')).statusCode).toBe(200);
    const csv = await south.get('/api/v1/discom/collections/export?section=by_division&format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('SBPDCL');
    expect(csv.body).not.toContain('NBPDCL');
    // Another discom's figures: refused, not shown.
    for (const url of ['/api/v1/discom/collections?discom=NBPDCL', '/api/v1/discom/recon/daily?discom=NBPDCL', '/api/v1/discom/recon/daily.xlsx?discom=NBPDCL', '/api/v1/discom/collections/export?section=by_day&format=csv&discom=NBPDCL']) {
      expect((await south.get(url)).statusCode, url).toBe(403);
    }
    // NBPDCL's accounts team sees its own; the holding company both, or one when it asks.
    const nd = (await (await as('accounts.nbpdcl')).get('/api/v1/discom/recon/daily')).json<{ received: { amountPaise: string }[] }>();
    expect(nd.received.reduce((s, x) => s + BigInt(x.amountPaise), 0n).toString()).toBe(await receivedBy('NBPDCL'));
    const holding = await as('admin.discom');
    const both = (await holding.get('/api/v1/discom/recon/daily')).json<{ discom: string | null; settlements: unknown; received: { amountPaise: string }[] }>();
    expect(both).toMatchObject({ discom: null, settlements: expect.any(Object) });
    expect(both.received.reduce((s, x) => s + BigInt(x.amountPaise), 0n)).toBe(BigInt(await receivedBy('NBPDCL')) + BigInt(await receivedBy('SBPDCL')));
    const one = (await holding.get('/api/v1/discom/collections?discom=NBPDCL')).json<{ discom: string; byDivision: { discom: string }[] }>();
    expect(one.discom).toBe('NBPDCL');
    expect(one.byDivision.every((x) => x.discom === 'NBPDCL')).toBe(true);
    const all = (await holding.get('/api/v1/discom/collections')).json<{ totals: { amountPaise: string }; byDivision: { discom: string }[] }>();
    expect(new Set(all.byDivision.map((x) => x.discom))).toEqual(new Set(['NBPDCL', 'SBPDCL']));
    const sum = (await holding.get('/api/v1/discom/collections?discom=NBPDCL')).json<{ totals: { amountPaise: string } }>().totals.amountPaise;
    expect(BigInt(all.totals.amountPaise)).toBe(BigInt(sum) + BigInt(c.totals.amountPaise));
    // Three-way views: each discom its own batches.
    expect((await south.get(`/api/v1/discom/recon/batches/${north.batchId}`)).statusCode).toBe(404);
    expect((await south.get(`/api/v1/discom/recon/batches/${paid.SBPDCL!.batchId}`)).statusCode).toBe(200);
  });

  it('shows a discom’s auditor and admin only the audit entries about their discom; the holding company’s, every entry', async () => {
    // Entries that are NBPDCL's alone: of no organisation, naming NBPDCL or written by its staff
    // (logins, NBPDCL's statement import, held credits), and those of an organisation only NBPDCL sees.
    await as('co.nbpdcl');
    await as('accounts.nbpdcl');
    const nb = await discomId('NBPDCL');
    const pending = await database.db.selectFrom('organisations').select('id').where('pan', '=', 'AAECB7777K').executeTakeFirstOrThrow();
    const northOnly = await database.db
      .selectFrom('audit_log as a')
      .select(['a.id', 'a.action', 'a.actor_label'])
      .where((eb) =>
        eb.or([
          eb.and([eb('a.org_id', 'is', null), eb.or([eb('a.discom_id', '=', nb), eb('a.actor_user_id', 'in', eb.selectFrom('users').select('id').where('discom_id', '=', nb))])]),
          eb('a.org_id', '=', pending.id),
        ]),
      )
      .execute();
    const actions = new Set(northOnly.map((e) => e.action));
    for (const a of ['auth.login', 'statement.imported', 'organisation.registered']) expect(actions, a).toContain(a);
    const seen = async (who: Client) => {
      const ids: string[] = [];
      let before: string | null = null;
      for (;;) {
        const r = await who.get(`/api/v1/discom/audit?limit=200${before ? `&before=${before}` : ''}`);
        expect(r.statusCode, r.body).toBe(200);
        const page = r.json<{ entries: { id: string; actor: string }[]; next: string | null }>();
        ids.push(...page.entries.map((e) => e.id));
        if (!page.next) return ids;
        before = page.next;
      }
    };
    const southIds = new Set(await seen(await as('admin.sbpdcl')));
    expect(southIds.size).toBeGreaterThan(0);
    expect(northOnly.filter((e) => southIds.has(e.id.toString())).map((e) => `${e.action} by ${e.actor_label}`)).toEqual([]);
    // Its own staff's logins it does see.
    const own = await database.db.selectFrom('audit_log').select('id').where('actor_label', '=', 'user:accounts.sbpdcl').where('action', '=', 'auth.login').executeTakeFirstOrThrow();
    expect(southIds).toContain(own.id.toString());
    const filtered = (await (await as('admin.sbpdcl')).get(`/api/v1/discom/audit?orgId=${pending.id}`)).json<{ entries: unknown[] }>().entries;
    expect(filtered).toEqual([]);
    const holdingIds = new Set(await seen(await as('auditor.discom')));
    expect(northOnly.every((e) => holdingIds.has(e.id.toString()))).toBe(true);
    expect(holdingIds.size).toBeGreaterThan(southIds.size);
  });

  it('lets a discom’s admin manage its own staff only; the holding company’s admin manages all and chooses each new person’s discom', async () => {
    const south = await as('admin.sbpdcl');
    const users = (await south.get('/api/v1/discom/users')).json<{ users: { id: string; loginId: string; discom: string | null; holding: boolean }[] }>().users;
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((u) => u.discom === 'SBPDCL' && !u.holding)).toBe(true);
    const staff = () => database.db.selectFrom('users').select(['id', 'role', 'status', 'name', 'discom_id', 'holding', 'password_hash']).where('org_id', 'is', null).orderBy('id').execute();
    const before = await staff();
    const co = await database.db.selectFrom('users').select('id').where('login_id', '=', 'co.nbpdcl').executeTakeFirstOrThrow();
    expect((await south.req('PATCH', `/api/v1/discom/users/${co.id}`, { name: 'Renamed' })).statusCode).toBe(404);
    for (const action of ['disable', 'enable', 'reset']) expect((await south.post(`/api/v1/discom/users/${co.id}/${action}`)).statusCode, action).toBe(404);
    for (const body of [{ discomCode: 'NBPDCL' }, { holding: true }]) {
      const r = await south.post('/api/v1/discom/users', { loginId: 'co.elsewhere', name: 'Elsewhere', mobile: '9431090001', role: 'collection_officer', ...body });
      expect(r.statusCode, r.body).toBe(403);
    }
    expect(await staff()).toEqual(before);
    const mine = await south.post('/api/v1/discom/users', { loginId: 'co.gaya', name: 'Gaya officer', mobile: '9431090002', role: 'collection_officer' });
    expect(mine.statusCode, mine.body).toBe(201);
    expect(mine.json()).toMatchObject({ discom: 'SBPDCL', holding: false });

    const holding = await as('admin.discom');
    const none = await holding.post('/api/v1/discom/users', { loginId: 'co.nowhere', name: 'Nowhere', mobile: '9431090003', role: 'collection_officer' });
    expect(none.statusCode).toBe(400);
    expect(none.json<{ error: { details: { path: string }[] } }>().error.details[0]!.path).toBe('body.discomCode');
    const nb = await holding.post('/api/v1/discom/users', { loginId: 'co.darbhanga', name: 'Darbhanga officer', mobile: '9431090004', role: 'collection_officer', discomCode: 'NBPDCL' });
    expect(nb.json()).toMatchObject({ discom: 'NBPDCL', holding: false });
    const hq = await holding.post('/api/v1/discom/users', { loginId: 'audit.hq', name: 'HQ auditor', mobile: '9431090005', role: 'auditor', holding: true });
    expect(hq.json()).toMatchObject({ discom: null, holding: true });
    const everyone = (await holding.get('/api/v1/discom/users')).json<{ users: { loginId: string }[] }>().users.map((u) => u.loginId);
    expect(everyone).toEqual(expect.arrayContaining(['co.nbpdcl', 'accounts.sbpdcl', 'admin.discom', 'co.gaya', 'co.darbhanga', 'audit.hq']));
    expect((await holding.req('PATCH', `/api/v1/discom/users/${co.id}`, { name: 'Meena Kumari' })).statusCode).toBe(200);
    // The invitation names the discom in the audit log, where that discom's staff see it.
    const invited = await database.db.selectFrom('audit_log').select(['discom_id', 'details']).where('action', '=', 'user.invited').where('target_id', '=', nb.json<{ id: string }>().id).executeTakeFirstOrThrow();
    expect(invited.discom_id).toBe(await discomId('NBPDCL'));
  });

  it('refuses in the database a discom user with neither a discom nor the holding company, or with both, and an organisation user with either', async () => {
    const nb = await discomId('NBPDCL');
    const edu = await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const base = { name: 'X', role: 'auditor' as const, status: 'invited' as const };
    for (const [loginId, values] of [
      ['bad.neither', { ...base, org_id: null, discom_id: null, holding: false }],
      ['bad.both', { ...base, org_id: null, discom_id: nb, holding: true }],
      ['bad.orgdiscom', { ...base, role: 'viewer' as const, org_id: edu.id, discom_id: nb, holding: false }],
      ['bad.orgholding', { ...base, role: 'viewer' as const, org_id: edu.id, discom_id: null, holding: true }],
    ] as const) {
      await expect(database.db.insertInto('users').values({ login_id: loginId, ...values }).execute(), loginId).rejects.toThrow(/users_discom_scope/);
    }
  });
});

describe('discomScope', () => {
  const staff = (over: Partial<UserPrincipal>): UserPrincipal => ({
    kind: 'user', userId: 1n, loginId: 'x', name: 'X', role: 'accounts', orgId: null, officeId: null, officePath: null, discomId: null, holding: false, sessionId: 's', stage: 'full', csrfToken: 'c', ...over,
  });
  it('gives a discom’s staff their discom, the holding company’s null (both), and refuses everyone else, never reading “no discom” as “all”', () => {
    expect(discomScope(staff({ discomId: 7n }))).toBe(7n);
    expect(discomScope(staff({ holding: true }))).toBeNull();
    for (const p of [staff({}), staff({ discomId: 7n, holding: true }), staff({ role: 'org_admin', orgId: 3n }), null]) {
      expect(() => discomScope(p)).toThrow(AppError);
    }
    expect(() => discomScope({ kind: 'api_key', apiKeyId: 1n, orgId: 3n, scopes: ['read'], label: 'k' })).toThrow(AppError);
  });
});

function registration(name: string, pan: string, loginId: string, discomCode: string) {
  return {
    type: 'private', name, pan, address: 'Industrial Area, Begusarai 851101', email: `accounts@${loginId.split('.')[0]}.example.in`, mobile: '9431066611', discomCode,
    admin: { loginId, name: 'Owner', password: 'Agro foods passphrase 2026' },
  };
}
