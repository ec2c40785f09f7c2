//! The Graph API client against the sandbox, over real HTTP: every endpoint the product uses,
//! and each of Meta's refusals with the classification the client gives it.

use std::time::Duration;

use crmconnect::meta::client::{GraphConfig, RetryPolicy, TemplateQuery};
use crmconnect::meta::messages::*;
use crmconnect::meta::templates::TemplateDef;
use crmconnect::meta::{ClientError, GraphClient, Retry};
use crmconnect::sandbox::{
    CustomerMessage, Sandbox, SandboxConfig, SandboxHandle, WindowEnforcement,
};
use serde_json::json;

async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("sandbox starts")
}

fn client(s: &SandboxHandle, token: &str, attempts: u32) -> GraphClient {
    let config = GraphConfig {
        base_url: s.base_url().to_owned(),
        retry: RetryPolicy {
            attempts,
            base: Duration::from_millis(600),
            max: Duration::from_secs(2),
        },
        throughput_per_sec: 10_000,
        pair_burst: 1_000,
        ..GraphConfig::default()
    };
    GraphClient::new(&config, token.into()).unwrap()
}

fn sales(s: &SandboxHandle) -> String {
    s.phone_numbers()[0].id.clone()
}

fn ana(s: &SandboxHandle) -> String {
    s.customers()
        .into_iter()
        .find(|c| c.key == "ana")
        .and_then(|c| c.wa_id)
        .expect("ana has a number")
}

fn msg(to: &str, body: Body) -> Outbound {
    Outbound {
        to: to.into(),
        body,
        context: None,
        biz_opaque_callback_data: None,
    }
}

fn refusal(r: Result<impl std::fmt::Debug, ClientError>) -> (i64, Retry, String) {
    let e = r.expect_err("Meta should refuse");
    (e.graph_code().unwrap_or(-1), e.retry(), e.to_string())
}

#[tokio::test]
async fn sends_every_message_type_and_marks_read() {
    let s = sandbox(SandboxConfig::default()).await;
    let c = client(&s, "sandbox-token", 1);
    let (from, to) = (sales(&s), ana(&s));
    // Ana writes first, so the 24-hour window is open.
    let inbound = s
        .customer_sends("ana", CustomerMessage::text("Hi, is my order ready?"))
        .unwrap();

    let png = crmconnect_png();
    let image_id = c
        .upload_media(&from, "photo.png", "image/png", png.clone())
        .await
        .unwrap();
    let pdf_id = c
        .upload_media(
            &from,
            "INV-42.pdf",
            "application/pdf",
            b"%PDF-1.4 sandbox invoice".to_vec(),
        )
        .await
        .unwrap();

    let bodies = vec![
        Body::Text {
            text: Text {
                body: "Yes! https://example.com/track".into(),
                preview_url: true,
            },
        },
        Body::Image {
            image: Media {
                caption: Some("Your order".into()),
                ..Media::id(&image_id)
            },
        },
        Body::Image {
            image: Media::link("https://example.com/a.jpg"),
        },
        Body::Document {
            document: Media {
                caption: Some("Invoice".into()),
                filename: Some("INV-42.pdf".into()),
                ..Media::id(&pdf_id)
            },
        },
        Body::Video {
            video: Media::link("https://example.com/v.mp4"),
        },
        Body::Audio {
            audio: Media::link("https://example.com/a.ogg"),
        },
        Body::Location {
            location: Location {
                latitude: 40.7128,
                longitude: -74.006,
                name: Some("Shop".into()),
                address: Some("1 Main St".into()),
            },
        },
        Body::Contacts {
            contacts: vec![
                json!({"name": {"formatted_name": "Sales Desk", "first_name": "Sales"},
                                  "phones": [{"phone": "+1 555 555 0101", "type": "WORK"}]}),
            ],
        },
        Body::Interactive {
            interactive: Interactive::Button {
                header: Some(InteractiveHeader::Text {
                    text: "Pickup".into(),
                }),
                body: TextObject {
                    text: "When will you come?".into(),
                },
                footer: None,
                action: ButtonAction {
                    buttons: vec![
                        ReplyButton::new("today", "Today"),
                        ReplyButton::new("tomorrow", "Tomorrow"),
                    ],
                },
            },
        },
        Body::Interactive {
            interactive: Interactive::List {
                header: None,
                body: TextObject {
                    text: "Pick a slot".into(),
                },
                footer: Some(TextObject {
                    text: "Sandbox".into(),
                }),
                action: ListAction {
                    button: "Slots".into(),
                    sections: vec![Section {
                        title: Some("Morning".into()),
                        rows: vec![Row {
                            id: "9".into(),
                            title: "09:00".into(),
                            description: Some("Early".into()),
                        }],
                    }],
                },
            },
        },
        Body::Reaction {
            reaction: Reaction {
                message_id: inbound.clone(),
                emoji: "👍".into(),
            },
        },
        Body::Template {
            template: Template {
                name: "sample_issue_resolution".into(),
                language: Language {
                    code: "en_US".into(),
                    policy: None,
                },
                components: vec![Component {
                    kind: ComponentKind::Body,
                    sub_type: None,
                    index: None,
                    parameters: vec![Parameter::text("Ana")],
                }],
            },
        },
        Body::Template {
            template: Template {
                name: "sandbox_welcome_named".into(),
                language: Language {
                    code: "en_US".into(),
                    policy: None,
                },
                components: vec![Component {
                    kind: ComponentKind::Body,
                    sub_type: None,
                    index: None,
                    parameters: vec![
                        Parameter::text("Ana").named("customer_name"),
                        Parameter::text("SB-7").named("order_id"),
                    ],
                }],
            },
        },
    ];
    for body in bodies {
        let kind = serde_json::to_value(&body).unwrap()["type"].clone();
        let r = c
            .send(&from, &msg(&to, body))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(r.messages[0].id.starts_with("wamid."), "{kind}");
    }
    // A reply quoting Ana's message.
    let mut reply = msg(
        &to,
        Body::Text {
            text: Text {
                body: "Replying to you".into(),
                preview_url: false,
            },
        },
    );
    reply.context = Some(Context {
        message_id: inbound.clone(),
    });
    c.send(&from, &reply).await.unwrap();
    c.mark_read(&from, &inbound, true).await.unwrap();
    s.shutdown().await;
}

/// A small real PNG (the sandbox checks media types by content).
fn crmconnect_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 2, 2);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[19, 163, 111].repeat(4)).unwrap();
    }
    out
}

#[tokio::test]
async fn media_upload_info_download_and_delete() {
    let s = sandbox(SandboxConfig::default()).await;
    let c = client(&s, "sandbox-token", 1);
    let png = crmconnect_png();
    let id = c
        .upload_media(&sales(&s), "p.png", "image/png", png.clone())
        .await
        .unwrap();
    let info = c.media_info(&id).await.unwrap();
    assert_eq!(info.mime_type, "image/png");
    assert_eq!(info.file_size, Some(png.len() as u64));
    assert_eq!(c.download(&info.url).await.unwrap(), png);
    // The URL alone does not give the file.
    let anonymous = reqwest::get(&info.url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    c.delete_media(&id).await.unwrap();
    assert_eq!(refusal(c.media_info(&id).await).0, 100);

    // Meta's type and size limits are checked before anything is uploaded.
    let e = c
        .upload_media(&sales(&s), "a.gif", "image/gif", vec![1, 2, 3])
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Media(_)) && e.retry() == Retry::Never,
        "{e}"
    );
    let e = c
        .upload_media(&sales(&s), "big.png", "image/png", vec![0; 6 * 1024 * 1024])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("up to 5.0 MB"), "{e}");
    s.shutdown().await;
}

#[tokio::test]
async fn templates_list_create_review_edit_delete() {
    let s = sandbox(SandboxConfig {
        template_approval_delay: Duration::from_secs(60),
        ..SandboxConfig::default()
    })
    .await;
    let c = client(&s, "sandbox-token", 1);
    let waba = s.waba_id();
    let page = c
        .list_templates(
            &waba,
            &TemplateQuery {
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.data.len(), 3);
    assert!(page.next_cursor().is_some());
    let all = c.all_templates(&waba).await.unwrap();
    assert!(all.len() >= 10, "{}", all.len());
    assert!(
        all.iter()
            .any(|t| t.name == "hello_world" && t.status.as_deref() == Some("APPROVED"))
    );

    let def: TemplateDef = serde_json::from_value(json!({
        "name": "client_test_order", "language": "en", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} ships today.",
                        "example": {"body_text": [["Ana", "A-1"]]}}]
    }))
    .unwrap();
    let created = c.create_template(&waba, &def).await.unwrap();
    assert_eq!(created.status, "PENDING");
    s.clock().advance(Duration::from_secs(61));
    let mut status = String::new();
    for _ in 0..50 {
        status = c
            .get_template(&created.id)
            .await
            .unwrap()
            .status
            .unwrap_or_default();
        if status == "APPROVED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "APPROVED");

    let mut edited = def.clone();
    edited.components = serde_json::from_value(json!([{"type": "BODY", "text": "Hello {{1}}, order {{2}} ships tomorrow.",
                                                         "example": {"body_text": [["Ana", "A-1"]]}}]))
    .unwrap();
    c.edit_template(&created.id, &edited).await.unwrap();
    assert_eq!(
        c.get_template(&created.id).await.unwrap().status.as_deref(),
        Some("PENDING")
    );
    c.delete_template(&waba, "client_test_order", Some(&created.id))
        .await
        .unwrap();
    assert_eq!(refusal(c.get_template(&created.id).await).0, 100);

    // Our own check refuses Meta-breaking templates before a round trip, field by field.
    let bad: TemplateDef = serde_json::from_value(json!({"name": "Bad Name", "language": "en", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "{{1}} at the start", "example": {"body_text": [["x"]]}}]})).unwrap();
    match c.create_template(&waba, &bad).await {
        Err(ClientError::Template(problems)) => {
            assert!(problems.iter().any(|p| p.field == "name"));
            assert!(problems.iter().any(|p| p.field == "body.text"));
        }
        other => panic!("{other:?}"),
    }
    s.shutdown().await;
}

#[tokio::test]
async fn numbers_profiles_and_pictures() {
    let s = sandbox(SandboxConfig::default()).await;
    let c = client(&s, "sandbox-token", 1);
    let numbers = c.phone_numbers(&s.waba_id()).await.unwrap();
    assert_eq!(numbers.len(), 2);
    for n in &numbers {
        assert!(
            n.verified_name.starts_with("Sandbox "),
            "{}",
            n.verified_name
        );
        assert!(n.quality_rating.is_some());
        assert!(n.messaging_limit().is_some());
        let one = c.phone_number(&n.id).await.unwrap();
        assert_eq!(one.display_phone_number, n.display_phone_number);
        let profile = c.business_profile(&n.id).await.unwrap();
        assert!(profile.about.is_some());
        let url = profile.profile_picture_url.expect("a picture");
        let png = c.profile_picture(&url).await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert_eq!(
            reqwest::get(&url).await.unwrap().status(),
            401,
            "the picture needs the token"
        );
    }
    s.shutdown().await;
}

fn assert_refused<T: std::fmt::Debug>(
    r: Result<T, ClientError>,
    code: i64,
    retry: Retry,
) -> String {
    let (got, class, message) = refusal(r);
    assert_eq!((got, class), (code, retry), "{message}");
    message
}

#[tokio::test]
async fn each_refusal_has_its_code_and_classification() {
    let s = sandbox(SandboxConfig {
        window_enforcement: WindowEnforcement::Refuse,
        ..SandboxConfig::default()
    })
    .await;
    let c = client(&s, "sandbox-token", 1);
    let (from, to) = (sales(&s), ana(&s));
    let text = |b: &str| {
        msg(
            &to,
            Body::Text {
                text: Text {
                    body: b.into(),
                    preview_url: false,
                },
            },
        )
    };
    let template = |name: &str, params: Vec<Parameter>| {
        msg(
            &to,
            Body::Template {
                template: Template {
                    name: name.into(),
                    language: Language {
                        code: "en_US".into(),
                        policy: None,
                    },
                    components: vec![Component {
                        kind: ComponentKind::Body,
                        sub_type: None,
                        index: None,
                        parameters: params,
                    }],
                },
            },
        )
    };

    // 190: a bad token — a person must enter a new one.
    let bad = client(&s, "not-the-token", 1);
    let m = assert_refused(bad.send(&from, &text("hi")).await, 190, Retry::NeedsFix);
    assert!(m.contains("access token"), "{m}");
    // 100: an unknown phone number id.
    assert_refused(c.send("999999999", &text("hi")).await, 100, Retry::Never);
    // 131047: nobody wrote in the last 24 hours — send a template instead.
    let m = assert_refused(c.send(&from, &text("hello?")).await, 131047, Retry::Never);
    assert!(m.contains("send a template"), "{m}");
    // 132001: no such template.
    assert_refused(
        c.send(&from, &template("no_such_template", vec![])).await,
        132001,
        Retry::Never,
    );
    // 132000: the parameter count does not match (sample_issue_resolution has one).
    assert_refused(
        c.send(
            &from,
            &template(
                "sample_issue_resolution",
                vec![Parameter::text("a"), Parameter::text("b")],
            ),
        )
        .await,
        132000,
        Retry::Never,
    );
    // 132012: named parameters for a positional template.
    assert_refused(
        c.send(
            &from,
            &template(
                "sample_issue_resolution",
                vec![Parameter::text("a").named("who")],
            ),
        )
        .await,
        132012,
        Retry::Never,
    );
    // The window opens when the customer writes; 24 h later it is closed again.
    s.customer_sends("ana", CustomerMessage::text("hello"))
        .unwrap();
    c.send(&from, &text("hi Ana")).await.unwrap();
    s.clock().advance(Duration::from_secs(24 * 3600 + 60));
    assert_refused(
        c.send(&from, &text("still there?")).await,
        131047,
        Retry::Never,
    );
    // 131009: a value Meta refuses that our own checks let through (11 list rows in all).
    s.customer_sends("ana", CustomerMessage::text("back"))
        .unwrap();
    let rows = |n: usize, p: &str| {
        (0..n)
            .map(|i| Row {
                id: format!("{p}{i}"),
                title: format!("{p} {i}"),
                description: None,
            })
            .collect()
    };
    let list = Body::Interactive {
        interactive: Interactive::List {
            header: None,
            body: TextObject {
                text: "Pick".into(),
            },
            footer: None,
            action: ListAction {
                button: "Open".into(),
                sections: vec![
                    Section {
                        title: Some("A".into()),
                        rows: rows(6, "a"),
                    },
                    Section {
                        title: Some("B".into()),
                        rows: rows(5, "b"),
                    },
                ],
            },
        },
    };
    assert_refused(c.send(&from, &msg(&to, list)).await, 131009, Retry::Never);
    s.shutdown().await;
}

#[tokio::test]
async fn throughput_and_pair_limits_are_transient_and_retried() {
    let s = sandbox(SandboxConfig {
        throughput_mps: 1,
        pair_burst: 1,
        pair_interval: Duration::from_secs(6),
        ..SandboxConfig::default()
    })
    .await;
    let (from, to) = (sales(&s), ana(&s));
    s.customer_sends("ana", CustomerMessage::text("hi"))
        .unwrap();
    s.customer_sends("ben", CustomerMessage::text("hi"))
        .unwrap();
    let ben = s
        .customers()
        .into_iter()
        .find(|c| c.key == "ben")
        .and_then(|c| c.wa_id)
        .unwrap();
    let text = |to: &str| {
        msg(
            to,
            Body::Text {
                text: Text {
                    body: "hi".into(),
                    preview_url: false,
                },
            },
        )
    };

    // Without retries: the second message within a second is 130429, to the same person 131056.
    let once = client(&s, "sandbox-token", 1);
    once.send(&from, &text(&to)).await.unwrap();
    assert_refused(once.send(&from, &text(&ben)).await, 130429, Retry::Soon);
    s.clock().advance(Duration::from_secs(2));
    assert_refused(once.send(&from, &text(&to)).await, 131056, Retry::Soon);

    // The same two sends in a row: without retries the second is refused…
    let chen = s
        .customers()
        .into_iter()
        .find(|c| c.key == "chen")
        .and_then(|c| c.wa_id)
        .unwrap();
    s.customer_sends("chen", CustomerMessage::text("hi"))
        .unwrap();
    s.clock().advance(Duration::from_secs(7));
    once.send(&from, &text(&chen)).await.unwrap();
    assert_refused(once.send(&from, &text(&ben)).await, 130429, Retry::Soon);
    // …with retries and backoff it goes through once the number's throughput allows it.
    s.clock().advance(Duration::from_secs(7));
    let patient = client(&s, "sandbox-token", 5);
    patient.send(&from, &text(&chen)).await.unwrap();
    patient
        .send(&from, &text(&ben))
        .await
        .expect("retried until the throughput allowed it");
    s.shutdown().await;
}
