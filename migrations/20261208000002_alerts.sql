-- Alerts of the errors context: what the alert rules reactor remembers between events,
-- and the alerts read model, which is also the delivery worker's queue.

-- The rules reactor's state. It follows the errors log like a projection and keeps
-- these rows with its checkpoint in one transaction, so it decides every event once and
-- a replay of the same events decides the same. Times in them are the events' recorded
-- times, never the clock's.

-- A project's alert rules, as last set. A project without a row has the default rules
-- (project 0, the platform's own, until an admin changes them).
CREATE TABLE alert_rule_projects (
    project bigint PRIMARY KEY,
    rules   jsonb NOT NULL
);

-- What the reactor knows of an issue: its status (muted issues are never alerted on, an
-- error on a resolved one is a regression) and when it last raised an alert for it (at
-- most one per the project's interval).
CREATE TABLE alert_rule_issues (
    issue_id      uuid PRIMARY KEY,
    project       bigint NOT NULL,
    title         text NOT NULL,
    level         text NOT NULL,
    status        text NOT NULL,
    last_alert_at timestamptz
);

-- Errors per issue per minute, for the frequency rule (N errors in M minutes). Counted
-- only while the project has such a rule; minutes older than the longest window (a day)
-- are deleted as new ones start.
CREATE TABLE alert_rule_minutes (
    issue_id uuid NOT NULL,
    minute   timestamptz NOT NULL,
    errors   bigint NOT NULL,
    PRIMARY KEY (issue_id, minute)
);

-- The alerts read model: one row per alert (one channel of one alert rule firing). The
-- webhook URL is a secret (whoever has it may post to the channel): `target` keeps only
-- its scheme and host; the worker reads the URL from the alert's stream.
CREATE TABLE error_alerts (
    alert_id        uuid PRIMARY KEY,
    project         bigint NOT NULL,
    issue_id        uuid NOT NULL,
    -- The reason as the event has it: {"kind": "new_issue" | "regression" | "frequency", ...}.
    reason          jsonb NOT NULL,
    -- slack or email.
    channel         text NOT NULL,
    -- The masked webhook URL, or the addresses.
    target          text NOT NULL,
    title           text NOT NULL,
    level           text NOT NULL,
    -- pending, sending, retrying, sent or given_up.
    status          text NOT NULL,
    attempts        integer NOT NULL,
    -- The last attempt's outcome: the webhook's answer, the email's id, or why it failed.
    last_detail     text,
    -- When a worker should next look at the alert: pending, since it was raised;
    -- retrying, at the retry time; sending, when the attempt's lease runs out. NULL once
    -- sent or given up.
    next_attempt_at timestamptz,
    source_event_id uuid NOT NULL,
    raised_at       timestamptz NOT NULL,
    sent_at         timestamptz,
    given_up_at     timestamptz,
    updated_at      timestamptz NOT NULL,
    version         bigint NOT NULL,
    position        bigint NOT NULL
);

-- Listings are newest first, of all projects or one, of one issue, of one status.
CREATE INDEX error_alerts_by_date ON error_alerts (raised_at, alert_id);
CREATE INDEX error_alerts_by_project ON error_alerts (project, raised_at, alert_id);
CREATE INDEX error_alerts_by_issue ON error_alerts (issue_id, raised_at, alert_id);
CREATE INDEX error_alerts_by_status ON error_alerts (status, raised_at, alert_id);
-- The worker's queue: only alerts that still want an attempt, in the order they are due.
CREATE INDEX error_alerts_due ON error_alerts (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Every attempt of every alert, with how it ended.
CREATE TABLE error_alert_attempts (
    alert_id   uuid NOT NULL,
    attempt    integer NOT NULL,
    worker     text NOT NULL,
    started_at timestamptz NOT NULL,
    -- sent, deferred or given_up; NULL while under way (or its worker died).
    outcome    text,
    detail     text,
    ended_at   timestamptz,
    retry_at   timestamptz,
    PRIMARY KEY (alert_id, attempt)
);
