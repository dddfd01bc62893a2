import { sql, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Figures, Summary } from '../../shared/dues.ts';
import { anomalySql, anyAnomalySql, duesQuery, NO_FILTER, statusSql, type Scope, type Thresholds } from './query.ts';

/**
 * An organisation's dues in one place: the headline figures, broken down by office, division
 * and category, the dues by due date, and twelve months of billing. Computed in two SQL
 * statements (one pass over the organisation's dues rows with grouping sets, one over its
 * bills), then kept in dues_summary_cache until the organisation's dues version, the day or
 * the thresholds change, so a dashboard of 1,00,000 connections answers from one row.
 */

export type { Figures, Summary } from '../../shared/dues.ts';

export const BUCKETS = ['overdue_90', 'overdue_61_90', 'overdue_31_60', 'overdue_1_30', 'due_0_7', 'due_8_15', 'due_16_30', 'due_later'] as const;

interface GroupRow {
  g_office: number;
  g_division: number;
  g_category: number;
  g_bucket: number;
  office_id: bigint | null;
  division_id: bigint | null;
  category: string | null;
  bucket: string | null;
  n: bigint;
  outstanding: bigint | null;
  overdue: bigint | null;
  overdue_n: bigint;
  due7: bigint | null;
  due7_n: bigint;
  dps_charged: bigint | null;
  dps_risk: bigint | null;
  rebate: bigint | null;
  advance: bigint | null;
  anomalies: bigint;
  a_deviation: bigint;
  a_zero: bigint;
  a_estimated: bigint;
  a_reading_break: bigint;
}

const figures = (r: GroupRow): Figures => ({
  connections: Number(r.n),
  outstandingPaise: (r.outstanding ?? 0n).toString(),
  overduePaise: (r.overdue ?? 0n).toString(),
  overdueCount: Number(r.overdue_n),
  due7Paise: (r.due7 ?? 0n).toString(),
  due7Count: Number(r.due7_n),
  dpsChargedPaise: (r.dps_charged ?? 0n).toString(),
  dpsRiskPaise: (r.dps_risk ?? 0n).toString(),
  rebatePaise: (r.rebate ?? 0n).toString(),
  advancePaise: (r.advance ?? 0n).toString(),
  anomalies: Number(r.anomalies),
});

export async function computeSummary(db: Kysely<DB>, scope: Scope, today: string, t: Thresholds): Promise<Summary> {
  const st = statusSql(today);
  const a = anomalySql(t);
  const day = `DATE '${today}'`;
  const upcoming = `(d.balance_paise > 0 AND d.due_key >= ${day})`;
  const scoped = duesQuery(db, scope, NO_FILTER, today, t)
    .select([
      'd.connection_id', 'd.office_id', 'd.division_id', 'd.category', 'd.balance_paise', 'd.dps_paise', 'd.rebate_paise',
      sql<bigint>`greatest(d.payable_after_due_paise - d.net_payable_paise - d.rebate_paise, 0)`.as('dps_next'),
      sql.raw<boolean>(st.overdue).as('is_overdue'),
      sql.raw<boolean>(st.due7).as('is_due7'),
      sql.raw<boolean>(upcoming).as('is_upcoming'),
      sql.raw<boolean>(anyAnomalySql(t)).as('is_anomaly'),
      sql.raw<boolean>(a.deviation).as('is_deviation'),
      sql.raw<boolean>(a.zero).as('is_zero'),
      sql.raw<boolean>(a.estimated).as('is_estimated'),
      sql.raw<boolean>(a.reading_break).as('is_reading_break'),
      sql
        .raw<string | null>(
          `CASE WHEN d.balance_paise <= 0 THEN NULL
                WHEN d.due_key < ${day} - 90 THEN 'overdue_90'
                WHEN d.due_key < ${day} - 60 THEN 'overdue_61_90'
                WHEN d.due_key < ${day} - 30 THEN 'overdue_31_60'
                WHEN d.due_key < ${day} THEN 'overdue_1_30'
                WHEN d.due_key <= ${day} + 7 THEN 'due_0_7'
                WHEN d.due_key <= ${day} + 15 THEN 'due_8_15'
                WHEN d.due_key <= ${day} + 30 THEN 'due_16_30'
                ELSE 'due_later' END`,
        )
        .as('bucket'),
    ]);
  const { rows } = await sql<GroupRow>`
    SELECT GROUPING(x.office_id) AS g_office, GROUPING(x.division_id) AS g_division,
           GROUPING(x.category) AS g_category, GROUPING(x.bucket) AS g_bucket,
           x.office_id, x.division_id, x.category, x.bucket,
           count(*) AS n,
           sum(greatest(x.balance_paise, 0))::bigint AS outstanding,
           sum(x.balance_paise) FILTER (WHERE x.is_overdue)::bigint AS overdue,
           count(*) FILTER (WHERE x.is_overdue) AS overdue_n,
           sum(x.balance_paise) FILTER (WHERE x.is_due7)::bigint AS due7,
           count(*) FILTER (WHERE x.is_due7) AS due7_n,
           sum(x.dps_paise) FILTER (WHERE x.balance_paise > 0)::bigint AS dps_charged,
           sum(x.dps_next) FILTER (WHERE x.is_upcoming)::bigint AS dps_risk,
           sum(x.rebate_paise) FILTER (WHERE x.is_upcoming)::bigint AS rebate,
           sum(-x.balance_paise) FILTER (WHERE x.balance_paise < 0)::bigint AS advance,
           count(*) FILTER (WHERE x.is_anomaly) AS anomalies,
           count(*) FILTER (WHERE x.is_deviation) AS a_deviation,
           count(*) FILTER (WHERE x.is_zero) AS a_zero,
           count(*) FILTER (WHERE x.is_estimated) AS a_estimated,
           count(*) FILTER (WHERE x.is_reading_break) AS a_reading_break
      FROM (${scoped}) x
     GROUP BY GROUPING SETS ((), (x.office_id), (x.division_id), (x.category), (x.bucket))`.execute(db);

  // Twelve months of billing: the organisation's monthly sums (kept by a trigger), or for an
  // office's subtree the sum of its rows' bill histories.
  const since = sql.raw(`(date_trunc('month', ${day}) - interval '11 months')::date`);
  const months = scope.officePath
    ? await sql<{ month: string; bills: bigint; billed: bigint; units: bigint; paid: bigint }>`
        SELECT x.month, count(*) AS bills, sum(x.billed)::bigint AS billed, sum(x.units)::bigint AS units, count(*) FILTER (WHERE x.paid) AS paid
          FROM (${duesQuery(db, scope, NO_FILTER, today, t).select(['d.hist_months', 'd.hist_billed_paise', 'd.hist_units', 'd.hist_paid'])}) h,
               unnest(h.hist_months, h.hist_billed_paise, h.hist_units, h.hist_paid) AS x(month, billed, units, paid)
         WHERE x.month >= ${since}
         GROUP BY x.month ORDER BY x.month`.execute(db)
    : await sql<{ month: string; bills: bigint; billed: bigint; units: bigint; paid: bigint }>`
        SELECT month, bills, billed_paise AS billed, units, paid_bills AS paid FROM dues_org_months
         WHERE org_id = ${scope.orgId} AND month >= ${since} AND bills > 0 ORDER BY month`.execute(db);

  const officeIds = rows.filter((r) => r.g_office === 0 && r.office_id !== null).map((r) => r.office_id!);
  const divisionIds = rows.filter((r) => r.g_division === 0 && r.division_id !== null).map((r) => r.division_id!);
  const [offices, divisions, categories] = await Promise.all([
    officeIds.length ? db.selectFrom('offices').select(['id', 'code', 'name']).where('id', 'in', officeIds).execute() : [],
    divisionIds.length ? db.selectFrom('divisions').select(['id', 'name', 'name_hi']).where('id', 'in', divisionIds).execute() : [],
    db.selectFrom('tariff_categories').select(['code', 'name', 'name_hi']).execute(),
  ]);
  const officeOf = new Map(offices.map((o) => [o.id, o]));
  const divisionOf = new Map(divisions.map((d) => [d.id, d]));
  const categoryOf = new Map(categories.map((c) => [c.code, c]));

  const byAmount = <T extends Figures>(xs: T[]) => xs.sort((p, q) => (BigInt(q.outstandingPaise) > BigInt(p.outstandingPaise) ? 1 : -1));
  const total = rows.find((r) => r.g_office && r.g_division && r.g_category && r.g_bucket);
  const empty: GroupRow = {
    g_office: 1, g_division: 1, g_category: 1, g_bucket: 1, office_id: null, division_id: null, category: null, bucket: null, n: 0n,
    outstanding: 0n, overdue: 0n, overdue_n: 0n, due7: 0n, due7_n: 0n, dps_charged: 0n, dps_risk: 0n, rebate: 0n, advance: 0n,
    anomalies: 0n, a_deviation: 0n, a_zero: 0n, a_estimated: 0n, a_reading_break: 0n,
  };
  const tot = total ?? empty;
  return {
    day: today,
    totals: figures(tot),
    anomalies: { deviation: Number(tot.a_deviation), zero: Number(tot.a_zero), estimated: Number(tot.a_estimated), reading_break: Number(tot.a_reading_break) },
    byOffice: byAmount(
      rows
        .filter((r) => r.g_office === 0)
        .map((r) => {
          const o = r.office_id === null ? undefined : officeOf.get(r.office_id);
          return { ...figures(r), id: r.office_id?.toString() ?? null, code: o?.code ?? null, name: o?.name ?? null };
        }),
    ),
    byDivision: byAmount(
      rows
        .filter((r) => r.g_division === 0)
        .map((r) => {
          const d = divisionOf.get(r.division_id!);
          return { ...figures(r), id: r.division_id!.toString(), name: d?.name ?? '', nameHi: d?.name_hi ?? '' };
        }),
    ),
    byCategory: byAmount(
      rows
        .filter((r) => r.g_category === 0)
        .map((r) => {
          const c = categoryOf.get(r.category!);
          return { ...figures(r), code: r.category!, name: c?.name ?? r.category!, nameHi: c?.name_hi ?? r.category! };
        }),
    ),
    dueBuckets: BUCKETS.map((bucket) => {
      const r = rows.find((x) => x.g_bucket === 0 && x.bucket === bucket);
      return { bucket, count: r ? Number(r.n) : 0, amountPaise: (r?.outstanding ?? 0n).toString() };
    }),
    months: months.rows.map((m) => ({ month: m.month, bills: Number(m.bills), billedPaise: m.billed.toString(), units: m.units.toString(), paidBills: Number(m.paid) })),
  };
}

/** The summary from the cache when the organisation's dues, the day and the thresholds are as they were. */
export async function getSummary(
  db: Kysely<DB>,
  scope: Scope,
  today: string,
  t: Thresholds,
): Promise<{ summary: Summary; computedAt: Date; cached: boolean }> {
  const key = scope.officePath ?? '';
  const settings = `${t.lowPct}/${t.highPct}`;
  // One round trip when the cache is current (the usual case).
  const hit = await db
    .selectFrom('dues_summary_cache as c')
    .leftJoin('dues_versions as v', 'v.org_id', 'c.org_id')
    .select(['c.body', 'c.computed_at'])
    .where('c.org_id', '=', scope.orgId)
    .where('c.scope', '=', key)
    .where('c.day', '=', today)
    .where('c.settings', '=', settings)
    .where(sql<SqlBool>`c.version = coalesce(v.version, 0)`)
    .executeTakeFirst();
  if (hit) return { summary: hit.body as Summary, computedAt: hit.computed_at, cached: true };
  // The version is read before computing: a change made meanwhile leaves the row stale, not wrong.
  const v = await db.selectFrom('dues_versions').select('version').where('org_id', '=', scope.orgId).executeTakeFirst();
  const version = v?.version ?? 0n;
  const summary = await computeSummary(db, scope, today, t);
  const row = await db
    .insertInto('dues_summary_cache')
    .values({ org_id: scope.orgId, scope: key, day: today, version, settings, body: JSON.stringify(summary) })
    .onConflict((oc) => oc.columns(['org_id', 'scope']).doUpdateSet((eb) => ({
      day: eb.ref('excluded.day'), version: eb.ref('excluded.version'), settings: eb.ref('excluded.settings'),
      body: eb.ref('excluded.body'), computed_at: sql<Date>`now()`,
    })))
    .returning('computed_at')
    .executeTakeFirstOrThrow();
  return { summary, computedAt: row.computed_at, cached: false };
}

/** Office names as they are now (an office renamed after the summary was cached). */
export async function withOfficeNames(db: Kysely<DB>, s: Summary): Promise<Summary> {
  const ids = s.byOffice.filter((o) => o.id !== null).map((o) => BigInt(o.id!));
  if (!ids.length) return s;
  const rows = await db.selectFrom('offices').select(['id', 'code', 'name']).where('id', 'in', ids).execute();
  const of = new Map(rows.map((r) => [r.id.toString(), r]));
  return { ...s, byOffice: s.byOffice.map((o) => (o.id && of.has(o.id) ? { ...o, code: of.get(o.id)!.code, name: of.get(o.id)!.name } : o)) };
}
