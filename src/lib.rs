//! CRMConnect WhatsApp — the core library.
//!
//! Every piece of domain logic lives here, with no Tauri in sight; the desktop shell (`src-tauri/`)
//! and the headless `relay` binary are thin transports over it. One module per concept:
//!
//! - [`workspace`]: where a workspace's data lives, opening it, the sandbox workspace of first launch.
//! - [`campaigns`]: a template to leads, contacts or a group: a frozen audience, a paced dispatcher.
//! - [`chat`]: conversations, messages, sends through an outbox, quick replies, Send on WhatsApp.
//! - [`connection`]: the Cloud API credentials and "Test connection" (admins only).
//! - [`contacts`]: Bulk Contacts (unique E.164 numbers) and their groups; CSV import.
//! - [`leads`]: the CRM's leads, their configurable statuses, CSV import, the campaign filter.
//! - [`clients`]: the CRM's clients (companies) with their contact persons.
//! - [`documents`]: proposals, estimates, invoices, proformas, credit notes, and their PDFs.
//! - [`demo`]: sandbox-only demo records for the CRM screens, loaded on request.
//! - [`email`]: the light check of email addresses.
//! - [`uploads`]: files the webview hands over piece by piece.
//! - [`db`]: the SQLite file of a workspace — migrations, and refusing corrupt or newer files.
//! - [`permissions`]: resources × actions from the spec, roles, and the check every operation makes.
//! - [`staff`]: staff members, passphrases (argon2), signing in and out.
//! - [`templates`]: templates synced with Meta, the five template models, variable mapping.
//! - [`audit`]: the activity log, written in the same transaction as the change it records.
//! - [`screens`]: the sub-modules of the product and who may open each.
//! - [`error`]: the small, closed set of error codes that reach the UI.
//! - [`fault`]: fault-injection points for crash tests.
//! - [`secrets`]: the OS keychain (and an in-memory store) for tokens and app secrets.
//! - [`sensitive`]: a wrapper that keeps secrets out of logs and serialised output.
//! - [`logging`]: tracing to rotated files (desktop) or JSON on stdout (relay).
//! - [`meta`]: Meta's Cloud API — error classification, webhook signatures, the Graph client.
//! - [`numbers`]: the connected numbers, their business profiles and pictures (cached).
//! - [`relay`]: the headless server: webhooks in, a durable ordered event log, streams out.
//! - [`sync`]: the desktop's side of the event log.
//! - [`outbox`]: a desktop's own events, written with the change they describe.
//! - [`handlers`]: what applies received events, submitted by the modules that own them.
//! - [`runtime`]: what runs in the background of an open workspace.
//! - [`sandbox`]: a local stand-in for Meta's Graph API and webhooks, for the app and every test.

pub mod account;
pub mod audit;
pub mod bots;
pub mod campaigns;
pub mod chat;
pub mod clients;
pub mod connection;
pub mod contacts;
pub mod db;
pub mod demo;
pub mod documents;
pub mod email;
pub mod embedded;
pub mod error;
pub mod handlers;
pub mod import;
pub mod leads;
pub mod live;
pub mod numbers;
pub mod outbox;
pub mod permissions;
pub mod runner;
pub mod runtime;
pub mod screens;
pub mod secrets;
pub mod staff;
pub mod sync;
pub mod templates;
pub mod uploads;
pub mod workspace;

pub use crmconnect_base::{clock, fault, logging, sensitive};
pub use crmconnect_flow as flow;
pub use crmconnect_meta as meta;
pub use crmconnect_relay as relay;
pub use crmconnect_sandbox as sandbox;

pub use error::{ApiError, Error, ErrorCode, Result};
pub use workspace::{Workspace, Workspaces};

pub use crmconnect_base::now_ms;
