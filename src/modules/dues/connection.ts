import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { BillView, ConnectionView } from '../../shared/dues.ts';
import { officeInScope } from '../../platform/office-scope.ts';
import { OPEN_BATCH } from '../payments/rules.ts';
import { openBatchMark } from './listing.ts';
import { anomalyColumns, duesQuery, flagList, NO_FILTER, type Scope, type Thresholds } from './query.ts';

/**
 * One connection as its holder sees it: the connection, the latest bill in full, twelve months
 * of bills with their anomaly flags (the same rules as the dashboard, each bill against the six
 * before it), and the payments the billing system recorded.
 */

export type { BillView, ConnectionView } from '../../shared/dues.ts';

/** The connection if the scope holds it; 404 otherwise (another organisation's looks the same as none). */
async function held(db: Kysely<DB>, scope: Scope, connectionId: bigint, today: string, t: Thresholds) {
  const row = await duesQuery(db, scope, NO_FILTER, today, t).select(['d.connection_id', 'd.office_id']).where('d.connection_id', '=', connectionId).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND');
  return row;
}

/** Bills of a connection, newest first, each with its flags against the six bills before it. */
export async function billsWithFlags(db: Kysely<DB>, connectionId: bigint, months: number, t: Thresholds) {
  const d = sql`(
    SELECT b.*, b.id AS bill_id,
           CASE WHEN count(*) OVER w >= 3 THEN avg(b.units) OVER w END AS avg_units,
           CASE WHEN count(*) OVER w >= 3 THEN avg(b.current_demand_paise) OVER w END AS avg_demand_paise,
           coalesce(b.prev_reading <> (SELECT p.curr_reading FROM bills p
                                        WHERE p.connection_id = b.connection_id AND p.bill_month < b.bill_month AND p.curr_reading IS NOT NULL
                                        ORDER BY p.bill_month DESC LIMIT 1), false) AS reading_break
      FROM bills b WHERE b.connection_id = ${connectionId}
    WINDOW w AS (ORDER BY b.bill_month ROWS BETWEEN 6 PRECEDING AND 1 PRECEDING))`;
  const { rows } = await sql<{
    id: bigint; bill_no: string; bill_month: string; bill_date: string; due_date: string; prev_reading: number | null; curr_reading: number | null;
    units: number; bill_basis: string; energy_charge_paise: bigint; fixed_charge_paise: bigint; fuel_surcharge_paise: bigint;
    electricity_duty_paise: bigint; meter_rent_paise: bigint; current_demand_paise: bigint; arrears_paise: bigint; dps_paise: bigint;
    rebate_paise: bigint; advance_credit_paise: bigint; net_payable_paise: bigint; payable_after_due_paise: bigint;
    last_payment_paise: bigint | null; last_payment_date: string | null; status: string; avg_units: string | null;
    f_deviation: boolean; f_zero: boolean; f_estimated: boolean; f_reading_break: boolean;
  }>`SELECT d.*, ${sql.join(anomalyColumns(t).map((c) => sql`${c}`))} FROM ${d} d ORDER BY d.bill_month DESC LIMIT ${months}`.execute(db);
  return rows.map(
    (b): BillView => ({
      billId: b.id.toString(), billNo: b.bill_no, billMonth: b.bill_month, billDate: b.bill_date, dueDate: b.due_date,
      prevReading: b.prev_reading, currReading: b.curr_reading, units: b.units, billBasis: b.bill_basis,
      energyChargePaise: b.energy_charge_paise.toString(), fixedChargePaise: b.fixed_charge_paise.toString(),
      fuelSurchargePaise: b.fuel_surcharge_paise.toString(), electricityDutyPaise: b.electricity_duty_paise.toString(),
      meterRentPaise: b.meter_rent_paise.toString(), currentDemandPaise: b.current_demand_paise.toString(),
      arrearsPaise: b.arrears_paise.toString(), dpsPaise: b.dps_paise.toString(), rebatePaise: b.rebate_paise.toString(),
      advanceCreditPaise: b.advance_credit_paise.toString(), netPayablePaise: b.net_payable_paise.toString(),
      payableAfterDuePaise: b.payable_after_due_paise.toString(), lastPaymentPaise: b.last_payment_paise?.toString() ?? null,
      lastPaymentDate: b.last_payment_date, status: b.status, flags: flagList(b), avgUnits: b.avg_units === null ? null : Math.round(Number(b.avg_units)),
    }),
  );
}

export async function connectionView(db: Kysely<DB>, scope: Scope, connectionId: bigint, today: string, t: Thresholds, months = 12): Promise<ConnectionView> {
  await held(db, scope, connectionId, today, t);
  const c = await db
    .selectFrom('connections as c')
    .innerJoin('discoms as dc', 'dc.id', 'c.discom_id')
    .innerJoin('subdivisions as sd', 'sd.id', 'c.subdivision_id')
    .innerJoin('divisions as dv', 'dv.id', 'sd.division_id')
    .innerJoin('tariff_categories as tc', 'tc.code', 'c.category')
    .innerJoin('connection_dues as d', 'd.connection_id', 'c.id')
    .leftJoin('offices as of', 'of.id', 'd.office_id')
    .select([
      'c.id', 'dc.code as discom_code', 'dc.name as discom_name', 'dc.name_hi as discom_name_hi', 'c.consumer_no', 'c.name', 'c.address',
      'tc.code as category', 'tc.name as category_name', 'tc.name_hi as category_name_hi', 'c.supply_type', 'c.sanctioned_load_va', 'c.meter_no',
      'c.status', 'dv.name as division', 'dv.name_hi as division_hi', 'sd.name as subdivision', 'sd.name_hi as subdivision_hi',
      'of.id as office_id', 'of.code as office_code', 'of.name as office_name', 'c.balance_paise', 'c.synced_at',
    ])
    .where('c.id', '=', connectionId)
    .executeTakeFirstOrThrow();
  const bills = await billsWithFlags(db, connectionId, months, t);
  const open = await db
    .selectFrom('payment_batch_items as bi')
    .innerJoin('payment_batches as ob', 'ob.id', 'bi.batch_id')
    .select(['ob.id as ob_id', 'ob.reference as ob_reference', 'ob.status as ob_status', sql<boolean>`ob.org_id = ${scope.orgId} AND ${officeInScope(scope, sql.ref('ob.office_id'))}`.as('ob_visible')])
    .where('bi.connection_id', '=', connectionId)
    .where('bi.open', '=', true)
    .where('ob.status', 'in', OPEN_BATCH)
    .executeTakeFirst();
  // Each bill carries the last payment before it: together, the payments the billing system has.
  const seen = new Set<string>();
  const payments: ConnectionView['payments'] = [];
  for (const b of [...bills].reverse()) {
    if (!b.lastPaymentDate || !b.lastPaymentPaise) continue;
    const key = `${b.lastPaymentDate}|${b.lastPaymentPaise}`;
    if (seen.has(key)) continue;
    seen.add(key);
    payments.push({ date: b.lastPaymentDate, amountPaise: b.lastPaymentPaise, stage: 'posted', source: 'billing_system' });
  }
  return {
    connectionId: c.id.toString(),
    discom: { code: c.discom_code, name: c.discom_name, nameHi: c.discom_name_hi },
    consumerNo: c.consumer_no, name: c.name, address: c.address,
    category: { code: c.category, name: c.category_name, nameHi: c.category_name_hi },
    supplyType: c.supply_type, sanctionedLoadVa: c.sanctioned_load_va, meterNo: c.meter_no, status: c.status,
    division: { name: c.division, nameHi: c.division_hi }, subdivision: { name: c.subdivision, nameHi: c.subdivision_hi },
    office: c.office_id ? { id: c.office_id.toString(), code: c.office_code!, name: c.office_name! } : null,
    balancePaise: c.balance_paise.toString(), syncedAt: c.synced_at.toISOString(),
    bills,
    openBatch: open ? openBatchMark(open) : null,
    payments: payments.reverse(),
  };
}
