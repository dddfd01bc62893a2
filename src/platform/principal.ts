import type { DiscomRole, OrgRole, Role } from './db/schema.ts';
import { AppError } from './errors.ts';

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
  /** Discom staff: the discom they belong to (null for organisation users and holding staff). */
  discomId: bigint | null;
  /** Discom staff of the holding company (BSPHCL): they act for both discoms. */
  holding: boolean;
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

/**
 * The discom a discom staff member acts for: its id, or null for the holding company's staff,
 * who act for both (explicitly: `holding` must be set). Anyone else, and a discom-role user with
 * neither a discom nor `holding` (which the database does not allow), is refused, never taken
 * to mean "all".
 */
export function discomScope(p: Principal | null): bigint | null {
  if (p?.kind !== 'user' || !isDiscomRole(p.role)) throw new AppError('FORBIDDEN');
  if (p.holding && p.discomId === null) return null;
  if (!p.holding && p.discomId !== null) return p.discomId;
  throw new AppError('FORBIDDEN', [], {
    en: 'Your account belongs to no discom. Ask the holding company’s administrator.',
    hi: 'आपका खाता किसी डिस्कॉम से जुड़ा नहीं है। होल्डिंग कंपनी के व्यवस्थापक से संपर्क करें।',
  });
}

export function actorLabel(p: Principal | null): string {
  if (!p) return 'anonymous';
  return p.kind === 'user' ? `user:${p.loginId}` : `api_key:${p.label}`;
}
