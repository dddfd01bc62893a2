import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { parseWebhook, WebhookShapeError, type ParsedWebhook } from '../../adapters/gateway/razorpay-protocol.ts';
import { GatewayRefused, GatewayUnavailable, type CheckoutForm, type GatewayPayment, type PaymentGateway } from '../../adapters/gateway/types.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { scopeOf } from '../../platform/office-scope.ts';
import type { Principal, RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { batchInScope, moveBatch } from './batches.ts';
import { settlePayment, type SettleOutcome } from './settle.ts';
import { recordUnmatchedCapture } from './unmatched.ts';

/**
 * Learning that money arrived. Money is confirmed only by the gateway: a verified webhook, or a
 * status query (asked after the browser's callback, after an unverifiable webhook, and by the
 * janitor for batches that wait too long). Everything about one order happens under its
 * payment_attempts row lock, and each gateway payment id is recorded once, so webhooks that
 * arrive twice, late or out of order change nothing the second time.
 */

type Db = Kysely<DB>;

export interface ConfirmDeps {
  db: Db;
  gateway: PaymentGateway;
  /**
   * Credits to virtual accounts (virtual_account.credited) belong to reconciliation, which
   * records them in the event's transaction; without it they are stored and ignored.
   */
  onBankTransfer?: (trx: Db, w: ParsedWebhook) => Promise<string>;
}

interface AttemptRow {
  id: bigint;
  batch_id: bigint;
  org_id: bigint;
  order_id: string;
  amount_paise: bigint;
  gateway: string;
}

async function lockAttempt(trx: Db, where: { id?: bigint; orderId?: string; gateway: string }): Promise<AttemptRow | null> {
  let q = trx.selectFrom('payment_attempts').select(['id', 'batch_id', 'org_id', 'order_id', 'amount_paise', 'gateway']).where('gateway', '=', where.gateway);
  if (where.id !== undefined) q = q.where('id', '=', where.id);
  if (where.orderId !== undefined) q = q.where('order_id', '=', where.orderId);
  return (await q.forUpdate().executeTakeFirst()) ?? null;
}

export type RecordOutcome = SettleOutcome | 'failed_recorded' | 'pending' | 'duplicate' | 'ignored';

/**
 * Records what the gateway says of one payment of the attempt's order (the caller holds the
 * attempt's lock). A capture is recorded once and settled in the same transaction; a failure
 * returns a waiting batch to 'ready' so the payer can try again.
 */
export async function recordGatewayPayment(trx: Db, a: AttemptRow, gp: GatewayPayment, via: 'webhook' | 'callback' | 'status_query', capturedAt: Date): Promise<RecordOutcome> {
  if (gp.orderId !== a.order_id) return 'ignored';
  if (gp.currency !== 'INR') {
    // Captured in another currency: it cannot pay rupee bills, but it is money: held for refund.
    if (gp.status === 'captured') await recordUnmatchedCapture(trx, { gateway: a.gateway, paymentId: gp.id, orderId: gp.orderId, amountPaise: gp.amountPaise, currency: gp.currency, method: gp.method, capturedAt }, via);
    return 'ignored';
  }
  if (gp.status === 'created' || gp.status === 'authorized') {
    await trx.updateTable('payment_batches').set({ status: 'payment_pending', status_changed_at: sql<Date>`now()` }).where('id', '=', a.batch_id).where('status', '=', 'unknown').execute();
    return 'pending';
  }
  if (gp.status !== 'captured' && gp.status !== 'failed') return 'ignored';
  const captured = gp.status === 'captured';
  const row = await trx
    .insertInto('payments')
    .values({
      org_id: a.org_id,
      batch_id: a.batch_id,
      attempt_id: a.id,
      gateway: a.gateway,
      gateway_payment_id: gp.id,
      amount_paise: gp.amountPaise,
      method: gp.method,
      status: captured ? 'captured' : 'failed',
      captured_at: captured ? capturedAt : null,
      error_code: gp.errorCode,
      error_description: gp.errorDescription?.slice(0, 500) ?? null,
      confirmed_by: via,
    })
    // A failure later captured (a late authorisation) is the one change a payment may undergo.
    .onConflict((oc) =>
      oc
        .columns(['gateway', 'gateway_payment_id'])
        .doUpdateSet({ status: 'captured', captured_at: capturedAt, confirmed_by: via, error_code: null, error_description: null })
        .where('payments.status', '=', 'failed')
        .where(sql<boolean>`${captured}`),
    )
    .returning(['id'])
    .executeTakeFirst();
  if (!row) return 'duplicate';
  if (captured) {
    // Settled by the gateway before the portal heard of it: its report said so.
    await sql`UPDATE payments p SET fee_paise = s.fee_paise, tax_paise = s.tax_paise, settlement_id = s.settlement_id
                FROM settlement_items s WHERE p.id = ${row.id} AND s.gateway_payment_id = p.gateway_payment_id`.execute(trx);
    return settlePayment(trx, row.id);
  }
  const settled = await trx.selectFrom('payments').select('id').where('batch_id', '=', a.batch_id).where('status', '=', 'captured').executeTakeFirst();
  if (!settled) {
    await trx
      .updateTable('payment_batches')
      .set({ status: 'ready', status_changed_at: sql<Date>`now()` })
      .where('id', '=', a.batch_id)
      .where('status', 'in', ['payment_pending', 'unknown'])
      .execute();
  }
  await recordAudit(trx, {
    action: 'payment.failed',
    actor: null,
    actorLabel: `system:${via}`,
    orgId: a.org_id,
    target: { type: 'payment_batch', id: a.batch_id },
    details: { gateway_payment_id: gp.id, amount_paise: gp.amountPaise.toString(), error_code: gp.errorCode, error: gp.errorDescription },
    meta: null,
  });
  return 'failed_recorded';
}

/**
 * Starts (or resumes) paying a batch online: one gateway order per batch, created on the first
 * try and reused after a failed payment. A gateway that does not answer leaves nothing behind
 * but an unused order at the gateway: no money moved, and the payer is told so.
 */
export async function startCheckout(deps: ConfirmDeps, p: Principal, batchId: bigint, urls: { callbackUrl: (attemptId: bigint) => string; cancelUrl: string }, meta: RequestMeta): Promise<{ form: CheckoutForm; orderId: string }> {
  const { db, gateway } = deps;
  const orgId = p.orgId!;
  // Only a batch the caller sees (decision 0011): another office's is not there.
  const b = await batchInScope(db, scopeOf(p), batchId);
  if (b.status === 'pending_approval') throw new AppError('APPROVAL_REQUIRED');
  if (!['ready', 'payment_pending', 'unknown'].includes(b.status) || b.mode !== 'online') throw new AppError('BATCH_NOT_OPEN');
  let attempt = await db.selectFrom('payment_attempts').select(['id', 'order_id', 'amount_paise']).where('batch_id', '=', batchId).executeTakeFirst();
  if (!attempt) {
    let order;
    try {
      order = await gateway.createOrder({
        amountPaise: b.total_paise,
        // Unique per try: an order created by a call that timed out must not block the next.
        receipt: `${b.reference}-${randomBytes(4).toString('hex')}`,
        notes: { batch: b.reference, org: orgId.toString() },
      });
    } catch (e) {
      if (e instanceof GatewayUnavailable || e instanceof GatewayRefused) throw new AppError('GATEWAY_UNAVAILABLE');
      throw e;
    }
    if (order.amountPaise !== b.total_paise) throw new AppError('GATEWAY_UNAVAILABLE');
    attempt = await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('payment_attempts')
        .values({ batch_id: batchId, org_id: orgId, gateway: gateway.name, order_id: order.id, receipt: order.receipt, amount_paise: order.amountPaise })
        .onConflict((oc) => oc.column('batch_id').doNothing())
        .returning(['id', 'order_id', 'amount_paise'])
        .executeTakeFirst();
      if (inserted) {
        await recordAudit(trx, { action: 'payment.order_created', actor: p, orgId, target: { type: 'payment_batch', id: batchId }, details: { reference: b.reference, order_id: order.id, gateway: gateway.name, amount_paise: order.amountPaise.toString() }, meta });
      }
      return inserted ?? (await trx.selectFrom('payment_attempts').select(['id', 'order_id', 'amount_paise']).where('batch_id', '=', batchId).executeTakeFirstOrThrow());
    });
  }
  await db
    .updateTable('payment_batches')
    .set({ status: 'payment_pending', status_changed_at: sql<Date>`now()` })
    .where('id', '=', batchId)
    .where('status', 'in', ['ready', 'unknown'])
    .execute();
  return {
    orderId: attempt.order_id,
    form: gateway.checkoutForm({ orderId: attempt.order_id, amountPaise: attempt.amount_paise, description: `Sangrahan ${b.reference}`, callbackUrl: urls.callbackUrl(attempt.id), cancelUrl: urls.cancelUrl }),
  };
}

export interface QueryResult {
  outcome: 'settled' | 'failed' | 'pending' | 'nothing' | 'unknown' | 'already';
}

/**
 * The status query: asks the gateway for the order's payments and records each. A gateway that
 * does not answer puts a waiting batch in 'unknown' for the janitor.
 */
export async function queryAttempt(deps: ConfirmDeps, attemptId: bigint): Promise<QueryResult> {
  const { db, gateway } = deps;
  const a = await db.selectFrom('payment_attempts').select(['id', 'order_id', 'batch_id']).where('id', '=', attemptId).where('gateway', '=', gateway.name).executeTakeFirst();
  if (!a) return { outcome: 'nothing' };
  let payments: GatewayPayment[];
  try {
    payments = await gateway.orderPayments(a.order_id);
  } catch (e) {
    if (!(e instanceof GatewayUnavailable || e instanceof GatewayRefused)) throw e;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('payment_attempts').set({ last_checked_at: sql<Date>`now()` }).where('id', '=', a.id).execute();
      await trx.updateTable('payment_batches').set({ status: 'unknown', status_changed_at: sql<Date>`now()` }).where('id', '=', a.batch_id).where('status', '=', 'payment_pending').execute();
    });
    return { outcome: 'unknown' };
  }
  return db.transaction().execute(async (trx) => {
    const locked = await lockAttempt(trx, { id: a.id, gateway: gateway.name });
    await trx.updateTable('payment_attempts').set({ last_checked_at: sql<Date>`now()` }).where('id', '=', a.id).execute();
    const outcomes: RecordOutcome[] = [];
    for (const gp of payments) outcomes.push(await recordGatewayPayment(trx, locked!, gp, 'status_query', gp.createdAt));
    if (outcomes.includes('settled')) return { outcome: 'settled' };
    if (payments.some((x) => x.status === 'captured')) return { outcome: 'already' };
    if (outcomes.includes('pending')) return { outcome: 'pending' };
    if (payments.some((x) => x.status === 'failed')) return { outcome: 'failed' };
    return { outcome: 'nothing' };
  });
}

export interface CallbackFields {
  razorpay_payment_id?: string;
  razorpay_order_id?: string;
  razorpay_signature?: string;
  pending?: string;
  'error[code]'?: string;
  'error[description]'?: string;
  'error[metadata]'?: string;
}

/**
 * The browser's return from checkout. A signature that verifies against the stored order id
 * is a reason to ask the gateway, never proof of payment by itself; the answer decides.
 */
export async function handleCallback(deps: ConfirmDeps, attemptId: bigint, f: CallbackFields): Promise<{ batchId: bigint | null; result: 'paid' | 'failed' | 'pending' | 'invalid' | 'unknown' }> {
  const a = await deps.db.selectFrom('payment_attempts').select(['id', 'order_id', 'batch_id', 'org_id']).where('id', '=', attemptId).executeTakeFirst();
  if (!a) return { batchId: null, result: 'invalid' };
  if (f.razorpay_signature !== undefined || (!f.pending && !f['error[code]'])) {
    const ok = deps.gateway.verifyCheckout(a.order_id, f.razorpay_payment_id ?? '', f.razorpay_signature);
    if (!ok) {
      await recordAudit(deps.db, { action: 'payment.callback_invalid', outcome: 'failure', actor: null, actorLabel: 'browser:callback', orgId: a.org_id, target: { type: 'payment_batch', id: a.batch_id }, details: { order_id: a.order_id, payment_id: f.razorpay_payment_id ?? null }, meta: null });
      return { batchId: a.batch_id, result: 'invalid' };
    }
  }
  const r = await queryAttempt(deps, a.id);
  const result = r.outcome === 'settled' || r.outcome === 'already' ? 'paid' : r.outcome === 'failed' ? 'failed' : r.outcome === 'unknown' ? 'unknown' : 'pending';
  return { batchId: a.batch_id, result };
}

/** Stores a webhook raw in the inbox; a verified one is then processed. Returns what happened. */
/** What becomes of a delivery whose signature fails: it is counted (and may be refused), then kept bounded. */
export interface UnverifiedPolicy {
  /** Counts the delivery against its sender's limit; throws to refuse it unstored. */
  admit: () => Promise<void>;
  /** Bytes of the body kept, with its length and SHA-256. */
  keepBytes: number;
}

export async function receiveWebhook(
  deps: ConfirmDeps,
  raw: Buffer,
  headers: Record<string, string | string[] | undefined>,
  unverified: UnverifiedPolicy = { admit: async () => {}, keepBytes: 4096 },
): Promise<{ status: 'processed' | 'duplicate' | 'ignored' | 'unverified'; outcome: string }> {
  const { db, gateway } = deps;
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const verified = gateway.verifyWebhook(raw, h('x-razorpay-signature'));
  const eventId = h('x-razorpay-event-id')?.slice(0, 100) ?? null;
  let parsed: ReturnType<typeof parseWebhook> | null = null;
  let shapeError: string | null = null;
  try {
    parsed = parseWebhook(raw);
  } catch (e) {
    if (!(e instanceof WebhookShapeError)) throw e;
    shapeError = e.message;
  }
  const kept = {
    'content-type': h('content-type') ?? null,
    'x-razorpay-event-id': eventId,
    'x-razorpay-signature': h('x-razorpay-signature')?.slice(0, 200) ?? null,
    'user-agent': h('user-agent')?.slice(0, 200) ?? null,
  };
  const row = {
    provider: gateway.name,
    event_id: eventId,
    event_type: parsed?.event ?? null,
    order_id: parsed?.orderId ?? null,
    gateway_payment_id: parsed?.paymentId ?? null,
    raw_body: raw,
    body_bytes: raw.length,
    body_sha256: createHash('sha256').update(raw).digest('hex'),
    headers: JSON.stringify(kept),
    verified,
  };
  if (!verified) {
    // Never trusted: anyone can send one, so it is counted per sender and kept bounded (its
    // first bytes, length and hash), and at most a reason to ask the gateway about a known order.
    await unverified.admit();
    const inserted = await db
      .insertInto('webhook_events')
      .values({ ...row, raw_body: raw.subarray(0, unverified.keepBytes), status: 'ignored', outcome: 'signature does not verify' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const attempt = parsed?.orderId ? await db.selectFrom('payment_attempts').select('id').where('gateway', '=', gateway.name).where('order_id', '=', parsed.orderId).executeTakeFirst() : undefined;
    if (attempt) {
      const r = await queryAttempt(deps, attempt.id).catch(() => ({ outcome: 'unknown' as const }));
      await db.updateTable('webhook_events').set({ outcome: `signature does not verify; status query: ${r.outcome}` }).where('id', '=', inserted.id).execute();
    }
    return { status: 'unverified', outcome: 'signature does not verify' };
  }
  const ins = await sql<{ id: bigint; status: string; inserted: boolean }>`
    INSERT INTO webhook_events (provider, event_id, event_type, order_id, gateway_payment_id, raw_body, body_bytes, body_sha256, headers, verified, status, outcome)
    VALUES (${row.provider}, ${row.event_id}, ${row.event_type}, ${row.order_id}, ${row.gateway_payment_id}, ${raw}, ${row.body_bytes}, ${row.body_sha256}, ${row.headers}::jsonb, true,
            ${shapeError ? 'ignored' : 'received'}, ${shapeError})
    ON CONFLICT (provider, event_id) WHERE verified AND event_id IS NOT NULL
    DO UPDATE SET duplicates = webhook_events.duplicates + 1
    RETURNING id, status, (xmax = 0) AS inserted`.execute(db);
  const ev = ins.rows[0]!;
  if (!ev.inserted && ev.status !== 'received') return { status: 'duplicate', outcome: 'already processed' };
  if (shapeError) return { status: 'ignored', outcome: shapeError };
  const outcome = await processEvent(deps, ev.id);
  return { status: outcome === 'duplicate' ? 'duplicate' : 'processed', outcome };
}

/** Processes one stored, verified event under its row lock and its order's lock. */
export async function processEvent(deps: ConfirmDeps, eventId: bigint): Promise<string> {
  return deps.db.transaction().execute(async (trx) => {
    const ev = await trx.selectFrom('webhook_events').select(['id', 'status', 'raw_body', 'provider']).where('id', '=', eventId).where('verified', '=', true).forUpdate().executeTakeFirst();
    if (!ev || ev.status !== 'received') return 'duplicate';
    // bytea comes back as a Buffer from pg and as a Uint8Array from PGlite.
    const w = parseWebhook(Buffer.from(ev.raw_body));
    const done = async (status: 'processed' | 'ignored', outcome: string) => {
      await trx.updateTable('webhook_events').set({ status, outcome, processed_at: sql<Date>`now()` }).where('id', '=', eventId).execute();
      return outcome;
    };
    if (w.event === 'virtual_account.credited') {
      if (!deps.onBankTransfer) return done('ignored', 'bank transfers are not handled here');
      return done('processed', await deps.onBankTransfer(trx, w));
    }
    const a = w.orderId ? await lockAttempt(trx, { orderId: w.orderId, gateway: ev.provider }) : null;
    if (!a) {
      // A payment with no order is a Smart Collect (virtual account or QR) payment: Razorpay
      // tells it again as virtual_account.credited, which makes it a bank credit. Counting it
      // here too would count the money twice.
      if (!w.orderId) return done('ignored', 'payment without an order: a virtual account payment, applied from its virtual_account.credited event');
      // Money for an order the portal did not make is still money: held, in the exception queue.
      const captured = w.status === 'captured' && w.event !== 'payment.failed' && w.event !== 'payment.authorized';
      if (!captured) return done('ignored', 'order unknown to the portal');
      const capture = { gateway: ev.provider, paymentId: w.paymentId, orderId: w.orderId, amountPaise: w.amountPaise, currency: w.currency, method: w.method, capturedAt: w.eventCreatedAt };
      return done('processed', await recordUnmatchedCapture(trx, capture, 'webhook'));
    }
    const status = w.event === 'payment.failed' ? 'failed' : w.event === 'payment.authorized' ? 'authorized' : (w.status as GatewayPayment['status']);
    const r = await recordGatewayPayment(
      trx,
      a,
      { id: w.paymentId, orderId: a.order_id, amountPaise: w.amountPaise, currency: w.currency, status, method: w.method, createdAt: w.paymentCreatedAt, errorCode: w.error?.code ?? null, errorDescription: w.error?.description ?? null },
      'webhook',
      // A capture event is raised when the money is captured: its time is the capture time.
      w.eventCreatedAt,
    );
    return done(r === 'ignored' ? 'ignored' : 'processed', r);
  });
}

export interface JanitorResult {
  queried: number;
  events: number;
}

/**
 * Batches waiting on the gateway longer than `olderThanMinutes` (or in 'unknown') get a status
 * query; verified events left unprocessed (a crash mid-way) are processed.
 */
export async function runJanitor(deps: ConfirmDeps, olderThanMinutes: number): Promise<JanitorResult> {
  const { rows } = await sql<{ id: bigint }>`
    SELECT a.id FROM payment_batches b JOIN payment_attempts a ON a.batch_id = b.id
     WHERE b.status IN ('payment_pending', 'unknown') AND b.mode = 'online' AND a.gateway = ${deps.gateway.name}
       AND b.status_changed_at < now() - make_interval(mins => ${olderThanMinutes})
       AND (a.last_checked_at IS NULL OR a.last_checked_at < now() - interval '1 minute')
     ORDER BY b.status_changed_at LIMIT 200`.execute(deps.db);
  for (const r of rows) {
    const q = await queryAttempt(deps, r.id);
    // The payer never paid (closed the checkout): after a day the batch is ready to pay again.
    if (q.outcome === 'nothing') {
      await sql`UPDATE payment_batches b SET status = 'ready', status_changed_at = now()
                 FROM payment_attempts a WHERE a.id = ${r.id} AND b.id = a.batch_id AND b.status = 'payment_pending'
                  AND b.status_changed_at < now() - interval '1 day'`.execute(deps.db);
    }
  }
  const { rows: stuck } = await sql<{ id: bigint }>`
    SELECT id FROM webhook_events WHERE status = 'received' AND verified AND received_at < now() - interval '1 minute' ORDER BY id LIMIT 500`.execute(deps.db);
  for (const e of stuck) await processEvent(deps, e.id);
  return { queried: rows.length, events: stuck.length };
}

export { moveBatch };
