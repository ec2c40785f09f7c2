// Linking a conversation to a CRM record by hand: what the link dialog lists for each kind of
// record (a lead, a client's contact person, a bulk contact) and how its keyboard moves.

import { reachOf } from "./contacts";
import type { Client } from "./bindings/Client";
import type { Contact } from "./bindings/Contact";
import type { Lead } from "./bindings/Lead";
import type { LinkedRecord } from "./bindings/LinkedRecord";
import type { LinkKind } from "./bindings/LinkKind";

/** One record the conversation can be linked to, as the dialog lists it. */
export interface LinkCandidate {
  kind: LinkKind;
  id: number;
  name: string;
  /** The company (and a contact person's position). */
  detail: string;
  phone: string | null;
  /** The conversation is linked to it now. */
  current: boolean;
}

export const LINK_KINDS: readonly { kind: LinkKind; label: string; noun: string; plural: string }[] = [
  { kind: "lead", label: "Leads", noun: "lead", plural: "leads" },
  { kind: "client_contact", label: "Client contacts", noun: "client contact", plural: "client contacts" },
  { kind: "contact", label: "Bulk contacts", noun: "bulk contact", plural: "bulk contacts" },
];

export function linkKindInfo(kind: LinkKind): (typeof LINK_KINDS)[number] {
  return LINK_KINDS.find((k) => k.kind === kind) ?? LINK_KINDS[0]!;
}

const isCurrent = (linked: LinkedRecord | null, kind: LinkKind, id: number) => linked?.kind === kind && linked.id === id;

export function leadCandidates(leads: readonly Lead[], linked: LinkedRecord | null): LinkCandidate[] {
  return leads.map((l) => ({
    kind: "lead",
    id: l.id,
    name: l.name,
    detail: l.company,
    phone: l.phone,
    current: isCurrent(linked, "lead", l.id),
  }));
}

/** Every contact person of the clients found, under their company; a client without any gives none. */
export function personCandidates(clients: readonly Client[], linked: LinkedRecord | null): LinkCandidate[] {
  return clients.flatMap((c) =>
    c.contacts.map((p) => ({
      kind: "client_contact" as const,
      id: p.id,
      name: p.name.trim() !== "" ? p.name : "(no name)",
      detail: p.position.trim() !== "" ? `${c.company} · ${p.position}` : c.company,
      phone: p.phone,
      current: isCurrent(linked, "client_contact", p.id),
    })),
  );
}

export function contactCandidates(contacts: readonly Contact[], linked: LinkedRecord | null): LinkCandidate[] {
  return contacts.map((c) => ({
    kind: "contact",
    id: c.id,
    name: c.name.trim() !== "" ? c.name : reachOf(c),
    detail: c.company || (c.phone === "" && c.username ? `@${c.username}` : ""),
    phone: c.phone === "" ? null : c.phone,
    current: isCurrent(linked, "contact", c.id),
  }));
}

/** The highlighted row after an arrow key: it wraps around; -1 when the list is empty. */
export function moveActive(index: number, length: number, step: 1 | -1): number {
  if (length <= 0) return -1;
  if (index < 0) return step === 1 ? 0 : length - 1;
  return (index + step + length) % length;
}
