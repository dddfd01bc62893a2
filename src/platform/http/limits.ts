import rateLimit, { type FastifyRateLimitOptions, type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { App } from '../context.ts';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { addressKey } from './origin.ts';

/**
 * Limits on cheap abuse (decision 0014).
 *
 * - Request rates go through @fastify/rate-limit, counted in the database (the `throttles`
 *   table, as the login throttles are) so that every process counts the same requests.
 * - Expensive reads (a route whose config says `expensive: true`) are limited by how many one
 *   user or API key has in progress at once: a count per process, held until the response is
 *   closed (sent, failed or abandoned by the client).
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An export, PDF, statement or report: counted against the caller's EXPORTS_PER_USER. */
    expensive?: boolean;
  }
}

/** @fastify/rate-limit's store, kept in the `throttles` table (a fixed window per bucket). */
function databaseStore(db: Kysely<DB>) {
  return class DatabaseStore implements FastifyRateLimitStore {
    constructor(_options: FastifyRateLimitOptions) {}
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const w = timeWindow / 1000;
      sql<{ current: number; ttl: number }>`
        INSERT INTO throttles AS t (bucket, window_started_at, failures) VALUES (${`rl:${key}`}, now(), 1)
        ON CONFLICT (bucket) DO UPDATE SET
          window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => ${w}) THEN now() ELSE t.window_started_at END,
          failures = CASE WHEN t.window_started_at <= now() - make_interval(secs => ${w}) THEN 1 ELSE t.failures + 1 END
        RETURNING failures AS current,
                  greatest(0, ceil(extract(epoch FROM t.window_started_at + make_interval(secs => ${w}) - now()) * 1000))::integer AS ttl`
        .execute(db)
        .then((r) => callback(null, { current: Number(r.rows[0]!.current), ttl: Number(r.rows[0]!.ttl) }), (e: Error) => callback(e));
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

export const UNVERIFIED_WINDOW_MS = 10 * 60_000;

/**
 * Registers the rate-limit plugin (on no route by itself) and the concurrency limit of
 * expensive reads. Call before any route is added.
 */
export async function installLimits(app: App, db: Kysely<DB>, limits: { exportsPerUser: number }): Promise<void> {
  await app.register(rateLimit, { global: false, store: databaseStore(db) });
  const inFlight = new InFlight(limits.exportsPerUser);
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.config?.expensive) return;
    const gate = async (req: FastifyRequest, reply: FastifyReply) => {
      const p = req.principal;
      if (!p) return; // the access rule has refused it already
      const release = inFlight.acquire(p.kind === 'user' ? `user:${p.userId}` : `key:${p.apiKeyId}`);
      if (!release) {
        void reply.header('retry-after', String(EXPORT_RETRY_AFTER_S));
        throw new AppError('RATE_LIMITED', [], {
          en: `You already have ${limits.exportsPerUser} downloads or reports being prepared. Wait for one to finish, then try again.`,
          hi: `आपके ${limits.exportsPerUser} डाउनलोड या रिपोर्ट पहले से तैयार हो रहे हैं। किसी एक के पूरा होने की प्रतीक्षा करें, फिर प्रयास करें।`,
        });
      }
      // 'close' comes once the response is over: sent, failed, or dropped by the client.
      reply.raw.once('close', release);
    };
    const before = route.preHandler;
    route.preHandler = [...(Array.isArray(before) ? before : before ? [before] : []), gate];
  });
}

/** Seconds a refused download is told to wait: most exports finish within it. */
const EXPORT_RETRY_AFTER_S = 10;

/** How many of something each key has in progress, up to a maximum. */
export class InFlight {
  private readonly counts = new Map<string, number>();
  constructor(readonly max: number) {}
  /** A release function, or null when the key is at the maximum. */
  acquire(key: string): (() => void) | null {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return null;
    this.counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const m = (this.counts.get(key) ?? 1) - 1;
      if (m > 0) this.counts.set(key, m);
      else this.counts.delete(key);
    };
  }
}

/**
 * A per-address limit on deliveries whose signature fails (webhooks, bank calls). Call it only
 * for such a delivery, before storing or acting on anything: it counts the delivery, and past
 * the limit throws RATE_LIMITED with Retry-After. Verified deliveries are never counted.
 */
export function unverifiedDeliveryLimit(app: App, what: string, perWindow: number): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const check = app.createRateLimit({ max: perWindow, timeWindow: UNVERIFIED_WINDOW_MS, keyGenerator: (req) => `unverified:${what}:${addressKey(req.ip)}` });
  return async (req, reply) => {
    const r = await check(req);
    if (r.isAllowed || !r.isExceeded) return;
    void reply.header('retry-after', String(r.ttlInSeconds));
    req.log.warn({ what, ip: req.ip }, 'unverified deliveries over the limit: refused unstored');
    throw new AppError('RATE_LIMITED', [], {
      en: `More than ${perWindow} deliveries from this address in ${UNVERIFIED_WINDOW_MS / 60_000} minutes had a signature that does not verify. Check the signing secret; try again in ${r.ttlInSeconds} seconds.`,
      hi: `इस पते से ${UNVERIFIED_WINDOW_MS / 60_000} मिनट में ${perWindow} से अधिक ऐसे अनुरोध आए जिनका हस्ताक्षर सत्यापित नहीं होता। हस्ताक्षर की गुप्त कुंजी जाँचें; ${r.ttlInSeconds} सेकंड बाद फिर प्रयास करें।`,
    });
  };
}
