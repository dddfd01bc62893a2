import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { RequestMeta, UserPrincipal } from '../../platform/principal.ts';
import { randomToken, sha256Hex } from '../../platform/tokens.ts';
import { recordAudit } from '../audit/index.ts';

/**
 * API keys for an organisation's ERP. A key is `sgk_<8 letters>_<secret>`: the first part finds
 * it, the whole key is stored only as a SHA-256 hash (keys are long and random, so a fast hash
 * is enough). The key is shown once, when created. Scopes: read (dues, receipts) and pay
 * (payments, from the payments issue on). Revocation is immediate; last use is recorded.
 */

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: ('read' | 'pay')[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz234567';

function newPrefix(): string {
  return `sgk_${[...randomBytes(8)].map((b) => LETTERS[b % 32]).join('')}`;
}

export class ApiKeyService {
  constructor(private readonly db: Kysely<DB>) {}

  async list(orgId: bigint): Promise<ApiKeyView[]> {
    const rows = await this.db
      .selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.id', 'k.created_by')
      .select(['k.id', 'k.name', 'k.prefix', 'k.scopes', 'u.login_id', 'k.created_at', 'k.last_used_at', 'k.revoked_at'])
      .where('k.org_id', '=', orgId)
      .orderBy('k.created_at', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id.toString(),
      name: r.name,
      prefix: r.prefix,
      scopes: r.scopes,
      createdBy: r.login_id,
      createdAt: r.created_at.toISOString(),
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
      revokedAt: r.revoked_at?.toISOString() ?? null,
    }));
  }

  async create(orgId: bigint, actor: UserPrincipal, input: { name: string; scopes: ('read' | 'pay')[] }, meta: RequestMeta): Promise<{ key: string; apiKey: ApiKeyView }> {
    const name = input.name.trim();
    if (!name) throw new AppError('VALIDATION_FAILED', [{ path: 'body.name', problem: 'required', message: { en: 'is required', hi: 'आवश्यक है' } }]);
    const scopes = [...new Set(input.scopes)].sort();
    const prefix = newPrefix();
    const key = `${prefix}_${randomToken(32)}`;
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('api_keys')
        .values({ org_id: orgId, name, prefix, secret_hash: sha256Hex(key), scopes, created_by: actor.userId })
        .returning(['id', 'created_at'])
        .executeTakeFirstOrThrow();
      await recordAudit(trx, { action: 'api_key.created', actor, orgId, target: { type: 'api_key', id: row.id }, details: { name, prefix, scopes }, meta });
      return {
        key,
        apiKey: { id: row.id.toString(), name, prefix, scopes, createdBy: actor.loginId, createdAt: row.created_at.toISOString(), lastUsedAt: null, revokedAt: null },
      };
    });
  }

  async revoke(orgId: bigint, actor: UserPrincipal, keyId: bigint, meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('api_keys')
        .set({ revoked_at: sql<Date>`now()`, revoked_by: actor.userId })
        .where('id', '=', keyId)
        .where('org_id', '=', orgId)
        .where('revoked_at', 'is', null)
        .returning(['prefix'])
        .executeTakeFirst();
      if (!row) {
        const exists = await trx.selectFrom('api_keys').select('id').where('id', '=', keyId).where('org_id', '=', orgId).executeTakeFirst();
        if (!exists) throw new AppError('NOT_FOUND');
        return; // already revoked
      }
      await recordAudit(trx, { action: 'api_key.revoked', actor, orgId, target: { type: 'api_key', id: keyId }, details: { prefix: row.prefix }, meta });
    });
  }
}
