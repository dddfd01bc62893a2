import { sql, type Kysely } from 'kysely';
import type { ParsedWebhook } from '../../adapters/gateway/razorpay-protocol.ts';
import type { CreditSource, DB, ExceptionReason, LedgerAccount, PaymentSource } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { discomScope, type Principal, type RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { postLedger, resolveUnmatchedCapture, settlePayment } from '../payments/index.ts';
import { createChallan, extendChallan } from './challans.ts';

/**
 * Bank credits: money credited to a discom's collection account, learnt from a virtual-account
 * notification, the bank's e-collect call or a statement line. Each is keyed by its UTR (one
 * row however many sources tell of it) and then, under its challan's row lock:
 *
 *   - applied: the virtual account names an active challan (or an expired one, when the money
 *     arrived before its deadline) and the amount is exact; it becomes a payment (gateway
 *     'bank', id = UTR, unique) settled like any other: allocations, receipts, ledger, postings.
 *   - held: anything else goes to the exception queue with a reason, its money held in
 *     suspense in the ledger (bank debit, suspense credit) until the accounts team resolves it.
 *
 * A credit is applied at most once: payments(gateway, gateway_payment_id) and
 * bank_credits.payment_id are unique, and a challan is paid once (its status).
 *
 * A credit is the discom's whose collection account it landed in (its virtual account's prefix,
 * or the statement's account; then its challan's), and so is its exception: only that discom's
 * staff, and the holding company's, see and resolve it. A credit of no discom (a gateway payout
 * to the online collections account, an account not ours) is the holding company's.
 */

type Db = Kysely<DB>;

export interface CreditIn {
  utr: string | null;
  vaNumber: string | null;
  amountPaise: bigint;
  creditedAt: Date;
  mode: string | null;
  payerName: string | null;
  payerAccount: string | null;
  payerIfsc: string | null;
  narrative: string | null;
  externalId: string | null;
  source: CreditSource;
}

export type IntakeOutcome =
  | { outcome: 'applied'; creditId: bigint; batchId: bigint }
  | { outcome: 'held'; creditId: bigint; reason: ExceptionReason }
  | { outcome: 'duplicate'; creditId: bigint; status: string }
  | { outcome: 'conflict'; creditId: bigint; detail: string };

export const normaliseUtr = (utr: string | null) => {
  const u = utr?.toUpperCase().replace(/[^A-Z0-9]/g, '') ?? '';
  return u.length >= 6 && u.length <= 35 ? u : null;
};

const SOURCE_TO_PAYMENT: Record<CreditSource, PaymentSource> = { va_notification: 'va_notification', ecollect: 'ecollect', statement: 'statement' };

/**
 * Records a credit (once per UTR) and matches it, in one transaction. A second report of the
 * same UTR only adds its source; one that disagrees on the amount changes nothing and says so.
 */
export async function intakeCredit(db: Db, c: CreditIn): Promise<IntakeOutcome> {
  return db.transaction().execute((trx) => intakeCreditIn(trx, c));
}

/** intakeCredit in the caller's transaction (a webhook's, which holds its inbox row). */
export async function intakeCreditIn(trx: Db, c: CreditIn): Promise<IntakeOutcome> {
  const utr = normaliseUtr(c.utr);
  const ins = await sql<{ id: bigint; inserted: boolean; status: string; amount_paise: bigint }>`
    INSERT INTO bank_credits (utr, va_number, amount_paise, mode, credited_at, payer_name, payer_account, payer_ifsc, narrative, source, sources, external_id, status, discom_id)
    VALUES (${utr}, ${c.vaNumber?.trim().toUpperCase() || null}, ${c.amountPaise}, ${c.mode}, ${c.creditedAt}, ${c.payerName}, ${c.payerAccount}, ${c.payerIfsc},
            ${c.narrative?.slice(0, 500) ?? null}, ${c.source}, ARRAY[${c.source}]::text[], ${c.externalId}, 'received',
            (SELECT a.discom_id FROM collection_accounts a WHERE a.va_prefix = left(${c.vaNumber?.trim().toUpperCase() || null}::text, 4)))
    ON CONFLICT (utr) DO UPDATE SET sources = CASE WHEN ${c.source} = ANY(bank_credits.sources) THEN bank_credits.sources
                                                 ELSE bank_credits.sources || ARRAY[${c.source}]::text[] END
    RETURNING id, (xmax = 0) AS inserted, status, amount_paise`.execute(trx);
  const row = ins.rows[0]!;
  if (!row.inserted) {
    if (row.amount_paise !== c.amountPaise) {
      const detail = `UTR ${utr} was reported before for ${row.amount_paise} paise, now for ${c.amountPaise} (${c.source})`;
      await reportMismatch(trx, row.id, c.amountPaise, detail);
      return { outcome: 'conflict', creditId: row.id, detail };
    }
    return { outcome: 'duplicate', creditId: row.id, status: row.status };
  }
  return matchCredit(trx, row.id, SOURCE_TO_PAYMENT[c.source]);
}

/**
 * A UTR reported again with another amount: the first report stands (its money is already
 * applied or held), and the contradiction waits in the exception queue for the accounts team to
 * check with the bank. Once per credit and amount, however often it is reported.
 */
export async function reportMismatch(trx: Db, creditId: bigint, amountPaise: bigint, detail: string): Promise<void> {
  const cr = await trx.selectFrom('bank_credits as c').leftJoin('challans as ch', 'ch.id', 'c.challan_id').select(['c.discom_id', 'c.challan_id', 'ch.batch_id', 'ch.org_id']).where('c.id', '=', creditId).executeTakeFirstOrThrow();
  const ins = await sql`
    INSERT INTO recon_exceptions (reason, credit_id, challan_id, batch_id, org_id, discom_id, amount_paise, detail)
    VALUES ('utr_amount_mismatch', ${creditId}, ${cr.challan_id}, ${cr.batch_id}, ${cr.org_id}, ${cr.discom_id}, ${amountPaise}, ${detail})
    ON CONFLICT DO NOTHING`.execute(trx);
  if (Number(ins.numAffectedRows ?? 0n) === 0) return;
  await recordAudit(trx, {
    action: 'credit.amount_contradicted',
    actor: null,
    actorLabel: 'system:matching',
    orgId: cr.org_id,
    discomId: cr.discom_id,
    target: { type: 'bank_credit', id: creditId },
    details: { amount_paise: amountPaise.toString(), detail },
    meta: null,
  });
}

interface CreditRow {
  id: bigint;
  discom_id: bigint | null;
  utr: string | null;
  va_number: string | null;
  amount_paise: bigint;
  credited_at: Date;
  mode: string | null;
  status: string;
}

interface ChallanRow {
  id: bigint;
  batch_id: bigint;
  org_id: bigint;
  discom_id: bigint;
  amount_paise: bigint;
  valid_until: Date;
  status: string;
  batch_status: string;
}

async function lockChallan(trx: Db, where: { va?: string; id?: bigint }): Promise<ChallanRow | null> {
  let q = trx
    .selectFrom('challans as c')
    .innerJoin('payment_batches as b', 'b.id', 'c.batch_id')
    .select(['c.id', 'c.batch_id', 'c.org_id', 'c.discom_id', 'c.amount_paise', 'c.valid_until', 'c.status', 'b.status as batch_status']);
  if (where.va !== undefined) q = q.where('c.va_number', '=', where.va);
  if (where.id !== undefined) q = q.where('c.id', '=', where.id);
  return (await q.forUpdate().executeTakeFirst()) ?? null;
}

/**
 * Matches one received credit to its challan (by its virtual account, or the one given) and
 * applies it or holds it with a reason. The caller's transaction holds the credit's row.
 */
export async function matchCredit(trx: Db, creditId: bigint, via: PaymentSource, force?: { challanId: bigint; rule: string }): Promise<IntakeOutcome> {
  const cr = await trx.selectFrom('bank_credits').select(['id', 'discom_id', 'utr', 'va_number', 'amount_paise', 'credited_at', 'mode', 'status']).where('id', '=', creditId).forUpdate().executeTakeFirstOrThrow();
  if (cr.status !== 'received') return { outcome: 'duplicate', creditId, status: cr.status };
  const ch = force ? await lockChallan(trx, { id: force.challanId }) : cr.va_number ? await lockChallan(trx, { va: cr.va_number }) : null;
  const rule = force?.rule ?? 'virtual_account';
  if (!ch) return hold(trx, cr, cr.va_number ? 'unknown_va' : 'no_candidate', null, cr.va_number ? `no challan has virtual account ${cr.va_number}` : 'the credit names no virtual account');
  // Money in one discom's account never pays the other discom's bills: it is held where it landed.
  if (cr.discom_id !== null && cr.discom_id !== ch.discom_id) {
    return hold(trx, cr, cr.va_number ? 'unknown_va' : 'no_candidate', null, `the money came into another discom's account than challan ${ch.id}'s`);
  }
  if (ch.status === 'paid') return hold(trx, cr, 'duplicate_credit', ch, 'the challan is already paid');
  if (ch.status === 'cancelled') return hold(trx, cr, 'duplicate_credit', ch, 'the batch was paid another way and the challan cancelled');
  // On time is judged by when the money arrived, not when the portal learnt of it.
  // (Extending the challan is the accounts team accepting this late credit.)
  if (cr.credited_at > ch.valid_until && rule !== 'extended') return hold(trx, cr, 'challan_expired', ch, `credited ${cr.credited_at.toISOString()}, the challan was valid until ${ch.valid_until.toISOString()}`);
  if (cr.amount_paise < ch.amount_paise) return hold(trx, cr, 'amount_short', ch, `credited ${cr.amount_paise} paise of ${ch.amount_paise}`);
  if (cr.amount_paise > ch.amount_paise) return hold(trx, cr, 'amount_excess', ch, `credited ${cr.amount_paise} paise for ${ch.amount_paise}`);
  if (ch.status === 'expired') {
    // Paid in time, learnt late (a statement a day after): the challan and batch reopen, if the
    // bills have not gone into another payment meanwhile.
    const reopened = await reopenQuietly(trx, ch);
    if (!reopened) return hold(trx, cr, 'challan_expired', ch, 'paid in time, but its bills are now in another payment');
  }
  await applyCredit(trx, cr, ch, via, rule, {});
  return { outcome: 'applied', creditId, batchId: ch.batch_id };
}

async function reopenQuietly(trx: Db, ch: ChallanRow): Promise<boolean> {
  const clash = await trx
    .selectFrom('payment_batch_items as i')
    .innerJoin('payment_batch_items as j', (j) => j.onRef('j.connection_id', '=', 'i.connection_id').on('j.open', '=', true))
    .select('j.batch_id')
    .where('i.batch_id', '=', ch.batch_id)
    .where('j.batch_id', '<>', ch.batch_id)
    .executeTakeFirst();
  if (clash) return false;
  await trx.updateTable('challans').set({ status: 'active' }).where('id', '=', ch.id).execute();
  await trx.updateTable('payment_batches').set({ status: 'payment_pending', status_changed_at: sql<Date>`now()` }).where('id', '=', ch.batch_id).where('status', '=', 'expired').execute();
  return true;
}

/** The credit becomes the challan's payment, settled in this transaction. */
async function applyCredit(trx: Db, cr: CreditRow, ch: ChallanRow, via: PaymentSource, rule: string, opts: { excessTo?: bigint }): Promise<bigint> {
  const pay = await trx
    .insertInto('payments')
    .values({
      org_id: ch.org_id, batch_id: ch.batch_id, challan_id: ch.id, attempt_id: null, gateway: 'bank', gateway_payment_id: cr.utr ?? `CREDIT${cr.id}`,
      amount_paise: cr.amount_paise, method: cr.mode?.toLowerCase() ?? 'bank_transfer', status: 'captured', captured_at: cr.credited_at, confirmed_by: via,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.updateTable('bank_credits').set({ status: 'applied', payment_id: pay.id, challan_id: ch.id, discom_id: ch.discom_id, match_rule: rule }).where('id', '=', cr.id).execute();
  const outcome = await settlePayment(trx, pay.id, opts);
  if (outcome !== 'settled') throw new Error(`credit ${cr.id} for challan ${ch.id}: settlement said ${outcome}`);
  await recordAudit(trx, {
    action: 'credit.applied',
    actor: null,
    actorLabel: `system:${via}`,
    orgId: ch.org_id,
    discomId: ch.discom_id,
    target: { type: 'payment_batch', id: ch.batch_id },
    details: { utr: cr.utr, amount_paise: cr.amount_paise.toString(), rule, challan_id: ch.id.toString() },
    meta: null,
  });
  return pay.id;
}

/** The credit waits in the exception queue; its money sits in suspense meanwhile. */
async function hold(trx: Db, cr: CreditRow, reason: ExceptionReason, ch: ChallanRow | null, detail: string): Promise<IntakeOutcome> {
  const discomId = ch?.discom_id ?? cr.discom_id;
  await trx.updateTable('bank_credits').set({ status: 'held', challan_id: ch?.id ?? null, discom_id: discomId }).where('id', '=', cr.id).execute();
  await trx
    .insertInto('recon_exceptions')
    .values({ reason, credit_id: cr.id, challan_id: ch?.id ?? null, batch_id: ch?.batch_id ?? null, org_id: ch?.org_id ?? null, discom_id: discomId, amount_paise: cr.amount_paise, detail })
    .execute();
  await moveSuspense(trx, cr, ch?.org_id ?? null, 'credit_held', [['bank', cr.amount_paise], ['suspense', -cr.amount_paise]]);
  await recordAudit(trx, {
    action: 'credit.held',
    actor: null,
    actorLabel: 'system:matching',
    orgId: ch?.org_id ?? null,
    discomId,
    target: ch ? { type: 'payment_batch', id: ch.batch_id } : { type: 'bank_credit', id: cr.id },
    details: { utr: cr.utr, amount_paise: cr.amount_paise.toString(), reason, detail },
    meta: null,
  });
  return { outcome: 'held', creditId: cr.id, reason };
}

async function moveSuspense(trx: Db, cr: { id: bigint; utr: string | null }, orgId: bigint | null, kind: string, entries: [LedgerAccount, bigint][]): Promise<void> {
  await postLedger(trx, { kind, org_id: orgId, credit_id: cr.id, memo: `${kind} ${cr.utr ?? `credit ${cr.id}`}` }, entries);
}

// ---- resolving exceptions --------------------------------------------------------------------

export type ResolveAction =
  | { action: 'part_payment' }
  | { action: 'advance'; connectionId?: bigint }
  | { action: 'extend' }
  | { action: 'assign'; batchId: bigint }
  | { action: 'refund' }
  | { action: 'settled' }
  | { action: 'acknowledge' };

const ALLOWED: Record<ExceptionReason, readonly ResolveAction['action'][]> = {
  amount_short: ['part_payment', 'assign', 'refund'],
  amount_excess: ['advance', 'assign', 'refund'],
  challan_expired: ['extend', 'assign', 'refund'],
  unknown_va: ['assign', 'refund'],
  no_candidate: ['assign', 'refund'],
  several_candidates: ['assign', 'refund'],
  duplicate_credit: ['assign', 'refund'],
  not_settled: ['settled'],
  // Applied already as a part payment: the accounts team takes note (and tells the payer).
  short_capture: ['acknowledge'],
  unknown_order: ['assign', 'refund'],
  // Two reports of one UTR disagree: checked with the bank, the first stands or is corrected by hand.
  utr_amount_mismatch: ['acknowledge'],
};

export const resolutionsFor = (reason: ExceptionReason) => ALLOWED[reason];

export interface ResolveResult {
  exceptionId: bigint;
  /** What the credit became: applied to a batch, held again (a new exception), or marked for refund. */
  outcome: 'applied' | 'held' | 'refund' | 'settled' | 'acknowledged';
  newExceptionId: bigint | null;
}

/**
 * One audited action by the accounts team on an open exception. Actions that apply money
 * release it from suspense and then match the credit again, under the same rules (an assigned
 * credit of the wrong amount comes back as amount_short or amount_excess, to be decided on its own).
 * A discom's staff resolve their discom's exceptions only, and assign money only to a batch of
 * their discom's connections; another discom's is not found. Exceptions of no discom (gateway
 * settlement items, credits to accounts not ours) are the holding company's.
 */
export async function resolveException(db: Db, p: Principal & { kind: 'user' }, exceptionId: bigint, a: ResolveAction, note: string | null, now: Date, meta: RequestMeta): Promise<ResolveResult> {
  const scope = discomScope(p);
  return db.transaction().execute(async (trx) => {
    const ex = await trx.selectFrom('recon_exceptions').selectAll().where('id', '=', exceptionId).forUpdate().executeTakeFirst();
    if (!ex || (scope !== null && ex.discom_id !== scope)) throw new AppError('NOT_FOUND');
    if (a.action === 'assign' && scope !== null) {
      const other = await trx.selectFrom('payment_batch_items').select('batch_id').where('batch_id', '=', a.batchId).where('discom_id', '<>', scope).executeTakeFirst();
      const any = await trx.selectFrom('payment_batch_items').select('batch_id').where('batch_id', '=', a.batchId).executeTakeFirst();
      if (other || !any) throw new AppError('NOT_FOUND', [{ path: 'body.batchId', problem: 'not_found', message: { en: 'is not a batch of your discom’s connections', hi: 'आपके डिस्कॉम के कनेक्शनों का बैच नहीं है' } }]);
    }
    if (ex.status !== 'open') throw new AppError('EXCEPTION_NOT_OPEN');
    if (!ALLOWED[ex.reason].includes(a.action)) throw new AppError('RESOLUTION_NOT_ALLOWED');
    if (a.action === 'assign' && ex.credit_id && ex.reason !== 'utr_amount_mismatch') {
      // Whoever assigns (holding staff too): the money can pay only bills of the discom whose account it is in.
      // The credit's discom, and that of every account a statement showed it in (a UTR matched
      // across accounts), as verify-money judges it.
      const mismatch =
        (await trx
          .selectFrom('bank_credits as c')
          .innerJoin('payment_batch_items as i', (j) => j.on('i.batch_id', '=', a.batchId).onRef('i.discom_id', '<>', 'c.discom_id'))
          .select('c.id')
          .where('c.id', '=', ex.credit_id)
          .executeTakeFirst()) ??
        (await sql<{ id: bigint }>`
          SELECT l.id FROM bank_credits c
            JOIN statement_lines l ON (l.credit_id = c.id AND l.status = 'matched') OR l.id = c.statement_line_id
            JOIN bank_statements s ON s.id = l.statement_id AND s.discom_id IS NOT NULL
            JOIN payment_batch_items i ON i.batch_id = ${a.batchId} AND i.discom_id <> s.discom_id
           WHERE c.id = ${ex.credit_id} LIMIT 1`.execute(trx)).rows[0];
      if (mismatch) {
        throw new AppError('VALIDATION_FAILED', [{ path: 'body.batchId', problem: 'other_discom', message: { en: 'holds connections of another discom than the one whose account this money came into: that discom must be paid from its own account (refund this money instead)', hi: 'इसमें उस डिस्कॉम से अलग डिस्कॉम के कनेक्शन हैं जिसके खाते में यह पैसा आया: उस डिस्कॉम का भुगतान उसके अपने खाते से होना चाहिए (इसके बजाय यह पैसा लौटाएँ)' } }]);
      }
    }
    const resolution = ({ part_payment: 'part_payment', advance: 'advance', extend: 'extended', assign: 'assigned', refund: 'refund', settled: 'settled', acknowledge: 'acknowledged' } as const)[a.action];
    await trx.updateTable('recon_exceptions').set({ status: 'resolved', resolution, resolved_by: p.userId, resolved_at: now, note }).where('id', '=', exceptionId).execute();
    let result: ResolveResult = { exceptionId, outcome: a.action === 'acknowledge' ? 'acknowledged' : 'settled', newExceptionId: null };
    if (ex.capture_id && (a.action === 'assign' || a.action === 'refund')) {
      const outcome = await resolveUnmatchedCapture(trx, ex.capture_id, a.action === 'assign' ? { action: 'assign', batchId: a.batchId } : { action: 'refund' });
      if (a.action === 'assign') {
        // The batch's organisation and discom, for the queue and the audit log.
        const b = await trx.selectFrom('payment_batches').select(['org_id']).where('id', '=', a.batchId).executeTakeFirstOrThrow();
        await trx.updateTable('recon_exceptions').set({ batch_id: a.batchId, org_id: b.org_id }).where('id', '=', exceptionId).execute();
      }
      result = { exceptionId, outcome, newExceptionId: null };
    } else if (ex.credit_id && a.action !== 'acknowledge') {
      const cr = await trx.selectFrom('bank_credits').select(['id', 'discom_id', 'utr', 'va_number', 'amount_paise', 'credited_at', 'mode', 'status']).where('id', '=', ex.credit_id).forUpdate().executeTakeFirstOrThrow();
      if (a.action === 'refund') {
        await trx.updateTable('bank_credits').set({ status: 'refund' }).where('id', '=', cr.id).execute();
        await moveSuspense(trx, cr, ex.org_id, 'credit_refund_due', [['suspense', cr.amount_paise], ['refunds_payable', -cr.amount_paise]]);
        result = { exceptionId, outcome: 'refund', newExceptionId: null };
      } else {
        await moveSuspense(trx, cr, ex.org_id, 'credit_released', [['suspense', cr.amount_paise], ['bank', -cr.amount_paise]]);
        await trx.updateTable('bank_credits').set({ status: 'received' }).where('id', '=', cr.id).execute();
        result = await reapply(trx, p, ex, cr, a, now);
      }
    }
    await recordAudit(trx, {
      action: 'recon.exception_resolved',
      actor: p,
      orgId: ex.org_id,
      discomId: ex.discom_id,
      target: ex.batch_id ? { type: 'payment_batch', id: ex.batch_id } : { type: 'recon_exception', id: exceptionId },
      details: { exception_id: exceptionId.toString(), reason: ex.reason, action: a.action, ...(a.action === 'assign' ? { batch_id: a.batchId.toString() } : {}), outcome: result.outcome, note },
      meta,
    });
    return result;
  });
}

async function reapply(trx: Db, p: Principal & { kind: 'user' }, ex: { id: bigint; challan_id: bigint | null; amount_paise: bigint }, cr: CreditRow, a: ResolveAction, now: Date): Promise<ResolveResult> {
  const done = (r: IntakeOutcome): ResolveResult =>
    r.outcome === 'applied' ? { exceptionId: ex.id, outcome: 'applied', newExceptionId: null } : { exceptionId: ex.id, outcome: 'held', newExceptionId: null };
  switch (a.action) {
    case 'part_payment':
    case 'advance': {
      const ch = await lockChallan(trx, { id: ex.challan_id! });
      if (!ch || ch.status === 'paid') throw new AppError('BATCH_NOT_OPEN');
      if (ch.status === 'expired' && !(await reopenQuietly(trx, ch))) throw new AppError('CONNECTION_IN_OPEN_PAYMENT');
      let excessTo: bigint | undefined;
      if (a.action === 'advance') {
        excessTo = a.connectionId ?? (await trx.selectFrom('payment_batch_items').select('connection_id').where('batch_id', '=', ch.batch_id).orderBy('amount_paise', 'desc').orderBy('connection_id').executeTakeFirstOrThrow()).connection_id;
        const inBatch = await trx.selectFrom('payment_batch_items').select('connection_id').where('batch_id', '=', ch.batch_id).where('connection_id', '=', excessTo).executeTakeFirst();
        if (!inBatch) throw new AppError('VALIDATION_FAILED', [{ path: 'body.connectionId', problem: 'not_in_batch', message: { en: 'the connection is not in this batch', hi: 'कनेक्शन इस बैच में नहीं है' } }]);
      }
      await applyCredit(trx, cr, ch, 'resolution', a.action, { excessTo });
      return { exceptionId: ex.id, outcome: 'applied', newExceptionId: null };
    }
    case 'extend': {
      await extendChallan(trx, ex.challan_id!, now);
      return withNewException(trx, ex.id, cr.id, done(await matchCredit(trx, cr.id, 'resolution', { challanId: ex.challan_id!, rule: 'extended' })));
    }
    case 'assign': {
      const b = await trx.selectFrom('payment_batches').select(['id', 'org_id', 'status']).where('id', '=', a.batchId).executeTakeFirst();
      if (!b) throw new AppError('NOT_FOUND');
      let challan = await trx.selectFrom('challans').select(['id', 'status']).where('batch_id', '=', b.id).where('status', 'in', ['active', 'expired']).executeTakeFirst();
      if (!challan) {
        if (b.status !== 'ready') throw new AppError('BATCH_NOT_OPEN');
        // The accounts user issues the challan on the payer's behalf.
        await createChallan(trx, p, b.org_id, b.id, now, null);
        challan = await trx.selectFrom('challans').select(['id', 'status']).where('batch_id', '=', b.id).where('status', '=', 'active').executeTakeFirstOrThrow();
      } else if (challan.status === 'expired') {
        await extendChallan(trx, challan.id, now);
      }
      return withNewException(trx, ex.id, cr.id, done(await matchCredit(trx, cr.id, 'resolution', { challanId: challan.id, rule: 'assigned' })));
    }
    case 'refund':
    case 'settled':
    case 'acknowledge':
      throw new AppError('RESOLUTION_NOT_ALLOWED');
  }
}

async function withNewException(trx: Db, exId: bigint, creditId: bigint, r: ResolveResult): Promise<ResolveResult> {
  if (r.outcome !== 'held') return r;
  const n = await trx.selectFrom('recon_exceptions').select('id').where('credit_id', '=', creditId).where('status', '=', 'open').where('reason', '<>', 'utr_amount_mismatch').executeTakeFirstOrThrow();
  return { exceptionId: exId, outcome: 'held', newExceptionId: n.id };
}

// ---- the ways credits arrive ------------------------------------------------------------------

/** A verified virtual_account.credited webhook, in its inbox transaction. */
export async function bankTransferFromWebhook(trx: Db, w: ParsedWebhook): Promise<string> {
  const t = w.bankTransfer!;
  if (w.currency !== 'INR') return 'not INR: not applicable';
  const r = await intakeCreditIn(trx, {
    utr: t.utr, vaNumber: t.vaNumber, amountPaise: t.amountPaise, creditedAt: w.paymentCreatedAt, mode: t.mode, payerName: t.payer.name, payerAccount: t.payer.account,
    payerIfsc: t.payer.ifsc, narrative: `Smart Collect ${t.kind === 'upi_transfer' ? 'UPI ' : ''}${t.vaId ?? ''} ${w.paymentId}`.replace(/ +/g, ' ').trim(), externalId: w.paymentId, source: 'va_notification',
  });
  return describe(r);
}

export function describe(r: IntakeOutcome): string {
  switch (r.outcome) {
    case 'applied':
      return `credit applied to batch ${r.batchId}`;
    case 'held':
      return `credit held: ${r.reason}`;
    case 'duplicate':
      return `credit already recorded (${r.status})`;
    case 'conflict':
      return r.detail;
  }
}

export interface EcollectAnswer {
  decision: 'accept' | 'reject';
  reason: string | null;
}

/**
 * The bank asks before crediting: accept only a transfer the portal can apply as it stands (a
 * known, unpaid, valid challan and its exact amount). A refused transfer goes back to the payer
 * at once, instead of waiting in the exception queue. The answer is kept.
 */
export async function validateEcollect(db: Db, c: { utr: string; vaNumber: string; amountPaise: bigint; creditedAt: Date }): Promise<EcollectAnswer> {
  const ch = await db.selectFrom('challans').select(['amount_paise', 'valid_until', 'status']).where('va_number', '=', c.vaNumber).where('status', '<>', 'cancelled').executeTakeFirst();
  const known = await db.selectFrom('bank_credits').select('status').where('utr', '=', normaliseUtr(c.utr)).executeTakeFirst();
  const reason = known
    ? null
    : !ch
      ? 'unknown virtual account'
      : ch.status === 'paid'
        ? 'challan already paid'
        : c.creditedAt > ch.valid_until
          ? 'challan expired'
          : c.amountPaise !== ch.amount_paise
            ? `amount must be exactly ${ch.amount_paise / 100n}.${(ch.amount_paise % 100n).toString().padStart(2, '0')}`
            : null;
  const decision = reason ? 'reject' : 'accept';
  await db.insertInto('ecollect_validations').values({ utr: c.utr, va_number: c.vaNumber, amount_paise: c.amountPaise, decision, reason }).execute();
  return { decision, reason };
}
