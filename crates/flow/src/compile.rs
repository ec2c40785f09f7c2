//! Save compiles the draft: every problem is refused with the node it is in, so the editor can
//! highlight it. A flow that compiles is one the engine can run within its caps.

use std::collections::{HashMap, HashSet};

use crmconnect_meta::messages::limits;
use serde::Serialize;
use ts_rs::TS;

use crate::model::{Flow, HandOffTarget, Node, NodeKind, Operand, Timeout};
use crate::text::is_var_name;

/// A problem in a flow: the node it is in (none for the flow as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "FlowError")]
pub struct CompileError {
    pub node: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.node {
            Some(node) => write!(f, "node {node}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A flow ready to run: nodes by index, each branch resolved to the index it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub nodes: Vec<Compiled>,
    pub start: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub id: String,
    pub kind: NodeKind,
    /// The kind's branches, in port order, and where each leads (none: the session ends there).
    pub branches: Vec<String>,
    pub next: Vec<Option<u16>>,
}

impl Program {
    /// Where `branch` of node `at` leads.
    pub fn next(&self, at: u16, branch: &str) -> Option<u16> {
        let node = &self.nodes[at as usize];
        let i = node.branches.iter().position(|b| b == branch)?;
        node.next[i]
    }

    pub fn has_edge(&self, at: u16, branch: &str) -> bool {
        self.next(at, branch).is_some()
    }

    pub fn index_of(&self, id: &str) -> Option<u16> {
        self.nodes.iter().position(|n| n.id == id).map(|i| i as u16)
    }
}

/// The most nodes a flow may have.
pub const MAX_NODES: usize = 500;
/// A wait this long or longer may outlast the customer's 24-hour window.
const WINDOW_SECONDS: u64 = 24 * 3600;
const MAX_WAIT_SECONDS: u64 = 30 * 24 * 3600;
/// Meta's limit on an interactive message's body.
const INTERACTIVE_BODY: usize = 1024;

/// Compiles `flow`, or refuses it with every problem found (the flow as a whole first).
pub fn compile(flow: &Flow) -> Result<Program, Vec<CompileError>> {
    let mut errors = Vec::new();
    let flow_error = |errors: &mut Vec<CompileError>, message: String| {
        errors.push(CompileError {
            node: None,
            message,
        })
    };
    if flow.nodes.len() > MAX_NODES {
        flow_error(
            &mut errors,
            format!(
                "the flow has {} nodes; at most {MAX_NODES} are allowed",
                flow.nodes.len()
            ),
        );
        return Err(errors);
    }

    let mut index: HashMap<&str, u16> = HashMap::new();
    for (i, node) in flow.nodes.iter().enumerate() {
        if node.id.trim().is_empty() {
            flow_error(&mut errors, format!("node number {} has no id", i + 1));
        } else if index.insert(node.id.as_str(), i as u16).is_some() {
            errors.push(at(node, "another node has the same id".into()));
        }
    }
    let starts: Vec<&Node> = flow
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Start))
        .collect();
    match starts.len() {
        0 => flow_error(&mut errors, "the flow has no start node".into()),
        1 => {}
        _ => {
            for extra in &starts[1..] {
                errors.push(at(
                    extra,
                    format!(
                        "a flow has exactly one start; “{}” is the first",
                        starts[0].id
                    ),
                ));
            }
        }
    }

    let mut nodes = Vec::with_capacity(flow.nodes.len());
    for node in &flow.nodes {
        check_node(node, &mut errors);
        let branches = node.kind.branches();
        let mut next = vec![None; branches.len()];
        for (branch, target) in &node.next {
            let Some(slot) = branches.iter().position(|b| b == branch) else {
                errors.push(at(
                    node,
                    format!("a {} node has no branch “{branch}”", node.kind.name()),
                ));
                continue;
            };
            match index.get(target.as_str()) {
                Some(&t) if matches!(flow.nodes[t as usize].kind, NodeKind::Start) => {
                    errors.push(at(
                        node,
                        format!("branch “{branch}” leads back to the start"),
                    ));
                }
                Some(&t) => next[slot] = Some(t),
                None => errors.push(at(
                    node,
                    format!("branch “{branch}” leads to node “{target}”, which is not in the flow"),
                )),
            }
        }
        nodes.push(Compiled {
            id: node.id.clone(),
            kind: node.kind.clone(),
            branches,
            next,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let program = Program {
        start: index[starts[0].id.as_str()],
        nodes,
    };
    check_cycles(&program, &mut errors);
    check_window(&program, &mut errors);
    if errors.is_empty() {
        Ok(program)
    } else {
        Err(errors)
    }
}

fn at(node: &Node, message: String) -> CompileError {
    CompileError {
        node: Some(node.id.clone()),
        message,
    }
}

fn check_node(node: &Node, errors: &mut Vec<CompileError>) {
    let mut problem = |message: String| errors.push(at(node, message));
    let text = |what: &str, value: &str, max: usize, problem: &mut dyn FnMut(String)| {
        let n = value.chars().count();
        if value.trim().is_empty() {
            problem(format!("the {what} is empty"));
        } else if n > max {
            problem(format!(
                "the {what} is {n} characters long; WhatsApp allows at most {max}"
            ));
        }
    };
    let var = |name: &str, problem: &mut dyn FnMut(String)| {
        if !is_var_name(name) {
            problem(format!(
                "“{name}” is not a variable name (letters, digits and _, not starting with a digit)"
            ));
        }
    };
    match &node.kind {
        NodeKind::Start | NodeKind::End => {}
        NodeKind::SendText { text: body } => text("text", body, limits::TEXT_BODY, &mut problem),
        NodeKind::SendMedia {
            source,
            caption,
            media,
        } => {
            if source.trim().is_empty() {
                problem("no media file or link is chosen".into());
            }
            if caption.chars().count() > limits::CAPTION {
                problem(format!(
                    "the caption is {} characters long; WhatsApp allows at most {}",
                    caption.chars().count(),
                    limits::CAPTION
                ));
            }
            if !caption.is_empty() && *media == crate::model::MediaKind::Audio {
                problem("WhatsApp sends audio without a caption".into());
            }
        }
        NodeKind::SendTemplate {
            template, language, ..
        } => {
            if template.trim().is_empty() {
                problem("no template is chosen".into());
            }
            if language.trim().is_empty() {
                problem("the template's language is not chosen".into());
            }
        }
        NodeKind::AskButtons {
            text: body,
            buttons,
            wait,
        } => {
            text("question", body, INTERACTIVE_BODY, &mut problem);
            if buttons.is_empty() || buttons.len() > limits::REPLY_BUTTONS {
                problem(format!(
                    "{} buttons; WhatsApp allows 1 to {}",
                    buttons.len(),
                    limits::REPLY_BUTTONS
                ));
            }
            check_choices(
                buttons,
                "button",
                limits::BUTTON_ID,
                limits::BUTTON_TITLE,
                &mut problem,
            );
            check_timeout(wait, &mut problem);
        }
        NodeKind::AskList {
            text: body,
            button,
            rows,
            wait,
        } => {
            text("question", body, INTERACTIVE_BODY, &mut problem);
            text(
                "list's button label",
                button,
                limits::LIST_BUTTON,
                &mut problem,
            );
            if rows.is_empty() || rows.len() > limits::LIST_ROWS {
                problem(format!(
                    "{} rows; WhatsApp allows 1 to {}",
                    rows.len(),
                    limits::LIST_ROWS
                ));
            }
            check_choices(rows, "row", limits::ROW_ID, limits::ROW_TITLE, &mut problem);
            for row in rows {
                let n = row.description.chars().count();
                if n > limits::ROW_DESCRIPTION {
                    problem(format!(
                        "row “{}”: the description is {n} characters long; WhatsApp allows at most {}",
                        row.id,
                        limits::ROW_DESCRIPTION
                    ));
                }
            }
            check_timeout(wait, &mut problem);
        }
        NodeKind::SendUrl {
            text: body,
            display,
            url,
        } => {
            text("text", body, INTERACTIVE_BODY, &mut problem);
            text("button label", display, limits::BUTTON_TITLE, &mut problem);
            check_url(url, &mut problem);
        }
        NodeKind::AskInput {
            text: body,
            var: name,
            retries,
            wait,
            ..
        } => {
            text("question", body, limits::TEXT_BODY, &mut problem);
            var(name, &mut problem);
            if *retries > 10 {
                problem(format!("{retries} retries; at most 10 are allowed"));
            }
            check_timeout(wait, &mut problem);
        }
        NodeKind::AskPhone {
            text: body,
            var: name,
            wait,
        } => {
            text("question", body, INTERACTIVE_BODY, &mut problem);
            var(name, &mut problem);
            check_timeout(wait, &mut problem);
        }
        NodeKind::Condition { rules, .. } => {
            if rules.is_empty() {
                problem("the condition has no rule".into());
            }
            for rule in rules {
                if let Operand::Var(name) | Operand::Field(name) = &rule.left {
                    if name.trim().is_empty() {
                        problem("a rule compares nothing: choose a variable or a field".into());
                    } else if matches!(rule.left, Operand::Var(_)) {
                        var(name, &mut problem);
                    }
                }
            }
        }
        NodeKind::SetVariable { var: name, .. } => var(name, &mut problem),
        NodeKind::Wait { seconds } => {
            if *seconds == 0 || *seconds > MAX_WAIT_SECONDS {
                problem(format!("a wait of {seconds} s; it must be 1 s to 30 days"));
            }
        }
        NodeKind::Http {
            method,
            url,
            map,
            timeout_ms,
            ..
        } => {
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                problem(format!(
                    "“{method}” is not an HTTP method this node sends (GET, POST, PUT, PATCH, DELETE)"
                ));
            }
            check_url(url, &mut problem);
            if !(100..=30_000).contains(timeout_ms) {
                problem(format!(
                    "a timeout of {timeout_ms} ms; it must be 100 ms to 30 s"
                ));
            }
            for (name, pointer) in map {
                var(name, &mut problem);
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    problem(format!(
                        "“{pointer}” is not a JSON pointer (it starts with /)"
                    ));
                }
            }
        }
        NodeKind::AiReply { system, .. } => text("system prompt", system, 20_000, &mut problem),
        NodeKind::HandOff { to } => {
            if let HandOffTarget::Staff(id) | HandOffTarget::Group(id) = to
                && id.trim().is_empty()
            {
                problem("no one is chosen to hand the conversation to".into());
            }
        }
        NodeKind::UpdateContact { change } => {
            use crate::model::ContactChange::*;
            let empty = match change {
                AddToGroup { group } | RemoveFromGroup { group } => group.trim().is_empty(),
                LeadStatus { status } => status.trim().is_empty(),
                Field { field, .. } => field.trim().is_empty(),
            };
            if empty {
                problem("the change names no group, status or field".into());
            }
        }
        NodeKind::GoToBot { bot } => {
            if bot.trim().is_empty() {
                problem("no bot is chosen".into());
            }
        }
    }
}

fn check_choices(
    choices: &[crate::model::Choice],
    what: &str,
    id_max: usize,
    title_max: usize,
    problem: &mut dyn FnMut(String),
) {
    let mut seen = HashSet::new();
    for c in choices {
        if c.id.trim().is_empty() {
            problem(format!("a {what} has no id"));
        } else if c.id.chars().count() > id_max {
            problem(format!(
                "{what} id “{}” is longer than {id_max} characters",
                c.id
            ));
        } else if ["other", "timeout", "failed"].contains(&c.id.as_str()) {
            problem(format!(
                "“{}” names a branch of its own; give the {what} another id",
                c.id
            ));
        } else if !seen.insert(c.id.as_str()) {
            problem(format!("two {what}s have the id “{}”", c.id));
        }
        let n = c.title.chars().count();
        if c.title.trim().is_empty() {
            problem(format!("{what} “{}” has no title", c.id));
        } else if n > title_max {
            // Never truncated: WhatsApp would refuse it, and a cut title misleads.
            problem(format!(
                "{what} title “{}” is {n} characters long; WhatsApp allows at most {title_max}",
                c.title
            ));
        }
    }
}

fn check_timeout(wait: &Timeout, problem: &mut dyn FnMut(String)) {
    if wait.seconds < 60 || wait.seconds > MAX_WAIT_SECONDS {
        problem(format!(
            "waits {} s for the answer; it must be 1 minute to 30 days",
            wait.seconds
        ));
    }
    if wait.remind_before > 0 {
        if wait.remind_before >= wait.seconds {
            problem("the reminder would go before the question".into());
        }
        if wait.reminder.trim().is_empty() {
            problem("the reminder's text is empty".into());
        }
    }
}

fn check_url(url: &str, problem: &mut dyn FnMut(String)) {
    let u = url.trim();
    if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() < 10 {
        problem(format!("“{url}” is not a web address (https://…)"));
    }
}

/// No cycle may run without a node that waits for the customer: it would loop by itself.
fn check_cycles(p: &Program, errors: &mut Vec<CompileError>) {
    // Iterative three-colour DFS over the edges out of nodes that don't wait for the customer.
    let n = p.nodes.len();
    let mut colour = vec![0u8; n]; // 0 new, 1 on the path, 2 done
    for root in 0..n {
        if colour[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        colour[root] = 1;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            let compiled = &p.nodes[node];
            let outs: &[Option<u16>] = if compiled.kind.waits_for_customer() {
                &[]
            } else {
                &compiled.next
            };
            if *edge < outs.len() {
                let target = outs[*edge];
                *edge += 1;
                let Some(t) = target.map(|t| t as usize) else {
                    continue;
                };
                match colour[t] {
                    0 => {
                        colour[t] = 1;
                        stack.push((t, 0));
                    }
                    1 => {
                        errors.push(CompileError {
                            node: Some(p.nodes[t].id.clone()),
                            message: "this node is in a loop that never waits for the customer; add a question to the loop or break it".into(),
                        });
                        return;
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
}

/// After a wait as long as the customer's 24-hour window, only a template may go until the
/// customer writes again.
fn check_window(p: &Program, errors: &mut Vec<CompileError>) {
    for (w, node) in p.nodes.iter().enumerate() {
        let NodeKind::Wait { seconds } = node.kind else {
            continue;
        };
        if seconds < WINDOW_SECONDS {
            continue;
        }
        let mut seen = vec![false; p.nodes.len()];
        let mut todo: Vec<usize> = node.next.iter().flatten().map(|&t| t as usize).collect();
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let reached = &p.nodes[i];
            if reached.kind.sends_free_form() {
                errors.push(CompileError {
                    node: Some(reached.id.clone()),
                    message: format!(
                        "the 24-hour window may be closed here (after the wait at “{}”): only a template can go until the customer writes",
                        p.nodes[w].id
                    ),
                });
                continue;
            }
            todo.extend(reached.next.iter().flatten().map(|&t| t as usize));
        }
    }
}
