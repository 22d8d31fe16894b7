//! The whole platform driven through its HTTP API, one module per capability and concern.
//! One test binary, so the workspace links the platform once for all of them.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod support;

mod backup_restore;
mod bad_input;
mod board_authorization;
mod board_posts;
mod board_search;
mod chat_authorization;
mod chat_instances;
mod chat_messages;
mod chat_page;
mod chat_rooms;
mod chat_send_race;
mod chat_streams;
mod connection_timeouts;
mod deployment;
mod email_delivery;
mod email_platform_mail;
mod email_requests;
mod email_status_stream;
mod email_workers;
mod errors_alerts;
mod errors_capture;
mod errors_dashboard;
mod errors_issues;
mod errors_levels;
mod errors_masking;
mod errors_sentry_sdk;
mod faults_broker_outage;
mod faults_broker_restart;
mod faults_postgres_restart;
mod faults_process_kill;
mod faults_slow_stream;
mod fresh_machine;
mod housekeeping;
mod identity_auth;
mod identity_authorization;
mod identity_changes;
mod identity_members;
mod identity_rate_limit;
mod identity_sessions;
mod items_commands;
mod items_idempotency;
mod items_queries;
mod items_rate_limit;
mod items_read_your_writes;
mod items_validation;
mod operations;
mod orders_authorization;
mod orders_commands;
mod orders_plans;
mod orders_queries;
mod orders_two_instances;
mod profiles_authorization;
mod profiles_dialogues;
mod profiles_flaws;
mod profiles_history;
mod profiles_lifecycle;
mod profiles_limit;
mod profiles_public_scripts;
mod profiles_references;
mod profiles_validation;
mod query_restarts;
mod seed_paths;
mod smoke;
mod smtp_server;
mod stack;
mod statement_timeouts;
mod stream_sessions;
