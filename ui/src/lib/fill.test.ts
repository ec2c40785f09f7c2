import { describe, expect, it } from "vitest";
import type { FillValue } from "./bindings/FillValue";
import type { TemplateFill } from "./bindings/TemplateFill";
import { hintOf, typeable, typedValues } from "./fill";

const value = (over: Partial<FillValue>): FillValue => ({
  id: "body:1",
  place: "{{1}} in the body",
  field: "Contact name",
  value: "Ana",
  typed: false,
  file: false,
  ...over,
});

describe("typed values", () => {
  it("keeps what was typed, trimmed, and leaves out empty boxes", () => {
    expect(typedValues({ "body:1": "  Ana ", "body:2": "", "body:3": "   " })).toEqual({ "body:1": "Ana" });
  });
  it("offers only text variables to type", () => {
    const fill: TemplateFill = {
      template_id: 1,
      name: "t",
      language: "en",
      body: "",
      missing: [],
      values: [value({ id: "header:DOCUMENT", file: true }), value({})],
    };
    expect(typeable(fill).map((v) => v.id)).toEqual(["body:1"]);
    expect(typeable(null)).toEqual([]);
  });
  it("hints the record's value, or names what would fill it", () => {
    expect(hintOf(value({}))).toBe("Ana");
    expect(hintOf(value({ value: null }))).toBe("Type a value (contact name)");
    expect(hintOf(value({ value: null, field: null }))).toBe("Type a value (not mapped)");
  });
});
