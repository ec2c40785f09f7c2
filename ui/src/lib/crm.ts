// The CRM screens' logic as pure functions (Leads, Clients, Documents): filters from form state,
// amounts and quantities typed as text, document totals as the core computes them.

import type { DocumentLine } from "./bindings/DocumentLine";
import type { LeadFilter } from "./bindings/LeadFilter";
import type { LeadStatus } from "./bindings/LeadStatus";
import type { StaffName } from "./bindings/StaffName";

/** Rows fetched per page by the CRM lists. */
/**
 * A click on a list row, not on one of its controls: opens the row's record (the row's actions
 * stay, and a narrow window may hide columns, but the record is always a click away).
 */
export function rowOpens(event: MouseEvent): boolean {
  return !(event.target instanceof Element && event.target.closest("button, a, input, select, textarea, label"));
}

export const CRM_PAGE = 200;

/** The Leads screen's filter controls, as the form holds them (strings from inputs and selects). */
export interface LeadFilterForm {
  search: string;
  /** A status id, or "" for every status. */
  status: string;
  source: string;
  /** A staff id, "none" for unassigned, or "" for anyone. */
  staff: string;
  /** YYYY-MM-DD (local), inclusive; "" for open-ended. */
  from: string;
  to: string;
  /** "yes", "no" or "" (either). */
  whatsapp: string;
}

export const EMPTY_LEAD_FILTER: LeadFilterForm = { search: "", status: "", source: "", staff: "", from: "", to: "", whatsapp: "" };

/** Local midnight of a YYYY-MM-DD date, in Unix ms; null when the text is not such a date. */
export function dayStart(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(y, mo - 1, d);
  if (at.getFullYear() !== y || at.getMonth() !== mo - 1 || at.getDate() !== d) return null;
  return at.getTime();
}

/** The core's filter for the form, at `offset`. The "to" day is included (the core's bound is exclusive). */
export function leadFilter(form: LeadFilterForm, offset = 0, limit = CRM_PAGE): LeadFilter {
  const filter: LeadFilter = { status_ids: [], unassigned: false, offset, limit };
  const search = form.search.trim();
  if (search) filter.search = search;
  if (form.status !== "") filter.status_ids = [Number(form.status)];
  const source = form.source.trim();
  if (source) filter.source = source;
  if (form.staff === "none") filter.unassigned = true;
  else if (form.staff !== "") filter.assigned_staff_id = Number(form.staff);
  const from = dayStart(form.from);
  if (from !== null) filter.created_from = from;
  const to = dayStart(form.to);
  if (to !== null) filter.created_to = new Date(to).setDate(new Date(to).getDate() + 1);
  if (form.whatsapp === "yes") filter.has_whatsapp = true;
  if (form.whatsapp === "no") filter.has_whatsapp = false;
  return filter;
}

/** Whether any filter is set (the empty state then offers to reset them). */
export function isFiltered(form: LeadFilterForm): boolean {
  return Object.values(form).some((v) => v.trim() !== "");
}

export function statusOf(statuses: readonly LeadStatus[], id: number): LeadStatus | null {
  return statuses.find((s) => s.id === id) ?? null;
}

export function staffNameOf(staff: readonly StaffName[], id: number | null): string {
  if (id === null) return "Unassigned";
  return staff.find((s) => s.id === id)?.name ?? `Staff #${id}`;
}

/** "12.50" → 1250 minor units with 2 digits; null when it is not an amount with at most `digits` decimals. */
export function parseAmount(text: string, digits: number): number | null {
  const t = text.trim().replace(/,/g, "");
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return null;
  const frac = m[2] ?? "";
  if (frac.length > digits) return null;
  const value = Number(m[1]) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || "0");
  return Number.isSafeInteger(value) ? value : null;
}

/** 1250 with 2 digits → "12.50"; thousands separated by commas. */
export function formatAmount(minor: number, digits: number): string {
  const negative = minor < 0;
  const abs = Math.abs(minor);
  const unit = 10 ** digits;
  const whole = Math.floor(abs / unit).toLocaleString("en-US");
  const frac = digits > 0 ? "." + String(abs % unit).padStart(digits, "0") : "";
  return `${negative ? "-" : ""}${whole}${frac}`;
}

/** "1.5" → 1500 thousandths; null unless it is more than 0 with at most 3 decimals. */
export function parseQuantity(text: string): number | null {
  const milli = parseAmount(text, 3);
  return milli !== null && milli > 0 ? milli : null;
}

/** 1500 → "1.5". */
export function formatQuantity(milli: number): string {
  return formatAmount(milli, 3).replace(/\.?0+$/, "");
}

/** A line's amount as the core computes it: quantity × unit price, rounded half up. */
export function lineAmount(line: Pick<DocumentLine, "quantity_milli" | "unit_price">): number {
  return Math.floor((line.quantity_milli * line.unit_price + 500) / 1000);
}

export function documentTotal(lines: readonly Pick<DocumentLine, "quantity_milli" | "unit_price">[]): number {
  return lines.reduce((sum, l) => sum + lineAmount(l), 0);
}

/** Today as YYYY-MM-DD (local). */
export function today(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
