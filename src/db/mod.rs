//! The SQLite file of a workspace: opening it safely, and migrating it.
//!
//! Before anything writes to an existing file it is inspected read-only: a file that is not a
//! SQLite database, or that was migrated by a newer version of the app, is refused with an error
//! naming the file, and its bytes are left exactly as they were.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::ErrorCode;

pub use crmconnect_base::raw;

/// The migrations of a workspace database, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/workspace");

/// The page size of a new workspace file, in bytes.
pub const PAGE_SIZE: u32 = 16_384;

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "{} is not a usable CRMConnect database ({detail}); it was left untouched — restore it from a backup or move it away",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{} was written by a newer version of CRMConnect (it has migration {version}, which this version does not know); update the app — the file was left untouched",
        path.display()
    )]
    Newer { path: PathBuf, version: i64 },
    #[error(
        "{} has migration {version} applied with different contents than this version ships; the file was left untouched",
        path.display()
    )]
    Modified { path: PathBuf, version: i64 },
    #[error("could not open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not migrate {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: MigrateError,
    },
}

impl crate::error::Coded for DbError {
    fn code(&self) -> ErrorCode {
        DbError::code(self)
    }
}

impl DbError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Storage
    }
}

/// Starts a write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`).
///
/// A deferred transaction that reads before it writes cannot wait for the lock: if another
/// connection committed since its first read, its first write fails at once with "database is
/// locked" (SQLite cannot move its snapshot forward), whatever the busy timeout. Taking the lock
/// up front makes it wait, up to the busy timeout, like every single statement does.
pub async fn write_tx(
    conn: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
    conn.begin_with("BEGIN IMMEDIATE").await
}

/// [`write_tx`] on a connection of the pool, held until the transaction ends.
pub async fn write_tx_in(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Opens (creating if needed) the workspace database at `path` and brings its schema up to date.
pub async fn open(path: &Path) -> Result<SqlitePool, DbError> {
    if path.exists() {
        inspect(path).await?;
    }
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|source| DbError::Open {
            path: path.into(),
            source,
        })?
        .filename(path)
        .create_if_missing(true)
        // 16 KiB pages for a new file (an existing one keeps its own): fewer page splits and
        // shallower indexes when a big import inserts into three b-trees at once. Measured on
        // the 1M-row contacts import: 3.4–3.7 s with 4 KiB pages, 3.0–3.2 s with 16 KiB; the
        // list and search benches are unchanged within noise (README, Benchmarks).
        .page_size(PAGE_SIZE)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk when it returns, power cut or not. With NORMAL a power cut
        // could undo the commit that recorded Meta's acceptance of a send, and the outbox would
        // send it again.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // Up to 32 MiB of page cache a connection (SQLite's default is 2 MiB): big imports insert
        // into indexes that outgrow 2 MiB at once; measured 12.5 s → 9.6 s for 1M contacts.
        .pragma("cache_size", "-32768");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|source| classify_open_error(path, source))?;
    MIGRATOR.run(&pool).await.map_err(|source| match source {
        MigrateError::VersionMissing(version) => DbError::Newer {
            path: path.into(),
            version,
        },
        MigrateError::VersionMismatch(version) => DbError::Modified {
            path: path.into(),
            version,
        },
        source => DbError::Migrate {
            path: path.into(),
            source,
        },
    })?;
    Ok(pool)
}

/// Read-only look at an existing file: is it SQLite, and are all its migrations ones we know?
async fn inspect(path: &Path) -> Result<(), DbError> {
    let corrupt = |detail: String| DbError::Corrupt {
        path: path.into(),
        detail,
    };
    let bytes = std::fs::metadata(path)
        .map_err(|e| corrupt(format!("cannot read it: {e}")))?
        .len();
    if bytes == 0 {
        return Ok(()); // SQLite treats an empty file as a new database
    }
    let mut header = [0u8; 16];
    {
        use std::io::Read;
        let mut f =
            std::fs::File::open(path).map_err(|e| corrupt(format!("cannot read it: {e}")))?;
        f.read_exact(&mut header)
            .map_err(|_| corrupt(format!("it is only {bytes} bytes long")))?;
    }
    if &header != SQLITE_HEADER {
        return Err(corrupt("it does not start with the SQLite header".into()));
    }

    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|source| classify_open_error(path, source))?;
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_schema")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| corrupt(e.to_string()))?;
    let applied = conn
        .list_applied_migrations(&MIGRATOR.table_name)
        .await
        .or_else(|e| match e {
            // A file without our migrations table yet: nothing applied.
            MigrateError::Execute(sqlx::Error::Database(d))
                if d.message().contains("no such table") =>
            {
                Ok(vec![])
            }
            e => Err(e),
        })
        .map_err(|e| corrupt(e.to_string()))?;
    for m in applied {
        match MIGRATOR.iter().find(|known| known.version == m.version) {
            None => {
                return Err(DbError::Newer {
                    path: path.into(),
                    version: m.version,
                });
            }
            Some(known) if known.checksum != m.checksum => {
                return Err(DbError::Modified {
                    path: path.into(),
                    version: m.version,
                });
            }
            Some(_) => {}
        }
    }
    conn.close().await.ok();
    Ok(())
}

fn classify_open_error(path: &Path, source: sqlx::Error) -> DbError {
    match &source {
        sqlx::Error::Database(d)
            if d.message().contains("not a database") || d.message().contains("malformed") =>
        {
            DbError::Corrupt {
                path: path.into(),
                detail: d.message().to_owned(),
            }
        }
        _ => DbError::Open {
            path: path.into(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap()
    }

    #[tokio::test]
    async fn creates_and_migrates_a_new_file_then_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let pool = open(&path).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n as usize, MIGRATOR.iter().count());
        pool.close().await;
        open(&path).await.unwrap().close().await;
    }

    /// A new file at `path` with every migration before `version` run: the shape a desktop's
    /// file had before that migration, for a test to fill and then open (which runs the rest).
    async fn migrated_before(path: &Path, version: i64) -> SqlitePool {
        let before = sqlx::migrate::Migrator::with_migrations(
            MIGRATOR
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        );
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        before.run(&pool).await.unwrap();
        pool
    }

    /// The leads table is rebuilt (its CHECK relaxed for leads known by WhatsApp user id) in a
    /// file with leads and documents: every row, and the documents' reference, survive.
    #[tokio::test]
    async fn rebuilding_the_leads_table_keeps_its_rows_and_the_documents_pointing_at_them() {
        const REBUILD: i64 = 20261207000019;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let pool = migrated_before(&path, REBUILD).await;
        for sql in [
            "INSERT INTO leads (id, name, phone, whatsapp, email, source, status_id, created_at, updated_at)
             VALUES (7, 'Ana', '+12015550123', 1, '', 'web', (SELECT min(id) FROM lead_statuses), 1, 2)",
            "INSERT INTO leads (id, name, email, status_id, created_at, updated_at)
             VALUES (8, 'Ben', 'ben@example.com', (SELECT min(id) FROM lead_statuses), 3, 4)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        let document_columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info('documents')")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(document_columns.contains(&"lead_id".to_owned()));
        pool.close().await;

        let pool = open(&path).await.unwrap();
        let rows: Vec<(i64, String, Option<String>, String)> =
            sqlx::query_as("SELECT id, name, phone, email FROM leads ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(
            rows,
            [
                (7, "Ana".into(), Some("+12015550123".into()), String::new()),
                (8, "Ben".into(), None, "ben@example.com".into())
            ]
        );
        let fk: Vec<String> =
            sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list('documents')")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(fk.contains(&"leads".to_owned()), "{fk:?}");
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        // A lead known by user id alone is allowed now; one reachable by nothing is still refused.
        sqlx::query("INSERT INTO leads (name, wa_user_id, status_id, created_at, updated_at) VALUES ('Dara', 'US.1', (SELECT min(id) FROM lead_statuses), 5, 5)")
            .execute(&pool)
            .await
            .unwrap();
        assert!(
            sqlx::query("INSERT INTO leads (name, status_id, created_at, updated_at) VALUES ('Nobody', (SELECT min(id) FROM lead_statuses), 5, 5)")
                .execute(&pool)
                .await
                .is_err()
        );
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(on, 1, "foreign keys are on again");
        pool.close().await;
    }

    /// The contacts table is rebuilt (its phone made optional for contacts known by WhatsApp
    /// user id) in a file with contacts, a group and an import's range: rows keep their ids,
    /// memberships and the uid view still point at them, and phones stay unique.
    #[tokio::test]
    async fn rebuilding_the_contacts_table_keeps_its_rows_memberships_and_uids() {
        const REBUILD: i64 = 20261207000023;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let pool = migrated_before(&path, REBUILD).await;
        for sql in [
            "INSERT INTO contacts (id, phone, name, created_at, updated_at, uid, seq)
             VALUES (3, '+12015550123', 'Ana', 1, 2, 'u-ana', 4)",
            "INSERT INTO contacts (id, phone, name, created_at, updated_at) VALUES (9, '+12015550124', 'Ben', 3, 4)",
            "INSERT INTO contact_import_ranges (base, first_n, first_id, count) VALUES ('imp', 0, 9, 1)",
            "INSERT INTO contact_groups (id, name, created_at, uid) VALUES (1, 'VIP', 1, 'g-vip')",
            "INSERT INTO contact_group_members (contact_id, group_id) VALUES (3, 1), (9, 1)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;

        let pool = open(&path).await.unwrap();
        let rows: Vec<(i64, Option<String>, String, String)> = sqlx::query_as(
            "SELECT c.id, c.phone, c.name, u.uid FROM contacts c JOIN contact_uids u ON u.id = c.id
             ORDER BY c.id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            rows,
            [
                (3, Some("+12015550123".into()), "Ana".into(), "u-ana".into()),
                (
                    9,
                    Some("+12015550124".into()),
                    "Ben".into(),
                    "imp00000000".into()
                )
            ]
        );
        let members: i64 = sqlx::query_scalar("SELECT count(*) FROM contact_group_members")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(members, 2);
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        // Known by user id alone: allowed now; by nothing: refused; a phone twice: refused.
        sqlx::query("INSERT INTO contacts (name, wa_user_id, created_at, updated_at) VALUES ('Dara', 'US.1', 5, 5)")
            .execute(&pool)
            .await
            .unwrap();
        for refused in [
            "INSERT INTO contacts (name, created_at, updated_at) VALUES ('Nobody', 5, 5)",
            "INSERT INTO contacts (phone, created_at, updated_at) VALUES ('+12015550123', 5, 5)",
        ] {
            assert!(
                sqlx::query(refused).execute(&pool).await.is_err(),
                "{refused}"
            );
        }
        sqlx::query("DELETE FROM contacts WHERE id = 3")
            .execute(&pool)
            .await
            .unwrap();
        let members: i64 = sqlx::query_scalar("SELECT count(*) FROM contact_group_members")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(members, 1, "a deleted contact's memberships go with it");
        pool.close().await;
    }

    /// New files get [`PAGE_SIZE`]; a file made with another page size keeps it, and its rows.
    #[tokio::test]
    async fn new_files_get_16k_pages_and_an_older_file_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let page_size = |pool: SqlitePool| async move {
            let n: i64 = sqlx::query_scalar("PRAGMA page_size")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        };
        let new = dir.path().join("new.db");
        assert_eq!(page_size(open(&new).await.unwrap()).await, PAGE_SIZE as i64);

        let old = dir.path().join("old.db");
        let options = SqliteConnectOptions::new()
            .filename(&old)
            .create_if_missing(true)
            .page_size(4096)
            .journal_mode(SqliteJournalMode::Wal);
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let pool = open(&old).await.unwrap();
        let body: String = sqlx::query_scalar("SELECT body FROM notes")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(body, "kept");
        assert_eq!(page_size(pool).await, 4096);
    }

    #[tokio::test]
    async fn refuses_a_file_that_is_not_sqlite_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        std::fs::write(
            &path,
            b"these are my notes, not a database, and they matter to me",
        )
        .unwrap();
        let before = digest(&path);
        let err = open(&path).await.unwrap_err();
        assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(digest(&path), before);
    }

    #[tokio::test]
    async fn refuses_a_sqlite_header_followed_by_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut bytes = SQLITE_HEADER.to_vec();
        bytes.extend(std::iter::repeat_n(0xAB, 8192));
        std::fs::write(&path, &bytes).unwrap();
        let err = open(&path).await.unwrap_err();
        assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
        assert_eq!(digest(&path), bytes);
    }

    #[tokio::test]
    async fn refuses_a_database_from_a_newer_version_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let pool = open(&path).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99991231000000, 'from the future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let before = digest(&path);
        let err = open(&path).await.unwrap_err();
        assert!(
            matches!(
                err,
                DbError::Newer {
                    version: 99991231000000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("newer version"), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
        assert_eq!(digest(&path), before);
    }

    /// A transaction that reads, lets another connection commit a write, then writes itself: the
    /// shape of every audited change (check, then write) while the sync engine applies events.
    /// Begun deferred, its write fails at once with "database is locked"; begun with
    /// [`write_tx`], the other writer waits for it instead and both changes land.
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_is_not_refused_by_a_concurrent_writer() {
        let dir = tempfile::tempdir().unwrap();
        let pool = open(&dir.path().join("w.db")).await.unwrap();
        sqlx::query("CREATE TABLE t (who TEXT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();

        let mut tx = write_tx_in(&pool).await.unwrap();
        let before: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let other = tokio::spawn({
            let pool = pool.clone();
            async move {
                sqlx::query("INSERT INTO t VALUES ('other')")
                    .execute(&pool)
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        sqlx::query("INSERT INTO t VALUES ('first')")
            .execute(&mut *tx)
            .await
            .expect("the write after a read is not refused");
        tx.commit().await.unwrap();
        other.await.unwrap().expect("the other writer waited");

        let rows: Vec<String> = sqlx::query_scalar("SELECT who FROM t ORDER BY rowid")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(before, 0);
        assert_eq!(rows, ["first", "other"]);
    }
}
