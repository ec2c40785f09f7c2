//! Templates: the WABA's message templates kept in sync with Meta, created, edited and deleted
//! from here; the five one-click template models; and the mapping of a template's variables to
//! CRM merge fields that chat, campaigns and bots use to fill them in.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::meta::ClientError;
use crate::meta::messages::{Component, ComponentKind, Media, Parameter, ParameterValue};
use crate::meta::templates::{
    ComponentDef, FieldProblem, ParameterFormat, TemplateDef, Variable, VariableKind, VariablePlace,
};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};

pub(crate) mod shared;

#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    #[error("the template breaks Meta's rules")]
    Rules(Vec<FieldProblem>),
    #[error("Meta refused: {0}")]
    Meta(#[from] ClientError),
    #[error("template {0} does not exist")]
    NotFound(i64),
    #[error("only approved, rejected or paused templates can be edited; “{name}” is {status}")]
    NotEditable { name: String, status: String },
    #[error("the template is stored in an unreadable form: {0}")]
    Corrupt(String),
    #[error("these variables are not mapped yet: {0}")]
    Unmapped(String),
    #[error("the mapping names variables the template does not have: {0}")]
    Stray(String),
    #[error("“{0}” is not a merge field")]
    UnknownField(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{field} has no value for this record")]
    NoValue { field: String },
}

impl crate::error::Coded for TemplatesError {
    fn code(&self) -> ErrorCode {
        TemplatesError::code(self)
    }

    fn fields(&self) -> Vec<FieldProblem> {
        TemplatesError::fields(self)
    }
}

impl TemplatesError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TemplatesError::NotFound(_) => ErrorCode::NotFound,
            TemplatesError::NotEditable { .. } => ErrorCode::Conflict,
            TemplatesError::Corrupt(_) => ErrorCode::Internal,
            _ => ErrorCode::Invalid,
        }
    }

    /// Problems by field, for the form; from our own checks or from Meta's refusal.
    pub fn fields(&self) -> Vec<FieldProblem> {
        match self {
            TemplatesError::Rules(p) => p.clone(),
            TemplatesError::Meta(ClientError::Template(p)) => p.clone(),
            TemplatesError::Meta(ClientError::Graph { error, .. }) => {
                // Template creation refusals are code 100 with the 2388xxx reason as subcode.
                let field = match error
                    .error_subcode
                    .filter(|_| error.code == 100)
                    .unwrap_or(error.code)
                {
                    2388040 | 2388047 | 2388293 | 2388299 | 132005 | 132007 => "body.text",
                    2388073 => "footer.text",
                    2388019 => "name",
                    _ => "template",
                };
                vec![FieldProblem {
                    field: field.into(),
                    message: error.explain(),
                }]
            }
            _ => vec![],
        }
    }
}

// ---- merge fields and mapping -----------------------------------------------------------------

/// A CRM value a template variable can be filled with.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MergeField {
    /// `lead.name`, `document.pdf`…
    pub key: String,
    pub label: String,
    /// Text fields fill text variables; file fields (a document's PDF) fill media headers.
    pub file: bool,
}

const MERGE_FIELDS: &[(&str, &str, bool)] = &[
    (
        "contact.name",
        "Contact name (lead, client contact or bulk contact)",
        false,
    ),
    ("contact.first_name", "Contact first name", false),
    ("contact.phone", "Contact phone number", false),
    ("contact.company", "Contact company", false),
    ("lead.name", "Lead name", false),
    ("lead.company", "Lead company", false),
    ("lead.email", "Lead email", false),
    ("lead.status", "Lead status", false),
    ("client.company", "Client company", false),
    ("document.number", "Document number", false),
    ("document.date", "Document date", false),
    ("document.due_date", "Document due date", false),
    ("document.total", "Document total, with currency", false),
    ("document.currency", "Document currency", false),
    ("document.pdf", "Document PDF", true),
    ("staff.name", "Sending staff member", false),
    ("business.name", "Our business name", false),
];

/// One member of a campaign's audience with the merge fields of their record (`contact.name`,
/// `lead.status`…; empty values left out): what leads and contacts give a campaign to plan with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceMember {
    /// `lead:12`, `contact:4`.
    pub record: String,
    pub name: String,
    /// E.164 (`+15550100101`), or the business-scoped user id of a customer who writes by
    /// username (`US.1349…`); `None` when WhatsApp cannot reach the record.
    pub phone: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl AudienceMember {
    /// A member with the fields every record has (name, first name, phone, company).
    pub fn new(record: String, name: String, phone: Option<String>, company: &str) -> Self {
        let mut fields = Vec::with_capacity(6);
        if !name.is_empty() {
            let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
            fields.push(("contact.name".to_owned(), name.clone()));
            fields.push(("contact.first_name".to_owned(), first));
        }
        // A customer reached by WhatsApp user id has no number to show in a message.
        if let Some(p) = phone.as_ref().filter(|p| p.starts_with('+')) {
            fields.push(("contact.phone".to_owned(), p.clone()));
        }
        if !company.is_empty() {
            fields.push(("contact.company".to_owned(), company.to_owned()));
        }
        AudienceMember {
            record,
            name,
            phone,
            fields,
        }
    }

    /// Adds a field unless its value is empty.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.fields.push((key.to_owned(), value.to_owned()));
        }
        self
    }
}

pub fn merge_fields() -> Vec<MergeField> {
    MERGE_FIELDS
        .iter()
        .map(|(k, l, f)| MergeField {
            key: (*k).into(),
            label: (*l).into(),
            file: *f,
        })
        .collect()
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Source {
    /// A CRM merge field, filled per recipient.
    Field { key: String },
    /// The same text for everybody.
    Text { value: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Binding {
    pub variable: Variable,
    pub source: Source,
}

/// Checks that `bindings` fill every variable of `def`, and nothing else.
pub fn check_mapping(
    def: &TemplateDef,
    bindings: &[Binding],
) -> std::result::Result<(), TemplatesError> {
    let vars = def.variables();
    let describe = |v: &Variable| match &v.place {
        VariablePlace::Header => format!("header {{{{{}}}}}", v.key),
        VariablePlace::Body => format!("body {{{{{}}}}}", v.key),
        VariablePlace::Button { index } => format!("button {} {{{{{}}}}}", index + 1, v.key),
    };
    let missing: Vec<String> = vars
        .iter()
        .filter(|v| !bindings.iter().any(|b| &b.variable == *v))
        .map(describe)
        .collect();
    if !missing.is_empty() {
        return Err(TemplatesError::Unmapped(missing.join(", ")));
    }
    let stray: Vec<String> = bindings
        .iter()
        .filter(|b| !vars.contains(&b.variable))
        .map(|b| describe(&b.variable))
        .collect();
    if !stray.is_empty() {
        return Err(TemplatesError::Stray(stray.join(", ")));
    }
    for b in bindings {
        let media = matches!(
            b.variable.kind,
            VariableKind::Image | VariableKind::Video | VariableKind::Document
        );
        let what = describe(&b.variable);
        match (&b.source, b.variable.kind) {
            (_, VariableKind::Location) => {
                return Err(TemplatesError::Unsupported(format!(
                    "{what}: location headers cannot be filled by this version"
                )));
            }
            (Source::Text { .. }, _) if media => {
                return Err(TemplatesError::Unsupported(format!(
                    "{what} needs a file field, not text"
                )));
            }
            (Source::Text { value }, _) if value.trim().is_empty() => {
                return Err(TemplatesError::Unmapped(what));
            }
            (Source::Field { key }, _) => match MERGE_FIELDS.iter().find(|(k, ..)| k == key) {
                None => return Err(TemplatesError::UnknownField(key.clone())),
                Some((_, _, file)) if *file != media => {
                    return Err(TemplatesError::Unsupported(format!(
                        "{what} needs a {} field; “{key}” is not one",
                        if media { "file" } else { "text" }
                    )));
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(())
}

/// A value for a merge field: text, or a file already uploaded to Meta (its media id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value_ {
    Text(String),
    Media {
        id: String,
        filename: Option<String>,
    },
}

/// A template's components from the values of its variables in the template's order (what a
/// campaign froze for a recipient).
pub fn fill_values(
    def: &TemplateDef,
    values: &[String],
) -> std::result::Result<Vec<Component>, TemplatesError> {
    let vars = def.variables();
    if vars.len() != values.len() {
        return Err(TemplatesError::NoValue {
            field: format!(
                "{} values for the template's {} variables",
                values.len(),
                vars.len()
            ),
        });
    }
    let bindings: Vec<Binding> = vars
        .into_iter()
        .zip(values)
        .map(|(variable, value)| Binding {
            variable,
            source: Source::Text {
                value: value.clone(),
            },
        })
        .collect();
    fill(def, &bindings, |_| None)
}

/// Fills a template's variables for one recipient: the `components` of a template message.
pub fn fill(
    def: &TemplateDef,
    bindings: &[Binding],
    lookup: impl Fn(&str) -> Option<Value_>,
) -> std::result::Result<Vec<Component>, TemplatesError> {
    check_mapping(def, bindings)?;
    let named = def.format() == ParameterFormat::Named;
    let mut header = Vec::new();
    let mut body = Vec::new();
    let mut buttons: Vec<(u32, Vec<Parameter>)> = Vec::new();
    for v in def.variables() {
        let b = bindings
            .iter()
            .find(|b| b.variable == v)
            .expect("checked above");
        let value = match &b.source {
            Source::Text { value } => Value_::Text(value.clone()),
            Source::Field { key } => {
                lookup(key).ok_or_else(|| TemplatesError::NoValue { field: key.clone() })?
            }
        };
        let param_value = match (v.kind, value) {
            (VariableKind::Text, Value_::Text(t)) => ParameterValue::Text { text: t },
            (VariableKind::Document, Value_::Media { id, filename }) => ParameterValue::Document {
                document: Media {
                    id: Some(id),
                    filename,
                    ..Default::default()
                },
            },
            (VariableKind::Image, Value_::Media { id, .. }) => ParameterValue::Image {
                image: Media::id(id),
            },
            (VariableKind::Video, Value_::Media { id, .. }) => ParameterValue::Video {
                video: Media::id(id),
            },
            (kind, _) => {
                return Err(TemplatesError::NoValue {
                    field: format!("{kind:?} variable {}", v.key),
                });
            }
        };
        let param = Parameter {
            // Named templates name their text parameters (header and body); media ones go by place.
            parameter_name: (named && v.kind == VariableKind::Text).then(|| v.key.clone()),
            value: param_value,
        };
        match v.place {
            VariablePlace::Header => header.push(param),
            VariablePlace::Body => body.push(param),
            VariablePlace::Button { index } => {
                match buttons.iter_mut().find(|(i, _)| *i == index) {
                    Some((_, ps)) => ps.push(param),
                    None => buttons.push((index, vec![param])),
                }
            }
        }
    }
    let mut out = Vec::new();
    if !header.is_empty() {
        out.push(Component {
            kind: ComponentKind::Header,
            sub_type: None,
            index: None,
            parameters: header,
        });
    }
    if !body.is_empty() {
        out.push(Component {
            kind: ComponentKind::Body,
            sub_type: None,
            index: None,
            parameters: body,
        });
    }
    for (index, parameters) in buttons {
        out.push(Component {
            kind: ComponentKind::Button,
            sub_type: Some("url".into()),
            index: Some(index.to_string()),
            parameters,
        });
    }
    Ok(out)
}

/// The template's body as the customer reads it, with the values in place (`field` gives a merge
/// field's value; one without a value shows empty).
pub fn render_body<'a>(
    def: &TemplateDef,
    bindings: &[Binding],
    field: impl Fn(&str) -> Option<&'a str>,
) -> String {
    let Some(mut body) = def.components.iter().find_map(|c| match c {
        ComponentDef::Body { text, .. } => Some(text.clone()),
        _ => None,
    }) else {
        return String::new();
    };
    for b in bindings {
        if b.variable.place != VariablePlace::Body {
            continue;
        }
        let value = match &b.source {
            Source::Text { value } => value.as_str(),
            Source::Field { key } => field(key).unwrap_or_default(),
        };
        body = body.replace(&format!("{{{{{}}}}}", b.variable.key), value);
    }
    body
}

// ---- template models --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TemplateModel {
    Proposal,
    Invoice,
    ProformaInvoice,
    Storno,
    Estimate,
}

impl TemplateModel {
    pub const ALL: [TemplateModel; 5] = [
        TemplateModel::Proposal,
        TemplateModel::Invoice,
        TemplateModel::ProformaInvoice,
        TemplateModel::Storno,
        TemplateModel::Estimate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TemplateModel::Proposal => "Proposal",
            TemplateModel::Invoice => "Invoice",
            TemplateModel::ProformaInvoice => "Proforma invoice",
            TemplateModel::Storno => "Storno (credit note)",
            TemplateModel::Estimate => "Estimate",
        }
    }

    fn key(self) -> &'static str {
        match self {
            TemplateModel::Proposal => "proposal",
            TemplateModel::Invoice => "invoice",
            TemplateModel::ProformaInvoice => "proforma_invoice",
            TemplateModel::Storno => "storno",
            TemplateModel::Estimate => "estimate",
        }
    }

    /// The template submitted to Meta: a document header (the PDF), a named body, a footer.
    pub fn definition(self) -> TemplateDef {
        let (noun, text) = match self {
            TemplateModel::Proposal => (
                "proposal",
                "Hello {{customer_name}}, please find attached our proposal {{document_number}} for {{document_total}}. Reply to this message with any questions.",
            ),
            TemplateModel::Invoice => (
                "invoice",
                "Hello {{customer_name}}, your invoice {{document_number}} of {{document_total}} is attached. It is due on {{due_date}}; thank you for your business.",
            ),
            TemplateModel::ProformaInvoice => (
                "proforma invoice",
                "Hello {{customer_name}}, please find attached proforma invoice {{document_number}} for {{document_total}}. We will send the final invoice on payment.",
            ),
            TemplateModel::Storno => (
                "credit note",
                "Hello {{customer_name}}, we have issued credit note {{document_number}} of {{document_total}}; it is attached.",
            ),
            TemplateModel::Estimate => (
                "estimate",
                "Hello {{customer_name}}, here is estimate {{document_number}} for {{document_total}}. We look forward to your reply.",
            ),
        };
        let names = crate::meta::templates::placeholders(text);
        let examples: Vec<Value> = names
            .iter()
            .map(|n| {
                let ex = match n.as_str() {
                    "customer_name" => "Jessica Doe",
                    "document_number" => "2026-0042",
                    "document_total" => "EUR 1,250.00",
                    "due_date" => "December 15, 2026",
                    _ => "example",
                };
                json!({"param_name": n, "example": ex})
            })
            .collect();
        TemplateDef {
            id: None,
            name: format!("crmconnect_{}", self.key()),
            language: "en".into(),
            status: None,
            category: "UTILITY".into(),
            parameter_format: Some(ParameterFormat::Named),
            components: vec![
                ComponentDef::Header {
                    format: "DOCUMENT".into(),
                    text: None,
                    example: Some(
                        json!({"header_handle": [format!("sandbox-example-{}.pdf", self.key())]}),
                    ),
                },
                ComponentDef::Body {
                    text: text.into(),
                    example: Some(json!({"body_text_named_params": examples})),
                    extra: Default::default(),
                },
                ComponentDef::Footer {
                    text: Some(format!("Your {noun}, sent from CRMConnect")),
                    extra: Default::default(),
                },
            ],
            extra: Default::default(),
        }
    }

    /// The mapping every model comes with: the document's fields.
    pub fn default_mapping(self) -> Vec<Binding> {
        self.definition()
            .variables()
            .into_iter()
            .map(|v| {
                let key = match (v.kind, v.key.as_str()) {
                    (VariableKind::Document, _) => "document.pdf",
                    (_, "customer_name") => "contact.name",
                    (_, "document_number") => "document.number",
                    (_, "document_total") => "document.total",
                    (_, "due_date") => "document.due_date",
                    _ => "contact.name",
                };
                Binding {
                    variable: v,
                    source: Source::Field { key: key.into() },
                }
            })
            .collect()
    }
}

// ---- what the screens see ---------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TemplateView {
    pub id: i64,
    pub meta_id: Option<String>,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub parameter_format: ParameterFormat,
    /// The template as Meta has it (components with their texts, examples and buttons).
    #[ts(type = "unknown")]
    pub definition: Value,
    pub variables: Vec<Variable>,
    pub mapping: Vec<Binding>,
    /// Every variable is mapped: the template can be sent.
    pub sendable: bool,
    pub rejected_reason: Option<String>,
    pub model: Option<TemplateModel>,
    pub synced_at: Option<i64>,
    /// Meta's quality score (GREEN, YELLOW, RED), once Meta sent one.
    pub quality_score: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export)]
pub struct TemplateFilter {
    #[ts(optional)]
    pub search: Option<String>,
    #[ts(optional)]
    pub status: Option<String>,
    #[ts(optional)]
    pub category: Option<String>,
    #[ts(optional)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelView {
    pub model: TemplateModel,
    pub label: String,
    pub name: String,
    /// The template the model submits, as Meta takes it (for the preview).
    #[ts(type = "unknown")]
    pub definition: Value,
    /// The local template loaded from it, if any.
    pub template: Option<TemplateView>,
}

/// The template form's input: what is submitted to Meta.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct TemplateInput {
    /// The template as Meta takes it: name, language, category, parameter_format, components.
    #[ts(type = "unknown")]
    pub definition: Value,
}

struct Row {
    id: i64,
    meta_id: Option<String>,
    name: String,
    language: String,
    status: String,
    category: String,
    definition: String,
    rejected_reason: Option<String>,
    model: Option<String>,
    mapping: String,
    synced_at: Option<i64>,
    quality_score: Option<String>,
}

fn view(r: Row) -> Result<TemplateView> {
    let def: TemplateDef =
        serde_json::from_str(&r.definition).map_err(|e| TemplatesError::Corrupt(e.to_string()))?;
    let mapping: Vec<Binding> = serde_json::from_str(&r.mapping).unwrap_or_default();
    let sendable = r.status == "APPROVED" && check_mapping(&def, &mapping).is_ok();
    Ok(TemplateView {
        id: r.id,
        meta_id: r.meta_id,
        name: r.name,
        language: r.language,
        status: r.status,
        category: r.category,
        parameter_format: def.format(),
        variables: def.variables(),
        definition: serde_json::to_value(&def).unwrap_or(Value::Null),
        mapping,
        sendable,
        rejected_reason: r.rejected_reason,
        model: r
            .model
            .as_deref()
            .and_then(|m| TemplateModel::ALL.into_iter().find(|x| x.key() == m)),
        synced_at: r.synced_at,
        quality_score: r.quality_score,
    })
}

fn parse_input(input: &TemplateInput) -> std::result::Result<TemplateDef, TemplatesError> {
    let def: TemplateDef = serde_json::from_value(input.definition.clone()).map_err(|e| {
        TemplatesError::Rules(vec![FieldProblem {
            field: "template".into(),
            message: format!("not a template definition: {e}"),
        }])
    })?;
    let problems = def.check();
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(TemplatesError::Rules(problems))
    }
}

inventory::submit! { crate::handlers::DefaultHandler { order: 20, make: status_handler } }

/// Meta's template status updates (APPROVED, REJECTED, PAUSED…), re-categorisations and quality
/// scores, applied on every replica.
pub fn status_handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if matches!(e.kind.as_str(), "template_category" | "template_quality") {
                ws.apply_template_change(e).await?;
            }
            if e.kind == "template_status"
                && let (Some(id), Some(status)) = (&e.template_id, &e.status)
            {
                let reason = serde_json::from_str::<serde_json::Value>(e.raw.get())
                    .ok()
                    .and_then(|v| v["value"]["reason"].as_str().map(String::from));
                ws.apply_template_status(id, status, reason.as_deref())
                    .await?;
            }
            Ok(())
        })
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "template status",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

/// The last status Meta sent for `meta_id` at or after `since` (ms), with its rejection reason.
async fn status_seen_since(
    tx: &mut sqlx::SqliteConnection,
    meta_id: &str,
    since: i64,
) -> Result<Option<(String, Option<String>)>> {
    Ok(sqlx::query!(
        "SELECT status, rejected_reason FROM template_status_seen WHERE meta_id = ? AND seen_at >= ?",
        meta_id,
        since
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| (r.status, r.rejected_reason)))
}

impl Workspace {
    /// `template_category_update` (the template's new category) or
    /// `message_template_quality_update` (its new quality score), by Meta's template id.
    async fn apply_template_change(&self, e: &crate::relay::events::ReceivedEvent) -> Result<()> {
        let raw: serde_json::Value = serde_json::from_str(e.raw.get()).unwrap_or_default();
        let v = &raw["value"];
        let Some(meta_id) = v["message_template_id"]
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| v["message_template_id"].as_str().map(String::from))
        else {
            return Ok(());
        };
        let changed = match e.kind.as_str() {
            "template_category" => match v["new_category"].as_str() {
                Some(c) => sqlx::query!(
                    "UPDATE templates SET category = ? WHERE meta_id = ?",
                    c,
                    meta_id
                )
                .execute(self.db())
                .await?
                .rows_affected(),
                None => 0,
            },
            _ => match v["new_quality_score"].as_str() {
                Some(q) => sqlx::query!(
                    "UPDATE templates SET quality_score = ? WHERE meta_id = ?",
                    q,
                    meta_id
                )
                .execute(self.db())
                .await?
                .rows_affected(),
                None => 0,
            },
        };
        if changed > 0 {
            self.records_changed(Screen::Templates);
        }
        Ok(())
    }

    async fn template_row(&self, id: i64) -> Result<Row> {
        sqlx::query_as!(
            Row,
            "SELECT id, meta_id, name, language, status, category, definition, rejected_reason, model, mapping, synced_at, quality_score
             FROM templates WHERE id = ?",
            id
        )
        .fetch_optional(self.db())
        .await?
        .ok_or_else(|| TemplatesError::NotFound(id).into())
    }

    /// A template for another module's own use (the chat sends one); that module checks its own
    /// permission.
    pub(crate) async fn template_unchecked(&self, id: i64) -> Result<TemplateView> {
        view(self.template_row(id).await?)
    }

    /// The definition of the template of this name and language here, if any.
    pub(crate) async fn template_def_of(
        &self,
        name: &str,
        language: &str,
    ) -> Result<Option<TemplateDef>> {
        let def = sqlx::query_scalar!(
            "SELECT definition FROM templates WHERE name = ? AND language = ?",
            name,
            language
        )
        .fetch_optional(self.db())
        .await?;
        def.map(|d| {
            serde_json::from_str(&d).map_err(|e| TemplatesError::Corrupt(e.to_string()).into())
        })
        .transpose()
    }

    /// The status of the template of this name and language here (APPROVED, PAUSED…), if any.
    pub(crate) async fn template_status_of(
        &self,
        name: &str,
        language: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT status FROM templates WHERE name = ? AND language = ?",
            name,
            language
        )
        .fetch_optional(self.db())
        .await?)
    }

    /// Applies a `message_template_status_update` from Meta (APPROVED, REJECTED…).
    pub async fn apply_template_status(
        &self,
        meta_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<bool> {
        let now = crate::now_ms();
        let reason = reason.filter(|r| !r.is_empty() && *r != "NONE");
        let mut tx = self.db().begin().await?;
        // Kept even when no row has this id yet: our own insert may not have committed.
        sqlx::query!(
            "INSERT INTO template_status_seen (meta_id, status, rejected_reason, seen_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (meta_id) DO UPDATE SET status = excluded.status,
               rejected_reason = excluded.rejected_reason, seen_at = excluded.seen_at",
            meta_id,
            status,
            reason,
            now
        )
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query!(
            "UPDATE templates SET status = ?, rejected_reason = ?, updated_at = ? WHERE meta_id = ?",
            status,
            reason,
            now,
            meta_id
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }
}

impl Ctx<'_> {
    async fn submit_new(
        &self,
        actor: &crate::permissions::Principal,
        def: TemplateDef,
        model: Option<TemplateModel>,
        allowed: std::result::Result<(), crate::permissions::PermissionError>,
    ) -> Result<TemplateView> {
        let created = match allowed {
            Ok(()) => {
                let (client, ids) = self.graph_client().await?;
                Some(
                    client
                        .create_template(&ids.waba_id, &def)
                        .await
                        .map_err(TemplatesError::from)?,
                )
            }
            Err(_) => None,
        };
        let action = if model.is_some() {
            "templates.load_model"
        } else {
            "templates.create"
        };
        let target = format!("template “{}” ({})", def.name, def.language);
        let publisher = actor.clone();
        let id = audit::perform(
            self.db(),
            actor,
            Change::new(Screen::Templates, action, target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let created = created.expect("allowed");
                    let stored = TemplateDef {
                        id: Some(created.id.clone()),
                        status: Some(created.status.clone()),
                        ..def.clone()
                    };
                    let definition = serde_json::to_string(&stored).unwrap_or_default();
                    let format = match def.format() {
                        ParameterFormat::Named => "NAMED",
                        ParameterFormat::Positional => "POSITIONAL",
                    };
                    let model_key = model.map(|m| m.key());
                    let mapping =
                        serde_json::to_string(&model.map(|m| m.default_mapping()).unwrap_or_default()).unwrap_or_default();
                    let now = crate::now_ms();
                    let id = sqlx::query_scalar!(
                        r#"INSERT INTO templates (meta_id, name, language, status, category, parameter_format,
                             definition, model, mapping, synced_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                           ON CONFLICT (name, language) DO UPDATE SET meta_id = excluded.meta_id,
                             status = excluded.status, definition = excluded.definition, model = excluded.model,
                             mapping = excluded.mapping, updated_at = excluded.updated_at
                           RETURNING id AS "id!""#,
                        created.id,
                        def.name,
                        def.language,
                        created.status,
                        created.category,
                        format,
                        definition,
                        model_key,
                        mapping,
                        now,
                        now
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    // Meta may have reviewed it already, before this insert committed.
                    let mut status = created.status.clone();
                    if let Some((seen, reason)) = status_seen_since(tx, &created.id, 0).await? {
                        sqlx::query!(
                            "UPDATE templates SET status = ?, rejected_reason = ? WHERE id = ?",
                            seen,
                            reason,
                            id
                        )
                        .execute(&mut *tx)
                        .await?;
                        status = seen;
                    }
                    let kind = if model.is_some() {
                        "template.loaded"
                    } else {
                        "template.created"
                    };
                    shared::emit(tx, &publisher, kind, id).await?;
                    Ok((id, Some(format!("Meta id {}, {}", created.id, status))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.template(id).await
    }

    /// The five template models and what has been loaded from each.
    pub async fn template_models(&self) -> Result<Vec<ModelView>> {
        let all = self.templates(TemplateFilter::default()).await?;
        Ok(TemplateModel::ALL
            .into_iter()
            .map(|m| {
                let def = m.definition();
                ModelView {
                    model: m,
                    label: m.label().into(),
                    name: def.name.clone(),
                    definition: serde_json::to_value(&def).unwrap_or(Value::Null),
                    template: all
                        .iter()
                        .find(|t| t.name == def.name && t.language == def.language)
                        .cloned(),
                }
            })
            .collect())
    }
}

impl Ctx<'_> {
    pub async fn template(&self, id: i64) -> Result<TemplateView> {
        self.actor()
            .await?
            .require(Resource::WhatsappTemplate, Action::View)?;
        view(self.template_row(id).await?)
    }

    /// The local templates, filtered; search matches the name.
    pub async fn templates(&self, filter: TemplateFilter) -> Result<Vec<TemplateView>> {
        self.actor()
            .await?
            .require(Resource::WhatsappTemplate, Action::View)?;
        let search = filter
            .search
            .map(|s| format!("%{}%", s.trim().to_lowercase()));
        let rows = sqlx::query_as!(
            Row,
            "SELECT id, meta_id, name, language, status, category, definition, rejected_reason, model, mapping, synced_at, quality_score
             FROM templates
             WHERE (?1 IS NULL OR name LIKE ?1) AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR category = ?3) AND (?4 IS NULL OR language = ?4)
             ORDER BY name, language",
            search,
            filter.status,
            filter.category,
            filter.language
        )
        .fetch_all(self.db())
        .await?;
        rows.into_iter().map(view).collect()
    }

    /// Pulls every template from Meta: new ones are added, known ones updated (mappings kept),
    /// ones Meta no longer has are removed.
    pub async fn sync_templates(&self) -> Result<Vec<TemplateView>> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappTemplate, Action::View);
        let remote = match allowed {
            Ok(()) => {
                let (client, ids) = self.graph_client().await?;
                Some(
                    client
                        .all_templates(&ids.waba_id)
                        .await
                        .map_err(TemplatesError::from)?,
                )
            }
            Err(_) => None,
        };
        // What changed is shared with the team by those who may change templates: a rep who
        // keeps no token sees Meta's templates through them.
        let publisher = actor.clone();
        let share_updates = actor
            .require(Resource::WhatsappTemplate, Action::Edit)
            .is_ok();
        let share_deletes = actor
            .require(Resource::WhatsappTemplate, Action::Delete)
            .is_ok();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Templates, "templates.sync", "templates from Meta"),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let remote = remote.unwrap_or_default();
                    let now = crate::now_ms();
                    let mut kept: Vec<String> = Vec::new();
                    for t in &remote {
                        let Some(meta_id) = t.id.clone() else { continue };
                        let known = sqlx::query_scalar!(
                            "SELECT id FROM templates WHERE name = ? AND language = ?",
                            t.name,
                            t.language
                        )
                        .fetch_optional(&mut *tx)
                        .await?;
                        // Shared again when Meta changed it, or when the team has not seen it yet.
                        let before = match known {
                            Some(id) if share_updates => {
                                let seen = sqlx::query_scalar!("SELECT seq FROM templates WHERE id = ?", id)
                                    .fetch_one(&mut *tx)
                                    .await?;
                                match seen {
                                    Some(_) => Some(shared::state(tx, id).await?),
                                    None => None,
                                }
                            }
                            _ => None,
                        };
                        let definition = serde_json::to_string(t).unwrap_or_default();
                        let status = t.status.clone().unwrap_or_else(|| "PENDING".into());
                        let format = match t.format() {
                            ParameterFormat::Named => "NAMED",
                            ParameterFormat::Positional => "POSITIONAL",
                        };
                        let reason = t.extra.get("rejected_reason").and_then(Value::as_str).map(str::to_owned);
                        sqlx::query!(
                            "INSERT INTO templates (meta_id, name, language, status, category, parameter_format,
                               definition, rejected_reason, synced_at, updated_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                             ON CONFLICT (name, language) DO UPDATE SET meta_id = excluded.meta_id,
                               status = excluded.status, category = excluded.category,
                               parameter_format = excluded.parameter_format, definition = excluded.definition,
                               rejected_reason = excluded.rejected_reason, synced_at = excluded.synced_at,
                               updated_at = excluded.updated_at",
                            meta_id,
                            t.name,
                            t.language,
                            status,
                            t.category,
                            format,
                            definition,
                            reason,
                            now,
                            now
                        )
                        .execute(&mut *tx)
                        .await?;
                        if share_updates {
                            let id = sqlx::query_scalar!(
                                "SELECT id FROM templates WHERE name = ? AND language = ?",
                                t.name,
                                t.language
                            )
                            .fetch_one(&mut *tx)
                            .await?;
                            let after = shared::state(tx, id).await?;
                            if before.as_ref() != Some(&after) {
                                shared::emit_state(tx, &publisher, "template.updated", &after).await?;
                            }
                        }
                        kept.push(meta_id);
                    }
                    let kept_json = serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into());
                    if share_deletes {
                        let gone = sqlx::query_scalar!(
                            r#"SELECT id AS "id!" FROM templates WHERE meta_id IS NOT NULL
                               AND meta_id NOT IN (SELECT value FROM json_each(?))"#,
                            kept_json
                        )
                        .fetch_all(&mut *tx)
                        .await?;
                        for id in gone {
                            let mut state = shared::state(tx, id).await?;
                            state.deleted = true;
                            shared::emit_state(tx, &publisher, "template.deleted", &state).await?;
                        }
                    }
                    let removed = sqlx::query!(
                        "DELETE FROM templates WHERE meta_id IS NOT NULL
                           AND meta_id NOT IN (SELECT value FROM json_each(?))",
                        kept_json
                    )
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    Ok(((), Some(format!("{} from Meta, {removed} removed", remote.len()))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.templates(TemplateFilter::default()).await
    }

    /// Submits a new template to Meta (after Meta's rules are checked here) and keeps it locally
    /// as PENDING until Meta decides.
    pub async fn create_template(&self, input: TemplateInput) -> Result<TemplateView> {
        let actor = self.actor().await?;
        let def = parse_input(&input)?;
        self.submit_new(
            &actor,
            def,
            None,
            actor.require(Resource::WhatsappTemplate, Action::Create),
        )
        .await
    }

    /// One click: submits a template model (proposal, invoice…) with its default mapping.
    pub async fn load_template_model(&self, model: TemplateModel) -> Result<TemplateView> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappTemplate, Action::LoadTemplate);
        self.submit_new(&actor, model.definition(), Some(model), allowed)
            .await
    }

    /// Edits a template at Meta (approved, rejected or paused ones) and resubmits it for review.
    pub async fn edit_template(&self, id: i64, input: TemplateInput) -> Result<TemplateView> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappTemplate, Action::Edit);
        let row = self.template_row(id).await?;
        let def = parse_input(&input)?;
        let mut called_at = 0;
        if allowed.is_ok() {
            if !matches!(row.status.as_str(), "APPROVED" | "REJECTED" | "PAUSED") {
                return Err(TemplatesError::NotEditable {
                    name: row.name,
                    status: row.status,
                }
                .into());
            }
            let (client, _) = self.graph_client().await?;
            let meta_id = row.meta_id.clone().unwrap_or_default();
            called_at = crate::now_ms();
            client
                .edit_template(&meta_id, &def)
                .await
                .map_err(TemplatesError::from)?;
        }
        let target = format!("template “{}” ({})", row.name, row.language);
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Templates, "templates.edit", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let stored = TemplateDef {
                        id: row.meta_id.clone(),
                        name: row.name.clone(),
                        language: row.language.clone(),
                        status: Some("PENDING".into()),
                        ..def
                    };
                    let definition = serde_json::to_string(&stored).unwrap_or_default();
                    let now = crate::now_ms();
                    // A review that arrived while Meta was answering the edit is newer than PENDING.
                    let meta_id = row.meta_id.clone().unwrap_or_default();
                    let (status, reason) = status_seen_since(tx, &meta_id, called_at)
                        .await?
                        .unwrap_or_else(|| ("PENDING".into(), None));
                    sqlx::query!(
                        "UPDATE templates SET status = ?, category = ?, definition = ?, rejected_reason = ?,
                           updated_at = ? WHERE id = ?",
                        status,
                        stored.category,
                        definition,
                        reason,
                        now,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    shared::emit(tx, &publisher, "template.updated", id).await?;
                    Ok(((), Some("resubmitted for review".into())))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.template(id).await
    }

    /// Deletes a template at Meta (exactly this language, by id) and then locally.
    pub async fn delete_template(&self, id: i64) -> Result<()> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappTemplate, Action::Delete);
        let row = self.template_row(id).await?;
        if allowed.is_ok()
            && let Some(meta_id) = &row.meta_id
        {
            let (client, ids) = self.graph_client().await?;
            match client
                .delete_template(&ids.waba_id, &row.name, Some(meta_id))
                .await
            {
                Ok(()) => {}
                // Already gone at Meta: deleting locally is what is left to do.
                Err(e) if e.graph_code() == Some(100) => {}
                Err(e) => return Err(TemplatesError::from(e).into()),
            }
        }
        let target = format!("template “{}” ({})", row.name, row.language);
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Templates, "templates.delete", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let mut gone = shared::state(tx, id).await?;
                    gone.deleted = true;
                    shared::emit_state(tx, &publisher, "template.deleted", &gone).await?;
                    sqlx::query!("DELETE FROM templates WHERE id = ?", id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query!(
                        "DELETE FROM template_status_seen WHERE meta_id = ?",
                        row.meta_id
                    )
                    .execute(&mut *tx)
                    .await?;
                    Ok(((), None))
                })
            }),
        )
        .await
        .inspect(|_| self.outbox_written())
    }

    /// Saves a template's default mapping of variables to merge fields; every variable must be
    /// mapped, and only the template's own.
    pub async fn set_template_mapping(
        &self,
        id: i64,
        bindings: Vec<Binding>,
    ) -> Result<TemplateView> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappTemplate, Action::Edit);
        let row = self.template_row(id).await?;
        let def: TemplateDef = serde_json::from_str(&row.definition)
            .map_err(|e| TemplatesError::Corrupt(e.to_string()))?;
        check_mapping(&def, &bindings)?;
        let target = format!("template “{}” ({})", row.name, row.language);
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Templates, "templates.map", target),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let json = serde_json::to_string(&bindings).unwrap_or_else(|_| "[]".into());
                    let now = crate::now_ms();
                    sqlx::query!(
                        "UPDATE templates SET mapping = ?, updated_at = ? WHERE id = ?",
                        json,
                        now,
                        id
                    )
                    .execute(&mut *tx)
                    .await?;
                    shared::emit(tx, &publisher, "template.updated", id).await?;
                    Ok(((), Some(format!("{} variable(s)", bindings.len()))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.template(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_passes_metas_rules_and_comes_fully_mapped() {
        for m in TemplateModel::ALL {
            let def = m.definition();
            assert!(def.check().is_empty(), "{m:?}: {:?}", def.check());
            assert!(check_mapping(&def, &m.default_mapping()).is_ok(), "{m:?}");
            assert_eq!(
                def.variables()[0].kind,
                VariableKind::Document,
                "{m:?} carries the PDF"
            );
        }
    }

    #[test]
    fn a_template_with_an_unmapped_variable_cannot_be_filled() {
        let def = TemplateModel::Invoice.definition();
        let mut mapping = TemplateModel::Invoice.default_mapping();
        mapping.pop();
        let e = fill(&def, &mapping, |_| Some(Value_::Text("x".into()))).unwrap_err();
        assert!(
            e.to_string().contains("not mapped yet: body {{due_date}}"),
            "{e}"
        );
    }

    #[test]
    fn mappings_that_could_not_be_sent_are_refused() {
        let def = TemplateModel::Invoice.definition();
        let mut m = TemplateModel::Invoice.default_mapping();
        m[0].source = Source::Text {
            value: "a pdf".into(),
        };
        assert!(
            check_mapping(&def, &m)
                .unwrap_err()
                .to_string()
                .contains("needs a file field")
        );
        let mut m = TemplateModel::Invoice.default_mapping();
        m[1].source = Source::Field {
            key: "document.pdf".into(),
        };
        assert!(
            check_mapping(&def, &m)
                .unwrap_err()
                .to_string()
                .contains("needs a text field")
        );
        let mut m = TemplateModel::Invoice.default_mapping();
        m[1].source = Source::Text { value: "  ".into() };
        assert!(matches!(
            check_mapping(&def, &m),
            Err(TemplatesError::Unmapped(_))
        ));
    }

    #[test]
    fn fills_named_parameters_and_the_pdf_header() {
        let def = TemplateModel::Invoice.definition();
        let comps = fill(
            &def,
            &TemplateModel::Invoice.default_mapping(),
            |k| match k {
                "document.pdf" => Some(Value_::Media {
                    id: "m1".into(),
                    filename: Some("INV-42.pdf".into()),
                }),
                k => Some(Value_::Text(format!("<{k}>"))),
            },
        )
        .unwrap();
        let v = serde_json::to_value(&comps).unwrap();
        assert_eq!(v[0]["type"], "header");
        assert_eq!(v[0]["parameters"][0]["document"]["id"], "m1");
        assert_eq!(
            v[1]["parameters"][0],
            json!({"type":"text","parameter_name":"customer_name","text":"<contact.name>"})
        );
        let missing = fill(&def, &TemplateModel::Invoice.default_mapping(), |_| None).unwrap_err();
        assert!(matches!(missing, TemplatesError::NoValue { .. }));
    }
}
