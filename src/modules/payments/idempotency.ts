import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../../platform/canonical-json.ts';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';

/**
 * Idempotency-Key for requests that create something. The key is claimed inside the request's
 * own transaction: a concurrent request with the same key waits on the key's row and then
 * replays the committed result; a failed request stores nothing (its error is not replayed, and
 * nothing of it happened). The same key with a different body is refused.
 */

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export interface Stored<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export async function idempotent<T>(
  db: Kysely<DB>,
  scope: string,
  key: string,
  body: unknown,
  run: (trx: Kysely<DB>) => Promise<{ status: number; body: T }>,
): Promise<Stored<T>> {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new AppError('VALIDATION_FAILED', [
      { path: 'headers.idempotency-key', problem: 'pattern', message: { en: 'must be 8 to 128 letters, digits or . _ : -', hi: '8 से 128 अक्षर, अंक या . _ : - होने चाहिए' } },
    ]);
  }
  const hash = requestHash(body);
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .insertInto('idempotency_keys')
      .values({ scope, key, request_hash: hash, status_code: null, response: null })
      .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!claimed) {
      const prior = await trx.selectFrom('idempotency_keys').select(['request_hash', 'status_code', 'response']).where('scope', '=', scope).where('key', '=', key).executeTakeFirstOrThrow();
      if (prior.request_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
      return { status: prior.status_code ?? 200, body: prior.response as T, replayed: true };
    }
    const r = await run(trx);
    await trx
      .updateTable('idempotency_keys')
      .set({ status_code: r.status, response: JSON.stringify(r.body) })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
    return { ...r, replayed: false };
  });
}
