import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import archiver from 'archiver';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../src/modules/identity/index.ts';
import { withDatabase } from '../test/helpers/pg.ts';
import { AppProcess, freePort, HttpSession, sleep } from '../test/helpers/process.ts';
import { freshBenchDatabase, machine, PG_BASE, record, seconds } from './lib.ts';

/**
 * Hostile input against one portal process (`serve`, as `npm start` runs it), on PostgreSQL and
 * on PGlite (issue 17). A client polls /healthz and an organisation's dues page every 100 ms,
 * first on the idle server (the baseline), then while these arrive at once:
 *
 *   - a 19 MB CSV upload that is one single line (mass tagging);
 *   - a 6.5 MB XLSX upload with many shared strings (1,00,000 distinct ones; mass tagging);
 *   - a zip bomb named .xlsx (a 1.1 GB sheet deflated to about a megabyte);
 *   - a 1,000,000-line MT940 statement (the discom's accounts team);
 *   - 200 requests with a JSON body nested 100,000 deep (a public route: the login).
 *
 * Polling goes on until every file has its outcome (refused, failed or done). Reported: the
 * polls' p50/p99/max, idle and under attack, the server's peak RSS (VmHWM), and what became of
 * each file. The aim (issue 17): p99 under attack within 2× idle, max under 500 ms.
 */

const { values } = parseArgs({
  options: {
    engines: { type: 'string', default: 'postgres,pglite' },
    connections: { type: 'string', default: '20000' },
    idle: { type: 'string', default: '10' },
    'statement-lines': { type: 'string', default: '1000000' },
    'timeout-s': { type: 'string', default: '900' },
  },
});
const ENGINES = values.engines.split(',') as ('postgres' | 'pglite')[];
const CONNECTIONS = Number(values.connections);
const IDLE_S = Number(values.idle);
const STATEMENT_LINES = Number(values['statement-lines']);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

// ---- the files -----------------------------------------------------------------------------------

function singleLineCsv(bytes: number): Buffer {
  return Buffer.concat([Buffer.from('consumer_no,proof\n'), Buffer.alloc(bytes, '7')]);
}

/** 1,00,000 rows (the upload limit), each with a distinct, hard-to-compress string: about 6.5 MB. */
async function manySharedStrings(): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: true });
  const ws = wb.addWorksheet('Sheet1');
  ws.addRow(['consumer_no', 'proof']).commit();
  for (let i = 0; i < 99_999; i++) {
    const h = (alg: string) => createHash(alg).update(String(i));
    ws.addRow([`9${String(100000000 + i)}`, h('sha256').digest('base64').slice(0, 40) + h('md5').digest('hex').slice(0, 22)]).commit();
  }
  ws.commit();
  await wb.commit();
  return Buffer.concat(chunks);
}

async function zipBomb(inflated: number): Promise<Buffer> {
  const zip = archiver('zip', { zlib: { level: 9 } });
  const chunks: Buffer[] = [];
  zip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => zip.on('end', r));
  zip.append('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>', { name: '[Content_Types].xml' });
  const zero = Buffer.alloc(1 << 20, 0x20);
  let left = inflated;
  zip.append(
    Readable.from(
      (function* () {
        while (left > 0) {
          const n = Math.min(left, zero.length);
          left -= n;
          yield n === zero.length ? zero : zero.subarray(0, n);
        }
      })(),
    ),
    { name: 'xl/worksheets/sheet1.xml' },
  );
  await zip.finalize();
  await done;
  return Buffer.concat(chunks);
}

function bigMt940(account: string, lines: number): Buffer {
  const txns = Math.floor((lines - 5) / 2);
  const day = new Date(Date.now() + 5.5 * 3_600_000).toISOString().slice(2, 10).replace(/-/g, '');
  const parts: string[] = [':20:ABUSE1', `:25:${account}`, ':28C:1/1', `:60F:C${day}INR0,00`];
  for (let i = 0; i < txns; i++) {
    parts.push(`:61:${day}C100,00NTRFNONREF//ABUSE${i}`, `:86:NEFT CR ABSN${String(i).padStart(12, '0')} PAYER ${i}`);
  }
  parts.push(`:62F:C${day}INR${txns * 100},00`, '-');
  return Buffer.from(`${parts.join('\r\n')}\r\n`);
}

const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// ---- the run -------------------------------------------------------------------------------------

interface Poll {
  url: string;
  at: number;
  ms: number;
  status: number;
}

function poller(app: AppProcess, org: HttpSession): { stop: () => Promise<Poll[]> } {
  const polls: Poll[] = [];
  const inFlight = new Set<Promise<void>>();
  const one = (url: string, session: HttpSession | null) => {
    const t = performance.now();
    const p = (session ? session.send('GET', url) : fetch(app.url + url, { signal: AbortSignal.timeout(60_000) }).then(async (r) => ({ status: r.status, text: await r.text() })))
      .then(
        (r) => void polls.push({ url, at: t, ms: performance.now() - t, status: r.status }),
        () => void polls.push({ url, at: t, ms: performance.now() - t, status: 0 }),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const timer = setInterval(() => {
    one('/healthz', null);
    one('/api/v1/org/dues?limit=50', org);
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return polls;
    },
  };
}

/** The longest event-loop delay since the last scrape (prom-client resets its histogram on each). */
async function loopLagMaxMs(app: AppProcess): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const m = /^sangrahan_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function runOn(engine: 'postgres' | 'pglite', files: { csv: Buffer; xlsx: Buffer; bomb: Buffer; mt940: Buffer }): Promise<void> {
  const port = await freePort();
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (engine === 'postgres') {
    const database = await freshBenchDatabase('postgres');
    await seedDemo(database, { seed: 17, connections: CONNECTIONS, asOf: new Date() });
    await tagDemoConnections(database);
    const name = (await sql<{ d: string }>`SELECT current_database() AS d`.execute(database.db)).rows[0]!.d;
    env = { DATABASE_URL: withDatabase(PG_BASE, name), DB_POOL_MAX: '10' };
    // The scratch database is dropped when closed: after the run.
    cleanup = () => database.close();
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-abuse-'));
    env = { DATA_DIR: dir, DEMO_SEED: 'true', DEMO_CONNECTIONS: String(CONNECTIONS) };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  // BENCH_CPU_PROF=dir writes the server's CPU profile there (to find what holds its event loop).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const app = new AppProcess(port, { ...env, LOG_LEVEL: 'warn', NODE_ENV: 'development', DEV_TOOLS: 'false', BILLING_SYNC_INTERVAL_S: '0' }, prof);
  await app.start(30 * 60_000);
  const pid = app.pid!;
  try {
    const org = await new HttpSession(() => app.url).login('edu.admin', DEMO_PASSWORD);
    const accounts = new HttpSession(() => app.url);
    await accounts.login('accounts.nbpdcl', DEMO_PASSWORD);
    const totp = await accounts.send('POST', '/api/v1/auth/totp', { code: totpCode(DEMO_LOGINS.find((l) => l.loginId === 'accounts.nbpdcl')!.totpSecret!, stepAt(new Date())) });
    if (totp.status !== 200) throw new Error(`second factor: ${totp.status} ${totp.text}`);
    // Warm up, then the baseline.
    for (let i = 0; i < 20; i++) await org.send('GET', '/api/v1/org/dues?limit=50');
    await loopLagMaxMs(app);
    let p = poller(app, org);
    await sleep(IDLE_S * 1000);
    const idle = await p.stop();
    const idleLag = await loopLagMaxMs(app);
    const rssBefore = rss(pid);

    p = poller(app, org);
    const t0 = performance.now();
    const outcomes: Record<string, string> = {};
    const answered: Record<string, number> = {};
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const r = await f();
      answered[name] = performance.now() - t;
      return r;
    };
    const upload = (name: string, data: Buffer, type: string, file: string) =>
      timed(name, () => org.send('POST', `/api/v1/org/tag-jobs?fileName=${file}`, undefined, {}, { data, type }));
    const sent = await Promise.all([
      upload('csv', files.csv, 'text/csv', 'one-line.csv'),
      upload('xlsx', files.xlsx, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'shared-strings.xlsx'),
      upload('bomb', files.bomb, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'bomb.xlsx'),
      timed('mt940', () => accounts.send('POST', '/api/v1/discom/recon/statements?format=mt940&fileName=million.sta', undefined, {}, { data: files.mt940, type: 'application/octet-stream' })),
      timed('deep', async () => {
        const codes = new Map<number, number>();
        const body = deepJson(100_000);
        for (let i = 0; i < 200; i += 20) {
          const rs = await Promise.all(Array.from({ length: 20 }, () => fetch(`${app.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status, () => 0)));
          for (const c of rs) codes.set(c, (codes.get(c) ?? 0) + 1);
        }
        return { status: 0, text: [...codes].map(([c, n]) => `${n}× ${c}`).join(', '), json: <T>() => null as T };
      }),
    ]);
    const names = ['csv', 'xlsx', 'bomb', 'mt940', 'deep'];
    sent.forEach((r, i) => (outcomes[names[i]!] = r.status ? `${r.status} ${r.text.slice(0, 160)}` : r.text));
    // Follow each accepted file to its end.
    const follow: [string, string][] = [];
    sent.slice(0, 3).forEach((r, i) => {
      const id = r.status === 202 || r.status === 200 ? r.json<{ id?: string }>()?.id : undefined;
      if (id) follow.push([names[i]!, `/api/v1/org/tag-jobs/${id}`]);
    });
    const st = sent[3];
    if (st.status === 202) follow.push(['mt940', st.json<{ url: string }>().url]);
    let peak = peakRss(pid);
    const ended = new Set<string>();
    while (ended.size < follow.length && performance.now() - t0 < TIMEOUT_MS) {
      for (const [name, url] of follow) {
        if (ended.has(name)) continue;
        const r = await (name === 'mt940' ? accounts : org).send('GET', url);
        const s = r.json<{ status: string; error?: unknown; problems?: unknown }>();
        if (s && ['validated', 'failed', 'done', 'committed', 'cancelled', 'rejected'].includes(s.status)) {
          ended.add(name);
          outcomes[name] += ` → ${s.status} after ${seconds(performance.now() - t0)}: ${JSON.stringify(s).slice(0, 200)}`;
        }
      }
      peak = Math.max(peak, peakRss(pid));
      await sleep(500);
    }
    for (const [name] of follow) if (!ended.has(name)) outcomes[name] += ` → not ended after ${seconds(TIMEOUT_MS)}`;
    const attack = await p.stop();
    const attackLag = await loopLagMaxMs(app);
    const took = performance.now() - t0;

    const fig = (xs: Poll[]) => ({ p50: pct(xs.map((x) => x.ms), 50), p99: pct(xs.map((x) => x.ms), 99), max: Math.max(...xs.map((x) => x.ms)), n: xs.length, failed: xs.filter((x) => x.status !== 200).length });
    const a = fig(idle);
    const b = fig(attack);
    console.log(`\n[${engine}] ${machine()}; ${CONNECTIONS.toLocaleString('en-IN')} connections; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log(`  idle   (${IDLE_S} s, ${a.n} polls): p50 ${ms(a.p50)}, p99 ${ms(a.p99)}, max ${ms(a.max)}, not 200: ${a.failed}`);
    console.log(`  attack (${seconds(took)}, ${b.n} polls): p50 ${ms(b.p50)}, p99 ${ms(b.p99)}, max ${ms(b.max)}, not 200: ${b.failed}`);
    console.log(`  p99 ratio ${(b.p99 / a.p99).toFixed(1)}× (aim ≤ 2×), max ${ms(b.max)} (aim < 500 ms); RSS ${mb(rssBefore)} before, peak ${mb(peak)}`);
    for (const url of ['/healthz', '/api/v1/org/dues?limit=50']) {
      const x = fig(attack.filter((q) => q.url === url));
      const y = fig(idle.filter((q) => q.url === url));
      console.log(`    ${url}: idle p99 ${ms(y.p99)} max ${ms(y.max)}; attack p50 ${ms(x.p50)} p99 ${ms(x.p99)} max ${ms(x.max)}`);
    }
    console.log(`  the server's longest event-loop delay: idle ${ms(idleLag)}, under attack ${ms(attackLag)}`);
    for (const n of names) console.log(`  ${n}: answered in ${ms(answered[n] ?? NaN)}: ${outcomes[n]}`);
    record({ bench: 'abuse', id: 'polls', what: `polls p99 under hostile input (idle p99 ${ms(a.p99)}; max ${ms(b.max)}; peak RSS ${mb(peak)})`, engine, productP50: b.p50, productP95: b.p99, baselineP50: a.p50, baselineP95: a.p99, ratio: b.p99 / a.p99 });
  } finally {
    await app.kill('SIGTERM');
    await cleanup();
  }
}

const t = performance.now();
console.log('Making the files…');
const files = {
  csv: singleLineCsv(19 * 2 ** 20),
  xlsx: await manySharedStrings(),
  bomb: await zipBomb(1.1 * 2 ** 30),
  mt940: bigMt940('50200011112221', STATEMENT_LINES),
};
console.log(`  csv ${mb(files.csv.length)}, xlsx ${mb(files.xlsx.length)}, bomb ${(files.bomb.length / 1024).toFixed(0)} KB, mt940 ${mb(files.mt940.length)} (${seconds(performance.now() - t)})`);
for (const engine of ENGINES) await runOn(engine, files);
