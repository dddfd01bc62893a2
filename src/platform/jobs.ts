import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { DB } from './db/schema.ts';

/**
 * Durable jobs. `enqueue` writes a job row (inside the caller's transaction, so a job exists
 * exactly when the change that needs it committed). A runner in every app process claims due
 * jobs with FOR UPDATE SKIP LOCKED and a lease; a job whose process died is claimed again when
 * its lease runs out. A failing job is retried with backoff, then marked failed. Handlers must
 * be idempotent: a job may run more than once.
 *
 * Fairness: a runner works `concurrency` jobs at once, and a job of a group (an organisation's
 * uploads, a discom's statement imports) is not claimed while another job of its group runs
 * (migration 0017 makes that a unique index), so one payer's long upload never holds back
 * another's.
 */

export interface JobRow {
  id: bigint;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
}

export type JobHandler = (job: JobRow, heartbeat: () => Promise<void>) => Promise<void>;

export async function enqueue(db: Kysely<DB>, kind: string, payload: Record<string, unknown>, opts: { maxAttempts?: number; runAt?: Date; group?: string } = {}): Promise<bigint> {
  const r = await db
    .insertInto('jobs')
    .values({ kind, payload: JSON.stringify(payload), max_attempts: opts.maxAttempts ?? 5, group_key: opts.group ?? null, ...(opts.runAt ? { run_at: opts.runAt } : {}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export interface RunnerOptions {
  leaseMs?: number;
  pollMs?: number;
  /** Jobs worked at once by this runner (JOB_CONCURRENCY; 2 by default). */
  concurrency?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly worker = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly opts: RunnerOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 1_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
  }

  register(kind: string, handler: JobHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  /** Starts `concurrency` slots, each claiming and running jobs until none is due, then polling. */
  start(): void {
    this.stopped = false;
    for (let slot = 0; slot < this.concurrency; slot++) {
      const tick = () => {
        if (this.stopped) return;
        const run: Promise<void> = this.drain().then(
          () => undefined,
          (e: Error) => this.opts.log?.('job runner error', { error: e.message }),
        );
        this.running.add(run);
        void run.finally(() => {
          this.running.delete(run);
          if (!this.stopped) {
            const t = setTimeout(() => {
              this.timers.delete(t);
              tick();
            }, this.pollMs).unref();
            this.timers.add(t);
          }
        });
      };
      tick();
    }
  }

  /** Stops claiming; waits for the jobs in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running]);
  }

  /** Runs due jobs until none is left (tests call this directly). */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const job = await this.claim();
      if (!job) break;
      await this.runOne(job);
      n++;
      if (this.stopped) break;
    }
    return n;
  }

  private async claim(): Promise<JobRow | null> {
    const kinds = [...this.handlers.keys()];
    if (!kinds.length) return null;
    try {
      const { rows } = await sql<JobRow>`
        UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ${this.worker},
               locked_until = now() + make_interval(secs => ${this.leaseMs / 1000})
         WHERE id = (
           SELECT j.id FROM jobs j
            WHERE j.kind IN (${sql.join(kinds)})
              AND ((j.status = 'queued' AND j.run_at <= now()) OR (j.status = 'running' AND j.locked_until < now()))
              -- One job of a group at a time (a job whose lease ran out is its group's, claimed again).
              AND (j.group_key IS NULL OR j.status = 'running'
                   OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.group_key = j.group_key AND r.status = 'running'))
            ORDER BY j.run_at, j.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, payload, attempts, max_attempts`.execute(this.db);
      return rows[0] ?? null;
    } catch (e) {
      // Another process claimed a job of the same group at this moment: try again next time.
      if ((e as { code?: string }).code === '23505') return null;
      throw e;
    }
  }

  private async runOne(job: JobRow): Promise<void> {
    const handler = this.handlers.get(job.kind)!;
    const heartbeat = async () => {
      await this.db
        .updateTable('jobs')
        .set({ locked_until: sql<Date>`now() + make_interval(secs => ${this.leaseMs / 1000})` })
        .where('id', '=', job.id)
        .where('locked_by', '=', this.worker)
        .execute();
    };
    // The lease is renewed while the handler runs (a third of it at a time), whatever the
    // handler does: only a process that died, or a thread blocked longer than the lease, loses it.
    const beat = setInterval(() => void heartbeat().catch(() => undefined), Math.max(50, this.leaseMs / 3));
    try {
      await handler(job, heartbeat);
      await this.db.updateTable('jobs').set({ status: 'done', finished_at: sql<Date>`now()`, locked_until: null, last_error: null }).where('id', '=', job.id).execute();
    } catch (e) {
      const message = (e as Error).message.slice(0, 1000);
      const final = job.attempts >= job.max_attempts || (e as { permanent?: boolean }).permanent === true;
      this.opts.log?.('job failed', { id: job.id.toString(), kind: job.kind, attempt: job.attempts, final, error: message });
      await this.db
        .updateTable('jobs')
        .set({
          status: final ? 'failed' : 'queued',
          last_error: message,
          locked_until: null,
          run_at: sql<Date>`now() + make_interval(secs => ${Math.min(300, 2 ** job.attempts)})`,
          ...(final ? { finished_at: sql<Date>`now()` } : {}),
        })
        .where('id', '=', job.id)
        .execute();
      if (final) await this.onFailed(job, message);
    } finally {
      clearInterval(beat);
    }
  }

  private readonly failedHooks = new Map<string, (job: JobRow, error: string) => Promise<void>>();

  /** Called once when a job of this kind fails for good (to fail what depends on it cleanly). */
  onFinalFailure(kind: string, fn: (job: JobRow, error: string) => Promise<void>): this {
    this.failedHooks.set(kind, fn);
    return this;
  }

  private async onFailed(job: JobRow, error: string): Promise<void> {
    await this.failedHooks.get(job.kind)?.(job, error);
  }
}

/** An error that retrying cannot fix. */
export class PermanentJobError extends Error {
  readonly permanent = true;
}
