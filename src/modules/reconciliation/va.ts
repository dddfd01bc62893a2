/**
 * Virtual account numbers of RTGS/NEFT challans: the discom's four-letter prefix, a ten-digit
 * sequence and one Luhn check digit over both (letters counted as two digits, A = 10 … Z = 35,
 * as IBANs do), e.g. NBPD00000012347. A payer who mistypes one digit, or swaps two neighbours,
 * gets a number the portal knows is wrong rather than someone else's challan.
 */

const VA = /^([A-Z]{4})([0-9]{10})([0-9])$/;

function digitsOf(prefix: string, seq: string): string {
  let out = '';
  for (const ch of prefix) out += String(ch.charCodeAt(0) - 55);
  return out + seq;
}

/** The Luhn check digit of a string of digits. */
export function luhnDigit(digits: string): number {
  let sum = 0;
  // Doubling starts from the rightmost digit, since the check digit will follow it.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function vaNumber(prefix: string, seq: bigint): string {
  if (!/^[A-Z]{4}$/.test(prefix)) throw new RangeError(`virtual account prefix ${JSON.stringify(prefix)} is not four capital letters`);
  if (seq <= 0n || seq >= 10_000_000_000n) throw new RangeError(`virtual account sequence ${seq} is out of range`);
  const s = seq.toString().padStart(10, '0');
  return `${prefix}${s}${luhnDigit(digitsOf(prefix, s))}`;
}

/** A well-formed number whose check digit agrees (whether or not a challan has it). */
export function isVaNumber(text: string): boolean {
  const m = VA.exec(text);
  return !!m && luhnDigit(digitsOf(m[1]!, m[2]!)) === Number(m[3]);
}

/** Virtual account numbers with one of these prefixes written anywhere in a text (a narrative). */
export function vaNumbersIn(text: string, prefixes: readonly string[]): string[] {
  if (!prefixes.length) return [];
  const found = new Set<string>();
  const re = new RegExp(`(?:${prefixes.join('|')})[0-9]{11}`, 'g');
  for (const m of text.toUpperCase().replace(/[\s-]/g, '').matchAll(re)) if (isVaNumber(m[0])) found.add(m[0]);
  return [...found];
}
