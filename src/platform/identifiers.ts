/**
 * Indian identifiers, checked for format (and the GSTIN's check character). A clean value is
 * upper-case without spaces.
 */

export const PAN = /^[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]$/;
export const TAN = /^[A-Z]{4}[0-9]{5}[A-Z]$/;
export const GSTIN = /^(0[1-9]|[1-3][0-9])[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;
export const DEPARTMENT_CODE = /^[A-Z]{2}-[A-Z0-9]{2,12}$/;
export const MOBILE = /^[6-9][0-9]{9}$/;
/** A login ID: 3 to 40 small letters, digits, dots, dashes or underscores, starting with a letter or digit (users.login_id's CHECK). */
export const LOGIN_ID = /^[a-z0-9][a-z0-9._-]{2,39}$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
export const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;

const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The GSTIN check character for its first 14 characters. */
export function gstinCheckChar(first14: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    const product = CHARS.indexOf(first14[i]!) * (i % 2 === 0 ? 1 : 2);
    sum += Math.floor(product / 36) + (product % 36);
  }
  return CHARS[(36 - (sum % 36)) % 36]!;
}

export function validGstin(g: string): boolean {
  return GSTIN.test(g) && gstinCheckChar(g.slice(0, 14)) === g[14];
}

export function clean(v: string | undefined | null): string | null {
  const t = v?.replace(/\s+/g, '').toUpperCase();
  return t ? t : null;
}

/** '9876543210' → '98XXXXXX10' */
export function maskMobile(m: string | null): string | null {
  return m ? `${m.slice(0, 2)}XXXXXX${m.slice(-2)}` : null;
}
