import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import {
  billValues,
  connectionValues,
  type BillRecord,
  type ConnectionRecord,
} from '../../adapters/billing-system/types.ts';
import { csvLine, type CsvValue } from '../../platform/csv.ts';
import type { Database } from '../../platform/db/database.ts';
import type { Text } from '../../platform/errors.ts';
import { parseRupees } from '../../platform/money.ts';
import { ingestBillingCsv, type IngestResult, type RowProblem } from './ingest.ts';

/**
 * The file variant of the billing system: consumer master and bills as CSV (UTF-8, header row,
 * amounts in rupees, dates YYYY-MM-DD or DD-MM-YYYY). Every row is checked, first for format
 * here, then against the reference data in the database; if any row is wrong nothing is
 * imported and every problem is reported with its line number. docs/import-format.md lists
 * the columns.
 */

export const CONNECTION_FILE_COLUMNS = [
  'discom_code', 'consumer_no', 'subdivision_code', 'name', 'address', 'category', 'supply_type',
  'sanctioned_load_kw', 'meter_no', 'registered_mobile', 'owner_pan', 'owner_dept_code', 'status', 'balance',
] as const;

const MONEY = [
  'energy_charge', 'fixed_charge', 'fuel_surcharge', 'electricity_duty', 'meter_rent', 'current_demand',
  'arrears', 'dps', 'rebate', 'advance_credit', 'net_payable', 'payable_after_due',
] as const;

export const BILL_FILE_COLUMNS = [
  'discom_code', 'bill_no', 'consumer_no', 'bill_month', 'bill_date', 'due_date', 'prev_reading', 'curr_reading',
  'units', 'bill_basis', ...MONEY, 'last_payment', 'last_payment_date', 'status',
] as const;

const OPTIONAL = new Set<string>([
  'meter_no', 'registered_mobile', 'owner_pan', 'owner_dept_code', 'prev_reading', 'curr_reading',
  'last_payment', 'last_payment_date',
]);

type Row = Record<string, string>;

class RowErrors {
  readonly list: RowProblem[] = [];
  constructor(
    private readonly file: RowProblem['file'],
    private readonly line: number,
  ) {}
  add(column: string, problem: string, message: Text): void {
    this.list.push({ file: this.file, row: this.line, problem, message: { en: `${column}: ${message.en}`, hi: `${column}: ${message.hi}` } });
  }
}

const text = {
  required: { en: 'is required', hi: 'आवश्यक है' },
  digits: { en: 'must be digits only (6 to 16)', hi: 'केवल अंक (6 से 16) होने चाहिए' },
  amount: { en: 'must be an amount in rupees, such as 1234.50', hi: 'रुपये में राशि होनी चाहिए, जैसे 1234.50' },
  integer: { en: 'must be a whole number of 0 or more', hi: '0 या अधिक की पूर्ण संख्या होनी चाहिए' },
  date: { en: 'must be a date, YYYY-MM-DD or DD-MM-YYYY', hi: 'तिथि होनी चाहिए, YYYY-MM-DD या DD-MM-YYYY' },
  month: { en: 'must be the first day of a month', hi: 'माह का पहला दिन होना चाहिए' },
  oneOf: (vals: readonly string[]) => ({ en: `must be one of ${vals.join(', ')}`, hi: `इनमें से एक होना चाहिए: ${vals.join(', ')}` }),
  mobile: { en: 'must be a 10-digit mobile number starting with 6 to 9', hi: '6 से 9 से शुरू होने वाला 10 अंकों का मोबाइल नंबर होना चाहिए' },
  pan: { en: 'must be a PAN such as ABCDE1234F', hi: 'PAN होना चाहिए, जैसे ABCDE1234F' },
  load: { en: 'must be a load in kW, such as 2.5', hi: 'kW में भार होना चाहिए, जैसे 2.5' },
  sum: { en: 'does not equal the sum of the charges', hi: 'शुल्कों के योग के बराबर नहीं है' },
  missingColumns: (cols: string[]) => ({ en: `missing columns: ${cols.join(', ')}`, hi: `स्तंभ नहीं हैं: ${cols.join(', ')}` }),
};

function parseDate(v: string): string | null {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  let y: number, mo: number, d: number;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else {
    m = /^(\d{2})[-/](\d{2})[-/](\d{4})$/.exec(v);
    if (!m) return null;
    [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

function field(row: Row, errs: RowErrors, col: string): string | null {
  const v = (row[col] ?? '').trim();
  if (!v) {
    if (!OPTIONAL.has(col)) errs.add(col, 'required', text.required);
    return null;
  }
  return v;
}

function money(row: Row, errs: RowErrors, col: string): bigint | null {
  const v = field(row, errs, col);
  if (v === null) return null;
  const p = parseRupees(v);
  if (p === null) errs.add(col, 'amount', text.amount);
  return p;
}

function integer(row: Row, errs: RowErrors, col: string): number | null {
  const v = field(row, errs, col);
  if (v === null) return null;
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2_147_483_647) {
    errs.add(col, 'integer', text.integer);
    return null;
  }
  return Number(v);
}

function date(row: Row, errs: RowErrors, col: string): string | null {
  const v = field(row, errs, col);
  if (v === null) return null;
  const d = parseDate(v);
  if (!d) errs.add(col, 'date', text.date);
  return d;
}

function oneOf<T extends string>(row: Row, errs: RowErrors, col: string, values: readonly T[]): T | null {
  const v = field(row, errs, col);
  if (v === null) return null;
  if (!(values as readonly string[]).includes(v)) {
    errs.add(col, 'one_of', text.oneOf(values));
    return null;
  }
  return v as T;
}

function parseConnection(row: Row, errs: RowErrors, now: string): ConnectionRecord | null {
  const consumerNo = field(row, errs, 'consumer_no');
  if (consumerNo !== null && !/^\d{6,16}$/.test(consumerNo)) errs.add('consumer_no', 'digits', text.digits);
  const loadText = field(row, errs, 'sanctioned_load_kw');
  let loadVa: number | null = null;
  if (loadText !== null) {
    if (/^\d{1,6}(\.\d{1,3})?$/.test(loadText)) loadVa = Math.round(Number(loadText) * 1000);
    else errs.add('sanctioned_load_kw', 'load', text.load);
  }
  const mobile = field(row, errs, 'registered_mobile');
  if (mobile !== null && !/^[6-9]\d{9}$/.test(mobile)) errs.add('registered_mobile', 'mobile', text.mobile);
  const pan = field(row, errs, 'owner_pan')?.toUpperCase() ?? null;
  if (pan !== null && !/^[A-Z]{5}\d{4}[A-Z]$/.test(pan)) errs.add('owner_pan', 'pan', text.pan);
  const rec = {
    discomCode: field(row, errs, 'discom_code')?.toUpperCase(),
    consumerNo,
    subdivisionCode: field(row, errs, 'subdivision_code'),
    name: field(row, errs, 'name'),
    address: field(row, errs, 'address'),
    category: field(row, errs, 'category')?.toUpperCase(),
    supplyType: oneOf(row, errs, 'supply_type', ['LT', 'HT'] as const),
    sanctionedLoadVa: loadVa,
    meterNo: field(row, errs, 'meter_no'),
    registeredMobile: mobile,
    ownerPan: pan,
    ownerDeptCode: field(row, errs, 'owner_dept_code'),
    status: oneOf(row, errs, 'status', ['active', 'disconnected', 'closed'] as const),
    balancePaise: money(row, errs, 'balance'),
    changedAt: now,
  };
  return errs.list.length ? null : (rec as ConnectionRecord);
}

function parseBill(row: Row, errs: RowErrors, now: string): BillRecord | null {
  const consumerNo = field(row, errs, 'consumer_no');
  if (consumerNo !== null && !/^\d{6,16}$/.test(consumerNo)) errs.add('consumer_no', 'digits', text.digits);
  const billMonth = date(row, errs, 'bill_month');
  if (billMonth && !billMonth.endsWith('-01')) errs.add('bill_month', 'month', text.month);
  const m = Object.fromEntries(MONEY.map((c) => [c, money(row, errs, c)])) as Record<(typeof MONEY)[number], bigint | null>;
  const parts = [m.energy_charge, m.fixed_charge, m.fuel_surcharge, m.electricity_duty, m.meter_rent];
  if (parts.every((p) => p !== null) && m.current_demand !== null) {
    const sum = parts.reduce((s, p) => s + p, 0n);
    if (sum !== m.current_demand) errs.add('current_demand', 'sum', text.sum);
  }
  const lastPayment = field(row, errs, 'last_payment') === null ? null : money(row, errs, 'last_payment');
  const rec = {
    discomCode: field(row, errs, 'discom_code')?.toUpperCase(),
    billNo: field(row, errs, 'bill_no'),
    consumerNo,
    billMonth,
    billDate: date(row, errs, 'bill_date'),
    dueDate: date(row, errs, 'due_date'),
    prevReading: integer(row, errs, 'prev_reading'),
    currReading: integer(row, errs, 'curr_reading'),
    units: integer(row, errs, 'units'),
    billBasis: oneOf(row, errs, 'bill_basis', ['actual', 'average', 'provisional'] as const),
    energyChargePaise: m.energy_charge,
    fixedChargePaise: m.fixed_charge,
    fuelSurchargePaise: m.fuel_surcharge,
    electricityDutyPaise: m.electricity_duty,
    meterRentPaise: m.meter_rent,
    currentDemandPaise: m.current_demand,
    arrearsPaise: m.arrears,
    dpsPaise: m.dps,
    rebatePaise: m.rebate,
    advanceCreditPaise: m.advance_credit,
    netPayablePaise: m.net_payable,
    payableAfterDuePaise: m.payable_after_due,
    lastPaymentPaise: lastPayment,
    lastPaymentDate: date(row, errs, 'last_payment_date'),
    status: oneOf(row, errs, 'status', ['unpaid', 'part_paid', 'paid'] as const),
    changedAt: now,
  };
  return errs.list.length ? null : (rec as BillRecord);
}

/** Reads a CSV file into staging lines (line number first), collecting every row's problems. */
async function readFile<T>(
  input: Readable,
  file: RowProblem['file'],
  columns: readonly string[],
  parseRow: (row: Row, errs: RowErrors) => T | null,
  toValues: (r: T) => unknown[],
  problems: RowProblem[],
): Promise<string[]> {
  const lines: string[] = [];
  const parser = input.pipe(
    parse({ bom: true, columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, info: true, relax_column_count: true }),
  );
  let headerChecked = false;
  for await (const { record, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) {
    if (!headerChecked) {
      headerChecked = true;
      const missing = columns.filter((c) => !(c in record) && !OPTIONAL.has(c));
      if (missing.length) {
        problems.push({ file, row: 1, problem: 'missing_columns', message: text.missingColumns(missing) });
        return [];
      }
    }
    const errs = new RowErrors(file, info.lines);
    const rec = parseRow(record, errs);
    if (rec) lines.push(csvLine([info.lines, ...(toValues(rec) as CsvValue[])]));
    else problems.push(...errs.list);
  }
  return lines;
}

export interface ImportInput {
  connections?: Readable | string;
  bills?: Readable | string;
}

export interface ImportOptions {
  /**
   * When the billing system wrote the files. Stored as each row's source time: a row older than
   * what the portal holds is not applied, so importing yesterday's file after today's changes
   * nothing. The CLI takes the files' modification time unless told otherwise.
   */
  extractedAt: Date;
}

export async function importBillingCsv(database: Database, input: ImportInput, opts: ImportOptions): Promise<IngestResult> {
  const problems: RowProblem[] = [];
  const at = opts.extractedAt.toISOString();
  const open = (x: Readable | string | undefined): Readable | undefined => (typeof x === 'string' ? fs.createReadStream(x) : x);
  const conn = open(input.connections);
  const bill = open(input.bills);
  const connLines = conn
    ? await readFile(conn, 'connections', CONNECTION_FILE_COLUMNS, (r, e) => parseConnection(r, e, at), connectionValues, problems)
    : [];
  const billLines = bill ? await readFile(bill, 'bills', BILL_FILE_COLUMNS, (r, e) => parseBill(r, e, at), billValues, problems) : [];
  // Check the well-formed rows against the database too, so that one run reports everything.
  const r = await database.withClient((c) => ingestBillingCsv(c, connLines, billLines, { dryRun: problems.length > 0 }));
  if (!problems.length) return r;
  const all = [...problems, ...r.problems].sort((a, b) => (a.file === b.file ? a.row - b.row : a.file === 'connections' ? -1 : 1));
  return { ...r, connections: 0, bills: 0, problems: all.slice(0, 1000), problemCount: problems.length + r.problemCount };
}
