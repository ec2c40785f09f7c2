//! The sandbox over real HTTP: started on port 0, driven with raw reqwest calls (no client of
//! ours), webhooks received by a small recording axum server and checked with
//! `meta::signature::verify`. Waits are guarded by `tokio::time::timeout`; time itself moves
//! only through the sandbox clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use crmconnect::meta::signature::{self, SignatureError};
use crmconnect::sandbox::{
    CustomerMessage, DeliveryState, Inbound, SALES_PHONE_NUMBER_ID, SUPPORT_PHONE_NUMBER_ID,
    Sandbox, SandboxConfig, SandboxHandle, WABA_ID, WindowEnforcement,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const GUARD: Duration = Duration::from_secs(15);
const SECRET: &str = "sandbox-app-secret";
const ANA: &str = "15555550111";
const BEN: &str = "15555550112";

// ---------------------------------------------------------------- harness

/// A webhook as the receiver got it.
struct Hook {
    signature: Option<String>,
    body: Bytes,
    json: Value,
    answered: u16,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<Hook>,
    fail_first: Arc<AtomicUsize>,
    verify_token: String,
}

/// A recording webhook receiver on a loopback port.
struct Receiver {
    url: String,
    rx: mpsc::UnboundedReceiver<Hook>,
}

async fn receiver(fail_first: usize) -> Receiver {
    async fn hook(State(s): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let answered = if s
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            500
        } else {
            200
        };
        let signature = headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let _ = s.tx.send(Hook {
            signature,
            body,
            json,
            answered,
        });
        StatusCode::from_u16(answered).unwrap()
    }
    async fn challenge(
        State(s): State<ReceiverState>,
        Query(q): Query<HashMap<String, String>>,
    ) -> (StatusCode, String) {
        if q.get("hub.mode").map(String::as_str) == Some("subscribe")
            && q.get("hub.verify_token") == Some(&s.verify_token)
        {
            (
                StatusCode::OK,
                q.get("hub.challenge").cloned().unwrap_or_default(),
            )
        } else {
            (StatusCode::FORBIDDEN, "wrong verify token".into())
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let state = ReceiverState {
        tx,
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
        verify_token: "sandbox-verify-token".into(),
    };
    let app = axum::Router::new()
        .route("/webhook", post(hook).get(challenge))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, rx }
}

impl Receiver {
    /// The next webhook, whatever it is (every one is checked against the app secret).
    async fn next(&mut self) -> Hook {
        let hook = tokio::time::timeout(GUARD, self.rx.recv())
            .await
            .expect("a webhook arrives")
            .expect("receiver open");
        signature::verify(SECRET.as_bytes(), &hook.body, hook.signature.as_deref())
            .expect("every webhook is signed with the app secret");
        hook
    }

    /// The next webhook for which `pred` holds, skipping others.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(GUARD, async {
            loop {
                let hook = self.next().await;
                if pred(&hook.json) {
                    return hook.json;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no webhook with {what} arrived"))
    }

    async fn status(&mut self, wamid: &str, status: &str) -> Value {
        let v = self
            .wait_for(&format!("status {status} for {wamid}"), |v| {
                statuses(v)
                    .iter()
                    .any(|s| s["id"] == wamid && s["status"] == status)
            })
            .await;
        statuses(&v)
            .into_iter()
            .find(|s| s["id"] == wamid)
            .cloned()
            .unwrap()
    }

    async fn inbound(&mut self, wamid: &str) -> Value {
        self.wait_for(&format!("inbound {wamid}"), |v| {
            messages(v).iter().any(|m| m["id"] == wamid)
        })
        .await
    }
}

fn value(v: &Value) -> &Value {
    &v["entry"][0]["changes"][0]["value"]
}

fn statuses(v: &Value) -> Vec<&Value> {
    value(v)["statuses"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn messages(v: &Value) -> Vec<&Value> {
    value(v)["messages"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Test defaults: quick retries, statuses without delay.
fn config() -> SandboxConfig {
    SandboxConfig {
        webhook_retry_base: Duration::from_millis(20),
        webhook_retry_max_delay: Duration::from_millis(200),
        delivery_delay: Duration::ZERO,
        read_delay: Duration::ZERO,
        ..SandboxConfig::default()
    }
}

struct Env {
    sb: SandboxHandle,
    http: reqwest::Client,
    hooks: Receiver,
}

async fn start(config: SandboxConfig) -> Env {
    let hooks = receiver(0).await;
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    sb.set_webhook_target(&hooks.url, SECRET).unwrap();
    Env {
        sb,
        http: reqwest::Client::new(),
        hooks,
    }
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.graph_url())
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = tokio::time::timeout(GUARD, req.send())
            .await
            .expect("answered in time")
            .expect("HTTP works");
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&body)})),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(
            self.http
                .get(self.url(path))
                .bearer_auth(self.sb.access_token()),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(
            self.http
                .post(self.url(path))
                .bearer_auth(self.sb.access_token())
                .json(&body),
        )
        .await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(
            self.http
                .delete(self.url(path))
                .bearer_auth(self.sb.access_token()),
        )
        .await
    }

    async fn send(&self, body: Value) -> (u16, Value) {
        self.post(&format!("/{SALES_PHONE_NUMBER_ID}/messages"), body)
            .await
    }

    /// Sends and expects acceptance; returns the wamid.
    async fn send_ok(&self, body: Value) -> String {
        let (status, v) = self.send(body.clone()).await;
        assert_eq!(status, 200, "{body}\n→ {v}");
        assert_eq!(v["messaging_product"], "whatsapp");
        let id = v["messages"][0]["id"]
            .as_str()
            .expect("a message id")
            .to_owned();
        assert!(id.starts_with("wamid."), "{id}");
        id
    }

    async fn upload(&self, mime: &str, bytes: Vec<u8>) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("upload.bin")
                    .mime_str(mime)
                    .unwrap(),
            );
        self.call(
            self.http
                .post(self.url(&format!("/{SALES_PHONE_NUMBER_ID}/media")))
                .bearer_auth(self.sb.access_token())
                .multipart(form),
        )
        .await
    }

    async fn upload_ok(&self, mime: &str, bytes: Vec<u8>) -> String {
        let (status, v) = self.upload(mime, bytes).await;
        assert_eq!(status, 200, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// The customer writes, opening the window; returns the inbound wamid once delivered.
    async fn customer_writes(&mut self, who: &str, text: &str) -> String {
        let id = self
            .sb
            .customer_sends(who, CustomerMessage::text(text))
            .unwrap();
        self.hooks.inbound(&id).await;
        id
    }
}

/// A text to a phone number (`to`) or to a business-scoped user id (`recipient`, as Meta wants).
fn text(to: &str, body: &str) -> Value {
    let field = if crmconnect::meta::messages::is_user_id(to) {
        "recipient"
    } else {
        "to"
    };
    json!({"messaging_product":"whatsapp",field:to,"type":"text","text":{"body":body}})
}

/// Asserts a Graph refusal: HTTP status, code, and that the message names the problem.
fn refused(got: &(u16, Value), http: u16, code: i64, needle: &str) {
    let (status, v) = got;
    assert_eq!(*status, http, "{v}");
    let e = &v["error"];
    assert_eq!(e["code"], code, "{v}");
    assert!(e["fbtrace_id"].is_string(), "{v}");
    assert!(e["type"].is_string(), "{v}");
    let message = e["message"].as_str().unwrap_or("");
    assert!(
        message.contains(needle),
        "message {message:?} should name {needle:?}"
    );
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nsandbox test bytes";

// ---------------------------------------------------------------- numbers, profile, auth, routing

#[tokio::test]
async fn numbers_are_listed_paged_and_shaped_like_meta() {
    let env = start(config()).await;
    assert_eq!(env.sb.waba_id(), WABA_ID);
    let (status, page1) = env.get(&format!("/{WABA_ID}/phone_numbers?limit=1")).await;
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["data"].as_array().unwrap().len(), 1);
    let first = &page1["data"][0];
    assert_eq!(first["id"], SALES_PHONE_NUMBER_ID);
    assert_eq!(first["verified_name"], "Sandbox Sales");
    assert_eq!(first["display_phone_number"], "+1 555-555-0101");
    for f in [
        "code_verification_status",
        "quality_rating",
        "platform_type",
        "throughput",
    ] {
        assert!(first.get(f).is_some(), "list has {f}: {first}");
    }
    assert!(page1["paging"]["cursors"]["after"].is_string());
    let next = page1["paging"]["next"].as_str().expect("a next page");
    let (status, page2) = env
        .call(env.http.get(next).bearer_auth(env.sb.access_token()))
        .await;
    assert_eq!(status, 200, "{page2}");
    assert_eq!(page2["data"][0]["id"], SUPPORT_PHONE_NUMBER_ID);
    assert_eq!(page2["data"][0]["verified_name"], "Sandbox Support");
    assert!(page2["paging"].get("next").is_none(), "{page2}");

    let (_, one) = env.get(&format!("/{SALES_PHONE_NUMBER_ID}")).await;
    let mut keys: Vec<&String> = one.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "display_phone_number",
            "id",
            "quality_rating",
            "verified_name"
        ]
    );
    let (_, some) = env
        .get(&format!("/{SALES_PHONE_NUMBER_ID}?fields=name_status,status,throughput,platform_type,messaging_limit_tier,whatsapp_business_manager_messaging_limit,account_mode,code_verification_status"))
        .await;
    assert_eq!(some["throughput"]["level"], "STANDARD");
    assert_eq!(some["platform_type"], "CLOUD_API");
    assert_eq!(some["account_mode"], "SANDBOX");
    assert_eq!(some["whatsapp_business_manager_messaging_limit"], "TIER_1K");
    let bad = env
        .get(&format!("/{SALES_PHONE_NUMBER_ID}?fields=colour"))
        .await;
    refused(&bad, 400, 100, "nonexisting field (colour)");
    let (_, waba) = env.get(&format!("/{WABA_ID}")).await;
    assert_eq!(waba["id"], WABA_ID);
    assert!(waba["message_template_namespace"].is_string());
}

#[tokio::test]
async fn business_profile_reads_updates_and_serves_its_picture_only_with_the_token() {
    let env = start(config()).await;
    let path = format!("/{SALES_PHONE_NUMBER_ID}/whatsapp_business_profile");
    let (status, v) = env
        .get(&format!(
            "{path}?fields=about,address,description,email,profile_picture_url,websites,vertical"
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    let p = &v["data"][0];
    assert_eq!(p["messaging_product"], "whatsapp");
    assert!(p["about"].as_str().unwrap().contains("not a real business"));
    assert!(p["websites"].is_array());
    let url = p["profile_picture_url"].as_str().unwrap().to_owned();

    let without = env.call(env.http.get(&url)).await;
    refused(&without, 401, 190, "access token");
    let with = env
        .http
        .get(&url)
        .bearer_auth(env.sb.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
    assert_eq!(with.headers()["content-type"], "image/png");
    let sales_png = with.bytes().await.unwrap();
    assert!(sales_png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (_, other) = env
        .get(&format!(
            "/{SUPPORT_PHONE_NUMBER_ID}/whatsapp_business_profile?fields=profile_picture_url"
        ))
        .await;
    let support_png = env
        .http
        .get(other["data"][0]["profile_picture_url"].as_str().unwrap())
        .bearer_auth(env.sb.access_token())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_ne!(sales_png, support_png, "each number has its own picture");

    let (status, ok) = env
        .post(&path, json!({"messaging_product":"whatsapp","about":"Open 9 to 5 (sandbox)","websites":["https://example.invalid/a"],"vertical":"RETAIL"}))
        .await;
    assert_eq!((status, ok), (200, json!({"success": true})));
    let (_, v) = env.get(&format!("{path}?fields=about,vertical")).await;
    assert_eq!(v["data"][0]["about"], "Open 9 to 5 (sandbox)");
    assert_eq!(v["data"][0]["vertical"], "RETAIL");
    refused(
        &env.post(
            &path,
            json!({"messaging_product":"whatsapp","about":"x".repeat(140)}),
        )
        .await,
        400,
        100,
        "about is 140 characters",
    );
    refused(
        &env.post(&path, json!({"messaging_product":"whatsapp","websites":["https://a.example","https://b.example","https://c.example"]})).await,
        400,
        100,
        "websites",
    );
    refused(
        &env.get(&format!("{path}?fields=shoe_size")).await,
        400,
        100,
        "shoe_size",
    );
}

#[tokio::test]
async fn tokens_are_checked_and_expire_on_the_sandbox_clock() {
    let env = start(SandboxConfig {
        token_lifetime: Some(Duration::from_secs(3600)),
        ..config()
    })
    .await;
    let url = env.url(&format!("/{SALES_PHONE_NUMBER_ID}"));
    refused(
        &env.call(env.http.get(&url)).await,
        401,
        190,
        "access token is required",
    );
    refused(
        &env.call(env.http.get(&url).bearer_auth("not-the-token"))
            .await,
        401,
        190,
        "Invalid OAuth access token",
    );
    let (status, _) = env
        .call(
            env.http
                .get(format!("{url}?access_token={}", env.sb.access_token())),
        )
        .await;
    assert_eq!(status, 200, "the token may also come as access_token");

    env.sb.clock().advance(Duration::from_secs(3601));
    let expired = env.get(&format!("/{SALES_PHONE_NUMBER_ID}")).await;
    refused(&expired, 401, 190, "Session has expired");
    assert_eq!(expired.1["error"]["error_subcode"], 463);

    env.sb.set_access_token("rotated-token");
    let (status, _) = env
        .call(env.http.get(&url).bearer_auth("rotated-token"))
        .await;
    assert_eq!(status, 401, "still expired: the lifetime is the sandbox's");
}

#[tokio::test]
async fn unknown_ids_paths_versions_and_methods_are_graph_error_100() {
    let env = start(config()).await;
    let unknown = env.send(text(ANA, "hi")).await;
    assert_eq!(unknown.0, 200, "sanity: the sales number exists");
    let r = env.post("/999999999999999/messages", text(ANA, "hi")).await;
    refused(&r, 400, 100, "999999999999999");
    assert_eq!(r.1["error"]["error_subcode"], 33);
    refused(
        &env.get("/999999999999999/phone_numbers").await,
        400,
        100,
        "999999999999999",
    );
    refused(&env.get("/123/message_templates").await, 400, 100, "123");
    refused(&env.get("/424242").await, 400, 100, "424242");
    refused(
        &env.get(&format!("/{SALES_PHONE_NUMBER_ID}/subscribed_things"))
            .await,
        400,
        100,
        "Unknown path components",
    );
    let bad_version = env
        .call(
            env.http
                .get(format!("{}/x23/{SALES_PHONE_NUMBER_ID}", env.sb.base_url()))
                .bearer_auth(env.sb.access_token()),
        )
        .await;
    refused(&bad_version, 400, 100, "Unknown path components");
    let other_version = env
        .call(
            env.http
                .get(format!(
                    "{}/v19.0/{SALES_PHONE_NUMBER_ID}",
                    env.sb.base_url()
                ))
                .bearer_auth(env.sb.access_token()),
        )
        .await;
    assert_eq!(other_version.0, 200, "any vNN.N is accepted");
    let put = env
        .call(
            env.http
                .put(env.url(&format!("/{SALES_PHONE_NUMBER_ID}/messages")))
                .bearer_auth(env.sb.access_token()),
        )
        .await;
    refused(&put, 400, 100, "Unsupported put request");
    let not_json = env
        .call(
            env.http
                .post(env.url(&format!("/{SALES_PHONE_NUMBER_ID}/messages")))
                .bearer_auth(env.sb.access_token())
                .body("{not json"),
        )
        .await;
    refused(&not_json, 400, 100, "not valid JSON");
}

// ---------------------------------------------------------------- messages

#[tokio::test]
async fn every_oas_send_example_is_accepted() {
    let mut env = start(config()).await;
    let prev = env.customer_writes("ana", "Hello business").await;
    let image = env.upload_ok("image/png", PNG.to_vec()).await;
    let audio = env.upload_ok("audio/ogg", b"OggS audio".to_vec()).await;
    let document = env
        .upload_ok("application/pdf", b"%PDF-1.4 doc".to_vec())
        .await;
    let sticker = env
        .upload_ok("image/webp", b"RIFF\0\0\0\0WEBPVP8 ".to_vec())
        .await;
    let video = env
        .upload_ok("video/mp4", b"\0\0\0\x18ftypmp42".to_vec())
        .await;
    let dt = json!({"calendar":"GREGORIAN","day_of_month":25,"day_of_week":5,"fallback_value":"February 25, 1977","hour":15,"minute":33,"month":2,"year":1977});
    let currency = json!({"amount_1000":100990,"code":"USD","fallback_value":"$100.99"});
    let body3 = json!({"type":"body","parameters":[{"text":"text-string","type":"text"},{"currency":currency,"type":"currency"},{"date_time":dt,"type":"date_time"}]});
    let header_image = json!({"type":"header","parameters":[{"image":{"link":"https://example.com/the-image.jpg"},"type":"image"}]});
    let contact = json!({"addresses":[{"city":"Menlo Park","country":"United States","country_code":"us","state":"CA","street":"1 Hacker Way","type":"HOME","zip":"94025"},{"city":"Menlo Park","country":"United States","country_code":"us","state":"CA","street":"200 Jefferson Dr","type":"WORK","zip":"94025"}],"birthday":"2012-08-18","emails":[{"email":"test@fb.com","type":"WORK"},{"email":"test@whatsapp.com","type":"HOME"}],"name":{"first_name":"John","formatted_name":"John Smith","last_name":"Smith","middle_name":"D.","prefix":"Dr","suffix":"Jr"},"org":{"company":"WhatsApp","department":"Design","title":"Manager"},"phones":[{"phone":"+1 (940) 555-1234","type":"HOME"},{"phone":"+1 (650) 555-1234","type":"WORK","wa_id":"16505551234"}],"urls":[{"type":"WORK","url":"https://www.facebook.com"},{"type":"HOME","url":"https://www.whatsapp.com"}]});
    let list_action = json!({"button":"<BUTTON_TEXT>","sections":[
        {"rows":[{"description":"<SECTION_1_ROW_1_DESC>","id":"<LIST_SECTION_1_ROW_1_ID>","title":"<SECTION_1_ROW_1_TITLE>"},{"description":"<SECTION_1_ROW_2_DESC>","id":"<LIST_SECTION_1_ROW_2_ID>","title":"<SECTION_1_ROW_2_TITLE>"}],"title":"<LIST_SECTION_1_TITLE>"},
        {"rows":[{"description":"<SECTION_2_ROW_1_DESC>","id":"<LIST_SECTION_2_ROW_1_ID>","title":"<SECTION_2_ROW_1_TITLE>"},{"description":"<SECTION_2_ROW_2_DESC>","id":"<LIST_SECTION_2_ROW_2_ID>","title":"<SECTION_2_ROW_2_TITLE>"}],"title":"<LIST_SECTION_2_TITLE>"}]});
    let list = json!({"action":list_action,"body":{"text":"<BODY_TEXT>"},"footer":{"text":"<FOOTER_TEXT>"},"header":{"text":"<HEADER_TEXT>","type":"text"},"type":"list"});
    let flow = |params: Value| json!({"action":{"name":"flow","parameters":params},"body":{"text":"<BODY_TEXT>"},"footer":{"text":"<FOOTER_TEXT>"},"header":{"text":"<HEADER_TEXT>","type":"text"},"type":"flow"});
    let ind = |extra: Value| {
        let mut v = json!({"messaging_product":"whatsapp","recipient_type":"individual","to":ANA});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let reply = |extra: Value| {
        let mut v = ind(extra);
        v["context"] = json!({"message_id": prev});
        v
    };
    let examples: Vec<(&str, Value)> = vec![
        (
            "Send Audio Message by ID",
            ind(json!({"audio":{"id":audio},"type":"audio"})),
        ),
        (
            "Send Audio Message by URL",
            ind(json!({"audio":{"link":"https://example.com/audio.ogg"},"type":"audio"})),
        ),
        (
            "Send Catalog Message",
            json!({"interactive":{"action":{"name":"catalog_message","parameters":{"thumbnail_product_retailer_id":"2lc20305pt"}},"body":{"text":"Hello! Thanks for your interest. Ordering is easy. Just visit our catalog and add items to purchase."},"footer":{"text":"Best grocery deals on WhatsApp!"},"type":"catalog_message"},"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"interactive"}),
        ),
        (
            "Send Catalog Template Message",
            json!({"messaging_product":"whatsapp","recipient_type":"individual","template":{"components":[{"parameters":[{"text":"100","type":"text"},{"text":"400","type":"text"},{"text":"3","type":"text"}],"type":"body"},{"index":0,"parameters":[{"action":{"thumbnail_product_retailer_id":"2lc20305pt"},"type":"action"}],"sub_type":"CATALOG","type":"button"}],"language":{"code":"en_US"},"name":"intro_catalog_offer"},"to":"+16505551234","type":"template"}),
        ),
        (
            "Send Contact Message",
            json!({"contacts":[contact],"messaging_product":"whatsapp","to":ANA,"type":"contacts"}),
        ),
        (
            "Send Document Message by ID",
            ind(
                json!({"document":{"caption":"<DOCUMENT_CAPTION_TO_SEND>","filename":"<DOCUMENT_FILENAME>","id":document},"type":"document"}),
            ),
        ),
        (
            "Send Document Message by URL",
            ind(
                json!({"document":{"caption":"<DOCUMENT-CAPTION-TEXT>","link":"https://example.com/doc.pdf"},"type":"document"}),
            ),
        ),
        (
            "Send Draft Flow by ID",
            ind(
                json!({"interactive":flow(json!({"flow_action":"navigate","flow_action_payload":{"data":{"<CUSTOM_KEY>":"<CUSTOM_VALUE>"},"screen":"<SCREEN_ID>"},"flow_cta":"Not shown in draft mode","flow_id":"555300000000001","flow_message_version":"3","flow_token":"<FLOW_TOKEN>","mode":"draft"})),"type":"interactive"}),
            ),
        ),
        (
            "Send Draft Flow by Name",
            ind(
                json!({"interactive":flow(json!({"flow_action":"navigate","flow_action_payload":{"data":{"<CUSTOM_KEY>":"<CUSTOM_VALUE>"},"screen":"<SCREEN_ID>"},"flow_cta":"Not shown in draft mode","flow_message_version":"3","flow_name":"signup","flow_token":"<FLOW_TOKEN>","mode":"draft"})),"type":"interactive"}),
            ),
        ),
        (
            "Send Flow Template Message",
            json!({"messaging_product":"whatsapp","template":{"components":[{"index":"0","parameters":[{"action":{"flow_action_data":{"<CUSTOM_KEY>":"<CUSTOM_VALUE>"},"flow_token":"<FLOW_TOKEN>"},"type":"action"}],"sub_type":"flow","type":"button"}],"language":{"code":"en_US"},"name":"sandbox_flow_signup"},"to":ANA,"type":"template"}),
        ),
        (
            "Send Image Message by ID",
            ind(json!({"image":{"id":image},"type":"image"})),
        ),
        (
            "Send Image Message by URL",
            ind(json!({"image":{"link":"https://example.com/image.jpg"},"type":"image"})),
        ),
        (
            "Send List Message",
            ind(json!({"interactive":list,"type":"interactive"})),
        ),
        (
            "Send Location Message",
            ind(
                json!({"location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.758056,"longitude":-122.425332,"name":"META HQ"},"type":"location"}),
            ),
        ),
        (
            "Send Message Template Interactive",
            ind(
                json!({"template":{"components":[header_image,body3,{"index":"0","parameters":[{"payload":"aGlzIHRoaXMgaXMgY29v","type":"payload"}],"sub_type":"quick_reply","type":"button"},{"index":"1","parameters":[{"payload":"9rwnB8RbYmPF5t2Mn09x4h","type":"payload"}],"sub_type":"quick_reply","type":"button"}],"language":{"code":"en_US"},"name":"sandbox_order_interactive"},"type":"template"}),
            ),
        ),
        (
            "Send Message Template Media",
            ind(
                json!({"template":{"components":[header_image,body3],"language":{"code":"en_US"},"name":"sandbox_order_media"},"type":"template"}),
            ),
        ),
        (
            "Send Message Template Text",
            ind(
                json!({"template":{"components":[body3],"language":{"code":"en_US"},"name":"sandbox_order_text"},"type":"template"}),
            ),
        ),
        (
            "Send Multi-Product Message",
            ind(
                json!({"interactive":{"action":{"catalog_id":"146265584024623","sections":[{"product_items":[{"product_retailer_id":"<YOUR_PRODUCT1_SKU_IN_CATALOG>"},{"product_retailer_id":"<YOUR_SECOND_PRODUCT1_SKU_IN_CATALOG>"}],"title":"<SECTION1_TITLE>"},{"product_items":[{"product_retailer_id":"<YOUR_PRODUCT2_SKU_IN_CATALOG>"}],"title":"<SECTION2_TITLE>"}]},"body":{"text":"<YOUR_TEXT_BODY_CONTENT>"},"footer":{"text":"<YOUR_TEXT_FOOTER_CONTENT>"},"header":{"text":"<YOUR_TEXT_HEADER_CONTENT>","type":"text"},"type":"product_list"},"type":"interactive"}),
            ),
        ),
        (
            "Send Order Details Message",
            ind(
                json!({"interactive":{"action":{"name":"review_and_pay","parameters":{"currency":"INR","order":{"items":[{"amount":{"offset":100,"value":1500},"name":"bread","quantity":1,"retailer_id":"1234567"}],"status":"pending","subtotal":{"offset":100,"value":1000}},"payment_configuration":"my-payment-config-name","payment_type":"upi","reference_id":"unique-reference-id","total_amount":{"offset":100,"value":1100},"type":"digital-goods"}},"body":{"text":"your-text-body-content"},"footer":{"text":"your-text-footer-content"},"header":{"image":{"link":"https://upload.wikimedia.org/wikipedia/commons/thumb/3/3b/Home_made_sour_dough_bread.jpg/640px-Home_made_sour_dough_bread.jpg"},"type":"image"},"type":"order_details"},"type":"interactive"}),
            ),
        ),
        (
            "Send Order Status Message",
            ind(
                json!({"interactive":{"action":{"name":"review_order","parameters":{"order":{"description":"optional-text","status":"processing"},"reference_id":"unique-reference-id-from-order-details-msg"}},"body":{"text":"your-text-body-content"},"type":"order_status"},"type":"interactive"}),
            ),
        ),
        (
            "Send Published Flow by ID",
            ind(
                json!({"interactive":flow(json!({"flow_action":"navigate","flow_action_payload":{"data":{"k":"v"},"screen":"<SCREEN_ID>"},"flow_cta":"Open Flow!","flow_id":"555300000000001","flow_message_version":"3","flow_token":"<FLOW_TOKEN>"})),"type":"interactive"}),
            ),
        ),
        (
            "Send Reply Button",
            ind(
                json!({"interactive":{"action":{"buttons":[{"reply":{"id":"<UNIQUE_BUTTON_ID_1>","title":"<BUTTON_TITLE_1>"},"type":"reply"},{"reply":{"id":"<UNIQUE_BUTTON_ID_2>","title":"<BUTTON_TITLE_2>"},"type":"reply"}]},"body":{"text":"<BUTTON_TEXT>"},"type":"button"},"type":"interactive"}),
            ),
        ),
        (
            "Send Reply to Audio Message by ID",
            reply(json!({"audio":{"id":audio},"type":"audio"})),
        ),
        (
            "Send Reply to Contact Message",
            json!({"contacts":[contact],"context":{"message_id":prev},"messaging_product":"whatsapp","to":ANA,"type":"contacts"}),
        ),
        (
            "Send Reply to Document Message by URL",
            reply(
                json!({"document":{"caption":"<DOCUMENT_CAPTION_TEXT>","link":"https://example.com/d.pdf"},"type":"document"}),
            ),
        ),
        (
            "Send Reply to Image Message by ID",
            reply(json!({"image":{"id":image},"type":"image"})),
        ),
        // The OAS example has no `type` here: it is inferred from the `interactive` key.
        (
            "Send Reply to List Message",
            reply(json!({"interactive":list})),
        ),
        (
            "Send Reply to Location Message",
            reply(
                json!({"location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.758056,"longitude":-122.425332,"name":"META HQ"},"type":"location"}),
            ),
        ),
        (
            "Send Reply to Sticker Message by ID",
            reply(json!({"sticker":{"id":sticker},"type":"sticker"})),
        ),
        (
            "Send Reply to Sticker Message by URL",
            reply(json!({"sticker":{"link":"https://example.com/s.webp"},"type":"sticker"})),
        ),
        (
            "Send Reply to Text Message",
            reply(json!({"text":{"body":"<TEXT_MSG_CONTENT>","preview_url":false},"type":"text"})),
        ),
        (
            "Send Reply to Video Message by URL",
            reply(
                json!({"type":"video","video":{"caption":"<VIDEO_CAPTION_TEXT>","link":"https://example.com/v.mp4"}}),
            ),
        ),
        (
            "Send Reply with Reaction Message",
            ind(
                json!({"reaction":{"emoji":"\u{1F600}","message_id":"wamid.HBgLM..."},"type":"reaction"}),
            ),
        ),
        (
            "Send Sample Issue Resolution Template",
            json!({"messaging_product":"whatsapp","template":{"components":[{"parameters":[{"text":"*Mr. Jones*","type":"text"}],"type":"body"},{"index":0,"parameters":[{"text":true,"type":"text"}],"sub_type":"quick_reply","type":"button"},{"index":1,"parameters":[{"text":false,"type":"text"}],"sub_type":"quick_reply","type":"button"}],"language":{"code":"en_US","policy":"deterministic"},"name":"sample_issue_resolution"},"to":ANA,"type":"template"}),
        ),
        (
            "Send Sample Shipping Confirmation Template",
            json!({"messaging_product":"whatsapp","recipient_type":"individual","template":{"components":[body3],"language":{"code":"en_US"},"name":"sandbox_order_text"},"to":"16315555555","type":"template"}),
        ),
        (
            "Send Single Product Message",
            ind(
                json!({"interactive":{"action":{"catalog_id":"367025965434465","product_retailer_id":"<ID_TEST_ITEM_1>"},"body":{"text":"<OPTIONAL_BODY_TEXT>"},"footer":{"text":"<OPTIONAL_FOOTER_TEXT>"},"type":"product"},"type":"interactive"}),
            ),
        ),
        (
            "Send Sticker Message by ID",
            ind(json!({"sticker":{"id":sticker},"type":"sticker"})),
        ),
        (
            "Send Test Message",
            json!({"messaging_product":"whatsapp","template":{"language":{"code":"en_US"},"name":"hello_world"},"to":ANA,"type":"template"}),
        ),
        (
            "Send Text Message",
            ind(json!({"text":{"body":"text-message-content","preview_url":false},"type":"text"})),
        ),
        (
            "Send Text Message with Preview URL",
            json!({"messaging_product":"whatsapp","text":{"body":"Please visit https://youtu.be/hpltvTEiRrY.","preview_url":true},"to":ANA}),
        ),
        (
            "Send Video Message by ID",
            ind(json!({"type":"video","video":{"caption":"<VIDEO_CAPTION_TEXT>","id":video}})),
        ),
        (
            "Send Video Message by URL",
            ind(
                json!({"type":"video","video":{"caption":"<VIDEO_CAPTION_TEXT>","link":"https://example.com/v.mp4"}}),
            ),
        ),
        (
            "named parameters (meta-cloud-api.md)",
            ind(
                json!({"type":"template","template":{"name":"sandbox_welcome_named","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"customer_name","text":"Jessica"},{"type":"text","parameter_name":"order_id","text":"SB-1"}]}]}}),
            ),
        ),
        (
            "quick_reply and url buttons (meta-cloud-api.md)",
            ind(
                json!({"type":"template","template":{"name":"sandbox_cart_link","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Pablo"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"STOP"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"url-suffix"}]}]}}),
            ),
        ),
        (
            "authentication code (copy code)",
            ind(
                json!({"type":"template","template":{"name":"sandbox_verification_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"123456"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"123456"}]}]}}),
            ),
        ),
        (
            "BSUID recipient (username-only customer)",
            json!({"messaging_product":"whatsapp","recipient":"US.1349120865530199","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}),
        ),
    ];
    for (name, body) in examples {
        let (status, v) = env.send(body).await;
        assert_eq!(status, 200, "{name}: {v}");
        assert!(
            v["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid."),
            "{name}: {v}"
        );
        assert!(v["contacts"][0]["input"].is_string(), "{name}: {v}");
    }
    let r = env
        .http
        .post(env.url(&format!("/{SALES_PHONE_NUMBER_ID}/messages")))
        .bearer_auth(env.sb.access_token())
        .json(&text(ANA, "usage header"))
        .send()
        .await
        .unwrap();
    let usage: Value =
        serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[WABA_ID][0]["type"], "whatsapp");
    let (_, v) = env.send(text("+1 (555) 555-0111", "formatted")).await;
    assert_eq!(
        v["contacts"][0],
        json!({"input":"+1 (555) 555-0111","wa_id":ANA})
    );

    let read = env
        .send(json!({"message_id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=","messaging_product":"whatsapp","status":"read","typing_indicator":{"type":"text"}}))
        .await;
    assert_eq!(read, (200, json!({"success": true})));
    let read = env
        .send(json!({"messaging_product":"whatsapp","status":"read","message_id":prev}))
        .await;
    assert_eq!(read, (200, json!({"success": true})));
}

#[tokio::test]
async fn refusals_carry_meta_codes_and_name_the_problem() {
    let mut env = start(config()).await;
    env.customer_writes("ana", "hi").await;
    refused(
        &env.send(json!({"to":ANA,"type":"text","text":{"body":"a"}}))
            .await,
        400,
        100,
        "messaging_product",
    );
    refused(
        &env.send(json!({"messaging_product":"whatsapp","type":"text","text":{"body":"a"}}))
            .await,
        400,
        100,
        "The parameter to is required",
    );
    refused(
        &env.send(json!({"messaging_product":"whatsapp","to":ANA,"type":"text","text":{}}))
            .await,
        400,
        131008,
        "text.body is required",
    );
    refused(
        &env.send(text(ANA, &"x".repeat(4097))).await,
        400,
        131009,
        "text.body is 4097 characters",
    );
    let buttons: Vec<Value> = (0..4)
        .map(|i| json!({"type":"reply","reply":{"id":format!("b{i}"),"title":format!("B{i}")}}))
        .collect();
    refused(
        &env.send(json!({"messaging_product":"whatsapp","to":ANA,"type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"action":{"buttons":buttons}}})).await,
        400,
        131009,
        "4 buttons",
    );
    refused(
        &env.send(json!({"messaging_product":"whatsapp","to":ANA,"type":"image","image":{"id":"1","caption":"c".repeat(1025)}})).await,
        400,
        131009,
        "image.caption is 1025 characters",
    );
    let template = |name: &str, components: Value| json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":name,"language":{"code":"en_US"},"components":components}});
    refused(
        &env.send(template(
            "sandbox_order_text",
            json!([{"type":"body","parameters":[{"type":"text","text":"only one"}]}]),
        ))
        .await,
        400,
        132000,
        "number of localizable_params (1) does not match the expected number of params (3)",
    );
    refused(
        &env.send(template("no_such_template", json!([]))).await,
        400,
        132001,
        "no_such_template",
    );
    refused(
        &env.send(json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"hello_world","language":{"code":"fr"}}})).await,
        400,
        132001,
        "does not exist in fr",
    );
    refused(
        &env.send(template("sandbox_welcome_named", json!([{"type":"body","parameters":[{"type":"text","text":"Jessica"},{"type":"text","text":"SB-1"}]}]))).await,
        400,
        132012,
        "NAMED",
    );
    refused(
        &env.send(template("sandbox_order_text", json!([{"type":"body","parameters":[{"type":"text","parameter_name":"a","text":"1"},{"type":"text","parameter_name":"b","text":"2"},{"type":"text","parameter_name":"c","text":"3"}]}]))).await,
        400,
        132012,
        "POSITIONAL",
    );
    refused(
        &env.send(template("sandbox_order_media", json!([{"type":"header","parameters":[{"type":"document","document":{"link":"https://example.com/a.pdf"}}]},{"type":"body","parameters":[{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}]}]))).await,
        400,
        132012,
        "expected IMAGE",
    );
}

#[tokio::test]
async fn the_24_hour_window_closes_on_the_clock_and_reopens_when_the_customer_writes() {
    let mut env = start(config()).await;
    env.customer_writes("ana", "Hi there").await;
    let inside = env.send_ok(text(ANA, "Hello Ana")).await;
    let sent = env.hooks.status(&inside, "sent").await;
    assert_eq!(sent["pricing"]["type"], "free_customer_service");

    env.sb.clock().advance(Duration::from_secs(24 * 3600 + 1));
    // Like Meta: accepted, then a `failed` status carrying 131047.
    let outside = env.send_ok(text(ANA, "Are you there?")).await;
    let failed = env.hooks.status(&outside, "failed").await;
    assert_eq!(failed["errors"][0]["code"], 131047);
    assert!(
        failed["errors"][0]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );
    // Templates may still be sent.
    let template = env
        .send_ok(json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}))
        .await;
    let t_sent = env.hooks.status(&template, "sent").await;
    assert_eq!(t_sent["pricing"]["category"], "utility");

    env.customer_writes("ana", "Yes, I'm back").await;
    let again = env.send_ok(text(ANA, "Welcome back")).await;
    env.hooks.status(&again, "delivered").await;

    // The window is per number: Ana never wrote to Support.
    let (status, v) = env
        .post(
            &format!("/{SUPPORT_PHONE_NUMBER_ID}/messages"),
            text(ANA, "From support"),
        )
        .await;
    assert_eq!(status, 200);
    let id = v["messages"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        env.hooks.status(&id, "failed").await["errors"][0]["code"],
        131047
    );
}

#[tokio::test]
async fn outside_the_window_can_also_be_refused_synchronously() {
    let env = start(SandboxConfig {
        window_enforcement: WindowEnforcement::Refuse,
        ..config()
    })
    .await;
    refused(
        &env.send(text(BEN, "cold message")).await,
        400,
        131047,
        "24 hours",
    );
    env.sb
        .customer_sends("ben", CustomerMessage::text("hi"))
        .unwrap();
    env.send_ok(text(BEN, "warm message")).await;
}

#[tokio::test]
async fn throughput_and_pair_rate_limits() {
    let env = start(SandboxConfig {
        frozen_clock: true,
        throughput_mps: 4,
        pair_burst: 2,
        ..config()
    })
    .await;
    for who in ["ana", "ben", "chen"] {
        env.sb
            .customer_sends(who, CustomerMessage::text("hi"))
            .unwrap();
    }
    env.send_ok(text(ANA, "1")).await;
    env.send_ok(text(ANA, "2")).await;
    refused(
        &env.send(text(ANA, "3")).await,
        400,
        131056,
        "too many messages",
    );
    env.send_ok(text(BEN, "another recipient")).await;
    // Four calls (the refused one counted too) used this second's throughput.
    refused(
        &env.send(text("15555550113", "5")).await,
        429,
        130429,
        "4 messages per second",
    );
    let other_number = env
        .post(&format!("/{SUPPORT_PHONE_NUMBER_ID}/messages"), json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}))
        .await;
    assert_eq!(
        other_number.0, 200,
        "each number has its own bucket: {}",
        other_number.1
    );

    env.sb.clock().advance(Duration::from_secs(1));
    env.send_ok(text("15555550113", "after a second")).await;
    refused(
        &env.send(text(ANA, "still paired")).await,
        400,
        131056,
        "pair rate limit",
    );
    env.sb.clock().advance(Duration::from_secs(6));
    env.send_ok(text(ANA, "after six seconds")).await;
}

#[tokio::test]
async fn statuses_arrive_sent_then_delivered_then_read_as_meta_envelopes() {
    let mut env = start(SandboxConfig {
        frozen_clock: true,
        delivery_delay: Duration::from_secs(1),
        read_delay: Duration::from_secs(3),
        ..config()
    })
    .await;
    env.customer_writes("ben", "hello").await;
    let mut body = text(BEN, "status please");
    body["biz_opaque_callback_data"] = json!("campaign-7");
    let id = env.send_ok(body).await;

    let sent = env
        .hooks
        .wait_for("a status", |v| !statuses(v).is_empty())
        .await;
    assert_eq!(sent["object"], "whatsapp_business_account");
    assert_eq!(sent["entry"][0]["id"], WABA_ID);
    assert_eq!(sent["entry"][0]["changes"][0]["field"], "messages");
    let v = value(&sent);
    assert_eq!(v["messaging_product"], "whatsapp");
    assert_eq!(v["metadata"]["display_phone_number"], "15555550101");
    assert_eq!(v["metadata"]["phone_number_id"], SALES_PHONE_NUMBER_ID);
    let s = &v["statuses"][0];
    assert_eq!(
        (s["id"].as_str(), s["status"].as_str()),
        (Some(id.as_str()), Some("sent"))
    );
    assert_eq!(s["recipient_id"], BEN);
    assert!(s["timestamp"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(s["biz_opaque_callback_data"], "campaign-7");
    assert!(s["conversation"]["id"].is_string());
    assert_eq!(s["pricing"]["pricing_model"], "PMP");
    assert_eq!(s["pricing"]["category"], "service");

    // The clock is frozen: nothing more until it moves.
    env.sb.clock().advance(Duration::from_secs(1));
    let delivered = env.hooks.next().await.json;
    assert_eq!(
        statuses(&delivered)[0]["status"],
        "delivered",
        "{delivered}"
    );
    env.sb.clock().advance(Duration::from_secs(3));
    let read = env.hooks.next().await.json;
    assert_eq!(statuses(&read)[0]["status"], "read", "{read}");
    assert_eq!(statuses(&read)[0]["id"], id.as_str());
    let t_sent: u64 = s["timestamp"].as_str().unwrap().parse().unwrap();
    let t_read: u64 = statuses(&read)[0]["timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(t_read - t_sent, 4, "timestamps follow the sandbox clock");
}

#[tokio::test]
async fn a_configured_failure_rate_sends_failed_statuses_with_errors() {
    let mut env = start(SandboxConfig {
        failure_rate: 1.0,
        ..config()
    })
    .await;
    env.customer_writes("ana", "hi").await;
    let id = env.send_ok(text(ANA, "doomed")).await;
    env.hooks.status(&id, "sent").await;
    let failed = env.hooks.status(&id, "failed").await;
    let e = &failed["errors"][0];
    assert_eq!(e["code"], 131026);
    assert!(e["title"].is_string() && e["message"].is_string() && e["href"].is_string());
    assert!(
        e["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("failure_rate")
    );

    // Media sent by an id that was never uploaded fails asynchronously with 131053.
    let env2 = start(config()).await;
    let mut env2 = env2;
    env2.customer_writes("ana", "hi").await;
    let id = env2
        .send_ok(json!({"messaging_product":"whatsapp","to":ANA,"type":"image","image":{"id":"4242424242"}}))
        .await;
    assert_eq!(
        env2.hooks.status(&id, "failed").await["errors"][0]["code"],
        131053
    );
}

// ---------------------------------------------------------------- templates

#[tokio::test]
async fn templates_list_with_paging_and_filters() {
    let env = start(config()).await;
    let path = format!("/{WABA_ID}/message_templates");
    let (status, all) = env
        .get(&format!("{path}?limit=100&summary=total_count"))
        .await;
    assert_eq!(status, 200, "{all}");
    let total = all["data"].as_array().unwrap().len();
    assert!(total >= 8, "{all}");
    assert_eq!(all["summary"]["total_count"], total);
    let t = &all["data"][0];
    for f in [
        "id",
        "name",
        "language",
        "status",
        "category",
        "components",
        "parameter_format",
    ] {
        assert!(t.get(f).is_some(), "{f} in {t}");
    }

    let mut seen = Vec::new();
    let mut url = env.url(&format!("{path}?limit=3"));
    loop {
        let (status, page) = env
            .call(env.http.get(&url).bearer_auth(env.sb.access_token()))
            .await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 3);
        seen.extend(data.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        assert!(page["paging"]["cursors"]["before"].is_string());
        match page["paging"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), total, "paging visits every template once");
    let (_, after) = env.get(&format!("{path}?limit=2")).await;
    let cursor = after["paging"]["cursors"]["after"].as_str().unwrap();
    let (_, page2) = env.get(&format!("{path}?limit=2&after={cursor}")).await;
    assert_eq!(page2["data"][0]["id"].as_str().unwrap(), seen[2]);

    let (_, named) = env.get(&format!("{path}?name=hello_world")).await;
    assert_eq!(named["data"].as_array().unwrap().len(), 1);
    assert_eq!(named["data"][0]["name"], "hello_world");
    let (_, marketing) = env
        .get(&format!("{path}?category=MARKETING&limit=100"))
        .await;
    assert!(
        marketing["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["category"] == "MARKETING")
    );
    assert!(!marketing["data"].as_array().unwrap().is_empty());
    let (_, fr) = env.get(&format!("{path}?language=fr")).await;
    assert!(fr["data"].as_array().unwrap().is_empty());
    let (_, pending) = env.get(&format!("{path}?status=PENDING")).await;
    assert!(pending["data"].as_array().unwrap().is_empty());
    let (_, fields) = env.get(&format!("{path}?fields=name,status&limit=1")).await;
    let mut keys: Vec<&String> = fields["data"][0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "status"]);
    refused(
        &env.get(&format!("{path}?limit=zero")).await,
        400,
        100,
        "limit",
    );
    refused(
        &env.get(&format!("{path}?after=%21%21")).await,
        400,
        100,
        "cursor",
    );
}

#[tokio::test]
async fn a_template_is_pending_until_the_clock_says_reviewed_then_approved_with_a_webhook() {
    let mut env = start(config()).await;
    let path = format!("/{WABA_ID}/message_templates");
    let payload = json!({"name":"order_ready","language":"en_US","category":"UTILITY","components":[
        {"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["SB-1"]}},
        {"type":"BODY","text":"Hi {{1}}, your order {{2}} is ready for pickup.","example":{"body_text":[["Ana","SB-1"]]}},
        {"type":"FOOTER","text":"Sandbox Store"},
        {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"On my way"},{"type":"URL","text":"Directions","url":"https://maps.example.invalid/{{1}}","example":["store-1"]},{"type":"PHONE_NUMBER","text":"Call us","phone_number":"15555550101"},{"type":"COPY_CODE","example":"PICKUP1"}]}]});
    let (status, created) = env.post(&path, payload.clone()).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["category"], "UTILITY");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, t) = env.get(&format!("/{id}")).await;
    assert_eq!(t["status"], "PENDING");
    assert_eq!(t["name"], "order_ready");

    refused(&env.post(&path, payload).await, 400, 100, "already exists");
    let send = json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"order_ready","language":{"code":"en_US"},"components":[
        {"type":"header","parameters":[{"type":"text","text":"SB-9"}]},
        {"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"SB-9"}]},
        {"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"store-9"}]},
        {"type":"button","sub_type":"copy_code","index":"3","parameters":[{"type":"coupon_code","coupon_code":"PICK9"}]}]}});
    refused(&env.send(send.clone()).await, 400, 132001, "not approved");
    refused(
        &env.post(
            &format!("/{id}"),
            json!({"components":[{"type":"BODY","text":"Edited body text"}]}),
        )
        .await,
        400,
        100,
        "PENDING",
    );

    env.sb.clock().advance(Duration::from_secs(60));
    let update = env
        .hooks
        .wait_for("the template status update", |v| {
            v["entry"][0]["changes"][0]["field"] == "message_template_status_update"
        })
        .await;
    assert_eq!(update["object"], "whatsapp_business_account");
    assert_eq!(update["entry"][0]["id"], WABA_ID);
    let u = value(&update);
    assert_eq!(u["event"], "APPROVED");
    assert_eq!(u["message_template_id"].as_u64().unwrap().to_string(), id);
    assert_eq!(u["message_template_name"], "order_ready");
    assert_eq!(u["message_template_language"], "en_US");
    let (_, t) = env.get(&format!("/{id}")).await;
    assert_eq!(t["status"], "APPROVED");
    let (status, v) = env.send(send).await;
    assert_eq!(status, 200, "{v}");

    // Editing sends it back to review.
    let (status, v) = env
        .post(&format!("/{id}"), json!({"components":[{"type":"BODY","text":"Hi {{1}}, your order is ready for pickup today.","example":{"body_text":[["Ana"]]}}]}))
        .await;
    assert_eq!((status, v), (200, json!({"success": true})));
    let (_, t) = env.get(&format!("/{id}?fields=status,components")).await;
    assert_eq!(t["status"], "PENDING");
    assert_eq!(t["components"].as_array().unwrap().len(), 1);
    env.sb.clock().advance(Duration::from_secs(60));
    let again = env
        .hooks
        .wait_for("the second approval", |v| value(v)["event"] == "APPROVED")
        .await;
    assert_eq!(value(&again)["message_template_name"], "order_ready");
}

#[tokio::test]
async fn templates_named_for_rejection_are_rejected_and_can_be_edited_and_deleted() {
    let mut env = start(config()).await;
    let path = format!("/{WABA_ID}/message_templates");
    let (status, created) = env
        .post(&path, json!({"name":"reject_me","language":"en","category":"MARKETING","components":[{"type":"BODY","text":"Big sale this week only"}]}))
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    env.sb.clock().advance(Duration::from_secs(61));
    let update = env
        .hooks
        .wait_for("the rejection", |v| value(v)["event"] == "REJECTED")
        .await;
    assert_eq!(value(&update)["reason"], "INVALID_FORMAT");
    let (_, t) = env
        .get(&format!("/{id}?fields=status,rejected_reason"))
        .await;
    assert_eq!(t["status"], "REJECTED");
    assert_eq!(t["rejected_reason"], "INVALID_FORMAT");
    let (status, _) = env
        .post(&format!("/{id}"), json!({"category":"UTILITY","components":[{"type":"BODY","text":"Your order shipped"}]}))
        .await;
    assert_eq!(status, 200, "a rejected template can be edited");

    // Another language of the same name, then delete exactly one, then all.
    let (_, es) = env
        .post(&path, json!({"name":"reject_me","language":"es","category":"MARKETING","components":[{"type":"BODY","text":"Gran oferta esta semana"}]}))
        .await;
    let es_id = es["id"].as_str().unwrap().to_owned();
    refused(
        &env.delete(&format!("{path}?name=other&hsm_id={es_id}"))
            .await,
        400,
        100,
        "reject_me",
    );
    let (status, v) = env
        .delete(&format!("{path}?name=reject_me&hsm_id={es_id}"))
        .await;
    assert_eq!((status, v), (200, json!({"success": true})));
    refused(&env.get(&format!("/{es_id}")).await, 400, 100, &es_id);
    let (_, t) = env.get(&format!("/{id}")).await;
    assert_eq!(t["name"], "reject_me", "the other language remains");
    let (status, _) = env.delete(&format!("{path}?name=reject_me")).await;
    assert_eq!(status, 200);
    refused(&env.get(&format!("/{id}")).await, 400, 100, &id);
    refused(
        &env.delete(&format!("{path}?name=reject_me")).await,
        400,
        100,
        "reject_me",
    );
    refused(&env.delete(&path).await, 400, 100, "name");
}

#[tokio::test]
async fn template_creation_is_validated_like_meta() {
    let env = start(config()).await;
    let path = format!("/{WABA_ID}/message_templates");
    let with_body = |text: &str, example: Value| json!({"name":"t_check","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":text,"example":example}]});
    refused(
        &env.post(&path, json!({"name":"Bad Name","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"x"}]})).await,
        400,
        100,
        "lowercase letters, digits and underscores",
    );
    refused(
        &env.post(&path, json!({"name":"ok_name","language":"en_US","category":"PROMOTION","components":[{"type":"BODY","text":"x"}]})).await,
        400,
        100,
        "PROMOTION",
    );
    refused(
        &env.post(&path, json!({"name":"ok_name","language":"klingon","category":"UTILITY","components":[{"type":"BODY","text":"x"}]})).await,
        400,
        100,
        "klingon",
    );
    let dangling = env
        .post(
            &path,
            with_body("{{1}}, your code is ready", json!({"body_text":[["Ana"]]})),
        )
        .await;
    refused(&dangling, 400, 100, "starts or ends with a variable");
    assert_eq!(dangling.1["error"]["error_subcode"], 2388299);
    let ends = env
        .post(
            &path,
            with_body("Your total is {{1}}.", json!({"body_text":[["$5"]]})),
        )
        .await;
    assert_eq!(ends.1["error"]["error_subcode"], 2388299);
    refused(
        &env.post(
            &path,
            with_body(
                "Hi {{1}}, meet {{3}} today",
                json!({"body_text":[["a","b","c"]]}),
            ),
        )
        .await,
        400,
        100,
        "sequential",
    );
    refused(
        &env.post(&path, with_body("Hi {{1}}, welcome aboard", json!({})))
            .await,
        400,
        100,
        "sample values",
    );
    let mut named = with_body("Hi {{first name}}, welcome", json!({}));
    named["parameter_format"] = json!("NAMED");
    refused(
        &env.post(&path, named).await,
        400,
        100,
        "not a valid variable",
    );
    let buttons: Vec<Value> = (0..11)
        .map(|i| json!({"type":"QUICK_REPLY","text":format!("B{i}")}))
        .collect();
    refused(
        &env.post(&path, json!({"name":"t_check","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"Hello"},{"type":"BUTTONS","buttons":buttons}]})).await,
        400,
        100,
        "11 buttons",
    );
    let footer = env
        .post(&path, json!({"name":"t_check","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"Hello"},{"type":"FOOTER","text":"f".repeat(61)}]}))
        .await;
    refused(&footer, 400, 100, "61 characters");
    assert_eq!(footer.1["error"]["error_subcode"], 2388040);
    let (status, v) = env
        .post(&path, json!({"name":"welcome_named","language":"en_US","category":"UTILITY","parameter_format":"NAMED","components":[{"type":"BODY","text":"Hi {{first_name}}, welcome to the club.","example":{"body_text_named_params":[{"param_name":"first_name","example":"Jessica"}]}}]}))
        .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn paused_templates_are_refused_with_132015() {
    let mut env = start(config()).await;
    let id = env.sb.template_id("hello_world", "en_US").unwrap();
    let (status, _) = env
        .call(
            env.http
                .post(format!(
                    "{}/sandbox/templates/{id}/status",
                    env.sb.base_url()
                ))
                .json(&json!({"status":"PAUSED"})),
        )
        .await;
    assert_eq!(status, 200);
    let update = env
        .hooks
        .wait_for("the pause", |v| value(v)["event"] == "PAUSED")
        .await;
    assert!(value(&update)["other_info"]["title"].is_string());
    refused(
        &env.send(json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}})).await,
        400,
        132015,
        "paused",
    );
    let (status, _) = env
        .post(
            &format!("/{id}"),
            json!({"components":[{"type":"BODY","text":"Hello again from the sandbox"}]}),
        )
        .await;
    assert_eq!(status, 200, "a paused template can be edited");
}

// ---------------------------------------------------------------- media

#[tokio::test]
async fn media_uploads_resolve_download_only_with_the_token_and_can_be_deleted() {
    let env = start(config()).await;
    let bytes = PNG.to_vec();
    let id = env.upload_ok("image/png", bytes.clone()).await;
    let (status, m) = env.get(&format!("/{id}")).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["messaging_product"], "whatsapp");
    assert_eq!(m["id"], id.as_str());
    assert_eq!(m["mime_type"], "image/png");
    assert_eq!(m["file_size"], bytes.len());
    use sha2::Digest;
    assert_eq!(m["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    let url = m["url"].as_str().unwrap().to_owned();

    refused(
        &env.call(env.http.get(&url)).await,
        401,
        190,
        "access token",
    );
    let r = env
        .http
        .get(&url)
        .bearer_auth(env.sb.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let (status, _) = env
        .get(&format!("/{id}?phone_number_id={SUPPORT_PHONE_NUMBER_ID}"))
        .await;
    assert_eq!(status, 400, "the media belongs to the sales number");
    env.sb.clock().advance(Duration::from_secs(301));
    let (status, _) = env
        .call(env.http.get(&url).bearer_auth(env.sb.access_token()))
        .await;
    assert_eq!(status, 404, "media URLs expire after 5 minutes");
    let (_, fresh) = env.get(&format!("/{id}")).await;
    let r = env
        .http
        .get(fresh["url"].as_str().unwrap())
        .bearer_auth(env.sb.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (status, v) = env.delete(&format!("/{id}")).await;
    assert_eq!((status, v), (200, json!({"success": true})));
    refused(&env.get(&format!("/{id}")).await, 400, 100, &id);
}

#[tokio::test]
async fn media_types_and_sizes_are_meta_s() {
    let env = start(config()).await;
    refused(
        &env.upload("image/gif", b"GIF89a".to_vec()).await,
        400,
        131053,
        "image/gif",
    );
    let big = vec![0u8; 5 * 1024 * 1024 + 1];
    refused(
        &env.upload("image/jpeg", big).await,
        400,
        131053,
        "at most 5242880 bytes (5 MB)",
    );
    let sticker = vec![0u8; 101 * 1024];
    refused(
        &env.upload("image/webp", sticker).await,
        400,
        131053,
        "102400 bytes",
    );
    let no_product = reqwest::multipart::Form::new()
        .text("type", "image/png")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec())
                .mime_str("image/png")
                .unwrap(),
        );
    refused(
        &env.call(
            env.http
                .post(env.url(&format!("/{SALES_PHONE_NUMBER_ID}/media")))
                .bearer_auth(env.sb.access_token())
                .multipart(no_product),
        )
        .await,
        400,
        100,
        "messaging_product",
    );
    let no_file = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "image/png");
    refused(
        &env.call(
            env.http
                .post(env.url(&format!("/{SALES_PHONE_NUMBER_ID}/media")))
                .bearer_auth(env.sb.access_token())
                .multipart(no_file),
        )
        .await,
        400,
        100,
        "file",
    );
    refused(
        &env.post(
            &format!("/{SALES_PHONE_NUMBER_ID}/media"),
            json!({"file":"x"}),
        )
        .await,
        400,
        100,
        "multipart/form-data",
    );
    let doc = env
        .upload_ok(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04".to_vec(),
        )
        .await;
    assert!(!doc.is_empty());
    let voice = env
        .upload_ok("audio/ogg; codecs=opus", b"OggS".to_vec())
        .await;
    let (_, m) = env.get(&format!("/{voice}")).await;
    assert_eq!(m["mime_type"], "audio/ogg; codecs=opus");
}

// ---------------------------------------------------------------- webhooks

#[tokio::test]
async fn webhooks_verify_with_the_app_secret_and_not_with_another() {
    let mut env = start(config()).await;
    let id = env
        .sb
        .customer_sends("ana", CustomerMessage::text("hi"))
        .unwrap();
    let hook = env.hooks.next().await;
    assert_eq!(messages(&hook.json)[0]["id"], id.as_str());
    let sig = hook.signature.as_deref();
    assert!(sig.unwrap().starts_with("sha256="));
    assert_eq!(
        signature::verify(SECRET.as_bytes(), &hook.body, sig),
        Ok(())
    );
    assert_eq!(
        signature::verify(b"wrong-secret", &hook.body, sig),
        Err(SignatureError::Mismatch)
    );
    let mut altered = hook.body.to_vec();
    altered.push(b' ');
    assert_eq!(
        signature::verify(SECRET.as_bytes(), &altered, sig),
        Err(SignatureError::Mismatch)
    );

    // A new secret at runtime signs the next webhooks.
    env.sb
        .set_webhook_target(&env.hooks.url, "rotated-secret")
        .unwrap();
    env.sb
        .customer_sends("ben", CustomerMessage::text("hi"))
        .unwrap();
    let hook = tokio::time::timeout(GUARD, env.hooks.rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        signature::verify(b"rotated-secret", &hook.body, hook.signature.as_deref()),
        Ok(())
    );
    assert_eq!(
        signature::verify(SECRET.as_bytes(), &hook.body, hook.signature.as_deref()),
        Err(SignatureError::Mismatch)
    );
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_delivery_retried() {
    let mut hooks = receiver(2).await;
    let sb = Sandbox::start(config()).await.unwrap();
    sb.set_webhook_target(&hooks.url, SECRET).unwrap();
    let id = sb
        .customer_sends("chen", CustomerMessage::text("retry me"))
        .unwrap();
    let a = hooks.next().await;
    let b = hooks.next().await;
    let c = hooks.next().await;
    assert_eq!((a.answered, b.answered, c.answered), (500, 500, 200));
    assert_eq!(a.body, b.body, "the same delivery is retried");
    assert_eq!(b.body, c.body);
    assert_eq!(messages(&c.json)[0]["id"], id.as_str());
    let log = sb.deliveries();
    let d = log
        .iter()
        .find(|d| d.summary.contains("from chen"))
        .unwrap();
    tokio::time::timeout(GUARD, async {
        while sb.deliveries().iter().find(|x| x.id == d.id).unwrap().state
            != DeliveryState::Delivered
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the log shows the delivery done");
    let d = sb.deliveries().into_iter().find(|x| x.id == d.id).unwrap();
    let codes: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(codes, vec![Some(500), Some(500), Some(200)]);
    sb.shutdown().await;
}

#[tokio::test]
async fn webhooks_wait_for_a_target_and_survive_an_unreachable_one() {
    let sb = Sandbox::start(config()).await.unwrap();
    // Nothing listens on this port: connection refused, retried.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/webhook", dead.local_addr().unwrap());
    drop(dead);
    let id = sb
        .customer_sends("ana", CustomerMessage::text("queued"))
        .unwrap();
    sb.set_webhook_target(&dead_url, SECRET).unwrap();
    tokio::time::timeout(GUARD, async {
        while sb.deliveries()[0].attempts.len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("retried after connection failures");
    assert!(
        sb.deliveries()[0].attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("could not reach")
    );
    let mut hooks = receiver(0).await;
    sb.set_webhook_target(&hooks.url, SECRET).unwrap();
    hooks.inbound(&id).await;
}

// ---------------------------------------------------------------- simulated customers

#[tokio::test]
async fn customers_send_every_common_type_and_one_has_only_a_username() {
    let mut env = start(config()).await;
    // Scripts skip reactions and replies while the business has not written yet.
    let first = env.sb.customer_sends_next("chen").unwrap();
    env.hooks.inbound(&first).await;
    let skipped = env.sb.customer_sends_next("chen").unwrap();
    let v = env.hooks.inbound(&skipped).await;
    assert_eq!(messages(&v)[0]["type"], "contacts");
    let skipped = env.sb.customer_sends_next("chen").unwrap();
    let v = env.hooks.inbound(&skipped).await;
    assert_eq!(
        messages(&v)[0]["type"],
        "interactive",
        "the reaction was skipped"
    );
    assert!(
        env.sb
            .customer_sends(
                "chen",
                CustomerMessage::Reaction {
                    message_id: None,
                    emoji: "\u{1F44D}".into()
                }
            )
            .is_err()
    );

    // Something from the business to react and reply to.
    let business = env.send_ok(text("15555550113", "Here is our offer")).await;
    for who in ["ana", "ben", "dara"] {
        env.sb
            .customer_sends(who, CustomerMessage::text("hello"))
            .unwrap();
        let to = if who == "dara" {
            "US.1349120865530199"
        } else if who == "ana" {
            ANA
        } else {
            BEN
        };
        env.send_ok(text(to, "Thanks for writing")).await;
    }

    let mut kinds = Vec::new();
    for (who, count) in [("ana", 4), ("ben", 5), ("chen", 6), ("dara", 2)] {
        for _ in 0..count {
            let id = env.sb.customer_sends_next(who).unwrap();
            let hook = env.hooks.inbound(&id).await;
            let v = value(&hook);
            let m = &v["messages"][0];
            let contact = &v["contacts"][0];
            assert!(
                contact["profile"]["name"]
                    .as_str()
                    .unwrap()
                    .contains("(sandbox)")
            );
            if who == "dara" {
                assert!(m.get("from").is_none(), "{m}");
                assert!(contact.get("wa_id").is_none(), "{contact}");
                assert!(m["from_user_id"].as_str().unwrap().starts_with("US."));
                assert_eq!(contact["profile"]["username"], "dara.sandbox");
            } else {
                assert!(m["from"].as_str().unwrap().starts_with("1555555"));
                assert_eq!(contact["wa_id"], m["from"]);
            }
            let kind = m["type"].as_str().unwrap().to_owned();
            assert!(m.get(&kind).is_some(), "{m}");
            match kind.as_str() {
                "image" | "document" | "audio" | "video" | "sticker" => {
                    let media_id = m[&kind]["id"].as_str().unwrap();
                    assert!(m[&kind]["sha256"].is_string() && m[&kind]["mime_type"].is_string());
                    let (status, media) = env.get(&format!("/{media_id}")).await;
                    assert_eq!(status, 200, "{media}");
                    let r = env
                        .http
                        .get(media["url"].as_str().unwrap())
                        .bearer_auth(env.sb.access_token())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    assert!(!r.bytes().await.unwrap().is_empty());
                }
                "reaction" if who == "chen" => {
                    assert_eq!(m["reaction"]["message_id"], business.as_str())
                }
                "reaction" => assert!(
                    m["reaction"]["message_id"]
                        .as_str()
                        .unwrap()
                        .starts_with("wamid.")
                ),
                "interactive" => {
                    let t = m["interactive"]["type"].as_str().unwrap();
                    assert!(m["interactive"][t]["id"].is_string(), "{m}");
                    assert_eq!(m["context"]["id"], business.as_str());
                }
                "button" => {
                    assert!(m["button"]["payload"].is_string() && m["button"]["text"].is_string())
                }
                _ => {}
            }
            if kind == "audio" {
                assert_eq!(m["audio"]["voice"], true);
            }
            kinds.push(kind);
        }
    }
    for k in [
        "text",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no inbound {k}: {kinds:?}");
    }

    // A quoted reply, and the username-only customer's window.
    let reply = env
        .sb
        .customer_sends(
            "chen",
            Inbound::from(CustomerMessage::text("About this…")).replying_to(&business),
        )
        .unwrap();
    let v = env.hooks.inbound(&reply).await;
    assert_eq!(messages(&v)[0]["context"]["id"], business.as_str());
    assert_eq!(messages(&v)[0]["context"]["from"], "15555550101");
    // A user id in `to` is answered like a send and never delivered: Meta wants `recipient`.
    let dropped = env
        .send_ok(json!({"messaging_product":"whatsapp","to":"US.1349120865530199","type":"text","text":{"body":"lost"}}))
        .await;
    let to_dara = env.send_ok(text("US.1349120865530199", "Hi Dara")).await;
    let sent = env.hooks.status(&to_dara, "sent").await;
    assert_eq!(sent["recipient_user_id"], "US.1349120865530199");
    assert!(sent.get("recipient_id").is_none());
    loop {
        let hook = env.hooks.next().await;
        let about = statuses(&hook.json);
        assert!(
            about.iter().all(|s| s["id"] != dropped.as_str()),
            "a status for the dropped send: {}",
            hook.json
        );
        if about
            .iter()
            .any(|s| s["id"] == to_dara.as_str() && s["status"] == "read")
        {
            break;
        }
    }
    // An authentication template cannot go to a user id (131062); the same to a phone can.
    let code = json!({"type":"template","template":{"name":"sandbox_verification_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"123456"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"123456"}]}]}});
    let mut to_id = code.clone();
    to_id["messaging_product"] = json!("whatsapp");
    to_id["recipient"] = json!("US.1349120865530199");
    refused(
        &env.send(to_id).await,
        400,
        131062,
        "authentication templates need a phone number",
    );
    let removed = env
        .sb
        .customer_sends(
            "dara",
            CustomerMessage::Reaction {
                message_id: None,
                emoji: String::new(),
            },
        )
        .unwrap();
    let v = env.hooks.inbound(&removed).await;
    assert!(
        messages(&v)[0]["reaction"].get("emoji").is_none(),
        "an empty reaction removes it"
    );
    assert!(
        env.sb
            .customer_sends("nobody", CustomerMessage::text("x"))
            .is_err()
    );
}

#[tokio::test]
async fn auto_replies_answer_buttons_lists_and_quick_replies() {
    let mut env = start(SandboxConfig {
        auto_reply: true,
        ..config()
    })
    .await;
    env.customer_writes("ana", "hi").await;
    let buttons = env
        .send_ok(json!({"messaging_product":"whatsapp","to":ANA,"type":"interactive","interactive":{"type":"button","body":{"text":"Pick"},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}}]}}}))
        .await;
    let answer = env
        .hooks
        .wait_for("a button reply", |v| {
            messages(v)
                .iter()
                .any(|m| m["interactive"]["type"] == "button_reply")
        })
        .await;
    let m = &messages(&answer)[0];
    assert_eq!(
        m["interactive"]["button_reply"],
        json!({"id":"yes","title":"Yes"})
    );
    assert_eq!(m["context"]["id"], buttons.as_str());
    env.send_ok(json!({"messaging_product":"whatsapp","to":ANA,"type":"template","template":{"name":"sample_issue_resolution","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]}}))
        .await;
    let tapped = env
        .hooks
        .wait_for("a quick reply", |v| {
            messages(v).iter().any(|m| m["type"] == "button")
        })
        .await;
    assert_eq!(
        messages(&tapped)[0]["button"],
        json!({"payload":"Yes","text":"Yes"})
    );
}

// ---------------------------------------------------------------- control endpoints and lifecycle

#[tokio::test]
async fn control_endpoints_drive_the_world() {
    let mut env = start(config()).await;
    let base = env.sb.base_url().to_owned();
    let (status, overview) = env.call(env.http.get(format!("{base}/sandbox"))).await;
    assert_eq!(status, 200);
    assert_eq!(overview["waba_id"], WABA_ID);
    assert_eq!(overview["phone_numbers"].as_array().unwrap().len(), 2);
    assert_eq!(overview["customers"].as_array().unwrap().len(), 5);

    let before = env.sb.clock().unix_secs();
    let (status, clock) = env
        .call(
            env.http
                .post(format!("{base}/sandbox/clock/advance"))
                .json(&json!({"hours": 2})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    assert!(clock["now"].as_u64().unwrap() >= before + 7200);
    assert!(env.sb.clock().offset() >= Duration::from_secs(7200));
    let (status, _) = env
        .call(
            env.http
                .post(format!("{base}/sandbox/clock/advance"))
                .json(&json!({"seconds": -5})),
        )
        .await;
    assert_eq!(status, 400);

    let (status, v) = env
        .call(env.http.post(format!("{base}/sandbox/customers/ben/messages")).json(&json!({"type":"location","latitude":51.5,"longitude":-0.12,"name":"Sandbox Square"})))
        .await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let hook = env.hooks.inbound(&id).await;
    assert_eq!(messages(&hook)[0]["location"]["name"], "Sandbox Square");
    let (status, v) = env
        .call(env.http.post(format!("{base}/sandbox/customers/ana/next")))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = env
        .call(
            env.http
                .post(format!("{base}/sandbox/customers/zed/messages"))
                .json(&json!({"type":"text","body":"x"})),
        )
        .await;
    assert_eq!(status, 404, "{v}");
    let (status, _) = env
        .call(
            env.http
                .post(format!("{base}/sandbox/customers/ana/messages"))
                .json(&json!({"type":"fax"})),
        )
        .await;
    assert_eq!(status, 400);

    let (_, deliveries) = env
        .call(env.http.get(format!(
            "{base}/sandbox/webhooks/deliveries?limit=5&field=messages"
        )))
        .await;
    let data = deliveries["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 5);
    assert!(data.iter().any(
        |d| d["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == id.as_str()
    ));

    let (status, _) = env
        .call(env.http.post(format!("{base}/sandbox/webhooks/verify")))
        .await;
    assert_eq!(status, 200, "the receiver answers the hub.challenge");
    env.sb.verify_webhook_target().await.unwrap();
    let (status, _) = env
        .call(
            env.http
                .put(format!("{base}/sandbox/webhooks/target"))
                .json(&json!({"url": format!("{}?x=1", env.hooks.url), "app_secret": SECRET})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, target) = env
        .call(env.http.get(format!("{base}/sandbox/webhooks/target")))
        .await;
    assert!(target["url"].as_str().unwrap().ends_with("?x=1"));
    let (status, _) = env
        .call(
            env.http
                .put(format!("{base}/sandbox/webhooks/target"))
                .json(&json!({"url": "not a url"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_wrong_verify_token_fails_the_handshake() {
    let hooks = receiver(0).await;
    let sb = Sandbox::start(SandboxConfig {
        verify_token: "not-what-the-receiver-expects".into(),
        ..config()
    })
    .await
    .unwrap();
    assert!(sb.verify_webhook_target().await.is_err(), "no target yet");
    sb.set_webhook_target(&hooks.url, SECRET).unwrap();
    let e = sb.verify_webhook_target().await.unwrap_err();
    assert!(e.to_string().contains("403"), "{e}");
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sb = Sandbox::start(config()).await.unwrap();
    let url = format!("{}/sandbox/clock", sb.base_url());
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    sb.shutdown().await;
    assert!(
        reqwest::get(&url).await.is_err(),
        "nothing listens any more"
    );
}

/// Kills the child process it holds (by its handle) when dropped, even if the test panics.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_relay_binary_runs_the_sandbox() {
    use std::io::BufRead;
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
            .args([
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--access-token",
                "cli-token",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    // stdout carries JSON log lines too; the banner names the Graph URL.
    let line = tokio::time::timeout(
        GUARD,
        tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::new(stdout);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line.contains("Graph API at") {
                    return Ok::<_, std::io::Error>(line);
                }
            }
        }),
    )
    .await
    .expect("the sandbox announces itself")
    .unwrap()
    .unwrap();
    let graph = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("a URL in {line:?}"))
        .to_owned();
    let r = reqwest::Client::new()
        .get(format!("{graph}/{SALES_PHONE_NUMBER_ID}"))
        .bearer_auth("cli-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["verified_name"], "Sandbox Sales");
    drop(child);
}

#[tokio::test]
async fn a_waba_alternate_callback_takes_messages_but_not_template_updates() {
    let mut env = start(config()).await;
    let mut alt = receiver(0).await;
    let path = format!("/{WABA_ID}/subscribed_apps");
    // The handshake must answer with the verify token given, or nothing changes.
    refused(
        &env.post(
            &path,
            json!({"override_callback_uri": alt.url, "verify_token": "wrong"}),
        )
        .await,
        400,
        2200,
        "HTTP 403",
    );
    refused(
        &env.post(&path, json!({"override_callback_uri": alt.url}))
            .await,
        400,
        100,
        "verify_token is required",
    );
    let (_, list) = env.get(&path).await;
    assert!(list["data"][0]["override_callback_uri"].is_null(), "{list}");
    let (status, v) = env
        .post(
            &path,
            json!({"override_callback_uri": alt.url, "verify_token": "sandbox-verify-token"}),
        )
        .await;
    assert_eq!((status, v), (200, json!({"success": true})));
    let (_, list) = env.get(&path).await;
    assert_eq!(list["data"][0]["override_callback_uri"], alt.url, "{list}");
    assert!(list["data"][0]["whatsapp_business_api_data"]["id"].is_string());

    // A customer's message goes to the alternate URL, signed with the app's secret…
    let id = env
        .sb
        .customer_sends(ANA, CustomerMessage::text("to the override"))
        .unwrap();
    alt.inbound(&id).await;
    // …a template's review to the app's URL, and nothing else went there meanwhile (one worker
    // delivers in order: the message was delivered before the review).
    let (status, created) = env
        .post(
            &format!("/{WABA_ID}/message_templates"),
            json!({"name":"alt_check","language":"en_US","category":"UTILITY",
                   "components":[{"type":"BODY","text":"Your order is ready."}]}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    env.sb.clock().advance(Duration::from_secs(60));
    let first = env.hooks.next().await;
    assert_eq!(
        first.json["entry"][0]["changes"][0]["field"], "message_template_status_update",
        "{}",
        first.json
    );
    // Removing the subscription's override sends messages to the app's URL again.
    let (status, _) = env.delete(&path).await;
    assert_eq!(status, 200);
    let id = env
        .sb
        .customer_sends(ANA, CustomerMessage::text("back to the app"))
        .unwrap();
    env.hooks.inbound(&id).await;
    assert!(
        alt.rx.try_recv().is_err(),
        "nothing more reaches the override"
    );
}
