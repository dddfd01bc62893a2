import { describe, expect, it } from 'vitest';
import { PAN, gstinCheckChar, maskMobile, validGstin } from './identifiers.ts';

describe('Indian identifiers', () => {
  it('checks the GSTIN check character', () => {
    expect(validGstin('27AAPFU0939F1ZV')).toBe(true); // a published example
    expect(validGstin('27AAPFU0939F1ZW')).toBe(false);
    expect(gstinCheckChar('27AAPFU0939F1Z')).toBe('V');
    expect(validGstin('99AAPFU0939F1ZV')).toBe(false); // no such state code
  });

  it('checks the PAN’s holder type letter', () => {
    expect(PAN.test('AABCB1234M')).toBe(true);
    expect(PAN.test('AABXB1234M')).toBe(false);
  });

  it('masks a mobile number', () => {
    expect(maskMobile('9876543210')).toBe('98XXXXXX10');
  });
});
