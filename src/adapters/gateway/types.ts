/**
 * A payment gateway as the portal uses it: create an order, learn an order's payments (the
 * status query), check signatures. Implementations: the embedded sandbox (SandboxGateway's
 * adapter) and Razorpay through its official SDK (RazorpayGateway). Both speak Razorpay's
 * protocol, so the portal's webhook and callback handling is one code path.
 */

export interface GatewayOrder {
  id: string;
  amountPaise: bigint;
  receipt: string;
  status: 'created' | 'attempted' | 'paid';
}

export interface GatewayPayment {
  id: string;
  orderId: string;
  amountPaise: bigint;
  currency: string;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  method: string | null;
  createdAt: Date;
  errorCode: string | null;
  errorDescription: string | null;
}

export interface CheckoutForm {
  /** Where the browser posts the form (Razorpay's hosted checkout, or the sandbox's). */
  action: string;
  fields: Record<string, string>;
}

export interface PaymentGateway {
  /** 'sandbox' or 'razorpay': stored with every order and payment. */
  readonly name: string;
  createOrder(input: { amountPaise: bigint; receipt: string; notes: Record<string, string> }): Promise<GatewayOrder>;
  /** The status query: every payment of an order, as the gateway knows it now. */
  orderPayments(orderId: string): Promise<GatewayPayment[]>;
  checkoutForm(order: { orderId: string; amountPaise: bigint; description: string; callbackUrl: string; cancelUrl: string }): CheckoutForm;
  verifyWebhook(rawBody: Buffer, signature: string | undefined): boolean;
  verifyCheckout(storedOrderId: string, paymentId: string, signature: string | undefined): boolean;
}

/** The gateway did not answer (timeout, network, 5xx): the outcome is unknown, not failed. */
export class GatewayUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayUnavailable';
  }
}

/** The gateway refused the request (4xx): retrying the same request will not help. */
export class GatewayRefused extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'GatewayRefused';
  }
}
