import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../src/modules/audit/audit.ts';
import { recordAudit, setAuditKey } from '../src/modules/audit/index.ts';
import { sealSecret, setTotpKey } from '../src/modules/identity/index.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { engineName, freshDatabase } from './helpers/db.ts';
import { withDatabase } from './helpers/pg.ts';
import { AppProcess, HttpSession, freePort } from './helpers/process.ts';

/**
 * `serve` as an operator starts it: every configuration it must refuse is refused at start, with
 * exit code 3 and a message naming the variable to change; a complete production configuration
 * starts. The refusals that need a database (demo data in production, keys other than the ones
 * the database was written with) run against a real one.
 */

interface Run {
  code: number | null;
  out: string;
}

const BASE: Record<string, string> = {
  DATABASE_URL: '', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', DEMO_SEED: 'false', BILLING_SYNC_INTERVAL_S: '0',
  NODE_ENV: 'development', PAYMENT_GATEWAY: '', COLLECTION_BANK: '', DEV_TOOLS: '', TRUST_PROXY: '', AUDIT_KEY: '', TOTP_ENCRYPTION_KEY: '', PUBLIC_URL: '',
};

/** Runs `cli serve` (or another command); stops a server once it says it is running (or after the timeout). */
function serve(env: Record<string, string>, timeoutMs = 60_000, command = 'serve'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', command], { env: { ...process.env, ...BASE, ...env } });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const take = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Sangrahan is running at')) child.kill('SIGTERM');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const KEY_A = 'audit-key-A-0123456789abcdefghijklmnopqrstuv';
const KEY_B = 'audit-key-B-0123456789abcdefghijklmnopqrstuv';
const TOTP_KEY = 'totp-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** A production configuration that passes every check (its database is set per test). */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production', PAYMENT_GATEWAY: 'razorpay', RAZORPAY_KEY_ID: 'rzp_live_AbCdEf012345', RAZORPAY_KEY_SECRET: 'live-secret',
  RAZORPAY_WEBHOOK_SECRET: 'webhook-secret', PUBLIC_URL: 'https://sangrahan.example.in', COLLECTION_BANK: 'ecollect',
  BANK_ECOLLECT_SECRET: 'bank-secret-0123456789abcdefghijklmnop', AUDIT_KEY: KEY_A, TOTP_ENCRYPTION_KEY: TOTP_KEY,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sangrahan_never_reached',
};

describe('start-up refusals', { timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-startup-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Configuration alone decides these: one run of them is enough (the PGlite pass).
  it.skipIf(engineName === 'postgres')('refuses each unsafe or demo-only setting, naming the variable to change', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['developer pages in production', { ...PRODUCTION, DEV_TOOLS: 'true' }, /NODE_ENV=production: DEV_TOOLS is on: .*Unset DEV_TOOLS/],
      ['the default (sandbox) gateway in production', { ...PRODUCTION, PAYMENT_GATEWAY: '' }, /NODE_ENV=production: PAYMENT_GATEWAY is unset \(the sandbox\): .*Set PAYMENT_GATEWAY=razorpay/],
      ['the sandbox gateway named in production', { ...PRODUCTION, PAYMENT_GATEWAY: 'sandbox' }, /NODE_ENV=production: PAYMENT_GATEWAY is sandbox: the sandbox gateway marks batches paid with no money/],
      ['a Razorpay test key in production', { ...PRODUCTION, RAZORPAY_KEY_ID: 'rzp_test_AbCdEf012345' }, /NODE_ENV=production: RAZORPAY_KEY_ID is not a live key \(rzp_test_…\).*Set RAZORPAY_KEY_ID to the rzp_live_ key/],
      ['the default (sandbox) bank in production', { ...PRODUCTION, COLLECTION_BANK: '' }, /NODE_ENV=production: COLLECTION_BANK is unset \(the sandbox bank\): .*Set COLLECTION_BANK=ecollect with BANK_ECOLLECT_SECRET/],
      ['the sandbox bank named in production', { ...PRODUCTION, COLLECTION_BANK: 'sandbox' }, /NODE_ENV=production: COLLECTION_BANK is sandbox: the sandbox bank credits challans with no money/],
      ['the embedded database in production', { ...PRODUCTION, DATABASE_URL: '', DATA_DIR: path.join(dir, 'never') }, /NODE_ENV=production: DATABASE_URL is unset: the embedded database \(PGlite\) does not fsync.*Set DATABASE_URL/],
      ['no audit key in production', { ...PRODUCTION, AUDIT_KEY: '' }, /NODE_ENV=production: AUDIT_KEY is unset: .*Set AUDIT_KEY/],
      ['no TOTP encryption key in production', { ...PRODUCTION, TOTP_ENCRYPTION_KEY: '' }, /NODE_ENV=production: TOTP_ENCRYPTION_KEY is unset: .*Set TOTP_ENCRYPTION_KEY/],
      ['a plain-http public address in production', { ...PRODUCTION, PUBLIC_URL: 'http://sangrahan.example.in' }, /NODE_ENV=production: PUBLIC_URL is http:\/\/sangrahan.example.in \(not https\).*Set PUBLIC_URL=https:\/\//],
      ['TRUST_PROXY=true, anywhere', { TRUST_PROXY: 'true', DATA_DIR: path.join(dir, 'never') }, /TRUST_PROXY="true" is not valid: expected false, the number of proxies .*which any client can write/],
      ['Razorpay without its keys', { PAYMENT_GATEWAY: 'razorpay', DATA_DIR: path.join(dir, 'never') }, /PAYMENT_GATEWAY=razorpay needs RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET, PUBLIC_URL/],
      ['a real bank without its secret', { COLLECTION_BANK: 'ecollect', DATA_DIR: path.join(dir, 'never') }, /COLLECTION_BANK=ecollect needs BANK_ECOLLECT_SECRET/],
    ];
    const runs = await Promise.all(cases.map(([, env]) => serve(env)));
    const wrong = cases.flatMap(([what, , message], i) => (runs[i]!.code === 3 && message.test(runs[i]!.out) ? [] : [`${what}: exit ${runs[i]!.code}\n${runs[i]!.out.slice(0, 600)}`]));
    expect(wrong).toEqual([]);
    // Refused before anything was made: no data folder.
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('refuses to serve with another audit key than the log was started with, naming both key ids, and verify-audit still passes', async () => {
    // Seeded without AUDIT_KEY (PGlite: the key file in DATA_DIR; PostgreSQL: unkeyed), served with it.
    const env = await database('audit');
    setAuditKey(env.seedKey);
    await env.write(async (db) => {
      await db.transaction().execute((trx) => recordAudit(trx, { action: 'test.seeded', actor: null, actorLabel: 'startup-test', orgId: null, meta: null }));
    });
    setAuditKey(null);
    const r = await serve({ ...env.vars, AUDIT_KEY: KEY_B });
    expect(r.code, r.out).toBe(3);
    expect(r.out).toContain(`The audit log was started with key id ${env.seedKey ? keyIdOf(env.seedKey) : 'none (no key)'}, but this process has key id ${keyIdOf(KEY_B)}`);
    expect(r.out).toContain('cli audit-rekey');
    // Nothing was written with the other key: the log verifies with the one it was started with.
    const verified = await serve(env.vars, 60_000, 'verify-audit');
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toMatch(/Audit log intact: \d+ entries in \d+ chain\(s\) verified/);
    const ok = await serve(env.vars);
    expect(ok.out).toContain('Sangrahan is running at');
    // Rotation: re-keyed to the new key, the log verifies with it and the portal serves with it.
    const rekeyed = await serve({ ...env.vars, AUDIT_KEY: KEY_B, OLD_AUDIT_KEY: env.seedKey ?? 'none' }, 60_000, 'audit-rekey');
    expect(rekeyed.code, rekeyed.out).toBe(0);
    expect(rekeyed.out).toContain(`Audit log re-keyed from key id ${keyIdOf(env.seedKey)} to ${keyIdOf(KEY_B)}`);
    const verifiedB = await serve({ ...env.vars, AUDIT_KEY: KEY_B }, 60_000, 'verify-audit');
    expect(verifiedB.code, verifiedB.out).toBe(0);
    expect((await serve({ ...env.vars, AUDIT_KEY: KEY_B })).out).toContain('Sangrahan is running at');
    const old = await serve(env.vars);
    expect(old.code, old.out).toBe(3);
    expect(old.out).toContain(`started with key id ${keyIdOf(KEY_B)}`);
    await env.drop();
  });

  it('refuses to serve with another TOTP encryption key than the secrets were sealed with', async () => {
    const env = await database('totp');
    setTotpKey(TOTP_KEY);
    await env.write(async (db) => {
      await sql`INSERT INTO users (login_id, name, role, holding, status, password_hash, totp_secret) VALUES ('admin.x', 'X', 'discom_admin', true, 'active', 'x', ${sealSecret('JBSWY3DPEHPK3PXP')})`.execute(db);
    });
    setTotpKey(process.env.TOTP_ENCRYPTION_KEY ?? null);
    const r = await serve({ ...env.vars, TOTP_ENCRYPTION_KEY: `${TOTP_KEY}-other` });
    expect(r.code, r.out).toBe(3);
    expect(r.out).toMatch(/sealed with TOTP key id [0-9a-f]{12}, but this process has key id [0-9a-f]{12}\. Start with the TOTP_ENCRYPTION_KEY/);
    const ok = await serve({ ...env.vars, TOTP_ENCRYPTION_KEY: TOTP_KEY });
    expect(ok.out).toContain('Sangrahan is running at');
    // Rotation: re-encrypted with the new key, the portal serves with it and no longer with the old.
    const rekeyed = await serve({ ...env.vars, TOTP_ENCRYPTION_KEY: `${TOTP_KEY}-other`, OLD_TOTP_ENCRYPTION_KEY: TOTP_KEY }, 60_000, 'totp-rekey');
    expect(rekeyed.code, rekeyed.out).toBe(0);
    expect(rekeyed.out).toMatch(/Authenticator secrets of 1 user\(s\) re-encrypted with TOTP key id [0-9a-f]{12}\./);
    expect((await serve({ ...env.vars, TOTP_ENCRYPTION_KEY: `${TOTP_KEY}-other` })).out).toContain('Sangrahan is running at');
    expect((await serve({ ...env.vars, TOTP_ENCRYPTION_KEY: TOTP_KEY })).code).toBe(3);
    await env.drop();
  });

  it('makes a real install: init creates the holding company’s administrator, refuses a second time and demo data, and serve then loads no demo data', async () => {
    const env = await database('init');
    const admin = { INIT_ADMIN_LOGIN_ID: 'first.admin', INIT_ADMIN_NAME: 'Pratima Sinha', INIT_ADMIN_EMAIL: 'it@bsphcl.example.in', INIT_ADMIN_MOBILE: '9470000001', INIT_ADMIN_PASSWORD: 'Ganga bridge at dawn 1982' };
    const bad = await serve({ ...env.vars, ...admin, INIT_ADMIN_MOBILE: '12345', INIT_ADMIN_PASSWORD: 'password' }, 60_000, 'init');
    expect(bad.code, bad.out).toBe(3);
    expect(bad.out).toContain('mobile (INIT_ADMIN_MOBILE): a 10-digit mobile number');
    expect(bad.out).toContain('password (INIT_ADMIN_PASSWORD):');
    const made = await serve({ ...env.vars, ...admin }, 60_000, 'init');
    expect(made.code, made.out).toBe(0);
    expect(made.out).toContain('Created first.admin, discom administrator of the holding company (both discoms)');
    const again = await serve({ ...env.vars, ...admin, INIT_ADMIN_LOGIN_ID: 'second.admin' }, 60_000, 'init');
    expect(again.code, again.out).toBe(3);
    expect(again.out).toContain('already has a discom administrator (first.admin)');
    // Served with the defaults (DEMO_SEED=true): no demo data, no developer pages; the admin enrols a second factor.
    const port = await freePort();
    const app = new AppProcess(port, { ...env.vars, DEMO_SEED: 'true', NODE_ENV: 'development', DEMO_CONNECTIONS: '100' });
    try {
      await app.start();
      const meta = (await (await fetch(`${app.url}/api/v1/meta`)).json()) as { demoData: boolean; devTools: boolean };
      expect(meta).toMatchObject({ demoData: false, devTools: false });
      expect((await fetch(`${app.url}/api/v1/dev/outbox`)).status).toBe(404);
      const s = new HttpSession(() => app.url);
      const login = await s.send('POST', '/api/v1/auth/login', { loginId: 'first.admin', password: admin.INIT_ADMIN_PASSWORD });
      expect(login.status, login.text).toBe(200);
      expect(login.json<{ stage: string }>().stage).toBe('totp_enrol');
      expect((await s.send('POST', '/api/v1/auth/login', { loginId: 'admin.discom', password: 'Demo@Sangrahan2026' })).status).toBe(401);
      expect(app.log.join('\n')).not.toContain('First start: loading demo data');
    } finally {
      await app.kill('SIGTERM');
    }
    await env.drop();

    const demo = await database('init-demo');
    await demo.write(async (db) => {
      await sql`UPDATE installation SET demo_data = true`.execute(db);
    });
    const refused = await serve({ ...demo.vars, ...admin }, 60_000, 'init');
    expect(refused.code, refused.out).toBe(3);
    expect(refused.out).toContain('This database holds demo data, whose logins and password are published: init is for a real install');
    await demo.drop();
  });

  it.runIf(engineName === 'postgres')('refuses, in production, a database that holds demo data; starts on one that does not', async () => {
    const demo = await freshDatabase();
    await seedDemo(demo, { seed: 3, connections: 100, asOf: new Date('2026-11-26T12:00:00Z') });
    const demoUrl = withDatabase(process.env.DATABASE_URL!, (await sql<{ d: string }>`SELECT current_database() AS d`.execute(demo.db)).rows[0]!.d);
    // The demo's audit chains are unkeyed, so the key check would refuse too: the demo check comes first.
    const r2 = await serve({ ...PRODUCTION, DATABASE_URL: demoUrl });
    expect(r2.code, r2.out).toBe(3);
    expect(r2.out).toMatch(/NODE_ENV=production: PostgreSQL .* holds demo data \(published passwords and authenticator secrets\)/);
    // Without the flag, the published password itself is refused, naming whose it is.
    await sql`UPDATE installation SET demo_data = false`.execute(demo.db);
    await sql`UPDATE users SET status = 'disabled' WHERE login_id NOT IN ('edu.admin', 'co.nbpdcl')`.execute(demo.db);
    const r3 = await serve({ ...PRODUCTION, DATABASE_URL: demoUrl });
    expect(r3.code, r3.out).toBe(3);
    expect(r3.out).toContain('NODE_ENV=production: co.nbpdcl, edu.admin still have the demo password published in README');
    await demo.close();

    const real = await freshDatabase();
    const realUrl = withDatabase(process.env.DATABASE_URL!, (await sql<{ d: string }>`SELECT current_database() AS d`.execute(real.db)).rows[0]!.d);
    const ok = await serve({ ...PRODUCTION, DATABASE_URL: realUrl });
    expect(ok.out, ok.out).toContain('Sangrahan is running at');
    expect(ok.out).toContain('Developer pages off (NODE_ENV=production)');
    expect(ok.out).not.toContain('DEMO');
    await real.close();
  });

  /**
   * A database a child `serve` can open: on PostgreSQL a scratch database; on PGlite a data folder
   * on disk (closed before the child opens it), with the audit key file the CLI would have made.
   */
  async function database(name: string) {
    if (engineName === 'postgres') {
      const d = await freshDatabase();
      const url = withDatabase(process.env.DATABASE_URL!, (await sql<{ d: string }>`SELECT current_database() AS d`.execute(d.db)).rows[0]!.d);
      return {
        seedKey: null as string | null,
        vars: { DATABASE_URL: url, DATA_DIR: path.join(dir, `${name}-keys`) } as Record<string, string>,
        write: (fn: (db: typeof d.db) => Promise<void>) => fn(d.db),
        drop: () => d.close(),
      };
    }
    const dataDir = path.join(dir, name);
    fs.mkdirSync(dataDir, { recursive: true });
    const seedKey = 'key-file-0123456789abcdefghijklmnopqrstuvwxyz';
    fs.writeFileSync(path.join(dataDir, 'audit.key'), seedKey);
    return {
      seedKey: seedKey as string | null,
      vars: { DATA_DIR: dataDir } as Record<string, string>,
      write: async (fn: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<void>) => {
        const d = await openDatabase({ dataDir });
        await migrate(d);
        await fn(d.db);
        await d.close();
      },
      drop: async () => undefined,
    };
  }
});
