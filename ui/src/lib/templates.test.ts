import { describe, expect, it } from "vitest";
import type { ModelView } from "./bindings/ModelView";
import type { TemplateView } from "./bindings/TemplateView";
import {
  EMPTY_TEMPLATE_FILTER,
  anyPending,
  isEditable,
  isTemplateFiltered,
  mergeLanguages,
  modelDefinition,
  readiness,
  statusLabel,
  statusTone,
  toTemplateFilter,
} from "./templates";

function template(patch: Partial<TemplateView> = {}): TemplateView {
  return {
    id: 1,
    meta_id: "1",
    name: "order_update",
    language: "en",
    status: "APPROVED",
    category: "UTILITY",
    parameter_format: "POSITIONAL",
    definition: {},
    variables: [],
    mapping: [],
    sendable: true,
    rejected_reason: null,
    model: null,
    synced_at: null,
    quality_score: null,
    ...patch,
  };
}

describe("statuses", () => {
  it("colour APPROVED green, PENDING amber, REJECTED red, the rest grey", () => {
    expect(["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"].map(statusTone)).toEqual([
      "ok",
      "pending",
      "denied",
      "neutral",
      "neutral",
    ]);
    expect(statusLabel("PENDING_DELETION")).toBe("Pending deletion");
  });

  it("allow editing only approved, rejected and paused templates", () => {
    expect(["APPROVED", "REJECTED", "PAUSED", "PENDING", "DISABLED"].map(isEditable)).toEqual([true, true, true, false, false]);
  });

  it("keep the list polling while one is pending", () => {
    expect(anyPending([template(), template({ status: "PENDING" })])).toBe(true);
    expect(anyPending([template()])).toBe(false);
  });
});

describe("filters", () => {
  it("send only the filters that are set, with the search trimmed", () => {
    expect(toTemplateFilter(EMPTY_TEMPLATE_FILTER)).toEqual({});
    expect(toTemplateFilter({ search: "  order ", status: "PENDING", category: "", language: "en_US" })).toEqual({
      search: "order",
      status: "PENDING",
      language: "en_US",
    });
    expect(isTemplateFiltered({ ...EMPTY_TEMPLATE_FILTER, search: "   " })).toBe(false);
    expect(isTemplateFiltered({ ...EMPTY_TEMPLATE_FILTER, category: "MARKETING" })).toBe(true);
  });

  it("remember the languages seen so far for the language filter", () => {
    expect(mergeLanguages(["pt_BR"], [template({ language: "en" }), template({ language: "pt_BR" })])).toEqual(["en", "pt_BR"]);
  });
});

describe("readiness", () => {
  const v = { place: { part: "body" as const }, kind: "text" as const, key: "1" };

  it("says ready when the core says sendable", () => {
    expect(readiness(template()).kind).toBe("ready");
  });

  it("says needs mapping when a variable is not mapped", () => {
    expect(readiness(template({ sendable: false, variables: [v] })).kind).toBe("needs-mapping");
  });

  it("says not approved when mapped but not approved", () => {
    const t = template({ sendable: false, status: "PENDING", variables: [v], mapping: [{ variable: v, source: { kind: "text", value: "x" } }] });
    const r = readiness(t);
    expect(r.kind).toBe("not-approved");
    expect(r.detail).toContain("pending");
  });
});

describe("modelDefinition", () => {
  const base: ModelView = { model: "invoice", label: "Invoice", name: "crmconnect_invoice", definition: null, template: null };
  it("previews the loaded template, else the model's own definition", () => {
    expect(modelDefinition({ ...base, template: template({ definition: { a: 1 } }) })).toEqual({ a: 1 });
    expect(modelDefinition({ ...base, definition: { b: 2 } })).toEqual({ b: 2 });
    expect(modelDefinition(base)).toBeNull();
  });
});
