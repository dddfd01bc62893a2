import type { Database } from './database.ts';

/**
 * Runs `fn` unless another run under the same key is going on: in any process on PostgreSQL (a
 * session advisory lock, held on a connection of its own), in this process on PGlite (which
 * only one process can open). Returns `{ ran: false }` when busy.
 */

const localRuns = new WeakMap<Database, Set<string>>();

export async function runExclusive<T>(database: Database, key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  if (database.engine === 'pglite') {
    let keys = localRuns.get(database);
    if (!keys) localRuns.set(database, (keys = new Set()));
    if (keys.has(key)) return { ran: false };
    keys.add(key);
    try {
      return { ran: true, value: await fn() };
    } finally {
      keys.delete(key);
    }
  }
  return database.withClient(async (c) => {
    const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
    if (!rows[0]?.ok) return { ran: false as const };
    try {
      return { ran: true as const, value: await fn() };
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    }
  });
}
