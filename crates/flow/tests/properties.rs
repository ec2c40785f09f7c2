//! Any flow, any customer: either the compiler refuses the flow, or the engine runs it within its
//! caps, and the same input twice changes nothing.

use std::cell::Cell;
use std::collections::BTreeMap;

use crmconnect_flow::compile;
use crmconnect_flow::engine::{Action, AiResult, Inbound, Input, Limits, Session, World, turn};
use crmconnect_flow::model::{
    Choice, ContactChange, Flow, HandOffTarget, InputKind, MediaKind, Node, NodeKind, Op, Operand,
    Rule, Timeout,
};
use proptest::prelude::*;

struct Desk {
    now: Cell<u64>,
    window: Cell<bool>,
}

impl World for Desk {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn window_open(&self) -> bool {
        self.window.get()
    }
    fn business_hours(&self) -> bool {
        self.now.get().is_multiple_of(2)
    }
    fn field(&self, name: &str) -> Option<String> {
        (name == "first_name").then(|| "Ana".into())
    }
}

fn choice(id: &str, title: &str) -> Choice {
    Choice {
        id: id.into(),
        title: title.into(),
        description: String::new(),
    }
}

/// One of the node kinds, with settings that are sometimes out of WhatsApp's limits.
fn kind(k: u8, long: bool) -> NodeKind {
    let title = if long {
        "A title far too long for WhatsApp"
    } else {
        "Yes"
    };
    match k % 16 {
        0 => NodeKind::Start,
        1 => NodeKind::SendText {
            text: "Hi {{first_name}} {{x}}".into(),
        },
        2 => NodeKind::SendTemplate {
            template: "t".into(),
            language: "en".into(),
            params: vec!["{{last_message}}".into()],
        },
        3 => NodeKind::AskButtons {
            text: "Pick".into(),
            buttons: vec![choice("b1", title), choice("b2", "No")],
            wait: Timeout::default(),
        },
        4 => NodeKind::AskInput {
            text: "Number?".into(),
            input: InputKind::Number,
            var: "x".into(),
            retries: 1,
            retry_text: String::new(),
            wait: Timeout {
                seconds: 600,
                remind_before: 60,
                reminder: "Hello?".into(),
            },
        },
        5 => NodeKind::Condition {
            rules: vec![Rule {
                left: Operand::Var("x".into()),
                op: Op::Equals,
                right: "1".into(),
            }],
            any: false,
        },
        6 => NodeKind::SetVariable {
            var: "x".into(),
            value: "{{last_message}}".into(),
        },
        7 => NodeKind::Wait {
            seconds: if long { 100_000 } else { 60 },
        },
        8 => NodeKind::Http {
            method: "GET".into(),
            url: "https://api.example/x".into(),
            headers: vec![],
            body: String::new(),
            map: vec![("x".into(), "/x".into())],
            timeout_ms: 1000,
        },
        9 => NodeKind::AiReply {
            system: "Help".into(),
            knowledge: "Facts".into(),
            only_knowledge: true,
        },
        10 => NodeKind::HandOff {
            to: HandOffTarget::Anyone,
        },
        11 => NodeKind::End,
        12 => NodeKind::AskList {
            text: "Pick".into(),
            button: "Menu".into(),
            rows: vec![choice("r1", "One"), choice("r2", title)],
            wait: Timeout::default(),
        },
        13 => NodeKind::AskPhone {
            text: "Your number?".into(),
            var: "phone".into(),
            wait: Timeout::default(),
        },
        14 => NodeKind::UpdateContact {
            change: ContactChange::AddToGroup { group: "g".into() },
        },
        _ => NodeKind::SendMedia {
            media: MediaKind::Image,
            source: "https://x.example/a.png".into(),
            caption: String::new(),
        },
    }
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    (2usize..14).prop_flat_map(|n| {
        prop::collection::vec(
            (
                1u8..16,
                0u8..10,
                prop::collection::vec(prop::option::weighted(0.8, 1..n), 8),
            ),
            n,
        )
        .prop_map(move |specs| {
            let nodes = specs
                .iter()
                .enumerate()
                .map(|(i, (k, long, targets))| {
                    let kind = if i == 0 {
                        NodeKind::Start
                    } else {
                        kind(*k, *long == 0)
                    };
                    let next: BTreeMap<String, String> = kind
                        .branches()
                        .into_iter()
                        .zip(targets.iter())
                        .filter_map(|(b, t)| t.map(|t| (b, format!("n{t}"))))
                        .collect();
                    Node {
                        id: format!("n{i}"),
                        kind,
                        next,
                    }
                })
                .collect();
            Flow { nodes }
        })
    })
}

#[derive(Debug, Clone)]
enum Step {
    Says {
        id: u8,
        text: u8,
        reply: u8,
        phone: bool,
    },
    Timer {
        current: bool,
    },
    SendFailed,
    Http {
        ok: bool,
    },
    Ai(u8),
    Person,
    Window(bool),
    Later,
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..12, 0u8..6, 0u8..5, any::<bool>()).prop_map(|(id, text, reply, phone)| Step::Says { id, text, reply, phone }),
        3 => any::<bool>().prop_map(|current| Step::Timer { current }),
        1 => Just(Step::SendFailed),
        2 => any::<bool>().prop_map(|ok| Step::Http { ok }),
        2 => (0u8..5).prop_map(Step::Ai),
        1 => Just(Step::Person),
        1 => any::<bool>().prop_map(Step::Window),
        1 => Just(Step::Later),
    ]
}

const TEXTS: [&str; 6] = ["1", "Yes", "no", "a@b.co", "", "One"];
const REPLIES: [Option<&str>; 5] = [None, Some("b1"), Some("b2"), Some("r1"), Some("zz")];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn compiled_flows_run_within_their_caps(flow in arb_flow(), steps in prop::collection::vec(arb_step(), 1..40)) {
        let Ok(program) = compile(&flow) else { return Ok(()) };
        let limits = Limits { steps_per_turn: 20, visits_per_node: 6, messages_per_session: 12, merge_texts: true };
        let desk = Desk { now: Cell::new(1_000), window: Cell::new(true) };
        let mut s = Session::new();
        let mut sent = 0u32;
        let mut ended = 0u32;
        let mut last_send = (0u32, 0u16);
        let count = |actions: &[Action], sent: &mut u32, ended: &mut u32, last_send: &mut (u32, u16)| {
            for a in actions {
                match a {
                    Action::Send { send, node, .. } => {
                        *sent += 1;
                        *last_send = (*send, *node);
                    }
                    Action::Ended { .. } => *ended += 1,
                    _ => {}
                }
            }
        };
        let out = turn(&program, &limits, &mut s, Input::Begin(&[Inbound { id: "first".into(), text: "hi".into(), ..Default::default() }]), &desk);
        count(&out, &mut sent, &mut ended, &mut last_send);
        let mut visited = s.visits.iter().map(|&v| v as u32).sum::<u32>();
        prop_assert!(visited <= 20);
        for step in steps {
            let was_ended = s.is_ended();
            let input_messages;
            let input = match step {
                Step::Says { id, text, reply, phone } => {
                    input_messages = vec![Inbound {
                        id: format!("m{id}"),
                        text: TEXTS[text as usize].into(),
                        reply: REPLIES[reply as usize].map(String::from),
                        phone: phone.then(|| "+15550001".into()),
                    }];
                    Input::Inbound(&input_messages)
                }
                Step::Timer { current } => Input::Timer { token: if current { s.token } else { s.token.wrapping_sub(1) } },
                Step::SendFailed => Input::SendFailed { send: last_send.0, node: last_send.1, code: 131047, reason: "closed".into() },
                Step::Http { ok } => Input::Http { token: s.token, ok, values: vec![("x".into(), "1".into())] },
                Step::Ai(k) => Input::Ai { token: s.token, result: match k { 0 => AiResult::Answered("A".into()), 1 => AiResult::AskedForPerson, 2 => AiResult::CouldNotAnswer, 3 => AiResult::Error, _ => AiResult::Timeout } },
                Step::Person => Input::PersonActive,
                Step::Window(open) => { desk.window.set(open); continue; }
                Step::Later => { desk.now.set(desk.now.get() + 3_600_000); continue; }
            };
            let before = s.clone();
            let out = turn(&program, &limits, &mut s, input.clone(), &desk);
            count(&out, &mut sent, &mut ended, &mut last_send);
            if was_ended {
                prop_assert!(out.is_empty(), "an ended session acted: {out:?}");
                prop_assert_eq!(&s, &before);
            }
            let now_visited = s.visits.iter().map(|&v| v as u32).sum::<u32>();
            prop_assert!(now_visited - visited <= limits.steps_per_turn as u32, "{} steps in one turn", now_visited - visited);
            visited = now_visited;
            prop_assert!(s.visits.iter().all(|&v| v <= limits.visits_per_node));
            prop_assert!(sent <= limits.messages_per_session as u32, "{sent} messages");
            prop_assert!(ended <= 1, "ended twice");
            prop_assert_eq!(s.is_ended(), ended == 1);
            // The same input again (a webhook delivered twice, a timer fired twice) does nothing.
            let after = s.clone();
            let replay = turn(&program, &limits, &mut s, input, &desk);
            prop_assert!(replay.is_empty(), "the replay acted: {replay:?}");
            prop_assert_eq!(&s, &after);
        }
    }

    #[test]
    fn sessions_survive_being_stored(flow in arb_flow(), steps in prop::collection::vec(arb_step(), 1..12)) {
        let Ok(program) = compile(&flow) else { return Ok(()) };
        let desk = Desk { now: Cell::new(0), window: Cell::new(true) };
        let mut s = Session::new();
        turn(&program, &Limits::default(), &mut s, Input::Begin(&[Inbound { id: "a".into(), text: "hi".into(), ..Default::default() }]), &desk);
        for (i, step) in steps.into_iter().enumerate() {
            if let Step::Says { text, reply, .. } = step {
                let m = [Inbound { id: format!("m{i}"), text: TEXTS[text as usize].into(), reply: REPLIES[reply as usize].map(String::from), phone: None }];
                turn(&program, &Limits::default(), &mut s, Input::Inbound(&m), &desk);
            }
            let stored = serde_json::to_string(&s).unwrap();
            let back: Session = serde_json::from_str(&stored).unwrap();
            prop_assert_eq!(&back, &s);
        }
    }
}

/// The generator must reach the engine: a good share of its flows compile.
#[test]
fn the_generated_flows_often_compile() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_flow();
    let total = 1000;
    let compiled = (0..total)
        .filter(|_| compile(&strategy.new_tree(&mut runner).unwrap().current()).is_ok())
        .count();
    assert!(
        compiled * 4 >= total,
        "only {compiled} of {total} generated flows compile"
    );
    eprintln!("{compiled} of {total} generated flows compile");
}
