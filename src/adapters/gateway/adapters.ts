import Razorpay from 'razorpay';
import { verifyCheckout, verifyWebhook } from './razorpay-protocol.ts';
import { SandboxError, type SandboxGateway } from './sandbox.ts';
import { GatewayRefused, GatewayUnavailable, type CheckoutForm, type GatewayOrder, type GatewayPayment, type PaymentGateway } from './types.ts';

/**
 * The two PaymentGateway implementations. Both read Razorpay's JSON the same way, so what the
 * portal learns from a status query does not depend on which one is in use.
 */

const PAYMENT_STATUSES: readonly GatewayPayment['status'][] = ['created', 'authorized', 'captured', 'refunded', 'failed'];

export function readPayment(j: Record<string, unknown>): GatewayPayment {
  const { id, order_id: orderId, amount, currency, status, method, created_at: createdAt } = j;
  if (typeof id !== 'string' || typeof orderId !== 'string' || typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
    throw new GatewayRefused('the gateway sent a payment of an unexpected shape', null);
  }
  if (typeof status !== 'string' || !(PAYMENT_STATUSES as readonly string[]).includes(status)) throw new GatewayRefused(`unknown payment status ${String(status)}`, null);
  return {
    id,
    orderId,
    amountPaise: BigInt(amount),
    currency: typeof currency === 'string' ? currency : 'INR',
    status: status as GatewayPayment['status'],
    method: typeof method === 'string' ? method : null,
    createdAt: new Date((typeof createdAt === 'number' ? createdAt : 0) * 1000),
    errorCode: typeof j.error_code === 'string' ? j.error_code : null,
    errorDescription: typeof j.error_description === 'string' ? j.error_description : null,
  };
}

function readOrder(j: Record<string, unknown>): GatewayOrder {
  if (typeof j.id !== 'string' || typeof j.amount !== 'number') throw new GatewayRefused('the gateway sent an order of an unexpected shape', null);
  return { id: j.id, amountPaise: BigInt(j.amount), receipt: typeof j.receipt === 'string' ? j.receipt : '', status: (j.status as GatewayOrder['status']) ?? 'created' };
}

function hostedCheckout(action: string, keyId: string, o: Parameters<PaymentGateway['checkoutForm']>[0]): CheckoutForm {
  return {
    action,
    fields: {
      key_id: keyId,
      order_id: o.orderId,
      amount: o.amountPaise.toString(),
      currency: 'INR',
      name: 'Sangrahan',
      description: o.description,
      callback_url: o.callbackUrl,
      cancel_url: o.cancelUrl,
    },
  };
}

/** The embedded sandbox, called in process. */
export class SandboxAdapter implements PaymentGateway {
  readonly name = 'sandbox';
  constructor(
    private readonly sandbox: SandboxGateway,
    private readonly merchant: { keyId: string; keySecret: string; webhookSecret: string },
    private readonly checkoutAction: string,
  ) {}

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SandboxError) {
        if (e.status >= 500) throw new GatewayUnavailable(e.message);
        throw new GatewayRefused(e.message, e.code);
      }
      throw e;
    }
  }

  async createOrder(input: { amountPaise: bigint; receipt: string; notes: Record<string, string> }): Promise<GatewayOrder> {
    const j = await this.call(() => this.sandbox.createOrder(this.merchant.keyId, { amount: Number(input.amountPaise), currency: 'INR', receipt: input.receipt, notes: input.notes }));
    return readOrder(j);
  }

  async orderPayments(orderId: string): Promise<GatewayPayment[]> {
    const j = await this.call(() => this.sandbox.orderPayments(this.merchant.keyId, orderId));
    return (j.items as Record<string, unknown>[]).map(readPayment);
  }

  checkoutForm(o: Parameters<PaymentGateway['checkoutForm']>[0]): CheckoutForm {
    return hostedCheckout(this.checkoutAction, this.merchant.keyId, o);
  }

  verifyWebhook(rawBody: Buffer, signature: string | undefined): boolean {
    return verifyWebhook(rawBody, signature, this.merchant.webhookSecret);
  }

  verifyCheckout(storedOrderId: string, paymentId: string, signature: string | undefined): boolean {
    return verifyCheckout(storedOrderId, paymentId, signature, this.merchant.keySecret);
  }
}

export interface RazorpayOptions {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  /** https://api.razorpay.com in production; the sandbox's address in tests. */
  apiUrl: string;
  /** Razorpay's hosted checkout (https://api.razorpay.com/v1/checkout/embedded). */
  checkoutUrl: string;
  timeoutMs?: number;
}

interface SdkError {
  statusCode?: number;
  error?: { code?: string; description?: string };
}

/** Razorpay itself, through the official SDK (its base URL can point at the sandbox). */
export class RazorpayGateway implements PaymentGateway {
  readonly name = 'razorpay';
  private readonly sdk: Razorpay;

  constructor(private readonly opts: RazorpayOptions) {
    this.sdk = new Razorpay({ key_id: opts.keyId, key_secret: opts.keySecret });
    // The SDK fixes its host; its axios instance is the one place to point it elsewhere.
    const rq = (this.sdk as unknown as { api: { rq: { defaults: { baseURL: string; timeout: number } } } }).api.rq;
    rq.defaults.baseURL = opts.apiUrl.replace(/\/$/, '');
    rq.defaults.timeout = opts.timeoutMs ?? 15_000;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = e as SdkError;
      if (typeof err?.statusCode === 'number' && err.statusCode < 500) throw new GatewayRefused(err.error?.description ?? `gateway answered ${err.statusCode}`, err.error?.code ?? null);
      throw new GatewayUnavailable(err?.error?.description ?? (e as Error)?.message ?? 'the gateway did not answer');
    }
  }

  async createOrder(input: { amountPaise: bigint; receipt: string; notes: Record<string, string> }): Promise<GatewayOrder> {
    const j = await this.call(() => this.sdk.orders.create({ amount: Number(input.amountPaise), currency: 'INR', receipt: input.receipt, notes: input.notes }));
    return readOrder(j as unknown as Record<string, unknown>);
  }

  async orderPayments(orderId: string): Promise<GatewayPayment[]> {
    const j = await this.call(() => this.sdk.orders.fetchPayments(orderId));
    return ((j as unknown as { items: Record<string, unknown>[] }).items ?? []).map(readPayment);
  }

  checkoutForm(o: Parameters<PaymentGateway['checkoutForm']>[0]): CheckoutForm {
    return hostedCheckout(this.opts.checkoutUrl, this.opts.keyId, o);
  }

  verifyWebhook(rawBody: Buffer, signature: string | undefined): boolean {
    return verifyWebhook(rawBody, signature, this.opts.webhookSecret);
  }

  verifyCheckout(storedOrderId: string, paymentId: string, signature: string | undefined): boolean {
    return verifyCheckout(storedOrderId, paymentId, signature, this.opts.keySecret);
  }
}
