import type { Kysely } from 'kysely';
import { RazorpayGateway, SandboxAdapter } from '../../adapters/gateway/adapters.ts';
import { SandboxGateway } from '../../adapters/gateway/sandbox.ts';
import type { PaymentGateway } from '../../adapters/gateway/types.ts';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { ConfirmDeps } from './confirm.ts';

export const SANDBOX_KEY_ID = 'rzp_test_sandbox';
export const SANDBOX_PREFIX = '/sandbox/razorpay';

export interface Payments {
  gateway: PaymentGateway;
  /** The embedded gateway, when it is the one in use. */
  sandbox: SandboxGateway | null;
  /** Where virtual_account.credited events go (reconciliation's intake; set when the app is built). */
  onBankTransfer?: ConfirmDeps['onBankTransfer'];
}

/** The configured gateway: the embedded sandbox (its merchant secrets kept in its tables) or Razorpay. */
export async function buildGateway(config: Config, db: Kysely<DB>): Promise<Payments> {
  if (config.paymentGateway === 'razorpay') {
    return {
      gateway: new RazorpayGateway({
        keyId: config.razorpayKeyId!,
        keySecret: config.razorpayKeySecret!,
        webhookSecret: config.razorpayWebhookSecret!,
        apiUrl: config.razorpayApiUrl,
        checkoutUrl: config.razorpayCheckoutUrl,
      }),
      sandbox: null,
    };
  }
  const sandbox = new SandboxGateway(db);
  const m = await sandbox.merchant(config.razorpayKeyId ?? SANDBOX_KEY_ID, { keySecret: config.razorpayKeySecret, webhookSecret: config.razorpayWebhookSecret });
  return { gateway: new SandboxAdapter(sandbox, m, `${SANDBOX_PREFIX}/v1/checkout/embedded`), sandbox };
}
