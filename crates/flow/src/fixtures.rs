//! Flows for the benchmarks (the engine's and the runner's durable sessions): the same flow
//! measured in both.

use crate::engine::World;
use crate::model::{Choice, Flow, Node, NodeKind, Op, Operand, Rule, Timeout};

/// start → 47 nodes (variables, conditions, texts, a contact update) → a question with two
/// buttons: "again" runs the 47 again, "stop" ends.
pub fn fifty_nodes() -> Flow {
    let mut nodes = vec![node("start", NodeKind::Start, &[("next", "n1")])];
    for i in 1..=47 {
        let next = if i == 47 {
            "ask".to_string()
        } else {
            format!("n{}", i + 1)
        };
        let kind = match i % 4 {
            0 => NodeKind::SetVariable {
                var: format!("v{i}"),
                value: "{{first_name}} {{last_message}}".into(),
            },
            1 => NodeKind::Condition {
                rules: vec![Rule {
                    left: Operand::Field("first_name".into()),
                    op: Op::Equals,
                    right: "ana".into(),
                }],
                any: false,
            },
            2 => NodeKind::SetVariable {
                var: "count".into(),
                value: "{{v4}}".into(),
            },
            _ => NodeKind::SendText {
                text: format!("Step {i} for {{{{first_name}}}}"),
            },
        };
        let branches: Vec<(&str, &str)> = if i % 4 == 1 {
            vec![("true", &next), ("false", &next)]
        } else {
            vec![("next", &next)]
        };
        nodes.push(node(&format!("n{i}"), kind, &branches));
    }
    nodes.push(node(
        "ask",
        NodeKind::AskButtons {
            text: "Again, {{first_name}}?".into(),
            buttons: vec![
                Choice {
                    id: "again".into(),
                    title: "Again".into(),
                    description: String::new(),
                },
                Choice {
                    id: "stop".into(),
                    title: "Stop".into(),
                    description: String::new(),
                },
            ],
            wait: Timeout::default(),
        },
        &[("again", "n1"), ("stop", "end")],
    ));
    nodes.push(node("end", NodeKind::End, &[]));
    Flow { nodes }
}

fn node(id: &str, kind: NodeKind, next: &[(&str, &str)]) -> Node {
    Node {
        id: id.into(),
        kind,
        next: next
            .iter()
            .map(|(b, t)| (b.to_string(), t.to_string()))
            .collect(),
    }
}

/// The benches' world: a fixed clock, the window open, business hours, a first name.
pub struct FixedWorld;

impl World for FixedWorld {
    fn now_ms(&self) -> u64 {
        1_800_000_000_000
    }
    fn window_open(&self) -> bool {
        true
    }
    fn business_hours(&self) -> bool {
        true
    }
    fn field(&self, name: &str) -> Option<String> {
        (name == "first_name").then(|| "Ana".to_string())
    }
}
