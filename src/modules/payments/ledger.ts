import type { Kysely } from 'kysely';
import type { DB, LedgerAccount } from '../../platform/db/schema.ts';

/** What a ledger transaction is about: its kind, memo, and the one thing it moves money for. */
export interface LedgerTxn {
  kind: string;
  memo: string;
  org_id?: bigint | null;
  payment_id?: bigint | null;
  batch_id?: bigint | null;
  credit_id?: bigint | null;
  capture_id?: bigint | null;
}

/**
 * One balanced ledger transaction of account-level entries (no connection), in the caller's
 * transaction. Entries of zero are left out (the ledger stores none); the entries must sum to
 * zero, which the ledger's balance invariant checks.
 */
export async function postLedger(trx: Kysely<DB>, t: LedgerTxn, entries: readonly (readonly [LedgerAccount, bigint])[]): Promise<bigint> {
  const txn = await trx.insertInto('ledger_transactions').values(t).returning('id').executeTakeFirstOrThrow();
  const rows = entries.filter(([, amount]) => amount !== 0n);
  if (rows.length) await trx.insertInto('ledger_entries').values(rows.map(([account, amount]) => ({ txn_id: txn.id, account, connection_id: null, amount_paise: amount }))).execute();
  return txn.id;
}
