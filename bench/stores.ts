import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { adminUrl, withDatabase } from '../test/helpers/pg.ts';
import { PG_BASE } from './lib.ts';

/**
 * Data sets for benchmarks that compare the product and a baseline on copies of one prepared
 * database: a PostgreSQL database copied with CREATE DATABASE … TEMPLATE, or a PGlite data
 * folder copied on disk.
 */
export interface Store {
  label: string;
  open(poolMax?: number): Promise<Database>;
  copy(): Promise<Store>;
  drop(): Promise<void>;
  size(): Promise<string>;
}

/** A statement on the server's maintenance database (creating, dropping, altering databases). */
export async function adminExec(q: string): Promise<void> {
  const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
  try {
    // A just-closed connection can linger a moment on the server: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.withClient((c) => c.exec(q));
        return;
      } catch (e) {
        if (attempt >= 100 || !/being accessed by other users/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.close();
  }
}

export interface PgStoreOptions {
  /** Copies are named `<prefix>_<random>`. */
  prefix: string;
  poolMax: number;
  /** Settings for each copy before it is opened (e.g. auto_explain). */
  onCopy?: (database: string) => Promise<void>;
}

export function pgStore(name: string, opts: PgStoreOptions): Store {
  return {
    label: name,
    open: async (poolMax = opts.poolMax) => {
      const d = await openDatabase({ databaseUrl: withDatabase(PG_BASE, name), poolMax });
      await migrate(d);
      return d;
    },
    async copy() {
      const to = `${opts.prefix}_${randomBytes(4).toString('hex')}`;
      await adminExec(`CREATE DATABASE ${to} TEMPLATE ${name} STRATEGY FILE_COPY`);
      await opts.onCopy?.(to);
      return pgStore(to, opts);
    },
    drop: () => adminExec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    async size() {
      const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
      try {
        const { rows } = await admin.withClient((c) => c.query<{ s: string }>(`SELECT pg_size_pretty(pg_database_size($1)) AS s`, [name]));
        return rows[0]!.s;
      } finally {
        await admin.close();
      }
    },
  };
}

/** A PGlite data folder; copies are made beside `<dirPrefix>-<random>`. */
export function pgliteStore(dir: string, dirPrefix: string): Store {
  return {
    label: dir,
    open: async () => {
      const d = await openDatabase({ dataDir: dir });
      await migrate(d);
      return d;
    },
    async copy() {
      const to = fs.mkdtempSync(`${dirPrefix}-`);
      fs.cpSync(dir, to, { recursive: true });
      return pgliteStore(to, dirPrefix);
    },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async size() {
      let bytes = 0;
      for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (f.isFile()) bytes += fs.statSync(`${f.parentPath}/${f.name}`).size;
      }
      return `${(bytes / 2 ** 30).toFixed(1)} GB`;
    },
  };
}
