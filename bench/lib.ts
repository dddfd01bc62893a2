import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';

/** Benchmark helpers: fresh databases on either engine, and a description of the machine. */

export const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freshBenchDatabase(engine: 'postgres' | 'pglite'): Promise<Database> {
  if (engine === 'pglite') {
    const d = await openDatabase({});
    await migrate(d);
    return d;
  }
  const name = `sangrahan_bench_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ databaseUrl: PG_BASE, poolMax: 1 });
  await admin.withClient((c) => c.exec(`CREATE DATABASE ${name}`));
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  const d = await openDatabase({ databaseUrl: u.toString(), poolMax: 4 });
  await migrate(d);
  return {
    ...d,
    async close() {
      await d.close();
      await admin.withClient((c) => c.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await admin.close();
    },
  };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
