/**
 * Finding Indian payment references in free text.
 *
 * A UTR is found, in this order of preference:
 * 1. after a label: `UTR`, `UTR NO`, `UTR No.:`, `UTR-NUMBER` … or `RRN`, followed by an
 *    alphanumeric token of 8–30 characters holding a digit;
 * 2. by its shape: a NEFT/RTGS UTR is a 4-letter bank code, `N`, `R` or `H`, then 10–17
 *    characters, at least three quarters digits (`SBINN52026112712345`,
 *    `HDFCR52026112700012345`);
 * 3. an IMPS or UPI RRN: 12 digits within four tokens after `IMPS`, `UPI` or `MMT`.
 *
 * The text is read as tokens (runs of ASCII letters and digits), once, so the cost is linear and
 * no pattern can backtrack.
 */

const LABEL_FILLERS = new Set(['NO', 'NUMBER', 'NUM', 'NR', 'REF', 'REFNO', 'ID']);
const RRN_RAILS = new Set(['IMPS', 'UPI', 'MMT']);

function tokens(text: string): string[] {
  const out: string[] = [];
  const upper = text.toUpperCase();
  let start = -1;
  for (let i = 0; i <= upper.length; i++) {
    const c = i < upper.length ? upper.charCodeAt(i) : 0;
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
    if (alnum) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push(upper.slice(start, i));
      start = -1;
    }
  }
  return out;
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** A NEFT/RTGS UTR by shape alone. */
export function looksLikeUtr(token: string): boolean {
  const t = token.toUpperCase();
  if (t.length < 15 || t.length > 22) return false;
  if (!/^[A-Z]{4}[NRH][A-Z0-9]+$/.test(t)) return false;
  const rest = t.slice(5);
  return digitCount(rest) * 4 >= rest.length * 3;
}

const isRrn = (t: string) => t.length === 12 && /^\d{12}$/.test(t);

export function extractUtr(text: string): string | null {
  if (!text) return null;
  const toks = tokens(text);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === 'UTR' || t === 'UTRNO') {
      let j = i + 1;
      while (j < toks.length && LABEL_FILLERS.has(toks[j]!)) j++;
      const c = toks[j];
      if (c !== undefined && c.length >= 8 && c.length <= 30 && hasDigit(c)) return c;
    } else if (t === 'RRN') {
      const c = toks[i + 1];
      if (c !== undefined && isRrn(c)) return c;
    }
  }
  for (const t of toks) if (looksLikeUtr(t)) return t;
  for (let i = 0; i < toks.length; i++) {
    if (!RRN_RAILS.has(toks[i]!)) continue;
    for (let j = i + 1; j <= i + 4 && j < toks.length; j++) if (isRrn(toks[j]!)) return toks[j]!;
  }
  return null;
}

const RAILS = new Set(['NEFT', 'RTGS', 'IMPS', 'UPI', 'TRF']);
const RAIL_WORDS = new Set(['CR', 'DR', 'BY', 'TO', 'TRANSFER', 'INWARD', 'INW', 'CREDIT', 'DEBIT', 'MMT', 'P2A']);
const NOT_A_NAME = new Set(['UTR', 'NO', 'CR', 'DR', 'P2A', 'P2P', 'P2M', 'INWARD', 'INW', 'REF', 'RRN', 'NEFT', 'RTGS', 'IMPS', 'UPI', 'TRF', 'MMT', 'NA', 'NONREF']);
const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;

/** "M/S ACME TRADERS", "C/O …": a single letter before a slash is part of the name. */
function joinInitials(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    if (/^\p{L}$/u.test(s) && i + 1 < raw.length && /^\p{L}/u.test(raw[i + 1]!)) {
      out.push(`${s}/${raw[i + 1]!}`);
      i++;
    } else out.push(s);
  }
  return out;
}

/**
 * The remitter's name in an Indian-style narrative: `NEFT/UTR SBINN5…/RAMESH KUMAR/…`,
 * `IMPS/P2A/512345678901/RAMESH/…`, `BY TRANSFER-NEFT*SBIN0001234*SBINN5…*RAMESH KUMAR`,
 * `NEFT CR-SBIN0001234-RAMESH KUMAR-BILL 42-SBINN5…`. The first segment must name the rail
 * (NEFT, RTGS, IMPS, UPI, or TRF as the writers of this module use); the name is the first
 * later segment that is not the UTR, an IFSC, a label, a number, or a UPI address. European
 * narratives do not start with a rail and give null.
 */
export function extractPayerName(narrative: string, utr: string | null): string | null {
  const text = narrative.replace(/\*/g, '/');
  let segs: string[] | null = null;
  // Split on '/' or else '-', whichever leaves the rail (and words like CR, BY TRANSFER) alone
  // in the first segment: `RTGS-UTR NO:…-M/S ACME-…` is split on '-'.
  for (const sep of ['/', '-']) {
    if (!text.includes(sep)) continue;
    const parts = text.split(sep).map((s) => s.trim());
    const head = tokens(parts[0]!);
    if (head.some((t) => RAILS.has(t)) && head.every((t) => RAILS.has(t) || RAIL_WORDS.has(t))) {
      segs = sep === '/' ? joinInitials(parts) : parts;
      break;
    }
  }
  if (!segs) return null;
  const utrUpper = utr?.toUpperCase() ?? null;
  for (const seg of segs.slice(1)) {
    if (!/\p{L}/u.test(seg) || seg.includes('@')) continue;
    const upper = seg.toUpperCase();
    if (utrUpper && upper.includes(utrUpper)) continue;
    if (IFSC.test(upper)) continue;
    const toks = tokens(seg);
    if (toks.length > 0 && toks.every((t) => NOT_A_NAME.has(t) || isRrn(t) || looksLikeUtr(t))) continue;
    if (toks[0] === 'UTR' || toks[0] === 'RRN') continue;
    const letters = seg.replace(/[^\p{L}]/gu, '').length;
    if (digitCount(seg) > letters) continue;
    return seg.replace(/\s+/g, ' ');
  }
  return null;
}
