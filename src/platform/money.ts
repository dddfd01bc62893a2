/**
 * Money is integer paise (bigint). Rupee strings are parsed exactly, never through a float.
 */

// At most 15 digits of rupees: far above any bill, and always within a bigint of paise.
const RUPEES = /^(-)?(\d{1,15})(?:\.(\d{1,2}))?$/;
// Indian grouping (1,23,45,678.50) or Western grouping (12,345,678.50).
const GROUPED = /^-?(\d{1,2},(\d{2},)*\d{3}|\d{1,3}(,\d{3})+)(\.\d{1,2})?$/;

/** '1,23,456.7' → 12345670n; null when the text is not an amount in rupees. */
export function parseRupees(text: string): bigint | null {
  let t = text.trim().replace(/^₹\s*/, '');
  if (t.includes(',')) {
    if (!GROUPED.test(t)) return null;
    t = t.replaceAll(',', '');
  }
  const m = RUPEES.exec(t);
  if (!m) return null;
  const paise = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -paise : paise;
}

/** 12345670n → '123456.70' (plain, for files). */
export function paiseToRupeeString(paise: bigint): string {
  const neg = paise < 0n;
  const abs = neg ? -paise : paise;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}
