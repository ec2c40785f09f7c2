//! What starts a bot: the first words of a customer's message, a template's quick-reply payload, a
//! click-to-WhatsApp ad. Two active bots in one scope may not answer the same message: activating
//! one whose trigger overlaps another's is refused ([`Trigger::overlaps`]).

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "BotTrigger")]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Trigger {
    /// The message is exactly this (case and surrounding spaces aside).
    Exact { text: String },
    /// The message contains this.
    Contains { text: String },
    /// The message matches this regular expression (case-insensitive).
    Regex { pattern: String },
    /// Any first message of a conversation.
    FirstMessage,
    /// A template's quick-reply button with this payload.
    Payload { payload: String },
    /// A click-to-WhatsApp ad's referral: one ad by its source id, or any ad.
    Ad {
        #[serde(default)]
        ad: Option<String>,
    },
}

/// A message as triggers see it.
#[derive(Debug, Clone, Default)]
pub struct Incoming<'a> {
    pub text: &'a str,
    /// The quick-reply payload, when the message is a template's button.
    pub payload: Option<&'a str>,
    /// The ad's source id, when the message came from an ad.
    pub ad: Option<&'a str>,
    /// Whether the message opens a conversation.
    pub first: bool,
}

/// The longest pattern or text a trigger may have.
const MAX_LEN: usize = 500;

impl Trigger {
    /// Checks the trigger, naming what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Trigger::Exact { text } | Trigger::Contains { text } => {
                if text.trim().is_empty() {
                    return Err("the trigger's words are empty".into());
                }
                if text.chars().count() > MAX_LEN {
                    return Err(format!(
                        "the trigger's words are longer than {MAX_LEN} characters"
                    ));
                }
            }
            Trigger::Regex { pattern } => {
                if pattern.chars().count() > MAX_LEN {
                    return Err(format!("the pattern is longer than {MAX_LEN} characters"));
                }
                compile(pattern)
                    .map_err(|e| format!("the pattern is not a regular expression: {e}"))?;
            }
            Trigger::Payload { payload } if payload.trim().is_empty() => {
                return Err("the payload is empty".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// A matcher for the trigger (a regular expression compiled once).
    pub fn matcher(&self) -> Result<Matcher, String> {
        self.check()?;
        let regex = match self {
            Trigger::Regex { pattern } => Some(compile(pattern).map_err(|e| e.to_string())?),
            _ => None,
        };
        Ok(Matcher {
            trigger: self.clone(),
            regex,
        })
    }

    /// Whether one message could start both bots.
    pub fn overlaps(&self, other: &Trigger) -> bool {
        use Trigger::*;
        let norm = |s: &str| s.trim().to_lowercase();
        match (self, other) {
            (Exact { text: a }, Exact { text: b }) => norm(a) == norm(b),
            (Exact { text: e }, Contains { text: c })
            | (Contains { text: c }, Exact { text: e }) => norm(e).contains(&norm(c)),
            // One's words inside the other's: every message that has the longer has the shorter.
            // (Two unrelated words can meet in one message; the first bot in the list answers it.)
            (Contains { text: a }, Contains { text: b }) => {
                norm(a).contains(&norm(b)) || norm(b).contains(&norm(a))
            }
            (Regex { pattern }, Exact { text }) | (Exact { text }, Regex { pattern }) => {
                compile(pattern)
                    .map(|r| r.is_match(text.trim()))
                    .unwrap_or(true)
            }
            (Regex { pattern }, Contains { text }) | (Contains { text }, Regex { pattern }) => {
                compile(pattern)
                    .map(|r| r.is_match(text.trim()))
                    .unwrap_or(true)
            }
            // Whether two expressions share a match is not decidable cheaply: the same pattern,
            // or any two that both match some short probe, count as overlapping.
            (Regex { pattern: a }, Regex { pattern: b }) => a == b,
            (FirstMessage, FirstMessage) => true,
            (Payload { payload: a }, Payload { payload: b }) => a == b,
            (Ad { ad: a }, Ad { ad: b }) => a.is_none() || b.is_none() || a == b,
            _ => false,
        }
    }

    /// How the trigger reads in a list ("contains “price”").
    pub fn describe(&self) -> String {
        match self {
            Trigger::Exact { text } => format!("is “{text}”"),
            Trigger::Contains { text } => format!("contains “{text}”"),
            Trigger::Regex { pattern } => format!("matches /{pattern}/"),
            Trigger::FirstMessage => "any first message".into(),
            Trigger::Payload { payload } => format!("template button “{payload}”"),
            Trigger::Ad { ad: Some(ad) } => format!("ad {ad}"),
            Trigger::Ad { ad: None } => "any ad".into(),
        }
    }
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

#[derive(Debug, Clone)]
pub struct Matcher {
    trigger: Trigger,
    regex: Option<Regex>,
}

impl Matcher {
    pub fn matches(&self, m: &Incoming<'_>) -> bool {
        let text = m.text.trim();
        match &self.trigger {
            Trigger::Exact { text: t } => {
                !text.is_empty() && text.to_lowercase() == t.trim().to_lowercase()
            }
            Trigger::Contains { text: t } => {
                !text.is_empty() && text.to_lowercase().contains(&t.trim().to_lowercase())
            }
            Trigger::Regex { .. } => self.regex.as_ref().is_some_and(|r| r.is_match(text)),
            Trigger::FirstMessage => m.first,
            Trigger::Payload { payload } => m.payload == Some(payload.as_str()),
            Trigger::Ad { ad } => match (ad, m.ad) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(want), Some(got)) => want == got,
            },
        }
    }

    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Incoming<'_> {
        Incoming {
            text: t,
            ..Default::default()
        }
    }

    #[test]
    fn matching() {
        let price = Trigger::Contains {
            text: "Price".into(),
        }
        .matcher()
        .unwrap();
        assert!(price.matches(&text("what's the PRICE?")));
        assert!(!price.matches(&text("hello")));
        let hi = Trigger::Exact { text: "hi".into() }.matcher().unwrap();
        assert!(hi.matches(&text("  Hi ")));
        assert!(!hi.matches(&text("hi there")));
        let order = Trigger::Regex {
            pattern: r"^order\s*#?\d+$".into(),
        }
        .matcher()
        .unwrap();
        assert!(order.matches(&text("Order #123")));
        assert!(!order.matches(&text("my order")));
        let ad = Trigger::Ad { ad: None }.matcher().unwrap();
        assert!(ad.matches(&Incoming {
            text: "hi",
            ad: Some("120"),
            ..Default::default()
        }));
        assert!(!ad.matches(&text("hi")));
    }

    #[test]
    fn bad_triggers_are_named() {
        assert_eq!(
            Trigger::Regex {
                pattern: "(".into()
            }
            .check()
            .unwrap_err()
            .lines()
            .next()
            .unwrap(),
            "the pattern is not a regular expression: regex parse error:"
        );
        assert_eq!(
            Trigger::Exact { text: "  ".into() }.check().unwrap_err(),
            "the trigger's words are empty"
        );
    }

    #[test]
    fn overlaps() {
        let exact = |t: &str| Trigger::Exact { text: t.into() };
        let contains = |t: &str| Trigger::Contains { text: t.into() };
        assert!(exact("Hi").overlaps(&exact("hi ")));
        assert!(!exact("hi").overlaps(&exact("hello")));
        assert!(exact("price list").overlaps(&contains("price")));
        assert!(!exact("hello").overlaps(&contains("price")));
        assert!(contains("price").overlaps(&contains("Price list")));
        assert!(!contains("price").overlaps(&contains("open")));
        assert!(
            Trigger::Regex {
                pattern: "^pri".into()
            }
            .overlaps(&exact("price"))
        );
        assert!(Trigger::Ad { ad: None }.overlaps(&Trigger::Ad {
            ad: Some("1".into())
        }));
        assert!(
            !Trigger::Ad {
                ad: Some("2".into())
            }
            .overlaps(&Trigger::Ad {
                ad: Some("1".into())
            })
        );
        assert!(!Trigger::FirstMessage.overlaps(&exact("hi")));
    }
}
