-- error_events no longer copies each error's payload: the log holds it (events.data at
-- the row's position, found by the log's primary key), and readers join it from there.
-- The copy doubled what every reported error cost PostgreSQL (a second parse and write
-- of about a kilobyte of jsonb) and the space it takes.
ALTER TABLE error_events DROP COLUMN payload;
