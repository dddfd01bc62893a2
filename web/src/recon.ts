/**
 * Words and figures of RTGS/NEFT challans and reconciliation, kept apart from the pages so they
 * can be tested: the server's matcher and the sandbox bank write English for logs, and these put
 * the shapes they know into the page's language (anything else is shown as it came).
 */
import type { ReconException } from './api';
import { formatDateTime, formatPaise } from './format';

type T = (key: string, options?: Record<string, string>) => string;

/** A virtual account number in groups of four, as people copy it into a bank's form: 'NBPD 0000 0000 017'. */
export const groupVa = (va: string) => va.match(/.{1,4}/g) ?? [va];

/** A payment's number from its reference or the number itself: 'PB00000042' or '42' → '42'; anything else → null. */
export function batchIdOf(input: string): string | null {
  const m = /^(?:PB)?0*(\d{1,18})$/i.exec(input.trim().replace(/\s+/g, ''));
  return m && m[1] !== '0' ? m[1]! : null;
}

const locale = (lang: string) => (lang === 'hi' ? 'hi-IN' : 'en-IN');

/** How long ago, in words: '3 minutes ago' / '3 मिनट पहले'. */
export function formatAge(iso: string, lang: string, now = Date.now()): string {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(lang), { numeric: 'auto', numberingSystem: 'latn' } as Intl.RelativeTimeFormatOptions);
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.trunc(s / 60), 'minute');
  if (a < 48 * 3600) return rtf.format(Math.trunc(s / 3600), 'hour');
  return rtf.format(Math.trunc(s / 86400), 'day');
}

/**
 * An exception's detail in the page's language. The server writes it in English for the audit log
 * (`credited 1839330 paise of 1849330`); the known shapes are put in words, others shown as they are.
 */
export function exceptionDetail(x: Pick<ReconException, 'reason' | 'detail'>, lang: string, t: T): string {
  const d = x.detail ?? '';
  const money = (p: string) => formatPaise(p, lang);
  const diff = (a: string, b: string) => formatPaise((BigInt(a) - BigInt(b)).toString(), lang);
  let m = /^credited (\d+) paise of (\d+)$/.exec(d);
  if (m) return t('recon.detailShort', { paid: money(m[1]!), due: money(m[2]!), diff: diff(m[2]!, m[1]!) });
  m = /^credited (\d+) paise for (\d+)$/.exec(d);
  if (m) return t('recon.detailExcess', { paid: money(m[1]!), due: money(m[2]!), diff: diff(m[1]!, m[2]!) });
  m = /^credited (\S+), the challan was valid until (\S+)$/.exec(d);
  if (m && !Number.isNaN(Date.parse(m[1]!)) && !Number.isNaN(Date.parse(m[2]!))) return t('recon.detailLate', { at: formatDateTime(m[1]!, lang), until: formatDateTime(m[2]!, lang) });
  m = /^no challan has virtual account (\S+)$/.exec(d);
  if (m) return t('recon.detailUnknownVa', { va: m[1]! });
  m = /^captured (\d+) paise of the order's (\d+); applied as a part payment$/.exec(d);
  if (m) return t('recon.detailShortCapture', { paid: money(m[1]!), due: money(m[2]!), diff: diff(m[2]!, m[1]!) });
  m = /^(pay_\w+) captured ([A-Z]{3}) (\d+) paise for (?:order (\S+)|no order), which the portal did not create$/.exec(d);
  if (m) {
    const amount = m[2] === 'INR' ? money(m[3]!) : `${m[2]} ${(Number(m[3]) / 100).toFixed(2)}`;
    return m[4] ? t('recon.detailUnknownOrder', { payment: m[1]!, amount, order: m[4] }) : t('recon.detailNoOrder', { payment: m[1]!, amount });
  }
  m = /^UTR (\S+) was reported before for (\d+) paise, now for (\d+) \((\w+)\)$/.exec(d);
  if (m) return t('recon.detailUtrMismatch', { utr: m[1]!, before: money(m[2]!), now: money(m[3]!), source: t(`threeWay.confirmedBy.${m[4]!}`, { defaultValue: m[4]! }) });
  return d || '—';
}

/** A statement line's reason (the matcher's words) in the page's language; unknown ones as they are. */
export function lineReason(reason: string | null, t: T): string {
  if (!reason) return '—';
  const known: Record<string, string> = { utr: 'utr', 'new credit': 'newCredit', settlement_utr: 'settlement', 'a debit': 'debit', 'zero amount': 'zero', known_line: 'known' };
  if (known[reason]) return t(`lineReason.${known[reason]}`);
  if (reason.startsWith('currency ')) return t('lineReason.currency');
  return reason;
}

/** Why the bank returned a transfer, in the page's language (the bank's own words when unknown). */
export function returnReason(reason: string, lang: string, t: T): string {
  const exact = /^amount must be exactly (\d+)\.(\d{2})$/.exec(reason);
  if (exact) return t('sandboxBank.reasons.exact', { amount: formatPaise(`${exact[1]}${exact[2]}`, lang) });
  const noAccount = /^no account of this bank has virtual accounts (\S{1,4})/.exec(reason);
  if (noAccount) return t('sandboxBank.reasons.noAccount', { prefix: noAccount[1]! });
  const known: Record<string, string> = { 'challan expired': 'expired', 'unknown virtual account': 'unknownVa', 'challan already paid': 'paid' };
  return known[reason] ? t(`sandboxBank.reasons.${known[reason]}`) : reason;
}
