/**
 * Money and dates for people, in the browser and in PDFs and messages: rupees with Indian digit
 * grouping (₹1,23,45,678.00), computed from integer paise with BigInt so no float touches money;
 * dates and times in IST.
 */

const locale = (lang: string) => (lang === 'hi' ? 'hi-IN' : 'en-IN');

export function formatPaise(paise: string | bigint, lang: string): string {
  const p = typeof paise === 'bigint' ? paise : BigInt(paise);
  const neg = p < 0n;
  const abs = neg ? -p : p;
  const rupees = new Intl.NumberFormat(locale(lang), { numberingSystem: 'latn' }).format(abs / 100n);
  return `${neg ? '−' : ''}₹${rupees}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/**
 * An amount in minor units (two decimals) of any currency: rupees as formatPaise does, any other
 * currency by Intl with its own symbol or code (a EUR statement shows €, never ₹).
 */
export function formatMoney(minor: string | bigint, currency: string, lang: string): string {
  if (currency === 'INR') return formatPaise(minor, lang);
  const p = typeof minor === 'bigint' ? minor : BigInt(minor);
  const abs = p < 0n ? -p : p;
  // A decimal string (Intl.NumberFormat reads it exactly), so that no amount goes through a float.
  const exact = `${p < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  try {
    return new Intl.NumberFormat(locale(lang), { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2, numberingSystem: 'latn' }).format(exact as unknown as number);
  } catch {
    return `${currency} ${exact}`;
  }
}

export function formatNumber(n: number, lang: string): string {
  return new Intl.NumberFormat(locale(lang), { numberingSystem: 'latn' }).format(n);
}

/** Basis points as a percentage: 150 → '1.5%'. */
export function formatBp(bp: number, lang: string): string {
  return `${new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 2, numberingSystem: 'latn' }).format(bp / 100)}%`;
}

export function formatDateTime(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: 'Asia/Kolkata',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    numberingSystem: 'latn',
  }).format(new Date(iso)) + ' IST';
}

export function formatDate(isoDate: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'Asia/Kolkata', day: 'numeric', month: 'short', year: 'numeric', numberingSystem: 'latn' }).format(
    new Date(`${isoDate}T00:00:00+05:30`),
  );
}

/** A bill month ('2026-01-01') as people write it: 'Jan 2026' / 'जन॰ 2026'. */
export function formatMonth(isoMonth: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'UTC', month: 'short', year: 'numeric', numberingSystem: 'latn' }).format(new Date(`${isoMonth.slice(0, 7)}-01T00:00:00Z`));
}

/** The month alone, for chart axes: 'Jan' / 'जन॰'; January also names its year ('Jan 26'). */
export function formatMonthShort(isoMonth: string, lang: string): string {
  const d = new Date(`${isoMonth.slice(0, 7)}-01T00:00:00Z`);
  const opts: Intl.DateTimeFormatOptions = d.getUTCMonth() === 0 ? { month: 'short', year: '2-digit' } : { month: 'short' };
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'UTC', numberingSystem: 'latn', ...opts }).format(d);
}

/** A list as people write it: 'NBPDCL and SBPDCL', 'NBPDCL और SBPDCL'. */
export function formatList(items: readonly string[], lang: string): string {
  return new Intl.ListFormat(locale(lang), { type: 'conjunction' }).format(items);
}
