import fs from 'node:fs';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.ts';
import { scratchDatabase } from './pg.ts';

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
  return scratchDatabase(url, { prefix: 'sangrahan_t', template: inject('pgTemplate'), ...opts });
}

export const engineName = process.env.DATABASE_URL ? 'postgres' : 'pglite';
