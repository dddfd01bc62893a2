import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { buildJobRunner } from '../src/jobs.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';
import { loadConfig } from '../src/platform/config.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { Client } from '../test/helpers/http.ts';
import { freshBenchDatabase, machine, record, seconds } from './lib.ts';

/**
 * Mass tagging: an upload of N consumer numbers (default 100,000) against a master of M
 * connections (default 1,000,000), from the HTTP upload to the committed tags: stored file,
 * streamed parse, rows COPied, every check in SQL, then the commit job. The baseline, in the
 * same process and on the same data, is raw SQL: COPY the numbers into a temporary table and
 * one INSERT … SELECT that joins the master, skips connections tagged already, and applies
 * the owner rule (rolled back afterwards).
 */

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000000' },
    rows: { type: 'string', default: '100000' },
    engines: { type: 'string', default: 'postgres,pglite' },
  },
});
const master = Number(values.connections);
const rows = Number(values.rows);

async function run(engine: 'postgres' | 'pglite'): Promise<void> {
  const database: Database = await freshBenchDatabase(engine);
  try {
    const t0 = Date.now();
    await seedDemo(database, { seed: 5, connections: master, months: 1, asOf: new Date('2026-11-26T12:00:00Z'), chunkSize: 20000 });
    console.log(`  ${engine}: master of ${master.toLocaleString('en-IN')} connections loaded in ${seconds(Date.now() - t0)}`);
    const edu = await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    // The Education Department's own connections first, then others to make up the file.
    const { rows: picked } = await sql<{ consumer_no: string; discom: string }>`
      SELECT c.consumer_no, d.code AS discom FROM connections c JOIN discoms d ON d.id = c.discom_id
       ORDER BY (c.owner_dept_code = 'BR-EDU') DESC NULLS LAST, c.id LIMIT ${rows}`.execute(database.db);
    const file = `consumer_no,discom\n${picked.map((p) => `${p.consumer_no},${p.discom}`).join('\n')}\n`;

    // Baseline: the same outcome for every row, in raw SQL, then rolled back.
    const base = await database.withClient(async (c) => {
      await c.exec('BEGIN');
      const start = Date.now();
      await c.exec('CREATE TEMP TABLE upload (row_no int, consumer_no text, discom text) ON COMMIT DROP');
      await c.copyFromCsv('upload', ['row_no', 'consumer_no', 'discom'], [picked.map((p, i) => `${i + 2},${p.consumer_no},${p.discom}\n`).join('')]);
      const r = await c.query(
        `INSERT INTO tags (org_id, connection_id, status, method, source, activated_at, decided_at)
         SELECT DISTINCT ON (k.id) $1::bigint, k.id,
                CASE WHEN k.owner_dept_code = o.department_code THEN 'active' ELSE 'requested' END,
                CASE WHEN k.owner_dept_code = o.department_code THEN 'owner_match' ELSE 'discom_approval' END,
                'upload',
                CASE WHEN k.owner_dept_code = o.department_code THEN now() END,
                CASE WHEN k.owner_dept_code = o.department_code THEN now() END
           FROM upload u
           JOIN discoms d ON d.code = u.discom
           JOIN connections k ON k.discom_id = d.id AND k.consumer_no = u.consumer_no
           JOIN organisations o ON o.id = $1::bigint
          WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = k.id AND t.status = 'active')
          ORDER BY k.id, u.row_no
         ON CONFLICT DO NOTHING`,
        [edu.id],
      );
      const ms = Date.now() - start;
      await c.exec('ROLLBACK');
      return { ms, inserted: r.rowCount };
    });

    // The product: HTTP upload, validation job, commit job.
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DEMO_SEED: 'false' }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { loginId: 'edu.admin', password: DEMO_PASSWORD } });
    const cookie = `sg_session=${login.cookies.find((k) => k.name === 'sg_session')!.value}`;
    const csrf = login.json<{ csrfToken: string }>().csrfToken;
    // The benchmark measures a whole file's checks: no daily lookup limit cuts it short.
    const runner = buildJobRunner(database, {}, { tagLookupsPerDay: 10_000_000 });
    const start = Date.now();
    const up = await app.inject({ method: 'POST', url: '/api/v1/org/tag-jobs?fileName=bench.csv', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv' }, payload: file });
    const jobId = up.json<{ id: string }>().id;
    await runner.drain();
    const validated = Date.now();
    await app.inject({ method: 'POST', url: `/api/v1/org/tag-jobs/${jobId}/commit`, headers: { cookie, 'x-csrf-token': csrf } });
    await runner.drain();
    const done = Date.now();
    const job = await database.db.selectFrom('tag_jobs').selectAll().where('id', '=', BigInt(jobId)).executeTakeFirstOrThrow();

    // The discom approves the organisation's requests in bulk: baseline first (rolled back).
    const approveBase = await database.withClient(async (c) => {
      await c.exec('BEGIN');
      const t = Date.now();
      const r = await c.query(
        `UPDATE tags t SET status = 'active', activated_at = now(), decided_at = now()
          WHERE t.org_id = $1 AND t.status = 'requested'
            AND NOT EXISTS (SELECT 1 FROM tags a WHERE a.connection_id = t.connection_id AND a.status = 'active')`,
        [edu.id.toString()],
      );
      const ms = Date.now() - t;
      await c.exec('ROLLBACK');
      return { ms, n: r.rowCount };
    });
    // The holding company's admin decides requests on both discoms' connections, as the baseline does.
    const officer = await new Client(app, '10.9.9.9').login('admin.discom', DEMO_PASSWORD, DEMO_LOGINS.find((u) => u.loginId === 'admin.discom')!.totpSecret);
    const a0 = Date.now();
    const decided = await officer.post(`/api/v1/discom/tag-requests/${edu.id}/decide`, { kind: 'tag', decision: 'approve' });
    const approveMs = Date.now() - a0;
    await app.close();
    const total = done - start;
    record({ bench: 'mass-tag', id: 'upload', what: `upload, validate and commit ${rows.toLocaleString('en-IN')} rows (master ${master.toLocaleString('en-IN')})`, engine, productMs: total, baselineMs: base.ms, ratio: total / base.ms });
    record({ bench: 'mass-tag', id: 'approve', what: `discom approves ${approveBase.n.toLocaleString('en-IN')} requests at once`, engine, productMs: approveMs, baselineMs: approveBase.ms, ratio: approveMs / approveBase.ms });
    console.log(
      `  ${engine}: ${rows.toLocaleString('en-IN')} rows, ${job.status}: ${JSON.stringify(job.counts)}\n` +
        `    upload+validate ${seconds(validated - start)}, commit ${seconds(done - validated)}, total ${seconds(total)}; ` +
        `baseline (COPY + one INSERT … SELECT, ${base.inserted.toLocaleString('en-IN')} rows) ${seconds(base.ms)}; ratio ${(total / base.ms).toFixed(2)}×\n` +
        `    discom approves all requests: ${decided.statusCode} ${decided.body} in ${seconds(approveMs)}; ` +
        `baseline (one UPDATE, ${approveBase.n.toLocaleString('en-IN')} rows) ${seconds(approveBase.ms)}; ratio ${(approveMs / approveBase.ms).toFixed(2)}×`,
    );
  } finally {
    await database.close();
  }
}

console.log(`Mass-tag benchmark; ${machine()}`);
for (const engine of values.engines.split(',') as ('postgres' | 'pglite')[]) await run(engine);
