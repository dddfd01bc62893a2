import type { DiscomRole, OrgRole, Role } from './db/schema.ts';

/** Who is asking: a logged-in user (by session cookie) or an organisation's ERP (by API key). */

export const ORG_ROLES: readonly OrgRole[] = ['org_admin', 'maker', 'approver', 'viewer'];
export const DISCOM_ROLES: readonly DiscomRole[] = ['collection_officer', 'accounts', 'discom_admin', 'auditor'];
/** Roles that must use a second factor (TOTP). */
export const TOTP_REQUIRED: readonly Role[] = ['approver', ...DISCOM_ROLES];

export interface UserPrincipal {
  kind: 'user';
  userId: bigint;
  loginId: string;
  name: string;
  role: Role;
  /** null for discom staff */
  orgId: bigint | null;
  officeId: bigint | null;
  /** The office's path ('/1/5/'): the user sees this subtree only. null: the whole organisation. */
  officePath: string | null;
  sessionId: string;
  stage: 'totp' | 'totp_enrol' | 'full';
  csrfToken: string;
}

export interface ApiKeyPrincipal {
  kind: 'api_key';
  apiKeyId: bigint;
  orgId: bigint;
  scopes: ('read' | 'pay')[];
  label: string;
}

export type Principal = UserPrincipal | ApiKeyPrincipal;

/** Where a request came from, for the audit log. */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | null;
}

export function isDiscomRole(role: Role): role is DiscomRole {
  return (DISCOM_ROLES as readonly string[]).includes(role);
}

export function actorLabel(p: Principal | null): string {
  if (!p) return 'anonymous';
  return p.kind === 'user' ? `user:${p.loginId}` : `api_key:${p.label}`;
}
