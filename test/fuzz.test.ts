import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../src/adapters/billing-system/simulator.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../src/modules/demo/people.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';
import type { App } from '../src/platform/context.ts';
import type { Database } from '../src/platform/db/database.ts';
import { buildApp } from '../src/server.ts';
import { testConfig } from './helpers/config.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { Client } from './helpers/http.ts';
import { rng } from './helpers/rng.ts';
import { exampleBody, isPublic, routes as allRoutes, type Route } from './helpers/routes.ts';

/**
 * Walks every operation of the OpenAPI document with hostile input: wrong types, huge strings,
 * deep nesting, numbers out of range (huge, negative, fractional, "NaN"), in path parameters,
 * query parameters and JSON bodies; as an organisation user and as discom staff. Bad input must
 * never answer 5xx nor show a stack trace. The choice of variants is seeded (FUZZ_SEED): a
 * failure prints the seed, the operation and the payload, and replays with the same seed;
 * FUZZ_LOG=1 prints every request with its status and time.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 17);
const HUGE_INT = '99999999999999999999999';
const MB = 1024 * 1024;

/** A value that is wrong for most fields; `huge` is always tried, two more are drawn per field. */
const scalarKinds: Record<string, () => unknown> = {
  huge: () => HUGE_INT,
  hugeNumber: () => 1e23,
  negative: () => -1,
  float: () => 1.5,
  nan: () => 'NaN',
  long: () => 'x'.repeat(200 * 1024),
  wrongType: () => ({ a: [1, true] }),
  list: () => ['1', '2'],
  nul: () => null,
  deep: () => nest(40),
  bool: () => true,
  empty: () => '',
  unicode: () => 'क\u202e\uffff😀',
};
/** The same for a path or query parameter, which is text. */
const textKinds: Record<string, string> = {
  huge: HUGE_INT,
  negative: '-1',
  float: '1.5',
  nan: 'NaN',
  exp: '1e400',
  long: 'x'.repeat(10 * 1024),
  empty: '',
  unicode: 'क\u202e😀',
  bigint19: '9223372036854775808',
};

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Raw JSON bodies for the whole request. */
const bodyKinds: Record<string, () => string> = {
  deepArray: () => '['.repeat(100_000) + ']'.repeat(100_000),
  deepObject: () => '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
  array: () => '[1,2,3]',
  string: () => '"x"',
  number: () => '12345678901234567890123',
  null: () => 'null',
  megabyte: () => JSON.stringify({ x: 'y'.repeat(MB) }),
  truncated: () => '{"a": [1, 2',
};

/** Files for routes that take an upload (no JSON body), and a form for routes that read forms. */
const fileKinds: Record<string, (pick: () => number) => [string, Buffer]> = {
  garbage: (pick) => ['text/csv', Buffer.from(Array.from({ length: 4096 }, () => Math.floor(pick() * 256)))],
  hugeCell: () => ['text/csv', Buffer.from(`consumer_no,name\n"${'9'.repeat(500 * 1024)}",x\n`)],
  quotes: () => ['text/csv', Buffer.from('consumer_no\n"unterminated\n""\n,,,,,,,,\n\u0000\n')],
  xlsx: (pick) => ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(Array.from({ length: 2048 }, () => Math.floor(pick() * 256)))])],
  form: () => ['application/x-www-form-urlencoded', Buffer.from(`razorpay_payment_id=${'x'.repeat(60_000)}&error[code]=${HUGE_INT}&error[metadata]={"a":[[[[&razorpay_signature=%00%ff`)],
};
/** The query an upload needs to get past its own checks, so that the file itself is read. */
const uploadQuery: Record<string, string> = {
  '/api/v1/org/tag-jobs': '?fileName=f.csv',
  '/api/v1/discom/recon/statements': '?format=csv&account=50200011112221&fileName=s.csv',
  '/api/v1/discom/recon/settlements': '?fileName=s.csv',
};

interface Attempt {
  who: 'org' | 'discom';
  method: string;
  url: string;
  body?: string | Buffer;
  contentType?: string;
  what: string;
}

describe(`fuzzing every operation on ${engineName} (seed ${SEED})`, () => {
  let database: Database;
  let app: App;
  const clients: Record<'org' | 'discom', Client> = {} as never;
  const discomStaff = DEMO_LOGINS.find((l) => l.loginId === 'admin.discom')!;
  /** Real objects for path parameters, so that a bad query or body reaches the handler. */
  const ids: Record<string, string> = { code: 'NBPDCL' };

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 17, connections: 40, asOf: new Date('2026-11-26T12:00:00Z') });
    app = await buildApp({
      config: testConfig({ devTools: true, loginMaxFailures: 100_000, loginMaxFailuresPerIp: 100_000 }),
      database,
      billing: new BillingSimulator(database),
      clock: () => new Date(),
    });
    await app.ready();
    clients.org = await new Client(app, '10.0.0.1').login('edu.admin', DEMO_PASSWORD);
    clients.discom = await new Client(app, '10.0.0.2').login(discomStaff.loginId, DEMO_PASSWORD, discomStaff.totpSecret);

    const { db } = database;
    const org = await db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow();
    const office = await db.selectFrom('offices').select('id').where('org_id', '=', org.id).orderBy('id').executeTakeFirstOrThrow();
    const user = await db.selectFrom('users').select('id').where('login_id', '=', 'edu.viewer').executeTakeFirstOrThrow();
    const owned = await db
      .selectFrom('connections as c')
      .innerJoin('bills as b', 'b.connection_id', 'c.id')
      .select(['c.id', 'c.consumer_no', 'b.id as bill_id', 'b.bill_no'])
      .where('c.owner_dept_code', '=', 'BR-EDU')
      .orderBy('b.bill_month', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const tag = await clients.org.post('/api/v1/org/tags', { connectionId: owned.id.toString(), proof: { type: 'bill_number', value: owned.bill_no } });
    expect(tag.statusCode, tag.body).toBe(201);
    const job = await clients.org.raw('POST', '/api/v1/org/tag-jobs?fileName=a.csv', Buffer.from(`consumer_no\n${owned.consumer_no}\nNOPE\n`), 'text/csv');
    expect(job.statusCode, job.body).toBe(202);
    const selection = await clients.org.post('/api/v1/org/dues/selections', {});
    const batch = await clients.org.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: owned.id.toString(), amountPaise: '50000' }] }, { 'idempotency-key': 'fuzz-setup-batch' });
    expect(batch.statusCode, batch.body).toBe(201);
    const statement = await clients.discom.raw('POST', '/api/v1/discom/recon/statements?format=csv&account=50200011112221&fileName=s.csv', fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/statements/in_bank_day_morning.csv')));
    expect(statement.statusCode, statement.body).toBe(200);
    Object.assign(ids, {
      orgId: org.id.toString(), officeId: office.id.toString(), userId: user.id.toString(), connectionId: owned.id.toString(), billId: owned.bill_id.toString(),
      tagId: tag.json().tagId, jobId: job.json().id, selectionId: selection.json().id, batchId: batch.json().id, statementId: statement.json().statements[0].id,
    });
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  /** The routes to walk. */
  const routes = (): Route[] => allRoutes(app);

  function attemptsFor(route: Route, pick: () => number): Attempt[] {
    const { method, path, op } = route;
    const who = path.includes('/discom/') || path.startsWith('/sandbox/') ? 'discom' : 'org';
    const params = (op.parameters ?? []) as { in: string; name: string }[];
    const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
    const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);
    const draw = <T>(kinds: Record<string, T>, n: number): [string, T][] => {
      const names = Object.keys(kinds).filter((k) => k !== 'huge');
      const chosen = new Set<string>('huge' in kinds ? ['huge'] : []);
      n += chosen.size;
      while (chosen.size < n) chosen.add(names[Math.floor(pick() * names.length)]!);
      return [...chosen].map((k) => [k, kinds[k]!]);
    };
    const url = (over: Record<string, string> = {}, query = '') =>
      path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(over[name] ?? ids[name] ?? '1')) + query;
    const hasBody = method !== 'GET' && method !== 'DELETE';
    const example = hasBody ? (exampleBody(method, path, op) ?? {}) : undefined;
    const json = example === undefined ? undefined : JSON.stringify(example);
    const out: Attempt[] = [];

    for (const name of pathParams) {
      for (const [kind, v] of draw(textKinds, 2)) out.push({ who, method, url: url({ [name]: v }), body: json, what: `path ${name}=${kind}` });
    }
    for (const name of queryParams) {
      for (const [kind, v] of draw(textKinds, 2)) out.push({ who, method, url: url({}, `?${name}=${encodeURIComponent(v)}`), body: json, what: `query ${name}=${kind}` });
      out.push({ who, method, url: url({}, `?${name}=1&${name}=2`), body: json, what: `query ${name} twice` });
    }
    if (hasBody) {
      for (const [kind, v] of draw(bodyKinds, 2)) out.push({ who, method, url: url(), body: v(), what: `body=${kind}` });
      if (!op.requestBody) {
        for (const [kind, f] of draw(fileKinds, 2)) {
          const [contentType, body] = f(pick);
          out.push({ who, method, url: url({}, uploadQuery[path] ?? ''), body, contentType, what: `file=${kind}` });
        }
      }
      if (op.requestBody) {
        for (const leaf of leaves(example)) {
          for (const [kind, v] of draw(scalarKinds, 2)) out.push({ who, method, url: url(), body: JSON.stringify(setAt(example, leaf, v())), what: `body.${leaf.join('.')}=${kind}` });
        }
      }
    }
    return out;
  }

  it('answers no 5xx and shows no stack trace, whatever the input', async () => {
    const pick = rng(SEED);
    // The example of a password change names the demo password: the walk changes it, and puts it back.
    const { db } = database;
    const { password_hash } = await db.selectFrom('users').select('password_hash').where('login_id', '=', 'edu.admin').executeTakeFirstOrThrow();
    const failures: string[] = [];
    let sent = 0;
    let ops = 0;
    for (const route of routes()) {
      ops++;
      for (const a of attemptsFor(route, pick)) {
        const client = clients[a.who];
        const t0 = performance.now();
        const res = await send(client, a);
        if (process.env.FUZZ_LOG) console.log('T', Math.round(performance.now() - t0), res.statusCode, a.method, route.path, a.what);
        sent++;
        const leak = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+/.test(res.body.slice(0, 100_000));
        if (res.statusCode >= 500 || leak) {
          failures.push(`${res.statusCode}${leak ? ' (stack trace)' : ''} ${a.method} ${route.path} as ${a.who}: ${a.what}\n  url: ${a.url.slice(0, 200)}\n  body: ${(a.body ?? '').toString().slice(0, 200)}\n  answer: ${res.body.slice(0, 300)}`);
        }
        // A walk that logged the client out (logout, a password change) logs it in again.
        if (process.env.FUZZ_LOG) console.log(res.statusCode, a.method, route.path, a.what);
        if (route.path.startsWith('/api/v1/auth/') && res.statusCode < 300) await db.updateTable('users').set({ password_hash }).where('login_id', '=', 'edu.admin').execute();
        if (res.statusCode === 401 && !isPublic(route.op)) {
          const s = await client.get('/api/v1/auth/session');
          if (!s.json<{ authenticated: boolean }>().authenticated) {
            clients[a.who] = a.who === 'org' ? await new Client(app, '10.0.0.1').login('edu.admin', DEMO_PASSWORD) : await new Client(app, '10.0.0.2').login(discomStaff.loginId, DEMO_PASSWORD, discomStaff.totpSecret);
          }
        }
      }
    }
    console.log(`fuzz seed ${SEED}: ${ops} operations, ${sent} requests, ${failures.length} failures`);
    expect(ops).toBeGreaterThan(100);
    expect(failures, `FUZZ_SEED=${SEED}`).toEqual([]);
  });

  it('declares a range for every number and a bound for every text it accepts', () => {
    const unbounded: string[] = [];
    for (const { method, path, op } of routes()) {
      for (const p of (op.parameters ?? []) as { in: string; name: string; schema?: Schema }[]) boundsOf(p.schema, `${method} ${path} ${p.in}.${p.name}`, unbounded);
      boundsOf((op.requestBody?.content?.['application/json'] as { schema?: Schema } | undefined)?.schema, `${method} ${path} body`, unbounded);
    }
    expect(unbounded).toEqual([]);
  });

  it('refuses a body nested 100,000 deep with 400 on a public route and a logged-in one', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const [client, url] of [
      [new Client(app, '10.0.0.9'), '/api/v1/auth/login'],
      [clients.org, '/api/v1/org/offices'],
    ] as const) {
      const r = await send(client, { who: 'org', method: 'POST', url, body: deep, what: 'deep' });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'body', problem: 'too_deep' }] });
    }
  });

  it('refuses an id or cursor beyond a bigint with 400, naming the field', async () => {
    for (const url of [`/api/v1/org/tag-jobs/${ids.jobId}/rows?after=${HUGE_INT}`, `/api/v1/org/payments/batches/${HUGE_INT}`, `/api/v1/org/payments/batches/${ids.batchId}/items?after=9223372036854775808`]) {
      const r = await clients.org.get(url);
      expect(r.statusCode, `${url}: ${r.body}`).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    for (const after of [HUGE_INT, '1e400', '-1']) {
      const r = await clients.discom.get(`/api/v1/discom/recon/statements/${ids.statementId}/lines?after=${after}`);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.details).toEqual([expect.objectContaining({ path: 'querystring.after', message: expect.objectContaining({ en: expect.any(String), hi: expect.any(String) }) })]);
    }
    const r = await clients.org.get(`/api/v1/org/dues?limit=1e400&officeId=${HUGE_INT}0`);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['querystring.limit', 'querystring.officeId']);
  });
});

let sentCount = 0;

async function send(client: Client, a: Attempt) {
  return client.app.inject({
    method: a.method as 'GET',
    url: a.url,
    remoteAddress: client.ip,
    headers: {
      ...(client.cookie ? { cookie: `sg_session=${client.cookie}` } : {}),
      ...(client.csrf && a.method !== 'GET' ? { 'x-csrf-token': client.csrf } : {}),
      ...(a.body !== undefined ? { 'content-type': a.contentType ?? 'application/json' } : {}),
      'idempotency-key': `fuzz-${SEED}-${++sentCount}`,
    },
    ...(a.body !== undefined ? { payload: a.body } : {}),
  });
}

type Schema = { type?: string; minimum?: number; maximum?: number; maxLength?: number; pattern?: string; format?: string; enum?: unknown[]; const?: unknown; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

/**
 * An integer or number without both a minimum and a maximum can reach a query out of its
 * column's range; a text with no maximum length, pattern, format or set of values has no bound.
 */
function boundsOf(s: Schema | undefined, at: string, out: string[]): void {
  if (!s) return;
  if ((s.type === 'integer' || s.type === 'number') && (s.minimum === undefined || s.maximum === undefined)) out.push(`${at}: ${s.type} without a range`);
  if (s.type === 'string' && s.maxLength === undefined && !s.pattern && !s.format && !s.enum && s.const === undefined) out.push(`${at}: text without a bound`);
  for (const x of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) boundsOf(x, at, out);
  for (const [k, x] of Object.entries(s.properties ?? {})) boundsOf(x, `${at}.${k}`, out);
  boundsOf(s.items, `${at}[]`, out);
  if (typeof s.additionalProperties === 'object') boundsOf(s.additionalProperties, `${at}.*`, out);
}

/** The paths to every leaf of an example body (array elements through their first). */
function leaves(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.length ? [at, ...leaves(v[0], [...at, 0])] : [at];
  if (v && typeof v === 'object') {
    const out = Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
    return at.length ? [at, ...out] : out;
  }
  return [at];
}

function setAt(root: unknown, at: (string | number)[], value: unknown): unknown {
  if (!at.length) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[at.at(-1)!] = value;
  return copy;
}
