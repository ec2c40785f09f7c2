//! Clients: companies with their contact persons and phones, edited in place, guarded by the
//! `clients` permission; bad input names the field and the person.

use crate::common;

use crmconnect::ErrorCode;
use crmconnect::clients::{ClientFilter, ClientInput, ContactPersonInput};
use crmconnect::permissions::{Action, Permission, Resource};

fn person(name: &str, phone: &str) -> ContactPersonInput {
    ContactPersonInput {
        name: name.into(),
        phone: phone.into(),
        ..Default::default()
    }
}

fn acme(people: Vec<ContactPersonInput>) -> ClientInput {
    ClientInput {
        company: "Acme Ltd".into(),
        phone: "+44 20 7946 0958".into(),
        email: "office@acme.example".into(),
        contacts: people,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_client_keeps_its_contact_persons_and_their_phones_in_e164() {
    let t = common::workspace().await;
    let c =
        t.ws.cx()
            .create_client(acme(vec![
                ContactPersonInput {
                    is_primary: true,
                    position: "Purchasing".into(),
                    email: "ana@acme.example".into(),
                    ..person("Ana", "201-555-0123")
                },
                person("Ben", ""),
            ]))
            .await
            .unwrap();
    assert_eq!(c.phone.as_deref(), Some("+442079460958"));
    assert_eq!(c.contacts.len(), 2);
    let ana = &c.contacts[0];
    assert_eq!(
        (
            ana.name.as_str(),
            ana.phone.as_deref(),
            ana.whatsapp,
            ana.is_primary
        ),
        ("Ana", Some("+12015550123"), true, true)
    );
    assert_eq!(
        (c.contacts[1].phone.clone(), c.contacts[1].whatsapp),
        (None, false)
    );

    // Edit: Ana changes in place (same id), Ben goes, Cy arrives.
    let ana_id = ana.id;
    let edited =
        t.ws.cx()
            .update_client(
                c.id,
                acme(vec![
                    ContactPersonInput {
                        id: Some(ana_id),
                        ..person("Ana Lopez", "+12015550124")
                    },
                    person("Cy", "+4915123456789"),
                ]),
            )
            .await
            .unwrap();
    let names: Vec<(Option<i64>, &str)> = edited
        .contacts
        .iter()
        .map(|p| (Some(p.id), p.name.as_str()))
        .collect();
    assert_eq!(names[0], (Some(ana_id), "Ana Lopez"));
    assert_eq!(names[1].1, "Cy");
    assert_eq!(edited.contacts.len(), 2);

    // Search finds a client by a contact person's name or phone.
    let find = |s: &str| ClientFilter {
        search: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(t.ws.cx().clients(find("lopez")).await.unwrap().total, 1);
    assert_eq!(edited.contacts[1].phone.as_deref(), Some("+4915123456789"));
    assert_eq!(t.ws.cx().clients(find("+4915123")).await.unwrap().total, 1);
    assert_eq!(t.ws.cx().clients(find("nobody")).await.unwrap().total, 0);

    t.ws.cx().delete_client(c.id).await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().client(c.id).await),
        ErrorCode::NotFound
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM client_contacts")
        .fetch_one(t.ws.db())
        .await
        .unwrap();
    assert_eq!(left, 0, "its contact persons went with it");
}

#[tokio::test]
async fn bad_client_input_is_refused_naming_the_problem_and_nothing_changes() {
    let t = common::workspace().await;
    let c =
        t.ws.cx()
            .create_client(acme(vec![person("Ana", "+12015550123")]))
            .await
            .unwrap();
    let other =
        t.ws.cx()
            .create_client(ClientInput {
                company: "Other".into(),
                contacts: vec![person("Zed", "")],
                ..Default::default()
            })
            .await
            .unwrap();
    let cases: Vec<(ClientInput, ErrorCode, &str)> = vec![
        (
            ClientInput {
                company: " ".into(),
                ..Default::default()
            },
            ErrorCode::Invalid,
            "needs a company name",
        ),
        (
            ClientInput {
                company: "ACME LTD".into(),
                ..Default::default()
            },
            ErrorCode::Conflict,
            "already a client named “ACME LTD”",
        ),
        (
            ClientInput {
                phone: "12".into(),
                ..acme(vec![])
            },
            ErrorCode::Invalid,
            "phone number: “12”",
        ),
        (
            ClientInput {
                email: "office".into(),
                ..acme(vec![])
            },
            ErrorCode::Invalid,
            "“office” is not an email",
        ),
        (
            acme(vec![person("Ben", "555")]),
            ErrorCode::Invalid,
            "phone number of Ben",
        ),
        (
            acme(vec![person("", "")]),
            ErrorCode::Invalid,
            "contact person 1 needs a name",
        ),
        (
            acme(vec![
                ContactPersonInput {
                    is_primary: true,
                    ..person("A", "")
                },
                ContactPersonInput {
                    is_primary: true,
                    ..person("B", "")
                },
            ]),
            ErrorCode::Invalid,
            "only one contact person",
        ),
    ];
    for (input, code, message) in cases {
        let mut input = input;
        if code == ErrorCode::Conflict {
            input.company = "ACME LTD".into();
            let e = t.ws.cx().create_client(input).await.unwrap_err();
            assert_eq!(e.code(), code);
            assert!(e.to_string().contains(message), "{e}");
            continue;
        }
        let e = t.ws.cx().update_client(c.id, input).await.unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(e.to_string().contains(message), "{e} / {message}");
    }
    // Someone else's contact person cannot be taken over.
    let e =
        t.ws.cx()
            .update_client(
                c.id,
                acme(vec![ContactPersonInput {
                    id: Some(other.contacts[0].id),
                    ..person("Zed", "")
                }]),
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert_eq!(t.ws.cx().client(c.id).await.unwrap(), c, "unchanged");
    assert_eq!(
        t.ws.cx().client(other.id).await.unwrap(),
        other,
        "unchanged"
    );
    assert_eq!(
        common::code(t.ws.cx().update_client(999, acme(vec![])).await),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn clients_are_guarded_by_the_clients_permission() {
    let t = common::workspace().await;
    let c = t.ws.cx().create_client(acme(vec![])).await.unwrap();
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::Clients, Action::View)],
    )
    .await;
    t.sign_in("viewer").await;
    assert_eq!(
        t.ws.cx()
            .clients(ClientFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        common::code(
            t.ws.cx()
                .create_client(ClientInput {
                    company: "X".into(),
                    ..Default::default()
                })
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().update_client(c.id, acme(vec![])).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(t.ws.cx().delete_client(c.id).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(t.log_of("clients.delete").await[0].0, "denied");
    t.staff_with("none", vec![]).await;
    t.sign_in("none").await;
    assert_eq!(
        common::code(t.ws.cx().clients(ClientFilter::default()).await),
        ErrorCode::PermissionDenied
    );
}
