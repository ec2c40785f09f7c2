//! The team's templates: what one desktop submits to Meta, edits, maps, deletes or pulls from Meta
//! is a `template.*` event written in the change's transaction, and [`handler`] applies the log's
//! on every desktop, checking the author's role again. A desktop that keeps no access token (a rep
//! who joined: the token never travels) sees the team's templates this way.
//!
//! A template is named by its name and language, which Meta keeps unique per account, so two
//! desktops cannot make two of one name. Its status is Meta's: when a review reached the log
//! before the team's event that carries an older status, the review's stays.

use sqlx::SqliteConnection;

use crate::Result;
use crate::permissions::Principal;
use crate::relay::events::ReceivedEvent;
use crate::screens::Screen;
use crate::workspace::Workspace;
pub(crate) use crmconnect_events::payloads::TemplateState;

/// Template `id` as its event carries it.
pub(crate) async fn state(conn: &mut SqliteConnection, id: i64) -> Result<TemplateState> {
    let r = sqlx::query!(
        "SELECT meta_id, name, language, status, category, parameter_format, definition, rejected_reason, model, mapping
         FROM templates WHERE id = ?",
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(TemplateState {
        name: r.name,
        language: r.language,
        meta_id: r.meta_id,
        status: r.status,
        category: r.category,
        parameter_format: r.parameter_format,
        definition: serde_json::from_str(&r.definition).unwrap_or_else(|_| serde_json::json!({})),
        rejected_reason: r.rejected_reason,
        model: r.model,
        mapping: serde_json::from_str(&r.mapping).unwrap_or_else(|_| serde_json::json!([])),
        deleted: false,
    })
}

/// After template `id` changed here: its `kind` event.
pub(crate) async fn emit(
    tx: &mut SqliteConnection,
    actor: &Principal,
    kind: &str,
    id: i64,
) -> Result<()> {
    let state = state(tx, id).await?;
    emit_state(tx, actor, kind, &state).await
}

pub(crate) async fn emit_state(
    tx: &mut SqliteConnection,
    actor: &Principal,
    kind: &str,
    state: &TemplateState,
) -> Result<()> {
    let payload = serde_json::to_value(state).expect("a template serialises");
    crate::outbox::emit_about(
        tx,
        actor,
        kind,
        &payload,
        &subject(&state.name, &state.language),
    )
    .await?;
    Ok(())
}

/// What a template's events change, for [`crate::outbox::superseded_here`].
fn subject(name: &str, language: &str) -> String {
    format!("template:{name}:{language}")
}

/// The template every desktop knows by `name` and `language`, if this one has it.
pub(crate) async fn id_by_name(
    conn: &mut SqliteConnection,
    name: &str,
    language: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM templates WHERE name = ? AND language = ?",
        name,
        language
    )
    .fetch_optional(&mut *conn)
    .await?)
}

inventory::submit! { crate::handlers::DefaultHandler { order: 19, make: handler } }

/// The team's templates, applied on every replica.
pub fn handler() -> std::sync::Arc<dyn crate::handlers::Handler> {
    fn apply<'a>(
        ws: &'a Workspace,
        e: &'a ReceivedEvent,
    ) -> futures::future::BoxFuture<'a, Result<()>> {
        Box::pin(apply_event(ws, e))
    }
    std::sync::Arc::new(crate::handlers::FnHandler {
        name: "team templates",
        scope: crate::handlers::Scope::EveryReplica,
        apply,
    })
}

async fn apply_event(ws: &Workspace, e: &ReceivedEvent) -> Result<()> {
    if !e.kind.starts_with("template.") {
        return Ok(());
    }
    let Some(t) = crate::handlers::read_payload::<TemplateState>(e, TemplateState::problem) else {
        return Ok(());
    };
    let mut tx = crate::db::write_tx_in(ws.db()).await?;
    let what = format!("template “{}” ({})", t.name, t.language);
    if !crate::staff::shared::author_allowed(&mut tx, e, Screen::Templates, what).await? {
        tx.commit().await?;
        return Ok(());
    }
    // An earlier change of ours coming back while a later one is on its way: the template here
    // is already newer.
    if crate::outbox::superseded_here(&mut tx, &e.key, &subject(&t.name, &t.language)).await? {
        tx.commit().await?;
        return Ok(());
    }
    apply_state(&mut tx, e.seq, t).await?;
    tx.commit().await?;
    ws.records_changed(Screen::Templates);
    Ok(())
}

async fn apply_state(conn: &mut SqliteConnection, seq: i64, t: TemplateState) -> Result<()> {
    if t.deleted {
        sqlx::query!(
            "DELETE FROM templates WHERE name = ? AND language = ?",
            t.name,
            t.language
        )
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    // Meta's last review of it in the log, if one came before this event.
    let (status, reason) = match &t.meta_id {
        Some(id) => super::status_seen_since(conn, id, 0)
            .await?
            .unwrap_or((t.status.clone(), t.rejected_reason.clone())),
        None => (t.status.clone(), t.rejected_reason.clone()),
    };
    let definition = t.definition.to_string();
    let mapping = t.mapping.to_string();
    let now = crate::now_ms();
    sqlx::query!(
        "INSERT INTO templates (meta_id, name, language, status, category, parameter_format,
           definition, rejected_reason, model, mapping, synced_at, updated_at, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name, language) DO UPDATE SET meta_id = excluded.meta_id,
           status = excluded.status, category = excluded.category,
           parameter_format = excluded.parameter_format, definition = excluded.definition,
           rejected_reason = excluded.rejected_reason, model = excluded.model,
           mapping = excluded.mapping, synced_at = excluded.synced_at, updated_at = excluded.updated_at,
           seq = excluded.seq",
        t.meta_id,
        t.name,
        t.language,
        status,
        t.category,
        t.parameter_format,
        definition,
        reason,
        t.model,
        mapping,
        now,
        now,
        seq
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
