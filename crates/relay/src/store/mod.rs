//! Where the event log is kept: SQLite (one relay instance, WAL, batched commits) or PostgreSQL
//! (several instances on one database).
//!
//! Sequence numbers are assigned by the writer inside its transaction, without gaps, and commit in
//! sequence order: SQLite has one writer; PostgreSQL writers hold a per-workspace advisory lock for
//! the whole transaction. A reader that has seen `seq = n` has therefore seen everything below it.
//!
//! The SQL is written per dialect with runtime-bound queries: sqlx's compile-time macros check
//! against one database kind per build, so these are checked instead by the tests, which run every
//! query against a real SQLite file and a real PostgreSQL server.

pub mod postgres;
pub mod sqlite;

use serde::Serialize;

use super::events::{Fields, NewEvent, Source, StoredEvent};
use crmconnect_access::permissions::Permission;

pub use postgres::PgWakeups;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the event log database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrating the event log database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database_url “{0}” is neither sqlite: nor postgres://")]
    BadUrl(String),
    #[error("the event log database: {0}")]
    Raw(String),
    #[error("stored event {0} has unreadable fields: {1}")]
    Corrupt(i64, String),
}

/// The outcome of appending one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Appended {
    pub seq: i64,
    /// The key was already in the log (a retry or a duplicate); `seq` is the first copy's.
    pub duplicate: bool,
}

/// A desktop's token, as stored (without the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub workspace: String,
    pub staff: String,
    pub is_admin: bool,
    pub permissions: Vec<Permission>,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When it stops working (milliseconds since the epoch); `None` never.
    pub expires_at: Option<i64>,
}

/// A workspace's automation lease, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LeaseRecord {
    pub workspace: String,
    /// Who holds it: a runner's (or a desktop's) name for itself, e.g. `runner@host:pid`.
    pub holder: String,
    /// The staff member of the holder's token.
    pub staff: String,
    pub epoch: i64,
    /// When the lease came to this holder (ms since the epoch).
    pub since: i64,
    pub heartbeat_at: i64,
    pub expires_at: i64,
    /// What the holder says it is doing (active bots, running campaigns).
    pub status: String,
    /// Held by a desktop working alone, which a server runner takes it from.
    pub desktop: bool,
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Decodes a row's columns into an event.
#[allow(clippy::too_many_arguments)]
fn stored(
    seq: i64,
    key: String,
    kind: String,
    source: String,
    staff: Option<String>,
    fields: String,
    raw: String,
    received_at: i64,
) -> Result<StoredEvent, StoreError> {
    let fields: Fields =
        serde_json::from_str(&fields).map_err(|e| StoreError::Corrupt(seq, e.to_string()))?;
    Ok(StoredEvent {
        seq,
        received_at,
        event: NewEvent {
            key,
            kind,
            source: Source::parse(&source),
            staff,
            fields,
            raw,
        },
    })
}

fn fields_json(e: &NewEvent) -> String {
    serde_json::to_string(&e.fields).expect("fields serialise")
}

fn permissions_text(p: &[Permission]) -> String {
    p.iter()
        .map(|p| format!("{}:{}", p.resource.key(), p.action.key()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_permissions(s: &str) -> Vec<Permission> {
    s.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Store {
    /// Opens the database at `url`, creating a SQLite file if needed. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::connect(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::connect(url).await?))
        } else {
            Err(StoreError::BadUrl(url.into()))
        }
    }

    /// Brings the schema up to date (safe to run from several instances at once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => sqlite::MIGRATOR.run(p).await?,
            Store::Postgres(p) => postgres::MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// Events of `workspace` after `after`, in order, at most `limit`.
    pub async fn read_after(
        &self,
        workspace: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match self {
            Store::Sqlite(p) => sqlite::read_after(p, workspace, after, limit).await,
            Store::Postgres(p) => postgres::read_after(p, workspace, after, limit).await,
        }
    }

    /// The last sequence number `workspace` ever gave (0 when it has none): retention deletes
    /// events, never the head, so this never goes back.
    pub async fn head(&self, workspace: &str) -> Result<i64, StoreError> {
        let head: Option<i64> = match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar("SELECT seq FROM heads WHERE workspace = ?")
                    .bind(workspace)
                    .fetch_optional(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar("SELECT seq FROM heads WHERE workspace = $1")
                    .bind(workspace)
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(head.unwrap_or(0))
    }

    /// The first sequence number of `workspace` still kept (retention deletes older ones), or
    /// `None` when none is kept.
    pub async fn oldest(&self, workspace: &str) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE workspace = ?")
                    .bind(workspace)
                    .fetch_one(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE workspace = $1")
                    .bind(workspace)
                    .fetch_one(p)
                    .await?
            }
        })
    }

    /// Deletes events received before `before_ms`; returns how many.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(match self {
            Store::Sqlite(p) => sqlx::query("DELETE FROM events WHERE received_at < ?")
                .bind(before_ms)
                .execute(p)
                .await?
                .rows_affected(),
            Store::Postgres(p) => sqlx::query("DELETE FROM events WHERE received_at < $1")
                .bind(before_ms)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    pub async fn insert_token(&self, t: &TokenRecord, hash: &str) -> Result<(), StoreError> {
        let perms = permissions_text(&t.permissions);
        match self {
            Store::Sqlite(p) => {
                sqlx::query("INSERT INTO tokens (id, workspace, staff, is_admin, permissions, label, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                    .bind(&t.id).bind(&t.workspace).bind(&t.staff).bind(t.is_admin).bind(&perms).bind(&t.label).bind(hash).bind(t.created_at).bind(t.expires_at)
                    .execute(p).await?;
            }
            Store::Postgres(p) => {
                sqlx::query("INSERT INTO tokens (id, workspace, staff, is_admin, permissions, label, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(&t.id).bind(&t.workspace).bind(&t.staff).bind(t.is_admin).bind(&perms).bind(&t.label).bind(hash).bind(t.created_at).bind(t.expires_at)
                    .execute(p).await?;
            }
        }
        Ok(())
    }

    pub async fn list_tokens(
        &self,
        workspace: Option<&str>,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = match self {
            Store::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT id, workspace, staff, is_admin, permissions, label, created_at, revoked_at, expires_at \
                     FROM tokens WHERE (?1 IS NULL OR workspace = ?1) ORDER BY workspace, created_at, id",
                )
                .bind(workspace)
                .fetch_all(p)
                .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(
                    "SELECT id, workspace, staff, is_admin, permissions, label, created_at, revoked_at, expires_at \
                     FROM tokens WHERE ($1::text IS NULL OR workspace = $1) ORDER BY workspace, created_at, id",
                )
                .bind(workspace)
                .fetch_all(p)
                .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Finds an unrevoked token by its hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = match self {
            Store::Sqlite(p) => {
                sqlx::query_as("SELECT id, workspace, staff, is_admin, permissions, label, created_at, revoked_at, expires_at FROM tokens WHERE revoked_at IS NULL AND hash = ? AND (expires_at IS NULL OR expires_at > ?)")
                    .bind(hash)
                    .bind(now_ms())
                    .fetch_optional(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as("SELECT id, workspace, staff, is_admin, permissions, label, created_at, revoked_at, expires_at FROM tokens WHERE revoked_at IS NULL AND hash = $1 AND (expires_at IS NULL OR expires_at > $2)")
                    .bind(hash)
                    .bind(now_ms())
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(row.map(Into::into))
    }

    /// Revokes a token; `false` when there is no such unrevoked token.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let n = match self {
            Store::Sqlite(p) => {
                sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
            Store::Postgres(p) => sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(p)
            .await?
            .rows_affected(),
        };
        Ok(n == 1)
    }

    /// Gives every unrevoked token of `staff` in `workspace` this access (their role changed);
    /// returns how many.
    pub async fn set_staff_access(
        &self,
        workspace: &str,
        staff: &str,
        is_admin: bool,
        permissions: &[Permission],
    ) -> Result<u64, StoreError> {
        let perms = permissions_text(permissions);
        Ok(match self {
            Store::Sqlite(p) => sqlx::query(
                "UPDATE tokens SET is_admin = ?, permissions = ? WHERE workspace = ? AND staff = ? AND revoked_at IS NULL",
            )
            .bind(is_admin)
            .bind(&perms)
            .bind(workspace)
            .bind(staff)
            .execute(p)
            .await?
            .rows_affected(),
            Store::Postgres(p) => sqlx::query(
                "UPDATE tokens SET is_admin = $1, permissions = $2 WHERE workspace = $3 AND staff = $4 AND revoked_at IS NULL",
            )
            .bind(is_admin)
            .bind(&perms)
            .bind(workspace)
            .bind(staff)
            .execute(p)
            .await?
            .rows_affected(),
        })
    }

    /// Revokes every token of `staff` in `workspace` (deactivated or deleted); returns how many.
    pub async fn revoke_staff_tokens(
        &self,
        workspace: &str,
        staff: &str,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        Ok(match self {
            Store::Sqlite(p) => sqlx::query(
                "UPDATE tokens SET revoked_at = ? WHERE workspace = ? AND staff = ? AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(workspace)
            .bind(staff)
            .execute(p)
            .await?
            .rows_affected(),
            Store::Postgres(p) => sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE workspace = $2 AND staff = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(workspace)
            .bind(staff)
            .execute(p)
            .await?
            .rows_affected(),
        })
    }

    /// Grants workspace `workspace`'s automation lease to `holder` until `expires_at`, or renews
    /// it: when nobody holds it, `holder` already does, or the holder's has expired (at `now`).
    /// One statement, so that relays sharing a database agree on one holder. The lease as it is
    /// afterwards, and whether `holder` has it.
    #[allow(clippy::too_many_arguments)]
    pub async fn acquire_lease(
        &self,
        workspace: &str,
        holder: &str,
        staff: &str,
        status: &str,
        priority: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(LeaseRecord, bool), StoreError> {
        const SQLITE: &str = "INSERT INTO leases (workspace, holder, staff, epoch, since, heartbeat_at, expires_at, status, priority) \
             VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6, ?7) \
             ON CONFLICT (workspace) DO UPDATE SET \
               epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END, \
               since = CASE WHEN leases.holder = excluded.holder THEN leases.since ELSE excluded.since END, \
               holder = excluded.holder, staff = excluded.staff, heartbeat_at = excluded.heartbeat_at, \
               expires_at = excluded.expires_at, status = excluded.status, priority = excluded.priority \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.heartbeat_at \
               OR excluded.priority > leases.priority \
             RETURNING epoch";
        const POSTGRES: &str = "INSERT INTO leases (workspace, holder, staff, epoch, since, heartbeat_at, expires_at, status, priority) \
             VALUES ($1, $2, $3, 1, $4, $4, $5, $6, $7) \
             ON CONFLICT (workspace) DO UPDATE SET \
               epoch = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.epoch ELSE leases.epoch + 1 END, \
               since = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.since ELSE EXCLUDED.since END, \
               holder = EXCLUDED.holder, staff = EXCLUDED.staff, heartbeat_at = EXCLUDED.heartbeat_at, \
               expires_at = EXCLUDED.expires_at, status = EXCLUDED.status, priority = EXCLUDED.priority \
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= EXCLUDED.heartbeat_at \
               OR EXCLUDED.priority > leases.priority \
             RETURNING epoch";
        let granted: Option<i64> = match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar(SQLITE)
                    .bind(workspace)
                    .bind(holder)
                    .bind(staff)
                    .bind(now)
                    .bind(expires_at)
                    .bind(status)
                    .bind(priority)
                    .fetch_optional(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar(POSTGRES)
                    .bind(workspace)
                    .bind(holder)
                    .bind(staff)
                    .bind(now)
                    .bind(expires_at)
                    .bind(status)
                    .bind(priority)
                    .fetch_optional(p)
                    .await?
            }
        };
        let lease = self
            .lease(workspace)
            .await?
            .ok_or_else(|| StoreError::Raw("the lease just written is not there".into()))?;
        Ok((lease, granted.is_some()))
    }

    /// Workspace `workspace`'s automation lease, if anyone ever held it.
    pub async fn lease(&self, workspace: &str) -> Result<Option<LeaseRecord>, StoreError> {
        type Row = (String, String, String, i64, i64, i64, i64, String, i64);
        let row: Option<Row> = match self {
            Store::Sqlite(p) => {
                sqlx::query_as("SELECT workspace, holder, staff, epoch, since, heartbeat_at, expires_at, status, priority FROM leases WHERE workspace = ?")
                    .bind(workspace)
                    .fetch_optional(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as("SELECT workspace, holder, staff, epoch, since, heartbeat_at, expires_at, status, priority FROM leases WHERE workspace = $1")
                    .bind(workspace)
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(row.map(
            |(
                workspace,
                holder,
                staff,
                epoch,
                since,
                heartbeat_at,
                expires_at,
                status,
                priority,
            )| {
                LeaseRecord {
                    workspace,
                    holder,
                    staff,
                    epoch,
                    since,
                    heartbeat_at,
                    expires_at,
                    status,
                    desktop: priority == 0,
                }
            },
        ))
    }

    /// `holder` lets the lease go (a clean stop): a standby takes it at once, with the next epoch.
    pub async fn release_lease(&self, workspace: &str, holder: &str) -> Result<bool, StoreError> {
        let n = match self {
            Store::Sqlite(p) => {
                sqlx::query("UPDATE leases SET expires_at = 0 WHERE workspace = ? AND holder = ?")
                    .bind(workspace)
                    .bind(holder)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
            Store::Postgres(p) => {
                sqlx::query("UPDATE leases SET expires_at = 0 WHERE workspace = $1 AND holder = $2")
                    .bind(workspace)
                    .bind(holder)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
        };
        Ok(n == 1)
    }

    /// Whether the token `id` is still valid.
    pub async fn token_active(&self, id: &str) -> Result<bool, StoreError> {
        let n: i64 = match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL AND id = ? AND (expires_at IS NULL OR expires_at > ?)",
                )
                .bind(id)
                .bind(now_ms())
                .fetch_one(p)
                .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL AND id = $1 AND (expires_at IS NULL OR expires_at > $2)",
                )
                .bind(id)
                .bind(now_ms())
                .fetch_one(p)
                .await?
            }
        };
        Ok(n == 1)
    }
}

/// A workspace's webhook settings as its admin set them from the app (see `webhooks`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub app_secret: String,
    pub verify_token: String,
    pub waba_id: Option<String>,
    /// Space-separated.
    pub phone_number_ids: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Store {
    pub async fn webhook_settings(
        &self,
        workspace: &str,
    ) -> Result<Option<WebhookRow>, StoreError> {
        Ok(match self {
            Store::Sqlite(p) => {
                sqlx::query_as("SELECT app_secret, verify_token, waba_id, phone_number_ids, updated_at, updated_by FROM webhook_settings WHERE workspace = ?")
                .bind(workspace)
                .fetch_optional(p)
                .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as("SELECT app_secret, verify_token, waba_id, phone_number_ids, updated_at, updated_by FROM webhook_settings WHERE workspace = $1")
                .bind(workspace)
                .fetch_optional(p)
                .await?
            }
        })
    }

    /// Sets (or replaces) a workspace's webhook settings.
    pub async fn set_webhook_settings(
        &self,
        workspace: &str,
        row: &WebhookRow,
    ) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO webhook_settings (workspace, app_secret, verify_token, waba_id, phone_number_ids, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (workspace) DO UPDATE SET app_secret = excluded.app_secret, verify_token = excluded.verify_token, \
             waba_id = excluded.waba_id, phone_number_ids = excluded.phone_number_ids, updated_at = excluded.updated_at, updated_by = excluded.updated_by";
        macro_rules! run {
            ($pool:expr) => {
                sqlx::query(UPSERT)
                    .bind(workspace)
                    .bind(&row.app_secret)
                    .bind(&row.verify_token)
                    .bind(&row.waba_id)
                    .bind(&row.phone_number_ids)
                    .bind(row.updated_at)
                    .bind(&row.updated_by)
                    .execute($pool)
                    .await
                    .map(drop)?
            };
        }
        match self {
            Store::Sqlite(p) => run!(p),
            Store::Postgres(p) => run!(p),
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    workspace: String,
    staff: String,
    is_admin: bool,
    permissions: String,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
}

impl From<TokenRow> for TokenRecord {
    fn from(r: TokenRow) -> Self {
        TokenRecord {
            id: r.id,
            workspace: r.workspace,
            staff: r.staff,
            is_admin: r.is_admin,
            permissions: parse_permissions(&r.permissions),
            label: r.label,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            expires_at: r.expires_at,
        }
    }
}
