import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { discomScope, type Principal } from '../../platform/principal.ts';

/**
 * What a discom's staff see (docs/decisions/0010-discom-scope.md). A staff member belongs to a
 * discom, or to the holding company (`discomScope` gives null: both discoms). Every discom route
 * scopes its reads and writes with these, so another discom's object is simply not found.
 */

/**
 * An organisation the discom's staff see: its home discom is theirs, or it holds a tag (active,
 * or asked for) on one of their connections. `org` and `home` name the organisation's id and
 * home-discom columns in the caller's query.
 */
export function orgSeenBy(discomId: bigint, org = 'o.id', home = 'o.discom_id'): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(home)} = ${discomId} OR EXISTS (
    SELECT 1 FROM tags st JOIN connections sc ON sc.id = st.connection_id
     WHERE st.org_id = ${sql.ref(org)} AND st.status IN ('active', 'requested') AND sc.discom_id = ${discomId}))`;
}

/** The organisations the discom's staff see, as a subquery of ids. */
export function orgsSeenBy(discomId: bigint): RawBuilder<bigint> {
  return sql<bigint>`(SELECT o.id FROM organisations o WHERE ${orgSeenBy(discomId)})`;
}

export async function discomIdOf(db: Kysely<DB>, code: string): Promise<bigint | undefined> {
  return (await db.selectFrom('discoms').select('id').where('code', '=', code.trim().toUpperCase()).executeTakeFirst())?.id;
}

/**
 * The discom a report is about: the staff member's own; for the holding company's staff, the one
 * asked for (`?discom=NBPDCL`), or null for both. Asking for another discom than one's own is refused.
 */
export async function reportDiscom(db: Kysely<DB>, p: Principal | null, code: string | undefined): Promise<bigint | null> {
  const own = discomScope(p);
  if (!code) return own;
  const id = await discomIdOf(db, code);
  if (id === undefined) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'query.discom', problem: 'unknown', message: { en: `there is no discom ${code}`, hi: `${code} नाम का कोई डिस्कॉम नहीं है` } }]);
  }
  if (own !== null && own !== id) {
    throw new AppError('FORBIDDEN', [], { en: `You see your own discom’s figures only, not ${code}’s.`, hi: `आप केवल अपने डिस्कॉम के आँकड़े देख सकते हैं, ${code} के नहीं।` });
  }
  return id;
}
