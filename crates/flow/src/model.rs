//! A bot's flow as it is stored: nodes, each of one kind, and edges named by what they mean (a
//! button's id, `true`/`false`, `valid`/`invalid`/`timeout`), never by a port's number.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A flow as saved: the draft a person edits, or a published version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Flow {
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The editor's id for the node (Drawflow's), shown in every error about it.
    pub id: String,
    #[serde(flatten)]
    pub kind: NodeKind,
    /// Branch name → the id of the node it leads to. A branch with no edge ends the session there.
    #[serde(default)]
    pub next: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowNodeKind")]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Start,
    SendText {
        text: String,
    },
    SendMedia {
        media: MediaKind,
        /// The media's link or its uploaded id.
        source: String,
        #[serde(default)]
        caption: String,
    },
    SendTemplate {
        template: String,
        language: String,
        /// Body parameters in order, each with `{{variables}}`.
        #[serde(default)]
        params: Vec<String>,
    },
    AskButtons {
        text: String,
        buttons: Vec<Choice>,
        #[serde(default)]
        wait: Timeout,
    },
    AskList {
        text: String,
        /// The label of the button that opens the list.
        button: String,
        rows: Vec<Choice>,
        #[serde(default)]
        wait: Timeout,
    },
    SendUrl {
        text: String,
        /// The button's label.
        display: String,
        url: String,
    },
    AskInput {
        text: String,
        input: InputKind,
        var: String,
        #[serde(default)]
        retries: u8,
        #[serde(default)]
        retry_text: String,
        #[serde(default)]
        wait: Timeout,
    },
    /// Asks a customer who writes by username for their phone number (`request_contact_info`).
    AskPhone {
        text: String,
        #[serde(default = "phone_var")]
        var: String,
        #[serde(default)]
        wait: Timeout,
    },
    Condition {
        rules: Vec<Rule>,
        #[serde(default)]
        any: bool,
    },
    SetVariable {
        var: String,
        value: String,
    },
    /// A durable timer.
    Wait {
        seconds: u64,
    },
    Http {
        #[serde(default = "get")]
        method: String,
        url: String,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
        /// Variable ← JSON pointer into the response.
        #[serde(default)]
        map: Vec<(String, String)>,
        #[serde(default = "http_timeout")]
        timeout_ms: u32,
    },
    AiReply {
        system: String,
        #[serde(default)]
        knowledge: String,
        #[serde(default)]
        only_knowledge: bool,
    },
    HandOff {
        to: HandOffTarget,
    },
    UpdateContact {
        change: ContactChange,
    },
    GoToBot {
        bot: String,
    },
    End,
}

fn phone_var() -> String {
    "phone".into()
}
fn get() -> String {
    "GET".into()
}
fn http_timeout() -> u32 {
    10_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowMediaKind")]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
}

/// A reply button or a list row: its id names the branch it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowChoice")]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// How long an ask waits for the customer, and the reminder it sends before giving up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowTimeout")]
pub struct Timeout {
    pub seconds: u64,
    /// Seconds before the timeout at which the reminder goes (0: no reminder).
    #[serde(default)]
    pub remind_before: u64,
    #[serde(default)]
    pub reminder: String,
}

impl Default for Timeout {
    fn default() -> Self {
        Timeout {
            seconds: 24 * 3600,
            remind_before: 0,
            reminder: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowInputKind")]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    Text,
    Number,
    Email,
    Phone,
    /// A date as YYYY-MM-DD or DD/MM/YYYY.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "FlowRule")]
pub struct Rule {
    pub left: Operand,
    pub op: Op,
    #[serde(default)]
    pub right: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "RuleOperand")]
#[serde(tag = "of", content = "name", rename_all = "snake_case")]
pub enum Operand {
    /// A flow variable.
    Var(String),
    /// A field of the contact or its lead (`first_name`, `lead.status`, …).
    Field(String),
    /// Whether it is business hours now, in the workspace's time zone.
    BusinessHours,
    /// Whether the customer's 24-hour window is open.
    WindowOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "RuleOp")]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equals,
    NotEquals,
    Contains,
    Greater,
    Less,
    IsSet,
    IsNotSet,
    IsTrue,
    IsFalse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "HandOffTarget")]
#[serde(tag = "to", content = "id", rename_all = "snake_case")]
pub enum HandOffTarget {
    /// A staff member by uid.
    Staff(String),
    /// The next free person of a group (by uid).
    Group(String),
    /// Whoever picks the conversation up.
    Anyone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "BotContactChange")]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ContactChange {
    AddToGroup {
        group: String,
    },
    RemoveFromGroup {
        group: String,
    },
    LeadStatus {
        status: String,
    },
    /// A field, its value with `{{variables}}`.
    Field {
        field: String,
        value: String,
    },
}

/// Every node kind's name, as the editor and the stored flow write it.
pub const KINDS: &[&str] = &[
    "start",
    "send_text",
    "send_media",
    "send_template",
    "ask_buttons",
    "ask_list",
    "send_url",
    "ask_input",
    "ask_phone",
    "condition",
    "set_variable",
    "wait",
    "http",
    "ai_reply",
    "hand_off",
    "update_contact",
    "go_to_bot",
    "end",
];

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Start => "start",
            NodeKind::SendText { .. } => "send_text",
            NodeKind::SendMedia { .. } => "send_media",
            NodeKind::SendTemplate { .. } => "send_template",
            NodeKind::AskButtons { .. } => "ask_buttons",
            NodeKind::AskList { .. } => "ask_list",
            NodeKind::SendUrl { .. } => "send_url",
            NodeKind::AskInput { .. } => "ask_input",
            NodeKind::AskPhone { .. } => "ask_phone",
            NodeKind::Condition { .. } => "condition",
            NodeKind::SetVariable { .. } => "set_variable",
            NodeKind::Wait { .. } => "wait",
            NodeKind::Http { .. } => "http",
            NodeKind::AiReply { .. } => "ai_reply",
            NodeKind::HandOff { .. } => "hand_off",
            NodeKind::UpdateContact { .. } => "update_contact",
            NodeKind::GoToBot { .. } => "go_to_bot",
            NodeKind::End => "end",
        }
    }

    /// The node's branches, in the order of the editor's output ports.
    pub fn branches(&self) -> Vec<String> {
        let fixed = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        match self {
            NodeKind::Start
            | NodeKind::SetVariable { .. }
            | NodeKind::Wait { .. }
            | NodeKind::UpdateContact { .. } => fixed(&["next"]),
            NodeKind::SendText { .. }
            | NodeKind::SendMedia { .. }
            | NodeKind::SendTemplate { .. }
            | NodeKind::SendUrl { .. } => fixed(&["next", "failed"]),
            NodeKind::AskButtons {
                buttons: choices, ..
            }
            | NodeKind::AskList { rows: choices, .. } => choices
                .iter()
                .map(|c| c.id.clone())
                .chain(["other", "timeout", "failed"].map(String::from))
                .collect(),
            NodeKind::AskInput { .. } => fixed(&["valid", "invalid", "timeout", "failed"]),
            NodeKind::AskPhone { .. } => fixed(&["shared", "timeout", "failed"]),
            NodeKind::Condition { .. } => fixed(&["true", "false"]),
            NodeKind::Http { .. } => fixed(&["success", "failure"]),
            NodeKind::AiReply { .. } => {
                fixed(&["answered", "person", "unanswered", "error", "timeout"])
            }
            NodeKind::HandOff { .. } | NodeKind::GoToBot { .. } | NodeKind::End => Vec::new(),
        }
    }

    /// Whether the node stops and waits for the customer to write.
    pub fn waits_for_customer(&self) -> bool {
        matches!(
            self,
            NodeKind::AskButtons { .. }
                | NodeKind::AskList { .. }
                | NodeKind::AskInput { .. }
                | NodeKind::AskPhone { .. }
        )
    }

    /// Whether the node sends a free-form message (one only the open 24-hour window allows).
    pub fn sends_free_form(&self) -> bool {
        matches!(
            self,
            NodeKind::SendText { .. }
                | NodeKind::SendMedia { .. }
                | NodeKind::SendUrl { .. }
                | NodeKind::AskButtons { .. }
                | NodeKind::AskList { .. }
                | NodeKind::AskInput { .. }
                | NodeKind::AskPhone { .. }
                | NodeKind::AiReply { .. }
        )
    }
}
