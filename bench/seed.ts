import { parseArgs } from 'node:util';
import { BILL_COLUMNS, CONNECTION_COLUMNS } from '../src/adapters/billing-system/types.ts';
import { DemoGenerator, chunkCsv } from '../src/modules/demo/generator.ts';
import { seedDemo } from '../src/modules/demo/seed.ts';
import { freshBenchDatabase, machine, record, seconds } from './lib.ts';

/**
 * Demo-data load: `seed` (generate in a worker, COPY into staging, set-based upserts into the
 * portal mirror and the billing simulator) against a raw-SQL baseline in the same process: the
 * same generated CSV COPied straight into the simulator's two tables, once, with no staging,
 * checks or mirror, timing the COPY only. The baseline is the floor of writing these rows at all.
 */

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '100000' }, engines: { type: 'string', default: 'postgres' } },
});
const connections = Number(values.connections);
const asOf = new Date('2026-11-26T12:00:00Z');

console.log(`Seed benchmark: ${connections.toLocaleString('en-IN')} connections × 12 months; ${machine()}`);
for (const engine of values.engines.split(',') as ('postgres' | 'pglite')[]) {
  const a = await freshBenchDatabase(engine);
  let seedMs: number;
  let bills: number;
  try {
    const r = await seedDemo(a, {
      seed: 42,
      connections,
      asOf,
      chunkSize: 10000,
      onProgress: (d, t) => process.stdout.write(`\r  ${engine} seed ${d}/${t}`),
    });
    seedMs = r.ms;
    bills = r.bills;
    process.stdout.write('\n');
  } finally {
    await a.close();
  }

  const b = await freshBenchDatabase(engine);
  let baseMs: number;
  try {
    // Only the COPY is timed: generating the rows is left out of the baseline.
    const gen = new DemoGenerator({ seed: 42, connections, asOf, changedAt: new Date().toISOString() });
    const strip = (csv: string) => csv.replace(/^\d+,/gm, ''); // staging CSV carries a row number first
    baseMs = 0;
    for (let from = 0; from < connections; from += 10000) {
      const c = chunkCsv(gen, from, Math.min(connections, from + 10000));
      const conns = strip(c.connectionsCsv);
      const billCsv = strip(c.billsCsv);
      const started = Date.now();
      await b.withClient(async (cl) => {
        await cl.copyFromCsv('billing_sim.consumers', CONNECTION_COLUMNS, [conns]);
        await cl.copyFromCsv('billing_sim.bills', BILL_COLUMNS, [billCsv]);
      });
      baseMs += Date.now() - started;
      process.stdout.write(`\r  ${engine} baseline ${c.to}/${connections}`);
    }
    process.stdout.write('\n');
  } finally {
    await b.close();
  }
  console.log(
    `  ${engine}: seed ${seconds(seedMs)} (${bills.toLocaleString('en-IN')} bills, mirror + simulator), ` +
      `baseline COPY into simulator only ${seconds(baseMs)}, ratio ${(seedMs / baseMs).toFixed(2)}×`,
  );
  record({ bench: 'seed', id: 'load', what: `load ${connections.toLocaleString('en-IN')} connections × 12 months of bills`, engine, productMs: seedMs, baselineMs: baseMs, ratio: seedMs / baseMs });
}
