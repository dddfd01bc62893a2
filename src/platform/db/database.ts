import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { lockDataDir, type DirLock } from './dir-lock.ts';
import type { DB } from './schema.ts';

/**
 * One handle over either engine. Both go through Kysely's PostgresDialect: PostgreSQL with a pg
 * pool, PGlite with a one-connection pool whose mutex serialises transactions (PGlite has a
 * single session, so two interleaved transactions would otherwise mix).
 *
 * Types come back the same on both: int8 as bigint, date as 'YYYY-MM-DD', timestamptz as Date.
 */

export type Engine = 'postgres' | 'pglite';

export interface RawClient {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Runs a script of several statements (no parameters). */
  exec(script: string): Promise<void>;
  /** COPY … FROM in CSV format; `data` is CSV text (chunks). Returns rows copied. */
  copyFromCsv(table: string, columns: readonly string[], data: Iterable<string> | AsyncIterable<string>): Promise<number>;
}

export interface Database {
  readonly engine: Engine;
  readonly db: Kysely<DB>;
  /** A connection of its own for raw work (COPY, scripts, session-level locks). */
  withClient<T>(fn: (c: RawClient) => Promise<T>): Promise<T>;
  /** PGlite only: the data folder as a tarball that `openDatabase({ loadDataDir })` starts from. */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

const INT8 = 20;
const DATE = 1082;

let pgTypesSet = false;
function setPgTypes(): void {
  if (pgTypesSet) return;
  pgTypesSet = true;
  pg.types.setTypeParser(INT8, (v) => BigInt(v));
  pg.types.setTypeParser(DATE, (v) => v);
}

const pgliteParsers = {
  [INT8]: (v: string) => BigInt(v),
  [DATE]: (v: string) => v,
};

// pg sends a BigInt parameter via toString(); PGlite needs the same told explicitly.
function toPgParam(v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

function commandOf(sql: string, affected: number | undefined): string {
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  if (word === 'WITH' && affected !== undefined) return 'UPDATE';
  return word;
}

function pgliteClient(pgl: PGlite): RawClient {
  return {
    async query(sql, params = []) {
      const r = await pgl.query<never>(sql, params.map(toPgParam));
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(script) {
      await pgl.exec(script);
    },
    async copyFromCsv(table, columns, data) {
      // PGlite has no COPY FROM STDIN; it reads a blob given with the query.
      const parts: string[] = [];
      for await (const chunk of data as AsyncIterable<string>) parts.push(chunk);
      const r = await pgl.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`, [], {
        blob: new Blob(parts),
      });
      return r.affectedRows ?? 0;
    },
  };
}

function pgClient(c: pg.PoolClient): RawClient {
  return {
    async query(sql, params = []) {
      const r = await c.query<Record<string, unknown>>(sql, params as unknown[]);
      return { rows: r.rows as never[], rowCount: r.rowCount ?? 0 };
    },
    async exec(script) {
      await c.query(script);
    },
    async copyFromCsv(table, columns, data) {
      const stream = c.query(copyStreams.from(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(Readable.from(data as AsyncIterable<string>), stream);
      return Number(stream.rowCount ?? 0);
    },
  };
}

export interface OpenOptions {
  /** PostgreSQL URL; without it PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data folder; omitted means in memory. */
  dataDir?: string | undefined;
  /** A PGlite data-folder tarball to start from (test templates). */
  loadDataDir?: Blob | undefined;
  poolMax?: number;
  applicationName?: string;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolMax ?? 10, opts.applicationName ?? 'sangrahan');
  return openPglite(opts.dataDir, opts.loadDataDir);
}

async function openPostgres(url: string, max: number, applicationName: string): Promise<Database> {
  setPgTypes();
  // A database that stops answering (rather than refusing) fails a request after 5 s instead of hanging it.
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName, options: '-c TimeZone=UTC', connectionTimeoutMillis: 5000 });
  // A client that loses its server (a restart) must not crash the process: idle in the pool
  // (the pool's 'error'), or checked out between two statements of a transaction (the client's
  // own 'error', otherwise unhandled). Its next query fails, and the pool discards it on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    db,
    async withClient(fn) {
      const c = await pool.connect();
      try {
        return await fn(pgClient(c));
      } finally {
        c.release();
      }
    },
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; raw work may have used it alone.
      if (!pool.ended) await pool.end();
    },
  };
}

async function openPglite(dataDir: string | undefined, loadDataDir: Blob | undefined): Promise<Database> {
  let lock: DirLock | undefined;
  if (dataDir) lock = lockDataDir(dataDir);
  let pgl: PGlite;
  try {
    pgl = await PGlite.create({
      ...(dataDir ? { dataDir: path.join(dataDir, 'pgdata') } : {}),
      ...(loadDataDir ? { loadDataDir } : {}),
      parsers: pgliteParsers,
    });
    await pgl.exec(`SET TimeZone = 'UTC'`);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const mutex = new Mutex();
  const raw = pgliteClient(pgl);
  // The pool Kysely's PostgresDialect expects, over PGlite's single session.
  const pool = {
    async connect() {
      const release = await mutex.acquire();
      return {
        async query(sql: string, params: unknown[]) {
          const r = await pgl.query<never>(sql, (params ?? []).map(toPgParam));
          return { command: commandOf(sql, r.affectedRows), rowCount: r.affectedRows ?? r.rows.length, rows: r.rows };
        },
        release,
      };
    },
    async end() {
      // closed in close() below
    },
  };
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pool as unknown as pg.Pool }) });
  const withClient = async <T>(fn: (c: RawClient) => Promise<T>): Promise<T> => {
    const release = await mutex.acquire();
    try {
      return await fn(raw);
    } finally {
      release();
    }
  };
  return {
    engine: 'pglite',
    db,
    withClient,
    dumpDataDir: () => withClient(() => pgl.dumpDataDir('none')),
    async close() {
      await db.destroy();
      const release = await mutex.acquire();
      try {
        if (!pgl.closed) await pgl.close();
      } finally {
        release();
        lock?.release();
      }
    },
  };
}

/**
 * Whether an error means the database could not be reached or dropped the connection
 * (restarting, shut down, network). The HTTP layer answers 503 with Retry-After instead of 500;
 * the pool opens new connections on the next request. Almost always the transaction did not
 * commit; only a connection lost while COMMIT was on its way leaves the outcome unknown, which is
 * why money and tagging writes carry an Idempotency-Key, webhooks an event id and credits a UTR:
 * the retry finds what was done.
 */
export function databaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // Class 08 connection exceptions (not 08P01, a protocol violation: a defect, not an outage).
  if (['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/.test(message);
}
