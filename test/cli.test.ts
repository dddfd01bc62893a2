import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordAudit, setAuditKey } from '../src/modules/audit/index.ts';
import { openDatabase } from '../src/platform/db/database.ts';

/** The command line as a user runs it: exit codes and messages. */

interface Run {
  code: number | null;
  out: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'silent', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

// Each test starts node processes that migrate and seed an embedded database: minutes on a loaded 2-core machine.
describe('command line', { timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-cli-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints usage for an unknown command and exits 2', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('Unknown command "frobnicate"');
    expect(r.out).toContain('seed --seed N --connections K');
  });

  it('names each bad setting and exits 3', async () => {
    const r = await cli(['migrate'], { PORT: 'x', DB_POOL_MAX: '0' });
    expect(r.code).toBe(3);
    expect(r.out).toContain('PORT="x" is not valid');
    expect(r.out).toContain('DB_POOL_MAX="0" is not valid: expected a whole number from 1 to 200');
  });

  it('checks seed arguments', async () => {
    const r = await cli(['seed', '--connections', 'lots']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--connections must be a whole number');
  });

  it('imports nothing from a file with a bad row, lists the line, exits 1; then imports a good file', async () => {
    const data = path.join(dir, 'data');
    const seeded = await cli(['seed', '--seed', '1', '--connections', '100'], { DATA_DIR: data });
    expect(seeded.code, seeded.out).toBe(0);
    expect(seeded.out).toMatch(/Done: 100 connections, 1,200 bills/);
    const header = 'discom_code,consumer_no,subdivision_code,name,address,category,supply_type,sanctioned_load_kw,meter_no,registered_mobile,owner_pan,owner_dept_code,status,balance';
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, `${header}\nNBPDCL,0101999991,101,A,B,DS-II,LT,1,,,,,active,10\nNBPDCL,1.02E+11,101,A,B,DS-II,LT,1,,,,,active,10\n`);
    const r = await cli(['import', '--connections', bad], { DATA_DIR: data });
    expect(r.code).toBe(1);
    expect(r.out).toContain('Nothing was imported: 1 problem(s) found.');
    expect(r.out).toContain('connections file, line 3: consumer_no: must be digits only');
    const good = path.join(dir, 'good.csv');
    fs.writeFileSync(good, `${header}\nNBPDCL,0101999991,101,A,B,DS-II,LT,1,,,,,active,10\n`);
    const ok = await cli(['import', '--connections', good], { DATA_DIR: data });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('Imported 1 connection(s) and 0 bill(s)');
  });

  it('seeds with demo tags, then sends the day’s alerts once', async () => {
    const data = path.join(dir, 'alerts-data');
    const seeded = await cli(['seed', '--seed', '3', '--connections', '400', '--tag'], { DATA_DIR: data });
    expect(seeded.code, seeded.out).toBe(0);
    expect(seeded.out).toMatch(/Tagged [\d,]+ connections to the demo organisations/);
    const first = await cli(['alerts', '--force'], { DATA_DIR: data, RISK_THRESHOLD_RUPEES: '1' });
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/Alerts for \d{4}-\d{2}-\d{2}: [\d,]+ alert\(s\) for [\d,]+ office\(s\), [\d,]+ message\(s\) queued/);
    expect(first.out).not.toMatch(/: 0 alert/);
    const again = await cli(['alerts', '--force'], { DATA_DIR: data });
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/were already sent/);
  });

  it('verifies the audit log, and names the entry that was changed', async () => {
    const data = path.join(dir, 'data');
    // The CLI keys the chain with the key file beside the embedded database; so do we here.
    setAuditKey(fs.readFileSync(path.join(data, 'audit.key'), 'utf8').trim());
    const db = await openDatabase({ dataDir: data });
    for (let i = 0; i < 3; i++) {
      await db.db.transaction().execute((trx) =>
        recordAudit(trx, { action: 'test.event', actor: null, actorLabel: 'cli-test', orgId: 1n, details: { i }, meta: null }),
      );
    }
    await db.close();
    setAuditKey(null);
    const checkpoint = path.join(dir, 'heads.json');
    const ok = await cli(['verify-audit', '--checkpoint', checkpoint], { DATA_DIR: data });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/Audit log intact: \d+ entries in \d+ chain\(s\) verified\./);
    expect(JSON.parse(fs.readFileSync(checkpoint, 'utf8'))['1'].seq).toBe('5'); // registered, approved, then our 3
    const db2 = await openDatabase({ dataDir: data });
    await db2.withClient((c) => c.exec(`UPDATE audit_log SET details = '{"i": 99}' WHERE chain = 1 AND seq = 4`));
    await db2.close();
    const bad = await cli(['verify-audit', '--checkpoint', checkpoint], { DATA_DIR: data });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/chain 1: row 4 \(id \d+\) was changed after it was written/);
  });

  it('checks the money invariants, and names the one that does not hold', async () => {
    const data = path.join(dir, 'data');
    const ok = await cli(['verify-money'], { DATA_DIR: data });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/Money invariants hold/);
    // A ledger transaction that does not balance (its guard trigger switched off to write it).
    const db = await openDatabase({ dataDir: data });
    await db.withClient((c) => c.exec(`ALTER TABLE ledger_entries DISABLE TRIGGER USER; INSERT INTO ledger_transactions (kind, memo) VALUES ('credit_held', 'cli test'); INSERT INTO ledger_entries (txn_id, account, amount_paise) SELECT max(id), 'bank', 100 FROM ledger_transactions`));
    await db.close();
    const bad = await cli(['verify-money'], { DATA_DIR: data });
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toMatch(/Money invariants NOT holding: invariant broken: /);
  });
});
