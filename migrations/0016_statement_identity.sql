-- Statement identity (issue 16, point 5) and lines to review (point 6).
--
-- A statement is known by its account and its content (period, balances and every line): the
-- same file imported twice is one statement, even when its format carries no statement id (a
-- CSV). NULL for statements imported before this migration.
ALTER TABLE bank_statements ADD COLUMN content_sha256 text;
CREATE UNIQUE INDEX bank_statements_content ON bank_statements (account, content_sha256) WHERE content_sha256 IS NOT NULL;

-- A line is known, within its account, by its UTR; else by the bank's reference, value date and
-- amount (cheque numbers repeat across payers and banks: a reference alone is no identity);
-- else by its value date, amount and narrative; the last two with their occurrence in the
-- statement (#1, #2 …), so that two equal lines of one file stay two lines. A line of a later
-- statement with the key of an earlier one is that line again, not new money.
CREATE FUNCTION statement_line_base_key(direction text, utr text, bank_ref text, amount bigint, value_date date, narrative text)
  RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN direction = 'credit' THEN 'C' ELSE 'D' END || CASE
    WHEN utr IS NOT NULL THEN ':U:' || utr
    WHEN nullif(btrim(bank_ref), '') IS NOT NULL THEN ':R:' || upper(btrim(bank_ref)) || ':' || value_date || ':' || amount
    ELSE ':N:' || value_date || ':' || amount || ':' || md5(upper(regexp_replace(btrim(coalesce(narrative, '')), '\s+', ' ', 'g')))
  END
$$;

ALTER TABLE statement_lines
  ADD COLUMN line_key text,
  -- A date the bank sent that is not a calendar day (30 February), as sent; value_date is then
  -- the last day of that month and the line is to be reviewed.
  ADD COLUMN date_as_sent text,
  -- Why a person should look at this line (NULL: nothing to review): 'impossible_date'.
  ADD COLUMN review text CHECK (review IN ('impossible_date'));

UPDATE statement_lines l SET line_key = k.key
  FROM (SELECT id, base || CASE WHEN utr IS NULL THEN '#' || row_number() OVER (PARTITION BY statement_id, base ORDER BY line_no) ELSE '' END AS key
          FROM (SELECT id, statement_id, line_no, utr, statement_line_base_key(direction, utr, bank_ref, amount_paise, value_date, narrative) AS base FROM statement_lines) b) k
 WHERE k.id = l.id;
ALTER TABLE statement_lines ALTER COLUMN line_key SET NOT NULL;
CREATE INDEX statement_lines_key ON statement_lines (line_key);
CREATE INDEX statement_lines_review ON statement_lines (statement_id) WHERE review IS NOT NULL;
