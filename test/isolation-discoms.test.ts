import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import type { SandboxGateway } from '../src/adapters/gateway/sandbox.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { runPostings } from '../src/modules/payments/index.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { COLLECTION_ACCOUNT, Payer, appWithSandbox, importStatement, loginAs, statementOf } from './helpers/discoms.ts';
import { Client } from './helpers/http.ts';
import { exampleBody, fill, isPublic, routes as allRoutes, type Route } from './helpers/routes.ts';

/**
 * Discom against discom, across every route of the OpenAPI document (decision 0010). Objects of
 * discom A (NBPDCL) are made: an organisation whose home discom is NBPDCL and whose connections
 * are all NBPDCL's, its pending sister registration, its batches paid by RTGS/NEFT (exactly,
 * short) and online, an exception on its batch and one to an unknown NBPDCL virtual account,
 * NBPDCL's statement, postings waiting on the billing system, a transfer request, NBPDCL's own
 * staff. Then SBPDCL's staff (admin, accounts, collection officer) call every non-public route,
 * with A's ids in paths and request bodies: each answers 403 or 404, or (a read) 200 showing
 * nothing of A, and the database is unchanged. A new route is walked without anyone
 * remembering it; a path parameter this test cannot fill fails it.
 */

const A = { name: 'Tirhut Dairy Cooperative Limited', pan: 'AAATT4321D', admin: 'tirhut.admin' };
const A2 = { name: 'Mithila Makhana Producers Limited', pan: 'AAHCM8765F', admin: 'mithila.admin' };
const PASSWORD = 'Tirhut dairy passphrase 2026';
const WALKERS = ['admin.sbpdcl', 'accounts.sbpdcl', 'co.sbpdcl'];

describe(`discom against discom across every route on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let sandbox: SandboxGateway;
  const billing = () => new BillingSimulator(database);
  /** Values of A for each path parameter and body field (several for some: each is tried). */
  const ids: Record<string, string[]> = {};
  const markers: string[] = [];
  let statementFile: Buffer;
  let settlementReport: Buffer;
  const walkers: Record<string, Client> = {};
  /** The UTRs of A's exceptions (the short credit on A's batch, the stray credit to an NBPDCL virtual account). */
  const heldUtrs: string[] = [];

  const register = async (who: typeof A, ip: string) => {
    const r = await new Client(app, ip).post('/api/v1/organisations/register', {
      type: 'private', name: who.name, pan: who.pan, address: 'Dairy Road, Muzaffarpur 842001', email: `office@${who.admin.split('.')[0]}.example.in`, mobile: '9431077001', discomCode: 'NBPDCL',
      admin: { loginId: who.admin, name: 'Secretary', password: PASSWORD },
    });
    expect(r.statusCode, r.body).toBe(202);
    return (await database.db.selectFrom('organisations').select('id').where('pan', '=', who.pan).executeTakeFirstOrThrow()).id.toString();
  };

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 6, connections: 600, asOf: new Date() });
    await tagDemoConnections(database);
    ({ app, sandbox } = await appWithSandbox(database));
    const { db } = database;
    const coN = await loginAs(app, 'co.nbpdcl', '10.9.0.1');
    const accountsN = await loginAs(app, 'accounts.nbpdcl', '10.9.0.2');

    // A: registered with NBPDCL, approved by NBPDCL's officer, its connections all NBPDCL's.
    const orgA = await register(A, '10.9.1.1');
    expect((await coN.post(`/api/v1/discom/organisations/${orgA}/approve`)).statusCode).toBe(204);
    const orgA2 = await register(A2, '10.9.1.2');
    const admin = await new Client(app, '10.9.1.3').login(A.admin, PASSWORD);
    const { rows: free } = await sql<{ id: bigint; consumer_no: string; bill_no: string }>`
      SELECT DISTINCT ON (c.id) c.id, c.consumer_no, b.bill_no FROM connections c JOIN discoms d ON d.id = c.discom_id JOIN bills b ON b.connection_id = c.id
       WHERE d.code = 'NBPDCL' AND c.owner_pan IS NULL AND c.owner_dept_code IS NULL AND c.balance_paise > 200000
         AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = c.id AND t.status IN ('active', 'requested'))
       ORDER BY c.id, b.bill_month DESC LIMIT 5`.execute(db);
    expect(free.length).toBe(5);
    const tagIds: string[] = [];
    for (const c of free) {
      const t = await admin.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'bill_number', value: c.bill_no } });
      expect(t.statusCode, t.body).toBe(201);
      tagIds.push(t.json<{ tagId: string }>().tagId);
      markers.push(c.consumer_no);
    }
    const a = new Payer(app, database, admin, BigInt(orgA));
    // Paid exactly by RTGS/NEFT (e-collect): receipts and postings. Short, told by the statement only: an exception.
    const paid = await a.batch(await a.payable(2, 'NBPDCL'));
    const paidChallan = await a.challan(paid.id);
    const paidUtr = await a.transfer(paidChallan.vaNumber, paidChallan.amountPaise, 'ecollect', 'TIRHUT DAIRY');
    const short = await a.batch(await a.payable(1, 'NBPDCL'));
    const shortChallan = await a.challan(short.id);
    const shortUtr = await a.transfer(shortChallan.vaNumber, BigInt(shortChallan.amountPaise) - 10_000n, 'statement', 'TIRHUT DAIRY');
    const strayVa = `NBPD${String(987_654_321).padStart(10, '0')}0`;
    const strayUtr = await a.transfer(strayVa, 77_700n, 'statement', 'STRAY PAYER');
    const imported = await importStatement(accountsN, await statementOf(app, COLLECTION_ACCOUNT.NBPDCL));
    expect(imported.statusCode, imported.body).toBe(200);
    const statementId = imported.json<{ statements: { id: string }[] }>().statements[0]!.id;
    const statement = await db.selectFrom('bank_statements').select('statement_ref').where('id', '=', BigInt(statementId)).executeTakeFirstOrThrow();
    const exceptions = await db.selectFrom('recon_exceptions as e').innerJoin('bank_credits as c', 'c.id', 'e.credit_id').select(['e.id', 'c.utr']).where('c.utr', 'in', [shortUtr, strayUtr]).execute();
    expect(exceptions).toHaveLength(2);
    heldUtrs.push(shortUtr, strayUtr);
    // Paid online: a settlement report for the walk to send.
    const online = await a.batch(await a.payable(1, 'NBPDCL'));
    await a.payOnline(sandbox, online.id);
    const settled = await app.inject({ method: 'POST', url: '/sandbox/razorpay/settlements', payload: { before: new Date(Date.now() + 60_000).toISOString() } });
    expect(settled.statusCode, settled.body).toBe(200);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    settlementReport = (await app.inject({ method: 'GET', url: `/sandbox/razorpay/settlements/report?from=${from}&to=${to}` })).rawPayload;
    expect(settlementReport.toString()).toContain('pay_');
    // A credit booked after the import: a statement not yet imported, for the walk to try.
    await a.transfer(`NBPD${String(987_654_322).padStart(10, '0')}0`, 88_800n, 'statement', 'LATE PAYER');
    statementFile = await statementOf(app, COLLECTION_ACCOUNT.NBPDCL);
    // Postings waiting on the billing system (tried once), as the postings page lists them.
    await billing().setDown(new Date(Date.now() + 3_600_000));
    await runPostings(db, billing());
    await billing().setDown(null);
    const postings = await db.selectFrom('postings').select('id').where('org_id', '=', BigInt(orgA)).where('attempts', '>', 0).execute();
    expect(postings.length).toBeGreaterThan(0);
    // A transfer request of a connection another organisation holds (NBPDCL's).
    const held = (await sql<{ id: bigint; consumer_no: string }>`
      SELECT c.id, c.consumer_no FROM tags t JOIN connections c ON c.id = t.connection_id JOIN discoms d ON d.id = c.discom_id
       WHERE t.status = 'active' AND d.code = 'NBPDCL' AND t.org_id <> ${orgA} ORDER BY c.id LIMIT 1`.execute(db)).rows[0]!;
    const transfer = await admin.post('/api/v1/org/tags/transfer', { connectionId: held.id.toString(), reason: 'Chilling plant handed over to the dairy' });
    expect(transfer.statusCode, transfer.body).toBe(201);
    // Objects of A's own pages (refused to discom staff by role, but filled with A's values).
    const key = (await admin.post('/api/v1/org/api-keys', { name: 'Dairy ERP', scopes: ['read', 'pay'] })).json<{ apiKey: { id: string } }>().apiKey;
    const job = await app.inject({ method: 'POST', url: '/api/v1/org/tag-jobs?fileName=a.csv', headers: { cookie: `sg_session=${admin.cookie}`, 'x-csrf-token': admin.csrf!, 'content-type': 'text/csv' }, payload: `consumer_no\n${free[0]!.consumer_no}\n` });
    expect(job.statusCode).toBe(202);
    const selection = await admin.post('/api/v1/org/dues/selections', {});
    expect(selection.statusCode, selection.body).toBe(201);
    const office = await db.selectFrom('offices').select('id').where('org_id', '=', BigInt(orgA)).executeTakeFirstOrThrow();
    const adminUser = await db.selectFrom('users').select('id').where('login_id', '=', A.admin).executeTakeFirstOrThrow();
    const staff = await db.selectFrom('users').select(['id', 'login_id', 'name']).where('login_id', 'in', ['co.nbpdcl', 'accounts.nbpdcl', 'admin.nbpdcl']).execute();
    const receipt = await db.selectFrom('receipts').select('id').where('batch_id', '=', BigInt(paid.id)).executeTakeFirstOrThrow();
    const bill = await db.selectFrom('bills').select('id').where('connection_id', '=', free[0]!.id).orderBy('bill_month', 'desc').executeTakeFirstOrThrow();
    const attempt = await db.selectFrom('payment_attempts').select('id').where('batch_id', '=', BigInt(online.id)).executeTakeFirstOrThrow();
    const batches = [paid, short, online];
    // A large statement of NBPDCL's sent for the background (its import, not yet run).
    const nbUser = staff.find((s) => s.login_id === 'accounts.nbpdcl')!;
    const nbDiscom = await db.selectFrom('discoms').select('id').where('code', '=', 'NBPDCL').executeTakeFirstOrThrow();
    const pendingImport = await db
      .insertInto('statement_imports')
      .values({ requested_by: nbUser.id, discom_id: nbDiscom.id, file_name: 'nbpdcl-large.sta', file_sha256: '0'.repeat(64), file_bytes: statementFile.length, data: statementFile })
      .returning('id')
      .executeTakeFirstOrThrow();

    Object.assign(ids, {
      orgId: [orgA, orgA2],
      exceptionId: exceptions.map((e) => e.id.toString()),
      statementId: [statementId],
      importId: [pendingImport.id.toString()],
      batchId: batches.map((b) => b.id),
      userId: [...staff.map((s) => s.id.toString()), adminUser.id.toString()],
      officeId: [office.id.toString()],
      keyId: [key.id],
      connectionId: [free[0]!.id.toString()],
      tagId: [tagIds[0]!],
      tagIds: [transfer.json<{ tagId: string }>().tagId],
      ids: postings.map((p) => p.id.toString()),
      jobId: [job.json<{ id: string }>().id],
      selectionId: [selection.json<{ id: string }>().id],
      receiptId: [receipt.id.toString()],
      billId: [bill.id.toString()],
      attemptId: [attempt.id.toString()],
      code: ['NBPDCL'],
      discomCode: ['NBPDCL'],
    });
    markers.push(
      A.name, A2.name, A.admin, A2.admin, paidUtr, shortUtr, strayUtr, paidChallan.vaNumber, shortChallan.vaNumber, strayVa, ...batches.map((b) => b.reference),
      statement.statement_ref, COLLECTION_ACCOUNT.NBPDCL, 'TIRHUT', held.consumer_no, ...staff.flatMap((s) => [s.login_id, s.name]),
    );
    for (const w of WALKERS) walkers[w] = await loginAs(app, w, `10.9.2.${WALKERS.indexOf(w) + 1}`);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const routes = () => allRoutes(app);
  /** Routes that act on the caller's own account alone (password, second factor, logout): no ids of anyone's to try. */
  const SELF = (r: Route) => r.path.startsWith('/api/v1/auth/');
  const RAW_BODY: Record<string, () => { data: Buffer; type: string; query: string }> = {
    'POST /api/v1/discom/recon/statements': () => ({ data: statementFile, type: 'application/octet-stream', query: '?format=mt940&fileName=nbpdcl.sta' }),
    'POST /api/v1/discom/recon/settlements': () => ({ data: settlementReport, type: 'text/csv', query: '?fileName=report.csv' }),
  };
  /** Required query parameters of a route, where it has some. */
  const QUERY: Record<string, string> = { '/api/v1/discom/collections/export': '?section=by_day&format=csv' };
  /** More reads of the list routes: other filters, and A's organisation or another discom named in the query. */
  const MORE_READS = [
    '/api/v1/discom/organisations?status=approved', '/api/v1/discom/organisations?status=rejected', '/api/v1/discom/organisations?status=pending&q=tirhut',
    '/api/v1/discom/recon/exceptions?status=resolved', '/api/v1/discom/recon/exceptions?status=open&limit=200',
    '/api/v1/discom/audit?limit=200', '/api/v1/discom/audit?actor=nbpdcl', '/api/v1/discom/audit?action=statement.', '/api/v1/discom/audit?action=credit.',
    '/api/v1/discom/collections?discom=NBPDCL', '/api/v1/discom/recon/daily?discom=NBPDCL', '/api/v1/discom/recon/daily.xlsx?discom=NBPDCL', '/api/v1/discom/recon/daily.pdf?discom=NBPDCL',
    '/api/v1/discom/collections/export?section=top_dues&format=csv', '/api/v1/discom/collections/export?section=by_division&format=csv',
  ];

  /** Every way of filling the path with A's values. */
  function urls(path: string): string[] {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    let combos: Record<string, string>[] = [{}];
    for (const n of names) {
      const vals = ids[n];
      if (!vals?.length) throw new Error(`No fixture for path parameter {${n}} in ${path}: add one to this test`);
      combos = combos.flatMap((c) => vals.map((v) => ({ ...c, [n]: v })));
    }
    return combos.map((c) => fill(path, c));
  }

  /** The example body with every id field, `ids`, `tagIds` and `discomCode` set to A's (each value of A's in turn). */
  function bodies(body: unknown): unknown[] {
    const fields = new Set<string>();
    const find = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(find);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (/Ids?$|^ids$|^discomCode$/.test(k)) fields.add(k);
          else find(x);
        }
      }
    };
    find(body);
    const swap = (v: unknown, pick: (k: string) => string | undefined): unknown => {
      if (Array.isArray(v)) return v.map((x) => swap(x, pick));
      if (!v || typeof v !== 'object') return v;
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => {
          const name = k === 'parentId' ? 'officeId' : k;
          const val = fields.has(k) ? pick(name) : undefined;
          if (val === undefined) return [k, swap(x, pick)];
          return [k, Array.isArray(x) ? (name === 'ids' || name === 'tagIds' ? ids[name] : [val]) : val];
        }),
      );
    };
    const longest = Math.max(1, ...[...fields].map((f) => ids[f === 'parentId' ? 'officeId' : f]?.length ?? 1));
    return Array.from({ length: longest }, (_, i) => swap(body, (name) => ids[name]?.[Math.min(i, (ids[name]?.length ?? 1) - 1)]));
  }

  async function snapshot() {
    const { db } = database;
    const count = (t: 'statement_lines' | 'ledger_entries' | 'one_time_codes' | 'notifications' | 'sessions') => db.selectFrom(t).select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    const [users, orgs, tags, exceptions, credits, statements, settlements, payments, postings, batches, challans, keys, audit, lines, ledger, codes, notes] = await Promise.all([
      db.selectFrom('users').select(['id', 'role', 'status', 'name', 'discom_id', 'holding', 'office_id', 'password_hash']).orderBy('id').execute(),
      db.selectFrom('organisations').select(['id', 'status', 'discom_id', 'decided_at', 'decision_reason']).orderBy('id').execute(),
      db.selectFrom('tags').select(['id', 'status', 'org_id', 'decided_at']).orderBy('id').execute(),
      db.selectFrom('recon_exceptions').select(['id', 'status', 'resolution', 'discom_id']).orderBy('id').execute(),
      db.selectFrom('bank_credits').select(['id', 'status', 'payment_id', 'challan_id', 'discom_id']).orderBy('id').execute(),
      db.selectFrom('bank_statements').select(['id', 'statement_ref']).orderBy('id').execute(),
      db.selectFrom('gateway_settlements').select(['settlement_id', 'statement_line_id']).orderBy('settlement_id').execute(),
      db.selectFrom('payments').select(['id', 'status', 'settlement_id', 'fee_paise']).orderBy('id').execute(),
      db.selectFrom('postings').select(['id', 'status', 'attempts', 'next_attempt_at']).orderBy('id').execute(),
      db.selectFrom('payment_batches').select(['id', 'status']).orderBy('id').execute(),
      db.selectFrom('challans').select(['id', 'status', 'valid_until']).orderBy('id').execute(),
      db.selectFrom('api_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
      // Refusals are audited (access.*): the walk being recorded is not a change.
      db.selectFrom('audit_log').select(sql<string>`coalesce(max(id), 0)::text`.as('last')).where('action', 'not like', 'access.%').executeTakeFirstOrThrow(),
      count('statement_lines'), count('ledger_entries'), count('one_time_codes'), count('notifications'),
    ]);
    return { users, orgs, tags, exceptions, credits, statements, settlements, payments, postings, batches, challans, keys, audit, lines, ledger, codes, notes };
  }

  it('walks every /api/v1/discom/ route, and every other non-public route but the caller’s own account’s', () => {
    const all = routes();
    const discom = all.filter((r) => r.path.startsWith('/api/v1/discom/'));
    expect(discom.length).toBeGreaterThanOrEqual(25);
    // The routes left out take nothing of anyone else's: no path parameter, no id in the body.
    for (const r of all.filter((x) => !isPublic(x.op) && SELF(x))) {
      expect(r.path, `${r.method} ${r.path}`).not.toMatch(/\{\w+\}/);
      expect(JSON.stringify(exampleBody(r.method, r.path, r.op) ?? {}), `${r.method} ${r.path}`).not.toMatch(/Ids?"|"ids"|discom/i);
    }
  });

  it('gives SBPDCL’s staff 403 or 404 on NBPDCL’s objects, or a read showing nothing of them, and changes nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let calls = 0;
    const check = (who: string, method: string, url: string, res: { statusCode: number; body: string }) => {
      calls++;
      const { statusCode: code, body } = res;
      if (method === 'GET' && code === 200) {
        for (const m of markers) if (body.includes(m)) failures.push(`${who} ${method} ${url}: 200 shows "${m}"`);
      } else if (![403, 404].includes(code)) {
        failures.push(`${who} ${method} ${url}: ${code} ${body.slice(0, 160)}`);
      }
    };
    for (const [who, c] of Object.entries(walkers)) {
      for (const r of routes()) {
        if (isPublic(r.op) || SELF(r)) continue;
        const raw = RAW_BODY[`${r.method} ${r.path}`];
        for (const url of urls(r.path)) {
          if (raw) {
            const x = raw();
            check(who, r.method, url, await c.raw(r.method as 'POST', `${url}${x.query}`, x.data, x.type));
            continue;
          }
          const example = exampleBody(r.method, r.path, r.op);
          for (const body of example === undefined ? [undefined] : bodies(example)) {
            check(who, r.method, url, await c.req(r.method as 'GET', `${url}${QUERY[r.path] ?? ''}`, body));
          }
          // The decision on A's transfer request, as a transfer.
          if (r.path.endsWith('/decide')) check(who, r.method, url, await c.req('POST', url, { kind: 'transfer', decision: 'approve', tagIds: ids.tagIds }));
        }
      }
      for (const url of MORE_READS) check(who, 'GET', url, await c.get(url));
      for (const orgId of ids.orgId!) check(who, 'GET', `/api/v1/discom/audit?orgId=${orgId}`, await c.get(`/api/v1/discom/audit?orgId=${orgId}`));
    }
    expect(calls).toBeGreaterThan(300);
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('shows NBPDCL’s own staff and the holding company’s what SBPDCL’s could not see (the markers are real)', async () => {
    const north = await loginAs(app, 'admin.nbpdcl', '10.9.3.1');
    const holding = await loginAs(app, 'admin.discom', '10.9.3.2');
    for (const c of [north, holding]) {
      expect((await c.get('/api/v1/discom/organisations?status=approved')).body).toContain(A.name);
      expect((await c.get('/api/v1/discom/organisations?status=pending')).body).toContain(A2.name);
      const ex = (await c.get('/api/v1/discom/recon/exceptions')).body;
      for (const utr of heldUtrs) expect(ex).toContain(utr);
      expect((await c.get(`/api/v1/discom/recon/statements/${ids.statementId![0]}/lines`)).statusCode).toBe(200);
      expect((await c.get(`/api/v1/discom/recon/batches/${ids.batchId![0]}`)).statusCode).toBe(200);
      expect((await c.get('/api/v1/discom/users')).body).toContain('accounts.nbpdcl');
      expect((await c.get(`/api/v1/discom/audit?orgId=${ids.orgId![0]}`)).json<{ entries: unknown[] }>().entries.length).toBeGreaterThan(0);
    }
  });
});
