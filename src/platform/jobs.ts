import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { DB } from './db/schema.ts';

/**
 * Durable jobs. `enqueue` writes a job row (inside the caller's transaction, so a job exists
 * exactly when the change that needs it committed). A runner in every app process claims due
 * jobs with FOR UPDATE SKIP LOCKED and a lease; a job whose process died is claimed again when
 * its lease runs out. A failing job is retried with backoff, then marked failed. Handlers must
 * be idempotent: a job may run more than once.
 */

export interface JobRow {
  id: bigint;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
}

export type JobHandler = (job: JobRow, heartbeat: () => Promise<void>) => Promise<void>;

export async function enqueue(db: Kysely<DB>, kind: string, payload: Record<string, unknown>, opts: { maxAttempts?: number; runAt?: Date } = {}): Promise<bigint> {
  const r = await db
    .insertInto('jobs')
    .values({ kind, payload: JSON.stringify(payload), max_attempts: opts.maxAttempts ?? 5, ...(opts.runAt ? { run_at: opts.runAt } : {}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export interface RunnerOptions {
  leaseMs?: number;
  pollMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly worker = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly opts: RunnerOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 1_000;
  }

  register(kind: string, handler: JobHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drain().then(() => undefined, (e: Error) => this.opts.log?.("job runner error", { error: e.message })).finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.pollMs).unref();
      });
    };
    tick();
  }

  /** Stops claiming; waits for the job in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
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
    const { rows } = await sql<JobRow>`
      UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ${this.worker},
             locked_until = now() + make_interval(secs => ${this.leaseMs / 1000})
       WHERE id = (
         SELECT id FROM jobs
          WHERE kind IN (${sql.join(kinds)})
            AND ((status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now()))
          ORDER BY run_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, payload, attempts, max_attempts`.execute(this.db);
    return rows[0] ?? null;
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
