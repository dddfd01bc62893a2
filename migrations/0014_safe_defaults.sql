-- Safe defaults (issue 15): what kind of install this is, and which key the audit log is kept with.

-- One row: facts about this installation that the configuration cannot tell. `demo_data` is
-- written by the demo seed only; the developer pages (one-time codes, authenticator codes) can
-- be on only when it is true, and production refuses to start on a database that holds it.
CREATE TABLE installation (
  id              boolean PRIMARY KEY DEFAULT true CHECK (id),
  demo_data       boolean NOT NULL DEFAULT false,
  demo_seeded_at  timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO installation (id) VALUES (true);

-- The id of the key each audit chain is hashed with ('none' when unkeyed): a process started
-- with another key is refused, naming both ids, instead of writing entries that verify-audit
-- would report as changed. NULL on chains written before this migration: the first start
-- checks the chain's head against its key and records it.
ALTER TABLE audit_chains ADD COLUMN key_id text;

-- A database that got demo data before this migration (the seed wrote no flag then) is known by
-- the demo's published logins: at least three of its discom and Education Department logins.
UPDATE installation SET demo_data = true, demo_seeded_at = now()
 WHERE (SELECT count(*) FROM users WHERE login_id IN ('admin.discom', 'co.nbpdcl', 'accounts.sbpdcl', 'edu.admin', 'edu.approver')) >= 3;

-- A message the transport refused is tried again (at most 5 times, waiting longer each time)
-- instead of staying failed, with its one-time code readable, for good.
ALTER TABLE notifications
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX notifications_waiting ON notifications (id) WHERE status IN ('outbox', 'failed');
