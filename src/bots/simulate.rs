//! The editor's simulator: a draft run turn by turn against a pretend customer, exactly as the
//! engine would run it, without sending or storing anything. The session travels with the UI
//! (opaque JSON) between turns; HTTP and AI results are the person's choice, timers fire at once.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{BotsError, compile_draft};
use crate::Result;
use crmconnect_flow::engine::{self, AiResult, End, Inbound, Input, Limits, Session, State};
use crmconnect_flow::{Action, World};

/// One simulator turn: the draft, the session so far (none to begin), what the customer does.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct SimRequest {
    pub drawflow: String,
    #[ts(type = "unknown")]
    pub session: Option<serde_json::Value>,
    pub input: SimInput,
    /// The pretend world: whether the 24-hour window is open, whether it is business hours.
    pub window_open: bool,
    pub business_hours: bool,
    /// The pretend customer's first name (`{{first_name}}`).
    pub first_name: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum SimInput {
    /// The customer's first message (the trigger matched).
    Begin {
        text: String,
    },
    Text {
        text: String,
    },
    /// A reply button or list row picked.
    Reply {
        id: String,
        title: String,
    },
    /// The customer shares their number.
    Phone {
        phone: String,
    },
    /// The timer the session waits for fires now.
    Timer,
    Http {
        ok: bool,
    },
    Ai {
        result: AiResult,
    },
    /// A person takes the conversation.
    Person,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SimTurn {
    #[ts(type = "unknown")]
    pub session: serde_json::Value,
    pub actions: Vec<Action>,
    /// The node the session is at (the editor highlights it).
    pub at: Option<String>,
    /// What it waits for: `reply`, `timer`, `http`, `ai`, or `ended`.
    pub waiting: String,
    pub ended: Option<End>,
}

struct Pretend<'a> {
    window_open: bool,
    business_hours: bool,
    first_name: &'a str,
}

impl World for Pretend<'_> {
    fn now_ms(&self) -> u64 {
        crate::now_ms().max(0) as u64
    }
    fn window_open(&self) -> bool {
        self.window_open
    }
    fn business_hours(&self) -> bool {
        self.business_hours
    }
    fn field(&self, name: &str) -> Option<String> {
        (name == "first_name").then(|| self.first_name.to_string())
    }
}

pub(super) fn run(r: SimRequest) -> Result<SimTurn> {
    let program = compile_draft(&r.drawflow)?;
    let mut session: Session = match r.session {
        None | Some(serde_json::Value::Null) => Session::new(),
        Some(v) => serde_json::from_value(v)
            .map_err(|e| BotsError::Invalid(format!("the simulator's session is not one: {e}")))?,
    };
    if session.at as usize >= program.nodes.len() {
        return Err(BotsError::Invalid(
            "the draft changed under the simulation: start it again".into(),
        )
        .into());
    }
    let world = Pretend {
        window_open: r.window_open,
        business_hours: r.business_hours,
        first_name: &r.first_name,
    };
    let id = format!("sim.{}", uuid::Uuid::now_v7().simple());
    let message = |text: String, reply: Option<String>, phone: Option<String>| {
        [Inbound {
            id: id.clone(),
            text,
            reply,
            phone,
        }]
    };
    let token = session.token;
    let limits = Limits::default();
    let actions = match r.input {
        SimInput::Begin { text } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Begin(&message(text, None, None)),
            &world,
        ),
        SimInput::Text { text } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Inbound(&message(text, None, None)),
            &world,
        ),
        SimInput::Reply { id: reply, title } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Inbound(&message(title, Some(reply), None)),
            &world,
        ),
        SimInput::Phone { phone } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Inbound(&message(String::new(), None, Some(phone))),
            &world,
        ),
        SimInput::Timer => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Timer { token },
            &world,
        ),
        SimInput::Http { ok } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Http {
                token,
                ok,
                values: Vec::new(),
            },
            &world,
        ),
        SimInput::Ai { result } => engine::turn(
            &program,
            &limits,
            &mut session,
            Input::Ai { token, result },
            &world,
        ),
        SimInput::Person => {
            engine::turn(&program, &limits, &mut session, Input::PersonActive, &world)
        }
    };
    let node = &program.nodes[session.at as usize];
    let (waiting, ended) = match &session.state {
        State::New => ("new".to_string(), None),
        State::Reply { .. } => ("reply".into(), None),
        State::Timer { .. } => ("timer".into(), None),
        State::Effect if matches!(node.kind, crmconnect_flow::NodeKind::Http { .. }) => {
            ("http".into(), None)
        }
        State::Effect => ("ai".into(), None),
        State::Ended { why } => ("ended".into(), Some(why.clone())),
    };
    Ok(SimTurn {
        at: (!session.is_ended()).then(|| node.id.clone()),
        session: serde_json::to_value(&session).expect("a session serialises"),
        actions,
        waiting,
        ended,
    })
}
