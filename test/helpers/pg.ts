import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/platform/db/database.ts';

/** PostgreSQL helpers for tests and benchmarks: throwaway databases. */

export function adminUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * A new database on the server of `url` (from `template` if given), dropped when closed.
 * A just-closed connection to the template can linger a moment on the server: creation retries.
 */
export async function scratchDatabase(url: string, opts: { prefix: string; template?: string; poolMax?: number }): Promise<Database> {
  const name = `${opts.prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: adminUrl(url), poolMax: 1 });
  const create = `CREATE DATABASE ${name}${opts.template ? ` TEMPLATE ${opts.template}` : ''}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.withClient((c) => c.exec(create));
      break;
    } catch (e) {
      if (attempt >= 50 || !/being accessed by other users/.test((e as Error).message)) {
        await admin.close();
        throw e;
      }
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
