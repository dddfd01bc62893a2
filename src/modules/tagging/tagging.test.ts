import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import { buildJobRunner } from '../../jobs.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import type { JobRunner } from '../../platform/jobs.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

interface Conn {
  id: bigint;
  consumer_no: string;
  discom: string;
  bill_no: string;
  net_payable_paise: bigint;
  registered_mobile: string | null;
}

describe(`tagging on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let runner: JobRunner;
  let edu: Client;
  let phed: Client;
  let officer: Client;
  /** Each discom's collection officer: a discom's staff decide requests on its connections only. */
  const officers: Record<string, Client> = {};
  let eduConns: Conn[];
  let freeConns: Conn[];

  const latest = (where: ReturnType<typeof sql>) =>
    sql<Conn>`
      SELECT DISTINCT ON (c.id) c.id, c.consumer_no, d.code AS discom, b.bill_no, b.net_payable_paise, c.registered_mobile
        FROM connections c JOIN discoms d ON d.id = c.discom_id JOIN bills b ON b.connection_id = c.id
       WHERE ${where}
       ORDER BY c.id, b.bill_month DESC`.execute(database.db).then((r) => r.rows);

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 8, connections: 400, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({ config: testConfig({ devTools: true }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    runner = buildJobRunner(database);
    edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    phed = await new Client(app, '10.0.0.7').login('phed.admin', DEMO_PASSWORD);
    officer = await new Client(app, '10.0.0.8').login('co.nbpdcl', DEMO_PASSWORD, secretOf('co.nbpdcl'));
    officers.NBPDCL = officer;
    officers.SBPDCL = await new Client(app, '10.0.0.9').login('co.sbpdcl', DEMO_PASSWORD, secretOf('co.sbpdcl'));
    eduConns = await latest(sql`c.owner_dept_code = 'BR-EDU'`);
    freeConns = await latest(sql`c.owner_dept_code IS NULL AND c.owner_pan IS NULL AND c.registered_mobile IS NOT NULL`);
    expect(eduConns.length).toBeGreaterThan(32);
    expect(freeConns.length).toBeGreaterThan(40);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
  });

  const tagsOf = (connectionId: bigint) => database.db.selectFrom('tags').selectAll().where('connection_id', '=', connectionId).orderBy('id').execute();

  async function upload(c: Client, body: Buffer | string, opts: { type?: string; query?: string } = {}) {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/org/tag-jobs?fileName=upload${opts.query ?? ''}`,
      headers: { cookie: `sg_session=${c.cookie}`, 'x-csrf-token': c.csrf!, 'content-type': opts.type ?? 'text/csv' },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(202);
    await runner.drain();
    const job = (await c.get(`/api/v1/org/tag-jobs/${res.json().id}`)).json();
    return job as { id: string; status: string; counts: Record<string, number>; error: string | null; rowsTotal: number };
  }

  async function problems(c: Client, jobId: string) {
    return (await c.get(`/api/v1/org/tag-jobs/${jobId}/rows?outcome=problems&limit=500`)).json().rows as { rowNo: number; problem: string; message: { en: string; hi: string } }[];
  }

  async function commit(c: Client, jobId: string) {
    const r = await c.post(`/api/v1/org/tag-jobs/${jobId}/commit`);
    expect(r.statusCode, r.body).toBe(202);
    await runner.drain();
    return (await c.get(`/api/v1/org/tag-jobs/${jobId}`)).json();
  }

  it('looks a connection up with its name and address masked', async () => {
    const c = freeConns[0]!;
    const r = await edu.post('/api/v1/org/tags/lookup', { consumerNo: c.consumer_no });
    const [found] = r.json().connections;
    const full = await database.db.selectFrom('connections').select(['name', 'address']).where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(found.connectionId).toBe(c.id.toString());
    expect(found.name).not.toBe(full.name);
    expect(found.name[0]).toBe(full.name[0]);
    expect(found.name).toContain('*');
    expect(found.address.endsWith('Bihar')).toBe(true);
    expect(found.proofs).toEqual(['bill_number', 'bill_amount', 'otp']);
    expect(found.mobile).toMatch(/^\d{2}X{6}\d{2}$/);
  });

  it('tags with the latest bill’s number after refusing a wrong one, and audits both', async () => {
    const c = freeConns[1]!;
    const wrong = await edu.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'bill_number', value: '999' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('PROOF_MISMATCH');
    const ok = await edu.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'bill_number', value: c.bill_no } });
    expect(ok.statusCode).toBe(201);
    const [t] = await tagsOf(c.id);
    expect(t).toMatchObject({ status: 'active', method: 'bill_number', source: 'single' });
    const audit = await database.db.selectFrom('audit_log').select(['action', 'outcome']).where('target_type', '=', 'connection').where('target_id', '=', c.id.toString()).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'tag.tagged', outcome: 'failure' },
      { action: 'tag.tagged', outcome: 'success' },
    ]);
  });

  it('tags with the latest bill’s amount in rupees, Indian grouping allowed', async () => {
    const c = freeConns.find((x) => x.net_payable_paise > 100_000n)!;
    const rupees = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2 }).format(Number(c.net_payable_paise) / 100);
    const r = await edu.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'bill_amount', value: rupees } });
    expect(r.statusCode, r.body).toBe(201);
  });

  it('tags with a one-time code sent to the registered mobile', async () => {
    const c = freeConns[3]!;
    const sent = await edu.post(`/api/v1/org/connections/${c.id}/otp`);
    expect(sent.json().sentTo).toMatch(/X{6}/);
    const msg = await database.db.selectFrom('notifications').select('body').where('recipient', '=', c.registered_mobile!).where('purpose', '=', 'tag_otp').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const code = /\b(\d{6})\b/.exec(msg.body)![1]!;
    const bad = await edu.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'otp', code: code === '000000' ? '111111' : '000000' } });
    expect(bad.statusCode).toBe(400);
    const ok = await edu.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'otp', code } });
    expect(ok.statusCode).toBe(201);
    expect((await tagsOf(c.id)).at(-1)!.method).toBe('otp');
  });

  it('keeps a connection to one organisation: another gets a conflict, asks for a transfer, and the discom moves it', async () => {
    const c = freeConns[1]!; // tagged to Education above
    const clash = await phed.post('/api/v1/org/tags', { connectionId: c.id.toString(), proof: { type: 'bill_number', value: c.bill_no } });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error.code).toBe('TAG_CONFLICT');
    expect((await phed.post(`/api/v1/org/connections/${c.id}/otp`)).statusCode).toBe(403);
    const t = await phed.post('/api/v1/org/tags/transfer', { connectionId: c.id.toString(), reason: 'Pump house handed over to PHED' });
    expect(t.statusCode).toBe(201);
    const co = officers[c.discom]!;
    const groups = (await co.get('/api/v1/discom/tag-requests')).json().groups;
    const g = groups.find((x: { orgName: string }) => x.orgName.startsWith('Public Health'));
    expect(g.transfers).toBe(1);
    const list = (await co.get(`/api/v1/discom/tag-requests/${g.orgId}?kind=transfer`)).json();
    expect(list.requests[0]).toMatchObject({ consumerNo: c.consumer_no, holder: 'Education Department, Government of Bihar', reason: 'Pump house handed over to PHED' });
    const d = await co.post(`/api/v1/discom/tag-requests/${g.orgId}/decide`, { kind: 'transfer', decision: 'approve' });
    expect(d.json()).toEqual({ approved: 1, rejected: 0 });
    const history = await tagsOf(c.id);
    expect(history.map((h) => h.status)).toEqual(['untagged', 'active']);
    expect(history[0]!.end_reason).toMatch(/transferred/);
    expect(history[1]!.method).toBe('transfer');
    const actions = (await database.db.selectFrom('audit_log').select('action').where('action', 'like', 'tag.transfer%').execute()).map((a) => a.action);
    expect(actions).toEqual(['tag.transfer_requested', 'tag.transfers_approved']);
  });

  it('lets the database refuse a second active tag, whatever the code does', async () => {
    const c = freeConns[3]!;
    const phedOrg = await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-PHED').executeTakeFirstOrThrow();
    await expect(
      database.db.insertInto('tags').values({ org_id: phedOrg.id, connection_id: c.id, status: 'active', method: 'owner_match', source: 'single', activated_at: new Date() }).execute(),
    ).rejects.toThrow(/tags_one_active|duplicate key/);
  });

  it('untags only with a reason, and keeps the history', async () => {
    const c = freeConns[3]!;
    const [tag] = (await tagsOf(c.id)).filter((t) => t.status === 'active');
    expect((await edu.post(`/api/v1/org/tags/${tag!.id}/untag`, { reason: ' ' })).statusCode).toBe(400);
    expect((await edu.post(`/api/v1/org/tags/${tag!.id}/untag`, { reason: 'Office shut' })).statusCode).toBe(204);
    const after = await tagsOf(c.id);
    expect(after.at(-1)).toMatchObject({ status: 'untagged', end_reason: 'Office shut' });
    const listed = (await edu.get('/api/v1/org/connections?status=active&limit=500')).json().items.map((i: { consumerNo: string }) => i.consumerNo);
    expect(listed).not.toContain(c.consumer_no);
  });

  it('mass-tags a UTF-8 file with BOM, CRLF, blank rows and Hindi headers: owned rows activate, others become requests', async () => {
    const owned = eduConns.slice(0, 8);
    const others = freeConns.slice(10, 14);
    const lines = ['\uFEFFउपभोक्ता संख्या,डिस्कॉम,कार्यालय कोड', ...owned.map((c) => `${c.consumer_no},${c.discom},PATNA`), '', ',,', ...others.map((c) => `${c.consumer_no},,`)];
    const job = await upload(edu, lines.join('\r\n'));
    expect(job.status).toBe('validated');
    expect(job.counts).toMatchObject({ activate: 8, request: 4, error: 0, conflict: 0 });
    const done = await commit(edu, job.id);
    expect(done.status).toBe('committed');
    for (const c of owned) expect((await tagsOf(c.id)).at(-1)).toMatchObject({ status: 'active', method: 'owner_match', source: 'upload' });
    const patna = await database.db.selectFrom('offices').select('id').where('code', '=', 'PATNA').executeTakeFirstOrThrow();
    expect((await tagsOf(owned[0]!.id)).at(-1)!.office_id).toBe(patna.id);
    for (const c of others) expect((await tagsOf(c.id)).at(-1)!.status).toBe('requested');
    const audit = await database.db.selectFrom('audit_log').selectAll().where('action', '=', 'tag.bulk_committed').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ counts: { activate: 8, request: 4 } });

    // the same file again changes nothing
    const before = await database.db.selectFrom('tags').select(['id', 'status']).orderBy('id').execute();
    const again = await upload(edu, lines.join('\r\n'));
    expect(again.counts).toMatchObject({ activate: 0, request: 0, noop: 12 });
    await commit(edu, again.id);
    expect(await database.db.selectFrom('tags').select(['id', 'status']).orderBy('id').execute()).toEqual(before);
  });

  it('reports every kind of damaged row by line, and tags none of them', async () => {
    const zero = eduConns.slice(30).find((c) => c.consumer_no.startsWith('0') && !c.consumer_no.startsWith('00'))!;
    const good = eduConns[12]!;
    const dup = eduConns[13]!;
    const rows = [
      'consumer_no,discom,office,proof',
      `${good.consumer_no},${good.discom},,`, // 2: fine
      '1.01000001E+09,,,', // 3: scientific notation
      `${zero.consumer_no.slice(1)},,,`, // 4: lost leading zero
      '1,01,00,00,01,,,', // 5: grouped (becomes several cells; the first is "1")
      `"1,01,00,00,001",,,`, // 6: grouped digits in one cell
      '0999999999,,,', // 7: not found
      `${dup.consumer_no},,,`, // 8: first of a duplicate
      `${dup.consumer_no},,,`, // 9: duplicate
      `${eduConns[14]!.consumer_no},,NOWHERE,`, // 10: unknown office
      `${eduConns[15]!.consumer_no},,,12345`, // 11: proof mismatch
      `${freeConns[1]!.consumer_no},,,`, // 12: tagged to PHED: conflict
      `${good.consumer_no}.0,,,`, // 13: decimal
      `${good.consumer_no},UPPCL,,`, // 14: unknown discom
      `=HYPERLINK("x"),,,`, // 15: not a number
      `,${good.discom},,`, // 16: no consumer number
    ];
    const job = await upload(edu, rows.join('\n'));
    const found = await problems(edu, job.id);
    const byLine = Object.fromEntries(found.map((p) => [p.rowNo, p.problem]));
    expect(byLine).toEqual({
      3: 'scientific_notation', 4: 'lost_leading_zero', 5: 'bad_format', 6: 'grouped_number', 7: 'not_found', 9: 'duplicate_in_file',
      10: 'unknown_office', 11: 'proof_mismatch', 12: 'tagged_elsewhere', 13: 'decimal_number', 14: 'unknown_discom', 15: 'bad_format', 16: 'missing_consumer',
    });
    expect(found.find((p) => p.rowNo === 4)!.message.en).toContain(zero.consumer_no);
    for (const p of found) expect(p.message.hi).toMatch(/[\u0900-\u097F]/);
    const csv = await edu.get(`/api/v1/org/tag-jobs/${job.id}/problems.csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain("'=HYPERLINK"); // neutralised when exported again
    const tagsBefore = await database.db.selectFrom('tags').select(sql<bigint>`count(*)`.as('n')).executeTakeFirstOrThrow();
    await commit(edu, job.id);
    const tagsAfter = await database.db.selectFrom('tags').select(sql<bigint>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(tagsAfter.n - tagsBefore.n).toBe(2n); // lines 2 and 8 only
    expect((await tagsOf(zero.id)).length).toBe(0);
  });

  it('reads UTF-16 "Unicode text" (tab-separated) and Windows-1252 files', async () => {
    const [a, b, c] = eduConns.slice(16, 19);
    const text = `Consumer No\tOffice\r\n${a!.consumer_no}\tPATNA\r\n${b!.consumer_no}\tGAYA\r\n`;
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const j1 = await upload(edu, utf16, { type: 'text/plain' });
    expect(j1.counts).toMatchObject({ activate: 2, error: 0 });
    const cp1252 = Buffer.from(`Consumer No;Proof\r\n${c!.consumer_no};Caf\xe9\r\n`, 'latin1');
    const j2 = await upload(edu, cp1252);
    const p2 = await problems(edu, j2.id);
    expect(p2).toEqual([expect.objectContaining({ rowNo: 2, problem: 'proof_mismatch' })]);
    expect(p2[0]!.message.en).toContain('Café');
  });

  it('reads an XLSX upload, and flags a number stored without its leading zero', async () => {
    const zero = eduConns.filter((c) => c.consumer_no.startsWith('0'))[1]!;
    const ok = eduConns[19]!;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    ws.addRow(['CA Number', 'Discom']);
    ws.addRow([ok.consumer_no, ok.discom]);
    ws.addRow([Number(zero.consumer_no), zero.discom]); // typed as a number in Excel: the zero is gone
    ws.addRow([]);
    const buf = Buffer.from(await wb.xlsx.writeBuffer());
    const job = await upload(edu, buf, { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
    expect(job.status).toBe('validated');
    expect(job.counts).toMatchObject({ activate: 1, error: 1 });
    expect((await problems(edu, job.id))[0]).toMatchObject({ rowNo: 3, problem: 'lost_leading_zero' });
  });

  it('fails an upload cleanly when it has no consumer column, or too many rows', async () => {
    const noColumn = await upload(edu, 'name,amount\nX,1\n');
    expect(noColumn.status).toBe('failed');
    expect(noColumn.error).toMatch(/consumer number/);
    const many = `consumer_no\n${'0101000001\n'.repeat(100_001)}`;
    const tooMany = await upload(edu, many);
    expect(tooMany.status).toBe('failed');
    expect(tooMany.error).toMatch(/More than 1,00,000 rows/);
    const stored = await database.db.selectFrom('tag_job_rows').select(sql<bigint>`count(*)`.as('n')).where('job_id', '=', BigInt(tooMany.id)).executeTakeFirstOrThrow();
    expect(stored.n).toBeLessThanOrEqual(100_000n);
    expect((await edu.post(`/api/v1/org/tag-jobs/${tooMany.id}/commit`)).statusCode).toBe(409);
  });

  it('applies a commit all at once or not at all, and a job cut off by a crash runs again from the start', async () => {
    const rows = eduConns.slice(20, 26);
    const file = `consumer_no\n${rows.map((c) => c.consumer_no).join('\n')}\n`;
    // A crash mid-validation: the job is claimed and its process dies (the lease runs out).
    const res = await app.inject({ method: 'POST', url: '/api/v1/org/tag-jobs?fileName=crash.csv', headers: { cookie: `sg_session=${edu.cookie}`, 'x-csrf-token': edu.csrf!, 'content-type': 'text/csv' }, payload: file });
    const jobId = BigInt(res.json().id);
    await sql`UPDATE jobs SET status = 'running', attempts = 1, locked_until = now() - interval '1 second' WHERE kind = 'tag-job.validate' AND status = 'queued'`.execute(database.db);
    await database.db.updateTable('tag_jobs').set({ status: 'validating' }).where('id', '=', jobId).execute();
    await sql`INSERT INTO tag_job_rows (job_id, row_no, consumer_raw, consumer_no) VALUES (${jobId}, 2, 'half', 'half')`.execute(database.db);
    await runner.drain();
    const job = (await edu.get(`/api/v1/org/tag-jobs/${jobId}`)).json();
    expect(job).toMatchObject({ status: 'validated', rowsTotal: 6, counts: { activate: 6 } });

    // A failure inside the commit leaves nothing behind; once fixed, the whole file goes in.
    const poison = rows[4]!.id;
    await database.withClient((c) =>
      c.exec(`CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.connection_id = ${poison} THEN RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $$;
              CREATE TRIGGER refuse_one BEFORE INSERT ON tags FOR EACH ROW EXECUTE FUNCTION refuse_one();`),
    );
    const r = await edu.post(`/api/v1/org/tag-jobs/${jobId}/commit`);
    expect(r.statusCode).toBe(202);
    await runner.drain();
    for (const c of rows) expect(await tagsOf(c.id)).toEqual([]);
    expect((await edu.get(`/api/v1/org/tag-jobs/${jobId}`)).json().status).toBe('committing');
    await database.withClient((c) => c.exec('DROP TRIGGER refuse_one ON tags; DROP FUNCTION refuse_one();'));
    await sql`UPDATE jobs SET run_at = now() WHERE kind = 'tag-job.commit' AND status = 'queued'`.execute(database.db);
    await runner.drain();
    expect((await edu.get(`/api/v1/org/tag-jobs/${jobId}`)).json().status).toBe('committed');
    for (const c of rows) expect((await tagsOf(c.id)).map((t) => t.status)).toEqual(['active']);
  });

  it('marks rows tagged by another organisation between the check and the commit, and commits the rest', async () => {
    const [a, b, c, d] = freeConns.slice(30, 34) as [Conn, Conn, Conn, Conn];
    // a and b carry a bill proof (they activate); c and d carry none (they become requests).
    const file = `consumer_no,proof\n${a.consumer_no},${a.bill_no}\n${b.consumer_no},${b.bill_no}\n${c.consumer_no},\n${d.consumer_no},\n`;
    const job = await upload(edu, file);
    expect(job.counts).toMatchObject({ activate: 2, request: 2 });
    for (const x of [a, c]) {
      const r = await phed.post('/api/v1/org/tags', { connectionId: x.id.toString(), proof: { type: 'bill_number', value: x.bill_no } });
      expect(r.statusCode, r.body).toBe(201);
    }
    const done = await commit(edu, job.id);
    expect(done).toMatchObject({ status: 'committed', counts: { activate: 1, request: 1, conflict: 2 } });
    const late = await problems(edu, job.id);
    expect(late.map((p) => [p.rowNo, p.problem])).toEqual([[2, 'tagged_meanwhile'], [4, 'tagged_meanwhile']]);
    expect((await tagsOf(a.id)).map((t) => t.status)).toEqual(['active']); // PHED's, untouched
    expect((await tagsOf(b.id)).map((t) => t.status)).toEqual(['active']);
    expect((await tagsOf(c.id)).map((t) => t.status)).toEqual(['active']);
    expect((await tagsOf(d.id)).map((t) => t.status)).toEqual(['requested']);
    const eduOrg = (await tagsOf(b.id))[0]!.org_id;
    expect((await tagsOf(a.id))[0]!.org_id).not.toBe(eduOrg);
  });

  it('lets a discom officer approve an organisation’s requests in bulk: those on the officer’s discom’s connections', async () => {
    const edOrg = await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const pending = await database.db
      .selectFrom('tags as t')
      .innerJoin('connections as c', 'c.id', 't.connection_id')
      .innerJoin('discoms as d', 'd.id', 'c.discom_id')
      .select(['t.id', 'd.code'])
      .where('t.org_id', '=', edOrg.id)
      .where('t.status', '=', 'requested')
      .execute();
    expect(pending.length).toBeGreaterThanOrEqual(4);
    const north = pending.filter((p) => p.code === 'NBPDCL');
    const south = pending.filter((p) => p.code === 'SBPDCL');
    expect(north.length).toBeGreaterThanOrEqual(2);
    expect(south.length).toBeGreaterThanOrEqual(1);
    const list = (await officer.get(`/api/v1/discom/tag-requests/${edOrg.id}`)).json();
    expect(list.organisation.departmentCode).toBe('BR-EDU');
    expect(list.requests.map((r: { tagId: string }) => r.tagId).sort()).toEqual(north.map((p) => p.id.toString()).sort());
    expect((await edu.post(`/api/v1/discom/tag-requests/${edOrg.id}/decide`, { kind: 'tag', decision: 'approve' })).statusCode).toBe(403);
    const one = list.requests[0].tagId;
    const rej = await officer.post(`/api/v1/discom/tag-requests/${edOrg.id}/decide`, { kind: 'tag', decision: 'reject', tagIds: [one], reason: 'Bill in another name' });
    expect(rej.json()).toEqual({ approved: 0, rejected: 1 });
    // "All" is all of the officer's discom's: the other discom's requests stay for its officer.
    const d = await officer.post(`/api/v1/discom/tag-requests/${edOrg.id}/decide`, { kind: 'tag', decision: 'approve' });
    expect(d.json()).toEqual({ approved: north.length - 1, rejected: 0 });
    const left = await database.db.selectFrom('tags').select('id').where('id', 'in', south.map((p) => p.id)).where('status', '=', 'requested').execute();
    expect(left).toHaveLength(south.length);
    expect((await officers.SBPDCL!.post(`/api/v1/discom/tag-requests/${edOrg.id}/decide`, { kind: 'tag', decision: 'approve' })).json()).toEqual({ approved: south.length, rejected: 0 });
    const statuses = await database.db.selectFrom('tags').select(['status', 'decision_reason']).where('id', 'in', pending.map((p) => p.id)).execute();
    expect(statuses.filter((s) => s.status === 'active')).toHaveLength(pending.length - 1);
    expect(statuses.find((s) => s.status === 'rejected')!.decision_reason).toBe('Bill in another name');
  });

  it('untags in bulk by upload, with a reason, only what the organisation holds', async () => {
    const held = eduConns.slice(0, 3);
    const notOurs = freeConns[1]!;
    const noReason = await app.inject({ method: 'POST', url: '/api/v1/org/tag-jobs?kind=untag', headers: { cookie: `sg_session=${edu.cookie}`, 'x-csrf-token': edu.csrf!, 'content-type': 'text/csv' }, payload: 'consumer_no\n1\n' });
    expect(noReason.statusCode).toBe(400);
    const job = await upload(edu, `consumer_no\n${held.map((c) => c.consumer_no).join('\n')}\n${notOurs.consumer_no}\n`, { query: '&kind=untag&reason=Schools%20merged' });
    expect(job.counts).toMatchObject({ untag: 3, noop: 1 });
    await commit(edu, job.id);
    for (const c of held) expect((await tagsOf(c.id)).at(-1)).toMatchObject({ status: 'untagged', end_reason: 'Schools merged' });
    expect((await tagsOf(notOurs.id)).at(-1)!.status).toBe('active'); // PHED's, untouched
  });

  it('exports the tagged connections as CSV and XLSX with formula cells neutralised', async () => {
    const t = await database.db.selectFrom('tags').select('connection_id').where('status', '=', 'active').where('org_id', '=', (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id).executeTakeFirstOrThrow();
    await database.db.updateTable('connections').set({ name: '=CMD|"/c calc"!A1' }).where('id', '=', t.connection_id).execute();
    const csv = await edu.get('/api/v1/org/connections/export?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="tagged-connections-.*\.csv"/);
    expect(csv.body).toContain(`"'=CMD|""/c calc""!A1"`);
    const xlsx = await app.inject({ url: '/api/v1/org/connections/export?format=xlsx', headers: { cookie: `sg_session=${edu.cookie}` } });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const names = wb.worksheets[0]!.getColumn(3).values.map(String);
    expect(names).toContain(`'=CMD|"/c calc"!A1`);
    expect(names.some((n) => n.startsWith('='))).toBe(false);
    const listed = (await edu.get('/api/v1/org/connections?limit=500')).json().items.length;
    expect(wb.worksheets[0]!.rowCount).toBe(listed + 1);
  });
});
