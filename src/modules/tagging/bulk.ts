import { bytesIn, bytesOf, bytesOut } from '../../platform/db/bytes.ts';
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.ts';
import type { DB, RowOutcome } from '../../platform/db/schema.ts';
import { AppError, type Text } from '../../platform/errors.ts';
import { enqueue, PermanentJobError, type JobRow } from '../../platform/jobs.ts';
import { csvLine } from '../../platform/csv.ts';
import { officeInScope, scopeOf } from '../../platform/office-scope.ts';
import type { RequestMeta, UserPrincipal } from '../../platform/principal.ts';
import { recordAudit } from '../audit/index.ts';
import { UploadError, openUpload } from './upload-parse.ts';
import { chargeLookups, lookupLimitText } from './lookup-budget.ts';

/**
 * Mass tagging and untagging by upload, as durable jobs.
 *
 * 1. Upload: the file is stored with its job (status uploaded) and a validate job is queued.
 * 2. Validate (job): the file is read as a stream, every row stored as read (COPY, in chunks,
 *    with progress), each consumer number checked for spreadsheet damage in code, then every
 *    row checked set-based in SQL: exists, discom, duplicate in the file, office, proof, tagged
 *    already by this organisation (no-op) or by another (conflict), and ownership: the owner
 *    identifiers of the master (PAN or department code) or a matching bill proof activate the
 *    tag; otherwise it becomes a request for the discom. A restarted validation starts over.
 * 3. Preview: counts by outcome and the problem rows (downloadable).
 * 4. Commit (job): one transaction applies every valid row or none. A connection that another
 *    organisation took meanwhile is counted as a conflict, decided by the database's unique
 *    index on active tags, so two organisations racing for one connection never both win.
 *    Committing again, or uploading the same file again, changes nothing.
 *
 * A bulk operation is one audit entry (file hash, counts, job id); every tag it made carries
 * the job id.
 *
 * An upload belongs to its uploader's office (the head office for an uploader of the whole
 * organisation): its rows are checked against that office's subtree, and only users at or above
 * it see the upload or act on it (decision 0011).
 */

export const MAX_ROWS = 100_000;
export const MAX_BYTES = 20 * 1024 * 1024;
const CHUNK = 5000;

type Problem =
  | 'missing_consumer' | 'scientific_notation' | 'decimal_number' | 'grouped_number' | 'bad_format' | 'unknown_discom'
  | 'not_found' | 'lost_leading_zero' | 'ambiguous_discom' | 'duplicate_in_file' | 'unknown_office' | 'proof_mismatch'
  | 'tagged_elsewhere' | 'already_tagged' | 'already_requested' | 'not_tagged' | 'tagged_meanwhile' | 'too_many_rows';

export const problemText: Record<Problem, (detail: string) => Text> = {
  missing_consumer: () => ({ en: 'No consumer number.', hi: 'उपभोक्ता संख्या नहीं है।' }),
  scientific_notation: (d) => ({ en: `"${d}" is in scientific notation: the spreadsheet lost digits. Format the column as text and export again.`, hi: `"${d}" वैज्ञानिक संकेतन में है: स्प्रेडशीट ने अंक खो दिए। कॉलम को टेक्स्ट बनाकर फिर से निर्यात करें।` }),
  decimal_number: (d) => ({ en: `"${d}" has a decimal part: the spreadsheet stored it as a number.`, hi: `"${d}" में दशमलव भाग है: स्प्रेडशीट ने इसे संख्या के रूप में रखा।` }),
  grouped_number: (d) => ({ en: `"${d}" has digit separators: the spreadsheet formatted it as a number.`, hi: `"${d}" में अंक-विभाजक हैं: स्प्रेडशीट ने इसे संख्या के रूप में प्रारूपित किया।` }),
  bad_format: (d) => ({ en: `"${d}" is not a consumer number (6 to 16 digits).`, hi: `"${d}" उपभोक्ता संख्या नहीं है (6 से 16 अंक)।` }),
  unknown_discom: (d) => ({ en: `Unknown discom "${d}".`, hi: `अज्ञात डिस्कॉम "${d}"।` }),
  not_found: (d) => ({ en: `Consumer ${d} is not in the discom's records.`, hi: `उपभोक्ता ${d} डिस्कॉम के रिकॉर्ड में नहीं है।` }),
  lost_leading_zero: (d) => ({ en: `Not found; ${d} exists: the spreadsheet may have dropped leading zeros. Not tagged: check and upload again.`, hi: `नहीं मिला; ${d} मौजूद है: स्प्रेडशीट ने आरंभिक शून्य हटा दिए होंगे। टैग नहीं किया गया: जाँचकर फिर अपलोड करें।` }),
  ambiguous_discom: (d) => ({ en: `Consumer ${d} exists in more than one discom: give the discom.`, hi: `उपभोक्ता ${d} एक से अधिक डिस्कॉम में है: डिस्कॉम बताएँ।` }),
  duplicate_in_file: (d) => ({ en: `Consumer ${d} appears earlier in the file.`, hi: `उपभोक्ता ${d} फ़ाइल में पहले आ चुका है।` }),
  unknown_office: (d) => ({ en: `Unknown office code "${d}".`, hi: `अज्ञात कार्यालय कोड "${d}"।` }),
  proof_mismatch: (d) => ({ en: `The proof "${d}" matches neither the latest bill's number nor its amount.`, hi: `प्रमाण "${d}" न नवीनतम बिल की संख्या से मेल खाता है न उसकी राशि से।` }),
  tagged_elsewhere: () => ({ en: 'Tagged to another organisation: ask for a transfer.', hi: 'किसी अन्य संस्था से टैग है: स्थानांतरण का अनुरोध करें।' }),
  already_tagged: () => ({ en: 'Already tagged to your organisation.', hi: 'पहले से आपकी संस्था से टैग है।' }),
  already_requested: () => ({ en: 'Already requested; waiting for the discom.', hi: 'पहले से अनुरोधित; डिस्कॉम की प्रतीक्षा में।' }),
  not_tagged: () => ({ en: 'Not tagged to your organisation.', hi: 'आपकी संस्था से टैग नहीं है।' }),
  tagged_meanwhile: () => ({ en: 'Another organisation tagged it after the check.', hi: 'जाँच के बाद किसी अन्य संस्था ने इसे टैग कर लिया।' }),
  too_many_rows: () => ({ en: `More than ${MAX_ROWS.toLocaleString('en-IN')} rows.`, hi: `${MAX_ROWS.toLocaleString('en-IN')} से अधिक पंक्तियाँ।` }),
  ...lookupLimitText,
};

/** Spreadsheet damage and format, in code: never a guess, only a finding. */
export function checkConsumerNo(raw: string | null): { consumerNo: string } | { problem: Problem; detail: string } {
  if (!raw) return { problem: 'missing_consumer', detail: '' };
  let v = raw.trim();
  if (v.startsWith("'")) v = v.slice(1); // Excel's text marker
  if (/^[+-]?\d+(\.\d+)?[eE][+-]?\d+$/.test(v)) return { problem: 'scientific_notation', detail: v };
  if (/^\d+\.\d+$/.test(v)) return { problem: 'decimal_number', detail: v };
  if (/^\d{1,3}([,\s]\d{2,3})+$/.test(v)) return { problem: 'grouped_number', detail: v };
  if (!/^\d{6,16}$/.test(v)) return { problem: 'bad_format', detail: v.slice(0, 40) };
  return { consumerNo: v };
}

export interface JobView {
  id: string;
  kind: 'tag' | 'untag';
  fileName: string;
  status: string;
  rowsTotal: number | null;
  rowsDone: number;
  counts: Record<string, number>;
  error: string | null;
  createdAt: string;
  committedAt: string | null;
}

export async function createJob(
  db: Kysely<DB>,
  p: UserPrincipal,
  input: { kind: 'tag' | 'untag'; fileName: string; content: Buffer; reason?: string | undefined; officeId?: bigint | null },
  meta: RequestMeta,
): Promise<bigint> {
  if (input.content.length > MAX_BYTES) throw new AppError('PAYLOAD_TOO_LARGE');
  if (input.kind === 'untag' && !input.reason?.trim()) {
    throw new AppError('VALIDATION_FAILED', [{ path: 'query.reason', problem: 'required', message: { en: 'give the reason for untagging', hi: 'टैग हटाने का कारण दें' } }]);
  }
  return db.transaction().execute(async (trx) => {
    // Rows without an office code go to the chosen office, else the uploader's, else HQ.
    const hq = await trx.selectFrom('offices').select('id').where('org_id', '=', p.orgId!).where('kind', '=', 'hq').executeTakeFirst();
    const job = await trx
      .insertInto('tag_jobs')
      .values({
        org_id: p.orgId!,
        kind: input.kind,
        file_name: input.fileName.slice(0, 200),
        file_sha256: createHash('sha256').update(input.content).digest('hex'),
        file_size: input.content.length,
        status: 'uploaded',
        untag_reason: input.reason?.trim() || null,
        default_office_id: input.officeId ?? p.officeId ?? hq?.id ?? null,
        office_id: p.officeId ?? hq?.id ?? null,
        created_by: p.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('tag_job_files').values({ job_id: job.id, content: bytesIn(input.content) }).execute();
    await enqueue(trx, 'tag-job.validate', { jobId: job.id.toString() }, { maxAttempts: 3, group: `org:${p.orgId}` });
    await recordAudit(trx, { action: `tag.${input.kind}_upload`, actor: p, orgId: p.orgId, target: { type: 'tag_job', id: job.id }, details: { file: input.fileName.slice(0, 200), bytes: input.content.length }, meta });
    return job.id;
  });
}

// ---- validation ---------------------------------------------------------------------------

const ROW_COLUMNS = ['job_id', 'row_no', 'consumer_raw', 'discom_raw', 'office_raw', 'proof_raw', 'consumer_no', 'outcome', 'problem', 'detail'] as const;

/** lookupsPerDay: TAG_LOOKUPS_PER_DAY (lookup-budget.ts). */
export async function validateJob(database: Database, jobId: bigint, heartbeat: () => Promise<void>, lookupsPerDay: number): Promise<void> {
  const { db } = database;
  const job = await db.selectFrom('tag_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  if (!job || !['uploaded', 'validating'].includes(job.status)) return; // done already, or cancelled
  // Starting (or starting over): what an earlier attempt stored is discarded.
  await db.deleteFrom('tag_job_rows').where('job_id', '=', jobId).execute();
  await db.updateTable('tag_jobs').set({ status: 'validating', rows_done: 0, error: null }).where('id', '=', jobId).execute();
  const file = await db.selectFrom('tag_job_files').select(bytesOut('content').as('content')).where('job_id', '=', jobId).executeTakeFirstOrThrow();
  let upload;
  try {
    upload = await openUpload(bytesOf(file.content), { maxRows: MAX_ROWS });
  } catch (e) {
    if (e instanceof UploadError) throw new PermanentJobError(e.message);
    throw e;
  }
  await db
    .updateTable('tag_jobs')
    .set({ file_format: upload.info.format, encoding: upload.info.encoding, rows_total: upload.info.estimatedRows })
    .where('id', '=', jobId)
    .execute();

  let buffer: string[] = [];
  let count = 0;
  const flush = async () => {
    if (!buffer.length) return;
    const lines = buffer;
    buffer = [];
    await database.withClient((c) => c.copyFromCsv('tag_job_rows', ROW_COLUMNS, lines));
    await db.updateTable('tag_jobs').set({ rows_done: count }).where('id', '=', jobId).execute();
    await heartbeat();
  };
  try {
    for await (const r of upload.rows) {
      count++;
      if (count > MAX_ROWS) throw new PermanentJobError(problemText.too_many_rows('').en);
      const c = checkConsumerNo(r.consumer);
      const bad = 'problem' in c;
      buffer.push(
        csvLine([
          jobId, r.rowNo, r.consumer, r.discom, r.office, r.proof, bad ? null : c.consumerNo,
          bad ? 'error' : null, bad ? c.problem : null, bad ? c.detail : null,
        ]),
      );
      if (buffer.length >= CHUNK) await flush();
    }
  } catch (e) {
    if (e instanceof UploadError) throw new PermanentJobError(e.message);
    throw e;
  }
  await flush();
  await db.updateTable('tag_jobs').set({ rows_total: count, rows_done: count }).where('id', '=', jobId).execute();
  // Fresh statistics for the rows just loaded: planned from stale ones (a job's rows estimated at
  // one), the checks and the commit's anti-joins chose nested loops over whole queues.
  await sql`ANALYZE tag_job_rows`.execute(db);
  await db.transaction().execute(async (trx) => {
    await (job.kind === 'tag' ? checkTagRows(trx, job.id, job.org_id) : checkUntagRows(trx, job.id, job.org_id));
    await chargeLookups(trx, job, lookupsPerDay);
    const counts = await countOutcomes(trx, jobId);
    await trx.updateTable('tag_jobs').set({ status: 'validated', validated_at: sql<Date>`now()`, counts: JSON.stringify(counts) }).where('id', '=', jobId).where('status', '=', 'validating').execute();
  });
}

/** Marks each still-unjudged row with the first problem found, or an outcome. Set-based. */
async function resolveConnections(trx: Kysely<DB>, jobId: bigint, orgId: bigint): Promise<void> {
  // The discom, where given.
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'unknown_discom', detail = r.discom_raw
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND r.discom_raw IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM discoms d WHERE d.code = upper(trim(r.discom_raw)))`.execute(trx);
  // The connection: by discom and number, or by number alone when it is unique across discoms.
  await sql`
    UPDATE tag_job_rows r SET connection_id = m.id
      FROM (SELECT r2.row_no, min(c.id) AS id, count(*) AS n
              FROM tag_job_rows r2
              JOIN connections c ON c.consumer_no = r2.consumer_no
              LEFT JOIN discoms d ON d.id = c.discom_id
             WHERE r2.job_id = ${jobId} AND r2.outcome IS NULL
               AND (r2.discom_raw IS NULL OR d.code = upper(trim(r2.discom_raw)))
             GROUP BY r2.row_no) m
     WHERE r.job_id = ${jobId} AND r.row_no = m.row_no AND m.n = 1`.execute(trx);
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'ambiguous_discom', detail = r.consumer_no
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND r.connection_id IS NULL
       AND (SELECT count(*) FROM connections c WHERE c.consumer_no = r.consumer_no) > 1`.execute(trx);
  // Not found: say so, and point out the number with one or two leading zeros if that exists.
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error',
           problem = CASE WHEN z.consumer_no IS NOT NULL THEN 'lost_leading_zero' ELSE 'not_found' END,
           detail = coalesce(z.consumer_no, r.consumer_no)
      FROM tag_job_rows r2
      LEFT JOIN LATERAL (
        SELECT c.consumer_no FROM connections c
         WHERE c.consumer_no IN ('0' || r2.consumer_no, '00' || r2.consumer_no)
         ORDER BY length(c.consumer_no) LIMIT 1) z ON true
     WHERE r.job_id = ${jobId} AND r2.job_id = r.job_id AND r2.row_no = r.row_no
       AND r.outcome IS NULL AND r.connection_id IS NULL`.execute(trx);
  // A connection named twice: the first row counts.
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'duplicate_in_file', detail = r.consumer_no
      FROM (SELECT row_no, row_number() OVER (PARTITION BY connection_id ORDER BY row_no) AS n
              FROM tag_job_rows WHERE job_id = ${jobId} AND connection_id IS NOT NULL AND outcome IS NULL) x
     WHERE r.job_id = ${jobId} AND r.row_no = x.row_no AND x.n > 1`.execute(trx);
  // The office: a code of this organisation, within the upload's office; else the job's default.
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'unknown_office', detail = r.office_raw
      FROM tag_jobs j
     WHERE r.job_id = ${jobId} AND j.id = r.job_id AND r.outcome IS NULL AND r.office_raw IS NOT NULL
       AND NOT EXISTS (
         SELECT 1 FROM offices f
           LEFT JOIN offices scope ON scope.id = j.office_id
          WHERE f.org_id = ${orgId} AND f.code = upper(trim(r.office_raw))
            AND (scope.id IS NULL OR f.path LIKE scope.path || '%'))`.execute(trx);
}

async function checkTagRows(trx: Kysely<DB>, jobId: bigint, orgId: bigint): Promise<void> {
  await resolveConnections(trx, jobId, orgId);
  // Proof, where given: the latest bill's number, or its amount payable (by or after the due date).
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'proof_mismatch', detail = r.proof_raw
      FROM (SELECT DISTINCT ON (connection_id) connection_id, bill_no, net_payable_paise, payable_after_due_paise
              FROM bills WHERE connection_id IN (SELECT connection_id FROM tag_job_rows WHERE job_id = ${jobId} AND proof_raw IS NOT NULL)
             ORDER BY connection_id, bill_month DESC) b
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND r.proof_raw IS NOT NULL AND b.connection_id = r.connection_id
       AND trim(r.proof_raw) <> b.bill_no
       AND NOT (replace(trim(r.proof_raw), ',', '') ~ '^[0-9]{1,13}(\\.[0-9]{1,2})?$'
                AND round(replace(trim(r.proof_raw), ',', '')::numeric * 100)::bigint IN (b.net_payable_paise, b.payable_after_due_paise))`.execute(trx);
  await sql`
    UPDATE tag_job_rows r SET outcome = 'error', problem = 'proof_mismatch', detail = r.proof_raw
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND r.proof_raw IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM bills b WHERE b.connection_id = r.connection_id)`.execute(trx);
  // Already ours (active, or requested), or someone else's.
  await sql`
    UPDATE tag_job_rows r SET outcome = CASE WHEN t.org_id = ${orgId} THEN 'noop' ELSE 'conflict' END,
           problem = CASE WHEN t.org_id = ${orgId} THEN 'already_tagged' ELSE 'tagged_elsewhere' END
      FROM tags t
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND t.connection_id = r.connection_id AND t.status = 'active'`.execute(trx);
  await sql`
    UPDATE tag_job_rows r SET outcome = 'noop', problem = 'already_requested'
      FROM tags t
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND t.connection_id = r.connection_id AND t.org_id = ${orgId} AND t.status = 'requested'`.execute(trx);
  // Ownership: the master's owner identifiers, or a bill proof, activate; the rest ask the discom.
  // The office (the row's code, checked above, else the job's default) is set in the same pass.
  await sql`
    UPDATE tag_job_rows r SET
        office_id = coalesce(
          (SELECT f.id FROM offices f WHERE f.org_id = ${orgId} AND r.office_raw IS NOT NULL AND f.code = upper(trim(r.office_raw))),
          j.default_office_id),
        method = CASE
          WHEN (o.pan IS NOT NULL AND c.owner_pan = o.pan) OR (o.department_code IS NOT NULL AND c.owner_dept_code = o.department_code) THEN 'owner_match'
          WHEN r.proof_raw IS NULL THEN 'discom_approval'
          WHEN trim(r.proof_raw) = (SELECT b.bill_no FROM bills b WHERE b.connection_id = r.connection_id ORDER BY b.bill_month DESC LIMIT 1) THEN 'bill_number'
          ELSE 'bill_amount' END,
        outcome = CASE
          WHEN r.proof_raw IS NOT NULL
            OR (o.pan IS NOT NULL AND c.owner_pan = o.pan)
            OR (o.department_code IS NOT NULL AND c.owner_dept_code = o.department_code) THEN 'activate'
          ELSE 'request' END
      FROM connections c, organisations o, tag_jobs j
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND c.id = r.connection_id AND o.id = ${orgId} AND j.id = ${jobId}`.execute(trx);
}

async function checkUntagRows(trx: Kysely<DB>, jobId: bigint, orgId: bigint): Promise<void> {
  await resolveConnections(trx, jobId, orgId);
  await sql`
    UPDATE tag_job_rows r SET outcome = 'untag'
      FROM tags t
      JOIN tag_jobs j ON j.id = ${jobId}
      LEFT JOIN offices scope ON scope.id = j.office_id
      LEFT JOIN offices f ON f.id = t.office_id
     WHERE r.job_id = ${jobId} AND r.outcome IS NULL AND t.connection_id = r.connection_id AND t.org_id = ${orgId}
       AND t.status = 'active'
       -- within the upload's office; a tag without an office counts as the head office's
       AND (scope.id IS NULL OR f.path LIKE scope.path || '%' OR (f.id IS NULL AND scope.parent_id IS NULL))`.execute(trx);
  await sql`UPDATE tag_job_rows SET outcome = 'noop', problem = 'not_tagged' WHERE job_id = ${jobId} AND outcome IS NULL`.execute(trx);
}

async function countOutcomes(trx: Kysely<DB>, jobId: bigint): Promise<Record<string, number>> {
  const rows = await trx
    .selectFrom('tag_job_rows')
    .select(['outcome', sql<bigint>`count(*)`.as('n')])
    .where('job_id', '=', jobId)
    .groupBy('outcome')
    .execute();
  const out: Record<string, number> = { activate: 0, request: 0, untag: 0, noop: 0, conflict: 0, error: 0 };
  for (const r of rows) out[r.outcome ?? 'error'] = Number(r.n);
  return out;
}

// ---- commit -------------------------------------------------------------------------------

export async function requestCommit(db: Kysely<DB>, p: UserPrincipal, jobId: bigint, meta: RequestMeta): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const scope = scopeOf(p);
    const job = await trx
      .selectFrom('tag_jobs')
      .selectAll()
      .where('id', '=', jobId)
      .where('org_id', '=', scope.orgId)
      .where(officeInScope(scope, sql.ref('office_id')))
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new AppError('NOT_FOUND');
    if (job.status === 'committing' || job.status === 'committed') return; // asked twice: nothing more to do
    if (job.status !== 'validated') {
      throw new AppError('CONFLICT', [], { en: `The upload is ${job.status}; it can be committed once it is validated.`, hi: `अपलोड की स्थिति ${job.status} है; सत्यापन के बाद ही इसे लागू किया जा सकता है।` });
    }
    await trx.updateTable('tag_jobs').set({ status: 'committing', committed_by: p.userId }).where('id', '=', jobId).execute();
    await enqueue(trx, 'tag-job.commit', { jobId: jobId.toString() }, { maxAttempts: 5, group: `org:${p.orgId}` });
    await recordAudit(trx, { action: `tag.${job.kind}_commit_requested`, actor: p, orgId: p.orgId, target: { type: 'tag_job', id: jobId }, meta });
  });
}

export async function commitJob(db: Kysely<DB>, jobId: bigint): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const job = await trx.selectFrom('tag_jobs').selectAll().where('id', '=', jobId).forUpdate().executeTakeFirst();
    if (!job || job.status !== 'committing') return; // committed already (a retry), or not asked
    const actor = job.committed_by ?? job.created_by;
    if (job.kind === 'tag') {
      // The outcomes as validated: an insert that wrote fewer rows skipped some, to be marked.
      const counts0 = job.counts;
      // Active tags: the unique index decides any race with another organisation; a row whose
      // insert was skipped (tagged by someone else since validation) is then marked, by looking
      // its tag up by index; in the usual case every row went in and there is nothing to mark.
      const activated = await sql`
        INSERT INTO tags (org_id, connection_id, office_id, status, method, source, job_id, requested_by, activated_at, decided_at)
        SELECT ${job.org_id}, r.connection_id, r.office_id, 'active', r.method, 'upload', ${jobId}, ${actor}, now(), now()
          FROM tag_job_rows r
         WHERE r.job_id = ${jobId} AND r.outcome = 'activate'
         ORDER BY r.row_no
        ON CONFLICT (connection_id) WHERE status = 'active' DO NOTHING`.execute(trx);
      if (Number(activated.numAffectedRows ?? 0) < (counts0.activate ?? 0)) await sql`
        UPDATE tag_job_rows r SET outcome = 'conflict', problem = 'tagged_meanwhile'
         WHERE r.job_id = ${jobId} AND r.outcome = 'activate'
           AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = r.connection_id AND t.status = 'active' AND t.job_id = ${jobId})`.execute(trx);
      // A request for a connection now active (anyone's), or asked for already by us, is skipped.
      const requested = await sql`
        INSERT INTO tags (org_id, connection_id, office_id, status, method, source, job_id, requested_by)
        SELECT ${job.org_id}, r.connection_id, r.office_id, 'requested', 'discom_approval', 'upload', ${jobId}, ${actor}
          FROM tag_job_rows r
         WHERE r.job_id = ${jobId} AND r.outcome = 'request'
           AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = r.connection_id AND t.status = 'active')
         ORDER BY r.row_no
        ON CONFLICT (org_id, connection_id) WHERE status = 'requested' DO NOTHING`.execute(trx);
      if (Number(requested.numAffectedRows ?? 0) < (counts0.request ?? 0)) await sql`
        UPDATE tag_job_rows r SET outcome = 'conflict', problem = 'tagged_meanwhile'
         WHERE r.job_id = ${jobId} AND r.outcome = 'request'
           AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.connection_id = r.connection_id AND t.org_id = ${job.org_id} AND t.status = 'requested' AND t.job_id = ${jobId})`.execute(trx);
    } else {
      await sql`
        UPDATE tags t SET status = 'untagged', ended_at = now(), ended_by = ${actor}, end_reason = ${job.untag_reason}
          FROM tag_job_rows r
         WHERE r.job_id = ${jobId} AND r.outcome = 'untag' AND t.connection_id = r.connection_id
           AND t.org_id = ${job.org_id} AND t.status = 'active'`.execute(trx);
    }
    const counts = await countOutcomes(trx, jobId);
    await trx.updateTable('tag_jobs').set({ status: 'committed', committed_at: sql<Date>`now()`, counts: JSON.stringify(counts) }).where('id', '=', jobId).execute();
    await recordAudit(trx, {
      action: job.kind === 'tag' ? 'tag.bulk_committed' : 'tag.bulk_untagged',
      actor: null,
      actorLabel: `user-id:${actor}`,
      orgId: job.org_id,
      target: { type: 'tag_job', id: jobId },
      details: { file_sha256: job.file_sha256, file: job.file_name, counts, ...(job.untag_reason ? { reason: job.untag_reason } : {}) },
      meta: null,
    });
  });
}

export async function failJob(db: Kysely<DB>, job: JobRow, error: string): Promise<void> {
  const id = BigInt(job.payload.jobId as string);
  await db.updateTable('tag_jobs').set({ status: 'failed', error: error.slice(0, 1000) }).where('id', '=', id).where('status', 'in', ['uploaded', 'validating', 'committing']).execute();
}

export function jobView(j: {
  id: bigint; kind: 'tag' | 'untag'; file_name: string; status: string; rows_total: number | null; rows_done: number;
  counts: Record<string, number>; error: string | null; created_at: Date; committed_at: Date | null;
}): JobView {
  return {
    id: j.id.toString(), kind: j.kind, fileName: j.file_name, status: j.status, rowsTotal: j.rows_total, rowsDone: j.rows_done,
    counts: j.counts, error: j.error, createdAt: j.created_at.toISOString(), committedAt: j.committed_at?.toISOString() ?? null,
  };
}

export type { RowOutcome };
