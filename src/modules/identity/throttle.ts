import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

/**
 * Brute-force throttles kept in the database, so every app process counts the same failures.
 * A bucket counts failures in a window; reaching the limit locks it for a while. Success on an
 * account clears that account's bucket.
 */

export interface ThrottleRule {
  max: number;
  windowMs: number;
  lockMs: number;
}

/** The latest lock among the buckets, if any is locked now. */
export async function lockedUntil(db: Kysely<DB>, buckets: string[]): Promise<Date | null> {
  const r = await db
    .selectFrom('throttles')
    .select(sql<Date | null>`max(locked_until)`.as('until'))
    .where('bucket', 'in', buckets)
    .where('locked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return r?.until ?? null;
}

/** Counts a failure; returns the lock time when this failure reached the limit. */
export async function recordFailure(db: Kysely<DB>, bucket: string, rule: ThrottleRule): Promise<Date | null> {
  const { rows } = await sql<{ failures: number; locked_until: Date | null }>`
    INSERT INTO throttles (bucket, window_started_at, failures, locked_until)
    VALUES (${bucket}, now(), 1, CASE WHEN ${rule.max} <= 1 THEN now() + make_interval(secs => ${rule.lockMs / 1000}) END)
    ON CONFLICT (bucket) DO UPDATE SET
      window_started_at = CASE WHEN throttles.window_started_at < now() - make_interval(secs => ${rule.windowMs / 1000})
                               THEN now() ELSE throttles.window_started_at END,
      failures = CASE WHEN throttles.window_started_at < now() - make_interval(secs => ${rule.windowMs / 1000})
                      THEN 1 ELSE throttles.failures + 1 END,
      locked_until = CASE
        WHEN (CASE WHEN throttles.window_started_at < now() - make_interval(secs => ${rule.windowMs / 1000})
                   THEN 1 ELSE throttles.failures + 1 END) >= ${rule.max}
        THEN now() + make_interval(secs => ${rule.lockMs / 1000})
        ELSE throttles.locked_until END
    RETURNING failures, locked_until`.execute(db);
  const r = rows[0]!;
  return r.failures >= rule.max ? r.locked_until : null;
}

export async function clearBucket(db: Kysely<DB>, bucket: string): Promise<void> {
  await db.deleteFrom('throttles').where('bucket', '=', bucket).execute();
}

/**
 * Counts an attempt before it is checked, atomically: concurrent attempts cannot all pass a
 * check-then-count. Returns the lock time when the bucket is (or just became) locked: the
 * attempt must then be refused unchecked. `justLocked` is true for the attempt that locked it.
 */
export async function claimAttempt(db: Kysely<DB>, bucket: string, rule: ThrottleRule): Promise<{ lockedUntil: Date | null; justLocked: boolean }> {
  const w = rule.windowMs / 1000;
  const { rows } = await sql<{ failures: number; locked_until: Date | null }>`
    INSERT INTO throttles AS t (bucket, window_started_at, failures, locked_until)
    VALUES (${bucket}, now(), 1, CASE WHEN 1 > ${rule.max} THEN now() + make_interval(secs => ${rule.lockMs / 1000}) END)
    ON CONFLICT (bucket) DO UPDATE SET
      window_started_at = CASE WHEN t.locked_until > now() THEN t.window_started_at
                               WHEN t.window_started_at < now() - make_interval(secs => ${w}) THEN now()
                               ELSE t.window_started_at END,
      failures = CASE WHEN t.locked_until > now() THEN t.failures + 1
                      WHEN t.window_started_at < now() - make_interval(secs => ${w}) THEN 1
                      ELSE t.failures + 1 END,
      locked_until = CASE
        WHEN t.locked_until > now() THEN t.locked_until
        WHEN (CASE WHEN t.window_started_at < now() - make_interval(secs => ${w}) THEN 1 ELSE t.failures + 1 END) > ${rule.max}
          THEN now() + make_interval(secs => ${rule.lockMs / 1000})
        ELSE NULL END
    RETURNING failures, locked_until`.execute(db);
  const r = rows[0]!;
  const locked = r.locked_until && r.locked_until.getTime() > Date.now() ? r.locked_until : null;
  // Attempts go on counting while locked: the one that went just over the limit is the one that locked.
  return { lockedUntil: locked, justLocked: !!locked && r.failures === rule.max + 1 };
}

/** An attempt that turned out right: it does not count against an address bucket. */
export async function releaseAttempt(db: Kysely<DB>, bucket: string): Promise<void> {
  await sql`UPDATE throttles SET failures = greatest(failures - 1, 0) WHERE bucket = ${bucket} AND (locked_until IS NULL OR locked_until < now())`.execute(db);
}
