import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { signWebhook } from '../src/adapters/gateway/razorpay-protocol.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { createBatch } from '../src/modules/payments/batches.ts';
import { receiveWebhook, type ConfirmDeps } from '../src/modules/payments/confirm.ts';
import { buildGateway, SANDBOX_KEY_ID } from '../src/modules/payments/gateway.ts';
import { checkInvariants } from '../src/modules/payments/invariants.ts';
import { financialYear } from '../src/modules/payments/rules.ts';
import { istDay } from '../src/modules/dues/query.ts';
import { loadConfig } from '../src/platform/config.ts';
import type { Database, RawClient } from '../src/platform/db/database.ts';
import type { UserPrincipal } from '../src/platform/principal.ts';
import { machine, record, seconds } from './lib.ts';
import { ensurePgDatabase, pgliteStore, pgStore, QueryTimer, withCopy, type Store } from './stores.ts';

/**
 * Settlement and webhooks, each beside a raw-SQL baseline in the same process:
 *
 *   1. One payment batch of 1,00,000 bills (the Education Department's connections with
 *      something due), from its signed payment.captured webhook to the committed allocations,
 *      receipts, ledger and postings: receiveWebhook as the route calls it (inbox insert,
 *      signature, parse, the order's row lock, the payment recorded, settlePayment, commit).
 *      createBatch over the same connections is timed on its own, as the setup.
 *   2. Webhooks per second: N batches of 5 bills (the Public Health Engineering Department's),
 *      each with its order; their payment.captured and order.paid webhooks, plus 20 % sent
 *      twice, shuffled, through receiveWebhook with C at a time (p50/p95 per webhook).
 *
 * The baselines run on a copy of the database taken after the batches were made (CREATE
 * DATABASE … TEMPLATE on PostgreSQL, a copy of the data folder for PGlite), so they do the same
 * work, triggers included (the dues refresh on the connections UPDATE, the batch items closed
 * with the batch): hand-written set-based SQL with no application logic, one transaction per
 * webhook (an inbox INSERT … ON CONFLICT DO NOTHING, an INSERT into payments, and one statement
 * of data-modifying CTEs: allocations, receipt numbers by row_number(), receipts, the ledger
 * transaction and entries, postings, balances, the payment, order and batch marked).
 * After each run the money invariants are checked (checkInvariants) on both copies.
 *
 * The seeded data can be kept between runs (--keep: PostgreSQL database
 * `sangrahan_bench_settle_<connections>_<months>`, PGlite folder
 * /tmp/sangrahan-bench-settle-pglite-<connections>_<months>; BENCH_SETTLE_NAME names them
 * otherwise); --seed-only loads it and stops.
 */

const { values } = parseArgs({
  options: {
    bills: { type: 'string', default: '100000' },
    connections: { type: 'string' },
    months: { type: 'string', default: '1' },
    batches: { type: 'string', default: '2000' },
    'pglite-batches': { type: 'string', default: '1000' },
    'per-batch': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    engines: { type: 'string', default: 'postgres,pglite' },
    keep: { type: 'boolean', default: false },
    'seed-only': { type: 'boolean', default: false },
  },
});
// Loading the data set once and measuring later: --seed-only keeps it (as --keep does) and stops.
if (values['seed-only']) values.keep = true;
const BILLS = Number(values.bills);
// 8.7 % of the demo connections belong to the Education Department and 69 % of those owe
// something: 17.5 connections per bill to settle leave a margin.
const CONNECTIONS = Number(values.connections ?? Math.ceil((BILLS * 17.5) / 10_000) * 10_000);
// Settlement reads a connection's current bill and balance, not its history: one month of
// bills by default keeps the 17,50,000-connection load to minutes (--months 12 for the full set).
const MONTHS = Number(values.months);
const PER_BATCH = Number(values['per-batch']);
const CONCURRENCY = Number(values.concurrency);
const AS_OF = new Date('2026-11-20T06:30:00Z');
// Names of the databases (and PGlite folders, with '-'): BENCH_SETTLE_NAME sets another.
const NAME = process.env.BENCH_SETTLE_NAME ?? 'sangrahan_bench_settle';
const DIR = `/tmp/${NAME.replaceAll('_', '-')}`;
// Money arrives half an hour later the same (IST) day: bills due today or later earn their rebate.
const CAPTURED_AT = new Date('2026-11-20T07:00:00Z');
const THRESHOLDS = { lowPct: 30, highPct: 10 };
const META = { requestId: 'bench-settle', ip: '127.0.0.1', userAgent: 'bench/settle.ts' };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const dur = (x: number) => (x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`);
const lakh = (n: number | bigint) => n.toLocaleString('en-IN');

// ---- data sets: a seeded base, and copies of it ------------------------------------------------

/** The base: seeded, tagged and vacuumed. Kept (and reused) with --keep; else a throwaway. */
async function baseStore(engine: 'postgres' | 'pglite'): Promise<{ store: Store; fresh: boolean }> {
  const tag = `${CONNECTIONS}_${MONTHS}`;
  if (engine === 'pglite') {
    const dir = values.keep ? `${DIR}-pglite-${tag}` : fs.mkdtempSync(`${DIR}-`);
    return { store: pgliteStore(dir, DIR), fresh: !fs.existsSync(`${dir}/pgdata/PG_VERSION`) };
  }
  const name = values.keep ? `${NAME}_${tag}` : `${NAME}_${randomBytes(4).toString('hex')}`;
  const store = pgStore(name, { prefix: NAME, poolMax: 10 });
  return { store, ...(await ensurePgDatabase(name, store, 'connections')) };
}

async function seedBase(store: Store, engine: string): Promise<void> {
  const d = await store.open(4);
  try {
    const t0 = Date.now();
    let shown = 0;
    const onProgress = (done: number) => {
      if (done - shown >= 250_000) {
        shown = done;
        console.log(`    ${engine}: ${lakh(done)} loaded after ${seconds(Date.now() - t0)}`);
      }
    };
    await seedDemo(d, { seed: 11, connections: CONNECTIONS, asOf: AS_OF, chunkSize: 20000, onProgress, ...(MONTHS === 12 ? {} : { months: MONTHS }) });
    console.log(`  ${engine}: ${lakh(CONNECTIONS)} connections with ${MONTHS} months of bills loaded in ${seconds(Date.now() - t0)}`);
    const t1 = Date.now();
    // Every connection of the Education Department's (the big batch) and enough of Public
    // Health Engineering's (the webhook batches; 69 % of connections owe something).
    const edu = await tagDemoConnections(d, { departmentCode: 'BR-EDU', count: CONNECTIONS });
    const phed = await tagDemoConnections(d, { departmentCode: 'BR-PHED', count: Math.ceil((Number(values.batches) * PER_BATCH) / 0.55) });
    console.log(`  ${engine}: ${lakh(edu)} + ${lakh(phed)} connections tagged in ${seconds(Date.now() - t1)}`);
    // The steady state autovacuum leaves (and no autovacuum during the timed runs).
    const t2 = Date.now();
    await d.withClient(async (c) => {
      if (engine === 'postgres') return c.exec('VACUUM (ANALYZE)');
      await c.exec('VACUUM (ANALYZE) connections, connection_dues, tags, dues_org_months, dues_versions');
      await c.exec('ANALYZE');
    });
    console.log(`  ${engine}: vacuumed and analysed in ${seconds(Date.now() - t2)}`);
  } finally {
    await d.close();
  }
}

// ---- setup: the batches, their orders, the webhooks -----------------------------------------

interface Hook {
  batchId: bigint;
  orderId: string;
  paymentId: string;
  eventId: string;
  event: 'payment.captured' | 'order.paid';
  amount: bigint;
  body: Buffer;
}

const orderIdOf = (batchId: bigint) => `order_Bench${batchId.toString().padStart(9, '0')}`;
const paymentIdOf = (batchId: bigint) => `pay_Bench${batchId.toString().padStart(9, '0')}`;

function webhookBody(event: Hook['event'], batchId: bigint, amount: bigint): Buffer {
  const created = Math.floor(CAPTURED_AT.getTime() / 1000);
  const payment = {
    id: paymentIdOf(batchId), entity: 'payment', amount: Number(amount), currency: 'INR', status: 'captured', order_id: orderIdOf(batchId),
    invoice_id: null, international: false, method: 'upi', amount_refunded: 0, refund_status: null, captured: true,
    description: 'Sangrahan sandbox payment', card_id: null, bank: null, wallet: null, vpa: 'payer@upi', email: 'payer@example.in',
    contact: '+919999999999', notes: [], fee: Number((amount * 2n) / 100n), tax: Number((amount * 36n) / 10_000n),
    error_code: null, error_description: null, created_at: created - 60,
  };
  const order = { id: orderIdOf(batchId), entity: 'order', amount: Number(amount), amount_paid: Number(amount), amount_due: 0, currency: 'INR', receipt: `bench-${batchId}`, offer_id: null, status: 'paid', attempts: 1, notes: {}, created_at: created - 120 };
  const payload = event === 'order.paid' ? { payment: { entity: payment }, order: { entity: order } } : { payment: { entity: payment } };
  return Buffer.from(JSON.stringify({ entity: 'event', account_id: 'acc_SangrahanSbx01', event, contains: event === 'order.paid' ? ['payment', 'order'] : ['payment'], payload, created_at: created }));
}

async function principalOf(d: Database, departmentCode: string): Promise<UserPrincipal> {
  const u = await d.db
    .selectFrom('users as u')
    .innerJoin('organisations as o', 'o.id', 'u.org_id')
    .select(['u.id', 'u.login_id', 'u.name', 'u.org_id'])
    .where('o.department_code', '=', departmentCode)
    .where('u.role', '=', 'org_admin')
    .where('u.office_id', 'is', null)
    .orderBy('u.id')
    .executeTakeFirstOrThrow();
  return { kind: 'user', userId: u.id, loginId: u.login_id, name: u.name, role: 'org_admin', orgId: u.org_id, officeId: null, officePath: null, discomId: null, holding: false, sessionId: 'bench', stage: 'full', csrfToken: 'bench' };
}

/** Connections of the organisation with something due, not in an open batch. */
async function payable(d: Database, orgId: bigint, n: number): Promise<bigint[]> {
  const { rows } = await sql<{ connection_id: bigint }>`
    SELECT d.connection_id FROM connection_dues d
     WHERE d.org_id = ${orgId} AND d.balance_paise > 10000
       AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
     ORDER BY d.connection_id LIMIT ${n}`.execute(d.db);
  if (rows.length < n) throw new Error(`only ${rows.length} connections with something due; ${n} needed (seed more connections)`);
  return rows.map((r) => r.connection_id);
}

async function makeBatch(d: Database, p: UserPrincipal, ids: bigint[]): Promise<{ id: bigint; total: bigint }> {
  const id = await d.db.transaction().execute((trx) =>
    createBatch(trx, { orgId: p.orgId!, officePath: null }, p, { selectionId: null, items: ids.map((c) => ({ connectionId: c, amountPaise: null })), budgetHead: null, sanctionRef: null }, istDay(AS_OF), THRESHOLDS, META),
  );
  const b = await d.db.selectFrom('payment_batches').select(['status', 'total_paise']).where('id', '=', id).executeTakeFirstOrThrow();
  if (b.status !== 'ready') throw new Error(`batch ${id} is ${b.status}`);
  return { id, total: b.total_paise };
}

/** Each batch gets its gateway order, and waits for the money. */
async function openOrders(d: Database, batchIds: bigint[]): Promise<void> {
  const ids = batchIds.map(String);
  await sql`INSERT INTO payment_attempts (batch_id, org_id, gateway, order_id, receipt, amount_paise)
            SELECT b.id, b.org_id, 'sandbox', 'order_Bench' || lpad(b.id::text, 9, '0'), 'bench-' || b.id, b.total_paise
              FROM payment_batches b WHERE b.id = ANY(${ids}::bigint[])`.execute(d.db);
  await sql`UPDATE payment_batches SET status = 'payment_pending', status_changed_at = now() WHERE id = ANY(${ids}::bigint[])`.execute(d.db);
}

interface Setup {
  big: { id: bigint; total: bigint; hook: Hook };
  hooks: Hook[];
  smallBatches: bigint[];
}

/** The batches (made once per data set, kept with it): the big one, then the small ones. */
async function makeBatches(d: Database, engine: string, smallCount: number): Promise<void> {
  const edu = await principalOf(d, 'BR-EDU');
  const phed = await principalOf(d, 'BR-PHED');
  // The department's approval threshold would send a batch this large to an approver.
  await d.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', 'in', [edu.orgId!, phed.orgId!]).execute();
  const ids = await payable(d, edu.orgId!, BILLS);
  const t0 = performance.now();
  const big = await makeBatch(d, edu, ids);
  const createBatchMs = performance.now() - t0;
  console.log(`  ${engine}: createBatch of ${lakh(BILLS)} bills (quote, checks, tags held, items, audit) ${seconds(createBatchMs)}; total ₹${lakh(big.total / 100n)}`);

  const smallIds = await payable(d, phed.orgId!, smallCount * PER_BATCH);
  const t1 = performance.now();
  const small: bigint[] = [];
  for (let i = 0; i < smallCount; i++) small.push((await makeBatch(d, phed, smallIds.slice(i * PER_BATCH, (i + 1) * PER_BATCH))).id);
  const smallMs = performance.now() - t1;
  console.log(`  ${engine}: ${lakh(smallCount)} batches of ${PER_BATCH} bills made in ${seconds(smallMs)} (${ms(smallMs / smallCount)} ms each)`);
  await openOrders(d, [big.id, ...small]);
  await d.withClient((c) => c.exec('VACUUM (ANALYZE) payment_batches, payment_batch_items, payment_attempts, audit_log, audit_chains'));
}

/** The batches waiting for their webhooks, and the webhooks (the same on every copy). */
async function loadSetup(d: Database): Promise<Setup | null> {
  const rows = await d.db
    .selectFrom('payment_batches as b')
    .innerJoin('payment_attempts as a', 'a.batch_id', 'b.id')
    .select(['b.id', 'b.total_paise', 'b.item_count'])
    .where('a.order_id', 'like', 'order_Bench%')
    .where('b.status', '=', 'payment_pending')
    .orderBy('b.id')
    .execute();
  const bigRow = rows.find((r) => r.item_count > PER_BATCH);
  if (!bigRow) return null;
  const small = rows.filter((r) => r.item_count <= PER_BATCH);
  const hook = (event: Hook['event'], batchId: bigint, amount: bigint): Hook => ({
    batchId, orderId: orderIdOf(batchId), paymentId: paymentIdOf(batchId), event, amount, body: webhookBody(event, batchId, amount),
    eventId: `evt_${event === 'order.paid' ? 'Paid' : 'Capt'}${batchId.toString().padStart(9, '0')}`,
  });
  // Both events of each order, a fifth of them delivered twice, shuffled (deterministically).
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const hooks: Hook[] = [];
  for (const r of small) {
    for (const ev of ['payment.captured', 'order.paid'] as const) {
      const h = hook(ev, r.id, r.total_paise);
      hooks.push(h);
      if (rnd() < 0.2) hooks.push(h);
    }
  }
  for (let i = hooks.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [hooks[i], hooks[j]] = [hooks[j]!, hooks[i]!];
  }
  return { big: { id: bigRow.id, total: bigRow.total_paise, hook: hook('payment.captured', bigRow.id, bigRow.total_paise) }, hooks, smallBatches: small.map((r) => r.id) };
}

// ---- the product's path ----------------------------------------------------------------------


async function send(deps: ConfirmDeps, secret: string, h: Hook): Promise<{ status: string; outcome: string }> {
  return receiveWebhook(deps, h.body, {
    'content-type': 'application/json',
    'x-razorpay-signature': signWebhook(h.body, secret),
    'x-razorpay-event-id': h.eventId,
    'user-agent': 'Razorpay-Webhook/v1',
  });
}

// ---- the baseline: hand-written SQL ---------------------------------------------------------------

/**
 * One webhook in raw SQL, in one transaction: the inbox row (a duplicate stops here), the
 * payment (a second event of a recorded payment stops here), then one statement doing every
 * settlement write over the batch's items. Returns the time of each of the three statements.
 */
async function baselineWebhook(c: RawClient, h: Hook): Promise<{ outcome: string; steps: number[] }> {
  const steps: number[] = [];
  const timed = async <R extends Record<string, unknown>>(q: string, p: unknown[]) => {
    const t = performance.now();
    const r = await c.query<R>(q, p);
    steps.push(performance.now() - t);
    return r;
  };
  await c.exec('BEGIN');
  try {
    const ev = await timed(
      `INSERT INTO webhook_events (provider, event_id, event_type, order_id, gateway_payment_id, raw_body, headers, verified, status, outcome, processed_at)
       VALUES ('sandbox', $1, $2, $3, $4, $5, $6::jsonb, true, 'processed', 'settled', now())
       ON CONFLICT DO NOTHING RETURNING id`,
      [h.eventId, h.event, h.orderId, h.paymentId, h.body, JSON.stringify({ 'content-type': 'application/json', 'x-razorpay-event-id': h.eventId })],
    );
    if (!ev.rows.length) {
      await c.exec('COMMIT');
      return { outcome: 'duplicate', steps };
    }
    const pay = await timed<{ id: string; org_id: string }>(
      `INSERT INTO payments (org_id, batch_id, attempt_id, gateway, gateway_payment_id, amount_paise, method, status, captured_at, confirmed_by, settled_at)
       SELECT a.org_id, a.batch_id, a.id, a.gateway, $2, $3, 'upi', 'captured', $4, 'webhook', now()
         FROM payment_attempts a WHERE a.gateway = 'sandbox' AND a.order_id = $1
       ON CONFLICT DO NOTHING RETURNING id::text, org_id::text`,
      [h.orderId, h.paymentId, h.amount.toString(), CAPTURED_AT],
    );
    if (!pay.rows.length) {
      await c.exec('COMMIT');
      return { outcome: 'duplicate', steps };
    }
    const fy = financialYear(istDay(CAPTURED_AT));
    await timed(
      `WITH parts AS (
         SELECT i.connection_id, i.discom_id, dc.code AS discom_code, i.consumer_no, d.bill_id, c.balance_paise AS before, i.amount_paise AS money, x.rebate,
                CASE WHEN x.rebate > 0 THEN c.balance_paise - x.rebate ELSE least(i.amount_paise, greatest(c.balance_paise, 0)) END AS dues
           FROM payment_batch_items i
           JOIN connections c ON c.id = i.connection_id
           JOIN discoms dc ON dc.id = i.discom_id
           LEFT JOIN connection_dues d ON d.connection_id = i.connection_id
           CROSS JOIN LATERAL (SELECT CASE WHEN i.rebate_paise > 0 AND $5::date <= i.due_date AND i.amount_paise >= c.balance_paise - i.rebate_paise
                                           THEN i.rebate_paise ELSE 0 END AS rebate) x
          WHERE i.batch_id = $1
       ), series AS (
         INSERT INTO receipt_series AS s (discom_id, fy, last_no)
         SELECT discom_id, $6, count(*) FROM parts GROUP BY discom_id ORDER BY discom_id
         ON CONFLICT (discom_id, fy) DO UPDATE SET last_no = s.last_no + EXCLUDED.last_no
         RETURNING discom_id, last_no
       ), numbered AS (
         SELECT p.*, s.last_no - count(*) OVER (PARTITION BY p.discom_id) + row_number() OVER (PARTITION BY p.discom_id ORDER BY p.connection_id) AS seq
           FROM parts p JOIN series s USING (discom_id)
       ), alloc AS (
         INSERT INTO allocations (payment_id, batch_id, org_id, connection_id, kind, amount_paise)
         SELECT $2, $1, $3, n.connection_id, k.kind, k.amount
           FROM numbered n CROSS JOIN LATERAL (VALUES ('dues', n.dues), ('advance', n.money - n.dues)) k(kind, amount) WHERE k.amount > 0
       ), rec AS (
         INSERT INTO receipts (discom_id, fy, seq, receipt_no, payment_id, batch_id, org_id, connection_id, consumer_no, bill_id,
                               amount_paise, advance_paise, rebate_paise, balance_before_paise, balance_after_paise, issued_at)
         SELECT discom_id, $6, seq, discom_code || '/' || $6 || '/' || lpad(seq::text, 8, '0'), $2, $1, $3, connection_id, consumer_no, bill_id,
                money, money - dues, rebate, before, before - money - rebate, $4
           FROM numbered
         RETURNING id, batch_id, org_id, connection_id, discom_id, consumer_no, amount_paise, rebate_paise, issued_at, receipt_no
       ), txn AS (
         INSERT INTO ledger_transactions (kind, org_id, payment_id, batch_id, memo)
         SELECT 'payment_settled', $3, $2, $1, b.reference || ' ' || $7 FROM payment_batches b WHERE b.id = $1
         RETURNING id
       ), entries AS (
         INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
         SELECT txn.id, 'gateway_clearing', NULL, $8::bigint FROM txn
         UNION ALL SELECT txn.id, 'consumer_receivable', n.connection_id, -(n.money + n.rebate) FROM txn, numbered n
         UNION ALL SELECT txn.id, 'rebate_expense', NULL, sum(n.rebate) FROM txn, numbered n GROUP BY txn.id HAVING sum(n.rebate) > 0
       ), posts AS (
         INSERT INTO postings (payment_id, receipt_id, batch_id, org_id, connection_id, discom_id, consumer_no, kind, amount_paise, paid_at, reference)
         SELECT $2, r.id, r.batch_id, r.org_id, r.connection_id, r.discom_id, r.consumer_no, k.kind,
                CASE k.kind WHEN 'payment' THEN r.amount_paise ELSE r.rebate_paise END, r.issued_at, r.receipt_no
           FROM rec r CROSS JOIN (VALUES ('payment'), ('rebate')) AS k(kind)
          WHERE k.kind = 'payment' OR r.rebate_paise > 0
       ), attempt AS (
         UPDATE payment_attempts SET status = 'paid' WHERE gateway = 'sandbox' AND order_id = $7
       ), batch AS (
         UPDATE payment_batches SET status = 'paid', paid_paise = $8::bigint, settled_at = now(), status_changed_at = now() WHERE id = $1
       )
       UPDATE connections c SET balance_paise = c.balance_paise - n.money - n.rebate, in_flight_paise = c.in_flight_paise + n.money + n.rebate
         FROM numbered n WHERE c.id = n.connection_id`,
      [h.batchId.toString(), pay.rows[0]!.id, pay.rows[0]!.org_id, CAPTURED_AT, istDay(CAPTURED_AT), fy, h.orderId, h.amount.toString()],
    );
    await c.exec('COMMIT');
    return { outcome: 'settled', steps };
  } catch (e) {
    await c.exec('ROLLBACK');
    throw e;
  }
}

// ---- checks ---------------------------------------------------------------------------------

interface Counts {
  receipts: number;
  allocations: number;
  postings: number;
  entries: number;
  paid: number;
  payments: number;
}

async function counts(d: Database, batchIds: bigint[]): Promise<Counts> {
  const ids = batchIds.map(String);
  const { rows } = await sql<Counts>`
    SELECT (SELECT count(*)::int FROM receipts WHERE batch_id = ANY(${ids}::bigint[])) AS receipts,
           (SELECT count(*)::int FROM allocations WHERE batch_id = ANY(${ids}::bigint[])) AS allocations,
           (SELECT count(*)::int FROM postings WHERE batch_id = ANY(${ids}::bigint[])) AS postings,
           (SELECT count(*)::int FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id WHERE t.batch_id = ANY(${ids}::bigint[])) AS entries,
           (SELECT count(*)::int FROM payment_batches WHERE id = ANY(${ids}::bigint[]) AND status = 'paid') AS paid,
           (SELECT count(*)::int FROM payments WHERE batch_id = ANY(${ids}::bigint[])) AS payments`.execute(d.db);
  return rows[0]!;
}

async function verify(d: Database, engine: string, what: string, batchIds: bigint[]): Promise<Counts> {
  const t = Date.now();
  // As autovacuum would soon after such a load. Without fresh statistics one of the checks
  // (each receipt's ledger credit) is planned as a nested loop over all the payment's entries:
  // quadratic, minutes for a payment of 1,00,000 receipts.
  await d.withClient((c) => c.exec('ANALYZE receipts, allocations, postings, ledger_entries, ledger_transactions, payments, payment_batches, payment_batch_items'));
  await checkInvariants(d.db);
  console.log(`  ${engine}: invariants hold after the ${what} (checked in ${seconds(Date.now() - t)})`);
  const c = await counts(d, batchIds);
  if (c.paid !== batchIds.length || c.payments !== batchIds.length) throw new Error(`${engine} ${what}: ${c.paid} of ${batchIds.length} batches paid, ${c.payments} payments`);
  return c;
}

const show = (c: Counts) => `${lakh(c.receipts)} receipts, ${lakh(c.allocations)} allocations, ${lakh(c.postings)} postings, ${lakh(c.entries)} ledger entries`;

/** The same pages for both copies before their timed runs: the batch's rows, dues, bills and indexes. */
async function warm(d: Database, batchIds: bigint[]): Promise<void> {
  await d.withClient(async (c) => {
    await c.query(
      `SELECT count(*), sum(c.balance_paise), sum(d.balance_paise), sum(b.units)
         FROM payment_batch_items i JOIN connections c ON c.id = i.connection_id
         LEFT JOIN connection_dues d ON d.connection_id = i.connection_id
         LEFT JOIN bills b ON b.connection_id = i.connection_id
        WHERE i.batch_id = ANY($1::bigint[])`,
      [batchIds.map(String)],
    );
    await c.exec('CHECKPOINT');
  });
}

async function runQueue(hooks: Hook[], workers: number, one: (w: number, h: Hook) => Promise<string>): Promise<{ wallMs: number; lat: number[]; outcomes: Map<string, number> }> {
  const lat: number[] = [];
  const outcomes = new Map<string, number>();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (next < hooks.length) {
        const h = hooks[next++]!;
        const t = performance.now();
        const o = await one(w, h);
        lat.push(performance.now() - t);
        outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      }
    }),
  );
  return { wallMs: performance.now() - t0, lat, outcomes };
}

const outcomesOf = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');

// ---- the run --------------------------------------------------------------------------------

async function run(engine: 'postgres' | 'pglite'): Promise<void> {
  const concurrency = engine === 'postgres' ? CONCURRENCY : 1;
  const smallCount = Number(engine === 'postgres' ? values.batches : values['pglite-batches']);
  const { store: base, fresh } = await baseStore(engine);
  try {
    if (fresh) await seedBase(base, engine);
    else console.log(`  ${engine}: reusing the kept data set ${base.label}`);
    let loaded: Setup | null;
    {
      const d = await base.open();
      try {
        loaded = await loadSetup(d);
        if (!loaded) {
          await makeBatches(d, engine, smallCount);
          loaded = await loadSetup(d);
        }
      } finally {
        await d.close();
      }
    }
    if (values['seed-only']) return;
    const setup = loaded!;

    // 1 and 2 through the product.
    const timer = new QueryTimer();
    const hookTimer = new QueryTimer();
    let appMs!: number;
    let appCounts!: Counts;
    let app2!: Awaited<ReturnType<typeof runQueue>>;
    let appCountsSmall!: Counts;
    await withCopy(base, engine, 'product', async (d) => {
        const config = loadConfig({ LOG_LEVEL: 'silent', DEMO_SEED: 'false' });
        const { gateway, sandbox } = await buildGateway(config, d.db);
        const secret = (await sandbox!.merchant(config.razorpayKeyId ?? SANDBOX_KEY_ID)).webhookSecret;
        const deps: ConfirmDeps = { db: d.db.withPlugin(timer), gateway };
        await warm(d, [setup.big.id]);
        timer.on = true;
        const t0 = performance.now();
        const r = await send(deps, secret, setup.big.hook);
        appMs = performance.now() - t0;
        timer.on = false;
        if (r.outcome !== 'settled') throw new Error(`the big webhook: ${JSON.stringify(r)}`);
        appCounts = await verify(d, engine, 'settlement', [setup.big.id]);

        await warm(d, setup.smallBatches);
        hookTimer.on = true;
        const hookDeps: ConfirmDeps = { db: d.db.withPlugin(hookTimer), gateway };
        app2 = await runQueue(setup.hooks, concurrency, async (_w, h) => {
          const x = await send(hookDeps, secret, h);
          return `${x.status}/${x.outcome}`;
        });
        hookTimer.on = false;
        appCountsSmall = await verify(d, engine, 'webhooks', setup.smallBatches);
    });

    // The baselines on the copy.
    let baseMs!: number;
    let baseSteps!: number[];
    let baseCounts!: Counts;
    let base2!: Awaited<ReturnType<typeof runQueue>>;
    let baseCountsSmall!: Counts;
    const baseStepSums = [0, 0, 0];
    await withCopy(base, engine, 'baseline', async (d) => {
        await warm(d, [setup.big.id]);
        const r = await d.withClient(async (c) => {
          const t0 = performance.now();
          const x = await baselineWebhook(c, setup.big.hook);
          return { ms: performance.now() - t0, ...x };
        });
        baseMs = r.ms;
        baseSteps = r.steps;
        baseCounts = await verify(d, engine, 'baseline settlement', [setup.big.id]);

        await warm(d, setup.smallBatches);
        const clients: RawClient[] = [];
        const releases: (() => void)[] = [];
        const held: Promise<void>[] = [];
        // One connection per worker, held for the run (PGlite: its one session).
        await Promise.all(
          Array.from(
            { length: concurrency },
            () =>
              new Promise<void>((ready) => {
                held.push(
                  d.withClient((c) => {
                    clients.push(c);
                    ready();
                    return new Promise<void>((r) => releases.push(r));
                  }),
                );
              }),
          ),
        );
        try {
          base2 = await runQueue(setup.hooks, concurrency, async (w, h) => {
            const x = await baselineWebhook(clients[w]!, h);
            x.steps.forEach((v, i) => (baseStepSums[i] = (baseStepSums[i] ?? 0) + v));
            return x.outcome;
          });
        } finally {
          for (const r of releases) r();
          await Promise.all(held);
        }
        baseCountsSmall = await verify(d, engine, 'baseline webhooks', setup.smallBatches);
    });

    const accounted = timer.total();
    const hookAccounted = hookTimer.total();
    const n = setup.hooks.length;
    record({ bench: 'settle', id: 'batch', what: `settle one batch of ${lakh(BILLS)} bills (webhook to commit)`, engine, productMs: appMs, baselineMs: baseMs, ratio: appMs / baseMs });
    record({
      bench: 'webhooks',
      id: 'rate',
      what: `${lakh(n)} webhooks (${lakh(setup.smallBatches.length)} batches), ${concurrency} at a time`,
      engine,
      productMs: app2.wallMs,
      baselineMs: base2.wallMs,
      productRate: `${(n / (app2.wallMs / 1000)).toFixed(0)}/s`,
      baselineRate: `${(n / (base2.wallMs / 1000)).toFixed(0)}/s`,
      productP50: pct(app2.lat, 50),
      productP95: pct(app2.lat, 95),
      baselineP50: pct(base2.lat, 50),
      baselineP95: pct(base2.lat, 95),
      ratio: app2.wallMs / base2.wallMs,
    });
    console.log(
      `  ${engine} 1. settlement of ${lakh(BILLS)} bills (webhook to commit): ${seconds(appMs)} | baseline ${seconds(baseMs)} ` +
        `(inbox ${ms(baseSteps[0]!)} ms, payment ${ms(baseSteps[1]!)} ms, settlement statement ${dur(baseSteps[2]!)}) | ratio ${(appMs / baseMs).toFixed(2)}×\n` +
        `      product: ${show(appCounts)}; baseline: ${show(baseCounts)}\n` +
        `      where the product's time goes (per query, compile to result; the rest is JavaScript, commit and waits, ${dur(appMs - accounted)}):\n` +
        timer.top(8) +
        `\n  ${engine} 2. webhooks: ${lakh(n)} (${lakh(setup.smallBatches.length)} batches of ${PER_BATCH} bills: payment.captured + order.paid, ${lakh(n - 2 * setup.smallBatches.length)} sent twice), ${concurrency} at a time\n` +
        `      product: ${(n / (app2.wallMs / 1000)).toFixed(0)}/s, p50 ${ms(pct(app2.lat, 50))} ms, p95 ${ms(pct(app2.lat, 95))} ms (${seconds(app2.wallMs)}; ${outcomesOf(app2.outcomes)})\n` +
        `      baseline: ${(n / (base2.wallMs / 1000)).toFixed(0)}/s, p50 ${ms(pct(base2.lat, 50))} ms, p95 ${ms(pct(base2.lat, 95))} ms (${seconds(base2.wallMs)}; ${outcomesOf(base2.outcomes)}; ` +
        `summed: inbox ${dur(baseStepSums[0]!)}, payment ${dur(baseStepSums[1]!)}, settlement statement ${dur(baseStepSums[2]!)} of ${dur(base2.lat.reduce((s, x) => s + x, 0))})\n` +
        `      ratio (time) ${(app2.wallMs / base2.wallMs).toFixed(2)}×, p95 ${(pct(app2.lat, 95) / pct(base2.lat, 95)).toFixed(2)}×; ` +
        `every batch paid once on both (${show(appCountsSmall)}; baseline ${show(baseCountsSmall)}); invariants hold\n` +
        `      the product's queries over all webhooks (${hookTimer.count()} queries, summed over the ${concurrency} workers, lock waits included; ` +
        `${dur(hookAccounted)} of ${dur(app2.lat.reduce((s, x) => s + x, 0))} in webhooks):\n` +
        hookTimer.top(8),
    );
  } finally {
    if (!values.keep) await base.drop();
  }
}

console.log(`Settlement and webhooks benchmark: ${lakh(BILLS)} bills among ${lakh(CONNECTIONS)} connections (${MONTHS} months of bills); ${machine()}`);
for (const engine of values.engines.split(',') as ('postgres' | 'pglite')[]) await run(engine);
