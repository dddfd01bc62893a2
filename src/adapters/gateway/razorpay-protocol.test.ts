import fs from 'node:fs';
import path from 'node:path';
import Razorpay from 'razorpay';
import { validatePaymentVerification } from 'razorpay/dist/utils/razorpay-utils.js';
import { describe, expect, it } from 'vitest';
import { parseWebhook, signCheckout, signWebhook, verifyCheckout, verifyWebhook, WebhookShapeError } from './razorpay-protocol.ts';

// Real payloads from Razorpay's documentation (test/fixtures/razorpay, bytes kept exact).
const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/razorpay');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
const SECRET = 'whsec_test_5f0c0a8e2b7d4c19';

describe('Razorpay protocol', () => {
  const samples = ['payment.captured.netbanking.json', 'payment.failed.upi.json', 'order.paid.upi.json'];

  it.each(samples)('verifies %s on its raw bytes, as the official SDK does', (name) => {
    const raw = read(name);
    const sig = signWebhook(raw, SECRET);
    expect(verifyWebhook(raw, sig, SECRET)).toBe(true);
    expect(Razorpay.validateWebhookSignature(raw.toString('utf8'), sig, SECRET)).toBe(true);
    // One changed byte, a re-serialised body, another secret, a malformed header: all refused.
    const tampered = Buffer.from(raw);
    const at = tampered.length - 3;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 1, at);
    expect(verifyWebhook(tampered, sig, SECRET)).toBe(false);
    expect(Razorpay.validateWebhookSignature(tampered.toString('utf8'), sig, SECRET)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(reserialised.equals(raw)).toBe(false);
    expect(verifyWebhook(reserialised, sig, SECRET)).toBe(false);
    expect(verifyWebhook(raw, sig, 'another-secret')).toBe(false);
    expect(verifyWebhook(raw, 'not-hex', SECRET)).toBe(false);
    expect(verifyWebhook(raw, undefined, SECRET)).toBe(false);
    expect(verifyWebhook(raw, sig.slice(0, 63), SECRET)).toBe(false);
  });

  it('reads the samples: event, ids, amount in paise, status and errors', () => {
    const captured = parseWebhook(read('payment.captured.netbanking.json'));
    expect(captured).toMatchObject({ event: 'payment.captured', paymentId: 'pay_DESlfW9H8K9uqM', orderId: 'order_DESlLckIVRkHWj', amountPaise: 100n, currency: 'INR', status: 'captured', method: 'netbanking', error: null });
    expect(captured.paymentCreatedAt.toISOString()).toBe('2019-09-05T09:09:59.000Z');
    const failed = parseWebhook(read('payment.failed.upi.json'));
    expect(failed.event).toBe('payment.failed');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'BAD_REQUEST_ERROR', reason: 'payment_failed' });
    const paid = parseWebhook(read('order.paid.upi.json'));
    expect(paid).toMatchObject({ event: 'order.paid', paymentId: 'pay_DESyzxuld02Zul', orderId: 'order_DESxiijbl9xjDB', status: 'captured', method: 'upi' });
  });

  it('reads a virtual_account.credited bank transfer: the UTR, the virtual account credited, the payer', () => {
    const w = parseWebhook(read('virtual_account.credited.bank_transfer.json'));
    expect(w).toMatchObject({ event: 'virtual_account.credited', paymentId: 'pay_DETA2KrOlhqQzF', orderId: null, amountPaise: 61900n, currency: 'INR', method: 'bank_transfer' });
    expect(w.bankTransfer).toEqual({
      id: 'bt_DETA2KSUJ3uCM9', mode: 'NEFT', utr: '156767598340', amountPaise: 61900n, vaNumber: '1112220006712324', vaId: 'va_DET8z3wBxfPB5L',
      payer: { name: 'Saurav Kumar', account: '765432123456789', ifsc: 'KKBK0000007' },
    });
    const doc = JSON.parse(read('virtual_account.credited.bank_transfer.json').toString('utf8'));
    delete doc.payload.bank_transfer.entity.bank_reference;
    expect(() => parseWebhook(JSON.stringify(doc))).toThrow(/bank_reference \(the UTR\) is missing/);
  });

  it('refuses events it does not handle and payloads of the wrong shape, naming the problem', () => {
    const refund = JSON.parse(read('payment.captured.netbanking.json').toString('utf8'));
    refund.event = 'refund.processed';
    expect(() => parseWebhook(JSON.stringify(refund))).toThrow(/"refund.processed" is not handled/);
    expect(() => parseWebhook('not json')).toThrow(WebhookShapeError);
    const doc = JSON.parse(read('payment.captured.netbanking.json').toString('utf8'));
    doc.payload.payment.entity.amount = 100.5;
    expect(() => parseWebhook(JSON.stringify(doc))).toThrow(/whole number of paise/);
    delete doc.payload.payment;
    expect(() => parseWebhook(JSON.stringify(doc))).toThrow(/payload.payment.entity is missing/);
  });

  it('verifies the checkout callback against the stored order id, as the SDK does', () => {
    const keySecret = 'rzp_test_secret_0123456789';
    const sig = signCheckout('order_DESlLckIVRkHWj', 'pay_DESlfW9H8K9uqM', keySecret);
    expect(verifyCheckout('order_DESlLckIVRkHWj', 'pay_DESlfW9H8K9uqM', sig, keySecret)).toBe(true);
    expect(validatePaymentVerification({ order_id: 'order_DESlLckIVRkHWj', payment_id: 'pay_DESlfW9H8K9uqM' }, sig, keySecret)).toBe(true);
    // The browser cannot swap in another order or payment.
    expect(verifyCheckout('order_OTHER00000000', 'pay_DESlfW9H8K9uqM', sig, keySecret)).toBe(false);
    expect(verifyCheckout('order_DESlLckIVRkHWj', 'pay_OTHER000000000', sig, keySecret)).toBe(false);
    expect(verifyCheckout('order_DESlLckIVRkHWj', 'pay_DESlfW9H8K9uqM', sig, 'wrong')).toBe(false);
  });
});
