//! CSV import of Bulk Contacts: the spec's format, every malformed-row case reported with its
//! line while the good rows import, existing numbers only gaining groups, and idempotence.

use crate::common;

use std::path::PathBuf;

use crmconnect::ErrorCode;
use crmconnect::contacts::import::{Cancel, ImportOptions, ImportReport};
use crmconnect::contacts::{ContactFilter, ContactInput, GroupInput};
use proptest::prelude::*;

const HEADER: &str = "name,phonenumber,company_name,address,city,state,country,description\n";

fn write(t: &common::TestWorkspace, name: &str, bytes: &[u8]) -> PathBuf {
    let p = t.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

async fn import(
    t: &common::TestWorkspace,
    path: &std::path::Path,
    groups: Vec<i64>,
) -> ImportReport {
    t.ws.cx()
        .import_contacts(
            path,
            ImportOptions {
                group_ids: groups,
                columns: None,
            },
            Cancel::default(),
            |_| {},
        )
        .await
        .unwrap()
}

/// Everything the directory holds, in a comparable form.
async fn snapshot(t: &common::TestWorkspace) -> Vec<(String, String, String, Vec<i64>)> {
    let page =
        t.ws.cx()
            .contacts(ContactFilter {
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap();
    let mut v: Vec<_> = page
        .contacts
        .into_iter()
        .map(|c| (c.phone, c.name, c.company, c.group_ids))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn an_existing_number_only_gains_the_chosen_groups() {
    let t = common::workspace().await;
    let vip =
        t.ws.cx()
            .create_group(GroupInput {
                name: "VIP".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    let fair =
        t.ws.cx()
            .create_group(GroupInput {
                name: "Fair 2026".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    t.ws.cx()
        .create_contact(ContactInput {
            phone: "+12015550101".into(),
            name: "Ana (kept)".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let csv = format!(
        "{HEADER}Ana from the file,201-555-0101,Other Co,,,,,\nBen,+1 201 555 0102,Acme,1 Main St,Springfield,NJ,US,met at the fair\n"
    );
    let path = write(&t, "fair.csv", csv.as_bytes());
    let r = import(&t, &path, vec![vip.id, fair.id]).await;
    assert_eq!((r.rows, r.imported, r.existing, r.refused), (2, 1, 1, 0));
    let snap = snapshot(&t).await;
    assert_eq!(
        snap[0],
        (
            "+12015550101".into(),
            "Ana (kept)".into(),
            "".into(),
            vec![vip.id, fair.id]
        )
    );
    assert_eq!(snap[1].0, "+12015550102");
    assert_eq!(snap[1].3, vec![vip.id, fair.id]);
    let by_group =
        t.ws.cx()
            .contacts(ContactFilter {
                group_id: Some(fair.id),
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(by_group.total, 2);
}

#[tokio::test]
async fn every_malformed_row_is_reported_by_line_while_good_rows_import() {
    let t = common::workspace().await;
    let mut bytes = b"\xEF\xBB\xBF".to_vec(); // BOM
    bytes.extend_from_slice(HEADER.replace('\n', "\r\n").as_bytes()); // CRLF
    bytes.extend_from_slice(
        b"\"Lopez, Ana\",+12015550101,\"Acme, Inc.\",\"1 Main St\r\nSuite 2\",,,,ok\r\n",
    ); // line 2-3
    bytes.extend_from_slice(b"Too,few,columns\r\n"); // line 4
    bytes.extend_from_slice(b"No number,,,,,,,\r\n"); // line 5
    bytes.extend_from_slice(b"Bad number,call me maybe,,,,,,\r\n"); // line 6
    bytes.extend_from_slice(b"Bad \xE9ncoding,+12015550103,,,,,,\r\n"); // line 7 (Latin-1 byte)
    bytes.extend_from_slice(b"Twice,201 555 0101,,,,,,\r\n"); // line 8: same as line 2
    bytes.extend_from_slice(b"Good,+442071838750,,,,,,\r\n"); // line 9
    let path = write(&t, "messy.csv", &bytes);
    let r = import(&t, &path, vec![]).await;
    assert_eq!(r.imported, 2, "{r:?}");
    assert_eq!(r.refused, 5, "{r:?}");
    let reasons: Vec<(u64, String)> = r
        .refused_sample
        .iter()
        .map(|x| (x.line, x.reason.clone()))
        .collect();
    let expect = [
        (4, "wrong column count: expected 8"),
        (5, "missing phone number"),
        (6, "invalid phone number"),
        (7, "bad encoding in column 1 (name): not UTF-8"),
        (
            8,
            "duplicate within the file: +12015550101 is already on line 2",
        ),
    ];
    for (line, reason) in expect {
        assert!(
            reasons
                .iter()
                .any(|(l, r)| *l == line && r.contains(reason)),
            "line {line} “{reason}” not in {reasons:?}"
        );
    }
    let snap = snapshot(&t).await;
    assert_eq!(snap[0].1, "Lopez, Ana");
    // The refused rows can be downloaded, fixed and imported again.
    let refused = std::fs::read_to_string(r.refused_file.unwrap()).unwrap();
    assert!(refused.starts_with(
        "name,phonenumber,company_name,address,city,state,country,description,line,reason"
    ));
    assert_eq!(refused.lines().count(), 6);
    assert!(refused.contains("call me maybe"));
}

#[tokio::test]
async fn another_encoding_is_refused_with_a_clear_message_and_nothing_stored() {
    let t = common::workspace().await;
    let mut utf16 = vec![0xFF, 0xFE];
    for u in HEADER
        .encode_utf16()
        .chain("A,+12015550101,,,,,,\n".encode_utf16())
    {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let path = write(&t, "utf16.csv", &utf16);
    let e =
        t.ws.cx()
            .import_contacts(&path, ImportOptions::default(), Cancel::default(), |_| {})
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(
        e.to_string()
            .contains("is UTF-16 encoded; save it as UTF-8"),
        "{e}"
    );
    assert!(snapshot(&t).await.is_empty());
}

#[tokio::test]
async fn cancelling_keeps_the_committed_batches_and_a_rerun_completes_without_duplicates() {
    let t = common::workspace().await;
    let mut csv = String::from(HEADER);
    for i in 0..45_000u32 {
        csv.push_str(&format!("Person {i},+1201{:07},,,,,,\n", 5_000_000 + i));
    }
    let path = write(&t, "big.csv", csv.as_bytes());
    let cancel = Cancel::default();
    let c2 = cancel.clone();
    let r =
        t.ws.cx()
            .import_contacts(&path, ImportOptions::default(), cancel, move |p| {
                if p.rows >= 20_000 {
                    c2.cancel();
                }
            })
            .await
            .unwrap();
    assert!(r.cancelled);
    assert!(r.imported >= 20_000 && r.imported < 45_000, "{r:?}");
    assert_eq!(
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total as u64,
        r.imported
    );
    let again = import(&t, &path, vec![]).await;
    assert!(!again.cancelled);
    assert_eq!(again.imported + again.existing, 45_000);
    assert_eq!(again.existing, r.imported);
    assert_eq!(
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total,
        45_000
    );
}

/// A group deleted while an import runs stops it before the next batch: nothing is linked to the
/// deleted group, the rows already committed stay with their other groups, and the workspace's
/// next import works (its connection got its foreign-key checks back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_deleted_during_the_import_stops_it_at_the_next_batch() {
    let t = common::workspace().await;
    let group = |name: &str| GroupInput {
        name: name.into(),
        description: String::new(),
    };
    let doomed = t.ws.cx().create_group(group("Doomed")).await.unwrap();
    let kept = t.ws.cx().create_group(group("Kept")).await.unwrap();
    let mut csv = String::from(HEADER);
    for i in 0..30_000u32 {
        csv.push_str(&format!("Person {i},+1201{:07},,,,,,\n", 5_000_000 + i));
    }
    let path = write(&t, "big.csv", csv.as_bytes());

    let ws = t.ws.clone();
    let deleted = std::sync::atomic::AtomicBool::new(false);
    let e =
        t.ws.cx()
            .import_contacts(
                &path,
                ImportOptions {
                    group_ids: vec![doomed.id, kept.id],
                    columns: None,
                },
                Cancel::default(),
                move |p| {
                    // After the first batch has committed, someone else deletes a chosen group.
                    if p.rows > 0 && !deleted.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        tokio::task::block_in_place(|| {
                            tokio::runtime::Handle::current()
                                .block_on(ws.cx().delete_group(doomed.id))
                                .unwrap()
                        });
                    }
                },
            )
            .await
            .unwrap_err();
    let first_batch =
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total;
    assert!(first_batch > 0 && first_batch < 30_000, "{first_batch}");
    assert!(
        e.to_string().contains(&format!(
            "group {} was deleted during the import; the rows before line {} are imported",
            doomed.id,
            first_batch + 2
        )),
        "{e}"
    );
    let groups = t.ws.cx().groups().await.unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| (g.name.as_str(), g.contact_count))
            .collect::<Vec<_>>(),
        [("Kept", first_batch)]
    );

    let again = import(&t, &path, vec![kept.id]).await;
    assert_eq!(again.existing as i64, first_batch);
    assert_eq!(again.imported as i64, 30_000 - first_batch);
    // Every connection of the pool (it holds four) checks foreign keys again.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(t.ws.db().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }
}

#[tokio::test]
async fn an_import_needs_the_import_permission() {
    use crmconnect::permissions::{Action, Permission, Resource};
    let t = common::workspace().await;
    let path = write(
        &t,
        "x.csv",
        format!("{HEADER}A,+12015550101,,,,,,\n").as_bytes(),
    );
    t.staff_with(
        "editor",
        vec![Permission::new(Resource::WhatsappContacts, Action::Create)],
    )
    .await;
    t.sign_in("editor").await;
    let e =
        t.ws.cx()
            .import_contacts(&path, ImportOptions::default(), Cancel::default(), |_| {})
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PermissionDenied);
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{0,12}",
        Just("Lopez, Ana".to_string()),
        Just("two\nlines".to_string()),
        Just("say \"hi\"".to_string()),
    ]
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..40).prop_map(|n| format!("+1201555{:04}", 100 + n)),
        (0u32..40).prop_map(|n| format!("(201) 555-{:04}", 100 + n)),
        Just(String::new()),
        Just("12345".to_string()),
        Just("not a phone".to_string()),
    ]
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Importing any file twice leaves the directory exactly as after the first import.
    #[test]
    fn importing_twice_changes_nothing_the_second_time(
        rows in prop::collection::vec((field(), phone(), field(), prop::bool::ANY), 0..40),
        crlf in prop::bool::ANY,
        grouped in prop::bool::ANY,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let t = common::workspace().await;
            let groups = if grouped {
                vec![t.ws.cx().create_group(GroupInput { name: "G".into(), description: String::new() }).await.unwrap().id]
            } else {
                vec![]
            };
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut csv = HEADER.trim_end().to_string() + nl;
            for (name, phone, company, short) in &rows {
                if *short {
                    csv.push_str(&format!("{},{}{nl}", quote(name), quote(phone)));
                } else {
                    csv.push_str(&format!("{},{},{},,,,,{nl}", quote(name), quote(phone), quote(company)));
                }
            }
            let path = write(&t, "gen.csv", csv.as_bytes());
            let first = import(&t, &path, groups.clone()).await;
            let after_first = snapshot(&t).await;
            let second = import(&t, &path, groups).await;
            prop_assert_eq!(snapshot(&t).await, after_first);
            prop_assert_eq!(second.imported, 0);
            prop_assert_eq!(second.existing, first.imported + first.existing);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn line_numbers_count_from_the_header_as_line_one() {
    let t = common::workspace().await;
    let path = write(
        &t,
        "lines.csv",
        format!("{HEADER}A,+12015550101,,,,,,\nB,nope,,,,,,\n").as_bytes(),
    );
    let r = import(&t, &path, vec![]).await;
    assert_eq!(r.refused_sample[0].line, 3);
}

/// Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR: the CSV reader counts lines by
/// LF only, so every refused row said "line 1". (Found by the fuzz target `contacts_csv`.)
#[tokio::test]
async fn line_numbers_are_right_in_a_file_whose_lines_end_in_cr() {
    let t = common::workspace().await;
    let body =
        format!("{HEADER}A,+12015550101,,,,,,\nB,nope,,,,,,\nC,+12015550102,,,,,,\nD,,,,,,,\n")
            .replace('\n', "\r");
    let path = write(&t, "mac.csv", body.as_bytes());
    let r = import(&t, &path, vec![]).await;
    assert_eq!(r.imported, 2);
    let lines: Vec<u64> = r.refused_sample.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![3, 5]);
}

/// A file that mixes line ends (a lone CR among LFs) still numbers its rows in order, each
/// once. (Found by the fuzz target `contacts_csv`: two refused rows said "line 2".)
#[tokio::test]
async fn rows_of_a_file_with_mixed_line_ends_each_get_their_own_line() {
    let t = common::workspace().await;
    let body = format!("{HEADER}A,nope,,,,,,\rB,nope,,,,,,\nC,nope,,,,,,\n");
    let path = write(&t, "mixed.csv", body.as_bytes());
    let r = import(&t, &path, vec![]).await;
    let lines: Vec<u64> = r.refused_sample.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
}

#[tokio::test]
async fn an_ordinary_export_imports_by_its_mapped_columns_and_refusals_are_summed_by_reason() {
    let t = common::workspace().await;
    let path = write(
        &t,
        "export.csv",
        b"Phone,Name,Email\n\
          +1 201 555 0101,Ana Ruiz,ana@example.com\n\
          (201) 555-0102,Bo Li,bo@example.com\n\
          ,No Number,x@example.com\n\
          call me,Bad Number,y@example.com\n\
          nope,Also Bad,z@example.com\n\
          +1 201 555 0103,Too,many,columns\n",
    );
    // Without a mapping the spec's order is assumed: every row has the wrong column count.
    let spec = import(&t, &path, vec![]).await;
    assert_eq!(spec.imported, 0);
    assert_eq!(spec.refused, 6);

    let columns = |c: &[&str]| ImportOptions {
        group_ids: vec![],
        columns: Some(c.iter().map(|s| s.to_string()).collect()),
    };
    let report =
        t.ws.cx()
            .import_contacts(
                &path,
                columns(&["phonenumber", "name", ""]),
                Cancel::default(),
                |_| {},
            )
            .await
            .unwrap();
    assert_eq!((report.imported, report.refused), (2, 4));
    let reasons: Vec<(&str, u64)> = report
        .refused_reasons
        .iter()
        .map(|r| (r.reason.as_str(), r.rows))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("invalid phone number", 2),
            ("missing phone number", 1),
            ("wrong column count", 1)
        ],
        "most first, then by name"
    );
    let names: Vec<(String, String)> = snapshot(&t)
        .await
        .into_iter()
        .map(|(phone, name, _, _)| (phone, name))
        .collect();
    assert_eq!(
        names,
        vec![
            ("+12015550101".to_owned(), "Ana Ruiz".to_owned()),
            ("+12015550102".to_owned(), "Bo Li".to_owned())
        ]
    );

    // A mapping that cannot work is refused before anything is read, naming the problem.
    for (mapping, said) in [
        (vec!["name", "", ""], "no column is mapped to phonenumber"),
        (
            vec!["phonenumber", "name", "name"],
            "columns 2 and 3 are both mapped to name",
        ),
        (
            vec!["phonenumber", "email", ""],
            "“email”, which is not a contact field",
        ),
    ] {
        let e =
            t.ws.cx()
                .import_contacts(&path, columns(&mapping), Cancel::default(), |_| {})
                .await
                .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Invalid);
        assert!(e.to_string().contains(said), "{e}");
    }
    assert_eq!(snapshot(&t).await.len(), 2, "nothing stored was lost");
}
