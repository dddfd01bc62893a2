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

/** A credit to a virtual account (Smart Collect): what the bank transfer says, as sent. */
export interface BankTransfer {
  id: string;
  /** NEFT, RTGS, IMPS, UPI … as the gateway reports it. */
  mode: string | null;
  /** The bank's reference of the transfer: the UTR. */
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

function readBankTransfer(payload: Record<string, unknown>): BankTransfer {
  const bt = isObj(payload.bank_transfer) ? payload.bank_transfer.entity : undefined;
  if (!isObj(bt)) throw new WebhookShapeError('payload.bank_transfer.entity is missing');
  const utr = str(bt.bank_reference);
  if (!utr) throw new WebhookShapeError('bank_transfer.bank_reference (the UTR) is missing');
  if (typeof bt.amount !== 'number' || !Number.isSafeInteger(bt.amount) || bt.amount <= 0) throw new WebhookShapeError('bank_transfer amount is not a positive whole number of paise');
  const va = isObj(payload.virtual_account) ? payload.virtual_account.entity : undefined;
  const receivers = isObj(va) && Array.isArray(va.receivers) ? (va.receivers as unknown[]) : [];
  const account = receivers.find((r) => isObj(r) && r.entity === 'bank_account') as Record<string, unknown> | undefined;
  const payer = isObj(bt.payer_bank_account) ? bt.payer_bank_account : {};
  return {
    id: str(bt.id) ?? '',
    mode: str(bt.mode),
    utr: utr.toUpperCase(),
    amountPaise: BigInt(bt.amount),
    vaNumber: account ? str(account.account_number) : null,
    vaId: isObj(va) ? str(va.id) : str(bt.virtual_account_id),
    payer: { name: str(payer.name), account: str(payer.account_number), ifsc: str(payer.ifsc) },
  };
}
