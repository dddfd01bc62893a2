import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

/**
 * Office scope (decision 0011). An organisation's offices form a tree (`offices.path`, '/1/5/12/').
 * A user placed in an office sees and acts only within its subtree: an object belongs to an
 * office (a tag, a payment batch, an upload, a selection, alert preferences), and the user
 * reaches it only when that office's path starts with theirs. A user of the whole organisation
 * (no office) and an API key reach all of the organisation. An object without an office counts
 * as the head office, the root of the tree: only users at the root, or of the whole
 * organisation, reach it. Out of scope looks the same as not there (404).
 */

export interface Scope {
  orgId: bigint;
  /** The user's office path; null: the whole organisation (an unplaced user, an API key). */
  officePath: string | null;
}

/** The scope of an organisation's user or API key. Discom staff have none. */
export function scopeOf(p: Principal): Scope {
  if (p.orgId === null) throw new AppError('FORBIDDEN');
  return { orgId: p.orgId, officePath: p.kind === 'user' ? p.officePath : null };
}

/** A path of the root office ('/1/'). */
export const isRootPath = (path: string): boolean => /^\/\d+\/$/.test(path);

/** Whether an office path (null: the head office) lies within the scope. */
export function pathInScope(scope: Scope, path: string | null): boolean {
  if (!scope.officePath) return true;
  return path === null ? isRootPath(scope.officePath) : path.startsWith(scope.officePath);
}

/** SQL: the office `officeId` (a column reference or a value; NULL: the head office) lies within the scope. */
export function officeInScope(scope: Scope, officeId: Expression<bigint | null>): RawBuilder<SqlBool> {
  const path = scope.officePath;
  if (!path) return sql<SqlBool>`true`;
  const inSubtree = sql<SqlBool>`${officeId} IN (SELECT so.id FROM offices so WHERE so.org_id = ${scope.orgId} AND so.path LIKE ${path} || '%')`;
  return isRootPath(path) ? sql<SqlBool>`(${inSubtree} OR ${officeId} IS NULL)` : inSubtree;
}
