import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { acceptForms } from '../../platform/http/forms.ts';
import { unverifiedDeliveryLimit } from '../../platform/http/limits.ts';
import { ErrorResponse, IdStr } from '../../platform/http/schemas.ts';
import { scopeOf, type Scope } from '../../platform/office-scope.ts';
import { discomScope } from '../../platform/principal.ts';
import { AuthService, claimAttempt, rateLimitedError, userOf } from '../identity/index.ts';
import { recordAudit } from '../audit/index.ts';
import { istDay } from '../dues/index.ts';
import type { Thresholds } from '../dues/query.ts';
import { batchInScope, batchesInScope, cancelBatch, createBatch, decideBatch, moveBatch, quoteBatch, type BatchRequest } from './batches.ts';
import { handleCallback, queryAttempt, receiveWebhook, startCheckout, type CallbackFields, type ConfirmDeps } from './confirm.ts';
import { buildGateway } from './gateway.ts';
import { idempotent } from './idempotency.ts';
import { postingCounts, postingId, retryPostings } from './postings.ts';
import { connectionReceiptPdf, consolidatedReceiptPdf, receiptsZip } from './receipts.ts';
import { PassThrough } from 'node:stream';
import { CONTENT_TYPES } from '../../platform/spreadsheet.ts';

const tags = ['payments'];
/** Status queries a user (or API key) may ask for in 10 minutes. */
const STATUS_QUERIES = 30;
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse };
const Money = Type.String({ pattern: '^-?[0-9]+$', description: 'paise' });
const Paise = Type.String({ pattern: '^[0-9]{1,15}$', description: 'paise' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const BatchBody = Type.Object(
  {
    selectionId: Type.Optional(IdStr),
    discom: Type.Optional(Type.String({ pattern: '^[A-Z]{2,12}$', description: 'with selectionId: only the selection’s connections of this discom (one batch per discom, as a challan needs)' })),
    items: Type.Optional(Type.Array(Type.Object({ connectionId: IdStr, amountPaise: Type.Optional(Paise) }, { additionalProperties: false }), { maxItems: 100_000 })),
    budgetHead: Type.Optional(Type.String({ maxLength: 60 })),
    sanctionRef: Type.Optional(Type.String({ maxLength: 60 })),
  },
  { additionalProperties: false, examples: [{ items: [{ connectionId: '12' }, { connectionId: '13', amountPaise: '150000' }], budgetHead: '2801-80-800', sanctionRef: 'EDU/2026/114' }] },
);
type BatchBodyT = Static<typeof BatchBody>;

const QuoteRow = Type.Object({
  connectionId: Type.String(), discom: Type.String(), consumerNo: Type.String(), billMonth: Nullable(Type.String()), dueDate: Nullable(Type.String()),
  outstandingPaise: Money, netNowPaise: Money, amountPaise: Money, rebatePaise: Money, dpsAvoidedPaise: Money, flags: Type.Array(Type.String()),
});
const Totals = {
  itemCount: Type.Integer(), totalPaise: Money, outstandingPaise: Money, rebatePaise: Money, dpsAvoidedPaise: Money, anomalyCount: Type.Integer(),
};
const Batch = Type.Object({
  id: Type.String(), reference: Type.String(), status: Type.String(), mode: Type.String(), ...Totals,
  budgetHead: Nullable(Type.String()), sanctionRef: Nullable(Type.String()), requiresApproval: Type.Boolean(),
  createdBy: Type.String(), createdByUserId: Nullable(Type.String()), createdAt: Type.String(), statusChangedAt: Type.String(),
  office: Nullable(Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }, { description: 'the nearest common office of the batch’s connections: its users and those above see the batch' })),
  decidedBy: Nullable(Type.String()), decidedAt: Nullable(Type.String()), decisionReason: Nullable(Type.String()),
  paidPaise: Money, settledAt: Nullable(Type.String()),
  paidState: Nullable(Type.Union([Type.Literal('paid'), Type.Literal('part_paid')], { description: 'once paid: part_paid when the money received was less than the batch’s total (a short capture, or a short credit accepted as part payment)' })),
  rebateCreditedPaise: Nullable(Money),
  stillDuePaise: Nullable(Type.String({ pattern: '^[0-9]+$', description: 'once paid: what the batch’s connections still owe of what it meant to clear (a shortfall, or a rebate not earned by paying late)' })),
});
const BatchDetail = Type.Intersect([
  Batch,
  Type.Object({
    order: Nullable(Type.Object({ orderId: Type.String(), gateway: Type.String(), createdAt: Type.String(), lastCheckedAt: Nullable(Type.String()) })),
    payments: Type.Array(Type.Object({ id: Type.String(), gatewayPaymentId: Type.String(), amountPaise: Money, method: Nullable(Type.String()), status: Type.String(), capturedAt: Nullable(Type.String()), confirmedBy: Type.String(), error: Nullable(Type.String()), createdAt: Type.String() })),
    postings: Type.Object({ pending: Type.Integer(), acknowledged: Type.Integer(), rejected: Type.Integer() }),
    receipts: Type.Integer(),
    discoms: Type.Array(Type.String(), { description: 'the discoms of the batch’s connections: a challan (RTGS/NEFT) needs exactly one' }),
    exceptions: Type.Array(Type.Object({ reason: Type.String(), amountPaise: Money, status: Type.String() })),
  }),
]);

function toRequest(b: BatchBodyT): BatchRequest {
  return {
    selectionId: b.selectionId ? BigInt(b.selectionId) : null,
    discom: b.discom ?? null,
    items: (b.items ?? []).map((i) => ({ connectionId: BigInt(i.connectionId), amountPaise: i.amountPaise !== undefined ? BigInt(i.amountPaise) : null })),
    budgetHead: b.budgetHead?.trim() || null,
    sanctionRef: b.sanctionRef?.trim() || null,
  };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function paymentRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  const payments = ctx.payments ?? (await buildGateway(ctx.config, db));
  const deps: ConfirmDeps = { db, gateway: payments.gateway, onBankTransfer: payments.onBankTransfer };
  const auth = new AuthService(db, ctx.config, ctx.clock);
  const thresholds: Thresholds = { lowPct: ctx.config.anomalyLowPct, highPct: ctx.config.anomalyHighPct };
  const today = () => istDay(ctx.clock());
  // Every batch and receipt is reached through the caller's scope (decision 0011): a batch of an
  // office outside the user's subtree answers 404, as one of another organisation does.
  const scope = (req: FastifyRequest): Scope => {
    if (!req.principal) throw new AppError('UNAUTHENTICATED');
    return scopeOf(req.principal);
  };
  const makers = { access: { roles: ['org_admin', 'maker', 'approver'], apiKey: 'pay' } } as const;
  const readers = { access: { roles: 'org', apiKey: 'read' } } as const;

  const batchView = async (id: bigint, sc: Scope) => {
    const b = await batchInScope(db, sc, id);
    const decider = b.decided_by ? await db.selectFrom('users').select('name').where('id', '=', b.decided_by).executeTakeFirst() : undefined;
    const maker = b.created_by ? await db.selectFrom('users').select('name').where('id', '=', b.created_by).executeTakeFirst() : undefined;
    const office = b.office_id ? await db.selectFrom('offices').select(['id', 'code', 'name']).where('id', '=', b.office_id).executeTakeFirst() : undefined;
    return {
      id: b.id.toString(), reference: b.reference, status: b.status, mode: b.mode, itemCount: b.item_count,
      totalPaise: b.total_paise.toString(), outstandingPaise: b.outstanding_paise.toString(), rebatePaise: b.rebate_paise.toString(),
      dpsAvoidedPaise: b.dps_avoided_paise.toString(), anomalyCount: b.anomaly_count, budgetHead: b.budget_head, sanctionRef: b.sanction_ref,
      requiresApproval: b.requires_approval, createdBy: maker?.name ?? b.created_by_label, createdByUserId: b.created_by?.toString() ?? null,
      createdAt: b.created_at.toISOString(), statusChangedAt: b.status_changed_at.toISOString(),
      office: office ? { id: office.id.toString(), code: office.code, name: office.name } : null,
      decidedBy: decider?.name ?? null, decidedAt: iso(b.decided_at), decisionReason: b.decision_reason, paidPaise: b.paid_paise.toString(), settledAt: iso(b.settled_at),
      paidState: b.status === 'paid' ? (b.paid_paise < b.total_paise ? ('part_paid' as const) : ('paid' as const)) : null,
      rebateCreditedPaise: b.rebate_credited_paise?.toString() ?? null, stillDuePaise: b.still_due_paise?.toString() ?? null,
    };
  };

  app.post(
    '/api/v1/org/payments/quote',
    { config: makers, schema: { tags, summary: 'Prices a batch before it is made: each row’s amount (default: what clears it if paid online today), the rebate gained by paying now, the DPS avoided, anomalies, and whether approval is needed', body: BatchBody, response: { 200: Type.Object({ ...Totals, skipped: Type.Integer(), held: Type.Integer({ description: 'connections of the selection an open payment holds: left out' }), heldBatches: Type.Array(Type.String(), { description: 'those payments’ references (the ones the caller may see)' }), discoms: Type.Array(Type.Object({ code: Type.String(), itemCount: Type.Integer(), totalPaise: Money }), { description: 'the amounts per discom: more than one cannot be paid by RTGS/NEFT (a challan is for one discom)' }), requiresApproval: Type.Boolean(), approvalThresholdPaise: Nullable(Money), rows: Type.Array(QuoteRow), rowsShown: Type.Integer() }), ...errors } } },
    async (req) => {
      const q = await db.transaction().execute((trx) => quoteBatch(trx, scope(req), toRequest(req.body), today(), thresholds));
      const shown = q.rows.slice(0, 1000);
      return {
        itemCount: q.itemCount, totalPaise: q.totalPaise.toString(), outstandingPaise: q.outstandingPaise.toString(), rebatePaise: q.rebatePaise.toString(),
        dpsAvoidedPaise: q.dpsAvoidedPaise.toString(), anomalyCount: q.anomalyCount, skipped: q.skipped, held: q.held, heldBatches: q.heldBatches,
        discoms: q.discoms.map((d) => ({ code: d.code, itemCount: d.itemCount, totalPaise: d.totalPaise.toString() })), requiresApproval: q.requiresApproval,
        approvalThresholdPaise: q.approvalThresholdPaise?.toString() ?? null, rowsShown: shown.length,
        rows: shown.map((r) => ({
          connectionId: r.connectionId.toString(), discom: r.discomCode, consumerNo: r.consumerNo, billMonth: r.billMonth, dueDate: r.dueDate, outstandingPaise: r.outstanding.toString(),
          netNowPaise: r.netNow.toString(), amountPaise: r.amount.toString(), rebatePaise: r.rebate.toString(), dpsAvoidedPaise: r.dpsAvoided.toString(), flags: r.flags,
        })),
      };
    },
  );

  app.post(
    '/api/v1/org/payments/batches',
    {
      config: makers,
      schema: {
        tags,
        summary: 'Makes a payment batch. Send an Idempotency-Key: the same key and body replays the first answer; the same key with another body is refused',
        headers: Type.Object({ 'idempotency-key': Type.String({ minLength: 8, maxLength: 128 }) }),
        body: BatchBody,
        response: { 201: Batch, 200: Batch, ...errors },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const sc = scope(req);
      const key = req.headers['idempotency-key'];
      const r = await idempotent(db, `batch:${sc.orgId}`, key, req.body, async (trx) => {
        const id = await createBatch(trx, sc, p, toRequest(req.body), today(), thresholds, req.meta);
        return { status: 201, body: { id: id.toString() } };
      });
      const view = await batchView(BigInt(r.body.id), sc);
      return reply.status(r.replayed ? 200 : r.status).header('idempotent-replayed', String(r.replayed)).send(view);
    },
  );

  app.get(
    '/api/v1/org/payments/batches',
    {
      config: readers,
      schema: {
        tags,
        summary: 'The organisation’s payment batches, newest first (payment history)',
        querystring: Type.Object({
          status: Type.Optional(Type.Union(['awaiting_approval', 'pending_approval', 'ready', 'payment_pending', 'unknown', 'paid', 'rejected', 'cancelled', 'expired'].map((x) => Type.Literal(x)))),
          before: Type.Optional(IdStr),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(Batch), next: Nullable(Type.String()) }), ...errors },
      },
    },
    async (req) => {
      const sc = scope(req);
      const limit = req.query.limit ?? 25;
      let q = batchesInScope(db, sc).select('b.id');
      if (req.query.status === 'awaiting_approval') q = q.where('b.status', '=', 'pending_approval');
      else if (req.query.status) q = q.where('b.status', '=', req.query.status);
      if (req.query.before) q = q.where('b.id', '<', BigInt(req.query.before));
      const ids = await q.orderBy('b.id', 'desc').limit(limit + 1).execute();
      const items = await Promise.all(ids.slice(0, limit).map((r) => batchView(r.id, sc)));
      return { items, next: ids.length > limit ? ids[limit - 1]!.id.toString() : null };
    },
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId',
    { config: readers, schema: { tags, summary: 'One batch: its state, order, payments, receipts and postings to the billing system', params: Type.Object({ batchId: IdStr }), response: { 200: BatchDetail, ...errors } } },
    async (req) => {
      const id = BigInt(req.params.batchId);
      const view = await batchView(id, scope(req));
      const [order, pays, posts, receipts, exceptions, discoms] = await Promise.all([
        db.selectFrom('payment_attempts').selectAll().where('batch_id', '=', id).executeTakeFirst(),
        db.selectFrom('payments').selectAll().where('batch_id', '=', id).orderBy('id').execute(),
        db.selectFrom('postings').select(['status', sql<number>`count(*)::int`.as('n')]).where('batch_id', '=', id).groupBy('status').execute(),
        db.selectFrom('receipts').select(sql<number>`count(*)::int`.as('n')).where('batch_id', '=', id).executeTakeFirstOrThrow(),
        db.selectFrom('payment_exceptions as e').innerJoin('payments as p', 'p.id', 'e.payment_id').select(['e.reason', 'e.amount_paise', 'e.status']).where('p.batch_id', '=', id).execute(),
        db.selectFrom('payment_batch_items as i').innerJoin('discoms as dc', 'dc.id', 'i.discom_id').select('dc.code').distinct().where('i.batch_id', '=', id).orderBy('dc.code').execute(),
      ]);
      const count = (s: string) => posts.find((x) => x.status === s)?.n ?? 0;
      return {
        ...view,
        order: order ? { orderId: order.order_id, gateway: order.gateway, createdAt: order.created_at.toISOString(), lastCheckedAt: iso(order.last_checked_at) } : null,
        payments: pays.map((x) => ({
          id: x.id.toString(), gatewayPaymentId: x.gateway_payment_id, amountPaise: x.amount_paise.toString(), method: x.method, status: x.status,
          capturedAt: iso(x.captured_at), confirmedBy: x.confirmed_by, error: x.error_description, createdAt: x.created_at.toISOString(),
        })),
        postings: { pending: count('pending'), acknowledged: count('acknowledged'), rejected: count('rejected') },
        receipts: receipts.n,
        discoms: discoms.map((d) => d.code),
        exceptions: exceptions.map((e) => ({ reason: e.reason, amountPaise: e.amount_paise.toString(), status: e.status })),
      };
    },
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId/items',
    {
      config: readers,
      schema: {
        tags,
        summary: 'The connections of a batch, 100 at a time: amount, and once paid the receipt and its posting to the billing system',
        params: Type.Object({ batchId: IdStr }),
        querystring: Type.Object({ after: Type.Optional(IdStr) }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({
              connectionId: Type.String(), consumerNo: Type.String(), billMonth: Nullable(Type.String()), dueDate: Nullable(Type.String()), outstandingPaise: Money,
              amountPaise: Money, rebatePaise: Money, flags: Type.Array(Type.String()),
              receipt: Nullable(Type.Object({ id: Type.String(), receiptNo: Type.String(), amountPaise: Money, advancePaise: Money, rebatePaise: Money, balanceAfterPaise: Money })),
              posting: Nullable(Type.Object({ postingId: Type.String(), status: Type.String(), billingReceiptNo: Nullable(Type.String()), lastError: Nullable(Type.String()) })),
            })),
            next: Nullable(Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const id = BigInt(req.params.batchId);
      await batchView(id, scope(req));
      const rows = await db
        .selectFrom('payment_batch_items as i')
        .leftJoin('receipts as r', (j) => j.onRef('r.batch_id', '=', 'i.batch_id').onRef('r.connection_id', '=', 'i.connection_id'))
        .leftJoin('postings as p', (j) => j.onRef('p.receipt_id', '=', 'r.id').on('p.kind', '=', 'payment'))
        .select([
          'i.connection_id', 'i.consumer_no', 'i.bill_month', 'i.due_date', 'i.outstanding_paise', 'i.amount_paise', 'i.rebate_paise', 'i.flags',
          'r.id as receipt_id', 'r.receipt_no', 'r.amount_paise as r_amount', 'r.advance_paise as r_advance', 'r.rebate_paise as r_rebate', 'r.balance_after_paise as r_after',
          'p.id as posting_id', 'p.status as posting_status', 'p.billing_receipt_no', 'p.last_error',
        ])
        .where('i.batch_id', '=', id)
        .$if(!!req.query.after, (q) => q.where('i.connection_id', '>', BigInt(req.query.after!)))
        .orderBy('i.connection_id')
        .limit(101)
        .execute();
      const page = rows.slice(0, 100);
      return {
        items: page.map((r) => ({
          connectionId: r.connection_id.toString(), consumerNo: r.consumer_no, billMonth: r.bill_month, dueDate: r.due_date, outstandingPaise: r.outstanding_paise.toString(),
          amountPaise: r.amount_paise.toString(), rebatePaise: r.rebate_paise.toString(), flags: r.flags,
          receipt: r.receipt_id ? { id: r.receipt_id.toString(), receiptNo: r.receipt_no!, amountPaise: r.r_amount!.toString(), advancePaise: r.r_advance!.toString(), rebatePaise: r.r_rebate!.toString(), balanceAfterPaise: r.r_after!.toString() } : null,
          posting: r.posting_id ? { postingId: postingId(r.posting_id), status: r.posting_status!, billingReceiptNo: r.billing_receipt_no, lastError: r.last_error } : null,
        })),
        next: rows.length > 100 ? page[page.length - 1]!.connection_id.toString() : null,
      };
    },
  );

  const Lang = Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('hi')])) });
  app.get(
    '/api/v1/org/payments/batches/:batchId/receipt.pdf',
    { config: { ...readers, expensive: true }, schema: { tags, summary: 'The consolidated receipt of a paid batch (PDF, English or Hindi)', params: Type.Object({ batchId: IdStr }), querystring: Lang } },
    async (req, reply) => {
      const sc = scope(req);
      const b = await batchView(BigInt(req.params.batchId), sc);
      const pdf = await consolidatedReceiptPdf(db, sc.orgId, BigInt(b.id), req.query.lang ?? 'en');
      if (!pdf) throw new AppError('NOT_FOUND');
      reply.header('content-disposition', `attachment; filename="${b.reference}-receipt.pdf"`);
      return reply.type(CONTENT_TYPES.pdf).send(pdf);
    },
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId/receipts.zip',
    { config: { ...readers, expensive: true }, schema: { tags, summary: 'The consolidated receipt and every connection’s receipt of a paid batch, as one ZIP', params: Type.Object({ batchId: IdStr }), querystring: Lang } },
    async (req, reply) => {
      const sc = scope(req);
      const orgId = sc.orgId;
      const b = await batchView(BigInt(req.params.batchId), sc);
      const any = await db.selectFrom('receipts').select('id').where('batch_id', '=', BigInt(b.id)).where('org_id', '=', orgId).executeTakeFirst();
      if (!any) throw new AppError('NOT_FOUND');
      const out = new PassThrough();
      receiptsZip(db, orgId, BigInt(b.id), req.query.lang ?? 'en', out).then(
        (ok) => {
          if (!ok) out.end();
        },
        (e: Error) => {
          req.log.error({ err: e }, 'receipts zip failed');
          out.destroy(e);
        },
      );
      reply.header('content-disposition', `attachment; filename="${b.reference}-receipts.zip"`);
      return reply.type('application/zip').send(out);
    },
  );

  app.get(
    '/api/v1/org/payments/receipts/:receiptId.pdf',
    { config: { ...readers, expensive: true }, schema: { tags, summary: 'One connection’s receipt (PDF), with its posting to the billing system', params: Type.Object({ receiptId: IdStr }), querystring: Lang } },
    async (req, reply) => {
      // A receipt is reached through its batch: out of scope, it is not there.
      const pdf = await connectionReceiptPdf(db, scope(req), BigInt(req.params.receiptId), req.query.lang ?? 'en');
      if (!pdf) throw new AppError('NOT_FOUND');
      const r = await db.selectFrom('receipts').select('receipt_no').where('id', '=', BigInt(req.params.receiptId)).executeTakeFirstOrThrow();
      reply.header('content-disposition', `attachment; filename="${r.receipt_no.replaceAll('/', '-')}.pdf"`);
      return reply.type(CONTENT_TYPES.pdf).send(pdf);
    },
  );

  const Decision = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }), reason: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false, examples: [{ code: '123456', reason: 'Budget head not yet sanctioned' }] });
  for (const approve of [true, false]) {
    app.post(
      `/api/v1/org/payments/batches/:batchId/${approve ? 'approve' : 'reject'}`,
      {
        config: { access: { roles: ['approver', 'org_admin'] } },
        schema: { tags, summary: approve ? 'Approves a batch (not its maker), with a current TOTP code' : 'Rejects a batch with a reason, with a current TOTP code', params: Type.Object({ batchId: IdStr }), body: Decision, response: { 200: Batch, ...errors } },
      },
      async (req) => {
        const u = userOf(req);
        const sc = scope(req);
        const id = BigInt(req.params.batchId);
        const b = await batchView(id, sc);
        if (b.status !== 'pending_approval') throw new AppError('BATCH_NOT_OPEN');
        if (b.createdByUserId === u.userId.toString()) throw new AppError('MAKER_CANNOT_APPROVE');
        if (!approve && !req.body.reason?.trim()) {
          throw new AppError('VALIDATION_FAILED', [{ path: 'body.reason', problem: 'required', message: { en: 'give the reason for rejecting', hi: 'अस्वीकार करने का कारण दें' } }]);
        }
        await auth.confirmTotp(u, req.body.code, req.meta, approve ? 'payment.batch_approved' : 'payment.batch_rejected');
        await decideBatch(db, u, id, { approve, reason: req.body.reason ?? null }, req.meta);
        return batchView(id, sc);
      },
    );
  }

  app.post(
    '/api/v1/org/payments/batches/:batchId/cancel',
    { config: makers, schema: { tags, summary: 'Cancels a batch that has not gone to the gateway; its connections are free again', params: Type.Object({ batchId: IdStr }), body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false, examples: [{ reason: 'Made by mistake' }] }), response: { 200: Batch, ...errors } } },
    async (req) => {
      const p = req.principal!;
      await cancelBatch(db, p, BigInt(req.params.batchId), req.body.reason ?? null, req.meta);
      return batchView(BigInt(req.params.batchId), scope(req));
    },
  );

  const base = () => ctx.config.publicUrl ?? '';
  app.post(
    '/api/v1/org/payments/batches/:batchId/checkout',
    {
      config: makers,
      schema: {
        tags,
        summary: 'Pays a batch online: the gateway order (one per batch) and the hosted checkout form to post',
        params: Type.Object({ batchId: IdStr }),
        response: { 200: Type.Object({ orderId: Type.String(), action: Type.String(), fields: Type.Record(Type.String(), Type.String()) }), ...errors },
      },
    },
    async (req) => {
      const p = req.principal!;
      const id = BigInt(req.params.batchId);
      const r = await startCheckout(deps, p, id, { callbackUrl: (a) => `${base()}/api/v1/payments/callback/${a}`, cancelUrl: `${base()}/payments/${id}?result=cancelled` }, req.meta);
      return { orderId: r.orderId, action: r.form.action, fields: r.form.fields };
    },
  );

  app.post(
    '/api/v1/org/payments/batches/:batchId/refresh',
    {
      config: makers,
      schema: {
        tags,
        summary: 'Asks the gateway now for the batch’s payments (the status query): "Check status" while a payment waits. An order with no payment at all (the payer closed the checkout) makes the batch ready to pay again. At most 30 a user (or key) in 10 minutes',
        params: Type.Object({ batchId: IdStr }),
        response: { 200: Batch, ...errors },
      },
    },
    async (req) => {
      const p = req.principal!;
      const sc = scope(req);
      const id = BigInt(req.params.batchId);
      const before = await batchView(id, sc);
      // Each check is a call to the gateway: limited per caller, as other costly org routes are.
      const who = p.kind === 'user' ? `user:${p.userId}` : `key:${p.apiKeyId}`;
      const limited = await claimAttempt(db, `status-query-${who}`, { max: STATUS_QUERIES, windowMs: 600_000, lockMs: 300_000 });
      if (limited.lockedUntil) {
        throw rateLimitedError(limited.lockedUntil, {
          en: `You have asked the gateway ${STATUS_QUERIES} times in 10 minutes, the most allowed; the portal keeps asking by itself.`,
          hi: `आपने 10 मिनट में ${STATUS_QUERIES} बार गेटवे से पूछा है, जो अधिकतम सीमा है; पोर्टल स्वयं पूछता रहता है।`,
        });
      }
      const a = await db.selectFrom('payment_attempts').select('id').where('batch_id', '=', id).executeTakeFirst();
      if (a) {
        const r = await queryAttempt(deps, a.id);
        // The gateway answered and holds no payment for the order: nobody paid (the checkout was
        // closed). The batch is ready to pay again now, not after the janitor's day; the order is
        // kept, so a payment still made in an old window settles this batch (ready → paid).
        if (r.outcome === 'nothing' && (before.status === 'payment_pending' || before.status === 'unknown')) {
          await db.transaction().execute(async (trx) => {
            const b = await batchInScope(trx, sc, id, { forUpdate: true });
            if (b.status !== 'payment_pending' && b.status !== 'unknown') return;
            await moveBatch(trx, id, sc.orgId, [b.status], 'ready');
            await recordAudit(trx, { action: 'payment.checkout_abandoned', actor: p, orgId: sc.orgId, target: { type: 'payment_batch', id }, details: { reference: b.reference, from: b.status, gateway_payments: 0 }, meta: req.meta });
          });
        }
      }
      return batchView(id, sc);
    },
  );

  // ---- machines and browsers coming back from the gateway ----------------------------------

  const unverifiedWebhook = unverifiedDeliveryLimit(app, 'razorpay-webhook', ctx.config.unverifiedDeliveriesPerIp);
  await app.register(async (scoped) => {
    // Signatures cover the raw bytes: this route keeps them.
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
    scoped.post(
      '/api/v1/webhooks/razorpay',
      {
        config: { access: { public: true } },
        schema: { tags, summary: 'Razorpay webhooks (payment.captured, payment.failed, order.paid), signed with X-Razorpay-Signature over the raw body', response: { 200: Type.Object({ status: Type.String(), outcome: Type.String() }), ...errors } },
      },
      async (req, reply) => {
        const raw = req.body as Buffer;
        if (!Buffer.isBuffer(raw)) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
        const r = await receiveWebhook(deps, raw, req.headers, { admit: () => unverifiedWebhook(req, reply), keepBytes: ctx.config.unverifiedBodyBytes });
        if (r.status === 'unverified') throw new AppError('INVALID_SIGNATURE');
        return reply.status(200).send(r);
      },
    );
  });

  // The gateway returns the payer with a form post: this route alone reads forms.
  await app.register(async (scoped) => {
    acceptForms(scoped);
    scoped.post(
      '/api/v1/payments/callback/:attemptId',
      {
        config: { access: { public: true } },
        schema: { tags, summary: 'Where the hosted checkout sends the payer back (form post with razorpay_payment_id, razorpay_order_id, razorpay_signature, or error[…]); redirects to the batch’s page', params: Type.Object({ attemptId: IdStr }), hide: false },
      },
      async (req, reply) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const fields: CallbackFields = {};
        for (const k of ['razorpay_payment_id', 'razorpay_order_id', 'razorpay_signature', 'pending', 'error[code]', 'error[description]', 'error[metadata]'] as const) {
          if (typeof body[k] === 'string') fields[k] = (body[k]).slice(0, 500);
        }
        const r = await handleCallback(deps, BigInt((req.params as { attemptId: string }).attemptId), fields);
        return reply.redirect(r.batchId ? `/payments/${r.batchId}?result=${r.result}` : '/payments?result=invalid', 303);
      },
    );
  });

  // ---- the discom: postings that need attention ---------------------------------------------

  app.get(
    '/api/v1/discom/postings',
    {
      config: { access: { roles: 'discom' } },
      schema: {
        tags,
        summary: 'Postings to the billing system that need attention, of the caller’s discom (the holding company: both): refused, or still retrying',
        response: {
          200: Type.Object({
            counts: Type.Object({ pending: Type.Integer(), retrying: Type.Integer(), rejected: Type.Integer(), acknowledged: Type.Integer() }),
            items: Type.Array(Type.Object({ id: Type.String(), postingId: Type.String(), status: Type.String(), consumerNo: Type.String(), organisation: Type.String(), amountPaise: Money, kind: Type.String(), attempts: Type.Integer(), lastError: Nullable(Type.String()), nextAttemptAt: Type.String(), reference: Type.String() })),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      const counts = await postingCounts(db, discom);
      const rows = await db
        .selectFrom('postings as p')
        .innerJoin('organisations as o', 'o.id', 'p.org_id')
        .select(['p.id', 'p.status', 'p.consumer_no', 'o.name', 'p.amount_paise', 'p.kind', 'p.attempts', 'p.last_error', 'p.next_attempt_at', 'p.reference'])
        .where((eb) => eb.or([eb('p.status', '=', 'rejected'), eb.and([eb('p.status', '=', 'pending'), eb('p.attempts', '>', 0)])]))
        .$if(discom !== null, (q) => q.where('p.discom_id', '=', discom!))
        .orderBy('p.id')
        .limit(500)
        .execute();
      return {
        counts,
        items: rows.map((r) => ({
          id: r.id.toString(), postingId: postingId(r.id), status: r.status, consumerNo: r.consumer_no, organisation: r.name, amountPaise: r.amount_paise.toString(),
          kind: r.kind, attempts: r.attempts, lastError: r.last_error, nextAttemptAt: r.next_attempt_at.toISOString(), reference: r.reference,
        })),
      };
    },
  );

  app.post(
    '/api/v1/discom/postings/retry',
    {
      config: { access: { roles: ['collection_officer', 'accounts', 'discom_admin'] } },
      schema: { tags, summary: 'Sends refused or waiting postings again now (of the caller’s discom only: naming another discom’s retries nothing)', body: Type.Object({ ids: Type.Array(IdStr, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false, examples: [{ ids: ['1'] }] }), response: { 200: Type.Object({ retried: Type.Integer() }), ...errors } },
    },
    async (req) => {
      const u = userOf(req);
      const retried = await retryPostings(db, req.body.ids.map(BigInt), u, req.meta);
      return { retried };
    },
  );
}
