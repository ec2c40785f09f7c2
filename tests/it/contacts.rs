//! Bulk Contacts and Groups: unique E.164 numbers, groups that keep their contacts when deleted,
//! atomic bulk operations, and the permissions of the spec.

use crate::common;

use crmconnect::ErrorCode;
use crmconnect::contacts::{ContactFilter, ContactInput, GroupInput};
use crmconnect::permissions::{Action, Permission, Resource};

fn contact(phone: &str, name: &str) -> ContactInput {
    ContactInput {
        phone: phone.into(),
        name: name.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn two_spellings_of_one_number_are_refused_as_a_duplicate() {
    let t = common::workspace().await;
    let c =
        t.ws.cx()
            .create_contact(contact("+1 (201) 555-0123", "Ana"))
            .await
            .unwrap();
    assert_eq!(c.phone, "+12015550123");
    let e =
        t.ws.cx()
            .create_contact(contact("201-555-0123", "Ana again"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(
        e.to_string()
            .contains("+12015550123 is already in the directory (as “Ana”)"),
        "{e}"
    );

    // On edit too: another contact cannot take Ana's number.
    let b =
        t.ws.cx()
            .create_contact(contact("+12015550124", "Ben"))
            .await
            .unwrap();
    let e =
        t.ws.cx()
            .update_contact(b.id, contact("12015550123", "Ben"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    // Ana may keep her own number while editing.
    t.ws.cx()
        .update_contact(c.id, contact("+1 201 555 0123", "Ana Maria"))
        .await
        .unwrap();

    let e =
        t.ws.cx()
            .create_contact(contact("not a number", "X"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.to_string().starts_with("phone number:"), "{e}");
    assert_eq!(
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total,
        2
    );
}

#[tokio::test]
async fn deleting_a_group_keeps_its_contacts() {
    let t = common::workspace().await;
    let vip =
        t.ws.cx()
            .create_group(GroupInput {
                name: "VIP".into(),
                description: "best".into(),
            })
            .await
            .unwrap();
    let other =
        t.ws.cx()
            .create_group(GroupInput {
                name: "Other".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    let mut input = contact("+12015550123", "Ana");
    input.group_ids = vec![vip.id, other.id];
    let ana = t.ws.cx().create_contact(input).await.unwrap();
    assert_eq!(ana.group_ids.len(), 2);
    let groups = t.ws.cx().groups().await.unwrap();
    assert_eq!(
        groups
            .iter()
            .find(|g| g.id == vip.id)
            .unwrap()
            .contact_count,
        1
    );

    t.ws.cx().delete_group(vip.id).await.unwrap();
    let page = t.ws.cx().contacts(ContactFilter::default()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.contacts[0].group_ids, vec![other.id]);
    assert_eq!(
        common::code(
            t.ws.cx()
                .create_group(GroupInput {
                    name: "other".into(),
                    description: String::new()
                })
                .await
        ),
        ErrorCode::Conflict,
        "group names are unique, case-insensitively"
    );
}

#[tokio::test]
async fn bulk_operations_are_atomic() {
    let t = common::workspace().await;
    let g =
        t.ws.cx()
            .create_group(GroupInput {
                name: "Leads".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    let a =
        t.ws.cx()
            .create_contact(contact("+12015550101", "A"))
            .await
            .unwrap();
    let b =
        t.ws.cx()
            .create_contact(contact("+12015550102", "B"))
            .await
            .unwrap();

    // One bad id: nothing is assigned, nothing is deleted.
    assert_eq!(
        common::code(
            t.ws.cx()
                .assign_groups(vec![a.id, 999_999], vec![g.id])
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(t.ws.cx().groups().await.unwrap()[0].contact_count, 0);
    assert_eq!(
        common::code(t.ws.cx().delete_contacts(vec![a.id, 999_999]).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total,
        2
    );

    assert_eq!(
        t.ws.cx()
            .assign_groups(vec![a.id, b.id], vec![g.id])
            .await
            .unwrap()
            .affected,
        2
    );
    let page =
        t.ws.cx()
            .contacts(ContactFilter {
                group_id: Some(g.id),
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        t.ws.cx()
            .delete_contacts(vec![a.id, b.id])
            .await
            .unwrap()
            .affected,
        2
    );
    assert_eq!(
        t.ws.cx()
            .contacts(ContactFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(t.ws.cx().groups().await.unwrap()[0].contact_count, 0);
}

#[tokio::test]
async fn search_matches_name_phone_and_company() {
    let t = common::workspace().await;
    let mut c = contact("+12015550101", "Ana Lopez");
    c.company = "Acme Corp".into();
    t.ws.cx().create_contact(c).await.unwrap();
    t.ws.cx()
        .create_contact(contact("+442071838750", "Ben"))
        .await
        .unwrap();
    let find = |s: &str| {
        let ws = &t.ws;
        let s = s.to_owned();
        async move {
            ws.cx()
                .contacts(ContactFilter {
                    search: Some(s),
                    ..Default::default()
                })
                .await
                .unwrap()
                .contacts
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("lopez").await, vec!["Ana Lopez"]);
    assert_eq!(find("acme").await, vec!["Ana Lopez"]);
    assert_eq!(find("+4420").await, vec!["Ben"]);
    assert_eq!(find("100%").await, Vec::<String>::new());
}

#[tokio::test]
async fn contacts_and_groups_are_guarded_by_their_permissions() {
    let t = common::workspace().await;
    t.staff_with(
        "viewer",
        vec![Permission::new(Resource::WhatsappContacts, Action::View)],
    )
    .await;
    t.sign_in("viewer").await;
    t.ws.cx().contacts(ContactFilter::default()).await.unwrap();
    assert_eq!(
        common::code(t.ws.cx().create_contact(contact("+12015550101", "A")).await),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        common::code(
            t.ws.cx()
                .create_group(GroupInput {
                    name: "G".into(),
                    description: String::new()
                })
                .await
        ),
        ErrorCode::PermissionDenied
    );
    assert_eq!(t.log_of("contacts.create").await[0].0, "denied");
}

#[tokio::test]
async fn select_all_covers_every_match_not_only_a_loaded_page() {
    let t = common::workspace().await;
    for i in 0..620 {
        t.ws.cx()
            .create_contact(contact(
                &format!("+1201555{i:04}"),
                &format!("Match {i:03}"),
            ))
            .await
            .unwrap();
    }
    for i in 0..5 {
        t.ws.cx()
            .create_contact(contact(&format!("+1201666{i:04}"), &format!("Other {i}")))
            .await
            .unwrap();
    }
    let filter = ContactFilter {
        search: Some("match".into()),
        offset: Some(500),
        limit: Some(10),
        ..Default::default()
    };
    let ids = t.ws.cx().contact_ids(filter.clone()).await.unwrap();
    assert_eq!(ids.len(), 620, "offset and limit do not narrow it");

    // The same contacts, in the list's order, as the pages of the list.
    let mut listed = Vec::new();
    for offset in [0, 500] {
        let page =
            t.ws.cx()
                .contacts(ContactFilter {
                    offset: Some(offset),
                    limit: Some(500),
                    ..filter.clone()
                })
                .await
                .unwrap();
        assert_eq!(page.total, 620);
        listed.extend(page.contacts.iter().map(|c| c.id));
    }
    assert_eq!(ids, listed);

    // Every match assigned at once.
    let g =
        t.ws.cx()
            .create_group(GroupInput {
                name: "All matches".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    assert_eq!(
        t.ws.cx()
            .assign_groups(ids, vec![g.id])
            .await
            .unwrap()
            .affected,
        620
    );
    assert_eq!(t.ws.cx().groups().await.unwrap()[0].contact_count, 620);
    let in_group =
        t.ws.cx()
            .contact_ids(ContactFilter {
                group_id: Some(g.id),
                search: Some("Other".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    assert!(in_group.is_empty(), "group and search together");

    t.staff_with("nobody", vec![]).await;
    t.sign_in("nobody").await;
    assert_eq!(
        common::code(t.ws.cx().contact_ids(ContactFilter::default()).await),
        ErrorCode::PermissionDenied
    );
}

#[tokio::test]
async fn a_number_is_found_however_it_is_typed_in_the_search() {
    let t = common::workspace().await;
    t.ws.cx()
        .create_contact(contact("+1 201 730 0042", "Ana"))
        .await
        .unwrap();
    t.ws.cx()
        .create_lead(crmconnect::leads::LeadInput {
            name: "Ana's lead".into(),
            phone: "201-730-0042".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for typed in [
        "(201) 730-0042",
        "+1 201.730.0042",
        "730-0042",
        "2017300042",
    ] {
        let found =
            t.ws.cx()
                .contacts(ContactFilter {
                    search: Some(typed.into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .total;
        assert_eq!(found, 1, "contacts, searching {typed}");
        let leads =
            t.ws.cx()
                .leads(crmconnect::leads::LeadFilter {
                    search: Some(typed.into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .total;
        assert_eq!(leads, 1, "leads, searching {typed}");
    }
    let none =
        t.ws.cx()
            .contacts(ContactFilter {
                search: Some("(201) 730-9999".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .total;
    assert_eq!(none, 0);
}
