import { sql, type Kysely } from 'kysely';
import { blankExpiredCodes } from '../../adapters/notifier/notifier.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { UserPrincipal } from '../../platform/principal.ts';
import { randomToken, sha256Hex } from '../../platform/tokens.ts';

/** Sessions in the database. The cookie holds a random token; the table holds its SHA-256. */

export interface NewSession {
  token: string;
  id: string;
  csrfToken: string;
}

export async function createSession(
  db: Kysely<DB>,
  s: { userId: bigint; stage: UserPrincipal['stage']; ip: string | null; userAgent: string | null; absoluteHours: number; expiresAt?: Date },
): Promise<NewSession> {
  const token = randomToken();
  const id = sha256Hex(token);
  const csrfToken = randomToken(24);
  await db
    .insertInto('sessions')
    .values({
      id,
      user_id: s.userId,
      csrf_token: csrfToken,
      stage: s.stage,
      expires_at: s.expiresAt ?? new Date(Date.now() + s.absoluteHours * 3_600_000),
      ip: s.ip,
      user_agent: s.userAgent?.slice(0, 400) ?? null,
    })
    .execute();
  return { token, id, csrfToken };
}

/**
 * The live session for a cookie token, with its user: not revoked, within its absolute expiry
 * and its idle timeout, user active, organisation approved. Refreshes last_seen_at at most once
 * a minute.
 */
export async function findSession(db: Kysely<DB>, token: string, idleMinutes: number): Promise<UserPrincipal | null> {
  const id = sha256Hex(token);
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('organisations as o', 'o.id', 'u.org_id')
    .leftJoin('offices as f', 'f.id', 'u.office_id')
    .select([
      's.id', 's.stage', 's.csrf_token', 's.last_seen_at', 'u.id as user_id', 'u.login_id', 'u.name', 'u.role', 'u.org_id',
      'u.office_id', 'f.path as office_path', 'u.discom_id', 'u.holding',
    ])
    .where('s.id', '=', id)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', sql<Date>`now()`)
    .where('s.last_seen_at', '>', sql<Date>`now() - make_interval(mins => ${idleMinutes})`)
    .where('u.status', '=', 'active')
    .where((eb) => eb.or([eb('u.org_id', 'is', null), eb('o.status', '=', 'approved')]))
    .executeTakeFirst();
  if (!row) return null;
  if (Date.now() - row.last_seen_at.getTime() > 60_000) {
    await db.updateTable('sessions').set({ last_seen_at: sql<Date>`now()` }).where('id', '=', id).execute();
  }
  return {
    kind: 'user',
    userId: row.user_id,
    loginId: row.login_id,
    name: row.name,
    role: row.role,
    orgId: row.org_id,
    officeId: row.office_id,
    officePath: row.office_path,
    discomId: row.discom_id,
    holding: row.holding,
    sessionId: row.id,
    stage: row.stage,
    csrfToken: row.csrf_token,
  };
}

export async function revokeSession(db: Kysely<DB>, id: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: sql<Date>`now()` }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function revokeUserSessions(db: Kysely<DB>, userId: bigint, exceptId?: string): Promise<number> {
  let q = db.updateTable('sessions').set({ revoked_at: sql<Date>`now()` }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptId) q = q.where('id', '<>', exceptId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Housekeeping: sessions ended more than a day ago, and throttle buckets long quiet. */
export async function purgeExpired(db: Kysely<DB>): Promise<{ sessions: number; throttles: number; selections: number; codesBlanked: number }> {
  const s = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<', sql<Date>`now() - interval '1 day'`), eb('revoked_at', '<', sql<Date>`now() - interval '1 day'`)]))
    .executeTakeFirst();
  const t = await db
    .deleteFrom('throttles')
    .where('window_started_at', '<', sql<Date>`now() - interval '1 day'`)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', sql<Date>`now()`)]))
    .executeTakeFirst();
  // "Select all N matching" selections live a day (their items go with them).
  const sel = await db.deleteFrom('dues_selections').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).executeTakeFirst();
  return { sessions: Number(s.numDeletedRows), throttles: Number(t.numDeletedRows), selections: Number(sel.numDeletedRows), codesBlanked: await blankExpiredCodes(db) };
}
