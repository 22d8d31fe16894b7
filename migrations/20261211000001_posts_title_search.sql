-- Title search (`GET /api/v1/posts?q=`) finds the posts whose title contains a text,
-- ignoring case. It scanned every title for each new text, which anyone may send: a
-- trigram index on the lower-cased title lets `lower(title) LIKE '%text%'` read only the
-- posts that can match. pg_trgm is a trusted extension (PostgreSQL 13+): the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX posts_title_trigrams ON posts USING gin (lower(title) gin_trgm_ops);
