import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import { recordAudit } from '../audit/index.ts';
import { SYNC_OVERLAP_MS, ingestBillingCsv } from '../connections/index.ts';
import { DemoGenerator, chunkCsv, type CsvChunk, type GeneratorOptions } from './generator.ts';
import { DISCOMS, TARIFF_CATEGORIES, subdivisionsOf } from './geography.ts';
import { ORGANISATIONS } from './organisations.ts';
import { seedDemoPeople } from './people.ts';
import { SandboxBank } from '../../adapters/bank/sandbox.ts';
import { markDemoData } from '../../platform/installation.ts';

/**
 * Loads Bihar-like demo data: the two discoms' hierarchy and tariff categories, the payer
 * organisations, and K connections with 12 months of bills, written into the billing simulator
 * and the portal's mirror in chunks (COPY into staging, then set-based inserts).
 */

export interface SeedOptions {
  seed: number;
  connections: number;
  asOf?: Date;
  chunkSize?: number;
  /** Months of bills per connection (default 12). */
  months?: number;
  /** Generate in a worker thread, one chunk ahead of the database (default: from 50,000 connections). */
  worker?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  connections: number;
  bills: number;
  organisations: number;
  ms: number;
}

export class SeedRefused extends Error {
  override name = 'SeedRefused';
}

/** Every organisation's history starts with its registration (and the discom's decision). */
async function auditDemoOrganisations(database: Database): Promise<void> {
  const orgs = await database.db
    .selectFrom('organisations as o')
    .select(['o.id', 'o.status', 'o.name', 'o.type'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('audit_chains as c').select('c.chain').whereRef('c.chain', '=', 'o.id'))))
    .orderBy('o.id')
    .execute();
  await database.db.transaction().execute(async (trx) => {
    for (const o of orgs) {
      await recordAudit(trx, { action: 'organisation.registered', actor: null, actorLabel: 'demo-seed', orgId: o.id, target: { type: 'organisation', id: o.id }, details: { type: o.type, name: o.name }, meta: null });
      if (o.status === 'approved') {
        await recordAudit(trx, { action: 'organisation.approved', actor: null, actorLabel: 'demo-seed', orgId: o.id, target: { type: 'organisation', id: o.id }, meta: null });
      }
    }
  });
}

/** Discoms, circles, divisions, subdivisions and tariff categories; safe to run again. */
export async function seedReferenceData(database: Database): Promise<void> {
  const { db } = database;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('tariff_categories')
      .values(TARIFF_CATEGORIES.map((t) => ({ code: t.code, name: t.name, name_hi: t.hi, supply_type: t.supply })))
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
    for (const d of DISCOMS) {
      await trx
        .insertInto('discoms')
        .values({
          code: d.code,
          name: d.name,
          name_hi: d.hi,
          state: 'Bihar',
          consumer_no_pattern: '^[0-9]{9,11}$',
        })
        .onConflict((oc) => oc.column('code').doNothing())
        .execute();
      const discom = await trx.selectFrom('discoms').select('id').where('code', '=', d.code).executeTakeFirstOrThrow();
      await trx
        .insertInto('circles')
        .values(d.circles.map((c) => ({ discom_id: discom.id, code: c.code, name: c.name, name_hi: c.hi })))
        .onConflict((oc) => oc.columns(['discom_id', 'code']).doNothing())
        .execute();
      const circles = new Map(
        (await trx.selectFrom('circles').select(['id', 'code']).where('discom_id', '=', discom.id).execute()).map((c) => [c.code, c.id]),
      );
      const subs = subdivisionsOf(d);
      const divisions = new Map<string, { circle: string; name: string; hi: string }>();
      for (const c of d.circles) c.divisions.forEach((v, i) => divisions.set(`${c.code}-${i + 1}`, { circle: c.code, name: v.name, hi: v.hi }));
      await trx
        .insertInto('divisions')
        .values([...divisions].map(([code, v]) => ({ discom_id: discom.id, circle_id: circles.get(v.circle)!, code, name: v.name, name_hi: v.hi })))
        .onConflict((oc) => oc.columns(['discom_id', 'code']).doNothing())
        .execute();
      const divisionIds = new Map(
        (await trx.selectFrom('divisions').select(['id', 'code']).where('discom_id', '=', discom.id).execute()).map((v) => [v.code, v.id]),
      );
      await trx
        .insertInto('subdivisions')
        .values(subs.map((s) => ({ discom_id: discom.id, division_id: divisionIds.get(s.divisionCode)!, code: s.code, name: s.name, name_hi: s.hi })))
        .onConflict((oc) => oc.columns(['discom_id', 'code']).doNothing())
        .execute();
    }
  });
}

async function seedOrganisations(database: Database): Promise<number> {
  const existing = new Set((await database.db.selectFrom('organisations').select('name').execute()).map((o) => o.name));
  const discoms = new Map((await database.db.selectFrom('discoms').select(['id', 'code']).execute()).map((d) => [d.code, d.id]));
  const rows = ORGANISATIONS.filter((o) => !existing.has(o.name)).map((o) => ({
    type: o.type,
    name: o.name,
    name_hi: o.hi,
    pan: o.pan ?? null,
    tan: o.tan ?? null,
    gstin: o.gstin ?? null,
    department_code: o.departmentCode ?? null,
    address: o.address,
    email: o.email,
    mobile: o.mobile,
    status: 'approved' as const,
    // The education department wants a second person for payments above ₹5 lakh.
    approval_threshold_paise: o.departmentCode === 'BR-EDU' ? 50_000_000n : null,
    discom_id: discoms.get(o.discom) ?? null,
  }));
  if (rows.length) await database.db.insertInto('organisations').values(rows).execute();
  return rows.length;
}

/**
 * Each discom's RTGS/NEFT collection account at the sandbox bank, with its virtual account
 * prefix (a real deployment configures its bank's): opened at the bank and known to the portal.
 */
export const DEMO_COLLECTION_ACCOUNTS = [
  { discomCode: 'NBPDCL', accountNo: '50200011112221', vaPrefix: 'NBPD', beneficiary: 'NBPDCL Collection Account' },
  { discomCode: 'SBPDCL', accountNo: '50200011113331', vaPrefix: 'SBPD', beneficiary: 'SBPDCL Collection Account' },
] as const;
export const DEMO_BANK = { name: 'Sangrahan Sandbox Bank', ifsc: 'SBXB0000101' } as const;
/** Where the gateway settles online payments (both discoms' bills are paid in one checkout). */
export const ONLINE_COLLECTIONS = { accountNo: '50200011110001', holder: 'BSPHCL Online Collections' } as const;

export async function seedCollectionAccounts(database: Database): Promise<void> {
  const bank = new SandboxBank(database.db);
  for (const a of DEMO_COLLECTION_ACCOUNTS) {
    const d = await database.db.selectFrom('discoms').select('id').where('code', '=', a.discomCode).executeTakeFirst();
    if (!d) continue;
    await database.db
      .insertInto('collection_accounts')
      .values({ discom_id: d.id, bank_name: DEMO_BANK.name, ifsc: DEMO_BANK.ifsc, account_no: a.accountNo, beneficiary_name: a.beneficiary, va_prefix: a.vaPrefix })
      .onConflict((oc) => oc.column('discom_id').doNothing())
      .execute();
    await bank.openAccount({ accountNo: a.accountNo, ifsc: DEMO_BANK.ifsc, holder: a.beneficiary, vaPrefix: a.vaPrefix });
  }
  await bank.openAccount({ accountNo: ONLINE_COLLECTIONS.accountNo, ifsc: DEMO_BANK.ifsc, holder: ONLINE_COLLECTIONS.holder, vaPrefix: null });
}

export async function seedDemo(database: Database, opts: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const existing = await database.db
    .selectFrom('connections')
    .select(sql<bigint>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  if (existing.n > 0n) {
    throw new SeedRefused(
      `The database already holds ${existing.n} connections. The seed loads demo data into an empty database only; ` +
        `use a fresh database (a new DATA_DIR, or a new PostgreSQL database).`,
    );
  }
  // Marked first: a demo interrupted half-way still holds published passwords and secrets.
  await markDemoData(database.db);
  await seedReferenceData(database);
  await seedCollectionAccounts(database);
  const organisations = await seedOrganisations(database);
  await seedDemoPeople(database.db);
  await auditDemoOrganisations(database);
  // Rows are stamped by the billing system's clock (the database's), far enough before the sync
  // watermark that the first incremental sync does not read the whole seed again.
  const { rows: clock } = await database.withClient((c) => c.query<{ now: Date }>('SELECT clock_timestamp() AS now'));
  const watermark = clock[0]!.now;
  const changedAt = new Date(watermark.getTime() - SYNC_OVERLAP_MS - 60_000).toISOString();
  const genOpts: GeneratorOptions = { seed: opts.seed, connections: opts.connections, asOf: opts.asOf ?? new Date(), changedAt, ...(opts.months ? { months: opts.months } : {}) };
  const chunk = opts.chunkSize ?? 5000;
  const source = (opts.worker ?? opts.connections >= 50_000) ? workerChunks(genOpts, chunk) : inlineChunks(genOpts, chunk);
  let bills = 0;
  let loaded = 0;
  const load = async (c: CsvChunk) => {
    const r = await database.withClient((client) =>
      ingestBillingCsv(client, [c.connectionsCsv], [c.billsCsv], { intoSimulator: true, trusted: true }),
    );
    if (r.connections !== c.to - c.from || r.bills !== c.bills) {
      throw new Error(`Demo chunk ${c.from}–${c.to} loaded ${r.connections} connections and ${r.bills} bills of ${c.to - c.from} and ${c.bills} (a generator bug)`);
    }
    bills += r.bills;
    loaded += c.to - c.from;
    opts.onProgress?.(loaded, opts.connections);
  };
  // Chunks hold distinct connections, so on PostgreSQL two load at once, one per core.
  const parallel = database.engine === 'postgres' ? 2 : 1;
  const inFlight = new Set<Promise<void>>();
  for await (const c of source) {
    const p: Promise<void> = load(c).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= parallel) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await database.db
    .insertInto('billing_sync_state')
    .values({ source: 'simulator', watermark, last_finished_at: new Date() })
    .onConflict((oc) => oc.column('source').doUpdateSet({ watermark, last_finished_at: new Date() }))
    .execute();
  await database.withClient((c) => c.exec('ANALYZE'));
  return { connections: opts.connections, bills, organisations, ms: Date.now() - started };
}

function* inlineChunks(opts: GeneratorOptions, chunk: number): Generator<CsvChunk> {
  const gen = new DemoGenerator(opts);
  for (let from = 0; from < opts.connections; from += chunk) yield chunkCsv(gen, from, Math.min(opts.connections, from + chunk));
}

async function* workerChunks(opts: GeneratorOptions, chunk: number): AsyncGenerator<CsvChunk> {
  // The worker runs TypeScript through tsx, as the main program does.
  const worker = new Worker(new URL('./seed-worker.mjs', import.meta.url), { workerData: { opts, chunk } });
  const queue: (CsvChunk | null | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (v: CsvChunk | null | Error) => {
    queue.push(v);
    wake?.();
  };
  worker.on('message', (m: CsvChunk | null) => push(m));
  worker.on('error', (e) => push(e));
  try {
    worker.postMessage('next');
    for (;;) {
      while (!queue.length) await new Promise<void>((r) => (wake = r));
      const v = queue.shift()!;
      if (v instanceof Error) throw v;
      if (v === null) return;
      worker.postMessage('next'); // generate the next chunk while this one loads
      yield v;
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * Tags four in five of each approved demo organisation's own connections (those whose owner
 * PAN or department code is the organisation's) to it, spread over its offices, so the demo's
 * dues pages have something to show; the fifth stays untagged for trying the tagging pages.
 * With `departmentCode`, only that organisation, and its first `count` own connections (the
 * dues benchmark). Set-based, in one transaction, with one audit entry per organisation.
 */
export async function tagDemoConnections(database: Database, only?: { departmentCode: string; count: number }): Promise<number> {
  return database.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ org_id: bigint; n: bigint }>`
      WITH cand AS (
        SELECT c.id AS connection_id, o.id AS org_id, row_number() OVER (PARTITION BY o.id ORDER BY c.id) AS rn
          FROM organisations o
          JOIN connections c ON (o.pan IS NOT NULL AND c.owner_pan = o.pan) OR (o.department_code IS NOT NULL AND c.owner_dept_code = o.department_code)
         WHERE o.status = 'approved' AND (${only?.departmentCode ?? null}::text IS NULL OR o.department_code = ${only?.departmentCode ?? null})
           AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = c.id AND t.status IN ('active', 'requested'))
      ), offs AS (
        SELECT org_id, array_agg(id ORDER BY path) AS ids FROM offices GROUP BY org_id
      ), tagged AS (
        INSERT INTO tags (org_id, connection_id, office_id, status, method, source, requested_at, activated_at)
        SELECT c.org_id, c.connection_id, f.ids[1 + (c.rn % cardinality(f.ids))], 'active', 'owner_match', 'upload', now(), now()
          FROM cand c JOIN offs f ON f.org_id = c.org_id
         WHERE (${only?.count ?? null}::int IS NULL AND c.rn % 5 <> 0) OR c.rn <= ${only?.count ?? null}::int
        RETURNING org_id
      )
      SELECT org_id, count(*) AS n FROM tagged GROUP BY org_id ORDER BY org_id`.execute(trx);
    for (const r of rows) {
      await recordAudit(trx, { action: 'tag.demo_seeded', actor: null, actorLabel: 'demo-seed', orgId: r.org_id, target: { type: 'organisation', id: r.org_id }, details: { tagged: Number(r.n), method: 'owner_match' }, meta: null });
    }
    return rows.reduce((s, r) => s + Number(r.n), 0);
  });
}
