import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
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

async function ledger(trx: Db, captureId: bigint, kind: string, memo: string, entries: [string, bigint][]): Promise<void> {
  const txn = await trx.insertInto('ledger_transactions').values({ kind, capture_id: captureId, memo }).returning('id').executeTakeFirstOrThrow();
  await trx
    .insertInto('ledger_entries')
    .values(entries.map(([account, amount]) => ({ txn_id: txn.id, account: account as 'suspense', connection_id: null, amount_paise: amount })))
    .execute();
}

/** Records a capture for an unknown order, in the caller's transaction; a second report of it changes nothing. */
export async function recordUnmatchedCapture(trx: Db, c: CaptureIn, via: string): Promise<string> {
  // Known already, under any name: a batch's payment, a capture (told by a settlement report
  // first, or by another event), or a Smart Collect credit.
  const { rows } = await sql<{ known: boolean }>`
    SELECT EXISTS (SELECT 1 FROM payments WHERE gateway <> 'bank' AND gateway_payment_id = ${c.paymentId})
        OR EXISTS (SELECT 1 FROM unmatched_captures WHERE gateway_payment_id = ${c.paymentId})
        OR EXISTS (SELECT 1 FROM bank_credits WHERE external_id = ${c.paymentId}) AS known`.execute(trx);
  if (rows[0]!.known) return 'duplicate';
  const row = await trx
    .insertInto('unmatched_captures')
    .values({ gateway: c.gateway, gateway_payment_id: c.paymentId, order_id: c.orderId, amount_paise: c.amountPaise, currency: c.currency, method: c.method, captured_at: c.capturedAt })
    .onConflict((oc) => oc.columns(['gateway', 'gateway_payment_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) return 'duplicate';
  await ledger(trx, row.id, 'capture_held', `unknown order ${c.orderId ?? '-'} ${c.paymentId}`, [['gateway_clearing', c.amountPaise], ['suspense', -c.amountPaise]]);
  await trx
    .insertInto('recon_exceptions')
    .values({
      reason: 'unknown_order', capture_id: row.id, amount_paise: c.amountPaise,
      detail: `${c.paymentId} captured ${c.currency} ${c.amountPaise} paise for ${c.orderId ? `order ${c.orderId}` : 'no order'}, which the portal did not create`,
    })
    .execute();
  await recordAudit(trx, {
    action: 'payment.unmatched_capture',
    actor: null,
    actorLabel: `system:${via}`,
    orgId: null,
    target: { type: 'unmatched_capture', id: row.id },
    details: { gateway_payment_id: c.paymentId, order_id: c.orderId, amount_paise: c.amountPaise.toString(), currency: c.currency },
    meta: null,
  });
  return 'unknown order: held as an exception';
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
    await ledger(trx, c.id, 'capture_refund_due', `refund ${c.gateway_payment_id}`, [['suspense', c.amount_paise], ['refunds_payable', -c.amount_paise]]);
    return 'refund';
  }
  if (c.currency !== 'INR') {
    throw new AppError('VALIDATION_FAILED', [{ path: 'body.action', problem: 'not_inr', message: { en: `this money is in ${c.currency}: it cannot pay bills in rupees (refund it instead)`, hi: `यह पैसा ${c.currency} में है: इससे रुपये के बिल नहीं चुकाए जा सकते (इसके बजाय इसे लौटाएँ)` } }]);
  }
  const b = await trx.selectFrom('payment_batches').select(['id', 'org_id', 'status']).where('id', '=', a.batchId).forUpdate().executeTakeFirst();
  if (!b) throw new AppError('NOT_FOUND');
  if (!['ready', 'payment_pending', 'unknown'].includes(b.status)) throw new AppError('BATCH_NOT_OPEN');
  await ledger(trx, c.id, 'capture_released', `assigned ${c.gateway_payment_id}`, [['suspense', c.amount_paise], ['gateway_clearing', -c.amount_paise]]);
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
