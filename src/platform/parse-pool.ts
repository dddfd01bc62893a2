import { Worker } from 'node:worker_threads';
import type { Config } from './config.ts';
import type { Text } from './errors.ts';
import { DEFAULT_PARSE_LIMITS, parseLimits, setParseLimits, type ParseLimits } from './parse-limits.ts';
import type { ReplyMessage, TaskMessage } from './parse-worker.ts';

/**
 * Parsing off the event loop: a few worker threads (PARSE_WORKERS) that run parsers, each task
 * within a time budget (PARSE_TIME_BUDGET_MS) and each worker within a heap limit
 * (PARSE_WORKER_MEMORY_MB). A task past its budget is cut off: its worker is terminated and a new
 * one started for the next task; a worker that runs out of heap dies alone, not the process.
 * Either way the caller gets a ParsePoolError naming the reason, in English and Hindi. Tasks
 * wait in a queue for a free worker; the wait does not count against the budget.
 *
 * A task names a module and one of its exports: `runParse(new URL('./x.ts', import.meta.url),
 * 'parseX', [buffer])`. The export runs in the worker with the limits of this process in force
 * (parse-limits.ts) and returns plain data (structured clone: no class instances; bigint is
 * fine). Workers start on first use (about 1.5 s with tsx) and stay, unreferenced, so an idle
 * pool never keeps the process alive. The budget runs from when the worker has loaded the
 * parser's module (once per worker) and starts on the file.
 */

export interface ParsePoolSettings {
  workers: number;
  timeBudgetMs: number;
  maxOldGenerationSizeMb: number;
  limits: ParseLimits;
}

export const DEFAULT_POOL_SETTINGS: Readonly<Omit<ParsePoolSettings, 'limits'>> = Object.freeze({ workers: 1, timeBudgetMs: 30_000, maxOldGenerationSizeMb: 512 });

export type ParseFailure = 'time_budget' | 'memory' | 'crashed';

export class ParsePoolError extends Error {
  override name = 'ParsePoolError';
  constructor(
    readonly reason: ParseFailure,
    readonly text: Text,
  ) {
    super(text.en);
  }
}

const failureText = {
  time_budget: (ms: number): Text => ({
    en: `reading the file took longer than the limit of ${ms / 1000} s and was stopped`,
    hi: `फ़ाइल पढ़ने में ${ms / 1000} सेकंड की सीमा से अधिक समय लगा, इसलिए इसे रोक दिया गया`,
  }),
  memory: (mb: number): Text => ({
    en: `reading the file needed more than the ${mb} MB of memory allowed and was stopped`,
    hi: `फ़ाइल पढ़ने में अनुमत ${mb} MB से अधिक मेमोरी लगी, इसलिए इसे रोक दिया गया`,
  }),
  crashed: (why: string): Text => ({
    en: `the file could not be read: the reader stopped (${why})`,
    hi: `फ़ाइल पढ़ी नहीं जा सकी: पढ़ने वाला रुक गया (${why})`,
  }),
};

interface Job {
  id: number;
  task: Omit<TaskMessage, 'id' | 'limits'>;
  budgetMs: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  cutOff: boolean;
  error: (Error & { code?: string }) | null;
}

const BOOT = new URL('./parse-worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./parse-worker.ts', import.meta.url).href;

class ParsePool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly settings: Pick<ParsePoolSettings, 'workers' | 'maxOldGenerationSizeMb'>) {}

  run(task: Job['task'], budgetMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new ParsePoolError('crashed', failureText.crashed('the portal is shutting down')));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, budgetMs, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.find((s) => s.ready && !s.job);
      if (!slot) {
        if (this.slots.length < this.settings.workers) this.spawn();
        return;
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ ...job.task, id: job.id, limits: parseLimits() } satisfies TaskMessage);
    }
  }

  private spawn(): void {
    const worker = new Worker(BOOT, {
      workerData: { entry: ENTRY },
      resourceLimits: { maxOldGenerationSizeMb: this.settings.maxOldGenerationSizeMb },
    });
    const slot: Slot = { worker, ready: false, job: null, timer: null, cutOff: false, error: null };
    this.slots.push(slot);
    worker.unref();
    worker.on('message', (m: ReplyMessage) => {
      if ('ready' in m) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      if ('started' in m) {
        // Loading the parser's module (once per worker) is not the file's doing: not counted.
        slot.timer = setTimeout(() => {
          slot.cutOff = true;
          void slot.worker.terminate();
        }, job.budgetMs);
        return;
      }
      this.finish(slot);
      if (m.ok) job.resolve(m.value);
      else job.reject(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
      this.dispatch();
    });
    worker.on('error', (e) => {
      slot.error = e;
    });
    worker.on('exit', () => {
      this.slots = this.slots.filter((s) => s !== slot);
      const job = slot.job;
      this.finish(slot);
      if (job) {
        const code = slot.error?.code;
        job.reject(
          slot.cutOff
            ? new ParsePoolError('time_budget', failureText.time_budget(job.budgetMs))
            : code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new ParsePoolError('memory', failureText.memory(this.settings.maxOldGenerationSizeMb))
              : new ParsePoolError('crashed', failureText.crashed(slot.error?.message ?? 'the worker exited')),
        );
      } else if (!slot.ready && !this.closed) {
        // It died starting: the tasks waiting would wait for ever behind a worker that cannot start.
        for (const waiting of this.queue.splice(0)) waiting.reject(new ParsePoolError('crashed', failureText.crashed(slot.error?.message ?? 'the worker did not start')));
      }
      if (!this.closed) this.dispatch();
    });
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    slot.worker.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ParsePoolError('crashed', failureText.crashed('the portal is shutting down')));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

let settings: ParsePoolSettings = { ...DEFAULT_POOL_SETTINGS, limits: { ...DEFAULT_PARSE_LIMITS } };
let pool: ParsePool | null = null;

export function parseSettingsFromConfig(cfg: Pick<Config, 'parseWorkers' | 'parseTimeBudgetMs' | 'parseWorkerMemoryMb' | 'maxLineBytes' | 'maxCellBytes' | 'maxXlsxUncompressedBytes' | 'maxXlsxEntries' | 'maxStatementLines'>): ParsePoolSettings {
  return {
    workers: cfg.parseWorkers,
    timeBudgetMs: cfg.parseTimeBudgetMs,
    maxOldGenerationSizeMb: cfg.parseWorkerMemoryMb,
    limits: {
      maxLineBytes: cfg.maxLineBytes,
      maxCellBytes: cfg.maxCellBytes,
      maxXlsxUncompressedBytes: cfg.maxXlsxUncompressedBytes,
      maxXlsxEntries: cfg.maxXlsxEntries,
      maxStatementLines: cfg.maxStatementLines,
    },
  };
}

/**
 * Sets the pool's size, budget, heap limit and the parse limits (in this thread too, for parsers
 * run in it). A new size or heap limit replaces the workers (a task they were running fails).
 */
export async function configureParsing(next: Partial<ParsePoolSettings>): Promise<void> {
  const prev = settings;
  settings = { ...settings, ...next, limits: { ...settings.limits, ...next.limits } };
  setParseLimits(settings.limits);
  // The budget and the limits go with each task; the size and the heap limit need new workers.
  if (prev.workers === settings.workers && prev.maxOldGenerationSizeMb === settings.maxOldGenerationSizeMb) return;
  const old = pool;
  pool = null;
  await old?.close();
}

export function parsePoolSettings(): Readonly<ParsePoolSettings> {
  return settings;
}

/** Runs `module`'s export `fn` with `args` in a parse worker; rejects with ParsePoolError when cut off. */
export function runParse<T>(module: URL, fn: string, args: unknown[], opts: { timeBudgetMs?: number } = {}): Promise<T> {
  pool ??= new ParsePool(settings);
  return pool.run({ module: module.href, fn, args }, opts.timeBudgetMs ?? settings.timeBudgetMs) as Promise<T>;
}

export async function closeParsePool(): Promise<void> {
  const old = pool;
  pool = null;
  await old?.close();
}
