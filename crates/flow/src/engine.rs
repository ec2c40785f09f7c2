//! The engine: one session of one bot in one conversation, pinned to the version it started
//! with. Pure: an input and the world as it is go in, the session changes, actions come out. The
//! runner stores the session, carries the actions out (sends, timers, HTTP, the AI) and feeds their
//! results back as inputs.
//!
//! Every input is idempotent: an inbound message already seen, a timer or a result that is not the
//! one the session waits for, changes nothing and does nothing.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::compile::Program;
use crate::model::{
    ContactChange, HandOffTarget, InputKind, MediaKind, NodeKind, Op, Operand, Rule,
};
use crate::text::render;

/// What the engine may do at most, so that no flow, however drawn, runs away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nodes entered in one turn.
    pub steps_per_turn: u16,
    /// Times one node is entered in one session.
    pub visits_per_node: u16,
    /// Messages the bot sends in one session.
    pub messages_per_session: u16,
    /// Consecutive text nodes go as one message (bot messages cost money).
    pub merge_texts: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps_per_turn: 64,
            visits_per_node: 16,
            messages_per_session: 40,
            merge_texts: true,
        }
    }
}

/// What the engine reads of the world: the clock, the window, business hours, the customer's record.
pub trait World {
    fn now_ms(&self) -> u64;
    /// Whether the customer's 24-hour window is open.
    fn window_open(&self) -> bool;
    /// Whether it is business hours in the workspace's time zone.
    fn business_hours(&self) -> bool;
    /// A field of the contact or its lead (`first_name`, `lead.status`, …).
    fn field(&self, name: &str) -> Option<String>;
}

/// One session, as stored between turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The node the session is at.
    pub at: u16,
    pub state: State,
    pub vars: Vec<(String, String)>,
    /// Times each node was entered (by node index; grown as needed).
    pub visits: Vec<u16>,
    /// Messages sent.
    pub sent: u16,
    /// The last inbound message ids seen (a hash each), newest last.
    pub seen: Vec<u64>,
    /// The token of what the session waits for now; a timer or result with another is stale.
    pub token: u32,
    /// Every send has a number; a failure for one at or below this was handled already.
    pub sends: u32,
    pub failed_upto: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Made, not begun.
    New,
    /// Waiting for the customer's answer to the node it is at.
    Reply {
        deadline_ms: u64,
        reminded: bool,
        tries: u8,
    },
    /// Waiting for a durable timer.
    Timer {
        due_ms: u64,
    },
    /// Waiting for an HTTP or AI result.
    Effect,
    Ended {
        why: End,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "BotEnd")]
#[serde(tag = "end", content = "detail", rename_all = "snake_case")]
pub enum End {
    /// It reached the end of the flow, or a branch with nothing drawn.
    Finished,
    HandedOff,
    WentToBot,
    /// A person took the conversation: assigned, replied, or Meta's agent holds it.
    PersonTookOver,
    TimedOut,
    /// A cap was reached (which one).
    Cap(String),
    /// A send failed and the node has no failure branch (Meta's code and reason).
    SendFailed(String),
}

/// A message the customer sent, as far as the engine cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inbound {
    pub id: String,
    pub text: String,
    /// The id of the reply button or list row picked.
    pub reply: Option<String>,
    /// A phone number the customer shared (a contact card, or the answer to a phone request).
    pub phone: Option<String>,
}

/// What the session is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<'a> {
    /// A trigger matched these messages: run from the start.
    Begin(&'a [Inbound]),
    /// One turn's messages: a burst the runner's debounce merged.
    Inbound(&'a [Inbound]),
    Timer {
        token: u32,
    },
    /// A send failed (the `send` number of its action, the node, Meta's code and reason).
    SendFailed {
        send: u32,
        node: u16,
        code: u32,
        reason: String,
    },
    Http {
        token: u32,
        ok: bool,
        values: Vec<(String, String)>,
    },
    Ai {
        token: u32,
        result: AiResult,
    },
    /// A person took the conversation over.
    PersonActive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "AiResult")]
#[serde(tag = "result", content = "reply", rename_all = "snake_case")]
pub enum AiResult {
    Answered(String),
    AskedForPerson,
    CouldNotAnswer,
    Error,
    Timeout,
}

/// What the runner is to do.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "BotAction")]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Send {
        send: u32,
        node: u16,
        message: Message,
    },
    Timer {
        token: u32,
        at_ms: u64,
    },
    Http {
        token: u32,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: String,
        map: Vec<(String, String)>,
        timeout_ms: u32,
    },
    Ai {
        token: u32,
        system: String,
        knowledge: String,
        only_knowledge: bool,
        question: String,
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
    Ended {
        why: End,
    },
}

/// A message in WhatsApp's terms, its text already filled in.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "BotMessage")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Text {
        body: String,
    },
    Media {
        media: MediaKind,
        source: String,
        caption: String,
    },
    Template {
        name: String,
        language: String,
        params: Vec<String>,
    },
    Buttons {
        body: String,
        buttons: Vec<(String, String)>,
    },
    List {
        body: String,
        button: String,
        rows: Vec<(String, String, String)>,
    },
    CtaUrl {
        body: String,
        display: String,
        url: String,
    },
    RequestPhone {
        body: String,
    },
}

/// The variable every inbound message sets: the customer's last words.
pub const LAST_MESSAGE: &str = "last_message";
/// The variable a picked button or list row sets: its title.
pub const CHOICE: &str = "choice";

impl Session {
    pub fn new() -> Self {
        Session {
            at: 0,
            state: State::New,
            vars: Vec::new(),
            visits: Vec::new(),
            sent: 0,
            seen: Vec::new(),
            token: 0,
            sends: 0,
            failed_upto: 0,
        }
    }

    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended { .. })
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set_var(&mut self, name: &str, value: String) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// How many inbound ids a session remembers.
const SEEN: usize = 16;

/// Runs one turn: `input` against `session`, which is changed in place. Returns the actions in order.
pub fn turn(
    program: &Program,
    limits: &Limits,
    session: &mut Session,
    input: Input<'_>,
    world: &dyn World,
) -> Vec<Action> {
    let mut run = Run {
        program,
        limits,
        session,
        world,
        actions: Vec::new(),
        steps: 0,
        pending: None,
    };
    run.input(input);
    run.actions
}

struct Run<'a> {
    program: &'a Program,
    limits: &'a Limits,
    session: &'a mut Session,
    world: &'a dyn World,
    actions: Vec<Action>,
    steps: u16,
    /// Text of consecutive text nodes not sent yet: the first node and the text so far.
    pending: Option<(u16, String)>,
}

/// Where a step goes: on to a node, or the session parks (waits) or ends.
enum Flow {
    Go(Option<u16>),
    Park,
}

impl Run<'_> {
    fn input(&mut self, input: Input<'_>) {
        if self.session.is_ended() {
            return;
        }
        match input {
            Input::Begin(messages) => {
                if !matches!(self.session.state, State::New) {
                    return;
                }
                self.remember(messages);
                self.go(Some(self.program.start));
            }
            Input::Inbound(messages) => {
                let fresh = self.remember(messages);
                if fresh.is_empty() {
                    return;
                }
                if let State::Reply { .. } = self.session.state {
                    self.answer(&fresh);
                }
            }
            Input::Timer { token } => {
                if token != self.session.token {
                    return;
                }
                match self.session.state.clone() {
                    State::Timer { .. } => {
                        let next = self.program.next(self.session.at, "next");
                        self.go(next);
                    }
                    State::Reply {
                        deadline_ms,
                        reminded: false,
                        tries,
                    } => {
                        let reminder = match &self.node().kind {
                            NodeKind::AskButtons { wait, .. }
                            | NodeKind::AskList { wait, .. }
                            | NodeKind::AskInput { wait, .. }
                            | NodeKind::AskPhone { wait, .. } => {
                                render(&wait.reminder, |n| self.lookup(n))
                            }
                            _ => String::new(),
                        };
                        let at = self.session.at;
                        if self.send(at, Message::Text { body: reminder }) {
                            self.session.state = State::Reply {
                                deadline_ms,
                                reminded: true,
                                tries,
                            };
                            let token = self.next_token();
                            self.actions.push(Action::Timer {
                                token,
                                at_ms: deadline_ms,
                            });
                        }
                    }
                    State::Reply { reminded: true, .. } => {
                        match self.program.next(self.session.at, "timeout") {
                            Some(next) => self.go(Some(next)),
                            None => self.end(End::TimedOut),
                        }
                    }
                    _ => {}
                }
            }
            Input::SendFailed {
                send,
                node,
                code,
                reason,
            } => {
                if send <= self.session.failed_upto || send > self.session.sends {
                    return;
                }
                self.session.failed_upto = send;
                match self
                    .program
                    .nodes
                    .get(node as usize)
                    .and_then(|_| self.program.next(node, "failed"))
                {
                    Some(next) => {
                        self.session.token += 1; // whatever it waited for is moot
                        self.go(Some(next));
                    }
                    None => self.end(End::SendFailed(format!("{code}: {reason}"))),
                }
            }
            Input::Http { token, ok, values } => {
                if token != self.session.token || !matches!(self.session.state, State::Effect) {
                    return;
                }
                if !matches!(self.node().kind, NodeKind::Http { .. }) {
                    return;
                }
                for (name, value) in values {
                    self.session.set_var(&name, value);
                }
                let next = self
                    .program
                    .next(self.session.at, if ok { "success" } else { "failure" });
                self.go(next);
            }
            Input::Ai { token, result } => {
                if token != self.session.token || !matches!(self.session.state, State::Effect) {
                    return;
                }
                if !matches!(self.node().kind, NodeKind::AiReply { .. }) {
                    return;
                }
                let at = self.session.at;
                let branch = match result {
                    AiResult::Answered(reply) => {
                        if !self.send(at, Message::Text { body: reply }) {
                            return;
                        }
                        "answered"
                    }
                    AiResult::AskedForPerson => "person",
                    AiResult::CouldNotAnswer => "unanswered",
                    AiResult::Error => "error",
                    AiResult::Timeout => "timeout",
                };
                let next = self.program.next(at, branch);
                self.go(next);
            }
            Input::PersonActive => self.end(End::PersonTookOver),
        }
        self.flush();
    }

    /// Records the messages' ids; returns those not seen before. The last one's text becomes
    /// `last_message`.
    fn remember<'m>(&mut self, messages: &'m [Inbound]) -> Vec<&'m Inbound> {
        let mut fresh = Vec::new();
        for m in messages {
            let h = fnv(&m.id);
            if self.session.seen.contains(&h) {
                continue;
            }
            if self.session.seen.len() == SEEN {
                self.session.seen.remove(0);
            }
            self.session.seen.push(h);
            fresh.push(m);
        }
        if let Some(last) = fresh.iter().rev().find(|m| !m.text.is_empty()) {
            self.session.set_var(LAST_MESSAGE, last.text.clone());
        }
        fresh
    }

    /// The customer answered the question the session is at.
    fn answer(&mut self, messages: &[&Inbound]) {
        let at = self.session.at;
        let State::Reply {
            deadline_ms,
            reminded,
            tries,
        } = self.session.state.clone()
        else {
            return;
        };
        let node = self.node().kind.clone();
        match &node {
            NodeKind::AskButtons {
                buttons: choices, ..
            }
            | NodeKind::AskList { rows: choices, .. } => {
                let picked = messages.iter().rev().find_map(|m| {
                    let reply = m.reply.as_deref();
                    let text = m.text.trim();
                    choices.iter().find(|c| {
                        reply == Some(c.id.as_str())
                            || (!text.is_empty()
                                && (c.title.eq_ignore_ascii_case(text)
                                    || c.id.eq_ignore_ascii_case(text)))
                    })
                });
                match picked {
                    Some(choice) => {
                        let branch = choice.id.clone();
                        self.session.set_var(CHOICE, choice.title.clone());
                        let next = self.program.next(at, &branch);
                        self.go(next);
                    }
                    None if self.program.has_edge(at, "other") => {
                        let next = self.program.next(at, "other");
                        self.go(next);
                    }
                    // Neither a choice nor a drawn "other": ask again (the visit cap stops a loop).
                    None => self.go(Some(at)),
                }
            }
            NodeKind::AskInput {
                input,
                var,
                retries,
                retry_text,
                text,
                ..
            } => {
                let Some(m) = messages.iter().rev().find(|m| !m.text.trim().is_empty()) else {
                    return;
                };
                match valid(*input, m.text.trim()) {
                    Some(value) => {
                        self.session.set_var(var, value);
                        let next = self.program.next(at, "valid");
                        self.go(next);
                    }
                    None if tries < *retries => {
                        let body = render(
                            if retry_text.trim().is_empty() {
                                text
                            } else {
                                retry_text
                            },
                            |n| self.lookup(n),
                        );
                        if self.send(at, Message::Text { body }) {
                            self.session.state = State::Reply {
                                deadline_ms,
                                reminded,
                                tries: tries + 1,
                            };
                        }
                    }
                    None => match self.program.next(at, "invalid") {
                        Some(next) => self.go(Some(next)),
                        None => self.end(End::Finished),
                    },
                }
            }
            NodeKind::AskPhone { var, .. } => {
                match messages.iter().rev().find_map(|m| m.phone.clone()) {
                    Some(phone) => {
                        self.session.set_var(var, phone);
                        let next = self.program.next(at, "shared");
                        self.go(next);
                    }
                    None => self.go(Some(at)),
                }
            }
            _ => {}
        }
    }

    fn node(&self) -> &crate::compile::Compiled {
        &self.program.nodes[self.session.at as usize]
    }

    fn next_token(&mut self) -> u32 {
        self.session.token = self.session.token.wrapping_add(1);
        self.session.token
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.session.var(name) {
            return Some(v.to_string());
        }
        let field = name.strip_prefix("contact.").unwrap_or(name);
        self.world.field(field)
    }

    fn end(&mut self, why: End) {
        self.flush();
        if self.session.is_ended() {
            return;
        }
        self.session.state = State::Ended { why: why.clone() };
        self.session.token = self.session.token.wrapping_add(1);
        self.actions.push(Action::Ended { why });
    }

    /// Sends what is pending of merged text nodes.
    fn flush(&mut self) {
        if let Some((node, body)) = self.pending.take() {
            self.emit(node, Message::Text { body });
        }
    }

    /// Queues a message from node `at`; false (and the session ended) when it may not go.
    fn send(&mut self, at: u16, message: Message) -> bool {
        self.flush();
        if self.session.is_ended() {
            return false;
        }
        let free_form = !matches!(message, Message::Template { .. });
        if free_form && !self.world.window_open() {
            // Meta would refuse it (131047): take the failure branch without calling.
            self.session.sends += 1;
            self.session.failed_upto = self.session.sends;
            match self.program.next(at, "failed") {
                Some(next) => {
                    self.go(Some(next));
                }
                None => self.end(End::SendFailed(
                    "131047: the 24-hour window is closed".into(),
                )),
            }
            return false;
        }
        self.emit(at, message)
    }

    fn emit(&mut self, at: u16, message: Message) -> bool {
        if self.session.sent >= self.limits.messages_per_session {
            self.pending = None;
            self.end(End::Cap(format!(
                "{} messages in one session",
                self.limits.messages_per_session
            )));
            return false;
        }
        self.session.sent += 1;
        self.session.sends += 1;
        self.actions.push(Action::Send {
            send: self.session.sends,
            node: at,
            message,
        });
        true
    }

    /// Runs from node `start` until the session parks or ends.
    fn go(&mut self, start: Option<u16>) {
        let mut next = start;
        loop {
            let Some(at) = next else {
                self.end(End::Finished);
                return;
            };
            if self.session.is_ended() {
                return;
            }
            if self.steps >= self.limits.steps_per_turn {
                self.end(End::Cap(format!(
                    "{} steps in one turn",
                    self.limits.steps_per_turn
                )));
                return;
            }
            self.steps += 1;
            let i = at as usize;
            if self.session.visits.len() <= i {
                self.session.visits.resize(i + 1, 0);
            }
            if self.session.visits[i] >= self.limits.visits_per_node {
                self.end(End::Cap(format!(
                    "node {} entered {} times",
                    self.program.nodes[i].id, self.limits.visits_per_node
                )));
                return;
            }
            self.session.visits[i] += 1;
            self.session.at = at;
            match self.step(at) {
                Flow::Go(n) => next = n,
                Flow::Park => {
                    self.flush();
                    return;
                }
            }
            if self.session.is_ended() {
                return;
            }
        }
    }

    fn step(&mut self, at: u16) -> Flow {
        let program = self.program;
        let node = &program.nodes[at as usize];
        let lookup = |n: &str| self.lookup(n);
        let sent = |ok: bool| {
            if ok {
                Flow::Go(program.next(at, "next"))
            } else {
                Flow::Park
            }
        };
        match &node.kind {
            NodeKind::Start => Flow::Go(program.next(at, "next")),
            NodeKind::SetVariable { var, value } => {
                let value = render(value, lookup);
                self.session.set_var(var, value);
                Flow::Go(program.next(at, "next"))
            }
            NodeKind::SendText { text } => {
                let body = render(text, lookup);
                let mergeable = self.limits.merge_texts
                    && !program.has_edge(at, "failed")
                    && self.world.window_open();
                if mergeable {
                    match &mut self.pending {
                        Some((_, so_far))
                            if so_far.chars().count() + 2 + body.chars().count()
                                <= crmconnect_meta::messages::limits::TEXT_BODY =>
                        {
                            so_far.push_str("\n\n");
                            so_far.push_str(&body);
                        }
                        _ => {
                            self.flush();
                            if self.session.is_ended() {
                                return Flow::Park;
                            }
                            self.pending = Some((at, body));
                        }
                    }
                    return Flow::Go(program.next(at, "next"));
                }
                let ok = self.send(at, Message::Text { body });
                sent(ok)
            }
            NodeKind::SendMedia {
                media,
                source,
                caption,
            } => {
                let message = Message::Media {
                    media: *media,
                    source: render(source, lookup),
                    caption: render(caption, lookup),
                };
                let ok = self.send(at, message);
                sent(ok)
            }
            NodeKind::SendTemplate {
                template,
                language,
                params,
            } => {
                let message = Message::Template {
                    name: template.clone(),
                    language: language.clone(),
                    params: params.iter().map(|p| render(p, lookup)).collect(),
                };
                let ok = self.send(at, message);
                sent(ok)
            }
            NodeKind::SendUrl { text, display, url } => {
                let message = Message::CtaUrl {
                    body: render(text, lookup),
                    display: display.clone(),
                    url: render(url, lookup),
                };
                let ok = self.send(at, message);
                sent(ok)
            }
            NodeKind::AskButtons {
                text,
                buttons,
                wait,
            } => {
                let message = Message::Buttons {
                    body: render(text, lookup),
                    buttons: buttons
                        .iter()
                        .map(|b| (b.id.clone(), b.title.clone()))
                        .collect(),
                };
                self.ask(at, message, wait.seconds, wait.remind_before)
            }
            NodeKind::AskList {
                text,
                button,
                rows,
                wait,
            } => {
                let message = Message::List {
                    body: render(text, lookup),
                    button: button.clone(),
                    rows: rows
                        .iter()
                        .map(|r| (r.id.clone(), r.title.clone(), r.description.clone()))
                        .collect(),
                };
                self.ask(at, message, wait.seconds, wait.remind_before)
            }
            NodeKind::AskInput { text, wait, .. } => {
                let message = Message::Text {
                    body: render(text, lookup),
                };
                self.ask(at, message, wait.seconds, wait.remind_before)
            }
            NodeKind::AskPhone { text, wait, .. } => {
                let message = Message::RequestPhone {
                    body: render(text, lookup),
                };
                self.ask(at, message, wait.seconds, wait.remind_before)
            }
            NodeKind::Condition { rules, any } => {
                let mut results = rules.iter().map(|r| self.holds(r));
                let holds = if *any {
                    results.any(|x| x)
                } else {
                    results.all(|x| x)
                };
                Flow::Go(program.next(at, if holds { "true" } else { "false" }))
            }
            NodeKind::Wait { seconds } => {
                self.flush();
                let due_ms = self.world.now_ms() + seconds * 1000;
                self.session.state = State::Timer { due_ms };
                let token = self.next_token();
                self.actions.push(Action::Timer {
                    token,
                    at_ms: due_ms,
                });
                Flow::Park
            }
            NodeKind::Http {
                method,
                url,
                headers,
                body,
                map,
                timeout_ms,
            } => {
                let action = Action::Http {
                    token: 0,
                    method: method.clone(),
                    url: render(url, lookup),
                    headers: headers
                        .iter()
                        .map(|(k, v)| (k.clone(), render(v, lookup)))
                        .collect(),
                    body: render(body, lookup),
                    map: map.clone(),
                    timeout_ms: *timeout_ms,
                };
                self.flush();
                self.effect(action)
            }
            NodeKind::AiReply {
                system,
                knowledge,
                only_knowledge,
            } => {
                let action = Action::Ai {
                    token: 0,
                    system: render(system, lookup),
                    knowledge: knowledge.clone(),
                    only_knowledge: *only_knowledge,
                    question: self
                        .session
                        .var(LAST_MESSAGE)
                        .unwrap_or_default()
                        .to_string(),
                };
                self.flush();
                self.effect(action)
            }
            NodeKind::HandOff { to } => {
                self.flush();
                self.actions.push(Action::HandOff { to: to.clone() });
                self.end(End::HandedOff);
                Flow::Park
            }
            NodeKind::UpdateContact { change } => {
                let change = match change {
                    ContactChange::Field { field, value } => ContactChange::Field {
                        field: field.clone(),
                        value: render(value, lookup),
                    },
                    other => other.clone(),
                };
                self.flush();
                self.actions.push(Action::UpdateContact { change });
                Flow::Go(program.next(at, "next"))
            }
            NodeKind::GoToBot { bot } => {
                self.flush();
                self.actions.push(Action::GoToBot { bot: bot.clone() });
                self.end(End::WentToBot);
                Flow::Park
            }
            NodeKind::End => {
                self.end(End::Finished);
                Flow::Park
            }
        }
    }

    /// Sends a question and waits for the answer (with a timer for the reminder or the timeout).
    fn ask(&mut self, at: u16, message: Message, seconds: u64, remind_before: u64) -> Flow {
        let (tries, reminded_before) = match self.session.state {
            // Asked again at the same node: the deadline and tries stay.
            State::Reply {
                tries,
                deadline_ms,
                reminded,
            } if self.session.at == at && self.steps == 1 => (tries, Some((deadline_ms, reminded))),
            _ => (0, None),
        };
        if !self.send(at, message) {
            return Flow::Park;
        }
        let (deadline_ms, reminded) =
            reminded_before.unwrap_or((self.world.now_ms() + seconds * 1000, remind_before == 0));
        self.session.state = State::Reply {
            deadline_ms,
            reminded,
            tries,
        };
        let token = self.next_token();
        let at_ms = if reminded {
            deadline_ms
        } else {
            deadline_ms - remind_before * 1000
        };
        self.actions.push(Action::Timer { token, at_ms });
        Flow::Park
    }

    fn effect(&mut self, mut action: Action) -> Flow {
        let token = self.next_token();
        match &mut action {
            Action::Http { token: t, .. } | Action::Ai { token: t, .. } => *t = token,
            _ => {}
        }
        self.session.state = State::Effect;
        self.actions.push(action);
        Flow::Park
    }

    fn holds(&self, rule: &Rule) -> bool {
        let flag = |b: bool| {
            if b {
                "true".to_string()
            } else {
                "false".to_string()
            }
        };
        let left = match &rule.left {
            Operand::Var(name) => self.session.var(name).map(str::to_string),
            Operand::Field(name) => self.world.field(name),
            Operand::BusinessHours => Some(flag(self.world.business_hours())),
            Operand::WindowOpen => Some(flag(self.world.window_open())),
        };
        let left = left.unwrap_or_default();
        let l = left.trim();
        let r = render(&rule.right, |n| self.lookup(n));
        let r = r.trim();
        let number = |s: &str| s.replace(',', ".").parse::<f64>().ok();
        match rule.op {
            Op::Equals => l.eq_ignore_ascii_case(r) || l.to_lowercase() == r.to_lowercase(),
            Op::NotEquals => !(l.eq_ignore_ascii_case(r) || l.to_lowercase() == r.to_lowercase()),
            Op::Contains => l.to_lowercase().contains(&r.to_lowercase()),
            Op::Greater => matches!((number(l), number(r)), (Some(a), Some(b)) if a > b),
            Op::Less => matches!((number(l), number(r)), (Some(a), Some(b)) if a < b),
            Op::IsSet => !l.is_empty(),
            Op::IsNotSet => l.is_empty(),
            Op::IsTrue => matches!(l.to_lowercase().as_str(), "true" | "yes" | "1"),
            Op::IsFalse => !matches!(l.to_lowercase().as_str(), "true" | "yes" | "1"),
        }
    }
}

/// The answer to an input question in its kind's normal form, or none when it is not valid.
pub fn valid(kind: InputKind, text: &str) -> Option<String> {
    match kind {
        InputKind::Text => Some(text.to_string()),
        InputKind::Number => {
            let n = text.replace(',', ".");
            n.parse::<f64>().ok().filter(|x| x.is_finite()).map(|_| n)
        }
        InputKind::Email => {
            let (local, domain) = text.split_once('@')?;
            let ok = !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(|c| c.is_whitespace())
                && !domain.contains('@');
            ok.then(|| text.to_lowercase())
        }
        InputKind::Phone => {
            let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
            let allowed = text
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            (allowed && (6..=15).contains(&digits.len())).then(|| format!("+{digits}"))
        }
        InputKind::Date => parse_date(text),
    }
}

/// `YYYY-MM-DD` or `DD/MM/YYYY` to `YYYY-MM-DD`, checking the day exists.
fn parse_date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1900..=2200).contains(&y).then_some(())?;
    (1..=days)
        .contains(&d)
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// FNV-1a, 64 bits: a stable hash of an inbound id (stored in sessions, so never the std hasher).
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
