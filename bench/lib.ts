import os from 'node:os';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { scratchDatabase } from '../test/helpers/pg.ts';

/** Benchmark helpers: fresh databases on either engine, and a description of the machine. */

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
