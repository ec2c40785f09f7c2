//! A template as Meta describes it (any JSON), with every variable bound to a value, filled for
//! one recipient as a send or a campaign does. Checks: no panic; a template whose variables are
//! all bound fills (or refuses with a reason), and the body gets one parameter per body variable.
#![no_main]

use crmconnect::meta::templates::{TemplateDef, VariableKind, VariablePlace};
use crmconnect::templates::{Binding, Source, Value_, fill};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(def) = serde_json::from_slice::<TemplateDef>(data) else {
        return;
    };
    let vars = def.variables();
    let bindings: Vec<Binding> = vars
        .iter()
        .enumerate()
        .map(|(i, v)| Binding {
            variable: v.clone(),
            source: match v.kind {
                VariableKind::Text if i % 2 == 0 => Source::Text {
                    value: format!("v{i}"),
                },
                _ => Source::Field {
                    key: format!("f{i}"),
                },
            },
        })
        .collect();
    let lookup = |key: &str| -> Option<Value_> {
        let i: usize = key[1..].parse().ok()?;
        Some(match vars.get(i)?.kind {
            VariableKind::Text => Value_::Text(format!("value of {key}")),
            _ => Value_::Media {
                id: format!("media-{i}"),
                filename: Some("a.pdf".into()),
            },
        })
    };
    let Ok(components) = fill(&def, &bindings, lookup) else {
        return;
    };
    let body_vars = vars
        .iter()
        .filter(|v| v.place == VariablePlace::Body)
        .count();
    let json = serde_json::to_value(&components).expect("components serialise");
    let body_params = json
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["type"] == "body")
        .map(|c| c["parameters"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(
        body_params, body_vars,
        "body parameters for {body_vars} variables: {json}"
    );
});
