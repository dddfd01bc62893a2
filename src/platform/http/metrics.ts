import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import client from 'prom-client';
import type { DB } from '../db/schema.ts';
import { AppError, errorBody } from '../errors.ts';
import { safeEqual } from '../tokens.ts';
import { isDirectLoopback } from './origin.ts';

/**
 * Prometheus metrics at /metrics: process defaults, HTTP requests by route and status, the
 * backlogs an operator alerts on (docs/operations.md), and whatever the modules register on the
 * same registry.
 */

export interface Metrics {
  registry: client.Registry;
}

interface Backlog {
  up: number;
  postingsPending: number;
  postingsRetrying: number;
  postingsRejected: number;
  postingOldestS: number;
  jobsQueued: number;
  jobsRunning: number;
  jobOldestQueuedS: number;
  jobsFailed: number;
  onlineWaiting: number;
  onlineOldestS: number;
  exceptionsOpen: number;
  exceptionOldestS: number;
  webhooksUnprocessed: number;
}

/**
 * The backlogs, read at scrape time (at most once a second, whichever process is scraped: they
 * are the database's, the same from every process). Each count and age reads a partial index
 * (postings_due, postings_problems, postings_pending_age, jobs_due, jobs_failed,
 * payment_batches_waiting, recon_exceptions_open, webhook_events_open).
 */
function backlogReader(db: Kysely<DB>): () => Promise<Backlog> {
  let last: { at: number; value: Promise<Backlog> } | null = null;
  let known: Backlog | null = null;
  let inFlight = false;
  const read = async (): Promise<Backlog> => {
    inFlight = true;
    try {
      const { rows } = await sql<Record<keyof Omit<Backlog, 'up'>, number | string | null>>`
        SELECT (SELECT count(*) FROM postings WHERE status = 'pending') AS "postingsPending",
               (SELECT count(*) FROM postings WHERE status = 'pending' AND attempts > 0) AS "postingsRetrying",
               (SELECT count(*) FROM postings WHERE status = 'rejected') AS "postingsRejected",
               (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM postings WHERE status = 'pending') AS "postingOldestS",
               (SELECT count(*) FROM jobs WHERE status = 'queued') AS "jobsQueued",
               (SELECT count(*) FROM jobs WHERE status = 'running') AS "jobsRunning",
               (SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0) FROM jobs WHERE status = 'queued' AND run_at <= now()) AS "jobOldestQueuedS",
               (SELECT count(*) FROM jobs WHERE status = 'failed') AS "jobsFailed",
               (SELECT count(*) FROM payment_batches WHERE status IN ('payment_pending', 'unknown') AND mode = 'online') AS "onlineWaiting",
               (SELECT coalesce(extract(epoch FROM now() - min(status_changed_at)), 0) FROM payment_batches WHERE status IN ('payment_pending', 'unknown') AND mode = 'online') AS "onlineOldestS",
               (SELECT count(*) FROM recon_exceptions WHERE status = 'open') AS "exceptionsOpen",
               (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM recon_exceptions WHERE status = 'open') AS "exceptionOldestS",
               (SELECT count(*) FROM webhook_events WHERE status = 'received') AS "webhooksUnprocessed"`.execute(db);
      const r = rows[0]!;
      known = { up: 1, ...(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v ?? 0)])) as Omit<Backlog, 'up'>) };
      return known;
    } catch {
      // The database is not answering: say so, and keep the last known backlogs (reading them as
      // zero would clear the very alerts an outage should keep firing).
      const zero = Object.fromEntries(BACKLOG_GAUGES.map(([k]) => [k, 0])) as unknown as Backlog;
      return { ...(known ?? zero), up: 0 };
    } finally {
      inFlight = false;
    }
  };
  return () => {
    // One read at a time (a slow database must not pile reads up), at most one a second.
    if (!last || (!inFlight && Date.now() - last.at > 1000)) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

const BACKLOG_GAUGES: [keyof Backlog, string, string][] = [
  ['up', 'sangrahan_database_up', 'Whether the database answered the last scrape (1) or not (0)'],
  ['postingsPending', 'sangrahan_postings_pending', 'Postings to the billing system not yet acknowledged'],
  ['postingsRetrying', 'sangrahan_postings_retrying', 'Pending postings tried at least once (the billing system down or refusing)'],
  ['postingsRejected', 'sangrahan_postings_rejected', 'Postings the billing system refused, waiting for the discom'],
  ['postingOldestS', 'sangrahan_posting_oldest_pending_seconds', 'Age of the oldest pending posting'],
  ['jobsQueued', 'sangrahan_jobs_queued', 'Background jobs (mass tagging, statement imports) waiting'],
  ['jobsRunning', 'sangrahan_jobs_running', 'Background jobs running'],
  ['jobOldestQueuedS', 'sangrahan_job_oldest_queued_seconds', 'How long the oldest due background job has waited to be claimed (runners busy or stopped)'],
  ['jobsFailed', 'sangrahan_jobs_failed', 'Background jobs failed for good'],
  ['onlineWaiting', 'sangrahan_online_payments_waiting', 'Online payment batches waiting for the gateway to confirm (payment_pending, unknown); RTGS/NEFT challans wait for days by design and are not counted'],
  ['onlineOldestS', 'sangrahan_online_payment_oldest_waiting_seconds', 'How long the oldest online payment batch has waited for the gateway'],
  ['exceptionsOpen', 'sangrahan_recon_exceptions_open', 'Reconciliation exceptions open in the queue'],
  ['exceptionOldestS', 'sangrahan_recon_exception_oldest_open_seconds', 'Age of the oldest open reconciliation exception'],
  ['webhooksUnprocessed', 'sangrahan_webhooks_unprocessed', 'Webhooks received but not yet processed'],
];

/**
 * /metrics tells the backlogs, request counts by route and process internals: not for everyone.
 * It answers direct loopback requests (a scraper on this machine) or, with METRICS_TOKEN set,
 * requests bearing that token (a scraper elsewhere); anything else gets 404.
 */
export function registerMetrics(app: FastifyInstance, db?: Kysely<DB>, token?: string): Metrics {
  const registry = new client.Registry();
  if (db) {
    const backlog = backlogReader(db);
    for (const [key, name, help] of BACKLOG_GAUGES) {
      new client.Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set((await backlog())[key]);
        },
      });
    }
  }
  client.collectDefaultMetrics({ register: registry, prefix: 'sangrahan_' });
  const requests = new client.Counter({
    name: 'sangrahan_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'sangrahan_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7).trim() : null;
    if (!(token && bearer && safeEqual(bearer, token)) && !(isDirectLoopback(req) && !auth)) {
      return reply.status(404).send(errorBody(new AppError('NOT_FOUND'), req.id));
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return { registry };
}
