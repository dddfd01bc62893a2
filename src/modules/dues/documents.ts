import type { Readable } from 'node:stream';
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { finish, footer, newDoc, pairs, table, write, type Column, type Doc } from '../../platform/pdf.ts';
import { money, sheetStream, type Cell } from '../../platform/spreadsheet.ts';
import { formatDate, formatDateTime, formatMonth, formatNumber, formatPaise } from '../../shared/format.ts';
import type { BillView, ConnectionView } from './connection.ts';
import { listDues, type DuesRow } from './listing.ts';
import { duesQuery, NO_FILTER, type DuesFilter, type Scope, type Sort, type Thresholds } from './query.ts';

/**
 * Documents of the dues pages, in English or Hindi: a bill as PDF; the filtered dues table and
 * a statement of account for a period as CSV, XLSX (formula-safe, money as numbers) or PDF.
 * Spreadsheets stream page by page; a PDF is built in memory, so it is capped at PDF_MAX_ROWS.
 */

export type Lang = 'en' | 'hi';
export const PDF_MAX_ROWS = 5000;

const L = {
  en: {
    bill: 'Electricity bill', consumerNo: 'Consumer (CA) number', name: 'Name', address: 'Address', division: 'Division', subdivision: 'Subdivision',
    category: 'Tariff category', supply: 'Supply', load: 'Sanctioned load', meter: 'Meter number', billNo: 'Bill number', month: 'Bill month',
    billDate: 'Bill date', dueDate: 'Due date', prev: 'Previous reading', curr: 'Current reading', units: 'Units (kWh)', basis: 'Bill basis',
    energy: 'Energy charge', fixed: 'Fixed / demand charge', fuel: 'Fuel surcharge', duty: 'Electricity duty', rent: 'Meter rent',
    demand: 'Current demand', arrears: 'Arrears', dps: 'Delayed payment surcharge (DPS)', rebate: 'Rebate if paid by due date',
    advance: 'Advance credit', net: 'Net payable by due date', after: 'Payable after due date', lastPay: 'Last payment', none: '—',
    flags: 'Checks on this bill', noFlags: 'No anomalies found.', page: (p: number, n: number) => `Page ${p} of ${n}`,
    generated: 'Generated', copy: 'Copy from the Sangrahan portal; the discom’s billing system is the record.',
    basisOf: { actual: 'Actual', average: 'Average', provisional: 'Provisional' } as Record<string, string>,
    flag: { deviation: 'Units or amount outside −30%/+10% of the 6-month average', zero: 'Zero consumption', estimated: 'Average or provisional billing', reading_break: 'Break in meter readings' } as Record<string, string>,
    dues: 'Dues of tagged connections', statement: 'Statement of account', period: 'Period', org: 'Organisation', rows: 'Connections',
    outstanding: 'Outstanding', status: 'Status', office: 'Office', bills: 'Bills', billed: 'Billed (current demand)', total: 'Total',
    statusOf: { overdue: 'Overdue', due: 'Due', clear: 'Clear', credit: 'Credit' } as Record<string, string>, filters: 'Filters',
  },
  hi: {
    bill: 'बिजली बिल', consumerNo: 'उपभोक्ता (CA) संख्या', name: 'नाम', address: 'पता', division: 'प्रमंडल', subdivision: 'अवर प्रमंडल',
    category: 'टैरिफ श्रेणी', supply: 'आपूर्ति', load: 'स्वीकृत भार', meter: 'मीटर संख्या', billNo: 'बिल संख्या', month: 'बिल माह',
    billDate: 'बिल तिथि', dueDate: 'देय तिथि', prev: 'पिछली रीडिंग', curr: 'वर्तमान रीडिंग', units: 'यूनिट (kWh)', basis: 'बिल का आधार',
    energy: 'ऊर्जा शुल्क', fixed: 'स्थायी / मांग शुल्क', fuel: 'ईंधन अधिभार', duty: 'विद्युत शुल्क', rent: 'मीटर किराया',
    demand: 'वर्तमान मांग', arrears: 'बकाया', dps: 'विलंब भुगतान अधिभार (DPS)', rebate: 'देय तिथि तक भुगतान पर छूट',
    advance: 'अग्रिम जमा', net: 'देय तिथि तक शुद्ध देय', after: 'देय तिथि के बाद देय', lastPay: 'पिछला भुगतान', none: '—',
    flags: 'इस बिल की जाँच', noFlags: 'कोई असामान्यता नहीं मिली।', page: (p: number, n: number) => `पृष्ठ ${p} / ${n}`,
    generated: 'तैयार किया गया', copy: 'संग्रहण पोर्टल से प्रति; डिस्कॉम की बिलिंग प्रणाली ही अभिलेख है।',
    basisOf: { actual: 'वास्तविक', average: 'औसत', provisional: 'अनंतिम' } as Record<string, string>,
    flag: { deviation: 'यूनिट या राशि 6 माह के औसत के −30%/+10% से बाहर', zero: 'शून्य खपत', estimated: 'औसत या अनंतिम बिलिंग', reading_break: 'मीटर रीडिंग में अंतराल' } as Record<string, string>,
    dues: 'टैग किए गए कनेक्शनों का बकाया', statement: 'लेखा विवरण', period: 'अवधि', org: 'संस्था', rows: 'कनेक्शन',
    outstanding: 'बकाया राशि', status: 'स्थिति', office: 'कार्यालय', bills: 'बिल', billed: 'बिल राशि (वर्तमान मांग)', total: 'कुल',
    statusOf: { overdue: 'अतिदेय', due: 'देय', clear: 'शून्य', credit: 'जमा' } as Record<string, string>, filters: 'फ़िल्टर',
  },
} as const;

const rupees = (p: string | bigint, lang: Lang) => formatPaise(p, lang);

function header(doc: Doc, title: string, lines: string[]): void {
  write(doc, title, { size: 15, bold: true });
  doc.moveDown(0.2);
  for (const l of lines) write(doc, l, { size: 9, color: '#333333' });
  doc.moveDown(0.6);
}


/** One bill, with the connection's particulars and the anomaly checks, as a one-page PDF. */
export async function billPdf(c: ConnectionView, b: BillView, lang: Lang, now: Date): Promise<Buffer> {
  const t = L[lang];
  const doc = newDoc({ title: `${t.bill} ${b.billNo}` });
  const name = (x: { name: string; nameHi: string }) => (lang === 'hi' ? x.nameHi : x.name);
  header(doc, `${name(c.discom)} — ${t.bill}`, [`${t.month}: ${formatMonth(b.billMonth, lang)}   ·   ${t.billNo}: ${b.billNo}`]);
  const left = doc.page.margins.left;
  const width = (doc.page.width - left - doc.page.margins.right) / 2 - 10;
  const top = doc.y;
  const y1 = pairs(doc, [
    [t.consumerNo, c.consumerNo], [t.name, c.name], [t.division, name(c.division)], [t.subdivision, name(c.subdivision)],
    [t.category, `${c.category.code} · ${name(c.category)}`], [t.supply, c.supplyType], [t.load, `${formatNumber(c.sanctionedLoadVa / 1000, lang)} kVA`],
    [t.meter, c.meterNo ?? t.none],
  ], left, width);
  doc.y = top;
  const y2 = pairs(doc, [
    [t.billDate, formatDate(b.billDate, lang)], [t.dueDate, formatDate(b.dueDate, lang)], [t.prev, b.prevReading === null ? t.none : formatNumber(b.prevReading, lang)],
    [t.curr, b.currReading === null ? t.none : formatNumber(b.currReading, lang)], [t.units, formatNumber(b.units, lang)], [t.basis, t.basisOf[b.billBasis] ?? b.billBasis],
    [t.lastPay, b.lastPaymentPaise && b.lastPaymentDate ? `${rupees(b.lastPaymentPaise, lang)} (${formatDate(b.lastPaymentDate, lang)})` : t.none],
  ], left + width + 20, width);
  doc.y = Math.max(y1, y2) + 4;
  write(doc, `${t.address}: ${c.address}`, { x: left, size: 9, width: width * 2 + 20 });
  doc.moveDown(0.8);
  const cols: Column[] = [{ header: '', width: 340 }, { header: '₹', width: 180, align: 'right' }];
  table(doc, cols, [
    [t.energy, rupees(b.energyChargePaise, lang)], [t.fixed, rupees(b.fixedChargePaise, lang)], [t.fuel, rupees(b.fuelSurchargePaise, lang)],
    [t.duty, rupees(b.electricityDutyPaise, lang)], [t.rent, rupees(b.meterRentPaise, lang)], [t.demand, rupees(b.currentDemandPaise, lang)],
    [t.arrears, rupees(b.arrearsPaise, lang)], [t.dps, rupees(b.dpsPaise, lang)], [t.advance, b.advanceCreditPaise === '0' ? rupees(0n, lang) : `−${rupees(b.advanceCreditPaise, lang)}`],
    [t.rebate, rupees(b.rebatePaise, lang)], [t.net, rupees(b.netPayablePaise, lang)], [t.after, rupees(b.payableAfterDuePaise, lang)],
  ], { size: 10 });
  doc.moveDown(0.8);
  write(doc, t.flags, { x: left, bold: true, size: 10 });
  write(doc, b.flags.length ? b.flags.map((f) => `• ${t.flag[f] ?? f}`).join('\n') : t.noFlags, { x: left, size: 9 });
  doc.moveDown(1);
  write(doc, `${t.copy} ${t.generated}: ${formatDateTime(now.toISOString(), lang)}`, { x: left, size: 8, color: '#555555' });
  footer(doc, t.page);
  return finish(doc);
}

// ---- the dues table ------------------------------------------------------------------------

const DUES_HEADER = [
  'discom', 'consumer_no', 'name', 'category', 'division', 'office_code', 'office', 'status', 'balance_rupees', 'bill_month', 'due_date',
  'net_payable_rupees', 'payable_after_due_rupees', 'rebate_rupees', 'dps_rupees', 'units', 'bill_basis', 'flags',
];

async function* duesPages(db: Kysely<DB>, scope: Scope, f: DuesFilter, sort: Sort, desc: boolean, today: string, t: Thresholds) {
  let after: string | null = null;
  for (;;) {
    const page = await listDues(db, scope, f, { sort, desc, after, limit: 5000, today, thresholds: t, withTotal: false });
    yield page.rows;
    if (!page.next) return;
    after = page.next;
  }
}

const duesCells = (r: DuesRow): Cell[] => [
  r.discom, r.consumerNo, r.name, r.category, r.division.name, r.office?.code ?? null, r.office?.name ?? null, r.status, money(BigInt(r.balancePaise)),
  r.billMonth, r.dueDate, money(BigInt(r.netPayablePaise)), money(BigInt(r.payableAfterDuePaise)), money(BigInt(r.rebatePaise)), money(BigInt(r.dpsPaise)),
  r.units, r.billBasis, r.flags.join(' '),
];

export async function exportDues(
  db: Kysely<DB>,
  scope: Scope,
  f: DuesFilter,
  opts: { sort: Sort; desc: boolean; today: string; thresholds: Thresholds; format: 'csv' | 'xlsx' | 'pdf'; lang: Lang; orgName: string; now: Date },
): Promise<Readable | Buffer> {
  const { sort, desc, today, thresholds, lang } = opts;
  if (opts.format !== 'pdf') {
    return sheetStream(
      {
        sheet: 'Dues',
        header: DUES_HEADER,
        pages: (async function* () {
          for await (const rows of duesPages(db, scope, f, sort, desc, today, thresholds)) yield rows.map(duesCells);
        })(),
      },
      opts.format,
    );
  }
  const first = await listDues(db, scope, f, { sort, desc, after: null, limit: PDF_MAX_ROWS, today, thresholds, withTotal: true });
  tooManyForPdf(first.total!.count);
  const t = L[lang];
  const doc = newDoc({ title: t.dues, landscape: true });
  header(doc, `${t.dues} — ${opts.orgName}`, [
    `${t.rows}: ${formatNumber(first.total!.count, lang)}   ·   ${t.outstanding}: ${rupees(first.total!.outstandingPaise, lang)}   ·   ${t.generated}: ${formatDateTime(opts.now.toISOString(), lang)}`,
    `${t.filters}: ${describeFilter(f) || '—'}`,
  ]);
  table(
    doc,
    [
      { header: 'Discom', width: 50 }, { header: t.consumerNo, width: 80 }, { header: t.name, width: 150 }, { header: t.category, width: 45 },
      { header: t.office, width: 95 }, { header: t.status, width: 55 }, { header: t.month, width: 55 }, { header: t.dueDate, width: 65 },
      { header: t.outstanding, width: 85, align: 'right' }, { header: t.net, width: 85, align: 'right' },
    ],
    first.rows.map((r) => [
      r.discom, r.consumerNo, r.name, r.category, r.office?.name ?? '—', t.statusOf[r.status] ?? r.status, r.billMonth ? formatMonth(r.billMonth, lang) : '—',
      r.dueDate ? formatDate(r.dueDate, lang) : '—', rupees(r.balancePaise, lang), rupees(r.netPayablePaise, lang),
    ]),
  );
  footer(doc, t.page);
  return finish(doc);
}

function tooManyForPdf(n: number): void {
  if (n > PDF_MAX_ROWS) {
    throw new AppError('VALIDATION_FAILED', [{
      path: 'query.format', problem: 'too_many_rows',
      message: {
        en: `A PDF holds at most ${PDF_MAX_ROWS.toLocaleString('en-IN')} rows and this has ${n.toLocaleString('en-IN')}: narrow the filter, or download CSV or XLSX`,
        hi: `PDF में अधिकतम ${PDF_MAX_ROWS.toLocaleString('en-IN')} पंक्तियाँ हो सकती हैं और इसमें ${n.toLocaleString('en-IN')} हैं: फ़िल्टर सीमित करें, या CSV या XLSX डाउनलोड करें`,
      },
    }]);
  }
}

function describeFilter(f: DuesFilter): string {
  return Object.entries(f)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

// ---- statement of account ------------------------------------------------------------------

interface StatementRow {
  bill_id: bigint;
  discom: string;
  consumer_no: string;
  name: string;
  bill_no: string;
  bill_month: string;
  bill_date: string;
  due_date: string;
  units: number;
  current_demand_paise: bigint;
  arrears_paise: bigint;
  dps_paise: bigint;
  rebate_paise: bigint;
  net_payable_paise: bigint;
  last_payment_paise: bigint | null;
  last_payment_date: string | null;
  status: string;
}

const STATEMENT_HEADER = [
  'discom', 'consumer_no', 'name', 'bill_month', 'bill_no', 'bill_date', 'due_date', 'units', 'current_demand_rupees', 'arrears_rupees', 'dps_rupees',
  'rebate_rupees', 'net_payable_rupees', 'last_payment_rupees', 'last_payment_date', 'bill_status',
];

function statementQuery(db: Kysely<DB>, scope: Scope, from: string, to: string, today: string, t: Thresholds) {
  return duesQuery(db, scope, NO_FILTER, today, t)
    .innerJoin('bills as b', 'b.connection_id', 'd.connection_id')
    .innerJoin('discoms as dc', 'dc.id', 'd.discom_id')
    .where(sql<SqlBool>`b.bill_date BETWEEN ${from}::date AND ${to}::date`);
}

export interface StatementTotals {
  connections: number;
  bills: number;
  billedPaise: bigint;
  dpsPaise: bigint;
  rebatePaise: bigint;
  netPayablePaise: bigint;
  outstandingNowPaise: bigint;
}

export async function statementTotals(db: Kysely<DB>, scope: Scope, from: string, to: string, today: string, t: Thresholds): Promise<StatementTotals> {
  const [r, o] = await Promise.all([
    statementQuery(db, scope, from, to, today, t)
      .select([
        sql<bigint>`count(DISTINCT b.connection_id)`.as('conns'), sql<bigint>`count(*)`.as('bills'),
        sql<bigint>`coalesce(sum(b.current_demand_paise), 0)::bigint`.as('billed'), sql<bigint>`coalesce(sum(b.dps_paise), 0)::bigint`.as('dps'),
        sql<bigint>`coalesce(sum(b.rebate_paise), 0)::bigint`.as('rebate'), sql<bigint>`coalesce(sum(b.net_payable_paise), 0)::bigint`.as('net'),
      ])
      .executeTakeFirstOrThrow(),
    duesQuery(db, scope, NO_FILTER, today, t).select(sql<bigint>`coalesce(sum(greatest(d.balance_paise, 0)), 0)::bigint`.as('o')).executeTakeFirstOrThrow(),
  ]);
  return { connections: Number(r.conns), bills: Number(r.bills), billedPaise: r.billed, dpsPaise: r.dps, rebatePaise: r.rebate, netPayablePaise: r.net, outstandingNowPaise: o.o };
}

async function* statementPages(db: Kysely<DB>, scope: Scope, from: string, to: string, today: string, t: Thresholds, limit = 5000) {
  let after = 0n;
  for (;;) {
    const rows = (await statementQuery(db, scope, from, to, today, t)
      .select([
        'b.id as bill_id', 'dc.code as discom', 'd.consumer_no', 'd.name', 'b.bill_no', 'b.bill_month', 'b.bill_date', 'b.due_date', 'b.units',
        'b.current_demand_paise', 'b.arrears_paise', 'b.dps_paise', 'b.rebate_paise', 'b.net_payable_paise', 'b.last_payment_paise', 'b.last_payment_date', 'b.status',
      ])
      .where('b.id', '>', after)
      .orderBy('b.id')
      .limit(limit)
      .execute()) as StatementRow[];
    if (!rows.length) return;
    yield rows;
    after = rows[rows.length - 1]!.bill_id;
  }
}

export async function exportStatement(
  db: Kysely<DB>,
  scope: Scope,
  opts: { from: string; to: string; today: string; thresholds: Thresholds; format: 'csv' | 'xlsx' | 'pdf'; lang: Lang; orgName: string; now: Date },
): Promise<Readable | Buffer> {
  const { from, to, today, thresholds, lang } = opts;
  if (from > to) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'query.to', problem: 'before_from', message: { en: 'must not be before the start of the period', hi: 'अवधि के आरंभ से पहले नहीं हो सकती' } }]);
  }
  const totals = await statementTotals(db, scope, from, to, today, thresholds);
  if (opts.format !== 'pdf') {
    return sheetStream(
      {
        sheet: 'Statement',
        header: STATEMENT_HEADER,
        pages: (async function* () {
          for await (const rows of statementPages(db, scope, from, to, today, thresholds)) {
            yield rows.map((r): Cell[] => [
              r.discom, r.consumer_no, r.name, r.bill_month, r.bill_no, r.bill_date, r.due_date, r.units, money(r.current_demand_paise), money(r.arrears_paise),
              money(r.dps_paise), money(r.rebate_paise), money(r.net_payable_paise), r.last_payment_paise === null ? null : money(r.last_payment_paise), r.last_payment_date, r.status,
            ]);
          }
        })(),
        footer: () => [
          ['TOTAL', null, `${totals.bills} bills of ${totals.connections} connections, ${from} to ${to}`, null, null, null, null, null, money(totals.billedPaise), null,
            money(totals.dpsPaise), money(totals.rebatePaise), money(totals.netPayablePaise), null, null, null],
          ['OUTSTANDING_NOW', null, today, null, null, null, null, null, money(totals.outstandingNowPaise), null, null, null, null, null, null, null],
        ],
      },
      opts.format,
    );
  }
  tooManyForPdf(totals.bills);
  const t = L[lang];
  const doc = newDoc({ title: t.statement, landscape: true });
  header(doc, `${t.statement} — ${opts.orgName}`, [
    `${t.period}: ${formatDate(from, lang)} – ${formatDate(to, lang)}   ·   ${t.generated}: ${formatDateTime(opts.now.toISOString(), lang)}`,
    `${t.rows}: ${formatNumber(totals.connections, lang)}   ·   ${t.bills}: ${formatNumber(totals.bills, lang)}   ·   ${t.billed}: ${rupees(totals.billedPaise, lang)}   ·   ${t.dps}: ${rupees(totals.dpsPaise, lang)}`,
    `${t.net}: ${rupees(totals.netPayablePaise, lang)}   ·   ${t.outstanding} (${formatDate(today, lang)}): ${rupees(totals.outstandingNowPaise, lang)}`,
  ]);
  const rows: string[][] = [];
  for await (const page of statementPages(db, scope, from, to, today, thresholds)) {
    for (const r of page) {
      rows.push([
        r.consumer_no, r.name, formatMonth(r.bill_month, lang), r.bill_no, formatDate(r.due_date, lang), formatNumber(r.units, lang), rupees(r.current_demand_paise, lang),
        rupees(r.arrears_paise, lang), rupees(r.dps_paise, lang), rupees(r.net_payable_paise, lang),
        r.last_payment_paise === null || !r.last_payment_date ? '—' : `${rupees(r.last_payment_paise, lang)} · ${formatDate(r.last_payment_date, lang)}`,
      ]);
    }
  }
  table(
    doc,
    [
      { header: t.consumerNo, width: 62 }, { header: t.name, width: 110 }, { header: t.month, width: 56 }, { header: t.billNo, width: 78 },
      { header: t.dueDate, width: 62 }, { header: t.units, width: 42, align: 'right' }, { header: t.demand, width: 66, align: 'right' },
      { header: t.arrears, width: 66, align: 'right' }, { header: 'DPS', width: 50, align: 'right' }, { header: t.net, width: 76, align: 'right' },
      { header: t.lastPay, width: 128 },
    ],
    rows,
  );
  footer(doc, t.page);
  return finish(doc);
}
