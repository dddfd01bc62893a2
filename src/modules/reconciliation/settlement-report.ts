import { CsvError, parse } from 'csv-parse/sync';
import { AppError, type Text } from '../../platform/errors.ts';
import { checkLineLengths, LimitError, limitText, parseLimits } from '../../platform/parse-limits.ts';
import { ParsePoolError, runParse } from '../../platform/parse-pool.ts';

/**
 * A gateway's settlement report (Razorpay's reconciliation layout: one row per payment, amounts
 * in paise), read and checked; settlements.ts imports it. Within the limits of parse-limits.ts: a
 * line (MAX_LINE_BYTES, checked before anything is parsed), a cell (MAX_CELL_BYTES) and the rows
 * (MAX_STATEMENT_LINES). parseSettlementReportOffThread reads it in a parse worker, within a
 * time budget and a heap limit.
 */

const REQUIRED = ['entity_id', 'type', 'credit', 'fee', 'tax', 'settlement_id', 'settlement_utr', 'settled_at'] as const;

export interface SettlementReportRow {
  order_id?: string;
  method?: string;
  entity_id: string;
  type: string;
  credit: string;
  fee: string;
  tax: string;
  settlement_id: string;
  settlement_utr: string;
  settled_at: string;
}

class Refusal extends Error {
  constructor(readonly text: Text) {
    super(text.en);
  }
}

const problem = (p: string): Refusal => new Refusal({ en: `settlement report: ${p}`, hi: `निपटान रिपोर्ट अमान्य: ${p}` });

const refusal = (text: Text): AppError => new AppError('STATEMENT_INVALID', [{ path: 'file', problem: 'invalid', message: text }]);

function read(data: Buffer): SettlementReportRow[] {
  const limits = parseLimits();
  try {
    checkLineLengths(data, limits.maxLineBytes);
  } catch (e) {
    if (e instanceof LimitError) throw new Refusal({ en: `settlement report: ${e.text.en}`, hi: `निपटान रिपोर्ट: ${e.text.hi}` });
    throw e;
  }
  let records: Record<string, string>[];
  try {
    // One row past the limit is enough to know the report is over it.
    records = parse<Record<string, string>>(data, { columns: (h: string[]) => h.map((x) => x.trim().toLowerCase()), skip_empty_lines: true, bom: true, trim: true, max_record_size: limits.maxCellBytes, to: limits.maxStatementLines + 1 });
  } catch (e) {
    if (e instanceof CsvError && e.code === 'CSV_MAX_RECORD_SIZE') {
      const t = limitText.cell(`row ${(e as CsvError & { lines?: number }).lines ?? '?'}`, limits.maxCellBytes);
      throw new Refusal({ en: `settlement report: ${t.en}`, hi: `निपटान रिपोर्ट: ${t.hi}` });
    }
    throw problem(`not a CSV file (${(e as Error).message})`);
  }
  if (records.length > limits.maxStatementLines) {
    const max = limits.maxStatementLines.toLocaleString('en-IN');
    throw new Refusal({ en: `settlement report: more than ${max} rows, over the limit for one report: the file is not read`, hi: `निपटान रिपोर्ट: ${max} से अधिक पंक्तियाँ, एक रिपोर्ट की सीमा से अधिक: फ़ाइल पढ़ी नहीं गई` });
  }
  // A report of a period without settlements is its header alone: nothing to import.
  const header = data.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.toLowerCase().split(',').map((h) => h.trim());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) throw problem(`columns missing: ${missing.join(', ')}`);
  if (!records.length) return [];
  const bad: string[] = [];
  records.forEach((r, i) => {
    if (r.type !== 'payment') return;
    for (const k of ['credit', 'fee', 'tax', 'settled_at'] as const) if (!/^[0-9]+$/.test(r[k] ?? '')) bad.push(`row ${i + 2}: ${k} "${r[k] ?? ''}" is not a whole number`);
    if (!/^pay_[A-Za-z0-9]{6,40}$/.test(r.entity_id ?? '')) bad.push(`row ${i + 2}: entity_id "${r.entity_id ?? ''}" is not a payment id`);
    if (!r.settlement_id) bad.push(`row ${i + 2}: no settlement_id`);
  });
  if (bad.length) throw problem(bad.slice(0, 20).join('; ') + (bad.length > 20 ? `; and ${bad.length - 20} more` : ''));
  return records as unknown as SettlementReportRow[];
}

/** The report's rows, checked; anything wrong is an AppError STATEMENT_INVALID saying what. */
export function parseSettlementReport(data: Buffer): SettlementReportRow[] {
  try {
    return read(data);
  } catch (e) {
    if (e instanceof Refusal) throw refusal(e.text);
    throw e;
  }
}

type Outcome = { ok: true; rows: SettlementReportRow[] } | { ok: false; text: Text };

/** Runs in a parse worker: a refusal comes back as a value. */
export function parseSettlementReportHere(data: Buffer): Outcome {
  try {
    return { ok: true, rows: read(data) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, text: e.text };
    throw e;
  }
}

/**
 * parseSettlementReport in a parse worker: the same rows or the same AppError, and an AppError
 * STATEMENT_INVALID too when the report is over its time budget or its worker's heap.
 */
export async function parseSettlementReportOffThread(data: Buffer): Promise<SettlementReportRow[]> {
  let r: Outcome;
  try {
    r = await runParse<Outcome>(new URL(import.meta.url), 'parseSettlementReportHere', [data]);
  } catch (e) {
    if (e instanceof ParsePoolError) throw refusal({ en: `settlement report: ${e.text.en}`, hi: `निपटान रिपोर्ट: ${e.text.hi}` });
    throw e;
  }
  if (!r.ok) throw refusal(r.text);
  return r.rows;
}
