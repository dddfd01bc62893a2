import { sql, type Kysely } from 'kysely';
import { queueMessages, type Message } from '../../adapters/notifier/notifier.ts';
import type { DB } from '../../platform/db/schema.ts';
import { formatPaise } from '../../shared/format.ts';
import { recordAudit } from '../audit/index.ts';
import { istDay } from '../dues/index.ts';
import { allocate, financialYear, onTimeRebate, receiptNo, type AllocationPart } from './rules.ts';

/**
 * Settling a captured payment, in the caller's transaction (which holds the order's row lock):
 * allocations per connection, balances, the rebate judged on the capture time, gapless receipt
 * numbers, one balanced ledger transaction, postings outbox rows, audit and a notice to the
 * maker. Every write is one set-based statement over all connections of the batch; the split
 * itself is the pure `allocate`. Money for a batch that is no longer open, or a second payment
 * of a paid batch, goes to suspense with an exception (refunds are out of scope).
 */

type Db = Kysely<DB>;

export type SettleOutcome = 'settled' | 'suspense' | 'already_settled';

interface PaymentRow {
  id: bigint;
  org_id: bigint;
  batch_id: bigint;
  attempt_id: bigint | null;
  challan_id: bigint | null;
  amount_paise: bigint;
  gateway_payment_id: string;
  captured_at: Date;
  settled_at: Date | null;
  batch_status: string;
  batch_ref: string;
  batch_mode: string;
  batch_total: bigint;
  created_by: bigint | null;
}

interface ItemRow {
  connection_id: bigint;
  discom_id: bigint;
  discom_code: string;
  consumer_no: string;
  planned: bigint;
  /** The rebate the quote counted on (0 for a row meant as a part payment). */
  quoted_rebate: bigint;
  balance: bigint;
  bill_id: bigint | null;
  due_date: string | null;
  bill_rebate: bigint;
  current_demand: bigint;
  already_rebated: boolean;
  online_bp: number;
  max_bp: number;
}

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

export interface SettleOptions {
  /**
   * Money beyond every planned amount is held in suspense, unless the accounts team applies it
   * as advance credit: to this connection of the batch.
   */
  excessTo?: bigint;
}

export async function settlePayment(trx: Db, paymentId: bigint, opts: SettleOptions = {}): Promise<SettleOutcome> {
  const { rows } = await sql<PaymentRow>`
    SELECT p.id, p.org_id, p.batch_id, p.attempt_id, p.challan_id, p.amount_paise, p.gateway_payment_id, p.captured_at, p.settled_at,
           b.status AS batch_status, b.reference AS batch_ref, b.mode AS batch_mode, b.total_paise AS batch_total, b.created_by
      FROM payments p JOIN payment_batches b ON b.id = p.batch_id
     WHERE p.id = ${paymentId} AND p.status = 'captured'
       FOR UPDATE OF p, b`.execute(trx);
  const p = rows[0];
  if (!p) throw new Error(`payment ${paymentId} is not a captured payment`);
  if (p.settled_at) return 'already_settled';

  if (!['ready', 'payment_pending', 'unknown'].includes(p.batch_status)) {
    await toSuspense(trx, p, p.batch_status === 'paid' ? 'duplicate_payment' : 'batch_closed', p.amount_paise);
    return 'suspense';
  }

  // Connections locked in id order (the order every other writer of balances uses).
  const { rows: items } = await sql<ItemRow>`
    SELECT bi.connection_id, bi.discom_id, dc.code AS discom_code, bi.consumer_no, bi.amount_paise AS planned, bi.rebate_paise AS quoted_rebate,
           c.balance_paise AS balance, d.bill_id, d.due_date, d.rebate_paise AS bill_rebate, d.current_demand_paise AS current_demand,
           EXISTS (SELECT 1 FROM receipts r WHERE r.bill_id = d.bill_id AND r.rebate_paise > 0) AS already_rebated,
           dc.rebate_online_bp AS online_bp, dc.rebate_max_bp AS max_bp
      FROM payment_batch_items bi
      JOIN connections c ON c.id = bi.connection_id
      JOIN discoms dc ON dc.id = bi.discom_id
      LEFT JOIN connection_dues d ON d.connection_id = bi.connection_id
     WHERE bi.batch_id = ${p.batch_id}
     ORDER BY bi.connection_id
       FOR UPDATE OF c`.execute(trx);

  // On time is judged by when the money arrived (capture, or the bank's credit), whatever the
  // rail; every rail the portal takes earns the digital rebate (docs/payments.md, "Rebate").
  const paidDay = istDay(p.captured_at);
  // Money goes first to the bills due soonest.
  const ordered = [...items].sort((a, b) => (a.due_date ?? '9999').localeCompare(b.due_date ?? '9999') || (a.connection_id < b.connection_id ? -1 : 1));
  const byId = new Map(items.map((i) => [i.connection_id, i]));
  const allocation = allocate(
    p.amount_paise,
    ordered.map((i) => ({
      connectionId: i.connection_id,
      planned: i.planned,
      balance: i.balance,
      dueDate: i.due_date,
      rebate: onTimeRebate({ billRebate: i.bill_rebate, currentDemand: i.current_demand, balance: i.balance, alreadyRebated: i.already_rebated }, { onlineBp: i.online_bp, maxBp: i.max_bp }, true),
    })),
    paidDay,
  );
  const { parts } = allocation;
  let { suspense } = allocation;
  if (suspense > 0n && opts.excessTo !== undefined) {
    const part = parts.find((x) => x.connectionId === opts.excessTo);
    if (part) part.advance += suspense;
    else if (byId.has(opts.excessTo)) parts.push({ connectionId: opts.excessTo, dues: 0n, advance: suspense, rebate: 0n });
    else throw new Error(`connection ${opts.excessTo} is not in batch ${p.batch_id}`);
    suspense = 0n;
  }
  const total = parts.reduce((s, x) => s + x.dues + x.advance, 0n) + suspense;
  if (total !== p.amount_paise) throw new Error(`allocation of payment ${p.id} does not sum to it`);

  await sql`
    INSERT INTO allocations (payment_id, batch_id, org_id, connection_id, kind, amount_paise)
    SELECT ${p.id}, ${p.batch_id}, ${p.org_id}, x.connection_id, x.kind, x.amount
      FROM json_to_recordset(${json(parts.flatMap((x) => [
        ...(x.dues > 0n ? [{ connection_id: x.connectionId, kind: 'dues', amount: x.dues }] : []),
        ...(x.advance > 0n ? [{ connection_id: x.connectionId, kind: 'advance', amount: x.advance }] : []),
      ]))}::json) AS x(connection_id bigint, kind text, amount bigint)`.execute(trx);

  const rebateTotal = parts.reduce((s, x) => s + x.rebate, 0n);
  const stillDue = stillDueAfter(items, parts);
  const txn = await trx
    .insertInto('ledger_transactions')
    .values({ kind: 'payment_settled', org_id: p.org_id, payment_id: p.id, batch_id: p.batch_id, memo: `${p.batch_ref} ${p.gateway_payment_id}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  const entries = [
    // Gateway money is in the gateway's hands until it settles; bank money is in the bank.
    { account: p.challan_id ? 'bank' : 'gateway_clearing', connection_id: null, amount: p.amount_paise },
    ...parts.map((x) => ({ account: 'consumer_receivable', connection_id: x.connectionId, amount: -(x.dues + x.advance + x.rebate) })),
    ...(rebateTotal > 0n ? [{ account: 'rebate_expense', connection_id: null, amount: rebateTotal }] : []),
    ...(suspense > 0n ? [{ account: 'suspense', connection_id: null, amount: -suspense }] : []),
  ];
  await sql`
    INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
    SELECT ${txn.id}, x.account, x.connection_id, x.amount
      FROM json_to_recordset(${json(entries)}::json) AS x(account text, connection_id bigint, amount bigint)`.execute(trx);

  await sql`
    UPDATE connections c SET balance_paise = c.balance_paise - x.credit, in_flight_paise = c.in_flight_paise + x.credit
      FROM json_to_recordset(${json(parts.map((x) => ({ id: x.connectionId, credit: x.dues + x.advance + x.rebate })))}::json) AS x(id bigint, credit bigint)
     WHERE c.id = x.id`.execute(trx);

  if (suspense > 0n) await holdInSuspense(trx, p, 'amount_mismatch', suspense, false);

  await trx.updateTable('payments').set({ settled_at: sql<Date>`now()` }).where('id', '=', p.id).execute();
  if (p.attempt_id) await trx.updateTable('payment_attempts').set({ status: 'paid' }).where('id', '=', p.attempt_id).execute();
  if (p.challan_id) await trx.updateTable('challans').set({ status: 'paid', paid_at: p.captured_at }).where('id', '=', p.challan_id).where('status', '<>', 'paid').execute();
  // Paid another way (a late capture of an earlier online try): the challan is void.
  else await trx.updateTable('challans').set({ status: 'cancelled' }).where('batch_id', '=', p.batch_id).where('status', '=', 'active').execute();
  await trx
    .updateTable('payment_batches')
    .set({ status: 'paid', paid_paise: p.amount_paise, rebate_credited_paise: rebateTotal, still_due_paise: stillDue, settled_at: sql<Date>`now()`, status_changed_at: sql<Date>`now()` })
    .where('id', '=', p.batch_id)
    .execute();
  // A gateway capture below its order's amount: applied as a part payment, and told to the
  // accounts team (a bank credit short of its challan is held before it gets here).
  if (p.attempt_id && p.amount_paise < p.batch_total) {
    await trx
      .insertInto('recon_exceptions')
      .values({
        reason: 'short_capture', payment_id: p.id, batch_id: p.batch_id, org_id: p.org_id, amount_paise: p.batch_total - p.amount_paise,
        detail: `captured ${p.amount_paise} paise of the order's ${p.batch_total}; applied as a part payment`,
      })
      .execute();
  }

  await notifyMaker(trx, p, parts.length, stillDue, rebateTotal);

  // The receipt series (one row per discom and year, shared by every settlement) is locked as
  // late as it can be, so that concurrent settlements wait on it only for these statements.
  const fy = financialYear(paidDay);
  const numbered = await numberReceipts(trx, parts, byId, fy);

  await sql`
    INSERT INTO receipts (discom_id, fy, seq, receipt_no, payment_id, batch_id, org_id, connection_id, consumer_no, bill_id,
                          amount_paise, advance_paise, rebate_paise, balance_before_paise, balance_after_paise, issued_at)
    SELECT x.discom_id, ${fy}, x.seq, x.receipt_no, ${p.id}, ${p.batch_id}, ${p.org_id}, x.connection_id, x.consumer_no, x.bill_id,
           x.amount, x.advance, x.rebate, x.before, x.before - x.amount - x.rebate, ${p.captured_at}
      FROM json_to_recordset(${json(numbered)}::json)
           AS x(discom_id bigint, seq bigint, receipt_no text, connection_id bigint, consumer_no text, bill_id bigint,
                amount bigint, advance bigint, rebate bigint, before bigint)`.execute(trx);

  // One posting of the money and one of the rebate credit per receipt; 'SGP' || id is their key.
  await sql`
    INSERT INTO postings (payment_id, receipt_id, batch_id, org_id, connection_id, discom_id, consumer_no, kind, amount_paise, paid_at, reference)
    SELECT r.payment_id, r.id, r.batch_id, r.org_id, r.connection_id, r.discom_id, r.consumer_no, k.kind,
           CASE k.kind WHEN 'payment' THEN r.amount_paise ELSE r.rebate_paise END, r.issued_at, r.receipt_no
      FROM receipts r CROSS JOIN (VALUES ('payment'), ('rebate')) AS k(kind)
     WHERE r.payment_id = ${p.id} AND (k.kind = 'payment' OR r.rebate_paise > 0)
     ORDER BY r.id, k.kind`.execute(trx);

  await recordAudit(trx, {
    action: 'payment.settled',
    actor: null,
    actorLabel: 'system:settlement',
    orgId: p.org_id,
    target: { type: 'payment_batch', id: p.batch_id },
    details: {
      reference: p.batch_ref,
      gateway_payment_id: p.gateway_payment_id,
      amount_paise: p.amount_paise.toString(),
      receipts: parts.length,
      rebate_paise: rebateTotal.toString(),
      suspense_paise: suspense.toString(),
      captured_at: p.captured_at.toISOString(),
    },
    meta: null,
  });
  return 'settled';
}

/**
 * What the batch's connections still owe of what it meant to clear: per connection, the planned
 * money and the rebate the quote counted on (never more than the balance now), less what was
 * credited. A row meant as a part payment counts only its planned money.
 */
export function stillDueAfter(items: readonly { connection_id: bigint; planned: bigint; quoted_rebate: bigint; balance: bigint }[], parts: readonly AllocationPart[]): bigint {
  const credited = new Map(parts.map((x) => [x.connectionId, x.dues + x.advance + x.rebate]));
  let due = 0n;
  for (const i of items) {
    const meant = i.planned + i.quoted_rebate < i.balance ? i.planned + i.quoted_rebate : i.balance;
    const left = meant - (credited.get(i.connection_id) ?? 0n);
    if (left > 0n) due += left;
  }
  return due;
}

/** Receipt numbers for the parts: each discom's series row locked (in discom order) and advanced once. */
async function numberReceipts(trx: Db, parts: readonly AllocationPart[], items: Map<bigint, ItemRow>, fy: string) {
  const perDiscom = new Map<bigint, number>();
  for (const x of parts) {
    const d = items.get(x.connectionId)!.discom_id;
    perDiscom.set(d, (perDiscom.get(d) ?? 0) + 1);
  }
  const discoms = [...perDiscom.keys()].sort((a, b) => (a < b ? -1 : 1));
  const next = new Map<bigint, bigint>();
  for (const d of discoms) {
    const row = await trx
      .insertInto('receipt_series')
      .values({ discom_id: d, fy, last_no: BigInt(perDiscom.get(d)!) })
      .onConflict((oc) => oc.columns(['discom_id', 'fy']).doUpdateSet({ last_no: sql<bigint>`receipt_series.last_no + excluded.last_no` }))
      .returning('last_no')
      .executeTakeFirstOrThrow();
    next.set(d, row.last_no - BigInt(perDiscom.get(d)!) + 1n);
  }
  return parts.map((x) => {
    const i = items.get(x.connectionId)!;
    const seq = next.get(i.discom_id)!;
    next.set(i.discom_id, seq + 1n);
    return {
      discom_id: i.discom_id,
      seq,
      receipt_no: receiptNo(i.discom_code, fy, seq),
      connection_id: x.connectionId,
      consumer_no: i.consumer_no,
      bill_id: i.bill_id,
      amount: x.dues + x.advance,
      advance: x.advance,
      rebate: x.rebate,
      before: i.balance,
    };
  });
}

async function toSuspense(trx: Db, p: PaymentRow, reason: 'batch_closed' | 'duplicate_payment', amount: bigint): Promise<void> {
  await holdInSuspense(trx, p, reason, amount, true);
  await trx.updateTable('payments').set({ settled_at: sql<Date>`now()` }).where('id', '=', p.id).execute();
  await recordAudit(trx, {
    action: 'payment.held_in_suspense',
    actor: null,
    actorLabel: 'system:settlement',
    orgId: p.org_id,
    target: { type: 'payment_batch', id: p.batch_id },
    details: { reference: p.batch_ref, gateway_payment_id: p.gateway_payment_id, amount_paise: amount.toString(), reason },
    meta: null,
  });
}

/** Money not applied to any connection: a suspense allocation, its ledger entries (when on its own) and an exception. */
async function holdInSuspense(trx: Db, p: PaymentRow, reason: 'batch_closed' | 'duplicate_payment' | 'amount_mismatch', amount: bigint, ownLedger: boolean): Promise<void> {
  await trx.insertInto('allocations').values({ payment_id: p.id, batch_id: p.batch_id, org_id: p.org_id, connection_id: null, kind: 'suspense', amount_paise: amount }).execute();
  if (ownLedger) {
    const txn = await trx
      .insertInto('ledger_transactions')
      .values({ kind: 'payment_suspense', org_id: p.org_id, payment_id: p.id, batch_id: p.batch_id, memo: `${p.batch_ref} ${p.gateway_payment_id} ${reason}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('ledger_entries')
      .values([
        { txn_id: txn.id, account: p.challan_id ? 'bank' : 'gateway_clearing', connection_id: null, amount_paise: amount },
        { txn_id: txn.id, account: 'suspense', connection_id: null, amount_paise: -amount },
      ])
      .execute();
  }
  await trx.insertInto('payment_exceptions').values({ payment_id: p.id, org_id: p.org_id, reason, amount_paise: amount }).execute();
}

async function notifyMaker(trx: Db, p: PaymentRow, receipts: number, stillDue: bigint, rebate: bigint): Promise<void> {
  if (!p.created_by) return;
  const u = await trx.selectFrom('users').select(['id', 'email', 'mobile']).where('id', '=', p.created_by).executeTakeFirst();
  if (!u) return;
  const amount = formatPaise(p.amount_paise, 'en');
  const part = p.amount_paise < p.batch_total;
  const en = [
    `${part ? 'Part payment' : 'Payment'} received: ${amount}${part ? ` of ${formatPaise(p.batch_total, 'en')}` : ''} for batch ${p.batch_ref} (${p.gateway_payment_id}); ${receipts} receipt(s) issued.`,
    rebate > 0n ? `Rebate credited: ${formatPaise(rebate, 'en')}.` : '',
    stillDue > 0n ? `Still due on these connections: ${formatPaise(stillDue, 'en')}.` : '',
  ];
  const hi = [
    `${part ? 'आंशिक भुगतान' : 'भुगतान'} प्राप्त: बैच ${p.batch_ref} के लिए ${formatPaise(p.amount_paise, 'hi')}${part ? ` (${formatPaise(p.batch_total, 'hi')} में से)` : ''}; ${receipts} रसीदें जारी।`,
    rebate > 0n ? `छूट जमा: ${formatPaise(rebate, 'hi')}।` : '',
    stillDue > 0n ? `इन कनेक्शनों पर अभी भी बकाया: ${formatPaise(stillDue, 'hi')}।` : '',
  ];
  const text = [...en, ...hi].filter(Boolean).join(' ');
  const messages: Message[] = [];
  if (u.email) messages.push({ channel: 'email', recipient: u.email, subject: `${part ? 'Part payment' : 'Payment'} received for ${p.batch_ref}`, body: text, purpose: 'payment_settled', orgId: p.org_id, userId: u.id });
  if (u.mobile) messages.push({ channel: 'sms', recipient: u.mobile, body: text, purpose: 'payment_settled', orgId: p.org_id, userId: u.id });
  await queueMessages(trx, messages);
}
