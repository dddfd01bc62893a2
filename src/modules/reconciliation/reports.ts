import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { officeInScope, type Scope } from '../../platform/office-scope.ts';
import { postingCounts } from '../payments/index.ts';

/**
 * What the discom reads about its money: the three-way view of a batch (money received ↔ bank
 * or gateway settlement ↔ billing posting acknowledged), the daily reconciliation report, and
 * the collections dashboard. Days are IST days.
 *
 * Each is of one discom (`discomId`), or of both (null: the holding company). A discom's money
 * is what was allocated to its connections (and, for an RTGS/NEFT payment, what its challan
 * held in suspense): exact, even for an online payment of both discoms' bills. Its credits,
 * statements, exceptions and postings are those that name it. Gateway settlements pay both
 * discoms' collections in one payout: they are in the holding company's reports only.
 */

type Db = Kysely<DB>;
const IST = sql.raw(`'Asia/Kolkata'`);

/**
 * Captured payments with the part of each that is the discom's (all of it when discomId is null),
 * filtered by `cond` on `p`; columns id, challan_id, captured_at, org_id, amount_paise.
 */
function paid(discomId: bigint | null, cond: RawBuilder<boolean>): RawBuilder<unknown> {
  if (discomId === null) {
    return sql`SELECT p.id, p.challan_id, p.captured_at, p.org_id, p.amount_paise FROM payments p WHERE p.status = 'captured' AND ${cond}`;
  }
  return sql`
    SELECT p.id, p.challan_id, p.captured_at, p.org_id, x.amount_paise
      FROM payments p
     CROSS JOIN LATERAL (
       SELECT sum(a.amount_paise) AS amount_paise
         FROM allocations a
         LEFT JOIN connections c ON c.id = a.connection_id
         LEFT JOIN challans ch ON ch.id = p.challan_id
        WHERE a.payment_id = p.id AND coalesce(c.discom_id, ch.discom_id) = ${discomId}) x
     WHERE p.status = 'captured' AND x.amount_paise IS NOT NULL AND ${cond}`;
}

const discomCode = async (db: Db, id: bigint | null) =>
  id === null ? null : (await db.selectFrom('discoms').select('code').where('id', '=', id).executeTakeFirstOrThrow()).code;

export interface ThreeWay {
  batch: { id: string; reference: string; organisation: string; status: string; mode: string; totalPaise: string; paidPaise: string };
  received: { source: 'gateway' | 'bank'; reference: string; amountPaise: string; at: string | null; confirmedBy: string }[];
  banked: { kind: 'settlement' | 'statement'; reference: string; utr: string | null; amountPaise: string; feesPaise: string | null; inStatement: boolean }[];
  posted: { postings: number; acknowledged: number; pending: number; rejected: number; amountPaise: string; acknowledgedPaise: string };
  /** Each leg complete: money received, seen in the bank, acknowledged by the billing system. */
  legs: { received: boolean; banked: boolean; posted: boolean };
}

/**
 * The three-way view of a batch: for the payer (scope: only a batch the scope sees, decision 0011),
 * or for the discom (scope null; discomId: its staff's discom, null: the holding company). A
 * discom's staff see a batch of their discom's connections only (every RTGS/NEFT batch is of one
 * discom; an online batch of both discoms' bills is the holding company's), so every figure shown
 * is theirs.
 */
export async function threeWay(db: Db, batchId: bigint, scope: Scope | null, discomId: bigint | null = null): Promise<ThreeWay | null> {
  let q = db.selectFrom('payment_batches as b').innerJoin('organisations as o', 'o.id', 'b.org_id').select(['b.id', 'b.reference', 'o.name', 'b.status', 'b.mode', 'b.total_paise', 'b.paid_paise']).where('b.id', '=', batchId);
  if (scope !== null) q = q.where('b.org_id', '=', scope.orgId).where(officeInScope(scope, sql.ref('b.office_id')));
  if (discomId !== null) {
    q = q.where((eb) => eb.not(eb.exists(eb.selectFrom('payment_batch_items as i').select('i.batch_id').whereRef('i.batch_id', '=', 'b.id').where('i.discom_id', '<>', discomId))));
  }
  const b = await q.executeTakeFirst();
  if (!b) return null;
  const pays = await db
    .selectFrom('payments as p')
    .leftJoin('gateway_settlements as s', 's.settlement_id', 'p.settlement_id')
    .leftJoin('bank_credits as c', 'c.payment_id', 'p.id')
    .select(['p.id', 'p.gateway', 'p.gateway_payment_id', 'p.amount_paise', 'p.captured_at', 'p.confirmed_by', 'p.fee_paise', 'p.tax_paise', 'p.settlement_id', 's.utr as s_utr', 's.amount_paise as s_amount', 's.statement_line_id', 'c.sources', 'c.utr as c_utr'])
    .where('p.batch_id', '=', batchId)
    .where('p.status', '=', 'captured')
    .orderBy('p.id')
    .execute();
  const banked: ThreeWay['banked'] = [];
  for (const p of pays) {
    if (p.gateway === 'bank') {
      banked.push({ kind: 'statement', reference: p.gateway_payment_id, utr: p.c_utr, amountPaise: p.amount_paise.toString(), feesPaise: null, inStatement: !!p.sources?.includes('statement') });
    } else if (p.settlement_id) {
      banked.push({
        kind: 'settlement', reference: p.settlement_id, utr: p.s_utr, amountPaise: (p.amount_paise - (p.fee_paise ?? 0n) - (p.tax_paise ?? 0n)).toString(),
        feesPaise: ((p.fee_paise ?? 0n) + (p.tax_paise ?? 0n)).toString(), inStatement: p.statement_line_id !== null,
      });
    }
  }
  const posts = await db
    .selectFrom('postings')
    .select([
      sql<number>`count(*)::int`.as('n'),
      sql<number>`count(*) FILTER (WHERE status = 'acknowledged')::int`.as('ack'),
      sql<number>`count(*) FILTER (WHERE status = 'pending')::int`.as('pending'),
      sql<number>`count(*) FILTER (WHERE status = 'rejected')::int`.as('rejected'),
      sql<string>`coalesce(sum(amount_paise), 0)::text`.as('amount'),
      sql<string>`coalesce(sum(amount_paise) FILTER (WHERE status = 'acknowledged'), 0)::text`.as('ack_amount'),
    ])
    .where('batch_id', '=', batchId)
    .executeTakeFirstOrThrow();
  const received = pays.map((p) => ({ source: p.gateway === 'bank' ? ('bank' as const) : ('gateway' as const), reference: p.gateway_payment_id, amountPaise: p.amount_paise.toString(), at: p.captured_at?.toISOString() ?? null, confirmedBy: p.confirmed_by }));
  return {
    batch: { id: b.id.toString(), reference: b.reference, organisation: b.name, status: b.status, mode: b.mode, totalPaise: b.total_paise.toString(), paidPaise: b.paid_paise.toString() },
    received,
    banked,
    posted: { postings: posts.n, acknowledged: posts.ack, pending: posts.pending, rejected: posts.rejected, amountPaise: posts.amount, acknowledgedPaise: posts.ack_amount },
    legs: {
      received: pays.length > 0,
      banked: pays.length > 0 && banked.length === pays.length && banked.every((x) => x.inStatement),
      posted: posts.n > 0 && posts.ack === posts.n,
    },
  };
}

// ---- the daily reconciliation report ------------------------------------------------------------

export interface DailyReport {
  day: string;
  /** The discom reported on; null: both (the holding company). */
  discom: string | null;
  received: { mode: string; count: number; amountPaise: string }[];
  credits: { status: string; count: number; amountPaise: string }[];
  /** Gateway settlements pay both discoms in one payout: the holding company's report only (null otherwise). */
  settlements: { count: number; amountPaise: string; feesPaise: string; inStatement: number } | null;
  statementLines: { status: string; count: number; amountPaise: string }[];
  exceptionsOpened: { reason: string; count: number; amountPaise: string }[];
  exceptionsResolved: { resolution: string; count: number; amountPaise: string }[];
  exceptionsOpen: { reason: string; count: number; amountPaise: string }[];
  postings: { status: string; count: number; amountPaise: string }[];
  openItems: { id: string; reason: string; amountPaise: string; utr: string | null; reference: string | null; organisation: string | null; createdAt: string; detail: string | null }[];
}

type Agg = { k: string; n: number; s: string };
const agg = (rows: Agg[]) => rows.map((r) => ({ count: r.n, amountPaise: r.s, key: r.k }));

export async function dailyReport(db: Db, day: string, discomId: bigint | null = null): Promise<DailyReport> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError('day must be YYYY-MM-DD');
  const onDay = (col: string) => sql<boolean>`(${sql.ref(col)} AT TIME ZONE ${IST})::date = ${day}::date`;
  const q = async (text: ReturnType<typeof sql<Agg>>) => agg((await text.execute(db)).rows);
  // The discom's rows (every row for the holding company).
  const mine = (col: string) => (discomId === null ? sql<boolean>`true` : sql<boolean>`${sql.ref(col)} = ${discomId}`);
  const received = await q(sql<Agg>`
    SELECT CASE WHEN p.challan_id IS NULL THEN 'online' ELSE 'rtgs_neft' END AS k, count(*)::int AS n, coalesce(sum(p.amount_paise), 0)::text AS s
      FROM (${paid(discomId, onDay('p.captured_at'))}) p GROUP BY 1 ORDER BY 1`);
  const credits = await q(sql<Agg>`
    SELECT status AS k, count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s FROM bank_credits WHERE ${onDay('credited_at')} AND ${mine('discom_id')} GROUP BY 1 ORDER BY 1`);
  const { rows: st } = await sql<{ n: number; s: string; f: string; m: number }>`
    SELECT count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s, coalesce(sum(fees_paise + tax_paise), 0)::text AS f, count(statement_line_id)::int AS m
      FROM gateway_settlements WHERE ${onDay('settled_at')}`.execute(db);
  const lines = await q(sql<Agg>`
    SELECT l.status AS k, count(*)::int AS n, coalesce(sum(l.amount_paise), 0)::text AS s
      FROM statement_lines l JOIN bank_statements bs ON bs.id = l.statement_id WHERE l.value_date = ${day}::date AND ${mine('bs.discom_id')} GROUP BY 1 ORDER BY 1`);
  const opened = await q(sql<Agg>`
    SELECT reason AS k, count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s FROM recon_exceptions WHERE ${onDay('created_at')} AND ${mine('discom_id')} GROUP BY 1 ORDER BY 1`);
  const resolved = await q(sql<Agg>`
    SELECT resolution AS k, count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s FROM recon_exceptions WHERE status = 'resolved' AND ${onDay('resolved_at')} AND ${mine('discom_id')} GROUP BY 1 ORDER BY 1`);
  const open = await q(sql<Agg>`
    SELECT reason AS k, count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s FROM recon_exceptions
     WHERE (created_at AT TIME ZONE ${IST})::date <= ${day}::date AND (status = 'open' OR (resolved_at AT TIME ZONE ${IST})::date > ${day}::date) AND ${mine('discom_id')} GROUP BY 1 ORDER BY 1`);
  const postings = await q(sql<Agg>`
    SELECT status AS k, count(*)::int AS n, coalesce(sum(amount_paise), 0)::text AS s FROM postings WHERE ${onDay('paid_at')} AND ${mine('discom_id')} GROUP BY 1 ORDER BY 1`);
  const items = await db
    .selectFrom('recon_exceptions as e')
    .leftJoin('bank_credits as c', 'c.id', 'e.credit_id')
    .leftJoin('payment_batches as b', 'b.id', 'e.batch_id')
    .leftJoin('organisations as o', 'o.id', 'e.org_id')
    .select(['e.id', 'e.reason', 'e.amount_paise', 'c.utr', 'b.reference', 'o.name', 'e.created_at', 'e.detail'])
    .where('e.status', '=', 'open')
    .where(sql<boolean>`(e.created_at AT TIME ZONE ${IST})::date <= ${day}::date`)
    .$if(discomId !== null, (qb) => qb.where('e.discom_id', '=', discomId!))
    .orderBy('e.id')
    .limit(5000)
    .execute();
  const named = <K extends string>(rows: { count: number; amountPaise: string; key: string }[], k: K) => rows.map((r) => ({ [k]: r.key, count: r.count, amountPaise: r.amountPaise }) as { [P in K]: string } & { count: number; amountPaise: string });
  return {
    day,
    discom: await discomCode(db, discomId),
    received: named(received, 'mode'),
    credits: named(credits, 'status'),
    settlements: discomId === null ? { count: st[0]!.n, amountPaise: st[0]!.s, feesPaise: st[0]!.f, inStatement: st[0]!.m } : null,
    statementLines: named(lines, 'status'),
    exceptionsOpened: named(opened, 'reason'),
    exceptionsResolved: named(resolved, 'resolution'),
    exceptionsOpen: named(open, 'reason'),
    postings: named(postings, 'status'),
    openItems: items.map((i) => ({ id: i.id.toString(), reason: i.reason, amountPaise: i.amount_paise.toString(), utr: i.utr, reference: i.reference, organisation: i.name, createdAt: i.created_at.toISOString(), detail: i.detail })),
  };
}

// ---- the collections dashboard ----------------------------------------------------------------

export interface Collections {
  from: string;
  to: string;
  /** The discom reported on; null: both (the holding company). */
  discom: string | null;
  totals: { count: number; amountPaise: string };
  byDay: { day: string; online: string; rtgsNeft: string }[];
  byMode: { mode: string; count: number; amountPaise: string }[];
  byOrgType: { type: string; count: number; amountPaise: string }[];
  byDivision: { discom: string; circle: string; division: string; amountPaise: string; connections: number }[];
  topDues: { orgId: string; organisation: string; type: string; connections: number; outstandingPaise: string }[];
  pendingTagRequests: number;
  postings: { pending: number; retrying: number; rejected: number };
  openExceptions: { count: number; amountPaise: string };
}

export async function collections(db: Db, from: string, to: string, discomId: bigint | null = null): Promise<Collections> {
  const range = sql<boolean>`(p.captured_at AT TIME ZONE ${IST})::date BETWEEN ${from}::date AND ${to}::date`;
  const mine = (col: string) => (discomId === null ? sql<boolean>`true` : sql<boolean>`${sql.ref(col)} = ${discomId}`);
  const payments = paid(discomId, range);
  const { rows: byDay } = await sql<{ day: string; online: string; rtgs: string }>`
    SELECT to_char((p.captured_at AT TIME ZONE ${IST})::date, 'YYYY-MM-DD') AS day,
           coalesce(sum(p.amount_paise) FILTER (WHERE p.challan_id IS NULL), 0)::text AS online,
           coalesce(sum(p.amount_paise) FILTER (WHERE p.challan_id IS NOT NULL), 0)::text AS rtgs
      FROM (${payments}) p GROUP BY 1 ORDER BY 1`.execute(db);
  const { rows: byMode } = await sql<{ mode: string; n: number; s: string }>`
    SELECT CASE WHEN p.challan_id IS NULL THEN 'online' ELSE 'rtgs_neft' END AS mode, count(*)::int AS n, sum(p.amount_paise)::text AS s
      FROM (${payments}) p GROUP BY 1 ORDER BY 1`.execute(db);
  const { rows: byType } = await sql<{ type: string; n: number; s: string }>`
    SELECT o.type, count(*)::int AS n, sum(p.amount_paise)::text AS s
      FROM (${payments}) p JOIN organisations o ON o.id = p.org_id GROUP BY 1 ORDER BY 3 DESC`.execute(db);
  const { rows: byDivision } = await sql<{ discom: string; circle: string; division: string; s: string; n: number }>`
    SELECT dc.code AS discom, ci.name AS circle, dv.name AS division, sum(a.amount_paise)::text AS s, count(DISTINCT a.connection_id)::int AS n
      FROM allocations a JOIN payments p ON p.id = a.payment_id
      JOIN connections c ON c.id = a.connection_id JOIN subdivisions sd ON sd.id = c.subdivision_id
      JOIN divisions dv ON dv.id = sd.division_id JOIN circles ci ON ci.id = dv.circle_id JOIN discoms dc ON dc.id = c.discom_id
     WHERE a.connection_id IS NOT NULL AND ${range} AND ${mine('c.discom_id')}
     GROUP BY 1, 2, 3 ORDER BY sum(a.amount_paise) DESC LIMIT 200`.execute(db);
  const { rows: top } = await sql<{ id: bigint; name: string; type: string; n: number; s: string }>`
    SELECT o.id, o.name, o.type, count(*)::int AS n, sum(d.balance_paise)::text AS s
      FROM connection_dues d JOIN organisations o ON o.id = d.org_id WHERE d.balance_paise > 0 AND ${mine('d.discom_id')}
     GROUP BY o.id, o.name, o.type ORDER BY sum(d.balance_paise) DESC LIMIT 10`.execute(db);
  const tags = await db
    .selectFrom('tags as t')
    .innerJoin('connections as c', 'c.id', 't.connection_id')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('t.status', '=', 'requested')
    .$if(discomId !== null, (q) => q.where('c.discom_id', '=', discomId!))
    .executeTakeFirstOrThrow();
  const { pending, retrying, rejected } = await postingCounts(db, discomId);
  const ex = await db
    .selectFrom('recon_exceptions')
    .select([sql<number>`count(*)::int`.as('n'), sql<string>`coalesce(sum(amount_paise), 0)::text`.as('s')])
    .where('status', '=', 'open')
    .$if(discomId !== null, (q) => q.where('discom_id', '=', discomId!))
    .executeTakeFirstOrThrow();
  const total = byMode.reduce((s, m) => ({ count: s.count + m.n, amount: s.amount + BigInt(m.s) }), { count: 0, amount: 0n });
  return {
    from,
    to,
    discom: await discomCode(db, discomId),
    totals: { count: total.count, amountPaise: total.amount.toString() },
    byDay: byDay.map((d) => ({ day: d.day, online: d.online, rtgsNeft: d.rtgs })),
    byMode: byMode.map((m) => ({ mode: m.mode, count: m.n, amountPaise: m.s })),
    byOrgType: byType.map((t) => ({ type: t.type, count: t.n, amountPaise: t.s })),
    byDivision: byDivision.map((d) => ({ discom: d.discom, circle: d.circle, division: d.division, amountPaise: d.s, connections: d.n })),
    topDues: top.map((t) => ({ orgId: t.id.toString(), organisation: t.name, type: t.type, connections: t.n, outstandingPaise: t.s })),
    pendingTagRequests: tags.n,
    postings: { pending, retrying, rejected },
    openExceptions: { count: ex.n, amountPaise: ex.s },
  };
}
