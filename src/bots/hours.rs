//! Business hours (Settings → Bots): the workspace's time zone and, per weekday, when it opens
//! and closes. A bot's condition "within business hours" reads them, on whichever replica runs
//! automation, so they are the team's: an administrator's change is a `settings.business_hours`
//! event, the log's last one kept everywhere.

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use ts_rs::TS;

use super::BotsError;
use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};
use crmconnect_events::payloads::BusinessHours as HoursEvent;

/// One day's hours: opens and closes, in minutes after midnight (`[540, 1020)` is 9:00–17:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DayHours {
    pub opens: u16,
    pub closes: u16,
}

/// The workspace's business hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BusinessHours {
    /// An IANA time zone (`Europe/Bucharest`).
    pub time_zone: String,
    /// Seven days, Monday first; null: closed.
    pub days: Vec<Option<DayHours>>,
    /// Nobody set them: the default (Monday to Friday, 9:00 to 17:00 UTC).
    #[serde(default)]
    pub default: bool,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let weekday = Some(DayHours {
            opens: 9 * 60,
            closes: 17 * 60,
        });
        BusinessHours {
            time_zone: "UTC".into(),
            days: vec![weekday, weekday, weekday, weekday, weekday, None, None],
            default: true,
        }
    }
}

impl BusinessHours {
    /// Whether `at_ms` (Unix time) falls within them, in their time zone.
    pub fn open_at(&self, at_ms: i64) -> bool {
        let Ok(tz) = jiff::tz::TimeZone::get(&self.time_zone) else {
            return false;
        };
        let Ok(ts) = jiff::Timestamp::from_millisecond(at_ms) else {
            return false;
        };
        let local = ts.to_zoned_datetime(tz);
        let day = local.weekday().to_monday_zero_offset() as usize;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.days
            .get(day)
            .copied()
            .flatten()
            .is_some_and(|d| d.opens <= minute && minute < d.closes)
    }

    fn event(&self) -> HoursEvent {
        HoursEvent {
            time_zone: self.time_zone.clone(),
            days: self
                .days
                .iter()
                .map(|d| d.map(|d| [d.opens, d.closes]))
                .collect(),
        }
    }

    fn of_event(e: &HoursEvent) -> Self {
        BusinessHours {
            time_zone: e.time_zone.clone(),
            days: e
                .days
                .iter()
                .map(|d| d.map(|[opens, closes]| DayHours { opens, closes }))
                .collect(),
            default: false,
        }
    }

    /// What is wrong with them, named for a person: the time zone unknown, a day that closes
    /// before it opens.
    fn check(&self) -> std::result::Result<(), String> {
        const DAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        if jiff::tz::TimeZone::get(self.time_zone.trim()).is_err() {
            return Err(format!(
                "“{}” is not a time zone (use a name such as Europe/Bucharest or America/New_York)",
                self.time_zone
            ));
        }
        if self.days.len() != 7 {
            return Err(format!("{} days given, not 7", self.days.len()));
        }
        for (day, hours) in DAYS.iter().zip(&self.days) {
            if let Some(d) = hours
                && (d.opens >= d.closes || d.closes > 24 * 60)
            {
                return Err(format!("{day} closes before it opens"));
            }
        }
        self.event().problem().map_or(Ok(()), Err)
    }
}

/// The hours as stored (the default when none are).
pub(crate) async fn load(conn: &mut SqliteConnection) -> Result<BusinessHours> {
    let row = sqlx::query!("SELECT time_zone, days FROM business_hours WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .and_then(|r| {
            let days = serde_json::from_str(&r.days).ok()?;
            Some(BusinessHours::of_event(&HoursEvent {
                time_zone: r.time_zone,
                days,
            }))
        })
        .unwrap_or_default())
}

async fn store(conn: &mut SqliteConnection, h: &HoursEvent, seq: Option<i64>) -> Result<()> {
    let days = serde_json::to_string(&h.days).expect("days serialise");
    let now = crate::now_ms();
    sqlx::query!(
        "INSERT INTO business_hours (id, time_zone, days, seq, updated_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone, days = excluded.days,
             seq = coalesce(excluded.seq, business_hours.seq), updated_at = excluded.updated_at",
        h.time_zone,
        days,
        seq,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const SUBJECT: &str = "settings:business_hours";

impl Ctx<'_> {
    pub async fn business_hours(&self) -> Result<BusinessHours> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        load(&mut *self.db().acquire().await?).await
    }

    /// Sets the business hours (administrators), for the whole team.
    pub async fn set_business_hours(&self, input: BusinessHours) -> Result<BusinessHours> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("the business hours");
        let input = BusinessHours {
            time_zone: input.time_zone.trim().to_owned(),
            default: false,
            ..input
        };
        input.check().map_err(BotsError::Invalid)?;
        let event = input.event();
        let publisher = actor.clone();
        let detail = describe(&input);
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Settings,
                "settings.business_hours",
                "business hours",
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    store(tx, &event, None).await?;
                    let payload = serde_json::to_value(&event).expect("hours serialise");
                    crate::outbox::emit_about(
                        tx,
                        &publisher,
                        "settings.business_hours",
                        &payload,
                        SUBJECT,
                    )
                    .await?;
                    Ok(((), Some(detail)))
                })
            }),
        )
        .await?;
        self.outbox_written();
        self.business_hours().await
    }
}

/// "Europe/Bucharest: Mon 09:00–17:00, …" for the Activity Log.
fn describe(h: &BusinessHours) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let days: Vec<String> = DAYS
        .iter()
        .zip(&h.days)
        .filter_map(|(d, hours)| hours.map(|x| format!("{d} {}–{}", hm(x.opens), hm(x.closes))))
        .collect();
    format!(
        "{}: {}",
        h.time_zone,
        if days.is_empty() {
            "closed every day".to_owned()
        } else {
            days.join(", ")
        }
    )
}

inventory::submit! { crate::handlers::DefaultHandler { order: 15, make: handler } }

/// The team's business hours, applied on every replica: the log's last word is kept.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "business hours",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    if e.kind != "settings.business_hours" {
        return Ok(());
    }
    let Some(h) = crate::handlers::read_payload::<HoursEvent>(e, HoursEvent::problem) else {
        return Ok(());
    };
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let what = "business hours".to_owned();
    if !crate::staff::shared::author_allowed(&mut tx, e, Screen::Settings, what).await? {
        tx.commit().await?;
        return Ok(());
    }
    // This desktop's own earlier change coming back while a later one is on its way: the later
    // one stays shown (it arrives after).
    if !crate::outbox::superseded_here(&mut tx, &e.key, SUBJECT).await? {
        store(&mut tx, &h, Some(e.seq)).await?;
    }
    tx.commit().await?;
    ws.records_changed(Screen::Settings);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 (a Monday) at `h`:`m` UTC, in ms.
    fn monday_utc(h: i64, m: i64) -> i64 {
        (1_796_601_600 + h * 3600 + m * 60) * 1000
    }

    #[test]
    fn hours_are_read_in_their_time_zone_with_its_summer_and_winter() {
        let default = BusinessHours::default();
        assert!(default.open_at(monday_utc(9, 0)));
        assert!(!default.open_at(monday_utc(8, 59)));
        assert!(!default.open_at(monday_utc(17, 0)));
        // Bucharest is UTC+2 in December: 9:00 there is 7:00 UTC.
        let bucharest = BusinessHours {
            time_zone: "Europe/Bucharest".into(),
            ..BusinessHours::default()
        };
        assert!(bucharest.open_at(monday_utc(7, 0)));
        assert!(!bucharest.open_at(monday_utc(15, 0)));
        // In July (UTC+3) 9:00 there is 6:00 UTC: Monday 2026-07-06.
        let july_monday_6_utc = (1_783_296_000 + 6 * 3600) * 1000;
        assert!(bucharest.open_at(july_monday_6_utc));
        // Sunday closed; an unknown zone is never open.
        assert!(!default.open_at(monday_utc(12, 0) - 86_400_000));
        let nowhere = BusinessHours {
            time_zone: "Mars/Olympus".into(),
            ..BusinessHours::default()
        };
        assert!(!nowhere.open_at(monday_utc(12, 0)));
        assert!(nowhere.check().unwrap_err().contains("not a time zone"));
    }

    #[test]
    fn a_day_that_closes_before_it_opens_is_refused_by_name() {
        let mut h = BusinessHours::default();
        h.days[2] = Some(DayHours {
            opens: 600,
            closes: 540,
        });
        assert_eq!(h.check().unwrap_err(), "Wednesday closes before it opens");
        assert_eq!(
            describe(&BusinessHours::default()),
            "UTC: Mon 09:00–17:00, Tue 09:00–17:00, Wed 09:00–17:00, Thu 09:00–17:00, Fri 09:00–17:00"
        );
    }
}
