//! Prepared SQLite statements run directly on a connection's handle, for hot loops: the bulk
//! import's rows and the relay's writer. Through sqlx every statement is a round trip to the
//! connection's worker thread (several µs, and a wait for that thread to be scheduled on a busy
//! machine); an import of a million rows runs three million statements, so these bind and step
//! them themselves, as the `sqlite3` shell's `.import` does.
//!
//! The handle comes from [`sqlx::sqlite::LockedSqliteHandle`], which keeps sqlx's worker off the
//! connection while it is held; every [`Stmt`] is finalized before that lock is released.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

/// A connection's handle, locked out of sqlx's worker for `'h`.
pub struct Raw<'h> {
    db: NonNull<ffi::sqlite3>,
    _lock: PhantomData<&'h mut ()>,
}

impl<'h> Raw<'h> {
    pub fn new(lock: &'h mut sqlx::sqlite::LockedSqliteHandle<'_>) -> Self {
        Raw {
            db: lock.as_raw_handle(),
            _lock: PhantomData,
        }
    }

    /// Prepares `sql`; the statement cannot outlive the lock.
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'h>, String> {
        let len = c_int::try_from(sql.len())
            .map_err(|_| format!("a statement of {} bytes is too long", sql.len()))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is an open connection nobody else uses while the lock is held; `sql` is
        // passed with its length, so it needs no NUL terminator.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Stmt {
                db: self.db,
                stmt,
                _lock: PhantomData,
            }),
            _ => Err(error_of(self.db, rc, "cannot prepare a statement")),
        }
    }

    /// Runs statements without parameters or results (`BEGIN IMMEDIATE`, `COMMIT`…).
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        let sql = std::ffi::CString::new(sql).map_err(|e| e.to_string())?;
        // SAFETY: a live connection, used by this thread only while locked; `sql` is
        // NUL-terminated; no callback, so no user data.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error_of(self.db, rc, "a statement failed"))
        }
    }

    /// The rowid of the last row inserted on this connection.
    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: a live connection, used by this thread only while locked.
        unsafe { ffi::sqlite3_last_insert_rowid(self.db.as_ptr()) }
    }
}

/// A prepared statement, finalized on drop.
pub struct Stmt<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    _lock: PhantomData<&'h mut ()>,
}

/// A bound parameter.
pub enum Value<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

fn error_of(db: NonNull<ffi::sqlite3>, rc: c_int, what: &str) -> String {
    // SAFETY: `db` is an open connection; sqlite3_errmsg returns a NUL-terminated string it owns.
    let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    format!("{what}: {} (SQLite code {rc})", msg.to_string_lossy())
}

impl Stmt<'_> {
    /// Binds `params` (?1, ?2, …), steps once and resets. Returns the first column of the row
    /// produced, if any (for SELECTs), and the rows the statement changed.
    pub fn run(&mut self, params: &[Value<'_>]) -> Result<(Option<i64>, u64), String> {
        let s = self.stmt.as_ptr();
        // SAFETY: `s` is a live statement of the locked connection. Text is bound with
        // SQLITE_STATIC: the borrowed strings outlive the step, and the bindings are cleared
        // before this function returns, so SQLite never reads them afterwards.
        unsafe {
            for (i, p) in params.iter().enumerate() {
                let i = i as c_int + 1;
                let rc = match p {
                    // The length as SQLite's 64-bit length: a text over 2 GiB is refused by
                    // SQLite (SQLITE_TOOBIG), never bound with a truncated `int` length.
                    Value::Text(t) => ffi::sqlite3_bind_text64(
                        s,
                        i,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Int(v) => ffi::sqlite3_bind_int64(s, i, *v),
                    Value::Null => ffi::sqlite3_bind_null(s, i),
                };
                if rc != ffi::SQLITE_OK {
                    ffi::sqlite3_clear_bindings(s);
                    return Err(error_of(self.db, rc, "cannot bind a value"));
                }
            }
            let rc = ffi::sqlite3_step(s);
            let out = match rc {
                ffi::SQLITE_ROW => Ok((Some(ffi::sqlite3_column_int64(s, 0)), 0)),
                ffi::SQLITE_DONE => Ok((None, ffi::sqlite3_changes64(self.db.as_ptr()) as u64)),
                rc => Err(error_of(self.db, rc, "a statement failed")),
            };
            ffi::sqlite3_reset(s);
            ffi::sqlite3_clear_bindings(s);
            out
        }
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: finalizes the statement exactly once; the connection is still locked (`'h`).
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}
