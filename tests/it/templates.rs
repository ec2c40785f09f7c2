//! Template status from Meta against our own writes: Meta may review a template (and send its
//! webhook) before the answer to our create or edit call reaches us. The sandbox holds every
//! answer back (`response_delay`) while its webhooks flow, so the review always comes first.

use std::time::Duration;

use crate::common::{self, eventually_within};
use crmconnect::runtime::{Runtime, RuntimeOptions};
use crmconnect::sandbox::SandboxConfig;
use crmconnect::templates::{TemplateInput, TemplateModel};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_that_arrives_before_our_own_write_is_not_lost() {
    let t = common::workspace().await;
    let config = SandboxConfig {
        template_approval_delay: Duration::ZERO,
        response_delay: Duration::from_secs(3),
        ..SandboxConfig::default()
    };
    let rt = Runtime::start(t.ws.clone(), RuntimeOptions { sandbox: config })
        .await
        .unwrap();
    let sandbox = rt.embedded().unwrap().sandbox();
    let cx = t.ws.cx();

    // Created: Meta approved it while its answer was on the way.
    let loaded = cx
        .load_template_model(TemplateModel::Invoice)
        .await
        .unwrap();
    let meta_id = loaded.meta_id.clone().unwrap();
    assert_eq!(
        sandbox.template_status(&meta_id).as_deref(),
        Some("APPROVED")
    );
    assert_eq!(loaded.status, "APPROVED", "{loaded:?}");
    assert_eq!(cx.template(loaded.id).await.unwrap().status, "APPROVED");

    // Edited: resubmitted, approved again before the edit's answer; not left PENDING.
    let mut definition = loaded.definition.clone();
    definition["category"] = "UTILITY".into();
    let edited = cx
        .edit_template(loaded.id, TemplateInput { definition })
        .await
        .unwrap();
    assert_eq!(edited.status, "APPROVED", "{edited:?}");

    // A later status still applies, and a template that was never ours is only remembered.
    sandbox
        .set_template_status(&meta_id, "PAUSED", None)
        .unwrap();
    eventually_within(Duration::from_secs(30), "the pause", || async {
        (cx.template(loaded.id).await.unwrap().status == "PAUSED").then_some(())
    })
    .await;
    assert!(
        !t.ws
            .apply_template_status("1234567890123456", "APPROVED", None)
            .await
            .unwrap()
    );
    rt.shutdown().await;
}
