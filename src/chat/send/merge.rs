//! Merge fields: the values a template's variables are filled with, from the conversation's
//! linked record (a lead, a client's contact person or a bulk contact) and who sends.

use super::*;

impl Workspace {
    /// An approved template. (Variables it leaves unmapped are the sender's to type:
    /// `fill::prepare_template` names them.)
    pub(super) async fn template_for_send(
        &self,
        id: i64,
    ) -> Result<crate::templates::TemplateView> {
        let t = self.template_unchecked(id).await?;
        if t.status != "APPROVED" {
            return Err(ChatError::Template {
                id,
                reason: format!(
                    "“{}” is {}, and only approved templates can be sent",
                    t.name, t.status
                ),
            }
            .into());
        }
        Ok(t)
    }
}

/// Whom a message is for, as merge fields see them: the customer's phone (or id) and name, and the
/// record they are linked to, if any.
#[derive(Debug, Clone, Copy)]
pub struct MergeTarget<'a> {
    pub phone: &'a str,
    /// The name the customer gave WhatsApp, used when no record names them.
    pub profile_name: &'a str,
    pub record: Option<&'a crate::chat::LinkedRecord>,
}

impl<'a> MergeTarget<'a> {
    /// The customer of a conversation and the record it is linked to.
    pub fn of(detail: &'a crate::chat::ConversationDetail) -> Self {
        MergeTarget {
            phone: &detail.conversation.customer,
            profile_name: &detail.conversation.customer_name,
            record: detail.linked.as_ref(),
        }
    }
}

impl Ctx<'_> {
    /// The text merge fields (`contact.name`, `lead.status`, `staff.name`…) for any lead, client
    /// contact person or bulk contact, and for who sends: the one function chat, Send on
    /// WhatsApp, campaigns and bots fill templates with. Empty values are left out, so that a
    /// template needing one says which field has no value.
    pub async fn merge_values(
        &self,
        target: MergeTarget<'_>,
        sender_name: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut out = vec![
            ("staff.name".to_owned(), sender_name.to_owned()),
            ("business.name".to_owned(), self.info().name.clone()),
            ("contact.phone".to_owned(), target.phone.to_owned()),
        ];
        let mut name = target.profile_name.to_owned();
        let mut company = String::new();
        match target.record {
            Some(crate::chat::LinkedRecord::Lead(l)) => {
                name = l.name.clone();
                company = l.company.clone();
                out.push(("lead.name".into(), l.name.clone()));
                out.push(("lead.company".into(), l.company.clone()));
                out.push(("lead.status".into(), l.status_name.clone()));
                if let Ok(lead) = self.lead(l.id).await {
                    out.push(("lead.email".into(), lead.email));
                }
            }
            Some(crate::chat::LinkedRecord::ClientContact(p)) => {
                name = p.name.clone();
                company = p.company.clone();
                out.push(("client.company".into(), p.company.clone()));
            }
            Some(crate::chat::LinkedRecord::Contact(k)) => {
                name = k.name.clone();
                company = k.company.clone();
            }
            None => {}
        }
        if !name.is_empty() {
            let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
            out.push(("contact.name".into(), name));
            out.push(("contact.first_name".into(), first));
        }
        if !company.is_empty() {
            out.push(("contact.company".into(), company));
        }
        Ok(out.into_iter().filter(|(_, v)| !v.is_empty()).collect())
    }
}

pub(super) fn lookup(
    texts: &BTreeMap<String, String>,
    pdf: &Option<(PathBuf, String)>,
    key: &str,
    media_id: &str,
) -> Option<Value_> {
    if key == "document.pdf" {
        return pdf.as_ref().map(|(_, name)| Value_::Media {
            id: media_id.to_owned(),
            filename: Some(name.clone()),
        });
    }
    texts.get(key).map(|v| Value_::Text(v.clone()))
}
