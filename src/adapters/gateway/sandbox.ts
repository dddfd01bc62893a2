import { randomBytes, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { signCheckout, signWebhook } from './razorpay-protocol.ts';

/**
 * The embedded sandbox gateway: a small Razorpay. It keeps merchants, orders, payments and
 * webhook deliveries in schema gateway_sim and serves Razorpay's REST shapes (routes in
 * sandbox-routes.ts). The tester pays on its hosted checkout page, choosing success, failure or
 * pending; it then posts the signed callback to the merchant, and sends signed webhooks
 * (payment.captured, payment.failed, order.paid) with retries, and on request duplicated,
 * delayed (so out of order) or dropped. A pending payment is captured later by `pump`.
 */

type Db = Kysely<DB>;

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function razorpayId(prefix: 'order' | 'pay' | 'evt'): string {
  let s = '';
  for (let i = 0; i < 14; i++) s += ID_CHARS[randomInt(ID_CHARS.length)];
  return `${prefix}_${s}`;
}

export interface Merchant {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  webhookUrl: string | null;
}

export interface SandboxControl {
  /** Extra copies of every webhook (a retry storm). */
  duplicates: number;
  /** Every webhook waits this long … */
  delaySeconds: number;
  /** … plus up to this much at random, so they arrive out of order. */
  jitterSeconds: number;
  /** Webhooks are never sent (the portal must ask). */
  dropWebhooks: boolean;
  /** The REST API answers 503 until then. */
  apiDownUntil: Date | null;
  /** A pending payment is captured this long after the tester chose "pending". */
  pendingSeconds: number;
}

export interface Delivery {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export type Send = (d: Delivery) => Promise<number>;

export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

interface OrderRow {
  id: string;
  amount: bigint;
  currency: string;
  receipt: string | null;
  notes: Record<string, string>;
  status: string;
  attempts: number;
  created_at: bigint;
}

interface PaymentRow {
  id: string;
  order_id: string;
  amount: bigint;
  currency: string;
  status: string;
  method: string;
  error_code: string | null;
  error_description: string | null;
  created_at: bigint;
  captured_at: bigint | null;
}

export function orderJson(o: OrderRow, paid: bigint): Record<string, unknown> {
  return {
    id: o.id,
    entity: 'order',
    amount: Number(o.amount),
    amount_paid: Number(paid),
    amount_due: Number(o.amount - paid),
    currency: o.currency,
    receipt: o.receipt,
    offer_id: null,
    status: o.status,
    attempts: o.attempts,
    notes: o.notes,
    created_at: Number(o.created_at),
  };
}

export function paymentJson(p: PaymentRow): Record<string, unknown> {
  return {
    id: p.id,
    entity: 'payment',
    amount: Number(p.amount),
    currency: p.currency,
    status: p.status,
    order_id: p.order_id,
    invoice_id: null,
    international: false,
    method: p.method,
    amount_refunded: 0,
    refund_status: null,
    captured: p.status === 'captured',
    description: 'Sangrahan sandbox payment',
    card_id: null,
    bank: p.method === 'netbanking' ? 'SBIN' : null,
    wallet: null,
    vpa: p.method === 'upi' ? 'payer@upi' : null,
    email: 'payer@example.in',
    contact: '+919999999999',
    notes: [],
    fee: p.status === 'captured' ? Number((p.amount * 2n) / 100n) : null,
    tax: p.status === 'captured' ? Number((p.amount * 36n) / 10_000n) : null,
    error_code: p.error_code,
    error_description: p.error_description,
    error_source: p.error_code ? 'customer' : null,
    error_step: p.error_code ? 'payment_authentication' : null,
    error_reason: p.error_code ? 'payment_failed' : null,
    created_at: Number(p.created_at),
  };
}

/** Razorpay's settlement reconciliation report columns, in order. */
export const SETTLEMENT_COLUMNS = [
  'entity_id', 'type', 'debit', 'credit', 'amount', 'currency', 'fee', 'tax', 'on_hold', 'settled', 'created_at', 'settled_at', 'settlement_id', 'description',
  'notes', 'payment_id', 'arn', 'settlement_utr', 'order_id', 'order_receipt', 'method', 'card_network', 'card_issuer', 'card_type', 'dispute_id',
] as const;

export class SandboxGateway {
  constructor(private readonly db: Db) {}

  /** The sandbox's merchant account: created once (secrets given, or random), then as stored. */
  async merchant(keyId: string, given: { keySecret?: string | undefined; webhookSecret?: string | undefined; webhookUrl?: string | undefined } = {}): Promise<Merchant> {
    await this.db
      .withSchema('gateway_sim')
      .insertInto('merchants' as never)
      .values({
        key_id: keyId,
        key_secret: given.keySecret ?? randomBytes(18).toString('base64url'),
        webhook_secret: given.webhookSecret ?? randomBytes(18).toString('base64url'),
        webhook_url: given.webhookUrl ?? null,
      })
      .onConflict((oc) => oc.column('key_id' as never).doNothing())
      .execute();
    if (given.webhookUrl || given.keySecret || given.webhookSecret) {
      await sql`UPDATE gateway_sim.merchants SET webhook_url = coalesce(${given.webhookUrl ?? null}, webhook_url),
                  key_secret = coalesce(${given.keySecret ?? null}, key_secret), webhook_secret = coalesce(${given.webhookSecret ?? null}, webhook_secret)
                WHERE key_id = ${keyId}`.execute(this.db);
    }
    return (await this.findMerchant(keyId))!;
  }

  async findMerchant(keyId: string): Promise<Merchant | null> {
    const { rows } = await sql<{ key_id: string; key_secret: string; webhook_secret: string; webhook_url: string | null }>`
      SELECT key_id, key_secret, webhook_secret, webhook_url FROM gateway_sim.merchants WHERE key_id = ${keyId}`.execute(this.db);
    const m = rows[0];
    return m ? { keyId: m.key_id, keySecret: m.key_secret, webhookSecret: m.webhook_secret, webhookUrl: m.webhook_url } : null;
  }

  async control(): Promise<SandboxControl> {
    const { rows } = await sql<{ duplicates: number; delay_seconds: number; jitter_seconds: number; drop_webhooks: boolean; api_down_until: Date | null; pending_seconds: number }>`
      SELECT duplicates, delay_seconds, jitter_seconds, drop_webhooks, api_down_until, pending_seconds FROM gateway_sim.control WHERE id = 1`.execute(this.db);
    const c = rows[0]!;
    return { duplicates: c.duplicates, delaySeconds: c.delay_seconds, jitterSeconds: c.jitter_seconds, dropWebhooks: c.drop_webhooks, apiDownUntil: c.api_down_until, pendingSeconds: c.pending_seconds };
  }

  async setControl(c: Partial<SandboxControl>): Promise<SandboxControl> {
    const cur = await this.control();
    const n = { ...cur, ...c };
    await sql`UPDATE gateway_sim.control SET duplicates = ${n.duplicates}, delay_seconds = ${n.delaySeconds}, jitter_seconds = ${n.jitterSeconds},
                drop_webhooks = ${n.dropWebhooks}, api_down_until = ${n.apiDownUntil}, pending_seconds = ${n.pendingSeconds} WHERE id = 1`.execute(this.db);
    return n;
  }

  async assertUp(): Promise<void> {
    const c = await this.control();
    if (c.apiDownUntil && c.apiDownUntil.getTime() > Date.now()) throw new SandboxError(503, 'SERVER_ERROR', 'The sandbox gateway is down (simulated outage)');
  }

  async createOrder(keyId: string, input: { amount: unknown; currency: unknown; receipt: unknown; notes: unknown }): Promise<Record<string, unknown>> {
    await this.assertUp();
    const { amount, currency, receipt, notes } = input;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 100) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The amount must be atleast INR 1.00');
    if (currency !== 'INR') throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'Currency is not supported');
    if (receipt !== undefined && (typeof receipt !== 'string' || receipt.length > 40)) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'receipt: The receipt may not be greater than 40 characters.');
    const noteObj = notes && typeof notes === 'object' && !Array.isArray(notes) ? (notes as Record<string, string>) : {};
    const row: OrderRow = { id: razorpayId('order'), amount: BigInt(amount), currency, receipt: (receipt) ?? null, notes: noteObj, status: 'created', attempts: 0, created_at: BigInt(unix(new Date())) };
    try {
      await sql`INSERT INTO gateway_sim.orders (id, key_id, amount, currency, receipt, notes, status, attempts, created_at)
                VALUES (${row.id}, ${keyId}, ${row.amount}, ${row.currency}, ${row.receipt}, ${JSON.stringify(noteObj)}::jsonb, 'created', 0, ${row.created_at})`.execute(this.db);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'receipt: The receipt has already been taken.');
      throw e;
    }
    return orderJson(row, 0n);
  }

  private async order(keyId: string, orderId: string): Promise<OrderRow> {
    const { rows } = await sql<OrderRow>`SELECT id, amount, currency, receipt, notes, status, attempts, created_at FROM gateway_sim.orders
                                           WHERE id = ${orderId} AND key_id = ${keyId}`.execute(this.db);
    if (!rows[0]) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist');
    return rows[0];
  }

  async fetchOrder(keyId: string, orderId: string): Promise<Record<string, unknown>> {
    await this.assertUp();
    const o = await this.order(keyId, orderId);
    const { rows } = await sql<{ paid: bigint }>`SELECT coalesce(sum(amount), 0)::bigint AS paid FROM gateway_sim.payments WHERE order_id = ${orderId} AND status = 'captured'`.execute(this.db);
    return orderJson(o, rows[0]!.paid);
  }

  async orderPayments(keyId: string, orderId: string): Promise<Record<string, unknown>> {
    await this.assertUp();
    await this.order(keyId, orderId);
    const { rows } = await sql<PaymentRow>`SELECT id, order_id, amount, currency, status, method, error_code, error_description, created_at, captured_at
                                             FROM gateway_sim.payments WHERE order_id = ${orderId} ORDER BY created_at, id`.execute(this.db);
    return { entity: 'collection', count: rows.length, items: rows.map(paymentJson) };
  }

  async fetchPayment(keyId: string, paymentId: string): Promise<Record<string, unknown>> {
    await this.assertUp();
    const { rows } = await sql<PaymentRow>`SELECT p.id, p.order_id, p.amount, p.currency, p.status, p.method, p.error_code, p.error_description, p.created_at, p.captured_at
                                             FROM gateway_sim.payments p JOIN gateway_sim.orders o ON o.id = p.order_id
                                            WHERE p.id = ${paymentId} AND o.key_id = ${keyId}`.execute(this.db);
    if (!rows[0]) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist');
    return paymentJson(rows[0]);
  }

  /** What the hosted checkout page shows. */
  async checkoutOrder(keyId: string, orderId: string): Promise<{ order: OrderRow; merchant: Merchant; paid: boolean }> {
    const merchant = await this.findMerchant(keyId);
    if (!merchant) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The api key provided is invalid');
    const order = await this.order(keyId, orderId);
    return { order, merchant, paid: order.status === 'paid' };
  }

  /**
   * The tester's choice on the checkout page. Returns the fields the browser posts back to the
   * merchant's callback (success: payment id, order id and signature; failure: the error).
   * A pending payment is authorised now and captured `pendingSeconds` later by `pump`.
   */
  async pay(keyId: string, orderId: string, outcome: 'success' | 'failure' | 'pending', method: string, opts: { amountPaise?: bigint } = {}): Promise<Record<string, string>> {
    const merchant = await this.findMerchant(keyId);
    if (!merchant) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The api key provided is invalid');
    const control = await this.control();
    const now = new Date();
    const id = razorpayId('pay');
    return this.db.transaction().execute(async (trx): Promise<Record<string, string>> => {
      const { rows } = await sql<OrderRow>`SELECT id, amount, currency, receipt, notes, status, attempts, created_at FROM gateway_sim.orders
                                             WHERE id = ${orderId} AND key_id = ${keyId} FOR UPDATE`.execute(trx);
      const order = rows[0];
      if (!order) throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist');
      if (order.status === 'paid') throw new SandboxError(400, 'BAD_REQUEST_ERROR', 'Order has already been paid');
      const status = outcome === 'success' ? 'captured' : outcome === 'failure' ? 'failed' : 'authorized';
      const p: PaymentRow = {
        // Less than the order only for an order that accepts part payments (Razorpay's partial_payment): the order stays open.
        id, order_id: orderId, amount: opts.amountPaise !== undefined && opts.amountPaise < order.amount ? opts.amountPaise : order.amount, currency: order.currency, status, method,
        error_code: outcome === 'failure' ? 'BAD_REQUEST_ERROR' : null,
        error_description: outcome === 'failure' ? 'Payment was unsuccessful as the payer cancelled it at the bank.' : null,
        created_at: BigInt(unix(now)), captured_at: outcome === 'success' ? BigInt(unix(now)) : null,
      };
      await sql`INSERT INTO gateway_sim.payments (id, order_id, amount, currency, status, method, error_code, error_description, capture_at, created_at, captured_at)
                VALUES (${p.id}, ${orderId}, ${p.amount}, ${p.currency}, ${status}, ${method}, ${p.error_code}, ${p.error_description},
                        ${outcome === 'pending' ? new Date(now.getTime() + control.pendingSeconds * 1000) : null}, ${p.created_at}, ${p.captured_at})`.execute(trx);
      const full = p.amount >= order.amount;
      await sql`UPDATE gateway_sim.orders SET attempts = attempts + 1, status = ${outcome === 'success' && full ? 'paid' : 'attempted'} WHERE id = ${orderId}`.execute(trx);
      order.attempts += 1;
      if (outcome === 'success') {
        order.status = full ? 'paid' : 'attempted';
        await this.queueEvents(trx, merchant, control, p, order, now);
        return { razorpay_payment_id: id, razorpay_order_id: orderId, razorpay_signature: signCheckout(orderId, id, merchant.keySecret) };
      }
      if (outcome === 'failure') {
        order.status = 'attempted';
        await this.queueEvents(trx, merchant, control, p, order, now);
        return {
          'error[code]': p.error_code!,
          'error[description]': p.error_description!,
          'error[source]': 'customer',
          'error[step]': 'payment_authentication',
          'error[reason]': 'payment_failed',
          'error[metadata]': JSON.stringify({ payment_id: id, order_id: orderId }),
        };
      }
      return { pending: '1', razorpay_order_id: orderId, razorpay_payment_id: id };
    });
  }

  /** Webhooks of a payment's new state, honouring the control's duplicates, delays and drops. */
  private async queueEvents(trx: Db, m: Merchant, control: SandboxControl, p: PaymentRow, order: OrderRow, now: Date): Promise<void> {
    const events: { event: string; body: Record<string, unknown> }[] = [];
    const base = { entity: 'event', account_id: 'acc_SangrahanSbx01' };
    const payment = { entity: paymentJson(p) };
    if (p.status === 'captured') {
      events.push({ event: 'payment.captured', body: { ...base, event: 'payment.captured', contains: ['payment'], payload: { payment }, created_at: unix(now) } });
      events.push({ event: 'order.paid', body: { ...base, event: 'order.paid', contains: ['payment', 'order'], payload: { payment, order: { entity: orderJson(order, p.amount) } }, created_at: unix(now) } });
    } else if (p.status === 'failed') {
      events.push({ event: 'payment.failed', body: { ...base, event: 'payment.failed', contains: ['payment'], payload: { payment }, created_at: unix(now) } });
    }
    for (const e of events) await this.deliver(trx, m.keyId, control, e.event, e.body, now);
  }

  private async deliver(trx: Db, keyId: string, control: SandboxControl, event: string, doc: Record<string, unknown>, now: Date): Promise<void> {
    const eventId = razorpayId('evt').replace('evt_', '');
    const body = JSON.stringify(doc);
    for (let copy = 0; copy <= control.duplicates; copy++) {
      const wait = control.delaySeconds + (control.jitterSeconds ? randomInt(control.jitterSeconds + 1) : 0);
      await sql`INSERT INTO gateway_sim.deliveries (key_id, event_id, event, body, deliver_at, status)
                VALUES (${keyId}, ${eventId}, ${event}, ${body}, ${new Date(now.getTime() + wait * 1000)}, ${control.dropWebhooks ? 'dropped' : 'pending'})`.execute(trx);
    }
  }

  /**
   * Smart Collect: a bank transfer credited to a virtual account, told to the merchant as a
   * signed virtual_account.credited webhook (Razorpay's documented payload), with the same
   * duplicates, delays and drops as payment webhooks.
   */
  async notifyBankTransfer(keyId: string, t: { vaNumber: string; ifsc: string; holder: string; utr: string; mode: string; amountPaise: bigint; payerName: string | null; payerAccount: string | null; payerIfsc: string | null; at: Date }): Promise<string> {
    const control = await this.control();
    const paymentId = razorpayId('pay');
    const created = unix(t.at);
    const amount = Number(t.amountPaise);
    const fee = Math.round(amount * 0.0118);
    const tax = Math.round(fee * 0.18);
    const vaId = `va_${t.vaNumber}`;
    const upi = t.mode === 'UPI';
    // The virtual account has a bank account and a UPI address (rzr.payto…@icic in Razorpay's samples).
    const receivers = [
      { id: `ba_${t.vaNumber}`, entity: 'bank_account', ifsc: t.ifsc, bank_name: 'Sangrahan Sandbox Bank', name: t.holder, account_number: t.vaNumber },
      { id: `vpa_${t.vaNumber}`, entity: 'vpa', username: `sgr.payto${t.vaNumber.toLowerCase()}`, handle: 'sbxb', address: `sgr.payto${t.vaNumber.toLowerCase()}@sbxb` },
    ];
    const transfer = upi
      ? { upi_transfer: { entity: { id: razorpayId('pay').replace('pay_', 'ut_'), entity: 'upi_transfer', amount, payer_vpa: `${(t.payerName ?? 'payer').toLowerCase().replace(/[^a-z0-9]/g, '')}@oksbi`, payer_bank: null, payer_account: t.payerAccount, payer_ifsc: t.payerIfsc, payment_id: paymentId, npci_reference_id: t.utr, virtual_account_id: vaId } } }
      : { bank_transfer: { entity: { id: razorpayId('pay').replace('pay_', 'bt_'), entity: 'bank_transfer', payment_id: paymentId, mode: t.mode, bank_reference: t.utr, amount, payer_bank_account: { id: 'ba_payer', entity: 'bank_account', ifsc: t.payerIfsc, bank_name: null, name: t.payerName, account_number: t.payerAccount }, virtual_account_id: vaId } } };
    const doc = {
      entity: 'event', account_id: 'acc_SangrahanSbx01', event: 'virtual_account.credited', contains: ['payment', 'virtual_account', upi ? 'upi_transfer' : 'bank_transfer'],
      payload: {
        payment: { entity: { id: paymentId, entity: 'payment', amount, currency: 'INR', status: 'captured', order_id: null, invoice_id: null, international: false, method: upi ? 'upi' : 'bank_transfer', amount_refunded: 0, amount_transferred: 0, refund_status: null, captured: true, description: 'NA', card_id: null, bank: null, wallet: null, vpa: null, email: null, contact: null, customer_id: null, notes: [], fee, tax, error_code: null, error_description: null, created_at: created } },
        virtual_account: { entity: { id: vaId, name: t.holder, entity: 'virtual_account', status: 'active', description: 'Sangrahan challan', amount_expected: null, notes: {}, amount_paid: amount, customer_id: null, close_by: null, closed_at: null, created_at: created, receivers } },
        ...transfer,
      },
      created_at: created,
    };
    // Told now, whenever the money was credited.
    await this.db.transaction().execute((trx) => this.deliver(trx, keyId, control, 'virtual_account.credited', doc, new Date()));
    return paymentId;
  }

  /**
   * Pays out, as one settlement, the merchant's captured payments captured by `before`
   * (Razorpay settles T+2 working days): net of the fee (2 %) and GST on it (18 %), with a UTR.
   * `book` credits the payout to the merchant's bank account (the sandbox bank). None due: null.
   */
  async settle(keyId: string, before: Date, book: (s: { id: string; utr: string; amountPaise: bigint; at: Date }) => Promise<void>, at = new Date()): Promise<{ id: string; utr: string; amountPaise: bigint; payments: number } | null> {
    const id = razorpayId('pay').replace('pay_', 'setl_');
    const utr = `${unix(at)}${randomBytes(3).toString('hex')}`.toUpperCase();
    const made = await this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: number; gross: string; fees: string; tax: string }>`
        WITH due AS (
          SELECT p.id, p.amount, (p.amount * 2 / 100) AS fee, (p.amount * 36 / 10000) AS tax
            FROM gateway_sim.payments p JOIN gateway_sim.orders o ON o.id = p.order_id
           WHERE o.key_id = ${keyId} AND p.status = 'captured' AND p.settlement_id IS NULL AND p.captured_at <= ${BigInt(unix(before))}
           FOR UPDATE OF p)
        SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS gross, coalesce(sum(fee), 0)::text AS fees, coalesce(sum(tax), 0)::text AS tax FROM due`.execute(trx);
      const r = rows[0]!;
      if (!r.n) return null;
      const net = BigInt(r.gross) - BigInt(r.fees) - BigInt(r.tax);
      await sql`INSERT INTO gateway_sim.settlements (id, key_id, utr, amount, fees, tax, created_at)
                VALUES (${id}, ${keyId}, ${utr}, ${net}, ${BigInt(r.fees)}, ${BigInt(r.tax)}, ${BigInt(unix(at))})`.execute(trx);
      await sql`UPDATE gateway_sim.payments p SET settlement_id = ${id} FROM gateway_sim.orders o
                 WHERE o.id = p.order_id AND o.key_id = ${keyId} AND p.status = 'captured' AND p.settlement_id IS NULL AND p.captured_at <= ${BigInt(unix(before))}`.execute(trx);
      return { id, utr, amountPaise: net, payments: r.n };
    });
    if (made) await book({ id: made.id, utr: made.utr, amountPaise: made.amountPaise, at });
    return made;
  }

  /**
   * The settlement report of the merchant's settlements made in [from, to): one row per payment
   * settled, in the columns of Razorpay's settlement reconciliation report (amounts in paise,
   * times in Unix seconds).
   */
  async settlementReport(keyId: string, from: Date, to: Date): Promise<Buffer> {
    const { rows } = await sql<{ id: string; amount: string; fee: string; tax: string; created_at: string; settlement_id: string; settled_at: string; utr: string; order_id: string; receipt: string | null; method: string }>`
      SELECT p.id, p.amount::text, (p.amount * 2 / 100)::text AS fee, (p.amount * 36 / 10000)::text AS tax, p.created_at::text, s.id AS settlement_id,
             s.created_at::text AS settled_at, s.utr, p.order_id, o.receipt, p.method
        FROM gateway_sim.settlements s JOIN gateway_sim.payments p ON p.settlement_id = s.id JOIN gateway_sim.orders o ON o.id = p.order_id
       WHERE s.key_id = ${keyId} AND s.created_at >= ${BigInt(unix(from))} AND s.created_at < ${BigInt(unix(to))}
       ORDER BY s.created_at, s.id, p.id`.execute(this.db);
    const head = SETTLEMENT_COLUMNS.join(',');
    const lines = rows.map((r) =>
      [r.id, 'payment', '0', r.amount, r.amount, 'INR', r.fee, r.tax, 'false', 'true', r.created_at, r.settled_at, r.settlement_id, 'Sangrahan sandbox payment', '{}', r.id, '', r.utr, r.order_id, r.receipt ?? '', r.method, '', '', '', '']
        .map((v) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v))
        .join(','),
    );
    return Buffer.from([head, ...lines].join('\n') + '\n');
  }

  /** Captures pending payments that are due, then delivers due webhooks. Returns deliveries made. */
  async pump(send: Send, limit = 200): Promise<number> {
    const control = await this.control();
    const now = new Date();
    const { rows: due } = await sql<{ id: string }>`SELECT id FROM gateway_sim.payments WHERE status = 'authorized' AND capture_at <= now() ORDER BY capture_at LIMIT 100`.execute(this.db);
    const merchants = new Map<string, Merchant | null>();
    const merchantOf = async (keyId: string) => {
      if (!merchants.has(keyId)) merchants.set(keyId, await this.findMerchant(keyId));
      return merchants.get(keyId)!;
    };
    for (const { id } of due) {
      const { rows: owner } = await sql<{ key_id: string }>`SELECT o.key_id FROM gateway_sim.payments p JOIN gateway_sim.orders o ON o.id = p.order_id WHERE p.id = ${id}`.execute(this.db);
      const m = await merchantOf(owner[0]!.key_id);
      await this.db.transaction().execute(async (trx) => {
        const { rows } = await sql<PaymentRow & { key_id: string }>`
          UPDATE gateway_sim.payments p SET status = 'captured', captured_at = ${BigInt(unix(now))}
           WHERE p.id = ${id} AND p.status = 'authorized'
          RETURNING p.id, p.order_id, p.amount, p.currency, p.status, p.method, p.error_code, p.error_description, p.created_at, p.captured_at`.execute(trx);
        const p = rows[0];
        if (!p) return;
        const { rows: orders } = await sql<OrderRow & { key_id: string }>`UPDATE gateway_sim.orders SET status = 'paid' WHERE id = ${p.order_id}
                                       RETURNING id, key_id, amount, currency, receipt, notes, status, attempts, created_at`.execute(trx);
        await this.queueEvents(trx, m, control, p, orders[0]!, now);
      });
    }
    const { rows } = await sql<{ id: bigint; key_id: string; event_id: string; body: string; attempts: number }>`
      SELECT id, key_id, event_id, body, attempts FROM gateway_sim.deliveries
       WHERE status = 'pending' AND deliver_at <= now() ORDER BY deliver_at, id LIMIT ${limit}`.execute(this.db);
    let sent = 0;
    for (const d of rows) {
      const m = await merchantOf(d.key_id);
      if (!m?.webhookUrl) continue;
      let status = 0;
      let error: string | null = null;
      try {
        status = await send({
          url: m.webhookUrl,
          body: d.body,
          headers: { 'content-type': 'application/json', 'x-razorpay-signature': signWebhook(d.body, m.webhookSecret), 'x-razorpay-event-id': d.event_id },
        });
      } catch (e) {
        error = (e as Error).message.slice(0, 300);
      }
      const ok = status >= 200 && status < 300;
      const attempts = d.attempts + 1;
      // Razorpay retries failed deliveries with growing gaps, for about a day; the sandbox, 8 times.
      await sql`UPDATE gateway_sim.deliveries SET attempts = ${attempts}, last_status = ${status || null}, last_error = ${error},
                  status = ${ok ? 'delivered' : attempts >= 8 ? 'failed' : 'pending'},
                  deliver_at = now() + make_interval(secs => ${Math.min(3600, 2 ** attempts)})
                WHERE id = ${d.id}`.execute(this.db);
      if (ok) sent++;
    }
    return sent;
  }
}

/** Sends a delivery over HTTP (the sandbox's normal way when serving). */
export const httpSend: Send = async (d) => {
  const res = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status;
};
