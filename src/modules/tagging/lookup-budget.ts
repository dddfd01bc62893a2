import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Text } from '../../platform/errors.ts';

/**
 * The daily lookup limit of mass tagging (TAG_LOOKUPS_PER_DAY, decision 0014).
 *
 * An upload answers, row by row, whether a consumer number exists, whose it is and whether a
 * guessed bill matches: up to 1,00,000 answers per file. So each organisation may learn only so
 * much a day about connections it has not shown to be its own. A row counts (is a "lookup") when
 * its number was looked up and the answer is not the organisation's own business:
 *
 * - counted: not found (and a neighbour with leading zeros), in more than one discom, named twice
 *   (the second row says the first was found), an office code refused after the number was found,
 *   a wrong bill proof, tagged to another organisation, a request for the discom (found, with no
 *   proof of ownership), and, untagging, found but not tagged to the organisation;
 * - not counted: the organisation's own (already tagged or requested by it, a tag it untags),
 *   a connection it proves its own (owner PAN or department code in the master, or the latest
 *   bill's number or amount), and rows refused before any lookup (format, unknown discom).
 *
 * Counted rows past what is left of the day's limit, in file order, fail with their own problem,
 * and their finding is wiped: a refused row tells nothing about its number. The charge is made
 * in the transaction that marks the upload validated, under a lock on the organisation's day, so
 * uploads validated at once are charged in turn and a validation that fails charges nothing.
 * The commit then applies every valid row or none, as always.
 */

export const LOOKUP_LIMIT_PROBLEM = 'daily_lookup_limit';

export const lookupLimitText = {
  [LOOKUP_LIMIT_PROBLEM]: (perDay: string): Text => ({
    en: `Not checked: your organisation has used today's limit of ${perDay} rows about connections it has not shown to be its own (not found, another's, or without proof). Upload it again tomorrow, or with its latest bill number as proof.`,
    hi: `जाँच नहीं हुई: आपकी संस्था ने आज की ${perDay} पंक्तियों की सीमा उन कनेक्शनों के लिए पूरी कर ली है जिन्हें उसने अपना नहीं दिखाया है (नहीं मिले, किसी और के, या बिना प्रमाण)। इसे कल फिर अपलोड करें, या नवीनतम बिल संख्या को प्रमाण के रूप में दें।`,
  }),
};

const COUNTED_PROBLEMS = ['not_found', 'lost_leading_zero', 'ambiguous_discom', 'duplicate_in_file', 'unknown_office', 'proof_mismatch', 'tagged_elsewhere', 'not_tagged'];
const counted = sql`(r.outcome = 'request' OR r.problem IN (${sql.join(COUNTED_PROBLEMS)}))`;
const istToday = sql`(now() AT TIME ZONE 'Asia/Kolkata')::date`;

/** Charges a checked upload's lookups to its organisation's day; refuses the rows past the limit. */
export async function chargeLookups(trx: Kysely<DB>, job: { id: bigint; org_id: bigint }, perDay: number): Promise<void> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM tag_job_rows r WHERE r.job_id = ${job.id} AND ${counted}`.execute(trx);
  const n = Number(rows[0]!.n);
  if (n === 0) return;
  await sql`INSERT INTO tag_lookup_days (org_id, day, used) VALUES (${job.org_id}, ${istToday}, 0) ON CONFLICT DO NOTHING`.execute(trx);
  const day = await sql<{ used: number }>`SELECT used FROM tag_lookup_days WHERE org_id = ${job.org_id} AND day = ${istToday} FOR UPDATE`.execute(trx);
  const allowed = Math.max(0, Math.min(n, perDay - Number(day.rows[0]!.used)));
  if (allowed < n) {
    await sql`
      UPDATE tag_job_rows r SET outcome = 'error', problem = ${LOOKUP_LIMIT_PROBLEM}, detail = ${perDay.toLocaleString('en-IN')},
             connection_id = NULL, office_id = NULL, method = NULL
        FROM (SELECT r.row_no, row_number() OVER (ORDER BY r.row_no) AS k FROM tag_job_rows r WHERE r.job_id = ${job.id} AND ${counted}) x
       WHERE r.job_id = ${job.id} AND r.row_no = x.row_no AND x.k > ${allowed}`.execute(trx);
  }
  await sql`UPDATE tag_lookup_days SET used = used + ${allowed} WHERE org_id = ${job.org_id} AND day = ${istToday}`.execute(trx);
  await trx.updateTable('tag_jobs').set({ lookups_charged: allowed, lookups_refused: n - allowed }).where('id', '=', job.id).execute();
}

export interface LookupBudget {
  perDay: number;
  usedToday: number;
  remainingToday: number;
}

/** What is left of the organisation's lookups today (IST). */
export async function lookupBudget(db: Kysely<DB>, orgId: bigint, perDay: number): Promise<LookupBudget> {
  const { rows } = await sql<{ used: number }>`SELECT used FROM tag_lookup_days WHERE org_id = ${orgId} AND day = ${istToday}`.execute(db);
  const used = Number(rows[0]?.used ?? 0);
  return { perDay, usedToday: used, remainingToday: Math.max(0, perDay - used) };
}
