/**
 * Days and series of the collections dashboard and the daily report, kept apart from the pages so
 * they can be tested. Days are IST calendar days written YYYY-MM-DD, as the server counts them;
 * day arithmetic is done on UTC midnights so no local time zone or DST moves a day.
 */

const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Today in IST as YYYY-MM-DD. */
export const istToday = (now = new Date()) => new Date(now.getTime() + 5.5 * 3_600_000).toISOString().slice(0, 10);

/** A real calendar day written YYYY-MM-DD (not 2026-02-30). */
export function isDay(s: string): boolean {
  if (!ISO_DAY.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const addDays = (day: string, n: number) => new Date(new Date(`${day}T00:00:00Z`).getTime() + n * DAY_MS).toISOString().slice(0, 10);

/** Days from `from` to `to`, both included (none when from is after to). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 5000; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A range longer than this is drawn by month: more bars than this are too thin to read. */
export const MAX_DAY_BARS = 62;

export interface Period {
  /** First day of the day or month. */
  start: string;
  kind: 'day' | 'month';
  online: bigint;
  rtgsNeft: bigint;
}

/**
 * Money collected per day of [from, to], with the days without payments as zero (the server lists
 * only days with some), or per month when the range is longer than MAX_DAY_BARS days.
 */
export function collectionSeries(byDay: readonly { day: string; online: string; rtgsNeft: string }[], from: string, to: string): Period[] {
  const days = daysBetween(from, to);
  const byMonth = days.length > MAX_DAY_BARS;
  const key = (d: string) => (byMonth ? `${d.slice(0, 7)}-01` : d);
  const out = new Map<string, Period>();
  for (const d of days) if (!out.has(key(d))) out.set(key(d), { start: key(d), kind: byMonth ? 'month' : 'day', online: 0n, rtgsNeft: 0n });
  for (const r of byDay) {
    const p = out.get(key(r.day));
    if (!p) continue;
    p.online += BigInt(r.online);
    p.rtgsNeft += BigInt(r.rtgsNeft);
  }
  return [...out.values()];
}

const locale = (lang: string) => (lang === 'hi' ? 'hi-IN' : 'en-IN');

/** A day for a chart's axis: '5 Nov' / '5 नव॰'. */
export function formatDayShort(day: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'UTC', day: 'numeric', month: 'short', numberingSystem: 'latn' }).format(new Date(`${day}T00:00:00Z`));
}

/** Rupees of paise as a number, for bar heights only (never shown). */
export const barValue = (paise: bigint) => Number(paise / 100n);
