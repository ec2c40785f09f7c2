//! Workspaces: where their data lives, creating the sandbox workspace on first launch, opening one.
//!
//! Layout under the data root (the platform's app-data folder, or `$CRMCONNECT_DATA_DIR`):
//! `workspaces/<slug>/workspace.db`. Tests point the variable at a temp dir so they never touch a
//! real user's data.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use ts_rs::TS;

use crate::audit::{self, Change, Outcome};
use crate::clock::Clock;
use crate::permissions::{Actor, PermissionError, Principal, SystemTask};
use crate::screens::{self, Screen, ScreenInfo};
use crate::secrets::{MemoryStore, SecretStore};
use crate::staff::Me;
use crate::{ErrorCode, Result, db, permissions};

/// Overrides the data root (tests, portable installs).
pub const DATA_DIR_ENV: &str = "CRMCONNECT_DATA_DIR";
/// The slug of the workspace every first launch creates.
pub const SANDBOX_SLUG: &str = "sandbox";

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("could not create the data folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("there is no workspace “{0}”")]
    NotFound(String),
    #[error("{} holds no workspace record; it was left untouched", path.display())]
    NoRecord { path: PathBuf },
    #[error("demo records exist only in the sandbox workspace")]
    NotSandbox,
    #[error(
        "the workspace in {} is already open in another CRMConnect window ({holder}); close that one first",
        path.display()
    )]
    InUse { path: PathBuf, holder: String },
    #[error("could not lock the workspace folder {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the workspace already has leads or clients; demo records are only loaded into an empty one"
    )]
    NotEmpty,
}

impl crate::error::Coded for WorkspaceError {
    fn code(&self) -> ErrorCode {
        WorkspaceError::code(self)
    }
}

impl WorkspaceError {
    pub fn code(&self) -> ErrorCode {
        match self {
            WorkspaceError::CreateDir { .. }
            | WorkspaceError::NoRecord { .. }
            | WorkspaceError::Lock { .. } => ErrorCode::Storage,
            WorkspaceError::InUse { .. } => ErrorCode::Conflict,
            WorkspaceError::NotFound(_) => ErrorCode::NotFound,
            WorkspaceError::NotSandbox | WorkspaceError::NotEmpty => ErrorCode::Conflict,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WorkspaceKind {
    /// Talks to the built-in Meta stand-in; every record in it is sandbox data.
    Sandbox,
    /// Talks to Meta's Cloud API with the workspace's own credentials.
    Live,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WorkspaceInfo {
    pub slug: String,
    pub name: String,
    pub kind: WorkspaceKind,
    pub created_at: i64,
    /// Where its database lives, shown in Settings and in error messages.
    pub path: String,
}

/// What the app needs to know to decide which screen to show at start.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppStatus {
    pub workspace: WorkspaceInfo,
    /// First launch: the owner account must be created before anything else.
    pub needs_owner: bool,
    pub me: Option<Me>,
}

/// The data root and the workspaces in it.
#[derive(Clone)]
pub struct Workspaces {
    root: PathBuf,
    secrets: Arc<dyn SecretStore>,
}

impl Workspaces {
    /// Workspaces under `root`, keeping secrets in process memory (see [`with_secrets`] for the
    /// OS keychain the desktop uses).
    ///
    /// [`with_secrets`]: Workspaces::with_secrets
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Workspaces {
            root: root.into(),
            secrets: Arc::new(MemoryStore::default()),
        }
    }

    /// Where the workspaces opened from here keep their secrets.
    pub fn with_secrets(mut self, secrets: Arc<dyn SecretStore>) -> Self {
        self.secrets = secrets;
        self
    }

    /// `$CRMCONNECT_DATA_DIR` when set, else `platform_default` (the app-data folder Tauri gives).
    pub fn from_env_or(platform_default: impl Into<PathBuf>) -> Self {
        match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) if !dir.is_empty() => Workspaces::new(dir),
            _ => Workspaces::new(platform_default),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn db_path(&self, slug: &str) -> PathBuf {
        self.root.join("workspaces").join(slug).join("workspace.db")
    }

    /// Opens workspace `slug`, or on first launch (no workspace at all) creates the sandbox one.
    pub async fn open_or_create_sandbox(&self, slug: Option<&str>) -> Result<Workspace> {
        let slug = slug.unwrap_or(SANDBOX_SLUG);
        if self.db_path(slug).exists() {
            return self.open(slug).await;
        }
        if slug != SANDBOX_SLUG {
            return Err(WorkspaceError::NotFound(slug.into()).into());
        }
        self.create(SANDBOX_SLUG, "Sandbox", WorkspaceKind::Sandbox)
            .await
    }

    pub async fn open(&self, slug: &str) -> Result<Workspace> {
        let path = self.db_path(slug);
        if !path.exists() {
            return Err(WorkspaceError::NotFound(slug.into()).into());
        }
        let lock = lock_folder(path.parent().expect("db path has a parent")).await?;
        self.open_locked(slug, lock).await
    }

    /// [`Workspaces::open`] with the folder's lock already taken.
    async fn open_locked(&self, slug: &str, lock: std::fs::File) -> Result<Workspace> {
        let path = self.db_path(slug);
        let pool = db::open(&path).await?;
        let row =
            sqlx::query!(r#"SELECT slug, name, kind, created_at FROM workspace WHERE id = 1"#)
                .fetch_optional(&pool)
                .await?
                .ok_or_else(|| WorkspaceError::NoRecord { path: path.clone() })?;
        let info = WorkspaceInfo {
            slug: row.slug,
            name: row.name,
            kind: if row.kind == "live" {
                WorkspaceKind::Live
            } else {
                WorkspaceKind::Sandbox
            },
            created_at: row.created_at,
            path: path.display().to_string(),
        };
        tracing::info!(workspace = %info.slug, "opened workspace");
        let ws = Workspace::new(info, pool, self.secrets.clone(), lock);
        for h in crate::handlers::defaults() {
            ws.handlers().register(h);
        }
        Ok(ws)
    }

    /// Creates a workspace with its record and default roles, in one transaction.
    pub async fn create(&self, slug: &str, name: &str, kind: WorkspaceKind) -> Result<Workspace> {
        let path = self.db_path(slug);
        let dir = path.parent().expect("db path has a parent");
        std::fs::create_dir_all(dir).map_err(|source| WorkspaceError::CreateDir {
            path: dir.into(),
            source,
        })?;
        let lock = lock_folder(dir).await?;
        let pool = db::open(&path).await?;
        let mut tx = db::write_tx_in(&pool).await?;
        let kind_key = match kind {
            WorkspaceKind::Sandbox => "sandbox",
            WorkspaceKind::Live => "live",
        };
        let now = crate::now_ms();
        sqlx::query!(
            "INSERT INTO workspace (id, slug, name, kind, created_at) VALUES (1, ?, ?, ?, ?)",
            slug,
            name,
            kind_key,
            now
        )
        .execute(&mut *tx)
        .await?;
        for (role, is_admin) in permissions::default_roles() {
            // A migration may have made it already (one added to the defaults later is given to
            // older workspaces by one).
            if permissions::role_named(&mut tx, &role.name)
                .await?
                .is_none()
            {
                permissions::insert_role(&mut tx, &role, is_admin, permissions::NewUid::Seeded)
                    .await?;
            }
        }
        let what = Change::new(
            Screen::Settings,
            "workspace.create",
            format!("workspace “{name}” ({kind_key})"),
        );
        let setup = Principal::system(SystemTask::Setup);
        audit::insert(&mut tx, &setup, &what, Outcome::Ok, None).await?;
        tx.commit().await?;
        pool.close().await;
        tracing::info!(workspace = slug, "created workspace");
        // Opened under the same lock: let go and taken again, it could be found held by a child
        // process this one is starting at that moment (see `lock_folder`).
        self.open_locked(slug, lock).await
    }
}

/// Takes the workspace folder's lock (`workspace.lock`, an OS file lock released when the
/// process ends however it ends): one process at a time opens a workspace, so two windows on one
/// data folder cannot both send what the outbox holds. The file says who holds it.
async fn lock_folder(dir: &Path) -> Result<std::fs::File> {
    use std::io::{Read as _, Seek as _, Write as _};
    let path = dir.join("workspace.lock");
    let io = |source| WorkspaceError::Lock {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // The lock belongs to the open file, and a child process the holder starts shares its open
    // files from fork to exec (when they close): a workspace closed and opened again at that
    // moment finds the lock held for a few milliseconds. So a held lock is tried again, for a
    // second, before it is reported.
    let mut tries = 0;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.rewind().map_err(io)?;
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_owned(),
                    h => h.chars().take(100).collect(),
                };
                if tries < 50 {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
                return Err(WorkspaceError::InUse {
                    path: dir.into(),
                    holder,
                }
                .into());
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e).into()),
        }
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "process {}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// An open workspace: its database and who is signed in at this desktop.
pub struct Workspace {
    info: WorkspaceInfo,
    db: SqlitePool,
    session: RwLock<Option<i64>>,
    secrets: Arc<dyn SecretStore>,
    /// State that modules above the workspace keep per workspace (chat's notices, the Graph
    /// client…), one value per type: see [`Workspace::ext`].
    extensions: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// The clock every timestamp and timer of the workspace reads: real time, or its sandbox's.
    clock: RwLock<Clock>,
    /// Woken when a change committed an event into the outbox: the sync engine publishes it.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// What applies received events here.
    handlers: crate::handlers::Handlers,
    /// Screens whose records a teammate's change (applied from the log) changed: open lists
    /// reload (the desktop forwards it as `records-changed`).
    records: tokio::sync::broadcast::Sender<crate::screens::Screen>,
    /// The folder's lock (see `lock_folder`), held until the workspace is closed or dropped.
    lock: Mutex<Option<std::fs::File>>,
    /// Why nobody may sign in here now (the team cut this desktop off), as the module that knows
    /// said; `None`: anyone with a passphrase may.
    sign_in_lock: RwLock<Option<String>>,
}

impl Workspace {
    fn new(
        info: WorkspaceInfo,
        db: SqlitePool,
        secrets: Arc<dyn SecretStore>,
        lock: std::fs::File,
    ) -> Self {
        Workspace {
            info,
            db,
            session: RwLock::new(None),
            secrets,
            extensions: Mutex::default(),
            clock: RwLock::new(Clock::new()),
            outbox_wake: Arc::default(),
            handlers: Default::default(),
            records: tokio::sync::broadcast::channel(64).0,
            lock: Mutex::new(Some(lock)),
            sign_in_lock: RwLock::new(None),
        }
    }

    /// The workspace's clock (see [`Clock`]): cheap to clone, every clone shows the same time.
    pub fn clock(&self) -> Clock {
        self.clock.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Now on the workspace's clock, in ms since the Unix epoch: what every timestamp it writes
    /// and the 24-hour window are measured with.
    pub fn now_ms(&self) -> i64 {
        self.clock
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .now_ms()
    }

    /// A sandbox workspace runs on its sandbox's clock, so that advancing it (tests, the sandbox
    /// panel) moves Meta's time and the desktop's together.
    pub fn set_clock(&self, clock: Clock) {
        *self.clock.write().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    /// The folder of this workspace's import reports (refused rows).
    pub fn imports_dir(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.info.path)
            .parent()
            .map(|p| p.join("imports"))
            .unwrap_or_else(|| std::path::PathBuf::from("imports"))
    }

    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    pub fn info(&self) -> &WorkspaceInfo {
        &self.info
    }

    /// The handlers that apply received events to this replica.
    pub fn handlers(&self) -> &crate::handlers::Handlers {
        &self.handlers
    }

    /// The workspace's value of type `T`, made with `T::default()` the first time it is asked
    /// for. This is how a module above the workspace keeps state per workspace (chat's notices,
    /// the one Graph client) without the workspace naming it.
    pub fn ext<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.extensions.lock().unwrap_or_else(|e| e.into_inner());
        let value = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        value
            .downcast::<T>()
            .expect("each slot holds the type it is keyed by")
    }

    /// Tells the sync engine that a committed change left an event in the outbox.
    pub fn outbox_written(&self) {
        crate::fault::point("after_commit");
        self.outbox_wake.notify_one();
    }

    /// A change from the log was applied to `screen`'s records.
    pub fn records_changed(&self, screen: crate::screens::Screen) {
        let _ = self.records.send(screen);
    }

    /// Every [`Workspace::records_changed`] from now on.
    pub fn record_changes(&self) -> tokio::sync::broadcast::Receiver<crate::screens::Screen> {
        self.records.subscribe()
    }

    /// What the sync engine waits on besides its timer: [`Workspace::outbox_written`].
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }

    pub fn db(&self) -> &SqlitePool {
        &self.db
    }

    pub(crate) fn session(&self) -> Option<i64> {
        *self.session.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_session(&self, staff_id: Option<i64>) {
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = staff_id;
    }

    /// The context of an operation by the staff member signed in at this desktop (one that
    /// refuses with “not signed in” when nobody is).
    pub fn cx(&self) -> Ctx<'_> {
        Ctx {
            ws: self,
            actor: self.session().map(Actor::Staff),
        }
    }

    /// The context of an operation by `actor`: a staff member, the system, or a bot.
    pub fn as_actor(&self, actor: Actor) -> Ctx<'_> {
        Ctx {
            ws: self,
            actor: Some(actor),
        }
    }

    /// The context of something the system does on its own.
    pub fn as_system(&self, task: SystemTask) -> Ctx<'_> {
        self.as_actor(Actor::System(task))
    }

    pub async fn status(&self) -> Result<AppStatus> {
        let me = match self.session() {
            Some(_) => Some(self.cx().me().await?),
            None => None,
        };
        Ok(AppStatus {
            workspace: self.info.clone(),
            needs_owner: self.needs_owner().await?,
            me,
        })
    }

    /// Stops (with the reason) or allows signing in at this desktop; set by the module that
    /// decides it (sync, when the team's relay refuses this desktop's token).
    pub(crate) fn set_sign_in_lock(&self, reason: Option<String>) {
        *self.sign_in_lock.write().unwrap_or_else(|e| e.into_inner()) = reason;
    }

    /// Why nobody may sign in here now, if so.
    pub(crate) fn sign_in_lock(&self) -> Option<String> {
        self.sign_in_lock
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Closes the database and lets another process open the folder.
    pub async fn close(&self) {
        self.db.close().await;
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// An operation's context: the workspace, and who acts. Every operation of the core is a method
/// of it; its permission check and its Activity Log entry are the actor's. A Tauri command makes
/// one with [`Workspace::cx`] (whoever is signed in at that desktop); the system, a bot or a test
/// makes its own with [`Workspace::as_actor`].
#[derive(Clone)]
pub struct Ctx<'a> {
    ws: &'a Workspace,
    /// `None`: a desktop where nobody is signed in.
    actor: Option<Actor>,
}

impl<'a> Ctx<'a> {
    pub fn workspace(&self) -> &'a Workspace {
        self.ws
    }

    /// Who acts, as named (no database read).
    pub fn who(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// Who acts, with what they may do now: a staff member's role is read afresh, so a changed
    /// role applies at once, and a deactivated member is refused.
    pub async fn actor(&self) -> Result<Principal> {
        match &self.actor {
            None => Err(PermissionError::NotSignedIn.into()),
            Some(Actor::Staff(id)) => {
                crate::staff::load_actor(&mut *self.ws.db().acquire().await?, *id).await
            }
            Some(Actor::System(task)) => Ok(Principal::system(*task)),
            Some(Actor::Bot { id, name }) => Ok(Principal::bot(*id, name)),
        }
    }

    /// Opening a screen: refused by the core when the actor's role may not see it.
    pub async fn open_screen(&self, screen: Screen) -> Result<ScreenInfo> {
        Ok(screens::open(screen, &self.actor().await?)?)
    }

    pub async fn activity_log(&self, filter: audit::LogFilter) -> Result<audit::LogPage> {
        audit::list(self.db(), &self.actor().await?, &filter).await
    }
}

impl std::ops::Deref for Ctx<'_> {
    type Target = Workspace;

    fn deref(&self) -> &Workspace {
        self.ws
    }
}
