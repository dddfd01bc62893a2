import ExcelJS from 'exceljs';
import { finish, footer, newDoc, table, write } from '../../platform/pdf.ts';
import { formatDate, formatNumber, formatPaise } from '../../shared/format.ts';
import type { Lang } from '../dues/documents.ts';
import type { DailyReport } from './reports.ts';

/** The daily reconciliation report as a PDF (English or Hindi) and as an XLSX workbook. */

const WORDS = {
  en: {
    title: 'Daily reconciliation report', day: 'Day', received: 'Money received', mode: 'Mode', count: 'Count', amount: 'Amount',
    credits: 'Bank credits', status: 'State', settlements: 'Gateway settlements', fees: 'Fees and tax', inStatement: 'Seen in a bank statement',
    lines: 'Statement lines (value date)', opened: 'Exceptions raised', resolved: 'Exceptions resolved', open: 'Exceptions open at the end of the day',
    postings: 'Postings to the billing system', items: 'Open exceptions', reason: 'Reason', utr: 'UTR', batch: 'Batch', organisation: 'Organisation', since: 'Since',
    resolution: 'Resolution', none: 'None', footer: (p: number, n: number) => `Sangrahan · page ${p} of ${n}`,
    discom: 'Discom', both: 'Both discoms (BSPHCL, the holding company)', holdingOnly: 'Gateway settlements pay both discoms in one payout: the holding company’s report shows them.',
    names: {
      online: 'Online (gateway)', rtgs_neft: 'RTGS/NEFT', applied: 'Applied', held: 'Held (exception)', refund: 'Marked for refund', settlement: 'Gateway payout', received: 'Being matched',
      matched: 'Matched', exception: 'Contradiction', not_applicable: 'Not applicable', new: 'New',
      amount_short: 'Amount short', amount_excess: 'Amount excess', challan_expired: 'Challan expired', unknown_va: 'Unknown virtual account', duplicate_credit: 'Duplicate credit',
      several_candidates: 'Several candidates', no_candidate: 'No candidate', not_settled: 'Not settled by the gateway',
      short_capture: 'Paid less than the order', unknown_order: 'Order not made by the portal', utr_amount_mismatch: 'UTR with another amount',
      part_payment: 'Part payment', advance: 'Advance credit', extended: 'Challan extended', assigned: 'Assigned to a batch', settled: 'Settled',
      pending: 'Pending', acknowledged: 'Acknowledged', rejected: 'Refused',
    } as Record<string, string>,
  },
  hi: {
    title: 'दैनिक मिलान रिपोर्ट', day: 'दिन', received: 'प्राप्त राशि', mode: 'माध्यम', count: 'संख्या', amount: 'राशि',
    credits: 'बैंक जमा', status: 'स्थिति', settlements: 'गेटवे निपटान', fees: 'शुल्क और कर', inStatement: 'बैंक विवरण में मिला',
    lines: 'विवरण की प्रविष्टियाँ (मूल्य तिथि)', opened: 'उठे अपवाद', resolved: 'निपटाए गए अपवाद', open: 'दिन के अंत में खुले अपवाद',
    postings: 'बिलिंग प्रणाली में पोस्टिंग', items: 'खुले अपवाद', reason: 'कारण', utr: 'यूटीआर', batch: 'बैच', organisation: 'संस्था', since: 'कब से',
    resolution: 'निपटारा', none: 'कोई नहीं', footer: (p: number, n: number) => `संग्रहण · पृष्ठ ${p} / ${n}`,
    discom: 'डिस्कॉम', both: 'दोनों डिस्कॉम (BSPHCL, होल्डिंग कंपनी)', holdingOnly: 'गेटवे निपटान दोनों डिस्कॉम का एक साथ भुगतान करते हैं: ये होल्डिंग कंपनी की रिपोर्ट में दिखते हैं।',
    names: {
      online: 'ऑनलाइन (गेटवे)', rtgs_neft: 'आरटीजीएस/एनईएफ़टी', applied: 'समायोजित', held: 'रोका गया (अपवाद)', refund: 'वापसी हेतु', settlement: 'गेटवे भुगतान', received: 'मिलान जारी',
      matched: 'मिलान हुआ', exception: 'विरोधाभास', not_applicable: 'लागू नहीं', new: 'नया',
      amount_short: 'राशि कम', amount_excess: 'राशि अधिक', challan_expired: 'चालान समाप्त', unknown_va: 'अज्ञात वर्चुअल खाता', duplicate_credit: 'दोहरी जमा',
      several_candidates: 'कई संभावित', no_candidate: 'कोई संभावित नहीं', not_settled: 'गेटवे से निपटान नहीं',
      short_capture: 'ऑर्डर से कम भुगतान', unknown_order: 'पोर्टल का नहीं बना ऑर्डर', utr_amount_mismatch: 'UTR दूसरी राशि के साथ',
      part_payment: 'आंशिक भुगतान', advance: 'अग्रिम जमा', extended: 'चालान बढ़ाया', assigned: 'बैच को सौंपा', settled: 'निपटा',
      pending: 'लंबित', acknowledged: 'स्वीकृत', rejected: 'अस्वीकृत',
    } as Record<string, string>,
  },
} as const;

type Row = { count: number; amountPaise: string } & Record<string, string | number>;

export async function dailyReportPdf(r: DailyReport, lang: Lang): Promise<Buffer> {
  const t = WORDS[lang];
  const name = (k: string) => t.names[k] ?? k;
  const doc = newDoc({ title: `${t.title} ${r.day}` });
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  // A heading with at least a few rows' room below it, at the left margin.
  const heading = (text: string) => {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 90) doc.addPage();
    write(doc, text, { x: left, size: 11, bold: true });
    doc.moveDown(0.3);
  };
  write(doc, t.title, { size: 16, bold: true });
  write(doc, `${t.day}: ${formatDate(r.day, lang)}`, { size: 10, color: '#444444' });
  write(doc, `${t.discom}: ${r.discom ?? t.both}`, { size: 10, color: '#444444' });
  doc.moveDown(0.8);
  const section = (title: string, head: string, rows: Row[], key: string) => {
    heading(title);
    if (!rows.length) {
      write(doc, t.none, { x: left, size: 9, color: '#555555' });
    } else {
      table(doc, [{ header: head, width: width * 0.5 }, { header: t.count, width: width * 0.2, align: 'right' }, { header: t.amount, width: width * 0.3, align: 'right' }],
        rows.map((x) => [name(String(x[key])), formatNumber(x.count, lang), formatPaise(x.amountPaise, lang)]), { size: 9 });
    }
    doc.moveDown(0.8);
  };
  section(t.received, t.mode, r.received, 'mode');
  section(t.credits, t.status, r.credits, 'status');
  heading(t.settlements);
  const st = r.settlements;
  if (!st) write(doc, t.holdingOnly, { x: left, size: 9, color: '#555555' });
  else {
    table(doc, [{ header: t.count, width: width * 0.2, align: 'right' }, { header: t.amount, width: width * 0.3, align: 'right' }, { header: t.fees, width: width * 0.25, align: 'right' }, { header: t.inStatement, width: width * 0.25, align: 'right' }],
      [[formatNumber(st.count, lang), formatPaise(st.amountPaise, lang), formatPaise(st.feesPaise, lang), formatNumber(st.inStatement, lang)]], { size: 9 });
  }
  doc.moveDown(0.8);
  section(t.lines, t.status, r.statementLines, 'status');
  section(t.opened, t.reason, r.exceptionsOpened, 'reason');
  section(t.resolved, t.resolution, r.exceptionsResolved, 'resolution');
  section(t.open, t.reason, r.exceptionsOpen, 'reason');
  section(t.postings, t.status, r.postings, 'status');
  heading(t.items);
  if (!r.openItems.length) write(doc, t.none, { x: left, size: 9, color: '#555555' });
  else {
    table(doc, [
      { header: t.reason, width: width * 0.19 }, { header: t.amount, width: width * 0.14, align: 'right' }, { header: t.utr, width: width * 0.26 },
      { header: t.batch, width: width * 0.12 }, { header: t.organisation, width: width * 0.17 }, { header: t.since, width: width * 0.12 },
    ], r.openItems.map((i) => [name(i.reason), formatPaise(i.amountPaise, lang), i.utr ?? '—', i.reference ?? '—', i.organisation ?? '—', formatDate(new Date(new Date(i.createdAt).getTime() + 5.5 * 3_600_000).toISOString().slice(0, 10), lang)]), { size: 8 });
  }
  footer(doc, t.footer);
  return finish(doc);
}

export async function dailyReportXlsx(r: DailyReport): Promise<Buffer> {
  const t = WORDS.en;
  const name = (k: string) => t.names[k] ?? k;
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Sangrahan';
  const rupees = (p: string) => Number(BigInt(p)) / 100;
  const summary = wb.addWorksheet('Summary');
  summary.columns = [{ width: 34 }, { width: 30 }, { width: 10 }, { width: 18 }];
  summary.addRow([t.title, r.day]).font = { bold: true };
  summary.addRow([t.discom, r.discom ?? t.both]);
  const block = (title: string, rows: Row[], key: string) => {
    summary.addRow([]);
    summary.addRow([title, '', t.count, t.amount]).font = { bold: true };
    for (const x of rows) {
      const row = summary.addRow(['', name(String(x[key])), x.count, rupees(x.amountPaise)]);
      row.getCell(4).numFmt = '#,##0.00';
    }
  };
  block(t.received, r.received, 'mode');
  block(t.credits, r.credits, 'status');
  summary.addRow([]);
  summary.addRow([t.settlements, t.inStatement, t.count, t.amount]).font = { bold: true };
  if (!r.settlements) summary.addRow(['', t.holdingOnly]);
  else {
    const s = summary.addRow(['', r.settlements.inStatement, r.settlements.count, rupees(r.settlements.amountPaise)]);
    s.getCell(4).numFmt = '#,##0.00';
  }
  block(t.lines, r.statementLines, 'status');
  block(t.opened, r.exceptionsOpened, 'reason');
  block(t.resolved, r.exceptionsResolved, 'resolution');
  block(t.open, r.exceptionsOpen, 'reason');
  block(t.postings, r.postings, 'status');
  const items = wb.addWorksheet('Open exceptions');
  items.columns = [{ header: 'Id', width: 8 }, { header: t.reason, width: 26 }, { header: t.amount, width: 16 }, { header: t.utr, width: 24 }, { header: t.batch, width: 14 }, { header: t.organisation, width: 30 }, { header: t.since, width: 22 }, { header: 'Detail', width: 50 }];
  items.getRow(1).font = { bold: true };
  for (const i of r.openItems) {
    const row = items.addRow([Number(i.id), name(i.reason), rupees(i.amountPaise), i.utr ?? '', i.reference ?? '', i.organisation ?? '', i.createdAt, i.detail ?? '']);
    row.getCell(3).numFmt = '#,##0.00';
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
