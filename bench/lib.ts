import fs from 'node:fs';
import os from 'node:os';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { scratchDatabase } from '../test/helpers/pg.ts';
import { setTotpKey } from '../src/modules/identity/index.ts';

/** Benchmark helpers: fresh databases on either engine, and a description of the machine. */

// Demo users' authenticator secrets are sealed with this key, here and in the app processes a
// benchmark starts (they inherit the environment).
process.env.TOTP_ENCRYPTION_KEY ??= 'bench-totp-key-not-secret-0123456789abcdef';
setTotpKey(process.env.TOTP_ENCRYPTION_KEY);

export const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freshBenchDatabase(engine: 'postgres' | 'pglite'): Promise<Database> {
  const d = engine === 'pglite' ? await openDatabase({}) : await scratchDatabase(PG_BASE, { prefix: 'sangrahan_bench', poolMax: 4 });
  await migrate(d);
  return d;
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * One line of the summary table `npm run bench` writes: what was measured, on which engine,
 * the product's and the baseline's time (or p50/p95 for request latencies, or a rate), and
 * their ratio. Appended as a JSON line to the file BENCH_RESULTS names (run.ts sets it); a
 * benchmark run by hand only prints its report.
 */
export interface BenchResult {
  bench: string;
  /** Stable within the benchmark: a later run's line replaces the earlier one of the same bench, id and engine. */
  id: string;
  what: string;
  engine: 'postgres' | 'pglite';
  /** Wall time of the whole operation, ms. */
  productMs?: number;
  baselineMs?: number;
  /** Latencies of repeated requests, ms. */
  productP50?: number;
  productP95?: number;
  baselineP50?: number;
  baselineP95?: number;
  /** A rate where that is the figure (e.g. "99 credits/s"), shown instead of the time. */
  productRate?: string;
  baselineRate?: string;
  /** product ÷ baseline: of the times, or of the p95s for latencies. */
  ratio?: number;
}

export function record(r: BenchResult): void {
  const file = process.env.BENCH_RESULTS;
  if (file) fs.appendFileSync(file, `${JSON.stringify(r)}\n`);
}
