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
      kind: 'bank_transfer',
      id: 'bt_DETA2KSUJ3uCM9', mode: 'NEFT', utr: '156767598340', amountPaise: 61900n, vaNumber: '1112220006712324', vaId: 'va_DET8z3wBxfPB5L',
      payer: { name: 'Saurav Kumar', account: '765432123456789', ifsc: 'KKBK0000007' },
    });
    const doc = JSON.parse(read('virtual_account.credited.bank_transfer.json').toString('utf8'));
    delete doc.payload.bank_transfer.entity.bank_reference;
    expect(() => parseWebhook(JSON.stringify(doc))).toThrow(/bank_reference \(the UTR\) is missing/);
  });

  it('reads every receiver Razorpay documents for virtual_account.credited: a UPI address, an account with TPV, a QR code', () => {
    const base = JSON.parse(read('virtual_account.credited.bank_transfer.json').toString('utf8'));
    const va = base.payload.virtual_account.entity;
    // UPI to the virtual account's VPA (Razorpay's upi_transfer entity; the account also has a bank account receiver).
    const upi = structuredClone(base);
    delete upi.payload.bank_transfer;
    upi.contains = ['payment', 'virtual_account', 'upi_transfer'];
    upi.payload.payment.entity.method = 'upi';
    upi.payload.virtual_account.entity.receivers.push({ id: 'vpa_IUVRKM3WejBvhc', entity: 'vpa', username: 'rzr.payto000007005195066', handle: 'icic', address: 'rzr.payto000007005195066@icic' });
    upi.payload.upi_transfer = { entity: { id: 'ut_E5YEUKb9yA0YvX', entity: 'upi_transfer', amount: 61900, payer_vpa: 'gauravkumar@exampleupi', payer_bank: 'HDFC BANK LTD', payer_account: '50100000000001', payer_ifsc: 'HDFC0000004', payment_id: 'pay_DETA2KrOlhqQzF', npci_reference_id: '001718859181', virtual_account_id: va.id } };
    expect(parseWebhook(JSON.stringify(upi)).bankTransfer).toEqual({
      kind: 'upi_transfer', id: 'ut_E5YEUKb9yA0YvX', mode: 'UPI', utr: '001718859181', amountPaise: 61900n, vaNumber: '1112220006712324', vaId: 'va_DET8z3wBxfPB5L',
      payer: { name: 'gauravkumar@exampleupi', account: '50100000000001', ifsc: 'HDFC0000004' },
    });
    // A virtual account with only a UPI address is known by that address.
    upi.payload.virtual_account.entity.receivers = upi.payload.virtual_account.entity.receivers.filter((r: { entity: string }) => r.entity === 'vpa');
    expect(parseWebhook(JSON.stringify(upi)).bankTransfer?.vaNumber).toBe('rzr.payto000007005195066@icic');
    delete upi.payload.upi_transfer.entity.npci_reference_id;
    expect(() => parseWebhook(JSON.stringify(upi))).toThrow(/npci_reference_id/);
    // TPV: the account lists its allowed payers; the credit reads as any bank transfer.
    const tpv = structuredClone(base);
    tpv.payload.virtual_account.entity.allowed_payers = [{ type: 'bank_account', id: 'ba_JRSigCQ3MUCBYn', bank_account: { ifsc: 'UTIB0000013', account_number: '914010012345679' } }];
    expect(parseWebhook(JSON.stringify(tpv)).bankTransfer).toMatchObject({ kind: 'bank_transfer', utr: '156767598340', vaNumber: '1112220006712324' });
    // A QR code receiver: only the payment entity; its RRN keys the credit.
    const qr = structuredClone(base);
    delete qr.payload.bank_transfer;
    qr.payload.payment.entity.method = 'upi';
    qr.payload.payment.entity.vpa = 'someone@okaxis';
    qr.payload.payment.entity.acquirer_data = { rrn: '412345678901' };
    qr.payload.virtual_account.entity.receivers = [{ id: 'qr_EsWT9LM5LNXtG6', entity: 'qr_code' }];
    expect(parseWebhook(JSON.stringify(qr)).bankTransfer).toMatchObject({ kind: 'payment', utr: '412345678901', mode: 'UPI', vaNumber: 'qr_EsWT9LM5LNXtG6', amountPaise: 61900n, payer: { name: 'someone@okaxis' } });
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
