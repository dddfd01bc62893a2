import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import { buildJobRunner } from '../../jobs.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue, JobRunner } from '../../platform/jobs.ts';
import { buildApp } from '../../server.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';
import { checkInvariants } from '../payments/invariants.ts';

/**
 * Issue 17, points 3 and 6: a large statement is imported in the background (202 at once, the
 * outcome the same as a small file's, read from its import), and one group's long job never
 * holds back another group's.
 */

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/statements');
const ACCOUNT = '50200011112221';
const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

interface ImportJson {
  importId: string;
  status: string;
  result: { statements: { duplicate: boolean; lines: number; counts: Record<string, number> }[]; applied: number; held: number; waiting: number } | null;
  error: { code: string; message: { en: string; hi: string }; details: { message: { en: string } }[] } | null;
}

describe(`statement imports in the background, and fair jobs, on ${engineName}`, () => {
  let database: Database;
  let app: App;
  let nb: Client;
  let sb: Client;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 29, connections: 40, asOf: new Date() });
    // Every statement is "large" here: the background path, for files of any size.
    app = await buildApp({ config: testConfig({ statementInlineBytes: 0 }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
    nb = await new Client(app, '10.0.17.1').login('accounts.nbpdcl', DEMO_PASSWORD, secretOf('accounts.nbpdcl'));
    sb = await new Client(app, '10.0.17.2').login('accounts.sbpdcl', DEMO_PASSWORD, secretOf('accounts.sbpdcl'));
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const send = (c: Client, name: string, data: Buffer) => c.raw('POST', `/api/v1/discom/recon/statements?format=csv&account=${ACCOUNT}&fileName=${name}`, data);
  const follow = async (c: Client, id: string) => (await c.get(`/api/v1/discom/recon/statement-imports/${id}`)).json<ImportJson>();

  it('answers 202 with the import at once, and the background job makes of it what a small import makes', async () => {
    const file = fs.readFileSync(path.join(FIXTURES, 'in_bank_day_morning.csv'));
    const r = await send(nb, 'morning.csv', file);
    expect(r.statusCode, r.body).toBe(202);
    const { importId, url } = r.json<{ importId: string; url: string }>();
    expect(url).toBe(`/api/v1/discom/recon/statement-imports/${importId}`);
    expect((await follow(nb, importId)).status).toBe('queued');
    // Nothing is imported before the job runs.
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM bank_statements`.execute(database.db)).rows[0]!.n).toBe(0);
    await buildJobRunner(database).drain();
    const done = await follow(nb, importId);
    expect(done.status, JSON.stringify(done.error)).toBe('done');
    expect(done.result!.statements[0]).toMatchObject({ duplicate: false, lines: 4, counts: { newCredits: 3, notApplicable: 1 } });
    // The file is let go once imported; its hash stays.
    const row = await database.db.selectFrom('statement_imports').select(['data', 'file_sha256']).where('id', '=', BigInt(importId)).executeTakeFirstOrThrow();
    expect(row.data).toBeNull();
    expect(row.file_sha256).toMatch(/^[0-9a-f]{64}$/);
    // Sent again: a duplicate, as always.
    const again = await send(nb, 'morning.csv', file);
    await buildJobRunner(database).drain();
    expect((await follow(nb, again.json<{ importId: string }>().importId)).result!.statements[0]!.duplicate).toBe(true);
    await checkInvariants(database.db);
  });

  it('keeps a refused file’s reason on its import (in English and Hindi), and another discom’s staff cannot read it', async () => {
    const r = await send(nb, 'broken.csv', Buffer.from('this is not a statement\n'));
    expect(r.statusCode).toBe(202);
    const id = r.json<{ importId: string }>().importId;
    await buildJobRunner(database).drain();
    const failed = await follow(nb, id);
    expect(failed.status).toBe('failed');
    expect(failed.error!.code).toBe('STATEMENT_INVALID');
    expect(failed.error!.message.hi.length).toBeGreaterThan(0);
    expect((await sb.get(`/api/v1/discom/recon/statement-imports/${id}`)).statusCode).toBe(404);
    // SBPDCL's staff sending NBPDCL's account's statement: refused, named, nothing stored.
    const other = await send(sb, 'other.csv', fs.readFileSync(path.join(FIXTURES, 'in_bank_day_evening.csv')));
    await buildJobRunner(database).drain();
    const refused = await follow(sb, other.json<{ importId: string }>().importId);
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'FORBIDDEN' } });
    expect(refused.error!.message.en).toContain(ACCOUNT);
  });

  it('runs one job of a group at a time, and another group’s job meanwhile', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const runner = new JobRunner(database.db, { pollMs: 20, concurrency: 2 }).register('fair.test', async (job) => {
      seen.push(`start ${String(job.payload.name)}`);
      if (job.payload.name === 'a1') await held;
      seen.push(`end ${String(job.payload.name)}`);
    });
    await enqueue(database.db, 'fair.test', { name: 'a1' }, { group: 'org:a' });
    await enqueue(database.db, 'fair.test', { name: 'a2' }, { group: 'org:a' });
    await enqueue(database.db, 'fair.test', { name: 'b1' }, { group: 'org:b' });
    runner.start();
    // b1 runs while a1 is held; a2 waits for a1.
    await expect.poll(() => seen.includes('end b1'), { timeout: 5000 }).toBe(true);
    expect(seen).not.toContain('start a2');
    release();
    await expect.poll(() => seen.includes('end a2'), { timeout: 5000 }).toBe(true);
    await runner.stop();
    expect(seen.indexOf('start a2')).toBeGreaterThan(seen.indexOf('end a1'));
  });
});
