//! What Meta says about the account itself: the WhatsApp Business Account restricted, banned,
//! reinstated or reviewed (`account_update`, `account_alerts`, `account_review_update`), a
//! number's quality or messaging limit (`phone_number_quality_update`), the business's messaging
//! limit (`business_capability_update`), a template re-categorised or its quality changed
//! (`template_category_update`, `message_template_quality_update`).
//!
//! Each such event of the log becomes a notice (once, by its idempotency key) and an Activity Log
//! entry. The top bar shows what is in force: per subject, the newest notice, when it is a
//! warning or worse and not dismissed on this desktop. The numbers and templates modules apply
//! the same events to their own records (a number's limit, a template's category).

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use crate::audit::{self, Change, Outcome};
use crate::permissions::{Principal, SystemTask};
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};

/// The kinds this module turns into notices.
pub const KINDS: &[&str] = &[
    "account_update",
    "account_alert",
    "account_review",
    "phone_quality",
    "business_capability",
    "template_quality",
    "template_category",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    /// Sending is stopped or about to be (banned, restricted, deleted, rejected).
    Critical,
    /// Something to act on (a violation, low quality, a lowered limit, a re-categorised template).
    Warning,
    /// Good or neutral news (reinstated, upgraded, approved).
    Info,
}

impl Severity {
    fn key(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    fn parse(s: &str) -> Severity {
        match s {
            "critical" => Severity::Critical,
            "warning" => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

/// What one event says, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    /// What it is about (the account, a number, a template): a newer notice about the same
    /// subject replaces an older one in the banner.
    pub subject: String,
}

/// A notice the banner shows.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountNotice {
    pub id: i64,
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    pub received_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("there is no account notice {0}")]
    NotFound(i64),
}

impl crate::error::Coded for AccountError {
    fn code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }
}

/// Meta's messaging-limit tiers in words.
pub fn tier_words(tier: &str) -> String {
    match tier {
        "TIER_50" => "50 customers a day".into(),
        "TIER_250" => "250 customers a day".into(),
        "TIER_1K" => "1,000 customers a day".into(),
        "TIER_2K" => "2,000 customers a day".into(),
        "TIER_10K" => "10,000 customers a day".into(),
        "TIER_100K" => "100,000 customers a day".into(),
        "TIER_UNLIMITED" => "no daily limit".into(),
        "TIER_NOT_SET" => "not set yet (nothing sent)".into(),
        other => other.to_owned(),
    }
}

/// `SOME_META_VALUE` → "some meta value".
fn words(s: &str) -> String {
    s.replace('_', " ").to_lowercase()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// Meta's `2026-12-19T13:59:20+0000` as `2026-12-19 13:59 UTC`; anything else as given.
fn when(t: &str) -> String {
    match (t.get(..10), t.get(10..11), t.get(11..16), t.get(19..)) {
        (Some(day), Some("T"), Some(hm), Some("+0000" | "Z" | "")) => format!("{day} {hm} UTC"),
        _ => t.to_owned(),
    }
}

fn restriction_words(t: &str) -> &str {
    match t {
        "RESTRICTED_BIZ_INITIATED_MESSAGING" => "starting conversations (templates)",
        "RESTRICTED_CUSTOMER_INITIATED_MESSAGING" => "replying to customers",
        "RESTRICTED_ADD_PHONE_NUMBER_ACTION" => "adding phone numbers",
        other => other,
    }
}

fn account(severity: Severity, title: impl Into<String>, detail: impl Into<String>) -> Described {
    Described {
        severity,
        title: title.into(),
        detail: detail.into(),
        subject: "account".into(),
    }
}

/// Puts one event of `kind` (its change's `value`) into words, or `None` when it says nothing
/// this module shows.
pub fn describe(kind: &str, value: &Value) -> Option<Described> {
    match kind {
        "account_update" => {
            let event = text(value, "event");
            let ban = &value["ban_info"];
            Some(match event {
                "DISABLED_UPDATE" => match text(ban, "waba_ban_state") {
                    "REINSTATE" => account(
                        Severity::Info,
                        "Meta reinstated the WhatsApp Business Account",
                        "Messages can be sent again.",
                    ),
                    "SCHEDULE_FOR_DISABLE" => account(
                        Severity::Critical,
                        format!(
                            "Meta will disable the WhatsApp Business Account on {}",
                            when(text(ban, "waba_ban_date"))
                        ),
                        "Appeal in WhatsApp Manager before that date, or nothing can be sent after it.",
                    ),
                    state => account(
                        Severity::Critical,
                        "Meta disabled the WhatsApp Business Account",
                        format!(
                            "Ban state {}{}: nothing can be sent. Appeal in WhatsApp Manager.",
                            if state.is_empty() { "DISABLE" } else { state },
                            match text(ban, "waba_ban_date") {
                                "" => String::new(),
                                d => format!(" since {}", when(d)),
                            }
                        ),
                    ),
                },
                "ACCOUNT_VIOLATION" => account(
                    Severity::Warning,
                    "Meta found a policy violation on the account",
                    format!(
                        "Violation: {}. Repeated violations lead to restrictions.",
                        words(text(&value["violation_info"], "violation_type"))
                    ),
                ),
                "ACCOUNT_RESTRICTION" => {
                    let limits: Vec<String> = value["restriction_info"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            let what = restriction_words(text(r, "restriction_type"));
                            match text(r, "expiration") {
                                "" => what.to_owned(),
                                until => format!("{what} until {}", when(until)),
                            }
                        })
                        .collect();
                    account(
                        Severity::Critical,
                        "Meta restricted the WhatsApp Business Account",
                        if limits.is_empty() {
                            "Some actions are blocked; WhatsApp Manager says which.".to_owned()
                        } else {
                            format!("Blocked: {}.", limits.join("; "))
                        },
                    )
                }
                "ACCOUNT_DELETED" => account(
                    Severity::Critical,
                    "The WhatsApp Business Account was deleted",
                    "Nothing can be sent or received through it any more.",
                ),
                e if e.contains("OFFBOARD") => account(
                    Severity::Critical,
                    "The WhatsApp Business Account was offboarded from this app",
                    "Its webhooks stop and nothing can be sent until it is connected again.",
                ),
                "PARTNER_REMOVED" | "PARTNER_APP_UNINSTALLED" => account(
                    Severity::Warning,
                    "A partner was removed from the WhatsApp Business Account",
                    words(event),
                ),
                "VERIFIED_ACCOUNT" => account(
                    Severity::Info,
                    "Meta verified the business",
                    "The account's display name is verified.",
                ),
                "" => return None,
                other => account(
                    Severity::Info,
                    format!("Account update: {}", words(other)),
                    value.to_string().chars().take(300).collect::<String>(),
                ),
            })
        }
        "account_alert" => {
            let severity = match text(value, "alert_severity") {
                "CRITICAL" => Severity::Critical,
                "WARNING" => Severity::Warning,
                _ => Severity::Info,
            };
            let status = text(value, "alert_status");
            Some(Described {
                severity: if status == "NONE" {
                    Severity::Info
                } else {
                    severity
                },
                title: format!("Meta alert: {}", words(text(value, "alert_type"))),
                detail: text(value, "alert_description").to_owned(),
                subject: format!(
                    "alert:{}:{}",
                    text(value, "entity_id"),
                    text(value, "alert_type")
                ),
            })
        }
        "account_review" => {
            let decision = text(value, "decision");
            let (severity, title) = match decision {
                "APPROVED" => (
                    Severity::Info,
                    "Meta approved the WhatsApp Business Account",
                ),
                "REJECTED" => (
                    Severity::Critical,
                    "Meta rejected the WhatsApp Business Account",
                ),
                "" => return None,
                _ => (Severity::Warning, "The account's review is not finished"),
            };
            Some(Described {
                severity,
                title: title.into(),
                detail: format!("Review decision: {}.", words(decision)),
                subject: "review".into(),
            })
        }
        "phone_quality" => {
            let number = text(value, "display_phone_number");
            let limit = ["max_daily_conversations_per_business", "current_limit"]
                .iter()
                .map(|k| text(value, k))
                .find(|t| !t.is_empty())
                .map(tier_words);
            let limit_text = limit
                .as_deref()
                .map(|l| format!(" Messaging limit: {l}."))
                .unwrap_or_default();
            let (severity, title) = match text(value, "event") {
                "FLAGGED" => (
                    Severity::Warning,
                    format!("+{number}'s quality is low: Meta flagged it"),
                ),
                "DOWNGRADE" => (
                    Severity::Warning,
                    format!("Meta lowered +{number}'s messaging limit"),
                ),
                "UNFLAGGED" => (Severity::Info, format!("+{number}'s quality recovered")),
                "UPGRADE" => (
                    Severity::Info,
                    format!("Meta raised +{number}'s messaging limit"),
                ),
                "THROUGHPUT_UPGRADE" => (
                    Severity::Info,
                    format!("+{number} now sends at higher throughput"),
                ),
                "ONBOARDING" => (Severity::Info, format!("+{number} is being registered")),
                "" => return None,
                other => (Severity::Info, format!("+{number}: {}", words(other))),
            };
            Some(Described {
                severity,
                title,
                detail: match text(value, "old_limit") {
                    "" => limit_text.trim().to_owned(),
                    old => format!("Was {}.{limit_text}", tier_words(old)),
                },
                subject: format!("number:{number}"),
            })
        }
        "business_capability" => {
            let mut parts = Vec::new();
            if let Some(t) = value["max_daily_conversations_per_business"].as_str() {
                parts.push(format!("the business may reach {}", tier_words(t)));
            }
            if let Some(n) = value["max_daily_conversation_per_phone"].as_i64() {
                parts.push(format!("{n} customers a day per number"));
            }
            if let Some(n) = value["max_phone_numbers_per_business"].as_i64() {
                parts.push(format!("at most {n} phone numbers"));
            }
            if parts.is_empty() {
                return None;
            }
            Some(Described {
                severity: Severity::Info,
                title: "Meta changed the business's messaging limits".into(),
                detail: format!("Now {}.", parts.join(", ")),
                subject: "capability".into(),
            })
        }
        "template_quality" => {
            let name = text(value, "message_template_name");
            let new = text(value, "new_quality_score");
            let severity = match new {
                "RED" | "YELLOW" => Severity::Warning,
                "" => return None,
                _ => Severity::Info,
            };
            Some(Described {
                severity,
                title: format!("Template “{name}”'s quality is {}", words(new)),
                detail: format!(
                    "Was {}.{}",
                    words(text(value, "previous_quality_score")),
                    if new == "RED" {
                        " Meta pauses templates whose quality stays low."
                    } else {
                        ""
                    }
                ),
                subject: format!("template:{}", text(value, "message_template_id")),
            })
        }
        "template_category" => {
            let name = text(value, "message_template_name");
            let new = text(value, "new_category");
            if new.is_empty() {
                return None;
            }
            Some(Described {
                severity: Severity::Warning,
                title: format!("Meta re-categorised template “{name}” as {}", words(new)),
                detail: format!(
                    "Was {}. The category sets each message's price and who may receive it.",
                    words(text(value, "previous_category"))
                ),
                subject: format!(
                    "template-category:{}",
                    value["message_template_id"]
                        .as_i64()
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| text(value, "message_template_id").to_owned())
                ),
            })
        }
        _ => None,
    }
}

/// The Activity Log's screen and action for a kind.
fn logged_as(kind: &str) -> (Screen, &'static str) {
    match kind {
        "phone_quality" => (Screen::Numbers, "meta.phone_quality"),
        "business_capability" => (Screen::Numbers, "meta.business_capability"),
        "template_quality" => (Screen::Templates, "meta.template_quality"),
        "template_category" => (Screen::Templates, "meta.template_category"),
        "account_alert" => (Screen::Connection, "meta.account_alert"),
        "account_review" => (Screen::Connection, "meta.account_review"),
        _ => (Screen::Connection, "meta.account_update"),
    }
}

inventory::submit! { crate::handlers::DefaultHandler { order: 40, make: handler } }

/// Meta's account, number and template notices, applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if KINDS.contains(&e.kind.as_str()) {
                ws.apply_account_event(e).await?;
            }
            Ok(())
        })
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "account notices",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

impl Workspace {
    async fn apply_account_event(&self, e: &ReceivedEvent) -> Result<()> {
        let raw: Value = serde_json::from_str(e.raw.get()).unwrap_or(Value::Null);
        let Some(d) = describe(&e.kind, &raw["value"]) else {
            return Ok(());
        };
        let mut tx = crate::db::write_tx_in(self.db()).await?;
        let severity = d.severity.key();
        let inserted = sqlx::query!(
            "INSERT INTO account_notices (key, seq, kind, severity, title, detail, subject, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            e.key,
            e.seq,
            e.kind,
            severity,
            d.title,
            d.detail,
            d.subject,
            e.received_at
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Logged once, however often the event is applied.
        if inserted == 1 {
            let (screen, action) = logged_as(&e.kind);
            audit::insert(
                &mut tx,
                &Principal::system(SystemTask::Sync),
                &Change::new(screen, action, d.title.clone()),
                Outcome::Ok,
                Some(&d.detail),
            )
            .await?;
        }
        tx.commit().await?;
        if inserted == 1 {
            self.records_changed(Screen::Connection);
        }
        Ok(())
    }
}

impl Ctx<'_> {
    /// What the banner shows: per subject, the newest notice, when it is a warning or worse and
    /// not dismissed here; critical first, then newest.
    pub async fn account_notices(&self) -> Result<Vec<AccountNotice>> {
        self.actor().await?;
        let rows = sqlx::query!(
            r#"SELECT n.id AS "id!", n.kind, n.severity, n.title, n.detail, n.received_at
               FROM account_notices n
               WHERE n.dismissed_at IS NULL AND n.severity != 'info'
                 AND n.seq = (SELECT MAX(m.seq) FROM account_notices m WHERE m.subject = n.subject)
               ORDER BY n.severity = 'critical' DESC, n.received_at DESC
               LIMIT 20"#
        )
        .fetch_all(self.db())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AccountNotice {
                id: r.id,
                kind: r.kind,
                severity: Severity::parse(&r.severity),
                title: r.title,
                detail: r.detail,
                received_at: r.received_at,
            })
            .collect())
    }

    /// Hides a notice from the banner on this desktop (the Activity Log keeps it).
    pub async fn dismiss_account_notice(&self, id: i64) -> Result<()> {
        self.actor().await?;
        let now = self.now_ms();
        let n = sqlx::query!(
            "UPDATE account_notices SET dismissed_at = ? WHERE id = ? AND dismissed_at IS NULL",
            now,
            id
        )
        .execute(self.db())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(AccountError::NotFound(id).into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restrictions_bans_and_reinstatement_are_named() {
        let r = describe(
            "account_update",
            &json!({"phone_number": "15550783881", "event": "ACCOUNT_RESTRICTION",
                    "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                          "expiration": "2026-12-19T13:59:20+0000"}]}),
        )
        .unwrap();
        assert_eq!(r.severity, Severity::Critical);
        assert!(
            r.detail
                .contains("starting conversations (templates) until 2026-12-19 13:59 UTC"),
            "{r:?}"
        );
        let ban = describe(
            "account_update",
            &json!({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "SCHEDULE_FOR_DISABLE", "waba_ban_date": "2026-12-20"}}),
        )
        .unwrap();
        assert!(ban.title.contains("will disable") && ban.title.contains("2026-12-20"));
        let back = describe(
            "account_update",
            &json!({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "REINSTATE"}}),
        )
        .unwrap();
        assert_eq!(
            (back.severity, back.subject.as_str()),
            (Severity::Info, "account")
        );
        assert!(describe("account_update", &json!({})).is_none());
    }

    #[test]
    fn limits_quality_and_categories_are_in_words() {
        let q = describe(
            "phone_quality",
            &json!({"display_phone_number": "15550783881", "event": "DOWNGRADE",
                    "old_limit": "TIER_10K", "max_daily_conversations_per_business": "TIER_2K"}),
        )
        .unwrap();
        assert_eq!(q.severity, Severity::Warning);
        assert_eq!(
            q.detail,
            "Was 10,000 customers a day. Messaging limit: 2,000 customers a day."
        );
        let t = describe(
            "template_category",
            &json!({"message_template_id": 12345, "message_template_name": "order_ready",
                    "message_template_language": "en_US", "previous_category": "UTILITY",
                    "new_category": "MARKETING"}),
        )
        .unwrap();
        assert_eq!(
            t.title,
            "Meta re-categorised template “order_ready” as marketing"
        );
        assert_eq!(t.subject, "template-category:12345");
        let red = describe(
            "template_quality",
            &json!({"previous_quality_score": "GREEN", "new_quality_score": "RED",
                    "message_template_id": 1, "message_template_name": "promo"}),
        )
        .unwrap();
        assert!(red.detail.contains("pauses"));
    }
}
