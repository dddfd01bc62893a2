import { sql, type Kysely } from 'kysely';
import type { BatchStatus, DB } from '../../platform/db/schema.ts';
import { AppError, type ErrorDetail } from '../../platform/errors.ts';
import { officeInScope, pathInScope, scopeOf, type Scope } from '../../platform/office-scope.ts';
import { actorLabel, type Principal, type RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { anomalySql, type Thresholds } from '../dues/query.ts';
import { OPEN_BATCH, onTimeRebate } from './rules.ts';

/**
 * Payment batches: what an organisation means to pay. Built from explicit rows or from a stored
 * "all matching" selection (with amounts edited per row); every row is checked against the
 * organisation's scope and the discom's policy (part payment, minimum), and all problems are
 * reported at once, per row. A connection (and so its bill) is in at most one open batch: the
 * database's partial unique index decides races, and the loser is told which batch holds it.
 * Above the organisation's threshold a batch waits for an approver who is not its maker and
 * who confirms with a TOTP code.
 *
 * A batch belongs to the nearest common office of its connections (decision 0011): only users
 * at or above that office see it or act on it; to anyone else it does not exist (404).
 */

type Db = Kysely<DB>;

export const MAX_BATCH_ITEMS = 100_000;

export interface BatchRequest {
  selectionId: bigint | null;
  /** With a selection: only its connections of this discom (a batch per discom, for challans). */
  discom?: string | null;
  items: { connectionId: bigint; amountPaise: bigint | null }[];
  budgetHead: string | null;
  sanctionRef: string | null;
}

export interface QuoteRow {
  connectionId: bigint;
  discomId: bigint;
  discomCode: string;
  consumerNo: string;
  billId: bigint | null;
  billMonth: string | null;
  dueDate: string | null;
  outstanding: bigint;
  netNow: bigint;
  amount: bigint;
  rebate: bigint;
  dpsAvoided: bigint;
  flags: string[];
}

export interface Quote {
  rows: QuoteRow[];
  itemCount: number;
  totalPaise: bigint;
  outstandingPaise: bigint;
  rebatePaise: bigint;
  dpsAvoidedPaise: bigint;
  anomalyCount: number;
  /** Rows of a selection with nothing to pay (clear or in credit), left out. */
  skipped: number;
  /** Rows of a selection an open batch holds, left out; and those batches' references the scope sees. */
  held: number;
  heldBatches: string[];
  /** The batch's amounts per discom: a challan (RTGS/NEFT) pays one discom's connections only. */
  discoms: { code: string; itemCount: number; totalPaise: bigint }[];
  requiresApproval: boolean;
  approvalThresholdPaise: bigint | null;
}

interface Candidate {
  ord: number;
  connection_id: bigint;
  asked: bigint | null;
  tagged: boolean;
  copies: number;
  discom_id: bigint | null;
  discom_code: string | null;
  consumer_no: string | null;
  bill_id: bigint | null;
  bill_month: string | null;
  due_date: string | null;
  balance: bigint | null;
  net_payable: bigint | null;
  payable_after_due: bigint | null;
  bill_rebate: bigint | null;
  current_demand: bigint | null;
  already_rebated: boolean;
  flags: string[] | null;
  in_open_batch: boolean;
  /** The open batch's reference, if the scope sees that batch. */
  open_batch: string | null;
  part_allowed: boolean | null;
  min_paise: bigint | null;
  online_bp: number | null;
  max_bp: number | null;
}

const msg = (en: string, hi: string) => ({ en, hi });

/** Batches the scope sees: its organisation's, at or below the user's office. */
export function batchesInScope(db: Db, scope: Scope) {
  return db.selectFrom('payment_batches as b').where('b.org_id', '=', scope.orgId).where(officeInScope(scope, sql.ref('b.office_id')));
}

/** A batch the scope sees (locked for update when asked), or NOT_FOUND: one out of scope looks like none. */
export async function batchInScope(db: Db, scope: Scope, batchId: bigint, opts: { forUpdate?: boolean } = {}) {
  let q = batchesInScope(db, scope).selectAll('b').where('b.id', '=', batchId);
  if (opts.forUpdate) q = q.forUpdate('b');
  const b = await q.executeTakeFirst();
  if (!b) throw new AppError('NOT_FOUND');
  return b;
}

async function loadCandidates(trx: Db, scope: Scope, req: BatchRequest, t: Thresholds): Promise<Candidate[]> {
  const a = anomalySql(t);
  let input;
  if (req.selectionId !== null) {
    const sel = await trx
      .selectFrom('dues_selections')
      .select(['id', 'count'])
      .where('id', '=', req.selectionId)
      .where('org_id', '=', scope.orgId)
      // Another office's selection is as good as none.
      .where(officeInScope(scope, sql.ref('office_id')))
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    if (!sel) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.selectionId', problem: 'expired', message: msg('the selection has expired or does not exist: select again', 'चयन की अवधि समाप्त हो गई है या वह मौजूद नहीं है: फिर से चुनें') }]);
    }
    const overrides = JSON.stringify(req.items.map((i) => ({ c: i.connectionId.toString(), a: i.amountPaise?.toString() ?? null })));
    const discom = req.discom
      ? sql`AND EXISTS (SELECT 1 FROM connection_dues cd JOIN discoms x ON x.id = cd.discom_id WHERE cd.connection_id = si.connection_id AND x.code = ${req.discom})`
      : sql``;
    input = sql`SELECT si.connection_id, o.a AS asked, row_number() OVER (ORDER BY si.connection_id)::int AS ord
                  FROM dues_selection_items si
                  LEFT JOIN json_to_recordset(${overrides}::json) AS o(c bigint, a bigint) ON o.c = si.connection_id
                 WHERE si.selection_id = ${req.selectionId} ${discom}`;
  } else {
    if (req.discom) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.discom', problem: 'selection_only', message: msg('choose a discom only with a selection; list the rows of one discom instead', 'डिस्कॉम केवल चयन के साथ चुनें; अन्यथा एक डिस्कॉम की पंक्तियाँ सूचीबद्ध करें') }]);
    }
    const rows = JSON.stringify(req.items.map((i, n) => ({ c: i.connectionId.toString(), a: i.amountPaise?.toString() ?? null, n: n + 1 })));
    input = sql`SELECT x.c AS connection_id, x.a AS asked, x.n AS ord FROM json_to_recordset(${rows}::json) AS x(c bigint, a bigint, n int)`;
  }
  const { rows } = await sql<Candidate>`
    WITH input AS (${input})
    SELECT i.ord, i.connection_id, i.asked, d.connection_id IS NOT NULL AS tagged,
           (count(*) OVER (PARTITION BY i.connection_id))::int AS copies,
           d.discom_id, dc.code AS discom_code, d.consumer_no, d.bill_id, d.bill_month, d.due_date, d.balance_paise AS balance,
           d.net_payable_paise AS net_payable, d.payable_after_due_paise AS payable_after_due,
           d.rebate_paise AS bill_rebate, d.current_demand_paise AS current_demand,
           coalesce(EXISTS (SELECT 1 FROM receipts r WHERE r.bill_id = d.bill_id AND r.rebate_paise > 0), false) AS already_rebated,
           CASE WHEN d.connection_id IS NOT NULL THEN array_remove(ARRAY[
             CASE WHEN ${sql.raw(a.deviation)} THEN 'deviation' END, CASE WHEN ${sql.raw(a.zero)} THEN 'zero' END,
             CASE WHEN ${sql.raw(a.estimated)} THEN 'estimated' END, CASE WHEN ${sql.raw(a.reading_break)} THEN 'reading_break' END], NULL) END AS flags,
           ob.id IS NOT NULL AS in_open_batch,
           CASE WHEN ${officeInScope(scope, sql.ref('ob.office_id'))} THEN ob.reference END AS open_batch,
           dc.part_payment_allowed AS part_allowed, dc.min_payment_paise AS min_paise, dc.rebate_online_bp AS online_bp, dc.rebate_max_bp AS max_bp
      FROM input i
      LEFT JOIN connection_dues d ON d.connection_id = i.connection_id AND d.org_id = ${scope.orgId} AND ${officeInScope(scope, sql.ref('d.office_id'))}
      LEFT JOIN discoms dc ON dc.id = d.discom_id
      LEFT JOIN payment_batch_items bi ON bi.connection_id = i.connection_id AND bi.open
      LEFT JOIN payment_batches ob ON ob.id = bi.batch_id AND ob.org_id = ${scope.orgId}
     ORDER BY i.ord`.execute(trx);
  return rows;
}

/** Prices every row as if paid online today, checks it, and totals the batch. Throws with every problem. */
export async function quoteBatch(trx: Db, scope: Scope, req: BatchRequest, today: string, t: Thresholds): Promise<Quote> {
  const fromSelection = req.selectionId !== null;
  if (!fromSelection && req.items.length === 0) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'body.items', problem: 'required', message: msg('choose at least one connection', 'कम से कम एक कनेक्शन चुनें') }]);
  }
  const candidates = await loadCandidates(trx, scope, req, t);
  if (candidates.length > MAX_BATCH_ITEMS) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'body', problem: 'too_many', message: msg(`a payment may cover at most ${MAX_BATCH_ITEMS} connections`, `एक भुगतान में अधिकतम ${MAX_BATCH_ITEMS} कनेक्शन हो सकते हैं`) }]);
  }
  if (fromSelection) {
    const inSelection = new Set(candidates.map((c) => c.connection_id));
    const outside = req.items.findIndex((i) => !inSelection.has(i.connectionId));
    if (outside >= 0) {
      throw new AppError('VALIDATION_FAILED', [{ path: `body.items.${outside}`, problem: 'not_in_selection', message: msg('this connection is not in the selection', 'यह कनेक्शन चयन में नहीं है') }]);
    }
  }
  const problems: ErrorDetail[] = [];
  let openBatch = false;
  const rows: QuoteRow[] = [];
  let skipped = 0;
  let held = 0;
  const heldBatches = new Set<string>();
  const seen = new Set<bigint>();
  for (const c of candidates) {
    const where = fromSelection ? `connection ${c.consumer_no ?? c.connection_id}` : `body.items.${c.ord - 1}`;
    const add = (problem: string, en: string, hi: string) => problems.push({ path: where, problem, message: msg(en, hi) });
    if (!c.tagged) {
      add('not_tagged', 'this connection is not tagged to your organisation (or not in your office)', 'यह कनेक्शन आपकी संस्था (या आपके कार्यालय) से टैग नहीं है');
      continue;
    }
    if (seen.has(c.connection_id)) {
      add('duplicate', `connection ${c.consumer_no} is listed more than once`, `कनेक्शन ${c.consumer_no} एक से अधिक बार है`);
      continue;
    }
    seen.add(c.connection_id);
    if (c.in_open_batch && fromSelection) {
      // "All N matching" may take in connections already being paid: they are left out, and the
      // quote says so (with the references the user may see) before the batch is made.
      held++;
      if (c.open_batch) heldBatches.add(c.open_batch);
      continue;
    }
    if (c.in_open_batch) {
      openBatch = true;
      if (c.open_batch) add('in_open_batch', `connection ${c.consumer_no} is already in open payment ${c.open_batch}`, `कनेक्शन ${c.consumer_no} पहले से खुले भुगतान ${c.open_batch} में है`);
      // A batch of an office above the user's: its existence is said, not its reference.
      else add('in_open_batch', `connection ${c.consumer_no} is already in an open payment made at an office above yours`, `कनेक्शन ${c.consumer_no} पहले से आपके ऊपर के कार्यालय द्वारा बनाए गए एक खुले भुगतान में है`);
      continue;
    }
    const balance = c.balance!;
    const onTime = c.due_date !== null && today <= c.due_date;
    const rebate = onTime
      ? onTimeRebate({ billRebate: c.bill_rebate!, currentDemand: c.current_demand!, balance, alreadyRebated: c.already_rebated }, { onlineBp: c.online_bp!, maxBp: c.max_bp! }, true)
      : 0n;
    const netNow = balance - rebate;
    const amount = c.asked ?? netNow;
    if (amount <= 0n) {
      if (fromSelection && c.asked === null) {
        skipped++;
        continue;
      }
      add('nothing_due', `connection ${c.consumer_no} has nothing due: enter an amount to pay in advance`, `कनेक्शन ${c.consumer_no} पर कुछ बकाया नहीं है: अग्रिम भुगतान के लिए राशि दर्ज करें`);
      continue;
    }
    // The minimum is for part payments: an amount that clears a small balance is always taken.
    if (amount < c.min_paise! && amount < netNow) {
      add('below_minimum', `the amount for ${c.consumer_no} is below the discom's minimum of ${c.min_paise!} paise`, `${c.consumer_no} की राशि डिस्कॉम की न्यूनतम ${c.min_paise!} पैसे से कम है`);
      continue;
    }
    if (!c.part_allowed && amount < netNow) {
      add('part_payment_not_allowed', `the discom does not accept part payment: pay at least ${netNow} paise for ${c.consumer_no}`, `डिस्कॉम आंशिक भुगतान स्वीकार नहीं करता: ${c.consumer_no} के लिए कम से कम ${netNow} पैसे दें`);
      continue;
    }
    const clears = amount >= netNow;
    rows.push({
      connectionId: c.connection_id,
      discomId: c.discom_id!,
      discomCode: c.discom_code!,
      consumerNo: c.consumer_no!,
      billId: c.bill_id,
      billMonth: c.bill_month,
      dueDate: c.due_date,
      outstanding: balance,
      netNow,
      amount,
      rebate: clears ? rebate : 0n,
      dpsAvoided: onTime && clears && balance > 0n ? c.payable_after_due! - c.net_payable! : 0n,
      flags: c.flags ?? [],
    });
  }
  if (problems.length) {
    const shown = problems.slice(0, 1000);
    if (problems.length > shown.length) {
      shown.push({ path: 'body', problem: 'more', message: msg(`and ${problems.length - shown.length} more problems`, `और ${problems.length - shown.length} समस्याएँ`) });
    }
    throw new AppError(openBatch ? 'BILL_IN_OPEN_BATCH' : 'VALIDATION_FAILED', shown);
  }
  if (!rows.length && held > 0) {
    throw new AppError('BILL_IN_OPEN_BATCH', [{ path: 'body', problem: 'in_open_batch', message: msg(`every connection of the selection with something due is already in an open payment${heldBatches.size ? ` (${[...heldBatches].sort().join(', ')})` : ''}`, `चयन के जिन कनेक्शनों पर बकाया है, वे सभी पहले से खुले भुगतान में हैं${heldBatches.size ? ` (${[...heldBatches].sort().join(', ')})` : ''}`) }]);
  }
  if (!rows.length) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'body', problem: 'nothing_due', message: msg('nothing is due on the selected connections', 'चुने गए कनेक्शनों पर कुछ भी बकाया नहीं है') }]);
  }
  const org = await trx.selectFrom('organisations').select('approval_threshold_paise').where('id', '=', scope.orgId).executeTakeFirstOrThrow();
  const sum = (f: (r: QuoteRow) => bigint) => rows.reduce((s, r) => s + f(r), 0n);
  const total = sum((r) => r.amount);
  const byDiscom = new Map<string, { code: string; itemCount: number; totalPaise: bigint }>();
  for (const r of rows) {
    const d = byDiscom.get(r.discomCode) ?? { code: r.discomCode, itemCount: 0, totalPaise: 0n };
    d.itemCount++;
    d.totalPaise += r.amount;
    byDiscom.set(r.discomCode, d);
  }
  return {
    rows,
    itemCount: rows.length,
    totalPaise: total,
    outstandingPaise: sum((r) => r.outstanding),
    rebatePaise: sum((r) => r.rebate),
    dpsAvoidedPaise: sum((r) => r.dpsAvoided),
    anomalyCount: rows.filter((r) => r.flags.length > 0).length,
    skipped,
    held,
    heldBatches: [...heldBatches].sort().slice(0, 20),
    discoms: [...byDiscom.values()].sort((a, b) => a.code.localeCompare(b.code)),
    requiresApproval: org.approval_threshold_paise !== null && total > org.approval_threshold_paise,
    approvalThresholdPaise: org.approval_threshold_paise,
  };
}

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** Creates the batch from a quote, in the caller's transaction. */
export async function createBatch(trx: Db, scope: Scope, p: Principal, req: BatchRequest, today: string, t: Thresholds, meta: RequestMeta): Promise<bigint> {
  const q = await quoteBatch(trx, scope, req, today, t);
  // The tags are held until commit: an untag waits, then finds the batch and is refused. The
  // batch belongs to the nearest common office of the held tags' offices (decision 0011).
  const { rows: held } = await sql<{ n: number; office_id: bigint | null; office_path: string | null }>`
    SELECT x.n, o.id AS office_id, o.path AS office_path
      FROM (SELECT count(*)::int AS n, nearest_common_office(${scope.orgId}::bigint, array_agg(DISTINCT h.office_id)) AS office_id
              FROM (SELECT office_id FROM tags WHERE connection_id = ANY(string_to_array(${q.rows.map((r) => r.connectionId).join(',')}, ',')::bigint[])
                       AND org_id = ${scope.orgId} AND status = 'active' ORDER BY connection_id FOR SHARE) h) x
      LEFT JOIN offices o ON o.id = x.office_id`.execute(trx);
  const h = held[0]!;
  // A tag moved out of the maker's offices since the quote would make a batch its maker cannot see.
  if (h.n !== q.rows.length || !pathInScope(scope, h.office_path)) {
    throw new AppError('CONFLICT', [], msg('Some of these connections were untagged or moved to another office just now. Reload and try again.', 'इनमें से कुछ कनेक्शन अभी-अभी अनटैग हुए या किसी अन्य कार्यालय में गए। पृष्ठ फिर से लोड करके प्रयास करें।'));
  }
  const { rows } = await sql<{ id: bigint }>`SELECT nextval(pg_get_serial_sequence('payment_batches', 'id')) AS id`.execute(trx);
  const id = rows[0]!.id;
  const reference = `PB${id.toString().padStart(8, '0')}`;
  await trx
    .insertInto('payment_batches')
    .values({
      id,
      org_id: scope.orgId,
      reference,
      status: q.requiresApproval ? 'pending_approval' : 'ready',
      office_id: h.office_id,
      created_by: p.kind === 'user' ? p.userId : null,
      created_by_key: p.kind === 'api_key' ? p.apiKeyId : null,
      created_by_label: actorLabel(p),
      item_count: q.itemCount,
      total_paise: q.totalPaise,
      outstanding_paise: q.outstandingPaise,
      rebate_paise: q.rebatePaise,
      dps_avoided_paise: q.dpsAvoidedPaise,
      anomaly_count: q.anomalyCount,
      budget_head: req.budgetHead,
      sanction_ref: req.sanctionRef,
      requires_approval: q.requiresApproval,
    })
    .execute();
  try {
    await sql`
      INSERT INTO payment_batch_items (batch_id, connection_id, org_id, discom_id, consumer_no, bill_id, bill_month, due_date,
                                       outstanding_paise, rebate_paise, dps_avoided_paise, amount_paise, flags)
      SELECT ${id}, x.c, ${scope.orgId}, x.d, x.n, x.b, x.m, x.due, x.o, x.r, x.dps, x.a, coalesce(x.f, '{}')
        FROM json_to_recordset(${json(q.rows.map((r) => ({ c: r.connectionId, d: r.discomId, n: r.consumerNo, b: r.billId, m: r.billMonth, due: r.dueDate, o: r.outstanding, r: r.rebate, dps: r.dpsAvoided, a: r.amount, f: r.flags })))}::json)
             AS x(c bigint, d bigint, n text, b bigint, m date, due date, o bigint, r bigint, dps bigint, a bigint, f text[])
       -- In one order for every batch: two batches racing for the same connections queue, never deadlock.
       ORDER BY x.c`.execute(trx);
  } catch (e) {
    if ((e as { code?: string; constraint?: string }).code === '23505') {
      // Another batch took some of these connections between our check and our insert.
      throw new AppError('BILL_IN_OPEN_BATCH', [{ path: 'body', problem: 'in_open_batch', message: msg('another payment took some of these connections just now: reload and try again', 'किसी अन्य भुगतान ने अभी इनमें से कुछ कनेक्शन ले लिए: पृष्ठ फिर से लोड करके प्रयास करें') }]);
    }
    throw e;
  }
  await recordAudit(trx, {
    action: 'payment.batch_created',
    actor: p,
    orgId: scope.orgId,
    target: { type: 'payment_batch', id },
    details: {
      reference, items: q.itemCount, total_paise: q.totalPaise.toString(), requires_approval: q.requiresApproval, budget_head: req.budgetHead, sanction_ref: req.sanctionRef,
      ...(req.selectionId !== null ? { selection_id: req.selectionId.toString(), discom: req.discom ?? null, left_out_in_open_batch: q.held } : {}),
    },
    meta,
  });
  return id;
}

/** Moves a batch by the state machine: only from one of `from`, else BATCH_NOT_OPEN. */
export async function moveBatch(trx: Db, batchId: bigint, orgId: bigint, from: readonly BatchStatus[], to: BatchStatus, extra: Partial<{ decided_by: bigint; decided_at: Date; decision_reason: string | null }> = {}): Promise<void> {
  const r = await trx
    .updateTable('payment_batches')
    .set({ status: to, status_changed_at: sql<Date>`now()`, ...extra })
    .where('id', '=', batchId)
    .where('org_id', '=', orgId)
    .where('status', 'in', from)
    .executeTakeFirst();
  if (r.numUpdatedRows === 0n) throw new AppError('BATCH_NOT_OPEN');
}

export async function decideBatch(db: Db, p: Principal & { kind: 'user' }, batchId: bigint, decision: { approve: boolean; reason: string | null }, meta: RequestMeta): Promise<void> {
  const orgId = p.orgId!;
  await db.transaction().execute(async (trx) => {
    const b = await batchInScope(trx, scopeOf(p), batchId, { forUpdate: true });
    if (b.status !== 'pending_approval') throw new AppError('BATCH_NOT_OPEN');
    if (b.created_by === p.userId) throw new AppError('MAKER_CANNOT_APPROVE');
    if (!decision.approve && !decision.reason?.trim()) {
      throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: msg('give the reason for rejecting', 'अस्वीकार करने का कारण दें') }]);
    }
    await moveBatch(trx, batchId, orgId, ['pending_approval'], decision.approve ? 'ready' : 'rejected', { decided_by: p.userId, decided_at: new Date(), decision_reason: decision.reason?.trim() || null });
    await recordAudit(trx, {
      action: decision.approve ? 'payment.batch_approved' : 'payment.batch_rejected',
      actor: p,
      orgId,
      target: { type: 'payment_batch', id: batchId },
      details: { reference: b.reference, total_paise: b.total_paise.toString(), reason: decision.reason?.trim() || null, second_factor: 'totp' },
      meta,
    });
  });
}

export async function cancelBatch(db: Db, p: Principal, batchId: bigint, reason: string | null, meta: RequestMeta): Promise<void> {
  const orgId = p.orgId!;
  await db.transaction().execute(async (trx) => {
    const b = await batchInScope(trx, scopeOf(p), batchId, { forUpdate: true });
    // A batch whose checkout has started may still be paid: it waits for the gateway's answer.
    await moveBatch(trx, batchId, orgId, ['pending_approval', 'ready'], 'cancelled', { decision_reason: reason?.trim() || null });
    await recordAudit(trx, { action: 'payment.batch_cancelled', actor: p, orgId, target: { type: 'payment_batch', id: batchId }, details: { reference: b.reference, reason: reason?.trim() || null }, meta });
  });
}

/**
 * Whether a connection is held by an open batch (untagging is refused while it is), and the
 * batch's reference if the scope sees that batch (null: a batch of an office above the user's).
 */
export async function openBatchOf(db: Db, connectionId: bigint, scope: Scope): Promise<{ reference: string | null } | null> {
  const r = await db
    .selectFrom('payment_batch_items as i')
    .innerJoin('payment_batches as b', 'b.id', 'i.batch_id')
    .select(['b.reference', sql<boolean>`b.org_id = ${scope.orgId} AND ${officeInScope(scope, sql.ref('b.office_id'))}`.as('visible')])
    .where('i.connection_id', '=', connectionId)
    .where('i.open', '=', true)
    .where('b.status', 'in', OPEN_BATCH)
    .executeTakeFirst();
  return r ? { reference: r.visible ? r.reference : null } : null;
}
