import { describe, expect, it } from "vitest";
import type { Client } from "./bindings/Client";
import type { Contact } from "./bindings/Contact";
import type { Lead } from "./bindings/Lead";
import type { LinkedRecord } from "./bindings/LinkedRecord";
import { contactCandidates, leadCandidates, linkKindInfo, moveActive, personCandidates } from "./link";

const lead = (id: number, name: string, company = ""): Lead => ({
  id,
  name,
  company,
  phone: "+15550100101",
  whatsapp: true,
  email: "",
  source: "",
  status_id: 1,
  assigned_staff_id: null,
  created_at: 0,
  updated_at: 0,
});

const person = (id: number, name: string, position = "", phone: string | null = null) => ({
  id,
  name,
  position,
  phone,
  whatsapp: phone !== null,
  email: "",
  is_primary: false,
});

const client = (id: number, company: string, contacts: Client["contacts"]): Client => ({
  id,
  company,
  phone: null,
  email: "",
  address: "",
  notes: "",
  contacts,
  created_at: 0,
});

const contact = (id: number, name: string, phone: string): Contact => ({
  id,
  phone,
  wa_user_id: null,
  username: "",
  name,
  company: "Acme",
  address: "",
  city: "",
  state: "",
  country: "",
  description: "",
  group_ids: [],
  created_at: 0,
});

describe("link candidates", () => {
  it("leads, marking the one linked now", () => {
    const linked: LinkedRecord = { kind: "lead", id: 2, name: "Bo", company: "", phone: null, status_id: 1, status_name: "New", status_color: "#000" };
    expect(leadCandidates([lead(1, "Ana", "Acme"), lead(2, "Bo")], linked)).toEqual([
      { kind: "lead", id: 1, name: "Ana", detail: "Acme", phone: "+15550100101", current: false },
      { kind: "lead", id: 2, name: "Bo", detail: "", phone: "+15550100101", current: true },
    ]);
  });

  it("every contact person of the clients found, under the company; none for a client without persons", () => {
    const clients = [client(1, "Acme", [person(10, "Ana", "Purchasing", "+15550100102"), person(11, " ")]), client(2, "Empty Ltd", [])];
    const linked: LinkedRecord = { kind: "client_contact", id: 11, client_id: 1, name: "", company: "Acme", phone: null };
    expect(personCandidates(clients, linked)).toEqual([
      { kind: "client_contact", id: 10, name: "Ana", detail: "Acme · Purchasing", phone: "+15550100102", current: false },
      { kind: "client_contact", id: 11, name: "(no name)", detail: "Acme", phone: null, current: true },
    ]);
  });

  it("bulk contacts, by their number when they have no name; a lead with the same id is not them", () => {
    const linked: LinkedRecord = { kind: "lead", id: 5, name: "", company: "", phone: null, status_id: 1, status_name: "", status_color: "" };
    expect(contactCandidates([contact(5, "", "+15550100103")], linked)).toEqual([
      { kind: "contact", id: 5, name: "+15550100103", detail: "Acme", phone: "+15550100103", current: false },
    ]);
  });

  it("names each kind", () => {
    expect(linkKindInfo("client_contact").plural).toBe("client contacts");
    expect(linkKindInfo("contact").label).toBe("Bulk contacts");
  });
});

describe("moving through the results", () => {
  it("starts at either end, wraps around, and has nothing to move in an empty list", () => {
    expect(moveActive(-1, 3, 1)).toBe(0);
    expect(moveActive(-1, 3, -1)).toBe(2);
    expect(moveActive(2, 3, 1)).toBe(0);
    expect(moveActive(0, 3, -1)).toBe(2);
    expect(moveActive(1, 3, 1)).toBe(2);
    expect(moveActive(0, 0, 1)).toBe(-1);
  });
});
