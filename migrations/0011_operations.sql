-- Indexes for the backlog gauges read at every /metrics scrape (docs/operations.md): each count
-- and oldest age reads a small partial index, however large the tables grow.

-- The oldest pending posting (the billing system behind).
CREATE INDEX postings_pending_age ON postings (created_at) WHERE status = 'pending';
-- Failed jobs (rows are kept: a full scan would grow with every upload).
CREATE INDEX jobs_failed ON jobs (id) WHERE status = 'failed';
