import type { BatchStatus, PostingStatus } from '../../platform/db/schema.ts';

/**
 * The money rules of a consolidated payment, as pure functions (the database work is
 * elsewhere): the on-time rebate, how a payment is split over its connections, receipt series,
 * and the state machines (the same table migration 0009 seeds, and a test keeps them equal).
 */

export interface RebatePolicy {
  /**
   * Extra rebate for paying digitally, in basis points of the current demand. Every rail the
   * portal takes is digital: the gateway (UPI, net banking, cards) and RTGS/NEFT to a challan's
   * virtual account alike (docs/payments.md, "Rebate").
   */
  onlineBp: number;
  /** Ceiling of all rebates together, in basis points of the current demand. */
  maxBp: number;
}

export interface RebateBasis {
  /** The bill's own "rebate if paid by the due date". */
  billRebate: bigint;
  currentDemand: bigint;
  balance: bigint;
  /** The bill already earned its rebate with an earlier payment. */
  alreadyRebated: boolean;
}

/**
 * The rebate a connection earns when its balance is cleared by the due date: the bill's own
 * rebate, plus the digital rebate (rounded down to the paisa), never more than the discom's
 * ceiling beyond the bill's own figure. A rebate comes with money, never instead of it: when it
 * would cover the whole balance (an advance credit already paid most of the bill), it stops one
 * paisa short, so that every balance shown as due can be paid, and paying it earns the rebate
 * (no cliff between a balance just below and just above the rebate).
 */
export function onTimeRebate(b: RebateBasis, p: RebatePolicy, digital: boolean): bigint {
  if (b.alreadyRebated || b.balance <= 0n) return 0n;
  const cap = (b.currentDemand * BigInt(p.maxBp)) / 10_000n;
  const room = cap > b.billRebate ? cap - b.billRebate : 0n;
  const extra = digital ? (b.currentDemand * BigInt(p.onlineBp)) / 10_000n : 0n;
  const total = b.billRebate + (extra < room ? extra : room);
  return total < b.balance ? total : b.balance - 1n;
}

export interface AllocationRow {
  connectionId: bigint;
  /** What the batch meant to pay for this connection. */
  planned: bigint;
  /** The connection's balance when the money arrives: positive is due. */
  balance: bigint;
  /** The rebate earned if the balance is cleared by the due date (onTimeRebate). */
  rebate: bigint;
  dueDate: string | null;
}

export interface AllocationPart {
  connectionId: bigint;
  /** Applied to what is due. */
  dues: bigint;
  /** Beyond what is due: the connection's advance credit. */
  advance: bigint;
  /** Credited with the payment for clearing the balance on time (not money of the payment). */
  rebate: bigint;
}

export interface Allocation {
  parts: AllocationPart[];
  /** Money beyond every planned amount (a payment larger than its order): held in suspense. */
  suspense: bigint;
}

/**
 * Splits a payment over the batch's rows, in their order: each row gets its planned amount
 * while money lasts (a shortfall falls on the last rows and stays as their arrears). Within a
 * row, money up to the balance is dues and the rest is advance credit. A row whose money clears
 * its balance less its rebate, paid (IST day) by the due date, earns the rebate. The parts and
 * the suspense always sum to the payment.
 */
export function allocate(amount: bigint, rows: readonly AllocationRow[], paidDay: string): Allocation {
  if (amount <= 0n) throw new RangeError('a payment is a positive amount');
  let left = amount;
  const parts: AllocationPart[] = [];
  for (const r of rows) {
    if (left === 0n) break;
    if (r.planned <= 0n) continue;
    const money = r.planned < left ? r.planned : left;
    left -= money;
    const onTime = r.rebate > 0n && r.dueDate !== null && paidDay <= r.dueDate;
    const net = r.balance - r.rebate;
    let dues: bigint;
    let rebate = 0n;
    if (onTime && money >= net) {
      rebate = r.rebate;
      dues = net;
    } else {
      const due = r.balance > 0n ? r.balance : 0n;
      dues = money < due ? money : due;
    }
    parts.push({ connectionId: r.connectionId, dues, advance: money - dues, rebate });
  }
  return { parts, suspense: left };
}

/** The Indian financial year (April–March) of an IST day: '2026-11-26' → '2026-27'. */
export function financialYear(day: string): string {
  const y = Number(day.slice(0, 4));
  const start = Number(day.slice(5, 7)) >= 4 ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

export function receiptNo(discomCode: string, fy: string, seq: bigint): string {
  return `${discomCode}/${fy}/${seq.toString().padStart(8, '0')}`;
}

// ---- state machines ---------------------------------------------------------------------------

export const BATCH_TRANSITIONS: Readonly<Record<BatchStatus, readonly BatchStatus[]>> = {
  pending_approval: ['ready', 'rejected', 'cancelled'],
  ready: ['payment_pending', 'cancelled', 'paid'],
  payment_pending: ['paid', 'ready', 'unknown', 'expired'],
  unknown: ['paid', 'ready', 'payment_pending'],
  expired: ['payment_pending'],
  paid: [],
  rejected: [],
  cancelled: [],
};

export const POSTING_TRANSITIONS: Readonly<Record<PostingStatus, readonly PostingStatus[]>> = {
  pending: ['acknowledged', 'rejected'],
  rejected: ['pending'],
  acknowledged: [],
};

/** A batch in one of these holds its connections: they cannot enter another batch or be untagged. */
export const OPEN_BATCH: readonly BatchStatus[] = ['pending_approval', 'ready', 'payment_pending', 'unknown'];

/** Where a batch may go from each of `from`: the states that have `to` among their moves. */
export function batchCanMove(from: BatchStatus, to: BatchStatus): boolean {
  return BATCH_TRANSITIONS[from].includes(to);
}
