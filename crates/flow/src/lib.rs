//! Bot flows, pure: no database, no network, no clock of their own.
//!
//! - [`drawflow`] reads the editor's export (untrusted) into a [`Flow`];
//! - [`compile`] checks a flow and makes it a [`Program`], naming the node of every problem;
//! - [`engine`] runs one session of a program: an input in, the session changed, actions out;
//! - [`trigger`] says which messages start a bot, and whether two bots' triggers overlap.
//!
//! The runner stores sessions, carries the actions out and feeds their results back.

pub mod compile;
pub mod drawflow;
pub mod engine;
#[doc(hidden)]
pub mod fixtures;
pub mod model;
pub mod text;
pub mod trigger;

pub use compile::{CompileError, Program, compile};
pub use engine::{Action, Inbound, Input, Limits, Message, Session, World, turn};
pub use model::{Flow, Node, NodeKind};
