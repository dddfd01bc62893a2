import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machine, type BenchResult } from './lib.ts';

/**
 * Runs the benchmarks in turn, each beside its raw-SQL baseline, prints their reports and a
 * summary table.
 *
 *   npm run bench                      every benchmark at full size; the table in docs/benchmarks.md
 *   npm run bench -- --only settle,dues  some of them; their lines replace theirs in the table
 *   npm run bench -- --only scale,load   the long ones, run only when named: 2 crore connections
 *                                      (all of Bihar) on PostgreSQL; the HTTP load test (load-1:
 *                                      the same with one process and no nginx)
 *   npm run bench -- --quick           small sizes, both engines: a check that they work (under
 *                                      5 minutes); the table is printed, the docs left alone
 *
 * Each benchmark appends its figures as JSON lines to the file BENCH_RESULTS names; the full
 * runs' figures are kept in bench/results.json (one line per benchmark, case and engine, with
 * its date), from which the table between the markers in docs/benchmarks.md is written.
 */

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });

type Run = [bench: string, args: string[], script?: string];
const QUICK: Run[] = [
  ['seed', ['--connections', '20000', '--engines', 'postgres,pglite']],
  ['mass-tag', ['--connections', '50000', '--rows', '5000']],
  ['dues', ['--connections', '50000', '--tagged', '5000', '--requests', '50', '--cold', '5']],
  ['settle', ['--bills', '500', '--connections', '10000', '--months', '1', '--batches', '40', '--pglite-batches', '20']],
  ['statements', ['--lines', '20000', '--challans', '2000', '--apply', '50']],
];
const FULL: Run[] = [
  ['seed', ['--connections', '1000000', '--engines', 'postgres']],
  ['seed', ['--connections', '100000', '--engines', 'pglite']],
  ['mass-tag', []],
  ['dues', ['--keep']],
  ['settle', []],
  ['statements', []],
  ['abuse', []],
];
// Long runs, only when named (--only scale,load): all of Bihar on PostgreSQL; the HTTP load test.
const EXTRA: Run[] = [
  ['scale', ['--bench', 'scale', '--connections', '20000000', '--months', '1', '--tagged', '100000', '--engines', 'postgres', '--keep'], 'dues'],
  ['load', []],
  ['load-1', ['--processes', '1'], 'load'],
  // The dues benchmark on PostgreSQL alone (PGlite's load of 2,40,00,000 bills takes half an hour).
  ['dues-pg', ['--keep', '--engines', 'postgres'], 'dues'],
];

const RESULTS = 'bench/results.json';
const DOC = 'docs/benchmarks.md';
const START = '<!-- bench-table:start (written by `npm run bench` from bench/results.json) -->';
const END = '<!-- bench-table:end -->';

const only = values.only?.split(',');
const runs = values.quick ? QUICK.filter(([name]) => !only || only.includes(name)) : [...FULL, ...EXTRA].filter(([name]) => (only ? only.includes(name) : FULL.some(([n]) => n === name)));
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-bench-')), 'results.jsonl');
fs.writeFileSync(out, '');

const t0 = Date.now();
const failed: string[] = [];
for (const [name, args, script] of runs) {
  console.log(`\n== ${name} ${args.join(' ')}`);
  const before = fs.readFileSync(out, 'utf8');
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${script ?? name}.ts`, ...args], { stdio: 'inherit', env: { ...process.env, BENCH_RESULTS: out } });
  if (r.status !== 0) {
    failed.push(name);
    fs.writeFileSync(out, before); // a failed run's figures are not reported
  }
}
const minutes = ((Date.now() - t0) / 60000).toFixed(1);

const date = new Date().toISOString().slice(0, 10);
type Row = BenchResult & { date: string };
const fresh: Row[] = fs
  .readFileSync(out, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => ({ ...(JSON.parse(l) as BenchResult), date }));

const key = (r: BenchResult) => `${r.bench}|${r.id}|${r.engine}`;
const ORDER = ['seed', 'mass-tag', 'dues', 'scale', 'settle', 'webhooks', 'statements', 'load'];
// (load-1 is the load test with one process and no nginx; its lines are the load benchmark's.)
let rows = fresh;
if (!values.quick) {
  const kept: Row[] = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Row[]) : [];
  const byKey = new Map(kept.map((r) => [key(r), r]));
  for (const r of fresh) byKey.set(key(r), r);
  rows = [...byKey.values()].sort((a, b) => ORDER.indexOf(a.bench) - ORDER.indexOf(b.bench) || (a.engine === b.engine ? 0 : a.engine === 'postgres' ? -1 : 1));
  fs.writeFileSync(RESULTS, `${JSON.stringify(rows, null, 1)}\n`);
  const doc = fs.readFileSync(DOC, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOC} has no table markers`);
  fs.writeFileSync(DOC, `${doc.slice(0, from + START.length)}\n${table(rows)}\n${doc.slice(to)}`);
}

console.log(`\n${table(rows)}\n\n${fresh.length} figures from ${runs.length} runs in ${minutes} min on ${machine()}${values.quick ? ' (quick sizes: not for the docs)' : `; the table is in ${DOC}`}`);
if (failed.length) console.log(`FAILED: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);

/** The summary table: one line per benchmark, case and engine. */
function table(rs: Row[]): string {
  const t = (ms?: number) => (ms === undefined ? '' : ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(1)} s`);
  const lat = (p50?: number, p95?: number) => (p50 === undefined || p95 === undefined ? '' : `${t(p50)} / ${t(p95)}`);
  const head = '| benchmark | engine | product | baseline | ratio | product p50 / p95 | baseline p50 / p95 | date |\n|---|---|---:|---:|---:|---:|---:|---|';
  const lines = rs.map((r) =>
    [
      `**${r.bench}**: ${r.what}`,
      r.engine === 'postgres' ? 'PostgreSQL' : 'PGlite',
      r.productRate ? `${r.productRate}${r.productMs === undefined ? '' : ` (${t(r.productMs)})`}` : t(r.productMs),
      r.baselineRate ? `${r.baselineRate}${r.baselineMs === undefined ? '' : ` (${t(r.baselineMs)})`}` : t(r.baselineMs),
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
      lat(r.productP50, r.productP95),
      lat(r.baselineP50, r.baselineP95),
      r.date,
    ].join(' | '),
  );
  return [head, ...lines.map((l) => `| ${l} |`)].join('\n');
}
