import { sql, type Kysely } from 'kysely';
import type { DB } from './db/schema.ts';

/**
 * Facts about this installation kept in its database (migration 0014): whether it holds demo
 * data. Only the demo seed marks it, before it loads anything, so a half-loaded demo is still
 * known as one; nothing unmarks it.
 */

export async function holdsDemoData(db: Kysely<DB>): Promise<boolean> {
  const r = await db.selectFrom('installation').select('demo_data').executeTakeFirst();
  return r?.demo_data ?? false;
}

export async function markDemoData(db: Kysely<DB>): Promise<void> {
  await db.updateTable('installation').set({ demo_data: true, demo_seeded_at: sql<Date>`coalesce(demo_seeded_at, now())` }).execute();
}
