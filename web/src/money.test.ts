import { describe, expect, it } from 'vitest';
import { paiseToRupees, rupeesToPaise } from './money';

describe('rupees and paise', () => {
  it('reads rupees as typed, exactly', () => {
    expect(rupeesToPaise('1000')).toBe('100000');
    expect(rupeesToPaise('1000.5')).toBe('100050');
    expect(rupeesToPaise('1,23,456.78')).toBe('12345678');
    expect(rupeesToPaise('₹ 0.07')).toBe('7');
    expect(rupeesToPaise('0')).toBe('0');
    expect(rupeesToPaise('12.')).toBe('1200');
    // 0.1 + 0.2 in floats is not 0.3: strings do not have that problem.
    expect(rupeesToPaise('9999999999999.99')).toBe('999999999999999');
  });

  it('refuses what is not an amount', () => {
    for (const bad of ['', '.', '-5', '1.234', 'abc', '1e5', '12345678901234', '1.2.3']) expect(rupeesToPaise(bad), bad).toBeNull();
  });

  it('writes paise as rupees', () => {
    expect(paiseToRupees('12345678')).toBe('123456.78');
    expect(paiseToRupees('5')).toBe('0.05');
    expect(paiseToRupees('0')).toBe('0.00');
    expect(paiseToRupees('100')).toBe('1.00');
    expect(paiseToRupees('-250')).toBe('-2.50');
    for (const p of ['1', '99', '100050', '999999999999999']) expect(rupeesToPaise(paiseToRupees(p))).toBe(p);
  });
});
