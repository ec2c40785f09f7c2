//! Documents: numbered per kind, linked to one client or lead, totals from their lines, a PDF
//! rendered by the app or attached (checked), its path for the viewer and for WhatsApp sends, and
//! nothing lost: a refused change leaves the stored document and its PDF as they were.

use crate::common;

use std::path::Path;

use crmconnect::ErrorCode;
use crmconnect::clients::ClientInput;
use crmconnect::documents::{DocumentFilter, DocumentInput, DocumentKind, DocumentLine, PdfSource};
use crmconnect::leads::{LeadFilter, LeadInput};
use crmconnect::permissions::{Action, Permission, Resource};
use crmconnect::uploads::UploadPurpose;

fn invoice(client: i64) -> DocumentInput {
    DocumentInput {
        kind: DocumentKind::Invoice,
        number: String::new(),
        client_id: Some(client),
        lead_id: None,
        date: "2026-11-25".into(),
        due_date: Some("2026-12-09".into()),
        currency: "EUR".into(),
        status: None,
        notes: "Payable within 14 days".into(),
        lines: vec![
            DocumentLine {
                description: "Setup".into(),
                quantity_milli: 1000,
                unit_price: 50_000,
            },
            DocumentLine {
                description: "Support hours".into(),
                quantity_milli: 2500,
                unit_price: 8_000,
            },
        ],
        total: None,
    }
}

async fn client(t: &common::TestWorkspace, name: &str) -> i64 {
    t.ws.cx()
        .create_client(ClientInput {
            company: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn a_pdf(t: &common::TestWorkspace, name: &str) -> std::path::PathBuf {
    let p = t.dir.path().join(name);
    std::fs::write(
        &p,
        b"%PDF-1.4\n% attached by a test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    )
    .unwrap();
    p
}

#[tokio::test]
async fn an_invoice_is_numbered_totalled_and_rendered_as_a_pdf_holding_its_number() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let doc =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();
    assert_eq!(doc.number, "INV-0001");
    assert_eq!(doc.total, 50_000 + 20_000);
    assert_eq!(
        (doc.status.as_str(), doc.party_name.as_str(), doc.pdf_source),
        ("draft", "Acme Ltd", PdfSource::Rendered)
    );
    assert_eq!(doc.currency_digits, 2);

    let path = t.ws.cx().document_pdf(doc.id).await.unwrap();
    assert!(path.starts_with(t.ws.documents_dir()));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.trim_end().ends_with("%%EOF"));
    for needle in [
        "(No. INV-0001)",
        "(Client: Acme Ltd)",
        "(Support hours)",
        "(2.5)",
        "(700.00 EUR)",
        "(Payable within 14 days)",
    ] {
        assert!(text.contains(needle), "{needle} in the PDF");
    }

    let second =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();
    assert_eq!(second.number, "INV-0002");
    let proposal =
        t.ws.cx()
            .create_document(
                DocumentInput {
                    kind: DocumentKind::Proposal,
                    number: "INV-0001".into(),
                    ..invoice(acme)
                },
                None,
            )
            .await
            .unwrap();
    assert_eq!(
        proposal.number, "INV-0001",
        "numbers are unique per kind only"
    );

    // Editing re-renders the PDF (new file, old one removed).
    let mut changed = invoice(acme);
    changed.lines.truncate(1);
    changed.status = Some("paid".into());
    let edited = t.ws.cx().update_document(doc.id, changed).await.unwrap();
    assert_eq!(
        (edited.number.as_str(), edited.total, edited.status.as_str()),
        ("INV-0001", 50_000, "paid")
    );
    let new_path = t.ws.cx().document_pdf(doc.id).await.unwrap();
    assert_ne!(new_path, path);
    assert!(!path.exists(), "the replaced PDF is removed");
    assert!(String::from_utf8_lossy(&std::fs::read(&new_path).unwrap()).contains("(Status: paid)"));
}

#[tokio::test]
async fn refused_documents_name_the_problem_and_leave_no_trace() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let first =
        t.ws.cx()
            .create_document(
                DocumentInput {
                    number: "2026/001".into(),
                    ..invoice(acme)
                },
                None,
            )
            .await
            .unwrap();
    let before = files(&t.ws.documents_dir());
    let cases: Vec<(DocumentInput, ErrorCode, &str)> = vec![
        (
            DocumentInput {
                number: "2026/001".into(),
                ..invoice(acme)
            },
            ErrorCode::Conflict,
            "Invoice number “2026/001” is already used",
        ),
        (
            DocumentInput {
                client_id: Some(999),
                ..invoice(acme)
            },
            ErrorCode::NotFound,
            "client 999",
        ),
        (
            DocumentInput {
                lead_id: Some(1),
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "both were given",
        ),
        (
            DocumentInput {
                client_id: None,
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "exactly one client or one lead",
        ),
        (
            DocumentInput {
                currency: "XXX".into(),
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "“XXX” is not an ISO 4217",
        ),
        (
            DocumentInput {
                date: "2026-13-01".into(),
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "“2026-13-01” is not a date",
        ),
        (
            DocumentInput {
                status: Some("accepted".into()),
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "use one of: draft, sent, paid, cancelled",
        ),
        (
            DocumentInput {
                total: Some(1),
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "does not match the sum of the lines, 700.00 EUR",
        ),
        (
            DocumentInput {
                lines: vec![],
                ..invoice(acme)
            },
            ErrorCode::Invalid,
            "needs lines to render its PDF from, or an attached PDF",
        ),
    ];
    for (input, code, message) in cases {
        let e = t.ws.cx().create_document(input, None).await.unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(e.to_string().contains(message), "{e} / {message}");
    }
    let e =
        t.ws.cx()
            .update_document(
                first.id,
                DocumentInput {
                    currency: "euro".into(),
                    ..invoice(acme)
                },
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert_eq!(
        t.ws.cx().document(first.id).await.unwrap(),
        first,
        "the stored document is unchanged"
    );
    assert_eq!(
        files(&t.ws.documents_dir()),
        before,
        "no PDF written for a refused document"
    );
    assert_eq!(
        t.ws.cx()
            .documents(DocumentFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn an_attached_pdf_is_checked_kept_on_edit_and_replaced_by_rendering() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let doc =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();
    let rendered = t.ws.cx().document_pdf(doc.id).await.unwrap();

    let not_pdf = t.dir.path().join("scan.png");
    std::fs::write(&not_pdf, b"\x89PNG\r\n\x1a\n....").unwrap();
    let e =
        t.ws.cx()
            .attach_document_pdf(doc.id, &not_pdf)
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(
        e.to_string()
            .contains("not a PDF (it does not start with %PDF-)"),
        "{e}"
    );
    let empty = t.dir.path().join("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    assert!(
        t.ws.cx()
            .attach_document_pdf(doc.id, &empty)
            .await
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert_eq!(
        t.ws.cx().document_pdf(doc.id).await.unwrap(),
        rendered,
        "the rendered PDF stays"
    );

    let attached =
        t.ws.cx()
            .attach_document_pdf(doc.id, &a_pdf(&t, "signed.pdf"))
            .await
            .unwrap();
    assert_eq!(attached.pdf_source, PdfSource::Attached);
    let path = t.ws.cx().document_pdf(doc.id).await.unwrap();
    assert!(
        std::fs::read(&path)
            .unwrap()
            .starts_with(b"%PDF-1.4\n% attached by a test")
    );
    assert!(!rendered.exists());

    // Editing keeps the attached PDF; rendering replaces it with one made from the lines.
    let edited =
        t.ws.cx()
            .update_document(
                doc.id,
                DocumentInput {
                    status: Some("sent".into()),
                    ..invoice(acme)
                },
            )
            .await
            .unwrap();
    assert_eq!(edited.pdf_source, PdfSource::Attached);
    assert_eq!(t.ws.cx().document_pdf(doc.id).await.unwrap(), path);
    let back = t.ws.cx().render_document_pdf(doc.id).await.unwrap();
    assert_eq!(back.pdf_source, PdfSource::Rendered);
    assert!(!path.exists());
    assert!(
        String::from_utf8_lossy(
            &std::fs::read(t.ws.cx().document_pdf(doc.id).await.unwrap()).unwrap()
        )
        .contains("(No. INV-0001)")
    );

    // A credit note without lines: an attached PDF and its total.
    let cn =
        t.ws.cx()
            .create_document(
                DocumentInput {
                    kind: DocumentKind::CreditNote,
                    lines: vec![],
                    total: Some(12_345),
                    status: Some("issued".into()),
                    ..invoice(acme)
                },
                Some(&a_pdf(&t, "storno.pdf")),
            )
            .await
            .unwrap();
    assert_eq!(
        (cn.number.as_str(), cn.total, cn.pdf_source),
        ("CN-0001", 12_345, PdfSource::Attached)
    );
    assert_eq!(
        common::code(t.ws.cx().render_document_pdf(cn.id).await),
        ErrorCode::Invalid
    );
    let e =
        t.ws.cx()
            .create_document(
                DocumentInput {
                    kind: DocumentKind::CreditNote,
                    lines: vec![],
                    ..invoice(acme)
                },
                Some(&a_pdf(&t, "x.pdf")),
            )
            .await
            .unwrap_err();
    assert!(e.to_string().contains("needs its total"), "{e}");
}

#[tokio::test]
async fn documents_of_a_lead_list_by_kind_and_keep_their_lead_and_client() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let lead =
        t.ws.cx()
            .create_lead(LeadInput {
                name: "Ana".into(),
                phone: "+12015550101".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    let proposal =
        t.ws.cx()
            .create_document(
                DocumentInput {
                    kind: DocumentKind::Proposal,
                    client_id: None,
                    lead_id: Some(lead.id),
                    currency: "JPY".into(),
                    ..invoice(acme)
                },
                None,
            )
            .await
            .unwrap();
    assert_eq!(
        (
            proposal.party_name.as_str(),
            proposal.currency_digits,
            proposal.total
        ),
        ("Ana", 0, 70_000)
    );
    assert!(
        String::from_utf8_lossy(
            &std::fs::read(t.ws.cx().document_pdf(proposal.id).await.unwrap()).unwrap()
        )
        .contains("(Lead: Ana)")
    );
    let inv =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();

    let list = |f: DocumentFilter| async {
        t.ws.cx()
            .documents(f)
            .await
            .unwrap()
            .documents
            .into_iter()
            .map(|d| d.number)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(DocumentFilter {
            kind: Some(DocumentKind::Proposal),
            ..Default::default()
        })
        .await,
        ["PRO-0001"]
    );
    assert_eq!(
        list(DocumentFilter {
            lead_id: Some(lead.id),
            ..Default::default()
        })
        .await,
        ["PRO-0001"]
    );
    assert_eq!(
        list(DocumentFilter {
            client_id: Some(acme),
            ..Default::default()
        })
        .await,
        ["INV-0001"]
    );
    assert_eq!(
        list(DocumentFilter {
            search: Some("inv".into()),
            ..Default::default()
        })
        .await,
        ["INV-0001"]
    );
    assert_eq!(
        list(DocumentFilter {
            status: Some("paid".into()),
            ..Default::default()
        })
        .await,
        Vec::<String>::new()
    );

    // Nothing is lost: a lead or client with documents stays.
    let e = t.ws.cx().delete_leads(vec![lead.id]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(
        e.to_string(),
        "lead “Ana” has 1 document(s); delete them first"
    );
    let e = t.ws.cx().delete_client(acme).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(
        e.to_string().contains("“Acme Ltd” has 1 document(s)"),
        "{e}"
    );
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        1
    );

    let pdf = t.ws.cx().document_pdf(inv.id).await.unwrap();
    t.ws.cx().delete_document(inv.id).await.unwrap();
    assert!(!pdf.exists(), "its PDF went with it");
    assert_eq!(
        common::code(t.ws.cx().document_pdf(inv.id).await),
        ErrorCode::NotFound
    );
    t.ws.cx().delete_client(acme).await.unwrap();
}

#[tokio::test]
async fn documents_are_guarded_by_the_documents_permission() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let doc =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::Documents, Action::View)],
    )
    .await;
    t.sign_in("viewer").await;
    t.ws.cx().document_pdf(doc.id).await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().create_document(invoice(acme), None).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().update_document(doc.id, invoice(acme)).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(
            t.ws.cx()
                .attach_document_pdf(doc.id, &a_pdf(&t, "a.pdf"))
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().delete_document(doc.id).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().begin_upload(UploadPurpose::DocumentPdf).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(t.log_of("documents.delete").await[0].0, "denied");
    t.staff_with("none", vec![]).await;
    t.sign_in("none").await;
    assert_eq!(
        common::code(t.ws.cx().document_pdf(doc.id).await),
        ErrorCode::PermissionDenied
    );
}

#[tokio::test]
async fn a_pdf_uploaded_by_the_desktop_is_attached_and_the_upload_removed() {
    let t = common::workspace().await;
    let acme = client(&t, "Acme Ltd").await;
    let doc =
        t.ws.cx()
            .create_document(invoice(acme), None)
            .await
            .unwrap();
    let up =
        t.ws.cx()
            .begin_upload(UploadPurpose::DocumentPdf)
            .await
            .unwrap();
    t.ws.cx().append_upload(&up, b"%PDF-1.7\n").await.unwrap();
    t.ws.cx().append_upload(&up, b"%%EOF\n").await.unwrap();
    let d = t.ws.cx().attach_document_upload(doc.id, &up).await.unwrap();
    assert_eq!(d.pdf_source, PdfSource::Attached);
    assert_eq!(
        common::code(t.ws.cx().attach_document_upload(doc.id, &up).await),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn the_sandbox_demo_loads_once_into_an_empty_sandbox_and_never_into_a_live_workspace() {
    let t = common::workspace().await;
    let report = t.ws.cx().load_sandbox_crm_demo().await.unwrap();
    assert_eq!((report.leads, report.clients, report.documents), (4, 2, 2));
    let leads = t.ws.cx().leads(LeadFilter::default()).await.unwrap().leads;
    assert!(leads.iter().all(|l| l.name.ends_with("(sandbox)")));
    let docs =
        t.ws.cx()
            .documents(DocumentFilter::default())
            .await
            .unwrap()
            .documents;
    assert_eq!(docs.len(), 2);
    for d in &docs {
        let pdf = std::fs::read(t.ws.cx().document_pdf(d.id).await.unwrap()).unwrap();
        assert!(String::from_utf8_lossy(&pdf).contains(&format!("(No. {})", d.number)));
    }
    let e = t.ws.cx().load_sandbox_crm_demo().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert_eq!(
        t.ws.cx().leads(LeadFilter::default()).await.unwrap().total,
        4,
        "nothing added twice"
    );

    let live = crmconnect::Workspaces::new(t.dir.path())
        .create("live", "Live", crmconnect::workspace::WorkspaceKind::Live)
        .await
        .unwrap();
    live.create_owner(crmconnect::staff::NewStaff {
        name: "Owner".into(),
        username: "owner".into(),
        role_id: 0,
        passphrase: "owner passphrase".into(),
    })
    .await
    .unwrap();
    live.sign_in("owner", "owner passphrase".into())
        .await
        .unwrap();
    let e = live.cx().load_sandbox_crm_demo().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(e.to_string().contains("only in the sandbox"), "{e}");
    assert_eq!(
        live.cx().leads(LeadFilter::default()).await.unwrap().total,
        0
    );
}

#[tokio::test]
async fn the_activity_log_names_a_new_documents_target_and_its_number() {
    let t = common::workspace().await;
    let c = client(&t, "Acme").await;
    let doc = t.ws.cx().create_document(invoice(c), None).await.unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT target, detail FROM activity_log WHERE action = 'documents.create'")
            .fetch_all(t.ws.db())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "new Invoice, numbered automatically");
    assert!(
        rows[0].1.as_deref().unwrap_or("").contains(&doc.number),
        "{rows:?}"
    );
}
