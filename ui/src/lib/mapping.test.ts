import { describe, expect, it } from "vitest";
import type { Binding } from "./bindings/Binding";
import type { MergeField } from "./bindings/MergeField";
import type { Variable } from "./bindings/Variable";
import {
  bindingsToSave,
  describeVariable,
  exampleFor,
  fieldsFor,
  mappingComplete,
  reconcile,
  setSource,
  sourceChoice,
  sourceFromChoice,
  unmappedVariables,
  variableId,
} from "./mapping";

const fields: MergeField[] = [
  { key: "contact.name", label: "Contact name", file: false },
  { key: "document.number", label: "Document number", file: false },
  { key: "document.pdf", label: "Document PDF", file: true },
];

const doc: Variable = { place: { part: "header" }, kind: "document", key: "document" };
const body1: Variable = { place: { part: "body" }, kind: "text", key: "1" };
const named: Variable = { place: { part: "body" }, kind: "text", key: "customer_name" };
const button: Variable = { place: { part: "button", index: 1 }, kind: "text", key: "1" };
const location: Variable = { place: { part: "header" }, kind: "location", key: "location" };
const vars = [doc, body1, named, button];

describe("variables", () => {
  it("have ids for test ids and readable names", () => {
    expect(vars.map(variableId)).toEqual(["header-document", "body-1", "body-customer_name", "button-1-1"]);
    expect(vars.map(describeVariable)).toEqual(["Header document", "Body {{1}}", "Body {{customer_name}}", "Button 2 URL {{1}}"]);
  });

  it("offer file fields to media headers and text fields to text variables", () => {
    expect(fieldsFor(doc, fields).map((f) => f.key)).toEqual(["document.pdf"]);
    expect(fieldsFor(body1, fields).map((f) => f.key)).toEqual(["contact.name", "document.number"]);
    expect(fieldsFor(location, fields)).toEqual([]);
  });
});

describe("completeness", () => {
  const full: Binding[] = [
    { variable: doc, source: { kind: "field", key: "document.pdf" } },
    { variable: body1, source: { kind: "field", key: "contact.name" } },
    { variable: named, source: { kind: "text", value: "friend" } },
    { variable: button, source: { kind: "text", value: "4512" } },
  ];

  it("is complete when every variable is filled", () => {
    expect(mappingComplete(vars, full, fields)).toBe(true);
    expect(mappingComplete([], [], fields)).toBe(true);
  });

  it("names what is not mapped: missing, empty text, wrong kind of field, unknown field", () => {
    const broken: Binding[] = [
      { variable: doc, source: { kind: "field", key: "contact.name" } },
      { variable: body1, source: { kind: "text", value: "  " } },
      { variable: named, source: { kind: "field", key: "no.such" } },
    ];
    expect(unmappedVariables(vars, broken, fields)).toEqual(vars);
    expect(mappingComplete(vars, broken, fields)).toBe(false);
  });

  it("does not let fixed text fill a media header", () => {
    expect(mappingComplete([doc], [{ variable: doc, source: { kind: "text", value: "x.pdf" } }], fields)).toBe(false);
  });

  it("accepts any field key while the merge fields are not known", () => {
    expect(mappingComplete([body1], [{ variable: body1, source: { kind: "field", key: "x" } }])).toBe(true);
  });

  it("sends only what fills a variable of the template, in its order", () => {
    const stray: Binding = { variable: { place: { part: "body" }, kind: "text", key: "9" }, source: { kind: "text", value: "x" } };
    const value: Binding[] = [
      stray,
      { variable: button, source: { kind: "text", value: "4512" } },
      { variable: body1, source: { kind: "text", value: "" } },
      { variable: doc, source: { kind: "field", key: "document.pdf" } },
    ];
    expect(reconcile(vars, value).map((b) => variableId(b.variable))).toEqual(["header-document", "body-1", "button-1-1"]);
    expect(bindingsToSave(vars, value, fields).map((b) => variableId(b.variable))).toEqual(["header-document", "button-1-1"]);
  });
});

describe("editing a mapping", () => {
  it("sets and clears a variable's source", () => {
    let value = setSource(vars, [], body1, { kind: "field", key: "contact.name" });
    value = setSource(vars, value, doc, { kind: "field", key: "document.pdf" });
    expect(value.map((b) => variableId(b.variable))).toEqual(["header-document", "body-1"]);
    value = setSource(vars, value, body1, null);
    expect(value.map((b) => variableId(b.variable))).toEqual(["header-document"]);
  });

  it("turns select values into sources and back, keeping typed text", () => {
    expect(sourceChoice(undefined)).toBe("");
    expect(sourceChoice({ kind: "field", key: "lead.name" })).toBe("field:lead.name");
    expect(sourceChoice({ kind: "text", value: "x" })).toBe("text");
    expect(sourceFromChoice("field:lead.name", undefined)).toEqual({ kind: "field", key: "lead.name" });
    expect(sourceFromChoice("text", { kind: "text", value: "kept" })).toEqual({ kind: "text", value: "kept" });
    expect(sourceFromChoice("text", { kind: "field", key: "a" })).toEqual({ kind: "text", value: "" });
    expect(sourceFromChoice("", { kind: "text", value: "x" })).toBeNull();
  });

  it("shows the example Meta was given for a variable", () => {
    const definition = {
      parameter_format: "NAMED",
      components: [
        { type: "BODY", text: "Hi {{customer_name}}", example: { body_text_named_params: [{ param_name: "customer_name", example: "Jessica" }] } },
        { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Hi" }, { type: "URL", text: "Go", url: "https://x/{{1}}", example: ["4512"] }] },
      ],
    };
    expect(exampleFor(definition, named)).toBe("Jessica");
    expect(exampleFor(definition, button)).toBe("4512");
    expect(exampleFor(definition, doc)).toBe("");
  });
});
