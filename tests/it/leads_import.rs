//! CSV import of leads: the header names the columns, every refused row is reported with its line
//! while the good rows import, a bad file stores nothing, and importing twice creates nothing new.

use crate::common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crmconnect::ErrorCode;
use crmconnect::contacts::import::{Cancel, ImportReport};
use crmconnect::leads::LeadFilter;
use crmconnect::leads::import::LeadImportOptions;
use crmconnect::permissions::{Action, Permission, Resource};
use crmconnect::uploads::UploadPurpose;

fn write(t: &common::TestWorkspace, name: &str, bytes: &[u8]) -> PathBuf {
    let p = t.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

async fn import(t: &common::TestWorkspace, path: &std::path::Path) -> ImportReport {
    t.ws.cx()
        .import_leads(
            path,
            LeadImportOptions::default(),
            Cancel::default(),
            |_| {},
        )
        .await
        .unwrap()
}

async fn total(t: &common::TestWorkspace) -> i64 {
    t.ws.cx().leads(LeadFilter::default()).await.unwrap().total
}

#[tokio::test]
async fn good_rows_import_and_each_bad_row_is_named_with_its_line() {
    let t = common::workspace().await;
    let csv = "\u{feff}name,company,phone,email,source,status\r\n\
        Ana,Acme,201-555-0101,ana@example.com,Website,Qualified\r\n\
        \"Lopez, Ben\",\"Big \"\"B\"\" Co\",+1 201 555 0102,,Fair,\r\n\
        ,NoName Inc,+12015550103,,,\r\n\
        Cy,,call me,,,\r\n\
        Dan,,+12015550104,,,Hot\r\n\
        Eve,,(201) 555-0101,,,\r\n\
        Fay,,,ANA@example.com,,\r\n\
        Gus,,,,,\r\n\
        Hal,,+12015550105\r\n\
        \"Ida\nwith a newline\",,+12015550106,ida@example,,\r\n\
        Jo,,+12015550107,jo@example.com,Referral,won\r\n";
    let path = write(&t, "leads.csv", csv.as_bytes());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let report =
        t.ws.cx()
            .import_leads(
                &path,
                LeadImportOptions::default(),
                Cancel::default(),
                move |p| s.lock().unwrap().push(p.rows),
            )
            .await
            .unwrap();
    assert_eq!(
        (
            report.rows,
            report.imported,
            report.existing,
            report.refused
        ),
        (11, 3, 0, 8)
    );
    let refused: Vec<(u64, &str)> = report
        .refused_sample
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    let expect = [
        (4, "missing name"),
        (5, "“call me” is not a phone number"),
        (
            6,
            "unknown lead status “Hot” (the statuses are New, Contacted, Qualified, Proposal, Won, Lost)",
        ),
        (
            7,
            "duplicate within the file: +12015550101 is already on line 2",
        ),
        (
            8,
            "duplicate within the file: ana@example.com is already on line 2",
        ),
        (9, "no phone and no email"),
        (10, "wrong column count"),
        (11, "“ida@example” is not an email address"),
    ];
    assert_eq!(refused.len(), expect.len(), "{refused:?}");
    for ((line, reason), (want_line, want)) in refused.iter().zip(expect) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(reason.contains(want), "line {line}: {reason} / {want}");
    }
    assert_eq!(*seen.lock().unwrap(), vec![11]);

    let leads = t.ws.cx().leads(LeadFilter::default()).await.unwrap().leads;
    let ben = leads.iter().find(|l| l.name == "Lopez, Ben").unwrap();
    assert_eq!(
        (ben.company.as_str(), ben.phone.as_deref()),
        ("Big \"B\" Co", Some("+12015550102"))
    );
    let statuses = t.ws.cx().lead_statuses().await.unwrap();
    let ana = leads.iter().find(|l| l.name == "Ana").unwrap();
    assert_eq!(ana.status_id, statuses[2].id, "Qualified");
    let jo = leads.iter().find(|l| l.name == "Jo").unwrap();
    assert_eq!(
        jo.status_id, statuses[4].id,
        "status names match whatever their case"
    );
    assert_eq!(ben.status_id, statuses[0].id, "empty status: the first one");

    // The refused rows come back as a CSV with their line and reason, which imports as it is
    // once fixed.
    let refused_file = report.refused_file.expect("refused rows file");
    let text = std::fs::read_to_string(&refused_file).unwrap();
    assert!(
        text.starts_with("name,company,phone,email,source,status,line,reason"),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.contains("call me")).count(), 1);
    let fixed = "name,company,phone,email,source,status,line,reason\nCy,,+12015550111,,,,5,fixed\n";
    let again = import(&t, &write(&t, "fixed.csv", fixed.as_bytes())).await;
    assert_eq!((again.imported, again.refused), (1, 0));
    let log = t.log_of("leads.import").await;
    assert!(log.iter().all(|(o, _)| o == "ok") && !log.is_empty());
}

#[tokio::test]
async fn importing_the_same_file_twice_creates_nothing_the_second_time() {
    let t = common::workspace().await;
    t.ws.cx()
        .create_lead(crmconnect::leads::LeadInput {
            name: "Ana (kept as is)".into(),
            phone: "+12015550101".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let csv = "email,name,phone\nana@example.com,Ana from the file,+1 201-555-0101\nben@example.com,Ben,\n,Cy,+12015550103\n";
    let path = write(&t, "twice.csv", csv.as_bytes());
    let first = import(&t, &path).await;
    assert_eq!((first.imported, first.existing, first.refused), (2, 1, 0));
    let second = import(&t, &path).await;
    assert_eq!(
        (second.imported, second.existing, second.refused),
        (0, 3, 0)
    );
    assert_eq!(total(&t).await, 3);
    let leads = t.ws.cx().leads(LeadFilter::default()).await.unwrap().leads;
    assert!(
        leads
            .iter()
            .any(|l| l.name == "Ana (kept as is)" && l.email.is_empty()),
        "the existing lead is untouched"
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_read_as_leads_stores_nothing() {
    let t = common::workspace().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "fax.csv",
            b"name,phone,fax\nAna,+12015550101,1\n".to_vec(),
            "unknown column “fax”",
        ),
        (
            "noname.csv",
            b"company,phone\nAcme,+12015550101\n".to_vec(),
            "no “name” column",
        ),
        (
            "noreach.csv",
            b"name,company\nAna,Acme\n".to_vec(),
            "“phone” or an “email” column",
        ),
        ("empty.csv", b"".to_vec(), "the file is empty"),
        (
            "utf16.csv",
            [0xFF, 0xFE]
                .into_iter()
                .chain("name,phone\n".encode_utf16().flat_map(|u| u.to_le_bytes()))
                .collect(),
            "UTF-16",
        ),
    ];
    for (name, bytes, message) in cases {
        let e =
            t.ws.cx()
                .import_leads(
                    &write(&t, name, &bytes),
                    LeadImportOptions::default(),
                    Cancel::default(),
                    |_| {},
                )
                .await
                .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Invalid, "{name}: {e}");
        assert!(e.to_string().contains(message), "{name}: {e}");
    }
    let latin1 = write(
        &t,
        "latin1.csv",
        b"name,phone\nJos\xe9,+12015550101\nAna,+12015550102\n",
    );
    let r = import(&t, &latin1).await;
    assert_eq!((r.imported, r.refused), (1, 1));
    assert!(
        r.refused_sample[0].reason.contains("not UTF-8"),
        "{:?}",
        r.refused_sample
    );
    assert_eq!(total(&t).await, 1);
    let e =
        t.ws.cx()
            .import_leads(
                &t.dir.path().join("missing.csv"),
                LeadImportOptions::default(),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
}

#[tokio::test]
async fn cancelling_keeps_the_committed_batches_and_a_rerun_completes() {
    let t = common::workspace().await;
    let mut csv = String::from("name,email\n");
    for i in 0..12_000 {
        csv.push_str(&format!("Lead {i},lead{i}@example.com\n"));
    }
    let path = write(&t, "big.csv", csv.as_bytes());
    let cancel = Cancel::default();
    let c = cancel.clone();
    let report =
        t.ws.cx()
            .import_leads(&path, LeadImportOptions::default(), cancel, move |_| {
                c.cancel()
            })
            .await
            .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.imported, 5_000, "one batch committed");
    assert_eq!(total(&t).await, 5_000);
    let rest = import(&t, &path).await;
    assert_eq!((rest.imported, rest.existing), (7_000, 5_000));
    assert_eq!(total(&t).await, 12_000);
}

#[tokio::test]
async fn imported_leads_can_be_assigned_and_the_import_needs_its_permission() {
    let t = common::workspace().await;
    let rep = t
        .staff_with(
            "importer",
            vec![
                Permission::new(Resource::Leads, Action::Import),
                Permission::new(Resource::Leads, Action::View),
            ],
        )
        .await;
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::Leads, Action::View)],
    )
    .await;
    let path = write(&t, "a.csv", b"name,phone\nAna,+12015550101\n");
    t.sign_in("viewer").await;
    let e =
        t.ws.cx()
            .import_leads(
                &path,
                LeadImportOptions::default(),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied);
    assert_eq!(t.log_of("leads.import").await[0].0, "denied");
    t.sign_in("importer").await;
    let e =
        t.ws.cx()
            .import_leads(
                &path,
                LeadImportOptions {
                    assigned_staff_id: Some(999),
                },
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    t.ws.cx()
        .import_leads(
            &path,
            LeadImportOptions {
                assigned_staff_id: Some(rep.id),
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .unwrap();
    let leads = t.ws.cx().leads(LeadFilter::default()).await.unwrap().leads;
    assert_eq!(leads[0].assigned_staff_id, Some(rep.id));
}

#[tokio::test]
async fn uploads_from_the_desktop_import_and_are_removed() {
    let t = common::workspace().await;
    let id =
        t.ws.cx()
            .begin_upload(UploadPurpose::LeadsImport)
            .await
            .unwrap();
    t.ws.cx()
        .append_upload(&id, b"name,phone\nAna,+1201")
        .await
        .unwrap();
    let n = t.ws.cx().append_upload(&id, b"5550101\n").await.unwrap();
    assert_eq!(n, 28);
    let r =
        t.ws.cx()
            .import_leads_upload(
                &id,
                "my leads.csv",
                LeadImportOptions::default(),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap();
    assert_eq!(r.imported, 1);
    assert_eq!(
        common::code(t.ws.cx().append_upload(&id, b"x").await),
        ErrorCode::NotFound
    );
    assert_eq!(
        common::code(t.ws.cx().append_upload("../../etc/passwd", b"x").await),
        ErrorCode::Invalid
    );
    assert!(t.log_of("leads.import").await[0].1.contains("my_leads.csv"));
}

#[tokio::test]
async fn an_upload_serves_only_the_purpose_it_was_sent_for() {
    let t = common::workspace().await;
    let media =
        t.ws.cx()
            .begin_upload(UploadPurpose::ChatMedia)
            .await
            .unwrap();
    t.ws.cx()
        .append_upload(&media, b"name,phone\nAna,+12015550101\n")
        .await
        .unwrap();
    let err =
        t.ws.cx()
            .import_leads_upload(
                &media,
                "x.csv",
                LeadImportOptions::default(),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert!(err.to_string().contains("not for a leads import"), "{err}");
    let err =
        t.ws.cx()
            .import_upload(
                &media,
                "x.csv",
                Default::default(),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    // Nothing was imported, and the file is still there for what it was sent for.
    assert!(
        t.ws.cx()
            .leads(LeadFilter::default())
            .await
            .unwrap()
            .leads
            .is_empty()
    );
    assert_eq!(t.ws.cx().append_upload(&media, b"").await.unwrap(), 28);
}
