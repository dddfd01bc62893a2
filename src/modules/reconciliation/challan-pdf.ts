import QRCode from 'qrcode';
import { finish, footer, newDoc, pairs, write } from '../../platform/pdf.ts';
import { formatDateTime, formatPaise } from '../../shared/format.ts';
import type { Lang } from '../dues/documents.ts';
import { RTGS_MIN_PAISE } from './bulk-file.ts';
import type { ChallanView } from './challans.ts';

/** The challan to print, in English or Hindi: where to send the money, how much, by when. */

const L = {
  en: {
    title: 'RTGS / NEFT payment challan',
    payer: 'Payer', batch: 'Payment batch', connections: 'Connections', discom: 'Discom',
    beneficiary: 'Beneficiary name', account: 'Beneficiary account (virtual account)', ifsc: 'IFSC', bank: 'Bank',
    amount: 'Amount (exactly)', validUntil: 'Valid until', mode: 'Mode', issued: 'Issued',
    modeText: (rtgs: boolean) => (rtgs ? 'RTGS (₹2 lakh and more) or NEFT' : 'NEFT (or RTGS, ₹2 lakh and more)'),
    rules: [
      'Transfer exactly this amount, in one transfer, to this account. The account number is for this payment only: do not reuse it.',
      'Money received after the deadline, or a different amount, is not applied automatically; the discom’s accounts team will settle it with you.',
      'Quote the UTR of your transfer in any correspondence. Receipts are issued automatically when the money is credited.',
    ],
    status: 'Status', paid: 'Paid', expired: 'Expired', active: 'Open for payment',
    footer: (p: number, n: number) => `Sangrahan · page ${p} of ${n}`,
  },
  hi: {
    title: 'आरटीजीएस / एनईएफ़टी भुगतान चालान',
    payer: 'भुगतानकर्ता', batch: 'भुगतान बैच', connections: 'कनेक्शन', discom: 'डिस्कॉम',
    beneficiary: 'लाभार्थी का नाम', account: 'लाभार्थी खाता (वर्चुअल खाता)', ifsc: 'आईएफ़एससी', bank: 'बैंक',
    amount: 'राशि (ठीक इतनी)', validUntil: 'वैधता', mode: 'माध्यम', issued: 'जारी',
    modeText: (rtgs: boolean) => (rtgs ? 'आरटीजीएस (₹2 लाख और अधिक) या एनईएफ़टी' : 'एनईएफ़टी (या आरटीजीएस, ₹2 लाख और अधिक)'),
    rules: [
      'ठीक यही राशि, एक ही अंतरण में, इसी खाते में भेजें। यह खाता संख्या केवल इसी भुगतान के लिए है: इसे दोबारा उपयोग न करें।',
      'समय-सीमा के बाद प्राप्त राशि, या भिन्न राशि, स्वतः समायोजित नहीं होती; डिस्कॉम की लेखा टीम आपसे मिलकर इसका निपटारा करेगी।',
      'किसी भी पत्राचार में अपने अंतरण का यूटीआर लिखें। राशि जमा होते ही रसीदें स्वतः जारी होती हैं।',
    ],
    status: 'स्थिति', paid: 'भुगतान हो गया', expired: 'समाप्त', active: 'भुगतान के लिए खुला',
    footer: (p: number, n: number) => `संग्रहण · पृष्ठ ${p} / ${n}`,
  },
} as const;

export async function challanPdf(c: ChallanView, lang: Lang, now: Date): Promise<Buffer> {
  const t = L[lang];
  const doc = newDoc({ title: `${t.title} ${c.batchReference}` });
  const m = doc.page.margins;
  const full = doc.page.width - m.left - m.right;
  write(doc, t.title, { size: 16, bold: true });
  write(doc, lang === 'hi' ? c.discomNameHi : c.discomName, { size: 10, color: '#444444' });
  doc.moveDown(1);

  const rtgs = c.amountPaise >= RTGS_MIN_PAISE;
  const top = doc.y;
  const y = pairs(doc, [
    [t.payer, c.organisation],
    [t.batch, c.batchReference],
    [t.connections, String(c.itemCount)],
    [t.issued, formatDateTime(c.createdAt.toISOString(), lang)],
    [t.status, c.status === 'paid' ? t.paid : c.status === 'expired' || (c.status === 'active' && c.validUntil < now) ? t.expired : t.active],
  ], m.left, full - 130);
  // The payment details as a QR code, for banking apps and for checking what was typed.
  const qr = await QRCode.toBuffer(`account=${c.vaNumber};ifsc=${c.ifsc};amount=${formatPaise(c.amountPaise, 'en').replace(/[^0-9.]/g, '')};ref=${c.batchReference}`, { margin: 1, width: 110 });
  doc.image(qr, m.left + full - 110, top, { width: 110 });
  doc.y = Math.max(y, top + 118) + 6;

  // The box with what the bank needs.
  const boxTop = doc.y;
  doc.y = boxTop + 10;
  const rows: [string, string][] = [
    [t.beneficiary, c.beneficiaryName],
    [t.account, c.vaNumber.replace(/(.{4})(?=.)/g, '$1 ')],
    [t.ifsc, c.ifsc],
    [t.bank, c.bankName],
    [t.amount, formatPaise(c.amountPaise, lang)],
    [t.validUntil, formatDateTime(c.validUntil.toISOString(), lang)],
    [t.mode, t.modeText(rtgs)],
  ];
  for (const [k, v] of rows) {
    const ly = doc.y;
    write(doc, k, { x: m.left + 12, y: ly, width: full * 0.4, size: 10, color: '#444444' });
    write(doc, v, { x: m.left + 12 + full * 0.4, y: ly, width: full * 0.6 - 24, size: 11, bold: true });
    doc.y = Math.max(doc.y, ly + 19) + 3;
  }
  // The box drawn round the rows as laid out (Hindi lines are taller).
  doc.rect(m.left, boxTop, full, doc.y - boxTop + 6).lineWidth(1.2).strokeColor('#1a4f8b').stroke();
  doc.y += 20;
  for (const r of t.rules) {
    write(doc, `•  ${r}`, { x: m.left, width: full, size: 9.5 });
    doc.moveDown(0.4);
  }
  footer(doc, t.footer);
  return finish(doc);
}
