-- append_batch, set-based: a batch is placed, written and answered by one statement after
-- the head lock, instead of a PL/pgSQL loop over its requests and events (the loop took
-- more time than the insert it fed).
--
-- What changes for callers: a request that checks its stream's version must be the
-- first of the batch on that stream (the writer keeps a later one for its next batch), so
-- every check is against the stored version. Requests at any version may follow others
-- on their stream: they append after what the accepted ones before them wrote. A batch
-- that breaks this is refused whole with an error (its check could otherwise pass against
-- a version the batch itself moves), and the writer retries it request by request.
--
-- Requests are parallel arrays (one element per request); their events parallel arrays
-- in request order, e_request naming each event's request (1-based). Consecutive
-- requests with the same r_group are written together or not at all; a request alone
-- has a null r_group. r_expected: -1 any version, 0 no stream, n exactly version n.
-- A numbered request (r_sequence not null) starts the stream r_stream || nextval(sequence)
-- and writes the number into the top-level payload field r_field of each of its events.
-- Numbers are drawn under the head lock, so they follow commit order.
-- One row comes back per request, in request order: where it landed, or (first_position
-- null) refused, with `conflict` set on the requests whose own expected version failed and
-- `actual` their stream's version.
DROP FUNCTION append_batch(integer[], text[], bigint[], text[], text[], integer[], text[],
    text[], text[], text[], uuid[], text[], text[], integer[], text[], timestamptz);

CREATE FUNCTION append_batch(
    r_group        integer[],
    r_stream       text[],
    r_expected     bigint[],
    r_sequence     text[],
    r_field        text[],
    r_events       integer[],
    r_correlation  text[],
    r_actor        text[],
    r_key          text[],
    r_fingerprint  text[],
    e_request      integer[],
    e_id           uuid[],
    e_context      text[],
    e_type         text[],
    e_schema       integer[],
    e_data         text[],
    occurred       timestamptz
) RETURNS TABLE (
    number         bigint,
    first_version  bigint,
    last_version   bigint,
    first_position bigint,
    last_position  bigint,
    actual         bigint,
    conflict       boolean
) LANGUAGE plpgsql
-- Planned once: a custom plan of the statement below costs more to make (about 1.5 ms)
-- than the statement costs to run for a small batch, and its best plan does not depend on
-- the values.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    head bigint;
    tail bigint;
BEGIN
    IF EXISTS (SELECT 1
               FROM (SELECT r.expected,
                            row_number() OVER (PARTITION BY r.stream ORDER BY r.i) AS k
                     FROM unnest(r_stream, r_expected, r_sequence)
                          WITH ORDINALITY AS r(stream, expected, seq, i)
                     WHERE r.seq IS NULL) c
               WHERE c.expected >= 0 AND c.k > 1) THEN
        RAISE EXCEPTION 'append_batch: a request that checks its version must be the first on its stream';
    END IF;
    SELECT h.last_position INTO head FROM event_log_head h WHERE h.id FOR UPDATE;
    -- A new statement, so a new snapshot: the versions read below are those after the
    -- lock, and no other appender can move them before the commit.
    RETURN QUERY
    WITH request AS (
        SELECT r.*,
               -- A stream's version is its last event's, one descent of the index.
               CASE WHEN r.seq IS NULL THEN coalesce(
                   (SELECT e.stream_version FROM events e WHERE e.stream_id = r.stream
                    ORDER BY e.stream_version DESC LIMIT 1), 0) ELSE 0 END AS current
        FROM unnest(r_group, r_stream, r_expected, r_sequence, r_field, r_events,
                    r_correlation, r_actor, r_key, r_fingerprint)
             WITH ORDINALITY AS r(grp, stream, expected, seq, field, n, corr, actor, key,
                                  fp, i)
    ), checked AS (
        SELECT c.*,
               -- A group is refused whole when any of its requests fails its check.
               bool_or(c.failed) OVER (PARTITION BY coalesce(c.grp::bigint, -c.i)) AS refused
        FROM (SELECT request.*, request.expected >= 0 AND request.expected <> request.current
                     AS failed
              FROM request) c
    ), placed AS MATERIALIZED (
        -- Materialized: each accepted numbered request draws its number exactly once.
        SELECT p.*,
               CASE WHEN p.seq IS NOT NULL AND NOT p.refused
                    THEN nextval(p.seq::regclass) END AS drawn
        FROM (SELECT checked.*,
                     -- Positions and versions follow what the accepted requests before
                     -- this one write: to the log, and to the same (named) stream.
                     head + sum(CASE WHEN checked.refused THEN 0 ELSE checked.n END)
                         OVER (ORDER BY checked.i) - checked.n AS before,
                     checked.current + CASE WHEN checked.seq IS NOT NULL THEN 0 ELSE
                         coalesce(sum(CASE WHEN checked.refused THEN 0 ELSE checked.n END)
                             OVER (PARTITION BY checked.stream ORDER BY checked.i
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                         END AS base
              FROM checked) p
        ORDER BY p.i
    ), named AS (
        SELECT placed.*,
               CASE WHEN placed.drawn IS NULL THEN placed.stream
                    ELSE placed.stream || placed.drawn END AS stream_id
        FROM placed
    ), written AS (
        INSERT INTO events (position, stream_id, stream_version, event_id, context,
                            event_type, schema_version, occurred_at, correlation_id, actor,
                            data)
        SELECT q.before + e.k, q.stream_id, q.base + e.k, e.id, e.context, e.type,
               e.schema, occurred, q.corr, q.actor,
               (CASE WHEN q.drawn IS NULL THEN e.data
                     -- Appended as the object's last key: jsonb keeps the last of
                     -- duplicate keys, so this replaces whatever the payload carried.
                     WHEN e.data = '{}' THEN '{"' || q.field || '":' || q.drawn || '}'
                     ELSE left(e.data, -1) || ',"' || q.field || '":' || q.drawn || '}'
                END)::jsonb
        FROM (SELECT u.*, row_number() OVER (PARTITION BY u.req ORDER BY u.j) AS k
              FROM unnest(e_request, e_id, e_context, e_type, e_schema, e_data)
                   WITH ORDINALITY AS u(req, id, context, type, schema, data, j)) e
        JOIN named q ON q.i = e.req
        WHERE NOT q.refused
    ), keys AS (
        INSERT INTO idempotency_keys (key, fingerprint, stream_id, first_version,
                                      last_version, first_position, last_position)
        SELECT q.key, q.fp, q.stream_id, q.base + 1, q.base + q.n, q.before + 1,
               q.before + q.n
        FROM named q
        WHERE q.key IS NOT NULL AND NOT q.refused
    ), moved AS (
        UPDATE event_log_head
        SET last_position = head + (SELECT sum(q.n) FROM named q WHERE NOT q.refused)
        WHERE id AND EXISTS (SELECT 1 FROM named q WHERE NOT q.refused AND q.n > 0)
    )
    SELECT q.drawn,
           CASE WHEN q.refused THEN NULL ELSE q.base + 1 END,
           CASE WHEN q.refused THEN NULL ELSE q.base + q.n END,
           CASE WHEN q.refused THEN NULL ELSE q.before + 1 END,
           CASE WHEN q.refused THEN NULL ELSE q.before + q.n END,
           CASE WHEN q.refused THEN q.current END,
           q.failed
    FROM named q
    ORDER BY q.i;
    SELECT h.last_position INTO tail FROM event_log_head h WHERE h.id;
    IF tail > head THEN
        -- Readers learn what the batch holds ("first:last:context,..."), so one that
        -- follows other contexts can move past it without reading it. A refused request's
        -- context may be named too: its readers then find nothing, which is harmless.
        PERFORM pg_notify('events', (head + 1) || ':' || tail || ':' ||
            (SELECT string_agg(DISTINCT c, ',') FROM unnest(e_context) AS c));
    END IF;
END
$$;
