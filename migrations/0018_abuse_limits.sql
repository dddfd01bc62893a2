-- Issue 17, point 5: cheap abuse is limited (decision 0014).

-- A webhook whose signature fails is kept bounded: its first bytes (UNVERIFIED_BODY_BYTES), and
-- the whole body's length and SHA-256. Verified events keep their whole body, as before; both
-- record length and hash from now on (NULL: stored before this migration).
ALTER TABLE webhook_events ADD COLUMN body_bytes integer CHECK (body_bytes >= 0);
ALTER TABLE webhook_events ADD COLUMN body_sha256 text CHECK (body_sha256 ~ '^[0-9a-f]{64}$');

-- Mass tagging: rows that looked up a connection the organisation has not shown to be its own,
-- per organisation and IST day (TAG_LOOKUPS_PER_DAY). Charged when an upload's checks are done,
-- in the transaction that marks it validated.
CREATE TABLE tag_lookup_days (
  org_id  bigint NOT NULL REFERENCES organisations(id),
  day     date NOT NULL,
  used    integer NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, day)
);
-- What one upload was charged, and how many of its rows the day's limit refused.
ALTER TABLE tag_jobs ADD COLUMN lookups_charged integer NOT NULL DEFAULT 0 CHECK (lookups_charged >= 0);
ALTER TABLE tag_jobs ADD COLUMN lookups_refused integer NOT NULL DEFAULT 0 CHECK (lookups_refused >= 0);
