-- A stream's current version is its last event's version, found by one descent of the
-- (stream_id, stream_version) index; the streams table only doubled every append's writes.
DROP TABLE streams;

-- A whole group-commit batch in one call, so a batch costs one round trip and, run outside
-- an explicit transaction, commits in that same round trip. The head lock is held from the
-- first statement to the commit; the shorter that is, the more batches per second.
--
-- Requests are described by parallel arrays (one element per request) and their events by
-- parallel arrays in request order (r_events says how many belong to each request).
-- Consecutive requests with the same r_group are written together or not at all (an
-- append to several streams at once); each stream appears at most once in a group. A
-- request alone has a null r_group and skips the group check (the lock is held meanwhile).
-- r_expected: -1 any version, 0 no stream, n exactly version n.
-- A numbered request (r_sequence not null) starts the stream r_stream || nextval(sequence)
-- and writes the number into the payload field r_field of each of its events. Numbers are
-- drawn under the head lock, so they follow commit order.
-- One row comes back per request, in request order: where it landed, or (first_position
-- null) refused, with `conflict` set on the requests whose own expected version failed and
-- `actual` their stream's version.
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
) LANGUAGE plpgsql AS $$
DECLARE
    head     bigint;
    pos      bigint;
    cur      bigint;
    stream   text;
    first_e  integer := 1;
    n        integer := coalesce(array_length(r_stream, 1), 0);
    k        integer;
    refused  boolean := false;
    versions jsonb;
    payload  jsonb;
    -- Rows to insert, as column arrays.
    p_pos bigint[] := '{}'; p_stream text[] := '{}'; p_version bigint[] := '{}';
    p_id uuid[] := '{}'; p_context text[] := '{}'; p_type text[] := '{}';
    p_schema integer[] := '{}'; p_corr text[] := '{}'; p_actor text[] := '{}';
    p_data jsonb[] := '{}';
    k_key text[] := '{}'; k_fp text[] := '{}'; k_stream text[] := '{}';
    k_fv bigint[] := '{}'; k_lv bigint[] := '{}'; k_fp_pos bigint[] := '{}'; k_lp bigint[] := '{}';
BEGIN
    SELECT h.last_position INTO head FROM event_log_head h WHERE h.id FOR UPDATE;
    -- Read after the lock: no other appender can move these streams before the commit.
    -- A stream's version is its last event's, one descent of the (stream_id, version) index.
    SELECT coalesce(jsonb_object_agg(v.id, v.version), '{}') INTO versions
    FROM (SELECT DISTINCT u.id, (SELECT e.stream_version FROM events e WHERE e.stream_id = u.id
                                 ORDER BY e.stream_version DESC LIMIT 1) AS version
          FROM unnest(r_stream, r_sequence) AS u(id, seq) WHERE u.seq IS NULL) v
    WHERE v.version IS NOT NULL;
    pos := head;
    FOR i IN 1 .. n LOOP
        IF r_group[i] IS NULL THEN
            refused := false;
        ELSIF i = 1 OR r_group[i] IS DISTINCT FROM r_group[i - 1] THEN
            -- A group is written whole or not at all: check all of it first.
            refused := false;
            k := i;
            WHILE k <= n AND r_group[k] = r_group[i] LOOP
                refused := refused OR (r_sequence[k] IS NULL AND r_expected[k] >= 0
                    AND r_expected[k] <> coalesce((versions ->> r_stream[k])::bigint, 0));
                k := k + 1;
            END LOOP;
        END IF;
        number := NULL;
        conflict := false;
        stream := r_stream[i];
        cur := CASE WHEN r_sequence[i] IS NULL
                    THEN coalesce((versions ->> stream)::bigint, 0) ELSE 0 END;
        IF refused OR (r_expected[i] >= 0 AND r_expected[i] <> cur) THEN
            first_version := NULL; last_version := NULL;
            first_position := NULL; last_position := NULL;
            actual := cur;
            conflict := r_expected[i] >= 0 AND r_expected[i] <> cur;
            RETURN NEXT;
            first_e := first_e + r_events[i];
            CONTINUE;
        END IF;
        IF r_sequence[i] IS NOT NULL THEN
            number := nextval(r_sequence[i]::regclass);
            stream := stream || number;
        END IF;
        first_position := pos + 1;
        first_version := cur + 1;
        FOR j IN first_e .. first_e + r_events[i] - 1 LOOP
            pos := pos + 1;
            cur := cur + 1;
            payload := e_data[j]::jsonb;
            IF number IS NOT NULL THEN
                payload := jsonb_set(payload, ARRAY[r_field[i]], to_jsonb(number));
            END IF;
            p_pos := p_pos || pos; p_stream := p_stream || stream; p_version := p_version || cur;
            p_id := p_id || e_id[j]; p_context := p_context || e_context[j];
            p_type := p_type || e_type[j]; p_schema := p_schema || e_schema[j];
            p_corr := p_corr || r_correlation[i]; p_actor := p_actor || r_actor[i];
            p_data := p_data || payload;
        END LOOP;
        first_e := first_e + r_events[i];
        last_position := pos;
        last_version := cur;
        actual := NULL;
        versions := jsonb_set(versions, ARRAY[stream], to_jsonb(cur));
        IF r_key[i] IS NOT NULL THEN
            k_key := k_key || r_key[i]; k_fp := k_fp || r_fingerprint[i]; k_stream := k_stream || stream;
            k_fv := k_fv || first_version; k_lv := k_lv || last_version;
            k_fp_pos := k_fp_pos || first_position; k_lp := k_lp || last_position;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF pos = head THEN
        RETURN;
    END IF;
    INSERT INTO events (position, stream_id, stream_version, event_id, context, event_type,
                        schema_version, occurred_at, correlation_id, actor, data)
    SELECT p, s, v, e, c, t, sv, occurred, cr, a, d
    FROM unnest(p_pos, p_stream, p_version, p_id, p_context, p_type, p_schema, p_corr,
                p_actor, p_data) AS r(p, s, v, e, c, t, sv, cr, a, d);
    INSERT INTO idempotency_keys (key, fingerprint, stream_id, first_version, last_version,
                                  first_position, last_position)
    SELECT * FROM unnest(k_key, k_fp, k_stream, k_fv, k_lv, k_fp_pos, k_lp);
    UPDATE event_log_head SET last_position = pos WHERE id;
    -- Readers learn what the batch holds ("first:last:context,..."), so one that follows
    -- other contexts can move past it without reading it.
    PERFORM pg_notify('events', (head + 1) || ':' || pos || ':' ||
        (SELECT string_agg(DISTINCT c, ',') FROM unnest(p_context) AS c));
END
$$;
