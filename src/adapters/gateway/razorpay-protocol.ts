import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Razorpay's wire protocol, as both the sandbox gateway and the Razorpay adapter speak it:
 *
 * - a webhook carries `X-Razorpay-Signature`, the hex HMAC-SHA256 of the raw body bytes with
 *   the webhook secret. It is checked on the bytes as received (never on re-serialised JSON),
 *   with a constant-time compare;
 * - the checkout's browser callback carries `razorpay_signature`, the hex HMAC-SHA256 of
 *   `order_id + "|" + payment_id` with the API key secret, checked against the order id the
 *   portal stored (not the one the browser sends);
 * - payloads name amounts in paise, as integers.
 *
 * Parsing is strict: a payload of the wrong shape is refused with the reason, never guessed.
 */

export function hmacHex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** Constant-time comparison of two hex signatures; anything malformed is simply false. */
export function sameSignature(expectedHex: string, givenHex: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(givenHex) || !/^[0-9a-f]{64}$/i.test(expectedHex)) return false;
  return timingSafeEqual(Buffer.from(expectedHex.toLowerCase(), 'hex'), Buffer.from(givenHex.toLowerCase(), 'hex'));
}

export function signWebhook(rawBody: Buffer | string, secret: string): string {
  return hmacHex(secret, rawBody);
}

export function verifyWebhook(rawBody: Buffer, signature: string | undefined, secret: string): boolean {
  if (!signature || !secret) return false;
  return sameSignature(hmacHex(secret, rawBody), signature.trim());
}

export function signCheckout(orderId: string, paymentId: string, keySecret: string): string {
  return hmacHex(keySecret, `${orderId}|${paymentId}`);
}

/** The checkout callback's signature, against the order id the portal stored for the batch. */
export function verifyCheckout(storedOrderId: string, paymentId: string, signature: string | undefined, keySecret: string): boolean {
  if (!signature || !keySecret || !/^pay_[A-Za-z0-9]{6,40}$/.test(paymentId)) return false;
  return sameSignature(signCheckout(storedOrderId, paymentId, keySecret), signature.trim());
}

export type WebhookEvent = 'payment.captured' | 'payment.failed' | 'payment.authorized' | 'order.paid' | 'virtual_account.credited';
const EVENTS: readonly string[] = ['payment.captured', 'payment.failed', 'payment.authorized', 'order.paid', 'virtual_account.credited'];

/**
 * A credit to a virtual account (Smart Collect): what the transfer says, as sent. Razorpay
 * tells it by the receiver paid: a bank account (`bank_transfer`, TPV accounts included: their
 * allowed payers change nothing here), a UPI address (`upi_transfer`), or another receiver
 * (a QR code: only the payment entity).
 */
export interface BankTransfer {
  kind: 'bank_transfer' | 'upi_transfer' | 'payment';
  id: string;
  /** NEFT, RTGS, IMPS, UPI … as the gateway reports it. */
  mode: string | null;
  /** The bank's reference of the transfer: the UTR (for UPI, the NPCI reference, the RRN). */
  utr: string;
  amountPaise: bigint;
  /** The account credited: the virtual account's receiver account number. */
  vaNumber: string | null;
  vaId: string | null;
  payer: { name: string | null; account: string | null; ifsc: string | null };
}

export interface ParsedWebhook {
  event: WebhookEvent;
  accountId: string | null;
  paymentId: string;
  orderId: string | null;
  amountPaise: bigint;
  currency: string;
  status: string;
  method: string | null;
  /** The payment's creation time (the capture time is not in the payload; query the gateway for it). */
  paymentCreatedAt: Date;
  /** When the gateway raised the event. */
  eventCreatedAt: Date;
  error: { code: string | null; description: string | null; reason: string | null } | null;
  /** virtual_account.credited only. */
  bankTransfer: BankTransfer | null;
}

export class WebhookShapeError extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a verified webhook body; refuses events it does not handle and payloads of the wrong shape. */
export function parseWebhook(rawBody: Buffer | string): ParsedWebhook {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    throw new WebhookShapeError('body is not JSON');
  }
  if (!isObj(doc) || doc.entity !== 'event') throw new WebhookShapeError('not a Razorpay event (entity is not "event")');
  if (typeof doc.event !== 'string' || !EVENTS.includes(doc.event)) throw new WebhookShapeError(`event ${JSON.stringify(doc.event)} is not handled`);
  const payment = isObj(doc.payload) && isObj(doc.payload.payment) ? doc.payload.payment.entity : undefined;
  if (!isObj(payment)) throw new WebhookShapeError('payload.payment.entity is missing');
  const { id, amount, currency, status, order_id: orderId, method, created_at: createdAt } = payment;
  if (typeof id !== 'string' || !/^pay_[A-Za-z0-9]{6,40}$/.test(id)) throw new WebhookShapeError('payment id is missing or malformed');
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) throw new WebhookShapeError('payment amount is not a positive whole number of paise');
  if (typeof currency !== 'string') throw new WebhookShapeError('payment currency is missing');
  if (typeof status !== 'string') throw new WebhookShapeError('payment status is missing');
  if (orderId !== null && orderId !== undefined && typeof orderId !== 'string') throw new WebhookShapeError('order id is malformed');
  if (typeof createdAt !== 'number' || typeof doc.created_at !== 'number') throw new WebhookShapeError('created_at is missing');
  const hasError = typeof payment.error_code === 'string' || typeof payment.error_reason === 'string';
  const bankTransfer = doc.event === 'virtual_account.credited' ? readBankTransfer(doc.payload as Record<string, unknown>) : null;
  return {
    event: doc.event as WebhookEvent,
    accountId: typeof doc.account_id === 'string' ? doc.account_id : null,
    paymentId: id,
    orderId: orderId ?? null,
    amountPaise: BigInt(amount),
    currency,
    status,
    method: typeof method === 'string' ? method : null,
    paymentCreatedAt: new Date(createdAt * 1000),
    eventCreatedAt: new Date(doc.created_at * 1000),
    error: hasError
      ? {
          code: typeof payment.error_code === 'string' ? payment.error_code : null,
          description: typeof payment.error_description === 'string' ? payment.error_description : null,
          reason: typeof payment.error_reason === 'string' ? payment.error_reason : null,
        }
      : null,
    bankTransfer,
  };
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);

const positivePaise = (v: unknown, what: string): bigint => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new WebhookShapeError(`${what} amount is not a positive whole number of paise`);
  return BigInt(v);
};

function readBankTransfer(payload: Record<string, unknown>): BankTransfer {
  const va = isObj(payload.virtual_account) ? payload.virtual_account.entity : undefined;
  const receivers = isObj(va) && Array.isArray(va.receivers) ? (va.receivers as unknown[]).filter(isObj) : [];
  // The account credited is known by its bank account number (what a challan prints), which a
  // virtual account with a UPI address or QR code has too; else by the address it was paid to.
  const account = receivers.find((r) => r.entity === 'bank_account');
  const other = receivers.find((r) => r.entity === 'vpa' || r.entity === 'qr_code');
  const vaNumber = account ? str(account.account_number) : other ? (str(other.address) ?? str(other.id)) : null;
  const vaId = isObj(va) ? str(va.id) : null;
  const bt = isObj(payload.bank_transfer) ? payload.bank_transfer.entity : undefined;
  if (isObj(bt)) {
    const utr = str(bt.bank_reference);
    if (!utr) throw new WebhookShapeError('bank_transfer.bank_reference (the UTR) is missing');
    const payer = isObj(bt.payer_bank_account) ? bt.payer_bank_account : {};
    return {
      kind: 'bank_transfer', id: str(bt.id) ?? '', mode: str(bt.mode), utr: utr.toUpperCase(), amountPaise: positivePaise(bt.amount, 'bank_transfer'), vaNumber,
      vaId: vaId ?? str(bt.virtual_account_id), payer: { name: str(payer.name), account: str(payer.account_number), ifsc: str(payer.ifsc) },
    };
  }
  const ut = isObj(payload.upi_transfer) ? payload.upi_transfer.entity : undefined;
  if (isObj(ut)) {
    const utr = str(ut.npci_reference_id);
    if (!utr) throw new WebhookShapeError('upi_transfer.npci_reference_id (the UPI reference) is missing');
    return {
      kind: 'upi_transfer', id: str(ut.id) ?? '', mode: 'UPI', utr: utr.toUpperCase(), amountPaise: positivePaise(ut.amount, 'upi_transfer'), vaNumber,
      vaId: vaId ?? str(ut.virtual_account_id), payer: { name: str(ut.payer_vpa), account: str(ut.payer_account), ifsc: str(ut.payer_ifsc) },
    };
  }
  // Another receiver (a QR code): the payment entity is all there is. Its bank reference (the
  // acquirer's RRN) if it has one, else the payment id, keys the credit.
  const payment = isObj(payload.payment) ? payload.payment.entity : undefined;
  if (!isObj(payment)) throw new WebhookShapeError('payload.payment.entity is missing');
  const acquirer = isObj(payment.acquirer_data) ? payment.acquirer_data : {};
  const utr = str(acquirer.rrn) ?? str(acquirer.bank_transaction_id) ?? str(payment.id);
  if (!utr) throw new WebhookShapeError('the credit has no reference');
  return {
    kind: 'payment', id: str(payment.id) ?? '', mode: str(payment.method)?.toUpperCase() ?? null, utr: utr.toUpperCase().replace(/[^A-Z0-9]/g, ''),
    amountPaise: positivePaise(payment.amount, 'payment'), vaNumber, vaId, payer: { name: str(payment.vpa) ?? str(payment.email), account: null, ifsc: null },
  };
}
