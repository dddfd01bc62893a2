import type { Database } from '../../platform/db/database.ts';
import { GENESIS, auditHash } from './audit.ts';

/**
 * Walks every audit chain and recomputes it: each row's hash from its content and the previous
 * row's hash, the sequence without gaps, and the chain head against the last row. Reports a
 * changed row, a deleted row and a cut-off end, by chain and sequence number.
 */

export interface AuditProblem {
  chain: bigint;
  seq: bigint | null;
  id: bigint | null;
  problem: 'changed' | 'missing' | 'relinked' | 'truncated' | 'head_mismatch';
  message: string;
}

export interface AuditVerification {
  chains: number;
  rows: number;
  problems: AuditProblem[];
}

const PAGE = 5000;

export async function verifyAudit(database: Database): Promise<AuditVerification> {
  const { db } = database;
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain').execute();
  const logged = await db.selectFrom('audit_log').select('chain').distinct().execute();
  const chains = [...new Set([...heads.map((h) => h.chain), ...logged.map((l) => l.chain)])].sort((a, b) => (a < b ? -1 : 1));
  const out: AuditVerification = { chains: chains.length, rows: 0, problems: [] };
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
        expectedSeq = r.seq + 1n;
        prevHash = r.hash;
        afterSeq = r.seq;
      }
      if (rows.length < PAGE) break;
    }
    const lastSeq = expectedSeq - 1n;
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
