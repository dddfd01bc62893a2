import { configureParsing, parsePoolSettings } from '../src/platform/parse-pool.ts';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { parseStatements, writeMt940, type ParsedStatement, type StatementLine } from '../src/adapters/bank/statements/index.ts';
import { seedDemo, tagDemoConnections } from '../src/modules/demo/seed.ts';
import { checkInvariants } from '../src/modules/payments/invariants.ts';
import { applyWaitingCredits, importStatementFile, intakeCredit } from '../src/modules/reconciliation/index.ts';
import { vaNumber } from '../src/modules/reconciliation/va.ts';
import type { Database, RawClient } from '../src/platform/db/database.ts';
import type { UserPrincipal } from '../src/platform/principal.ts';
import { machine, record, seconds } from './lib.ts';
import { adminExec, ensurePgDatabase, pgliteStore, pgStore, QueryTimer, withCopy, type Store } from './stores.ts';

/**
 * Bank statement import and matching, beside a raw-SQL baseline in the same process:
 *
 *   1. One MT940 file of N lines (10,00,000 by default) for NBPDCL's collection account, imported
 *      by importStatementFile as the route calls it: parse and balance proof, the statement and
 *      its lines stored (unnest, chunks of 5,000), then matchStatement set-based: not applicable
 *      (debits, zero lines), tier 1 known UTRs and gateway settlements, a bank credit for every
 *      other credit line, its candidate challan by virtual account, batch reference or known
 *      payer account + amount, and the exceptions with their suspense entries. One transaction.
 *   2. Credits applied per second: applyWaitingCredits over the first A credits that have their
 *      one candidate (each its own transaction: the challan locked, amount and deadline checked,
 *      the batch settled, or the credit held with an exception).
 *
 * The data set (not timed): seedDemo (one month of bills) and tagDemoConnections; then, in SQL,
 * C open challans (RTGS/NEFT batches of one owing NBPDCL connection each, payment_pending, with a
 * virtual account from vaNumber), C/2 expired ones, C bank credits already told by a notification
 * (held, each with its open exception and suspense entries), gateway settlements, and a few
 * hundred challans paid through intakeCredit by payers whose accounts tier 2 then knows. The
 * statement mixes, for C = 1,00,000: 95,000 credits naming a challan's virtual account (4 % short,
 * 2 % excess), 5,000 from known payers with the exact amount of one of their organisation's open
 * challans, 3,000 naming virtual accounts no challan has, 1,000 with a mistyped check digit, one
 * credit naming each expired challan's batch reference (1 % naming two; --references N names only
 * N of them, the other lines becoming credits with no candidate), a line confirming each
 * known UTR (0.5 % with another amount), the settlements' payouts, 5 % debits, a few zero lines,
 * 0.1 % repeating a UTR of the file; the rest are credits with no candidate. MT940 carries one
 * currency, so there are no lines in another currency.
 *
 * The baseline runs on a copy of the same prepared database (CREATE DATABASE … TEMPLATE, or a
 * copy of the PGlite folder) and is handed the parsed lines (the parse is timed apart): in one
 * transaction, COPY into a temporary table, one INSERT … SELECT into statement_lines (status,
 * virtual account by regular expression and Luhn check in SQL), ANALYZE, then the same tier-1
 * statements, and one statement of data-modifying CTEs for the rest: candidates from the lines
 * (virtual account, batch references by regexp_matches joined on the reference, known payers),
 * the credits inserted with their final state, the lines marked, exceptions, ledger. Both copies'
 * outcomes (lines, credits, exceptions, ledger transactions by kind) are compared, and the money
 * invariants checked on both.
 *
 * --explain MS logs the plans (EXPLAIN ANALYZE) of statements slower than MS milliseconds on the
 * PostgreSQL copies to the server's log (auto_explain), for finding the slow ones; on PGlite (no
 * auto_explain) it prints the plans of the baseline's slow statements.
 *
 * --keep keeps the prepared data set and the statement file for the next run (PostgreSQL
 * database `sangrahan_bench_statements_<lines>_<challans>`, PGlite folder
 * /tmp/sangrahan-bench-statements-pglite-<lines>_<challans>, the file beside it; BENCH_STATEMENTS_NAME
 * names them otherwise); --seed-only prepares them and stops.
 */

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    challans: { type: 'string', default: '100000' },
    connections: { type: 'string' },
    settlements: { type: 'string' },
    payers: { type: 'string' },
    references: { type: 'string' },
    apply: { type: 'string', default: '2000' },
    engines: { type: 'string', default: 'postgres,pglite' },
    keep: { type: 'boolean', default: false },
    explain: { type: 'string' },
    'seed-only': { type: 'boolean', default: false },
  },
});
if (values['seed-only']) values.keep = true;
const LINES = Number(values.lines);
const CHALLANS = Number(values.challans);
const EXPIRED = Math.floor(CHALLANS / 2);
// Credits naming a batch reference (each an expired challan's batch): all of them by default.
const REFERENCES = Math.min(EXPIRED, Number(values.references ?? EXPIRED));
// Challans paid in the setup through intakeCredit: their payers' accounts are what tier 2 knows.
const PAYERS = Number(values.payers ?? Math.max(18, Math.round(CHALLANS / 500)));
// 28 % of the demo connections are NBPDCL's and owe something.
const CONNECTIONS = Number(values.connections ?? Math.max(10_000, Math.ceil((CHALLANS + PAYERS) / 0.27 / 10_000) * 10_000));
const SETTLEMENTS = Number(values.settlements ?? Math.max(10, Math.round(LINES / 10_000)));
const APPLY = Number(values.apply);
// A 10,00,000-line statement is over the default MAX_STATEMENT_LINES (2,00,000): measured as an
// operator who raised the limit (and the parse worker's time and heap with it) would run it.
await configureParsing({ timeBudgetMs: 1_800_000, maxOldGenerationSizeMb: 8192, limits: { ...parsePoolSettings().limits, maxStatementLines: Math.max(LINES, 200_000) } });
const AS_OF = new Date('2026-11-20T06:30:00Z');
const NAME = process.env.BENCH_STATEMENTS_NAME ?? 'sangrahan_bench_statements';
const DIR = `/tmp/${NAME.replaceAll('_', '-')}`;
const ACCOUNT = { discom: 'NBPDCL', accountNo: '50200011112221', prefix: 'NBPD' };
const FIRST_DAY = '2026-11-01';
const DAYS = 19;
// Expired challans lapsed at the end of 12 November (IST): money for them dated after that is late.
const EXPIRED_UNTIL = new Date('2026-11-12T18:30:00Z');
const META = { requestId: 'bench-statements', ip: '127.0.0.1', userAgent: 'bench/statements.ts' };

const lakh = (n: number | bigint) => n.toLocaleString('en-IN');
const dur = (x: number) => (x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`);

// ---- data sets: a prepared base, and copies of it -------------------------------------------------

const TAG = `${LINES}_${CHALLANS}`;
// The file of a kept data set; another number of batch references makes another file.
const FILE_TAG = `${TAG}${REFERENCES === EXPIRED ? '' : `_refs${REFERENCES}`}`;

/** With --explain: the plans of slow statements, with their timings, in the server's log. */
async function explainSettings(to: string): Promise<void> {
  if (!values.explain) return;
  await adminExec(`ALTER DATABASE ${to} SET session_preload_libraries = 'auto_explain'`);
  for (const [k, v] of [['log_min_duration', `${Number(values.explain)}ms`], ['log_analyze', 'on'], ['log_nested_statements', 'on']]) {
    await adminExec(`ALTER DATABASE ${to} SET auto_explain.${k} = '${v}'`);
  }
}

/** The base: seeded, tagged, prepared and vacuumed. Kept (and reused) with --keep; else a throwaway. */
async function baseStore(engine: 'postgres' | 'pglite'): Promise<{ store: Store; fresh: boolean; file: string | null }> {
  if (engine === 'pglite') {
    const dir = values.keep ? `${DIR}-pglite-${TAG}` : fs.mkdtempSync(`${DIR}-`);
    return { store: pgliteStore(dir, DIR), fresh: !fs.existsSync(`${dir}/pgdata/PG_VERSION`), file: values.keep ? `${DIR}-pglite-${FILE_TAG}.sta` : null };
  }
  const name = values.keep ? `${NAME}_${TAG}` : `${NAME}_${randomBytes(4).toString('hex')}`;
  const store = pgStore(name, { prefix: NAME, poolMax: 4, onCopy: explainSettings });
  const { fresh } = await ensurePgDatabase(name, store, 'challans');
  return { store, fresh, file: values.keep ? `${DIR}-postgres-${FILE_TAG}.sta` : null };
}

/** Seeds and prepares the base; returns what the statement file is made from (read while it is open). */
async function seedBase(store: Store, engine: string): Promise<Fixture> {
  const d = await store.open(4);
  try {
    const t0 = Date.now();
    const n = await d.db.selectFrom('connections').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    // A run stopped during preparation leaves a seeded database: the preparation starts again.
    if (n.n === 0) {
      await seedDemo(d, { seed: 11, connections: CONNECTIONS, asOf: AS_OF, chunkSize: 20000, months: 1 });
      const tagged = await tagDemoConnections(d);
      console.log(`  ${engine}: ${lakh(CONNECTIONS)} connections (one month of bills) loaded, ${lakh(tagged)} tagged, in ${seconds(Date.now() - t0)}`);
    }
    const t1 = Date.now();
    await prepare(d, engine);
    console.log(`  ${engine}: challans, credits and settlements prepared in ${seconds(Date.now() - t1)}`);
    const t2 = Date.now();
    await d.withClient(async (c) => {
      if (engine === 'postgres') return c.exec('VACUUM (ANALYZE)');
      await c.exec('VACUUM (ANALYZE) connections, connection_dues, tags, payment_batches, payment_batch_items, challans, bank_credits, recon_exceptions, ledger_transactions, ledger_entries');
      await c.exec('ANALYZE');
    });
    console.log(`  ${engine}: vacuumed and analysed in ${seconds(Date.now() - t2)}`);
    return await fixture(d);
  } finally {
    await d.close();
  }
}

// ---- setup: challans, known credits, settlements ------------------------------------------------

/**
 * Set-based, bypassing the product where it would be one request per row: the batches, their
 * items and challans; the known credits held with their exceptions and suspense entries; the
 * settlements. The payers' challans are paid through intakeCredit, as a notification would.
 */
async function prepare(d: Database, engine: string): Promise<void> {
  const discom = await d.db.selectFrom('discoms').select('id').where('code', '=', ACCOUNT.discom).executeTakeFirstOrThrow();
  const orgs = await sql<{ id: bigint; user_id: bigint; office_id: bigint | null }>`
    SELECT o.id, (SELECT min(u.id) FROM users u WHERE u.org_id = o.id) AS user_id,
           (SELECT f.id FROM offices f WHERE f.org_id = o.id ORDER BY f.path LIMIT 1) AS office_id
      FROM organisations o WHERE o.status = 'approved' AND EXISTS (SELECT 1 FROM users u WHERE u.org_id = o.id) ORDER BY o.id`.execute(d.db);
  const orgIds = orgs.rows.map((o) => o.id.toString());
  // Owing NBPDCL connections in no open batch: the open challans' and the payers'. Untagged ones
  // are tagged to the organisations in turn (a batch pays an organisation's own connections).
  const need = CHALLANS + PAYERS;
  const { rows: picks } = await sql<{ connection_id: bigint; org_id: bigint | null }>`
    SELECT d.connection_id, d.org_id FROM connection_dues d
     WHERE d.discom_id = ${discom.id} AND d.balance_paise > 0 AND d.bill_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
     ORDER BY d.connection_id LIMIT ${need}`.execute(d.db);
  if (picks.length < need) throw new Error(`only ${picks.length} owing NBPDCL connections; ${need} needed (seed more connections: --connections)`);
  // The expired challans' batches: other NBPDCL connections (their items are closed).
  const { rows: others } = await sql<{ connection_id: bigint; org_id: bigint | null }>`
    SELECT d.connection_id, d.org_id FROM connection_dues d
     WHERE d.discom_id = ${discom.id} AND d.bill_id IS NOT NULL AND NOT (d.connection_id = ANY(${picks.map((p) => p.connection_id.toString())}::bigint[]))
     ORDER BY d.connection_id LIMIT ${EXPIRED}`.execute(d.db);
  const expired = others.length >= EXPIRED ? others : [...others, ...picks.slice(0, EXPIRED - others.length)];
  const all = [...picks, ...expired];
  const orgOf = all.map((p, i) => (p.org_id ?? BigInt(orgIds[(i < picks.length + others.length ? i : i - picks.length - others.length) % orgIds.length]!)).toString());
  // (A connection reused for an expired challan is tagged once.)
  const untagged = all.map((p, i) => (p.org_id === null && i < picks.length + others.length ? i : -1)).filter((i) => i >= 0);
  const vas = all.map((_p, i) => vaNumber(ACCOUNT.prefix, BigInt(i + 1)));
  await d.db.transaction().execute(async (trx) => {
    await sql`
      INSERT INTO tags (org_id, connection_id, office_id, status, method, source, requested_at, activated_at)
      SELECT x.org_id, x.connection_id, (SELECT f.id FROM offices f WHERE f.org_id = x.org_id ORDER BY f.path LIMIT 1), 'active', 'bill_number', 'upload', now(), now()
        FROM unnest(${untagged.map((i) => all[i]!.connection_id.toString())}::bigint[], ${untagged.map((i) => orgOf[i]!)}::bigint[]) AS x(connection_id, org_id)
       WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = x.connection_id AND t.status = 'active')`.execute(trx);
    await sql`
      WITH x AS (
        SELECT u.connection_id, u.org_id, u.va, u.ord > ${need} AS expired, nextval(pg_get_serial_sequence('payment_batches', 'id')) AS batch_id
          FROM unnest(${all.map((p) => p.connection_id.toString())}::bigint[], ${orgOf}::bigint[], ${vas}::text[]) WITH ORDINALITY AS u(connection_id, org_id, va, ord)
      ), d AS (
        SELECT x.*, cd.discom_id, cd.consumer_no, cd.bill_id, cd.bill_month, cd.due_date, greatest(cd.balance_paise, 0) AS outstanding,
               CASE WHEN cd.balance_paise > 0 THEN cd.balance_paise ELSE 100000 + x.connection_id % 900000 END AS amount,
               (SELECT min(u.id) FROM users u WHERE u.org_id = x.org_id) AS user_id
          FROM x JOIN connection_dues cd ON cd.connection_id = x.connection_id
      ), b AS (
        INSERT INTO payment_batches (id, org_id, reference, status, mode, created_by, created_by_label, item_count, total_paise, outstanding_paise, requires_approval)
        SELECT batch_id, org_id, 'PB' || lpad(batch_id::text, 8, '0'), CASE WHEN expired THEN 'expired' ELSE 'payment_pending' END, 'rtgs_neft', user_id, 'bench', 1, amount, outstanding, false
          FROM d
      ), i AS (
        INSERT INTO payment_batch_items (batch_id, connection_id, org_id, discom_id, consumer_no, bill_id, bill_month, due_date, outstanding_paise, amount_paise, open)
        SELECT batch_id, connection_id, org_id, discom_id, consumer_no, bill_id, bill_month, due_date, outstanding, amount, NOT expired FROM d
      )
      INSERT INTO challans (batch_id, org_id, discom_id, va_number, ifsc, bank_name, beneficiary_name, amount_paise, valid_until, status, created_by, created_at)
      SELECT d.batch_id, d.org_id, d.discom_id, d.va, a.ifsc, a.bank_name, a.beneficiary_name, d.amount,
             CASE WHEN d.expired THEN ${EXPIRED_UNTIL}::timestamptz ELSE now() + interval '30 days' END,
             CASE WHEN d.expired THEN 'expired' ELSE 'active' END, d.user_id,
             CASE WHEN d.expired THEN ${EXPIRED_UNTIL}::timestamptz - interval '72 hours' ELSE now() END
        FROM d JOIN collection_accounts a ON a.discom_id = d.discom_id`.execute(trx);
    await sql`SELECT setval('challan_va_seq', ${all.length})`.execute(trx);

    // Credits told by a notification before the statement: held (no challan named), each with
    // its open exception and its money in suspense.
    await sql`
      WITH k AS (
        SELECT g, 'SBINN1' || lpad(g::text, 11, '0') AS utr, (100000 + (g::bigint * 7919) % 4900000) AS amount,
               ${new Date(`${FIRST_DAY}T04:30:00Z`)}::timestamptz + (g % ${DAYS}) * interval '1 day' AS at
          FROM generate_series(1, ${CHALLANS}) g
      ), c AS (
        INSERT INTO bank_credits (utr, amount_paise, mode, credited_at, payer_name, narrative, source, sources, status)
        SELECT utr, amount, 'NEFT', at, 'BENCH PAYER', 'Smart Collect bench ' || utr, 'va_notification', ARRAY['va_notification'], 'held' FROM k
        RETURNING id, utr, amount_paise
      ), e AS (
        INSERT INTO recon_exceptions (reason, credit_id, amount_paise, detail)
        SELECT 'no_candidate', id, amount_paise, 'the credit names no virtual account' FROM c
      ), t AS (
        INSERT INTO ledger_transactions (kind, credit_id, memo) SELECT 'credit_held', id, 'credit_held ' || utr FROM c RETURNING id, credit_id
      )
      INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
      SELECT t.id, k.account, NULL, k.sign * c.amount_paise FROM t JOIN c ON c.id = t.credit_id CROSS JOIN (VALUES ('bank', 1), ('suspense', -1)) AS k(account, sign)`.execute(trx);

    // Gateway payouts reported by settlement reports; a third of them not yet in any statement.
    await sql`
      INSERT INTO gateway_settlements (settlement_id, gateway, utr, amount_paise, fees_paise, tax_paise, settled_at, payments, report_sha256)
      SELECT 'setl_Bench' || lpad(g::text, 8, '0'), 'razorpay', 'UTIBN9' || lpad(g::text, 11, '0'), 5000000 + (g::bigint * 104729) % 500000000, 10000, 1800,
             ${new Date(`${FIRST_DAY}T06:30:00Z`)}::timestamptz + (g % ${DAYS}) * interval '1 day', 10 + g % 90, 'bench'
        FROM generate_series(1, ${Math.ceil(SETTLEMENTS * 1.5)}) g`.execute(trx);
  });

  // The payers: challans paid by a notified credit from an account the statement will name again.
  const { rows: payerChallans } = await sql<{ va_number: string; amount_paise: bigint; org_id: bigint }>`
    SELECT va_number, amount_paise, org_id FROM challans WHERE va_number = ANY(${vas.slice(CHALLANS, need)}::text[]) ORDER BY id`.execute(d.db);
  const t = Date.now();
  for (const [i, ch] of payerChallans.entries()) {
    const r = await intakeCredit(d.db, {
      utr: `AXISN4${String(i + 1).padStart(11, '0')}`, vaNumber: ch.va_number, amountPaise: ch.amount_paise, creditedAt: new Date('2026-10-28T06:30:00Z'), mode: 'NEFT',
      payerName: payerName(i), payerAccount: payerAccount(i), payerIfsc: 'SBIN0000152', narrative: `Smart Collect ${ch.va_number}`, externalId: null, source: 'va_notification',
    });
    if (r.outcome !== 'applied') throw new Error(`payer credit ${i}: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
  console.log(`  ${engine}: ${lakh(payerChallans.length)} challans paid through intakeCredit in ${seconds(Date.now() - t)}`);
}

const NAMES = ['BLOCK EDUCATION OFFICER', 'EXECUTIVE ENGINEER PHED', 'DISTRICT HEALTH SOCIETY', 'SUPERINTENDENT OF POLICE', 'MUNICIPAL COMMISSIONER', 'RAMESH KUMAR', 'SUNITA DEVI', 'ANIL KUMAR SINGH'];
const payerName = (i: number) => NAMES[i % NAMES.length]!;
const payerAccount = (i: number) => `3910${String(i + 1).padStart(10, '0')}`;

// ---- the statement ------------------------------------------------------------------------------

interface Fixture {
  active: { va: string; amount: bigint; org: bigint }[];
  expired: { ref: string; amount: bigint }[];
  payers: Map<bigint, { account: string; name: string }>;
  known: { utr: string; amount: bigint }[];
  settlements: { utr: string; amount: bigint }[];
}

async function fixture(d: Database): Promise<Fixture> {
  const active = await sql<{ va_number: string; amount_paise: bigint; org_id: bigint }>`
    SELECT va_number, amount_paise, org_id FROM challans WHERE status = 'active' ORDER BY id`.execute(d.db);
  const expired = await sql<{ reference: string; amount_paise: bigint }>`
    SELECT b.reference, c.amount_paise FROM challans c JOIN payment_batches b ON b.id = c.batch_id WHERE c.status = 'expired' ORDER BY c.id`.execute(d.db);
  const payers = await sql<{ payer_account: string; payer_name: string; org_id: bigint }>`
    SELECT DISTINCT ON (ch.org_id) k.payer_account, k.payer_name, ch.org_id FROM bank_credits k JOIN challans ch ON ch.id = k.challan_id
     WHERE k.status = 'applied' AND k.payer_account IS NOT NULL ORDER BY ch.org_id, k.id`.execute(d.db);
  const known = await sql<{ utr: string; amount_paise: bigint }>`SELECT utr, amount_paise FROM bank_credits WHERE utr IS NOT NULL ORDER BY id`.execute(d.db);
  const settlements = await sql<{ utr: string; amount_paise: bigint }>`SELECT utr, amount_paise FROM gateway_settlements ORDER BY settlement_id LIMIT ${SETTLEMENTS}`.execute(d.db);
  return {
    active: active.rows.map((r) => ({ va: r.va_number, amount: r.amount_paise, org: r.org_id })),
    expired: expired.rows.map((r) => ({ ref: r.reference, amount: r.amount_paise })),
    payers: new Map(payers.rows.map((r) => [r.org_id, { account: r.payer_account, name: r.payer_name }])),
    known: known.rows.map((r) => ({ utr: r.utr, amount: r.amount_paise })),
    settlements: settlements.rows.map((r) => ({ utr: r.utr, amount: r.amount_paise })),
  };
}

type Kind = 'va' | 'payer' | 'unknown_va' | 'typo_va' | 'reference' | 'known' | 'settlement' | 'debit' | 'zero' | 'repeat' | 'none';

/** The statement's lines (deterministic for a data set), and what each kind counts. */
function statementOf(f: Fixture): { statement: ParsedStatement; mix: Map<Kind, number> } {
  let seed = 20261120;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const vaCredited = Math.round(f.active.length * 0.95);
  const counts: [Kind, number][] = [
    ['va', vaCredited],
    ['payer', f.active.length - vaCredited],
    ['unknown_va', Math.round(CHALLANS * 0.03)],
    ['typo_va', Math.round(CHALLANS * 0.01)],
    ['reference', Math.min(REFERENCES, f.expired.length)],
    ['known', f.known.length],
    ['settlement', f.settlements.length],
    ['debit', Math.round(LINES * 0.05)],
    ['zero', 10],
    ['repeat', Math.round(LINES * 0.001)],
  ];
  const rest = LINES - counts.reduce((s, [, n]) => s + n, 0);
  if (rest < 0) throw new Error(`${lakh(LINES)} lines are too few for ${lakh(CHALLANS)} challans (${lakh(LINES - rest)} needed)`);
  counts.push(['none', rest]);
  const kinds: Kind[] = counts.flatMap(([k, n]) => Array<Kind>(n).fill(k));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const next = { va: 0, payer: vaCredited, reference: 0, known: 0, settlement: 0, unknown: 0, utr: 0 };
  const plain: StatementLine[] = [];
  const lines: StatementLine[] = [];
  let credits = 0n;
  let debits = 0n;
  const newUtr = () => {
    next.utr++;
    return `${rnd() < 0.1 ? 'ICICR2' : 'HDFCN2'}${String(next.utr).padStart(11, '0')}`;
  };
  for (const [i, kind] of kinds.entries()) {
    const day = new Date(Date.parse(`${FIRST_DAY}T00:00:00Z`) + Math.floor((i * DAYS) / kinds.length) * 86_400_000).toISOString().slice(0, 10);
    const l: StatementLine = {
      lineNo: i + 1, valueDate: day, bookingDate: day, direction: 'credit', amountPaise: 100000n + BigInt(Math.floor(rnd() * 4_900_000)), currency: 'INR',
      bankRef: `SBX${String(i + 1).padStart(9, '0')}`, customerRef: null, utr: null, narrative: 'ELECTRICITY DUES', payerName: pick(NAMES), payerAccount: null,
    };
    switch (kind) {
      case 'va': {
        const ch = f.active[next.va++]!;
        const r = rnd();
        l.utr = newUtr();
        l.amountPaise = r < 0.04 ? ch.amount - 1n - BigInt(Math.floor(rnd() * Number(ch.amount / 10n))) : r < 0.06 ? ch.amount + 100n + BigInt(Math.floor(rnd() * 100_000)) : ch.amount;
        // Some payers write the number in groups.
        l.narrative = rnd() < 0.05 ? `CHALLAN ${ch.va.slice(0, 4)} ${ch.va.slice(4, 9)} ${ch.va.slice(9)}` : `CHALLAN ${ch.va}`;
        break;
      }
      case 'payer': {
        const ch = f.active[next.payer++]!;
        const p = f.payers.get(ch.org);
        l.utr = newUtr();
        l.amountPaise = ch.amount;
        l.payerName = p?.name ?? pick(NAMES);
        // A German-style structured :86: (the only MT940 narrative that names the payer's account).
        l.narrative = `166?00NEFT GUTSCHRIFT?20UTR ${l.utr}?21ELECTRICITY DUES?32${l.payerName}?31${p?.account ?? '39109999999999'}`;
        break;
      }
      case 'unknown_va':
        l.utr = newUtr();
        l.narrative = `CHALLAN ${vaNumber(ACCOUNT.prefix, 9_000_000_000n + BigInt(next.unknown++))}`;
        break;
      case 'typo_va': {
        const va = pick(f.active).va;
        l.utr = newUtr();
        l.narrative = `CHALLAN ${va.slice(0, 14)}${(Number(va[14]) + 1) % 10}`;
        break;
      }
      case 'reference': {
        const b = f.expired[next.reference++]!;
        l.utr = newUtr();
        l.amountPaise = b.amount;
        l.narrative = rnd() < 0.01 ? `PAYMENT AGAINST ${b.ref} AND ${pick(f.expired).ref}` : `PAYMENT AGAINST ${b.ref}`;
        break;
      }
      case 'known': {
        const k = f.known[next.known++]!;
        l.utr = k.utr;
        l.amountPaise = rnd() < 0.005 ? k.amount + 100n : k.amount;
        break;
      }
      case 'settlement': {
        const s = f.settlements[next.settlement++]!;
        l.utr = s.utr;
        l.amountPaise = s.amount;
        l.payerName = 'RAZORPAY SOFTWARE PVT LTD';
        l.narrative = 'SETTLEMENT';
        break;
      }
      case 'debit':
        l.direction = 'debit';
        l.utr = newUtr();
        l.amountPaise = 1_000_000n + BigInt(Math.floor(rnd() * 9_000_000));
        l.payerName = null;
        l.narrative = 'SWEEP TO NBPDCL MAIN ACCOUNT';
        break;
      case 'zero':
        l.amountPaise = 0n;
        l.utr = newUtr();
        break;
      case 'repeat': {
        const o = plain.length ? pick(plain) : null;
        l.utr = o?.utr ?? newUtr();
        l.amountPaise = o?.amountPaise ?? l.amountPaise;
        break;
      }
      case 'none':
        l.utr = newUtr();
        plain.push(l);
        break;
    }
    if (l.direction === 'credit') credits += l.amountPaise;
    else debits += l.amountPaise;
    lines.push(l);
  }
  const opening = 50_00_00_000n;
  return {
    statement: {
      format: 'mt940', account: ACCOUNT.accountNo, statementRef: 'NBPD2611/1', currency: 'INR', openingPaise: opening, openingDate: FIRST_DAY,
      closingPaise: opening + credits - debits, closingDate: lines[lines.length - 1]!.valueDate, creditsPaise: credits, debitsPaise: debits, lines,
    },
    mix: new Map(counts),
  };
}

/** The MT940 file of the data set: written once with writeMt940 (and kept beside a kept data set). */
async function statementFile(base: Store, file: string | null, engine: string, known: Fixture | null): Promise<{ data: Buffer; mix: string }> {
  if (file && fs.existsSync(file) && fs.existsSync(`${file}.mix`)) {
    return { data: fs.readFileSync(file), mix: fs.readFileSync(`${file}.mix`, 'utf8') };
  }
  const t = Date.now();
  let f = known;
  if (!f) {
    const d = await base.open();
    try {
      f = await fixture(d);
    } finally {
      await d.close();
    }
  }
  const { statement, mix } = statementOf(f);
  const data = writeMt940(statement);
  const text = [...mix].map(([k, n]) => `${k} ${lakh(n)}`).join(', ');
  console.log(`  ${engine}: MT940 file of ${lakh(statement.lines.length)} lines written in ${seconds(Date.now() - t)} (${(data.length / 2 ** 20).toFixed(0)} MiB: ${text})`);
  if (file) {
    fs.writeFileSync(file, data);
    fs.writeFileSync(`${file}.mix`, text);
  }
  return { data, mix: text };
}

// ---- the product's path ----------------------------------------------------------------------

// The matching's raw statements, named by the step they are (the first words of several are the same).
const STEPS: [RegExp, string][] = [
  [/^INSERT INTO statement_lines/, 'store the lines (INSERT … SELECT FROM unnest, 5,000 a statement)'],
  [/^WITH m AS \( UPDATE statement_lines l SET status = CASE/, 'tier 1: known UTRs confirmed (UPDATE lines, UPDATE credits)'],
  [/'settlement_utr'/, 'tier 1: gateway settlements (UPDATE lines, UPDATE settlements)'],
  [/^INSERT INTO bank_credits/, 'new credits (INSERT … SELECT DISTINCT ON)'],
  [/reason = 'new credit'/, 'lines → their new credits (UPDATE)'],
  [/reason = 'utr', credit_id/, 'lines → a credit of the same UTR (UPDATE)'],
  [/'virtual_account'/, 'candidates: virtual account'],
  [/'batch_reference'/, 'candidates: batch reference in the narrative'],
  [/'payer_account_amount'/, 'candidates: known payer account + amount'],
  [/^WITH per AS/, 'decide: waiting, or held with exception and suspense entries'],
];

async function accountsUser(d: Database): Promise<UserPrincipal> {
  // The statements are of NBPDCL's collection account: its accounts team imports them.
  const u = await d.db
    .selectFrom('users as u')
    .innerJoin('discoms as dc', 'dc.id', 'u.discom_id')
    .select(['u.id', 'u.login_id', 'u.name', 'u.discom_id', 'u.holding'])
    .where('u.role', '=', 'accounts')
    .where('dc.code', '=', 'NBPDCL')
    .orderBy('u.id')
    .executeTakeFirstOrThrow();
  return { kind: 'user', userId: u.id, loginId: u.login_id, name: u.name, role: 'accounts', orgId: null, officeId: null, officePath: null, discomId: u.discom_id, holding: u.holding, sessionId: 'bench', stage: 'full', csrfToken: 'bench' };
}

// ---- the baseline: hand-written SQL ---------------------------------------------------------------

const csv = (v: string | null) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`);

function* csvChunks(lines: readonly StatementLine[]): Generator<string> {
  let out = '';
  for (const l of lines) {
    out += `${l.lineNo},${l.valueDate},${l.bookingDate ?? ''},${l.direction},${l.amountPaise},${l.currency},${csv(l.bankRef?.slice(0, 60) ?? null)},${csv(l.utr)},${csv(l.narrative.slice(0, 500))},${csv(l.payerName?.slice(0, 140) ?? null)},${csv(l.payerAccount?.slice(0, 40) ?? null)}\n`;
    if (out.length > 1 << 20) {
      yield out;
      out = '';
    }
  }
  if (out) yield out;
}

// The Luhn check digit of a virtual account (letters as two digits, A = 10), in SQL.
const LUHN_OK = `(SELECT (10 - sum(CASE WHEN (18 - i) % 2 = 0 THEN (2 * d) % 10 + (2 * d) / 10 ELSE d END) % 10) % 10
                   FROM (SELECT i, substr(s.digits, i, 1)::int AS d FROM generate_series(1, 18) AS i) AS q) = substr(m.va, 15, 1)::int`;

/**
 * The same import in raw SQL, in one transaction. Returns the time of each statement. The
 * lines arrive parsed (the parse is timed apart, for both).
 */
async function baselineImport(c: RawClient, s: ParsedStatement, userId: bigint, explain: number | null): Promise<[string, number][]> {
  const steps: [string, number][] = [];
  const timed = async <R extends Record<string, unknown>>(label: string, q: string, p: unknown[] = []) => {
    const t = performance.now();
    // PGlite has no auto_explain: --explain runs the statement under EXPLAIN ANALYZE (which does its work too).
    if (explain !== null && !/RETURNING id::text$/.test(q)) {
      const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${q}`, p);
      const ms = performance.now() - t;
      steps.push([label, ms]);
      if (ms >= explain) console.log(`    plan of "${label}":\n${plan.rows.map((r) => `      ${r['QUERY PLAN']}`).join('\n')}`);
      return { rows: [] as R[], rowCount: 0 };
    }
    const r = await c.query<R>(q, p);
    steps.push([label, performance.now() - t]);
    return r;
  };
  await c.exec('BEGIN');
  try {
    const st = await timed<{ id: string }>(
      'INSERT bank_statements',
      `INSERT INTO bank_statements (file_sha256, file_name, format, account, statement_ref, currency, opening_paise, closing_paise, credits_paise, debits_paise,
                                    opening_date, closing_date, line_count, discom_id, imported_by)
       SELECT 'baseline', 'baseline.sta', 'mt940', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (SELECT discom_id FROM collection_accounts WHERE account_no = $1), $11
       ON CONFLICT DO NOTHING RETURNING id::text`,
      [s.account, s.statementRef, s.currency, s.openingPaise.toString(), s.closingPaise.toString(), s.creditsPaise.toString(), s.debitsPaise.toString(), s.openingDate, s.closingDate, s.lines.length, userId.toString()],
    );
    const id = st.rows[0]!.id;
    await c.exec(`CREATE TEMP TABLE stage (line_no int, value_date date, booking_date date, direction text, amount_paise bigint, currency text, bank_ref text,
                                           utr text, narrative text, payer_name text, payer_account text) ON COMMIT DROP`);
    let t = performance.now();
    await c.copyFromCsv('stage', ['line_no', 'value_date', 'booking_date', 'direction', 'amount_paise', 'currency', 'bank_ref', 'utr', 'narrative', 'payer_name', 'payer_account'], csvChunks(s.lines));
    steps.push(['COPY the parsed lines into a temporary table', performance.now() - t]);
    await timed(
      'INSERT statement_lines (status; virtual account by regexp + Luhn)',
      `WITH p AS (SELECT '(?:' || string_agg(va_prefix, '|') || ')[0-9]{11}' AS re FROM collection_accounts)
       INSERT INTO statement_lines (statement_id, line_no, value_date, booking_date, direction, amount_paise, currency, bank_ref, utr, va_number, narrative, payer_name, payer_account, status, reason)
       SELECT $1, x.line_no, x.value_date, x.booking_date, x.direction, x.amount_paise, x.currency, x.bank_ref,
              CASE WHEN length(u.utr) BETWEEN 6 AND 35 THEN u.utr END,
              CASE WHEN x.currency = 'INR' AND u.flat ~ p.re THEN
                (SELECT m.va FROM regexp_matches(u.flat, p.re, 'g') WITH ORDINALITY AS r(v, o)
                   CROSS JOIN LATERAL (SELECT r.v[1] AS va) AS m
                   CROSS JOIN LATERAL (SELECT (ascii(substr(m.va, 1, 1)) - 55)::text || (ascii(substr(m.va, 2, 1)) - 55)::text || (ascii(substr(m.va, 3, 1)) - 55)::text
                                              || (ascii(substr(m.va, 4, 1)) - 55)::text || substr(m.va, 5, 10) AS digits) AS s
                  WHERE ${LUHN_OK} ORDER BY r.o LIMIT 1) END,
              x.narrative, x.payer_name, x.payer_account,
              CASE WHEN x.currency <> 'INR' OR x.direction = 'debit' OR x.amount_paise = 0 THEN 'not_applicable' ELSE 'new' END,
              CASE WHEN x.currency <> 'INR' THEN 'currency ' || x.currency || ': Sangrahan collects INR only' WHEN x.direction = 'debit' THEN 'a debit' WHEN x.amount_paise = 0 THEN 'zero amount' END
         FROM stage x CROSS JOIN p
         -- The UTR as the product normalises it (most are already); the narrative without blanks and hyphens.
         CROSS JOIN LATERAL (SELECT CASE WHEN x.utr ~ '^[A-Z0-9]*$' THEN x.utr ELSE regexp_replace(upper(x.utr), '[^A-Z0-9]', '', 'g') END AS utr,
                                    translate(upper(x.narrative), E' \t\n\r\f\v-', '') AS flat) AS u`,
      [id],
    );
    t = performance.now();
    await c.exec('ANALYZE statement_lines');
    steps.push(['ANALYZE statement_lines', performance.now() - t]);
    await timed(
      'tier 1: known UTRs confirmed',
      `WITH m AS (
         UPDATE statement_lines l SET status = CASE WHEN c.amount_paise = l.amount_paise THEN 'matched' ELSE 'exception' END,
                reason = CASE WHEN c.amount_paise = l.amount_paise THEN 'utr' ELSE 'the UTR was told before with ' || c.amount_paise || ' paise' END, credit_id = c.id
           FROM bank_credits c WHERE l.statement_id = $1 AND l.status = 'new' AND c.utr = l.utr
         RETURNING l.credit_id, l.status)
       UPDATE bank_credits c SET sources = c.sources || ARRAY['statement'] FROM m WHERE c.id = m.credit_id AND m.status = 'matched' AND NOT ('statement' = ANY(c.sources))`,
      [id],
    );
    await timed(
      'tier 1: gateway settlements',
      `WITH m AS (
         UPDATE statement_lines l SET status = 'matched', reason = 'settlement_utr', settlement_id = s.settlement_id
           FROM gateway_settlements s
          WHERE l.statement_id = $1 AND l.status = 'new' AND s.utr IS NOT NULL AND s.statement_line_id IS NULL AND l.amount_paise = s.amount_paise
            AND (l.utr = upper(s.utr) OR upper(l.narrative) LIKE '%' || upper(s.utr) || '%')
         RETURNING l.id, l.settlement_id)
       UPDATE gateway_settlements s SET statement_line_id = m.id FROM m WHERE s.settlement_id = m.settlement_id`,
      [id],
    );
    await timed(
      'credits with candidates, lines, exceptions, ledger (one statement)',
      `WITH nl AS MATERIALIZED (
         SELECT DISTINCT ON (coalesce(l.utr, l.id::text)) l.id, l.utr, l.va_number, l.amount_paise, l.value_date, l.payer_name, l.payer_account, l.narrative
           FROM statement_lines l WHERE l.statement_id = $1 AND l.status = 'new'
          ORDER BY coalesce(l.utr, l.id::text), l.line_no
       ), pb AS (
         SELECT DISTINCT nl.id, ch.id AS challan_id
           FROM nl CROSS JOIN LATERAL regexp_matches(upper(nl.narrative), 'PB[0-9]{8}', 'g') AS m(r)
           JOIN payment_batches b ON b.reference = m.r[1]
           JOIN challans ch ON ch.batch_id = b.id AND ch.status IN ('active', 'expired')
          WHERE nl.va_number IS NULL AND nl.narrative ~* 'PB[0-9]{8}'
       ), cand AS (
         -- Tier 1 (virtual account, batch reference) and tier 2 (known payer); a line's tier-2
         -- candidates count only when it has no tier-1 candidate row (chosen below, not by an
         -- anti-join: that one was planned as a nested loop over the references, quadratic).
         SELECT nl.id, ch.id AS challan_id, 'virtual_account' AS rule, 1 AS tier FROM nl LEFT JOIN challans ch ON ch.va_number = nl.va_number WHERE nl.va_number IS NOT NULL
         UNION ALL SELECT id, challan_id, 'batch_reference', 1 FROM pb
         UNION ALL
         SELECT nl.id, ch.id, 'payer_account_amount', 2
           FROM nl
           JOIN (SELECT DISTINCT k.payer_account, ch0.org_id FROM bank_credits k JOIN challans ch0 ON ch0.id = k.challan_id
                  WHERE k.status = 'applied' AND k.payer_account IS NOT NULL) AS known ON known.payer_account = nl.payer_account
           JOIN challans ch ON ch.org_id = known.org_id AND ch.status IN ('active', 'expired') AND ch.amount_paise = nl.amount_paise
          WHERE nl.va_number IS NULL
       ), per AS (
         SELECT nl.*, coalesce(k.n, 0) AS n, k.challan_id, k.rule
           FROM nl LEFT JOIN (
             SELECT id, count(challan_id) FILTER (WHERE tier = best) AS n, min(challan_id) FILTER (WHERE tier = best) AS challan_id, min(rule) FILTER (WHERE tier = best) AS rule
               FROM (SELECT cand.*, min(tier) OVER (PARTITION BY id) AS best FROM cand) AS c GROUP BY id) AS k ON k.id = nl.id
       ), ins AS (
         INSERT INTO bank_credits (utr, va_number, amount_paise, mode, credited_at, payer_name, payer_account, narrative, source, sources, status, statement_line_id, challan_id, match_rule)
         SELECT utr, va_number, amount_paise, CASE WHEN utr ~ '^[A-Z]{4}R' THEN 'RTGS' WHEN utr ~ '^[A-Z]{4}N' THEN 'NEFT' END,
                (value_date::timestamp AT TIME ZONE 'Asia/Kolkata'), payer_name, payer_account, narrative, 'statement', ARRAY['statement'],
                CASE WHEN n = 1 THEN 'received' ELSE 'held' END, id, CASE WHEN n = 1 THEN challan_id END, CASE WHEN n = 1 THEN rule END
           FROM per
         ON CONFLICT DO NOTHING
         RETURNING id, utr, amount_paise, status, statement_line_id
       ), marked AS (
         UPDATE statement_lines l SET status = 'matched', reason = CASE WHEN l.id = i.statement_line_id THEN 'new credit' ELSE 'utr' END, credit_id = i.id
           FROM ins i WHERE l.statement_id = $1 AND l.status = 'new' AND coalesce(l.utr, l.id::text) = coalesce(i.utr, i.statement_line_id::text)
       ), held AS (
         -- Joined on the UTR key, not on statement_line_id: the planner reads the RETURNING column with
         -- bank_credits' statistics (all NULL before the import), estimates one row and joins the
         -- ledger rows by nested loop (quadratic; PGlite's PostgreSQL 18 does).
         SELECT i.id, i.utr, i.amount_paise, p.n, p.va_number
           FROM per p JOIN ins i ON coalesce(i.utr, i.statement_line_id::text) = coalesce(p.utr, p.id::text) WHERE p.n <> 1
       ), ex AS (
         INSERT INTO recon_exceptions (reason, credit_id, amount_paise, detail)
         SELECT CASE WHEN va_number IS NOT NULL AND n = 0 THEN 'unknown_va' WHEN n = 0 THEN 'no_candidate' ELSE 'several_candidates' END, id, amount_paise,
                CASE WHEN va_number IS NOT NULL AND n = 0 THEN 'no challan has virtual account ' || va_number
                     WHEN n = 0 THEN 'no virtual account, batch reference or known payer with this amount' ELSE n || ' open challans fit' END
           FROM held
       ), txn AS (
         INSERT INTO ledger_transactions (kind, credit_id, memo) SELECT 'credit_held', id, 'credit_held ' || coalesce(utr, 'credit ' || id) FROM held RETURNING id, credit_id
       ), entries AS (
         INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
         SELECT t.id, k.account, NULL, k.sign * h.amount_paise FROM txn t JOIN held h ON h.id = t.credit_id CROSS JOIN (VALUES ('bank', 1), ('suspense', -1)) AS k(account, sign)
       )
       SELECT count(*)::int AS credits FROM ins`,
      [id],
    );
    t = performance.now();
    await c.exec('COMMIT');
    steps.push(['COMMIT', performance.now() - t]);
    return steps;
  } catch (e) {
    await c.exec('ROLLBACK');
    throw e;
  }
}

// ---- checks ---------------------------------------------------------------------------------

/** What the import did, by kind: lines by status and reason, credits by status and rule, exceptions, ledger. */
async function outcomes(d: Database): Promise<Map<string, number>> {
  const { rows } = await sql<{ k: string; n: number }>`
    SELECT 'lines ' || status || ' ' || left(coalesce(reason, ''), 28) AS k, count(*)::int AS n FROM statement_lines GROUP BY 1
    UNION ALL SELECT 'credits ' || status || ' ' || coalesce(match_rule, '-') || CASE WHEN challan_id IS NULL THEN '' ELSE ' (challan)' END || ' ' || array_to_string(sources, '+'), count(*)::int FROM bank_credits GROUP BY 1
    UNION ALL SELECT 'exceptions ' || reason || ' ' || status, count(*)::int FROM recon_exceptions GROUP BY 1
    UNION ALL SELECT 'ledger ' || kind, count(*)::int FROM ledger_transactions GROUP BY 1
    UNION ALL SELECT 'settlements with their payout line', count(*)::int FROM gateway_settlements WHERE statement_line_id IS NOT NULL
    ORDER BY 1`.execute(d.db);
  return new Map(rows.map((r) => [r.k, r.n]));
}

function differences(a: Map<string, number>, b: Map<string, number>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: product ${a.get(k) ?? 0}, baseline ${b.get(k) ?? 0}`);
}

async function verify(d: Database, engine: string, what: string): Promise<void> {
  const t = Date.now();
  // As autovacuum would soon after such a load (the checks' plans need the statistics).
  await d.withClient((c) => c.exec('ANALYZE bank_credits, statement_lines, recon_exceptions, ledger_transactions, ledger_entries, payments, allocations, receipts, postings, challans, payment_batches'));
  await checkInvariants(d.db);
  console.log(`  ${engine}: invariants hold after the ${what} (checked in ${seconds(Date.now() - t)})`);
}

/** The same pages for both copies before their timed runs. */
async function warm(d: Database): Promise<void> {
  await d.withClient(async (c) => {
    await c.query(`SELECT (SELECT count(*) FROM challans), (SELECT count(*) FROM payment_batches), (SELECT count(*) FROM bank_credits), (SELECT sum(amount_paise) FROM gateway_settlements)`);
    await c.exec('CHECKPOINT');
  });
}

// ---- the run --------------------------------------------------------------------------------

async function run(engine: 'postgres' | 'pglite'): Promise<void> {
  const { store: base, fresh, file } = await baseStore(engine);
  try {
    const t0 = Date.now();
    let known: Fixture | null = null;
    if (fresh) known = await seedBase(base, engine);
    else console.log(`  ${engine}: reusing the kept data set ${base.label}`);
    const { data, mix } = await statementFile(base, file, engine, known);
    if (fresh) console.log(`  ${engine}: the data set and the file made in ${seconds(Date.now() - t0)}`);
    if (values['seed-only']) return;

    // 1 and 2 through the product.
    const timer = new QueryTimer(STEPS);
    const applyTimer = new QueryTimer(STEPS);
    let appMs!: number;
    let appCounts!: Awaited<ReturnType<typeof importStatementFile>>[number]['counts'];
    let appOut!: Map<string, number>;
    let applyMs!: number;
    let applied!: { applied: number; held: number };
    let waiting!: number;
    await withCopy(base, engine, 'product', async (d) => {
      const p = await accountsUser(d);
      await warm(d);
      timer.on = true;
      const t = performance.now();
      const r = await importStatementFile(d.db.withPlugin(timer), p, { name: 'NBPD2611.sta', data }, { format: 'mt940' }, META);
      appMs = performance.now() - t;
      timer.on = false;
      if (r.length !== 1 || r[0]!.duplicate) throw new Error(`the import: ${JSON.stringify(r.map((x) => ({ ...x, id: String(x.id) })))}`);
      appCounts = r[0]!.counts;
      appOut = await outcomes(d);
      await verify(d, engine, 'import');
      waiting = appCounts.waiting;
      applyTimer.on = true;
      const t1 = performance.now();
      applied = await applyWaitingCredits(d.db.withPlugin(applyTimer), APPLY);
      applyMs = performance.now() - t1;
      applyTimer.on = false;
      await verify(d, engine, `${lakh(applied.applied + applied.held)} credits applied or held`);
    });

    // The baseline on its copy, with the lines parsed beforehand.
    const tp = performance.now();
    const parsed = parseStatements(data, { format: 'mt940' });
    const parseMs = performance.now() - tp;
    let baseMs!: number;
    let baseSteps!: [string, number][];
    let baseOut!: Map<string, number>;
    await withCopy(base, engine, 'baseline', async (d) => {
      const p = await accountsUser(d);
      await warm(d);
      const t = performance.now();
      baseSteps = await d.withClient((c) => baselineImport(c, parsed[0]!, p.userId, engine === 'pglite' && values.explain ? Number(values.explain) : null));
      baseMs = performance.now() - t;
      baseOut = await outcomes(d);
      await verify(d, engine, 'baseline import');
    });

    const diff = differences(appOut, baseOut);
    const accounted = timer.total();
    const applyN = applied.applied + applied.held;
    const c = appCounts;
    record({ bench: 'statements', id: 'import', what: `import and match ${lakh(LINES)} statement lines, ${lakh(CHALLANS)} open challans`, engine, productMs: appMs, baselineMs: baseMs, ratio: appMs / baseMs });
    record({ bench: 'statements', id: 'apply', what: `apply ${lakh(applyN)} waiting credits, one transaction each`, engine, productMs: applyMs, productRate: `${(applyN / (applyMs / 1000)).toFixed(0)} credits/s` });
    console.log(
      `  ${engine} 1. import and match ${lakh(LINES)} lines against ${lakh(CHALLANS)} open challans (+ ${lakh(EXPIRED)} expired): ${seconds(appMs)} ` +
        `(of which parsing about ${seconds(parseMs)}, measured apart) | baseline ${seconds(baseMs)} (lines handed parsed) | ` +
        `ratio ${(appMs / baseMs).toFixed(2)}×, ${((appMs - parseMs) / baseMs).toFixed(2)}× without the parse\n` +
        `      the file: ${mix}\n` +
        `      product: confirmed ${lakh(c.confirmed)}, contradictions ${lakh(c.contradictions)}, settlements ${lakh(c.settlements)}, new credits ${lakh(c.newCredits)} ` +
        `(waiting ${lakh(c.waiting)}, exceptions ${lakh(c.exceptions)}), not applicable ${lakh(c.notApplicable)}\n` +
        `      outcomes (lines, credits, exceptions, ledger by kind) ${diff.length ? `DIFFER from the baseline's:\n        ${diff.join('\n        ')}` : 'the same on both copies'}\n` +
        `      where the product's time goes (per query, compile to result; the rest is parsing and other JavaScript, ${dur(appMs - accounted)}):\n` +
        timer.top(16) +
        `\n      the baseline's statements:\n` +
        baseSteps.map(([label, ms]) => `        ${dur(ms).padStart(8)}  ${label}`).join('\n') +
        `\n  ${engine} 2. applying waiting credits: ${lakh(applyN)} of ${lakh(waiting)} in ${seconds(applyMs)}: ${(applyN / (applyMs / 1000)).toFixed(0)} credits/s ` +
        `(${lakh(applied.applied)} applied: batch settled; ${lakh(applied.held)} held: exception)\n` +
        `      the product's queries (${applyTimer.count()}; ${dur(applyTimer.total())} of ${dur(applyMs)}):\n` +
        applyTimer.top(10),
    );
    if (diff.length) process.exitCode = 1;
  } finally {
    if (!values.keep) await base.drop();
  }
}

console.log(
  `Statement import benchmark: ${lakh(LINES)} MT940 lines against ${lakh(CHALLANS)} open challans among ${lakh(CONNECTIONS)} connections; ` +
    `${lakh(APPLY)} credits applied; ${machine()}; ${new Date().toISOString().slice(0, 10)}`,
);
for (const engine of values.engines.split(',') as ('postgres' | 'pglite')[]) await run(engine);
