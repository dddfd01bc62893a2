import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.ts';
import { adminUrl, withDatabase } from './pg.ts';

/**
 * A fresh, migrated database for a test file: a PGlite clone of the run's template, or on
 * PostgreSQL a new database created from the template database (and dropped on close).
 */
export async function freshDatabase(opts: { poolMax?: number } = {}): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const file = inject('pgliteTemplate');
    return openDatabase({ loadDataDir: new Blob([fs.readFileSync(file)]) });
  }
  const name = `sangrahan_t_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: adminUrl(url), poolMax: 1 });
  // A just-closed connection to the template can linger for a moment on the server side.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.withClient((c) => c.exec(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`));
      break;
    } catch (e) {
      if (attempt >= 50 || !/being accessed by other users/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const database = await openDatabase({ databaseUrl: withDatabase(url, name), poolMax: opts.poolMax ?? 5 });
  return {
    ...database,
    async close() {
      await database.close();
      await admin.withClient((c) => c.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await admin.close();
    },
  };
}

export const engineName = process.env.DATABASE_URL ? 'postgres' : 'pglite';
