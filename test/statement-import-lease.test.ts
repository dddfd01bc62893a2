import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { buildJobRunner } from '../src/jobs.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';

/** Issue 17 review: a statement import longer than the job lease runs once (the runner renews the lease; the import row is claimed by the job attempt); a requester demoted before the job runs imports nothing. */
const ACCOUNT = '50200011112221';
const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;
const rupees = (p: number) => (p / 100).toFixed(2);

function bigCsv(n: number): Buffer {
  const head = [
    '\ufeffAccount Name :,NORTH BIHAR POWER DISTRIBUTION CO LTD COLLECTIONS',
    `Account Number :,="${ACCOUNT}"`,
    'IFS Code :,SBIN0000152',
    'Statement From :,12/11/2026 to 12/11/2026',
    '',
    'Txn Date,Value Date,Description,Ref No./Cheque No.,Debit,Credit,Balance',
  ];
  let bal = 100_000_00;
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const amt = 100_00 + i;
    bal += amt;
    const utr = `SBINN5202611${String(500000 + i).padStart(7, '0')}`;
    rows.push(`12/11/2026,12/11/2026,NEFT CR-SBIN0001234-PAYER ${i}-${utr},${utr},,${rupees(amt)},${rupees(bal)}`);
  }
  return Buffer.from([...head, ...rows].join('\n') + '\n');
}

describe(`statement import past its lease, and a requester who lost the right, on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let nb: Client;
  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 29, connections: 20, asOf: new Date() });
    app = await buildApp({ config: testConfig({ statementInlineBytes: 0 }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    nb = await new Client(app, '10.0.17.1').login('accounts.nbpdcl', DEMO_PASSWORD, secretOf('accounts.nbpdcl'));
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('runs a statement import longer than the job lease once: the runner renews the lease, and the outcome is the import, not a duplicate', async () => {
    const r = await nb.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=${ACCOUNT}&fileName=big.csv`, bigCsv(4000));
    expect(r.statusCode, r.body).toBe(202);
    const id = r.json<{ importId: string }>().importId;
    const runner = buildJobRunner(database, { leaseMs: 300, pollMs: 20, concurrency: 2 });
    runner.start();
    await expect.poll(async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued','running')`.execute(database.db)).rows[0]!.n, { timeout: 120_000, interval: 200 }).toBe(0);
    await runner.stop();
    const job = (await sql<{ attempts: number; status: string }>`SELECT attempts, status FROM jobs WHERE kind = 'statement.import'`.execute(database.db)).rows;
    const audits = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'statement.imported'`.execute(database.db)).rows[0]!.n;
    const imp = (await nb.get(`/api/v1/discom/recon/statement-imports/${id}`)).json<{ status: string; result: { statements: { duplicate: boolean; lines: number }[]; applied: number } | null }>();
    expect(job[0]!.attempts).toBe(1);
    expect(audits).toBe(1);
    expect(imp.status).toBe('done');
    expect(imp.result!.statements[0]!.duplicate).toBe(false);
  }, 180_000);

  it('imports nothing for a user demoted from accounts to auditor before the job runs, and says why', async () => {
    const r = await nb.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=${ACCOUNT}&fileName=demoted.csv`, bigCsv(3).toString().replace(/SBINN5202611/g, 'SBINN5202612').replace('12/11/2026 to', '13/11/2026 to') as unknown as Buffer);
    expect(r.statusCode, r.body).toBe(202);
    const id = r.json<{ importId: string }>().importId;
    await sql`UPDATE users SET role = 'auditor' WHERE login_id = 'accounts.nbpdcl'`.execute(database.db);
    await buildJobRunner(database).drain();
    const row = (await sql<{ status: string; result: unknown; error: unknown }>`SELECT status, result, error FROM statement_imports WHERE id = ${BigInt(id)}`.execute(database.db)).rows[0]!;
    expect(row).toMatchObject({ status: 'failed', result: null, error: { code: 'FORBIDDEN' } });
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM bank_statements WHERE file_name = 'demoted.csv'`.execute(database.db)).rows[0]!.n).toBe(0);
    await sql`UPDATE users SET role = 'accounts' WHERE login_id = 'accounts.nbpdcl'`.execute(database.db);
  }, 120_000);
});
