//! The relay over real HTTP and WebSocket on loopback, with a real SQLite file and a real
//! PostgreSQL server (127.0.0.1:5432; `scripts/test` starts it).

use crate::relay_support;

use std::time::Duration;

use crmconnect::meta::signature;
use crmconnect::relay::http::{PublishedEvent, close};
use crmconnect::relay::store::Store;
use crmconnect::relay::tokens::{self, TokenSpec};
use crmconnect::sensitive::Sensitive;
use crmconnect::sync::relay_client::{RelayClient, RelayClientError, StreamItem};
use relay_support::*;

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let r = TestRelay::sqlite().await;
    let http = reqwest::Client::new();
    let health: serde_json::Value = http
        .get(format!("{}/healthz", r.handle.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "sqlite");
    let metrics = http
        .get(format!("{}/metrics", r.handle.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("relay_webhooks_received_total"),
        "{metrics}"
    );
    assert!(metrics.contains("relay_connected_clients"), "{metrics}");
    r.stop().await;
}

#[tokio::test]
async fn the_handshake_answers_the_challenge_only_for_the_verify_token() {
    let r = TestRelay::sqlite().await;
    let http = reqwest::Client::new();
    let url = format!("{}/webhook/{WS}", r.handle.url());
    let ok = http
        .get(&url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY),
            ("hub.challenge", "1158201444"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = http
        .get(&url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "guess"),
            ("hub.challenge", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    r.stop().await;
}

#[tokio::test]
async fn a_webhook_is_verified_before_anything_is_stored() {
    let r = TestRelay::sqlite_with(|c| c.limits.max_body_bytes = 64 * 1024).await;
    let body = messages_webhook(&[("wamid.1", "hello"), ("wamid.2", "again")]);
    // No signature, a wrong one, one over another body: 401, nothing stored.
    assert_eq!(r.post_webhook(&body, None).await.0, 401);
    let wrong = signature::sign(b"not the app secret", body.as_bytes());
    assert_eq!(r.post_webhook(&body, Some(&wrong)).await.0, 401);
    let other = signature::sign(SECRET.as_bytes(), b"{}");
    assert_eq!(r.post_webhook(&body, Some(&other)).await.0, 401);
    assert_eq!(r.store.head(WS).await.unwrap(), 0);
    // Signed but not JSON: 400. Too large: 413. Unknown workspace: 401, like a bad signature.
    let (status, _) = r.post_signed("{not json").await;
    assert_eq!(status, 400);
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(100 * 1024));
    assert_eq!(r.post_signed(&huge).await.0, 413);
    let resp = reqwest::Client::new()
        .post(format!("{}/webhook/nobody", r.handle.url()))
        .header(
            signature::HEADER,
            signature::sign(SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(r.store.head(WS).await.unwrap(), 0);

    // Signed: 200 once durable; Meta's retry of the same body adds nothing.
    assert_eq!(r.post_signed(&body).await.0, 200);
    assert_eq!(r.store.head(WS).await.unwrap(), 2);
    assert_eq!(r.post_signed(&body).await.0, 200);
    assert_eq!(r.store.head(WS).await.unwrap(), 2);
    let events = r.store.read_after(WS, 0, 10).await.unwrap();
    assert_eq!(events[0].event.key, "message:wamid.1");
    assert_eq!(
        events[1].event.fields.customer.as_deref(),
        Some("16505551234")
    );

    let metrics = reqwest::get(format!("{}/metrics", r.handle.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "relay_rejections_total{reason=\"bad_signature\"} 4",
        "relay_rejections_total{reason=\"malformed_json\"} 1",
        "relay_rejections_total{reason=\"too_large\"} 1",
        "relay_events_stored_total 2",
        "relay_duplicate_events_total 2",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    r.stop().await;
}

#[tokio::test]
async fn publishing_checks_the_tokens_permissions_like_the_core() {
    let r = TestRelay::sqlite().await;
    let viewer = r.client_for("vera", false, &["whatsapp_chat:view"]).await;
    let refused = viewer
        .publish(vec![event("e1", "message.sent")])
        .await
        .unwrap();
    let why = refused[0].refused.as_deref().expect("refused");
    assert!(why.contains("whatsapp_chat:send"), "{why}");
    assert_eq!(r.store.head(WS).await.unwrap(), 0, "nothing stored");

    let ok = viewer
        .publish(vec![event("e2", "conversation.read")])
        .await
        .unwrap();
    assert_eq!((ok[0].seq, ok[0].duplicate), (1, false));
    let again = viewer
        .publish(vec![event("e2", "conversation.read")])
        .await
        .unwrap();
    assert_eq!((again[0].seq, again[0].duplicate), (1, true));
    let unknown = viewer
        .publish(vec![event("e4", "world.domination")])
        .await
        .unwrap();
    assert!(
        unknown[0]
            .refused
            .as_deref()
            .unwrap()
            .contains("not an event kind")
    );

    let admin = r.client_for("olivia", true, &[]).await;
    admin
        .publish(vec![
            event("a1", "staff.changed"),
            event("a2", "message.sent"),
        ])
        .await
        .unwrap();
    let stored = r.store.read_after(WS, 0, 10).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[1].event.staff.as_deref(), Some("olivia"));
    assert_eq!(stored[1].event.key, "desktop:olivia:a1");
    r.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_disconnected_and_refused() {
    let r = TestRelay::sqlite_with(|c| c.limits.poll_interval_ms = 50).await;
    let (record, token) = tokens::issue(
        &r.store,
        TokenSpec {
            workspace: WS.into(),
            staff: "rita".into(),
            is_admin: false,
            permissions: vec!["whatsapp_chat:view".parse().unwrap()],
            label: "laptop".into(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    let client = RelayClient::new(&r.handle.url(), Sensitive::new(token)).unwrap();
    let mut sub = client.subscribe(0).await.unwrap();
    assert!(matches!(
        sub.next().await.unwrap(),
        StreamItem::Live { seq: 0 }
    ));
    assert!(r.store.revoke_token(&record.id).await.unwrap());
    let closed = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("disconnected within the poll interval")
        .unwrap();
    assert!(
        matches!(closed, StreamItem::Closed { code, .. } if code == close::REVOKED),
        "{closed:?}"
    );
    assert!(matches!(
        client.subscribe(0).await,
        Err(RelayClientError::Unauthorized(_))
    ));
    assert!(matches!(
        client.whoami().await,
        Err(RelayClientError::Unauthorized(_))
    ));
    r.stop().await;
}

/// The same events reach a desktop that asked for compressed frames (binary, LZ4) and one that
/// did not (text); a compression the relay does not offer is refused by name.
#[tokio::test]
async fn compressed_and_plain_streams_carry_the_same_frames() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let r = TestRelay::sqlite().await;
    r.post_messages("z", 40, "the same words, again and again")
        .await;
    let token = r.token_for("zoe", true, &[]).await;
    let open = |query: &str| {
        let mut req = format!("{}/v1/stream?after=0{query}", r.handle.ws_url())
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    // The first events frame of a stream, as text, and its size on the wire.
    async fn first_events<S>(ws: &mut S) -> (String, usize, bool)
    where
        S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
    {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Binary(b) => {
                    let text = crmconnect::relay::log::decompress(&b).unwrap();
                    return (text, b.len(), true);
                }
                Message::Text(t) if t.contains(r#""type":"events""#) => {
                    return (t.to_string(), t.len(), false);
                }
                _ => {}
            }
        }
    }
    let (mut plain, _) = open("").await.unwrap();
    let (mut packed, _) = open("&compress=lz4").await.unwrap();
    let (text, text_bytes, binary) = first_events(&mut plain).await;
    assert!(!binary, "a stream that did not ask gets text frames");
    let (unpacked, packed_bytes, binary) = first_events(&mut packed).await;
    assert!(binary, "a stream that asked gets binary frames");
    assert_eq!(unpacked, text);
    assert_eq!(text.matches(r#""seq":"#).count(), 40);
    assert!(
        packed_bytes * 3 < text_bytes,
        "40 similar events compress: {packed_bytes} bytes against {text_bytes}"
    );

    let refused = open("&compress=gzip").await.unwrap_err();
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status(), 400);
            let body = String::from_utf8(resp.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("“gzip” is not offered"), "{body}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    r.stop().await;
}

#[tokio::test]
async fn streams_replay_from_the_cursor_then_go_live_in_one_order() {
    let r = TestRelay::sqlite().await;
    r.post_messages("early", 30, "x").await;
    let a = r.client_for("a", true, &[]).await;
    let b = r.client_for("b", true, &[]).await;
    let mut sa = a.subscribe(0).await.unwrap();
    let mut sb = b.subscribe(25).await.unwrap();
    assert_eq!(sa.head, 30);
    let writer = {
        let url = r.handle.url();
        tokio::spawn(async move {
            for i in 0..70 {
                let body = messages_webhook(&[(&format!("wamid.late{i}"), "y")]);
                post_signed_to(&url, &body).await;
            }
        })
    };
    let got_a = collect_until(&mut sa, 100).await;
    let got_b = collect_until(&mut sb, 100).await;
    writer.await.unwrap();
    assert_eq!(got_a, (1..=100).collect::<Vec<_>>());
    assert_eq!(got_b, (26..=100).collect::<Vec<_>>());
    r.stop().await;
}

/// `live` marks the end of catching up, once: a desktop replaying in several frames gets it after
/// the last one, and a live desktop is not told again after every new event.
#[tokio::test]
async fn live_follows_the_catch_up_once_not_every_frame() {
    let r = TestRelay::sqlite_with(|c| c.limits.frame_events = 4).await;
    r.post_messages("old", 10, "x").await;
    let client = r.client_for("lea", true, &[]).await;
    let mut sub = client.subscribe(0).await.unwrap();
    let mut next = async || match tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("a frame")
        .unwrap()
    {
        StreamItem::Events { events, .. } => {
            format!(
                "events {:?}",
                events.iter().map(|e| e.seq).collect::<Vec<_>>()
            )
        }
        StreamItem::Live { seq } => format!("live {seq}"),
        other => panic!("{other:?}"),
    };
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("live 10") {
        seen.push(next().await);
        assert!(seen.len() <= 5, "{seen:?}");
    }
    assert_eq!(
        seen,
        [
            "events [1, 2, 3, 4]",
            "events [5, 6, 7, 8]",
            "events [9, 10]",
            "live 10"
        ]
    );
    // Live: each new event is one frame, and nothing else.
    for i in 0..5 {
        let body = messages_webhook(&[(&format!("wamid.new{i}"), "y")]);
        assert_eq!(r.post_signed(&body).await.0, 200);
        assert_eq!(next().await, format!("events [{}]", 11 + i));
    }
    r.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_not_buffered() {
    let r = TestRelay::sqlite_with(|c| {
        c.limits.send_timeout_ms = 300;
        c.limits.frame_events = 256;
    })
    .await;
    let slow = r.client_for("slow", true, &[]).await;
    let mut sub = slow.subscribe(0).await.unwrap();
    // ~40,000 events of ~1 KB: far more than the socket buffers hold. The padding is noise, so
    // that the compressed frames are as big as the text.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut noise = || -> String {
        (0..700)
            .map(|_| {
                // xorshift64: cheap bytes that LZ4 finds no repeats in.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'a' + (state % 26) as u8)
            })
            .collect()
    };
    for chunk in 0..40 {
        let events: Vec<_> = (0..1000)
            .map(|i| test_event(&format!("k{chunk}-{i}"), &noise()))
            .collect();
        r.handle.state.log.append(WS, events).await.unwrap();
    }
    // The relay gives up on the client instead of queueing for it.
    let mut waited = 0;
    while r
        .handle
        .state
        .metrics
        .render()
        .contains("relay_connected_clients 1")
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
        assert!(waited < 100, "the slow client was never disconnected");
    }
    assert!(
        r.handle
            .state
            .metrics
            .render()
            .contains("relay_rejections_total{reason=\"slow_client\"} 1")
    );
    // What it reads is a prefix of the log in order, then the close (or a lost connection).
    let mut next = 1;
    loop {
        match sub.next().await.unwrap() {
            StreamItem::Events { events, .. } => {
                for e in events {
                    assert_eq!(e.seq, next);
                    next += 1;
                }
            }
            StreamItem::Closed { .. } => break,
            _ => {}
        }
    }
    assert!(next < 40_000, "it was cut off before the end");
    // Reconnecting from its cursor resumes exactly there.
    let mut again = slow.subscribe(next - 1).await.unwrap();
    match again.next().await.unwrap() {
        StreamItem::Events { events, .. } => assert_eq!(events[0].seq, next),
        other => panic!("{other:?}"),
    }
    r.stop().await;
}

#[tokio::test]
async fn postgres_two_instances_share_one_log() {
    let db = TestPg::create().await;
    let a = TestRelay::on(&db.url, |_| {}).await;
    let b = TestRelay::on(&db.url, |c| c.limits.poll_interval_ms = 60_000).await;
    let client_b = b.client_for("bob", true, &[]).await;
    let mut sub = client_b.subscribe(0).await.unwrap();
    assert!(matches!(
        sub.next().await.unwrap(),
        StreamItem::Live { seq: 0 }
    ));
    // A webhook ingested by A reaches B's client through NOTIFY (B's poll is a minute).
    let body = messages_webhook(&[("wamid.pg1", "hi")]);
    assert_eq!(a.post_signed(&body).await.0, 200);
    let got = tokio::time::timeout(Duration::from_secs(5), collect_until(&mut sub, 1))
        .await
        .expect("NOTIFY woke instance B");
    assert_eq!(got, vec![1]);
    // The retry, sent to B this time, is a duplicate.
    assert_eq!(b.post_signed(&body).await.0, 200);
    assert_eq!(a.store.head(WS).await.unwrap(), 1);

    // Both instances write at once; readers on both see one gapless order.
    let mut sa = a
        .client_for("ann", true, &[])
        .await
        .subscribe(1)
        .await
        .unwrap();
    let writers: Vec<_> = [a.handle.url(), b.handle.url()]
        .into_iter()
        .enumerate()
        .map(|(n, url)| {
            tokio::spawn(async move {
                for i in 0..100 {
                    let body = messages_webhook(&[(&format!("wamid.w{n}-{i}"), "x")]);
                    post_signed_to(&url, &body).await;
                }
            })
        })
        .collect();
    let got_a = collect_until(&mut sa, 201).await;
    let got_b = collect_until(&mut sub, 201).await;
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(got_a, (2..=201).collect::<Vec<_>>());
    assert_eq!(got_b, (2..=201).collect::<Vec<_>>());
    a.stop().await;
    b.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn postgres_a_late_commit_is_never_skipped() {
    use crmconnect::relay::store::postgres as pgt;
    let db = TestPg::create().await;
    let relay = TestRelay::on(&db.url, |c| c.limits.poll_interval_ms = 50).await;
    let Store::Postgres(pool) = &relay.store else {
        unreachable!()
    };
    let client = relay.client_for("c", true, &[]).await;
    let mut sub = client.subscribe(0).await.unwrap();
    assert!(matches!(
        sub.next().await.unwrap(),
        StreamItem::Live { seq: 0 }
    ));

    // Writer 1 (another instance) takes seq 1 and holds its transaction open.
    let mut slow_tx = pool.begin().await.unwrap();
    pgt::lock_workspace(&mut slow_tx, WS).await.unwrap();
    let first = pgt::append_locked(&mut slow_tx, WS, &[test_event("slow", "1")], 0)
        .await
        .unwrap();
    assert_eq!(first[0].seq, 1);
    // Writer 2 (this instance) ingests a webhook meanwhile: it must wait, not take seq 2 and
    // commit first (a reader at cursor 0 would then see 2, move on, and skip 1 forever).
    let url = relay.handle.url();
    let fast = tokio::spawn(async move {
        post_signed_to(&url, &messages_webhook(&[("wamid.fast", "x")])).await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !fast.is_finished(),
        "the second writer waited for the first"
    );
    assert_eq!(
        relay.store.head(WS).await.unwrap(),
        0,
        "nothing visible yet"
    );
    slow_tx.commit().await.unwrap();
    assert_eq!(fast.await.unwrap(), 200);
    let got = collect_until(&mut sub, 2).await;
    assert_eq!(got, vec![1, 2]);
    let events = relay.store.read_after(WS, 0, 10).await.unwrap();
    assert_eq!(events[0].event.key, "slow");
    assert_eq!(events[1].event.key, "message:wamid.fast");
    relay.stop().await;
    db.drop().await;
}

/// An event of `kind` with a payload of its shape.
fn event(id: &str, kind: &str) -> PublishedEvent {
    let payload = match kind {
        "message.sent" => serde_json::json!({"client_id": id, "wamid": null,
            "customer": "16505551234", "phone_number_id": "1",
            "content": {"type": "text", "body": id}, "sent_at": 1_749_416_383_000i64}),
        "conversation.read" => {
            serde_json::json!({"customer": "16505551234", "phone_number_id": "1", "up_to": id})
        }
        "staff.changed" => serde_json::json!({"uid": "user:rita", "username": "rita",
            "name": "Rita", "role": "sales", "active": true,
            "access": {"is_admin": false, "permissions": ["whatsapp_chat:view"]}}),
        _ => serde_json::json!({"n": id}),
    };
    PublishedEvent {
        id: id.into(),
        kind: kind.into(),
        payload,
    }
}

#[tokio::test]
async fn retention_deletes_old_events_and_a_cursor_before_them_is_told_to_resynchronise() {
    let r = TestRelay::sqlite().await;
    let events: Vec<_> = (0..10).map(|i| test_event(&format!("r{i}"), "x")).collect();
    r.handle.state.log.append(WS, events).await.unwrap();
    let Store::Sqlite(pool) = &r.store else {
        unreachable!()
    };
    // The first five arrived long ago.
    sqlx::query("UPDATE events SET received_at = 1000 WHERE seq <= 5")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(r.store.prune(2000).await.unwrap(), 5);
    let client = r.client_for("late", true, &[]).await;
    let mut stale = client.subscribe(0).await.unwrap();
    match stale.next().await.unwrap() {
        StreamItem::Closed { code, reason } => {
            assert_eq!(code, close::CURSOR_EXPIRED);
            assert!(reason.contains("resynchronise"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let mut fresh = client.subscribe(5).await.unwrap();
    assert_eq!(
        collect_until(&mut fresh, 10).await,
        (6..=10).collect::<Vec<_>>()
    );
    r.stop().await;
}

/// A token for workspace `ws` (not in the relay's configuration file).
async fn token_in(store: &Store, ws: &str, staff: &str, admin: bool) -> String {
    let (_, token) = tokens::issue(
        store,
        TokenSpec {
            workspace: ws.into(),
            staff: staff.into(),
            is_admin: admin,
            permissions: if admin {
                vec![]
            } else {
                vec!["whatsapp_chat:send".parse().unwrap()]
            },
            label: String::new(),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    token
}

async fn handshake(base: &str, ws: &str, verify: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/webhook/{ws}"))
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", verify),
            ("hub.challenge", "42"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_signed_with(base: &str, ws: &str, secret: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/webhook/{ws}"))
        .header(
            signature::HEADER,
            signature::sign(secret.as_bytes(), body.as_bytes()),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The checks of webhook settings set from the app, against relays `a` and `b` (the same relay,
/// or two instances on one database).
async fn webhook_settings_from_the_app(a: &TestRelay, b: &TestRelay) {
    const TEAM: &str = "team-live";
    const APP_SECRET: &str = "a-meta-app-secret-0123456789abcdef";
    const VERIFY_TOKEN: &str = "verify-0123456789abcdef";
    let admin = RelayClient::new(
        &a.handle.url(),
        Sensitive::new(token_in(&a.store, TEAM, "owner", true).await),
    )
    .unwrap();
    let rep = RelayClient::new(
        &a.handle.url(),
        Sensitive::new(token_in(&a.store, TEAM, "rep", false).await),
    )
    .unwrap();
    let body = messages_webhook(&[("wamid.live1", "hello")]);

    // Before: the relay does not serve the workspace's webhooks.
    let view = admin.webhook().await.unwrap();
    assert!(!view.configured);
    assert_eq!(view.callback_path, format!("/webhook/{TEAM}"));
    assert_eq!(handshake(&b.handle.url(), TEAM, VERIFY_TOKEN).await, 403);
    assert_eq!(
        post_signed_with(&b.handle.url(), TEAM, APP_SECRET, &body).await,
        401
    );

    // A rep may not set them; a short secret is refused, naming the problem.
    let secret = Sensitive::new(APP_SECRET.to_owned());
    let verify = Sensitive::new(VERIFY_TOKEN.to_owned());
    let e = rep
        .set_webhook(&secret, &verify, "102290129340398", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RelayClientError::Forbidden(m) if m.contains("administrator")),
        "{e}"
    );
    let e = admin
        .set_webhook(&Sensitive::new("short".into()), &verify, "1", &[])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("app_secret has 5 characters"), "{e}");
    let e = admin
        .set_webhook(&secret, &verify, "WABA-1", &[])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("waba_id “WABA-1”"), "{e}");

    // The admin sets them: the other instance verifies and stores at once (its cache had the
    // workspace as unknown for at most the poll interval).
    let view = admin
        .set_webhook(
            &secret,
            &verify,
            "102290129340398",
            &["106540352242922".into()],
        )
        .await
        .unwrap();
    assert!(view.configured);
    assert_eq!(view.source.as_deref(), Some("app"));
    assert_eq!(view.phone_number_ids, vec!["106540352242922".to_owned()]);
    assert!(view.updated_by.as_deref().unwrap().starts_with("owner"));
    let shown = reqwest::Client::new()
        .get(format!("{}/v1/webhook", a.handle.url()))
        .bearer_auth(token_in(&a.store, TEAM, "owner2", true).await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !shown.contains(APP_SECRET) && !shown.contains(VERIFY_TOKEN),
        "{shown}"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(handshake(&b.handle.url(), TEAM, VERIFY_TOKEN).await, 200);
    assert_eq!(
        handshake(&b.handle.url(), TEAM, "wrong-token-0123456").await,
        403
    );
    assert_eq!(
        post_signed_with(&b.handle.url(), TEAM, APP_SECRET, &body).await,
        200
    );
    assert_eq!(
        post_signed_with(&b.handle.url(), TEAM, "another-secret-0123456789", &body).await,
        401
    );
    // Another account's webhook is refused: the admin named the account.
    let foreign = body.replace("102290129340398", "999999999999999");
    assert_eq!(
        post_signed_with(&b.handle.url(), TEAM, APP_SECRET, &foreign).await,
        403
    );
    assert_eq!(a.store.head(TEAM).await.unwrap(), 1);
    // The secret is in no event.
    let stored = a.store.read_after(TEAM, 0, 10).await.unwrap();
    assert!(stored.iter().all(|e| !e.event.raw.contains(APP_SECRET)));

    // A workspace of the configuration file is the operator's.
    let e = a
        .client_for("owner", true, &[])
        .await
        .set_webhook(&secret, &verify, "1", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RelayClientError::Refused { status: 409, message } if message.contains("configuration file")),
        "{e}"
    );
}

#[tokio::test]
async fn an_admin_sets_the_webhook_secrets_from_the_app() {
    let r = TestRelay::sqlite_with(|c| c.limits.poll_interval_ms = 100).await;
    webhook_settings_from_the_app(&r, &r).await;
    r.stop().await;
}

#[tokio::test]
async fn postgres_webhook_secrets_set_on_one_instance_serve_on_another() {
    let db = TestPg::create().await;
    let a = TestRelay::on(&db.url, |c| c.limits.poll_interval_ms = 100).await;
    let b = TestRelay::on(&db.url, |c| c.limits.poll_interval_ms = 100).await;
    webhook_settings_from_the_app(&a, &b).await;
    a.stop().await;
    b.stop().await;
    db.drop().await;
}
