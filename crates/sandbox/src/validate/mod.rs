//! Request validation, as Meta does it, as pure functions over the parsed JSON so each rule is
//! unit-tested without a server. Handlers call these and answer with the [`Refusal`] they return.
//!
//! - [`messages`]: the `/messages` payload (every message type, mark-as-read).
//! - [`templates`]: creating and editing templates, and matching a template send to its template.
//! - [`media`]: Meta's media types and size limits.
//! - [`profile`]: business-profile updates.

pub mod media;
pub mod messages;
pub mod profile;
pub mod templates;

use serde_json::{Map, Value};

use super::error::Refusal;

/// A problem with one field, before it is given a Meta code: messages use 131008/131009,
/// template management uses 100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing(String),
    Invalid(String),
}

impl Problem {
    pub fn text(&self) -> &str {
        match self {
            Problem::Missing(t) | Problem::Invalid(t) => t,
        }
    }
}

/// For `/messages`: missing → 131008, invalid → 131009.
impl From<Problem> for Refusal {
    fn from(p: Problem) -> Self {
        match p {
            Problem::Missing(path) => Refusal::missing(&path),
            Problem::Invalid(details) => Refusal::invalid(details),
        }
    }
}

pub type Checked<T> = Result<T, Problem>;

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `v` as an object.
pub fn obj<'a>(v: &'a Value, path: &str) -> Checked<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Problem::Invalid(format!("{path} must be a JSON object")))
}

/// The value of `key`, treating `null` as absent.
pub fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

pub fn req<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Checked<&'a Value> {
    get(m, key).ok_or_else(|| Problem::Missing(join(path, key)))
}

pub fn req_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Checked<&'a Map<String, Value>> {
    obj(req(m, key, path)?, &join(path, key))
}

pub fn opt_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Checked<Option<&'a Map<String, Value>>> {
    get(m, key).map(|v| obj(v, &join(path, key))).transpose()
}

pub fn req_str<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Checked<&'a str> {
    let p = join(path, key);
    let s = req(m, key, path)?
        .as_str()
        .ok_or_else(|| Problem::Invalid(format!("{p} must be a string")))?;
    if s.trim().is_empty() {
        return Err(Problem::Missing(p));
    }
    Ok(s)
}

pub fn opt_str<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Checked<Option<&'a str>> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(Some)
            .ok_or_else(|| Problem::Invalid(format!("{} must be a string", join(path, key)))),
    }
}

pub fn opt_bool(m: &Map<String, Value>, key: &str, path: &str) -> Checked<Option<bool>> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| Problem::Invalid(format!("{} must be true or false", join(path, key)))),
    }
}

pub fn req_array<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Checked<&'a Vec<Value>> {
    let p = join(path, key);
    req(m, key, path)?
        .as_array()
        .ok_or_else(|| Problem::Invalid(format!("{p} must be an array")))
}

pub fn opt_array<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Checked<Option<&'a Vec<Value>>> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_array()
            .map(Some)
            .ok_or_else(|| Problem::Invalid(format!("{} must be an array", join(path, key)))),
    }
}

/// A number, or a string holding one (Meta accepts both for coordinates).
pub fn number(m: &Map<String, Value>, key: &str, path: &str) -> Checked<f64> {
    let p = join(path, key);
    let v = req(m, key, path)?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| Problem::Invalid(format!("{p} must be a number")))
}

/// A string, number or boolean, as text (template text parameters accept all three).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn max_chars(s: &str, max: usize, path: &str) -> Checked<()> {
    let n = s.chars().count();
    if n > max {
        Err(Problem::Invalid(format!(
            "{path} is {n} characters long; at most {max} are allowed"
        )))
    } else {
        Ok(())
    }
}

/// An absolute `http(s)` URL with a host.
pub fn is_http_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .map(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers_name_the_path() {
        let v = json!({"a": {"b": 3, "s": "", "t": "x"}});
        let a = req_obj(v.as_object().unwrap(), "a", "").unwrap();
        assert_eq!(
            req_str(a, "b", "a"),
            Err(Problem::Invalid("a.b must be a string".into()))
        );
        assert_eq!(req_str(a, "s", "a"), Err(Problem::Missing("a.s".into())));
        assert_eq!(req_str(a, "zz", "a"), Err(Problem::Missing("a.zz".into())));
        assert_eq!(req_str(a, "t", "a"), Ok("x"));
        assert!(max_chars("héllo", 5, "p").is_ok());
        assert!(
            max_chars("héllo!", 5, "p")
                .unwrap_err()
                .text()
                .contains("6 characters")
        );
        assert!(is_http_url("https://example.com/a.jpg"));
        assert!(!is_http_url("ftp://example.com/a.jpg"));
        assert!(!is_http_url("<http(s)://image-url>"));
    }
}
