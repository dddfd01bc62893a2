import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { sql } from 'kysely';
import type { App, AppContext } from '../../platform/context.ts';
import type { Role } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { DISCOM_ROLES, ORG_ROLES, type ApiKeyPrincipal, type Principal, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { safeEqual, sha256Hex } from '../../platform/tokens.ts';
import { findSession } from './sessions.ts';

/**
 * Who may call what. Every route under /api/ declares `config.access`; a route without one is
 * refused at start-up, so nothing is open by accident.
 *
 * - `{ public: true }`: anyone.
 * - `{ roles, apiKey?, stages? }`: a logged-in user with one of the roles ('org' and 'discom'
 *   name the two families), in a full session unless `stages` allows a half-finished one; or,
 *   where `apiKey` says so, an organisation's API key with that scope.
 *
 * Sessions come from the `sg_session` cookie; writes made with a cookie must carry the
 * session's CSRF token in `X-CSRF-Token`. API keys come as `Authorization: Bearer sgk_…`.
 */

export type Stage = UserPrincipal['stage'];
export type Access = { public: true } | { roles: readonly Role[] | 'org' | 'discom' | 'any'; apiKey?: 'read' | 'pay'; stages?: readonly Stage[] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    meta: RequestMeta;
  }
}

export const SESSION_COOKIE = 'sg_session';
const PUBLIC_PREFIXES = ['/api/docs', '/api/openapi.json'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function rolesOf(access: Exclude<Access, { public: true }>): readonly Role[] {
  if (access.roles === 'org') return ORG_ROLES;
  if (access.roles === 'discom') return DISCOM_ROLES;
  if (access.roles === 'any') return [...ORG_ROLES, ...DISCOM_ROLES];
  return access.roles;
}

/** At route registration: every /api/ route has an access rule, and the OpenAPI document shows it. */
export function describeAccess(route: RouteOptions): void {
  const url = route.url;
  const access = route.config?.access;
  if (!access) {
    if (url.startsWith('/api/') && !PUBLIC_PREFIXES.some((p) => url.startsWith(p))) {
      throw new Error(`Route ${route.method.toString()} ${url} declares no access rule (config.access)`);
    }
    return;
  }
  if ('public' in access) {
    route.schema = { ...route.schema, security: [] };
    return;
  }
  route.schema = {
    ...route.schema,
    security: [{ session: [] }, ...(access.apiKey ? [{ apiKey: [] }] : [])],
    'x-roles': rolesOf(access),
    ...(access.apiKey ? { 'x-api-key-scope': access.apiKey } : {}),
  } as RouteOptions['schema'];
}

async function apiKeyPrincipal(ctx: AppContext, key: string): Promise<ApiKeyPrincipal | null> {
  const m = /^(sgk_[a-z2-7]{8})_[A-Za-z0-9_-]{20,}$/.exec(key);
  if (!m) return null;
  const row = await ctx.database.db
    .selectFrom('api_keys as k')
    .innerJoin('organisations as o', 'o.id', 'k.org_id')
    .select(['k.id', 'k.org_id', 'k.name', 'k.prefix', 'k.secret_hash', 'k.scopes', 'k.last_used_at'])
    .where('k.prefix', '=', m[1]!)
    .where('k.revoked_at', 'is', null)
    .where('o.status', '=', 'approved')
    .executeTakeFirst();
  if (!row || !safeEqual(row.secret_hash, sha256Hex(key))) return null;
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await ctx.database.db.updateTable('api_keys').set({ last_used_at: sql<Date>`now()` }).where('id', '=', row.id).execute();
  }
  return { kind: 'api_key', apiKeyId: row.id, orgId: row.org_id, scopes: row.scopes, label: `${row.prefix} (${row.name})` };
}

/** Installs the hooks on the root instance itself (not as an encapsulated plugin), so they see every route. */
export function installAccess(app: App, ctx: AppContext): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('meta', null as unknown as RequestMeta);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    req.meta = { requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] ?? null };
    const access = req.routeOptions.config?.access;
    if (!access) return;

    const auth = req.headers.authorization;
    let viaCookie = false;
    if (auth?.startsWith('Bearer ')) {
      req.principal = await apiKeyPrincipal(ctx, auth.slice(7).trim());
      if (!req.principal) throw new AppError('UNAUTHENTICATED', [], { en: 'The API key is not valid.', hi: 'एपीआई कुंजी मान्य नहीं है।' });
    } else {
      const token = req.cookies[SESSION_COOKIE];
      if (token) {
        req.principal = await findSession(ctx.database.db, token, ctx.config.sessionIdleMinutes);
        viaCookie = true;
        if (!req.principal) {
          void reply.clearCookie(SESSION_COOKIE, { path: '/' });
          if (!('public' in access)) throw new AppError('SESSION_EXPIRED');
        }
      }
    }
    if ('public' in access) return;

    const p = req.principal;
    if (!p) throw new AppError('UNAUTHENTICATED');
    if (p.kind === 'api_key') {
      if (!access.apiKey || !p.scopes.includes(access.apiKey)) {
        throw new AppError('FORBIDDEN', [], { en: 'This API key may not do this.', hi: 'यह एपीआई कुंजी यह नहीं कर सकती।' });
      }
      return;
    }
    if (p.stage !== 'full' && !access.stages?.includes(p.stage)) throw new AppError('SECOND_FACTOR_REQUIRED');
    if (!rolesOf(access).includes(p.role)) throw new AppError('FORBIDDEN');
    if (viaCookie && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, p.csrfToken)) throw new AppError('CSRF_FAILED');
    }
  });
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string, ctx: AppContext): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    // Production is always behind TLS (PUBLIC_URL must be https): the cookie never travels in clear,
    // even when the proxy's X-Forwarded-Proto is not trusted.
    secure: req.protocol === 'https' || ctx.config.nodeEnv === 'production',
    maxAge: ctx.config.sessionAbsoluteHours * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The logged-in user of a route that admits users only. */
export function userOf(req: FastifyRequest): UserPrincipal {
  const p = req.principal;
  if (p?.kind !== 'user') throw new AppError('UNAUTHENTICATED');
  return p;
}

/** The organisation of the caller (user or API key); discom staff have none. */
export function orgOf(req: FastifyRequest): bigint {
  const p = req.principal;
  if (!p || p.orgId === null) throw new AppError('FORBIDDEN');
  return p.orgId;
}
