//! The HTTP surface: Graph API routes under `/{version}/…` (one file per resource) behind a
//! guard that checks the version segment and the access token, Meta's CDN stand-in under
//! `/sandbox/lookaside/…`, and the control endpoints under `/sandbox/…`.

pub mod ai;
mod control;
mod media;
mod messages;
mod numbers;
mod profile;
mod subscriptions;
mod templates;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use super::engine::Shared;
use super::error::Refusal;

pub(crate) type AppState = Arc<Shared>;

pub(crate) fn router(shared: AppState) -> Router {
    let graph = Router::new()
        .route(
            "/{version}/{id}",
            get(object_get).post(object_post).delete(object_delete),
        )
        .route("/{version}/{id}/messages", post(messages::send))
        .route(
            "/{version}/{id}/media",
            post(media::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/{version}/{id}/message_templates",
            get(templates::list)
                .post(templates::create)
                .delete(templates::delete),
        )
        .route("/{version}/{id}/phone_numbers", get(numbers::list))
        .route(
            "/{version}/{id}/subscribed_apps",
            get(subscriptions::list)
                .post(subscriptions::subscribe)
                .delete(subscriptions::unsubscribe),
        )
        .route(
            "/{version}/{id}/whatsapp_business_profile",
            get(profile::get).post(profile::update),
        )
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard));
    Router::new()
        .merge(graph)
        .merge(control::router())
        .route("/sandbox/ai/v1/chat/completions", post(ai::completions))
        .route("/sandbox/lookaside/media/{id}", get(media::download))
        .route("/sandbox/lookaside/profile/{file}", get(profile::picture))
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_method)
        .with_state(shared)
}

/// `v23.0`, `v19.0`…
pub(crate) fn is_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.splitn(2, '.');
    let major = parts.next().unwrap_or("");
    let minor = parts.next().unwrap_or("");
    !major.is_empty()
        && !minor.is_empty()
        && major.len() <= 3
        && minor.len() <= 3
        && major.chars().all(|c| c.is_ascii_digit())
        && minor.chars().all(|c| c.is_ascii_digit())
}

/// Every Graph route: a `vNN.N` version, then a valid token (header or `access_token`).
async fn guard(State(shared): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let version = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if !is_version(version) {
        return Refusal::unknown_path(&path).into_response();
    }
    let token = bearer(req.headers()).or_else(|| query(req.uri()).remove("access_token"));
    if let Err(r) = shared.check_token(token.as_deref()) {
        return r.into_response();
    }
    let mut response = next.run(req).await;
    if !shared.config.response_delay.is_zero() {
        tokio::time::sleep(shared.config.response_delay).await;
    }
    // Meta reports the business's API usage (percentages of its budgets) on every answer.
    let usage = json!({ (shared.store().waba.id.clone()): [{
        "type": "whatsapp",
        "call_count": 1,
        "total_cputime": 1,
        "total_time": 1,
        "estimated_time_to_regain_access": 0
    }]});
    if let Ok(value) = usage.to_string().parse() {
        response
            .headers_mut()
            .insert("x-business-use-case-usage", value);
    }
    response
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The query string as a map; a malformed query counts as empty.
pub(crate) fn query(uri: &Uri) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The body as JSON (error 100 when it is not).
pub(crate) fn json_body(body: &Bytes) -> Result<Value, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::param(
            "the request body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| Refusal::param(format!("the request body is not valid JSON: {e}")))
}

/// `fields=a,b{c}`: the top-level names asked for, or `None` when absent.
pub(crate) fn fields(q: &HashMap<String, String>) -> Option<Vec<String>> {
    let raw = q.get("fields")?;
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in raw.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_owned());
                }
                current.clear();
            }
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    Some(out)
}

/// Keeps `requested` fields of `full` (plus `id`), refusing unknown ones as the Graph API does.
pub(crate) fn select(full: &Value, requested: &[String], node: &str) -> Result<Value, Refusal> {
    let mut out = serde_json::Map::new();
    for f in requested {
        match full.get(f) {
            Some(v) => {
                out.insert(f.clone(), v.clone());
            }
            None => return Err(Refusal::nonexisting_field(f, node)),
        }
    }
    if let Some(id) = full.get("id") {
        out.insert("id".into(), id.clone());
    }
    Ok(Value::Object(out))
}

fn cursor(index: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sandbox:{index}"))
}

fn parse_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("sandbox:")?
        .parse()
        .ok()
}

/// One page of `items` as the Graph API pages edges: `limit` (default 25), `after`/`before`
/// cursors, `paging.cursors` and a `next`/`previous` URL built on `page_url` with the other
/// query parameters kept.
pub(crate) fn paginate(
    items: Vec<Value>,
    q: &HashMap<String, String>,
    page_url: &str,
) -> Result<Value, Refusal> {
    let limit = match q.get("limit") {
        None => 25,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                Refusal::param(format!("limit {l:?} must be a whole number from 1 to 1000"))
            })?,
    };
    let (start, end) = if let Some(after) = q.get("after") {
        let i = parse_cursor(after)
            .ok_or_else(|| Refusal::param(format!("after {after:?} is not a valid cursor")))?;
        let start = (i + 1).min(items.len());
        (start, (start + limit).min(items.len()))
    } else if let Some(before) = q.get("before") {
        let i = parse_cursor(before)
            .ok_or_else(|| Refusal::param(format!("before {before:?} is not a valid cursor")))?;
        let end = i.min(items.len());
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(items.len()))
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut paging = json!({});
    if !data.is_empty() {
        paging["cursors"] = json!({ "before": cursor(start), "after": cursor(end - 1) });
    }
    let link = |key: &str, value: String| {
        let mut pairs: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "after" | "before" | "access_token"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        pairs.push(("limit".into(), limit.to_string()));
        pairs.dedup_by(|a, b| a.0 == b.0);
        pairs.push((key.into(), value));
        let mut url = reqwest::Url::parse(page_url).ok()?;
        url.query_pairs_mut().extend_pairs(pairs);
        Some(url.to_string())
    };
    if end > 0
        && end < total
        && let Some(next) = link("after", cursor(end - 1))
    {
        paging["next"] = json!(next);
    }
    if start > 0
        && let Some(prev) = link("before", cursor(start))
    {
        paging["previous"] = json!(prev);
    }
    Ok(json!({ "data": data, "paging": paging }))
}

/// `GET /{version}/{id}`: a WABA, phone number, template or media object.
async fn object_get(
    State(shared): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, Refusal> {
    let q = query(&uri);
    let kind = {
        let store = shared.store();
        if store.waba.id == id {
            "waba"
        } else if store.number(&id).is_some() {
            "number"
        } else if store.template(&id).is_some() {
            "template"
        } else if store.media.contains_key(&id) {
            "media"
        } else {
            ""
        }
    };
    match kind {
        "waba" => numbers::waba(&shared, &q).map(IntoResponse::into_response),
        "number" => numbers::get(&shared, &id, &q).map(IntoResponse::into_response),
        "template" => templates::get(&shared, &id, &q).map(IntoResponse::into_response),
        "media" => media::get(&shared, &id, &q).map(IntoResponse::into_response),
        _ => {
            let _ = version;
            Err(Refusal::unknown_object("get", &id))
        }
    }
}

/// `POST /{version}/{id}`: editing a template.
async fn object_post(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Refusal> {
    if shared.store().template(&id).is_some() {
        return templates::edit(&shared, &id, &body).map(IntoResponse::into_response);
    }
    Err(Refusal::unknown_object("post", &id))
}

/// `DELETE /{version}/{id}`: deleting media.
async fn object_delete(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, Refusal> {
    if shared.store().media.contains_key(&id) {
        return media::delete(&shared, &id, &query(&uri)).map(IntoResponse::into_response);
    }
    Err(Refusal::unknown_object("delete", &id))
}

async fn unknown_path(uri: Uri) -> Refusal {
    Refusal::unknown_path(uri.path())
}

async fn unknown_method(req: Request) -> Refusal {
    let method = req.method().as_str().to_ascii_lowercase();
    let path = req.uri().path();
    let id = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    Refusal::unknown_object(&method, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(is_version("v23.0"));
        assert!(is_version("v9.1"));
        assert!(!is_version("23.0"));
        assert!(!is_version("v23"));
        assert!(!is_version("vX.0"));
        assert!(!is_version("sandbox"));
    }

    #[test]
    fn fields_parse_nested_braces() {
        let mut q = HashMap::new();
        q.insert(
            "fields".to_owned(),
            "id,name,components{type,text}, status".to_owned(),
        );
        assert_eq!(
            fields(&q).unwrap(),
            vec!["id", "name", "components", "status"]
        );
    }

    #[test]
    fn paging_walks_forward_and_back() {
        let items: Vec<Value> = (0..5).map(|i| json!({"id": i})).collect();
        let mut q = HashMap::new();
        q.insert("limit".to_owned(), "2".to_owned());
        let page1 = paginate(items.clone(), &q, "http://h/v23.0/1/x").unwrap();
        assert_eq!(page1["data"], json!([{"id":0},{"id":1}]));
        let next = page1["paging"]["next"].as_str().unwrap();
        assert!(next.starts_with("http://h/v23.0/1/x?"), "{next}");
        assert!(page1["paging"].get("previous").is_none());
        q.insert(
            "after".to_owned(),
            page1["paging"]["cursors"]["after"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let page2 = paginate(items.clone(), &q, "http://h/x").unwrap();
        assert_eq!(page2["data"], json!([{"id":2},{"id":3}]));
        q.insert(
            "after".to_owned(),
            page2["paging"]["cursors"]["after"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let page3 = paginate(items.clone(), &q, "http://h/x").unwrap();
        assert_eq!(page3["data"], json!([{"id":4}]));
        assert!(page3["paging"].get("next").is_none());
        q.remove("after");
        q.insert(
            "before".to_owned(),
            page3["paging"]["cursors"]["before"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        assert_eq!(
            paginate(items.clone(), &q, "http://h/x").unwrap()["data"],
            json!([{"id":2},{"id":3}])
        );
        q.insert("before".to_owned(), cursor(0));
        let empty = paginate(items.clone(), &q, "http://h/x").unwrap();
        assert_eq!(
            empty["data"],
            json!([]),
            "nothing comes before the first item"
        );
        q.insert("before".to_owned(), "garbage".to_owned());
        assert_eq!(paginate(items, &q, "http://h/x").unwrap_err().code(), 100);
    }
}
