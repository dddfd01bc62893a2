import { describe, expect, it } from 'vitest';
import { formatBp, formatDate, formatDateTime, formatMoney, formatNumber, formatPaise } from './format.ts';

describe('formats for people', () => {
  it('shows money in Indian grouping from integer paise', () => {
    expect(formatPaise('1234567800', 'en')).toBe('₹1,23,45,678.00');
    expect(formatPaise(5n, 'en')).toBe('₹0.05');
    expect(formatPaise('-250075', 'hi')).toBe('−₹2,500.75');
    // beyond a float's exact range, still exact
    expect(formatPaise('900719925474099312', 'en')).toBe('₹9,00,71,99,25,47,40,993.12');
  });

  it('groups counts the Indian way in both languages', () => {
    expect(formatNumber(240000, 'en')).toBe('2,40,000');
    expect(formatNumber(240000, 'hi')).toBe('2,40,000');
  });

  it('shows times in IST', () => {
    expect(formatDateTime('2026-03-31T18:45:00Z', 'en')).toMatch(/1 Apr 2026.*12:15.*IST/);
    expect(formatDate('2026-03-31', 'en')).toBe('31 Mar 2026');
  });

  it('shows basis points as percentages', () => {
    expect(formatBp(150, 'en')).toBe('1.5%');
    expect(formatBp(300, 'hi')).toBe('3%');
  });
});

describe('formatMoney: a statement in another currency shows its currency, not ₹', () => {
  it('formats rupees as formatPaise does, and other currencies by Intl with their symbol', () => {
    expect(formatMoney('12345678', 'INR', 'en')).toBe(formatPaise('12345678', 'en'));
    expect(formatMoney('1815', 'EUR', 'en')).toBe('€18.15');
    expect(formatMoney(-270000n, 'USD', 'en')).toBe('-$2,700.00');
    expect(formatMoney('2700', 'SEK', 'hi')).not.toContain('₹');
    expect(formatMoney('2700', 'SEK', 'hi')).toContain('27.00');
    // A code Intl does not know is shown as code and figure.
    expect(formatMoney('100', 'XQZ1', 'en')).toBe('XQZ1 1.00');
  });
});
