import { randomBytes } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import fs from 'node:fs';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { adminUrl, withDatabase } from '../test/helpers/pg.ts';
import { PG_BASE } from './lib.ts';

/**
 * Data sets for benchmarks that compare the product and a baseline on copies of one prepared
 * database: a PostgreSQL database copied with CREATE DATABASE … TEMPLATE, or a PGlite data
 * folder copied on disk.
 */
export interface Store {
  label: string;
  open(poolMax?: number): Promise<Database>;
  copy(): Promise<Store>;
  drop(): Promise<void>;
  size(): Promise<string>;
}

/** A statement on the server's maintenance database (creating, dropping, altering databases). */
export async function adminExec(q: string): Promise<void> {
  const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
  try {
    // A just-closed connection can linger a moment on the server: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.withClient((c) => c.exec(q));
        return;
      } catch (e) {
        if (attempt >= 100 || !/being accessed by other users/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.close();
  }
}

export interface PgStoreOptions {
  /** Copies are named `<prefix>_<random>`. */
  prefix: string;
  poolMax: number;
  /** Settings for each copy before it is opened (e.g. auto_explain). */
  onCopy?: (database: string) => Promise<void>;
}

export function pgStore(name: string, opts: PgStoreOptions): Store {
  return {
    label: name,
    open: async (poolMax = opts.poolMax) => {
      const d = await openDatabase({ databaseUrl: withDatabase(PG_BASE, name), poolMax });
      await migrate(d);
      return d;
    },
    async copy() {
      const to = `${opts.prefix}_${randomBytes(4).toString('hex')}`;
      await adminExec(`CREATE DATABASE ${to} TEMPLATE ${name} STRATEGY FILE_COPY`);
      await opts.onCopy?.(to);
      return pgStore(to, opts);
    },
    drop: () => adminExec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    async size() {
      const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
      try {
        const { rows } = await admin.withClient((c) => c.query<{ s: string }>(`SELECT pg_size_pretty(pg_database_size($1)) AS s`, [name]));
        return rows[0]!.s;
      } finally {
        await admin.close();
      }
    },
  };
}

/** A PGlite data folder; copies are made beside `<dirPrefix>-<random>`. */
export function pgliteStore(dir: string, dirPrefix: string): Store {
  return {
    label: dir,
    open: async () => {
      const d = await openDatabase({ dataDir: dir });
      await migrate(d);
      return d;
    },
    async copy() {
      const to = fs.mkdtempSync(`${dirPrefix}-`);
      fs.cpSync(dir, to, { recursive: true });
      return pgliteStore(to, dirPrefix);
    },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async size() {
      let bytes = 0;
      for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (f.isFile()) bytes += fs.statSync(`${f.parentPath}/${f.name}`).size;
      }
      return `${(bytes / 2 ** 30).toFixed(1)} GB`;
    },
  };
}

/** A fresh copy of a base for one side of a comparison, opened for `fn` and dropped afterwards. */
export async function withCopy(base: Store, engine: string, what: string, fn: (d: Database) => Promise<void>): Promise<void> {
  const t = Date.now();
  const copy = await base.copy();
  try {
    console.log(`  ${engine}: copied the data set (${await copy.size()}) for the ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const d = await copy.open();
    try {
      await fn(d);
    } finally {
      await d.close();
    }
  } finally {
    await copy.drop();
  }
}

/** The PostgreSQL database `name`, created if missing; whether it holds any row of `table` yet. */
export async function ensurePgDatabase(name: string, store: Store, table: 'connections' | 'challans'): Promise<{ fresh: boolean }> {
  const admin = await openDatabase({ databaseUrl: adminUrl(PG_BASE), poolMax: 1 });
  const exists = await admin.withClient((c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname = $1`, [name]));
  await admin.close();
  if (!exists.rows[0]!.n) await adminExec(`CREATE DATABASE ${name}`);
  const d = await store.open(1);
  try {
    const has = await d.withClient((c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} LIMIT 1) x`));
    return { fresh: has.rows[0]!.n === 0 };
  } finally {
    await d.close();
  }
}

const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

/**
 * Times each query the application runs through Kysely while `on` (compile to result), by a
 * label: the statement kind and table, or for raw SQL the name of the first of `steps` whose
 * pattern it matches (else its first words).
 */
export class QueryTimer implements KyselyPlugin {
  private readonly started = new WeakMap<QueryId, { at: number; label: string }>();
  readonly times = new Map<string, { n: number; ms: number }>();
  on = false;
  constructor(private readonly steps: readonly [RegExp, string][] = []) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.on) this.started.set(args.queryId, { at: performance.now(), label: this.labelOf(args.node) });
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const s = this.started.get(args.queryId);
    if (s) {
      const t = this.times.get(s.label) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += performance.now() - s.at;
      this.times.set(s.label, t);
    }
    return args.result;
  }

  /** Milliseconds over all queries timed. */
  total(): number {
    return [...this.times.values()].reduce((s, x) => s + x.ms, 0);
  }

  count(): number {
    return [...this.times.values()].reduce((s, x) => s + x.n, 0);
  }

  /** The n slowest labels, one indented line each. */
  top(n: number): string {
    return [...this.times]
      .sort((x, y) => y[1].ms - x[1].ms)
      .slice(0, n)
      .map(([label, x]) => `        ${fmt(x.ms).padStart(8)}  ${x.n}× ${label}`)
      .join('\n');
  }

  private labelOf(node: RootOperationNode): string {
    const n = node as unknown as { kind: string; sqlFragments?: string[]; into?: { table: { identifier: { name: string } } }; table?: { table?: { identifier: { name: string } } }; from?: { froms: { table?: { identifier: { name: string } } }[] } };
    if (n.kind === 'RawNode') {
      const text = n.sqlFragments!.join('$').replace(/\s+/g, ' ').trim();
      return this.steps.find(([re]) => re.test(text))?.[1] ?? text.slice(0, 70);
    }
    const table = n.into?.table.identifier.name ?? n.table?.table?.identifier.name ?? n.from?.froms[0]?.table?.identifier.name ?? '?';
    return `${n.kind.replace('QueryNode', '').toUpperCase()} ${table}`;
  }
}
