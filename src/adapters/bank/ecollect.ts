import { sameSignature, hmacHex } from '../gateway/razorpay-protocol.ts';

/**
 * The e-collect protocol between the collection bank and the portal, in the shape Indian banks'
 * e-collect services use: before accepting a transfer to a virtual account the bank asks
 * "validate" (the portal answers accept or reject, with a reason), and after crediting it sends
 * "notify". Both are JSON with the amount in rupees as a decimal string, signed with
 * HMAC-SHA256 (hex) of the raw body in X-Bank-Signature, with a secret both sides hold.
 */

export interface EcollectCredit {
  utr: string;
  vaNumber: string;
  amountPaise: bigint;
  mode: string;
  creditedAt: Date;
  payerName: string | null;
  payerAccount: string | null;
  payerIfsc: string | null;
}

export class EcollectShapeError extends Error {}

const rupees = (p: bigint) => `${p / 100n}.${(p % 100n).toString().padStart(2, '0')}`;

export function ecollectBody(c: EcollectCredit): string {
  return JSON.stringify({
    utr: c.utr,
    virtual_account: c.vaNumber,
    amount: rupees(c.amountPaise),
    currency: 'INR',
    mode: c.mode,
    credited_at: c.creditedAt.toISOString(),
    remitter: { name: c.payerName, account: c.payerAccount, ifsc: c.payerIfsc },
  });
}

export function verifyEcollect(raw: Buffer, signature: string | undefined, secret: string): boolean {
  return !!signature && !!secret && sameSignature(hmacHex(secret, raw), signature.trim());
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Reads a (verified) e-collect body; names the first field that is wrong. */
export function parseEcollect(raw: Buffer): EcollectCredit {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new EcollectShapeError('body is not JSON');
  }
  if (!isObj(doc)) throw new EcollectShapeError('body is not a JSON object');
  const utr = text(doc.utr);
  if (!utr || !/^[A-Za-z0-9]{6,35}$/.test(utr)) throw new EcollectShapeError('utr: 6 to 35 letters and digits');
  const va = text(doc.virtual_account);
  if (!va) throw new EcollectShapeError('virtual_account is missing');
  const amount = typeof doc.amount === 'string' ? /^([0-9]{1,13})(?:\.([0-9]{1,2}))?$/.exec(doc.amount) : null;
  if (!amount) throw new EcollectShapeError('amount: rupees as a decimal string, e.g. "12500.00"');
  const paise = BigInt(amount[1]!) * 100n + BigInt((amount[2] ?? '0').padEnd(2, '0'));
  if (paise <= 0n) throw new EcollectShapeError('amount must be positive');
  if (doc.currency !== undefined && doc.currency !== 'INR') throw new EcollectShapeError('currency: only INR');
  const at = typeof doc.credited_at === 'string' ? new Date(doc.credited_at) : null;
  if (!at || Number.isNaN(at.getTime())) throw new EcollectShapeError('credited_at: an ISO 8601 time');
  const r = isObj(doc.remitter) ? doc.remitter : {};
  return { utr: utr.toUpperCase(), vaNumber: va.toUpperCase(), amountPaise: paise, mode: text(doc.mode)?.toUpperCase() ?? 'NEFT', creditedAt: at, payerName: text(r.name), payerAccount: text(r.account), payerIfsc: text(r.ifsc) };
}
