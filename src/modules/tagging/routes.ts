import { sql } from 'kysely';
import { Type } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { csvLine } from '../../platform/csv.ts';
import { AppError } from '../../platform/errors.ts';
import { ErrorResponse, IdStr, RowNo } from '../../platform/http/schemas.ts';
import { officeInScope, scopeOf } from '../../platform/office-scope.ts';
import { discomScope } from '../../platform/principal.ts';
import { orgSeenBy } from '../discoms/index.ts';
import { orgOf, userOf } from '../identity/index.ts';
import { MAX_BYTES, createJob, jobView, problemText, requestCommit } from './bulk.ts';
import { lookupBudget } from './lookup-budget.ts';
import { connectionsQuery, exportConnections, type ConnectionFilter } from './listing.ts';
import { TaggingService } from './service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 429: ErrorResponse };
const TAGGERS = ['org_admin', 'maker'] as const;
const UPLOAD_TYPES = [
  'text/csv',
  'text/plain',
  'text/tab-separated-values',
  'application/csv',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/octet-stream',
];

const Proof = Type.Union([
  Type.Object({ type: Type.Literal('bill_number'), value: Type.String({ minLength: 1, maxLength: 40 }) }),
  Type.Object({ type: Type.Literal('bill_amount'), value: Type.String({ minLength: 1, maxLength: 20 }) }),
  Type.Object({ type: Type.Literal('otp'), code: Type.String({ pattern: '^[0-9]{6}$' }) }),
]);

const Job = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  fileName: Type.String(),
  status: Type.String(),
  rowsTotal: Type.Union([Type.Integer(), Type.Null()]),
  rowsDone: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer()),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  committedAt: Type.Union([Type.String(), Type.Null()]),
  lookups: Type.Object(
    {
      charged: Type.Integer({ description: 'rows of this upload charged to the daily limit (numbers not shown to be the organisation’s own)' }),
      refused: Type.Integer({ description: 'rows of this upload past the limit: failed with problem daily_lookup_limit' }),
      perDay: Type.Integer({ description: 'TAG_LOOKUPS_PER_DAY' }),
      remainingToday: Type.Integer({ description: 'what is left of the organisation’s limit today (IST)' }),
    },
    { description: 'The organisation’s daily limit of rows about connections it has not shown to be its own' },
  ),
});

const JobRowT = Type.Object({
  rowNo: Type.Integer(),
  consumer: Type.Union([Type.String(), Type.Null()]),
  discom: Type.Union([Type.String(), Type.Null()]),
  office: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  problem: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.Object({ en: Type.String(), hi: Type.String() }), Type.Null()]),
});

const ConnectionItem = Type.Object({
  tagId: Type.String(),
  connectionId: Type.String(),
  discom: Type.String(),
  consumerNo: Type.String(),
  name: Type.String(),
  category: Type.String(),
  status: Type.String(),
  method: Type.String(),
  office: Type.Union([Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }), Type.Null()]),
  balancePaise: Type.String(),
  taggedAt: Type.String(),
});

export async function taggingRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  const windowMs = ctx.config.lockoutMinutes * 60_000;
  const tagging = new TaggingService(db, { max: ctx.config.loginMaxFailures, windowMs, lockMs: windowMs });
  const tags = ['tagging'];

  // Uploads arrive as the raw file; only these routes read such bodies.
  app.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer', bodyLimit: MAX_BYTES }, (_req, body, done) => done(null, body));

  app.post(
    '/api/v1/org/tags/lookup',
    {
      config: { access: { roles: TAGGERS } },
      schema: {
        tags,
        summary: 'Find a connection by consumer number (and discom): name and address masked, and what proof it accepts',
        body: Type.Object({ consumerNo: Type.String({ maxLength: 20 }), discom: Type.Optional(Type.String({ maxLength: 12 })) }, { examples: [{ consumerNo: '0101000001' }] }),
        response: {
          200: Type.Object({
            connections: Type.Array(
              Type.Object({
                connectionId: Type.String(), discom: Type.String(), consumerNo: Type.String(), name: Type.String(), address: Type.String(),
                category: Type.String(), supplyType: Type.String(), mobile: Type.Union([Type.String(), Type.Null()]),
                tag: Type.Union([Type.String(), Type.Null()]), proofs: Type.Array(Type.String()),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (req) => ({ connections: await tagging.lookup(userOf(req), req.body.consumerNo, req.body.discom) }),
  );

  app.post(
    '/api/v1/org/connections/:connectionId/otp',
    {
      config: { access: { roles: TAGGERS } },
      schema: { tags, summary: 'Send a one-time code to the connection’s registered mobile', params: Type.Object({ connectionId: IdStr }), response: { 200: Type.Object({ sentTo: Type.String() }), ...errors } },
    },
    async (req) => tagging.sendOtp(userOf(req), BigInt(req.params.connectionId), req.meta),
  );

  app.post(
    '/api/v1/org/tags',
    {
      config: { access: { roles: TAGGERS } },
      schema: {
        tags,
        summary: 'Tag a connection with a proof: the latest bill’s number or amount, or the code sent to its mobile',
        body: Type.Object(
          { connectionId: IdStr, officeId: Type.Optional(IdStr), proof: Proof },
          { additionalProperties: false, examples: [{ connectionId: '1', proof: { type: 'bill_number', value: '26110101000001' } }] },
        ),
        response: { 201: Type.Object({ tagId: Type.String() }), ...errors },
      },
    },
    async (req, reply) => {
      const r = await tagging.tag(userOf(req), { connectionId: BigInt(req.body.connectionId), officeId: req.body.officeId ? BigInt(req.body.officeId) : null, proof: req.body.proof }, req.meta);
      return reply.status(201).send({ tagId: r.tagId.toString() });
    },
  );

  app.post(
    '/api/v1/org/tags/transfer',
    {
      config: { access: { roles: TAGGERS } },
      schema: {
        tags,
        summary: 'Ask the discom to transfer a connection tagged to another organisation',
        body: Type.Object(
          { connectionId: IdStr, officeId: Type.Optional(IdStr), reason: Type.String({ maxLength: 500 }) },
          { additionalProperties: false, examples: [{ connectionId: '1', reason: 'The school moved to our department in April.' }] },
        ),
        response: { 201: Type.Object({ tagId: Type.String() }), ...errors },
      },
    },
    async (req, reply) => {
      const r = await tagging.requestTransfer(userOf(req), { connectionId: BigInt(req.body.connectionId), officeId: req.body.officeId ? BigInt(req.body.officeId) : null, reason: req.body.reason }, req.meta);
      return reply.status(201).send({ tagId: r.tagId.toString() });
    },
  );

  app.post(
    '/api/v1/org/tags/:tagId/untag',
    {
      config: { access: { roles: TAGGERS } },
      schema: {
        tags,
        summary: 'Untag a connection (or withdraw a request), with a reason',
        params: Type.Object({ tagId: IdStr }),
        body: Type.Object({ reason: Type.String({ maxLength: 500 }) }, { examples: [{ reason: 'The office closed.' }] }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await tagging.untag(userOf(req), BigInt(req.params.tagId), req.body.reason, req.meta);
      return reply.status(204).send(null);
    },
  );

  // ---- my connections -------------------------------------------------------------------

  const Filter = Type.Object({
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('requested'), Type.Literal('all')])),
    officeId: Type.Optional(IdStr),
    q: Type.Optional(Type.String({ maxLength: 60 })),
    after: Type.Optional(IdStr),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  });

  const filterOf = (req: { query: { status?: 'active' | 'requested' | 'all'; officeId?: string; q?: string } }): ConnectionFilter => ({
    status: req.query.status ?? 'all',
    officeId: req.query.officeId ? BigInt(req.query.officeId) : null,
    q: req.query.q?.trim() || null,
  });

  app.get(
    '/api/v1/org/connections',
    {
      config: { access: { roles: 'org', apiKey: 'read' } },
      schema: { tags, summary: 'Connections tagged to (or requested by) the organisation, within the caller’s offices', querystring: Filter, response: { 200: Type.Object({ items: Type.Array(ConnectionItem), next: Type.Union([Type.String(), Type.Null()]) }), ...errors } },
    },
    async (req) => {
      const p = req.principal!;
      const limit = req.query.limit ?? 100;
      let q = connectionsQuery(db, orgOf(req), p.kind === 'user' ? p.officePath : null, filterOf(req));
      if (req.query.after) q = q.where('t.id', '>', BigInt(req.query.after));
      const rows = await q.orderBy('t.id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({
          tagId: r.tag_id.toString(), connectionId: r.connection_id.toString(), discom: r.discom, consumerNo: r.consumer_no, name: r.name, category: r.category,
          status: r.status, method: r.method, office: r.office_id ? { id: r.office_id.toString(), code: r.office_code!, name: r.office_name! } : null,
          balancePaise: r.balance_paise.toString(), taggedAt: (r.activated_at ?? r.requested_at).toISOString(),
        })),
        next: rows.length > limit ? page[page.length - 1]!.tag_id.toString() : null,
      };
    },
  );

  app.get(
    '/api/v1/org/connections/export',
    {
      config: { expensive: true, access: { roles: 'org', apiKey: 'read' } },
      schema: {
        tags,
        summary: 'The same list as a CSV or XLSX file (cells that start with = + - @ are neutralised)',
        querystring: Type.Object({ ...Filter.properties, format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('xlsx')])) }),
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const format = req.query.format ?? 'csv';
      const stamp = new Date().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="tagged-connections-${stamp}.${format}"`);
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      return reply.send(exportConnections(db, orgOf(req), p.kind === 'user' ? p.officePath : null, filterOf(req), format));
    },
  );

  // ---- uploads ---------------------------------------------------------------------------

  app.post(
    '/api/v1/org/tag-jobs',
    {
      config: { access: { roles: TAGGERS } },
      bodyLimit: MAX_BYTES,
      schema: {
        tags,
        summary: 'Upload a CSV or XLSX file of consumer numbers to tag (kind=tag) or untag (kind=untag); the body is the file itself',
        querystring: Type.Object({
          kind: Type.Optional(Type.Union([Type.Literal('tag'), Type.Literal('untag')])),
          fileName: Type.Optional(Type.String({ maxLength: 200 })),
          reason: Type.Optional(Type.String({ maxLength: 500 })),
          officeId: Type.Optional(IdStr),
        }),
        response: { 202: Job, ...errors },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', [], { en: 'Send the file itself as the body (text/csv or an .xlsx spreadsheet).', hi: 'फ़ाइल को ही बॉडी के रूप में भेजें (text/csv या .xlsx स्प्रेडशीट)।' });
      }
      const p = userOf(req);
      let officeId: bigint | null = null;
      if (req.query.officeId) {
        let q = db.selectFrom('offices').select('id').where('id', '=', BigInt(req.query.officeId)).where('org_id', '=', p.orgId!);
        if (p.officePath) q = q.where('path', 'like', `${p.officePath}%`);
        const o = await q.executeTakeFirst();
        if (!o) throw new AppError('VALIDATION_FAILED', [{ path: 'query.officeId', problem: 'unknown', message: { en: 'is not one of your offices', hi: 'आपके कार्यालयों में से नहीं है' } }]);
        officeId = o.id;
      }
      const id = await createJob(db, p, { kind: req.query.kind ?? 'tag', fileName: req.query.fileName ?? 'upload', content: req.body, reason: req.query.reason, officeId }, req.meta);
      const job = await db.selectFrom('tag_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return reply.status(202).send((await withLookups([job]))[0]!);
    },
  );

  // Each upload with what it was charged of the daily lookup limit, and what is left of it today.
  const withLookups = async (jobs: (Parameters<typeof jobView>[0] & { org_id: bigint; lookups_charged: number; lookups_refused: number })[]) => {
    const left = jobs.length ? await lookupBudget(db, jobs[0]!.org_id, ctx.config.tagLookupsPerDay) : null;
    return jobs.map((j) => ({ ...jobView(j), lookups: { charged: j.lookups_charged, refused: j.lookups_refused, perDay: left!.perDay, remainingToday: left!.remainingToday } }));
  };

  // An upload belongs to its uploader's office: users at or above it see it; to others it is not there.
  const jobsOf = (req: Parameters<typeof orgOf>[0]) => {
    const scope = scopeOf(req.principal!);
    return db.selectFrom('tag_jobs').selectAll().where('org_id', '=', scope.orgId).where(officeInScope(scope, sql.ref('office_id')));
  };
  const jobOf = async (req: { params: { jobId: string } } & Parameters<typeof orgOf>[0]) => {
    const job = await jobsOf(req).where('id', '=', BigInt(req.params.jobId)).executeTakeFirst();
    if (!job) throw new AppError('NOT_FOUND');
    return job;
  };

  app.get(
    '/api/v1/org/tag-jobs',
    {
      config: { access: { roles: 'org' } },
      schema: {
        tags,
        summary: 'Recent uploads of the organisation, within the caller’s offices, and what is left today of its daily lookup limit',
        response: { 200: Type.Object({ jobs: Type.Array(Job), lookups: Type.Object({ perDay: Type.Integer(), usedToday: Type.Integer(), remainingToday: Type.Integer() }) }), ...errors },
      },
    },
    async (req) => {
      const jobs = await withLookups(await jobsOf(req).orderBy('id', 'desc').limit(50).execute());
      return { jobs, lookups: await lookupBudget(db, scopeOf(req.principal!).orgId, ctx.config.tagLookupsPerDay) };
    },
  );

  app.get(
    '/api/v1/org/tag-jobs/:jobId',
    { config: { access: { roles: 'org' } }, schema: { tags, summary: 'An upload: progress, then counts by outcome', params: Type.Object({ jobId: IdStr }), response: { 200: Job, ...errors } } },
    async (req) => (await withLookups([await jobOf(req)]))[0]!,
  );

  app.get(
    '/api/v1/org/tag-jobs/:jobId/rows',
    {
      config: { access: { roles: 'org' } },
      schema: {
        tags,
        summary: 'Rows of an upload, by outcome (problems: errors and conflicts)',
        params: Type.Object({ jobId: IdStr }),
        querystring: Type.Object({
          outcome: Type.Optional(Type.Union([Type.Literal('problems'), Type.Literal('activate'), Type.Literal('request'), Type.Literal('untag'), Type.Literal('noop')])),
          after: Type.Optional(RowNo),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: Type.Object({ rows: Type.Array(JobRowT), next: Type.Union([Type.Integer(), Type.Null()]) }), ...errors },
      },
    },
    async (req) => {
      const job = await jobOf(req);
      const limit = req.query.limit ?? 100;
      const outcome = req.query.outcome ?? 'problems';
      let q = db.selectFrom('tag_job_rows').selectAll().where('job_id', '=', job.id).where('row_no', '>', req.query.after ?? 0);
      q = outcome === 'problems' ? q.where('outcome', 'in', ['error', 'conflict']) : q.where('outcome', '=', outcome);
      const rows = await q.orderBy('row_no').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return {
        rows: page.map((r) => ({
          rowNo: r.row_no, consumer: r.consumer_raw, discom: r.discom_raw, office: r.office_raw, outcome: r.outcome ?? 'error', problem: r.problem,
          message: r.problem ? (problemText[r.problem as keyof typeof problemText]?.(r.detail ?? '') ?? null) : null,
        })),
        next: rows.length > limit ? page[page.length - 1]!.row_no : null,
      };
    },
  );

  app.get(
    '/api/v1/org/tag-jobs/:jobId/problems.csv',
    { config: { expensive: true, access: { roles: 'org' } }, schema: { tags, summary: 'The rows with problems, as CSV, to fix and upload again', params: Type.Object({ jobId: IdStr }) } },
    async (req, reply) => {
      const job = await jobOf(req);
      const rows = await db.selectFrom('tag_job_rows').selectAll().where('job_id', '=', job.id).where('outcome', 'in', ['error', 'conflict']).orderBy('row_no').execute();
      const safe = (v: string | null) => (v && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
      let out = '\uFEFF' + csvLine(['line', 'consumer_no', 'discom', 'office', 'problem', 'message', 'सन्देश']);
      for (const r of rows) {
        const m = r.problem ? problemText[r.problem as keyof typeof problemText]?.(r.detail ?? '') : null;
        out += csvLine([r.row_no, safe(r.consumer_raw), safe(r.discom_raw), safe(r.office_raw), r.problem, safe(m?.en ?? null), safe(m?.hi ?? null)]);
      }
      reply.header('content-disposition', `attachment; filename="upload-${job.id}-problems.csv"`);
      return reply.type('text/csv; charset=utf-8').send(out);
    },
  );

  app.post(
    '/api/v1/org/tag-jobs/:jobId/commit',
    {
      config: { access: { roles: TAGGERS } },
      schema: { tags, summary: 'Apply every valid row of a validated upload, all at once or not at all', params: Type.Object({ jobId: IdStr }), response: { 202: Job, ...errors } },
    },
    async (req, reply) => {
      const p = userOf(req);
      await jobOf(req);
      await requestCommit(db, p, BigInt(req.params.jobId), req.meta);
      return reply.status(202).send((await withLookups([await jobOf(req)]))[0]!);
    },
  );

  app.post(
    '/api/v1/org/tag-jobs/:jobId/cancel',
    {
      config: { access: { roles: TAGGERS } },
      schema: { tags, summary: 'Drop an upload that has not been committed', params: Type.Object({ jobId: IdStr }), response: { 204: Type.Null(), ...errors } },
    },
    async (req, reply) => {
      const job = await jobOf(req);
      const r = await db.updateTable('tag_jobs').set({ status: 'cancelled' }).where('id', '=', job.id).where('status', 'in', ['uploaded', 'validating', 'validated', 'failed']).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw new AppError('CONFLICT', [], { en: `The upload is ${job.status} and cannot be dropped.`, hi: `अपलोड की स्थिति ${job.status} है; इसे हटाया नहीं जा सकता।` });
      return reply.status(204).send(null);
    },
  );

  // ---- the discom's queue ------------------------------------------------------------------

  app.get(
    '/api/v1/discom/tag-requests',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin', 'auditor'] } },
      schema: {
        tags,
        summary: 'Pending tag requests and transfers on the caller’s discom’s connections (the holding company: both discoms), grouped by organisation',
        response: {
          200: Type.Object({
            groups: Type.Array(Type.Object({ orgId: Type.String(), orgName: Type.String(), orgType: Type.String(), requests: Type.Integer(), transfers: Type.Integer(), oldest: Type.String() })),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const discom = discomScope(req.principal);
      const rows = await db
        .selectFrom('tags as t')
        .innerJoin('organisations as o', 'o.id', 't.org_id')
        .innerJoin('connections as c', 'c.id', 't.connection_id')
        .select([
          'o.id', 'o.name', 'o.type',
          sql<bigint>`count(*) FILTER (WHERE t.method <> 'transfer')`.as('requests'),
          sql<bigint>`count(*) FILTER (WHERE t.method = 'transfer')`.as('transfers'),
          sql<Date>`min(t.requested_at)`.as('oldest'),
        ])
        .where('t.status', '=', 'requested')
        .$if(discom !== null, (q) => q.where('c.discom_id', '=', discom!))
        .groupBy(['o.id', 'o.name', 'o.type'])
        .orderBy('oldest')
        .execute();
      return { groups: rows.map((r) => ({ orgId: r.id.toString(), orgName: r.name, orgType: r.type, requests: Number(r.requests), transfers: Number(r.transfers), oldest: r.oldest.toISOString() })) };
    },
  );

  app.get(
    '/api/v1/discom/tag-requests/:orgId',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin', 'auditor'] } },
      schema: {
        tags,
        summary: 'One organisation’s pending requests (or transfers), with the master’s owner identifiers beside the organisation’s',
        params: Type.Object({ orgId: IdStr }),
        querystring: Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('tag'), Type.Literal('transfer')])), after: Type.Optional(IdStr), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }),
        response: {
          200: Type.Object({
            organisation: Type.Object({ id: Type.String(), name: Type.String(), pan: Type.Union([Type.String(), Type.Null()]), departmentCode: Type.Union([Type.String(), Type.Null()]) }),
            requests: Type.Array(
              Type.Object({
                tagId: Type.String(), discom: Type.String(), consumerNo: Type.String(), name: Type.String(), address: Type.String(), category: Type.String(),
                ownerPan: Type.Union([Type.String(), Type.Null()]), ownerDeptCode: Type.Union([Type.String(), Type.Null()]),
                holder: Type.Union([Type.String(), Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]), requestedAt: Type.String(),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const orgId = BigInt(req.params.orgId);
      const discom = discomScope(req.principal);
      const org = await db
        .selectFrom('organisations as o')
        .select(['o.id', 'o.name', 'o.pan', 'o.department_code'])
        .where('o.id', '=', orgId)
        .$if(discom !== null, (q) => q.where(orgSeenBy(discom!)))
        .executeTakeFirst();
      if (!org) throw new AppError('NOT_FOUND');
      const limit = req.query.limit ?? 200;
      let q = db
        .selectFrom('tags as t')
        .innerJoin('connections as c', 'c.id', 't.connection_id')
        .innerJoin('discoms as d', 'd.id', 'c.discom_id')
        .leftJoin('tags as h', 'h.id', 't.transfer_from_tag_id')
        .leftJoin('organisations as ho', 'ho.id', 'h.org_id')
        .select(['t.id', 'd.code', 'c.consumer_no', 'c.name', 'c.address', 'c.category', 'c.owner_pan', 'c.owner_dept_code', 'ho.name as holder', 't.request_reason', 't.requested_at'])
        .where('t.org_id', '=', orgId)
        .where('t.status', '=', 'requested')
        .where('t.method', (req.query.kind ?? 'tag') === 'transfer' ? '=' : '<>', 'transfer')
        .$if(discom !== null, (q) => q.where('c.discom_id', '=', discom!));
      if (req.query.after) q = q.where('t.id', '>', BigInt(req.query.after));
      const rows = await q.orderBy('t.id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return {
        organisation: { id: org.id.toString(), name: org.name, pan: org.pan, departmentCode: org.department_code },
        requests: page.map((r) => ({
          tagId: r.id.toString(), discom: r.code, consumerNo: r.consumer_no, name: r.name, address: r.address, category: r.category,
          ownerPan: r.owner_pan, ownerDeptCode: r.owner_dept_code, holder: r.holder, reason: r.request_reason, requestedAt: r.requested_at.toISOString(),
        })),
        next: rows.length > limit ? page[page.length - 1]!.id.toString() : null,
      };
    },
  );

  app.post(
    '/api/v1/discom/tag-requests/:orgId/decide',
    {
      config: { access: { roles: ['collection_officer', 'discom_admin'] } },
      schema: {
        tags,
        summary: 'Approve or reject an organisation’s pending requests (or transfers) in bulk: all of them on the caller’s discom’s connections, or the listed ones (naming one of another discom decides nothing)',
        params: Type.Object({ orgId: IdStr }),
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('tag'), Type.Literal('transfer')]),
            decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
            tagIds: Type.Optional(Type.Array(IdStr, { maxItems: 100_000 })),
            reason: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false, examples: [{ kind: 'tag', decision: 'approve' }] },
        ),
        response: { 200: Type.Object({ approved: Type.Integer(), rejected: Type.Integer() }), ...errors },
      },
    },
    async (req) => {
      const orgId = BigInt(req.params.orgId);
      return tagging.decide(userOf(req), { orgId, kind: req.body.kind, decision: req.body.decision, tagIds: req.body.tagIds?.map(BigInt), reason: req.body.reason }, req.meta);
    },
  );
}
