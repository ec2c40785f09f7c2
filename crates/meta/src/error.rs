//! Meta's error object, parsed into a typed error, and what to do about each code.
//!
//! Classification is by `code` (and `error_subcode`), never by HTTP status or title: Meta's own
//! guidance. The table follows Meta's error-code reference; the action column is ours.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a caller should do after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Retry {
    /// Transient: retry soon with backoff and jitter.
    Soon,
    /// Retry only after a long wait or a change of condition (hours; a paused template).
    Later,
    /// Needs a person to fix configuration or credentials before anything will work.
    NeedsFix,
    /// This request will never succeed as it is: do not retry it.
    Never,
}

/// Meta's error object (`{"error": {...}}`), as sent synchronously and inside webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphError {
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_user_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_transient: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorEnvelope {
    pub error: GraphError,
}

/// One row of the classification: what the code means to a user, and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub retry: Retry,
    pub meaning: &'static str,
}

const fn c(retry: Retry, meaning: &'static str) -> Class {
    Class { retry, meaning }
}

/// Every code of the reference, classified. Unknown codes fall back by family in [`classify`].
pub const TABLE: &[(i64, Class)] = {
    use Retry::*;
    &[
        (
            0,
            c(
                NeedsFix,
                "Meta could not authenticate the app user: the access token was invalidated; enter a new one",
            ),
        ),
        (
            1,
            c(Soon, "Meta's API had an unknown error; it will be retried"),
        ),
        (
            2,
            c(
                Soon,
                "Meta's service is temporarily unavailable; it will be retried",
            ),
        ),
        (
            3,
            c(
                NeedsFix,
                "the app lacks the capability or permission for this call",
            ),
        ),
        (4, c(Soon, "too many calls from this app: slowing down")),
        (
            10,
            c(
                NeedsFix,
                "permission denied: the token lacks a permission this call needs",
            ),
        ),
        (
            100,
            c(
                Never,
                "a parameter is invalid (a malformed or unknown field, or a bad recipient)",
            ),
        ),
        (
            190,
            c(
                NeedsFix,
                "the access token has expired or is invalid; enter a new one in Connection",
            ),
        ),
        (368, c(Later, "temporarily blocked for policy violations")),
        (
            80007,
            c(
                Soon,
                "the WhatsApp Business Account hit its rate limit: waiting before retrying",
            ),
        ),
        (
            130429,
            c(
                Soon,
                "the number's throughput limit was reached: sending slower",
            ),
        ),
        (
            130472,
            c(
                Never,
                "the recipient is part of a Meta marketing experiment and was not sent this message",
            ),
        ),
        (
            130497,
            c(
                Never,
                "this business may not message users in the recipient's country",
            ),
        ),
        (
            131000,
            c(
                Soon,
                "something went wrong at Meta; it will be retried a few times",
            ),
        ),
        (
            131005,
            c(NeedsFix, "access denied: check the token's permissions"),
        ),
        (131008, c(Never, "a required parameter is missing")),
        (131009, c(Never, "a parameter value is invalid")),
        (
            131016,
            c(
                Soon,
                "Meta's service is temporarily unavailable; it will be retried",
            ),
        ),
        (131021, c(Never, "the recipient cannot be the sender")),
        (
            131026,
            c(
                Never,
                "the message could not be delivered: the recipient may not use WhatsApp or needs to update it",
            ),
        ),
        (
            131030,
            c(
                NeedsFix,
                "the recipient is not in the number's allowed list (test numbers only)",
            ),
        ),
        (
            131031,
            c(NeedsFix, "the business account is locked or restricted"),
        ),
        (
            131037,
            c(NeedsFix, "the number has no approved display name yet"),
        ),
        (
            131042,
            c(
                NeedsFix,
                "a business eligibility or payment problem: check the payment method in Meta",
            ),
        ),
        (
            131045,
            c(
                NeedsFix,
                "the phone number's registration is incomplete (certificate)",
            ),
        ),
        (
            131047,
            c(
                Never,
                "more than 24 hours have passed since the customer last wrote: send a template instead",
            ),
        ),
        (
            131048,
            c(
                Later,
                "too many messages were blocked or flagged as spam: pause and wait",
            ),
        ),
        (
            131049,
            c(
                Later,
                "Meta held this marketing message back to protect engagement; try again in hours or days",
            ),
        ),
        (
            131050,
            c(Never, "the recipient has stopped marketing messages"),
        ),
        (131051, c(Never, "this message type is not supported")),
        (
            131052,
            c(
                Never,
                "the customer's media could not be downloaded; ask them to send it again",
            ),
        ),
        (
            131053,
            c(
                Never,
                "the media could not be uploaded (unsupported type or unreachable host)",
            ),
        ),
        (
            131056,
            c(
                Soon,
                "too many messages to this recipient in a short time: waiting before the next",
            ),
        ),
        (
            131057,
            c(Later, "the business account is in maintenance mode"),
        ),
        (
            131062,
            c(
                Never,
                "this message cannot be sent to a username-only recipient",
            ),
        ),
        (
            131063,
            c(
                NeedsFix,
                "marketing templates are disabled for this Cloud API account",
            ),
        ),
        (
            131064,
            c(
                Later,
                "the messaging limit was reached because of template misclassification",
            ),
        ),
        (
            132000,
            c(
                Never,
                "the number of template parameters does not match the template",
            ),
        ),
        (
            132001,
            c(
                Never,
                "the template does not exist in that language or is not approved: resync templates",
            ),
        ),
        (132005, c(Never, "the filled-in template text is too long")),
        (132007, c(Never, "the template breaks the character policy")),
        (132008, c(Never, "a template parameter value is invalid")),
        (
            132012,
            c(
                Never,
                "the template parameters have the wrong format (named vs positional, or type)",
            ),
        ),
        (132015, c(Later, "the template is paused for low quality")),
        (
            132016,
            c(Never, "the template is disabled (paused too often)"),
        ),
        (132068, c(Never, "the flow is blocked")),
        (
            132069,
            c(Later, "the flow is throttled (10 sends per hour)"),
        ),
        (
            133000,
            c(
                NeedsFix,
                "the number's previous deregistration is incomplete",
            ),
        ),
        (
            133004,
            c(
                Soon,
                "Meta's server is temporarily unavailable; it will be retried",
            ),
        ),
        (
            133005,
            c(NeedsFix, "the two-step verification PIN does not match"),
        ),
        (
            133008,
            c(NeedsFix, "too many two-step verification PIN guesses"),
        ),
        (
            133009,
            c(NeedsFix, "two-step verification PIN guessed too fast"),
        ),
        (
            133010,
            c(
                NeedsFix,
                "the phone number is not registered with the Cloud API",
            ),
        ),
        (
            133016,
            c(
                Later,
                "too many register/deregister attempts; wait before trying again",
            ),
        ),
        (
            135000,
            c(Never, "Meta refused the request (generic user error)"),
        ),
        (
            137000,
            c(
                NeedsFix,
                "the recipient's identity changed (key hash mismatch)",
            ),
        ),
        (
            2388019,
            c(
                Never,
                "the WABA has reached its limit on the number of templates",
            ),
        ),
        (2388040, c(Never, "a template field is too long")),
        (
            2388047,
            c(Never, "the template's header or body format is invalid"),
        ),
        (2388073, c(Never, "the template's footer format is invalid")),
        (
            2388293,
            c(
                Never,
                "the template has too many variables for the length of its text",
            ),
        ),
        (
            2388299,
            c(
                Never,
                "a template variable stands at the start or end of the text",
            ),
        ),
    ]
};

/// How to treat `code`: the table, else by family (200–299 are permissions).
pub fn classify(code: i64) -> Class {
    if let Some((_, class)) = TABLE.iter().find(|(c, _)| *c == code) {
        return *class;
    }
    match code {
        200..=299 => c(
            Retry::NeedsFix,
            "an API permission has not been granted to the app",
        ),
        _ => c(Retry::Never, "Meta refused the request"),
    }
}

impl GraphError {
    pub fn class(&self) -> Class {
        classify(self.code)
    }

    /// A sentence a user understands, with Meta's details when it gave any.
    pub fn explain(&self) -> String {
        let class = self.class();
        let details = self
            .error_data
            .as_ref()
            .map(|d| d.details.trim())
            .filter(|d| !d.is_empty());
        match details {
            Some(d) => format!(
                "{} (Meta error {}: {d})",
                capitalise(class.meaning),
                self.code
            ),
            None => format!("{} (Meta error {})", capitalise(class.meaning), self.code),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meta_error_objects_and_classifies_them() {
        let raw = r#"{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "type":"OAuthException","code":131056,"error_data":{"messaging_product":"whatsapp",
            "details":"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},
            "fbtrace_id":"A4O5a8RAgePwbcGSu"}}"#;
        let e: GraphErrorEnvelope = serde_json::from_str(raw).unwrap();
        assert_eq!(e.error.code, 131056);
        assert_eq!(e.error.class().retry, Retry::Soon);
        assert!(
            e.error
                .explain()
                .starts_with("Too many messages to this recipient")
        );

        let expired = r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463}}"#;
        let e: GraphErrorEnvelope = serde_json::from_str(expired).unwrap();
        assert_eq!(e.error.error_subcode, Some(463));
        assert_eq!(e.error.class().retry, Retry::NeedsFix);
    }

    #[test]
    fn every_code_is_classified_once() {
        let mut codes: Vec<i64> = TABLE.iter().map(|(c, _)| *c).collect();
        let n = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), n, "a code is listed twice");
        for (code, expected) in [
            (130429, Retry::Soon),
            (131047, Retry::Never),
            (131049, Retry::Later),
            (190, Retry::NeedsFix),
            (132000, Retry::Never),
            (250, Retry::NeedsFix),
            (999_999, Retry::Never),
        ] {
            assert_eq!(classify(code).retry, expected, "{code}");
        }
    }
}
