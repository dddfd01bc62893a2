-- Discom staff belong to a discom: NBPDCL, SBPDCL, or the holding company (BSPHCL), whose staff
-- act for both. The holding company is not a row of `discoms` (connections, bills and collection
-- accounts hang off discoms); it is `users.holding`. Organisations get a home discom, whose staff
-- decide their registration. Reconciliation rows and audit entries say which discom they concern.
-- See docs/decisions/0010-discom-scope.md.

-- ---- staff ---------------------------------------------------------------------------------------
ALTER TABLE users
  ADD COLUMN discom_id bigint REFERENCES discoms(id),
  ADD COLUMN holding boolean NOT NULL DEFAULT false;

-- On upgrade every existing discom staff member becomes holding-company staff: they keep the
-- access to both discoms they had until now. An administrator then moves each to their discom
-- (or invites discom staff afresh) and disables the holding accounts no longer wanted.
UPDATE users SET holding = true WHERE org_id IS NULL;

-- Organisation users have neither; discom staff exactly one: a discom, or the holding company.
ALTER TABLE users ADD CONSTRAINT users_discom_scope CHECK (
  (org_id IS NOT NULL AND discom_id IS NULL AND NOT holding)
  OR (org_id IS NULL AND (discom_id IS NOT NULL) <> holding));
CREATE INDEX users_discom ON users (discom_id) WHERE discom_id IS NOT NULL;

-- ---- organisations: a home discom ----------------------------------------------------------------
ALTER TABLE organisations ADD COLUMN discom_id bigint REFERENCES discoms(id);

-- Existing organisations: the discom holding most of the connections whose owner PAN (or, for a
-- state department, department code) is the organisation's; ties and organisations owning none
-- go to the discom with the lowest id. (NULL only if no discom exists at all: such an
-- organisation is then seen by the holding company's staff alone, until someone sets it.)
WITH owned AS (
  SELECT o.id AS org_id, c.discom_id, count(*) AS n
    FROM organisations o
    JOIN connections c ON (o.pan IS NOT NULL AND c.owner_pan = o.pan)
                       OR (o.department_code IS NOT NULL AND c.owner_dept_code = o.department_code)
   GROUP BY o.id, c.discom_id
), best AS (
  SELECT DISTINCT ON (org_id) org_id, discom_id FROM owned ORDER BY org_id, n DESC, discom_id
)
UPDATE organisations o SET discom_id = b.discom_id FROM best b WHERE b.org_id = o.id;
UPDATE organisations SET discom_id = (SELECT min(id) FROM discoms) WHERE discom_id IS NULL;
CREATE INDEX organisations_discom ON organisations (discom_id, status);

-- ---- reconciliation: which discom a credit and an exception concern -------------------------------
-- A credit is the discom's whose collection account it landed in: its challan's, else the
-- statement account's, else the collection account whose virtual-account prefix it names. A
-- credit to the online collections account (gateway payouts) has none: holding staff only.
UPDATE bank_credits c SET discom_id = coalesce(
    (SELECT s.discom_id FROM statement_lines l JOIN bank_statements s ON s.id = l.statement_id WHERE l.id = c.statement_line_id),
    (SELECT a.discom_id FROM collection_accounts a WHERE a.va_prefix = left(c.va_number, 4)))
 WHERE c.discom_id IS NULL;
UPDATE recon_exceptions e SET discom_id = c.discom_id FROM bank_credits c WHERE e.credit_id = c.id AND e.discom_id IS NULL;
CREATE INDEX recon_exceptions_discom ON recon_exceptions (discom_id, status, id);
CREATE INDEX bank_statements_discom ON bank_statements (discom_id, id);
CREATE INDEX postings_discom ON postings (discom_id, status);

-- ---- the audit log -------------------------------------------------------------------------------
-- The discom an entry concerns (written by its staff, or about its objects); NULL for entries
-- of no single discom. It is in an entry's hash only when not NULL, so every existing entry
-- verifies as before.
ALTER TABLE audit_log ADD COLUMN discom_id bigint REFERENCES discoms(id);
CREATE INDEX audit_log_discom ON audit_log (discom_id, id DESC) WHERE discom_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id DESC) WHERE actor_user_id IS NOT NULL;
