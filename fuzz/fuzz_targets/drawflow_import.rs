//! A flow imported from any file (a Drawflow export is untrusted data). Checks: no panic; an
//! import reads back the same after being stored; a flow that compiles runs a few turns within the
//! engine's caps, and the same message twice does nothing the second time.
#![no_main]

use crmconnect_flow::engine::{Inbound, Input, Limits, Session, World, turn};
use crmconnect_flow::model::Flow;
use crmconnect_flow::{compile, drawflow};
use libfuzzer_sys::fuzz_target;

struct Open;
impl World for Open {
    fn now_ms(&self) -> u64 {
        0
    }
    fn window_open(&self) -> bool {
        true
    }
    fn business_hours(&self) -> bool {
        true
    }
    fn field(&self, _: &str) -> Option<String> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(flow) = drawflow::import(text) else {
        return;
    };
    let stored = serde_json::to_string(&flow).expect("a flow serialises");
    let back: Flow = serde_json::from_str(&stored).expect("a stored flow reads back");
    assert_eq!(back, flow);
    let Ok(program) = compile(&flow) else {
        return;
    };
    let limits = Limits::default();
    let mut s = Session::new();
    let first = [Inbound {
        id: "0".into(),
        text: "hi".into(),
        ..Default::default()
    }];
    let mut sent = 0;
    let mut count = |actions: &[crmconnect_flow::Action]| {
        sent += actions
            .iter()
            .filter(|a| matches!(a, crmconnect_flow::Action::Send { .. }))
            .count();
    };
    count(&turn(
        &program,
        &limits,
        &mut s,
        Input::Begin(&first),
        &Open,
    ));
    for (i, b) in data.iter().take(32).enumerate() {
        let m = [Inbound {
            id: format!("m{i}"),
            text: (b % 4).to_string(),
            reply: Some(format!("b{}", b % 3)),
            phone: None,
        }];
        count(&turn(&program, &limits, &mut s, Input::Inbound(&m), &Open));
        let after = s.clone();
        assert!(turn(&program, &limits, &mut s, Input::Inbound(&m), &Open).is_empty());
        assert_eq!(s, after);
        let token = s.token;
        count(&turn(
            &program,
            &limits,
            &mut s,
            Input::Timer { token },
            &Open,
        ));
    }
    assert!(sent <= limits.messages_per_session as usize);
});
