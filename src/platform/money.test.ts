import { describe, expect, it } from 'vitest';
import { paiseToRupeeString, parseRupees } from './money.ts';

describe('rupee amounts', () => {
  it.each([
    ['0', 0n],
    ['12', 1200n],
    ['12.5', 1250n],
    ['12.05', 1205n],
    ['1,23,45,678.90', 1234567890n],
    ['12,345,678.90', 1234567890n],
    ['₹ 1,000', 100000n],
    ['-45.10', -4510n],
    ['0.01', 1n],
  ])('parses %s exactly', (text, paise) => {
    expect(parseRupees(text)).toBe(paise);
  });

  it.each(['', 'abc', '1.234', '1,2,3', '12,34', '1e5', '١٢', '--1', '1.'])('rejects %j', (text) => {
    expect(parseRupees(text)).toBeNull();
  });

  it('prints paise back as plain rupees', () => {
    expect(paiseToRupeeString(1234567890n)).toBe('12345678.90');
    expect(paiseToRupeeString(-5n)).toBe('-0.05');
    expect(paiseToRupeeString(0n)).toBe('0.00');
  });
});
