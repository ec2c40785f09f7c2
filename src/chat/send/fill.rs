//! A template as it goes to one customer: every variable with the value it gets (from the record
//! by the template's mapping, or typed by the sender for this send), the body as the customer will
//! read it, and what is still missing, in plain words. Chat's template picker and "Send on
//! WhatsApp" show it before anything is sent; sending uses the same values.
//!
//! And the guard against sending the same message twice by accident (a double click): the same
//! template with the same values to the same customer within [`REPEAT_WINDOW_MS`] is refused
//! unless the sender confirms.

use super::*;
use crate::meta::templates::{Variable, VariableKind};
use crate::templates::Source;

/// How long after a template went to a customer the same one again asks for a confirmation.
pub const REPEAT_WINDOW_MS: i64 = 2 * 60 * 1000;

/// One variable of a template, for one send.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct FillValue {
    /// The variable's id: `body:1`, `header:1`, `button0:1`. The key of [`SendTemplate::values`].
    pub id: String,
    /// Where it is, as the sender reads it: "{{1}} in the body".
    pub place: String,
    /// What fills it by the template's mapping ("Contact name"); null when it has no mapping.
    pub field: Option<String>,
    /// The value that goes out; null when there is none (see [`TemplateFill::missing`]).
    pub value: Option<String>,
    /// Typed by the sender for this send.
    pub typed: bool,
    /// A file (the document's PDF): filled by the app, never typed.
    pub file: bool,
}

/// A template for one customer, before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct TemplateFill {
    pub template_id: i64,
    pub name: String,
    pub language: String,
    /// The body as the customer will read it; a value still missing shows as its `{{…}}`.
    pub body: String,
    pub values: Vec<FillValue>,
    /// What must still be given before it can be sent, in plain words; empty when it can go.
    pub missing: Vec<String>,
}

/// A template's definition, mapping and values for one send, ready to be filled.
pub(super) struct Prepared {
    pub def: TemplateDef,
    pub bindings: Vec<Binding>,
    pub texts: BTreeMap<String, String>,
    pub pdf: Option<(PathBuf, String)>,
    pub fill: TemplateFill,
}

pub(super) fn variable_id(v: &Variable) -> String {
    match v.place {
        VariablePlace::Header => format!("header:{}", v.key),
        VariablePlace::Body => format!("body:{}", v.key),
        VariablePlace::Button { index } => format!("button{index}:{}", v.key),
    }
}

fn place_of(v: &Variable) -> String {
    match v.place {
        VariablePlace::Header if v.kind != VariableKind::Text => "the header's file".to_owned(),
        VariablePlace::Header => format!("{{{{{}}}}} in the header", v.key),
        VariablePlace::Body => format!("{{{{{}}}}} in the body", v.key),
        VariablePlace::Button { index } => format!("{{{{{}}}}} in button {}", v.key, index + 1),
    }
}

impl Ctx<'_> {
    /// The merge values and document fields of one send, each template variable's value (typed
    /// ones first), and what is missing. Nothing is stored.
    pub(super) async fn prepare_template(
        &self,
        target: MergeTarget<'_>,
        sender_name: &str,
        input: &SendTemplate,
    ) -> Result<Prepared> {
        let t = self.template_for_send(input.template_id).await?;
        let def: TemplateDef = serde_json::from_value(t.definition.clone())
            .map_err(|e| ChatError::Corrupt(e.to_string()))?;
        let mut texts = BTreeMap::new();
        let mut pdf = None;
        for (k, v) in self.merge_values(target, sender_name).await? {
            texts.insert(k, v);
        }
        let mut document = None;
        if let Some(doc_id) = input.document_id {
            let doc = self.document(doc_id).await?;
            texts.insert("document.number".into(), doc.number.clone());
            texts.insert("document.date".into(), doc.date.clone());
            if let Some(due) = doc.due_date.as_ref().filter(|d| !d.is_empty()) {
                texts.insert("document.due_date".into(), due.clone());
            }
            texts.insert(
                "document.total".into(),
                format!(
                    "{} {}",
                    crate::documents::currency::format(doc.total, doc.currency_digits),
                    doc.currency
                ),
            );
            texts.insert("document.currency".into(), doc.currency.clone());
            let path = self.document_pdf(doc_id).await?;
            pdf = Some((path, format!("{}.pdf", doc.number)));
            document = Some(format!("{} {}", doc.kind.label(), doc.number));
        }

        let labels: BTreeMap<String, String> = crate::templates::merge_fields()
            .into_iter()
            .map(|f| (f.key, f.label))
            .collect();
        let who = if target.profile_name.is_empty() {
            target.phone.to_owned()
        } else {
            target.profile_name.to_owned()
        };
        let typed = input.values.clone().unwrap_or_default();
        let mut bindings = Vec::new();
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for v in def.variables() {
            let id = variable_id(&v);
            let place = place_of(&v);
            let stored = t.mapping.iter().find(|b| b.variable == v);
            let file = v.kind != VariableKind::Text;
            let own = (!file)
                .then(|| typed.get(&id).map(|s| s.trim()).filter(|s| !s.is_empty()))
                .flatten();
            let (field, value) = match stored.map(|b| &b.source) {
                Some(Source::Field { key }) => (
                    Some(labels.get(key).cloned().unwrap_or_else(|| key.clone())),
                    if key == "document.pdf" {
                        pdf.as_ref().map(|(_, name)| name.clone())
                    } else {
                        texts.get(key).cloned()
                    },
                ),
                Some(Source::Text { value }) => {
                    (Some("Fixed text".to_owned()), Some(value.clone()))
                }
                None => (None, None),
            };
            if let Some(own) = own {
                bindings.push(Binding {
                    variable: v.clone(),
                    source: Source::Text {
                        value: own.to_owned(),
                    },
                });
            } else if let Some(b) = stored {
                bindings.push(b.clone());
            }
            if own.is_none() && value.is_none() {
                missing.push(match (&field, file) {
                    (Some(_), true) if document.is_none() => format!(
                        "{place} is a document's PDF: send it with “Send on WhatsApp” from the document"
                    ),
                    (_, true) => format!("{place} has no mapping: map it on the Templates screen"),
                    (None, _) => format!(
                        "{place} has no mapping: type a value for this send, or map it on the Templates screen"
                    ),
                    (Some(label), _) => match &document {
                        Some(doc) if stored.is_some_and(|b| matches!(&b.source, Source::Field { key } if key.starts_with("document."))) => {
                            format!("{place} needs the {}, and {doc} has none: type it for this send, or add it to the document", label.to_lowercase())
                        }
                        _ => format!("{place} needs the {}, and {who} has none: type it for this send, or add it to their record", label.to_lowercase()),
                    },
                });
            }
            values.push(FillValue {
                id,
                place,
                field,
                value: own.map(str::to_owned).or(value),
                typed: own.is_some(),
                file,
            });
        }
        let mut body = def
            .components
            .iter()
            .find_map(|c| match c {
                ComponentDef::Body { text, .. } => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for (v, fv) in def.variables().iter().zip(&values) {
            if v.place == VariablePlace::Body
                && let Some(value) = &fv.value
            {
                body = body.replace(&format!("{{{{{}}}}}", v.key), value);
            }
        }
        Ok(Prepared {
            def,
            bindings,
            texts,
            pdf,
            fill: TemplateFill {
                template_id: t.id,
                name: t.name,
                language: t.language,
                body,
                values,
                missing,
            },
        })
    }

    /// When the same template message went to this conversation within [`REPEAT_WINDOW_MS`]:
    /// how many milliseconds ago. A double click, or a second person sending the same invoice.
    pub(super) async fn sent_moments_ago(
        &self,
        conversation_id: i64,
        content: &MessageContent,
    ) -> Result<Option<i64>> {
        let MessageContent::Template {
            name,
            language,
            body,
            header_document,
        } = content
        else {
            return Ok(None);
        };
        let now = self.now_ms();
        let since = now - REPEAT_WINDOW_MS;
        let recent = sqlx::query!(
            r#"SELECT content, sent_at FROM chat_messages
               WHERE conversation_id = ? AND direction = 'out' AND kind = 'template'
                 AND local_status != 'refused' AND sent_at >= ?
               ORDER BY id DESC LIMIT 20"#,
            conversation_id,
            since
        )
        .fetch_all(self.db())
        .await?;
        let file = |h: &Option<MediaRef>| h.as_ref().and_then(|m| m.filename.clone());
        for r in recent {
            let Ok(MessageContent::Template {
                name: n,
                language: l,
                body: b,
                header_document: h,
            }) = serde_json::from_str::<MessageContent>(&r.content)
            else {
                continue;
            };
            if &n == name && &l == language && &b == body && file(&h) == file(header_document) {
                return Ok(Some((now - r.sent_at).max(0)));
            }
        }
        Ok(None)
    }
}
