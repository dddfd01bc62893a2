import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildGateway, type Payments } from '../../src/modules/payments/gateway.ts';
import { checkInvariants } from '../../src/modules/payments/invariants.ts';
import { verifyAudit } from '../../src/modules/audit/verify.ts';
import { DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { openDatabase, type Database, type RawClient } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { testConfig } from '../helpers/config.ts';
import { adminUrl, withDatabase } from '../helpers/pg.ts';
import { AppProcess, freePort, HttpSession, PrivateCluster, sleep, waitFor } from '../helpers/process.ts';

/**
 * Faults, on PostgreSQL, with the portal as its own process (`serve`, as `npm start` runs it):
 *
 * - killed with SIGKILL in the middle of settling a large batch, and in the middle of a
 *   mass-tag commit, then restarted: the work completes exactly once and the invariants hold;
 * - the billing system down for a while: postings queue up and drain afterwards;
 * - the gateway's webhooks lost entirely: the janitor confirms payments by asking their status;
 * - PostgreSQL restarted under load (a server of the test's own): the portal reconnects, answers
 *   503 (never 500) while it is down, and loses nothing it acknowledged.
 *
 * "In the middle" is made certain, not left to timing: the test holds a lock the work needs
 * near its end (the receipt series, which settlement numbers last; a tag the commit inserts
 * last), waits until the server's transaction is blocked on it with its other writes done,
 * and kills the process there.
 */

const PG = process.env.DATABASE_URL;
const FAST = { JOB_LEASE_SECONDS: '5', JANITOR_INTERVAL_S: '2', DB_POOL_MAX: '8' };

/** A lock held in a transaction of its own until released (the transaction is rolled back). */
async function hold(database: Database, statements: string[]): Promise<{ pid: number; release: () => Promise<void> }> {
  let release!: () => void;
  let ready!: () => void;
  let failed!: (e: unknown) => void;
  const readyP = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
  let pid = 0;
  const done = database.withClient(async (c: RawClient) => {
    pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await c.exec('BEGIN');
    try {
      for (const s of statements) await c.exec(s);
      ready();
      await new Promise<void>((r) => (release = r));
    } finally {
      await c.exec('ROLLBACK');
    }
  });
  done.catch(failed);
  await readyP;
  return {
    pid,
    release: async () => {
      release();
      await done;
    },
  };
}

/** The backends (the server's) waiting for the lock the test holds, and for nothing else. */
async function waiters(database: Database, holder: number): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE ${holder}::int = ANY(pg_blocking_pids(pid))`.execute(database.db);
  return rows.map((r) => r.pid);
}

/**
 * Waits until the server's transaction is blocked on the test's lock (`what` it is doing), kills
 * the server with SIGKILL there, ends the killed process's backends (they would roll back when
 * they next noticed; this does it now), and releases the lock.
 */
async function killWhileBlocked(server: AppProcess, database: Database, lock: { pid: number; release: () => Promise<void> }, what: string): Promise<void> {
  const blocked = await waitFor(what, async () => {
    const w = await waiters(database, lock.pid);
    return w.length ? w : null;
  });
  await server.kill('SIGKILL');
  for (const pid of blocked) await sql`SELECT pg_terminate_backend(${pid})`.execute(database.db);
  await lock.release();
}

/** Pays a batch through the server (batch, checkout) and the sandbox gateway (the payer's card). */
async function payBatch(s: HttpSession, payments: Payments, connectionIds: bigint[], key: string): Promise<{ batchId: bigint; orderId: string }> {
  const b = await s.send('POST', '/api/v1/org/payments/batches', { items: connectionIds.map((id) => ({ connectionId: id.toString() })) }, { 'idempotency-key': key });
  if (b.status !== 201) throw new Error(`batch: ${b.status} ${b.text}`);
  const batchId = BigInt(b.json<{ id: string }>().id);
  const co = await s.send('POST', `/api/v1/org/payments/batches/${batchId}/checkout`);
  if (co.status !== 200) throw new Error(`checkout: ${co.status} ${co.text}`);
  const f = co.json<{ fields: Record<string, string> }>().fields;
  await payments.sandbox!.pay(f.key_id!, f.order_id!, 'success', 'upi');
  return { batchId, orderId: f.order_id! };
}

async function payable(database: Database, orgId: bigint, n: number): Promise<bigint[]> {
  const { rows } = await sql<{ connection_id: bigint }>`
    SELECT d.connection_id FROM connection_dues d
     WHERE d.org_id = ${orgId} AND d.balance_paise > 0
       AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
     ORDER BY d.connection_id LIMIT ${n}`.execute(database.db);
  return rows.map((r) => r.connection_id);
}

async function batchStatus(database: Database, id: bigint): Promise<string> {
  return (await database.db.selectFrom('payment_batches').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

/** Money and audit invariants, and one active tag per connection. */
async function invariantsHold(database: Database): Promise<void> {
  await checkInvariants(database.db);
  const audit = await verifyAudit(database);
  expect(audit.problems.map((p) => p.message)).toEqual([]);
  const twice = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT connection_id FROM tags WHERE status = 'active' GROUP BY 1 HAVING count(*) > 1) x`.execute(database.db);
  expect(twice.rows[0]!.n).toBe(0);
}

describe.runIf(PG)('faults, on PostgreSQL, with the portal in its own process', () => {
  let name: string;
  let database: Database;
  let payments: Payments;
  let server: AppProcess;
  let edu: HttpSession;
  let eduOrg: bigint;

  beforeAll(async () => {
    name = `sangrahan_f_${randomBytes(5).toString('hex')}`;
    const admin = await openDatabase({ databaseUrl: adminUrl(PG!), poolMax: 1 });
    await admin.withClient((c) => c.exec(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`));
    await admin.close();
    database = await openDatabase({ databaseUrl: withDatabase(PG!, name), poolMax: 6 });
    await seedDemo(database, { seed: 21, connections: 30_000, months: 1, asOf: new Date() });
    await tagDemoConnections(database);
    eduOrg = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    // The department lets its makers pay large batches without an approver (its own setting).
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', eduOrg).execute();
    payments = await buildGateway(testConfig(), database.db);
    server = new AppProcess(await freePort(), { DATABASE_URL: withDatabase(PG!, name), ...FAST });
    await server.start();
    edu = await new HttpSession(() => server.url).login('edu.admin', DEMO_PASSWORD);
  });

  afterAll(async () => {
    await server?.kill();
    await database?.close();
    if (name) {
      const admin = await openDatabase({ databaseUrl: adminUrl(PG!), poolMax: 1 });
      await admin.withClient((c) => c.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await admin.close();
    }
  });

  it('settles a large batch exactly once after the process is killed in the middle of settling it', async () => {
    const owing = await payable(database, eduOrg, 100_000);
    expect(owing.length).toBeGreaterThan(1000);
    // Most of the department's owing connections; the rest for the tests after this one.
    const ids = owing.slice(0, owing.length - 60);
    // Receipts are numbered late in a settlement: holding the series makes the settlement wait
    // there with the payment, allocations, ledger, balances and batch written but not committed.
    const lock = await hold(database, ['LOCK TABLE receipt_series IN EXCLUSIVE MODE']);
    const { batchId } = await payBatch(edu, payments, ids, 'faults-big-batch-0001');
    // The server's own delivery loop brings it the webhooks (payment.captured, order.paid).
    await killWhileBlocked(server, database, lock, 'the settlement to reach the receipt numbers');

    // Nothing of it committed.
    expect(await batchStatus(database, batchId)).toBe('payment_pending');
    const partial = await sql<{ p: number; a: number; r: number; k: number }>`
      SELECT (SELECT count(*) FROM payments WHERE batch_id = ${batchId})::int AS p, (SELECT count(*) FROM allocations WHERE batch_id = ${batchId})::int AS a,
             (SELECT count(*) FROM receipts WHERE batch_id = ${batchId})::int AS r, (SELECT count(*) FROM postings WHERE batch_id = ${batchId})::int AS k`.execute(database.db);
    expect(partial.rows[0]).toEqual({ p: 0, a: 0, r: 0, k: 0 });
    await invariantsHold(database);

    // Restarted, the gateway's retries (its deliveries were never answered) settle it, once.
    await server.start();
    await waitFor('the batch to be paid', async () => (await batchStatus(database, batchId)) === 'paid', 120_000);
    const done = await sql<{ p: number; amount: bigint; a: number; allocated: bigint; r: number; events: number }>`
      SELECT (SELECT count(*) FROM payments WHERE batch_id = ${batchId} AND status = 'captured')::int AS p,
             (SELECT sum(amount_paise) FROM payments WHERE batch_id = ${batchId}) AS amount,
             (SELECT count(*) FROM allocations WHERE batch_id = ${batchId})::int AS a,
             (SELECT sum(amount_paise) FROM allocations WHERE batch_id = ${batchId}) AS allocated,
             (SELECT count(*) FROM receipts WHERE batch_id = ${batchId})::int AS r,
             (SELECT count(*) FROM webhook_events e JOIN payment_attempts t ON t.order_id = e.order_id WHERE t.batch_id = ${batchId} AND e.status = 'processed')::int AS events`.execute(database.db);
    const d = done.rows[0]!;
    expect(d.p).toBe(1);
    expect(d.a).toBe(ids.length);
    expect(d.r).toBe(ids.length);
    expect(d.allocated).toBe(d.amount);
    expect(d.events).toBeGreaterThanOrEqual(1);
    // The postings reach the billing system (the server's posting loop).
    await waitFor('the postings to be acknowledged', async () => {
      const { rows } = await sql<{ open: number; all: number }>`
        SELECT count(*) FILTER (WHERE status <> 'acknowledged')::int AS open, count(*)::int AS all FROM postings WHERE batch_id = ${batchId}`.execute(database.db);
      return rows[0]!.all >= ids.length && rows[0]!.open === 0;
    }, 120_000);
    await invariantsHold(database);
  });

  it('commits a mass-tag upload exactly once after the process is killed in the middle of the commit', async () => {
    // Untagged connections: the department's own first (activated), then others (requests).
    const { rows } = await sql<{ consumer_no: string; discom: string; connection_id: bigint }>`
      SELECT c.consumer_no, d.code AS discom, c.id AS connection_id FROM connections c JOIN discoms d ON d.id = c.discom_id
       WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = c.id AND t.status IN ('active', 'requested'))
       ORDER BY (c.owner_dept_code = 'BR-EDU') DESC NULLS LAST, c.id LIMIT 4000`.execute(database.db);
    const csv = `consumer_no,discom\n${rows.map((r) => `${r.consumer_no},${r.discom}`).join('\n')}\n`;
    const up = await edu.send('POST', '/api/v1/org/tag-jobs?fileName=faults.csv', undefined, {}, { data: csv, type: 'text/csv' });
    expect(up.status, up.text).toBe(202);
    const jobId = up.json<{ id: string }>().id;
    const validated = await waitFor('validation', async () => {
      const j = (await edu.send('GET', `/api/v1/org/tag-jobs/${jobId}`)).json<{ status: string; counts: Record<string, number> }>();
      return j.status === 'validated' ? j : null;
    });
    expect(validated.counts.activate).toBeGreaterThan(100);
    // The commit inserts the active tags in row order; another organisation's uncommitted tag
    // on the last one makes the insert wait there, every earlier row written.
    const last = await sql<{ connection_id: bigint }>`
      SELECT connection_id FROM tag_job_rows WHERE job_id = ${BigInt(jobId)} AND outcome = 'activate' ORDER BY row_no DESC LIMIT 1`.execute(database.db);
    const other = await database.db.selectFrom('organisations').select('id').where('id', '<>', eduOrg).where('status', '=', 'approved').orderBy('id').executeTakeFirstOrThrow();
    const lock = await hold(database, [
      `INSERT INTO tags (org_id, connection_id, status, method, source, activated_at) VALUES (${other.id}, ${last.rows[0]!.connection_id}, 'active', 'bill_number', 'single', now())`,
    ]);
    const commit = await edu.send('POST', `/api/v1/org/tag-jobs/${jobId}/commit`);
    expect(commit.status, commit.text).toBeLessThan(300);
    await killWhileBlocked(server, database, lock, 'the commit to reach its last row');

    const between = await database.db.selectFrom('tag_jobs').select('status').where('id', '=', BigInt(jobId)).executeTakeFirstOrThrow();
    expect(between.status).toBe('committing');
    const none = await database.db.selectFrom('tags').select(sql<number>`count(*)::int`.as('n')).where('job_id', '=', BigInt(jobId)).executeTakeFirstOrThrow();
    expect(none.n).toBe(0);

    // Restarted, the job is taken up again once its lease has run out, and committed once.
    await server.start();
    const job = await waitFor('the commit', async () => {
      const j = (await edu.send('GET', `/api/v1/org/tag-jobs/${jobId}`)).json<{ status: string; counts: Record<string, number> }>();
      return j.status === 'committed' ? j : null;
    }, 120_000);
    const tags = await sql<{ active: number; requested: number }>`
      SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'requested')::int AS requested
        FROM tags WHERE job_id = ${BigInt(jobId)}`.execute(database.db);
    expect(tags.rows[0]).toEqual({ active: job.counts.activate, requested: job.counts.request ?? 0 });
    expect(job.counts.activate).toBe(validated.counts.activate);
    const audits = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'tag.bulk_committed' AND target_id = ${jobId}`.execute(database.db);
    expect(audits.rows[0]!.n).toBe(1);
    const runs = await sql<{ attempts: number }>`SELECT attempts FROM jobs WHERE kind = 'tag-job.commit' AND payload->>'jobId' = ${jobId}`.execute(database.db);
    expect(runs.rows[0]!.attempts).toBe(2);
    await invariantsHold(database);
  });

  it('queues postings while the billing system is down, and drains them when it is back', async () => {
    // Down until the test says so (not for a fixed time: a slow machine must not see it back too soon).
    await sql`UPDATE billing_sim.control SET down_until = now() + interval '1 hour'`.execute(database.db);
    const ids = await payable(database, eduOrg, 10);
    const batches: bigint[] = [];
    for (let i = 0; i < 5; i++) batches.push((await payBatch(edu, payments, ids.slice(i * 2, i * 2 + 2), `faults-billing-down-${i}-x`)).batchId);
    for (const b of batches) await waitFor('the batch to be paid', async () => (await batchStatus(database, b)) === 'paid');
    const postingsOf = async () =>
      (
        await sql<{ status: string; attempts: number; last_error: string | null }>`
          SELECT status, attempts, last_error FROM postings WHERE batch_id = ANY(${batches.map(String)}::bigint[])`.execute(database.db)
      ).rows;
    // Down: tried, deferred, waiting.
    await waitFor('the postings to have been tried', async () => {
      const p = await postingsOf();
      return p.length >= 10 && p.every((x) => x.attempts >= 1);
    });
    const waiting = await postingsOf();
    expect(waiting.every((x) => x.status === 'pending' && /unavailable/i.test(x.last_error ?? ''))).toBe(true);
    await sleep(3000); // a few more rounds of the posting loop: still queued, tried again later
    expect((await postingsOf()).every((x) => x.status === 'pending')).toBe(true);
    await sql`UPDATE billing_sim.control SET down_until = NULL`.execute(database.db);
    // Back: drained without anyone pressing a button.
    await waitFor('the postings to drain', async () => (await postingsOf()).every((x) => x.status === 'acknowledged'), 120_000, 1000);
    const posted = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM postings p JOIN billing_sim.payments b ON b.sim_receipt_no = p.billing_receipt_no WHERE p.batch_id = ANY(${batches.map(String)}::bigint[])`.execute(database.db);
    expect(posted.rows[0]!.n).toBe(waiting.length);
    await invariantsHold(database);
  });

  it('confirms payments whose webhooks were all lost, by asking the gateway their status', async () => {
    await payments.sandbox!.setControl({ dropWebhooks: true });
    try {
      const ids = await payable(database, eduOrg, 4);
      const paid: bigint[] = [];
      for (let i = 0; i < 4; i++) paid.push((await payBatch(edu, payments, [ids[i]!], `faults-lost-webhooks-${i}-x`)).batchId);
      await sleep(5000); // the delivery loop has run: nothing arrived
      for (const b of paid) expect(await batchStatus(database, b)).toBe('payment_pending');
      // As if PAYMENT_PENDING_MINUTES had passed with no word from the gateway.
      await sql`UPDATE payment_batches SET status_changed_at = now() - interval '1 hour' WHERE id = ANY(${paid.map(String)}::bigint[])`.execute(database.db);
      await sql`UPDATE payment_attempts SET last_checked_at = now() - interval '1 hour' WHERE batch_id = ANY(${paid.map(String)}::bigint[])`.execute(database.db);
      for (const b of paid) await waitFor('the janitor to confirm the payment', async () => (await batchStatus(database, b)) === 'paid', 60_000);
      const how = await database.db.selectFrom('payments').select('confirmed_by').where('batch_id', 'in', paid).execute();
      expect(how.map((p) => p.confirmed_by)).toEqual(['status_query', 'status_query', 'status_query', 'status_query']);
      await invariantsHold(database);
    } finally {
      await payments.sandbox!.setControl({ dropWebhooks: false });
    }
  });
});

describe.runIf(PG && PrivateCluster.available())('PostgreSQL restarted under load', () => {
  let cluster: PrivateCluster;
  let database: Database;
  let server: AppProcess;

  beforeAll(async () => {
    cluster = await PrivateCluster.create();
    const admin = await openDatabase({ databaseUrl: cluster.url(), poolMax: 1 });
    await admin.withClient((c) => c.exec('CREATE DATABASE sangrahan'));
    await admin.close();
    database = await openDatabase({ databaseUrl: cluster.url('sangrahan'), poolMax: 4 });
    await migrate(database);
    await seedDemo(database, { seed: 23, connections: 6000, months: 1, asOf: new Date() });
    await tagDemoConnections(database);
    server = new AppProcess(await freePort(), { DATABASE_URL: cluster.url('sangrahan'), ...FAST });
    await server.start();
  });

  afterAll(async () => {
    await server?.kill();
    await database?.close();
    await cluster?.destroy();
  });

  it('reconnects, answers 503 while the database is down, and loses nothing it acknowledged', async () => {
    const payments = await buildGateway(testConfig(), database.db);
    const org = (await database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    const queue = await payable(database, org, 600);
    const statuses = new Map<number, number>();
    const timeline: [number, number][] = [];
    // Each answer is placed at the time its request was sent: a request sent while the database
    // was down may be answered (503) a moment after it is back.
    const count = (s: number, sentAt: number) => {
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      timeline.push([sentAt, s]);
    };
    const acknowledged: { batchId: bigint; at: number }[] = [];
    const ordersPaid: { batchId: bigint }[] = [];
    let restartedAt = Infinity;
    let stop = false;

    const worker = async () => {
      const s = new HttpSession(() => server.url);
      await s.login('edu.admin', DEMO_PASSWORD);
      for (let i = 0; !stop; i++) {
        let t0 = Date.now();
        try {
          const read = await s.send('GET', '/api/v1/org/dues?limit=20');
          count(read.status, t0);
          const id = queue.shift();
          if (id === undefined) break;
          // One key per connection: a retry after an answer lost on the way finds the batch made.
          t0 = Date.now();
          const b = await s.send('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: id.toString() }] }, { 'idempotency-key': `restart-connection-${id}` });
          count(b.status, t0);
          if (b.status !== 201) {
            // Not made (503: nothing committed): the connection is free for another try, after a pause.
            queue.push(id);
            await sleep(200);
            continue;
          }
          const batchId = BigInt(b.json<{ id: string }>().id);
          acknowledged.push({ batchId, at: Date.now() });
          t0 = Date.now();
          const co = await s.send('POST', `/api/v1/org/payments/batches/${batchId}/checkout`);
          count(co.status, t0);
          if (co.status !== 200) continue;
          const f = co.json<{ fields: Record<string, string> }>().fields;
          // The payer pays at the gateway (the sandbox keeps its state in the same database: retried while it is down).
          await waitFor('the sandbox payment', async () => (await payments.sandbox!.pay(f.key_id!, f.order_id!, 'success', 'upi'), true), 30_000, 300);
          ordersPaid.push({ batchId });
        } catch (e) {
          count(-1, t0); // the request failed without an answer (connection reset): counted, not acknowledged
          if (!/fetch failed|ECONNRESET|socket/i.test((e as Error).message)) throw e;
        }
      }
    };
    // A reader that never waits on the gateway: it asks all through the outage (the payers may all
    // be waiting on the sandbox's payment then).
    const reader = async () => {
      const s = new HttpSession(() => server.url);
      await s.login('edu.admin', DEMO_PASSWORD);
      while (!stop) {
        const t0 = Date.now();
        try {
          count((await s.send('GET', '/api/v1/org/dues?limit=20')).status, t0);
        } catch (e) {
          count(-1, t0);
          if (!/fetch failed|ECONNRESET|socket/i.test((e as Error).message)) throw e;
        }
        await sleep(100);
      }
    };
    const load = Promise.all([worker(), worker(), worker(), reader()]);
    await sleep(4000);
    const downAt = Date.now();
    await cluster.restart(3000); // down for 3 s
    restartedAt = Date.now();
    await sleep(6000);
    stop = true;
    await load;

    expect(server.running).toBe(true);
    // While it was down: 503, never 500.
    const whileDown = timeline.filter(([t]) => t >= downAt && t <= restartedAt).map(([, st]) => st);
    expect(whileDown.filter((st) => st === 503).length).toBeGreaterThan(0);
    expect(statuses.get(500) ?? 0).toBe(0);
    // (-1: a connection reset without an answer, which a client retries.)
    expect([...statuses.keys()].filter((s) => ![200, 201, 503, -1].includes(s))).toEqual([]);
    // It came back: work acknowledged after the restart.
    expect(acknowledged.some((a) => a.at > restartedAt), `${JSON.stringify(Object.fromEntries(statuses))}; ${acknowledged.length} acknowledged\n${server.problems().slice(-20).join('\n')}`).toBe(true);
    // Nothing acknowledged is lost: every batch answered 201 is there, every paid order settles.
    const ids = acknowledged.map((a) => a.batchId.toString());
    const found = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payment_batches WHERE id = ANY(${ids}::bigint[])`.execute(database.db);
    expect(found.rows[0]!.n).toBe(acknowledged.length);
    for (const o of ordersPaid) await waitFor('a paid order to settle', async () => (await batchStatus(database, o.batchId)) === 'paid', 120_000, 500);
    // Every webhook the portal acknowledged (2xx) is in its inbox, processed.
    const lost = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM gateway_sim.deliveries d
       WHERE d.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = d.event_id AND e.status IN ('processed', 'ignored'))`.execute(database.db);
    expect(lost.rows[0]!.n).toBe(0);
    await checkInvariants(database.db);
    const audit = await verifyAudit(database);
    expect(audit.problems.map((p) => p.message)).toEqual([]);
    console.log(`restart under load: ${acknowledged.length} batches acknowledged, ${ordersPaid.length} paid; answers ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
