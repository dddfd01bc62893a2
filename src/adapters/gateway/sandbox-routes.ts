import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../platform/context.ts';
import { acceptForms } from '../../platform/http/forms.ts';
import { directLoopbackOnly } from '../../platform/http/origin.ts';
import { safeEqual } from '../../platform/tokens.ts';
import { SandboxError, type SandboxControl, type SandboxGateway } from './sandbox.ts';

/**
 * The sandbox gateway's HTTP face, at /sandbox/razorpay: Razorpay's REST API (Basic auth with
 * the key id and secret; /v1/orders, /v1/orders/:id/payments, /v1/payments/:id), its hosted
 * checkout (a form posted to /v1/checkout/embedded, where the tester chooses the outcome), and
 * a control endpoint for tests and demos (developer tools only).
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="/sandbox/razorpay/sandbox.css"></head>
<body><main><p class="badge">Sandbox gateway · सैंडबॉक्स गेटवे — no real money</p>${body}</main></body></html>`;
}

const CSS = `body{font-family:system-ui,sans-serif;background:#eef2f7;margin:0;color:#1b2430}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
.badge{background:#fff4d6;color:#5c4400;padding:.3rem .6rem;border-radius:4px;display:inline-block;font-size:.85rem}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#4a5565}dd{margin:0;font-weight:600}
fieldset{border:1px solid #c8d0db;border-radius:6px;margin:1rem 0}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem .5rem .3rem 0;border-radius:6px;border:1px solid #1f4e8c;cursor:pointer}
.pay{background:#1f4e8c;color:#fff}.fail{background:#fff;color:#8c1f1f;border-color:#8c1f1f}.pend{background:#fff;color:#1f4e8c}
label{margin-right:1rem}`;

const AUTO = `document.addEventListener('DOMContentLoaded',function(){var f=document.getElementById('back');if(f)f.submit();});`;

function rupees(paise: bigint): string {
  const r = new Intl.NumberFormat('en-IN').format(paise / 100n);
  return `₹${r}.${(paise % 100n).toString().padStart(2, '0')}`;
}

export async function sandboxRoutes(app: App, opts: { sandbox: SandboxGateway; devTools: boolean }): Promise<void> {
  const { sandbox } = opts;
  acceptForms(app);

  const fail = (reply: FastifyReply, e: unknown) => {
    if (e instanceof SandboxError) return reply.status(e.status).send({ error: { code: e.code, description: e.message, source: 'business', step: 'payment_initiation', reason: 'input_validation_failed', metadata: {}, field: null } });
    throw e;
  };

  /** Basic auth as Razorpay does it: the key id and its secret. */
  const keyOf = async (req: FastifyRequest, reply: FastifyReply): Promise<string | null> => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [id, secret] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':') : [];
    const merchant = id ? await sandbox.findMerchant(id) : null;
    if (!merchant || !secret || !safeEqual(secret, merchant.keySecret)) {
      await reply.status(401).send({ error: { code: 'BAD_REQUEST_ERROR', description: 'The api key provided is invalid' } });
      return null;
    }
    return merchant.keyId;
  };

  app.get('/sandbox/razorpay/sandbox.css', { schema: { hide: true } }, async (_req, reply) => reply.type('text/css').send(CSS));
  app.get('/sandbox/razorpay/return.js', { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript').send(AUTO));

  app.post('/sandbox/razorpay/v1/orders', { schema: { hide: true } }, async (req, reply) => {
    const key = await keyOf(req, reply);
    if (!key) return reply;
    const b = (req.body ?? {}) as Record<string, unknown>;
    try {
      return await sandbox.createOrder(key, { amount: b.amount, currency: b.currency, receipt: b.receipt, notes: b.notes });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/sandbox/razorpay/v1/orders/:id', { schema: { hide: true } }, async (req, reply) => {
    const key = await keyOf(req, reply);
    if (!key) return reply;
    try {
      return await sandbox.fetchOrder(key, (req.params as { id: string }).id);
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/sandbox/razorpay/v1/orders/:id/payments', { schema: { hide: true } }, async (req, reply) => {
    const key = await keyOf(req, reply);
    if (!key) return reply;
    try {
      return await sandbox.orderPayments(key, (req.params as { id: string }).id);
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/sandbox/razorpay/v1/payments/:id', { schema: { hide: true } }, async (req, reply) => {
    const key = await keyOf(req, reply);
    if (!key) return reply;
    try {
      return await sandbox.fetchPayment(key, (req.params as { id: string }).id);
    } catch (e) {
      return fail(reply, e);
    }
  });

  // The hosted checkout: the merchant's page posts key_id, order_id, callback_url here.
  app.post('/sandbox/razorpay/v1/checkout/embedded', { schema: { hide: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Record<string, string>;
    try {
      const { order, paid } = await sandbox.checkoutOrder(String(f.key_id ?? ''), String(f.order_id ?? ''));
      const hidden = ['key_id', 'order_id', 'callback_url', 'cancel_url'].map((k) => `<input type="hidden" name="${k}" value="${esc(String(f[k] ?? ''))}">`).join('');
      const body = paid
        ? `<h1>This order is already paid</h1><p><a href="${esc(String(f.cancel_url ?? '/'))}">Back to the merchant</a></p>`
        : `<h1>Pay ${esc(rupees(order.amount))}</h1>
<dl><dt>Merchant</dt><dd>${esc(String(f.name ?? 'Sangrahan'))}</dd><dt>For</dt><dd>${esc(String(f.description ?? order.receipt ?? ''))}</dd><dt>Order</dt><dd>${esc(order.id)}</dd></dl>
<form method="post" action="/sandbox/razorpay/v1/checkout/pay">${hidden}
<fieldset><legend>Method · माध्यम</legend>
<label><input type="radio" name="method" value="upi" checked> UPI</label><label><input type="radio" name="method" value="netbanking"> Net banking</label><label><input type="radio" name="method" value="card"> Card</label></fieldset>
<fieldset><legend>Outcome to simulate · परिणाम</legend>
<button class="pay" name="outcome" value="success">Success · सफल</button>
<button class="fail" name="outcome" value="failure">Failure · असफल</button>
<button class="pend" name="outcome" value="pending">Pending · लंबित</button></fieldset></form>
<p><a href="${esc(String(f.cancel_url ?? '/'))}">Cancel and go back · रद्द करें</a></p>`;
      return reply.type('text/html').send(page('Sandbox checkout', body));
    } catch (e) {
      if (e instanceof SandboxError) return reply.status(400).type('text/html').send(page('Checkout error', `<h1>Checkout error</h1><p>${esc(e.message)}</p>`));
      throw e;
    }
  });

  app.post('/sandbox/razorpay/v1/checkout/pay', { schema: { hide: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Record<string, string>;
    const outcome = f.outcome === 'failure' || f.outcome === 'pending' ? f.outcome : 'success';
    const method = ['upi', 'netbanking', 'card'].includes(f.method ?? '') ? f.method! : 'upi';
    try {
      const fields = await sandbox.pay(String(f.key_id ?? ''), String(f.order_id ?? ''), outcome, method);
      // Razorpay returns the payer to callback_url with a form post; a little script submits it.
      const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
      const body = `<h1>${outcome === 'success' ? 'Payment successful' : outcome === 'failure' ? 'Payment failed' : 'Payment pending'}</h1>
<form id="back" method="post" action="${esc(String(f.callback_url ?? '/'))}">${inputs}<button class="pay">Return to the merchant · वापस जाएँ</button></form>
<script src="/sandbox/razorpay/return.js"></script>`;
      return reply.type('text/html').send(page('Sandbox checkout', body));
    } catch (e) {
      if (e instanceof SandboxError) return reply.status(400).type('text/html').send(page('Checkout error', `<h1>Checkout error</h1><p>${esc(e.message)}</p>`));
      throw e;
    }
  });

  if (opts.devTools) {
    app.get('/sandbox/razorpay/control', { schema: { hide: true }, onRequest: directLoopbackOnly }, async () => sandbox.control());
    app.put('/sandbox/razorpay/control', { schema: { hide: true }, onRequest: directLoopbackOnly }, async (req) => {
      const b = (req.body ?? {}) as Partial<Record<keyof SandboxControl, unknown>>;
      const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
      const c: Partial<SandboxControl> = {};
      if (int(b.duplicates) !== undefined) c.duplicates = Math.min(10, int(b.duplicates)!);
      if (int(b.delaySeconds) !== undefined) c.delaySeconds = int(b.delaySeconds)!;
      if (int(b.jitterSeconds) !== undefined) c.jitterSeconds = int(b.jitterSeconds)!;
      if (int(b.pendingSeconds) !== undefined) c.pendingSeconds = int(b.pendingSeconds)!;
      if (typeof b.dropWebhooks === 'boolean') c.dropWebhooks = b.dropWebhooks;
      if (b.apiDownUntil === null || typeof b.apiDownUntil === 'string') c.apiDownUntil = b.apiDownUntil ? new Date(b.apiDownUntil) : null;
      return sandbox.setControl(c);
    });
  }
}
