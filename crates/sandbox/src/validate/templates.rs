//! Message templates: what a valid create/edit payload is (names, languages, categories,
//! components, variables and their examples, buttons), the shape the sandbox keeps of a template
//! ([`TemplateSpec`]), and whether a template send matches it ([`check_send`]).
//!
//! Template-management refusals are Graph error 100 with Meta's `error_user_title`, plus an
//! `error_subcode` where Meta uses a known one: 2388040 (field too long), 2388047 (header or body
//! format, including variables), 2388073 (footer format), 2388299 (a variable at the start or end
//! of the body), 2388024 (name and language already exist), 2388019 (too many templates).

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value, json};

use super::messages::{Part, TemplateCall};
use super::{Problem, get, is_http_url, join, obj, opt_str, req_array, req_str};
use crate::error::Refusal;

pub const SUB_TOO_LONG: i64 = 2388040;
pub const SUB_FORMAT: i64 = 2388047;
pub const SUB_FOOTER: i64 = 2388073;
pub const SUB_DANGLING: i64 = 2388299;
pub const SUB_EXISTS: i64 = 2388024;
pub const SUB_TOO_MANY: i64 = 2388019;

pub const CATEGORIES: &[&str] = &["MARKETING", "UTILITY", "AUTHENTICATION"];

/// Languages Meta accepts for templates.
pub const LANGUAGES: &[&str] = &[
    "af", "sq", "ar", "ar_EG", "ar_AE", "ar_LB", "ar_MA", "ar_QA", "az", "be_BY", "bn", "bn_IN",
    "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "prs_AF", "nl", "nl_BE", "en",
    "en_GB", "en_US", "en_AE", "en_AU", "en_CA", "en_GH", "en_IE", "en_IN", "en_JM", "en_MY",
    "en_NZ", "en_QA", "en_SG", "en_UG", "en_ZA", "et", "fil", "fi", "fr", "fr_BE", "fr_CA",
    "fr_CH", "fr_CI", "fr_MA", "ka", "de", "de_AT", "de_CH", "el", "gu", "ha", "he", "hi", "hu",
    "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk", "ms", "ml",
    "mr", "nb", "ps_AF", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "si_LK", "sk", "sl",
    "es", "es_AR", "es_CL", "es_CO", "es_CR", "es_DO", "es_EC", "es_HN", "es_MX", "es_PA", "es_PE",
    "es_ES", "es_UY", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu",
];

/// How a template names its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamFormat {
    /// `{{1}}`, `{{2}}`…: parameters are matched by order.
    Positional,
    /// `{{customer_name}}`: parameters carry `parameter_name`.
    Named,
}

impl ParamFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamFormat::Positional => "POSITIONAL",
            ParamFormat::Named => "NAMED",
        }
    }
}

/// What the sandbox keeps of a template to check sends against it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    pub format: ParamFormat,
    pub header: Option<HeaderSpec>,
    pub body_text: String,
    /// Variable names in order (`"1"`, `"2"` for positional templates).
    pub body_vars: Vec<String>,
    pub buttons: Vec<ButtonSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeaderSpec {
    /// TEXT, IMAGE, VIDEO, GIF, DOCUMENT, LOCATION or PRODUCT.
    pub format: String,
    pub vars: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ButtonSpec {
    /// QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, …
    pub kind: String,
    pub text: String,
    /// Whether the URL ends in a variable that the send must fill.
    pub url_var: bool,
}

/// A validated create payload.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub language: String,
    pub category: String,
    pub components: Value,
    pub spec: TemplateSpec,
}

fn refuse(subcode: Option<i64>, title: &str, details: impl Into<String>) -> Refusal {
    Refusal::template(subcode, title, details)
}

fn structure(p: Problem) -> Refusal {
    match p {
        Problem::Missing(path) => refuse(None, "Missing parameter", format!("{path} is required")),
        Problem::Invalid(d) => refuse(None, "Invalid parameter", d),
    }
}

fn too_long(s: &str, max: usize, path: &str) -> Result<(), Refusal> {
    let n = s.chars().count();
    if n > max {
        Err(refuse(
            Some(SUB_TOO_LONG),
            "Field is too long",
            format!("{path} is {n} characters long; at most {max} are allowed"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a `POST /{waba}/message_templates` body.
pub fn validate_create(body: &Value) -> Result<NewTemplate, Refusal> {
    let m = body
        .as_object()
        .ok_or_else(|| Refusal::param("the request body must be a JSON object"))?;
    let name = match get(m, "name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => n,
        _ => return Err(Refusal::param_required("name")),
    };
    check_name(name)?;
    let language = match get(m, "language").and_then(Value::as_str) {
        Some(l) if !l.is_empty() => l,
        _ => return Err(Refusal::param_required("language")),
    };
    check_language(language)?;
    let category = match get(m, "category").and_then(Value::as_str) {
        Some(c) if !c.is_empty() => c.to_ascii_uppercase(),
        _ => return Err(Refusal::param_required("category")),
    };
    check_category(&category)?;
    let format = parameter_format(m)?;
    let components = get(m, "components").ok_or_else(|| Refusal::param_required("components"))?;
    let (components, spec) = parse_components(components, &category, format)?;
    Ok(NewTemplate {
        name: name.to_owned(),
        language: language.to_owned(),
        category,
        components,
        spec,
    })
}

/// An edit: new category and/or components for a template named `name` in `language`.
pub struct Edit {
    pub category: String,
    pub components: Value,
    pub spec: TemplateSpec,
}

/// Checks a `POST /{template-id}` body against the template it edits.
pub fn validate_edit(
    body: &Value,
    name: &str,
    language: &str,
    category: &str,
    components: &Value,
    format: ParamFormat,
) -> Result<Edit, Refusal> {
    let m = body
        .as_object()
        .ok_or_else(|| Refusal::param("the request body must be a JSON object"))?;
    if let Some(n) = get(m, "name").and_then(Value::as_str)
        && n != name
    {
        return Err(refuse(
            None,
            "Template name can't be changed",
            format!("a template's name can't be edited (it is {name:?}, got {n:?})"),
        ));
    }
    if let Some(l) = get(m, "language").and_then(Value::as_str)
        && l != language
    {
        return Err(refuse(
            None,
            "Template language can't be changed",
            format!("a template's language can't be edited (it is {language:?}, got {l:?})"),
        ));
    }
    let new_category = match get(m, "category").and_then(Value::as_str) {
        Some(c) => {
            let c = c.to_ascii_uppercase();
            check_category(&c)?;
            c
        }
        None => category.to_owned(),
    };
    let format = if get(m, "parameter_format").is_some() {
        parameter_format(m)?
    } else {
        format
    };
    let new_components = get(m, "components");
    if new_components.is_none() && get(m, "category").is_none() {
        return Err(Refusal::param(
            "an edit needs components or category".to_owned(),
        ));
    }
    let (components, spec) =
        parse_components(new_components.unwrap_or(components), &new_category, format)?;
    Ok(Edit {
        category: new_category,
        components,
        spec,
    })
}

fn check_name(name: &str) -> Result<(), Refusal> {
    too_long(name, 512, "name")?;
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(refuse(
            None,
            "Invalid template name",
            format!("name {name:?} may contain only lowercase letters, digits and underscores"),
        ));
    }
    Ok(())
}

fn check_language(language: &str) -> Result<(), Refusal> {
    if LANGUAGES.contains(&language) {
        Ok(())
    } else {
        Err(refuse(
            None,
            "Invalid language",
            format!(
                "language {language:?} is not a language templates can be created in (e.g. en_US, es, pt_BR)"
            ),
        ))
    }
}

fn check_category(category: &str) -> Result<(), Refusal> {
    if CATEGORIES.contains(&category) {
        Ok(())
    } else {
        Err(refuse(
            None,
            "Invalid category",
            format!("category {category:?} must be MARKETING, UTILITY or AUTHENTICATION"),
        ))
    }
}

fn parameter_format(m: &Map<String, Value>) -> Result<ParamFormat, Refusal> {
    match get(m, "parameter_format")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
    {
        None => match get(m, "parameter_format") {
            None => Ok(ParamFormat::Positional),
            Some(_) => Err(Refusal::param(
                "parameter_format must be POSITIONAL or NAMED",
            )),
        },
        Some(f) if f == "POSITIONAL" => Ok(ParamFormat::Positional),
        Some(f) if f == "NAMED" => Ok(ParamFormat::Named),
        Some(f) => Err(Refusal::param(format!(
            "parameter_format must be POSITIONAL or NAMED, got {f:?}"
        ))),
    }
}

/// A variable found in template text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Var {
    Positional(u32),
    Named(String),
}

/// The variables of `text`, in order of appearance.
fn variables(text: &str, path: &str) -> Result<Vec<Var>, Refusal> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            refuse(
                Some(SUB_FORMAT),
                "Invalid variable",
                format!("{path} has a \"{{{{\" that is never closed"),
            )
        })?;
        let inner = after[..end].trim();
        let var = if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
            match inner.parse::<u32>() {
                Ok(n) if n >= 1 => Var::Positional(n),
                _ => {
                    return Err(refuse(
                        Some(SUB_FORMAT),
                        "Invalid variable",
                        format!(
                            "{path}: {{{{{inner}}}}} is not a valid variable; positional variables start at {{{{1}}}}"
                        ),
                    ));
                }
            }
        } else if inner.starts_with(|c: char| c.is_ascii_lowercase())
            && inner
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            Var::Named(inner.to_owned())
        } else {
            return Err(refuse(
                Some(SUB_FORMAT),
                "Invalid variable",
                format!(
                    "{path}: {{{{{inner}}}}} is not a valid variable; use {{{{1}}}}, {{{{2}}}}… or lowercase names like {{{{customer_name}}}}"
                ),
            ));
        };
        vars.push(var);
        rest = &after[end + 2..];
    }
    Ok(vars)
}

/// Checks the variables of one text against the template's parameter format and returns their
/// names in order of first appearance (`"1"`, `"2"`… or the names).
fn check_vars(vars: &[Var], format: ParamFormat, path: &str) -> Result<Vec<String>, Refusal> {
    match format {
        ParamFormat::Positional => {
            let mut nums = Vec::new();
            for v in vars {
                match v {
                    Var::Positional(n) => nums.push(*n),
                    Var::Named(name) => {
                        return Err(refuse(
                            Some(SUB_FORMAT),
                            "Parameter format mismatch",
                            format!(
                                "{path} uses the named variable {{{{{name}}}}} but parameter_format is POSITIONAL; use {{{{1}}}}, {{{{2}}}}… or set parameter_format to NAMED"
                            ),
                        ));
                    }
                }
            }
            let distinct: BTreeSet<u32> = nums.iter().copied().collect();
            let max = distinct.iter().next_back().copied().unwrap_or(0);
            if distinct.len() as u32 != max {
                let found: Vec<String> = distinct.iter().map(|n| format!("{{{{{n}}}}}")).collect();
                return Err(refuse(
                    Some(SUB_FORMAT),
                    "Variables must be sequential",
                    format!(
                        "{path}: positional variables must be sequential from {{{{1}}}}; found {}",
                        found.join(", ")
                    ),
                ));
            }
            Ok((1..=max).map(|n| n.to_string()).collect())
        }
        ParamFormat::Named => {
            let mut names: Vec<String> = Vec::new();
            for v in vars {
                match v {
                    Var::Named(n) => {
                        if !names.contains(n) {
                            names.push(n.clone());
                        }
                    }
                    Var::Positional(n) => {
                        return Err(refuse(
                            Some(SUB_FORMAT),
                            "Parameter format mismatch",
                            format!(
                                "{path} uses the positional variable {{{{{n}}}}} but parameter_format is NAMED; use lowercase names like {{{{customer_name}}}}"
                            ),
                        ));
                    }
                }
            }
            Ok(names)
        }
    }
}

/// Meta refuses a body that begins or ends with a variable, ignoring surrounding whitespace and
/// punctuation ("…is {{2}}." still ends with one).
fn dangling(text: &str) -> bool {
    let is_edge = |c: char| c.is_whitespace() || ".,;:!?¡¿()\"'-–—…".contains(c);
    let t = text.trim_matches(is_edge);
    t.starts_with("{{") || t.ends_with("}}")
}

/// Example values for `names`, from `example.<positional_key>` (array of arrays or array) or
/// `example.<named_key>` (array of `{param_name, example}`).
fn check_examples(
    component: &Map<String, Value>,
    names: &[String],
    format: ParamFormat,
    positional_key: &str,
    named_key: &str,
    path: &str,
) -> Result<(), Refusal> {
    if names.is_empty() {
        return Ok(());
    }
    let missing = |what: String| {
        refuse(
            None,
            "Variables need examples",
            format!("{path} has variables, so it needs sample values: {what}"),
        )
    };
    let example = get(component, "example").and_then(Value::as_object);
    match format {
        ParamFormat::Positional => {
            let values = example
                .and_then(|e| get(e, positional_key))
                .and_then(Value::as_array)
                .map(|a| match a.first() {
                    Some(Value::Array(inner)) => inner.len(),
                    _ => a.len(),
                })
                .unwrap_or(0);
            if values < names.len() {
                return Err(missing(format!(
                    "example.{positional_key} gives {values} of the {} values needed",
                    names.len()
                )));
            }
        }
        ParamFormat::Named => {
            let given: HashSet<&str> = example
                .and_then(|e| get(e, named_key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|p| p.get("example").is_some_and(|e| !e.is_null()))
                        .filter_map(|p| p.get("param_name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(absent) = names.iter().find(|n| !given.contains(n.as_str())) {
                return Err(missing(format!(
                    "example.{named_key} has no example for {{{{{absent}}}}}"
                )));
            }
        }
    }
    Ok(())
}

const HEADER_FORMATS: &[&str] = &[
    "TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION", "PRODUCT",
];
const BUTTON_TYPES: &[&str] = &[
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "COPY_CODE",
    "OTP",
    "FLOW",
    "MPM",
    "SPM",
    "CATALOG",
    "VOICE_CALL",
    "APP",
];

/// Checks a template's components and returns them normalised (upper-case types) with the spec.
pub fn parse_components(
    components: &Value,
    category: &str,
    format: ParamFormat,
) -> Result<(Value, TemplateSpec), Refusal> {
    let list = components
        .as_array()
        .ok_or_else(|| Refusal::param("components must be an array"))?;
    let auth = category == "AUTHENTICATION";
    let mut spec = TemplateSpec {
        format,
        header: None,
        body_text: String::new(),
        body_vars: Vec::new(),
        buttons: Vec::new(),
    };
    let (mut seen_body, mut seen_footer, mut seen_buttons) = (false, false, false);
    let mut normalised = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let path = format!("components[{i}]");
        let c = obj(c, &path).map_err(structure)?;
        let kind = req_str(c, "type", &path)
            .map_err(structure)?
            .to_ascii_uppercase();
        let mut out = c.clone();
        out.insert("type".into(), json!(kind));
        let once = |seen: bool, what: &str| {
            if seen {
                Err(refuse(
                    None,
                    "Invalid components",
                    format!("{path}: a template has at most one {what} component"),
                ))
            } else {
                Ok(())
            }
        };
        match kind.as_str() {
            "HEADER" => {
                once(spec.header.is_some(), "HEADER")?;
                let header_format = req_str(c, "format", &path)
                    .map_err(structure)?
                    .to_ascii_uppercase();
                if !HEADER_FORMATS.contains(&header_format.as_str()) {
                    return Err(refuse(
                        Some(SUB_FORMAT),
                        "Invalid header format",
                        format!(
                            "{path}.format {header_format:?} must be one of {}",
                            HEADER_FORMATS.join(", ")
                        ),
                    ));
                }
                out.insert("format".into(), json!(header_format));
                let mut vars = Vec::new();
                if header_format == "TEXT" {
                    let text = req_str(c, "text", &path).map_err(structure)?;
                    too_long(text, 60, &join(&path, "text"))?;
                    vars = check_vars(
                        &variables(text, &join(&path, "text"))?,
                        format,
                        &join(&path, "text"),
                    )?;
                    if vars.len() > 1 {
                        return Err(refuse(
                            Some(SUB_FORMAT),
                            "Too many header variables",
                            format!(
                                "{path}.text has {} variables; a header takes at most one",
                                vars.len()
                            ),
                        ));
                    }
                    check_examples(
                        c,
                        &vars,
                        format,
                        "header_text",
                        "header_text_named_params",
                        &join(&path, "text"),
                    )?;
                } else if matches!(
                    header_format.as_str(),
                    "IMAGE" | "VIDEO" | "GIF" | "DOCUMENT"
                ) {
                    let handle = get(c, "example")
                        .and_then(|e| e.get("header_handle"))
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(Value::as_str)
                        .filter(|h| !h.trim().is_empty());
                    if handle.is_none() {
                        return Err(refuse(
                            None,
                            "Header needs a sample",
                            format!(
                                "{path}: a {header_format} header needs example.header_handle (a Resumable Upload handle)"
                            ),
                        ));
                    }
                }
                spec.header = Some(HeaderSpec {
                    format: header_format,
                    vars,
                });
            }
            "BODY" => {
                once(seen_body, "BODY")?;
                seen_body = true;
                match opt_str(c, "text", &path).map_err(structure)? {
                    Some(text) if !text.trim().is_empty() => {
                        too_long(text, 1024, &join(&path, "text"))?;
                        let vars = check_vars(
                            &variables(text, &join(&path, "text"))?,
                            format,
                            &join(&path, "text"),
                        )?;
                        if !vars.is_empty() && dangling(text) {
                            return Err(refuse(
                                Some(SUB_DANGLING),
                                "Variables can't be at the start or end of the template",
                                format!(
                                    "{path}.text starts or ends with a variable; put some words before the first and after the last variable"
                                ),
                            ));
                        }
                        check_examples(
                            c,
                            &vars,
                            format,
                            "body_text",
                            "body_text_named_params",
                            &join(&path, "text"),
                        )?;
                        spec.body_text = text.to_owned();
                        spec.body_vars = vars;
                    }
                    _ if auth => {
                        // Authentication templates have fixed text: the code and, optionally,
                        // a security recommendation.
                        let security = get(c, "add_security_recommendation")
                            .and_then(Value::as_bool)
                            == Some(true);
                        let text = if security {
                            "{{1}} is your verification code. For your security, do not share this code."
                        } else {
                            "{{1}} is your verification code."
                        };
                        out.insert("text".into(), json!(text));
                        spec.body_text = text.to_owned();
                        spec.body_vars = vec!["1".to_owned()];
                    }
                    _ => return Err(structure(Problem::Missing(join(&path, "text")))),
                }
            }
            "FOOTER" => {
                once(seen_footer, "FOOTER")?;
                seen_footer = true;
                match opt_str(c, "text", &path).map_err(structure)? {
                    Some(text) => {
                        too_long(text, 60, &join(&path, "text"))?;
                        if text.contains("{{") {
                            return Err(refuse(
                                Some(SUB_FOOTER),
                                "Footer can't have variables",
                                format!("{path}.text contains a variable; footers are fixed text"),
                            ));
                        }
                    }
                    None if auth && get(c, "code_expiration_minutes").is_some() => {
                        let minutes = get(c, "code_expiration_minutes").and_then(Value::as_u64);
                        if !minutes.is_some_and(|m| (1..=90).contains(&m)) {
                            return Err(Refusal::param(format!(
                                "{path}.code_expiration_minutes must be 1 to 90"
                            )));
                        }
                    }
                    None => return Err(structure(Problem::Missing(join(&path, "text")))),
                }
            }
            "BUTTONS" => {
                once(seen_buttons, "BUTTONS")?;
                seen_buttons = true;
                let (buttons, normalised_buttons) = parse_buttons(c, &path, format, auth)?;
                out.insert("buttons".into(), Value::Array(normalised_buttons));
                spec.buttons = buttons;
            }
            other => {
                return Err(refuse(
                    None,
                    "Invalid component",
                    format!("{path}.type {other:?} must be HEADER, BODY, FOOTER or BUTTONS"),
                ));
            }
        }
        normalised.push(Value::Object(out));
    }
    if !seen_body {
        return Err(refuse(
            None,
            "Body is required",
            "components must include a BODY component",
        ));
    }
    if auth && !spec.buttons.iter().any(|b| b.kind == "OTP") {
        return Err(refuse(
            None,
            "OTP button required",
            "AUTHENTICATION templates need a BUTTONS component with an OTP button",
        ));
    }
    Ok((Value::Array(normalised), spec))
}

fn parse_buttons(
    c: &Map<String, Value>,
    path: &str,
    format: ParamFormat,
    auth: bool,
) -> Result<(Vec<ButtonSpec>, Vec<Value>), Refusal> {
    let list = req_array(c, "buttons", path).map_err(structure)?;
    if !(1..=10).contains(&list.len()) {
        return Err(refuse(
            None,
            "Invalid number of buttons",
            format!(
                "{path}.buttons has {} buttons; 1 to 10 are allowed",
                list.len()
            ),
        ));
    }
    let mut specs = Vec::new();
    let mut normalised = Vec::new();
    for (i, b) in list.iter().enumerate() {
        let bp = format!("{path}.buttons[{i}]");
        let b = obj(b, &bp).map_err(structure)?;
        let kind = req_str(b, "type", &bp)
            .map_err(structure)?
            .to_ascii_uppercase();
        if !BUTTON_TYPES.contains(&kind.as_str()) {
            return Err(refuse(
                None,
                "Invalid button type",
                format!(
                    "{bp}.type {kind:?} must be one of {}",
                    BUTTON_TYPES.join(", ")
                ),
            ));
        }
        if kind == "OTP" && !auth {
            return Err(refuse(
                None,
                "Invalid button type",
                format!("{bp}: OTP buttons belong to AUTHENTICATION templates only"),
            ));
        }
        let text = match kind.as_str() {
            "COPY_CODE" => opt_str(b, "text", &bp)
                .map_err(structure)?
                .unwrap_or("Copy offer code"),
            _ => req_str(b, "text", &bp).map_err(structure)?,
        };
        too_long(text, 25, &join(&bp, "text"))?;
        let mut url_var = false;
        match kind.as_str() {
            "URL" => {
                let url = req_str(b, "url", &bp).map_err(structure)?;
                too_long(url, 2000, &join(&bp, "url"))?;
                let vars = variables(url, &join(&bp, "url"))?;
                let base = url.split("{{").next().unwrap_or(url);
                if !is_http_url(base) {
                    return Err(Refusal::param(format!(
                        "{bp}.url {url:?} is not a valid http(s) URL"
                    )));
                }
                if !vars.is_empty() {
                    let at_end = url.trim_end().ends_with("}}");
                    let ok_var = match format {
                        ParamFormat::Positional => vars == [Var::Positional(1)],
                        ParamFormat::Named => vars.len() == 1,
                    };
                    if vars.len() > 1 || !at_end || !ok_var {
                        return Err(refuse(
                            Some(SUB_FORMAT),
                            "Invalid URL variable",
                            format!("{bp}.url may hold one variable, {{{{1}}}}, at its end"),
                        ));
                    }
                    let has_example = get(b, "example")
                        .map(|e| match e {
                            Value::Array(a) => a
                                .first()
                                .and_then(Value::as_str)
                                .is_some_and(|s| !s.is_empty()),
                            Value::String(s) => !s.is_empty(),
                            _ => false,
                        })
                        .unwrap_or(false);
                    if !has_example {
                        return Err(refuse(
                            None,
                            "Variables need examples",
                            format!(
                                "{bp}.url has a variable, so it needs example: [\"<a URL suffix>\"]"
                            ),
                        ));
                    }
                    url_var = true;
                }
            }
            "PHONE_NUMBER" => {
                let phone = req_str(b, "phone_number", &bp).map_err(structure)?;
                too_long(phone, 20, &join(&bp, "phone_number"))?;
            }
            "COPY_CODE" => {
                let example = get(b, "example").and_then(|e| match e {
                    Value::Array(a) => a.first().and_then(Value::as_str),
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                });
                match example {
                    None => return Err(structure(Problem::Missing(join(&bp, "example")))),
                    Some(e) => too_long(e, 15, &join(&bp, "example"))?,
                }
            }
            "OTP" => {
                let otp = req_str(b, "otp_type", &bp)
                    .map_err(structure)?
                    .to_ascii_uppercase();
                if !matches!(otp.as_str(), "COPY_CODE" | "ONE_TAP" | "ZERO_TAP") {
                    return Err(Refusal::param(format!(
                        "{bp}.otp_type {otp:?} must be COPY_CODE, ONE_TAP or ZERO_TAP"
                    )));
                }
            }
            "FLOW"
                if ["flow_id", "flow_name", "flow_json"]
                    .iter()
                    .all(|k| get(b, k).is_none()) =>
            {
                return Err(structure(Problem::Missing(format!(
                    "{bp}.flow_id, flow_name or flow_json"
                ))));
            }
            _ => {}
        }
        let mut out = b.clone();
        out.insert("type".into(), json!(kind));
        normalised.push(Value::Object(out));
        specs.push(ButtonSpec {
            kind,
            text: text.to_owned(),
            url_var,
        });
    }
    for (kind, max) in [("URL", 2), ("PHONE_NUMBER", 1), ("COPY_CODE", 1)] {
        let n = specs.iter().filter(|b| b.kind == kind).count();
        if n > max {
            return Err(refuse(
                None,
                "Too many buttons of one type",
                format!("{path}.buttons has {n} {kind} buttons; at most {max} are allowed"),
            ));
        }
    }
    Ok((specs, normalised))
}

/// Whether a send's `components` match the template: parameter counts (132000), named vs
/// positional and parameter types (132012), and the filled-in body's length (132005).
pub fn check_send(spec: &TemplateSpec, call: &TemplateCall) -> Result<(), Refusal> {
    let mismatch = |details: String| Refusal::new(132000, details);
    let format_err = |details: String| Refusal::new(132012, details);
    let mut header = None;
    let mut body = None;
    let mut buttons = Vec::new();
    for c in &call.components {
        match &c.part {
            Part::Header if header.is_none() => header = Some(c),
            Part::Body if body.is_none() => body = Some(c),
            Part::Header | Part::Body => {
                return Err(Refusal::invalid(format!(
                    "template.components has two {} components",
                    if c.part == Part::Header {
                        "header"
                    } else {
                        "body"
                    }
                )));
            }
            Part::Button { sub_type, index } => {
                if buttons.iter().any(|(i, _, _)| i == index) {
                    return Err(Refusal::invalid(format!(
                        "template.components has two button components for index {index}"
                    )));
                }
                buttons.push((*index, sub_type.as_str(), c));
            }
        }
    }

    // Header.
    let header_params = header.map(|h| h.params.as_slice()).unwrap_or_default();
    match &spec.header {
        None => {
            if !header_params.is_empty() {
                return Err(mismatch(format!(
                    "header: number of parameters ({}) does not match the expected number of params (0)",
                    header_params.len()
                )));
            }
        }
        Some(h) if h.format == "TEXT" => {
            check_text_params(header_params, &h.vars, spec.format, "header", &["text"])?;
        }
        Some(h) => {
            let expected = match h.format.as_str() {
                "GIF" => "video".to_owned(),
                f => f.to_ascii_lowercase(),
            };
            if header_params.len() != 1 {
                return Err(mismatch(format!(
                    "header: number of parameters ({}) does not match the expected number of params (1): the template has a {} header",
                    header_params.len(),
                    h.format
                )));
            }
            if header_params[0].kind != expected
                && !(h.format == "PRODUCT" && header_params[0].kind == "product")
            {
                return Err(format_err(format!(
                    "header: Format mismatch, expected {}, received {}",
                    h.format,
                    header_params[0].kind.to_ascii_uppercase()
                )));
            }
        }
    }

    // Body.
    let body_params = body.map(|b| b.params.as_slice()).unwrap_or_default();
    check_text_params(
        body_params,
        &spec.body_vars,
        spec.format,
        "body",
        &["text", "currency", "date_time"],
    )?;

    // Buttons.
    for (index, sub_type, c) in &buttons {
        let Some(button) = spec.buttons.get(*index) else {
            return Err(Refusal::invalid(format!(
                "template.components: button index {index} does not exist; the template has {} buttons",
                spec.buttons.len()
            )));
        };
        let expected_sub = if button.kind == "OTP" {
            "url".to_owned()
        } else {
            button.kind.to_ascii_lowercase()
        };
        if *sub_type != expected_sub {
            return Err(format_err(format!(
                "button at index {index}: sub_type {sub_type} does not match the template's {} button",
                button.kind
            )));
        }
        let (n, allowed): (std::ops::RangeInclusive<usize>, &[&str]) = match button.kind.as_str() {
            "URL" if button.url_var => (1..=1, &["text"]),
            "URL" | "PHONE_NUMBER" => (0..=0, &[]),
            "OTP" => (1..=1, &["text"]),
            "COPY_CODE" => (1..=1, &["coupon_code"]),
            "QUICK_REPLY" => (0..=1, &["payload", "text"]),
            "MPM" | "SPM" => (1..=1, &["action", "product"]),
            _ => (0..=1, &["action", "payload", "text"]),
        };
        if !n.contains(&c.params.len()) {
            return Err(mismatch(format!(
                "button at index {index} ({}): number of parameters ({}) does not match the expected number of params ({})",
                button.kind,
                c.params.len(),
                n.end()
            )));
        }
        if let Some(p) = c
            .params
            .iter()
            .find(|p| !allowed.contains(&p.kind.as_str()))
        {
            return Err(format_err(format!(
                "button at index {index} ({}): a {} parameter is not accepted here (expected {})",
                button.kind,
                p.kind,
                allowed.join(" or ")
            )));
        }
    }
    for (index, button) in spec.buttons.iter().enumerate() {
        let needs = (button.kind == "URL" && button.url_var)
            || matches!(button.kind.as_str(), "OTP" | "COPY_CODE");
        if needs && !buttons.iter().any(|(i, _, _)| *i == index) {
            return Err(mismatch(format!(
                "button at index {index} ({}): number of parameters (0) does not match the expected number of params (1)",
                button.kind
            )));
        }
    }

    // The filled-in body.
    let mut hydrated = spec.body_text.clone();
    for (i, p) in body_params.iter().enumerate() {
        let var = match spec.format {
            ParamFormat::Positional => (i + 1).to_string(),
            ParamFormat::Named => p.name.clone().unwrap_or_default(),
        };
        hydrated = hydrated.replace(&format!("{{{{{var}}}}}"), p.shown.as_deref().unwrap_or(""));
    }
    let n = hydrated.chars().count();
    if n > 1024 {
        return Err(Refusal::new(
            132005,
            format!("body: the filled-in text is {n} characters long; at most 1024 are allowed"),
        ));
    }
    Ok(())
}

fn check_text_params(
    params: &[super::messages::ParamCall],
    vars: &[String],
    format: ParamFormat,
    part: &str,
    allowed: &[&str],
) -> Result<(), Refusal> {
    if params.len() != vars.len() {
        return Err(Refusal::new(
            132000,
            format!(
                "{part}: number of localizable_params ({}) does not match the expected number of params ({})",
                params.len(),
                vars.len()
            ),
        ));
    }
    for (i, p) in params.iter().enumerate() {
        if !allowed.contains(&p.kind.as_str()) {
            return Err(Refusal::new(
                132012,
                format!(
                    "{part}: parameter {} is of type {}, which a {part} does not take (expected {})",
                    i + 1,
                    p.kind,
                    allowed.join(", ")
                ),
            ));
        }
        match (format, &p.name) {
            (ParamFormat::Named, None) => {
                return Err(Refusal::new(
                    132012,
                    format!(
                        "{part}: parameter {} has no parameter_name, but the template uses NAMED parameters",
                        i + 1
                    ),
                ));
            }
            (ParamFormat::Positional, Some(name)) => {
                return Err(Refusal::new(
                    132012,
                    format!(
                        "{part}: parameter {} has parameter_name {name:?}, but the template uses POSITIONAL parameters",
                        i + 1
                    ),
                ));
            }
            (ParamFormat::Named, Some(name)) if !vars.contains(name) => {
                return Err(Refusal::new(
                    132000,
                    format!(
                        "{part}: parameter_name {name:?} is not a variable of the template (expected {})",
                        vars.join(", ")
                    ),
                ));
            }
            _ => {}
        }
    }
    if format == ParamFormat::Named {
        let names: HashSet<&str> = params.iter().filter_map(|p| p.name.as_deref()).collect();
        if names.len() != params.len() {
            return Err(Refusal::new(
                132000,
                format!("{part}: a parameter_name is given twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::messages::{SendRequest, parse_send};

    fn create(v: Value) -> Result<NewTemplate, Refusal> {
        validate_create(&v)
    }

    fn refused(v: Value) -> (i64, Option<i64>, String) {
        let e = create(v).expect_err("refused");
        (e.code(), e.error.error_subcode, e.error.message)
    }

    fn body(text: &str, example: Value) -> Value {
        json!({"name":"t1","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":text,"example":example}]})
    }

    #[test]
    fn oas_create_examples_are_accepted() {
        let examples = [
            json!({"category":"AUTHENTICATION","components":[{"add_security_recommendation":true,"type":"BODY"},{"code_expiration_minutes":10,"type":"FOOTER"},{"buttons":[{"otp_type":"COPY_CODE","text":"Copy Code","type":"OTP"}],"type":"BUTTONS"}],"language":"en_US","name":"authentication_code_copy_code_button"}),
            json!({"category":"MARKETING","components":[{"example":{"header_text":["Pablo"]},"format":"TEXT","text":"Forget something {{1}}?","type":"HEADER"},{"example":{"body_text":[["10OFF"]]},"text":"Looks like you left some items in your cart! Use code {{1}} and you can get 10% off of all of them!","type":"BODY"},{"buttons":[{"text":"View items","type":"MPM"}],"type":"BUTTONS"}],"language":"en_US","name":"abandoned_cart"}),
            json!({"category":"UTILITY","components":[{"example":{"header_handle":["4::YXBwbGljYXRpb24vcGRm:ARZVv4zuogJMxmAdS3_6T4o"]},"format":"DOCUMENT","type":"HEADER"},{"example":{"body_text":[["Mark","860198-230332"]]},"text":"Thank you for your order, {{1}}! Your order number is {{2}}. Tap the PDF linked above to view your receipt.","type":"BODY"},{"buttons":[{"phone_number":"16467043595","text":"Call","type":"PHONE_NUMBER"},{"text":"Contact Support","type":"URL","url":"https://www.examplesite.com/support"}],"type":"BUTTONS"}],"language":"en_US","name":"order_confirmation"}),
            json!({"category":"MARKETING","components":[{"example":{"header_handle":["4::aW1hZ2UvanBn:ARYytyb0kLp5"]},"format":"IMAGE","type":"HEADER"},{"example":{"body_text":[["Mark","Tuscan Getaway package","800"]]},"text":"Hi {{1}}! For a limited time only you can get our {{2}} for as low as {{3}}. Tap the Offer Details button for more information.","type":"BODY"},{"text":"Offer valid until May 31, 2023","type":"FOOTER"},{"buttons":[{"phone_number":"16467043595","text":"Call","type":"PHONE_NUMBER"},{"example":["summer2023"],"text":"Shop Now","type":"URL","url":"https://damp-sea-63235.herokuapp.com/shop?promo={{1}}"}],"type":"BUTTONS"}],"language":"en_US","name":"limited_time_offer_tuscan_getaway_2023"}),
            json!({"category":"UTILITY","components":[{"format":"LOCATION","type":"HEADER"},{"example":{"body_text":[["Mark","566701"]]},"text":"Good news {{1}}! Your order #{{2}} is on its way to the location above. Thank you for your order!","type":"BODY"},{"text":"To stop receiving delivery updates, tap the button below.","type":"FOOTER"},{"buttons":[{"text":"Stop Delivery Updates","type":"QUICK_REPLY"}],"type":"BUTTONS"}],"language":"en_US","name":"order_delivery_update"}),
            json!({"category":"MARKETING","components":[{"example":{"header_text":["Summer Sale"]},"format":"TEXT","text":"Our {{1}} is on!","type":"HEADER"},{"example":{"body_text":[["the end of August","25OFF","25%"]]},"text":"Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.","type":"BODY"},{"text":"Use the buttons below to manage your marketing subscriptions","type":"FOOTER"},{"buttons":[{"text":"Unsubcribe from Promos","type":"QUICK_REPLY"},{"text":"Unsubscribe from All","type":"QUICK_REPLY"}],"type":"BUTTONS"}],"language":"en","name":"seasonal_promotion_text_only"}),
            json!({"category":"MARKETING","components":[{"text":"Check out this new offer","type":"body"},{"buttons":[{"flow_action":"navigate","flow_id":"123","navigate_screen":"WELCOME","text":"Check out this offer!","type":"FLOW"}],"type":"BUTTONS"}],"language":"en_US","name":"flow_offer"}),
            json!({"name":"named_welcome","language":"en_US","category":"UTILITY","parameter_format":"NAMED","components":[{"type":"BODY","text":"Hi {{customer_name}}, your order {{order_id}} is ready.","example":{"body_text_named_params":[{"param_name":"customer_name","example":"Jessica"},{"param_name":"order_id","example":"A-12"}]}}]}),
        ];
        for e in examples {
            let name = e["name"].clone();
            let t = create(e).unwrap_or_else(|r| panic!("{name}: {:?}", r.error.message));
            assert!(t.components.as_array().unwrap().iter().all(|c| {
                c["type"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .all(|ch| !ch.is_ascii_lowercase())
            }));
        }
    }

    #[test]
    fn names_languages_categories() {
        let (c, _, msg) = refused(
            json!({"name":"Bad-Name","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"x"}]}),
        );
        assert_eq!(c, 100);
        assert!(msg.contains("lowercase"), "{msg}");
        let (_, _, msg) = refused(
            json!({"name":"ok","language":"xx_YY","category":"UTILITY","components":[{"type":"BODY","text":"x"}]}),
        );
        assert!(msg.contains("xx_YY"), "{msg}");
        let (_, _, msg) = refused(
            json!({"name":"ok","language":"en_US","category":"PROMO","components":[{"type":"BODY","text":"x"}]}),
        );
        assert!(msg.contains("PROMO"), "{msg}");
        let (_, _, msg) = refused(json!({"language":"en_US","category":"UTILITY","components":[]}));
        assert!(msg.contains("name is required"), "{msg}");
        let (_, _, msg) = refused(
            json!({"name":"ok","language":"en_US","category":"UTILITY","components":[{"type":"FOOTER","text":"f"}]}),
        );
        assert!(msg.contains("BODY"), "{msg}");
    }

    #[test]
    fn variables_sequential_named_examples_and_edges() {
        let (c, sub, msg) = refused(body(
            "Hi {{1}} and {{3}} today",
            json!({"body_text":[["a","b","c"]]}),
        ));
        assert_eq!((c, sub), (100, Some(SUB_FORMAT)));
        assert!(msg.contains("sequential"), "{msg}");
        let (_, sub, msg) = refused(body(
            "Hi {{1}} and {{2}} today",
            json!({"body_text":[["a"]]}),
        ));
        assert_eq!(sub, None);
        assert!(msg.contains("sample values"), "{msg}");
        let (_, sub, msg) = refused(body(
            "{{1}} is your total today",
            json!({"body_text":[["a"]]}),
        ));
        assert_eq!(sub, Some(SUB_DANGLING));
        assert!(msg.contains("starts or ends with a variable"), "{msg}");
        let (_, sub, _) = refused(body("Your total is {{1}}.", json!({"body_text":[["a"]]})));
        assert_eq!(sub, Some(SUB_DANGLING));
        let (_, sub, msg) = refused(body("Hi {{name}} there", json!({})));
        assert_eq!(sub, Some(SUB_FORMAT));
        assert!(msg.contains("NAMED"), "{msg}");
        let (_, sub, _) = refused(body("Hi {{Bad Name}} there", json!({})));
        assert_eq!(sub, Some(SUB_FORMAT));
        let mut named = body(
            "Hi {{first_name}} there",
            json!({"body_text_named_params":[{"param_name":"other","example":"x"}]}),
        );
        named["parameter_format"] = json!("NAMED");
        let (_, _, msg) = refused(named);
        assert!(msg.contains("first_name"), "{msg}");
        let mut mixed = body("Hi {{1}} there", json!({"body_text":[["a"]]}));
        mixed["parameter_format"] = json!("NAMED");
        assert_eq!(refused(mixed).1, Some(SUB_FORMAT));
        let long = "a".repeat(1025);
        assert_eq!(refused(body(&long, json!({}))).1, Some(SUB_TOO_LONG));
    }

    #[test]
    fn footer_and_buttons() {
        let with = |extra: Value| json!({"name":"t","language":"en","category":"MARKETING","components":[{"type":"BODY","text":"Hello there"}, extra]});
        let (_, sub, _) = refused(with(json!({"type":"FOOTER","text":"x".repeat(61)})));
        assert_eq!(sub, Some(SUB_TOO_LONG));
        let (_, sub, _) = refused(with(json!({"type":"FOOTER","text":"Hi {{1}}"})));
        assert_eq!(sub, Some(SUB_FOOTER));
        let qr = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"type":"QUICK_REPLY","text":format!("B{i}")}))
                .collect()
        };
        assert!(create(with(json!({"type":"BUTTONS","buttons":qr(10)}))).is_ok());
        let (_, _, msg) = refused(with(json!({"type":"BUTTONS","buttons":qr(11)})));
        assert!(msg.contains("11 buttons"), "{msg}");
        let url =
            |i: usize| json!({"type":"URL","text":format!("U{i}"),"url":"https://x.example/"});
        let (_, _, msg) = refused(with(
            json!({"type":"BUTTONS","buttons":[url(1),url(2),url(3)]}),
        ));
        assert!(msg.contains("3 URL buttons"), "{msg}");
        let phone = json!({"type":"PHONE_NUMBER","text":"Call","phone_number":"15555550100"});
        let (_, _, msg) = refused(with(
            json!({"type":"BUTTONS","buttons":[phone.clone(), phone]}),
        ));
        assert!(msg.contains("PHONE_NUMBER"), "{msg}");
        let copy = json!({"type":"COPY_CODE","example":"250FF"});
        let (_, _, msg) = refused(with(
            json!({"type":"BUTTONS","buttons":[copy.clone(), copy]}),
        ));
        assert!(msg.contains("COPY_CODE"), "{msg}");
        let (_, sub, msg) = refused(with(
            json!({"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"This label is definitely too long"}]}),
        ));
        assert_eq!(sub, Some(SUB_TOO_LONG));
        assert!(msg.contains("text"), "{msg}");
        let (_, _, msg) = refused(with(
            json!({"type":"BUTTONS","buttons":[{"type":"URL","text":"Go","url":"https://x.example/?p={{1}}"}]}),
        ));
        assert!(msg.contains("example"), "{msg}");
        let (_, _, msg) = refused(
            json!({"name":"t","language":"en","category":"MARKETING","components":[{"type":"HEADER","format":"TEXT","text":"a"},{"type":"HEADER","format":"TEXT","text":"b"},{"type":"BODY","text":"x"}]}),
        );
        assert!(msg.contains("at most one HEADER"), "{msg}");
    }

    fn spec_of(v: Value) -> TemplateSpec {
        create(v).unwrap().spec
    }

    fn call(components: Value) -> TemplateCall {
        let v = json!({"messaging_product":"whatsapp","to":"15555550111","type":"template","template":{"name":"t","language":{"code":"en_US"},"components":components}});
        match parse_send(&v).unwrap() {
            SendRequest::Message(m) => m.template.unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn sends_are_matched_against_the_template() {
        let spec = spec_of(
            json!({"name":"order","language":"en_US","category":"UTILITY","components":[
            {"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::x"]}},
            {"type":"BODY","text":"Hi {{1}}, you paid {{2}} on {{3}}. Thanks!","example":{"body_text":[["a","b","c"]]}},
            {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"OK"},{"type":"URL","text":"Track","url":"https://x.example/t/{{1}}","example":["abc"]}]}]}),
        );
        let header = json!({"type":"header","parameters":[{"type":"image","image":{"link":"https://x.example/i.png"}}]});
        let body3 = json!({"type":"body","parameters":[{"type":"text","text":"Pablo"},{"type":"currency","currency":{"fallback_value":"$100.99","code":"USD","amount_1000":100990}},{"type":"date_time","date_time":{"fallback_value":"February 25, 1977"}}]});
        let url = json!({"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"abc"}]});
        assert!(check_send(&spec, &call(json!([header, body3, url]))).is_ok());
        let e = check_send(
            &spec,
            &call(json!([header, {"type":"body","parameters":[{"type":"text","text":"x"}]}, url])),
        )
        .unwrap_err();
        assert_eq!(e.code(), 132000);
        assert!(e.error.message.contains("body"), "{}", e.error.message);
        assert_eq!(
            check_send(&spec, &call(json!([body3, url])))
                .unwrap_err()
                .code(),
            132000
        );
        let wrong_header = json!({"type":"header","parameters":[{"type":"text","text":"x"}]});
        let e = check_send(&spec, &call(json!([wrong_header, body3, url]))).unwrap_err();
        assert_eq!(e.code(), 132012);
        assert!(e.error.message.contains("expected IMAGE"));
        assert_eq!(
            check_send(&spec, &call(json!([header, body3])))
                .unwrap_err()
                .code(),
            132000
        );
        let wrong_sub = json!({"type":"button","sub_type":"quick_reply","index":1,"parameters":[]});
        assert_eq!(
            check_send(&spec, &call(json!([header, body3, url, wrong_sub])))
                .unwrap_err()
                .code(),
            131009
        );
    }

    #[test]
    fn named_and_positional_parameters_must_match_the_format() {
        let named = spec_of(
            json!({"name":"n","language":"en_US","category":"UTILITY","parameter_format":"NAMED","components":[
            {"type":"BODY","text":"Hi {{customer_name}}, order {{order_id}} is ready.","example":{"body_text_named_params":[{"param_name":"customer_name","example":"J"},{"param_name":"order_id","example":"1"}]}}]}),
        );
        let ok = json!([{"type":"body","parameters":[{"type":"text","parameter_name":"order_id","text":"A-1"},{"type":"text","parameter_name":"customer_name","text":"Jessica"}]}]);
        assert!(check_send(&named, &call(ok)).is_ok());
        let positional_call = json!([{"type":"body","parameters":[{"type":"text","text":"A-1"},{"type":"text","text":"Jessica"}]}]);
        let e = check_send(&named, &call(positional_call.clone())).unwrap_err();
        assert_eq!(e.code(), 132012);
        assert!(e.error.message.contains("NAMED"));
        let unknown = json!([{"type":"body","parameters":[{"type":"text","parameter_name":"nope","text":"A-1"},{"type":"text","parameter_name":"customer_name","text":"Jessica"}]}]);
        assert_eq!(
            check_send(&named, &call(unknown)).unwrap_err().code(),
            132000
        );

        let positional = spec_of(body(
            "Hi {{1}} and {{2}} today",
            json!({"body_text":[["a","b"]]}),
        ));
        assert!(check_send(&positional, &call(positional_call)).is_ok());
        let named_call = json!([{"type":"body","parameters":[{"type":"text","parameter_name":"a","text":"A-1"},{"type":"text","parameter_name":"b","text":"J"}]}]);
        assert_eq!(
            check_send(&positional, &call(named_call))
                .unwrap_err()
                .code(),
            132012
        );
        let long = json!([{"type":"body","parameters":[{"type":"text","text":"x".repeat(1020)},{"type":"text","text":"y"}]}]);
        assert_eq!(
            check_send(&positional, &call(long)).unwrap_err().code(),
            132005
        );
    }

    #[test]
    fn authentication_templates_take_the_code_twice() {
        let spec = spec_of(
            json!({"category":"AUTHENTICATION","components":[{"add_security_recommendation":true,"type":"BODY"},{"code_expiration_minutes":10,"type":"FOOTER"},{"buttons":[{"otp_type":"COPY_CODE","text":"Copy Code","type":"OTP"}],"type":"BUTTONS"}],"language":"en_US","name":"auth"}),
        );
        let ok = json!([{"type":"body","parameters":[{"type":"text","text":"123456"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"123456"}]}]);
        assert!(check_send(&spec, &call(ok)).is_ok());
        let no_button = json!([{"type":"body","parameters":[{"type":"text","text":"123456"}]}]);
        assert_eq!(
            check_send(&spec, &call(no_button)).unwrap_err().code(),
            132000
        );
    }
}
