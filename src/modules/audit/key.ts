import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { Database } from '../../platform/db/database.ts';
import { AuditKeyMismatch, GENESIS, auditHash, currentAuditKeyId, keyIdOf, recordAudit, setAuditKey } from './audit.ts';
import { verifyAudit, type AuditProblem } from './verify.ts';

/**
 * The audit key: AUDIT_KEY when set; on the embedded database, a key file made once beside it
 * (outside the database files); on PostgreSQL without AUDIT_KEY, none (hashes still chain, but
 * someone who can write the database could recompute them): a warning says so.
 */
export function initAuditKey(config: Config, warn: (msg: string) => void = () => undefined): 'configured' | 'file' | 'none' {
  if (config.auditKey) {
    setAuditKey(config.auditKey);
    return 'configured';
  }
  if (!config.databaseUrl) {
    const file = path.join(config.dataDir, 'audit.key');
    fs.mkdirSync(config.dataDir, { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    setAuditKey(fs.readFileSync(file, 'utf8').trim());
    return 'file';
  }
  setAuditKey(null);
  warn('AUDIT_KEY is not set: audit entries are hash-chained but not keyed. Set AUDIT_KEY (32+ characters, kept outside the database).');
  return 'none';
}

/**
 * Refuses to go on when the audit chains were started with another key than this process's
 * (naming both key ids), instead of writing entries that verify-audit would report as changed.
 * Chains from before key ids were recorded (migration 0014) are checked by their head row:
 * the key that verifies it is recorded; a head no key here verifies is refused as "unknown".
 */
export async function checkAuditKey(db: Kysely<DB>): Promise<void> {
  const id = currentAuditKeyId();
  const chains = await db.selectFrom('audit_chains').select(['chain', 'key_id', 'last_seq']).orderBy('chain').execute();
  const other = chains.filter((c) => c.key_id !== null && c.key_id !== id);
  if (other.length) throw new AuditKeyMismatch(other[0]!.key_id!, id, other.map((c) => c.chain));
  const unknown: bigint[] = [];
  for (const c of chains.filter((x) => x.key_id === null)) {
    const head = c.last_seq > 0n ? await db.selectFrom('audit_log').selectAll().where('chain', '=', c.chain).where('seq', '=', c.last_seq).executeTakeFirst() : undefined;
    if (head && auditHash(head) !== head.hash) unknown.push(c.chain);
    else await db.updateTable('audit_chains').set({ key_id: id }).where('chain', '=', c.chain).where('key_id', 'is', null).execute();
  }
  if (unknown.length) throw new AuditKeyMismatch('unknown', id, unknown);
}

export class RekeyRefused extends Error {
  override name = 'RekeyRefused';
  constructor(readonly problems: AuditProblem[]) {
    super(`The audit log does not verify with the old key, so it was not re-keyed (${problems.length} problem(s)):\n${problems.slice(0, 20).map((p) => `  ${p.message}`).join('\n')}`);
  }
}

/**
 * Key rotation: moves every chain from the old key to the new one. The whole log is verified
 * with the old key first (nothing is re-hashed over a changed row); then each chain, under its
 * head's lock, has every row's hash recomputed with the new key in order, page by page, and gets
 * an `audit.rekeyed` entry naming both key ids and its head hash under the old key (so a
 * checkpoint taken before still ties to the log). Run it with the portal stopped.
 */
export async function rekeyAudit(database: Database, oldKey: string | null, newKey: string): Promise<{ chains: number; rows: number }> {
  setAuditKey(oldKey);
  const check = await verifyAudit(database);
  if (check.problems.length) throw new RekeyRefused(check.problems);
  const from = keyIdOf(oldKey);
  const to = Buffer.from(newKey);
  const chains = await database.db.selectFrom('audit_chains').select('chain').orderBy('chain').execute();
  let rows = 0;
  for (const { chain } of chains) {
    await database.db.transaction().execute(async (trx) => {
      const head = await trx.selectFrom('audit_chains').select(['last_hash', 'key_id']).where('chain', '=', chain).forUpdate().executeTakeFirstOrThrow();
      if (head.key_id !== null && head.key_id !== from) throw new AuditKeyMismatch(head.key_id, from, [chain]);
      let prev = GENESIS;
      let after = 0n;
      for (;;) {
        const page = await trx.selectFrom('audit_log').selectAll().where('chain', '=', chain).where('seq', '>', after).orderBy('seq').limit(5000).execute();
        if (!page.length) break;
        const ids: string[] = [];
        const prevs: string[] = [];
        const hashes: string[] = [];
        for (const r of page) {
          const hash = auditHash({ ...r, prev_hash: prev }, to);
          ids.push(r.id.toString());
          prevs.push(prev);
          hashes.push(hash);
          prev = hash;
          after = r.seq;
        }
        await sql`UPDATE audit_log a SET prev_hash = v.p, hash = v.h
                    FROM unnest(${ids}::bigint[], ${prevs}::text[], ${hashes}::text[]) AS v(id, p, h) WHERE a.id = v.id`.execute(trx);
        rows += page.length;
      }
      await trx.updateTable('audit_chains').set({ last_hash: prev, key_id: keyIdOf(to) }).where('chain', '=', chain).execute();
      setAuditKey(newKey);
      await recordAudit(trx, { action: 'audit.rekeyed', actor: null, actorLabel: 'cli:audit-rekey', orgId: chain === 0n ? null : chain, details: { from_key_id: from, to_key_id: keyIdOf(to), head_hash_before: head.last_hash }, meta: null });
      setAuditKey(oldKey);
    });
  }
  setAuditKey(newKey);
  return { chains: chains.length, rows };
}
