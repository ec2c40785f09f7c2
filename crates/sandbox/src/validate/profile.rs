//! Business-profile updates (`POST /{phone-number-id}/whatsapp_business_profile`) with Meta's
//! limits: about 1–139 characters, address and description ≤256, email ≤128, at most two
//! websites of ≤256, a vertical from Meta's list. Refusals are error 100.

use serde_json::Value;

use super::{get, is_http_url};
use crate::error::Refusal;

pub const VERTICALS: &[&str] = &[
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "ALCOHOL",
    "ONLINE_GAMBLING",
    "PHYSICAL_GAMBLING",
    "OTC_DRUGS",
];

/// Profile fields a GET may ask for.
pub const FIELDS: &[&str] = &[
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
    "messaging_product",
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub about: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub websites: Option<Vec<String>>,
    pub vertical: Option<String>,
    pub profile_picture_handle: Option<String>,
}

fn string(body: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, Refusal> {
    match get(body, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Refusal::param(format!("{key} must be a string"))),
    }
}

fn limit(value: &Option<String>, key: &str, min: usize, max: usize) -> Result<(), Refusal> {
    if let Some(v) = value {
        let n = v.chars().count();
        if n < min || n > max {
            return Err(Refusal::param(format!(
                "{key} is {n} characters long; {min} to {max} are allowed"
            )));
        }
    }
    Ok(())
}

pub fn parse_update(body: &Value) -> Result<ProfileUpdate, Refusal> {
    let m = body
        .as_object()
        .ok_or_else(|| Refusal::param("the request body must be a JSON object"))?;
    match get(m, "messaging_product") {
        None => return Err(Refusal::param_required("messaging_product")),
        Some(v) if v.as_str() != Some("whatsapp") => {
            return Err(Refusal::param(format!(
                "messaging_product must be \"whatsapp\", got {v}"
            )));
        }
        Some(_) => {}
    }
    let update = ProfileUpdate {
        about: string(m, "about")?,
        address: string(m, "address")?,
        description: string(m, "description")?,
        email: string(m, "email")?,
        websites: match get(m, "websites") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|w| {
                        w.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| Refusal::param("websites must be an array of URLs"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(Refusal::param("websites must be an array of URLs")),
        },
        vertical: string(m, "vertical")?,
        profile_picture_handle: string(m, "profile_picture_handle")?,
    };
    limit(&update.about, "about", 1, 139)?;
    limit(&update.address, "address", 0, 256)?;
    limit(&update.description, "description", 0, 256)?;
    limit(&update.email, "email", 0, 128)?;
    if let Some(email) = update.email.as_deref().filter(|e| !e.is_empty()) {
        let valid = email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.starts_with('.')
        });
        if !valid {
            return Err(Refusal::param(format!(
                "email {email:?} is not a valid email address"
            )));
        }
    }
    if let Some(sites) = &update.websites {
        if sites.len() > 2 {
            return Err(Refusal::param(format!(
                "websites has {} entries; at most 2 are allowed",
                sites.len()
            )));
        }
        for w in sites {
            if w.chars().count() > 256 || !is_http_url(w) {
                return Err(Refusal::param(format!(
                    "websites: {w:?} must be an http(s) URL of at most 256 characters"
                )));
            }
        }
    }
    if let Some(v) = update.vertical.as_deref()
        && !v.is_empty()
        && !VERTICALS.contains(&v)
    {
        return Err(Refusal::param(format!(
            "vertical {v:?} must be one of {}",
            VERTICALS.join(", ")
        )));
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits() {
        let ok = parse_update(&json!({"messaging_product":"whatsapp","about":"Hi","websites":["https://a.example"],"vertical":"RETAIL","email":"a@b.example"})).unwrap();
        assert_eq!(ok.about.as_deref(), Some("Hi"));
        for (body, needle) in [
            (json!({"about":"x"}), "messaging_product"),
            (
                json!({"messaging_product":"whatsapp","about":"x".repeat(140)}),
                "about is 140",
            ),
            (
                json!({"messaging_product":"whatsapp","about":""}),
                "about is 0",
            ),
            (
                json!({"messaging_product":"whatsapp","address":"x".repeat(257)}),
                "address",
            ),
            (
                json!({"messaging_product":"whatsapp","email":"nope"}),
                "email",
            ),
            (
                json!({"messaging_product":"whatsapp","websites":["https://a.example","https://b.example","https://c.example"]}),
                "at most 2",
            ),
            (
                json!({"messaging_product":"whatsapp","websites":["ftp://a"]}),
                "websites",
            ),
            (
                json!({"messaging_product":"whatsapp","vertical":"SPACE"}),
                "SPACE",
            ),
        ] {
            let e = parse_update(&body).unwrap_err();
            assert_eq!(e.code(), 100);
            assert!(
                e.error.message.contains(needle),
                "{needle}: {}",
                e.error.message
            );
        }
    }
}
