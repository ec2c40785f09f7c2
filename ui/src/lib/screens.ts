// What each screen is for, in one sentence taken from the product specification
// (shared/seed/whatsapp-module-spec.md). Shown on screens that this version has not built yet.

import type { Screen } from "./bindings/Screen";

export const SCREEN_PURPOSE: Readonly<Record<Screen, string>> = {
  chat:
    "It will be the two-way chat with leads and clients: open a conversation thread, send free-form messages, templates and media, insert quick replies and assign the conversation to a colleague, with every conversation linked to its CRM lead or client record.",
  bots:
    "It will hold the automated conversation agents that answer incoming messages by following a visual flow, triggered by keywords, menu choices or AI assistance, each with its own active/inactive toggle.",
  campaigns:
    "It will send one Meta-approved template message to a large list of recipients (leads, client contacts or a contact group) in one operation, with pause and resume and delivered and read rates per campaign.",
  groups:
    "It will keep named groups of Bulk Contacts to segment audiences, so that a whole group can be targeted as the recipient list of a campaign.",
  bulk_contacts:
    "It will be the standalone WhatsApp contact directory, separate from CRM leads and clients, with unique phone numbers, group assignment and CSV import, providing the recipients for campaigns and groups.",
  templates:
    "It will list the Meta-approved message templates with their approval status, create, edit and sync them with Meta, and submit the predefined proposal, invoice, proforma, storno and estimate templates for approval.",
  quick_replies:
    "It will manage the short named text snippets that chat agents insert into a conversation instantly to answer frequent questions and standard greetings.",
  numbers:
    "It will be a read-only overview of the WhatsApp Business phone numbers connected through the Meta Cloud API, with each number's business profile.",
  connection:
    "It will show the WhatsApp Cloud API integration status and let an administrator enter or update the Meta credentials: access token, phone number ID, business account ID and webhook configuration.",
  activity_log:
    "It will be the chronological audit trail of all WhatsApp activity, for compliance review and troubleshooting.",
  leads:
    "It will list the CRM's leads with their status, source and assigned staff, with filters, CSV import and configurable lead statuses.",
  clients:
    "It will list the CRM's clients (companies) with their contact persons and phones.",
  documents:
    "It will list proposals, estimates, invoices, proforma invoices and credit notes with their PDFs, ready to be sent over WhatsApp.",
  settings: "It will hold the workspace, account, staff and role settings.",
};
