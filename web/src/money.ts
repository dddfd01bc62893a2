/**
 * Rupees typed by people ↔ paise sent to the server, with string arithmetic only: no float ever
 * holds money. '1,23,456.7' → '12345670'; '12345670' → '123456.70'.
 */

/** At most 13 digits of rupees: the server takes at most 15 digits of paise. */
const RUPEES = /^(\d{1,13})(?:\.(\d{0,2}))?$/;

/** Paise (decimal string) of a rupee amount as typed, or null when it is not one. Commas and spaces are ignored. */
export function rupeesToPaise(input: string): string | null {
  const s = input.replace(/[\s,₹]/g, '');
  const m = RUPEES.exec(s);
  if (!m) return null;
  const paise = `${m[1]}${(m[2] ?? '').padEnd(2, '0')}`.replace(/^0+(?=\d)/, '');
  return paise;
}

/** A paise string as plain rupees for an input: '12345670' → '123456.70', '5' → '0.05'. */
export function paiseToRupees(paise: string): string {
  const neg = paise.startsWith('-');
  const digits = (neg ? paise.slice(1) : paise).replace(/^0+(?=\d)/, '').padStart(3, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
