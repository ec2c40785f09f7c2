//! Save refuses a flow with the node named: what the editor highlights.

use crmconnect_flow::compile;
use crmconnect_flow::model::Flow;
use serde_json::json;

fn refusals(nodes: serde_json::Value) -> Vec<(Option<String>, String)> {
    let flow: Flow = serde_json::from_value(json!({ "nodes": nodes })).unwrap();
    match compile(&flow) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.node, e.message)).collect(),
    }
}

fn one(nodes: serde_json::Value) -> (Option<String>, String) {
    let mut all = refusals(nodes);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn node(n: &str) -> Option<String> {
    Some(n.to_string())
}

#[test]
fn exactly_one_start() {
    assert_eq!(
        one(json!([{ "id": "a", "kind": "end" }])),
        (None, "the flow has no start node".into())
    );
    assert_eq!(
        one(json!([{ "id": "a", "kind": "start" }, { "id": "b", "kind": "start" }])),
        (
            node("b"),
            "a flow has exactly one start; “a” is the first".into()
        )
    );
}

#[test]
fn edges_name_real_branches_and_real_nodes() {
    assert_eq!(
        one(json!([{ "id": "s", "kind": "start", "next": { "next": "zz" } }])),
        (
            node("s"),
            "branch “next” leads to node “zz”, which is not in the flow".into()
        )
    );
    assert_eq!(
        one(
            json!([{ "id": "s", "kind": "start", "next": { "true": "e" } }, { "id": "e", "kind": "end" }])
        ),
        (node("s"), "a start node has no branch “true”".into())
    );
    assert_eq!(
        one(
            json!([{ "id": "s", "kind": "start", "next": { "next": "t" } }, { "id": "t", "kind": "send_text", "text": "x", "next": { "next": "s" } }])
        ),
        (node("t"), "branch “next” leads back to the start".into())
    );
}

#[test]
fn whatsapps_limits_are_refused_never_truncated() {
    let ask = |buttons: serde_json::Value| {
        json!([
            { "id": "s", "kind": "start", "next": { "next": "q" } },
            { "id": "q", "kind": "ask_buttons", "text": "Pick", "buttons": buttons }
        ])
    };
    assert_eq!(
        one(ask(json!([{ "id": "a", "title": "Twenty-one characters" }]))),
        (node("q"), "button title “Twenty-one characters” is 21 characters long; WhatsApp allows at most 20".into())
    );
    assert_eq!(
        one(ask(
            json!([{ "id": "a", "title": "A" }, { "id": "b", "title": "B" }, { "id": "c", "title": "C" }, { "id": "d", "title": "D" }])
        )),
        (node("q"), "4 buttons; WhatsApp allows 1 to 3".into())
    );
    assert_eq!(
        one(ask(
            json!([{ "id": "a", "title": "A" }, { "id": "a", "title": "B" }])
        )),
        (node("q"), "two buttons have the id “a”".into())
    );
    assert_eq!(
        one(ask(json!([{ "id": "timeout", "title": "Later" }]))),
        (
            node("q"),
            "“timeout” names a branch of its own; give the button another id".into()
        )
    );
    let rows: Vec<_> = (0..11)
        .map(|i| json!({ "id": format!("r{i}"), "title": format!("Row {i}") }))
        .collect();
    assert_eq!(
        one(json!([
            { "id": "s", "kind": "start", "next": { "next": "l" } },
            { "id": "l", "kind": "ask_list", "text": "Pick", "button": "Options", "rows": rows }
        ])),
        (node("l"), "11 rows; WhatsApp allows 1 to 10".into())
    );
    assert_eq!(
        one(json!([
            { "id": "s", "kind": "start", "next": { "next": "u" } },
            { "id": "u", "kind": "send_url", "text": "Our shop", "display": "Open", "url": "javascript:alert(1)" }
        ])),
        (
            node("u"),
            "“javascript:alert(1)” is not a web address (https://…)".into()
        )
    );
    assert_eq!(
        one(json!([
            { "id": "s", "kind": "start", "next": { "next": "v" } },
            { "id": "v", "kind": "set_variable", "var": "2fast", "value": "x" }
        ])),
        (
            node("v"),
            "“2fast” is not a variable name (letters, digits and _, not starting with a digit)"
                .into()
        )
    );
}

#[test]
fn a_loop_must_wait_for_the_customer() {
    let looped = |via: serde_json::Value| {
        json!([
            { "id": "s", "kind": "start", "next": { "next": "a" } },
            { "id": "a", "kind": "send_template", "template": "t", "language": "en", "next": { "next": "b" } },
            via,
        ])
    };
    let (at, message) = one(looped(
        json!({ "id": "b", "kind": "condition", "rules": [{ "left": { "of": "window_open" }, "op": "is_true" }], "next": { "true": "a" } }),
    ));
    assert_eq!(at, node("a"));
    assert!(
        message.contains("loop that never waits for the customer"),
        "{message}"
    );
    // The same loop through a question is fine: each round waits for an answer.
    assert!(
        refusals(looped(json!({ "id": "b", "kind": "ask_input", "text": "Again?", "input": "text", "var": "x", "next": { "valid": "a" } }))).is_empty()
    );
}

#[test]
fn after_a_day_long_wait_only_a_template_may_go() {
    let after = |then: serde_json::Value| {
        json!([
            { "id": "s", "kind": "start", "next": { "next": "w" } },
            { "id": "w", "kind": "wait", "seconds": 90000, "next": { "next": "c" } },
            { "id": "c", "kind": "set_variable", "var": "x", "value": "1", "next": { "next": "m" } },
            then,
        ])
    };
    assert_eq!(
        one(after(json!({ "id": "m", "kind": "send_text", "text": "Hello again" }))),
        (
            node("m"),
            "the 24-hour window may be closed here (after the wait at “w”): only a template can go until the customer writes".into()
        )
    );
    assert!(
        refusals(after(
            json!({ "id": "m", "kind": "send_template", "template": "follow_up", "language": "en" })
        ))
        .is_empty()
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let all = refusals(json!([
        { "id": "s", "kind": "start", "next": { "next": "t" } },
        { "id": "t", "kind": "send_text", "text": "" },
        { "id": "w", "kind": "wait", "seconds": 0 }
    ]));
    assert_eq!(
        all,
        vec![
            (node("t"), "the text is empty".into()),
            (node("w"), "a wait of 0 s; it must be 1 s to 30 days".into())
        ]
    );
}
