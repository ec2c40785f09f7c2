//! Message templates as Meta defines them (`/{waba-id}/message_templates`): their shape, Meta's
//! rules checked before submitting (each problem named by field), and the variables a template
//! needs filled in at send time.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(export)]
pub enum ParameterFormat {
    /// `{{1}}`, `{{2}}`…: order decides.
    #[default]
    Positional,
    /// `{{customer_name}}`: each parameter carries its name.
    Named,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(export)]
pub enum Category {
    Marketing,
    Utility,
    Authentication,
}

/// A template as Meta returns it (and as we submit it, without `id` and `status`). Unknown
/// fields are kept in `extra` so nothing Meta sends is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub language: String,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED… as Meta gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<ParameterFormat>,
    #[serde(default)]
    pub components: Vec<ComponentDef>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComponentDef {
    Header {
        /// TEXT, IMAGE, VIDEO, GIF, DOCUMENT, LOCATION, PRODUCT
        format: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<Value>,
    },
    Body {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<Value>,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    },
    Footer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    },
    Buttons {
        buttons: Vec<ButtonDef>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ButtonDef {
    /// QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW…
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// Where a variable sits in a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "part", rename_all = "snake_case")]
#[ts(export)]
pub enum VariablePlace {
    Header,
    Body,
    /// A URL button's dynamic suffix; `index` is the button's position.
    Button {
        index: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VariableKind {
    Text,
    /// A media header (IMAGE, VIDEO, DOCUMENT): filled with a file, e.g. the document's PDF.
    Image,
    Video,
    Document,
    Location,
}

/// One thing a template needs at send time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Variable {
    pub place: VariablePlace,
    pub kind: VariableKind,
    /// "1", "2"… for positional templates; the name for named ones; the format for media headers.
    pub key: String,
}

/// Finds `{{…}}` placeholders in `text`, in order of appearance, without repeats.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let key = after[..end].trim().to_owned();
        if !key.is_empty() && !out.contains(&key) {
            out.push(key);
        }
        rest = &after[end + 2..];
    }
    out
}

impl TemplateDef {
    pub fn format(&self) -> ParameterFormat {
        self.parameter_format.unwrap_or_default()
    }

    /// Everything this template needs filled in to be sent, header first, then body, then buttons.
    pub fn variables(&self) -> Vec<Variable> {
        let mut vars = Vec::new();
        let mut button_index = 0u32;
        for c in &self.components {
            match c {
                ComponentDef::Header { format, text, .. } => match format.as_str() {
                    "TEXT" => vars.extend(
                        text.as_deref()
                            .map(placeholders)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|key| Variable {
                                place: VariablePlace::Header,
                                kind: VariableKind::Text,
                                key,
                            }),
                    ),
                    f => {
                        let kind = match f {
                            "IMAGE" | "GIF" => Some(VariableKind::Image),
                            "VIDEO" => Some(VariableKind::Video),
                            "DOCUMENT" => Some(VariableKind::Document),
                            "LOCATION" => Some(VariableKind::Location),
                            _ => None,
                        };
                        if let Some(kind) = kind {
                            vars.push(Variable {
                                place: VariablePlace::Header,
                                kind,
                                key: f.to_ascii_lowercase(),
                            });
                        }
                    }
                },
                ComponentDef::Body { text, .. } => {
                    vars.extend(placeholders(text).into_iter().map(|key| Variable {
                        place: VariablePlace::Body,
                        kind: VariableKind::Text,
                        key,
                    }))
                }
                ComponentDef::Footer { .. } => {}
                ComponentDef::Buttons { buttons } => {
                    for b in buttons {
                        if b.kind == "URL" {
                            for key in b.url.as_deref().map(placeholders).unwrap_or_default() {
                                vars.push(Variable {
                                    place: VariablePlace::Button {
                                        index: button_index,
                                    },
                                    kind: VariableKind::Text,
                                    key,
                                });
                            }
                        }
                        button_index += 1;
                    }
                }
            }
        }
        vars
    }
}

// ---- Meta's rules, checked before submitting --------------------------------------------------

/// A problem with one field of a template, as the form shows it next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldProblem {
    /// `name`, `language`, `header.text`, `body.text`, `footer.text`, `buttons[1].text`…
    pub field: String,
    pub message: String,
}

pub mod rules {
    pub const NAME: usize = 512;
    pub const HEADER_TEXT: usize = 60;
    pub const BODY_TEXT: usize = 1024;
    pub const FOOTER_TEXT: usize = 60;
    pub const BUTTONS: usize = 10;
    pub const URL_BUTTONS: usize = 2;
    pub const PHONE_BUTTONS: usize = 1;
    pub const COPY_CODE_BUTTONS: usize = 1;
    pub const BUTTON_TEXT: usize = 25;
    pub const URL: usize = 2000;
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn is_named_key(k: &str) -> bool {
    !k.is_empty()
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_placeholders(
    field: &str,
    keys: &[String],
    format: ParameterFormat,
    out: &mut Vec<FieldProblem>,
) {
    match format {
        ParameterFormat::Positional => {
            for (i, k) in keys.iter().enumerate() {
                if k.parse::<usize>().ok() != Some(i + 1) {
                    out.push(problem(
                        field,
                        format!("positional variables must be {{{{1}}}}, {{{{2}}}}… in order; found {{{{{k}}}}} where {{{{{}}}}} was expected", i + 1),
                    ));
                    return;
                }
            }
        }
        ParameterFormat::Named => {
            if let Some(k) = keys.iter().find(|k| !is_named_key(k)) {
                out.push(problem(
                    field,
                    format!("named variables are lowercase letters, digits and underscores, starting with a letter; {{{{{k}}}}} is not"),
                ));
            }
        }
    }
}

fn example_count(example: Option<&Value>, positional_key: &str, named_key: &str) -> Option<usize> {
    let e = example?;
    if let Some(rows) = e.get(positional_key).and_then(Value::as_array) {
        // body_text is [[...]]; header_text is [...]
        return Some(match rows.first() {
            Some(Value::Array(inner)) => inner.len(),
            _ => rows.len(),
        });
    }
    e.get(named_key).and_then(Value::as_array).map(Vec::len)
}

impl TemplateDef {
    /// Meta's rules for a new or edited template; every problem found, by field.
    pub fn check(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        let format = self.format();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= rules::NAME
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            out.push(problem(
                "name",
                "use lowercase letters, digits and underscores only (up to 512), e.g. invoice_ready",
            ));
        }
        let lang_ok = {
            let l = self.language.as_str();
            (2..=6).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
        };
        if !lang_ok {
            out.push(problem(
                "language",
                "a language code such as en, en_US or pt_BR",
            ));
        }
        if !matches!(
            self.category.as_str(),
            "MARKETING" | "UTILITY" | "AUTHENTICATION"
        ) {
            out.push(problem("category", "MARKETING, UTILITY or AUTHENTICATION"));
        }
        let (mut headers, mut bodies, mut footers, mut button_groups) = (0, 0, 0, 0);
        for c in &self.components {
            match c {
                ComponentDef::Header {
                    format: f,
                    text,
                    example,
                } => {
                    headers += 1;
                    if !matches!(
                        f.as_str(),
                        "TEXT" | "IMAGE" | "VIDEO" | "GIF" | "DOCUMENT" | "LOCATION" | "PRODUCT"
                    ) {
                        out.push(problem(
                            "header.format",
                            format!("“{f}” is not a header format"),
                        ));
                    }
                    if f == "TEXT" {
                        let t = text.as_deref().unwrap_or("");
                        if t.trim().is_empty() {
                            out.push(problem("header.text", "a text header needs its text"));
                        } else if t.chars().count() > rules::HEADER_TEXT {
                            out.push(problem(
                                "header.text",
                                format!("at most {} characters", rules::HEADER_TEXT),
                            ));
                        }
                        let keys = placeholders(t);
                        if keys.len() > 1 {
                            out.push(problem(
                                "header.text",
                                "a header may hold one variable at most",
                            ));
                        }
                        check_placeholders("header.text", &keys, format, &mut out);
                        if !keys.is_empty()
                            && example_count(
                                example.as_ref(),
                                "header_text",
                                "header_text_named_params",
                            ) != Some(keys.len())
                        {
                            out.push(problem(
                                "header.example",
                                "give an example value for the header's variable",
                            ));
                        }
                    } else if matches!(f.as_str(), "IMAGE" | "VIDEO" | "GIF" | "DOCUMENT")
                        && example
                            .as_ref()
                            .and_then(|e| e.get("header_handle"))
                            .is_none()
                    {
                        out.push(problem(
                            "header.example",
                            format!("a {f} header needs an example file (header_handle)"),
                        ));
                    }
                }
                ComponentDef::Body { text, example, .. } => {
                    bodies += 1;
                    let n = text.chars().count();
                    if text.trim().is_empty() {
                        out.push(problem("body.text", "the body text is required"));
                    } else if n > rules::BODY_TEXT {
                        out.push(problem(
                            "body.text",
                            format!("at most {} characters (it has {n})", rules::BODY_TEXT),
                        ));
                    }
                    let keys = placeholders(text);
                    check_placeholders("body.text", &keys, format, &mut out);
                    // Punctuation does not count as words: "…on {{1}}." still ends with a variable.
                    let edge = |c: char| c.is_whitespace() || ".,;:!?¡¿()\"'-–—…".contains(c);
                    let t = text.trim_matches(edge);
                    if !keys.is_empty() && (t.starts_with("{{") || t.ends_with("}}")) {
                        out.push(problem(
                            "body.text",
                            "a variable may not stand at the very start or end of the text",
                        ));
                    }
                    if !keys.is_empty()
                        && example_count(example.as_ref(), "body_text", "body_text_named_params")
                            != Some(keys.len())
                    {
                        out.push(problem(
                            "body.example",
                            format!(
                                "give one example value for each of the body's {} variable(s)",
                                keys.len()
                            ),
                        ));
                    }
                }
                ComponentDef::Footer { text, .. } => {
                    footers += 1;
                    if let Some(t) = text
                        && t.chars().count() > rules::FOOTER_TEXT
                    {
                        out.push(problem(
                            "footer.text",
                            format!("at most {} characters", rules::FOOTER_TEXT),
                        ));
                    }
                }
                ComponentDef::Buttons { buttons } => {
                    button_groups += 1;
                    check_buttons(buttons, &mut out);
                }
            }
        }
        if headers > 1 {
            out.push(problem("header", "a template has one header at most"));
        }
        if bodies != 1 {
            out.push(problem("body", "a template has exactly one body"));
        }
        if footers > 1 {
            out.push(problem("footer", "a template has one footer at most"));
        }
        if button_groups > 1 {
            out.push(problem(
                "buttons",
                "put every button in one BUTTONS component",
            ));
        }
        out
    }
}

fn check_buttons(buttons: &[ButtonDef], out: &mut Vec<FieldProblem>) {
    if buttons.is_empty() || buttons.len() > rules::BUTTONS {
        out.push(problem(
            "buttons",
            format!("1 to {} buttons", rules::BUTTONS),
        ));
    }
    let count = |k: &str| buttons.iter().filter(|b| b.kind == k).count();
    if count("URL") > rules::URL_BUTTONS {
        out.push(problem(
            "buttons",
            format!("at most {} URL buttons", rules::URL_BUTTONS),
        ));
    }
    if count("PHONE_NUMBER") > rules::PHONE_BUTTONS {
        out.push(problem("buttons", "at most one phone-number button"));
    }
    if count("COPY_CODE") > rules::COPY_CODE_BUTTONS {
        out.push(problem("buttons", "at most one copy-code button"));
    }
    for (i, b) in buttons.iter().enumerate() {
        let f = |s: &str| format!("buttons[{i}].{s}");
        if b.kind != "COPY_CODE" {
            match b.text.as_deref() {
                None | Some("") => out.push(problem(f("text"), "a button needs a label")),
                Some(t) if t.chars().count() > rules::BUTTON_TEXT => out.push(problem(
                    f("text"),
                    format!("at most {} characters", rules::BUTTON_TEXT),
                )),
                _ => {}
            }
        }
        match b.kind.as_str() {
            "URL" => {
                let url = b.url.as_deref().unwrap_or("");
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.len() > rules::URL
                {
                    out.push(problem(
                        f("url"),
                        "a web address starting with https:// (up to 2000 characters)",
                    ));
                }
                let keys = placeholders(url);
                if keys.len() > 1
                    || keys
                        .first()
                        .is_some_and(|k| !url.trim_end().ends_with(&format!("{{{{{k}}}}}")))
                {
                    out.push(problem(f("url"), "a URL may have one variable, at its end"));
                }
                if !keys.is_empty() && b.example.is_none() {
                    out.push(problem(
                        f("example"),
                        "give an example for the URL's variable",
                    ));
                }
            }
            "PHONE_NUMBER" => {
                let p = b.phone_number.as_deref().unwrap_or("");
                if p.trim_start_matches('+').is_empty()
                    || !p
                        .trim_start_matches('+')
                        .chars()
                        .all(|c| c.is_ascii_digit())
                {
                    out.push(problem(
                        f("phone_number"),
                        "a phone number in international format, digits only",
                    ));
                }
            }
            "QUICK_REPLY" | "COPY_CODE" | "OTP" | "FLOW" | "CATALOG" | "MPM" | "SPM"
            | "VOICE_CALL" | "APP" => {}
            other => out.push(problem(
                f("type"),
                format!("“{other}” is not a button type"),
            )),
        }
    }
}

/// A page of a Graph API list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub cursors: Option<Cursors>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub previous: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

impl<T> Page<T> {
    /// The cursor of the next page, when there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        let p = self.paging.as_ref()?;
        p.next.as_ref()?;
        p.cursors.as_ref()?.after.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    pub status: String,
    pub category: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: Value) -> TemplateDef {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parses_meta_templates_and_finds_their_variables() {
        let t = def(json!({
            "name":"seasonal_promotion","language":"en_US","category":"MARKETING","status":"APPROVED","id":"1",
            "components":[
              {"type":"HEADER","format":"TEXT","text":"Our {{1}} is on!","example":{"header_text":["Summer Sale"]}},
              {"type":"BODY","text":"Shop through {{1}} with code {{2}} now","example":{"body_text":[["August","25OFF"]]}},
              {"type":"FOOTER","text":"Reply STOP to opt out"},
              {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Unsubscribe"},
                 {"type":"URL","text":"Shop","url":"https://x.com/shop?promo={{1}}","example":["summer2023"]}]}],
            "quality_score":{"score":"GREEN"}
        }));
        assert!(t.check().is_empty(), "{:?}", t.check());
        let keys: Vec<(VariablePlace, String)> = t
            .variables()
            .into_iter()
            .map(|v| (v.place, v.key))
            .collect();
        assert_eq!(
            keys,
            vec![
                (VariablePlace::Header, "1".into()),
                (VariablePlace::Body, "1".into()),
                (VariablePlace::Body, "2".into()),
                (VariablePlace::Button { index: 1 }, "1".into()),
            ]
        );
        assert!(
            t.extra.contains_key("quality_score"),
            "unknown fields are kept"
        );
    }

    #[test]
    fn named_templates_and_media_headers() {
        let t = def(json!({
            "name":"invoice_ready","language":"en","category":"UTILITY","parameter_format":"NAMED",
            "components":[
              {"type":"HEADER","format":"DOCUMENT","example":{"header_handle":["4::aW1"]}},
              {"type":"BODY","text":"Hi {{customer_name}}, invoice {{invoice_number}} is ready.",
               "example":{"body_text_named_params":[{"param_name":"customer_name","example":"Jessica"},
                                                    {"param_name":"invoice_number","example":"INV-1"}]}}]
        }));
        assert!(t.check().is_empty(), "{:?}", t.check());
        let v = t.variables();
        assert_eq!(v[0].kind, VariableKind::Document);
        assert_eq!(v[1].key, "customer_name");
        assert_eq!(v[2].key, "invoice_number");
    }

    #[test]
    fn meta_rules_are_reported_by_field() {
        let t = def(json!({
            "name":"Bad Name","language":"english!","category":"PROMO",
            "components":[
              {"type":"BODY","text":"{{1}} then {{3}}","example":{"body_text":[["a"]]}},
              {"type":"FOOTER","text": "f".repeat(61)},
              {"type":"BUTTONS","buttons":[{"type":"URL","text":"A label that is far too long for Meta","url":"ftp://x/{{1}}"},
                                           {"type":"PHONE_NUMBER","text":"Call","phone_number":"call me"}]}]
        }));
        let fields: Vec<String> = t.check().into_iter().map(|p| p.field).collect();
        for f in [
            "name",
            "language",
            "category",
            "body.text",
            "body.example",
            "footer.text",
            "buttons[0].text",
            "buttons[0].url",
            "buttons[0].example",
            "buttons[1].phone_number",
        ] {
            assert!(
                fields.contains(&f.to_string()),
                "{f} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn a_variable_followed_only_by_punctuation_still_ends_the_body() {
        let t = def(
            json!({"name":"x","language":"en","category":"UTILITY","components":[
            {"type":"BODY","text":"It is due on {{1}}.","example":{"body_text":[["May 1"]]}}]}),
        );
        assert!(
            t.check()
                .iter()
                .any(|p| p.field == "body.text" && p.message.contains("start or end"))
        );
    }

    #[test]
    fn paging_cursor_only_when_there_is_a_next_page() {
        let p: Page<Value> = serde_json::from_value(
            json!({"data":[],"paging":{"cursors":{"before":"a","after":"b"}}}),
        )
        .unwrap();
        assert_eq!(p.next_cursor(), None);
        let p: Page<Value> = serde_json::from_value(
            json!({"data":[],"paging":{"cursors":{"before":"a","after":"b"},"next":"https://graph/next"}}),
        )
        .unwrap();
        assert_eq!(p.next_cursor(), Some("b"));
    }
}
