import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, RawClient } from './database.ts';

/**
 * Forward-only SQL migrations: migrations/NNNN_name.sql, applied in order, each in its own
 * transaction, recorded with a checksum. A file changed after it was applied stops the start.
 * On PostgreSQL an advisory lock lets several processes start at once.
 */

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = fs.readFileSync(path.join(dir, f), 'utf8');
      return {
        version: f.slice(0, 4),
        name: f.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const LOCK_KEY = 7_262_210_001; // arbitrary, constant: "sangrahan migrations"

async function ensureTable(c: RawClient): Promise<void> {
  await c.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

async function applied(c: RawClient): Promise<Map<string, string>> {
  const { rows } = await c.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  return new Map(rows.map((r) => [r.version, r.checksum]));
}

function checkChecksums(done: Map<string, string>, all: Migration[]): void {
  for (const m of all) {
    const sum = done.get(m.version);
    if (sum && sum !== m.checksum) {
      throw new MigrationError(
        `Migration ${m.version}_${m.name}.sql was changed after it was applied. Migrations are forward-only: ` +
          `restore the file and add a new migration instead.`,
      );
    }
  }
}

export async function migrate(database: Database, all = readMigrations()): Promise<string[]> {
  return database.withClient(async (c) => {
    if (database.engine === 'postgres') await c.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await ensureTable(c);
      const done = await applied(c);
      checkChecksums(done, all);
      const ran: string[] = [];
      for (const m of all) {
        if (done.has(m.version)) continue;
        await c.exec('BEGIN');
        try {
          await c.exec(m.sql);
          await c.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
          await c.exec('COMMIT');
        } catch (e) {
          await c.exec('ROLLBACK');
          throw new MigrationError(`Migration ${m.version}_${m.name}.sql failed: ${(e as Error).message}`);
        }
        ran.push(`${m.version}_${m.name}`);
      }
      return ran;
    } finally {
      if (database.engine === 'postgres') await c.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}

/** Versions on disk that the database has not applied (empty when ready). */
export async function pendingMigrations(database: Database, all = readMigrations()): Promise<string[]> {
  return database.withClient(async (c) => {
    const { rows } = await c.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
    if (!rows[0]?.t) return all.map((m) => m.version);
    const done = await applied(c);
    return all.filter((m) => !done.has(m.version)).map((m) => m.version);
  });
}
