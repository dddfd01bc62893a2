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
 * (connections, bills), set-based: the records are COPied into staging tables, checked there in
 * a few queries (every rule the tables' constraints enforce, and the reference data), and
 * applied with one INSERT … ON CONFLICT per table, in one transaction.
 *
 * A row replaces its stored copy only when it is not older (source changed_at) and differs in
 * content, so a replay or an overlapping sync writes nothing. By default any row problem rolls
 * everything back and is reported by row (the CSV import); with `quarantine` the bad rows are
 * left out and reported and the rest is applied (the sync).
 *
 * Used by the incremental sync, the CSV import and the demo seed.
 */

export interface RowProblem {
  file: 'connections' | 'bills';
  /** Position in the input (for CSV: the line number in the file). */
  row: number;
  problem: string;
  message: Text;
}

export interface IngestResult {
  /** Rows written (new, or changed and newer). */
  connections: number;
  bills: number;
  /** Rows received. */
  staged: { connections: number; bills: number };
  problems: RowProblem[];
  /** Problems found in all; `problems` holds at most MAX_REPORTED. */
  problemCount: number;
  /** With `quarantine`: the staged rows that were left out, with their keys. */
  rejected: { file: RowProblem['file']; row: number; key: string; problem: string; detail: string }[];
}

export interface IngestOptions {
  /** Also write the records into the embedded billing simulator (the demo seed). */
  intoSimulator?: boolean;
  /**
   * Skip the per-row checks, for input made by this program (the demo seed). A row that would
   * have failed a reference check is then left out; callers compare the counts returned.
   */
  trusted?: boolean;
  /** Check only: report the problems, then roll back. */
  dryRun?: boolean;
  /** Leave bad rows out and apply the rest (instead of applying nothing). */
  quarantine?: boolean;
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

/** `(cond, problem, detail)` triples become one scan that lists every failed rule of a row. */
function rowRules(rules: readonly (readonly [string, string, string])[]): string {
  return `unnest(ARRAY[${rules.map(([cond, problem, detail]) => `CASE WHEN ${cond} THEN '${problem}|${detail}' END`).join(',\n      ')}])`;
}

const required = (cols: string[]) => cols.map((c) => [`s.${c} IS NULL`, 'required', c] as const);
const nonNegative = (cols: string[]) => cols.map((c) => [`s.${c} < 0`, 'negative', c] as const);
const oneOf = (col: string, values: string[]) => [`s.${col} NOT IN (${values.map((v) => `'${v}'`).join(', ')})`, 'invalid_value', col] as const;

const MONEY = [
  'energy_charge_paise', 'fixed_charge_paise', 'fuel_surcharge_paise', 'electricity_duty_paise', 'meter_rent_paise',
  'current_demand_paise', 'arrears_paise', 'dps_paise', 'rebate_paise', 'advance_credit_paise', 'net_payable_paise',
  'payable_after_due_paise',
];

// Each check yields (row_no, problem, detail, key): the rules of the tables' CHECK constraints,
// then the reference data, then duplicates within the input.
const CONNECTION_CHECKS = `
  SELECT row_no, split_part(p, '|', 1) AS problem, split_part(p, '|', 2) AS detail, key FROM (
    SELECT s.row_no, s.discom_code || '|' || s.consumer_no AS key, ${rowRules([
      ...required(['discom_code', 'consumer_no', 'subdivision_code', 'name', 'address', 'category', 'supply_type', 'sanctioned_load_va', 'status', 'balance_paise', 'changed_at']),
      [`s.consumer_no !~ '^[0-9]{6,16}$'`, 'bad_format', 'consumer_no'],
      oneOf('supply_type', ['LT', 'HT']),
      oneOf('status', ['active', 'disconnected', 'closed']),
      [`s.sanctioned_load_va < 0`, 'negative', 'sanctioned_load_va'],
      [`s.registered_mobile !~ '^[6-9][0-9]{9}$'`, 'bad_format', 'registered_mobile'],
      [`s.owner_pan !~ '^[A-Z]{5}[0-9]{4}[A-Z]$'`, 'bad_format', 'owner_pan'],
    ])} AS p FROM stage_connections s) r WHERE p IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'unknown_discom', s.discom_code, s.discom_code || '|' || s.consumer_no
    FROM stage_connections s LEFT JOIN discoms d ON d.code = s.discom_code WHERE d.id IS NULL AND s.discom_code IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'unknown_subdivision', s.subdivision_code, s.discom_code || '|' || s.consumer_no
    FROM stage_connections s JOIN discoms d ON d.code = s.discom_code
    LEFT JOIN subdivisions sd ON sd.discom_id = d.id AND sd.code = s.subdivision_code
   WHERE sd.id IS NULL AND s.subdivision_code IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'unknown_category', s.category, s.discom_code || '|' || s.consumer_no
    FROM stage_connections s LEFT JOIN tariff_categories t ON t.code = s.category WHERE t.code IS NULL AND s.category IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'consumer_no_pattern', s.consumer_no, s.discom_code || '|' || s.consumer_no
    FROM stage_connections s JOIN discoms d ON d.code = s.discom_code
   WHERE s.consumer_no !~ d.consumer_no_pattern
  UNION ALL
  SELECT row_no, 'duplicate_in_file', consumer_no, discom_code || '|' || consumer_no FROM (
    SELECT row_no, discom_code, consumer_no, row_number() OVER (PARTITION BY discom_code, consumer_no ORDER BY row_no) AS n
      FROM stage_connections) x WHERE n > 1`;

const BILL_CHECKS = `
  SELECT row_no, split_part(p, '|', 1) AS problem, split_part(p, '|', 2) AS detail, key FROM (
    SELECT s.row_no, s.discom_code || '|' || s.consumer_no || '|' || s.bill_month AS key, ${rowRules([
      ...required(['discom_code', 'bill_no', 'consumer_no', 'bill_month', 'bill_date', 'due_date', 'units', 'bill_basis', ...MONEY, 'status', 'changed_at']),
      [`extract(day FROM s.bill_month) <> 1`, 'not_first_of_month', 'bill_month'],
      [`s.due_date < s.bill_date`, 'due_before_bill_date', 'due_date'],
      [`s.units < 0`, 'negative', 'units'],
      oneOf('bill_basis', ['actual', 'average', 'provisional']),
      oneOf('status', ['unpaid', 'part_paid', 'paid']),
      ...nonNegative(MONEY),
      [`s.payable_after_due_paise < s.net_payable_paise`, 'after_due_below_net', 'payable_after_due_paise'],
      [`s.current_demand_paise <> s.energy_charge_paise + s.fixed_charge_paise + s.fuel_surcharge_paise + s.electricity_duty_paise + s.meter_rent_paise`, 'demand_not_sum', 'current_demand_paise'],
      [`s.last_payment_paise <= 0`, 'not_positive', 'last_payment_paise'],
    ])} AS p FROM stage_bills s) r WHERE p IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'unknown_discom', s.discom_code, s.discom_code || '|' || s.consumer_no || '|' || s.bill_month
    FROM stage_bills s LEFT JOIN discoms d ON d.code = s.discom_code WHERE d.id IS NULL AND s.discom_code IS NOT NULL
  UNION ALL
  SELECT s.row_no, 'unknown_connection', s.consumer_no, s.discom_code || '|' || s.consumer_no || '|' || s.bill_month
    FROM stage_bills s JOIN discoms d ON d.code = s.discom_code
   WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.discom_id = d.id AND c.consumer_no = s.consumer_no)
     AND NOT EXISTS (SELECT 1 FROM stage_connections sc WHERE sc.discom_code = s.discom_code AND sc.consumer_no = s.consumer_no)
  UNION ALL
  SELECT row_no, 'duplicate_bill_month', consumer_no, discom_code || '|' || consumer_no || '|' || bill_month FROM (
    SELECT row_no, discom_code, consumer_no, bill_month, row_number() OVER (PARTITION BY discom_code, consumer_no, bill_month ORDER BY row_no) AS n
      FROM stage_bills) x WHERE n > 1`;

const CONNECTION_CONTENT = [
  'subdivision_id', 'name', 'address', 'category', 'supply_type', 'sanctioned_load_va', 'meter_no', 'registered_mobile',
  'owner_pan', 'owner_dept_code', 'status',
];

// The billing system's balance less what the portal has settled that this balance does not
// include yet (postings not applied, or applied after the balance was stamped).
const IN_FLIGHT = 'in_flight_of(connections.id, EXCLUDED.source_updated_at)';

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
      ${CONNECTION_CONTENT.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
      balance_paise = EXCLUDED.balance_paise - ${IN_FLIGHT}, in_flight_paise = ${IN_FLIGHT},
      source_updated_at = EXCLUDED.source_updated_at, synced_at = EXCLUDED.synced_at
    WHERE connections.source_updated_at <= EXCLUDED.source_updated_at
      AND ((${CONNECTION_CONTENT.map((c) => `connections.${c}`).join(', ')})
            IS DISTINCT FROM (${CONNECTION_CONTENT.map((c) => `EXCLUDED.${c}`).join(', ')})
           OR connections.balance_paise + connections.in_flight_paise <> EXCLUDED.balance_paise
           OR connections.in_flight_paise <> ${IN_FLIGHT})`;

const BILL_CONTENT = [
  'bill_no', 'bill_date', 'due_date', 'prev_reading', 'curr_reading', 'units', 'bill_basis', 'energy_charge_paise',
  'fixed_charge_paise', 'fuel_surcharge_paise', 'electricity_duty_paise', 'meter_rent_paise', 'current_demand_paise',
  'arrears_paise', 'dps_paise', 'rebate_paise', 'advance_credit_paise', 'net_payable_paise', 'payable_after_due_paise',
  'last_payment_paise', 'last_payment_date', 'status',
];

const APPLY_BILLS = `
  INSERT INTO bills (discom_id, connection_id, bill_month, ${BILL_CONTENT.join(', ')}, source_updated_at, synced_at)
  SELECT d.id, c.id, s.bill_month, ${BILL_CONTENT.map((col) => `s.${col}`).join(', ')}, s.changed_at, now()
    FROM stage_bills s
    JOIN discoms d ON d.code = s.discom_code
    JOIN connections c ON c.discom_id = d.id AND c.consumer_no = s.consumer_no
   ORDER BY s.row_no
  ON CONFLICT (connection_id, bill_month) DO UPDATE SET
      ${BILL_CONTENT.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
      source_updated_at = EXCLUDED.source_updated_at, synced_at = EXCLUDED.synced_at
    WHERE bills.source_updated_at <= EXCLUDED.source_updated_at
      AND (${BILL_CONTENT.map((c) => `bills.${c}`).join(', ')})
          IS DISTINCT FROM (${BILL_CONTENT.map((c) => `EXCLUDED.${c}`).join(', ')})`;

const INTO_SIMULATOR = [
  `INSERT INTO billing_sim.consumers (${CONNECTION_COLUMNS.join(', ')})
   SELECT ${CONNECTION_COLUMNS.join(', ')} FROM stage_connections`,
  `INSERT INTO billing_sim.bills (${BILL_COLUMNS.join(', ')})
   SELECT ${BILL_COLUMNS.join(', ')} FROM stage_bills`,
];

const column = (c: string) => c.replace(/_paise$/, '');

const problemText: Record<string, (detail: string) => Text> = {
  required: (d) => ({ en: `${column(d)}: is required`, hi: `${column(d)}: आवश्यक है` }),
  bad_format: (d) => ({ en: `${column(d)}: is not in the expected format`, hi: `${column(d)}: अपेक्षित प्रारूप में नहीं है` }),
  invalid_value: (d) => ({ en: `${column(d)}: is not one of the allowed values`, hi: `${column(d)}: अनुमत मानों में से नहीं है` }),
  negative: (d) => ({ en: `${column(d)}: must not be negative`, hi: `${column(d)}: ऋणात्मक नहीं हो सकता` }),
  not_positive: (d) => ({ en: `${column(d)}: must be more than zero`, hi: `${column(d)}: शून्य से अधिक होना चाहिए` }),
  not_first_of_month: () => ({ en: 'bill_month: must be the first day of a month', hi: 'bill_month: माह का पहला दिन होना चाहिए' }),
  due_before_bill_date: () => ({ en: 'due_date: is before the bill date', hi: 'due_date: बिल तिथि से पहले है' }),
  after_due_below_net: () => ({ en: 'payable_after_due: is less than the net payable by the due date', hi: 'payable_after_due: नियत तिथि तक देय राशि से कम है' }),
  demand_not_sum: () => ({ en: 'current_demand: does not equal the sum of the charges', hi: 'current_demand: शुल्कों के योग के बराबर नहीं है' }),
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
    const staged = {
      connections: await c.copyFromCsv('stage_connections', ['row_no', ...CONNECTION_COLUMNS], connectionsCsv),
      bills: await c.copyFromCsv('stage_bills', ['row_no', ...BILL_COLUMNS], billsCsv),
    };
    const result = await applyStaged(c, staged, opts);
    const keep = !opts.dryRun && (result.problemCount === 0 || opts.quarantine);
    await c.exec(keep ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (e) {
    await c.exec('ROLLBACK');
    throw e;
  }
}

async function applyStaged(c: RawClient, staged: IngestResult['staged'], opts: IngestOptions): Promise<IngestResult> {
  const problems: RowProblem[] = [];
  const rejected: IngestResult['rejected'] = [];
  let problemCount = 0;
  for (const [file, checks, stage] of opts.trusted
    ? []
    : ([
        ['connections', CONNECTION_CHECKS, 'stage_connections'],
        ['bills', BILL_CHECKS, 'stage_bills'],
      ] as const)) {
    await c.exec(`CREATE TEMP TABLE ${stage}_problems ON COMMIT DROP AS ${checks}`);
    const { rows } = await c.query<{ row_no: number; problem: string; detail: string | null; key: string | null; total: bigint }>(
      `SELECT row_no, problem, detail, key, count(*) OVER () AS total FROM ${stage}_problems
        ORDER BY row_no, problem LIMIT ${opts.quarantine ? 'ALL' : MAX_REPORTED}`,
    );
    problemCount += Number(rows[0]?.total ?? 0);
    for (const r of rows) {
      if (problems.length < MAX_REPORTED) {
        problems.push({ file, row: r.row_no, problem: r.problem, message: problemText[r.problem]!(r.detail ?? '') });
      }
      if (opts.quarantine) rejected.push({ file, row: r.row_no, key: r.key ?? '', problem: r.problem, detail: r.detail ?? '' });
    }
    if (opts.quarantine && rows.length) {
      await c.exec(`DELETE FROM ${stage} WHERE row_no IN (SELECT row_no FROM ${stage}_problems)`);
    }
  }
  const result = { connections: 0, bills: 0, staged, problems, problemCount, rejected };
  if ((problemCount && !opts.quarantine) || opts.dryRun) return result;
  result.connections = (await c.query(APPLY_CONNECTIONS)).rowCount;
  result.bills = (await c.query(APPLY_BILLS)).rowCount;
  if (opts.intoSimulator) for (const stmt of INTO_SIMULATOR) await c.query(stmt);
  return result;
}
