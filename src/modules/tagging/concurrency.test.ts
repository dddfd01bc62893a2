import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/config.ts';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import { Client } from '../../../test/helpers/http.ts';
import { BillingSimulator } from '../../adapters/billing-system/simulator.ts';
import { buildJobRunner } from '../../jobs.ts';
import type { App } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { buildApp } from '../../server.ts';
import { DEMO_PASSWORD } from '../demo/people.ts';
import { seedDemo } from '../demo/seed.ts';

/**
 * Real concurrency needs real connections: PostgreSQL only (PGlite has one session).
 * Two organisations upload files naming the same connections and commit at the same moment,
 * each commit in its own process-like runner; the unique index on active tags decides.
 */
describe.runIf(engineName === 'postgres')('concurrent mass tagging on PostgreSQL', () => {
  let database: Database;
  let app: App;

  beforeAll(async () => {
    database = await freshDatabase({ poolMax: 10 });
    await seedDemo(database, { seed: 12, connections: 600, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({ config: testConfig(), database, billing: new BillingSimulator(database), clock: () => new Date() });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('lets exactly one organisation win each connection when two commit conflicting uploads at once', async () => {
    const edu = await new Client(app).login('edu.admin', DEMO_PASSWORD);
    const phed = await new Client(app, '10.1.1.1').login('phed.admin', DEMO_PASSWORD);
    // Both lists carry a proof (the latest bill number), so every row would activate for either.
    const { rows: conns } = await sql<{ consumer_no: string; bill_no: string }>`
      SELECT DISTINCT ON (c.id) c.consumer_no, b.bill_no FROM connections c JOIN bills b ON b.connection_id = c.id
       WHERE c.consumer_no NOT LIKE '9%' ORDER BY c.id, b.bill_month DESC LIMIT 300`.execute(database.db);
    const file = `consumer_no,proof\n${conns.map((c) => `${c.consumer_no},${c.bill_no}`).join('\n')}\n`;
    const upload = async (c: Client) => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/org/tag-jobs?fileName=race.csv',
        headers: { cookie: `sg_session=${c.cookie}`, 'x-csrf-token': c.csrf!, 'content-type': 'text/csv' },
        payload: file,
      });
      return r.json().id as string;
    };
    const [a, b] = [await upload(edu), await upload(phed)];
    await buildJobRunner(database).drain();
    for (const id of [a, b]) {
      const j = await database.db.selectFrom('tag_jobs').selectAll().where('id', '=', BigInt(id)).executeTakeFirstOrThrow();
      expect(j.counts.activate).toBe(300);
    }
    await edu.post(`/api/v1/org/tag-jobs/${a}/commit`);
    await phed.post(`/api/v1/org/tag-jobs/${b}/commit`);
    // Two runners, as two app processes would, each taking one commit job at the same time.
    await Promise.all([buildJobRunner(database).drain(), buildJobRunner(database).drain()]);

    const jobs = await database.db.selectFrom('tag_jobs').select(['id', 'status', 'counts']).where('id', 'in', [BigInt(a), BigInt(b)]).execute();
    expect(jobs.map((j) => j.status)).toEqual(['committed', 'committed']);
    const won = jobs.map((j) => j.counts.activate ?? 0);
    const lost = jobs.map((j) => j.counts.conflict ?? 0);
    expect(won[0]! + won[1]!).toBe(300);
    expect(lost[0]! + lost[1]!).toBe(300);
    const perConnection = await sql<{ n: bigint }>`
      SELECT count(*) AS n FROM tags t JOIN connections c ON c.id = t.connection_id
       WHERE t.status = 'active' AND c.consumer_no IN (${sql.join(conns.map((c) => c.consumer_no))})
       GROUP BY t.connection_id HAVING count(*) <> 1`.execute(database.db);
    expect(perConnection.rows).toEqual([]);
    const active = await sql<{ n: bigint }>`SELECT count(*) AS n FROM tags WHERE status = 'active' AND job_id IN (${BigInt(a)}, ${BigInt(b)})`.execute(database.db);
    expect(active.rows[0]!.n).toBe(300n);
  });
});
