import { configSpec } from './platform/config.ts';
import type { Database } from './platform/db/database.ts';
import { JobRunner, type RunnerOptions } from './platform/jobs.ts';
import { failStatementImport, runStatementImport } from './modules/reconciliation/statement-imports.ts';
import { commitJob, failJob, validateJob } from './modules/tagging/index.ts';

/**
 * Every durable job kind and its handler, on one runner (the app process, or a worker): mass
 * tagging and statement imports. limits.tagLookupsPerDay: TAG_LOOKUPS_PER_DAY (its default when not given).
 */
export function buildJobRunner(database: Database, opts: RunnerOptions = {}, limits: { tagLookupsPerDay?: number } = {}): JobRunner {
  const lookupsPerDay = limits.tagLookupsPerDay ?? Number(configSpec.find((s) => s.env === 'TAG_LOOKUPS_PER_DAY')!.default);
  return new JobRunner(database.db, opts)
    .register('tag-job.validate', (job, heartbeat) => validateJob(database, BigInt(job.payload.jobId as string), heartbeat, lookupsPerDay))
    .register('tag-job.commit', (job) => commitJob(database.db, BigInt(job.payload.jobId as string)))
    .onFinalFailure('tag-job.validate', (job, error) => failJob(database.db, job, error))
    .onFinalFailure('tag-job.commit', (job, error) => failJob(database.db, job, error))
    .register('statement.import', (job) => runStatementImport(database.db, BigInt(job.payload.importId as string), job.attempts))
    .onFinalFailure('statement.import', (job, error) => failStatementImport(database.db, BigInt(job.payload.importId as string), error));
}
