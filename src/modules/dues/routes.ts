import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import type { App, AppContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { ErrorResponse, IdStr } from '../../platform/http/schemas.ts';
import { officeInScope } from '../../platform/office-scope.ts';
import { CONTENT_TYPES } from '../../platform/spreadsheet.ts';
import { recordAudit } from '../audit/index.ts';
import { orgOf, userOf } from '../identity/index.ts';
import { billPdf, exportDues, exportStatement } from './documents.ts';
import { connectionView } from './connection.ts';
import { createSelection, listDues, selectionHeld } from './listing.ts';
import { ANOMALIES, DUE_STATUSES, istDay, SORTS, type DuesFilter, type Scope, type Thresholds } from './query.ts';
import { getSummary, withOfficeNames } from './summary.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse };
// Years 1900–2099: PostgreSQL refuses year 0000, which the date format allows.
const Day = Type.String({ format: 'date', pattern: '^(19|20)[0-9]{2}-' });
const Rupees = Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' });
const Lang = Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('hi')]));
const tags = ['dues'];

const FilterProps = {
  officeId: Type.Optional(IdStr),
  discom: Type.Optional(Type.String({ pattern: '^[A-Z]{2,12}$', description: 'a discom’s code, such as NBPDCL' })),
  status: Type.Optional(Type.Union(DUE_STATUSES.map((s) => Type.Literal(s)))),
  dueFrom: Type.Optional(Day),
  dueTo: Type.Optional(Day),
  minRupees: Type.Optional(Rupees),
  maxRupees: Type.Optional(Rupees),
  category: Type.Optional(Type.String({ maxLength: 12 })),
  divisionId: Type.Optional(IdStr),
  anomaly: Type.Optional(Type.Union(ANOMALIES.map((s) => Type.Literal(s)))),
  q: Type.Optional(Type.String({ maxLength: 60 })),
};
const SortProps = {
  sort: Type.Optional(Type.Union(SORTS.map((s) => Type.Literal(s)))),
  desc: Type.Optional(Type.Boolean()),
};

const toPaise = (r: string | undefined) => {
  if (r === undefined) return null;
  const [w, f = ''] = r.split('.');
  return BigInt(w!) * 100n + BigInt(f.padEnd(2, '0'));
};

type FilterQuery = Static<ReturnType<typeof Type.Object<typeof FilterProps>>>;

export function filterOf(q: FilterQuery): DuesFilter {
  return {
    officeId: q.officeId ? BigInt(q.officeId) : null,
    discom: q.discom ?? null,
    status: q.status ?? null,
    dueFrom: q.dueFrom ?? null,
    dueTo: q.dueTo ?? null,
    minPaise: toPaise(q.minRupees),
    maxPaise: toPaise(q.maxRupees),
    category: q.category?.trim() || null,
    divisionId: q.divisionId ? BigInt(q.divisionId) : null,
    anomaly: q.anomaly ?? null,
    q: q.q?.trim() || null,
  };
}

const Money = Type.String({ pattern: '^-?[0-9]+$', description: 'paise' });
const Figures = Type.Object({
  connections: Type.Integer(), outstandingPaise: Money, overduePaise: Money, overdueCount: Type.Integer(), due7Paise: Money, due7Count: Type.Integer(),
  dpsChargedPaise: Money, dpsRiskPaise: Money, rebatePaise: Money, advancePaise: Money, anomalies: Type.Integer(),
});
const Freshness = Type.Object({
  lastSyncedAt: Type.Union([Type.String(), Type.Null()]),
  lastStartedAt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
const OpenBatch = Type.Object({
  id: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.String(), Type.Null()]),
}, { description: 'id, reference and status are null for a batch of an office above the caller’s (its existence is said, not its reference)' });
const Row = Type.Object({
  connectionId: Type.String(), discom: Type.String(), consumerNo: Type.String(), name: Type.String(), category: Type.String(),
  division: Type.Object({ id: Type.String(), name: Type.String(), nameHi: Type.String() }),
  office: Type.Union([Type.Object({ id: Type.String(), code: Type.String(), name: Type.String() }), Type.Null()]),
  connectionStatus: Type.String(), balancePaise: Money, status: Type.String(), billMonth: Type.Union([Type.String(), Type.Null()]),
  dueDate: Type.Union([Type.String(), Type.Null()]), netPayablePaise: Money, payableAfterDuePaise: Money, rebatePaise: Money, dpsPaise: Money,
  units: Type.Integer(), billBasis: Type.Union([Type.String(), Type.Null()]), flags: Type.Array(Type.String()),
  openBatch: Type.Union([OpenBatch, Type.Null()], { description: 'the open payment that holds the connection: it cannot be chosen for another until that one is paid, cancelled or rejected' }),
});
const InOpenBatch = Type.Integer({ description: 'of these, how many an open payment holds now: a payment made from the selection leaves them out' });
const Prefs = Type.Object({
  dueReminders: Type.Boolean(),
  reminderDays: Type.Integer({ minimum: 1, maximum: 15 }),
  disconnectionAlerts: Type.Boolean(),
  riskThresholdRupees: Type.Union([Type.String({ pattern: '^[1-9][0-9]{0,11}$' }), Type.Null()]),
  byEmail: Type.Boolean(),
  bySms: Type.Boolean(),
});

export async function duesRoutes(app: App, { ctx }: { ctx: AppContext }): Promise<void> {
  const { db } = ctx.database;
  const thresholds: Thresholds = { lowPct: ctx.config.anomalyLowPct, highPct: ctx.config.anomalyHighPct };
  const today = () => istDay(ctx.clock());
  const scopeOf = (req: Parameters<typeof orgOf>[0]): Scope => {
    const p = req.principal!;
    return { orgId: orgOf(req), officePath: p.kind === 'user' ? p.officePath : null };
  };
  const orgName = async (orgId: bigint) => (await db.selectFrom('organisations').select('name').where('id', '=', orgId).executeTakeFirstOrThrow()).name;
  const read = { access: { roles: 'org', apiKey: 'read' } } as const;

  app.get(
    '/api/v1/org/dues/summary',
    {
      config: read,
      schema: {
        tags,
        summary: 'The organisation’s dues in one place: figures, breakdowns by office, division and category, dues by due date, 12 months of billing, and when data was last synced',
        response: {
          200: Type.Object({
            day: Type.String(),
            computedAt: Type.String(),
            thresholds: Type.Object({ lowPct: Type.Integer(), highPct: Type.Integer() }),
            freshness: Freshness,
            totals: Figures,
            anomalies: Type.Object({ deviation: Type.Integer(), zero: Type.Integer(), estimated: Type.Integer(), reading_break: Type.Integer() }),
            byOffice: Type.Array(Type.Intersect([Figures, Type.Object({ id: Type.Union([Type.String(), Type.Null()]), code: Type.Union([Type.String(), Type.Null()]), name: Type.Union([Type.String(), Type.Null()]) })])),
            byDivision: Type.Array(Type.Intersect([Figures, Type.Object({ id: Type.String(), name: Type.String(), nameHi: Type.String() })])),
            byCategory: Type.Array(Type.Intersect([Figures, Type.Object({ code: Type.String(), name: Type.String(), nameHi: Type.String() })])),
            dueBuckets: Type.Array(Type.Object({ bucket: Type.String(), count: Type.Integer(), amountPaise: Money })),
            months: Type.Array(Type.Object({ month: Type.String(), bills: Type.Integer(), billedPaise: Money, units: Type.String(), paidBills: Type.Integer() })),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const [{ summary, computedAt, cached }, sync] = await Promise.all([
        getSummary(db, scopeOf(req), today(), thresholds),
        db
          .selectFrom('billing_sync_state')
          .select([sql<Date | null>`max(last_finished_at)`.as('finished'), sql<Date | null>`max(last_started_at)`.as('started'), sql<string | null>`max(last_error)`.as('error')])
          .executeTakeFirst(),
      ]);
      return {
        ...(cached ? await withOfficeNames(db, summary) : summary),
        computedAt: computedAt.toISOString(),
        thresholds,
        freshness: { lastSyncedAt: sync?.finished?.toISOString() ?? null, lastStartedAt: sync?.started?.toISOString() ?? null, lastError: sync?.error ?? null },
      };
    },
  );

  app.get(
    '/api/v1/org/dues',
    {
      config: read,
      schema: {
        tags,
        summary: 'Tagged connections with their dues: filtered, sorted and paged by keyset (pass `next` back as `after`)',
        querystring: Type.Object({
          ...FilterProps,
          ...SortProps,
          after: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          total: Type.Optional(Type.Boolean({ description: 'also count the matching rows and their outstanding' })),
        }),
        response: {
          200: Type.Object({
            day: Type.String(),
            rows: Type.Array(Row),
            next: Type.Union([Type.String(), Type.Null()]),
            total: Type.Union([Type.Object({ count: Type.Integer(), outstandingPaise: Money }), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const day = today();
      const scope = scopeOf(req);
      const f = filterOf(q);
      // Without a filter, the count and outstanding are the summary's (usually from its cache).
      const unfiltered = Object.values(f).every((v) => v === null);
      const r = await listDues(db, scope, f, {
        sort: q.sort ?? 'due', desc: q.desc ?? false, after: q.after ?? null, limit: q.limit ?? 50, today: day, thresholds, withTotal: (q.total ?? false) && !unfiltered,
      });
      if (q.total && unfiltered) {
        const { totals } = (await getSummary(db, scope, day, thresholds)).summary;
        return { day, ...r, total: { count: totals.connections, outstandingPaise: totals.outstandingPaise } };
      }
      return { day, ...r };
    },
  );

  app.post(
    '/api/v1/org/dues/selections',
    {
      config: { access: { roles: ['org_admin', 'maker', 'approver'] } },
      schema: {
        tags,
        summary: '"Select all N matching": stores the connections a filter matches now, for a payment to use without sending their ids',
        body: Type.Object(FilterProps, { additionalProperties: false, examples: [{ status: 'overdue' }] }),
        response: { 201: Type.Object({ id: Type.String(), count: Type.Integer(), outstandingPaise: Money, expiresAt: Type.String(), inOpenBatch: InOpenBatch }), ...errors },
      },
    },
    async (req, reply) => {
      const u = userOf(req);
      const scope = scopeOf(req);
      const f = filterOf(req.body);
      const sel = await createSelection(db, scope, u, f, today(), thresholds);
      return reply.status(201).send(sel);
    },
  );

  app.get(
    '/api/v1/org/dues/selections/:selectionId',
    {
      config: { access: { roles: 'org' } },
      schema: {
        tags,
        summary: 'A stored selection: how many connections, their outstanding then, and when it expires',
        params: Type.Object({ selectionId: IdStr }),
        response: { 200: Type.Object({ id: Type.String(), count: Type.Integer(), outstandingPaise: Money, expiresAt: Type.String(), inOpenBatch: InOpenBatch, filters: Type.Unknown() }), ...errors },
      },
    },
    async (req) => {
      const s = await db
        .selectFrom('dues_selections')
        .selectAll()
        .where('id', '=', BigInt(req.params.selectionId))
        .where('org_id', '=', orgOf(req))
        .where('created_by', '=', userOf(req).userId)
        .where(officeInScope(scopeOf(req), sql.ref('office_id')))
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
      if (!s) throw new AppError('NOT_FOUND');
      return { id: s.id.toString(), count: s.count, outstandingPaise: s.outstanding_paise.toString(), expiresAt: s.expires_at.toISOString(), inOpenBatch: await selectionHeld(db, s.id), filters: s.filters };
    },
  );

  app.get(
    '/api/v1/org/dues/connections/:connectionId',
    {
      config: read,
      schema: { tags, summary: 'One connection: the latest bill in full, 12 months of bills with anomaly flags, and its payments', params: Type.Object({ connectionId: IdStr }) },
    },
    async (req) => connectionView(db, scopeOf(req), BigInt(req.params.connectionId), today(), thresholds),
  );

  app.get(
    '/api/v1/org/dues/connections/:connectionId/bills/:billId.pdf',
    {
      config: { ...read, expensive: true },
      schema: { tags, summary: 'A bill of the connection as a PDF, in English or Hindi', params: Type.Object({ connectionId: IdStr, billId: IdStr }), querystring: Type.Object({ lang: Lang }) },
    },
    async (req, reply) => {
      // Any bill of the connection (a statement lists bills older than the page's twelve).
      const c = await connectionView(db, scopeOf(req), BigInt(req.params.connectionId), today(), thresholds, 240);
      const b = c.bills.find((x) => x.billId === req.params.billId);
      if (!b) throw new AppError('NOT_FOUND');
      const pdf = await billPdf(c, b, req.query.lang ?? 'en', ctx.clock());
      reply.header('content-disposition', `attachment; filename="bill-${c.discom.code}-${c.consumerNo}-${b.billMonth.slice(0, 7)}.pdf"`);
      return reply.type(CONTENT_TYPES.pdf).send(pdf);
    },
  );

  app.get(
    '/api/v1/org/dues/export',
    {
      config: { ...read, expensive: true },
      schema: {
        tags,
        summary: 'The filtered dues table as CSV or XLSX (formula-safe; all rows) or PDF (up to 5,000 rows)',
        querystring: Type.Object({ ...FilterProps, ...SortProps, format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('xlsx'), Type.Literal('pdf')])), lang: Lang }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const format = q.format ?? 'csv';
      const scope = scopeOf(req);
      const day = today();
      const body = await exportDues(db, scope, filterOf(q), {
        sort: q.sort ?? 'due', desc: q.desc ?? false, today: day, thresholds, format, lang: q.lang ?? 'en', orgName: await orgName(scope.orgId), now: ctx.clock(),
      });
      reply.header('content-disposition', `attachment; filename="dues-${day}.${format}"`);
      return reply.type(CONTENT_TYPES[format]).send(body);
    },
  );

  app.get(
    '/api/v1/org/dues/statement',
    {
      config: { ...read, expensive: true },
      schema: {
        tags,
        summary: 'Statement of account for a period: every bill dated in it, of the connections the organisation holds, with totals; CSV, XLSX or PDF',
        querystring: Type.Object({ from: Day, to: Day, format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('xlsx'), Type.Literal('pdf')])), lang: Lang }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const format = q.format ?? 'csv';
      const scope = scopeOf(req);
      const body = await exportStatement(db, scope, {
        from: q.from, to: q.to, today: today(), thresholds, format, lang: q.lang ?? 'en', orgName: await orgName(scope.orgId), now: ctx.clock(),
      });
      reply.header('content-disposition', `attachment; filename="statement-${q.from}-to-${q.to}.${format}"`);
      return reply.type(CONTENT_TYPES[format]).send(body);
    },
  );

  // ---- alerts ------------------------------------------------------------------------------

  app.get(
    '/api/v1/org/alert-preferences',
    {
      config: { access: { roles: 'org' } },
      schema: {
        tags,
        summary: 'Alert preferences of each office the caller sees (defaults where an office has set none)',
        response: {
          200: Type.Object({
            defaultRiskThresholdRupees: Type.String(),
            offices: Type.Array(Type.Object({ officeId: Type.String(), code: Type.String(), name: Type.String(), path: Type.String(), custom: Type.Boolean(), prefs: Prefs })),
            recent: Type.Array(Type.Object({ day: Type.String(), officeId: Type.String(), reason: Type.String(), alerts: Type.Integer(), messages: Type.Integer() })),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      let q = db
        .selectFrom('offices as o')
        .leftJoin('alert_preferences as p', 'p.office_id', 'o.id')
        .select(['o.id', 'o.code', 'o.name', 'o.path', 'p.office_id as custom', 'p.due_reminders', 'p.reminder_days', 'p.disconnection_alerts', 'p.risk_threshold_paise', 'p.by_email', 'p.by_sms'])
        .where('o.org_id', '=', scope.orgId);
      if (scope.officePath) q = q.where('o.path', 'like', `${scope.officePath}%`);
      const rows = await q.orderBy('o.path').execute();
      let recent = db
        .selectFrom('alerts_sent as a')
        .innerJoin('offices as o', 'o.id', 'a.office_id')
        .select(['a.run_day', 'a.office_id', 'a.reason', sql<bigint>`count(*)`.as('n'), sql<number>`max(a.message_count)`.as('m')])
        .where('a.org_id', '=', scope.orgId)
        .groupBy(['a.run_day', 'a.office_id', 'a.reason'])
        .orderBy('a.run_day', 'desc')
        .limit(30);
      if (scope.officePath) recent = recent.where('o.path', 'like', `${scope.officePath}%`);
      return {
        defaultRiskThresholdRupees: (ctx.config.riskThresholdPaise / 100n).toString(),
        offices: rows.map((r) => ({
          officeId: r.id.toString(), code: r.code, name: r.name, path: r.path, custom: r.custom !== null,
          prefs: {
            dueReminders: r.due_reminders ?? true, reminderDays: r.reminder_days ?? 3, disconnectionAlerts: r.disconnection_alerts ?? true,
            riskThresholdRupees: r.risk_threshold_paise ? (r.risk_threshold_paise / 100n).toString() : null, byEmail: r.by_email ?? true, bySms: r.by_sms ?? false,
          },
        })),
        recent: (await recent.execute()).map((r) => ({ day: r.run_day, officeId: r.office_id.toString(), reason: r.reason, alerts: Number(r.n), messages: Number(r.m) })),
      };
    },
  );

  app.put(
    '/api/v1/org/alert-preferences/:officeId',
    {
      config: { access: { roles: ['org_admin'] } },
      schema: {
        tags,
        summary: 'Set an office’s alerts: due-date reminders (days before), disconnection-risk alerts (threshold), e-mail and SMS',
        params: Type.Object({ officeId: IdStr }),
        body: Type.Object(Prefs.properties, { additionalProperties: false, examples: [{ dueReminders: true, reminderDays: 3, disconnectionAlerts: true, riskThresholdRupees: '100000', byEmail: true, bySms: false }] }),
        response: { 200: Type.Object({ officeId: Type.String() }), ...errors },
      },
    },
    async (req) => {
      const u = userOf(req);
      const scope = scopeOf(req);
      const officeId = BigInt(req.params.officeId);
      const b = req.body;
      await db.transaction().execute(async (trx) => {
        const office = await trx
          .selectFrom('offices')
          .select(['id', 'path'])
          .where('id', '=', officeId)
          .where('org_id', '=', scope.orgId)
          .$if(!!scope.officePath, (q) => q.where('path', 'like', `${scope.officePath}%`))
          .executeTakeFirst();
        if (!office) throw new AppError('NOT_FOUND');
        const values = {
          due_reminders: b.dueReminders, reminder_days: b.reminderDays, disconnection_alerts: b.disconnectionAlerts,
          risk_threshold_paise: b.riskThresholdRupees === null ? null : BigInt(b.riskThresholdRupees) * 100n, by_email: b.byEmail, by_sms: b.bySms,
          updated_by: u.userId, updated_at: sql<Date>`now()`,
        };
        await trx.insertInto('alert_preferences').values({ office_id: officeId, org_id: scope.orgId, ...values }).onConflict((oc) => oc.column('office_id').doUpdateSet(values)).execute();
        await recordAudit(trx, { action: 'alerts.preferences_set', actor: u, orgId: scope.orgId, target: { type: 'office', id: officeId }, details: { ...b }, meta: req.meta });
      });
      return { officeId: officeId.toString() };
    },
  );
}
