// Bulk Contacts: paging the directory into a virtualised list (pages fetched by offset as the
// rows come into view, a bounded cache), the selection, and the contact form ↔ ContactInput.

import type { Contact } from "./bindings/Contact";
import type { ContactFilter } from "./bindings/ContactFilter";
import type { ContactInput } from "./bindings/ContactInput";
import type { Group } from "./bindings/Group";

/** Rows per `list_contacts` call. */
export const PAGE_SIZE = 200;
/** Pages kept in memory at most (the ones farthest from the view are dropped first). */
export const MAX_CACHED_PAGES = 40;

// ---------------------------------------------------------------------------------------------
// Paging

/** The pages (0-based) that hold rows `start` (inclusive) to `end` (exclusive). */
export function pagesInRange(start: number, end: number, pageSize = PAGE_SIZE): number[] {
  const size = Math.max(1, Math.floor(pageSize));
  const first = Math.max(0, Math.floor(start / size));
  const last = Math.max(first, Math.floor((Math.max(start + 1, end) - 1) / size));
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

/** The `offset` to ask `list_contacts` for to get page `page`. */
export function pageOffset(page: number, pageSize = PAGE_SIZE): number {
  return Math.max(0, Math.floor(page)) * pageSize;
}

/** The filter for one page of the list. */
export function pageFilter(search: string, groupId: string, page: number, pageSize = PAGE_SIZE): ContactFilter {
  const filter: ContactFilter = { offset: pageOffset(page, pageSize), limit: pageSize };
  const text = search.trim();
  if (text !== "") filter.search = text;
  const group = groupIdOf(groupId);
  if (group !== null) filter.group_id = group;
  return filter;
}

/** The value of the group select ("" = all groups) as a group id, or null. */
export function groupIdOf(value: string): number | null {
  if (value.trim() === "") return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * The cached pages to drop so that at most `max` stay: those farthest from the pages in view
 * (`keep`, which are never dropped).
 */
export function pagesToEvict(cached: Iterable<number>, keep: readonly number[], max = MAX_CACHED_PAGES): number[] {
  const pages = [...cached];
  if (pages.length <= max) return [];
  const first = keep.length > 0 ? Math.min(...keep) : 0;
  const last = keep.length > 0 ? Math.max(...keep) : 0;
  const distance = (p: number) => (p < first ? first - p : p > last ? p - last : 0);
  const keepSet = new Set(keep);
  return pages
    .filter((p) => !keepSet.has(p))
    .sort((a, b) => distance(b) - distance(a) || b - a)
    .slice(0, pages.length - max);
}

/**
 * The rows for the list: an array of length `total` with the loaded pages in place and holes
 * elsewhere (shown as placeholders). Costs the loaded rows, not `total`.
 */
export function rowsOf(total: number, pages: ReadonlyMap<number, readonly Contact[]>, pageSize = PAGE_SIZE): (Contact | undefined)[] {
  const rows: (Contact | undefined)[] = [];
  rows.length = Math.max(0, total);
  for (const [page, contacts] of pages) {
    const offset = pageOffset(page, pageSize);
    for (let i = 0; i < contacts.length && offset + i < rows.length; i++) rows[offset + i] = contacts[i];
  }
  return rows;
}

/** Every contact in the loaded pages. */
export function loadedContacts(pages: ReadonlyMap<number, readonly Contact[]>): Contact[] {
  return [...pages.values()].flat();
}

// ---------------------------------------------------------------------------------------------
// Selection (by contact id)

export type SelectAllState = "none" | "some" | "all";

/** The header checkbox: none, some or all of the loaded rows are selected. */
export function selectAllState(loadedIds: readonly number[], selected: ReadonlySet<number>): SelectAllState {
  if (loadedIds.length === 0) return "none";
  let count = 0;
  for (const id of loadedIds) if (selected.has(id)) count++;
  return count === 0 ? "none" : count === loadedIds.length ? "all" : "some";
}

/**
 * The header checkbox over a list of `total` matches: checked when every match is selected, mixed
 * when some are; a click on an empty one selects every match (not only the loaded rows), on any
 * other clears the selection.
 */
export function headerCheckbox(
  loadedIds: readonly number[],
  selected: ReadonlySet<number>,
  total: number,
): { shows: SelectAllState; click: "select_every_match" | "clear" } {
  if (selected.size === 0) return { shows: "none", click: "select_every_match" };
  const every = total > 0 && selected.size >= total && selectAllState(loadedIds, selected) === "all";
  return { shows: every ? "all" : "some", click: "clear" };
}

/** One row's checkbox clicked. */
export function toggleOne(selected: ReadonlySet<number>, id: number): Set<number> {
  const next = new Set(selected);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** The selection without the ids that are gone (deleted). */
export function withoutIds(selected: ReadonlySet<number>, gone: readonly number[]): Set<number> {
  const next = new Set(selected);
  for (const id of gone) next.delete(id);
  return next;
}

// ---------------------------------------------------------------------------------------------
// Display

/** How a contact is reached: its number as written for people, or, for a customer who writes by
 *  username (no number), "@username" or "WhatsApp user". */
export function reachOf(
  contact: Pick<Contact, "phone" | "username" | "wa_user_id">,
  format: (e164: string) => string = (p) => p,
): string {
  if (contact.phone !== "") return format(contact.phone);
  if (contact.username !== "") return `@${contact.username}`;
  return contact.wa_user_id ? "WhatsApp user" : "—";
}

/** A contact as a sentence names it: its name, else how it is reached. */
export function whoOf(contact: Pick<Contact, "name" | "phone" | "username" | "wa_user_id">): string {
  return contact.name || reachOf(contact);
}

/** "Austin, TX · US"-like: city and state, then country; "—" when none is known. */
export function placeOf(contact: Pick<Contact, "city" | "state" | "country">): string {
  const local = [contact.city, contact.state].map((s) => s.trim()).filter(Boolean).join(", ");
  const country = contact.country.trim();
  if (local && country) return `${local} · ${country}`;
  return local || country || "—";
}

/** The contact's groups, by name, in the order of `groups`; ids of unknown groups are left out. */
export function groupChips(groupIds: readonly number[], groups: readonly Group[]): Group[] {
  const ids = new Set(groupIds);
  return groups.filter((g) => ids.has(g.id));
}

// ---------------------------------------------------------------------------------------------
// The contact form

export const CONTACT_TEXT_FIELDS = ["name", "company", "address", "city", "state", "country"] as const;

export interface ContactForm {
  phone: string;
  name: string;
  company: string;
  address: string;
  city: string;
  state: string;
  country: string;
  description: string;
  groupIds: number[];
}

export function emptyContactForm(): ContactForm {
  return { phone: "", name: "", company: "", address: "", city: "", state: "", country: "", description: "", groupIds: [] };
}

export function contactForm(contact: Contact): ContactForm {
  return {
    phone: contact.phone,
    name: contact.name,
    company: contact.company,
    address: contact.address,
    city: contact.city,
    state: contact.state,
    country: contact.country,
    description: contact.description,
    groupIds: [...contact.group_ids],
  };
}

/** What the form sends: text trimmed, groups once each and only groups that exist. */
export function toContactInput(form: ContactForm, groups: readonly Group[]): ContactInput {
  const known = new Set(groups.map((g) => g.id));
  return {
    phone: form.phone.trim(),
    name: form.name.trim(),
    company: form.company.trim(),
    address: form.address.trim(),
    city: form.city.trim(),
    state: form.state.trim(),
    country: form.country.trim(),
    description: form.description.trim(),
    group_ids: [...new Set(form.groupIds)].filter((id) => known.has(id)),
  };
}

/** A group checkbox toggled in a list of chosen group ids. */
export function toggleGroup(groupIds: readonly number[], id: number, on: boolean): number[] {
  const rest = groupIds.filter((g) => g !== id);
  return on ? [...rest, id] : rest;
}
