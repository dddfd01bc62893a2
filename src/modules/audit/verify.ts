import type { Database } from '../../platform/db/database.ts';
import { GENESIS, auditHash } from './audit.ts';

/**
 * Walks every audit chain and recomputes it: each row's hash from its content and the previous
 * row's hash (an HMAC when the audit key is set), the sequence without gaps, the chain head
 * against the last row, and that every organisation has a chain. Reports a changed row, a
 * deleted row and a cut-off end, by chain and sequence number.
 *
 * Someone able to write the database could still delete the newest rows and rewind the head to
 * match; a checkpoint of the heads kept elsewhere (`verify-audit --checkpoint FILE`, run on a
 * schedule) shows that too.
 */

export interface AuditProblem {
  chain: bigint;
  seq: bigint | null;
  id: bigint | null;
  problem: 'changed' | 'missing' | 'relinked' | 'truncated' | 'head_mismatch' | 'missing_chain' | 'checkpoint_mismatch';
  message: string;
}

export interface AuditVerification {
  chains: number;
  rows: number;
  problems: AuditProblem[];
}

const PAGE = 5000;

/** The chain heads at one moment: kept outside the database, they reveal a cut-off end later. */
export type Checkpoint = Record<string, { seq: string; hash: string }>;

export async function verifyAudit(database: Database, checkpoint: Checkpoint | null = null): Promise<AuditVerification & { heads: Checkpoint }> {
  const { db } = database;
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain').execute();
  const logged = await db.selectFrom('audit_log').select('chain').distinct().execute();
  const chains = [...new Set([...heads.map((h) => h.chain), ...logged.map((l) => l.chain)])].sort((a, b) => (a < b ? -1 : 1));
  const out: AuditVerification & { heads: Checkpoint } = { chains: chains.length, rows: 0, problems: [], heads: {} };
  // Every organisation's history starts with its registration: a chain deleted whole shows.
  const orgs = await db.selectFrom('organisations').select('id').execute();
  for (const o of orgs) {
    if (!chains.includes(o.id)) out.problems.push({ chain: o.id, seq: null, id: null, problem: 'missing_chain', message: `chain ${o.id}: organisation ${o.id} has no audit entries at all` });
  }
  for (const chain of chains) {
    const head = heads.find((h) => h.chain === chain);
    let expectedSeq = 1n;
    let prevHash = GENESIS;
    let afterSeq = 0n;
    for (;;) {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', chain)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(PAGE)
        .execute();
      for (const r of rows) {
        out.rows++;
        if (r.seq !== expectedSeq) {
          out.problems.push({
            chain, seq: expectedSeq, id: null, problem: 'missing',
            message: `chain ${chain}: row(s) ${expectedSeq}${r.seq - 1n > expectedSeq ? `–${r.seq - 1n}` : ''} missing (deleted)`,
          });
        } else if (r.prev_hash !== prevHash) {
          out.problems.push({ chain, seq: r.seq, id: r.id, problem: 'relinked', message: `chain ${chain}: row ${r.seq} (id ${r.id}) does not follow row ${r.seq - 1n}` });
        }
        if (auditHash({ ...r, details: r.details }) !== r.hash) {
          out.problems.push({ chain, seq: r.seq, id: r.id, problem: 'changed', message: `chain ${chain}: row ${r.seq} (id ${r.id}) was changed after it was written` });
        }
        const cp = checkpoint?.[chain.toString()];
        if (cp && BigInt(cp.seq) === r.seq && cp.hash !== r.hash) {
          out.problems.push({ chain, seq: r.seq, id: r.id, problem: 'checkpoint_mismatch', message: `chain ${chain}: row ${r.seq} differs from the checkpoint` });
        }
        expectedSeq = r.seq + 1n;
        prevHash = r.hash;
        afterSeq = r.seq;
      }
      if (rows.length < PAGE) break;
    }
    const lastSeq = expectedSeq - 1n;
    out.heads[chain.toString()] = { seq: lastSeq.toString(), hash: prevHash };
    const cp = checkpoint?.[chain.toString()];
    if (cp && BigInt(cp.seq) > lastSeq) {
      out.problems.push({ chain, seq: lastSeq + 1n, id: null, problem: 'truncated', message: `chain ${chain}: the checkpoint saw row ${cp.seq}, the log now ends at ${lastSeq}: rows were deleted` });
    }
    if (!head) {
      out.problems.push({ chain, seq: null, id: null, problem: 'head_mismatch', message: `chain ${chain}: its head row is missing` });
    } else if (head.last_seq > lastSeq) {
      out.problems.push({ chain, seq: lastSeq + 1n, id: null, problem: 'truncated', message: `chain ${chain}: rows ${lastSeq + 1n}–${head.last_seq} at the end are missing (deleted)` });
    } else if (head.last_seq !== lastSeq || head.last_hash !== prevHash) {
      out.problems.push({ chain, seq: lastSeq, id: null, problem: 'head_mismatch', message: `chain ${chain}: its head does not match its last row` });
    }
  }
  return out;
}
