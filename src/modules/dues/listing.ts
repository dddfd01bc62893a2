import { sql, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { officeInScope } from '../../platform/office-scope.ts';
import type { DuesRow, OpenBatchMark } from '../../shared/dues.ts';
// The pure rules module only (no routes): the dues module must not pull the payments routes in.
import { OPEN_BATCH } from '../payments/rules.ts';
import { anomalyColumns, duesQuery, flagList, statusSql, type DuesFilter, type Scope, type Sort, type Thresholds } from './query.ts';

/**
 * The dues table: filtered on the server, sorted, and paged by keyset (the last row's sort
 * value and id), so page 500 costs what page 1 costs. "Select all N matching" stores the ids
 * the filter matched (set-based, one INSERT … SELECT) for a payment to use.
 */

export type { DuesRow } from '../../shared/dues.ts';

const ORDER: Record<Sort, { col: 'd.due_key' | 'd.balance_paise' | 'd.consumer_no'; asc: boolean }> = {
  due: { col: 'd.due_key', asc: true },
  amount: { col: 'd.balance_paise', asc: false },
  consumer: { col: 'd.consumer_no', asc: true },
};

/**
 * The open payment batch holding a connection, if any (at most one: a partial unique index): its
 * id, reference and status when the scope sees that batch, else only that it exists (a batch of
 * an office above the user's, decision 0011).
 */
export function openBatchMark(r: { ob_id: bigint | null; ob_reference: string | null; ob_status: string | null; ob_visible: boolean | null }): OpenBatchMark | null {
  if (r.ob_id === null) return null;
  return r.ob_visible ? { id: r.ob_id.toString(), reference: r.ob_reference, status: r.ob_status } : { id: null, reference: null, status: null };
}

const badCursor = () =>
  new AppError('VALIDATION_FAILED', [{ path: 'query.after', problem: 'invalid', message: { en: 'is not a page cursor from this list and order', hi: 'इस सूची और क्रम का पृष्ठ संकेतक नहीं है' } }]);

/** A cursor names its sort and direction, and holds the last row's sort value (checked for its column) and id. */
function decodeCursor(cursor: string, sort: Sort, asc: boolean): [string, bigint] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(parts) || parts.length !== 4) throw badCursor();
  const [s, a, v, id] = parts as unknown[];
  if (s !== sort || a !== asc || typeof v !== 'string' || typeof id !== 'string' || !/^\d{1,18}$/.test(id)) throw badCursor();
  const ok =
    sort === 'due' ? /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= '0001-01-01' && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))
    : sort === 'amount' ? /^-?\d{1,18}$/.test(v)
    : v.length <= 20;
  if (!ok) throw badCursor();
  return [v, BigInt(id)];
}

export async function listDues(
  db: Kysely<DB>,
  scope: Scope,
  f: DuesFilter,
  opts: { sort: Sort; desc: boolean; after: string | null; limit: number; today: string; thresholds: Thresholds; withTotal: boolean },
): Promise<{ rows: DuesRow[]; next: string | null; total: { count: number; outstandingPaise: string } | null }> {
  const o = ORDER[opts.sort];
  const asc = opts.desc ? !o.asc : o.asc;
  const st = statusSql(opts.today);
  let q = duesQuery(db, scope, f, opts.today, opts.thresholds)
    .innerJoin('discoms as dc', 'dc.id', 'd.discom_id')
    .innerJoin('divisions as dv', 'dv.id', 'd.division_id')
    .leftJoin('offices as of', 'of.id', 'd.office_id')
    .leftJoin('payment_batch_items as bi', (j) => j.onRef('bi.connection_id', '=', 'd.connection_id').on('bi.open', '=', true))
    .leftJoin('payment_batches as ob', (j) => j.onRef('ob.id', '=', 'bi.batch_id').on('ob.status', 'in', OPEN_BATCH))
    .select([
      'ob.id as ob_id', 'ob.reference as ob_reference', 'ob.status as ob_status',
      sql<boolean | null>`ob.org_id = ${scope.orgId} AND ${officeInScope(scope, sql.ref('ob.office_id'))}`.as('ob_visible'),
      'd.connection_id', 'dc.code as discom', 'd.consumer_no', 'd.name', 'd.category', 'd.division_id', 'dv.name as division_name',
      'dv.name_hi as division_name_hi', 'of.id as office_id', 'of.code as office_code', 'of.name as office_name', 'd.conn_status',
      'd.balance_paise', 'd.bill_month', 'd.due_date', 'd.due_key', 'd.net_payable_paise', 'd.payable_after_due_paise', 'd.rebate_paise',
      'd.dps_paise', 'd.units', 'd.bill_basis', sql.raw<boolean>(st.overdue).as('is_overdue'), ...anomalyColumns(opts.thresholds),
    ]);
  if (opts.after) {
    const [v, id] = decodeCursor(opts.after, opts.sort, asc);
    const value = o.col === 'd.balance_paise' ? sql`${BigInt(v)}::bigint` : o.col === 'd.due_key' ? sql`${v}::date` : sql`${v}`;
    q = q.where(asc ? sql<SqlBool>`(${sql.ref(o.col)}, d.connection_id) > (${value}, ${id})` : sql<SqlBool>`(${sql.ref(o.col)}, d.connection_id) < (${value}, ${id})`);
  }
  const dir = asc ? 'asc' : 'desc';
  const rows = await q.orderBy(o.col, dir).orderBy('d.connection_id', dir).limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  const keyOf = (r: (typeof rows)[number]) => (o.col === 'd.due_key' ? r.due_key : o.col === 'd.balance_paise' ? r.balance_paise.toString() : r.consumer_no);
  let total = null;
  if (opts.withTotal) {
    const t = await duesQuery(db, scope, f, opts.today, opts.thresholds)
      .select([sql<bigint>`count(*)`.as('n'), sql<bigint | null>`sum(greatest(d.balance_paise, 0))::bigint`.as('outstanding')])
      .executeTakeFirstOrThrow();
    total = { count: Number(t.n), outstandingPaise: (t.outstanding ?? 0n).toString() };
  }
  return {
    rows: page.map((r) => ({
      connectionId: r.connection_id.toString(),
      discom: r.discom,
      consumerNo: r.consumer_no,
      name: r.name,
      category: r.category,
      division: { id: r.division_id.toString(), name: r.division_name, nameHi: r.division_name_hi },
      office: r.office_id ? { id: r.office_id.toString(), code: r.office_code!, name: r.office_name! } : null,
      connectionStatus: r.conn_status,
      balancePaise: r.balance_paise.toString(),
      status: r.balance_paise < 0n ? 'credit' : r.balance_paise === 0n ? 'clear' : r.is_overdue ? 'overdue' : 'due',
      billMonth: r.bill_month,
      dueDate: r.due_date,
      netPayablePaise: r.net_payable_paise.toString(),
      payableAfterDuePaise: r.payable_after_due_paise.toString(),
      rebatePaise: r.rebate_paise.toString(),
      dpsPaise: r.dps_paise.toString(),
      units: r.units,
      billBasis: r.bill_basis,
      flags: flagList(r),
      openBatch: openBatchMark(r),
    })),
    next: rows.length > opts.limit && last ? Buffer.from(JSON.stringify([opts.sort, asc, keyOf(last), last.connection_id.toString()])).toString('base64url') : null,
    total,
  };
}

/**
 * Stores the ids the filter matches now, within the creator's scope; a payment later pays exactly
 * these. The selection belongs to its creator's office (the head office for a creator of the
 * whole organisation): only users at or above it may use it (decision 0011).
 */
export async function createSelection(
  db: Kysely<DB>,
  scope: Scope,
  creator: { userId: bigint; officeId: bigint | null },
  f: DuesFilter,
  today: string,
  t: Thresholds,
): Promise<{ id: string; count: number; outstandingPaise: string; expiresAt: string; inOpenBatch: number }> {
  return db.transaction().execute(async (trx) => {
    // An office as filter must be one of the creator's: another office's would store nothing, but it is no selection to make.
    if (f.officeId !== null) {
      const own = await trx.selectFrom('offices').select('id').where('id', '=', f.officeId).where('org_id', '=', scope.orgId).where(officeInScope(scope, sql.ref('id'))).executeTakeFirst();
      if (!own) throw new AppError('VALIDATION_FAILED', [{ path: 'body.officeId', problem: 'unknown', message: { en: 'is not one of your offices', hi: 'आपके कार्यालयों में से नहीं है' } }]);
    }
    const office = creator.officeId ?? (await trx.selectFrom('offices').select('id').where('org_id', '=', scope.orgId).where('parent_id', 'is', null).orderBy('id').executeTakeFirst())?.id ?? null;
    const sel = await trx
      .insertInto('dues_selections')
      .values({
        org_id: scope.orgId, created_by: creator.userId, office_id: office, count: 0, outstanding_paise: 0n, expires_at: sql<Date>`now() + interval '1 day'`,
        filters: JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      })
      .returning(['id', 'expires_at'])
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('dues_selection_items')
      .columns(['selection_id', 'connection_id'])
      .expression(duesQuery(trx, scope, f, today, t).select([sql<bigint>`${sel.id}::bigint`.as('selection_id'), 'd.connection_id']))
      .execute();
    const agg = await trx
      .selectFrom('dues_selection_items as i')
      .innerJoin('connection_dues as d', 'd.connection_id', 'i.connection_id')
      .select([sql<bigint>`count(*)`.as('n'), sql<bigint | null>`sum(greatest(d.balance_paise, 0))::bigint`.as('outstanding')])
      .where('i.selection_id', '=', sel.id)
      .executeTakeFirstOrThrow();
    await trx.updateTable('dues_selections').set({ count: Number(agg.n), outstanding_paise: agg.outstanding ?? 0n }).where('id', '=', sel.id).execute();
    return { id: sel.id.toString(), count: Number(agg.n), outstandingPaise: (agg.outstanding ?? 0n).toString(), expiresAt: sel.expires_at.toISOString(), inOpenBatch: await selectionHeld(trx, sel.id) };
  });
}

/**
 * How many of a selection's connections an open batch holds now: a payment made from the
 * selection leaves them out (and says so), so the page says it before the payment is made.
 */
export async function selectionHeld(db: Kysely<DB>, selectionId: bigint): Promise<number> {
  const r = await db
    .selectFrom('dues_selection_items as i')
    .innerJoin('payment_batch_items as bi', (j) => j.onRef('bi.connection_id', '=', 'i.connection_id').on('bi.open', '=', true))
    .innerJoin('payment_batches as ob', (j) => j.onRef('ob.id', '=', 'bi.batch_id').on('ob.status', 'in', OPEN_BATCH))
    .select(sql<number>`count(*)::int`.as('n'))
    .where('i.selection_id', '=', selectionId)
    .executeTakeFirstOrThrow();
  return r.n;
}
