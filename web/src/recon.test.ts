import { createInstance } from 'i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import en from './i18n/en.json';
import hi from './i18n/hi.json';
import { batchIdOf, exceptionDetail, formatAge, groupVa, lineReason, returnReason } from './recon';

const i18n = createInstance();
const t = (lang: string) => (k: string, o?: Record<string, string>) => i18n.t(k, { lng: lang, ...o });

beforeAll(async () => {
  await i18n.init({ resources: { en: { translation: en }, hi: { translation: hi } }, lng: 'en', interpolation: { escapeValue: false } });
});

describe('challan and reconciliation words', () => {
  it('groups a virtual account number in fours', () => {
    expect(groupVa('NBPD00000000017')).toEqual(['NBPD', '0000', '0000', '017']);
    expect(groupVa('SBPD')).toEqual(['SBPD']);
  });

  it('reads a payment reference or its number, and nothing else', () => {
    expect(batchIdOf('PB00000042')).toBe('42');
    expect(batchIdOf(' pb 0000 0042 ')).toBe('42');
    expect(batchIdOf('42')).toBe('42');
    for (const bad of ['', 'PB', 'PB-42', '0', 'PB00000000', '4.2', 'batch 42']) expect(batchIdOf(bad), bad).toBeNull();
  });

  it('says how long ago in Indian English and Hindi, with Latin digits', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(formatAge('2026-03-01T09:59:30Z', 'en', now)).toBe('30 seconds ago');
    expect(formatAge('2026-03-01T09:57:00Z', 'en', now)).toBe('3 minutes ago');
    expect(formatAge('2026-03-01T05:00:00Z', 'en', now)).toBe('5 hours ago');
    expect(formatAge('2026-02-20T10:00:00Z', 'en', now)).toBe('9 days ago');
    expect(formatAge('2026-03-01T09:57:00Z', 'hi', now)).toBe('3 मिनट पहले');
  });

  it("puts the matcher's details in words, in rupees, and keeps ones it does not know", () => {
    expect(exceptionDetail({ reason: 'amount_short', detail: 'credited 1839330 paise of 1849330' }, 'en', t('en'))).toBe('₹18,393.30 received of ₹18,493.30: ₹100.00 short.');
    expect(exceptionDetail({ reason: 'amount_excess', detail: 'credited 12345600 paise for 12345500' }, 'hi', t('hi'))).toBe('₹1,23,455.00 के लिए ₹1,23,456.00 प्राप्त: ₹1.00 अधिक।');
    expect(exceptionDetail({ reason: 'challan_expired', detail: 'credited 2026-03-04T06:30:00.000Z, the challan was valid until 2026-03-04T04:30:00.000Z' }, 'en', t('en'))).toBe(
      'Credited 4 Mar 2026, 12:00 pm IST; the challan was valid until 4 Mar 2026, 10:00 am IST.',
    );
    expect(exceptionDetail({ reason: 'unknown_va', detail: 'no challan has virtual account NBPD99' }, 'en', t('en'))).toBe('No challan has virtual account NBPD99.');
    expect(exceptionDetail({ reason: 'several_candidates', detail: '2 open challans fit' }, 'en', t('en'))).toBe('2 open challans fit');
    expect(exceptionDetail({ reason: 'not_settled', detail: null }, 'en', t('en'))).toBe('—');
  });

  it("names statement lines' reasons and the bank's returns", () => {
    expect(lineReason('utr', t('en'))).toBe('UTR already known');
    expect(lineReason('currency USD: Sangrahan collects INR only', t('hi'))).toBe('रुपये में नहीं');
    expect(lineReason('the UTR was told before with 5 paise', t('en'))).toBe('the UTR was told before with 5 paise');
    expect(lineReason(null, t('en'))).toBe('—');
    expect(returnReason('amount must be exactly 18493.30', 'en', t('en'))).toBe("The portal takes only the challan's exact amount, ₹18,493.30.");
    expect(returnReason('challan expired', 'hi', t('hi'))).toBe('चालान की अवधि समाप्त हो चुकी है।');
    expect(returnReason('the portal answered 500', 'en', t('en'))).toBe('the portal answered 500');
  });
});
