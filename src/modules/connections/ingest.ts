import {
  BILL_COLUMNS,
  CONNECTION_COLUMNS,
  billValues,
  connectionValues,
  type BillRecord,
  type ConnectionRecord,
} from '../../adapters/billing-system/types.ts';
import { csvLine, type CsvValue } from '../../platform/csv.ts';
import type { RawClient } from '../../platform/db/database.ts';
import type { Text } from '../../platform/errors.ts';

/**
 * Loads consumer master and bills from the billing system into the portal's mirror
 * (connections, bills), set-based: the records are COPied into staging tables, checked there
 * against the reference data in a few queries, and applied with one INSERT … ON CONFLICT per
 * table, all in one transaction. Any row problem rolls everything back and is reported by row.
 *
 * Used by the incremental sync, the CSV import and the demo seed. A newer copy of a row
 * (source changed_at) wins; replaying the same records changes nothing.
 */

export interface RowProblem {
  file: 'connections' | 'bills';
  /** 1-based position in the input (for CSV: the data row, header excluded). */
  row: number;
  problem: string;
  message: Text;
}

export interface IngestResult {
  connections: number;
  bills: number;
  problems: RowProblem[];
  /** Problems found in all; `problems` holds at most MAX_REPORTED. */
  problemCount: number;
}

export interface IngestOptions {
  /** Also write the records into the embedded billing simulator (the demo seed). */
  intoSimulator?: boolean;
  /**
   * Skip the per-row reference checks, for input made by this program (the demo seed). A row
   * that would have failed a check is then left out; callers compare the counts returned.
   */
  trusted?: boolean;
  /** Check only: report the problems, then roll back. */
  dryRun?: boolean;
}

type CsvSource = Iterable<string> | AsyncIterable<string>;

const MAX_REPORTED = 1000;

const STAGE_CONNECTIONS = `CREATE TEMP TABLE stage_connections (
  row_no integer NOT NULL, discom_code text, consumer_no text, subdivision_code text, name text,
  address text, category text, supply_type text, sanctioned_load_va integer, meter_no text,
  registered_mobile text, owner_pan text, owner_dept_code text, status text, balance_paise bigint,
  changed_at timestamptz) ON COMMIT DROP`;

const STAGE_BILLS = `CREATE TEMP TABLE stage_bills (
  row_no integer NOT NULL, discom_code text, bill_no text, consumer_no text, bill_month date,
  bill_date date, due_date date, prev_reading integer, curr_reading integer, units integer,
  bill_basis text, energy_charge_paise bigint, fixed_charge_paise bigint, fuel_surcharge_paise bigint,
  electricity_duty_paise bigint, meter_rent_paise bigint, current_demand_paise bigint,
  arrears_paise bigint, dps_paise bigint, rebate_paise bigint, advance_credit_paise bigint,
  net_payable_paise bigint, payable_after_due_paise bigint, last_payment_paise bigint,
  last_payment_date date, status text, changed_at timestamptz) ON COMMIT DROP`;

// Each check yields (row_no, problem, detail) for rows the apply step would reject or misfile.
const CONNECTION_CHECKS = `
  SELECT s.row_no, 'unknown_discom' AS problem, s.discom_code AS detail
    FROM stage_connections s LEFT JOIN discoms d ON d.code = s.discom_code WHERE d.id IS NULL
  UNION ALL
  SELECT s.row_no, 'unknown_subdivision', s.subdivision_code
    FROM stage_connections s JOIN discoms d ON d.code = s.discom_code
    LEFT JOIN subdivisions sd ON sd.discom_id = d.id AND sd.code = s.subdivision_code
   WHERE sd.id IS NULL
  UNION ALL
  SELECT s.row_no, 'unknown_category', s.category
    FROM stage_connections s LEFT JOIN tariff_categories t ON t.code = s.category WHERE t.code IS NULL
  UNION ALL
  SELECT s.row_no, 'consumer_no_pattern', s.consumer_no
    FROM stage_connections s JOIN discoms d ON d.code = s.discom_code
   WHERE s.consumer_no !~ d.consumer_no_pattern
  UNION ALL
  SELECT row_no, 'duplicate_in_file', consumer_no FROM (
    SELECT row_no, consumer_no, row_number() OVER (PARTITION BY discom_code, consumer_no ORDER BY row_no) AS n
      FROM stage_connections) x WHERE n > 1`;

const BILL_CHECKS = `
  SELECT s.row_no, 'unknown_discom' AS problem, s.discom_code AS detail
    FROM stage_bills s LEFT JOIN discoms d ON d.code = s.discom_code WHERE d.id IS NULL
  UNION ALL
  SELECT s.row_no, 'unknown_connection', s.consumer_no
    FROM stage_bills s JOIN discoms d ON d.code = s.discom_code
   WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.discom_id = d.id AND c.consumer_no = s.consumer_no)
     AND NOT EXISTS (SELECT 1 FROM stage_connections sc WHERE sc.discom_code = s.discom_code AND sc.consumer_no = s.consumer_no)
  UNION ALL
  SELECT row_no, 'duplicate_bill_month', consumer_no FROM (
    SELECT row_no, consumer_no, row_number() OVER (PARTITION BY discom_code, consumer_no, bill_month ORDER BY row_no) AS n
      FROM stage_bills) x WHERE n > 1`;

const APPLY_CONNECTIONS = `
  INSERT INTO connections (discom_id, consumer_no, subdivision_id, name, address, category, supply_type,
      sanctioned_load_va, meter_no, registered_mobile, owner_pan, owner_dept_code, status, balance_paise,
      source_updated_at, synced_at)
  SELECT d.id, s.consumer_no, sd.id, s.name, s.address, s.category, s.supply_type, s.sanctioned_load_va,
         s.meter_no, s.registered_mobile, s.owner_pan, s.owner_dept_code, s.status, s.balance_paise,
         s.changed_at, now()
    FROM stage_connections s
    JOIN discoms d ON d.code = s.discom_code
    JOIN subdivisions sd ON sd.discom_id = d.id AND sd.code = s.subdivision_code
   ORDER BY s.row_no
  ON CONFLICT (discom_id, consumer_no) DO UPDATE SET
      subdivision_id = EXCLUDED.subdivision_id, name = EXCLUDED.name, address = EXCLUDED.address,
      category = EXCLUDED.category, supply_type = EXCLUDED.supply_type,
      sanctioned_load_va = EXCLUDED.sanctioned_load_va, meter_no = EXCLUDED.meter_no,
      registered_mobile = EXCLUDED.registered_mobile, owner_pan = EXCLUDED.owner_pan,
      owner_dept_code = EXCLUDED.owner_dept_code, status = EXCLUDED.status,
      balance_paise = EXCLUDED.balance_paise, source_updated_at = EXCLUDED.source_updated_at,
      synced_at = EXCLUDED.synced_at
    WHERE connections.source_updated_at <= EXCLUDED.source_updated_at`;

const APPLY_BILLS = `
  INSERT INTO bills (discom_id, connection_id, bill_no, bill_month, bill_date, due_date, prev_reading,
      curr_reading, units, bill_basis, energy_charge_paise, fixed_charge_paise, fuel_surcharge_paise,
      electricity_duty_paise, meter_rent_paise, current_demand_paise, arrears_paise, dps_paise, rebate_paise,
      advance_credit_paise, net_payable_paise, payable_after_due_paise, last_payment_paise, last_payment_date,
      status, source_updated_at, synced_at)
  SELECT d.id, c.id, s.bill_no, s.bill_month, s.bill_date, s.due_date, s.prev_reading, s.curr_reading,
         s.units, s.bill_basis, s.energy_charge_paise, s.fixed_charge_paise, s.fuel_surcharge_paise,
         s.electricity_duty_paise, s.meter_rent_paise, s.current_demand_paise, s.arrears_paise, s.dps_paise,
         s.rebate_paise, s.advance_credit_paise, s.net_payable_paise, s.payable_after_due_paise,
         s.last_payment_paise, s.last_payment_date, s.status, s.changed_at, now()
    FROM stage_bills s
    JOIN discoms d ON d.code = s.discom_code
    JOIN connections c ON c.discom_id = d.id AND c.consumer_no = s.consumer_no
   ORDER BY s.row_no
  ON CONFLICT (connection_id, bill_month) DO UPDATE SET
      bill_no = EXCLUDED.bill_no, bill_date = EXCLUDED.bill_date, due_date = EXCLUDED.due_date, prev_reading = EXCLUDED.prev_reading,
      curr_reading = EXCLUDED.curr_reading, units = EXCLUDED.units, bill_basis = EXCLUDED.bill_basis,
      energy_charge_paise = EXCLUDED.energy_charge_paise, fixed_charge_paise = EXCLUDED.fixed_charge_paise,
      fuel_surcharge_paise = EXCLUDED.fuel_surcharge_paise, electricity_duty_paise = EXCLUDED.electricity_duty_paise,
      meter_rent_paise = EXCLUDED.meter_rent_paise, current_demand_paise = EXCLUDED.current_demand_paise,
      arrears_paise = EXCLUDED.arrears_paise, dps_paise = EXCLUDED.dps_paise, rebate_paise = EXCLUDED.rebate_paise,
      advance_credit_paise = EXCLUDED.advance_credit_paise, net_payable_paise = EXCLUDED.net_payable_paise,
      payable_after_due_paise = EXCLUDED.payable_after_due_paise,
      last_payment_paise = EXCLUDED.last_payment_paise, last_payment_date = EXCLUDED.last_payment_date,
      status = EXCLUDED.status, source_updated_at = EXCLUDED.source_updated_at, synced_at = EXCLUDED.synced_at
    WHERE bills.source_updated_at <= EXCLUDED.source_updated_at`;

const INTO_SIMULATOR = [
  `INSERT INTO billing_sim.consumers (${CONNECTION_COLUMNS.join(', ')})
   SELECT ${CONNECTION_COLUMNS.join(', ')} FROM stage_connections`,
  `INSERT INTO billing_sim.bills (${BILL_COLUMNS.join(', ')})
   SELECT ${BILL_COLUMNS.join(', ')} FROM stage_bills`,
];

const problemText: Record<string, (detail: string) => Text> = {
  unknown_discom: (d) => ({ en: `Unknown discom code "${d}".`, hi: `अज्ञात डिस्कॉम कोड "${d}"।` }),
  unknown_subdivision: (d) => ({ en: `Unknown subdivision code "${d}" for this discom.`, hi: `इस डिस्कॉम में उप-प्रभाग कोड "${d}" नहीं है।` }),
  unknown_category: (d) => ({ en: `Unknown tariff category "${d}".`, hi: `अज्ञात टैरिफ श्रेणी "${d}"।` }),
  consumer_no_pattern: (d) => ({ en: `Consumer number "${d}" does not fit this discom's format.`, hi: `उपभोक्ता संख्या "${d}" इस डिस्कॉम के प्रारूप में नहीं है।` }),
  duplicate_in_file: (d) => ({ en: `"${d}" appears more than once in the file.`, hi: `"${d}" फ़ाइल में एक से अधिक बार है।` }),
  duplicate_bill_month: (d) => ({ en: `Consumer ${d} has two bills for the same month in the file.`, hi: `फ़ाइल में उपभोक्ता ${d} के एक ही माह के दो बिल हैं।` }),
  unknown_connection: (d) => ({ en: `Consumer ${d} is neither in the master nor in the file.`, hi: `उपभोक्ता ${d} न मास्टर में है न फ़ाइल में।` }),
};

/** Staging CSV: each line is the row number, then the columns in CONNECTION_COLUMNS / BILL_COLUMNS order. */
export function* stagingCsv(rows: Iterable<readonly CsvValue[]>, firstRow = 1): Generator<string> {
  let buf = '';
  let row = firstRow - 1;
  for (const values of rows) {
    buf += csvLine([++row, ...values]);
    if (buf.length > 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

function* valuesOf<T>(records: Iterable<T>, toValues: (r: T) => unknown[]): Generator<CsvValue[]> {
  for (const r of records) yield toValues(r) as CsvValue[];
}

export function ingestBillingRecords(
  c: RawClient,
  connections: Iterable<ConnectionRecord>,
  bills: Iterable<BillRecord>,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  return ingestBillingCsv(c, stagingCsv(valuesOf(connections, connectionValues)), stagingCsv(valuesOf(bills, billValues)), opts);
}

/** As ingestBillingRecords, from staging CSV (see stagingCsv). */
export async function ingestBillingCsv(
  c: RawClient,
  connectionsCsv: CsvSource,
  billsCsv: CsvSource,
  opts: IngestOptions = {},
): Promise<IngestResult> {
  await c.exec('BEGIN');
  try {
    await c.exec(`${STAGE_CONNECTIONS}; ${STAGE_BILLS}`);
    await c.copyFromCsv('stage_connections', ['row_no', ...CONNECTION_COLUMNS], connectionsCsv);
    await c.copyFromCsv('stage_bills', ['row_no', ...BILL_COLUMNS], billsCsv);
    const result = await applyStaged(c, opts);
    await c.exec(result.problemCount || opts.dryRun ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (e) {
    await c.exec('ROLLBACK');
    throw e;
  }
}

async function applyStaged(c: RawClient, opts: IngestOptions): Promise<IngestResult> {
  const problems: RowProblem[] = [];
  let problemCount = 0;
  for (const [file, checks] of opts.trusted ? [] : [
    ['connections', CONNECTION_CHECKS],
    ['bills', BILL_CHECKS],
  ] as const) {
    const { rows } = await c.query<{ row_no: number; problem: string; detail: string | null; total: bigint }>(
      `SELECT row_no, problem, detail, count(*) OVER () AS total FROM (${checks}) p ORDER BY row_no, problem LIMIT ${MAX_REPORTED}`,
    );
    problemCount += Number(rows[0]?.total ?? 0);
    for (const r of rows) {
      if (problems.length >= MAX_REPORTED) break;
      problems.push({ file, row: r.row_no, problem: r.problem, message: problemText[r.problem]!(r.detail ?? '') });
    }
  }
  if (problemCount || opts.dryRun) return { connections: 0, bills: 0, problems, problemCount };
  const conn = await c.query(APPLY_CONNECTIONS);
  const bill = await c.query(APPLY_BILLS);
  if (opts.intoSimulator) for (const stmt of INTO_SIMULATOR) await c.query(stmt);
  return { connections: conn.rowCount, bills: bill.rowCount, problems, problemCount: 0 };
}
