import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { hindiReason, parseStatementsOffThread, StatementError, type CsvLayout, type ParsedStatement, type StatementFormat } from '../../adapters/bank/statements/index.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { discomScope, type Principal, type RequestMeta } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { matchCredit } from './credits.ts';
import { vaNumbersIn } from './va.ts';

/**
 * Bank statement import and matching. A file (MT940, camt.053 or CSV by layout) is parsed and
 * proved (opening + credits − debits = closing) before anything is stored; then, in one
 * transaction per file, its statements and lines are stored and matched set-based:
 *
 *   1. lines in another currency, debits and zero lines: not applicable (reported, never matched);
 *   2. tier 1, exact keys: a UTR already known as a bank credit (a notification or an earlier
 *      statement told of it: the line confirms it, nothing is applied twice); a gateway
 *      settlement's UTR and amount (the payout arrived);
 *   3. every other credit becomes a bank credit of its own, and its challan is looked for: by the
 *      virtual account in the line (tier 1), else by tier-2 rules, each of which matches only a
 *      single candidate: a batch reference written in the narrative; the payer's account, known
 *      from an earlier applied credit of one organisation, with the exact amount of one of that
 *      organisation's open challans. No candidate, several, or an unknown virtual account: the
 *      credit goes to the exception queue with that reason, its money held in suspense.
 *
 * A statement is known by its account and its content (period, balances, every line: the
 * content hash), and by its account, reference and period: the same statement imported again
 * changes nothing, whatever its format (a CSV has no statement id). A line is known within its
 * account by its UTR, else by the bank's reference, value date and amount, else by its value date, amount
 * and narrative (`statement_line_base_key`, with its occurrence in the statement): a line of a
 * later statement that an earlier one already had (a second, fuller CSV of the same day) is
 * matched to what the earlier line became, never a second credit. A line dated on a day that
 * does not exist (30 February) is kept, dated the month's last day, and flagged for review.
 * A statement is its account's discom's (the collection account's): a discom's staff import
 * statements of their discom's account only; any other account's (the other discom's, the
 * online collections account, an unknown one) is refused, naming it, before anything is stored.
 * Credits with a single candidate are then applied one by one (amount, deadline and the challan's
 * state checked under its lock, as for notified credits) by applyWaitingCredits, right after a
 * small import and by the worker loop for large ones.
 */

type Db = Kysely<DB>;

export interface ImportedStatement {
  id: bigint | null;
  account: string;
  statementRef: string;
  format: StatementFormat;
  lines: number;
  duplicate: boolean;
  counts: { confirmed: number; settlements: number; newCredits: number; waiting: number; exceptions: number; notApplicable: number; contradictions: number; known: number; review: number };
}

/** Account + period + balances + every line, in order: what makes two statement files the same statement. */
export function statementContentKey(s: ParsedStatement): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([s.account, s.currency, s.openingDate, s.openingPaise.toString(), s.closingDate, s.closingPaise.toString()]));
  for (const l of s.lines) {
    h.update('\n');
    h.update(JSON.stringify([l.valueDate, l.bookingDate, l.dateAsSent ?? null, l.direction, l.amountPaise.toString(), l.currency, l.bankRef, l.customerRef, l.utr, l.narrative]));
  }
  return h.digest('hex');
}

const CHUNK = 5000;

/** Reads the file in a parse worker (off the event loop, within its time and memory budget); a refusal is STATEMENT_INVALID, named. */
export async function parseOrRefuse(data: Buffer, opts: { format?: StatementFormat; csvLayout?: CsvLayout }): Promise<ParsedStatement[]> {
  try {
    return await parseStatementsOffThread(data, opts);
  } catch (e) {
    if (!(e instanceof StatementError)) throw e;
    throw new AppError('STATEMENT_INVALID', [{ path: 'file', problem: 'invalid', message: { en: e.message, hi: hindiReason(e.message) } }]);
  }
}

export async function importStatementFile(
  db: Db,
  p: Principal,
  file: { name: string; data: Buffer },
  opts: { format?: StatementFormat; csvLayout?: CsvLayout },
  meta: RequestMeta | null,
): Promise<ImportedStatement[]> {
  const scope = discomScope(p);
  const parsed = await parseOrRefuse(file.data, opts);
  const sha = createHash('sha256').update(file.data).digest('hex');
  const accounts = await db.selectFrom('collection_accounts as a').innerJoin('discoms as d', 'd.id', 'a.discom_id').select(['a.account_no', 'a.va_prefix', 'a.discom_id', 'd.code']).execute();
  const prefixes = accounts.map((r) => r.va_prefix);
  const discomOf = (account: string) => accounts.find((a) => a.account_no === account)?.discom_id ?? null;
  if (scope !== null) {
    const own = accounts.find((a) => a.discom_id === scope);
    const foreign = [...new Set(parsed.map((x) => x.account))].filter((acct) => discomOf(acct) !== scope);
    if (foreign.length) {
      const whose = (acct: string) => accounts.find((a) => a.account_no === acct)?.code;
      const named = foreign.map((acct) => (whose(acct) ? `${acct} (${whose(acct)})` : acct)).join(', ');
      const mine = own ? ` ${own.account_no} (${own.code})` : '';
      throw new AppError('FORBIDDEN', [{ path: 'file', problem: 'other_account', message: { en: `account ${named} is not your discom’s collection account`, hi: `खाता ${named} आपके डिस्कॉम का संग्रह खाता नहीं है` } }], {
        en: `This statement is of account ${named}, not of your discom’s collection account${mine}. Nothing was imported.`,
        hi: `यह विवरण खाता ${named} का है, आपके डिस्कॉम के संग्रह खाते${mine} का नहीं। कुछ भी आयात नहीं हुआ।`,
      });
    }
  }
  const discoms = new Set(parsed.map((x) => discomOf(x.account)));
  return db.transaction().execute(async (trx) => {
    const out: ImportedStatement[] = [];
    for (const s of parsed) out.push(await importOne(trx, s, sha, file.name, prefixes, p));
    await recordAudit(trx, {
      action: 'statement.imported',
      actor: p,
      orgId: null,
      discomId: discoms.size === 1 ? [...discoms][0]! : null,
      target: { type: 'bank_statement_file', id: sha.slice(0, 16) },
      details: { file: file.name, sha256: sha, statements: out.map((o) => ({ account: o.account, ref: o.statementRef, lines: o.lines, duplicate: o.duplicate, ...o.counts })) },
      meta,
    });
    return out;
  });
}

async function importOne(trx: Db, s: ParsedStatement, sha: string, fileName: string, prefixes: string[], p: Principal): Promise<ImportedStatement> {
  const base = { account: s.account, statementRef: s.statementRef, format: s.format, lines: s.lines.length };
  const discom = await trx.selectFrom('collection_accounts').select('discom_id').where('account_no', '=', s.account).executeTakeFirst();
  const row = await trx
    .insertInto('bank_statements')
    .values({
      file_sha256: sha, file_name: fileName.slice(0, 200), format: s.format, account: s.account, statement_ref: s.statementRef, currency: s.currency,
      opening_paise: s.openingPaise, closing_paise: s.closingPaise, credits_paise: s.creditsPaise, debits_paise: s.debitsPaise, opening_date: s.openingDate,
      closing_date: s.closingDate, line_count: s.lines.length, discom_id: discom?.discom_id ?? null, imported_by: p.kind === 'user' ? p.userId : null,
      content_sha256: statementContentKey(s),
    })
    // Either identity: (account, reference, period) or (account, content).
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  const zero = { confirmed: 0, settlements: 0, newCredits: 0, waiting: 0, exceptions: 0, notApplicable: 0, contradictions: 0, known: 0, review: 0 };
  if (!row) return { ...base, id: null, duplicate: true, counts: zero };
  const id = row.id;

  for (let i = 0; i < s.lines.length; i += CHUNK) {
    const chunk = s.lines.slice(i, i + CHUNK);
    const col = <T>(f: (l: (typeof chunk)[number]) => T) => chunk.map(f);
    const status = (l: (typeof chunk)[number]) =>
      l.currency !== 'INR' ? ['not_applicable', `currency ${l.currency}: Sangrahan collects INR only`] : l.direction === 'debit' ? ['not_applicable', 'a debit'] : l.amountPaise === 0n ? ['not_applicable', 'zero amount'] : ['new', null];
    await sql`
      INSERT INTO statement_lines (statement_id, line_no, value_date, booking_date, direction, amount_paise, currency, bank_ref, utr, va_number, narrative, payer_name, payer_account, status, reason,
                                   date_as_sent, review, line_key)
      SELECT ${id}, x.line_no, x.value_date, x.booking_date, x.direction, x.amount, x.currency, x.bank_ref, x.utr, x.va, x.narrative, x.payer_name, x.payer_account, x.status, x.reason,
             x.date_as_sent, CASE WHEN x.date_as_sent IS NOT NULL THEN 'impossible_date' END,
             -- Keys without a UTR take their occurrence in the statement (see migration 0016).
             x.base || CASE WHEN x.utr IS NULL THEN '#' || row_number() OVER (PARTITION BY x.base ORDER BY x.line_no) ELSE '' END
        FROM (SELECT y.*, statement_line_base_key(y.direction, y.utr, y.bank_ref, y.amount, y.value_date, y.narrative) AS base
                FROM unnest(${col((l) => l.lineNo)}::int[], ${col((l) => l.valueDate)}::date[], ${col((l) => l.bookingDate)}::date[], ${col((l) => l.direction)}::text[],
                    ${col((l) => l.amountPaise.toString())}::bigint[], ${col((l) => l.currency)}::text[], ${col((l) => l.bankRef?.slice(0, 60) ?? null)}::text[],
                    ${col((l) => utrOf(l.utr))}::text[], ${col((l) => (l.currency === 'INR' ? (vaNumbersIn(`${l.narrative.slice(0, 2000)} ${l.customerRef?.slice(0, 200) ?? ''}`, prefixes)[0] ?? null) : null))}::text[],
                    ${col((l) => l.narrative.slice(0, 500))}::text[], ${col((l) => l.payerName?.slice(0, 140) ?? null)}::text[], ${col((l) => l.payerAccount?.slice(0, 40) ?? null)}::text[],
                    ${col((l) => status(l)[0])}::text[], ${col((l) => status(l)[1])}::text[], ${col((l) => l.dateAsSent?.slice(0, 40) ?? null)}::text[])
             AS y(line_no, value_date, booking_date, direction, amount, currency, bank_ref, utr, va, narrative, payer_name, payer_account, status, reason, date_as_sent)) x`.execute(trx);
  }
  const counts = await matchStatement(trx, id);
  return { ...base, id, duplicate: false, counts };
}

const utrOf = (u: string | null) => {
  const x = u?.toUpperCase().replace(/[^A-Z0-9]/g, '') ?? '';
  return x.length >= 6 && x.length <= 35 ? x : null;
};

const n = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0n);

/** Statement lines whose UTR is a known credit: confirmed, or a contradiction (see matchStatement). */
async function confirmKnownUtrs(trx: Db, statementId: bigint, counts: ImportedStatement['counts']): Promise<void> {
  const st = await trx.selectFrom('bank_statements').select('discom_id').where('id', '=', statementId).executeTakeFirstOrThrow();
  await sql`
    WITH m AS (
      UPDATE statement_lines l SET status = CASE WHEN c.amount_paise = l.amount_paise AND NOT x.elsewhere THEN 'matched' ELSE 'exception' END,
             reason = CASE WHEN x.elsewhere THEN 'the UTR was told before as a credit to another discom’s account'
                           WHEN c.amount_paise = l.amount_paise THEN 'utr' ELSE 'the UTR was told before with ' || c.amount_paise || ' paise' END,
             credit_id = c.id
        FROM bank_credits c
        CROSS JOIN LATERAL (SELECT coalesce(c.discom_id <> ${st.discom_id}::bigint, false) AS elsewhere) x
       WHERE l.statement_id = ${statementId} AND l.status = 'new' AND l.utr IS NOT NULL AND c.utr = l.utr
      RETURNING l.credit_id, l.status)
    UPDATE bank_credits c SET sources = c.sources || ARRAY['statement']
      FROM m WHERE c.id = m.credit_id AND m.status = 'matched' AND NOT ('statement' = ANY(c.sources))`.execute(trx);
  // (counted over the whole statement: the second call sees the first's lines too)
  const byUtr = await trx.selectFrom('statement_lines').select(['status', sql<number>`count(*)::int`.as('n')]).where('statement_id', '=', statementId).where('reason', 'like', 'utr%').groupBy('status').execute();
  const contra = await trx.selectFrom('statement_lines').select(sql<number>`count(*)::int`.as('n')).where('statement_id', '=', statementId).where('status', '=', 'exception').executeTakeFirstOrThrow();
  counts.confirmed = byUtr.find((x) => x.status === 'matched')?.n ?? 0;
  counts.contradictions = contra.n;
  // A contradiction is not only a word on the line: it waits in the exception queue (once per
  // credit and amount, however many statements repeat it), for the accounts team to check.
  if (contra.n > 0) {
    await sql`
      INSERT INTO recon_exceptions (reason, credit_id, challan_id, batch_id, org_id, discom_id, amount_paise, detail)
      SELECT DISTINCT ON (c.id, l.amount_paise) 'utr_amount_mismatch', c.id, c.challan_id, ch.batch_id, ch.org_id, c.discom_id, l.amount_paise,
             CASE WHEN c.amount_paise <> l.amount_paise
                  THEN 'UTR ' || c.utr || ' was reported before for ' || c.amount_paise || ' paise, now for ' || l.amount_paise || ' (statement)'
                  ELSE 'UTR ' || c.utr || ' was reported before as a credit to another discom’s account, now in a statement of ' || coalesce((SELECT d.code FROM discoms d WHERE d.id = ${st.discom_id}::bigint), 'an account of no discom') END
        FROM statement_lines l JOIN bank_credits c ON c.id = l.credit_id LEFT JOIN challans ch ON ch.id = c.challan_id
       WHERE l.statement_id = ${statementId} AND l.status = 'exception' AND l.amount_paise > 0
         AND (c.amount_paise <> l.amount_paise OR coalesce(c.discom_id <> ${st.discom_id}::bigint, false))
       ORDER BY c.id, l.amount_paise
      ON CONFLICT DO NOTHING`.execute(trx);
  }
}

/** The set-based matching of one stored statement's new lines (see the module's comment). */
export async function matchStatement(trx: Db, statementId: bigint): Promise<ImportedStatement['counts']> {
  const counts = { confirmed: 0, settlements: 0, newCredits: 0, waiting: 0, exceptions: 0, notApplicable: 0, contradictions: 0, known: 0, review: 0 };
  const na = await trx
    .selectFrom('statement_lines')
    .select([sql<number>`count(*) FILTER (WHERE status = 'not_applicable')::int`.as('n'), sql<number>`count(*) FILTER (WHERE review IS NOT NULL)::int`.as('review')])
    .where('statement_id', '=', statementId)
    .executeTakeFirstOrThrow();
  counts.notApplicable = na.n;
  counts.review = na.review;
  await sql`ANALYZE statement_lines`.execute(trx);

  // A line without a UTR that an earlier statement of the account already had (by its bank
  // reference, date and amount, or its date, amount and narrative): what that line became, not new
  // money. Lines with a UTR are known by it below, where another amount is a contradiction.
  counts.known = n(
    await sql`
      UPDATE statement_lines l SET status = 'matched', reason = 'known_line', credit_id = k.credit_id, settlement_id = k.settlement_id
        FROM (SELECT DISTINCT ON (x.id) x.id, e.credit_id, e.settlement_id
                FROM statement_lines x JOIN bank_statements xs ON xs.id = x.statement_id
                JOIN statement_lines e ON e.line_key = x.line_key AND e.statement_id <> x.statement_id AND (e.credit_id IS NOT NULL OR e.settlement_id IS NOT NULL)
                JOIN bank_statements es ON es.id = e.statement_id AND es.account = xs.account
               -- A line with a UTR is known here only as a gateway payout an earlier statement
               -- already matched to its settlement (it has no credit for tier 1 to find).
               WHERE x.statement_id = ${statementId} AND x.status = 'new' AND (x.utr IS NULL OR (e.settlement_id IS NOT NULL AND e.credit_id IS NULL))
               ORDER BY x.id, e.id) k
       WHERE l.id = k.id`.execute(trx),
  );

  // Tier 1: a known UTR. The same amount, in an account of the credit's discom, confirms the
  // credit; another amount, or another discom's account (one transfer lands in one account),
  // contradicts it: the line is an exception, and the credit waits in the queue for a check.
  await confirmKnownUtrs(trx, statementId, counts);

  // Tier 1: a gateway settlement's payout (its UTR, its amount), once.
  counts.settlements = n(
    await sql`
      WITH m AS (
        UPDATE statement_lines l SET status = 'matched', reason = 'settlement_utr', settlement_id = s.settlement_id
          FROM gateway_settlements s
         WHERE l.statement_id = ${statementId} AND l.status = 'new' AND s.utr IS NOT NULL AND s.statement_line_id IS NULL
           AND (l.utr = upper(s.utr) OR upper(l.narrative) LIKE '%' || upper(s.utr) || '%') AND l.amount_paise = s.amount_paise
        RETURNING l.id, l.settlement_id)
      UPDATE gateway_settlements s SET statement_line_id = m.id FROM m WHERE s.settlement_id = m.settlement_id`.execute(trx),
  );

  // Every other credit line is a bank credit of its own (a UTR seen in two lines of one file is one credit).
  const created = await sql`
    INSERT INTO bank_credits (utr, va_number, amount_paise, mode, credited_at, payer_name, payer_account, narrative, source, sources, status, statement_line_id, discom_id)
    SELECT DISTINCT ON (coalesce(l.utr, l.id::text)) l.utr, l.va_number, l.amount_paise,
           CASE WHEN l.utr ~ '^[A-Z]{4}R' THEN 'RTGS' WHEN l.utr ~ '^[A-Z]{4}N' THEN 'NEFT' ELSE NULL END,
           (l.value_date::timestamp AT TIME ZONE 'Asia/Kolkata'), l.payer_name, l.payer_account, l.narrative, 'statement', ARRAY['statement'], 'received', l.id,
           coalesce(bs.discom_id, (SELECT a.discom_id FROM collection_accounts a WHERE a.va_prefix = left(l.va_number, 4)))
      FROM statement_lines l JOIN bank_statements bs ON bs.id = l.statement_id
     WHERE l.statement_id = ${statementId} AND l.status = 'new'
     ORDER BY coalesce(l.utr, l.id::text), l.line_no
    ON CONFLICT DO NOTHING`.execute(trx);
  counts.newCredits = n(created);
  await sql`
    UPDATE statement_lines l SET status = 'matched', reason = 'new credit', credit_id = c.id
      FROM bank_credits c WHERE l.statement_id = ${statementId} AND l.status = 'new' AND c.statement_line_id = l.id`.execute(trx);
  // A second line with the same UTR in this file (or one credited meanwhile): the same credit,
  // under the same rules (its amount, its account).
  await confirmKnownUtrs(trx, statementId, counts);
  await sql`ANALYZE bank_credits`.execute(trx);

  // Candidates for the new credits: tier 1 the virtual account; tier 2 a batch reference in the
  // narrative, or a known payer account with the exact amount of one open challan.
  await sql`
    CREATE TEMP TABLE IF NOT EXISTS recon_candidates (credit_id bigint, challan_id bigint, rule text) ON COMMIT DROP`.execute(trx);
  await sql`TRUNCATE recon_candidates`.execute(trx);
  await sql`
    INSERT INTO recon_candidates (credit_id, challan_id, rule)
    SELECT c.id, ch.id, 'virtual_account'
      FROM bank_credits c JOIN statement_lines l ON l.id = c.statement_line_id
      -- Only a challan of the discom whose account the money came into: money in one discom's
      -- account never pays the other's bills, whatever the remitter wrote.
      LEFT JOIN challans ch ON ch.va_number = c.va_number AND (c.discom_id IS NULL OR ch.discom_id = c.discom_id)
     WHERE l.statement_id = ${statementId} AND c.status = 'received' AND c.va_number IS NOT NULL`.execute(trx);
  await sql`
    INSERT INTO recon_candidates (credit_id, challan_id, rule)
    SELECT DISTINCT c.id, ch.id, 'batch_reference'
      FROM bank_credits c JOIN statement_lines l ON l.id = c.statement_line_id
      -- Every reference written in the narrative, each looked up by the unique index (a LIKE
      -- against every batch would be quadratic: credits × batches).
      CROSS JOIN LATERAL regexp_matches(upper(c.narrative), 'PB[0-9]{8}', 'g') AS m(ref)
      JOIN payment_batches b ON b.reference = m.ref[1]
      JOIN challans ch ON ch.batch_id = b.id AND ch.status IN ('active', 'expired') AND (c.discom_id IS NULL OR ch.discom_id = c.discom_id)
     WHERE l.statement_id = ${statementId} AND c.status = 'received' AND c.va_number IS NULL AND c.narrative ~* 'PB[0-9]{8}'`.execute(trx);
  await sql`
    INSERT INTO recon_candidates (credit_id, challan_id, rule)
    SELECT c.id, ch.id, 'payer_account_amount'
      FROM bank_credits c JOIN statement_lines l ON l.id = c.statement_line_id
      JOIN (SELECT DISTINCT k.payer_account, ch0.org_id FROM bank_credits k JOIN challans ch0 ON ch0.id = k.challan_id
             WHERE k.status = 'applied' AND k.payer_account IS NOT NULL) known ON known.payer_account = c.payer_account
      JOIN challans ch ON ch.org_id = known.org_id AND ch.status IN ('active', 'expired') AND ch.amount_paise = c.amount_paise
                      AND (c.discom_id IS NULL OR ch.discom_id = c.discom_id)
     WHERE l.statement_id = ${statementId} AND c.status = 'received' AND c.va_number IS NULL
       AND NOT EXISTS (SELECT 1 FROM recon_candidates r WHERE r.credit_id = c.id)`.execute(trx);

  // One candidate: waits to be applied. None, several, or a virtual account no challan has: held.
  const decided = await sql<{ waiting: number; exceptions: number }>`
    WITH per AS (
      SELECT c.id, c.utr, c.amount_paise, c.va_number,
             count(r.challan_id) AS n, min(r.challan_id) AS challan_id, min(r.rule) AS rule
        FROM bank_credits c JOIN statement_lines l ON l.id = c.statement_line_id
        LEFT JOIN recon_candidates r ON r.credit_id = c.id
       WHERE l.statement_id = ${statementId} AND c.status = 'received'
       GROUP BY c.id),
    waiting AS (
      UPDATE bank_credits c SET challan_id = per.challan_id, match_rule = per.rule
        FROM per WHERE c.id = per.id AND per.n = 1 RETURNING c.id),
    held AS (
      UPDATE bank_credits c SET status = 'held'
        FROM per WHERE c.id = per.id AND per.n <> 1
      RETURNING c.id, c.utr, c.amount_paise, per.n, per.va_number, c.discom_id),
    ex AS (
      INSERT INTO recon_exceptions (reason, credit_id, amount_paise, detail, discom_id)
      SELECT CASE WHEN h.va_number IS NOT NULL AND h.n = 0 THEN 'unknown_va' WHEN h.n = 0 THEN 'no_candidate' ELSE 'several_candidates' END,
             h.id, h.amount_paise,
             CASE WHEN h.va_number IS NOT NULL AND h.n = 0 AND EXISTS (SELECT 1 FROM challans x WHERE x.va_number = h.va_number)
                    THEN 'virtual account ' || h.va_number || ' is a challan of another discom, but the money came into this discom''s account'
                  WHEN h.va_number IS NOT NULL AND h.n = 0 THEN 'no challan has virtual account ' || h.va_number
                  WHEN h.n = 0 THEN 'no virtual account, batch reference or known payer with this amount'
                  ELSE h.n || ' open challans fit' END,
             h.discom_id
        FROM held h RETURNING credit_id),
    txn AS (
      INSERT INTO ledger_transactions (kind, credit_id, memo)
      SELECT 'credit_held', h.id, 'credit_held ' || coalesce(h.utr, 'credit ' || h.id) FROM held h
      RETURNING id, credit_id),
    entries AS (
      INSERT INTO ledger_entries (txn_id, account, connection_id, amount_paise)
      SELECT t.id, k.account, NULL, k.sign * h.amount_paise
        FROM txn t JOIN held h ON h.id = t.credit_id CROSS JOIN (VALUES ('bank', 1), ('suspense', -1)) AS k(account, sign))
    SELECT (SELECT count(*)::int FROM waiting) AS waiting, (SELECT count(*)::int FROM ex) AS exceptions`.execute(trx);
  counts.waiting = decided.rows[0]!.waiting;
  counts.exceptions = decided.rows[0]!.exceptions;
  return counts;
}

/**
 * Applies credits that have their one candidate challan, each in its own transaction under the
 * challan's lock (matchCredit checks the amount, the deadline and the challan's state): all of
 * them, or one discom's (after a discom's own import).
 */
export async function applyWaitingCredits(db: Db, limit = 200, discomId: bigint | null = null): Promise<{ applied: number; held: number }> {
  const rows = await db
    .selectFrom('bank_credits')
    .select(['id', 'challan_id', 'match_rule'])
    .where('status', '=', 'received')
    .where('challan_id', 'is not', null)
    .$if(discomId !== null, (q) => q.where('discom_id', '=', discomId!))
    .orderBy('id')
    .limit(limit)
    .execute();
  let applied = 0;
  let held = 0;
  for (const r of rows) {
    const out = await db.transaction().execute((trx) => matchCredit(trx, r.id, 'statement', { challanId: r.challan_id!, rule: r.match_rule ?? 'statement' }));
    if (out.outcome === 'applied') applied++;
    else if (out.outcome === 'held') held++;
  }
  return { applied, held };
}
