import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { signWebhook } from '../src/adapters/gateway/razorpay-protocol.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { buildGateway } from '../src/modules/payments/gateway.ts';
import { checkInvariants } from '../src/modules/payments/invariants.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { adminUrl, withDatabase } from '../test/helpers/pg.ts';
import { AppProcess, freePort, HttpSession, waitFor } from '../test/helpers/process.ts';
import { PG_BASE, machine, record, seconds } from './lib.ts';

/**
 * The month-end rush over HTTP, for a bounded time on loopback: two app processes (`serve`, as
 * `npm start` runs it) behind nginx (Debian's), against one PostgreSQL, driven by autocannon.
 *
 * Traffic, all at once for --duration seconds, through nginx:
 *   - browse: organisations' users (3 sessions for each of the demo's 20 organisations) reading
 *     their dues: the summary, the first page, an overdue page sorted by amount, their payments;
 *   - pay: users making a payment of 1–3 of their bills and opening its checkout (the gateway
 *     order is created); the payer then pays at the gateway, outside the portal;
 *   - webhooks: the gateway's payment.captured and order.paid for batches paid before the run,
 *     a fifth of them sent twice (Razorpay retries), each signed as Razorpay signs them: the
 *     first settles the batch (allocations, receipts, ledger, postings), the repeat does nothing.
 * The processes also run their own loops meanwhile (postings to the billing simulator every
 * 2 s, the janitor). Afterwards the money invariants are checked and every webhook's batch must
 * be paid. Latencies are per response (autocannon's 'response' event): p50, p95, p99.
 *
 * --processes 1 runs one process without nginx, for comparison. The data set is kept with --keep
 * (database sangrahan_bench_load_<connections>).
 */

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '200000' },
    months: { type: 'string', default: '3' },
    duration: { type: 'string', default: '60' },
    processes: { type: 'string', default: '2' },
    browse: { type: 'string', default: '24' },
    pay: { type: 'string', default: '4' },
    hooks: { type: 'string', default: '4' },
    webhooks: { type: 'string', default: '2500' },
    keep: { type: 'boolean', default: false },
  },
});
const CONNECTIONS = Number(values.connections);
const DURATION = Number(values.duration);
const PROCESSES = Number(values.processes);
const HOOK_BATCHES = Number(values.webhooks);
const lakh = (n: number) => n.toLocaleString('en-IN');

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function dataSet(): Promise<{ database: Database; name: string; drop: () => Promise<void> }> {
  const name = values.keep ? `sangrahan_bench_load_${CONNECTIONS}` : `sangrahan_bench_load_${process.pid}`;
  const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
  const exists = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${name}`.execute(admin.db);
  if (!exists.rows[0]!.n) await admin.withClient((c) => c.exec(`CREATE DATABASE ${name}`));
  await admin.close();
  const database = await openDatabase({ databaseUrl: withDatabase(PG_BASE, name), poolMax: 4 });
  await migrate(database);
  const has = await database.db.selectFrom('connections').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
  if (!has.n) {
    const t0 = Date.now();
    await seedDemo(database, { seed: 31, connections: CONNECTIONS, months: Number(values.months), asOf: new Date(), chunkSize: 20000 });
    const tagged = await tagDemoConnections(database);
    // Organisations that let their makers pay without a second approver (their own setting).
    await database.db.updateTable('organisations').set({ approval_threshold_paise: null }).execute();
    await database.withClient((c) => c.exec('VACUUM (ANALYZE)'));
    console.log(`  ${lakh(CONNECTIONS)} connections (${values.months} months of bills) loaded, ${lakh(tagged)} tagged, in ${seconds(Date.now() - t0)}`);
  }
  const drop = async () => {
    if (values.keep) return;
    const a = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
    await a.withClient((c) => c.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    await a.close();
  };
  return { database, name, drop };
}

/** nginx in front of the app processes: round robin by least connections, keep-alive upstream. */
async function startNginx(port: number, upstreams: number[]): Promise<{ stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-nginx-'));
  fs.chmodSync(dir, 0o777);
  const conf = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream portal {
    least_conn;
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 50m;
    location / {
      proxy_pass http://portal;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 120s;
    }
  }
}
`;
  fs.writeFileSync(`${dir}/nginx.conf`, conf);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor('nginx', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 20_000);
  return {
    stop: async () => {
      child.kill('SIGQUIT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Hook {
  body: string;
  headers: Record<string, string>;
}

/** Batches paid at the gateway before the run, their webhooks held back to be sent under load. */
async function prepareWebhooks(database: Database, base: string, sessions: { s: HttpSession; org: bigint }[], queues: Map<bigint, bigint[]>): Promise<{ hooks: Hook[]; batches: bigint[] }> {
  const payments = await buildGateway(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), database.db);
  // The processes must not deliver these themselves: no webhook address while they are made.
  await sql`UPDATE gateway_sim.merchants SET webhook_url = NULL`.execute(database.db);
  const batches: bigint[] = [];
  for (let i = 0; i < HOOK_BATCHES; i++) {
    const { s, org } = sessions[i % sessions.length]!;
    const id = queues.get(org)!.pop();
    if (id === undefined) continue;
    const b = await s.send('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: id.toString() }] }, { 'idempotency-key': `load-hook-${i}-${Date.now()}` });
    if (b.status !== 201) throw new Error(`batch for a webhook: ${b.status} ${b.text}`);
    const batchId = BigInt(b.json<{ id: string }>().id);
    const co = await s.send('POST', `/api/v1/org/payments/batches/${batchId}/checkout`);
    if (co.status !== 200) throw new Error(`checkout: ${co.status} ${co.text}`);
    const f = co.json<{ fields: Record<string, string> }>().fields;
    await payments.sandbox!.pay(f.key_id!, f.order_id!, 'success', 'upi');
    batches.push(batchId);
  }
  const { rows } = await sql<{ id: bigint; event_id: string; body: string; webhook_secret: string }>`
    SELECT d.id, d.event_id, d.body, m.webhook_secret FROM gateway_sim.deliveries d JOIN gateway_sim.merchants m ON m.key_id = d.key_id
     WHERE d.status = 'pending' ORDER BY d.id`.execute(database.db);
  // Sent by the benchmark instead: marked so the processes never send them.
  await sql`UPDATE gateway_sim.deliveries SET status = 'delivered' WHERE id = ANY(${rows.map((r) => r.id.toString())}::bigint[])`.execute(database.db);
  const hooks: Hook[] = [];
  rows.forEach((r, i) => {
    const h = { body: r.body, headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(r.body, r.webhook_secret), 'x-razorpay-event-id': r.event_id } };
    hooks.push(h);
    if (i % 5 === 0) hooks.push(h); // a retry
  });
  // Shuffled: captured and order.paid of one payment arrive in either order, retries anywhere.
  let seed = 99;
  for (let i = hooks.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [hooks[i], hooks[j]] = [hooks[j]!, hooks[i]!];
  }
  await sql`UPDATE gateway_sim.merchants SET webhook_url = ${`${base}/api/v1/webhooks/razorpay`}`.execute(database.db);
  return { hooks, batches };
}

interface Session {
  s: HttpSession;
  org: bigint;
  cookie: string;
  csrf: string;
}
type Ctx = { session?: Session; batch?: string | null };

interface Kind {
  name: string;
  lat: number[];
  statuses: Map<number, number>;
  result?: autocannon.Result;
}

function run(kind: Kind, opts: autocannon.Options): Promise<void> {
  return new Promise((resolve, reject) => {
    const inst = autocannon(opts, (err, result) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      kind.result = result;
      resolve();
    });
    inst.on('response', (_client, status, _bytes, ms) => {
      kind.lat.push(ms);
      kind.statuses.set(status, (kind.statuses.get(status) ?? 0) + 1);
    });
  });
}

async function main(): Promise<void> {
  if (PROCESSES > 1 && spawnSync('nginx', ['-v']).error) {
    console.error('The load test needs nginx as its load balancer: apt-get install nginx-light (or nginx). Or run it with --processes 1.');
    process.exit(1);
  }
  console.log(`Load test (month-end rush): ${PROCESSES} app process(es)${PROCESSES > 1 ? ' behind nginx' : ''}, one PostgreSQL; ${DURATION} s; ${machine()}`);
  const { database, drop } = await dataSet();
  const apps: AppProcess[] = [];
  let nginx: { stop: () => Promise<void> } | null = null;
  try {
    const lb = PROCESSES > 1 ? await freePort() : null;
    const ports = await Promise.all(Array.from({ length: PROCESSES }, () => freePort()));
    const base = `http://127.0.0.1:${lb ?? ports[0]}`;
    for (const port of ports) {
      const app = new AppProcess(port, {
        DATABASE_URL: withDatabase(PG_BASE, (await sql<{ d: string }>`SELECT current_database() AS d`.execute(database.db)).rows[0]!.d),
        // Not NODE_ENV=production: production refuses the sandbox gateway these webhooks come from.
        PUBLIC_URL: base, TRUST_PROXY: lb ? '127.0.0.1' : 'false', LOG_LEVEL: 'warn', DB_POOL_MAX: '10', NODE_ENV: 'development', DEV_TOOLS: 'false',
      });
      await app.start();
      apps.push(app);
    }
    if (lb) nginx = await startNginx(lb, ports);

    // Sessions: three for each organisation's administrator.
    const orgLogins = DEMO_LOGINS.filter((u) => u.org && !u.totpSecret && u.role === 'org_admin' && !('office' in u && u.office));
    const sessions: Session[] = [];
    for (const u of orgLogins) {
      for (let k = 0; k < 3; k++) {
        const s = new HttpSession(() => base);
        const r = await s.send('POST', '/api/v1/auth/login', { loginId: u.loginId, password: DEMO_PASSWORD });
        if (r.status !== 200) throw new Error(`login ${u.loginId}: ${r.status} ${r.text}`);
        const me = await s.send('GET', '/api/v1/auth/session');
        const org = BigInt(me.json<{ user: { org: { id: string } } }>().user.org.id);
        sessions.push({ s, org, cookie: s.cookieHeader(), csrf: s.csrfToken() });
      }
    }
    // Each organisation's owing connections in no open batch, to pay.
    const { rows: owing } = await sql<{ org_id: bigint; connection_id: bigint }>`
      SELECT d.org_id, d.connection_id FROM connection_dues d
       WHERE d.org_id IS NOT NULL AND d.balance_paise > 0
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id`.execute(database.db);
    const queues = new Map<bigint, bigint[]>();
    for (const r of owing) queues.set(r.org_id, [...(queues.get(r.org_id) ?? []), r.connection_id]);
    const orgsWithDues = new Set(queues.keys());
    const payers = sessions.filter((x) => orgsWithDues.has(x.org));
    console.log(`  ${sessions.length} sessions of ${orgLogins.length} organisations; ${lakh(owing.length)} owing connections to pay`);

    const t0 = Date.now();
    const { hooks, batches } = await prepareWebhooks(database, base, payers, queues);
    console.log(`  ${lakh(batches.length)} batches paid at the gateway, ${lakh(hooks.length)} webhooks held back for the run (${seconds(Date.now() - t0)})`);

    const browse: Kind = { name: 'browse dues', lat: [], statuses: new Map() };
    const pay: Kind = { name: 'pay (batch + checkout)', lat: [], statuses: new Map() };
    const hook: Kind = { name: 'webhooks', lat: [], statuses: new Map() };
    let bi = 0;
    let pi = 0;
    let hi = 0;
    let n = 0;
    let ranOut = false;
    const pages = ['/api/v1/org/dues/summary', '/api/v1/org/dues?limit=50&total=true', '/api/v1/org/dues?limit=50&total=true&status=overdue&sort=amount', '/api/v1/org/payments/batches?limit=20'];
    const started = Date.now();
    await Promise.all([
      run(browse, {
        url: base, connections: Number(values.browse), duration: DURATION, timeout: 30,
        requests: [{
          method: 'GET',
          setupRequest: (req) => {
            const x = sessions[bi % sessions.length]!;
            return { ...req, path: pages[bi++ % pages.length]!, headers: { ...req.headers, cookie: x.cookie } };
          },
        }],
      }),
      run(pay, {
        url: base, connections: Number(values.pay), duration: DURATION, timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/org/payments/batches',
            setupRequest: (req, context) => {
              for (let tries = 0; tries < payers.length; tries++) {
                const x = payers[pi++ % payers.length]!;
                const q = queues.get(x.org)!;
                if (!q.length) continue;
                const items = q.splice(-Math.min(q.length, 1 + (pi % 3))).map((id) => ({ connectionId: id.toString() }));
                (context as Ctx).session = x;
                return {
                  ...req,
                  headers: { ...req.headers, cookie: x.cookie, 'x-csrf-token': x.csrf, 'content-type': 'application/json', 'idempotency-key': `load-pay-${process.pid}-${n++}` },
                  body: JSON.stringify({ items }),
                };
              }
              // Every owing connection is in a payment already: read the dues instead (reported).
              ranOut = true;
              (context as Ctx).batch = null;
              return { ...req, method: 'GET', path: '/api/v1/org/dues?limit=50', headers: { ...req.headers, cookie: payers[0]!.cookie }, body: undefined };
            },
            onResponse: (status, body, context) => {
              (context as Ctx).batch = status === 201 ? (JSON.parse(body) as { id: string }).id : null;
            },
          },
          {
            method: 'POST',
            setupRequest: (req, context) => {
              const { session: x, batch } = context as Ctx;
              if (!batch || !x) return undefined as unknown as autocannon.Request; // start over
              return { ...req, path: `/api/v1/org/payments/batches/${batch}/checkout`, headers: { ...req.headers, cookie: x.cookie, 'x-csrf-token': x.csrf } };
            },
          },
        ],
      }),
      // Each held-back webhook once (a fifth of them twice, as Razorpay retries), not round again:
      // a second round would be all duplicates. It may end before the others.
      run(hook, {
        url: base, connections: Number(values.hooks), amount: hooks.length, timeout: 30,
        requests: [{
          method: 'POST',
          path: '/api/v1/webhooks/razorpay',
          setupRequest: (req) => {
            const h = hooks[hi++ % hooks.length]!;
            return { ...req, headers: { ...req.headers, ...h.headers }, body: h.body };
          },
        }],
      }),
    ]);
    const wall = (Date.now() - started) / 1000;

    // Every webhook's batch is paid (the first sending settled it; the loop may have gone round again).
    await waitFor('every webhook batch paid', async () => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payment_batches WHERE id = ANY(${batches.map(String)}::bigint[]) AND status <> 'paid'`.execute(database.db);
      return rows[0]!.n === 0;
    }, 120_000, 1000);
    await database.withClient((c) => c.exec('ANALYZE'));
    await checkInvariants(database.db);
    const problems = apps.flatMap((a) => a.problems());

    const all: Kind = { name: 'all requests', lat: [...browse.lat, ...pay.lat, ...hook.lat], statuses: new Map() };
    for (const k of [browse, pay, hook]) for (const [s, c] of k.statuses) all.statuses.set(s, (all.statuses.get(s) ?? 0) + c);
    // 5xx answers, and requests with no answer (autocannon's errors, timeouts included).
    const errorsOf = (k: Kind) => [...k.statuses].filter(([s]) => s >= 500 || s === 0).reduce((x, [, c]) => x + c, 0) + (k.result?.errors ?? 0);
    const setup = `${PROCESSES} process${PROCESSES > 1 ? 'es behind nginx' : ''}`;
    const lines = [browse, pay, hook, all].map((k) => {
      const count = k.lat.length;
      const rps = count / (k === hook && hook.result ? hook.result.duration : wall);
      const line = `${k.name.padEnd(24)} ${lakh(count).padStart(8)} requests, ${rps.toFixed(0).padStart(5)}/s, p50 ${pct(k.lat, 50).toFixed(1)} ms, p95 ${pct(k.lat, 95).toFixed(1)} ms, p99 ${pct(k.lat, 99).toFixed(1)} ms, errors ${errorsOf(k)}; statuses ${JSON.stringify(Object.fromEntries(k.statuses))}`;
      record({
        bench: 'load',
        id: `${PROCESSES}-${k.name}`,
        what: `month-end rush, ${setup}, ${DURATION} s: ${k.name} (p99 ${pct(k.lat, 99).toFixed(0)} ms, ${errorsOf(k)} errors)`,
        engine: 'postgres',
        productRate: `${rps.toFixed(0)} req/s`,
        productP50: pct(k.lat, 50),
        productP95: pct(k.lat, 95),
      });
      return `    ${line}`;
    });
    console.log(`  ${setup}, ${Number(values.browse) + Number(values.pay) + Number(values.hooks)} connections for ${wall.toFixed(1)} s:\n${lines.join('\n')}`);
    if (ranOut) console.log('  NOTE: the owing connections ran out during the run; some "pay" requests were reads (raise --connections)');
    console.log(`  ${lakh(batches.length)} batches settled by the webhooks; invariants hold; ${problems.length} error lines in the processes' logs${problems.length ? `:\n${problems.slice(0, 10).join('\n')}` : ''}`);
  } finally {
    await nginx?.stop();
    for (const a of apps) await a.kill('SIGTERM');
    await database.close();
    await drop();
  }
}

await main();
