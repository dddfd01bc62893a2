import { sql, type Kysely } from 'kysely';
import type { ChallanStatus, DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { officeInScope, scopeOf, type Scope } from '../../platform/office-scope.ts';
import type { Principal, RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { batchInScope } from '../payments/index.ts';
import { vaNumber } from './va.ts';

/**
 * RTGS/NEFT challans. A challan gives a ready batch its own virtual account (the discom's
 * prefix, a sequence, a check digit) at the discom's collection bank, the exact amount and a
 * deadline. Issuing one moves the batch to payment_pending, which keeps its bills locked; when
 * the deadline passes unpaid, the janitor expires challan and batch together, and the bills are
 * free again. Money that arrives later is an exception ('challan_expired') that the accounts
 * team can resolve by extending the challan. One discom per challan: the money lands in that
 * discom's account.
 */

type Db = Kysely<DB>;

/** The challan's moves (migration 0010 seeds the same table; a test keeps them equal). */
export const CHALLAN_TRANSITIONS: Readonly<Record<ChallanStatus, readonly ChallanStatus[]>> = {
  active: ['paid', 'expired', 'cancelled'],
  expired: ['active'],
  paid: [],
  cancelled: [],
};

export interface ChallanView {
  id: bigint;
  batchId: bigint;
  batchReference: string;
  orgId: bigint;
  organisation: string;
  discomCode: string;
  discomName: string;
  discomNameHi: string;
  vaNumber: string;
  ifsc: string;
  bankName: string;
  beneficiaryName: string;
  amountPaise: bigint;
  validUntil: Date;
  status: ChallanStatus;
  extensions: number;
  createdAt: Date;
  paidAt: Date | null;
  itemCount: number;
}

/** A challan by id or batch; with `scope`, only of a batch the scope sees (decision 0011). */
export async function challanView(db: Db, where: { id?: bigint; batchId?: bigint; orgId?: bigint; scope?: Scope }): Promise<ChallanView | null> {
  let q = db
    .selectFrom('challans as c')
    .innerJoin('payment_batches as b', 'b.id', 'c.batch_id')
    .innerJoin('organisations as o', 'o.id', 'c.org_id')
    .innerJoin('discoms as d', 'd.id', 'c.discom_id')
    .select([
      'c.id', 'c.batch_id', 'b.reference', 'c.org_id', 'o.name as org_name', 'd.code', 'd.name as discom_name', 'd.name_hi as discom_name_hi', 'c.va_number', 'c.ifsc',
      'c.bank_name', 'c.beneficiary_name', 'c.amount_paise', 'c.valid_until', 'c.status', 'c.extensions', 'c.created_at', 'c.paid_at', 'b.item_count',
    ]);
  if (where.id !== undefined) q = q.where('c.id', '=', where.id);
  if (where.batchId !== undefined) q = q.where('c.batch_id', '=', where.batchId);
  if (where.orgId !== undefined) q = q.where('c.org_id', '=', where.orgId);
  if (where.scope) q = q.where('c.org_id', '=', where.scope.orgId).where(officeInScope(where.scope, sql.ref('b.office_id')));
  const r = await q.orderBy('c.id', 'desc').executeTakeFirst();
  if (!r) return null;
  return {
    id: r.id, batchId: r.batch_id, batchReference: r.reference, orgId: r.org_id, organisation: r.org_name, discomCode: r.code, discomName: r.discom_name,
    discomNameHi: r.discom_name_hi, vaNumber: r.va_number, ifsc: r.ifsc, bankName: r.bank_name, beneficiaryName: r.beneficiary_name, amountPaise: r.amount_paise,
    validUntil: r.valid_until, status: r.status, extensions: r.extensions, createdAt: r.created_at, paidAt: r.paid_at, itemCount: r.item_count,
  };
}

/**
 * Issues the challan of a ready batch (or returns the one it has: asking twice gives the same
 * virtual account). The batch becomes an RTGS/NEFT payment waiting for its money.
 */
export async function issueChallan(db: Db, p: Principal, batchId: bigint, now: Date, meta: RequestMeta): Promise<bigint> {
  const scope = scopeOf(p);
  return db.transaction().execute(async (trx) => {
    // Only for a batch the payer sees: another office's is not there (its office never changes).
    await batchInScope(trx, scope, batchId);
    return createChallan(trx, p, scope.orgId, batchId, now, meta);
  });
}

/** issueChallan in the caller's transaction; the accounts team issues one for an organisation's batch when assigning money to it. */
export async function createChallan(trx: Db, p: Principal, orgId: bigint, batchId: bigint, now: Date, meta: RequestMeta | null): Promise<bigint> {
  const b = await trx.selectFrom('payment_batches').select(['id', 'status', 'mode', 'total_paise', 'reference']).where('id', '=', batchId).where('org_id', '=', orgId).forUpdate().executeTakeFirst();
  if (!b) throw new AppError('NOT_FOUND');
  const existing = await trx.selectFrom('challans').select(['id', 'status']).where('batch_id', '=', batchId).where('status', 'in', ['active', 'paid']).executeTakeFirst();
  if (existing) return existing.id;
  if (b.status === 'pending_approval') throw new AppError('APPROVAL_REQUIRED');
  if (b.status !== 'ready') throw new AppError('BATCH_NOT_OPEN');
  const discoms = await trx.selectFrom('payment_batch_items').select('discom_id').distinct().where('batch_id', '=', batchId).execute();
  if (discoms.length !== 1) throw new AppError('CHALLAN_MIXED_DISCOMS');
  const discomId = discoms[0]!.discom_id;
  const acct = await trx.selectFrom('collection_accounts').selectAll().where('discom_id', '=', discomId).executeTakeFirst();
  if (!acct) throw new AppError('COLLECTION_ACCOUNT_MISSING');
  const { rows } = await sql<{ n: string }>`SELECT nextval('challan_va_seq')::text AS n`.execute(trx);
  const va = vaNumber(acct.va_prefix, BigInt(rows[0]!.n));
  // The amount counts on rebates for paying by the due date: the challan is valid only until
  // the end (IST) of the earliest such due date, so that an amount it names always clears the
  // bills (docs/payments.md, "Rebate"). One amount per challan keeps matching exact.
  const rebated = await trx
    .selectFrom('payment_batch_items')
    .select((eb) => eb.fn.min('due_date').as('due'))
    .where('batch_id', '=', batchId)
    .where('rebate_paise', '>', 0n)
    .executeTakeFirst();
  let validUntil = new Date(now.getTime() + acct.challan_validity_hours * 3_600_000);
  if (rebated?.due) {
    const due = String(rebated.due).slice(0, 10);
    const endOfDue = rebateDeadline(due);
    if (endOfDue <= now) {
      const shown = due.split('-').reverse().join('-');
      throw new AppError('CHALLAN_REBATE_LAPSED', [], {
        en: `This payment's amounts include rebates for paying by ${shown}, which has passed. Cancel it and create the payment again for today's amounts.`,
        hi: `इस भुगतान की राशियों में ${shown} तक भुगतान की छूट शामिल है, जो बीत चुकी है। इसे रद्द करें और आज की राशियों के लिए भुगतान फिर से बनाएँ।`,
      });
    }
    if (endOfDue < validUntil) validUntil = endOfDue;
  }
  const c = await trx
    .insertInto('challans')
    .values({
      batch_id: batchId, org_id: orgId, discom_id: discomId, va_number: va, ifsc: acct.ifsc, bank_name: acct.bank_name, beneficiary_name: acct.beneficiary_name,
      amount_paise: b.total_paise, valid_until: validUntil, created_by: p.kind === 'user' ? p.userId : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.updateTable('payment_batches').set({ mode: 'rtgs_neft', status: 'payment_pending', status_changed_at: sql<Date>`now()` }).where('id', '=', batchId).execute();
  await recordAudit(trx, {
    action: 'challan.issued',
    actor: p,
    orgId,
    target: { type: 'payment_batch', id: batchId },
    details: { reference: b.reference, va_number: va, amount_paise: b.total_paise.toString(), valid_until: validUntil.toISOString() },
    meta,
  });
  return c.id;
}

/** The last moment a payment earns a bill's on-time rebate: the end of its due date in IST. */
export function rebateDeadline(dueDate: string): Date {
  return new Date(Date.parse(`${dueDate}T23:59:59.999+05:30`));
}

/** Challans past their deadline and unpaid: expired, with their batches (which frees the bills). */
export async function expireChallans(db: Db, now: Date): Promise<number> {
  const due = await db.selectFrom('challans').select(['id']).where('status', '=', 'active').where('valid_until', '<', now).orderBy('id').limit(1000).execute();
  let n = 0;
  for (const { id } of due) {
    await db.transaction().execute(async (trx) => {
      const c = await trx.selectFrom('challans').select(['id', 'batch_id', 'org_id', 'va_number', 'status']).where('id', '=', id).where('status', '=', 'active').forUpdate().executeTakeFirst();
      if (!c) return;
      await trx.updateTable('challans').set({ status: 'expired' }).where('id', '=', id).execute();
      await trx.updateTable('payment_batches').set({ status: 'expired', status_changed_at: sql<Date>`now()` }).where('id', '=', c.batch_id).where('status', '=', 'payment_pending').execute();
      await recordAudit(trx, { action: 'challan.expired', actor: null, actorLabel: 'system:janitor', orgId: c.org_id, target: { type: 'payment_batch', id: c.batch_id }, details: { va_number: c.va_number }, meta: null });
      n++;
    });
  }
  return n;
}

/**
 * A lapsed challan made valid again (in the caller's transaction, holding the challan's lock):
 * the batch reopens, which fails if one of its bills has entered another open batch meanwhile.
 */
export async function extendChallan(trx: Db, challanId: bigint, now: Date): Promise<void> {
  const c = await trx
    .selectFrom('challans as c')
    .innerJoin('collection_accounts as a', 'a.discom_id', 'c.discom_id')
    .select(['c.id', 'c.batch_id', 'c.status', 'a.challan_validity_hours'])
    .where('c.id', '=', challanId)
    .executeTakeFirstOrThrow();
  if (c.status !== 'expired' && c.status !== 'active') throw new AppError('BATCH_NOT_OPEN');
  const validUntil = new Date(now.getTime() + c.challan_validity_hours * 3_600_000);
  await trx.updateTable('challans').set({ status: 'active', valid_until: validUntil, extensions: sql<number>`extensions + 1` }).where('id', '=', challanId).execute();
  try {
    await trx.updateTable('payment_batches').set({ status: 'payment_pending', status_changed_at: sql<Date>`now()` }).where('id', '=', c.batch_id).where('status', '=', 'expired').execute();
  } catch (e) {
    // The one-open-batch-per-connection index: the whole transaction is rolled back.
    if ((e as { code?: string }).code === '23505') throw new AppError('CONNECTION_IN_OPEN_PAYMENT');
    throw e;
  }
}
