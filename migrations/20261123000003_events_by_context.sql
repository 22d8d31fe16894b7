-- Consumers that follow one context of the PostgreSQL log, and the projection lag
-- metrics, read events of a context after a position.
CREATE INDEX events_context_position ON events (context, position);
