-- Dues, second step: fixes found in review and measured at scale.
--
-- 1. The holder (org_id, office_id) of an existing dues row is written by the tag triggers
--    only. refresh_connection_dues read the active tag from its statement's snapshot; when a
--    tag change committed while the refresh waited on the row, the refresh wrote the old holder
--    back (READ COMMITTED updates the newest row version with values computed from the old
--    snapshot), and the connection stayed with an organisation that no longer held it. The
--    refresh now sets the holder only when it inserts a connection's first row, and takes rows
--    in id order.
-- 2. The summary's 12-month billing chart read the organisation's bills: a parallel scan of
--    all 24 million bills, 7.6 s for an organisation of 1,00,000 connections. Each dues row now
--    carries its connection's last 12 bills (month, demand, units, paid), and dues_org_months
--    keeps the organisation's sums per month, moved by a statement trigger on connection_dues
--    with the difference between the old and new rows (holder changes included), in the same
--    transaction. An office's chart sums the arrays of its rows.
-- 3. Any change to connections or bills refreshes the dues rows of their connections (statement
--    triggers), so no path that writes them can leave the dashboard behind; the ingest no
--    longer refreshes them itself.
-- 4. Versions are bumped in organisation order, so concurrent bumps cannot deadlock.

ALTER TABLE connection_dues
  ADD COLUMN hist_months date[],
  ADD COLUMN hist_billed_paise bigint[],
  ADD COLUMN hist_units bigint[],
  ADD COLUMN hist_paid boolean[];

CREATE TABLE dues_org_months (
  org_id        bigint NOT NULL,
  month         date NOT NULL,
  bills         bigint NOT NULL,
  billed_paise  bigint NOT NULL,
  units         bigint NOT NULL,
  paid_bills    bigint NOT NULL,
  PRIMARY KEY (org_id, month)
);

CREATE OR REPLACE FUNCTION dues_bump_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO dues_versions AS v (org_id)
    SELECT o FROM (SELECT org_id FROM new_rows WHERE org_id IS NOT NULL UNION SELECT org_id FROM old_rows WHERE org_id IS NOT NULL) x(o)
     ORDER BY o
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
    -- The monthly sums: minus what the old rows counted, plus what the new rows count.
    INSERT INTO dues_org_months AS m (org_id, month, bills, billed_paise, units, paid_bills)
    SELECT org_id, month, sum(s), sum(s * billed), sum(s * units), sum(s * paid::int)
      FROM (SELECT n.org_id, 1 AS s, x.* FROM new_rows n, unnest(n.hist_months, n.hist_billed_paise, n.hist_units, n.hist_paid) x(month, billed, units, paid)
             WHERE n.org_id IS NOT NULL
            UNION ALL
            SELECT o.org_id, -1, x.* FROM old_rows o, unnest(o.hist_months, o.hist_billed_paise, o.hist_units, o.hist_paid) x(month, billed, units, paid)
             WHERE o.org_id IS NOT NULL) d
     GROUP BY org_id, month
    HAVING sum(s) <> 0 OR sum(s * billed) <> 0 OR sum(s * units) <> 0 OR sum(s * paid::int) <> 0
     ORDER BY org_id, month
    ON CONFLICT (org_id, month) DO UPDATE SET bills = m.bills + EXCLUDED.bills, billed_paise = m.billed_paise + EXCLUDED.billed_paise,
        units = m.units + EXCLUDED.units, paid_bills = m.paid_bills + EXCLUDED.paid_bills;
  ELSE
    INSERT INTO dues_versions AS v (org_id)
    SELECT DISTINCT org_id FROM new_rows WHERE org_id IS NOT NULL ORDER BY org_id
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
    INSERT INTO dues_org_months AS m (org_id, month, bills, billed_paise, units, paid_bills)
    SELECT n.org_id, x.month, count(*), sum(x.billed), sum(x.units), count(*) FILTER (WHERE x.paid)
      FROM new_rows n, unnest(n.hist_months, n.hist_billed_paise, n.hist_units, n.hist_paid) x(month, billed, units, paid)
     WHERE n.org_id IS NOT NULL
     GROUP BY n.org_id, x.month ORDER BY n.org_id, x.month
    ON CONFLICT (org_id, month) DO UPDATE SET bills = m.bills + EXCLUDED.bills, billed_paise = m.billed_paise + EXCLUDED.billed_paise,
        units = m.units + EXCLUDED.units, paid_bills = m.paid_bills + EXCLUDED.paid_bills;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION refresh_connection_dues(ids bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  INSERT INTO connection_dues AS cd (connection_id, discom_id, division_id, subdivision_id, category, consumer_no, name,
      conn_status, org_id, office_id, balance_paise, bill_id, bill_month, due_date, due_key, bill_status,
      net_payable_paise, payable_after_due_paise, rebate_paise, dps_paise, current_demand_paise, units, bill_basis,
      avg_units, avg_demand_paise, reading_break, hist_months, hist_billed_paise, hist_units, hist_paid, refreshed_at)
  SELECT c.id, c.discom_id, sd.division_id, c.subdivision_id, c.category, c.consumer_no, c.name, c.status,
         t.org_id, t.office_id, c.balance_paise, lb.id, lb.bill_month, lb.due_date, coalesce(lb.due_date, DATE '9999-12-31'),
         lb.status, coalesce(lb.net_payable_paise, 0), coalesce(lb.payable_after_due_paise, 0), coalesce(lb.rebate_paise, 0),
         coalesce(lb.dps_paise, 0), coalesce(lb.current_demand_paise, 0), coalesce(lb.units, 0), lb.bill_basis,
         h.avg_units, h.avg_demand, coalesce(lb.prev_reading <> r.curr_reading, false),
         y.months, y.billed, y.units, y.paid, now()
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
    LEFT JOIN LATERAL (
      SELECT array_agg(z.bill_month ORDER BY z.bill_month) AS months, array_agg(z.current_demand_paise ORDER BY z.bill_month) AS billed,
             array_agg(z.units::bigint ORDER BY z.bill_month) AS units, array_agg(z.status = 'paid' ORDER BY z.bill_month) AS paid
        FROM (SELECT b.bill_month, b.current_demand_paise, b.units, b.status FROM bills b
               WHERE b.connection_id = c.id ORDER BY b.bill_month DESC LIMIT 12) z) y ON true
   WHERE c.id = ANY(ids)
   ORDER BY c.id
  ON CONFLICT (connection_id) DO UPDATE SET
      discom_id = EXCLUDED.discom_id, division_id = EXCLUDED.division_id, subdivision_id = EXCLUDED.subdivision_id,
      category = EXCLUDED.category, consumer_no = EXCLUDED.consumer_no, name = EXCLUDED.name, conn_status = EXCLUDED.conn_status,
      balance_paise = EXCLUDED.balance_paise,
      bill_id = EXCLUDED.bill_id, bill_month = EXCLUDED.bill_month, due_date = EXCLUDED.due_date, due_key = EXCLUDED.due_key,
      bill_status = EXCLUDED.bill_status, net_payable_paise = EXCLUDED.net_payable_paise,
      payable_after_due_paise = EXCLUDED.payable_after_due_paise, rebate_paise = EXCLUDED.rebate_paise,
      dps_paise = EXCLUDED.dps_paise, current_demand_paise = EXCLUDED.current_demand_paise, units = EXCLUDED.units,
      bill_basis = EXCLUDED.bill_basis, avg_units = EXCLUDED.avg_units, avg_demand_paise = EXCLUDED.avg_demand_paise,
      reading_break = EXCLUDED.reading_break, hist_months = EXCLUDED.hist_months, hist_billed_paise = EXCLUDED.hist_billed_paise,
      hist_units = EXCLUDED.hist_units, hist_paid = EXCLUDED.hist_paid, refreshed_at = EXCLUDED.refreshed_at
    WHERE (cd.division_id, cd.subdivision_id, cd.category, cd.consumer_no, cd.name, cd.conn_status,
           cd.balance_paise, cd.bill_id, cd.bill_month, cd.due_date, cd.bill_status, cd.net_payable_paise,
           cd.payable_after_due_paise, cd.rebate_paise, cd.dps_paise, cd.current_demand_paise, cd.units, cd.bill_basis,
           cd.avg_units, cd.avg_demand_paise, cd.reading_break, cd.hist_months, cd.hist_billed_paise, cd.hist_units, cd.hist_paid)
      IS DISTINCT FROM
          (EXCLUDED.division_id, EXCLUDED.subdivision_id, EXCLUDED.category, EXCLUDED.consumer_no, EXCLUDED.name,
           EXCLUDED.conn_status, EXCLUDED.balance_paise, EXCLUDED.bill_id,
           EXCLUDED.bill_month, EXCLUDED.due_date, EXCLUDED.bill_status, EXCLUDED.net_payable_paise,
           EXCLUDED.payable_after_due_paise, EXCLUDED.rebate_paise, EXCLUDED.dps_paise, EXCLUDED.current_demand_paise,
           EXCLUDED.units, EXCLUDED.bill_basis, EXCLUDED.avg_units, EXCLUDED.avg_demand_paise, EXCLUDED.reading_break,
           EXCLUDED.hist_months, EXCLUDED.hist_billed_paise, EXCLUDED.hist_units, EXCLUDED.hist_paid);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- Any write to connections or bills, by any path (sync, import, seed, a payment's settlement),
-- refreshes the dues rows of the connections it touched, in its own transaction.
CREATE FUNCTION dues_follow_source() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'connections' THEN
    PERFORM refresh_connection_dues(array(SELECT id FROM new_rows ORDER BY id));
  ELSE
    PERFORM refresh_connection_dues(array(SELECT DISTINCT connection_id FROM new_rows ORDER BY connection_id));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER connections_dues_ins AFTER INSERT ON connections
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_source();
CREATE TRIGGER connections_dues_upd AFTER UPDATE ON connections
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_source();
CREATE TRIGGER bills_dues_ins AFTER INSERT ON bills
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_source();
CREATE TRIGGER bills_dues_upd AFTER UPDATE ON bills
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_follow_source();

-- Existing rows get their histories (and organisations their monthly sums, by the trigger).
SELECT refresh_connection_dues(array(SELECT id FROM connections));

-- Selections are looked up by their expiry when purged.
CREATE INDEX dues_selections_expires ON dues_selections (expires_at);
