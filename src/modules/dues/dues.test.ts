import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo, tagDemoConnections } from '../demo/seed.ts';
import { syncFromBillingSystem } from '../connections/index.ts';
import { runDailyAlerts } from './alerts.ts';
import { listDues } from './listing.ts';
import { NO_FILTER } from './query.ts';

// Noon in India on the day the demo data is "as of": statuses and buckets are fixed.
const NOW = new Date('2026-11-20T06:30:00Z');
const TODAY = '2026-11-20';

interface Row {
  connectionId: string;
  consumerNo: string;
  name: string;
  category: string;
  division: { id: string };
  office: { id: string; code: string } | null;
  balancePaise: string;
  status: string;
  dueDate: string | null;
  units: number;
  billBasis: string | null;
  flags: string[];
}
interface Page {
  rows: Row[];
  next: string | null;
  total: { count: number; outstandingPaise: string } | null;
}

const hasPdftotext = (() => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function pdfText(buf: Buffer): string {
  const f = path.join(os.tmpdir(), `sg-${process.pid}-${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(f, buf);
  try {
    return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(f);
  }
}

describe(`dues dashboard on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let edu: Client;
  let eduPatna: Client;
  let viewer: Client;
  let phed: Client;
  let eduOrg: bigint;

  /** Every row of the organisation's list, following the keyset cursor. */
  async function all(c: Client, query: string, limit = 37): Promise<Row[]> {
    const out: Row[] = [];
    let after: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const r = await c.get(`/api/v1/org/dues?limit=${limit}${query}${after ? `&after=${after}` : ''}`);
      expect(r.statusCode, r.body).toBe(200);
      const p = r.json<Page>();
      out.push(...p.rows);
      if (!p.next) return out;
      after = p.next;
    }
    throw new Error('no end of pages');
  }

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 8, connections: 600, asOf: NOW });
    await tagDemoConnections(database);
    app = await buildApp({ config: testConfig(), database, billing: new BillingSimulator(database), clock: () => NOW });
    await app.ready();
    edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    eduPatna = await new Client(app, '10.0.0.5').login('edu.patna.admin', DEMO_PASSWORD);
    viewer = await new Client(app, '10.0.0.6').login('edu.viewer', DEMO_PASSWORD);
    phed = await new Client(app, '10.0.0.7').login('phed.admin', DEMO_PASSWORD);
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('throttles').execute();
  });

  /** The organisation's connections and latest bills, straight from tags, connections and bills (not connection_dues). */
  const independent = () =>
    sql<{ id: bigint; balance: bigint; due_date: string | null; dps: bigint; rebate: bigint; net: bigint; after_due: bigint; units: number | null; basis: string | null; category: string }>`
      SELECT c.id, c.balance_paise AS balance, c.category, b.due_date, b.dps_paise AS dps, b.rebate_paise AS rebate, b.net_payable_paise AS net,
             b.payable_after_due_paise AS after_due, b.units, b.bill_basis AS basis
        FROM tags t JOIN connections c ON c.id = t.connection_id
        LEFT JOIN LATERAL (SELECT * FROM bills x WHERE x.connection_id = c.id ORDER BY x.bill_month DESC LIMIT 1) b ON true
       WHERE t.org_id = ${eduOrg} AND t.status = 'active'`.execute(database.db).then((r) => r.rows);

  it('sums the headline figures as an independent query over tags, connections and bills does', async () => {
    const res = await edu.get('/api/v1/org/dues/summary');
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json();
    const rows = await independent();
    expect(rows.length).toBeGreaterThan(30);
    const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n).toString();
    const due = rows.filter((r) => r.balance > 0n);
    const overdue = due.filter((r) => r.due_date !== null && r.due_date < TODAY);
    const upcoming = due.filter((r) => r.due_date !== null && r.due_date >= TODAY);
    const in7 = upcoming.filter((r) => r.due_date! <= '2026-11-27');
    expect(s.day).toBe(TODAY);
    expect(s.totals.connections).toBe(rows.length);
    expect(s.totals.outstandingPaise).toBe(sum(due.map((r) => r.balance)));
    expect(s.totals.overduePaise).toBe(sum(overdue.map((r) => r.balance)));
    expect(s.totals.overdueCount).toBe(overdue.length);
    expect(s.totals.due7Paise).toBe(sum(in7.map((r) => r.balance)));
    expect(s.totals.due7Count).toBe(in7.length);
    expect(s.totals.dpsChargedPaise).toBe(sum(due.map((r) => r.dps)));
    expect(s.totals.rebatePaise).toBe(sum(upcoming.map((r) => r.rebate)));
    const dpsNext = upcoming.map((r) => {
      const v = r.after_due - r.net - r.rebate;
      return v > 0n ? v : 0n;
    });
    expect(s.totals.dpsRiskPaise).toBe(sum(dpsNext));
    expect(s.totals.advancePaise).toBe(sum(rows.filter((r) => r.balance < 0n).map((r) => -r.balance)));
    // The demo has money in every figure, so none of these is vacuously zero.
    for (const k of ['outstandingPaise', 'overduePaise', 'dpsChargedPaise', 'rebatePaise', 'advancePaise']) expect(BigInt(s.totals[k]), k).toBeGreaterThan(0n);

    // The breakdowns partition the totals.
    for (const key of ['byOffice', 'byDivision', 'byCategory'] as const) {
      const parts = s[key] as { connections: number; outstandingPaise: string }[];
      expect(parts.reduce((a, p) => a + p.connections, 0)).toBe(rows.length);
      expect(sum(parts.map((p) => BigInt(p.outstandingPaise)))).toBe(s.totals.outstandingPaise);
    }
    const cats = new Map<string, number>();
    for (const r of rows) cats.set(r.category, (cats.get(r.category) ?? 0) + 1);
    for (const c of s.byCategory as { code: string; connections: number }[]) expect(c.connections).toBe(cats.get(c.code));
    const buckets = s.dueBuckets as { count: number; amountPaise: string }[];
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(due.filter((r) => r.due_date !== null).length);
    // Twelve months of billing, from the bills themselves.
    const months = await sql<{ n: bigint; billed: bigint }>`
      SELECT count(*) AS n, sum(b.current_demand_paise)::bigint AS billed FROM bills b JOIN tags t ON t.connection_id = b.connection_id AND t.status = 'active'
       WHERE t.org_id = ${eduOrg} AND b.bill_month > DATE '2025-11-01'`.execute(database.db);
    expect(s.months.length).toBe(12);
    expect(s.months.reduce((a: number, m: { bills: number }) => a + m.bills, 0)).toBe(Number(months.rows[0]!.n));
    expect(sum(s.months.map((m: { billedPaise: string }) => BigInt(m.billedPaise)))).toBe(months.rows[0]!.billed.toString());
    expect(s.freshness.lastSyncedAt).not.toBeNull();
  });

  it('answers the summary from its cache until the organisation’s dues change, then recomputes', async () => {
    const before = (await edu.get('/api/v1/org/dues/summary')).json();
    const again = (await edu.get('/api/v1/org/dues/summary')).json();
    expect(again.computedAt).toBe(before.computedAt);
    // Untag one connection (through the database's own rule path: the tag ends).
    const t = await database.db.selectFrom('tags').select(['id', 'connection_id']).where('org_id', '=', eduOrg).where('status', '=', 'active').orderBy('id').executeTakeFirstOrThrow();
    await database.db.updateTable('tags').set({ status: 'untagged', ended_at: new Date(), end_reason: 'test' }).where('id', '=', t.id).execute();
    const after = (await edu.get('/api/v1/org/dues/summary')).json();
    expect(after.totals.connections).toBe(before.totals.connections - 1);
    expect(after.computedAt).not.toBe(before.computedAt);
    const d = await database.db.selectFrom('connection_dues').select(['org_id', 'office_id']).where('connection_id', '=', t.connection_id).executeTakeFirstOrThrow();
    expect(d.org_id).toBeNull();
    // Tag it again: the holder follows.
    await database.db
      .insertInto('tags')
      .values({ org_id: eduOrg, connection_id: t.connection_id, status: 'active', method: 'owner_match', source: 'single', activated_at: new Date() })
      .execute();
    expect((await edu.get('/api/v1/org/dues/summary')).json().totals.connections).toBe(before.totals.connections);
  });

  it('shows what an incremental sync brought from the billing system, and when it ran', async () => {
    const before = (await edu.get('/api/v1/org/dues/summary')).json();
    const [r] = (await edu.get('/api/v1/org/dues?limit=1&sort=amount')).json<Page>().rows;
    const c = await database.db.selectFrom('connections as c').innerJoin('discoms as d', 'd.id', 'c.discom_id').select(['d.code', 'c.consumer_no']).where('c.id', '=', BigInt(r!.connectionId)).executeTakeFirstOrThrow();
    // The discom's billing system records a payment of the whole balance.
    await sql`UPDATE billing_sim.consumers SET balance_paise = 0, changed_at = clock_timestamp() WHERE discom_code = ${c.code} AND consumer_no = ${c.consumer_no}`.execute(database.db);
    const sync = await syncFromBillingSystem(database, new BillingSimulator(database));
    expect(sync.ran).toBe(true);
    const after = (await edu.get('/api/v1/org/dues/summary')).json();
    expect(BigInt(after.totals.outstandingPaise)).toBe(BigInt(before.totals.outstandingPaise) - BigInt(r!.balancePaise));
    expect(Date.parse(after.freshness.lastSyncedAt)).toBeGreaterThan(Date.parse(before.freshness.lastSyncedAt));
    const row = (await all(edu, `&q=${c.consumer_no}`)).find((x) => x.connectionId === r!.connectionId)!;
    expect(row.balancePaise).toBe('0');
    expect(row.status).toBe('clear');
  });

  it('pages the whole list by keyset in every sort order, without gaps or repeats', async () => {
    const n = (await independent()).length;
    for (const q of ['&sort=due', '&sort=due&desc=true', '&sort=amount', '&sort=amount&desc=true', '&sort=consumer']) {
      const rows = await all(edu, q);
      expect(rows.length, q).toBe(n);
      expect(new Set(rows.map((r) => r.connectionId)).size, q).toBe(n);
      const key = (r: Row) => (q.includes('amount') ? BigInt(r.balancePaise) : q.includes('consumer') ? r.consumerNo : (r.dueDate ?? '9999-12-31'));
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [key(rows[i - 1]!), key(rows[i]!)];
        const desc = q.includes('desc=true') !== q.includes('amount'); // amount sorts largest first by default
        if (desc) expect(a >= b, `${q} at ${i}`).toBe(true);
        else expect(a <= b, `${q} at ${i}`).toBe(true);
      }
    }
    // Unfiltered, the count and outstanding come from the summary: the same as counting the rows.
    const unfiltered = (await edu.get('/api/v1/org/dues?limit=1&total=true')).json<Page>().total!;
    expect(unfiltered.count).toBe(n);
    const rows = await independent();
    expect(unfiltered.outstandingPaise).toBe(rows.reduce((a, r) => a + (r.balance > 0n ? r.balance : 0n), 0n).toString());
    const bad = await edu.get('/api/v1/org/dues?after=not-a-cursor');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toBe('query.after');
  });

  it('filters on the server: status, due dates, amounts, category, division, office subtree, anomaly and text', async () => {
    const everything = await all(edu, '', 500);
    const check = async (query: string, pred: (r: Row) => boolean) => {
      const got = await all(edu, query);
      const want = everything.filter(pred);
      expect(want.length, `${query} selects something`).toBeGreaterThan(0);
      expect(got.map((r) => r.connectionId).sort(), query).toEqual(want.map((r) => r.connectionId).sort());
      const t = (await edu.get(`/api/v1/org/dues?limit=1&total=true${query}`)).json<Page>();
      expect(t.total!.count).toBe(want.length);
    };
    await check('&status=overdue', (r) => BigInt(r.balancePaise) > 0n && r.dueDate !== null && r.dueDate < TODAY);
    await check('&status=credit', (r) => BigInt(r.balancePaise) < 0n);
    await check('&dueFrom=2026-11-01&dueTo=2026-11-30', (r) => r.dueDate !== null && r.dueDate >= '2026-11-01' && r.dueDate <= '2026-11-30');
    await check('&minRupees=1000&maxRupees=50000.50', (r) => BigInt(r.balancePaise) >= 100000n && BigInt(r.balancePaise) <= 5000050n);
    const cat = everything[0]!.category;
    await check(`&category=${cat}`, (r) => r.category === cat);
    const div = everything[0]!.division.id;
    await check(`&divisionId=${div}`, (r) => r.division.id === div);
    await check('&anomaly=zero', (r) => r.flags.includes('zero'));
    await check('&anomaly=estimated', (r) => r.billBasis === 'average' || r.billBasis === 'provisional');
    await check('&anomaly=any', (r) => r.flags.length > 0);
    const prefix = everything[0]!.consumerNo.slice(0, 6);
    await check(`&q=${prefix}`, (r) => r.consumerNo.startsWith(prefix));
    const word = everything[0]!.name.split(' ')[0]!;
    await check(`&q=${encodeURIComponent(word.toUpperCase())}`, (r) => r.name.toLowerCase().includes(word.toLowerCase()));
    // An office filter takes the office and everything under it.
    const patna = await database.db.selectFrom('offices').select(['id', 'path']).where('org_id', '=', eduOrg).where('code', '=', 'PATNA').executeTakeFirstOrThrow();
    const under = new Set((await database.db.selectFrom('offices').select('id').where('path', 'like', `${patna.path}%`).execute()).map((o) => o.id.toString()));
    await check(`&officeId=${patna.id}`, (r) => r.office !== null && under.has(r.office.id));
    // A user placed in the Patna office sees that subtree only, whatever filter asks.
    const mine = await all(eduPatna, '');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.office && under.has(r.office.id))).toBe(true);
    expect((await eduPatna.get('/api/v1/org/dues/summary')).json().totals.connections).toBe(mine.length);
    const bad = await edu.get('/api/v1/org/dues?status=late&minRupees=abc');
    expect(bad.statusCode).toBe(400);
  });

  it('flags anomalies by the same rules in the table, the summary and the connection page, with configurable thresholds', async () => {
    const everything = await all(edu, '', 500);
    const s = (await edu.get('/api/v1/org/dues/summary')).json();
    for (const f of ['deviation', 'zero', 'estimated', 'reading_break'] as const) {
      expect(s.anomalies[f], f).toBe(everything.filter((r) => r.flags.includes(f)).length);
    }
    expect(s.totals.anomalies).toBe(everything.filter((r) => r.flags.length).length);
    expect(s.anomalies.deviation + s.anomalies.zero + s.anomalies.estimated).toBeGreaterThan(0);
    for (const r of everything.filter((x) => x.flags.length).slice(0, 15)) {
      const c = (await edu.get(`/api/v1/org/dues/connections/${r.connectionId}`)).json();
      expect(c.bills[0].flags, r.consumerNo).toEqual(r.flags);
      if (r.flags.includes('zero')) expect(c.bills[0].units).toBe(0);
    }
    // Tighter thresholds flag more bills; the rule reads them from configuration.
    const scope = { orgId: eduOrg, officePath: null };
    const count = async (lowPct: number, highPct: number) =>
      (await listDues(database.db, scope, { ...NO_FILTER, anomaly: 'deviation' }, { sort: 'due', desc: false, after: null, limit: 1, today: TODAY, thresholds: { lowPct, highPct }, withTotal: true })).total!.count;
    expect(await count(30, 10)).toBe(s.anomalies.deviation);
    expect(await count(1, 1)).toBeGreaterThan(await count(30, 10));
    expect(await count(99, 999)).toBeLessThan(await count(1, 1));
  });

  it('shows a connection with its latest bill, 12 months, payments and a bill PDF in English and Hindi; another organisation gets 404', async () => {
    const [r] = (await edu.get('/api/v1/org/dues?limit=1&sort=amount')).json<Page>().rows;
    const res = await edu.get(`/api/v1/org/dues/connections/${r!.connectionId}`);
    expect(res.statusCode, res.body).toBe(200);
    const c = res.json();
    expect(c.consumerNo).toBe(r!.consumerNo);
    expect(c.bills.length).toBe(12);
    const b = c.bills[0];
    for (const k of ['billNo', 'billMonth', 'billDate', 'dueDate', 'units', 'billBasis', 'energyChargePaise', 'fixedChargePaise', 'fuelSurchargePaise', 'electricityDutyPaise', 'meterRentPaise', 'arrearsPaise', 'dpsPaise', 'rebatePaise', 'advanceCreditPaise', 'netPayablePaise', 'payableAfterDuePaise']) {
      expect(b[k], k).not.toBeUndefined();
    }
    const db = await database.db.selectFrom('bills').select(['bill_no', 'net_payable_paise']).where('connection_id', '=', BigInt(r!.connectionId)).orderBy('bill_month', 'desc').executeTakeFirstOrThrow();
    expect(b.billNo).toBe(db.bill_no);
    expect(b.netPayablePaise).toBe(db.net_payable_paise.toString());
    for (const lang of ['en', 'hi']) {
      const pdf = await edu.get(`/api/v1/org/dues/connections/${r!.connectionId}/bills/${b.billId}.pdf?lang=${lang}`);
      expect(pdf.statusCode, pdf.body.slice(0, 300)).toBe(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
      if (hasPdftotext) {
        const text = pdfText(pdf.rawPayload);
        expect(text).toContain(c.consumerNo);
        expect(text).toContain(b.billNo);
        expect(text).toContain(lang === 'hi' ? 'शुद्ध देय' : 'Net payable by due date');
      }
    }
    expect((await phed.get(`/api/v1/org/dues/connections/${r!.connectionId}`)).statusCode).toBe(404);
    expect((await phed.get(`/api/v1/org/dues/connections/${r!.connectionId}/bills/${b.billId}.pdf`)).statusCode).toBe(404);
    expect((await edu.get(`/api/v1/org/dues/connections/${r!.connectionId}/bills/1.pdf`)).statusCode).toBe(404);
    const phedRows = await all(phed, '');
    expect(phedRows.some((x) => x.connectionId === r!.connectionId)).toBe(false);
  });

  it('stores "select all N matching" for a payment; only the maker side may, and only its own selection is readable', async () => {
    const total = (await edu.get('/api/v1/org/dues?limit=1&total=true&status=overdue')).json<Page>().total!;
    const res = await edu.post('/api/v1/org/dues/selections', { status: 'overdue' });
    expect(res.statusCode, res.body).toBe(201);
    const sel = res.json();
    expect(sel.count).toBe(total.count);
    expect(sel.outstandingPaise).toBe(total.outstandingPaise);
    const items = await database.db.selectFrom('dues_selection_items').select('connection_id').where('selection_id', '=', BigInt(sel.id)).execute();
    const overdue = (await all(edu, '&status=overdue')).map((r) => r.connectionId).sort();
    expect(items.map((i) => i.connection_id.toString()).sort()).toEqual(overdue);
    expect((await edu.get(`/api/v1/org/dues/selections/${sel.id}`)).json().count).toBe(total.count);
    expect((await phed.get(`/api/v1/org/dues/selections/${sel.id}`)).statusCode).toBe(404);
    expect((await viewer.post('/api/v1/org/dues/selections', { status: 'overdue' })).statusCode).toBe(403);
    // A Patna user's selection holds Patna's connections only.
    const p = (await eduPatna.post('/api/v1/org/dues/selections', {})).json();
    expect(p.count).toBe((await all(eduPatna, '')).length);
  });

  it('exports the filtered table as CSV, XLSX (formula-safe) and PDF', async () => {
    // A name a spreadsheet would run as a formula.
    const [victim] = (await edu.get('/api/v1/org/dues?limit=1&status=overdue')).json<Page>().rows;
    await database.db.updateTable('connections').set({ name: '=HYPERLINK("http://x.example","pay")' }).where('id', '=', BigInt(victim!.connectionId)).execute();
    await sql`SELECT refresh_connection_dues(ARRAY[${BigInt(victim!.connectionId)}]::bigint[])`.execute(database.db);
    const total = (await edu.get('/api/v1/org/dues?limit=1&total=true&status=overdue')).json<Page>().total!;

    const csv = await edu.get('/api/v1/org/dues/export?status=overdue&format=csv');
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split('\n');
    expect(lines.length).toBe(total.count + 1);
    expect(csv.body).toContain(`"'=HYPERLINK(""http://x.example"",""pay"")"`);
    const balanceCol = lines[0]!.split(',').indexOf('balance_rupees');
    expect(balanceCol).toBeGreaterThan(0);

    const xlsx = await edu.get('/api/v1/org/dues/export?status=overdue&format=xlsx');
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.rowCount).toBe(total.count + 1);
    let paise = 0n;
    let formulas = 0;
    ws.eachRow((row, i) => {
      if (i === 1) return;
      row.eachCell((cell) => {
        if (cell.type === ExcelJS.ValueType.Formula) formulas++;
      });
      paise += BigInt(Math.round(Number(row.getCell(balanceCol + 1).value) * 100));
    });
    expect(formulas).toBe(0);
    expect(paise.toString()).toBe(total.outstandingPaise);
    expect(JSON.stringify(ws.getSheetValues())).toContain("'=HYPERLINK");

    for (const lang of ['en', 'hi']) {
      const pdf = await edu.get(`/api/v1/org/dues/export?status=overdue&format=pdf&lang=${lang}`);
      expect(pdf.statusCode).toBe(200);
      expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
      if (hasPdftotext) expect(pdfText(pdf.rawPayload)).toContain(victim!.consumerNo);
    }
  });

  it('exports a statement of account for a period whose totals are the bills dated in it', async () => {
    const res = await edu.get('/api/v1/org/dues/statement?from=2026-06-01&to=2026-08-31&format=csv');
    expect(res.statusCode, res.body).toBe(200);
    const want = await sql<{ n: bigint; billed: bigint }>`
      SELECT count(*) AS n, sum(b.current_demand_paise)::bigint AS billed FROM bills b JOIN tags t ON t.connection_id = b.connection_id AND t.status = 'active'
       WHERE t.org_id = ${eduOrg} AND b.bill_date BETWEEN DATE '2026-06-01' AND DATE '2026-08-31'`.execute(database.db);
    const lines = res.body.trim().split('\n');
    const total = lines.find((l) => l.startsWith('TOTAL'))!;
    expect(lines.length).toBe(Number(want.rows[0]!.n) + 3); // header, bills, total, outstanding now
    const rupees = (want.rows[0]!.billed / 100n).toString() + '.' + (want.rows[0]!.billed % 100n).toString().padStart(2, '0');
    expect(total).toContain(`,${rupees},`);
    const xlsx = await edu.get('/api/v1/org/dues/statement?from=2026-06-01&to=2026-08-31&format=xlsx');
    expect(xlsx.statusCode).toBe(200);
    for (const lang of ['en', 'hi']) {
      const pdf = await edu.get(`/api/v1/org/dues/statement?from=2026-10-01&to=2026-11-30&format=pdf&lang=${lang}`);
      expect(pdf.statusCode, pdf.body.slice(0, 200)).toBe(200);
      if (hasPdftotext) expect(pdfText(pdf.rawPayload)).toContain(lang === 'hi' ? 'लेखा' : 'Statement of account') // pdftotext gives ि before its consonant;
    }
    const backwards = await edu.get('/api/v1/org/dues/statement?from=2026-08-31&to=2026-06-01');
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.details[0].path).toBe('query.to');
  });

  it('sends due-date and disconnection-risk alerts once a day, per office preferences, never twice for a bill and reason', async () => {
    const settings = { alertHourIst: 8, riskThresholdPaise: 100_00n };
    const patna = await database.db.selectFrom('offices').select('id').where('org_id', '=', eduOrg).where('code', '=', 'PATNA-DEO').executeTakeFirstOrThrow();
    // Only an org admin sets preferences; SMS on for Patna DEO.
    const body = { dueReminders: true, reminderDays: 15, disconnectionAlerts: true, riskThresholdRupees: '100', byEmail: true, bySms: true };
    expect((await viewer.req('PUT', `/api/v1/org/alert-preferences/${patna.id}`, body)).statusCode).toBe(403);
    expect((await phed.req('PUT', `/api/v1/org/alert-preferences/${patna.id}`, body)).statusCode).toBe(404);
    expect((await edu.req('PUT', `/api/v1/org/alert-preferences/${patna.id}`, body)).statusCode).toBe(200);
    const prefs = (await edu.get('/api/v1/org/alert-preferences')).json();
    expect(prefs.offices.find((o: { officeId: string }) => o.officeId === patna.id.toString()).prefs.bySms).toBe(true);

    const early = await runDailyAlerts(database.db, settings, new Date('2026-11-20T01:00:00Z')); // 06:30 IST
    expect(early).toMatchObject({ ran: false, reason: 'before_hour' });
    const first = await runDailyAlerts(database.db, settings, NOW);
    expect(first.ran).toBe(true);
    expect(first.alerts).toBeGreaterThan(0);
    expect(first.messages).toBeGreaterThan(0);
    const again = await runDailyAlerts(database.db, settings, NOW);
    expect(again).toMatchObject({ ran: false, reason: 'already_ran' });

    // What was alerted matches the rules, over the held bills.
    const sent = await database.db.selectFrom('alerts_sent').selectAll().where('org_id', '=', eduOrg).execute();
    const dues = await database.db.selectFrom('connection_dues').selectAll().where('org_id', '=', eduOrg).execute();
    const byConn = new Map(dues.map((d) => [d.connection_id, d]));
    for (const a of sent) {
      const d = byConn.get(a.connection_id)!;
      expect(d.bill_id).toBe(a.bill_id);
      expect(d.balance_paise > 0n).toBe(true);
      if (a.reason === 'disconnection_risk') expect(d.due_date! < TODAY).toBe(true);
      else expect(d.due_date! >= TODAY).toBe(true);
    }
    expect(sent.some((a) => a.reason === 'due_reminder')).toBe(true);
    expect(sent.some((a) => a.reason === 'disconnection_risk')).toBe(true);
    const msgs = await database.db.selectFrom('notifications').selectAll().where('purpose', '=', 'dues_alert').execute();
    expect(msgs.some((m) => m.channel === 'sms')).toBe(true);
    const maker = await database.db.selectFrom('users').select(['email', 'mobile']).where('login_id', '=', 'edu.maker').executeTakeFirstOrThrow();
    const toMaker = msgs.filter((m) => m.recipient === maker.email || m.recipient === maker.mobile);
    expect(toMaker.length).toBe(2); // one e-mail and one SMS digest for the maker's office
    expect(toMaker.find((m) => m.channel === 'email')!.body).toMatch(/बकाया|देय/);

    // The next day: the same bills are not alerted again for the same reason.
    const next = await runDailyAlerts(database.db, settings, new Date('2026-11-21T06:30:00Z'));
    expect(next.ran).toBe(true);
    const after = await database.db.selectFrom('alerts_sent').select(['bill_id', 'reason', 'run_day']).where('org_id', '=', eduOrg).execute();
    expect(after.filter((a) => a.run_day === '2026-11-21').every((a) => !sent.some((s) => s.bill_id === a.bill_id && s.reason === a.reason))).toBe(true);
    expect(new Set(after.map((a) => `${a.bill_id}|${a.reason}`)).size).toBe(after.length);
    const log = await database.db.selectFrom('audit_log').select('action').where('action', '=', 'alerts.preferences_set').execute();
    expect(log.length).toBe(1);
  });

  it('refuses a cursor of another order, a forged cursor and year 0000 with 400, and survives huge HT units', async () => {
    const byConsumer = (await edu.get('/api/v1/org/dues?limit=5&sort=consumer')).json<Page>();
    const wrong = await edu.get(`/api/v1/org/dues?limit=5&sort=due&after=${byConsumer.next}`);
    expect(wrong.statusCode).toBe(400);
    const forged = Buffer.from(JSON.stringify(['amount', false, '99999999999999999999', '1'])).toString('base64url');
    expect((await edu.get(`/api/v1/org/dues?sort=amount&after=${forged}`)).statusCode).toBe(400);
    const badDay = Buffer.from(JSON.stringify(['due', true, '2026-13-45', '1'])).toString('base64url');
    expect((await edu.get(`/api/v1/org/dues?sort=due&after=${badDay}`)).statusCode).toBe(400);
    expect((await edu.get('/api/v1/org/dues?dueFrom=0000-01-01')).statusCode).toBe(400);
    expect((await edu.get('/api/v1/org/dues/statement?from=0000-01-01&to=2026-01-01')).statusCode).toBe(400);
    // An HT bill of 3 crore units: the anomaly rule must not overflow.
    const [r] = (await edu.get('/api/v1/org/dues?limit=1')).json<Page>().rows;
    await sql`UPDATE bills SET units = 30000000 WHERE id = (SELECT bill_id FROM connection_dues WHERE connection_id = ${BigInt(r!.connectionId)})`.execute(database.db);
    await sql`SELECT refresh_connection_dues(ARRAY[${BigInt(r!.connectionId)}]::bigint[])`.execute(database.db);
    const flagged = await edu.get('/api/v1/org/dues?anomaly=deviation&limit=500');
    expect(flagged.statusCode, flagged.body.slice(0, 200)).toBe(200);
    expect(flagged.json<Page>().rows.some((x) => x.connectionId === r!.connectionId)).toBe(true);
    expect((await edu.get('/api/v1/org/dues/summary')).statusCode).toBe(200);
    expect((await edu.get(`/api/v1/org/dues/connections/${r!.connectionId}`)).statusCode).toBe(200);
  });

  it('recomputes the cached summary when an older bill is revised', async () => {
    const before = (await edu.get('/api/v1/org/dues/summary')).json();
    const old = await sql<{ id: bigint }>`
      SELECT b.id FROM bills b JOIN connection_dues d ON d.connection_id = b.connection_id
       WHERE d.org_id = ${eduOrg} AND b.id <> d.bill_id ORDER BY b.bill_month LIMIT 1`.execute(database.db);
    await sql`UPDATE bills SET status = 'paid' WHERE id = ${old.rows[0]!.id} AND status <> 'paid'`.execute(database.db);
    await sql`UPDATE bills SET status = 'unpaid' WHERE id = ${old.rows[0]!.id}`.execute(database.db);
    const after = (await edu.get('/api/v1/org/dues/summary')).json();
    expect(after.computedAt).not.toBe(before.computedAt);
  });

  it.skipIf(engineName !== 'postgres')('keeps the new holder when a refresh from the billing system waits on an untag', async () => {
    const t = await database.db.selectFrom('tags').select(['id', 'connection_id']).where('org_id', '=', eduOrg).where('status', '=', 'active').orderBy('id', 'desc').executeTakeFirstOrThrow();
    let refreshed: Promise<unknown> = Promise.resolve();
    await database.withClient(async (a) => {
      await a.exec('BEGIN');
      await a.query(`UPDATE tags SET status = 'untagged', ended_at = now(), end_reason = 'race test' WHERE id = $1`, [t.id.toString()]);
      // The refresh starts while the untag holds the dues row, and waits for it.
      refreshed = database.withClient((b) => b.query('SELECT refresh_connection_dues(ARRAY[$1]::bigint[])', [t.connection_id.toString()]));
      await new Promise((r) => setTimeout(r, 300));
      await a.exec('COMMIT');
    });
    await refreshed;
    const d = await database.db.selectFrom('connection_dues').select('org_id').where('connection_id', '=', t.connection_id).executeTakeFirstOrThrow();
    expect(d.org_id).toBeNull();
  });

  it('keeps every organisation’s monthly sums equal to the bills of the connections it holds, after all of the above', async () => {
    const got = await sql<{ org_id: bigint; month: string; bills: bigint; billed: bigint; units: bigint; paid: bigint }>`
      SELECT org_id, month, bills, billed_paise AS billed, units, paid_bills AS paid FROM dues_org_months WHERE bills <> 0 ORDER BY org_id, month`.execute(database.db);
    const want = await sql<{ org_id: bigint; month: string; bills: bigint; billed: bigint; units: bigint; paid: bigint }>`
      SELECT t.org_id, b.bill_month AS month, count(*) AS bills, sum(b.current_demand_paise)::bigint AS billed, sum(b.units)::bigint AS units,
             count(*) FILTER (WHERE b.status = 'paid') AS paid
        FROM tags t JOIN LATERAL (SELECT * FROM bills x WHERE x.connection_id = t.connection_id ORDER BY x.bill_month DESC LIMIT 12) b ON true
       WHERE t.status = 'active' GROUP BY t.org_id, b.bill_month ORDER BY t.org_id, b.bill_month`.execute(database.db);
    expect(got.rows.length).toBeGreaterThan(12);
    expect(got.rows).toEqual(want.rows);
    // An office's chart (from its rows' histories) matches its bills too.
    const patna = (await eduPatna.get('/api/v1/org/dues/summary')).json();
    const bills = await sql<{ n: bigint }>`
      SELECT count(*) AS n FROM bills b JOIN connection_dues d ON d.connection_id = b.connection_id
        JOIN offices o ON o.id = d.office_id
       WHERE d.org_id = ${eduOrg} AND o.path LIKE (SELECT path FROM offices WHERE org_id = ${eduOrg} AND code = 'PATNA') || '%'
         AND b.bill_month >= DATE '2025-12-01'`.execute(database.db);
    expect(patna.months.reduce((a: number, m: { bills: number }) => a + m.bills, 0)).toBe(Number(bills.rows[0]!.n));
  });

  it('filters by discom, names each row’s discom, and a selection by discom stores that discom’s rows only', async () => {
    const everyone = await all(edu, '', 200);
    const byCode = await sql<{ code: string; n: number }>`
      SELECT dc.code, count(*)::int AS n FROM tags t JOIN connections c ON c.id = t.connection_id JOIN discoms dc ON dc.id = c.discom_id
       WHERE t.org_id = ${eduOrg} AND t.status = 'active' GROUP BY dc.code ORDER BY dc.code`.execute(database.db);
    // The demo organisation has connections of both discoms: the filter is not vacuous.
    expect(byCode.rows.map((r) => r.code)).toEqual(['NBPDCL', 'SBPDCL']);
    let seen = 0;
    for (const { code, n } of byCode.rows) {
      const rows = await all(edu, `&discom=${code}`, 50);
      expect(rows.length, code).toBe(n);
      expect(new Set(rows.map((r) => (r as Row & { discom: string }).discom))).toEqual(new Set([code]));
      seen += rows.length;
      const counted = (await edu.get(`/api/v1/org/dues?discom=${code}&total=true&limit=1`)).json<Page>();
      expect(counted.total!.count).toBe(n);
      const sel = await edu.post('/api/v1/org/dues/selections', { discom: code });
      expect(sel.statusCode, sel.body).toBe(201);
      expect(sel.json<{ count: number }>().count).toBe(n);
      // With another filter too: both apply.
      const overdue = await all(edu, `&discom=${code}&status=overdue`, 50);
      expect(overdue.every((r) => r.status === 'overdue' && (r as Row & { discom: string }).discom === code)).toBe(true);
    }
    expect(seen).toBe(everyone.length);
    expect((await all(edu, '&discom=NOSUCH')).length).toBe(0);
    expect((await edu.get('/api/v1/org/dues?discom=nbpdcl;')).statusCode).toBe(400);
  });

  it('marks a connection an open payment holds: its reference to those who see the payment, only the fact to an office below it', async () => {
    // A Patna connection and a Gaya one in one batch: it belongs to the head office, above Patna's admin.
    const pick = (office: string) =>
      sql<{ connection_id: bigint; consumer_no: string }>`
        SELECT d.connection_id, d.consumer_no FROM connection_dues d JOIN offices o ON o.id = d.office_id
         WHERE d.org_id = ${eduOrg} AND d.balance_paise > 100000
           AND o.path LIKE (SELECT path FROM offices WHERE org_id = ${eduOrg} AND code = ${office}) || '%'
           AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
         ORDER BY d.connection_id LIMIT 1`.execute(database.db).then((r) => r.rows[0]!);
    const patna = await pick('PATNA');
    const gaya = await pick('GAYA');
    const rowOf = async (c: Client, id: bigint, consumerNo: string) =>
      (await c.get(`/api/v1/org/dues?q=${consumerNo}&limit=50`)).json<{ rows: (Row & { openBatch: { id: string | null; reference: string | null; status: string | null } | null })[] }>().rows.find((r) => r.connectionId === id.toString())!;
    expect((await rowOf(edu, patna.connection_id, patna.consumer_no)).openBatch).toBeNull();
    const made = await edu.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: patna.connection_id.toString() }, { connectionId: gaya.connection_id.toString() }] }, { 'idempotency-key': `dues-held-${Date.now()}` });
    expect(made.statusCode, made.body).toBe(201);
    const b = made.json<{ id: string; reference: string; status: string }>();

    expect((await rowOf(edu, patna.connection_id, patna.consumer_no)).openBatch).toEqual({ id: b.id, reference: b.reference, status: b.status });
    expect((await rowOf(eduPatna, patna.connection_id, patna.consumer_no)).openBatch).toEqual({ id: null, reference: null, status: null });
    const page = (await edu.get(`/api/v1/org/dues/connections/${patna.connection_id}`)).json<{ openBatch: unknown }>();
    expect(page.openBatch).toEqual({ id: b.id, reference: b.reference, status: b.status });
    const below = (await eduPatna.get(`/api/v1/org/dues/connections/${patna.connection_id}`)).json<{ openBatch: unknown }>();
    expect(below.openBatch).toEqual({ id: null, reference: null, status: null });
    // "All N matching" says how many of its rows a payment holds.
    const sel = await edu.post('/api/v1/org/dues/selections', { q: patna.consumer_no });
    expect(sel.json<{ inOpenBatch: number }>().inOpenBatch).toBe(1);
    expect((await edu.get(`/api/v1/org/dues/selections/${sel.json<{ id: string }>().id}`)).json<{ inOpenBatch: number }>().inOpenBatch).toBe(1);

    // Cancelled, the connection is free again, and says so.
    expect((await edu.post(`/api/v1/org/payments/batches/${b.id}/cancel`, { reason: 'test' })).statusCode).toBe(200);
    expect((await rowOf(edu, patna.connection_id, patna.consumer_no)).openBatch).toBeNull();
    expect((await edu.get(`/api/v1/org/dues/connections/${patna.connection_id}`)).json<{ openBatch: unknown }>().openBatch).toBeNull();
  });

  it('refuses callers without a session, and discom staff have no organisation dues', async () => {
    const anon = new Client(app, '10.0.0.9');
    expect((await anon.get('/api/v1/org/dues/summary')).statusCode).toBe(401);
    expect((await anon.get('/api/v1/org/dues')).statusCode).toBe(401);
  });
});
