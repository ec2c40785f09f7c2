//! Leads: the rules of a lead (name, phone or email, E.164, unique phone and email), configurable
//! statuses, the filtered list, the campaign filter, and the `leads` permission.

use crate::common;

use crmconnect::ErrorCode;
use crmconnect::leads::{LeadFilter, LeadInput, LeadStatusInput};
use crmconnect::permissions::{Action, Permission, Resource};

fn lead(name: &str, phone: &str, email: &str) -> LeadInput {
    LeadInput {
        name: name.into(),
        phone: phone.into(),
        email: email.into(),
        ..Default::default()
    }
}

async fn names(t: &common::TestWorkspace, filter: LeadFilter) -> Vec<String> {
    let mut v: Vec<String> =
        t.ws.cx()
            .leads(filter)
            .await
            .unwrap()
            .leads
            .into_iter()
            .map(|l| l.name)
            .collect();
    v.sort();
    v
}

async fn set_created(t: &common::TestWorkspace, id: i64, at: i64) {
    sqlx::query("UPDATE leads SET created_at = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(t.ws.db())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lead_is_stored_in_e164_and_bad_input_names_the_problem() {
    let t = common::workspace().await;
    let ana =
        t.ws.cx()
            .create_lead(LeadInput {
                company: " Acme ".into(),
                source: "Website".into(),
                ..lead(" Ana ", "201-555-0123", "ana@example.com")
            })
            .await
            .unwrap();
    assert_eq!(ana.name, "Ana");
    assert_eq!(ana.company, "Acme");
    assert_eq!(ana.phone.as_deref(), Some("+12015550123"));
    assert!(ana.whatsapp);
    let statuses = t.ws.cx().lead_statuses().await.unwrap();
    assert_eq!(
        ana.status_id, statuses[0].id,
        "new leads get the first status"
    );

    // No phone, only an email: allowed, and not reachable on WhatsApp.
    let ben =
        t.ws.cx()
            .create_lead(lead("Ben", "", "ben@example.com"))
            .await
            .unwrap();
    assert_eq!((ben.phone, ben.whatsapp), (None, false));

    let refusals = [
        (
            lead("", "+12015550199", ""),
            ErrorCode::Invalid,
            "needs a name",
        ),
        (
            lead("Cy", "", ""),
            ErrorCode::Invalid,
            "phone number or an email",
        ),
        (
            lead("Cy", "call me", ""),
            ErrorCode::Invalid,
            "“call me” is not a phone number",
        ),
        (
            lead("Cy", "", "cy@"),
            ErrorCode::Invalid,
            "“cy@” is not an email address",
        ),
        (
            lead("Cy", "+1 (201) 555-0123", ""),
            ErrorCode::Conflict,
            "+12015550123 is already the phone of lead “Ana”",
        ),
        (
            lead("Cy", "", "ANA@example.com"),
            ErrorCode::Conflict,
            "already the email of lead “Ana”",
        ),
        (
            LeadInput {
                status_id: Some(999),
                ..lead("Cy", "+12015550150", "")
            },
            ErrorCode::NotFound,
            "lead status 999",
        ),
        (
            LeadInput {
                assigned_staff_id: Some(999),
                ..lead("Cy", "+12015550150", "")
            },
            ErrorCode::NotFound,
            "staff member 999",
        ),
    ];
    for (input, code, message) in refusals {
        let e = t.ws.cx().create_lead(input).await.unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(e.to_string().contains(message), "{e} / {message}");
    }
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        2,
        "nothing else stored"
    );

    // An edit that would clash is refused and leaves the lead as it was.
    let e =
        t.ws.cx()
            .update_lead(ben.id, lead("Ben", "+12015550123", "ben@example.com"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(t.ws.cx().lead(ben.id).await.unwrap().phone, None);
    // Editing a lead keeps its own phone and its created date.
    let edited =
        t.ws.cx()
            .update_lead(
                ana.id,
                LeadInput {
                    status_id: Some(statuses[2].id),
                    ..lead("Ana B.", "+12015550123", "ana@example.com")
                },
            )
            .await
            .unwrap();
    assert_eq!(
        (edited.name.as_str(), edited.status_id, edited.created_at),
        ("Ana B.", statuses[2].id, ana.created_at)
    );
    // An edit without a status keeps the lead's status.
    let kept =
        t.ws.cx()
            .update_lead(ana.id, lead("Ana B.", "+12015550123", "ana@example.com"))
            .await
            .unwrap();
    assert_eq!(kept.status_id, statuses[2].id);
    assert_eq!(t.log_of("leads.update").await.last().unwrap().0, "ok");
}

#[tokio::test]
async fn lead_statuses_are_configurable_and_a_used_one_cannot_go() {
    let t = common::workspace().await;
    let defaults: Vec<String> =
        t.ws.cx()
            .lead_statuses()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
    assert_eq!(
        defaults,
        ["New", "Contacted", "Qualified", "Proposal", "Won", "Lost"]
    );

    let hot =
        t.ws.cx()
            .create_lead_status(LeadStatusInput {
                name: "Hot".into(),
                color: "#FF0000".into(),
            })
            .await
            .unwrap();
    assert_eq!((hot.color.as_str(), hot.position), ("#ff0000", 7));
    let e =
        t.ws.cx()
            .create_lead_status(LeadStatusInput {
                name: "hot".into(),
                color: "#ff0000".into(),
            })
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(e.to_string().contains("“hot”"), "{e}");
    let e =
        t.ws.cx()
            .create_lead_status(LeadStatusInput {
                name: "Warm".into(),
                color: "orange".into(),
            })
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.to_string().contains("“orange” is not a colour"), "{e}");

    t.ws.cx()
        .create_lead(LeadInput {
            status_id: Some(hot.id),
            ..lead("Ana", "+12015550123", "")
        })
        .await
        .unwrap();
    t.ws.cx()
        .create_lead(LeadInput {
            status_id: Some(hot.id),
            ..lead("Ben", "+12015550124", "")
        })
        .await
        .unwrap();
    let e = t.ws.cx().delete_lead_status(hot.id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(
        e.to_string(),
        "the lead status “Hot” is used by 2 lead(s); move them to another status first"
    );
    assert!(
        t.ws.cx()
            .lead_statuses()
            .await
            .unwrap()
            .iter()
            .any(|s| s.id == hot.id && s.lead_count == 2)
    );

    let renamed =
        t.ws.cx()
            .update_lead_status(
                hot.id,
                LeadStatusInput {
                    name: "Very hot".into(),
                    color: "#aa0000".into(),
                },
            )
            .await
            .unwrap();
    assert_eq!(renamed.name, "Very hot");

    // Reordering needs every status exactly once.
    let mut ids: Vec<i64> =
        t.ws.cx()
            .lead_statuses()
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
    ids.reverse();
    let reordered = t.ws.cx().reorder_lead_statuses(ids.clone()).await.unwrap();
    assert_eq!(reordered[0].name, "Very hot");
    let e =
        t.ws.cx()
            .reorder_lead_statuses(ids[1..].to_vec())
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    // New leads now get the first status of the new order.
    let cy =
        t.ws.cx()
            .create_lead(lead("Cy", "+12015550125", ""))
            .await
            .unwrap();
    assert_eq!(cy.status_id, hot.id);

    // Unused statuses go; the last one never.
    for s in t.ws.cx().lead_statuses().await.unwrap() {
        if s.lead_count == 0 {
            t.ws.cx().delete_lead_status(s.id).await.unwrap();
        }
    }
    assert_eq!(t.ws.cx().lead_statuses().await.unwrap().len(), 1);
    t.ws.cx().delete_leads(vec![]).await.unwrap_err();
    let all: Vec<i64> =
        t.ws.cx()
            .leads(LeadFilter::default())
            .await
            .unwrap()
            .leads
            .iter()
            .map(|l| l.id)
            .collect();
    t.ws.cx().delete_leads(all).await.unwrap();
    let e = t.ws.cx().delete_lead_status(hot.id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(e.to_string().contains("last lead status"), "{e}");
}

#[tokio::test]
async fn the_list_filters_by_status_source_staff_date_and_whatsapp() {
    let t = common::workspace().await;
    let rep = t.staff_with("rep", vec![]).await;
    t.as_owner().await;
    let st = t.ws.cx().lead_statuses().await.unwrap();
    let (new, won) = (st[0].id, st[4].id);
    let mk = |name: &str, phone: &str, source: &str, status: i64, staff: Option<i64>| LeadInput {
        name: name.into(),
        phone: phone.into(),
        email: format!("{}@example.com", name.to_lowercase()),
        source: source.into(),
        status_id: Some(status),
        assigned_staff_id: staff,
        ..Default::default()
    };
    let ana =
        t.ws.cx()
            .create_lead(mk("Ana", "+12015550101", "Website", new, Some(rep.id)))
            .await
            .unwrap();
    let ben =
        t.ws.cx()
            .create_lead(mk("Ben", "+49 30 1234567", "Fair", won, None))
            .await
            .unwrap(); // landline
    let cy =
        t.ws.cx()
            .create_lead(mk("Cy", "", "website", won, Some(rep.id)))
            .await
            .unwrap();
    let day = 86_400_000;
    set_created(&t, ana.id, 10 * day).await;
    set_created(&t, ben.id, 20 * day).await;
    set_created(&t, cy.id, 30 * day).await;

    let f = LeadFilter::default;
    assert_eq!(
        names(
            &t,
            LeadFilter {
                status_ids: vec![won],
                ..f()
            }
        )
        .await,
        ["Ben", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                status_ids: vec![won, new],
                ..f()
            }
        )
        .await,
        ["Ana", "Ben", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                source: Some("WEBSITE".into()),
                ..f()
            }
        )
        .await,
        ["Ana", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                assigned_staff_id: Some(rep.id),
                ..f()
            }
        )
        .await,
        ["Ana", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                unassigned: true,
                ..f()
            }
        )
        .await,
        ["Ben"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                created_from: Some(15 * day),
                created_to: Some(30 * day),
                ..f()
            }
        )
        .await,
        ["Ben"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                created_from: Some(20 * day),
                ..f()
            }
        )
        .await,
        ["Ben", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                has_whatsapp: Some(true),
                ..f()
            }
        )
        .await,
        ["Ana"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                has_whatsapp: Some(false),
                ..f()
            }
        )
        .await,
        ["Ben", "Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                search: Some("cy@exa".into()),
                ..f()
            }
        )
        .await,
        ["Cy"]
    );
    assert_eq!(
        names(
            &t,
            LeadFilter {
                status_ids: vec![won],
                source: Some("website".into()),
                assigned_staff_id: Some(rep.id),
                ..f()
            }
        )
        .await,
        ["Cy"]
    );
    // Newest first, paged, with the total of the whole filter.
    let page =
        t.ws.cx()
            .leads(LeadFilter {
                limit: Some(2),
                ..f()
            })
            .await
            .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.leads
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>(),
        ["Cy", "Ben"]
    );
    let page =
        t.ws.cx()
            .leads(LeadFilter {
                limit: Some(2),
                offset: Some(2),
                ..f()
            })
            .await
            .unwrap();
    assert_eq!(page.leads[0].name, "Ana");

    let e =
        t.ws.cx()
            .leads(LeadFilter {
                created_from: Some(2),
                created_to: Some(1),
                ..f()
            })
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.to_string().contains("date range"), "{e}");
    let mut sources = t.ws.cx().lead_sources().await.unwrap();
    sources.sort_by_key(|s| s.to_lowercase());
    assert_eq!(
        sources.len(),
        2,
        "{sources:?}: Website and website are one source"
    );
}

#[tokio::test]
async fn the_campaign_filter_returns_recipients_and_is_open_to_campaign_creators() {
    let t = common::workspace().await;
    let st = t.ws.cx().lead_statuses().await.unwrap();
    let qualified = st[2].id;
    for (name, phone, status) in [
        ("Ana", "+4915123456789", qualified), // mobile
        ("Ben", "+49301234567", qualified),   // landline
        ("Cy", "+12015550177", st[0].id),
    ] {
        t.ws.cx()
            .create_lead(LeadInput {
                status_id: Some(status),
                ..lead(name, phone, "")
            })
            .await
            .unwrap();
    }
    let filter = || LeadFilter {
        status_ids: vec![qualified],
        has_whatsapp: Some(true),
        limit: Some(1), // paging does not apply to recipients
        ..Default::default()
    };
    let recipients = t.ws.cx().filter_leads_for_campaign(filter()).await.unwrap();
    assert_eq!(recipients.len(), 1);
    assert_eq!(
        (
            recipients[0].name.as_str(),
            recipients[0].phone.as_deref(),
            recipients[0].whatsapp
        ),
        ("Ana", Some("+4915123456789"), true)
    );
    let all =
        t.ws.cx()
            .filter_leads_for_campaign(LeadFilter::default())
            .await
            .unwrap();
    assert_eq!(all.len(), 3);

    t.staff_with(
        "marketer",
        vec![Permission::new(Resource::WhatsappCampaign, Action::Create)],
    )
    .await;
    t.staff_with(
        "nobody",
        vec![Permission::new(Resource::WhatsappChat, Action::View)],
    )
    .await;
    t.sign_in("marketer").await;
    assert_eq!(
        t.ws.cx()
            .filter_leads_for_campaign(filter())
            .await
            .unwrap()
            .len(),
        1
    );
    t.ws.cx().lead_statuses().await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().leads(LeadFilter::default()).await),
        ErrorCode::PermissionDenied
    );
    t.sign_in("nobody").await;
    assert_eq!(
        common::code(t.ws.cx().filter_leads_for_campaign(filter()).await),
        ErrorCode::PermissionDenied
    );
}

#[tokio::test]
async fn leads_are_guarded_by_the_leads_permission() {
    let t = common::workspace().await;
    let ana =
        t.ws.cx()
            .create_lead(lead("Ana", "+12015550101", ""))
            .await
            .unwrap();
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::Leads, Action::View)],
    )
    .await;
    t.sign_in("viewer").await;
    t.ws.cx().leads(LeadFilter::default()).await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().create_lead(lead("Ben", "+12015550102", "")).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(
            t.ws.cx()
                .update_lead(ana.id, lead("X", "+12015550101", ""))
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().delete_leads(vec![ana.id]).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(
            t.ws.cx()
                .create_lead_status(LeadStatusInput {
                    name: "X".into(),
                    color: "#000000".into()
                })
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(t.log_of("leads.create").await.last().unwrap().0, "denied");
    assert_eq!(t.log_of("leads.delete").await[0].0, "denied");
    t.as_owner().await;
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        1
    );
}

#[tokio::test]
async fn deleting_leads_is_all_or_nothing() {
    let t = common::workspace().await;
    let ana =
        t.ws.cx()
            .create_lead(lead("Ana", "+12015550101", ""))
            .await
            .unwrap();
    let ben =
        t.ws.cx()
            .create_lead(lead("Ben", "+12015550102", ""))
            .await
            .unwrap();
    let e =
        t.ws.cx()
            .delete_leads(vec![ana.id, 9999])
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        2,
        "Ana kept"
    );
    let done = t.ws.cx().delete_leads(vec![ana.id, ben.id]).await.unwrap();
    assert_eq!(done.deleted, 2);
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        0
    );
    let log = t.log_of("leads.delete").await;
    assert_eq!(log.len(), 1, "the failed attempt left no entry");
}
