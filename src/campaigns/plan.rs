//! Planning: the audience is frozen. Each recipient row holds its number and the template's
//! parameters rendered at that moment (so the report never counts a moving audience), and the
//! plan says, before anything is sent, who is left out and why, and whether the business's
//! messaging limit fits.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Audience, CampaignStatus, CampaignsError, Retarget, shared, status_of};
use crate::Result;
use crate::audit::{self, Change};
use crate::meta::messages::is_user_id;
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::templates::{AudienceMember, Source};
use crate::workspace::Ctx;
use crmconnect_events::payloads::{CampaignRecipients, CampaignState, RecipientEntry};

/// The most bytes of recipients' JSON one `campaign.recipients` part carries.
const PART_BYTES: usize = 900 * 1024;

/// What planning found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PlanFigures {
    /// Members the audience selected.
    pub selected: i64,
    /// Records of that kind in the CRM (leads or contacts): "selected of all".
    pub in_crm: i64,
    /// Who will be sent to.
    pub recipients: i64,
    pub no_number: i64,
    /// Our STOP keyword, or Meta's marketing opt-out (for a marketing template).
    pub opted_out: i64,
    /// Reached only by a business-scoped user id, which an authentication template cannot go to.
    pub user_id_only: i64,
    /// A merge field the template needs has no value for them.
    pub missing_values: i64,
    /// The same number twice: sent once.
    pub duplicates: i64,
    /// The merge fields that had no value, by label, each with how many recipients lack it.
    pub missing_fields: Vec<MissingField>,
    /// The message as the first recipient will read it.
    pub sample: Option<Sample>,
    /// The business portfolio's messaging limit (unique recipients in 24 hours), when known.
    pub messaging_limit: Option<i64>,
    /// Days the recipients need at that limit (1 when it fits).
    pub days_needed: i64,
    pub planned_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export, rename = "PlanMissingField")]
pub struct MissingField {
    pub field: String,
    pub recipients: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export, rename = "PlanSample")]
pub struct Sample {
    pub name: String,
    pub phone: String,
    pub body: String,
}

impl Ctx<'_> {
    /// Freezes the audience of a draft (or planned) campaign: see the module's documentation.
    pub async fn plan_campaign(&self, id: i64) -> Result<super::Campaign> {
        let actor = self.actor().await?;
        let allowed = actor.require(Resource::WhatsappCampaign, Action::Edit);
        let mut conn = self.db().acquire().await?;
        let stored = shared::load(&mut conn, id).await?;
        drop(conn);
        let frozen = match &allowed {
            Ok(()) => Some(self.freeze(&stored.state).await?),
            Err(_) => None,
        };
        let publisher = actor.clone();
        let by = actor.name.clone();
        let now = self.workspace().now_ms();
        let view = audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Campaigns,
                "campaigns.plan",
                format!("campaign “{}”", stored.state.name),
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    let (rows, figures) = frozen.expect("frozen when allowed");
                    let s = shared::load(tx, id).await?.state;
                    if !matches!(
                        status_of(&s),
                        CampaignStatus::Draft | CampaignStatus::Planned
                    ) {
                        return Err(CampaignsError::WrongStatus {
                            name: s.name.clone(),
                            status: status_of(&s).key(),
                            what: "only a draft or a planned campaign can be planned".into(),
                        }
                        .into());
                    }
                    // A draft first (its old rows let go everywhere), then planned.
                    let draft = CampaignState {
                        status: "draft".into(),
                        plan: None,
                        version: s.version + 1,
                        ..s
                    };
                    shared::write(tx, &draft, &by, now).await?;
                    crate::outbox::emit(
                        tx,
                        &publisher,
                        "campaign.updated",
                        &serde_json::to_value(&draft).expect("a campaign serialises"),
                    )
                    .await?;
                    let detail = format!(
                        "{} recipients, {} left out",
                        figures.recipients,
                        figures.selected - figures.recipients
                    );
                    let planned = CampaignState {
                        status: "planned".into(),
                        plan: Some(serde_json::to_value(&figures).expect("figures serialise")),
                        version: draft.version + 1,
                        ..draft
                    };
                    let stored = shared::write(tx, &planned, &by, now)
                        .await?
                        .ok_or(CampaignsError::NotFound(id))?;
                    crate::outbox::emit(
                        tx,
                        &publisher,
                        "campaign.updated",
                        &serde_json::to_value(&planned).expect("a campaign serialises"),
                    )
                    .await?;
                    shared::insert_recipients(tx, &planned.uid, 0, &rows, now).await?;
                    for (first, data) in parts(&rows) {
                        let part = CampaignRecipients {
                            campaign: planned.uid.clone(),
                            first,
                            data,
                        };
                        crate::outbox::emit(
                            tx,
                            &publisher,
                            "campaign.recipients",
                            &serde_json::to_value(&part).expect("a part serialises"),
                        )
                        .await?;
                    }
                    Ok((shared::view(tx, stored, now).await?, Some(detail)))
                })
            }),
        )
        .await?;
        self.workspace().outbox_written();
        self.workspace().records_changed(Screen::Campaigns);
        Ok(view)
    }

    /// The frozen rows and the plan's figures of a campaign as it stands (nothing stored).
    pub(crate) async fn freeze(
        &self,
        s: &CampaignState,
    ) -> Result<(Vec<RecipientEntry>, PlanFigures)> {
        let ws = self.workspace();
        let template = {
            let id = sqlx::query_scalar!(
                r#"SELECT id AS "id!" FROM templates WHERE name = ? AND language = ?"#,
                s.template_name,
                s.template_language
            )
            .fetch_optional(ws.db())
            .await?
            .ok_or_else(|| CampaignsError::Invalid {
                field: "template_id",
                problem: format!(
                    "the template “{}” ({}) is not here any more",
                    s.template_name, s.template_language
                ),
            })?;
            ws.template_unchecked(id).await?
        };
        if template.status != "APPROVED" {
            return Err(CampaignsError::Invalid {
                field: "template_id",
                problem: format!(
                    "“{}” is {}: only an approved template can be sent",
                    template.name, template.status
                ),
            }
            .into());
        }
        let def: crate::meta::templates::TemplateDef =
            serde_json::from_value(template.definition.clone())
                .map_err(|e| CampaignsError::Corrupt(template.name.clone(), e.to_string()))?;
        if let Err(e) = crate::templates::check_mapping(&def, &template.mapping) {
            return Err(CampaignsError::Invalid {
                field: "template_id",
                problem: format!(
                    "“{}” is not fully mapped ({e}): map its variables on the Templates screen",
                    template.name
                ),
            }
            .into());
        }
        if template
            .variables
            .iter()
            .any(|v| v.kind != crate::meta::templates::VariableKind::Text)
        {
            return Err(CampaignsError::Invalid {
                field: "template_id",
                problem: format!(
                    "“{}” has a media header, which campaigns cannot fill yet: choose a template without one",
                    template.name
                ),
            }
            .into());
        }
        let recipe = recipe(&def, &template.mapping);
        let audience: Audience = serde_json::from_value(s.audience.clone())
            .map_err(|e| CampaignsError::Corrupt(s.name.clone(), format!("audience: {e}")))?;
        let labels: Vec<(String, String)> = crate::templates::merge_fields()
            .into_iter()
            .map(|f| (f.key, f.label))
            .collect();
        let label = |key: &str| {
            labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| key.to_owned())
        };
        let mut conn = ws.db().acquire().await?;
        let mut opted_out: HashSet<String> =
            sqlx::query_scalar!("SELECT phone FROM campaign_optouts")
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        let marketing = s.template_category.eq_ignore_ascii_case("MARKETING");
        if marketing {
            opted_out.extend(ws.marketing_stopped().await?);
        }
        let authentication = s.template_category.eq_ignore_ascii_case("AUTHENTICATION");
        let business = ws.info().name.clone();
        let mut f = PlanFigures {
            planned_at: ws.now_ms(),
            ..PlanFigures::default()
        };
        let mut rows: Vec<RecipientEntry> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut missing: Vec<MissingField> = Vec::new();
        let mut take = |phone: String,
                        name: String,
                        record: Option<String>,
                        render: &dyn Fn() -> std::result::Result<Vec<String>, String>,
                        f: &mut PlanFigures| {
            f.selected += 1;
            let skipped = if phone.is_empty() {
                f.no_number += 1;
                Some("No valid WhatsApp number".to_owned())
            } else if !seen.insert(phone.clone()) {
                f.duplicates += 1;
                Some("Listed twice: sent once".to_owned())
            } else if opted_out.contains(&phone) {
                f.opted_out += 1;
                Some("Opted out of campaigns".to_owned())
            } else if authentication && is_user_id(&phone) {
                f.user_id_only += 1;
                Some(
                    "Reached only by user id: an authentication template needs a phone number"
                        .to_owned(),
                )
            } else {
                None
            };
            let (params, skipped) = match skipped {
                Some(why) => (None, Some(why)),
                None => match render() {
                    Ok(c) => (Some(c), None),
                    Err(field) => {
                        f.missing_values += 1;
                        let l = label(&field);
                        match missing.iter_mut().find(|m| m.field == l) {
                            Some(m) => m.recipients += 1,
                            None => missing.push(MissingField {
                                field: l.clone(),
                                recipients: 1,
                            }),
                        }
                        (None, Some(format!("No value for “{l}”")))
                    }
                },
            };
            let sent = skipped.is_none();
            if sent {
                f.recipients += 1;
            }
            rows.push(RecipientEntry {
                phone,
                name,
                record,
                params,
                skipped,
            });
            sent
        };
        let mut sample_member: Option<AudienceMember> = None;
        match &audience {
            Audience::Leads { filter } => {
                let (members, total) = self.lead_audience(filter.clone()).await?;
                f.in_crm = total;
                for m in members {
                    let phone = m.phone.as_deref().map(digits).unwrap_or_default();
                    let render = || render(&recipe, &m, &business);
                    let sent = take(
                        phone,
                        m.name.clone(),
                        Some(m.record.clone()),
                        &render,
                        &mut f,
                    );
                    if sent && sample_member.is_none() {
                        sample_member = Some(m);
                    }
                }
            }
            Audience::Contacts { group_id, ids } => {
                let (members, total) = self.contact_audience(*group_id, ids).await?;
                f.in_crm = total;
                for m in members {
                    let phone = m.phone.as_deref().map(digits).unwrap_or_default();
                    let render = || render(&recipe, &m, &business);
                    let sent = take(
                        phone,
                        m.name.clone(),
                        Some(m.record.clone()),
                        &render,
                        &mut f,
                    );
                    if sent && sample_member.is_none() {
                        sample_member = Some(m);
                    }
                }
            }
            Audience::Retarget {
                campaign_uid,
                which,
            } => {
                let source = shared::load_uid(&mut conn, campaign_uid)
                    .await?
                    .ok_or_else(|| CampaignsError::Invalid {
                        field: "audience",
                        problem: "the campaign it retargets was deleted".into(),
                    })?;
                if source.state.template_name != s.template_name
                    || source.state.template_language != s.template_language
                {
                    return Err(CampaignsError::Invalid {
                        field: "template_id",
                        problem:
                            "a retargeted campaign sends the template of the campaign it retargets"
                                .into(),
                    }
                    .into());
                }
                let states: &[&str] = match which {
                    Retarget::Failed => &["failed"],
                    Retarget::Unread => &["accepted", "sent", "delivered", "held"],
                    Retarget::Deferred => &["deferred"],
                };
                let all = sqlx::query!(
                    "SELECT phone, name, record, params, state FROM campaign_recipients
                     WHERE campaign_uid = ? AND params IS NOT NULL ORDER BY idx",
                    campaign_uid
                )
                .fetch_all(&mut *conn)
                .await?;
                f.in_crm = all.len() as i64;
                for r in all
                    .into_iter()
                    .filter(|r| states.contains(&r.state.as_str()))
                {
                    let p: Option<Vec<String>> = r
                        .params
                        .as_deref()
                        .and_then(|p| serde_json::from_str(p).ok());
                    let render = || p.clone().ok_or_else(|| "params".to_owned());
                    take(r.phone, r.name, r.record, &render, &mut f);
                }
            }
        }
        f.missing_fields = missing;
        if let Some(m) = sample_member {
            let body = crate::templates::render_body(&def, &template.mapping, |k| {
                m.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
                    .or((k == "business.name").then_some(business.as_str()))
            });
            f.sample = Some(Sample {
                name: m.name.clone(),
                phone: m.phone.clone().unwrap_or_default(),
                body,
            });
        } else if let Some(r) = rows.iter().find(|r| r.skipped.is_none()) {
            // Recipients of an earlier campaign: their frozen values fill the body.
            let values: Vec<crate::templates::Binding> = def
                .variables()
                .into_iter()
                .zip(r.params.clone().unwrap_or_default())
                .map(|(variable, value)| crate::templates::Binding {
                    variable,
                    source: Source::Text { value },
                })
                .collect();
            f.sample = Some(Sample {
                name: r.name.clone(),
                phone: format!("+{}", r.phone),
                body: crate::templates::render_body(&def, &values, |_| None),
            });
        }
        f.messaging_limit = crate::numbers::messaging_limit(&mut conn).await?;
        f.days_needed = match f.messaging_limit {
            Some(limit) if limit > 0 => ((f.recipients + limit - 1) / limit).max(1),
            _ => 1,
        };
        Ok((rows, f))
    }
}

/// E.164 without its `+` (Meta's `wa_id` form); a user id as it is.
fn digits(phone: &str) -> String {
    phone.trim_start_matches('+').to_owned()
}

/// Where each of a template's variables (in its order) takes its value from: the same text for
/// everybody, or a merge field.
fn recipe(
    def: &crate::meta::templates::TemplateDef,
    mapping: &[crate::templates::Binding],
) -> Vec<Source> {
    def.variables()
        .into_iter()
        .map(|v| {
            mapping
                .iter()
                .find(|b| b.variable == v)
                .map(|b| b.source.clone())
                .unwrap_or(Source::Text {
                    value: String::new(),
                })
        })
        .collect()
}

/// The values of the template's variables for one member, or the merge field that has none.
fn render(
    recipe: &[Source],
    m: &AudienceMember,
    business: &str,
) -> std::result::Result<Vec<String>, String> {
    recipe
        .iter()
        .map(|source| match source {
            Source::Text { value } => Ok(value.clone()),
            Source::Field { key } => m
                .fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| (key == "business.name").then(|| business.to_owned()))
                .ok_or_else(|| key.clone()),
        })
        .collect()
}

/// The rows in parts of at most [`PART_BYTES`] of JSON: (first index, packed data).
fn parts(rows: &[RecipientEntry]) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut first = 0usize;
    let mut json: Vec<u8> = b"[".to_vec();
    for (i, r) in rows.iter().enumerate() {
        let one = serde_json::to_vec(r).expect("a row serialises");
        if json.len() > 1 && json.len() + one.len() + 2 > PART_BYTES {
            json.push(b']');
            out.push((first as i64, crmconnect_events::payloads::pack_rows(&json)));
            first = i;
            json = b"[".to_vec();
        }
        if json.len() > 1 {
            json.push(b',');
        }
        json.extend_from_slice(&one);
    }
    if json.len() > 1 {
        json.push(b']');
        out.push((first as i64, crmconnect_events::payloads::pack_rows(&json)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_row_once_in_order() {
        let rows: Vec<RecipientEntry> = (0..5000)
            .map(|i| RecipientEntry {
                phone: format!("1555{i:07}"),
                name: "x".repeat(300),
                record: Some(format!("lead:{i}")),
                params: None,
                skipped: None,
            })
            .collect();
        let parts = parts(&rows);
        assert!(parts.len() > 1, "{} parts", parts.len());
        let mut next = 0;
        for (first, data) in parts {
            assert_eq!(first, next);
            let back: Vec<RecipientEntry> =
                crmconnect_events::payloads::unpack_rows(&data).unwrap();
            next += back.len() as i64;
        }
        assert_eq!(next, 5000);
    }
}
