import { describe, expect, it } from 'vitest';
import { addDays, collectionSeries, daysBetween, formatDayShort, isDay, istToday } from './collections';

describe('collection days', () => {
  it('takes today as the IST day, which starts at 18:30 UTC the evening before', () => {
    expect(istToday(new Date('2026-11-26T18:29:59Z'))).toBe('2026-11-26');
    expect(istToday(new Date('2026-11-26T18:30:00Z'))).toBe('2026-11-27');
  });

  it('accepts only real calendar days', () => {
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2028-02-29')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('26-02-01')).toBe(false);
    expect(isDay('')).toBe(false);
  });

  it('counts days across month and year ends, both ends included', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([]);
  });

  it('fills the days without payments with zero', () => {
    const s = collectionSeries([{ day: '2026-11-02', online: '1000', rtgsNeft: '250' }], '2026-11-01', '2026-11-03');
    expect(s.map((p) => [p.start, p.kind, p.online, p.rtgsNeft])).toEqual([
      ['2026-11-01', 'day', 0n, 0n],
      ['2026-11-02', 'day', 1000n, 250n],
      ['2026-11-03', 'day', 0n, 0n],
    ]);
  });

  it('groups a long range by month, adding paise exactly', () => {
    const s = collectionSeries(
      [
        { day: '2026-01-15', online: '900719925474099301', rtgsNeft: '0' },
        { day: '2026-01-20', online: '9', rtgsNeft: '5' },
        { day: '2026-03-31', online: '0', rtgsNeft: '7' },
      ],
      '2026-01-10',
      '2026-03-31',
    );
    expect(s.map((p) => [p.start, p.kind, p.online.toString(), p.rtgsNeft.toString()])).toEqual([
      ['2026-01-01', 'month', '900719925474099310', '5'],
      ['2026-02-01', 'month', '0', '0'],
      ['2026-03-01', 'month', '0', '7'],
    ]);
  });

  it('writes an axis day short, in Latin digits in Hindi too', () => {
    expect(formatDayShort('2026-11-05', 'en')).toBe('5 Nov');
    expect(formatDayShort('2026-11-05', 'hi')).toMatch(/^5 \S+$/);
  });
});
