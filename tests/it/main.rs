//! The core's integration tests, in one binary: each module is a suite of scenarios over the real
//! thing (SQLite files in temp dirs, PostgreSQL, the sandbox, the relay as a child process).
//! One binary links the core once; on a 2-core machine every extra test binary is minutes of
//! linking. Shared set-up lives in `tests/support`.

#[path = "../support/mod.rs"]
mod common;
#[path = "../support/relay.rs"]
mod relay_support;

mod audit;
mod bots;
mod bots_at_work;
mod campaign_crash;
mod campaigns;
mod chat;
mod clients;
mod contacts;
mod documents;
mod golive;
mod import;
mod kinds;
mod leads;
mod leads_import;
mod lease;
mod meta_client;
mod outbox;
mod pacing;
mod permissions;
mod relay;
mod relay_processes;
mod runner;
mod sandbox;
mod staff;
mod team_contacts;
mod team_quick_replies;
mod team_staff;
mod team_templates;
mod templates;
mod trust;
