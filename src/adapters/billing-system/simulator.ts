import type { Database } from '../../platform/db/database.ts';
import {
  BILL_COLUMNS,
  BillingSystemDown,
  CONNECTION_COLUMNS,
  type BillRecord,
  type BillingSystem,
  type ChangeCursor,
  type ChangePage,
  type ConnectionRecord,
  type PaymentPosting,
  type PostingAck,
} from './types.ts';

/**
 * The embedded billing system: its own tables in schema billing_sim, reached only through this
 * class. Postings are applied set-based and idempotently by posting id: a replay gets the same
 * receipt, a reused id with different content is refused. `setDown` simulates an outage.
 */

interface ConsumerRow {
  discom_code: string;
  consumer_no: string;
  subdivision_code: string;
  name: string;
  address: string;
  category: string;
  supply_type: 'LT' | 'HT';
  sanctioned_load_va: number;
  meter_no: string | null;
  registered_mobile: string | null;
  owner_pan: string | null;
  owner_dept_code: string | null;
  status: ConnectionRecord['status'];
  balance_paise: bigint;
  changed_at: string;
}

interface BillRow {
  discom_code: string;
  bill_no: string;
  consumer_no: string;
  bill_month: string;
  bill_date: string;
  due_date: string;
  prev_reading: number | null;
  curr_reading: number | null;
  units: number;
  bill_basis: BillRecord['billBasis'];
  energy_charge_paise: bigint;
  fixed_charge_paise: bigint;
  fuel_surcharge_paise: bigint;
  electricity_duty_paise: bigint;
  meter_rent_paise: bigint;
  current_demand_paise: bigint;
  arrears_paise: bigint;
  dps_paise: bigint;
  rebate_paise: bigint;
  advance_credit_paise: bigint;
  net_payable_paise: bigint;
  payable_after_due_paise: bigint;
  last_payment_paise: bigint | null;
  last_payment_date: string | null;
  status: BillRecord['status'];
  changed_at: string;
}

const toConnection = (r: ConsumerRow): ConnectionRecord => ({
  discomCode: r.discom_code,
  consumerNo: r.consumer_no,
  subdivisionCode: r.subdivision_code,
  name: r.name,
  address: r.address,
  category: r.category,
  supplyType: r.supply_type,
  sanctionedLoadVa: r.sanctioned_load_va,
  meterNo: r.meter_no,
  registeredMobile: r.registered_mobile,
  ownerPan: r.owner_pan,
  ownerDeptCode: r.owner_dept_code,
  status: r.status,
  balancePaise: r.balance_paise,
  changedAt: r.changed_at,
});

const toBill = (r: BillRow): BillRecord => ({
  discomCode: r.discom_code,
  billNo: r.bill_no,
  consumerNo: r.consumer_no,
  billMonth: r.bill_month,
  billDate: r.bill_date,
  dueDate: r.due_date,
  prevReading: r.prev_reading,
  currReading: r.curr_reading,
  units: r.units,
  billBasis: r.bill_basis,
  energyChargePaise: r.energy_charge_paise,
  fixedChargePaise: r.fixed_charge_paise,
  fuelSurchargePaise: r.fuel_surcharge_paise,
  electricityDutyPaise: r.electricity_duty_paise,
  meterRentPaise: r.meter_rent_paise,
  currentDemandPaise: r.current_demand_paise,
  arrearsPaise: r.arrears_paise,
  dpsPaise: r.dps_paise,
  rebatePaise: r.rebate_paise,
  advanceCreditPaise: r.advance_credit_paise,
  netPayablePaise: r.net_payable_paise,
  payableAfterDuePaise: r.payable_after_due_paise,
  lastPaymentPaise: r.last_payment_paise,
  lastPaymentDate: r.last_payment_date,
  status: r.status,
  changedAt: r.changed_at,
});

const EPOCH = '1970-01-01T00:00:00Z';
// Change times leave at full (µs) precision: a JS Date would cut them to ms and lose order.
const ISO_US = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const ISO_CHANGED = `${ISO_US('t.changed_at')} AS changed_at`;
const CONSUMER_FIELDS = CONNECTION_COLUMNS.filter((c) => c !== 'changed_at').map((c) => `t.${c}`).join(', ');
const BILL_FIELDS = BILL_COLUMNS.filter((c) => c !== 'changed_at').map((c) => `t.${c}`).join(', ');

export class BillingSimulator implements BillingSystem {
  readonly name = 'simulator';

  constructor(private readonly database: Database) {}

  async setDown(until: Date | null): Promise<void> {
    await this.database.withClient((c) => c.query('UPDATE billing_sim.control SET down_until = $1 WHERE id = 1', [until]));
  }

  private async assertUp(): Promise<void> {
    const { rows } = await this.database.withClient((c) =>
      c.query<{ down_until: Date | null }>('SELECT down_until FROM billing_sim.control WHERE id = 1 AND down_until > now()'),
    );
    if (rows[0]) throw new BillingSystemDown(rows[0].down_until);
  }

  async currentTime(): Promise<string> {
    await this.assertUp();
    const { rows } = await this.database.withClient((c) =>
      c.query<{ now: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`),
    );
    return rows[0]!.now;
  }

  async fetchChanges(since: string | null, cursor: ChangeCursor | null, limit: number): Promise<ChangePage> {
    await this.assertUp();
    const sinceText = since ?? EPOCH;
    const phase = cursor?.phase ?? 'connections';
    if (phase === 'connections') {
      const [d, k] = cursor ? cursor.key.split('|') : ['', ''];
      const { rows } = await this.database.withClient((c) =>
        c.query<ConsumerRow>(
          `SELECT ${CONSUMER_FIELDS}, ${ISO_CHANGED} FROM billing_sim.consumers t
            WHERE t.changed_at > $1::timestamptz
              AND (t.changed_at, t.discom_code, t.consumer_no) > ($2::timestamptz, $3, $4)
            ORDER BY t.changed_at, t.discom_code, t.consumer_no LIMIT $5`,
          [sinceText, cursor?.changedAt ?? EPOCH, d, k, limit],
        ),
      );
      const last = rows[rows.length - 1];
      const next: ChangeCursor =
        rows.length < limit || !last
          ? { phase: 'bills', changedAt: EPOCH, key: '||' }
          : { phase: 'connections', changedAt: last.changed_at, key: `${last.discom_code}|${last.consumer_no}` };
      return { connections: rows.map(toConnection), bills: [], next };
    }
    const [d, k, m] = cursor!.key.split('|');
    const { rows } = await this.database.withClient((c) =>
      c.query<BillRow>(
        `SELECT ${BILL_FIELDS}, ${ISO_CHANGED} FROM billing_sim.bills t
          WHERE t.changed_at > $1::timestamptz
            AND (t.changed_at, t.discom_code, t.consumer_no, t.bill_month) > ($2::timestamptz, $3, $4, $5::date)
          ORDER BY t.changed_at, t.discom_code, t.consumer_no, t.bill_month LIMIT $6`,
        [sinceText, cursor!.changedAt, d, k, m || '0001-01-01', limit],
      ),
    );
    const last = rows[rows.length - 1];
    const next: ChangeCursor | null =
      rows.length < limit || !last
        ? null
        : { phase: 'bills', changedAt: last.changed_at, key: `${last.discom_code}|${last.consumer_no}|${last.bill_month}` };
    return { connections: [], bills: rows.map(toBill), next };
  }

  async postPayments(postings: readonly PaymentPosting[]): Promise<PostingAck[]> {
    await this.assertUp();
    if (!postings.length) return [];
    // Refused one by one, before anything is applied: bad amounts and ids repeated within the call.
    const counts = new Map<string, number>();
    for (const p of postings) counts.set(p.postingId, (counts.get(p.postingId) ?? 0) + 1);
    const refused = new Map<string, string>();
    for (const p of postings) {
      if (counts.get(p.postingId)! > 1) refused.set(p.postingId, 'posting id repeated within one call');
      else if (p.amountPaise <= 0n) refused.set(p.postingId, 'amount must be positive');
    }
    const valid = postings.filter((p) => !refused.has(p.postingId));
    const acks = valid.length ? await this.apply(valid) : new Map<string, PostingAck>();
    return postings.map(
      (p): PostingAck => acks.get(p.postingId) ?? { postingId: p.postingId, status: 'rejected', reason: refused.get(p.postingId) ?? 'not recorded' },
    );
  }

  private async apply(postings: readonly PaymentPosting[]): Promise<Map<string, PostingAck>> {
    const input = JSON.stringify(
      postings.map((p) => ({
        posting_id: p.postingId,
        discom_code: p.discomCode,
        consumer_no: p.consumerNo,
        amount_paise: p.amountPaise.toString(),
        paid_at: p.paidAt.toISOString(),
        mode: p.mode,
        reference: p.reference,
      })),
    );
    return this.database.withClient(async (c) => {
      await c.exec('BEGIN');
      try {
        await c.query(
          `CREATE TEMP TABLE incoming ON COMMIT DROP AS
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(posting_id text, discom_code text, consumer_no text,
                  amount_paise bigint, paid_at timestamptz, mode text, reference text)`,
          [input],
        );
        // The consumers are locked first, then one time is read: every change of theirs committed
        // before it is older, every later one newer, so a balance stamped at or after it includes
        // these postings (the portal relies on that to know what its mirror shows).
        await c.query(
          `SELECT 1 FROM billing_sim.consumers k
            WHERE (k.discom_code, k.consumer_no) IN (SELECT discom_code, consumer_no FROM incoming)
            ORDER BY k.discom_code, k.consumer_no FOR UPDATE`,
        );
        await c.query(`CREATE TEMP TABLE stamp ON COMMIT DROP AS SELECT clock_timestamp() AS t`);
        // New postings for known consumers: recorded with a receipt number, then applied to balances.
        await c.query(
          `WITH fresh AS (
             INSERT INTO billing_sim.payments (posting_id, discom_code, consumer_no, amount_paise, paid_at, mode, reference, sim_receipt_no, applied_at)
             SELECT i.posting_id, i.discom_code, i.consumer_no, i.amount_paise, i.paid_at, i.mode, i.reference,
                    'SIMR' || lpad(nextval('billing_sim.receipt_seq')::text, 10, '0'), (SELECT t FROM stamp)
               FROM incoming i
               JOIN billing_sim.consumers k ON k.discom_code = i.discom_code AND k.consumer_no = i.consumer_no
             ON CONFLICT (posting_id) DO NOTHING
             RETURNING discom_code, consumer_no, amount_paise),
           per_consumer AS (
             SELECT discom_code, consumer_no, sum(amount_paise) AS paid FROM fresh GROUP BY 1, 2),
           consumers AS (
             UPDATE billing_sim.consumers k SET balance_paise = k.balance_paise - p.paid, changed_at = (SELECT t FROM stamp)
               FROM per_consumer p
              WHERE k.discom_code = p.discom_code AND k.consumer_no = p.consumer_no
             RETURNING k.discom_code, k.consumer_no, k.balance_paise)
           UPDATE billing_sim.bills b
              SET status = CASE WHEN k.balance_paise <= 0 THEN 'paid' ELSE 'part_paid' END, changed_at = (SELECT t FROM stamp)
             FROM consumers k
            WHERE b.discom_code = k.discom_code AND b.consumer_no = k.consumer_no
              AND b.bill_month = (SELECT max(bill_month) FROM billing_sim.bills x
                                   WHERE x.discom_code = k.discom_code AND x.consumer_no = k.consumer_no)`,
        );
        const { rows } = await c.query<{ posting_id: string; sim_receipt_no: string | null; applied_at: string | null; same: boolean | null; known: boolean; fresh: boolean }>(
          `SELECT i.posting_id, p.sim_receipt_no, ${ISO_US('p.applied_at')} AS applied_at,
                  (p.discom_code, p.consumer_no, p.amount_paise, p.paid_at, p.mode, p.reference)
                    IS NOT DISTINCT FROM (i.discom_code, i.consumer_no, i.amount_paise, i.paid_at, i.mode, i.reference) AS same,
                  k.consumer_no IS NOT NULL AS known,
                  p.received_at = now() AS fresh
             FROM incoming i
             LEFT JOIN billing_sim.payments p ON p.posting_id = i.posting_id
             LEFT JOIN billing_sim.consumers k ON k.discom_code = i.discom_code AND k.consumer_no = i.consumer_no`,
        );
        await c.exec('COMMIT');
        return new Map(
          rows.map((r): [string, PostingAck] => {
            const id = r.posting_id;
            if (!r.sim_receipt_no) return [id, { postingId: id, status: 'rejected', reason: r.known ? 'not recorded' : 'unknown consumer' }];
            if (!r.same) return [id, { postingId: id, status: 'rejected', reason: 'posting id already used for a different payment' }];
            return [id, { postingId: id, status: r.fresh ? 'accepted' : 'duplicate', billingReceiptNo: r.sim_receipt_no, appliedAt: r.applied_at! }];
          }),
        );
      } catch (e) {
        await c.exec('ROLLBACK');
        throw e;
      }
    });
  }
}
