//! What the benches share: a signed-in workspace to measure, and the process's peak memory.
#![allow(dead_code)]

use crmconnect::staff::NewStaff;
use crmconnect::workspace::WorkspaceKind;
use crmconnect::{Workspace, Workspaces};

/// A fresh workspace under `root`, its owner created and signed in.
pub async fn signed_in_workspace(root: &std::path::Path) -> Workspace {
    let ws = Workspaces::new(root.to_path_buf())
        .create("bench", "Bench", WorkspaceKind::Sandbox)
        .await
        .expect("workspace");
    ws.create_owner(NewStaff {
        name: "Owner".into(),
        username: "owner".into(),
        role_id: 0,
        passphrase: "bench passphrase".into(),
    })
    .await
    .expect("owner");
    ws.sign_in("owner", "bench passphrase".into())
        .await
        .expect("sign in");
    ws
}

/// The process's peak resident memory so far (VmHWM), in MB; reset it by writing "5" to
/// /proc/self/clear_refs.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The header of the spec's contacts CSV.
pub const CONTACTS_HEADER: &str =
    "name,phonenumber,company_name,address,city,state,country,description";

/// The `i`-th of a million distinct valid US numbers, spread over area codes that exist.
pub fn number(i: u64) -> String {
    let area = [201, 212, 305, 312, 415, 503, 617, 702, 808, 917][(i % 10) as usize];
    format!("+1{area}{:07}", 2_000_000 + i / 10)
}
