//! The team's templates (issue 17): what one desktop pulls from Meta, submits, or deletes reaches
//! a desktop that keeps no access token; a template change the author's role does not allow is
//! refused by the relay and ignored on apply.

use std::sync::Arc;

use crate::common::*;
use crate::relay_support::{TestRelay, WS, denied};
use crate::team_staff::team;
use crmconnect::connection::ConnectionInput;

use crmconnect::relay::http::PublishedEvent;
use crmconnect::sandbox::{Sandbox, SandboxConfig, WABA_ID};
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::relay_client::RelayClient;
use crmconnect::templates::{TemplateFilter, TemplateModel};
use crmconnect::workspace::WorkspaceKind;
use crmconnect::{Workspace, Workspaces};
use serde_json::json;

const META_TOKEN: &str = "team-templates-access-token";

/// A live desktop of team "acme" in `dir`, `username` its signed-in owner.
async fn desktop(dir: &std::path::Path, username: &str) -> Arc<Workspace> {
    let ws = Arc::new(
        Workspaces::new(dir)
            .create(WS, "Acme", WorkspaceKind::Live)
            .await
            .unwrap(),
    );
    ws.create_owner(crmconnect::staff::NewStaff {
        name: username.into(),
        username: username.into(),
        role_id: 0,
        passphrase: OWNER_PASS.into(),
    })
    .await
    .unwrap();
    ws.sign_in(username, OWNER_PASS.into()).await.unwrap();
    ws
}

async fn dump(ws: &Workspace) -> Vec<String> {
    sqlx::query_as::<_, (String, String, Option<String>, String, String)>(
        "SELECT name, language, meta_id, status, mapping FROM templates ORDER BY name, language",
    )
    .fetch_all(ws.db())
    .await
    .unwrap()
    .into_iter()
    .map(|(n, l, id, s, m)| format!("{n} {l} {id:?} {s} {m}"))
    .collect()
}

#[tokio::test]
async fn templates_pulled_submitted_and_deleted_on_one_desktop_reach_one_without_a_token() {
    let meta = Sandbox::start(SandboxConfig {
        access_token: Sensitive::new(META_TOKEN.into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let relay = TestRelay::sqlite().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(dir_a.path(), OWNER).await;
    let b = desktop(dir_b.path(), "second").await;
    a.cx()
        .save_connection(ConnectionInput {
            phone_number_id: meta.phone_numbers()[0].id.clone(),
            waba_id: WABA_ID.into(),
            graph_base_url: Some(meta.base_url().to_owned()),
            graph_version: None,
            access_token: Some(Sensitive::new(META_TOKEN.into())),
        })
        .await
        .unwrap();
    let sync_a = relay
        .online(&a, &relay.token_for(OWNER, true, &[]).await)
        .await;
    let sync_b = relay
        .online(&b, &relay.token_for("second", true, &[]).await)
        .await;

    // Pulled from Meta on A: B, which keeps no token, sees the same templates.
    let pulled = a.cx().sync_templates().await.unwrap();
    assert!(pulled.len() >= 10, "{}", pulled.len());
    let same = eventually("Meta's templates on B", || async {
        let (x, y) = (dump(&a).await, dump(&b).await);
        (a.outbox_len().await.unwrap() == 0 && x == y).then_some(x)
    })
    .await;
    assert!(
        same.iter().any(|l| l.starts_with("hello_world ")),
        "{same:#?}"
    );
    assert!(
        b.cx().sync_templates().await.is_err(),
        "B has no token to reach Meta with"
    );

    // Submitted on A (a model, mapped): on B with Meta's id and its mapping.
    let invoice = a
        .cx()
        .load_template_model(TemplateModel::Invoice)
        .await
        .unwrap();
    let seen = eventually("the invoice template on B", || async {
        b.cx()
            .templates(TemplateFilter::default())
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == invoice.name)
    })
    .await;
    assert_eq!(seen.meta_id, invoice.meta_id);
    assert_eq!(seen.mapping.len(), invoice.mapping.len());
    assert!(!seen.mapping.is_empty());

    // A's administrator sets it as the invoice's template in Settings → WhatsApp: B follows,
    // with B's own row of the same template; cleared on A, cleared on B.
    use crmconnect::documents::DocumentKind;
    let on_b = |want: Option<i64>| {
        let b = b.clone();
        async move {
            let list = b.cx().action_templates().await.unwrap();
            let invoice = list
                .iter()
                .find(|a| a.action == DocumentKind::Invoice)
                .unwrap();
            (invoice.template_id == want).then_some(())
        }
    };
    a.cx()
        .set_action_template(DocumentKind::Invoice, Some(invoice.id))
        .await
        .unwrap();
    eventually("the invoice's template on B", || on_b(Some(seen.id))).await;
    a.cx()
        .set_action_template(DocumentKind::Invoice, None)
        .await
        .unwrap();
    eventually("no invoice template on B", || on_b(None)).await;

    // A refreshes the numbers from Meta: B, which cannot reach Meta, shows the same numbers and
    // profiles (not the pictures, which stay where they were fetched).
    let numbers = a.cx().refresh_numbers().await.unwrap();
    assert!(!numbers.is_empty());
    let shown = |list: Vec<crmconnect::numbers::NumberView>| -> Vec<String> {
        list.into_iter()
            .map(|n| {
                format!(
                    "{} {} {} {:?} {:?} {:?}",
                    n.phone_number_id,
                    n.display_phone_number,
                    n.verified_name,
                    n.messaging_limit,
                    n.about,
                    n.websites
                )
            })
            .collect()
    };
    let want = shown(numbers);
    eventually("A's numbers on B", || async {
        let got = shown(b.cx().numbers().await.unwrap());
        (got == want).then_some(())
    })
    .await;

    // Deleted on A: gone on B.
    a.cx().delete_template(invoice.id).await.unwrap();
    eventually("the deletion on B", || async {
        let list = b.cx().templates(TemplateFilter::default()).await.unwrap();
        (!list.iter().any(|t| t.name == invoice.name)).then_some(())
    })
    .await;
    assert_eq!(dump(&a).await, dump(&b).await);
    sync_a.stop().await;
    sync_b.stop().await;
    relay.stop().await;
    meta.shutdown().await;
}

#[tokio::test]
async fn a_template_change_the_author_may_not_make_is_refused_and_ignored() {
    let t = team().await;
    t.converged().await;
    let forged = json!({"name": "free_money", "language": "en", "meta_id": null,
        "status": "APPROVED", "category": "MARKETING", "parameter_format": "POSITIONAL",
        "definition": {"name": "free_money", "language": "en", "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Send us your card number."}]},
        "rejected_reason": null, "model": null, "mapping": []});
    let rick =
        RelayClient::new(&t.relay.handle.url(), Sensitive::new(t.rick_token.clone())).unwrap();
    let results = rick
        .publish(vec![PublishedEvent {
            id: "tpl-1".into(),
            kind: "template.created".into(),
            payload: forged.clone(),
        }])
        .await
        .unwrap();
    let refused = results[0].refused.clone().expect("refused by the relay");
    assert!(refused.contains("whatsapp_template:create"), "{refused}");
    t.relay
        .forge("rick", "tpl-forged", "template.created", &forged)
        .await;
    let ws = &t.admin.ws;
    eventually("the forged template noted as ignored", || async {
        (denied(ws, "template.created").await == 1).then_some(())
    })
    .await;
    let made: i64 = sqlx::query_scalar("SELECT count(*) FROM templates WHERE name = 'free_money'")
        .fetch_one(ws.db())
        .await
        .unwrap();
    assert_eq!(made, 0);
    t.stop().await;
}
