import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

/**
 * The money invariants of DESIGN.md §6, checked against the database as it stands: the tests
 * and the simulation call this after every step; an operator can run it too. Each check is
 * one query returning the offending rows; the first non-empty one throws, naming them.
 */

const CHECKS: { name: string; query: string }[] = [
  {
    name: 'every ledger transaction balances to zero',
    query: `SELECT txn_id, sum(amount_paise) AS off FROM ledger_entries GROUP BY txn_id HAVING sum(amount_paise) <> 0 LIMIT 5`,
  },
  {
    name: 'every captured payment that is settled is allocated exactly',
    query: `SELECT p.id, p.amount_paise, coalesce(sum(a.amount_paise), 0) AS allocated
              FROM payments p LEFT JOIN allocations a ON a.payment_id = p.id
             WHERE p.status = 'captured' AND p.settled_at IS NOT NULL
             GROUP BY p.id HAVING coalesce(sum(a.amount_paise), 0) <> p.amount_paise LIMIT 5`,
  },
  {
    name: 'no payment that is not captured and settled has allocations or receipts',
    query: `SELECT p.id FROM payments p WHERE (p.status <> 'captured' OR p.settled_at IS NULL)
               AND (EXISTS (SELECT 1 FROM allocations a WHERE a.payment_id = p.id) OR EXISTS (SELECT 1 FROM receipts r WHERE r.payment_id = p.id)) LIMIT 5`,
  },
  {
    name: 'a gateway payment id is recorded at most once',
    query: `SELECT gateway, gateway_payment_id FROM payments GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5`,
  },
  {
    name: 'a payment is settled into at most one ledger transaction',
    query: `SELECT payment_id FROM ledger_transactions WHERE payment_id IS NOT NULL GROUP BY payment_id HAVING count(*) > 1 LIMIT 5`,
  },
  {
    name: 'a connection is in at most one open batch, and only open batches hold items open',
    query: `SELECT i.connection_id FROM payment_batch_items i JOIN payment_batches b ON b.id = i.batch_id
             WHERE i.open GROUP BY i.connection_id HAVING count(*) > 1
            UNION ALL
            SELECT i.connection_id FROM payment_batch_items i JOIN payment_batches b ON b.id = i.batch_id
             WHERE i.open <> (b.status IN ('pending_approval', 'ready', 'payment_pending', 'unknown')) LIMIT 5`,
  },
  {
    name: 'a connection has at most one active tag',
    query: `SELECT connection_id FROM tags WHERE status = 'active' GROUP BY connection_id HAVING count(*) > 1 LIMIT 5`,
  },
  {
    name: 'a paid batch has exactly one settled payment, and its receipts and suspense add up to it',
    query: `SELECT b.id FROM payment_batches b
             WHERE b.status = 'paid' AND (
               (SELECT count(*) FROM payments p JOIN ledger_transactions t ON t.payment_id = p.id AND t.kind = 'payment_settled' WHERE p.batch_id = b.id) <> 1
               OR b.paid_paise <> (SELECT coalesce(sum(r.amount_paise), 0) FROM receipts r JOIN ledger_transactions t ON t.payment_id = r.payment_id AND t.kind = 'payment_settled' WHERE r.batch_id = b.id)
                                 + (SELECT coalesce(sum(a.amount_paise), 0) FROM allocations a JOIN ledger_transactions t ON t.payment_id = a.payment_id AND t.kind = 'payment_settled' WHERE a.batch_id = b.id AND a.kind = 'suspense'))
             LIMIT 5`,
  },
  {
    name: 'each receipt credits its connection in the ledger by its money and rebate',
    // Summed per (payment, connection) first: a join per receipt would be quadratic in a 1,00,000-bill batch.
    query: `WITH credits AS (
              SELECT t.payment_id, e.connection_id, sum(e.amount_paise) AS amount
                FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
               WHERE e.account = 'consumer_receivable' GROUP BY 1, 2)
            SELECT r.id FROM receipts r LEFT JOIN credits c ON c.payment_id = r.payment_id AND c.connection_id = r.connection_id
             WHERE coalesce(c.amount, 0) <> -(r.amount_paise + r.rebate_paise) LIMIT 5`,
  },
  {
    name: 'each connection’s in-flight sum is what the portal settled and the billing mirror does not show',
    query: `SELECT c.id, c.in_flight_paise, in_flight_of(c.id, c.source_updated_at) AS expected
              FROM connections c WHERE c.id IN (SELECT connection_id FROM postings)
               AND c.in_flight_paise <> in_flight_of(c.id, c.source_updated_at) LIMIT 5`,
  },
  {
    name: 'receipt numbers of each series run 1..n without gaps or repeats, and the series knows n',
    query: `SELECT s.discom_id, s.fy FROM receipt_series s
              LEFT JOIN (SELECT discom_id, fy, count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi FROM receipts GROUP BY 1, 2) r
                ON r.discom_id = s.discom_id AND r.fy = s.fy
             WHERE coalesce(r.n, 0) <> s.last_no OR coalesce(r.d, 0) <> s.last_no OR (s.last_no > 0 AND (r.lo <> 1 OR r.hi <> s.last_no)) LIMIT 5`,
  },
  {
    name: 'every money posting matches its receipt',
    query: `SELECT r.id FROM receipts r
              LEFT JOIN postings p ON p.receipt_id = r.id AND p.kind = 'payment'
              LEFT JOIN postings q ON q.receipt_id = r.id AND q.kind = 'rebate'
             WHERE p.amount_paise IS DISTINCT FROM r.amount_paise
                OR (r.rebate_paise > 0 AND q.amount_paise IS DISTINCT FROM r.rebate_paise)
                OR (r.rebate_paise = 0 AND q.id IS NOT NULL) LIMIT 5`,
  },
  {
    name: 'a bank credit is applied at most once: applied exactly when it has a payment, which is a bank payment of its amount named by no other credit',
    query: `SELECT c.id FROM bank_credits c LEFT JOIN payments p ON p.id = c.payment_id
             WHERE (c.status = 'applied') <> (c.payment_id IS NOT NULL)
                OR (p.id IS NOT NULL AND (p.gateway <> 'bank' OR p.amount_paise <> c.amount_paise OR p.status <> 'captured' OR p.settled_at IS NULL))
            UNION ALL
            SELECT p.id FROM payments p WHERE p.gateway = 'bank' AND (SELECT count(*) FROM bank_credits c WHERE c.payment_id = p.id) <> 1 LIMIT 5`,
  },
  {
    name: 'a held credit has exactly one open exception, and an open exception of a credit holds it',
    query: `SELECT c.id FROM bank_credits c
             WHERE (c.status = 'held') <> EXISTS (SELECT 1 FROM recon_exceptions e WHERE e.credit_id = c.id AND e.status = 'open' AND e.reason <> 'utr_amount_mismatch')
            UNION ALL
            SELECT e.credit_id FROM recon_exceptions e WHERE e.status = 'open' AND e.credit_id IS NOT NULL AND e.reason <> 'utr_amount_mismatch' GROUP BY e.credit_id HAVING count(*) > 1 LIMIT 5`,
  },
  {
    name: 'a credit’s money is in suspense exactly while it is held, and owed back once marked for refund',
    query: `WITH l AS (
              SELECT t.credit_id, sum(e.amount_paise) FILTER (WHERE e.account = 'suspense') AS suspense,
                     sum(e.amount_paise) FILTER (WHERE e.account = 'refunds_payable') AS refund
                FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.credit_id IS NOT NULL GROUP BY 1)
            SELECT c.id FROM bank_credits c LEFT JOIN l ON l.credit_id = c.id
             WHERE coalesce(l.suspense, 0) <> CASE WHEN c.status = 'held' THEN -c.amount_paise ELSE 0 END
                OR coalesce(l.refund, 0) <> CASE WHEN c.status = 'refund' THEN -c.amount_paise ELSE 0 END LIMIT 5`,
  },
  {
    name: 'money that came into one discom’s account pays only that discom’s challans (by the credit’s discom, by the account of every statement line that confirmed it, and, where no statement showed it, by its virtual account’s prefix)',
    // A virtual account named only in a statement line's narrative does not move the money: the
    // account the statement is of holds it.
    query: `SELECT c.id FROM bank_credits c JOIN challans ch ON ch.id = c.challan_id
             WHERE c.status = 'applied'
               AND ((c.discom_id IS NOT NULL AND c.discom_id <> ch.discom_id)
                 OR EXISTS (SELECT 1 FROM statement_lines l JOIN bank_statements s ON s.id = l.statement_id
                             WHERE (l.credit_id = c.id AND l.status = 'matched' OR l.id = c.statement_line_id) AND s.discom_id IS NOT NULL AND s.discom_id <> ch.discom_id)
                 OR (NOT EXISTS (SELECT 1 FROM statement_lines l JOIN bank_statements s ON s.id = l.statement_id
                                  WHERE (l.credit_id = c.id AND l.status = 'matched' OR l.id = c.statement_line_id) AND s.discom_id IS NOT NULL)
                     AND EXISTS (SELECT 1 FROM collection_accounts a WHERE a.va_prefix = left(c.va_number, 4) AND a.discom_id <> ch.discom_id))) LIMIT 5`,
  },
  {
    name: 'a challan is paid exactly when its batch is paid by one of its credits',
    query: `SELECT ch.id FROM challans ch JOIN payment_batches b ON b.id = ch.batch_id
             WHERE (ch.status = 'paid') <> EXISTS (SELECT 1 FROM payments p WHERE p.challan_id = ch.id AND p.status = 'captured' AND p.settled_at IS NOT NULL)
                OR (ch.status = 'active' AND b.status <> 'payment_pending')
                OR (ch.status = 'expired' AND b.status <> 'expired') LIMIT 5`,
  },
  {
    name: 'every credit the bank reported ends as a payment or an exception (a notified credit is matched when told; a statement’s waits only for the matching job)',
    query: `SELECT c.id FROM bank_credits c
             WHERE (c.status = 'received' AND c.source <> 'statement')
                OR (c.status = 'refund' AND NOT EXISTS (SELECT 1 FROM recon_exceptions e WHERE e.credit_id = c.id AND e.resolution = 'refund'))
                OR (c.status = 'settlement' AND NOT EXISTS (SELECT 1 FROM gateway_settlements s WHERE regexp_replace(upper(s.utr), '[^A-Z0-9]', '', 'g') = c.utr)) LIMIT 5`,
  },
  {
    name: 'every captured gateway payment is a batch’s payment or an unmatched capture, and an unmatched capture is held exactly while its exception is open',
    query: `SELECT e.id FROM webhook_events e
             WHERE e.verified AND e.event_type IN ('payment.captured', 'order.paid') AND e.status IN ('processed', 'ignored') AND e.gateway_payment_id IS NOT NULL
               -- A payment without an order is Smart Collect's, a bank credit by its virtual_account.credited event.
               AND e.order_id IS NOT NULL
               -- Events before migration 0015 were ignored by the rule of their day.
               AND e.received_at >= (SELECT applied_at FROM schema_migrations WHERE version = '0015')
               AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.gateway = e.provider AND p.gateway_payment_id = e.gateway_payment_id)
               AND NOT EXISTS (SELECT 1 FROM unmatched_captures u WHERE u.gateway = e.provider AND u.gateway_payment_id = e.gateway_payment_id)
            UNION ALL
            SELECT u.id FROM unmatched_captures u
             WHERE (u.status = 'held') <> EXISTS (SELECT 1 FROM recon_exceptions x WHERE x.capture_id = u.id AND x.status = 'open')
                OR (u.status = 'assigned') <> EXISTS (SELECT 1 FROM payments p WHERE p.capture_id = u.id AND p.id = u.payment_id AND p.amount_paise = u.amount_paise AND p.settled_at IS NOT NULL) LIMIT 5`,
  },
  {
    name: 'an unmatched capture’s money is in suspense exactly while it is held, and owed back once marked for refund',
    query: `WITH l AS (
              SELECT t.capture_id, sum(e.amount_paise) FILTER (WHERE e.account = 'suspense') AS suspense,
                     sum(e.amount_paise) FILTER (WHERE e.account = 'refunds_payable') AS refund
                FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.capture_id IS NOT NULL GROUP BY 1)
            SELECT u.id FROM unmatched_captures u LEFT JOIN l ON l.capture_id = u.id
             WHERE coalesce(l.suspense, 0) <> CASE WHEN u.status = 'held' THEN -u.amount_paise ELSE 0 END
                OR coalesce(l.refund, 0) <> CASE WHEN u.status = 'refund' THEN -u.amount_paise ELSE 0 END LIMIT 5`,
  },
  {
    name: 'a settled batch leaves no connection owing what it paid for (its planned amount, paid on time with the balance unchanged, clears the balance)',
    query: `SELECT r.id FROM receipts r
              JOIN payment_batch_items i ON i.batch_id = r.batch_id AND i.connection_id = r.connection_id
              JOIN payments p ON p.id = r.payment_id
             WHERE r.amount_paise >= i.amount_paise AND r.balance_before_paise = i.outstanding_paise
               AND i.amount_paise + i.rebate_paise >= i.outstanding_paise
               AND (i.rebate_paise = 0 OR (p.captured_at AT TIME ZONE 'Asia/Kolkata')::date <= i.due_date)
               AND r.balance_after_paise > 0
               -- Settled by the rule of their day before migration 0015 (RTGS/NEFT without the digital rebate).
               AND p.settled_at >= (SELECT applied_at FROM schema_migrations WHERE version = '0015') LIMIT 5`,
  },
  {
    name: 'a paid batch records the rebate its receipts credited, and part paid is what its payment says',
    query: `SELECT b.id FROM payment_batches b
             WHERE b.status = 'paid'
               AND (b.rebate_credited_paise IS DISTINCT FROM (SELECT coalesce(sum(r.rebate_paise), 0) FROM receipts r WHERE r.batch_id = b.id)
                 OR b.still_due_paise IS NULL
                 OR b.paid_paise <> (SELECT p.amount_paise FROM payments p JOIN ledger_transactions t ON t.payment_id = p.id AND t.kind = 'payment_settled' WHERE p.batch_id = b.id)) LIMIT 5`,
  },
  // Statements (issue 16, point 5): the bank's money is counted once, however often it is told.
  {
    name: 'the bank ledger account equals the credits the bank reported (bank credits applied, held or owed back, and gateway payouts)',
    query: `SELECT * FROM (SELECT (SELECT coalesce(sum(amount_paise), 0) FROM ledger_entries WHERE account = 'bank') AS ledger,
                                  (SELECT coalesce(sum(amount_paise), 0) FROM bank_credits WHERE status IN ('applied', 'held', 'refund'))
                                + (SELECT coalesce(sum(amount_paise), 0) FROM gateway_settlements) AS reported) x
             WHERE ledger <> reported`,
  },
  {
    name: 'no statement line is counted twice: the lines of an account with one identity (UTR, bank reference or content) name one credit or settlement',
    query: `SELECT s.account, l.line_key, count(DISTINCT l.credit_id) AS credits FROM statement_lines l JOIN bank_statements s ON s.id = l.statement_id
             WHERE l.direction = 'credit' AND (l.credit_id IS NOT NULL OR l.settlement_id IS NOT NULL)
             GROUP BY 1, 2 HAVING count(DISTINCT coalesce('C' || l.credit_id, 'S' || l.settlement_id)) > 1 LIMIT 5`,
  },
];

export class InvariantBroken extends Error {}

export async function checkInvariants(db: Kysely<DB>): Promise<void> {
  for (const c of CHECKS) {
    const { rows } = await sql.raw<Record<string, unknown>>(c.query).execute(db);
    if (rows.length) {
      throw new InvariantBroken(`invariant broken: ${c.name}: ${JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    }
  }
}
