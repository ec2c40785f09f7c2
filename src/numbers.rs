//! Numbers: the WABA's connected phone numbers with their business profiles, quality rating and
//! messaging limit, cached locally. Profile pictures are fetched by Rust with the token and handed
//! to the webview as bytes: it never sees the token or a Meta URL.

use serde::Serialize;
use ts_rs::TS;

use crate::audit::{self, Change};
use crate::meta::numbers::BusinessProfile;
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crate::{ErrorCode, Result};
use crmconnect_events::payloads::{NumberState, NumbersRefreshed};

#[derive(Debug, thiserror::Error)]
pub enum NumbersError {
    #[error("Meta refused: {0}")]
    Meta(#[from] crate::meta::ClientError),
    #[error("number {0} is not among the connected numbers")]
    Unknown(String),
}

impl crate::error::Coded for NumbersError {
    fn code(&self) -> ErrorCode {
        NumbersError::code(self)
    }
}

impl NumbersError {
    pub fn code(&self) -> ErrorCode {
        match self {
            NumbersError::Meta(_) => ErrorCode::Invalid,
            NumbersError::Unknown(_) => ErrorCode::NotFound,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NumberView {
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: Option<String>,
    pub messaging_limit: Option<String>,
    pub status: Option<String>,
    pub throughput: Option<String>,
    pub about: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub websites: Vec<String>,
    pub vertical: Option<String>,
    pub has_picture: bool,
    pub fetched_at: i64,
}

/// A profile picture for the webview: bytes as a data URL, never Meta's URL.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Picture {
    pub data_url: String,
}

impl Workspace {
    async fn fetch_numbers(&self) -> Result<Vec<Fetched>> {
        let (client, ids) = self.graph_client().await?;
        let numbers = client
            .phone_numbers(&ids.waba_id)
            .await
            .map_err(NumbersError::from)?;
        let mut out = Vec::with_capacity(numbers.len());
        for number in numbers {
            let profile = client
                .business_profile(&number.id)
                .await
                .map_err(NumbersError::from)?;
            let picture = match profile.profile_picture_url.as_deref() {
                Some(url) if !url.is_empty() => match client.profile_picture(url).await {
                    Ok(bytes) => Some((bytes.clone(), sniff_image(&bytes).to_owned())),
                    Err(e) => {
                        tracing::warn!(number = %number.id, error = %e, "profile picture not fetched");
                        None
                    }
                },
                _ => None,
            };
            out.push(Fetched {
                number,
                profile: BusinessProfile {
                    profile_picture_url: None, // Meta's URL expires and is useless to the webview
                    ..profile
                },
                picture,
            });
        }
        Ok(out)
    }
}

/// The business portfolio's messaging limit (unique recipients outside a window in 24 hours,
/// shared by all its numbers) as the cached numbers say it: the highest tier any reports, `None`
/// when unknown or unlimited.
pub(crate) async fn messaging_limit(conn: &mut sqlx::SqliteConnection) -> Result<Option<i64>> {
    let tiers = sqlx::query_scalar!(
        r#"SELECT messaging_limit AS "limit!" FROM numbers WHERE messaging_limit IS NOT NULL"#
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut best: Option<i64> = None;
    for t in tiers {
        match tier_size(&t) {
            Some(n) => best = Some(best.map_or(n, |b| b.max(n))),
            None if t.eq_ignore_ascii_case("TIER_UNLIMITED") => return Ok(None),
            None => {}
        }
    }
    Ok(best)
}

/// `TIER_250` → 250, `TIER_1K` → 1,000, `TIER_100K` → 100,000.
pub fn tier_size(tier: &str) -> Option<i64> {
    let t = tier.strip_prefix("TIER_")?;
    let (digits, factor) = match t.strip_suffix('K') {
        Some(d) => (d, 1000),
        None => match t.strip_suffix('M') {
            Some(d) => (d, 1_000_000),
            None => (t, 1),
        },
    };
    digits.parse::<i64>().ok().map(|n| n * factor)
}

impl Ctx<'_> {
    /// The cached numbers (no call to Meta). `whatsapp_numbers` view.
    pub async fn numbers(&self) -> Result<Vec<NumberView>> {
        self.actor()
            .await?
            .require(Resource::WhatsappNumbers, Action::View)?;
        let rows = sqlx::query!(
            r#"SELECT phone_number_id, display_phone_number, verified_name, quality_rating, messaging_limit,
                      status, throughput, profile, picture IS NOT NULL AS "has_picture!: bool", fetched_at
               FROM numbers ORDER BY verified_name, phone_number_id"#
        )
        .fetch_all(self.db())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let p: BusinessProfile = serde_json::from_str(&r.profile).unwrap_or_default();
                NumberView {
                    phone_number_id: r.phone_number_id,
                    display_phone_number: r.display_phone_number,
                    verified_name: r.verified_name,
                    quality_rating: r.quality_rating,
                    messaging_limit: r.messaging_limit,
                    status: r.status,
                    throughput: r.throughput,
                    about: p.about,
                    address: p.address,
                    description: p.description,
                    email: p.email,
                    websites: p.websites,
                    vertical: p.vertical,
                    has_picture: r.has_picture,
                    fetched_at: r.fetched_at,
                }
            })
            .collect())
    }

    /// Fetches the numbers, their profiles and pictures from Meta and replaces the cache.
    pub async fn refresh_numbers(&self) -> Result<Vec<NumberView>> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappNumbers, Action::View);
        // Everything from Meta first, outside the transaction; then one atomic swap.
        let fetched = match allowed {
            Ok(()) => Some(self.fetch_numbers().await?),
            Err(_) => None,
        };
        let publisher = actor.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Numbers, "numbers.refresh", "connected numbers"),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let fetched = fetched.unwrap_or_default();
                    // The team sees what Meta said, desktops that keep no token included.
                    let shared = NumbersRefreshed {
                        numbers: fetched
                            .iter()
                            .map(|f| NumberState {
                                phone_number_id: f.number.id.clone(),
                                display_phone_number: f.number.display_phone_number.clone(),
                                verified_name: f.number.verified_name.clone(),
                                quality_rating: f.number.quality_rating.clone(),
                                messaging_limit: f.number.messaging_limit(),
                                status: f.number.status.clone(),
                                throughput: f.number.throughput.as_ref().map(|t| t.level.clone()),
                                profile: serde_json::to_value(&f.profile).unwrap_or_else(|_| serde_json::json!({})),
                            })
                            .collect(),
                    };
                    let payload = serde_json::to_value(&shared).expect("numbers serialise");
                    crate::outbox::emit(tx, &publisher, "numbers.refreshed", &payload).await?;
                    sqlx::query!("DELETE FROM numbers").execute(&mut *tx).await?;
                    let now = crate::now_ms();
                    for f in &fetched {
                        let n = &f.number;
                        let limit = n.messaging_limit();
                        let throughput = n.throughput.as_ref().map(|t| t.level.clone());
                        let profile = serde_json::to_string(&f.profile).unwrap_or_else(|_| "{}".into());
                        let (picture, mime) = match &f.picture {
                            Some((bytes, mime)) => (Some(bytes.as_slice()), Some(mime.as_str())),
                            None => (None, None),
                        };
                        sqlx::query!(
                            "INSERT INTO numbers (phone_number_id, display_phone_number, verified_name, quality_rating,
                               messaging_limit, status, throughput, profile, picture, picture_mime, fetched_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            n.id,
                            n.display_phone_number,
                            n.verified_name,
                            n.quality_rating,
                            limit,
                            n.status,
                            throughput,
                            profile,
                            picture,
                            mime,
                            now
                        )
                        .execute(&mut *tx)
                        .await?;
                    }
                    Ok(((), Some(format!("{} number(s)", fetched.len()))))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.load_throughput_levels().await?;
        self.numbers().await
    }

    /// A number's cached profile picture, for the webview.
    pub async fn number_picture(&self, phone_number_id: &str) -> Result<Option<Picture>> {
        self.actor()
            .await?
            .require(Resource::WhatsappNumbers, Action::View)?;
        let row = sqlx::query!(
            "SELECT picture, picture_mime FROM numbers WHERE phone_number_id = ?",
            phone_number_id
        )
        .fetch_optional(self.db())
        .await?
        .ok_or_else(|| NumbersError::Unknown(phone_number_id.into()))?;
        Ok(row.picture.map(|bytes| {
            use base64::Engine;
            let mime = row.picture_mime.unwrap_or_else(|| "image/png".into());
            Picture {
                data_url: format!(
                    "data:{mime};base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
            }
        }))
    }
}

struct Fetched {
    number: crate::meta::numbers::PhoneNumber,
    profile: BusinessProfile,
    picture: Option<(Vec<u8>, String)>,
}

/// The image type from its first bytes (the webview needs a right data-URL type).
fn sniff_image(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

inventory::submit! { crate::handlers::DefaultHandler { order: 21, make: team_handler } }

/// `numbers.refreshed` from a desktop of the team (or this one, back from the log): the cache
/// becomes what Meta said. A picture stays where it was fetched; one kept here for a number that
/// is still there stays too.
pub fn team_handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if e.kind != "numbers.refreshed" {
                return Ok(());
            }
            let Some(refreshed) =
                crate::handlers::read_payload::<NumbersRefreshed>(e, NumbersRefreshed::problem)
            else {
                return Ok(());
            };
            let mut tx = crate::db::write_tx_in(ws.db()).await?;
            let what = format!("{} number(s)", refreshed.numbers.len());
            if !crate::staff::shared::author_allowed(&mut tx, e, Screen::Numbers, what).await? {
                tx.commit().await?;
                return Ok(());
            }
            let ids = serde_json::to_string(
                &refreshed
                    .numbers
                    .iter()
                    .map(|n| n.phone_number_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .expect("ids serialise");
            sqlx::query!(
                "DELETE FROM numbers WHERE phone_number_id NOT IN (SELECT value FROM json_each(?))",
                ids
            )
            .execute(&mut *tx)
            .await?;
            let now = crate::now_ms();
            for n in &refreshed.numbers {
                let profile = n.profile.to_string();
                sqlx::query!(
                    "INSERT INTO numbers (phone_number_id, display_phone_number, verified_name, quality_rating,
                       messaging_limit, status, throughput, profile, fetched_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (phone_number_id) DO UPDATE SET
                       display_phone_number = excluded.display_phone_number,
                       verified_name = excluded.verified_name, quality_rating = excluded.quality_rating,
                       messaging_limit = excluded.messaging_limit, status = excluded.status,
                       throughput = excluded.throughput, profile = excluded.profile,
                       fetched_at = excluded.fetched_at",
                    n.phone_number_id,
                    n.display_phone_number,
                    n.verified_name,
                    n.quality_rating,
                    n.messaging_limit,
                    n.status,
                    n.throughput,
                    profile,
                    now
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            ws.records_changed(Screen::Numbers);
            ws.load_throughput_levels().await?;
            Ok(())
        })
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "team numbers",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

inventory::submit! { crate::handlers::DefaultHandler { order: 21, make: quality_handler } }

/// Meta's `phone_number_quality_update`: the number's messaging limit as Meta now says, on every
/// replica (the account module shows the notice).
pub fn quality_handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a crate::relay::events::ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if e.kind == "phone_quality" {
                ws.apply_number_quality(e).await?;
            }
            Ok(())
        })
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "number quality",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

impl Workspace {
    async fn apply_number_quality(&self, e: &crate::relay::events::ReceivedEvent) -> Result<()> {
        let raw: serde_json::Value = serde_json::from_str(e.raw.get()).unwrap_or_default();
        let v = &raw["value"];
        let Some(number) = v["display_phone_number"].as_str() else {
            return Ok(());
        };
        // Meta's throughput upgrade: the number sends at the high level from now on. Its
        // `current_limit` (TIER_UNLIMITED) speaks of throughput, not of the messaging limit.
        let upgraded = v["event"].as_str() == Some("THROUGHPUT_UPGRADE");
        let limit = (!upgraded)
            .then(|| {
                ["max_daily_conversations_per_business", "current_limit"]
                    .iter()
                    .find_map(|k| {
                        v[k].as_str()
                            .filter(|t| !t.is_empty() && *t != "TIER_UNLIMITED")
                    })
            })
            .flatten();
        let throughput = upgraded.then_some("HIGH");
        let flagged = match v["event"].as_str() {
            Some("FLAGGED") => Some("RED"),
            Some("UNFLAGGED") => Some("GREEN"),
            _ => None,
        };
        // Meta writes the display number with or without spaces and a plus: compare digits.
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        let changed = sqlx::query!(
            "UPDATE numbers SET messaging_limit = COALESCE(?, messaging_limit),
                                quality_rating = COALESCE(?, quality_rating),
                                throughput = COALESCE(?, throughput)
             WHERE replace(replace(replace(replace(replace(display_phone_number, '+', ''), ' ', ''), '-', ''), '(', ''), ')', '') = ?",
            limit,
            flagged,
            throughput,
            digits
        )
        .execute(self.db())
        .await?
        .rows_affected();
        if changed > 0 {
            self.records_changed(Screen::Numbers);
            if upgraded {
                self.load_throughput_levels().await?;
            }
        }
        Ok(())
    }

    /// The numbers at Meta's high throughput level, as Meta last said.
    pub(crate) async fn high_throughput_numbers(
        &self,
    ) -> Result<std::collections::HashSet<String>> {
        Ok(
            sqlx::query_scalar!("SELECT phone_number_id FROM numbers WHERE throughput = 'HIGH'")
                .fetch_all(self.db())
                .await?
                .into_iter()
                .collect(),
        )
    }

    /// Sends follow the numbers' throughput levels (the Graph client and automation's budget).
    pub(crate) async fn load_throughput_levels(&self) -> Result<()> {
        let high = self.high_throughput_numbers().await?;
        self.set_high_throughput_numbers(high).await;
        Ok(())
    }
}
