-- Retention of the errors read model: the projector deletes the errors received more than
-- ERROR_EVENTS_RETENTION_DAYS ago from error_events, oldest first, in bounded batches
-- (each issue's latest error stays: the issue's page shows it). This index finds them
-- without reading the whole table. The events log keeps every ErrorLogged.
CREATE INDEX error_events_by_received_at ON error_events (received_at);
