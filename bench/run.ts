import { spawnSync } from 'node:child_process';

/**
 * Runs every benchmark in turn, each beside its raw-SQL baseline, and prints their reports.
 * `--quick` runs small sizes (a check that they work, figures not for the docs).
 * Figures in docs/benchmarks.md come from the full sizes, run one benchmark at a time.
 */

const quick = process.argv.includes('--quick');
const runs: [string, string[]][] = quick
  ? [
      ['seed', ['--connections', '20000']],
      ['mass-tag', ['--connections', '50000', '--rows', '5000']],
      ['dues', ['--connections', '50000', '--tagged', '5000', '--requests', '50', '--cold', '5']],
      ['settle', ['--bills', '500', '--connections', '10000', '--months', '1', '--batches', '40', '--pglite-batches', '20']],
      ['statements', ['--lines', '20000', '--challans', '2000', '--apply', '50']],
    ]
  : [
      ['seed', ['--connections', '1000000', '--engines', 'postgres']],
      ['mass-tag', []],
      ['dues', []],
      ['settle', []],
      ['statements', ['--engines', 'postgres']],
    ];

let failed = 0;
for (const [name, args] of runs) {
  console.log(`\n== ${name} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
