import { csvLine } from '../../platform/csv.ts';
import type { ChallanView } from './challans.ts';

/**
 * The payer's bank bulk-payment file for a challan: one instruction in the column layout that
 * Indian corporate banking portals take for NEFT/RTGS bulk uploads (the HDFC ENet layout, which
 * other banks' upload formats follow closely): transaction type N (NEFT) or R (RTGS, for ₹2 lakh
 * and more), beneficiary account (the challan's virtual account), amount in rupees, beneficiary
 * name, references, value date DD/MM/YYYY, IFSC, bank name. No header row: these uploads take
 * none. The payer's own account is chosen in its banking portal.
 */

export const RTGS_MIN_PAISE = 2_00_000_00n;

const rupees = (p: bigint) => `${p / 100n}.${(p % 100n).toString().padStart(2, '0')}`;
const ddmmyyyy = (d: Date) => {
  const ist = new Date(d.getTime() + 5.5 * 3_600_000).toISOString().slice(0, 10);
  return `${ist.slice(8, 10)}/${ist.slice(5, 7)}/${ist.slice(0, 4)}`;
};

export function bulkPaymentFile(c: ChallanView, valueDate: Date): Buffer {
  const type = c.amountPaise >= RTGS_MIN_PAISE ? 'R' : 'N';
  // Banks cap names and narrations (beneficiary name 35, references 20–30 characters).
  const name = c.beneficiaryName.slice(0, 35);
  const row = [
    type, // Transaction Type
    c.vaNumber.slice(0, 13), // Beneficiary Code (the payer's own label)
    c.vaNumber, // Beneficiary Account Number
    rupees(c.amountPaise), // Instrument Amount
    name, // Beneficiary Name
    '', '', // Drawee Location, Print Location (cheques and drafts only)
    '', '', '', '', '', // Beneficiary Address 1–5
    c.batchReference.slice(0, 20), // Instruction Reference Number
    c.batchReference.slice(0, 20), // Customer Reference Number
    `ELECTRICITY ${c.discomCode}`.slice(0, 30), // Payment Details 1
    c.vaNumber, // Payment Details 2
    '', '', '', '', '', // Payment Details 3–7
    '', // Cheque Number
    ddmmyyyy(valueDate), // Chq / Trn Date
    '', // MICR Number
    c.ifsc, // IFSC
    c.bankName.slice(0, 35), // Beneficiary Bank Name
    '', // Beneficiary Bank Branch Name
    '', // Beneficiary e-mail
  ];
  return Buffer.from(csvLine(row).replace(/\n$/, '\r\n'));
}
