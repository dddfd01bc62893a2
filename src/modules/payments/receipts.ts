import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import { sql, type Kysely } from 'kysely';
import type { DB, PostingStatus } from '../../platform/db/schema.ts';
import { officeInScope, type Scope } from '../../platform/office-scope.ts';
import { finish, fit, footer, newDoc, pairs, table, write, type Doc } from '../../platform/pdf.ts';
import { formatDateTime, formatNumber, formatPaise } from '../../shared/format.ts';
import type { Lang } from '../dues/documents.ts';

/**
 * The receipts of a settled consolidated payment, in English or Hindi: one consolidated receipt
 * for the batch, one receipt per connection, and a ZIP of them all. Every query is scoped to the
 * organisation. A batch may hold 100,000 receipts, so the consolidated table is read from the
 * database a page at a time (keyset on receipts.id) and its PDF pages are flushed as they fill;
 * the ZIP renders one PDF at a time and waits for it to be written before the next.
 */

const PAGE_ROWS = 5000;

const L = {
  en: {
    consolidated: 'Consolidated payment receipt', receipt: 'Payment receipt', org: 'Organisation', batch: 'Batch reference',
    paymentId: 'Gateway payment id', orderId: 'Payment reference (gateway order or virtual account)', method: 'Payment method', captured: 'Payment received at',
    totalAmount: 'Total amount', totalRebate: 'Total rebate credited', connections: 'Connections', budgetHead: 'Budget head', sanction: 'Sanction reference',
    receiptNo: 'Receipt number', consumerNo: 'Consumer (CA) number', consumerName: 'Consumer name', discom: 'Discom', amount: 'Amount',
    rebate: 'Rebate', balanceAfter: 'Balance after', balanceBefore: 'Balance before payment', balanceAfterLong: 'Balance after payment',
    paid: 'Amount paid', advance: 'of which advance credit', rebateCredited: 'Rebate credited', issued: 'Issued at', total: 'Total',
    received: 'Amount received from the gateway', suspense: 'Held in suspense (not applied to any connection)', credit: 'credit',
    rebateNote: 'Rebate is credited to the connection by the discom for paying by the due date; it is not part of the money paid.',
    copy: 'Balances are as the Sangrahan portal computed them on receipt of the money; the discom’s billing system is the record.',
    page: (p: number, n: number) => `Page ${p} of ${n}`,
    posting: 'Posting to the discom’s billing system', kind: 'Entry', status: 'Status', billingReceipt: 'Billing system receipt no.', ackAt: 'Acknowledged at',
    kindOf: { payment: 'Payment', rebate: 'Rebate credit' } as Record<string, string>,
    statusOf: { pending: 'Pending', acknowledged: 'Acknowledged', rejected: 'Rejected' } as Record<PostingStatus, string>,
    summary: {
      none: 'Not yet sent to the billing system.',
      pending: 'Pending: sent, or waiting to be sent; the billing system has not confirmed it yet, so its balance may not show this payment.',
      acknowledged: 'Acknowledged: the billing system has applied this payment.',
      rejected: 'Rejected by the billing system: the discom will reconcile it. The payment and this receipt stand.',
    },
    methodOf: { upi: 'UPI', card: 'Card', netbanking: 'Net banking', wallet: 'Wallet', emi: 'EMI', neft: 'NEFT', rtgs: 'RTGS' } as Record<string, string>,
  },
  hi: {
    consolidated: 'समेकित भुगतान रसीद', receipt: 'भुगतान रसीद', org: 'संस्था', batch: 'बैच संदर्भ',
    paymentId: 'गेटवे भुगतान आईडी', orderId: 'भुगतान संदर्भ (गेटवे ऑर्डर या वर्चुअल खाता)', method: 'भुगतान का माध्यम', captured: 'भुगतान प्राप्ति का समय',
    totalAmount: 'कुल राशि', totalRebate: 'कुल जमा छूट', connections: 'कनेक्शन', budgetHead: 'बजट शीर्ष', sanction: 'स्वीकृति संदर्भ',
    receiptNo: 'रसीद संख्या', consumerNo: 'उपभोक्ता (CA) संख्या', consumerName: 'उपभोक्ता का नाम', discom: 'डिस्कॉम', amount: 'राशि',
    rebate: 'छूट', balanceAfter: 'बाद में शेष', balanceBefore: 'भुगतान से पहले शेष', balanceAfterLong: 'भुगतान के बाद शेष',
    paid: 'भुगतान की गई राशि', advance: 'इसमें से अग्रिम जमा', rebateCredited: 'जमा की गई छूट', issued: 'जारी करने का समय', total: 'कुल',
    received: 'गेटवे से प्राप्त राशि', suspense: 'उचंत में रखी राशि (किसी कनेक्शन पर लागू नहीं)', credit: 'जमा',
    rebateNote: 'देय तिथि तक भुगतान पर छूट डिस्कॉम द्वारा कनेक्शन में जमा की जाती है; यह भुगतान की गई राशि का भाग नहीं है।',
    copy: 'शेष राशि संग्रहण पोर्टल द्वारा भुगतान प्राप्ति पर गणना की गई है; डिस्कॉम की बिलिंग प्रणाली ही अभिलेख है।',
    page: (p: number, n: number) => `पृष्ठ ${p} / ${n}`,
    posting: 'डिस्कॉम की बिलिंग प्रणाली में प्रविष्टि', kind: 'प्रविष्टि', status: 'स्थिति', billingReceipt: 'बिलिंग प्रणाली रसीद सं.', ackAt: 'स्वीकृति का समय',
    kindOf: { payment: 'भुगतान', rebate: 'छूट जमा' } as Record<string, string>,
    statusOf: { pending: 'लंबित', acknowledged: 'स्वीकृत', rejected: 'अस्वीकृत' } as Record<PostingStatus, string>,
    summary: {
      none: 'अभी बिलिंग प्रणाली को नहीं भेजा गया।',
      pending: 'लंबित: भेजा गया या भेजा जाना है; बिलिंग प्रणाली ने अभी पुष्टि नहीं की है, इसलिए वहाँ का शेष यह भुगतान शायद न दिखाए।',
      acknowledged: 'स्वीकृत: बिलिंग प्रणाली ने यह भुगतान दर्ज कर लिया है।',
      rejected: 'बिलिंग प्रणाली द्वारा अस्वीकृत: डिस्कॉम इसका मिलान करेगा। भुगतान और यह रसीद मान्य हैं।',
    },
    methodOf: { upi: 'UPI', card: 'कार्ड', netbanking: 'नेट बैंकिंग', wallet: 'वॉलेट', emi: 'EMI', neft: 'NEFT', rtgs: 'RTGS' } as Record<string, string>,
  },
} as const;

type Text = (typeof L)[Lang];

const rupees = (p: bigint, lang: Lang) => formatPaise(p, lang);
const balance = (p: bigint, t: Text, lang: Lang) => (p < 0n ? `${rupees(p, lang)} (${t.credit})` : rupees(p, lang));
const methodName = (m: string | null, t: Text) => (m ? (t.methodOf[m] ?? m) : '—');



// ---- the consolidated receipt ----------------------------------------------------------------

interface BatchHead {
  reference: string;
  budget_head: string | null;
  sanction_ref: string | null;
  org_name: string;
  org_name_hi: string | null;
  receipts: bigint;
  connections: bigint;
  amount: bigint;
  rebate: bigint;
  paid: bigint;
}

interface PaymentLine {
  gateway_payment_id: string;
  method: string | null;
  captured_at: Date | null;
}

/** The batch's figures, summed in SQL over its receipts; undefined if not the organisation's or no receipts. */
async function batchHead(db: Kysely<DB>, orgId: bigint, batchId: bigint): Promise<{ head: BatchHead; payments: PaymentLine[] } | undefined> {
  const { rows } = await sql<BatchHead>`
    WITH r AS (
      SELECT r.* FROM receipts r
        JOIN payments p ON p.id = r.payment_id AND p.status = 'captured' AND p.settled_at IS NOT NULL
       WHERE r.batch_id = ${batchId} AND r.org_id = ${orgId}
    )
    SELECT b.reference, b.budget_head, b.sanction_ref, o.name AS org_name, o.name_hi AS org_name_hi,
           (SELECT count(*) FROM r) AS receipts, (SELECT count(DISTINCT connection_id) FROM r) AS connections,
           (SELECT sum(amount_paise) FROM r)::bigint AS amount, (SELECT sum(rebate_paise) FROM r)::bigint AS rebate,
           (SELECT sum(p.amount_paise) FROM payments p WHERE p.id IN (SELECT payment_id FROM r))::bigint AS paid
      FROM payment_batches b JOIN organisations o ON o.id = b.org_id
     WHERE b.id = ${batchId} AND b.org_id = ${orgId} AND EXISTS (SELECT 1 FROM r)`.execute(db);
  const head = rows[0];
  if (!head) return undefined;
  const payments = await db
    .selectFrom('payments as p')
    .select(['p.gateway_payment_id', 'p.method', 'p.captured_at'])
    .where('p.org_id', '=', orgId)
    .where('p.status', '=', 'captured')
    .where('p.settled_at', 'is not', null)
    .where('p.id', 'in', (eb) => eb.selectFrom('receipts as r').select('r.payment_id').where('r.batch_id', '=', batchId).where('r.org_id', '=', orgId))
    .orderBy('p.captured_at')
    .orderBy('p.id')
    .execute();
  return { head, payments };
}

interface TableRow {
  id: bigint;
  receipt_no: string;
  consumer_no: string;
  amount_paise: bigint;
  rebate_paise: bigint;
  balance_after_paise: bigint;
}

async function* batchRows(db: Kysely<DB>, orgId: bigint, batchId: bigint): AsyncGenerator<TableRow[]> {
  let after = 0n;
  for (;;) {
    const rows = await db
      .selectFrom('receipts as r')
      .innerJoin('payments as p', 'p.id', 'r.payment_id')
      .select(['r.id', 'r.receipt_no', 'r.consumer_no', 'r.amount_paise', 'r.rebate_paise', 'r.balance_after_paise'])
      .where('r.batch_id', '=', batchId)
      .where('r.org_id', '=', orgId)
      .where('p.status', '=', 'captured')
      .where('p.settled_at', 'is not', null)
      .where('r.id', '>', after)
      .orderBy('r.id')
      .limit(PAGE_ROWS)
      .execute();
    if (!rows.length) return;
    yield rows;
    if (rows.length < PAGE_ROWS) return;
    after = rows[rows.length - 1]!.id;
  }
}

const SIZE = 8;
const ROW_H = SIZE * 1.9;
const CLOSING_LINE = 13;
const CLOSING_H = 8 + 4 * CLOSING_LINE;

/**
 * Where the table's rows fall. The same steps run twice, once on numbers alone to count the
 * pages before any is written (each page's footer says "of N" and is written before the page
 * is flushed) and once to draw, so the count is the pages drawn.
 */
class Flow {
  page = 1;
  y: number;
  constructor(
    private readonly top: number,
    private readonly last: number,
    private readonly bottom: number,
    start: number,
  ) {
    this.y = start + ROW_H; // below the header row
  }
  /** Makes room for one row; true if it starts a new page (whose header row is then drawn first). */
  row(): boolean {
    const broke = this.y > this.last;
    if (broke) {
      this.page++;
      this.y = this.top + ROW_H;
    }
    this.y += ROW_H;
    return broke;
  }
  block(h: number): boolean {
    const broke = this.y + h > this.bottom;
    if (broke) {
      this.page++;
      this.y = this.top;
    }
    this.y += h;
    return broke;
  }
}

async function writeConsolidated(db: Kysely<DB>, orgId: bigint, batchId: bigint, lang: Lang, doc: Doc, head: BatchHead, payments: PaymentLine[]): Promise<void> {
  const t = L[lang];
  const m = doc.page.margins;
  const left = m.left;
  const full = doc.page.width - left - m.right;
  write(doc, t.consolidated, { size: 15, bold: true });
  doc.moveDown(0.8);
  const half = full / 2 - 10;
  const top = doc.y;
  const join = (xs: string[]) => [...new Set(xs)].join(', ') || '—';
  const y1 = pairs(doc, [
    [t.org, lang === 'hi' ? (head.org_name_hi ?? head.org_name) : head.org_name],
    [t.batch, head.reference],
    [t.connections, formatNumber(Number(head.connections), lang)],
    ...(head.budget_head ? [[t.budgetHead, head.budget_head] as [string, string]] : []),
    ...(head.sanction_ref ? [[t.sanction, head.sanction_ref] as [string, string]] : []),
  ], left, half);
  doc.y = top;
  const y2 = pairs(doc, [
    [t.paymentId, join(payments.map((p) => p.gateway_payment_id))],
    [t.method, join(payments.map((p) => methodName(p.method, t)))],
    [t.captured, join(payments.map((p) => (p.captured_at ? formatDateTime(p.captured_at.toISOString(), lang) : '—')))],
    [t.totalAmount, rupees(head.amount, lang)],
    [t.totalRebate, rupees(head.rebate, lang)],
  ], left + half + 20, half);
  doc.y = Math.max(y1, y2) + 8;

  const columns = [
    { header: '#', width: 42, align: 'right' as const },
    { header: t.receiptNo, width: 124 },
    { header: t.consumerNo, width: 100 },
    { header: t.amount, width: 90, align: 'right' as const },
    { header: t.rebate, width: 72, align: 'right' as const },
    { header: t.balanceAfter, width: 95, align: 'right' as const },
  ];
  const tableW = columns.reduce((s, c) => s + c.width, 0);
  const last = doc.page.height - m.bottom - ROW_H;
  const bottom = doc.page.height - m.bottom;
  const start = doc.y;

  const count = Number(head.receipts);
  const sim = new Flow(m.top, last, bottom, start);
  for (let i = 0; i <= count; i++) sim.row(); // the receipts and the total row
  sim.block(CLOSING_H);
  const pages = sim.page;

  const pageFooter = (page: number) => {
    const keep = m.bottom;
    m.bottom = 0; // writing in the margin must not start a new page
    write(doc, `${head.reference} · ${t.page(page, pages)}`, { x: left, y: doc.page.height - 24, width: full, align: 'center', size: 7, color: '#555555', lineBreak: false });
    m.bottom = keep;
  };
  const newPage = (flow: Flow) => {
    pageFooter(flow.page - 1);
    doc.flushPages();
    doc.addPage();
  };
  const cells = (y: number, values: string[], bold: boolean) => {
    let x = left;
    columns.forEach((c, i) => {
      write(doc, fit(doc, values[i] ?? '', c.width - 6, SIZE, bold), { x: x + 3, y: y + 1, width: c.width - 6, align: c.align ?? 'left', size: SIZE, bold, lineBreak: false });
      x += c.width;
    });
  };
  const headerRow = (y: number) => {
    doc.rect(left, y - 2, tableW, ROW_H).fill('#e8edf3');
    cells(y, columns.map((c) => c.header), true);
  };

  const flow = new Flow(m.top, last, bottom, start);
  headerRow(start);
  let n = 0;
  const row = (values: string[], bold = false) => {
    if (flow.row()) {
      newPage(flow);
      headerRow(m.top);
    }
    const y = flow.y - ROW_H;
    if (bold) doc.moveTo(left, y - 2).lineTo(left + tableW, y - 2).lineWidth(0.8).stroke('#333333');
    else if (n % 2 === 1) doc.rect(left, y - 2, tableW, ROW_H).fill('#f6f8fa');
    cells(y, values, bold);
  };
  for await (const page of batchRows(db, orgId, batchId)) {
    for (const r of page) {
      n++;
      row([formatNumber(n, lang), r.receipt_no, r.consumer_no, rupees(r.amount_paise, lang), rupees(r.rebate_paise, lang), balance(r.balance_after_paise, t, lang)]);
    }
  }
  if (n !== count) throw new Error(`batch ${batchId}: ${n} receipts read, ${count} counted`);
  row(['', `${t.total} (${formatNumber(count, lang)})`, '', rupees(head.amount, lang), rupees(head.rebate, lang), ''], true);

  if (flow.block(CLOSING_H)) newPage(flow);
  let y = flow.y - CLOSING_H + 8;
  const line = (text: string, bold = false) => {
    write(doc, fit(doc, text, full, bold ? 9 : 8, bold), { x: left, y, width: full, size: bold ? 9 : 8, bold, color: bold ? '#111111' : '#444444', lineBreak: false });
    y += CLOSING_LINE;
  };
  line(`${t.received}: ${rupees(head.paid, lang)}`, true);
  const suspense = head.paid - head.amount;
  if (suspense > 0n) line(`${t.suspense}: ${rupees(suspense, lang)}`);
  line(t.rebateNote);
  line(t.copy);
  if (flow.page !== pages) throw new Error(`consolidated receipt laid out on ${flow.page} pages, ${pages} counted`);
  pageFooter(pages);
}

/** The consolidated receipt of a batch; null if the batch is not the organisation's or has no receipts. */
export async function consolidatedReceiptPdf(db: Kysely<DB>, orgId: bigint, batchId: bigint, lang: Lang): Promise<Buffer | null> {
  const found = await batchHead(db, orgId, batchId);
  if (!found) return null;
  const doc = newDoc({ title: `${L[lang].consolidated} ${found.head.reference}` });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(doc, 'end');
  await writeConsolidated(db, orgId, batchId, lang, doc, found.head, found.payments);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

// ---- a connection's receipt -------------------------------------------------------------------

interface ReceiptView {
  id: bigint;
  receipt_no: string;
  consumer_no: string;
  consumer_name: string | null;
  discom_code: string;
  discom_name: string;
  discom_name_hi: string;
  org_name: string;
  org_name_hi: string | null;
  amount_paise: bigint;
  advance_paise: bigint;
  rebate_paise: bigint;
  balance_before_paise: bigint;
  balance_after_paise: bigint;
  issued_at: Date;
  batch_reference: string;
  gateway_payment_id: string;
  order_id: string;
  method: string | null;
}

interface PostingView {
  receipt_id: bigint;
  kind: 'payment' | 'rebate';
  amount_paise: bigint;
  status: PostingStatus;
  billing_receipt_no: string | null;
  acknowledged_at: Date | null;
}

function receiptViews(db: Kysely<DB>, orgId: bigint) {
  return db
    .selectFrom('receipts as r')
    .innerJoin('payments as p', 'p.id', 'r.payment_id')
    // Online payments have a gateway order; RTGS/NEFT payments a challan's virtual account.
    .leftJoin('payment_attempts as a', 'a.id', 'p.attempt_id')
    .leftJoin('challans as ch', 'ch.id', 'p.challan_id')
    .innerJoin('payment_batches as b', 'b.id', 'r.batch_id')
    .innerJoin('discoms as d', 'd.id', 'r.discom_id')
    .innerJoin('organisations as o', 'o.id', 'r.org_id')
    .leftJoin('connections as c', 'c.id', 'r.connection_id')
    .select([
      'r.id', 'r.receipt_no', 'r.consumer_no', 'c.name as consumer_name', 'd.code as discom_code', 'd.name as discom_name', 'd.name_hi as discom_name_hi',
      'o.name as org_name', 'o.name_hi as org_name_hi', 'r.amount_paise', 'r.advance_paise', 'r.rebate_paise', 'r.balance_before_paise',
      'r.balance_after_paise', 'r.issued_at', 'b.reference as batch_reference', 'p.gateway_payment_id', sql<string>`coalesce(a.order_id, ch.va_number)`.as('order_id'), 'p.method',
    ])
    .where('r.org_id', '=', orgId)
    .where('b.org_id', '=', orgId)
    .where('p.status', '=', 'captured')
    .where('p.settled_at', 'is not', null);
}

async function postingsOf(db: Kysely<DB>, orgId: bigint, receiptIds: bigint[]): Promise<Map<bigint, PostingView[]>> {
  const out = new Map<bigint, PostingView[]>();
  if (!receiptIds.length) return out;
  const rows = await db
    .selectFrom('postings')
    .select(['receipt_id', 'kind', 'amount_paise', 'status', 'billing_receipt_no', 'acknowledged_at'])
    .where('org_id', '=', orgId)
    .where('receipt_id', 'in', receiptIds)
    .orderBy('receipt_id')
    .orderBy('kind')
    .execute();
  for (const p of rows) {
    const list = out.get(p.receipt_id) ?? [];
    list.push(p);
    out.set(p.receipt_id, list);
  }
  return out;
}

function postingSummary(ps: PostingView[]): keyof Text['summary'] {
  if (!ps.length) return 'none';
  if (ps.some((p) => p.status === 'rejected')) return 'rejected';
  if (ps.every((p) => p.status === 'acknowledged')) return 'acknowledged';
  return 'pending';
}

const SUMMARY_COLOUR = { none: '#444444', pending: '#8a5a00', acknowledged: '#1b5e20', rejected: '#b71c1c' } as const;

function renderReceipt(r: ReceiptView, postings: PostingView[], lang: Lang): Promise<Buffer> {
  const t = L[lang];
  const doc = newDoc({ title: `${t.receipt} ${r.receipt_no}` });
  const m = doc.page.margins;
  const left = m.left;
  const full = doc.page.width - left - m.right;
  const discom = lang === 'hi' ? r.discom_name_hi : r.discom_name;
  write(doc, `${discom} — ${t.receipt}`, { size: 15, bold: true, width: full });
  doc.moveDown(0.2);
  write(doc, `${t.receiptNo}: ${r.receipt_no}   ·   ${t.issued}: ${formatDateTime(r.issued_at.toISOString(), lang)}`, { size: 9, color: '#333333' });
  doc.moveDown(0.8);
  const half = full / 2 - 10;
  const top = doc.y;
  const y1 = pairs(doc, [
    [t.discom, `${discom} (${r.discom_code})`],
    [t.consumerNo, r.consumer_no],
    [t.consumerName, r.consumer_name ?? '—'],
    [t.org, lang === 'hi' ? (r.org_name_hi ?? r.org_name) : r.org_name],
  ], left, half);
  doc.y = top;
  const y2 = pairs(doc, [
    [t.batch, r.batch_reference],
    [t.orderId, r.order_id],
    [t.paymentId, r.gateway_payment_id],
    [t.method, methodName(r.method, t)],
  ], left + half + 20, half);
  doc.y = Math.max(y1, y2) + 10;
  table(doc, [{ header: '', width: 340 }, { header: '₹', width: 183, align: 'right' }], [
    [t.balanceBefore, balance(r.balance_before_paise, t, lang)],
    [t.paid, rupees(r.amount_paise, lang)],
    [`    ${t.advance}`, rupees(r.advance_paise, lang)],
    [t.rebateCredited, rupees(r.rebate_paise, lang)],
    [t.balanceAfterLong, balance(r.balance_after_paise, t, lang)],
  ], { size: 10 });
  doc.moveDown(0.6);
  write(doc, t.rebateNote, { x: left, width: full, size: 8, color: '#444444' });
  doc.moveDown(1.2);

  write(doc, t.posting, { x: left, size: 11, bold: true });
  doc.moveDown(0.3);
  const state = postingSummary(postings);
  write(doc, t.summary[state], { x: left, width: full, size: 9, bold: true, color: SUMMARY_COLOUR[state] });
  doc.moveDown(0.5);
  if (postings.length) {
    table(doc, [
      { header: t.kind, width: 90 }, { header: t.status, width: 85 }, { header: t.billingReceipt, width: 120 },
      { header: t.ackAt, width: 128 }, { header: t.amount, width: 100, align: 'right' },
    ], postings.map((p) => [
      t.kindOf[p.kind] ?? p.kind, t.statusOf[p.status], p.billing_receipt_no ?? '—',
      p.acknowledged_at ? formatDateTime(p.acknowledged_at.toISOString(), lang) : '—', rupees(p.amount_paise, lang),
    ]), { size: 9 });
  }
  doc.moveDown(1.2);
  write(doc, t.copy, { x: left, width: full, size: 8, color: '#555555' });
  footer(doc, (p, n) => `${r.receipt_no} · ${t.page(p, n)}`);
  return finish(doc);
}

/** One connection's receipt; null if the receipt is not the organisation's, or its batch is outside the scope's offices. */
export async function connectionReceiptPdf(db: Kysely<DB>, scope: Scope, receiptId: bigint, lang: Lang): Promise<Buffer | null> {
  const r = await receiptViews(db, scope.orgId).where('r.id', '=', receiptId).where(officeInScope(scope, sql.ref('b.office_id'))).executeTakeFirst();
  if (!r) return null;
  const postings = await postingsOf(db, scope.orgId, [r.id]);
  return renderReceipt(r, postings.get(r.id) ?? [], lang);
}

// ---- all of a batch's receipts as a ZIP -------------------------------------------------------

const fileName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');

/**
 * Writes a ZIP of the batch's consolidated receipt and every connection's receipt to `out`
 * (which it ends). False, with nothing written, if the batch is not the organisation's or has
 * no receipts.
 */
export async function receiptsZip(db: Kysely<DB>, orgId: bigint, batchId: bigint, lang: Lang, out: NodeJS.WritableStream): Promise<boolean> {
  const found = await batchHead(db, orgId, batchId);
  if (!found) return false;
  const { head, payments } = found;
  const archive = archiver('zip', { zlib: { level: 6 } });
  const done = pipeline(archive, out);
  // A failed pipeline (the client went away) must also stop the wait for the next entry.
  const stopped = done.then(() => {
    throw new Error('the ZIP stream closed before its entries were written');
  });
  stopped.catch(() => undefined);
  const added = (source: Buffer | Readable, name: string, date: Date) => {
    const written = once(archive, 'entry');
    archive.append(source, { name, date });
    return Promise.race([written, stopped]);
  };
  try {
    const doc = newDoc({ title: `${L[lang].consolidated} ${head.reference}` });
    const firstEntry = added(doc, `${fileName(head.reference)}-consolidated-receipt.pdf`, payments[0]?.captured_at ?? new Date());
    await writeConsolidated(db, orgId, batchId, lang, doc, head, payments);
    doc.end();
    await firstEntry;
    let after = 0n;
    for (;;) {
      const rows = await receiptViews(db, orgId).where('r.batch_id', '=', batchId).where('r.id', '>', after).orderBy('r.id').limit(PAGE_ROWS).execute();
      if (!rows.length) break;
      const postings = await postingsOf(db, orgId, rows.map((r) => r.id));
      for (const r of rows) {
        await added(await renderReceipt(r, postings.get(r.id) ?? [], lang), `receipts/${fileName(r.receipt_no)}.pdf`, r.issued_at);
      }
      if (rows.length < PAGE_ROWS) break;
      after = rows[rows.length - 1]!.id;
    }
    await archive.finalize();
    await done;
    return true;
  } catch (e) {
    archive.destroy(e as Error);
    await done.catch(() => undefined);
    throw e;
  }
}
