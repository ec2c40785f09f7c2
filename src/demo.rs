//! Demo records for the CRM screens, in the sandbox workspace only: a few leads, two clients with
//! contact persons, an invoice and a proposal with rendered PDFs. Every name says "(sandbox)" and
//! the phones are in the fictional 555-01xx range. Loaded on request (the Leads screen offers it
//! while the workspace has no leads and no clients), through the ordinary operations, so the
//! signed-in staff member's permissions apply and each record has its activity-log entry.

use crate::Result;
use crate::clients::{ClientFilter, ClientInput, ContactPersonInput};
use crate::documents::{DocumentInput, DocumentKind, DocumentLine};
use crate::leads::{LeadFilter, LeadInput};
use crate::workspace::{Ctx, WorkspaceError, WorkspaceKind};

/// What was created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DemoReport {
    pub leads: i64,
    pub clients: i64,
    pub documents: i64,
}

fn line(description: &str, quantity_milli: i64, unit_price: i64) -> DocumentLine {
    DocumentLine {
        description: description.into(),
        quantity_milli,
        unit_price,
    }
}

impl Ctx<'_> {
    /// Loads the CRM demo records (see the module docs). Refused in a live workspace, and once
    /// the workspace has leads or clients (nothing of the user's is touched).
    pub async fn load_sandbox_crm_demo(&self) -> Result<DemoReport> {
        if self.info().kind != WorkspaceKind::Sandbox {
            return Err(WorkspaceError::NotSandbox.into());
        }
        let leads = self.leads(LeadFilter::default()).await?.total;
        let clients = self.clients(ClientFilter::default()).await?.total;
        if leads > 0 || clients > 0 {
            return Err(WorkspaceError::NotEmpty.into());
        }
        let statuses = self.lead_statuses().await?;
        let status = |name: &str| statuses.iter().find(|s| s.name == name).map(|s| s.id);
        let demo_leads = [
            (
                "Ana Lopez (sandbox)",
                "Lopez Design",
                "+1 201-555-0131",
                "ana@example.com",
                "Website",
                "New",
            ),
            (
                "Ben Carter (sandbox)",
                "Carter & Sons",
                "+1 201-555-0132",
                "",
                "Trade fair",
                "Contacted",
            ),
            (
                "Cleo Park (sandbox)",
                "",
                "",
                "cleo@example.com",
                "Referral",
                "Qualified",
            ),
            (
                "Dev Mehta (sandbox)",
                "Mehta Foods",
                "+1 201-555-0134",
                "dev@example.com",
                "Website",
                "Proposal",
            ),
        ];
        let mut proposal_lead = None;
        for (name, company, phone, email, source, st) in demo_leads {
            let lead = self
                .create_lead(LeadInput {
                    name: name.into(),
                    company: company.into(),
                    phone: phone.into(),
                    email: email.into(),
                    source: source.into(),
                    status_id: status(st),
                    assigned_staff_id: None,
                })
                .await?;
            if st == "Proposal" {
                proposal_lead = Some(lead.id);
            }
        }
        let acme = self
            .create_client(ClientInput {
                company: "Acme Supplies (sandbox)".into(),
                phone: "+1 201-555-0141".into(),
                email: "office@example.com".into(),
                address: "1 Sandbox Way, Nowhere (not a real address)".into(),
                notes: "Demo client of the sandbox workspace.".into(),
                contacts: vec![
                    ContactPersonInput {
                        id: None,
                        name: "Maria Gomez (sandbox)".into(),
                        position: "Purchasing".into(),
                        phone: "+1 201-555-0142".into(),
                        email: "maria@example.com".into(),
                        is_primary: true,
                    },
                    ContactPersonInput {
                        id: None,
                        name: "Tom Reed (sandbox)".into(),
                        position: "Accounts".into(),
                        phone: String::new(),
                        email: "tom@example.com".into(),
                        is_primary: false,
                    },
                ],
            })
            .await?;
        self.create_client(ClientInput {
            company: "Northwind Studio (sandbox)".into(),
            phone: "+1 201-555-0151".into(),
            contacts: vec![ContactPersonInput {
                id: None,
                name: "Lena Novak (sandbox)".into(),
                position: "Owner".into(),
                phone: "+1 201-555-0152".into(),
                email: String::new(),
                is_primary: true,
            }],
            ..Default::default()
        })
        .await?;
        let date = today();
        // Invoices are due in 14 days (what the invoice template model tells the customer).
        let due = date_in_days(14);
        let base = |kind, client_id, lead_id, lines| DocumentInput {
            kind,
            number: String::new(),
            client_id,
            lead_id,
            date: date.clone(),
            due_date: (kind == DocumentKind::Invoice).then(|| due.clone()),
            currency: "USD".into(),
            status: Some("sent".into()),
            notes: "Sandbox demo document: not a real invoice or offer.".into(),
            lines,
            total: None,
        };
        let mut documents = 0;
        self.create_document(
            base(
                DocumentKind::Invoice,
                Some(acme.id),
                None,
                vec![
                    line("WhatsApp onboarding workshop", 1000, 45_000),
                    line("Template design, per template", 3000, 6_000),
                ],
            ),
            None,
        )
        .await?;
        documents += 1;
        self.create_document(
            base(
                DocumentKind::Proposal,
                None,
                proposal_lead,
                vec![line("Catalogue campaign, monthly", 6000, 25_000)],
            ),
            None,
        )
        .await?;
        documents += 1;
        Ok(DemoReport {
            leads: demo_leads.len() as i64,
            clients: 2,
            documents,
        })
    }
}

/// Today's date (UTC) as YYYY-MM-DD, from the Unix clock (civil-from-days, H. Hinnant).
fn today() -> String {
    date_in_days(0)
}

/// The calendar date `offset` days from today (UTC), YYYY-MM-DD.
fn date_in_days(offset: i64) -> String {
    let days = crate::now_ms().div_euclid(86_400_000) + offset;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_date() {
        let t = super::today();
        assert_eq!(t.len(), 10);
        assert!(t.starts_with("20"), "{t}");
        assert_eq!(&t[4..5], "-");
    }
}
