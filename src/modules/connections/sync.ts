import type { BillingSystem, ChangeCursor } from '../../adapters/billing-system/types.ts';
import type { Database } from '../../platform/db/database.ts';
import { ingestBillingRecords } from './ingest.ts';

/**
 * Incremental sync from the billing system into the portal's mirror. It asks for everything
 * changed since the watermark minus an overlap (a change committed late with an earlier time
 * is still seen; replays are harmless because a row is only replaced by a newer one), a page at
 * a time, each page in its own transaction. The watermark moves only when a run completes, so
 * a run that fails is simply repeated.
 */

export interface SyncOptions {
  pageSize?: number;
  overlapMs?: number;
}

export interface SyncResult {
  connections: number;
  bills: number;
  pages: number;
  watermark: Date | null;
}

export class SyncRejected extends Error {
  override name = 'SyncRejected';
}

export async function syncFromBillingSystem(
  database: Database,
  billing: BillingSystem,
  opts: SyncOptions = {},
): Promise<SyncResult> {
  const pageSize = opts.pageSize ?? 5000;
  const overlapMs = opts.overlapMs ?? 5 * 60_000;
  const { db } = database;
  const state = await db.selectFrom('billing_sync_state').selectAll().where('source', '=', billing.name).executeTakeFirst();
  await db
    .insertInto('billing_sync_state')
    .values({ source: billing.name, last_started_at: new Date() })
    .onConflict((oc) => oc.column('source').doUpdateSet({ last_started_at: new Date() }))
    .execute();
  const since = state?.watermark ? new Date(state.watermark.getTime() - overlapMs) : null;
  let cursor: ChangeCursor | null = null;
  let maxSeen = state?.watermark ?? null;
  const result: SyncResult = { connections: 0, bills: 0, pages: 0, watermark: maxSeen };
  try {
    do {
      const page = await billing.fetchChanges(since, cursor, pageSize);
      for (const r of [...page.connections, ...page.bills]) if (!maxSeen || r.changedAt > maxSeen) maxSeen = r.changedAt;
      if (page.connections.length || page.bills.length) {
        const r = await database.withClient((c) => ingestBillingRecords(c, page.connections, page.bills));
        if (r.problemCount) {
          const first = r.problems[0]!;
          throw new SyncRejected(`${r.problemCount} rows from the billing system were rejected; first: ${first.file} row ${first.row}: ${first.message.en}`);
        }
        result.connections += r.connections;
        result.bills += r.bills;
      }
      result.pages++;
      cursor = page.next;
    } while (cursor);
  } catch (e) {
    await db.updateTable('billing_sync_state').set({ last_error: (e as Error).message }).where('source', '=', billing.name).execute();
    throw e;
  }
  await db
    .updateTable('billing_sync_state')
    .set((eb) => ({
      watermark: maxSeen,
      last_finished_at: new Date(),
      last_error: null,
      connections_synced: eb('connections_synced', '+', BigInt(result.connections)),
      bills_synced: eb('bills_synced', '+', BigInt(result.bills)),
    }))
    .where('source', '=', billing.name)
    .execute();
  result.watermark = maxSeen;
  return result;
}
