//! Templates: `GET|POST|DELETE /{version}/{waba-id}/message_templates`, and
//! `GET|POST /{version}/{template-id}`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Value, json};

use super::{AppState, fields, json_body, paginate, query, select};
use crate::engine::Shared;
use crate::error::Refusal;
use crate::store::Template;
use crate::validate::templates::{
    ParamFormat, SUB_EXISTS, SUB_TOO_MANY, validate_create, validate_edit,
};

const NODE: &str = "WhatsAppMessageTemplate";
const DEFAULT_FIELDS: &[&str] = &[
    "name",
    "parameter_format",
    "components",
    "language",
    "status",
    "category",
    "id",
];

fn template_json(t: &Template) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "status": t.status,
        "category": t.category,
        "parameter_format": t.parameter_format,
        "components": t.components,
        "rejected_reason": t.rejected_reason.as_deref().unwrap_or("NONE"),
        "quality_score": { "score": if t.status == "APPROVED" { "GREEN" } else { "UNKNOWN" } },
        "sub_category": Value::Null,
    })
}

fn shape(t: &Template, q: &HashMap<String, String>) -> Result<Value, Refusal> {
    let requested =
        fields(q).unwrap_or_else(|| DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect());
    select(&template_json(t), &requested, NODE)
}

fn matches_filter(value: &str, filter: Option<&String>) -> bool {
    filter.is_none_or(|f| {
        f.split(',')
            .any(|one| one.trim().eq_ignore_ascii_case(value))
    })
}

pub(super) async fn list(
    State(shared): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, Refusal> {
    let q = query(&uri);
    let items = {
        let store = shared.store();
        if store.waba.id != id {
            return Err(Refusal::unknown_object("get", &id));
        }
        let name = q.get("name").map(|n| n.to_ascii_lowercase());
        store
            .templates
            .iter()
            .filter(|t| name.as_deref().is_none_or(|n| t.name.contains(n)))
            .filter(|t| matches_filter(&t.status, q.get("status")))
            .filter(|t| matches_filter(&t.category, q.get("category")))
            .filter(|t| matches_filter(&t.language, q.get("language")))
            .map(|t| shape(t, &q))
            .collect::<Result<Vec<_>, _>>()?
    };
    let total = items.len();
    let page_url = format!("{}/{version}/{id}/message_templates", shared.base_url);
    let mut page = paginate(items, &q, &page_url)?;
    if q.contains_key("summary") {
        page["summary"] = json!({ "total_count": total });
    }
    Ok(Json(page))
}

pub(super) async fn create(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    if shared.store().waba.id != id {
        return Err(Refusal::unknown_object("post", &id));
    }
    let body = json_body(&body)?;
    let new = validate_create(&body)?;
    let (template_id, category) = {
        let mut store = shared.store();
        if store
            .templates
            .iter()
            .any(|t| t.name == new.name && t.language == new.language)
        {
            return Err(Refusal::template(
                Some(SUB_EXISTS),
                "Content in this language already exists",
                format!(
                    "a template named {:?} already exists in {}; edit it or choose another name",
                    new.name, new.language
                ),
            ));
        }
        if store.templates.len() >= shared.config.max_templates {
            return Err(Refusal::template(
                Some(SUB_TOO_MANY),
                "Template limit reached",
                format!(
                    "this WhatsApp Business Account already has {} templates, the most it may have",
                    store.templates.len()
                ),
            ));
        }
        let template_id = store.numeric_id();
        store.templates.push(Template {
            id: template_id.clone(),
            name: new.name.clone(),
            language: new.language,
            category: new.category.clone(),
            status: "PENDING".to_owned(),
            parameter_format: new.spec.format.as_str().to_owned(),
            components: new.components,
            spec: new.spec,
            rejected_reason: None,
            revision: 0,
        });
        (template_id, new.category)
    };
    shared.schedule_review(&template_id, 0);
    tracing::info!(template_id = %template_id, name = %new.name, "template created (PENDING)");
    Ok(Json(
        json!({ "id": template_id, "status": "PENDING", "category": category }),
    ))
}

pub(super) async fn delete(
    State(shared): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, Refusal> {
    let q = query(&uri);
    let mut store = shared.store();
    if store.waba.id != id {
        return Err(Refusal::unknown_object("delete", &id));
    }
    let name = q
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Refusal::param_required("name"))?;
    let hsm_id = q.get("hsm_id").filter(|h| !h.is_empty());
    let before = store.templates.len();
    if let Some(hsm_id) = hsm_id {
        match store.template(hsm_id) {
            Some(t) if &t.name == name => {}
            Some(t) => {
                return Err(Refusal::param(format!(
                    "hsm_id {hsm_id} is the template {:?}, not {name:?}",
                    t.name
                )));
            }
            None => {
                return Err(Refusal::param(format!(
                    "no template has the hsm_id {hsm_id}"
                )));
            }
        }
        store.templates.retain(|t| &t.id != hsm_id);
    } else {
        store.templates.retain(|t| &t.name != name);
    }
    if store.templates.len() == before {
        return Err(Refusal::param(format!("no template is named {name:?}")));
    }
    Ok(Json(json!({ "success": true })))
}

pub(super) fn get(
    shared: &Shared,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<Json<Value>, Refusal> {
    let store = shared.store();
    let t = store
        .template(id)
        .ok_or_else(|| Refusal::unknown_object("get", id))?;
    shape(t, q).map(Json)
}

/// `POST /{template-id}`: only APPROVED, REJECTED or PAUSED templates may be edited; an edit
/// sends the template back to PENDING for review.
pub(super) fn edit(shared: &Shared, id: &str, body: &Bytes) -> Result<Json<Value>, Refusal> {
    let body = json_body(body)?;
    let revision = {
        let mut store = shared.store();
        let t = store
            .template_mut(id)
            .ok_or_else(|| Refusal::unknown_object("post", id))?;
        if !matches!(t.status.as_str(), "APPROVED" | "REJECTED" | "PAUSED") {
            return Err(Refusal::template(
                None,
                "Template can't be edited",
                format!(
                    "template {:?} is {}; only APPROVED, REJECTED or PAUSED templates can be edited",
                    t.name, t.status
                ),
            ));
        }
        let format = if t.parameter_format == "NAMED" {
            ParamFormat::Named
        } else {
            ParamFormat::Positional
        };
        let edit = validate_edit(
            &body,
            &t.name,
            &t.language,
            &t.category,
            &t.components,
            format,
        )?;
        if edit.category != t.category && t.status == "APPROVED" {
            return Err(Refusal::template(
                None,
                "Category can't be changed",
                format!(
                    "the category of an APPROVED template can't be changed (it is {})",
                    t.category
                ),
            ));
        }
        t.category = edit.category;
        t.parameter_format = edit.spec.format.as_str().to_owned();
        t.components = edit.components;
        t.spec = edit.spec;
        t.status = "PENDING".to_owned();
        t.rejected_reason = None;
        t.revision += 1;
        t.revision
    };
    shared.schedule_review(id, revision);
    tracing::info!(template_id = %id, "template edited (PENDING)");
    Ok(Json(json!({ "success": true })))
}
