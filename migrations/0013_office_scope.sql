-- Office scope for payments, uploads and selections (decision 0011). A user placed in an office
-- sees and acts only within its subtree (offices.path starts with theirs); so does every object
-- that belongs to an office:
--
-- - a payment batch belongs to the nearest common office of its connections: the deepest office
--   that is an ancestor-or-self of every item's office (the office of the connection's tag when
--   the batch was made; a connection tagged without an office counts as the head office, the
--   root of the tree). A batch of Patna Sadar's and Danapur's connections belongs to Patna, so
--   the Patna district's users see it and neither DDO's do;
-- - a mass-tag upload belongs to its uploader's office (the head office for an uploader of the
--   whole organisation);
-- - a stored "select all N matching" selection belongs to its creator's office (likewise).
--
-- A NULL office counts as the head office (as connection_dues already does). Organisations made
-- by registration always have a head office, so these columns are NULL only for an organisation
-- without offices.

-- The nearest common office of a set of offices of one organisation (NULL entries: the head
-- office). The candidates are the ancestors-or-self of the first entry (at most the depth of the
-- tree); the deepest one whose path prefixes every entry's path wins. An empty set has none.
CREATE FUNCTION nearest_common_office(org bigint, office_ids bigint[]) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT o.id
    FROM offices o
   WHERE o.org_id = org AND cardinality(office_ids) > 0
     AND coalesce((SELECT f.path FROM offices f WHERE f.id = office_ids[1] AND f.org_id = org) LIKE o.path || '%', o.parent_id IS NULL)
     AND NOT EXISTS (
       SELECT 1 FROM unnest(office_ids) AS u(id) LEFT JOIN offices f ON f.id = u.id AND f.org_id = org
        WHERE NOT coalesce(f.path LIKE o.path || '%', o.parent_id IS NULL))
   ORDER BY length(o.path) DESC, o.id
   LIMIT 1
$$;

-- payment_batches.office_id held the maker's office (0009) and nothing read it. It now holds the
-- batch's office as above. Existing batches: each item's office is that of the organisation's tag
-- of the connection that was active when the batch was made, else its most recent tag, else
-- unknown (the head office); a batch without items belongs to the head office.
COMMENT ON COLUMN payment_batches.office_id IS 'The nearest common office of the batch''s connections (NULL: the head office); only users at or above it see the batch';
UPDATE payment_batches b SET office_id = coalesce(
  (SELECT nearest_common_office(b.org_id, array_agg(DISTINCT t.office_id))
     FROM payment_batch_items i
     LEFT JOIN LATERAL (
       SELECT t.office_id FROM tags t
        WHERE t.org_id = b.org_id AND t.connection_id = i.connection_id AND t.activated_at IS NOT NULL
        ORDER BY (t.activated_at <= b.created_at AND (t.ended_at IS NULL OR t.ended_at > b.created_at)) DESC, t.id DESC
        LIMIT 1) t ON true
    WHERE i.batch_id = b.id
   HAVING count(*) > 0),
  (SELECT h.id FROM offices h WHERE h.org_id = b.org_id AND h.parent_id IS NULL ORDER BY h.id LIMIT 1));
CREATE INDEX payment_batches_office ON payment_batches (org_id, office_id, id DESC);

-- Uploads: the uploader's office when the upload arrived (existing uploads: the uploader's office
-- now), else the head office.
ALTER TABLE tag_jobs ADD COLUMN office_id bigint REFERENCES offices(id);
UPDATE tag_jobs j SET office_id = coalesce(
  (SELECT u.office_id FROM users u WHERE u.id = j.created_by),
  (SELECT h.id FROM offices h WHERE h.org_id = j.org_id AND h.parent_id IS NULL ORDER BY h.id LIMIT 1));

-- Selections: the creator's office (existing ones: the creator's office now), else the head office.
ALTER TABLE dues_selections ADD COLUMN office_id bigint REFERENCES offices(id);
UPDATE dues_selections s SET office_id = coalesce(
  (SELECT u.office_id FROM users u WHERE u.id = s.created_by),
  (SELECT h.id FROM offices h WHERE h.org_id = s.org_id AND h.parent_id IS NULL ORDER BY h.id LIMIT 1));
