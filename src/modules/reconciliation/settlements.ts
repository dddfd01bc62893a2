import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { discomScope, type Principal, type RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { postLedger, recordUnmatchedCaptures } from '../payments/index.ts';
import { parseSettlementReport, parseSettlementReportOffThread, type SettlementReportRow } from './settlement-report.ts';

/**
 * Gateway settlement reconciliation. The gateway pays captured payments out to the discom's
 * account in settlements, net of its fee and the GST on it, each with a UTR; its settlement
 * report (Razorpay's reconciliation layout: one row per payment, amounts in paise) says which
 * payment went into which settlement. Importing it:
 *
 *   - matches each row to the portal's payment by the gateway payment id (tier 1) and records
 *     the fee, the tax and the settlement; rows for payments the portal does not know are reported;
 *   - records each settlement once, with one balanced ledger transaction: the bank receives the
 *     net, the fees account the fee and tax, the gateway clearing account is emptied by the
 *     gross of known payments (unknown ones to suspense);
 *   - matches the settlement's UTR and amount to a bank statement credit already imported (or a
 *     later import matches it: statements.ts), which then leaves the exception queue;
 *   - closes 'not_settled' exceptions of payments it settles.
 *
 * A gateway payment not settled within N working days of capture (3 by default) becomes a
 * 'not_settled' exception (flagUnsettled, run by the janitor).
 *
 * One checkout pays both discoms' bills, and a settlement pays them out together into the
 * holding company's online collections account: settlement reports, the settlements and their
 * exceptions are the holding company's staff's alone (decision 0010).
 */

/** Gateway settlements are the holding company's: a discom's staff are refused, saying why. */
export function holdingOnly(p: Principal | null): void {
  if (discomScope(p) !== null) {
    throw new AppError('FORBIDDEN', [], {
      en: 'Gateway settlements pay both discoms’ collections in one payout to the holding company’s account: only the holding company’s staff see and import them.',
      hi: 'गेटवे निपटान दोनों डिस्कॉम के संग्रह का एक साथ होल्डिंग कंपनी के खाते में भुगतान करते हैं: इन्हें केवल होल्डिंग कंपनी के कर्मचारी देखते और आयात करते हैं।',
    });
  }
}

type Db = Kysely<DB>;

export interface SettlementImport {
  duplicate: boolean;
  rows: number;
  payments: number;
  matched: number;
  unknown: string[];
  settlements: { id: string; utr: string | null; amountPaise: string; feesPaise: string; taxPaise: string; payments: number; new: boolean; bankMatched: boolean }[];
}

type Row = SettlementReportRow;

export { parseSettlementReport, parseSettlementReportOffThread };

export async function importSettlementReport(db: Db, p: Principal, file: { name: string; data: Buffer }, meta: RequestMeta | null, gatewayName = 'razorpay'): Promise<SettlementImport> {
  holdingOnly(p);
  const rows = (await parseSettlementReportOffThread(file.data)).filter((r) => r.type === 'payment');
  const sha = createHash('sha256').update(file.data).digest('hex');
  return db.transaction().execute(async (trx) => {
    const ids = rows.map((r) => r.entity_id);
    const known = new Map(
      (ids.length ? await trx.selectFrom('payments').select(['id', 'gateway_payment_id', 'settlement_id', 'amount_paise']).where('gateway_payment_id', 'in', ids).where('gateway', '<>', 'bank').execute() : []).map((x) => [x.gateway_payment_id, x]),
    );
    // A payment the portal has not heard of (its webhook lost or still to come) is a capture
    // for an unknown order from now on: held, in the queue, and known when its webhook comes,
    // so that its money is counted once. Smart Collect payments are the bank's credits.
    const told = new Set(
      (ids.length ? await trx.selectFrom('unmatched_captures').select('gateway_payment_id').where('gateway_payment_id', 'in', ids).execute() : []).map((x) => x.gateway_payment_id),
    );
    const credits = new Set(
      (ids.length ? await trx.selectFrom('bank_credits').select('external_id').where('external_id', 'in', ids).execute() : []).map((x) => x.external_id),
    );
    // A payment of an order the portal made, not yet told (its webhook late): awaited, in
    // gateway clearing like a known one; when it is recorded it takes its settlement from
    // settlement_items.
    const orders = new Set(
      (rows.length ? await trx.selectFrom('payment_attempts').select('order_id').where('order_id', 'in', [...new Set(rows.map((r) => r.order_id || '-'))]).execute() : []).map((x) => x.order_id),
    );
    const awaited = new Set(rows.filter((r) => !known.has(r.entity_id) && r.order_id && orders.has(r.order_id)).map((r) => r.entity_id));
    const fresh = rows.filter((r) => !known.has(r.entity_id) && !told.has(r.entity_id) && !credits.has(r.entity_id) && !awaited.has(r.entity_id));
    await recordUnmatchedCaptures(
      trx,
      fresh.map((r) => ({ gateway: gatewayName, paymentId: r.entity_id, orderId: r.order_id || null, amountPaise: BigInt(r.credit), currency: 'INR', method: r.method || null, capturedAt: /^[0-9]+$/.test(r.settled_at) ? new Date(Number(r.settled_at) * 1000) : new Date() })),
      'settlement_report',
    );
    for (const r of fresh) told.add(r.entity_id);
    // Captures for orders the portal did not make are in gateway clearing too (held in suspense
    // since their capture): their settlement clears them like any other.
    const orphans = new Map(
      (ids.length ? await trx.selectFrom('unmatched_captures').select(['id', 'gateway_payment_id', 'settlement_id']).where('gateway_payment_id', 'in', ids).where('status', '<>', 'assigned').execute() : []).map((x) => [x.gateway_payment_id, x]),
    );
    const unknown = ids.filter((i) => !known.has(i) && !orphans.has(i) && !awaited.has(i));
    const groups = new Map<string, Row[]>();
    for (const r of rows) groups.set(r.settlement_id, [...(groups.get(r.settlement_id) ?? []), r]);
    const out: SettlementImport['settlements'] = [];
    let matched = 0;
    for (const [sid, rs] of groups) {
      const gross = rs.reduce((s, r) => s + BigInt(r.credit), 0n);
      const fees = rs.reduce((s, r) => s + BigInt(r.fee), 0n);
      const tax = rs.reduce((s, r) => s + BigInt(r.tax), 0n);
      const net = gross - fees - tax;
      const grossKnown = rs.filter((r) => known.has(r.entity_id) || orphans.has(r.entity_id) || awaited.has(r.entity_id)).reduce((s, r) => s + BigInt(r.credit), 0n);
      const utr = rs[0]!.settlement_utr ? rs[0]!.settlement_utr.toUpperCase() : null;
      const ins = await trx
        .insertInto('gateway_settlements')
        .values({ settlement_id: sid, gateway: 'razorpay', utr, amount_paise: net, fees_paise: fees, tax_paise: tax, settled_at: new Date(Number(rs[0]!.settled_at) * 1000), payments: rs.length, report_sha256: sha })
        .onConflict((oc) => oc.column('settlement_id').doNothing())
        .returning('settlement_id')
        .executeTakeFirst();
      if (ins) {
        await trx
          .insertInto('settlement_items')
          .values(rs.map((r) => ({ gateway_payment_id: r.entity_id, settlement_id: sid, order_id: r.order_id || null, amount_paise: BigInt(r.credit), fee_paise: BigInt(r.fee), tax_paise: BigInt(r.tax) })))
          .onConflict((oc) => oc.column('gateway_payment_id').doNothing())
          .execute();
        await postLedger(trx, { kind: 'gateway_settled', memo: `settlement ${sid} UTR ${utr ?? '-'}` }, [['bank', net], ['fees', fees + tax], ['gateway_clearing', -grossKnown], ['suspense', grossKnown - gross]]);
      }
      // Each known payment: its fee, tax and settlement, once.
      for (const r of rs) {
        const o = orphans.get(r.entity_id);
        if (o && !o.settlement_id) await trx.updateTable('unmatched_captures').set({ settlement_id: sid }).where('id', '=', o.id).where('settlement_id', 'is', null).execute();
        const k = known.get(r.entity_id);
        if (!k || k.settlement_id) continue;
        await trx.updateTable('payments').set({ fee_paise: BigInt(r.fee), tax_paise: BigInt(r.tax), settlement_id: sid }).where('id', '=', k.id).where('settlement_id', 'is', null).execute();
        matched++;
      }
      const bankMatched = await matchSettlementToBank(trx, sid);
      out.push({ id: sid, utr, amountPaise: net.toString(), feesPaise: fees.toString(), taxPaise: tax.toString(), payments: rs.length, new: !!ins, bankMatched });
    }
    // Payments now settled leave the queue.
    await sql`
      UPDATE recon_exceptions e SET status = 'resolved', resolution = 'settled', resolved_at = now(), note = 'in settlement ' || p.settlement_id
        FROM payments p WHERE e.payment_id = p.id AND e.status = 'open' AND e.reason = 'not_settled' AND p.settlement_id IS NOT NULL`.execute(trx);
    const duplicate = out.every((s) => !s.new) && matched === 0;
    await recordAudit(trx, {
      action: 'settlement_report.imported',
      actor: p,
      orgId: null,
      target: { type: 'settlement_report', id: sha.slice(0, 16) },
      details: { file: file.name, sha256: sha, rows: rows.length, matched, unknown: unknown.length, settlements: out.map((s) => s.id) },
      meta,
    });
    return { duplicate, rows: rows.length, payments: rows.length, matched, unknown, settlements: out };
  });
}

/**
 * The settlement's payout seen in a statement already imported: its credit (held for want of a
 * challan) is the settlement's, its suspense released (the settlement's own ledger entry
 * already has the money in the bank), its exception closed.
 */
async function matchSettlementToBank(trx: Db, settlementId: string): Promise<boolean> {
  const s = await trx.selectFrom('gateway_settlements').select(['settlement_id', 'utr', 'amount_paise', 'statement_line_id']).where('settlement_id', '=', settlementId).executeTakeFirstOrThrow();
  if (s.statement_line_id) return true;
  if (!s.utr) return false;
  const c = await trx.selectFrom('bank_credits').select(['id', 'utr', 'status', 'statement_line_id', 'amount_paise']).where('utr', '=', s.utr.replace(/[^A-Z0-9]/g, '')).forUpdate().executeTakeFirst();
  if (!c || c.amount_paise !== s.amount_paise || c.status !== 'held') return false;
  await trx.updateTable('bank_credits').set({ status: 'settlement', match_rule: 'settlement_utr' }).where('id', '=', c.id).execute();
  await trx.updateTable('recon_exceptions').set({ status: 'resolved', resolution: 'settled', resolved_at: new Date(), note: `gateway settlement ${settlementId}` }).where('credit_id', '=', c.id).where('status', '=', 'open').where('reason', '<>', 'utr_amount_mismatch').execute();
  await postLedger(trx, { kind: 'credit_released', credit_id: c.id, memo: `settlement ${settlementId} payout` }, [['suspense', c.amount_paise], ['bank', -c.amount_paise]]);
  if (c.statement_line_id) {
    await trx.updateTable('statement_lines').set({ settlement_id: settlementId, reason: 'settlement_utr' }).where('id', '=', c.statement_line_id).execute();
    await trx.updateTable('gateway_settlements').set({ statement_line_id: c.statement_line_id }).where('settlement_id', '=', settlementId).execute();
  }
  return true;
}

/** The cut-off: `days` working days (Monday to Friday, IST) before `now`. */
export function workingDaysBefore(now: Date, days: number): Date {
  const d = new Date(now.getTime());
  let left = days;
  while (left > 0) {
    d.setTime(d.getTime() - 86_400_000);
    const dow = new Date(d.getTime() + 5.5 * 3_600_000).getUTCDay();
    if (dow !== 0 && dow !== 6) left--;
  }
  return d;
}

/** Gateway payments captured more than N working days ago and still not in a settlement: exceptions, once each. */
export async function flagUnsettled(db: Db, now: Date, days = 3): Promise<number> {
  const cutoff = workingDaysBefore(now, days);
  const r = await sql`
    INSERT INTO recon_exceptions (reason, payment_id, batch_id, org_id, amount_paise, detail)
    SELECT 'not_settled', p.id, p.batch_id, p.org_id, p.amount_paise, 'captured ' || to_char(p.captured_at AT TIME ZONE 'Asia/Kolkata', 'DD-MM-YYYY HH24:MI') || ' IST, not in any settlement after ' || ${days} || ' working days'
      FROM payments p
     WHERE p.status = 'captured' AND p.challan_id IS NULL AND p.settlement_id IS NULL AND p.captured_at < ${cutoff}
    ON CONFLICT DO NOTHING`.execute(db);
  return Number(r.numAffectedRows ?? 0n);
}
