// The Templates screen's list logic: status pills, what may be done to a template, the filter
// toolbar's conversion into the core's TemplateFilter, and whether a template can be sent.

import type { MergeField } from "./bindings/MergeField";
import type { ModelView } from "./bindings/ModelView";
import type { TemplateFilter } from "./bindings/TemplateFilter";
import type { TemplateView } from "./bindings/TemplateView";
import { mappingComplete } from "./mapping";

/** Meta's template statuses, for the status filter. */
export const TEMPLATE_STATUSES: readonly string[] = [
  "APPROVED",
  "PENDING",
  "REJECTED",
  "PAUSED",
  "DISABLED",
  "IN_APPEAL",
  "REINSTATED",
  "FLAGGED",
  "PENDING_DELETION",
  "LIMIT_EXCEEDED",
  "ARCHIVED",
  "LOCKED",
];

export type Tone = "ok" | "pending" | "denied" | "neutral";

/** APPROVED green, PENDING amber, REJECTED red, anything else grey. */
export function statusTone(status: string): Tone {
  switch (status) {
    case "APPROVED":
      return "ok";
    case "PENDING":
      return "pending";
    case "REJECTED":
      return "denied";
    default:
      return "neutral";
  }
}

/** "PENDING_DELETION" → "Pending deletion". */
export function statusLabel(status: string): string {
  const words = status.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Meta lets approved, rejected and paused templates be edited (and the core checks again). */
export function isEditable(status: string): boolean {
  return status === "APPROVED" || status === "REJECTED" || status === "PAUSED";
}

/** What the filter toolbar holds; "" means no filter. */
export interface TemplateFilterForm {
  search: string;
  status: string;
  category: string;
  language: string;
}

export const EMPTY_TEMPLATE_FILTER: TemplateFilterForm = { search: "", status: "", category: "", language: "" };

export function toTemplateFilter(form: TemplateFilterForm): TemplateFilter {
  const filter: TemplateFilter = {};
  const search = form.search.trim();
  if (search !== "") filter.search = search;
  if (form.status !== "") filter.status = form.status;
  if (form.category !== "") filter.category = form.category;
  if (form.language !== "") filter.language = form.language;
  return filter;
}

export function isTemplateFiltered(form: TemplateFilterForm): boolean {
  return Object.keys(toTemplateFilter(form)).length > 0;
}

/** While Meta is reviewing a template, the list reloads itself. */
export function anyPending(templates: readonly TemplateView[]): boolean {
  return templates.some((t) => t.status === "PENDING");
}

/** Language codes seen so far, merged and sorted, for the language filter. */
export function mergeLanguages(known: readonly string[], templates: readonly TemplateView[]): string[] {
  return [...new Set([...known, ...templates.map((t) => t.language)])].filter((l) => l !== "").sort();
}

export type Readiness =
  | { kind: "ready"; label: string; detail: string }
  | { kind: "needs-mapping"; label: string; detail: string }
  | { kind: "not-approved"; label: string; detail: string };

/** Whether a template can be sent and, if not, why. The core's `sendable` decides. */
export function readiness(t: TemplateView, mergeFields: readonly MergeField[] = []): Readiness {
  if (t.sendable) {
    return {
      kind: "ready",
      label: "Ready to send",
      detail: t.variables.length === 0 ? "Approved; it has no variables." : "Approved, and every variable is mapped.",
    };
  }
  if (!mappingComplete(t.variables, t.mapping, mergeFields)) {
    return {
      kind: "needs-mapping",
      label: "Needs mapping",
      detail: "Some variables are not mapped to a merge field or fixed text, so it cannot be sent.",
    };
  }
  return {
    kind: "not-approved",
    label: "Not approved",
    detail: `Mapped, but Meta has not approved it (${statusLabel(t.status).toLowerCase()}), so it cannot be sent.`,
  };
}

/** The definition to preview for a template model: the loaded template's, or the model's own. */
export function modelDefinition(m: ModelView): unknown {
  if (m.template) return m.template.definition;
  return m.definition ?? null;
}
