import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { addressKey } from '../../platform/http/origin.ts';
import { recordAuditAlone } from '../audit/index.ts';
import { claimAttempt, type ThrottleRule } from './throttle.ts';

/**
 * Refusals (403: a role or scope not allowed, a CSRF token missing or wrong, a developer page
 * asked from elsewhere) go into the audit log, so that someone probing other tenants' ids or
 * forging requests shows. Per actor (user, API key, or address when anonymous) at most
 * REFUSALS_AUDITED in a window are written; the one that passes the limit is written as
 * `access.refusals_suppressed` with the time the suppression lasts until, and the rest are not
 * written, so that a flood of refusals cannot flood the log.
 */

export const REFUSAL_RULE: ThrottleRule = { max: 20, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export async function auditRefusal(db: Kysely<DB>, req: FastifyRequest, code: string): Promise<void> {
  try {
    const p = req.principal ?? null;
    const actor = p ? (p.kind === 'user' ? `user:${p.userId}` : `key:${p.apiKeyId}`) : `ip:${addressKey(req.ip)}`;
    const r = await claimAttempt(db, `refusal:${actor}`, REFUSAL_RULE);
    if (r.lockedUntil && !r.justLocked) return;
    const path = req.url.split('?')[0]!.slice(0, 200);
    await recordAuditAlone(db, {
      action: r.justLocked ? 'access.refusals_suppressed' : 'access.refused',
      outcome: 'failure',
      actor: p,
      orgId: p?.orgId ?? null,
      target: { type: 'route', id: `${req.method} ${req.routeOptions.url ?? path}`.slice(0, 200) },
      details: { code, path, ...(r.justLocked ? { until: r.lockedUntil!.toISOString(), limit: REFUSAL_RULE.max } : {}) },
      meta: req.meta ?? { requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] ?? null },
    });
  } catch (e) {
    // The refusal is answered whatever happens here; the database may be what failed.
    req.log.warn({ err: e }, 'could not audit a refusal');
  }
}
