-- Fixes to the dues tables found in review.
--
-- 1. The holder (org_id, office_id) of an existing dues row is written by the tag triggers
--    only. refresh_connection_dues read the active tag from its statement's snapshot; when a
--    tag change committed while the refresh waited on the row, the refresh wrote the old holder
--    back (READ COMMITTED updates the newest row version with values computed from the old
--    snapshot), and the connection stayed with an organisation that no longer held it. The
--    refresh now sets the holder only when it inserts a connection's first row, and takes rows
--    in id order.
-- 2. A changed bill moves its holder's dues version even when the latest bill is unchanged (a
--    revised older bill changes the 12-month chart of the summary, which is cached by version).
-- 3. Versions are bumped in organisation order, so concurrent bumps cannot deadlock.

CREATE OR REPLACE FUNCTION refresh_connection_dues(ids bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
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
      reading_break = EXCLUDED.reading_break, refreshed_at = EXCLUDED.refreshed_at
    WHERE (cd.division_id, cd.subdivision_id, cd.category, cd.consumer_no, cd.name, cd.conn_status,
           cd.balance_paise, cd.bill_id, cd.bill_month, cd.due_date, cd.bill_status, cd.net_payable_paise,
           cd.payable_after_due_paise, cd.rebate_paise, cd.dps_paise, cd.current_demand_paise, cd.units, cd.bill_basis,
           cd.avg_units, cd.avg_demand_paise, cd.reading_break)
      IS DISTINCT FROM
          (EXCLUDED.division_id, EXCLUDED.subdivision_id, EXCLUDED.category, EXCLUDED.consumer_no, EXCLUDED.name,
           EXCLUDED.conn_status, EXCLUDED.balance_paise, EXCLUDED.bill_id,
           EXCLUDED.bill_month, EXCLUDED.due_date, EXCLUDED.bill_status, EXCLUDED.net_payable_paise,
           EXCLUDED.payable_after_due_paise, EXCLUDED.rebate_paise, EXCLUDED.dps_paise, EXCLUDED.current_demand_paise,
           EXCLUDED.units, EXCLUDED.bill_basis, EXCLUDED.avg_units, EXCLUDED.avg_demand_paise, EXCLUDED.reading_break);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION dues_bump_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO dues_versions AS v (org_id)
    SELECT o FROM (SELECT org_id FROM new_rows WHERE org_id IS NOT NULL UNION SELECT org_id FROM old_rows WHERE org_id IS NOT NULL) x(o)
     ORDER BY o
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
  ELSE
    INSERT INTO dues_versions AS v (org_id)
    SELECT DISTINCT org_id FROM new_rows WHERE org_id IS NOT NULL ORDER BY org_id
    ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION dues_bump_for_bills() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO dues_versions AS v (org_id)
  SELECT DISTINCT cd.org_id FROM connection_dues cd
   WHERE cd.org_id IS NOT NULL AND cd.connection_id IN (SELECT connection_id FROM new_rows)
   ORDER BY cd.org_id
  ON CONFLICT (org_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER bills_dues_versions_ins AFTER INSERT ON bills
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_bump_for_bills();
CREATE TRIGGER bills_dues_versions_upd AFTER UPDATE ON bills
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dues_bump_for_bills();

-- Selections are looked up by their expiry when purged.
CREATE INDEX dues_selections_expires ON dues_selections (expires_at);
