import { createHash, createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../../platform/canonical-json.ts';
import type { DB } from '../../platform/db/schema.ts';
import { actorLabel, type Principal, type RequestMeta } from '../../platform/principal.ts';

/**
 * The audit log. An entry is written in the same transaction as the change it records, on the
 * chain of the organisation it concerns (chain 0 for discom-wide events). Writing takes the
 * chain head's row lock, so entries of one chain are numbered and linked in commit order;
 * different organisations never wait for each other.
 */

export interface AuditEntry {
  action: string;
  outcome?: 'success' | 'failure';
  actor: Principal | null;
  /** Overrides the label derived from the actor (e.g. the login id tried on a failed login). */
  actorLabel?: string;
  orgId: bigint | null;
  /**
   * The discom the entry concerns. Omitted: the acting staff member's discom (none for holding
   * staff, organisations and the system). null: no single discom.
   */
  discomId?: bigint | null;
  target?: { type: string; id: string | bigint };
  details?: Record<string, unknown>;
  meta: RequestMeta | null;
}

export const GENESIS = '0'.repeat(64);

let auditKey: Buffer | null = null;
let auditKeyId = 'none';

/**
 * With a key, each entry's hash is an HMAC: someone who can write to the database but does not
 * hold the key cannot forge or recompute entries. Set once at start (AUDIT_KEY, or a key file
 * beside the embedded database).
 */
export function setAuditKey(key: string | Buffer | null): void {
  auditKey = key === null ? null : Buffer.from(key);
  auditKeyId = keyIdOf(auditKey);
}

/** A short public id of a key (never the key): 12 hex characters of an HMAC of a fixed text; 'none' for no key. */
export function keyIdOf(key: string | Buffer | null): string {
  return key === null ? 'none' : createHmac('sha256', key).update('sangrahan audit key id').digest('hex').slice(0, 12);
}

export function currentAuditKeyId(): string {
  return auditKeyId;
}

/** A chain is kept with one key; writing to it with another would make its new rows unverifiable. */
export class AuditKeyMismatch extends Error {
  override name = 'AuditKeyMismatch';
  constructor(
    readonly chainKeyId: string,
    readonly processKeyId: string,
    readonly chains: bigint[] = [],
  ) {
    const name = (id: string) => (id === 'none' ? 'none (no key)' : id === 'unknown' ? 'unknown (a key whose id was not recorded)' : id);
    super(
      `The audit log was started with key id ${name(chainKeyId)}, but this process has key id ${name(processKeyId)}` +
        `${chains.length ? ` (chain${chains.length > 1 ? 's' : ''} ${chains.slice(0, 5).join(', ')}${chains.length > 5 ? ', …' : ''})` : ''}. ` +
        'Start with the key the log was started with (AUDIT_KEY, or audit.key in DATA_DIR), or move the log to the new key with `cli audit-rekey` (docs/security.md).',
    );
  }
}

export interface AuditRowContent {
  chain: bigint;
  seq: bigint;
  at: Date;
  action: string;
  outcome: 'success' | 'failure';
  actor_user_id: bigint | null;
  actor_api_key_id: bigint | null;
  actor_label: string;
  org_id: bigint | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  /** Added by migration 0012: hashed only when set, so entries written before it verify as they did. */
  discom_id?: bigint | null;
}

export function auditHash(r: AuditRowContent, key: Buffer | null = auditKey): string {
  const content = canonicalJson([
    r.chain, r.seq, r.at.toISOString(), r.action, r.outcome, r.actor_user_id, r.actor_api_key_id, r.actor_label,
    r.org_id, r.target_type, r.target_id, r.ip, r.user_agent, r.request_id, r.details, r.prev_hash,
    ...(r.discom_id !== null && r.discom_id !== undefined ? [r.discom_id] : []),
  ]);
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(content).digest('hex');
}

/** Appends an entry; call it inside the transaction that makes the change. */
export async function recordAudit(trx: Kysely<DB>, e: AuditEntry): Promise<void> {
  const chain = e.orgId ?? 0n;
  await trx
    .insertInto('audit_chains')
    .values({ chain, last_seq: 0n, last_hash: GENESIS, key_id: auditKeyId })
    .onConflict((oc) => oc.column('chain').doNothing())
    .execute();
  const head = await trx.selectFrom('audit_chains').select(['last_seq', 'last_hash', 'key_id']).where('chain', '=', chain).forUpdate().executeTakeFirstOrThrow();
  if (head.key_id !== null && head.key_id !== auditKeyId) throw new AuditKeyMismatch(head.key_id, auditKeyId, [chain]);
  // Whole milliseconds, so the time read back hashes the same.
  const at = new Date(Math.floor(Date.now()));
  const row: AuditRowContent = {
    chain,
    seq: head.last_seq + 1n,
    at,
    action: e.action,
    outcome: e.outcome ?? 'success',
    actor_user_id: e.actor?.kind === 'user' ? e.actor.userId : null,
    actor_api_key_id: e.actor?.kind === 'api_key' ? e.actor.apiKeyId : null,
    actor_label: e.actorLabel ?? actorLabel(e.actor),
    org_id: e.orgId,
    target_type: e.target?.type ?? null,
    target_id: e.target ? String(e.target.id) : null,
    ip: e.meta?.ip ?? null,
    user_agent: e.meta?.userAgent?.slice(0, 400) ?? null,
    request_id: e.meta?.requestId ?? null,
    details: JSON.parse(canonicalJson(e.details ?? {})) as Record<string, unknown>,
    prev_hash: head.last_hash,
    discom_id: e.discomId !== undefined ? e.discomId : e.actor?.kind === 'user' && !e.actor.holding ? e.actor.discomId : null,
  };
  const hash = auditHash(row);
  await trx
    .insertInto('audit_log')
    .values({ ...row, details: JSON.stringify(row.details), hash })
    .execute();
  await trx.updateTable('audit_chains').set({ last_seq: row.seq, last_hash: hash, key_id: auditKeyId }).where('chain', '=', chain).execute();
}

/** For events outside any other change (a failed login): its own short transaction. */
export async function recordAuditAlone(db: Kysely<DB>, e: AuditEntry): Promise<void> {
  await db.transaction().execute((trx) => recordAudit(trx, e));
}

