import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineName, freshDatabase } from '../../../test/helpers/db.ts';
import type { Database } from './database.ts';
import { openDatabase } from './database.ts';
import { DataDirLockedError, lockDataDir } from './dir-lock.ts';
import { MigrationError, migrate, pendingMigrations, readMigrations } from './migrate.ts';

describe(`database on ${engineName}`, () => {
  let database: Database;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('returns int8 as bigint, dates as YYYY-MM-DD and timestamps as Date', async () => {
    const r = await sql<{ big: bigint; sum: bigint; n: bigint; d: string; t: Date }>`
      SELECT 9007199254740993::int8 AS big, ${12345678901234n}::bigint + 1 AS sum, count(*) AS n,
             '2025-03-31'::date AS d, '2025-03-31T18:30:00Z'::timestamptz AS t
        FROM (VALUES (1), (2)) v(x)`.execute(database.db);
    const row = r.rows[0]!;
    expect(row.big).toBe(9007199254740993n);
    expect(row.sum).toBe(12345678901235n);
    expect(row.n).toBe(2n);
    expect(row.d).toBe('2025-03-31');
    expect(row.t).toEqual(new Date('2025-03-31T18:30:00Z'));
  });

  it('has every migration applied and reports none pending', async () => {
    expect(await pendingMigrations(database)).toEqual([]);
    expect(await migrate(database)).toEqual([]);
  });

  it('refuses to start when an applied migration file was changed', async () => {
    const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'x' } : m));
    await expect(migrate(database, changed)).rejects.toBeInstanceOf(MigrationError);
  });

  it('rolls back a failing migration and applies nothing of it', async () => {
    const bad = [...readMigrations(), { version: '9999', name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT nope;', checksum: 'y' }];
    await expect(migrate(database, bad)).rejects.toThrow(/9999_broken/);
    const t = await sql<{ t: string | null }>`SELECT to_regclass('half_done')::text AS t`.execute(database.db);
    expect(t.rows[0]!.t).toBeNull();
    expect(await pendingMigrations(database, bad)).toEqual(['9999']);
  });

  it('copies CSV with quotes, commas, newlines and NULLs intact', async () => {
    await database.withClient(async (c) => {
      await c.exec('CREATE TEMP TABLE copy_t (a text, b text, n bigint)');
      const n = await c.copyFromCsv('copy_t', ['a', 'b', 'n'], ['"x, ""y""",,5\n', '"line\nbreak",हिन्दी,\n']);
      expect(n).toBe(2);
      const { rows } = await c.query('SELECT a, b, n FROM copy_t ORDER BY a');
      expect(rows).toEqual([
        { a: 'line\nbreak', b: 'हिन्दी', n: null },
        { a: 'x, "y"', b: null, n: 5n },
      ]);
    });
  });

  it('keeps interleaved transactions apart', async () => {
    await database.withClient((c) => c.exec('CREATE TABLE IF NOT EXISTS tx_t (id int)'));
    const t1 = database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO tx_t VALUES (1)`.execute(trx);
      await new Promise((r) => setTimeout(r, 30));
      throw new Error('roll back');
    });
    const t2 = database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO tx_t VALUES (2)`.execute(trx);
    });
    await expect(t1).rejects.toThrow('roll back');
    await t2;
    const r = await sql<{ id: number }>`SELECT id FROM tx_t`.execute(database.db);
    expect(r.rows).toEqual([{ id: 2 }]);
  });
});

describe('embedded data folder lock', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-lock-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second opener with a clear error and lets go on close', async () => {
    const first = await openDatabase({ dataDir: dir });
    let err: unknown;
    try {
      await openDatabase({ dataDir: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain('in use by another Sangrahan process');
    await first.close();
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  });

  it('refuses a folder locked by another live process, and takes over a dead one’s lock', () => {
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    // pid 1 always runs: a live holder.
    fs.writeFileSync(path.join(other, 'sangrahan.lock'), JSON.stringify({ pid: 1, host: os.hostname(), since: 'then' }));
    expect(() => lockDataDir(other)).toThrow(DataDirLockedError);
    // A pid far above pid_max never runs: a stale lock from a crash.
    fs.writeFileSync(path.join(other, 'sangrahan.lock'), JSON.stringify({ pid: 99_999_999, host: os.hostname(), since: 'then' }));
    const lock = lockDataDir(other);
    expect(JSON.parse(fs.readFileSync(path.join(other, 'sangrahan.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(path.join(other, 'sangrahan.lock'))).toBe(false);
  });

  it('takes over a lock with its own pid left by an earlier life (a restarted container)', () => {
    const mine = path.join(dir, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'sangrahan.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'before the restart' }));
    const lock = lockDataDir(mine);
    expect(JSON.parse(fs.readFileSync(path.join(mine, 'sangrahan.lock'), 'utf8')).since).not.toBe('before the restart');
    expect(() => lockDataDir(mine)).toThrow(DataDirLockedError);
    lock.release();
  });

  it('treats a fresh empty lock as a process still starting, and an old empty one as stale', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const file = path.join(empty, 'sangrahan.lock');
    fs.writeFileSync(file, '');
    expect(() => lockDataDir(empty)).toThrow(/still starting/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    lockDataDir(empty).release();
  });
});
