import { describe, expect, it } from 'vitest';
import { allocate, BATCH_TRANSITIONS, financialYear, onTimeRebate, POSTING_TRANSITIONS, receiptNo, type AllocationRow } from './rules.ts';
import { rng } from '../../../test/helpers/rng.ts';

describe('allocation of a payment over connections', () => {
  it('always sums its parts and suspense to the payment, whatever the rows (10,000 random cases)', () => {
    const base = Number(process.env.PROPERTY_SEED ?? 20261126);
    for (let k = 0; k < 10_000; k++) {
      const seed = base + k;
      const r = rng(seed);
      const big = () => BigInt(Math.floor(r() * 5_00_00_000)) * (r() < 0.1 ? 1000n : 1n);
      const rows: AllocationRow[] = Array.from({ length: 1 + Math.floor(r() * 12) }, (_, i) => {
        const balance = r() < 0.15 ? -big() : big();
        const rebate = balance > 0n && r() < 0.6 ? BigInt(Math.floor(Number(balance) * r() * 0.03)) : 0n;
        return { connectionId: BigInt(i + 1), planned: r() < 0.05 ? 0n : big() + 1n, balance, rebate, dueDate: r() < 0.5 ? '2026-11-30' : r() < 0.5 ? '2026-11-01' : null };
      });
      const planned = rows.reduce((s, x) => s + x.planned, 0n);
      const amount = r() < 0.6 ? (planned > 0n ? planned : 1n) : big() + 1n;
      const { parts, suspense } = allocate(amount, rows, '2026-11-20');
      const sum = parts.reduce((s, x) => s + x.dues + x.advance, 0n) + suspense;
      if (sum !== amount) throw new Error(`seed ${seed}: parts sum to ${sum}, payment ${amount}`);
      for (const x of parts) {
        const row = rows.find((y) => y.connectionId === x.connectionId)!;
        if (x.dues < 0n || x.advance < 0n || x.rebate < 0n || x.dues + x.advance > row.planned) throw new Error(`seed ${seed}: bad part ${JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
        // Never more than is due goes to dues; a rebate only with the balance cleared on time.
        if (x.dues > (row.balance > 0n ? row.balance : 0n)) throw new Error(`seed ${seed}: dues beyond the balance`);
        if (x.rebate > 0n && (x.dues + x.rebate !== row.balance || row.dueDate === null || row.dueDate < '2026-11-20')) throw new Error(`seed ${seed}: rebate without clearing on time`);
      }
      if (amount <= planned && suspense !== 0n) throw new Error(`seed ${seed}: suspense although the payment is within plan`);
    }
  });

  it('clears on-time bills with their rebate, keeps a shortfall as arrears and an excess as advance', () => {
    const rows: AllocationRow[] = [
      { connectionId: 1n, planned: 9_850n, balance: 10_000n, rebate: 150n, dueDate: '2026-11-30' },
      { connectionId: 2n, planned: 4_000n, balance: 10_000n, rebate: 150n, dueDate: '2026-11-30' },
      { connectionId: 3n, planned: 7_000n, balance: 5_000n, rebate: 0n, dueDate: '2026-11-01' },
    ];
    expect(allocate(20_850n, rows, '2026-11-20')).toEqual({
      parts: [
        { connectionId: 1n, dues: 9_850n, advance: 0n, rebate: 150n },
        { connectionId: 2n, dues: 4_000n, advance: 0n, rebate: 0n },
        { connectionId: 3n, dues: 5_000n, advance: 2_000n, rebate: 0n },
      ],
      suspense: 0n,
    });
    // Paid after the due date: no rebate, the rebate's worth stays due.
    expect(allocate(9_850n, rows.slice(0, 1), '2026-12-01').parts[0]).toEqual({ connectionId: 1n, dues: 9_850n, advance: 0n, rebate: 0n });
    // Less money than planned falls short on the last rows; more goes to suspense.
    expect(allocate(10_000n, rows, '2026-11-20').parts.map((p) => p.dues + p.advance)).toEqual([9_850n, 150n]);
    expect(allocate(30_000n, rows, '2026-11-20').suspense).toBe(9_150n);
  });
});

describe('the on-time rebate', () => {
  const policy = { onlineBp: 100, maxBp: 300 };
  it('adds the digital rebate to the bill’s own, up to the ceiling, and only with money left to pay', () => {
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 200_000n, alreadyRebated: false }, policy, true)).toBe(2_500n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 200_000n, alreadyRebated: false }, policy, false)).toBe(1_500n);
    expect(onTimeRebate({ billRebate: 2_800n, currentDemand: 100_000n, balance: 200_000n, alreadyRebated: false }, policy, true)).toBe(3_000n);
    // A rebate that would cover the whole balance stops a paisa short: there is always something to pay (it was the whole balance before,
    // leaving nothing payable), and no cliff either side of the rebate.
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 2_000n, alreadyRebated: false }, policy, true)).toBe(1_999n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 2_500n, alreadyRebated: false }, policy, true)).toBe(2_499n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 2_501n, alreadyRebated: false }, policy, true)).toBe(2_500n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 1n, alreadyRebated: false }, policy, true)).toBe(0n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: 200_000n, alreadyRebated: true }, policy, true)).toBe(0n);
    expect(onTimeRebate({ billRebate: 1_500n, currentDemand: 100_000n, balance: -5n, alreadyRebated: false }, policy, true)).toBe(0n);
    // Rounded down to the paisa.
    expect(onTimeRebate({ billRebate: 0n, currentDemand: 199n, balance: 1_000n, alreadyRebated: false }, policy, true)).toBe(1n);
  });
});

describe('receipt series and states', () => {
  it('names the Indian financial year of an IST day', () => {
    expect(financialYear('2026-03-31')).toBe('2025-26');
    expect(financialYear('2026-04-01')).toBe('2026-27');
    expect(financialYear('2099-12-31')).toBe('2099-00');
    expect(receiptNo('NBPDCL', '2026-27', 12n)).toBe('NBPDCL/2026-27/00000012');
  });

  it('declares final states with no way out', () => {
    for (const s of ['paid', 'rejected', 'cancelled'] as const) expect(BATCH_TRANSITIONS[s]).toEqual([]);
    expect(POSTING_TRANSITIONS.acknowledged).toEqual([]);
  });
});
