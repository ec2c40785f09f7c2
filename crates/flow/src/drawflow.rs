//! The editor's Drawflow export to a [`Flow`]. The export is untrusted data (a person may import
//! any file): it is read, never rendered, and every problem is named with its node. A node's
//! `html` is ignored: the editor draws each node from its kind.
//!
//! Drawflow numbers a node's output ports (`output_1`, `output_2`, …); the kind's branches give
//! them meaning in order ([`NodeKind::branches`]), and the flow stores the meaning.

use serde_json::{Map, Value};

use crate::model::{Flow, KINDS, Node, NodeKind};

/// The largest export read, in bytes.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {0} bytes; a flow is at most 2 MiB")]
    TooLarge(usize),
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("this is not a Drawflow export: {0}")]
    NotDrawflow(String),
    #[error("node {node}: {problem}")]
    Node { node: String, problem: String },
}

/// Reads a Drawflow export (its `drawflow.Home.data`) into a flow.
pub fn import(json: &str) -> Result<Flow, ImportError> {
    if json.len() > MAX_BYTES {
        return Err(ImportError::TooLarge(json.len()));
    }
    let root: Value =
        serde_json::from_str(json).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let data = root
        .get("drawflow")
        .and_then(|d| d.get("Home"))
        .and_then(|h| h.get("data"))
        .and_then(Value::as_object)
        .ok_or_else(|| ImportError::NotDrawflow("there is no drawflow.Home.data object".into()))?;
    if data.len() > crate::compile::MAX_NODES {
        return Err(ImportError::NotDrawflow(format!(
            "{} nodes; a flow has at most {}",
            data.len(),
            crate::compile::MAX_NODES
        )));
    }

    let mut nodes = Vec::with_capacity(data.len());
    // Drawflow's keys are its node ids; the order of the file is kept.
    for (key, raw) in data {
        nodes.push(read_node(key, raw, data)?);
    }
    Ok(Flow { nodes })
}

fn read_node(key: &str, raw: &Value, all: &Map<String, Value>) -> Result<Node, ImportError> {
    let problem = |problem: String| ImportError::Node {
        node: key.to_string(),
        problem,
    };
    let obj = raw
        .as_object()
        .ok_or_else(|| problem("is not an object".into()))?;
    if let Some(id) = obj.get("id") {
        let same = match id {
            Value::Number(n) => n.to_string() == key,
            Value::String(s) => s == key,
            _ => false,
        };
        if !same {
            return Err(problem(format!("its id {id} is not its key")));
        }
    }
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| problem("has no kind (name)".into()))?;
    if !KINDS.contains(&name) {
        return Err(problem(format!(
            "“{}” is not a kind of node this editor has",
            clip(name)
        )));
    }
    let mut fields = match obj.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(problem("its data is not an object".into())),
    };
    fields.insert("kind".into(), Value::String(name.into()));
    let kind: NodeKind = serde_json::from_value(Value::Object(fields))
        .map_err(|e| problem(format!("a {name} node: {e}")))?;

    let branches = kind.branches();
    let mut next = std::collections::BTreeMap::new();
    if let Some(outputs) = obj.get("outputs") {
        let outputs = outputs
            .as_object()
            .ok_or_else(|| problem("its outputs are not an object".into()))?;
        for (port, out) in outputs {
            let connections = out
                .get("connections")
                .and_then(Value::as_array)
                .ok_or_else(|| problem(format!("output {} has no connections list", clip(port))))?;
            if connections.is_empty() {
                continue;
            }
            let n: usize = port
                .strip_prefix("output_")
                .and_then(|n| n.parse().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| problem(format!("“{}” is not an output port", clip(port))))?;
            let branch = branches.get(n - 1).ok_or_else(|| {
                problem(format!(
                    "output {n} has no branch: a {name} node has {}",
                    branches.len()
                ))
            })?;
            if connections.len() > 1 {
                return Err(problem(format!(
                    "branch “{branch}” has {} edges; one is allowed",
                    connections.len()
                )));
            }
            let target = match connections[0].get("node") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(problem(format!("branch “{branch}” leads nowhere"))),
            };
            if !all.contains_key(&target) {
                return Err(problem(format!(
                    "branch “{branch}” leads to node “{}”, which is not in the flow",
                    clip(&target)
                )));
            }
            next.insert(branch.clone(), target);
        }
    }
    Ok(Node {
        id: key.to_string(),
        kind,
        next,
    })
}

/// The flow as a Drawflow export, each node at `pos(index)`: the form the editor loads. Every edge
/// is written at both of its ends, as Drawflow keeps them. Node ids must be Drawflow's (numbers).
pub fn export(flow: &Flow, pos: impl Fn(usize) -> (f64, f64)) -> Value {
    let mut data = Map::new();
    let mut inputs: std::collections::HashMap<&str, Vec<Value>> = std::collections::HashMap::new();
    for node in &flow.nodes {
        for (k, branch) in node.kind.branches().iter().enumerate() {
            if let Some(target) = node.next.get(branch) {
                inputs.entry(target.as_str()).or_default().push(
                    serde_json::json!({ "node": node.id, "input": format!("output_{}", k + 1) }),
                );
            }
        }
    }
    for (i, node) in flow.nodes.iter().enumerate() {
        let mut fields = serde_json::to_value(&node.kind).expect("a node kind serialises");
        fields.as_object_mut().map(|o| o.remove("kind"));
        let outputs: Map<String, Value> = node
            .kind
            .branches()
            .iter()
            .enumerate()
            .map(|(k, branch)| {
                let connections: Vec<Value> = node
                    .next
                    .get(branch)
                    .map(|t| serde_json::json!({ "node": t, "output": "input_1" }))
                    .into_iter()
                    .collect();
                (
                    format!("output_{}", k + 1),
                    serde_json::json!({ "connections": connections }),
                )
            })
            .collect();
        let input_list = if matches!(node.kind, NodeKind::Start) {
            serde_json::json!({})
        } else {
            serde_json::json!({ "input_1": { "connections": inputs.remove(node.id.as_str()).unwrap_or_default() } })
        };
        let (x, y) = pos(i);
        let id: Value = node
            .id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(node.id.clone()));
        data.insert(
            node.id.clone(),
            serde_json::json!({
                "id": id, "name": node.kind.name(), "data": fields, "class": node.kind.name(), "html": "",
                "typenode": false, "inputs": input_list, "outputs": outputs, "pos_x": x, "pos_y": y,
            }),
        );
    }
    serde_json::json!({ "drawflow": { "Home": { "data": data } } })
}

/// Positions for [`export`] that read left to right: each node one column after the node that
/// first reaches it from the start, nodes of a column one under the other.
pub fn layout(flow: &Flow) -> Vec<(f64, f64)> {
    let index: std::collections::HashMap<&str, usize> = flow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut depth = vec![usize::MAX; flow.nodes.len()];
    let mut queue = std::collections::VecDeque::new();
    if let Some(start) = flow
        .nodes
        .iter()
        .position(|n| matches!(n.kind, NodeKind::Start))
    {
        depth[start] = 0;
        queue.push_back(start);
    }
    while let Some(i) = queue.pop_front() {
        let node = &flow.nodes[i];
        for branch in node.kind.branches() {
            if let Some(&t) = node.next.get(&branch).and_then(|t| index.get(t.as_str()))
                && depth[t] == usize::MAX
            {
                depth[t] = depth[i] + 1;
                queue.push_back(t);
            }
        }
    }
    let deepest = depth
        .iter()
        .filter(|&&d| d != usize::MAX)
        .max()
        .copied()
        .unwrap_or(0);
    let mut rows = vec![0usize; deepest + 2];
    depth
        .iter()
        .map(|&d| {
            let column = if d == usize::MAX { deepest + 1 } else { d };
            let row = rows[column];
            rows[column] += 1;
            (40.0 + 260.0 * column as f64, 40.0 + 150.0 * row as f64)
        })
        .collect()
}

/// At most 40 characters of untrusted text in a message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MENU: &str = r#"{"drawflow":{"Home":{"data":{
      "1":{"id":1,"name":"start","data":{},"html":"<b>x</b>","outputs":{"output_1":{"connections":[{"node":"2","output":"input_1"}]}}},
      "2":{"id":2,"name":"ask_buttons","data":{"text":"Hi! What do you need?","buttons":[{"id":"price","title":"Prices"},{"id":"human","title":"A person"}]},
           "outputs":{"output_1":{"connections":[{"node":"3","output":"input_1"}]},"output_2":{"connections":[{"node":"4","output":"input_1"}]},"output_3":{"connections":[]}}},
      "3":{"id":3,"name":"send_text","data":{"text":"From 10 €"},"outputs":{"output_1":{"connections":[]}}},
      "4":{"id":4,"name":"hand_off","data":{"to":{"to":"anyone"}},"outputs":{}}
    }}}}"#;

    #[test]
    fn ports_become_named_branches() {
        let flow = import(MENU).unwrap();
        assert_eq!(flow.nodes.len(), 4);
        let ask = &flow.nodes[1];
        assert_eq!(ask.next.get("price").map(String::as_str), Some("3"));
        assert_eq!(ask.next.get("human").map(String::as_str), Some("4"));
        assert!(!ask.next.contains_key("other"));
        crate::compile::compile(&flow).unwrap();
    }

    #[test]
    fn an_export_imports_as_the_same_flow() {
        let flow = import(MENU).unwrap();
        let at = layout(&flow);
        // start, then the question, then its two answers one under the other.
        assert_eq!(
            at,
            vec![(40.0, 40.0), (300.0, 40.0), (560.0, 40.0), (560.0, 190.0)]
        );
        let exported = export(&flow, |i| at[i]);
        assert_eq!(import(&exported.to_string()).unwrap(), flow);
        // Both ends of an edge are written.
        assert_eq!(
            exported["drawflow"]["Home"]["data"]["3"]["inputs"]["input_1"]["connections"][0]["node"],
            "2"
        );
    }

    #[test]
    fn problems_name_the_node() {
        let bad_kind = MENU.replace("\"name\":\"send_text\"", "\"name\":\"<script>\"");
        assert_eq!(
            import(&bad_kind).unwrap_err().to_string(),
            "node 3: “<script>” is not a kind of node this editor has"
        );
        let two_edges = MENU.replace(
            r#""output_1":{"connections":[{"node":"3","output":"input_1"}]},"output_2""#,
            r#""output_1":{"connections":[{"node":"3","output":"input_1"},{"node":"4","output":"input_1"}]},"output_2""#,
        );
        assert_eq!(
            import(&two_edges).unwrap_err().to_string(),
            "node 2: branch “price” has 2 edges; one is allowed"
        );
        let dangling = MENU.replace(
            r#"[{"node":"3","output":"input_1"}]},"output_2""#,
            r#"[{"node":"9","output":"input_1"}]},"output_2""#,
        );
        assert_eq!(
            import(&dangling).unwrap_err().to_string(),
            "node 2: branch “price” leads to node “9”, which is not in the flow"
        );
        let extra_port = MENU.replace(
            r#""output_3":{"connections":[]}"#,
            r#""output_7":{"connections":[{"node":"3"}]}"#,
        );
        assert_eq!(
            import(&extra_port).unwrap_err().to_string(),
            "node 2: output 7 has no branch: a ask_buttons node has 5"
        );
        assert!(matches!(import("[1,2"), Err(ImportError::NotJson(_))));
        assert!(matches!(import("{}"), Err(ImportError::NotDrawflow(_))));
    }
}
