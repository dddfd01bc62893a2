-- Dues: one row per connection with what an organisation's dashboard needs (the latest bill,
-- the account balance, the figures for anomaly flags, and who holds the connection), kept in
-- step by the ingest (bills and balances) and by triggers on tags (the holder). The dashboard
-- reads this table only, so an organisation with 1,00,000 connections is one index range.

CREATE TABLE connection_dues (
  connection_id         bigint PRIMARY KEY REFERENCES connections(id),
  discom_id             bigint NOT NULL,
  division_id           bigint NOT NULL,
  subdivision_id        bigint NOT NULL,
  category              text NOT NULL,
  consumer_no           text NOT NULL,
  name                  text NOT NULL,
  conn_status           text NOT NULL,
  -- The active tag's organisation and office (NULL: untagged).
  org_id                bigint,
  office_id             bigint,
  -- The billing system's balance: positive is due, negative is advance credit.
  balance_paise         bigint NOT NULL,
  -- The latest bill (NULL: none yet).
  bill_id               bigint,
  bill_month            date,
  due_date              date,
  -- due_date, or 9999-12-31 without a bill: the sort and keyset key.
  due_key               date NOT NULL,
  bill_status           text,
  net_payable_paise     bigint NOT NULL DEFAULT 0,
  payable_after_due_paise bigint NOT NULL DEFAULT 0,
  rebate_paise          bigint NOT NULL DEFAULT 0,
  dps_paise             bigint NOT NULL DEFAULT 0,
  current_demand_paise  bigint NOT NULL DEFAULT 0,
  units                 integer NOT NULL DEFAULT 0,
  bill_basis            text,
  -- Averages over the (up to six) bills before the latest one; NULL with fewer than three.
  avg_units             numeric,
  avg_demand_paise      numeric,
  -- The latest bill's previous reading differs from the last reading billed before it.
  reading_break         boolean NOT NULL DEFAULT false,
  refreshed_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connection_dues_org_due ON connection_dues (org_id, due_key, connection_id) WHERE org_id IS NOT NULL;
CREATE INDEX connection_dues_org_balance ON connection_dues (org_id, balance_paise, connection_id) WHERE org_id IS NOT NULL;
CREATE INDEX connection_dues_org_consumer ON connection_dues (org_id, consumer_no) WHERE org_id IS NOT NULL;
CREATE INDEX connection_dues_org_office ON connection_dues (org_id, office_id) WHERE org_id IS NOT NULL;

-- A counter per organisation, moved whenever any of its dues rows changes: the key of the
-- summary cache.
CREATE TABLE dues_versions (
  org_id   bigint PRIMARY KEY,
  version  bigint NOT NULL DEFAULT 1
);

CREATE FUNCTION dues_bump_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO dues_versions AS v (org_id)
    SELECT org_id FROM new_rows WHERE org_id IS NOT NULL UNION SELECT org_id FROM old_rows WHERE org_id IS NOT NULL
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
  ELSE
    INSERT INTO dues_versions AS v (org_id)
    SELECT DISTINCT org_id FROM new_rows WHERE org_id IS NOT NULL
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER connection_dues_versions_ins AFTER INSERT ON connection_dues
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_bump_versions();
CREATE TRIGGER connection_dues_versions_upd AFTER UPDATE ON connection_dues
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_bump_versions();

-- The holder follows the tags, whichever path changed them (single tag, upload, approval,
-- transfer, untag, office change).
CREATE FUNCTION dues_follow_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE connection_dues d SET org_id = s.org_id, office_id = s.office_id
    FROM (SELECT x.connection_id, a.org_id, a.office_id
            FROM (SELECT DISTINCT connection_id FROM changed) x
            LEFT JOIN tags a ON a.connection_id = x.connection_id AND a.status = 'active') s
   WHERE d.connection_id = s.connection_id
     AND (d.org_id, d.office_id) IS DISTINCT FROM (s.org_id, s.office_id);
  RETURN NULL;
END $$;
CREATE TRIGGER tags_dues_ins AFTER INSERT ON tags
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_tags();
CREATE TRIGGER tags_dues_upd AFTER UPDATE ON tags
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_tags();

-- Rewrites the dues rows of the given connections from connections, their bills and their active
-- tags, in one statement. Rows whose content is unchanged are not rewritten, so organisations'
-- versions move only on real changes. Returns the rows written.
CREATE FUNCTION refresh_connection_dues(ids bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  INSERT INTO connection_dues AS cd (connection_id, discom_id, division_id, subdivision_id, category, consumer_no, name,
      conn_status, org_id, office_id, balance_paise, bill_id, bill_month, due_date, due_key, bill_status,
      net_payable_paise, payable_after_due_paise, rebate_paise, dps_paise, current_demand_paise, units, bill_basis,
      avg_units, avg_demand_paise, reading_break, refreshed_at)
  SELECT c.id, c.discom_id, sd.division_id, c.subdivision_id, c.category, c.consumer_no, c.name, c.status,
         t.org_id, t.office_id, c.balance_paise, lb.id, lb.bill_month, lb.due_date, coalesce(lb.due_date, DATE '9999-12-31'),
         lb.status, coalesce(lb.net_payable_paise, 0), coalesce(lb.payable_after_due_paise, 0), coalesce(lb.rebate_paise, 0),
         coalesce(lb.dps_paise, 0), coalesce(lb.current_demand_paise, 0), coalesce(lb.units, 0), lb.bill_basis,
         h.avg_units, h.avg_demand, coalesce(lb.prev_reading <> r.curr_reading, false), now()
    FROM connections c
    JOIN subdivisions sd ON sd.id = c.subdivision_id
    LEFT JOIN tags t ON t.connection_id = c.id AND t.status = 'active'
    LEFT JOIN LATERAL (
      SELECT b.id, b.bill_month, b.due_date, b.status, b.net_payable_paise, b.payable_after_due_paise, b.rebate_paise,
             b.dps_paise, b.current_demand_paise, b.units, b.bill_basis, b.prev_reading
        FROM bills b WHERE b.connection_id = c.id ORDER BY b.bill_month DESC LIMIT 1) lb ON true
    LEFT JOIN LATERAL (
      SELECT CASE WHEN count(*) >= 3 THEN avg(p.units) END AS avg_units,
             CASE WHEN count(*) >= 3 THEN avg(p.current_demand_paise) END AS avg_demand
        FROM (SELECT b.units, b.current_demand_paise FROM bills b
               WHERE b.connection_id = c.id AND b.bill_month < lb.bill_month
               ORDER BY b.bill_month DESC LIMIT 6) p) h ON true
    LEFT JOIN LATERAL (
      SELECT b.curr_reading FROM bills b
       WHERE b.connection_id = c.id AND b.bill_month < lb.bill_month AND b.curr_reading IS NOT NULL
       ORDER BY b.bill_month DESC LIMIT 1) r ON true
   WHERE c.id = ANY(ids)
  ON CONFLICT (connection_id) DO UPDATE SET
      discom_id = EXCLUDED.discom_id, division_id = EXCLUDED.division_id, subdivision_id = EXCLUDED.subdivision_id,
      category = EXCLUDED.category, consumer_no = EXCLUDED.consumer_no, name = EXCLUDED.name, conn_status = EXCLUDED.conn_status,
      org_id = EXCLUDED.org_id, office_id = EXCLUDED.office_id, balance_paise = EXCLUDED.balance_paise,
      bill_id = EXCLUDED.bill_id, bill_month = EXCLUDED.bill_month, due_date = EXCLUDED.due_date, due_key = EXCLUDED.due_key,
      bill_status = EXCLUDED.bill_status, net_payable_paise = EXCLUDED.net_payable_paise,
      payable_after_due_paise = EXCLUDED.payable_after_due_paise, rebate_paise = EXCLUDED.rebate_paise,
      dps_paise = EXCLUDED.dps_paise, current_demand_paise = EXCLUDED.current_demand_paise, units = EXCLUDED.units,
      bill_basis = EXCLUDED.bill_basis, avg_units = EXCLUDED.avg_units, avg_demand_paise = EXCLUDED.avg_demand_paise,
      reading_break = EXCLUDED.reading_break, refreshed_at = EXCLUDED.refreshed_at
    WHERE (cd.division_id, cd.subdivision_id, cd.category, cd.consumer_no, cd.name, cd.conn_status, cd.org_id, cd.office_id,
           cd.balance_paise, cd.bill_id, cd.bill_month, cd.due_date, cd.bill_status, cd.net_payable_paise,
           cd.payable_after_due_paise, cd.rebate_paise, cd.dps_paise, cd.current_demand_paise, cd.units, cd.bill_basis,
           cd.avg_units, cd.avg_demand_paise, cd.reading_break)
      IS DISTINCT FROM
          (EXCLUDED.division_id, EXCLUDED.subdivision_id, EXCLUDED.category, EXCLUDED.consumer_no, EXCLUDED.name,
           EXCLUDED.conn_status, EXCLUDED.org_id, EXCLUDED.office_id, EXCLUDED.balance_paise, EXCLUDED.bill_id,
           EXCLUDED.bill_month, EXCLUDED.due_date, EXCLUDED.bill_status, EXCLUDED.net_payable_paise,
           EXCLUDED.payable_after_due_paise, EXCLUDED.rebate_paise, EXCLUDED.dps_paise, EXCLUDED.current_demand_paise,
           EXCLUDED.units, EXCLUDED.bill_basis, EXCLUDED.avg_units, EXCLUDED.avg_demand_paise, EXCLUDED.reading_break);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Existing connections get their rows now.
SELECT refresh_connection_dues(array(SELECT id FROM connections));

-- The computed summary of an organisation (or of one office's subtree) for one day, valid while
-- the organisation's dues version and the thresholds are unchanged.
CREATE TABLE dues_summary_cache (
  org_id       bigint NOT NULL,
  scope        text NOT NULL,          -- '' for the whole organisation, else the office path
  day          date NOT NULL,
  version      bigint NOT NULL,
  settings     text NOT NULL,
  body         jsonb NOT NULL,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, scope)
);

-- "Select all N matching": the rows a filter matched, kept so a payment pays exactly what the
-- user saw, without the browser sending N ids.
CREATE TABLE dues_selections (
  id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  org_id         bigint NOT NULL REFERENCES organisations(id),
  created_by     bigint NOT NULL REFERENCES users(id),
  filters        jsonb NOT NULL,
  count          integer NOT NULL,
  outstanding_paise bigint NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL
);
CREATE TABLE dues_selection_items (
  selection_id   bigint NOT NULL REFERENCES dues_selections(id) ON DELETE CASCADE,
  connection_id  bigint NOT NULL,
  PRIMARY KEY (selection_id, connection_id)
);

-- Alerts: each office's wishes, and what was sent (never twice for one bill and reason).
CREATE TABLE alert_preferences (
  office_id              bigint PRIMARY KEY REFERENCES offices(id),
  org_id                 bigint NOT NULL REFERENCES organisations(id),
  due_reminders          boolean NOT NULL DEFAULT true,
  reminder_days          integer NOT NULL DEFAULT 3 CHECK (reminder_days BETWEEN 1 AND 15),
  disconnection_alerts   boolean NOT NULL DEFAULT true,
  -- NULL: the discom-wide default (configuration).
  risk_threshold_paise   bigint CHECK (risk_threshold_paise > 0),
  by_email               boolean NOT NULL DEFAULT true,
  by_sms                 boolean NOT NULL DEFAULT false,
  updated_by             bigint REFERENCES users(id),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts_sent (
  bill_id        bigint NOT NULL,
  reason         text NOT NULL CHECK (reason IN ('due_reminder', 'disconnection_risk')),
  office_id      bigint NOT NULL,
  connection_id  bigint NOT NULL,
  org_id         bigint NOT NULL,
  run_day        date NOT NULL,
  message_count  integer NOT NULL,
  sent_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bill_id, reason)
);
CREATE INDEX alerts_sent_org ON alerts_sent (org_id, sent_at DESC);

-- One daily alerts run per day, whichever process gets there first.
CREATE TABLE alert_runs (
  day          date PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  alerts       integer,
  messages     integer
);
