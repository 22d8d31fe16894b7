-- The errors context: projects errors are reported to, the issues their errors are
-- grouped into, the errors themselves and their counts per minute. Built by the
-- projector's "errors" projection from the errors events; a replay rebuilds every table.

-- Project numbers, drawn by command-api as a project is created. Project 0, the
-- platform's own, exists without being created, so the numbers start at 1.
CREATE SEQUENCE project_ids START WITH 1;

-- One row per project. Project 0 has a row only once an admin changed it (its alert
-- rules); query-api shows its defaults until then.
CREATE TABLE error_projects (
    id                    bigint PRIMARY KEY,
    name                  text NOT NULL,
    -- The DSN's client key; NULL for the platform's own project, which takes no reports
    -- over HTTP.
    public_key            text,
    rate_limit_per_minute bigint NOT NULL,
    -- The whole AlertRules of the last AlertRulesChanged (the defaults before one).
    alert_rules           jsonb NOT NULL,
    created_at            timestamptz,
    updated_at            timestamptz NOT NULL,
    -- The project stream's version (the ETag) and the position of its last event.
    version               bigint NOT NULL,
    position              bigint NOT NULL
);

-- One row per issue. Its errors and its own stream can reach the projection in either
-- order (a row is created by whichever comes first), so every column is kept so that
-- the order does not change the result: the title is IssueOpened's once it came, the
-- level the highest seen, first_seen the least time, the counts sums.
CREATE TABLE error_issues (
    id             uuid PRIMARY KEY,
    project        bigint NOT NULL,
    fingerprint    text[] NOT NULL,
    title          text NOT NULL,
    culprit        text,
    -- The highest level of its errors, as a rank for sorting and filtering
    -- (0 debug, 1 info, 2 warning, 3 error, 4 fatal).
    level          smallint NOT NULL,
    -- open, resolved or muted.
    status         text NOT NULL,
    -- An error arrived while it was resolved: open again until an admin acts on it.
    regressed      boolean NOT NULL DEFAULT false,
    last_regressed_at timestamptz,
    -- The sum of its errors' counts (a summarised storm counts each record it stands for).
    times_seen     bigint NOT NULL,
    -- Distinct `user` values of its errors (error_issue_users holds them).
    users_seen     bigint NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    -- Set when IssueOpened was applied; NULL while only its errors were.
    opened_at      timestamptz,
    -- The last error applied (the highest position).
    last_event_id  uuid,
    last_release   text,
    last_environment text,
    -- The issue stream's version (IssueOpened and admins' changes), for the ETag.
    version        bigint NOT NULL,
    -- The position of the last event applied to the row, errors included.
    position       bigint NOT NULL
);

-- The listings: one project's (or every project's) issues of a status, by one of the
-- sort orders, id as tie-breaker.
CREATE INDEX error_issues_by_last_seen ON error_issues (project, status, last_seen, id);
CREATE INDEX error_issues_by_first_seen ON error_issues (project, status, first_seen, id);
CREATE INDEX error_issues_by_frequency ON error_issues (project, status, times_seen, id);
CREATE INDEX error_issues_by_users ON error_issues (project, status, users_seen, id);
CREATE INDEX error_issues_last_seen ON error_issues (last_seen, id);

-- The users each issue affected, so that users_seen counts each once.
CREATE TABLE error_issue_users (
    issue  uuid NOT NULL,
    "user" text NOT NULL,
    PRIMARY KEY (issue, "user")
);

-- Every error, whole, for an issue's latest event and its list of events. Kept all;
-- retention is a later concern.
CREATE TABLE error_events (
    project     bigint NOT NULL,
    event_id    uuid NOT NULL,
    issue       uuid NOT NULL,
    level       smallint NOT NULL,
    title       text NOT NULL,
    received_at timestamptz NOT NULL,
    occurred_at timestamptz NOT NULL,
    -- The whole ErrorLogged payload.
    payload     jsonb NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (project, event_id)
);

-- An issue's events, latest first (the latest is the issue's detail view).
CREATE INDEX error_events_by_issue ON error_events (issue, position);
-- The live feed: errors after a position.
CREATE INDEX error_events_by_position ON error_events (position);

-- Errors per project, level and minute (of their received_at), for the chart of counts.
CREATE TABLE error_counts (
    project bigint NOT NULL,
    level   smallint NOT NULL,
    minute  timestamptz NOT NULL,
    count   bigint NOT NULL,
    PRIMARY KEY (project, level, minute)
);

CREATE INDEX error_counts_by_minute ON error_counts (minute);
