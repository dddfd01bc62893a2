import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { buildApp } from '../src/server.ts';
import { adminUrl, withDatabase } from '../test/helpers/pg.ts';
import { PG_BASE, machine, record, seconds } from './lib.ts';

/**
 * The dues dashboard at scale: an organisation with 1,00,000 tagged connections among
 * 20,00,000 connections with 12 months of bills (24 million bills). Requests go over real HTTP
 * (the server listening on loopback, fetch with keep-alive), repeated for p50 and p95:
 *
 *   A. the summary and the first page of the table, as the dashboard asks for them (in
 *      parallel; the time until both have answered): warm (the summary from its cache) and
 *      cold (the cache emptied before each request, so the summary is computed);
 *   B. a filtered, sorted page of the table with its total.
 *
 * The baseline, in the same process on the same data, is raw SQL over connection_dues
 * through the same driver: one aggregate of the organisation's headline figures and the
 * first page with its count (A); the filtered page with its count (B).
 *
 * The data set is kept between runs (--keep: PostgreSQL database `sangrahan_bench_dues`, PGlite
 * folder /tmp/sangrahan-bench-dues-pglite) because loading it takes most of the time.
 */

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000000' },
    tagged: { type: 'string', default: '100000' },
    engines: { type: 'string', default: 'postgres,pglite' },
    requests: { type: 'string', default: '200' },
    cold: { type: 'string', default: '20' },
    months: { type: 'string', default: '12' },
    // The name its lines have in the summary table: `scale` for the all-of-Bihar run.
    bench: { type: 'string', default: 'dues' },
    keep: { type: 'boolean', default: false },
  },
});
const connections = Number(values.connections);
const tagged = Number(values.tagged);
const reps = Number(values.requests);
const coldReps = Number(values.cold);
const months = Number(values.months);
const BENCH = values.bench;
const AS_OF = new Date('2026-11-20T06:30:00Z');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms`;

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** The data set; without --keep, `close` also deletes it. */
async function openData(engine: 'postgres' | 'pglite'): Promise<{ database: Database; fresh: boolean; dataDir?: string }> {
  if (engine === 'pglite') {
    const dir = values.keep ? `/tmp/sangrahan-bench-${BENCH}-pglite` : fs.mkdtempSync('/tmp/sangrahan-bench-dues-');
    const opened = await openDatabase({ dataDir: dir });
    await migrate(opened);
    const has = await opened.db.selectFrom('connections').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    const close = async () => {
      await opened.close();
      if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
    };
    return { database: { ...opened, close }, fresh: has.n === 0, dataDir: dir };
  }
  const name = values.keep ? `sangrahan_bench_${BENCH}` : `sangrahan_bench_dues_${process.pid}`;
  const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
  const exists = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${name}`.execute(admin.db);
  if (!exists.rows[0]!.n) await admin.withClient((c) => c.exec(`CREATE DATABASE ${name}`));
  await admin.close();
  const opened = await openDatabase({ databaseUrl: withDatabase(PG_BASE, name), poolMax: 8 });
  await migrate(opened);
  const has = await opened.db.selectFrom('connections').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
  const close = async () => {
    await opened.close();
    if (values.keep) return;
    const drop = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
    await drop.withClient((c) => c.exec(`DROP DATABASE ${name}`));
    await drop.close();
  };
  return { database: { ...opened, close }, fresh: has.n === 0 };
}

async function run(engine: 'postgres' | 'pglite'): Promise<void> {
  const { database, fresh, dataDir } = await openData(engine);
  try {
    const { db } = database;
    if (fresh) {
      const t0 = Date.now();
      let shown = 0;
      const onProgress = (done: number) => {
        if (done - shown >= 100_000) {
          shown = done;
          console.log(`    ${engine}: ${done.toLocaleString('en-IN')} loaded after ${seconds(Date.now() - t0)}`);
        }
      };
      await seedDemo(database, { seed: 11, connections, asOf: AS_OF, chunkSize: 20000, months, onProgress });
      const loadMs = Date.now() - t0;
      console.log(`  ${engine}: ${connections.toLocaleString('en-IN')} connections with ${months} months of bills loaded in ${seconds(loadMs)}`);
      record({ bench: BENCH, id: 'load', what: `load ${connections.toLocaleString('en-IN')} connections × ${months} month${months === 1 ? '' : 's'} of bills (the demo seed)`, engine, productMs: loadMs });
      // The Education Department holds `tagged` of its own connections, spread over its offices.
      const t1 = Date.now();
      await tagDemoConnections(database, { departmentCode: 'BR-EDU', count: tagged });
      await database.withClient((c) => c.exec('ANALYZE'));
      console.log(`  ${engine}: ${tagged.toLocaleString('en-IN')} connections tagged in ${seconds(Date.now() - t1)}`);
    }
    // Steady state, as autovacuum leaves it: a migration or load that rewrote every dues row
    // clears the visibility map, and index-only scans fall back to the heap until a vacuum.
    await database.withClient(async (c) => {
      await c.exec('VACUUM (ANALYZE) connection_dues');
      await c.exec('VACUUM (ANALYZE) dues_org_months');
    });
    const org = await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const held = await db.selectFrom('connection_dues').select(sql<number>`count(*)::int`.as('n')).where('org_id', '=', org.id).executeTakeFirstOrThrow();
    const bills = await db.selectFrom('bills').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow();
    const total = await db.selectFrom('connections').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow();
    const size =
      engine === 'postgres'
        ? (await sql<{ s: string }>`SELECT pg_size_pretty(pg_database_size(current_database())) AS s`.execute(db)).rows[0]!.s
        : `${(fs.readdirSync(dataDir!, { recursive: true, withFileTypes: true }).reduce((n, f) => n + (f.isFile() ? fs.statSync(`${f.parentPath}/${f.name}`).size : 0), 0) / 2 ** 30).toFixed(1)} GB`;
    const biggest = await sql<{ t: string; s: string }>`
      SELECT c.relname AS t, pg_size_pretty(pg_total_relation_size(c.oid)) AS s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 5`.execute(db);
    console.log(
      `  ${engine}: ${Number(total.n).toLocaleString('en-IN')} connections, ${Number(bills.n).toLocaleString('en-IN')} bills; the organisation holds ${held.n.toLocaleString('en-IN')}; ` +
        `database ${size} (largest: ${biggest.rows.map((r) => `${r.t} ${r.s}`).join(', ')})`,
    );

    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DEMO_SEED: 'false' }), database, billing: new BillingSimulator(database), clock: () => AS_OF });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ loginId: 'edu.admin', password: DEMO_PASSWORD }) });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const get = async (path: string) => {
      const r = await fetch(url + path, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const dashboard = () => Promise.all([get('/api/v1/org/dues/summary'), get('/api/v1/org/dues?limit=50&total=true')]);
    const filters = [
      '/api/v1/org/dues?limit=50&total=true&status=overdue&sort=amount',
      '/api/v1/org/dues?limit=50&total=true&category=NDS-II&minRupees=1000&maxRupees=100000&sort=due',
      '/api/v1/org/dues?limit=50&total=true&anomaly=any&sort=amount',
      '/api/v1/org/dues?limit=50&total=true&q=middle%20school&sort=consumer',
    ];
    let fi = 0;
    const filtered = () => get(filters[fi++ % filters.length]!);
    const emptyCache = () => db.deleteFrom('dues_summary_cache').where('org_id', '=', org.id).execute();

    // Warm-up: the first summary fills the cache; a few of each request warm the buffers.
    await emptyCache();
    const t0 = performance.now();
    await dashboard();
    const firstMs = performance.now() - t0;
    for (let i = 0; i < 10; i++) {
      await dashboard();
      await filtered();
    }
    const warm = await timed(reps, dashboard);
    const cold: number[] = [];
    for (let i = 0; i < coldReps; i++) {
      await emptyCache();
      const t = performance.now();
      await dashboard();
      cold.push(performance.now() - t);
    }
    const filt = await timed(reps, filtered);

    // Baselines: raw SQL through the same driver.
    const o = org.id.toString();
    const baseA = await database.withClient((c) =>
      timed(reps, async () => {
        await c.query(
          `SELECT count(*), sum(greatest(balance_paise, 0)), sum(balance_paise) FILTER (WHERE balance_paise > 0 AND due_key < $2::date),
                  count(*) FILTER (WHERE balance_paise > 0 AND due_key < $2::date), sum(balance_paise) FILTER (WHERE balance_paise > 0 AND due_key BETWEEN $2::date AND $2::date + 7),
                  sum(dps_paise) FILTER (WHERE balance_paise > 0), sum(rebate_paise) FILTER (WHERE balance_paise > 0 AND due_key >= $2::date),
                  sum(-balance_paise) FILTER (WHERE balance_paise < 0)
             FROM connection_dues WHERE org_id = $1`,
          [o, '2026-11-20'],
        );
        await c.query(`SELECT * FROM connection_dues WHERE org_id = $1 ORDER BY due_key, connection_id LIMIT 51`, [o]);
        await c.query(`SELECT count(*), sum(greatest(balance_paise, 0)) FROM connection_dues WHERE org_id = $1`, [o]);
      }),
    );
    // The same four filters, each its page and its count, in raw SQL.
    const anomaly = `((avg_units IS NOT NULL AND (units::numeric * 100 < avg_units * 70 OR units::numeric * 100 > avg_units * 110
                      OR current_demand_paise::numeric * 100 < avg_demand_paise * 70 OR current_demand_paise::numeric * 100 > avg_demand_paise * 110))
                      OR units = 0 OR bill_basis IN ('average', 'provisional') OR reading_break)`;
    const rawFilters: [string, string, unknown[]][] = [
      ['org_id = $1 AND balance_paise > 0 AND due_key < $2::date', 'balance_paise DESC, connection_id DESC', [o, '2026-11-20']],
      ['org_id = $1 AND category = $2 AND balance_paise BETWEEN 100000 AND 10000000', 'due_key, connection_id', [o, 'NDS-II']],
      [`org_id = $1 AND ${anomaly}`, 'balance_paise DESC, connection_id DESC', [o]],
      [`org_id = $1 AND lower(name) LIKE $2`, 'consumer_no, connection_id', [o, '%middle school%']],
    ];
    let bi = 0;
    const baseB = await database.withClient((c) =>
      timed(reps, async () => {
        const [w, order, params] = rawFilters[bi++ % rawFilters.length]!;
        await c.query(`SELECT * FROM connection_dues WHERE ${w} ORDER BY ${order} LIMIT 51`, params);
        await c.query(`SELECT count(*), sum(greatest(balance_paise, 0)) FROM connection_dues WHERE ${w}`, params);
      }),
    );
    await app.close();
    const ratio = (a: number[], b: number[]) => (pct(a, 95) / pct(b, 95)).toFixed(2);
    const scale = `${connections.toLocaleString('en-IN')} connections, ${tagged.toLocaleString('en-IN')} held`;
    const lat = (id: string, what: string, a: number[], b: number[]) =>
      record({ bench: BENCH, id, what: `${what} (${scale})`, engine, productP50: pct(a, 50), productP95: pct(a, 95), baselineP50: pct(b, 50), baselineP95: pct(b, 95), ratio: pct(a, 95) / pct(b, 95) });
    lat('warm', 'dashboard: summary + first page, warm', warm, baseA);
    lat('cold', 'dashboard: summary + first page, cold', cold, baseA);
    lat('filtered', 'dues: a filtered page with its count', filt, baseB);
    console.log(
      `  ${engine}: first dashboard (summary computed and cached) ${firstMs.toFixed(0)} ms\n` +
        `    A. summary + first page, warm: ${fmt(warm)} | baseline ${fmt(baseA)} | ratio (p95) ${ratio(warm, baseA)}×\n` +
        `    A. summary + first page, cold (${coldReps}×): ${fmt(cold)} | ratio (p95) ${ratio(cold, baseA)}×\n` +
        `    B. filtered page (4 filters in turn): ${fmt(filt)} | baseline (the same filters) ${fmt(baseB)} | ratio (p95) ${ratio(filt, baseB)}×`,
    );
  } finally {
    await database.close();
  }
}

console.log(`Dues dashboard benchmark; ${machine()}`);
for (const engine of values.engines.split(',') as ('postgres' | 'pglite')[]) await run(engine);
