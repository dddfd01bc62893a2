import { sql, type Kysely } from 'kysely';
import { BillingSystemDown, type BillingSystem, type PaymentPosting } from '../../adapters/billing-system/types.ts';
import type { DB } from '../../platform/db/schema.ts';
import { recordAudit } from '../audit/index.ts';
import { AppError } from '../../platform/errors.ts';
import { discomScope, type Principal, type RequestMeta } from '../../platform/principal.ts';

/**
 * Posting settled money to the billing system. The postings table is the durable outbox: any
 * app process claims due rows with FOR UPDATE SKIP LOCKED, sends them in one call, and records
 * each acknowledgement; 'SGP' || id is the posting id the billing system applies at most once,
 * so a crash between sending and recording only makes the next send a harmless duplicate.
 * While the billing system is down, rows wait with a growing gap (capped at 10 minutes) and
 * keep trying; a posting the billing system refuses stops as 'rejected' until the discom
 * retries it.
 */

type Db = Kysely<DB>;

export const postingId = (id: bigint) => `SGP${id.toString().padStart(10, '0')}`;

/** How many postings (of one discom, or all) wait (never tried), retry (tried and failed), were refused, were acknowledged. */
export async function postingCounts(db: Db, discomId: bigint | null = null): Promise<{ pending: number; retrying: number; rejected: number; acknowledged: number }> {
  return db
    .selectFrom('postings')
    .$if(discomId !== null, (q) => q.where('discom_id', '=', discomId!))
    .select([
      sql<number>`count(*) FILTER (WHERE status = 'pending' AND attempts = 0)::int`.as('pending'),
      sql<number>`count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int`.as('retrying'),
      sql<number>`count(*) FILTER (WHERE status = 'rejected')::int`.as('rejected'),
      sql<number>`count(*) FILTER (WHERE status = 'acknowledged')::int`.as('acknowledged'),
    ])
    .executeTakeFirstOrThrow();
}

export interface PostingRunResult {
  claimed: number;
  acknowledged: number;
  rejected: number;
  deferred: number;
}

const BACKOFF_CAP_S = 600;

export async function runPostings(db: Db, billing: BillingSystem, opts: { limit?: number; leaseSeconds?: number } = {}): Promise<PostingRunResult> {
  const limit = opts.limit ?? 500;
  const lease = opts.leaseSeconds ?? 120;
  const result: PostingRunResult = { claimed: 0, acknowledged: 0, rejected: 0, deferred: 0 };
  for (;;) {
    // Claimed under a lease (no transaction is held while the billing system is called): a
    // process that dies here leaves rows that are due again when the lease ends.
    const { rows } = await sql<{ id: bigint; discom_code: string; consumer_no: string; amount_paise: bigint; paid_at: Date; kind: string; reference: string }>`
      WITH claimed AS (
        UPDATE postings p SET next_attempt_at = now() + make_interval(secs => ${lease})
         WHERE p.id IN (SELECT id FROM postings WHERE status = 'pending' AND next_attempt_at <= now()
                         ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING p.id, p.discom_id, p.consumer_no, p.amount_paise, p.paid_at, p.kind, p.reference)
      SELECT c.id, d.code AS discom_code, c.consumer_no, c.amount_paise, c.paid_at, c.kind, c.reference
        FROM claimed c JOIN discoms d ON d.id = c.discom_id ORDER BY c.id`.execute(db);
    if (!rows.length) break;
    const ids = rows.map((p) => p.id.toString()).join(',');
    const batch: PaymentPosting[] = rows.map((p) => ({
      postingId: postingId(p.id),
      discomCode: p.discom_code,
      consumerNo: p.consumer_no,
      amountPaise: p.amount_paise,
      paidAt: p.paid_at,
      mode: p.kind === 'rebate' ? 'REBATE' : 'PORTAL',
      reference: p.reference,
    }));
    let acks;
    try {
      acks = await billing.postPayments(batch);
    } catch (e) {
      if (!(e instanceof BillingSystemDown)) throw e;
      await sql`
        UPDATE postings SET attempts = attempts + 1, last_error = ${e.message.slice(0, 300)},
               next_attempt_at = now() + make_interval(secs => least(${BACKOFF_CAP_S}, power(2, attempts + 1)::int))
         WHERE id = ANY(string_to_array(${ids}, ',')::bigint[]) AND status = 'pending'`.execute(db);
      result.claimed += rows.length;
      result.deferred += rows.length;
      break;
    }
    const out = acks.map((a) => ({
      id: a.postingId.slice(3).replace(/^0+/, '') || '0',
      ok: a.status !== 'rejected',
      receipt: a.status !== 'rejected' ? a.billingReceiptNo : null,
      applied_at: a.status !== 'rejected' ? a.appliedAt : null,
      error: a.status === 'rejected' ? a.reason : null,
    }));
    await db.transaction().execute(async (trx) => {
      await sql`
        UPDATE postings p SET status = CASE WHEN x.ok THEN 'acknowledged' ELSE 'rejected' END,
               attempts = p.attempts + 1, billing_receipt_no = x.receipt, applied_at = x.applied_at,
               acknowledged_at = CASE WHEN x.ok THEN now() END, last_error = x.error
          FROM json_to_recordset(${JSON.stringify(out)}::json) AS x(id bigint, ok boolean, receipt text, applied_at timestamptz, error text)
         WHERE p.id = x.id AND p.status = 'pending'`.execute(trx);
      await markReflected(trx, ids);
    });
    const acknowledged = out.filter((x) => x.ok).length;
    result.claimed += rows.length;
    result.acknowledged += acknowledged;
    result.rejected += rows.length - acknowledged;
  }
  return result;
}

/**
 * Postings whose connection's mirrored balance was stamped at or after the billing system
 * applied them are inside that balance for good: flagged, so the in-flight index stays small.
 * Then the in-flight sums of the connections touched are recomputed (a refused posting leaves
 * it; an acknowledged one leaves it once the mirror shows it), keeping the balance equal to
 * the mirror less what is in flight.
 */
async function markReflected(trx: Db, postingIds: string): Promise<void> {
  await sql`
    UPDATE postings p SET reflected = true
      FROM connections c
     WHERE p.id = ANY(string_to_array(${postingIds}, ',')::bigint[]) AND c.id = p.connection_id
       AND p.status = 'acknowledged' AND NOT p.reflected AND p.applied_at <= c.source_updated_at`.execute(trx);
  await recomputeInFlight(trx, sql`SELECT connection_id FROM postings WHERE id = ANY(string_to_array(${postingIds}, ',')::bigint[])`);
}

export async function recomputeInFlight(trx: Db, connectionIds: ReturnType<typeof sql>): Promise<void> {
  await sql`
    UPDATE connections c SET in_flight_paise = f.v, balance_paise = c.balance_paise + c.in_flight_paise - f.v
      FROM (SELECT x.id, in_flight_of(x.id, x.source_updated_at) AS v
              FROM connections x WHERE x.id IN (${connectionIds})) f
     WHERE c.id = f.id AND c.in_flight_paise <> f.v`.execute(trx);
}

/**
 * The discom's retry of refused postings (and of ones waiting out an outage): due now. A discom's
 * staff retry their discom's postings only: naming another discom's retries nothing at all.
 */
export async function retryPostings(db: Db, ids: readonly bigint[], actor: Principal, meta: RequestMeta): Promise<number> {
  const scope = discomScope(actor);
  return db.transaction().execute(async (trx) => {
    const list = ids.map(String).join(',');
    if (scope !== null) {
      const foreign = await trx
        .selectFrom('postings')
        .select(sql<number>`count(*)::int`.as('n'))
        .where(sql<boolean>`id = ANY(string_to_array(${list}, ',')::bigint[])`)
        .where('discom_id', '<>', scope)
        .executeTakeFirstOrThrow();
      if (foreign.n > 0) {
        throw new AppError('FORBIDDEN', [{ path: 'body.ids', problem: 'other_discom', message: { en: `${foreign.n} of these postings are another discom’s`, hi: `इनमें से ${foreign.n} पोस्टिंग दूसरे डिस्कॉम की हैं` } }], {
          en: 'Some of these postings are of another discom’s connections, which its staff retry. Nothing was retried.',
          hi: 'इनमें से कुछ पोस्टिंग दूसरे डिस्कॉम के कनेक्शनों की हैं, जिन्हें उसी के कर्मचारी दोबारा भेजते हैं। कुछ भी दोबारा नहीं भेजा गया।',
        });
      }
    }
    const { rows } = await sql<{ id: bigint; org_id: bigint; discom_id: bigint; connection_id: bigint; amount_paise: bigint; was: string }>`
      WITH target AS (SELECT id, status AS was FROM postings WHERE id = ANY(string_to_array(${list}, ',')::bigint[]) AND status IN ('rejected', 'pending') FOR UPDATE)
      UPDATE postings p SET status = 'pending', next_attempt_at = now(), last_error = CASE WHEN t.was = 'rejected' THEN p.last_error END
        FROM target t WHERE p.id = t.id
      RETURNING p.id, p.org_id, p.discom_id, p.connection_id, p.amount_paise, t.was`.execute(trx);
    await recomputeInFlight(trx, sql`SELECT connection_id FROM postings WHERE id = ANY(string_to_array(${list}, ',')::bigint[])`);
    // One entry per organisation and discom: each discom's staff see the retries of theirs.
    const groups = new Map<string, typeof rows>();
    for (const r of rows) groups.set(`${r.org_id}:${r.discom_id}`, [...(groups.get(`${r.org_id}:${r.discom_id}`) ?? []), r]);
    for (const g of groups.values()) {
      await recordAudit(trx, {
        action: 'posting.retried',
        actor,
        orgId: g[0]!.org_id,
        discomId: g[0]!.discom_id,
        details: { postings: g.map((r) => postingId(r.id)) },
        meta,
      });
    }
    return rows.length;
  });
}
