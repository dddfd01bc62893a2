import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { officeInScope, type Scope } from '../../platform/office-scope.ts';

export type { Scope } from '../../platform/office-scope.ts';

/**
 * The dashboard's filters, their SQL, and the anomaly and status rules, over connection_dues
 * (one row per connection: the latest bill, the balance, the holder). Everything here is
 * computed in SQL against "today" in IST and the configured thresholds, so nothing stored goes
 * stale when the date or a threshold changes.
 */

export const DUE_STATUSES = ['overdue', 'due7', 'due', 'clear', 'credit'] as const;
export type DueStatus = (typeof DUE_STATUSES)[number];
export const ANOMALIES = ['any', 'deviation', 'zero', 'estimated', 'reading_break'] as const;
export type Anomaly = (typeof ANOMALIES)[number];
export const SORTS = ['due', 'amount', 'consumer'] as const;
export type Sort = (typeof SORTS)[number];

export interface DuesFilter {
  officeId: bigint | null;
  /** A discom's code: a challan (RTGS/NEFT) pays one discom's connections. */
  discom: string | null;
  status: DueStatus | null;
  dueFrom: string | null;
  dueTo: string | null;
  minPaise: bigint | null;
  maxPaise: bigint | null;
  category: string | null;
  divisionId: bigint | null;
  anomaly: Anomaly | null;
  q: string | null;
}

export const NO_FILTER: DuesFilter = {
  officeId: null, discom: null, status: null, dueFrom: null, dueTo: null, minPaise: null, maxPaise: null, category: null, divisionId: null, anomaly: null, q: null,
};

export interface Thresholds {
  lowPct: number;
  highPct: number;
}

/** 'YYYY-MM-DD' of the given instant in India (UTC+05:30, no daylight saving). */
export function istDay(at: Date): string {
  return new Date(at.getTime() + 330 * 60_000).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

// ---- rules, as SQL over connection_dues aliased d -------------------------------------------

// Numeric arithmetic: an HT bill's units times 100 would overflow an integer.
const out = (avg: string, v: string, t: Thresholds) =>
  `(d.${avg} IS NOT NULL AND (d.${v}::numeric * 100 < d.${avg} * ${100 - t.lowPct} OR d.${v}::numeric * 100 > d.${avg} * ${100 + t.highPct}))`;

/** SQL text of each anomaly of the latest bill (thresholds are validated integers). */
export function anomalySql(t: Thresholds): Record<Exclude<Anomaly, 'any'>, string> {
  return {
    deviation: `(${out('avg_units', 'units', t)} OR ${out('avg_demand_paise', 'current_demand_paise', t)})`,
    zero: `(d.bill_id IS NOT NULL AND d.units = 0)`,
    estimated: `(d.bill_basis IN ('average', 'provisional'))`,
    reading_break: `(d.reading_break)`,
  };
}

export function anyAnomalySql(t: Thresholds): string {
  return `(${Object.values(anomalySql(t)).join(' OR ')})`;
}

/** SQL text of each status on `today` (a validated date string). */
export function statusSql(today: string): Record<DueStatus, string> {
  const t = `DATE '${today}'`;
  return {
    overdue: `(d.balance_paise > 0 AND d.due_key < ${t})`,
    due7: `(d.balance_paise > 0 AND d.due_key BETWEEN ${t} AND ${t} + 7)`,
    due: `(d.balance_paise > 0 AND d.due_key >= ${t})`,
    clear: `(d.balance_paise = 0)`,
    credit: `(d.balance_paise < 0)`,
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** connection_dues rows of the organisation within the scope, with the filter applied. */
export function duesQuery(db: Kysely<DB>, scope: Scope, f: DuesFilter, today: string, t: Thresholds) {
  if (!DAY.test(today)) throw new Error(`bad day ${today}`);
  let q = db.selectFrom('connection_dues as d').where('d.org_id', '=', scope.orgId);
  const inSubtree = (path: Expression<string>) =>
    sql<SqlBool>`d.office_id IN (SELECT o.id FROM offices o WHERE o.org_id = ${scope.orgId} AND o.path LIKE ${path} || '%')`;
  // A user of the head office (the root of the tree) also sees connections tagged without an
  // office: they count under the head office, as the alerts do.
  if (scope.officePath) q = q.where(officeInScope(scope, sql.ref('d.office_id')));
  if (f.officeId) {
    q = q.where(inSubtree(sql<string>`(SELECT p.path FROM offices p WHERE p.id = ${f.officeId} AND p.org_id = ${scope.orgId})`));
  }
  // Two discoms (or a handful): the filter rides the organisation's indexes (its sort keys) as
  // the other low-cardinality filters (category, status) do.
  if (f.discom) q = q.where('d.discom_id', '=', (eb) => eb.selectFrom('discoms').select('id').where('code', '=', f.discom!));
  if (f.status) q = q.where(sql.raw<SqlBool>(statusSql(today)[f.status]));
  if (f.dueFrom) q = q.where('d.due_date', '>=', f.dueFrom);
  if (f.dueTo) q = q.where('d.due_date', '<=', f.dueTo);
  if (f.minPaise !== null) q = q.where('d.balance_paise', '>=', f.minPaise);
  if (f.maxPaise !== null) q = q.where('d.balance_paise', '<=', f.maxPaise);
  if (f.category) q = q.where('d.category', '=', f.category);
  if (f.divisionId) q = q.where('d.division_id', '=', f.divisionId);
  if (f.anomaly) q = q.where(sql.raw<SqlBool>(f.anomaly === 'any' ? anyAnomalySql(t) : anomalySql(t)[f.anomaly]));
  if (f.q) {
    const esc = f.q.replace(/[%_\\]/g, '\\$&');
    q = q.where((eb) =>
      /^\d+$/.test(f.q!)
        ? eb('d.consumer_no', 'like', `${esc}%`)
        : eb(sql<string>`lower(d.name)`, 'like', `%${esc.toLowerCase()}%`),
    );
  }
  return q;
}

/** The anomaly flags as boolean columns f_deviation, f_zero, f_estimated, f_reading_break. */
export function anomalyColumns(t: Thresholds) {
  const a = anomalySql(t);
  return [
    sql.raw<boolean>(a.deviation).as('f_deviation'),
    sql.raw<boolean>(a.zero).as('f_zero'),
    sql.raw<boolean>(a.estimated).as('f_estimated'),
    sql.raw<boolean>(a.reading_break).as('f_reading_break'),
  ] as const;
}

export function flagList(r: { f_deviation: boolean; f_zero: boolean; f_estimated: boolean; f_reading_break: boolean }): Exclude<Anomaly, 'any'>[] {
  const flags: Exclude<Anomaly, 'any'>[] = [];
  if (r.f_deviation) flags.push('deviation');
  if (r.f_zero) flags.push('zero');
  if (r.f_estimated) flags.push('estimated');
  if (r.f_reading_break) flags.push('reading_break');
  return flags;
}
