//! The engine, turn by turn: what a customer sees, what the runner is asked to do.

use std::cell::Cell;

use crmconnect_flow::engine::{
    Action, AiResult, End, Inbound, Input, Limits, Message, Session, State, World, turn,
};
use crmconnect_flow::model::Flow;
use crmconnect_flow::{Program, compile};
use serde_json::json;

struct Desk {
    now: Cell<u64>,
    window: Cell<bool>,
    hours: bool,
}

impl Desk {
    fn new() -> Self {
        Desk {
            now: Cell::new(1_000_000),
            window: Cell::new(true),
            hours: true,
        }
    }
}

impl World for Desk {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn window_open(&self) -> bool {
        self.window.get()
    }
    fn business_hours(&self) -> bool {
        self.hours
    }
    fn field(&self, name: &str) -> Option<String> {
        match name {
            "first_name" => Some("Carla".into()),
            "lead.status" => Some("new".into()),
            _ => None,
        }
    }
}

fn program(nodes: serde_json::Value) -> Program {
    let flow: Flow = serde_json::from_value(json!({ "nodes": nodes })).unwrap();
    compile(&flow).unwrap_or_else(|e| panic!("{e:?}"))
}

fn msg(id: &str, text: &str) -> Inbound {
    Inbound {
        id: id.into(),
        text: text.into(),
        ..Default::default()
    }
}

fn button(id: &str, reply: &str) -> Inbound {
    Inbound {
        id: id.into(),
        reply: Some(reply.into()),
        ..Default::default()
    }
}

fn sends(actions: &[Action]) -> Vec<&Message> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Send { message, .. } = a {
                Some(message)
            } else {
                None
            }
        })
        .collect()
}

fn texts(actions: &[Action]) -> Vec<String> {
    sends(actions)
        .into_iter()
        .map(|m| match m {
            Message::Text { body }
            | Message::Buttons { body, .. }
            | Message::RequestPhone { body } => body.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn timer(actions: &[Action]) -> Option<(u32, u64)> {
    actions.iter().find_map(|a| {
        if let Action::Timer { token, at_ms } = a {
            Some((*token, *at_ms))
        } else {
            None
        }
    })
}

fn menu() -> Program {
    program(json!([
        { "id": "1", "kind": "start", "next": { "next": "2" } },
        { "id": "2", "kind": "send_text", "text": "Hi {{first_name}}!", "next": { "next": "3" } },
        { "id": "3", "kind": "ask_buttons", "text": "What do you need?",
          "buttons": [ { "id": "price", "title": "Prices" }, { "id": "human", "title": "A person" } ],
          "wait": { "seconds": 3600, "remind_before": 600, "reminder": "Still there, {{first_name}}?" },
          "next": { "price": "4", "human": "5", "timeout": "6" } },
        { "id": "4", "kind": "send_text", "text": "From 10 € a month.", "next": { "next": "7" } },
        { "id": "7", "kind": "send_text", "text": "Anything else? You chose {{choice}}." },
        { "id": "5", "kind": "hand_off", "to": { "to": "anyone" } },
        { "id": "6", "kind": "send_text", "text": "Bye for now." }
    ]))
}

#[test]
fn a_menu_bot_greets_asks_and_follows_the_button() {
    let p = menu();
    let desk = Desk::new();
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    assert_eq!(texts(&out), ["Hi Carla!", "What do you need?"]);
    let (_, at) = timer(&out).unwrap();
    assert_eq!(
        at,
        1_000_000 + (3600 - 600) * 1000,
        "the timer is for the reminder first"
    );

    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[button("w2", "price")]),
        &desk,
    );
    // Two text nodes in a row go as one message.
    assert_eq!(
        texts(&out),
        ["From 10 € a month.\n\nAnything else? You chose Prices."]
    );
    assert_eq!(s.state, State::Ended { why: End::Finished });
    assert!(matches!(
        out.last(),
        Some(Action::Ended { why: End::Finished })
    ));
}

#[test]
fn typing_a_buttons_title_picks_it_and_anything_else_asks_again() {
    let p = menu();
    let desk = Desk::new();
    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("w2", "what?")]),
        &desk,
    );
    assert_eq!(
        texts(&out),
        ["What do you need?"],
        "no “other” branch is drawn: the question again"
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("w3", "a PERSON")]),
        &desk,
    );
    assert_eq!(
        out,
        vec![
            Action::HandOff {
                to: crmconnect_flow::model::HandOffTarget::Anyone
            },
            Action::Ended {
                why: End::HandedOff
            }
        ]
    );
}

#[test]
fn the_same_inbound_twice_changes_nothing() {
    let p = menu();
    let desk = Desk::new();
    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    let again = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    assert!(again.is_empty());
    let before = s.clone();
    let first = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("w2", "what?")]),
        &desk,
    );
    assert!(!first.is_empty());
    let after = s.clone();
    assert_ne!(before, after);
    let replay = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("w2", "what?")]),
        &desk,
    );
    assert!(replay.is_empty());
    assert_eq!(s, after);
}

#[test]
fn the_reminder_then_the_timeout_branch_and_stale_timers_do_nothing() {
    let p = menu();
    let desk = Desk::new();
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    let (token, _) = timer(&out).unwrap();
    assert!(
        turn(
            &p,
            &Limits::default(),
            &mut s,
            Input::Timer { token: token + 7 },
            &desk
        )
        .is_empty(),
        "a stale timer"
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Timer { token },
        &desk,
    );
    assert_eq!(texts(&out), ["Still there, Carla?"]);
    let (token2, at) = timer(&out).unwrap();
    assert_eq!(at, 1_000_000 + 3600 * 1000, "then the deadline");
    assert!(
        turn(
            &p,
            &Limits::default(),
            &mut s,
            Input::Timer { token },
            &desk
        )
        .is_empty(),
        "the reminder's timer again"
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Timer { token: token2 },
        &desk,
    );
    assert_eq!(texts(&out), ["Bye for now."]);
    assert!(s.is_ended());
    // An ended session does not restart on the next message.
    assert!(
        turn(
            &p,
            &Limits::default(),
            &mut s,
            Input::Inbound(&[msg("w9", "Prices")]),
            &desk
        )
        .is_empty()
    );
}

#[test]
fn a_person_taking_over_silences_the_bot() {
    let p = menu();
    let desk = Desk::new();
    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    let out = turn(&p, &Limits::default(), &mut s, Input::PersonActive, &desk);
    assert_eq!(
        out,
        vec![Action::Ended {
            why: End::PersonTookOver
        }]
    );
    assert!(
        turn(
            &p,
            &Limits::default(),
            &mut s,
            Input::Inbound(&[button("w2", "price")]),
            &desk
        )
        .is_empty()
    );
}

#[test]
fn input_is_validated_with_retries_then_the_invalid_branch() {
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "q" } },
        { "id": "q", "kind": "ask_input", "text": "Your email?", "input": "email", "var": "email", "retries": 1,
          "retry_text": "That is not an email address, try again", "next": { "valid": "ok", "invalid": "no" } },
        { "id": "ok", "kind": "send_text", "text": "Thanks, we'll write to {{email}}" },
        { "id": "no", "kind": "hand_off", "to": { "to": "anyone" } }
    ]));
    let desk = Desk::new();
    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("b", "nope")]),
        &desk,
    );
    assert_eq!(texts(&out), ["That is not an email address, try again"]);
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("c", "Carla@Example.com")]),
        &desk,
    );
    assert_eq!(texts(&out), ["Thanks, we'll write to carla@example.com"]);

    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("b", "nope")]),
        &desk,
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("c", "still no")]),
        &desk,
    );
    assert!(matches!(out[0], Action::HandOff { .. }));
}

#[test]
fn a_burst_is_one_turn_and_the_last_words_count() {
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "q" } },
        { "id": "q", "kind": "ask_input", "text": "How many?", "input": "number", "var": "n", "next": { "valid": "ok" } },
        { "id": "ok", "kind": "send_text", "text": "{{n}} it is" }
    ]));
    let desk = Desk::new();
    let mut s = Session::new();
    turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Inbound(&[msg("b", "hmm"), msg("c", "3,5")]),
        &desk,
    );
    assert_eq!(
        texts(&out),
        ["3.5 it is"],
        "one answer for the burst, not two"
    );
}

#[test]
fn a_failed_send_takes_the_failure_branch_or_ends_the_session() {
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "t" } },
        { "id": "t", "kind": "send_template", "template": "offer", "language": "en", "params": ["{{first_name}}"], "next": { "next": "w", "failed": "f" } },
        { "id": "w", "kind": "wait", "seconds": 60, "next": { "next": "e" } },
        { "id": "e", "kind": "end" },
        { "id": "f", "kind": "hand_off", "to": { "to": "group", "id": "g1" } }
    ]));
    let desk = Desk::new();
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    let Action::Send {
        send,
        node,
        message: Message::Template { params, .. },
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(params, &["Carla"]);
    let (send, node) = (*send, *node);
    let failed = Input::SendFailed {
        send,
        node,
        code: 132015,
        reason: "template paused".into(),
    };
    let out = turn(&p, &Limits::default(), &mut s, failed.clone(), &desk);
    assert!(matches!(&out[0], Action::HandOff { .. }), "{out:?}");
    assert!(turn(&p, &Limits::default(), &mut s, failed, &desk).is_empty());
}

#[test]
fn with_the_window_closed_free_form_messages_fail_without_a_call() {
    let p = menu();
    let desk = Desk::new();
    desk.window.set(false);
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("w1", "hello")]),
        &desk,
    );
    assert!(sends(&out).is_empty());
    assert_eq!(
        s.state,
        State::Ended {
            why: End::SendFailed("131047: the 24-hour window is closed".into())
        }
    );
}

#[test]
fn http_and_ai_results_resume_the_session_once() {
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "h" } },
        { "id": "h", "kind": "http", "method": "POST", "url": "https://shop.example/orders/{{last_message}}", "map": [["status", "/status"]],
          "next": { "success": "ai", "failure": "sorry" } },
        { "id": "ai", "kind": "ai_reply", "system": "You are the shop's assistant. Order status: {{status}}", "knowledge": "We ship in 2 days.",
          "next": { "person": "p" } },
        { "id": "p", "kind": "hand_off", "to": { "to": "anyone" } },
        { "id": "sorry", "kind": "send_text", "text": "Sorry, our shop is not answering." }
    ]));
    let desk = Desk::new();
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "A17")]),
        &desk,
    );
    let Action::Http { token, url, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(url, "https://shop.example/orders/A17");
    let token = *token;
    let result = Input::Http {
        token,
        ok: true,
        values: vec![("status".into(), "shipped".into())],
    };
    let out = turn(&p, &Limits::default(), &mut s, result.clone(), &desk);
    let Action::Ai {
        token: ai,
        system,
        question,
        ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        system,
        "You are the shop's assistant. Order status: shipped"
    );
    assert_eq!(question, "A17");
    let ai = *ai;
    assert!(
        turn(&p, &Limits::default(), &mut s, result, &desk).is_empty(),
        "the HTTP result again"
    );
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Ai {
            token: ai,
            result: AiResult::Answered("It ships tomorrow.".into()),
        },
        &desk,
    );
    assert_eq!(texts(&out), ["It ships tomorrow."]);
    assert!(s.is_ended(), "no “answered” edge: the session ends");
}

#[test]
fn conditions_read_variables_fields_and_business_hours() {
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "c" } },
        { "id": "c", "kind": "condition", "rules": [
            { "left": { "of": "business_hours" }, "op": "is_true" },
            { "left": { "of": "field", "name": "lead.status" }, "op": "equals", "right": "NEW" }
          ], "next": { "true": "open", "false": "closed" } },
        { "id": "open", "kind": "send_text", "text": "We're here." },
        { "id": "closed", "kind": "send_text", "text": "We're closed." }
    ]));
    let mut desk = Desk::new();
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    assert_eq!(texts(&out), ["We're here."]);
    desk.hours = false;
    let mut s = Session::new();
    let out = turn(
        &p,
        &Limits::default(),
        &mut s,
        Input::Begin(&[msg("a", "hi")]),
        &desk,
    );
    assert_eq!(texts(&out), ["We're closed."]);
}

#[test]
fn caps_end_a_session_that_would_run_on() {
    // A question whose "other" branch comes back to it through a text: each wrong answer costs a message.
    let p = program(json!([
        { "id": "s", "kind": "start", "next": { "next": "q" } },
        { "id": "q", "kind": "ask_buttons", "text": "Yes or no?", "buttons": [ { "id": "y", "title": "Yes" }, { "id": "n", "title": "No" } ],
          "next": { "other": "t" } },
        { "id": "t", "kind": "send_template", "template": "nudge", "language": "en", "next": { "next": "q" } }
    ]));
    let desk = Desk::new();
    let limits = Limits {
        messages_per_session: 5,
        ..Limits::default()
    };
    let mut s = Session::new();
    turn(&p, &limits, &mut s, Input::Begin(&[msg("a", "hi")]), &desk);
    let mut total = 1;
    for i in 0..20 {
        let out = turn(
            &p,
            &limits,
            &mut s,
            Input::Inbound(&[msg(&format!("m{i}"), "maybe")]),
            &desk,
        );
        total += sends(&out).len();
    }
    assert_eq!(total, 5);
    assert_eq!(
        s.state,
        State::Ended {
            why: End::Cap("5 messages in one session".into())
        }
    );
}
