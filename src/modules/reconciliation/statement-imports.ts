import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CsvLayout, StatementFormat } from '../../adapters/bank/statements/index.ts';
import { bytesIn, bytesOf, bytesOut } from '../../platform/db/bytes.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { enqueue, PermanentJobError } from '../../platform/jobs.ts';
import { discomScope, type RequestMeta, type UserPrincipal } from '../../platform/principal.ts';
import { applyWaitingCredits, importStatementFile, type ImportedStatement } from './statements.ts';

/**
 * A bank statement imported in the background (issue 17). A large file (over
 * STATEMENT_INLINE_BYTES) is stored with a job, and the request answers 202 at once; the job
 * imports it exactly as a small file is imported while the request waits (importStatementFile:
 * parsed, proved, stored and matched in one transaction), and keeps the outcome for the caller to
 * read: the same body a small import answers with, or the error, named. One discom's imports run
 * one at a time (the job's group), never holding back another discom's or anyone's uploads.
 */

type Db = Kysely<DB>;

export interface StatementImportResult {
  statements: (Omit<ImportedStatement, 'id'> & { id: string | null })[];
  applied: number;
  held: number;
  waiting: number;
}

export interface ImportOptions {
  format?: StatementFormat;
  csvLayout?: CsvLayout;
}

/** Imports now and applies a small statement's credits (what the request answers with). */
export async function importAndApply(db: Db, u: UserPrincipal, file: { name: string; data: Buffer }, opts: ImportOptions, meta: RequestMeta | null): Promise<StatementImportResult> {
  const statements = await importStatementFile(db, u, file, opts, meta);
  // A small statement's credits are applied now (a discom's own only); a large one's by the worker, in the background.
  const waiting = statements.reduce((s, x) => s + x.counts.waiting, 0);
  const r = waiting <= 200 ? await applyWaitingCredits(db, 200, discomScope(u)) : { applied: 0, held: 0 };
  return { statements: statements.map((x) => ({ ...x, id: x.id?.toString() ?? null })), applied: r.applied, held: r.held, waiting: waiting - r.applied - r.held };
}

/** Stores the file and its job; the import follows in the background. */
export async function requestStatementImport(db: Db, u: UserPrincipal, file: { name: string; data: Buffer }, opts: ImportOptions): Promise<bigint> {
  const scope = discomScope(u);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('statement_imports')
      .values({
        requested_by: u.userId, discom_id: scope, file_name: file.name.slice(0, 200), file_sha256: createHash('sha256').update(file.data).digest('hex'),
        file_bytes: file.data.length, data: bytesIn(file.data), format: opts.format ?? null, csv_layout: opts.csvLayout ? JSON.stringify(opts.csvLayout) : null, stage: 'queued',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await enqueue(trx, 'statement.import', { importId: row.id.toString() }, { maxAttempts: 3, group: `statements:${scope ?? 'holding'}` });
    return row.id;
  });
}

/** The job: the import, as its requester would have made it; the outcome kept, the file let go. */
export async function runStatementImport(db: Db, importId: bigint): Promise<void> {
  const imp = await db.selectFrom('statement_imports').select(['status', 'requested_by', 'file_name', 'format', 'csv_layout', bytesOut('data').as('data')]).where('id', '=', importId).executeTakeFirst();
  if (!imp || imp.status === 'done' || imp.status === 'failed') return; // done already (a job may run twice)
  const u = await db.selectFrom('users').select(['id', 'login_id', 'name', 'role', 'discom_id', 'holding', 'status']).where('id', '=', imp.requested_by).executeTakeFirstOrThrow();
  await db.updateTable('statement_imports').set({ status: 'running', stage: 'importing' }).where('id', '=', importId).execute();
  const finish = (v: { status: 'done' | 'failed'; result?: unknown; error?: unknown }) =>
    db
      .updateTable('statement_imports')
      .set({ status: v.status, stage: null, data: null, finished_at: new Date(), result: v.result ? JSON.stringify(v.result) : null, error: v.error ? JSON.stringify(v.error) : null })
      .where('id', '=', importId)
      .execute();
  if (u.status === 'disabled') {
    await finish({ status: 'failed', error: { code: 'FORBIDDEN', message: { en: 'The user who sent this statement was disabled before it was imported.', hi: 'यह विवरण भेजने वाले उपयोगकर्ता को आयात से पहले निष्क्रिय कर दिया गया।' }, details: [] } });
    return;
  }
  const principal: UserPrincipal = {
    kind: 'user', userId: u.id, loginId: u.login_id, name: u.name, role: u.role, orgId: null, officeId: null, officePath: null,
    discomId: u.discom_id, holding: u.holding, sessionId: `statement-import:${importId}`, stage: 'full', csrfToken: '',
  };
  try {
    const result = await importAndApply(
      db,
      principal,
      { name: imp.file_name, data: bytesOf(imp.data) },
      { ...(imp.format ? { format: imp.format as StatementFormat } : {}), ...(imp.csv_layout ? { csvLayout: imp.csv_layout as unknown as CsvLayout } : {}) },
      null,
    );
    await finish({ status: 'done', result });
  } catch (e) {
    if (!(e instanceof AppError)) throw e; // retried by the job runner; failed for good by failStatementImport
    await finish({ status: 'failed', error: { code: e.code, message: e.text, details: e.details } });
  }
}

/** A job that failed for good (not a refusal of the file: those finish the import above). */
export async function failStatementImport(db: Db, importId: bigint, error: string): Promise<void> {
  await db
    .updateTable('statement_imports')
    .set({ status: 'failed', stage: null, data: null, finished_at: new Date(), error: JSON.stringify({ code: 'INTERNAL', message: { en: `The import stopped: ${error.slice(0, 300)}`, hi: `आयात रुक गया: ${error.slice(0, 300)}` }, details: [] }) })
    .where('id', '=', importId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

/** One import, as its requester's discom (or the holding company) may see it. */
export async function statementImportOf(db: Db, u: UserPrincipal, importId: bigint) {
  const scope = discomScope(u);
  let q = db.selectFrom('statement_imports').select(['id', 'file_name', 'file_bytes', 'status', 'stage', 'result', 'error', 'created_at', 'finished_at', 'discom_id']).where('id', '=', importId);
  if (scope !== null) q = q.where('discom_id', '=', scope);
  const r = await q.executeTakeFirst();
  if (!r) throw new AppError('NOT_FOUND');
  return r;
}

export { PermanentJobError };
