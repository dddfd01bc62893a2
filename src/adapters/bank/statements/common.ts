import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * Text as files arrive: a UTF-8 BOM is dropped, a UTF-16 BOM (Excel's "Unicode text") decodes
 * as UTF-16, valid UTF-8 as UTF-8, anything else as Windows-1252 (the WHATWG reading of
 * "latin1": the same bytes, plus printable characters in 0x80–0x9F).
 */
export function decodeText(data: Buffer): string {
  if (data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
  else if (data.length >= 2 && data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data.subarray(2));
  else if (data.length >= 2 && data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data.subarray(2));
  return isUtf8(data) ? data.toString('utf8') : new TextDecoder('windows-1252').decode(data);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** 'YYYY-MM-DD' for a real calendar day, else null. */
export function isoDate(year: number, month: number, day: number): string | null {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return null;
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const max = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > max) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * A date a bank wrote on a statement line: the calendar day, or, for a day past the end of its
 * month (banks emit `30 February`, `31 April`), the last day of that month, marked impossible so
 * that the line is kept and reviewed instead of the whole file refused. Anything else (month 13,
 * day 0 or 32, a year out of range) is null.
 */
export function lineDate(year: number, month: number, day: number): { date: string; impossible: boolean } | null {
  const date = isoDate(year, month, day);
  if (date) return { date, impossible: false };
  if (!isoDate(year, month, 1) || !Number.isInteger(day) || day > 31) return null;
  for (let d = 30; d >= 28; d--) {
    const last = isoDate(year, month, d);
    if (last && d < day) return { date: last, impossible: true };
  }
  return null;
}

/** YYMMDD with the 20YY pivot. */
export function yymmdd(s: string): string | null {
  if (!/^\d{6}$/.test(s)) return null;
  return isoDate(2000 + Number(s.slice(0, 2)), Number(s.slice(2, 4)), Number(s.slice(4, 6)));
}

/**
 * An entry date given as MMDD beside a full value date: the year that puts it nearest the
 * value date (an entry on 31 December for a value date of 2 January is the year before).
 */
export function nearestMmdd(mmdd: string, valueDate: string): string | null {
  const month = Number(mmdd.slice(0, 2));
  const day = Number(mmdd.slice(2, 4));
  const year = Number(valueDate.slice(0, 4));
  const anchor = Date.parse(valueDate);
  let best: string | null = null;
  let bestGap = Infinity;
  for (const y of [year, year - 1, year + 1]) {
    const d = isoDate(y, month, day);
    if (!d) continue;
    const gap = Math.abs(Date.parse(d) - anchor);
    if (gap < bestGap) {
      best = d;
      bestGap = gap;
    }
  }
  return best;
}

/**
 * Minor units from the digits before and after the decimal separator, never through a float.
 * Returns a reason when the figure cannot be one.
 */
export function paiseFromParts(intDigits: string, fracDigits: string): bigint | string {
  if (!/^\d+$/.test(intDigits)) return 'no digits before the decimal separator';
  if (!/^\d*$/.test(fracDigits)) return 'not a number after the decimal separator';
  // `1000.000` and `5442.09000` are exact figures in paise (some banks pad to 3 or 5 places);
  // a digit past the paisa that is not zero is money the portal cannot hold, so it is refused.
  if (fracDigits.length > 2 && /[^0]/.test(fracDigits.slice(2))) return `more than 2 decimals (${fracDigits.length}), and not zeros past the paisa`;
  return BigInt(intDigits) * 100n + BigInt(fracDigits.slice(0, 2).padEnd(2, '0'));
}

/** '-1234718.36' */
export function formatPaise(paise: bigint): string {
  const neg = paise < 0n;
  const abs = neg ? -paise : paise;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/**
 * A copy of a string that shares no memory with the text it was cut from: V8 keeps the whole
 * parent of a slice alive, so a result holding slices of a 100 MB file would hold the file.
 */
export function detach<T extends string | null>(s: T): T {
  // V8 copies substrings shorter than 13 characters anyway.
  return (s === null || s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8')) as T;
}

/** Shortens a value quoted in an error message. */
export function quote(s: string, max = 60): string {
  const oneLine = s.replace(/[\r\n\t]/g, ' ');
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine);
}
