import type { BillingSystem, ChangeCursor } from '../../adapters/billing-system/types.ts';
import type { Database } from '../../platform/db/database.ts';
import { runExclusive } from '../../platform/db/exclusive.ts';
import { ingestBillingRecords } from './ingest.ts';

/**
 * Incremental sync from the billing system into the portal's mirror.
 *
 * - A run is anchored on the billing system's own clock, read when the run starts: it asks for
 *   everything changed after the previous run's start minus an overlap, and on success records
 *   its own start as the new watermark. A change made while a run is reading (in either phase)
 *   is therefore read again by the next run; the overlap covers transactions that commit a
 *   little after the time they stamped.
 * - Rows arrive a page at a time, each page applied in its own transaction. Re-read rows that
 *   have not changed are not written again (see ingest.ts).
 * - A row that cannot be applied (unknown subdivision, a broken rule) is quarantined in
 *   billing_sync_rejects with its reason and payload, and the run goes on; the row is cleared
 *   from quarantine once a later copy of it is applied.
 * - One run per billing system at a time, across processes (runExclusive).
 */

export const SYNC_OVERLAP_MS = 5 * 60_000;

export interface SyncOptions {
  pageSize?: number;
  overlapMs?: number;
}

export interface SyncResult {
  /** False when another run was going on; nothing was done. */
  ran: boolean;
  connections: number;
  bills: number;
  rejected: number;
  pages: number;
  watermark: string | null;
}

export async function syncFromBillingSystem(database: Database, billing: BillingSystem, opts: SyncOptions = {}): Promise<SyncResult> {
  const r = await runExclusive(database, `billing-sync:${billing.name}`, () => runSync(database, billing, opts));
  return r.ran ? r.value : { ran: false, connections: 0, bills: 0, rejected: 0, pages: 0, watermark: null };
}

async function runSync(database: Database, billing: BillingSystem, opts: SyncOptions): Promise<SyncResult> {
  const pageSize = opts.pageSize ?? 5000;
  const overlapMs = opts.overlapMs ?? SYNC_OVERLAP_MS;
  const { db } = database;
  const state = await db.selectFrom('billing_sync_state').selectAll().where('source', '=', billing.name).executeTakeFirst();
  await db
    .insertInto('billing_sync_state')
    .values({ source: billing.name, last_started_at: new Date() })
    .onConflict((oc) => oc.column('source').doUpdateSet({ last_started_at: new Date() }))
    .execute();
  const result: SyncResult = { ran: true, connections: 0, bills: 0, rejected: 0, pages: 0, watermark: null };
  try {
    const runStart = await billing.currentTime();
    const since = state?.watermark ? new Date(state.watermark.getTime() - overlapMs).toISOString() : null;
    let cursor: ChangeCursor | null = null;
    do {
      const page = await billing.fetchChanges(since, cursor, pageSize);
      if (page.connections.length || page.bills.length) {
        const r = await database.withClient((c) => ingestBillingRecords(c, page.connections, page.bills, { quarantine: true }));
        result.connections += r.connections;
        result.bills += r.bills;
        result.rejected += r.rejected.length;
        await recordRejects(database, billing.name, page, r.rejected);
      }
      result.pages++;
      cursor = page.next;
    } while (cursor);
    result.watermark = runStart;
  } catch (e) {
    await db.updateTable('billing_sync_state').set({ last_error: (e as Error).message }).where('source', '=', billing.name).execute();
    throw e;
  }
  await db
    .updateTable('billing_sync_state')
    .set((eb) => ({
      watermark: new Date(result.watermark!),
      last_finished_at: new Date(),
      last_error: null,
      connections_synced: eb('connections_synced', '+', BigInt(result.connections)),
      bills_synced: eb('bills_synced', '+', BigInt(result.bills)),
    }))
    .where('source', '=', billing.name)
    .execute();
  return result;
}

type Page = Awaited<ReturnType<BillingSystem['fetchChanges']>>;

/** Quarantines this page's rejected rows, and releases earlier rejects of rows now applied. */
async function recordRejects(
  database: Database,
  source: string,
  page: Page,
  rejected: { file: 'connections' | 'bills'; row: number; key: string; problem: string; detail: string }[],
): Promise<void> {
  const payloadOf = (file: 'connections' | 'bills', row: number) => (file === 'connections' ? page.connections[row - 1] : page.bills[row - 1]);
  const bad = new Set(rejected.map((r) => `${r.file}:${r.key}`));
  const accepted = [
    ...page.connections.map((c) => `connections:${c.discomCode}|${c.consumerNo}`),
    ...page.bills.map((b) => `bills:${b.discomCode}|${b.consumerNo}|${b.billMonth}`),
  ].filter((k) => !bad.has(k));
  const rows = rejected.map((r) => ({
    source,
    kind: r.file,
    key: r.key,
    problem: r.problem,
    detail: r.detail,
    payload: JSON.stringify(payloadOf(r.file, r.row), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  }));
  await database.withClient(async (c) => {
    if (accepted.length) {
      await c.query(
        `DELETE FROM billing_sync_rejects WHERE source = $1 AND kind || ':' || key IN (SELECT jsonb_array_elements_text($2::jsonb))`,
        [source, JSON.stringify(accepted)],
      );
    }
    if (rows.length) {
      await c.query(
        `INSERT INTO billing_sync_rejects (source, kind, key, problem, detail, payload)
         SELECT source, kind, key, problem, detail, payload::jsonb FROM jsonb_to_recordset($1::jsonb)
             AS x(source text, kind text, key text, problem text, detail text, payload text)
         ON CONFLICT (source, kind, key, problem) DO UPDATE SET detail = EXCLUDED.detail, payload = EXCLUDED.payload, last_seen_at = now()`,
        [JSON.stringify(rows)],
      );
    }
  });
}
