import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { postLedger } from './ledger.ts';
import { settlePayment } from './settle.ts';

/**
 * Captured gateway money the portal has no order for: a payment link or page made outside the
 * portal, an order whose creation timed out, or a capture in another currency than the rupee. It is never dropped: the capture is recorded
 * once (by its gateway payment id), its money held in suspense (it is at the gateway, owed to
 * someone), and an 'unknown_order' exception waits for the accounts team, who either assign it
 * to a batch (it becomes that batch's payment, settled as any other) or mark it for refund.
 * Exceptions of no discom are the holding company's (decision 0010).
 */

type Db = Kysely<DB>;

export interface CaptureIn {
  gateway: string;
  paymentId: string;
  orderId: string | null;
  amountPaise: bigint;
  currency: string;
  method: string | null;
  capturedAt: Date;
}

/** Records a capture for an unknown order, in the caller's transaction; a second report of it changes nothing. */
export async function recordUnmatchedCapture(trx: Db, c: CaptureIn, via: string): Promise<string> {
  const held = await recordUnmatchedCaptures(trx, [c], via);
  return held === 1 ? 'unknown order: held as an exception' : 'duplicate';
}

/**
 * Records captures for unknown orders set-based (a settlement report may tell of thousands),
 * each once: one not known already under any name (a batch's payment, a capture told before by
 * a settlement report or another event, a Smart Collect credit) is stored, its money moved from
 * gateway clearing to suspense, and its exception queued. Returns how many were new.
 */
export async function recordUnmatchedCaptures(trx: Db, cs: readonly CaptureIn[], via: string): Promise<number> {
  if (!cs.length) return 0;
  const col = <T>(f: (c: CaptureIn) => T) => cs.map(f);
  const { rows } = await sql<{ id: bigint; gateway_payment_id: string; order_id: string | null; amount_paise: bigint; currency: string }>`
    WITH input AS (
      SELECT DISTINCT ON (x.payment_id) x.*
        FROM unnest(${col((c) => c.gateway)}::text[], ${col((c) => c.paymentId)}::text[], ${col((c) => c.orderId)}::text[], ${col((c) => c.amountPaise.toString())}::bigint[],
                    ${col((c) => c.currency)}::text[], ${col((c) => c.method)}::text[], ${col((c) => c.capturedAt.toISOString())}::timestamptz[])
             AS x(gateway, payment_id, order_id, amount, currency, method, captured_at)
       WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.gateway <> 'bank' AND p.gateway_payment_id = x.payment_id)
         AND NOT EXISTS (SELECT 1 FROM unmatched_captures u WHERE u.gateway_payment_id = x.payment_id)
         AND NOT EXISTS (SELECT 1 FROM bank_credits b WHERE b.external_id = x.payment_id)
       ORDER BY x.payment_id)
    INSERT INTO unmatched_captures (gateway, gateway_payment_id, order_id, amount_paise, currency, method, captured_at)
    SELECT gateway, payment_id, order_id, amount, currency, method, captured_at FROM input
    ON CONFLICT (gateway, gateway_payment_id) DO NOTHING
    RETURNING id, gateway_payment_id, order_id, amount_paise, currency`.execute(trx);
  if (!rows.length) return 0;
  const ids = rows.map((r) => r.id);
  await sql`
    WITH t AS (
      INSERT INTO ledger_transactions (kind, capture_id, memo)
      SELECT 'capture_held', u.id, 'unknown order ' || coalesce(u.order_id, '-') || ' ' || u.gateway_payment_id
        FROM unmatched_captures u WHERE u.id = ANY(${ids}::bigint[])
      RETURNING id, capture_id)
    INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
    SELECT t.id, e.account, NULL, e.sign * u.amount_paise
      FROM t JOIN unmatched_captures u ON u.id = t.capture_id
     CROSS JOIN (VALUES ('gateway_clearing', 1), ('suspense', -1)) AS e(account, sign)`.execute(trx);
  await sql`
    INSERT INTO recon_exceptions (reason, capture_id, amount_paise, detail)
    SELECT 'unknown_order', u.id, u.amount_paise,
           u.gateway_payment_id || ' captured ' || u.currency || ' ' || u.amount_paise || ' paise for '
             || coalesce('order ' || u.order_id, 'no order') || ', which the portal did not create'
      FROM unmatched_captures u WHERE u.id = ANY(${ids}::bigint[])`.execute(trx);
  // One audit entry for what one report or event told (each capture is in its own row and exception).
  await recordAudit(trx, {
    action: 'payment.unmatched_capture',
    actor: null,
    actorLabel: `system:${via}`,
    orgId: null,
    target: { type: 'unmatched_capture', id: rows[0]!.id },
    details: {
      count: rows.length,
      amount_paise: rows.reduce((s, r) => s + BigInt(r.amount_paise), 0n).toString(),
      captures: rows.slice(0, 100).map((r) => ({ id: r.id.toString(), gateway_payment_id: r.gateway_payment_id, order_id: r.order_id, amount_paise: String(r.amount_paise), currency: r.currency })),
    },
    meta: null,
  });
  return rows.length;
}

/**
 * The accounts team's decision on an unmatched capture (the caller holds its exception's lock):
 * assigned to an open batch, it becomes that batch's payment (settled in this transaction; a
 * wrong amount is then a part payment or goes to suspense, as for any capture); marked for
 * refund, its money is owed back.
 */
export async function resolveUnmatchedCapture(trx: Db, captureId: bigint, a: { action: 'refund' } | { action: 'assign'; batchId: bigint }): Promise<'applied' | 'refund'> {
  const c = await trx.selectFrom('unmatched_captures').selectAll().where('id', '=', captureId).forUpdate().executeTakeFirstOrThrow();
  if (c.status !== 'held') throw new AppError('EXCEPTION_NOT_OPEN');
  if (a.action === 'refund') {
    await trx.updateTable('unmatched_captures').set({ status: 'refund' }).where('id', '=', c.id).execute();
    await postLedger(trx, { kind: 'capture_refund_due', capture_id: c.id, memo: `refund ${c.gateway_payment_id}` }, [['suspense', c.amount_paise], ['refunds_payable', -c.amount_paise]]);
    return 'refund';
  }
  if (c.currency !== 'INR') {
    throw new AppError('VALIDATION_FAILED', [{ path: 'body.action', problem: 'not_inr', message: { en: `this money is in ${c.currency}: it cannot pay bills in rupees (refund it instead)`, hi: `यह पैसा ${c.currency} में है: इससे रुपये के बिल नहीं चुकाए जा सकते (इसके बजाय इसे लौटाएँ)` } }]);
  }
  const b = await trx.selectFrom('payment_batches').select(['id', 'org_id', 'status']).where('id', '=', a.batchId).forUpdate().executeTakeFirst();
  if (!b) throw new AppError('NOT_FOUND');
  if (!['ready', 'payment_pending', 'unknown'].includes(b.status)) throw new AppError('BATCH_NOT_OPEN');
  await postLedger(trx, { kind: 'capture_released', capture_id: c.id, memo: `assigned ${c.gateway_payment_id}` }, [['suspense', c.amount_paise], ['gateway_clearing', -c.amount_paise]]);
  const pay = await trx
    .insertInto('payments')
    .values({
      org_id: b.org_id, batch_id: b.id, attempt_id: null, challan_id: null, capture_id: c.id, gateway: c.gateway, gateway_payment_id: c.gateway_payment_id,
      amount_paise: c.amount_paise, method: c.method, status: 'captured', captured_at: c.captured_at, confirmed_by: 'resolution', settlement_id: c.settlement_id,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.updateTable('unmatched_captures').set({ status: 'assigned', payment_id: pay.id }).where('id', '=', c.id).execute();
  const outcome = await settlePayment(trx, pay.id);
  if (outcome !== 'settled') throw new Error(`unmatched capture ${c.id} for batch ${b.id}: settlement said ${outcome}`);
  return 'applied';
}
