import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { SandboxBank } from '../../adapters/bank/sandbox.ts';
import { EcollectShapeError, parseEcollect, verifyEcollect } from '../../adapters/bank/ecollect.ts';
import type { App, AppContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { unverifiedDeliveryLimit } from '../../platform/http/limits.ts';
import { ErrorResponse, IdStr, RowNo } from '../../platform/http/schemas.ts';
import { CONTENT_TYPES, money, sheetStream, type Cell } from '../../platform/spreadsheet.ts';
import { collections, dailyReport, threeWay } from './reports.ts';
import { dailyReportPdf, dailyReportXlsx } from './report-docs.ts';
import { userOf } from '../identity/index.ts';
import { scopeOf, type Scope } from '../../platform/office-scope.ts';
import { bulkPaymentFile } from './bulk-file.ts';
import { challanPdf } from './challan-pdf.ts';
import { challanView, issueChallan, type ChallanView } from './challans.ts';
import { importAndApply, requestStatementImport, statementImportOf } from './statement-imports.ts';
import { holdingOnly, importSettlementReport } from './settlements.ts';
import { discomScope } from '../../platform/principal.ts';
import { reportDiscom } from '../discoms/index.ts';
import { ONLINE_COLLECTIONS } from '../demo/seed.ts';
import { INDIAN_BANK_CSV, type CsvLayout } from '../../adapters/bank/statements/index.ts';
import { sql } from 'kysely';
import { describe, intakeCredit, resolveException, resolutionsFor, validateEcollect, type ResolveAction } from './credits.ts';

const tags = ['reconciliation'];
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse };
const Money = Type.String({ pattern: '^-?[0-9]+$', description: 'paise' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Lang = Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('hi')])) });

const Credit = Type.Object({
  utr: Nullable(Type.String()), amountPaise: Money, creditedAt: Type.String(), mode: Nullable(Type.String()), status: Type.String(), sources: Type.Array(Type.String()),
  exception: Nullable(Type.Object({ id: Type.String(), reason: Type.String(), status: Type.String(), resolution: Nullable(Type.String()) })),
});
const Challan = Type.Object({
  id: Type.String(), batchId: Type.String(), batchReference: Type.String(), organisation: Type.String(), discomCode: Type.String(), vaNumber: Type.String(), ifsc: Type.String(),
  bankName: Type.String(), beneficiaryName: Type.String(), amountPaise: Money, validUntil: Type.String(), status: Type.String(), extensions: Type.Integer(),
  createdAt: Type.String(), paidAt: Nullable(Type.String()), itemCount: Type.Integer(), credits: Type.Array(Credit),
});

const ResolveBody = Type.Object(
  {
    action: Type.Union(['part_payment', 'advance', 'extend', 'assign', 'refund', 'settled', 'acknowledge'].map((x) => Type.Literal(x))),
    batchId: Type.Optional(IdStr),
    connectionId: Type.Optional(IdStr),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, examples: [{ action: 'assign', batchId: '42', note: 'Payer confirmed by letter 14/2026 that this was for batch 42' }] },
);

export async function reconciliationRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  // The sandbox bank only when it is the configured collection bank (COLLECTION_BANK=sandbox).
  const bank = ctx.config.collectionBank === 'sandbox' ? new SandboxBank(db) : null;
  const makers = { access: { roles: ['org_admin', 'maker', 'approver'], apiKey: 'pay' } } as const;
  const readers = { access: { roles: 'org', apiKey: 'read' } } as const;
  const accounts = { access: { roles: ['accounts', 'discom_admin'] } } as const;

  const creditsOf = async (challanId: bigint) => {
    const rows = await db
      .selectFrom('bank_credits as c')
      .leftJoin('recon_exceptions as e', 'e.credit_id', 'c.id')
      .select(['c.utr', 'c.amount_paise', 'c.credited_at', 'c.mode', 'c.status', 'c.sources', 'e.id as ex_id', 'e.reason', 'e.status as ex_status', 'e.resolution'])
      .where('c.challan_id', '=', challanId)
      .orderBy('c.id')
      .orderBy('e.id')
      .execute();
    return rows.map((r) => ({
      utr: r.utr, amountPaise: r.amount_paise.toString(), creditedAt: r.credited_at.toISOString(), mode: r.mode, status: r.status, sources: r.sources,
      exception: r.ex_id ? { id: r.ex_id.toString(), reason: r.reason!, status: r.ex_status!, resolution: r.resolution } : null,
    }));
  };
  const show = async (c: ChallanView) => ({
    id: c.id.toString(), batchId: c.batchId.toString(), batchReference: c.batchReference, organisation: c.organisation, discomCode: c.discomCode, vaNumber: c.vaNumber,
    ifsc: c.ifsc, bankName: c.bankName, beneficiaryName: c.beneficiaryName, amountPaise: c.amountPaise.toString(), validUntil: c.validUntil.toISOString(), status: c.status,
    extensions: c.extensions, createdAt: c.createdAt.toISOString(), paidAt: c.paidAt?.toISOString() ?? null, itemCount: c.itemCount, credits: await creditsOf(c.id),
  });
  // The payer's challans are reached through their batch, within the caller's offices (decision 0011).
  const challanOf = async (scope: Scope, batchId: bigint) => {
    const c = await challanView(db, { batchId, scope });
    if (!c) throw new AppError('NOT_FOUND');
    return c;
  };

  // ---- the payer: challans -------------------------------------------------------------------

  app.post(
    '/api/v1/org/payments/batches/:batchId/challan',
    { config: makers, schema: { tags, summary: 'Pays a ready batch by RTGS/NEFT: issues its challan (a virtual account of its own, the exact amount, a deadline). Asking again returns the same challan', params: Type.Object({ batchId: IdStr }), response: { 200: Challan, ...errors } } },
    async (req) => {
      const p = req.principal!;
      const id = BigInt(req.params.batchId);
      await issueChallan(db, p, id, ctx.clock(), req.meta);
      return show(await challanOf(scopeOf(p), id));
    },
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId/challan',
    { config: readers, schema: { tags, summary: 'The batch’s challan and the bank credits received for it (UTR, amount, state)', params: Type.Object({ batchId: IdStr }), response: { 200: Challan, ...errors } } },
    async (req) => show(await challanOf(scopeOf(req.principal!), BigInt(req.params.batchId))),
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId/challan.pdf',
    { config: { ...readers, expensive: true }, schema: { tags, summary: 'The challan to print (PDF, English or Hindi)', params: Type.Object({ batchId: IdStr }), querystring: Lang } },
    async (req, reply) => {
      const c = await challanOf(scopeOf(req.principal!), BigInt(req.params.batchId));
      const pdf = await challanPdf(c, req.query.lang ?? 'en', ctx.clock());
      reply.header('content-disposition', `attachment; filename="${c.batchReference}-challan.pdf"`);
      return reply.type(CONTENT_TYPES.pdf).send(pdf);
    },
  );

  app.get(
    '/api/v1/org/payments/batches/:batchId/challan-bulk.csv',
    { config: { ...readers, expensive: true }, schema: { tags, summary: 'The challan as a bank bulk-payment file (NEFT/RTGS upload layout) to give the payer’s bank', params: Type.Object({ batchId: IdStr }) } },
    async (req, reply) => {
      const c = await challanOf(scopeOf(req.principal!), BigInt(req.params.batchId));
      if (c.status !== 'active') throw new AppError('BATCH_NOT_OPEN');
      reply.header('content-disposition', `attachment; filename="${c.batchReference}-neft-rtgs.csv"`);
      return reply.type('text/csv; charset=utf-8').send(bulkPaymentFile(c, ctx.clock()));
    },
  );

  // ---- the bank: e-collect -------------------------------------------------------------------

  const ecollectSecret = async () => ctx.config.bankEcollectSecret ?? (bank ? await bank.ecollectSecret() : null);
  // A call whose signature fails is not stored (nothing of it is needed: the bank calls again),
  // only counted per address; past the limit it answers 429 instead of 401.
  const unverifiedCall = unverifiedDeliveryLimit(app, 'bank-ecollect', ctx.config.unverifiedDeliveriesPerIp);
  await app.register(async (scoped) => {
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    const readSigned = async (req: FastifyRequest, reply: FastifyReply) => {
      const raw = req.body;
      const signature = req.headers['x-bank-signature'];
      if (!Buffer.isBuffer(raw)) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
      const secret = await ecollectSecret();
      if (!secret || !verifyEcollect(raw, Array.isArray(signature) ? signature[0] : signature, secret)) {
        await unverifiedCall(req, reply);
        throw new AppError('INVALID_SIGNATURE');
      }
      try {
        return parseEcollect(raw);
      } catch (e) {
        if (!(e instanceof EcollectShapeError)) throw e;
        throw new AppError('VALIDATION_FAILED', [{ path: 'body', problem: 'shape', message: { en: e.message, hi: e.message } }]);
      }
    };
    scoped.post(
      '/api/v1/bank/ecollect/validate',
      { config: { access: { public: true } }, schema: { tags, summary: 'e-collect: the bank asks whether to accept a transfer to a virtual account (signed with X-Bank-Signature)', response: { 200: Type.Object({ decision: Type.String(), reason: Nullable(Type.String()) }), ...errors } } },
      async (req, reply) => {
        const c = await readSigned(req, reply);
        return validateEcollect(db, c);
      },
    );
    scoped.post(
      '/api/v1/bank/ecollect/notify',
      { config: { access: { public: true } }, schema: { tags, summary: 'e-collect: the bank says it credited a transfer (idempotent by UTR)', response: { 200: Type.Object({ status: Type.String(), outcome: Type.String() }), ...errors } } },
      async (req, reply) => {
        const c = await readSigned(req, reply);
        const r = await intakeCredit(db, { ...c, narrative: `e-collect ${c.mode} ${c.utr}`, externalId: null, source: 'ecollect' });
        return { status: r.outcome, outcome: describe(r) };
      },
    );
  });

  // ---- the discom's accounts team: the exception queue -----------------------------------------

  app.get(
    '/api/v1/discom/recon/exceptions',
    {
      config: { access: { roles: 'discom' } },
      schema: {
        tags,
        summary: 'The reconciliation exception queue of the caller’s discom (the holding company: all, with gateway settlement items): credits that did not match and payments not settled in time, with what may be done about each',
        querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])), before: Type.Optional(IdStr), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }),
        response: {
          200: Type.Object({
            counts: Type.Record(Type.String(), Type.Integer()),
            items: Type.Array(Type.Object({
              id: Type.String(), reason: Type.String(), status: Type.String(), amountPaise: Money, detail: Nullable(Type.String()), createdAt: Type.String(),
              utr: Nullable(Type.String()), vaNumber: Nullable(Type.String()), creditedAt: Nullable(Type.String()), payerName: Nullable(Type.String()), sources: Type.Array(Type.String()),
              batchId: Nullable(Type.String()), batchReference: Nullable(Type.String()), organisation: Nullable(Type.String()), gatewayPaymentId: Nullable(Type.String()),
              actions: Type.Array(Type.String()), resolution: Nullable(Type.String()), resolvedBy: Nullable(Type.String()), resolvedAt: Nullable(Type.String()), note: Nullable(Type.String()),
            })),
            next: Nullable(Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const status = req.query.status ?? 'open';
      const limit = req.query.limit ?? 50;
      const discom = discomScope(req.principal);
      const counts = await db
        .selectFrom('recon_exceptions')
        .select(['reason', db.fn.countAll<number>().as('n')])
        .where('status', '=', 'open')
        .$if(discom !== null, (q) => q.where('discom_id', '=', discom!))
        .groupBy('reason')
        .execute();
      const rows = await db
        .selectFrom('recon_exceptions as e')
        .leftJoin('bank_credits as c', 'c.id', 'e.credit_id')
        .leftJoin('payments as p', 'p.id', 'e.payment_id')
        .leftJoin('unmatched_captures as uc', 'uc.id', 'e.capture_id')
        .leftJoin('payment_batches as b', 'b.id', 'e.batch_id')
        .leftJoin('organisations as o', 'o.id', 'e.org_id')
        .leftJoin('users as u', 'u.id', 'e.resolved_by')
        .select([
          'e.id', 'e.reason', 'e.status', 'e.amount_paise', 'e.detail', 'e.created_at', 'c.utr', 'c.va_number', 'c.credited_at', 'c.payer_name', 'c.sources',
          'e.batch_id', 'b.reference', 'o.name as org_name', sql<string | null>`coalesce(p.gateway_payment_id, uc.gateway_payment_id)`.as('gateway_payment_id'), 'uc.captured_at', 'e.resolution', 'u.name as resolver', 'e.resolved_at', 'e.note',
        ])
        .where('e.status', '=', status)
        .$if(discom !== null, (q) => q.where('e.discom_id', '=', discom!))
        .$if(!!req.query.before, (q) => q.where('e.id', '<', BigInt(req.query.before!)))
        .orderBy('e.id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      return {
        counts: Object.fromEntries(counts.map((c) => [c.reason, Number(c.n)])),
        items: page.map((r) => ({
          id: r.id.toString(), reason: r.reason, status: r.status, amountPaise: r.amount_paise.toString(), detail: r.detail, createdAt: r.created_at.toISOString(),
          utr: r.utr, vaNumber: r.va_number, creditedAt: (r.credited_at ?? r.captured_at)?.toISOString() ?? null, payerName: r.payer_name, sources: r.sources ?? [],
          batchId: r.batch_id?.toString() ?? null, batchReference: r.reference, organisation: r.org_name, gatewayPaymentId: r.gateway_payment_id,
          actions: r.status === 'open' ? [...resolutionsFor(r.reason)] : [], resolution: r.resolution, resolvedBy: r.resolver, resolvedAt: r.resolved_at?.toISOString() ?? null, note: r.note,
        })),
        next: rows.length > limit ? page[page.length - 1]!.id.toString() : null,
      };
    },
  );

  app.post(
    '/api/v1/discom/recon/exceptions/:exceptionId/resolve',
    {
      config: accounts,
      schema: {
        tags,
        summary: 'Resolves an exception with an audited action: part_payment (a short credit allocated by rule), advance (an excess as advance credit), extend (an expired challan), assign (to a batch by hand), refund (marked for refund), settled (a late gateway settlement), acknowledge (a capture short of its order, already applied as a part payment; a UTR reported again with another amount, checked with the bank)',
        params: Type.Object({ exceptionId: IdStr }),
        body: ResolveBody,
        response: { 200: Type.Object({ exceptionId: Type.String(), outcome: Type.String(), newExceptionId: Nullable(Type.String()) }), ...errors },
      },
    },
    async (req) => {
      const u = userOf(req);
      const b = req.body;
      const bad = (path: string, en: string, hi: string) => new AppError('VALIDATION_FAILED', [{ path, problem: 'required', message: { en, hi } }]);
      let action: ResolveAction;
      if (b.action === 'assign') {
        if (!b.batchId) throw bad('body.batchId', 'name the batch the money is for', 'वह बैच बताएँ जिसके लिए राशि है');
        action = { action: 'assign', batchId: BigInt(b.batchId) };
      } else if (b.action === 'advance') {
        action = b.connectionId ? { action: 'advance', connectionId: BigInt(b.connectionId) } : { action: 'advance' };
      } else {
        action = { action: b.action as 'part_payment' | 'extend' | 'refund' | 'settled' | 'acknowledge' };
      }
      if ((b.action === 'refund' || b.action === 'assign' || b.action === 'settled' || b.action === 'acknowledge') && !b.note?.trim()) throw bad('body.note', 'say why, for the audit log', 'कारण लिखें, ऑडिट लॉग के लिए');
      const r = await resolveException(db, u, BigInt(req.params.exceptionId), action, b.note?.trim() || null, ctx.clock(), req.meta);
      return { exceptionId: r.exceptionId.toString(), outcome: r.outcome, newExceptionId: r.newExceptionId?.toString() ?? null };
    },
  );

  // ---- the discom's accounts team: bank statements ---------------------------------------------

  const Imported = Type.Object({
    id: Nullable(Type.String()), account: Type.String(), statementRef: Type.String(), format: Type.String(), lines: Type.Integer(), duplicate: Type.Boolean(),
    counts: Type.Object({ confirmed: Type.Integer(), settlements: Type.Integer(), newCredits: Type.Integer(), waiting: Type.Integer(), exceptions: Type.Integer(), notApplicable: Type.Integer(), contradictions: Type.Integer(),
      known: Type.Integer({ description: 'lines an earlier statement of the account already had (by UTR, bank reference or content): matched to what they became, never new money' }),
      review: Type.Integer({ description: 'lines to be reviewed by a person (a date that is not a calendar day, as sent)' }) }),
  });
  const ImportResult = Type.Object({ statements: Type.Array(Imported), applied: Type.Integer(), held: Type.Integer(), waiting: Type.Integer() });
  const ImportQueued = Type.Object({ importId: Type.String(), status: Type.String(), url: Type.String() }, { description: 'A large file: imported in the background; follow the url' });
  app.get(
    '/api/v1/discom/recon/statement-imports/:importId',
    {
      config: accounts,
      schema: {
        tags,
        summary: 'A statement import sent in the background: queued, running, done (with the same result a small import answers with) or failed (with the reason)',
        params: Type.Object({ importId: IdStr }),
        response: {
          200: Type.Object({
            importId: Type.String(), fileName: Type.String(), fileBytes: Type.String(), status: Type.String(), stage: Nullable(Type.String()),
            result: Nullable(ImportResult), error: Nullable(Type.Object({ code: Type.String(), message: Type.Object({ en: Type.String(), hi: Type.String() }), details: Type.Array(Type.Any()) })),
            createdAt: Type.String(), finishedAt: Nullable(Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const r = await statementImportOf(db, userOf(req), BigInt(req.params.importId));
      return {
        importId: r.id.toString(), fileName: r.file_name, fileBytes: r.file_bytes.toString(), status: r.status, stage: r.stage,
        result: (r.result as never) ?? null, error: (r.error as never) ?? null, createdAt: r.created_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null,
      };
    },
  );
  await app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config.maxStatementBytes }, (_req, body, done) => done(null, body));
    scoped.post(
      '/api/v1/discom/recon/statements',
      {
        config: accounts,
        bodyLimit: ctx.config.maxStatementBytes,
        schema: {
          tags,
          summary: 'Imports a bank statement file (the body is the file: MT940, camt.053, or CSV in the Indian bank layout with ?format=csv&account=…). It is proved (opening + credits − debits = closing) and matched; importing it again changes nothing. A discom’s staff import their discom’s collection account’s statements only',
          querystring: Type.Object({
            fileName: Type.Optional(Type.String({ maxLength: 200 })),
            format: Type.Optional(Type.Union([Type.Literal('mt940'), Type.Literal('camt053'), Type.Literal('csv')])),
            account: Type.Optional(Type.String({ minLength: 4, maxLength: 35 })),
          }),
          response: { 200: ImportResult, 202: ImportQueued, ...errors },
        },
      },
      async (req, reply) => {
        if (!Buffer.isBuffer(req.body) || !req.body.length) throw new AppError('STATEMENT_INVALID', [{ path: 'body', problem: 'empty', message: { en: 'send the statement file as the body', hi: 'विवरण फ़ाइल को बॉडी के रूप में भेजें' } }]);
        const u = userOf(req);
        const q = req.query as { fileName?: string; format?: 'mt940' | 'camt053' | 'csv'; account?: string };
        if (q.format === 'csv' && !q.account) throw new AppError('VALIDATION_FAILED', [{ path: 'query.account', problem: 'required', message: { en: 'a CSV statement does not say its account: name it', hi: 'CSV विवरण में खाता नहीं होता: खाता बताएँ' } }]);
        const cfg = ctx.config;
        const csvLayout = q.account
          ? { ...INDIAN_BANK_CSV, dateFormat: cfg.statementCsvDateFormat, account: q.account, ...(cfg.statementCsvColumns ? { columns: cfg.statementCsvColumns as unknown as CsvLayout['columns'] } : {}) }
          : undefined;
        const file = { name: q.fileName ?? 'statement', data: req.body };
        const opts = { ...(q.format ? { format: q.format } : {}), ...(csvLayout ? { csvLayout } : {}) };
        // A large file is imported in the background: 202 with the import to follow.
        if (req.body.length > cfg.statementInlineBytes) {
          const importId = await requestStatementImport(db, u, file, opts, req.meta);
          return reply.code(202).send({ importId: importId.toString(), status: 'queued', url: `/api/v1/discom/recon/statement-imports/${importId}` });
        }
        return importAndApply(db, u, file, opts, req.meta);
      },
    );
  });

  await app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    scoped.post(
      '/api/v1/discom/recon/settlements',
      {
        config: accounts,
        bodyLimit: 64 * 1024 * 1024,
        schema: {
          tags,
          summary: 'Imports the gateway’s settlement report (Razorpay’s reconciliation CSV; the body is the file): each payment matched by its id, fees and tax recorded, each settlement’s UTR matched to the bank statement. Importing it again changes nothing. The holding company’s staff only (a settlement pays both discoms)',
          querystring: Type.Object({ fileName: Type.Optional(Type.String({ maxLength: 200 })) }),
          response: {
            200: Type.Object({
              duplicate: Type.Boolean(), rows: Type.Integer(), payments: Type.Integer(), matched: Type.Integer(), unknown: Type.Array(Type.String()),
              settlements: Type.Array(Type.Object({ id: Type.String(), utr: Nullable(Type.String()), amountPaise: Money, feesPaise: Money, taxPaise: Money, payments: Type.Integer(), new: Type.Boolean(), bankMatched: Type.Boolean() })),
            }),
            ...errors,
          },
        },
      },
      async (req) => {
        holdingOnly(req.principal);
        if (!Buffer.isBuffer(req.body) || !req.body.length) throw new AppError('STATEMENT_INVALID', [{ path: 'body', problem: 'empty', message: { en: 'send the settlement report as the body', hi: 'निपटान रिपोर्ट को बॉडी के रूप में भेजें' } }]);
        const q = req.query as { fileName?: string };
        return importSettlementReport(db, userOf(req), { name: q.fileName ?? 'settlement-report.csv', data: req.body }, req.meta, ctx.payments?.gateway.name);
      },
    );
  });

  app.get(
    '/api/v1/discom/recon/settlements',
    {
      config: { access: { roles: 'discom' } },
      schema: {
        tags,
        summary: 'Gateway settlements imported, newest first: net amount, fees, tax, UTR, and whether the payout was found in a bank statement. The holding company’s staff only (a settlement pays both discoms)',
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), utr: Nullable(Type.String()), amountPaise: Money, feesPaise: Money, taxPaise: Money, payments: Type.Integer(), settledAt: Nullable(Type.String()), inStatement: Type.Boolean() })) }), ...errors },
      },
    },
    async (req) => {
      holdingOnly(req.principal);
      const rows = await db.selectFrom('gateway_settlements').selectAll().orderBy('imported_at', 'desc').limit(200).execute();
      return {
        items: rows.map((r) => ({ id: r.settlement_id, utr: r.utr, amountPaise: r.amount_paise.toString(), feesPaise: r.fees_paise.toString(), taxPaise: r.tax_paise.toString(), payments: r.payments, settledAt: r.settled_at?.toISOString() ?? null, inStatement: r.statement_line_id !== null })),
      };
    },
  );

  app.get(
    '/api/v1/discom/recon/statements',
    {
      config: { access: { roles: 'discom' } },
      schema: {
        tags,
        summary: 'Imported bank statements of the caller’s discom’s collection account (the holding company: all), newest first, with their balances and how their lines matched',
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({
              id: Type.String(), account: Type.String(), statementRef: Type.String(), format: Type.String(), currency: Type.String(), openingPaise: Money, closingPaise: Money,
              creditsPaise: Money, debitsPaise: Money, openingDate: Nullable(Type.String()), closingDate: Nullable(Type.String()), lineCount: Type.Integer(), fileName: Type.String(),
              importedAt: Type.String(), lines: Type.Record(Type.String(), Type.Integer()), review: Type.Integer(),
            })),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      const rows = await db
        .selectFrom('bank_statements')
        .selectAll()
        .$if(discom !== null, (q) => q.where('discom_id', '=', discom!))
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      const ids = rows.map((r) => r.id);
      const byStatus = ids.length
        ? await db
            .selectFrom('statement_lines')
            .select(['statement_id', 'status', sql<number>`count(*)::int`.as('n'), sql<number>`count(*) FILTER (WHERE review IS NOT NULL)::int`.as('review')])
            .where('statement_id', 'in', ids)
            .groupBy(['statement_id', 'status'])
            .execute()
        : [];
      return {
        items: rows.map((r) => ({
          id: r.id.toString(), account: r.account, statementRef: r.statement_ref, format: r.format, currency: r.currency, openingPaise: r.opening_paise.toString(),
          closingPaise: r.closing_paise.toString(), creditsPaise: r.credits_paise.toString(), debitsPaise: r.debits_paise.toString(), openingDate: r.opening_date, closingDate: r.closing_date,
          lineCount: r.line_count, fileName: r.file_name, importedAt: r.imported_at.toISOString(),
          lines: Object.fromEntries(byStatus.filter((x) => x.statement_id === r.id).map((x) => [x.status, x.n])),
          review: byStatus.filter((x) => x.statement_id === r.id).reduce((t, x) => t + x.review, 0),
        })),
      };
    },
  );

  app.get(
    '/api/v1/discom/recon/statements/:statementId/lines',
    {
      config: { access: { roles: 'discom' } },
      schema: {
        tags,
        summary: 'A statement’s lines, 100 at a time, each with what it matched or why not',
        params: Type.Object({ statementId: IdStr }),
        querystring: Type.Object({ after: Type.Optional(RowNo) }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({
              lineNo: Type.Integer(), valueDate: Type.String(), direction: Type.String(), amountPaise: Money, currency: Type.String(), utr: Nullable(Type.String()), vaNumber: Nullable(Type.String()),
              narrative: Nullable(Type.String()), status: Type.String(), reason: Nullable(Type.String()), creditStatus: Nullable(Type.String()), settlementId: Nullable(Type.String()),
              review: Nullable(Type.String({ description: "why a person should look at the line: 'impossible_date' (the bank sent a day that does not exist; valueDate is the month's last day)" })),
              dateAsSent: Nullable(Type.String({ description: 'the date as the bank sent it, when it is not a calendar day' })),
            })),
            next: Nullable(Type.Integer()),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      const statement = await db
        .selectFrom('bank_statements')
        .select('id')
        .where('id', '=', BigInt(req.params.statementId))
        .$if(discom !== null, (q) => q.where('discom_id', '=', discom!))
        .executeTakeFirst();
      if (!statement) throw new AppError('NOT_FOUND');
      const rows = await db
        .selectFrom('statement_lines as l')
        .leftJoin('bank_credits as c', 'c.id', 'l.credit_id')
        .select(['l.line_no', 'l.value_date', 'l.direction', 'l.amount_paise', 'l.currency', 'l.utr', 'l.va_number', 'l.narrative', 'l.status', 'l.reason', 'c.status as credit_status', 'l.settlement_id', 'l.review', 'l.date_as_sent'])
        .where('l.statement_id', '=', BigInt(req.params.statementId))
        .where('l.line_no', '>', req.query.after ?? 0)
        .orderBy('l.line_no')
        .limit(101)
        .execute();
      const page = rows.slice(0, 100);
      return {
        items: page.map((r) => ({
          lineNo: r.line_no, valueDate: r.value_date, direction: r.direction, amountPaise: r.amount_paise.toString(), currency: r.currency, utr: r.utr, vaNumber: r.va_number,
          narrative: r.narrative, status: r.status, reason: r.reason, creditStatus: r.credit_status, settlementId: r.settlement_id, review: r.review, dateAsSent: r.date_as_sent,
        })),
        next: rows.length > 100 ? page[page.length - 1]!.line_no : null,
      };
    },
  );

  // ---- three-way view, daily report, collections --------------------------------------------

  const ThreeWayT = Type.Object({
    batch: Type.Object({ id: Type.String(), reference: Type.String(), organisation: Type.String(), status: Type.String(), mode: Type.String(), totalPaise: Money, paidPaise: Money }),
    received: Type.Array(Type.Object({ source: Type.String(), reference: Type.String(), amountPaise: Money, at: Nullable(Type.String()), confirmedBy: Type.String() })),
    banked: Type.Array(Type.Object({ kind: Type.String(), reference: Type.String(), utr: Nullable(Type.String()), amountPaise: Money, feesPaise: Nullable(Money), inStatement: Type.Boolean() })),
    posted: Type.Object({ postings: Type.Integer(), acknowledged: Type.Integer(), pending: Type.Integer(), rejected: Type.Integer(), amountPaise: Money, acknowledgedPaise: Money }),
    legs: Type.Object({ received: Type.Boolean(), banked: Type.Boolean(), posted: Type.Boolean() }),
  });
  app.get(
    '/api/v1/discom/recon/batches/:batchId',
    { config: { access: { roles: 'discom' } }, schema: { tags, summary: 'Three-way view of a batch: money received ↔ bank statement or gateway settlement ↔ billing postings acknowledged. A discom’s staff see batches of their discom’s connections only', params: Type.Object({ batchId: IdStr }), response: { 200: ThreeWayT, ...errors } } },
    async (req) => {
      const v = await threeWay(db, BigInt(req.params.batchId), null, discomScope(req.principal));
      if (!v) throw new AppError('NOT_FOUND');
      return v;
    },
  );
  app.get(
    '/api/v1/org/payments/batches/:batchId/reconciliation',
    { config: readers, schema: { tags, summary: 'Where the batch’s money is: received, seen in the discom’s bank (or the gateway’s settlement), and acknowledged by the billing system', params: Type.Object({ batchId: IdStr }), response: { 200: ThreeWayT, ...errors } } },
    async (req) => {
      const v = await threeWay(db, BigInt(req.params.batchId), scopeOf(req.principal!));
      if (!v) throw new AppError('NOT_FOUND');
      return v;
    },
  );

  const todayIst = () => new Date(ctx.clock().getTime() + 5.5 * 3_600_000).toISOString().slice(0, 10);
  const DiscomQ = Type.Optional(Type.String({ maxLength: 12, description: 'The holding company’s staff: one discom’s figures (default both). A discom’s staff always see their own' }));
  const Day = Type.Object({ day: Type.Optional(Type.String({ format: 'date' })), lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('hi')])), discom: DiscomQ });
  app.get(
    '/api/v1/discom/recon/daily',
    { config: { expensive: true, access: { roles: 'discom' } }, schema: { tags, summary: 'The daily reconciliation report (IST day, default today) of the caller’s discom (the holding company: both, or ?discom=): money received, matched, unmatched, exceptions raised/resolved/open, postings', querystring: Day } },
    async (req) => dailyReport(db, req.query.day ?? todayIst(), await reportDiscom(db, req.principal, req.query.discom)),
  );
  app.get(
    '/api/v1/discom/recon/daily.pdf',
    { config: { expensive: true, access: { roles: 'discom' } }, schema: { tags, summary: 'The daily reconciliation report as a PDF (English or Hindi)', querystring: Day } },
    async (req, reply) => {
      const day = req.query.day ?? todayIst();
      const pdf = await dailyReportPdf(await dailyReport(db, day, await reportDiscom(db, req.principal, req.query.discom)), req.query.lang ?? 'en');
      reply.header('content-disposition', `attachment; filename="reconciliation-${day}.pdf"`);
      return reply.type(CONTENT_TYPES.pdf).send(pdf);
    },
  );
  app.get(
    '/api/v1/discom/recon/daily.xlsx',
    { config: { expensive: true, access: { roles: 'discom' } }, schema: { tags, summary: 'The daily reconciliation report as an XLSX workbook (summary and open exceptions)', querystring: Day } },
    async (req, reply) => {
      const day = req.query.day ?? todayIst();
      const x = await dailyReportXlsx(await dailyReport(db, day, await reportDiscom(db, req.principal, req.query.discom)));
      reply.header('content-disposition', `attachment; filename="reconciliation-${day}.xlsx"`);
      return reply.type(CONTENT_TYPES.xlsx).send(x);
    },
  );

  const Range = Type.Object({ from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date' })), discom: DiscomQ });
  const rangeOf = (q: { from?: string; to?: string }) => {
    const to = q.to ?? todayIst();
    const from = q.from ?? new Date(new Date(`${to}T00:00:00Z`).getTime() - 29 * 86_400_000).toISOString().slice(0, 10);
    if (from > to) throw new AppError('VALIDATION_FAILED', [{ path: 'query.from', problem: 'after_to', message: { en: 'from is after to', hi: 'आरंभ तिथि अंतिम तिथि के बाद है' } }]);
    return { from, to };
  };
  app.get(
    '/api/v1/discom/collections',
    { config: { expensive: true, access: { roles: 'discom' } }, schema: { tags, summary: 'Collections dashboard of the caller’s discom (the holding company: both, or ?discom=), default the last 30 days: by day and mode, by organisation type, by circle and division; top organisations by dues; pending tag requests; postings waiting or refused; open exceptions', querystring: Range } },
    async (req) => {
      const { from, to } = rangeOf(req.query);
      return collections(db, from, to, await reportDiscom(db, req.principal, req.query.discom));
    },
  );
  const SECTIONS = ['by_day', 'by_mode', 'by_org_type', 'by_division', 'top_dues'] as const;
  app.get(
    '/api/v1/discom/collections/export',
    {
      config: { expensive: true, access: { roles: 'discom' } },
      schema: { tags, summary: 'One section of the collections dashboard as CSV or XLSX', querystring: Type.Object({ ...Range.properties, section: Type.Union(SECTIONS.map((x) => Type.Literal(x))), format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]) }) },
    },
    async (req, reply) => {
      const { from, to } = rangeOf(req.query);
      const c = await collections(db, from, to, await reportDiscom(db, req.principal, req.query.discom));
      const m = (p: string) => money(BigInt(p));
      const specs: Record<(typeof SECTIONS)[number], { header: string[]; rows: Cell[][] }> = {
        by_day: { header: ['Day', 'Online (₹)', 'RTGS/NEFT (₹)'], rows: c.byDay.map((d) => [d.day, m(d.online), m(d.rtgsNeft)]) },
        by_mode: { header: ['Mode', 'Payments', 'Amount (₹)'], rows: c.byMode.map((d) => [d.mode, d.count, m(d.amountPaise)]) },
        by_org_type: { header: ['Organisation type', 'Payments', 'Amount (₹)'], rows: c.byOrgType.map((d) => [d.type, d.count, m(d.amountPaise)]) },
        by_division: { header: ['Discom', 'Circle', 'Division', 'Connections', 'Amount (₹)'], rows: c.byDivision.map((d) => [d.discom, d.circle, d.division, d.connections, m(d.amountPaise)]) },
        top_dues: { header: ['Organisation', 'Type', 'Connections', 'Outstanding (₹)'], rows: c.topDues.map((d) => [d.organisation, d.type, d.connections, m(d.outstandingPaise)]) },
      };
      const q = req.query as { section: (typeof SECTIONS)[number]; format: 'csv' | 'xlsx' };
      const spec = specs[q.section];
      const format = q.format;
      reply.header('content-disposition', `attachment; filename="collections-${q.section}-${from}-${to}.${format}"`);
      return reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : CONTENT_TYPES.xlsx).send(
        sheetStream({ sheet: q.section, header: spec.header, pages: (async function* () { yield spec.rows; })() }, format),
      );
    },
  );

  // ---- the sandbox bank ------------------------------------------------------------------------

  if (bank) {
    const sandbox = ctx.payments?.sandbox ?? null;
    app.post(
      '/sandbox/bank/transfers',
      {
        config: { access: { public: true } },
        schema: {
          tags: ['sandbox'],
          summary: 'Sandbox bank: a payer’s NEFT/RTGS/IMPS transfer to a virtual account, told to the portal by Smart Collect webhook, by e-collect, or only in the statement',
          body: Type.Object({
            vaNumber: Type.String({ minLength: 4, maxLength: 35 }), amountPaise: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }), mode: Type.Optional(Type.Union([Type.Literal('NEFT'), Type.Literal('RTGS'), Type.Literal('IMPS'), Type.Literal('UPI')])),
            channel: Type.Union([Type.Literal('notification'), Type.Literal('ecollect'), Type.Literal('statement')]), utr: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{6,35}$' })),
            payerName: Type.Optional(Type.String({ maxLength: 100 })), payerAccount: Type.Optional(Type.String({ maxLength: 35 })), payerIfsc: Type.Optional(Type.String({ maxLength: 11 })),
            at: Type.Optional(Type.String({ format: 'date-time' })),
          }, { additionalProperties: false, examples: [{ vaNumber: 'NBPD00000000017', amountPaise: '1250000', channel: 'notification', mode: 'NEFT', payerName: 'DDO Patna Sadar' }] }),
          response: { 200: Type.Object({ utr: Type.String(), status: Type.String(), reason: Nullable(Type.String()) }), ...errors },
        },
      },
      async (req) => {
        const b = req.body;
        if (b.channel === 'notification' && !sandbox) {
          throw new AppError('VALIDATION_FAILED', [{ path: 'body.channel', problem: 'no_sandbox_gateway', message: { en: 'Smart Collect notifications come from the sandbox gateway, which is not the configured gateway: use ecollect or statement', hi: 'स्मार्ट कलेक्ट सूचनाएँ सैंडबॉक्स गेटवे से आती हैं, जो कॉन्फ़िगर किया गया गेटवे नहीं है: ecollect या statement चुनें' } }]);
        }
        const r = await bank.transfer(
          { vaNumber: b.vaNumber, amountPaise: BigInt(b.amountPaise), mode: b.mode, channel: b.channel, utr: b.utr, payerName: b.payerName, payerAccount: b.payerAccount, payerIfsc: b.payerIfsc, at: b.at ? new Date(b.at) : undefined },
          {
            notify: (t) => sandbox!.notifyBankTransfer(ctx.config.razorpayKeyId ?? 'rzp_test_sandbox', t),
            ecollect: async (step, body, signature) => {
              const res = await app.inject({ method: 'POST', url: `/api/v1/bank/ecollect/${step}`, headers: { 'content-type': 'application/json', 'x-bank-signature': signature }, payload: body });
              return { status: res.statusCode, json: res.json<Record<string, unknown>>() };
            },
          },
        );
        return { utr: r.utr, status: r.status, reason: r.reason };
      },
    );

    if (sandbox) app.post(
      '/sandbox/razorpay/settlements',
      {
        config: { access: { public: true } },
        schema: {
          tags: ['sandbox'],
          summary: 'Sandbox gateway: settles the captured payments captured before `before` (default now) into one settlement, paid to the online collections account at the sandbox bank',
          body: Type.Object({ before: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false, examples: [{ before: '2026-11-25T00:00:00Z' }] }),
          response: { 200: Type.Object({ settlement: Nullable(Type.Object({ id: Type.String(), utr: Type.String(), amountPaise: Money, payments: Type.Integer() })) }), ...errors },
        },
      },
      async (req) => {
        const made = await sandbox.settle(ctx.config.razorpayKeyId ?? 'rzp_test_sandbox', req.body.before ? new Date(req.body.before) : new Date(), (x) =>
          bank.bookCredit(ONLINE_COLLECTIONS.accountNo, { utr: x.utr, amountPaise: x.amountPaise, at: x.at, mode: 'NEFT', narrative: `RAZORPAY SETTLEMENT ${x.id} UTR ${x.utr}`, payerName: 'Razorpay Software Pvt Ltd' }),
        );
        return { settlement: made ? { id: made.id, utr: made.utr, amountPaise: made.amountPaise.toString(), payments: made.payments } : null };
      },
    );

    if (sandbox) app.get(
      '/sandbox/razorpay/settlements/report',
      {
        config: { access: { public: true } },
        schema: { tags: ['sandbox'], summary: 'Sandbox gateway: the settlement reconciliation report (Razorpay’s CSV layout) of settlements made between from and to', querystring: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }) },
      },
      async (req, reply) => {
        const data = await sandbox.settlementReport(ctx.config.razorpayKeyId ?? 'rzp_test_sandbox', new Date(req.query.from), new Date(req.query.to));
        reply.header('content-disposition', 'attachment; filename="settlement-report.csv"');
        return reply.type('text/csv; charset=utf-8').send(data);
      },
    );

    app.get(
      '/sandbox/bank/statement',
      {
        config: { access: { public: true } },
        schema: {
          tags: ['sandbox'],
          summary: 'Sandbox bank: an account’s statement for IST days from..to, as MT940, camt.053 or CSV',
          querystring: Type.Object({ account: Type.String({ maxLength: 35 }), from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }), format: Type.Union([Type.Literal('mt940'), Type.Literal('camt053'), Type.Literal('csv')]) }),
        },
      },
      async (req, reply) => {
        const q = req.query;
        const { data } = await bank.statement(q.account, q.from, q.to, q.format).catch((e: Error) => {
          throw new AppError('NOT_FOUND', [{ path: 'query.account', problem: 'unknown', message: { en: e.message, hi: e.message } }]);
        });
        const ext = q.format === 'camt053' ? 'xml' : q.format === 'mt940' ? 'sta' : 'csv';
        reply.header('content-disposition', `attachment; filename="statement-${q.account}-${q.from}-${q.to}.${ext}"`);
        return reply.type(q.format === 'camt053' ? 'application/xml' : q.format === 'csv' ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8').send(data);
      },
    );
  }
}
