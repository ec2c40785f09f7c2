// Parameter mapping: which CRM merge field (or fixed text) fills each variable of a template at
// send time. Mirrors the core's check (every variable mapped, only the template's own, known
// merge fields), a little stricter: an empty fixed text does not count as mapped.

import type { Binding } from "./bindings/Binding";
import type { MergeField } from "./bindings/MergeField";
import type { Source } from "./bindings/Source";
import type { Variable } from "./bindings/Variable";
import type { VariablePlace } from "./bindings/VariablePlace";
import { exampleId, formFromDefinition } from "./templateform";

/** "header", "body", "button-1": the place part of test ids. */
export function placeId(place: VariablePlace): string {
  return place.part === "button" ? `button-${place.index}` : place.part;
}

/** "body-1", "header-document", "button-0-1": unique within a template. */
export function variableId(v: Variable): string {
  return `${placeId(v.place)}-${v.key}`;
}

export function samePlace(a: VariablePlace, b: VariablePlace): boolean {
  if (a.part === "button" && b.part === "button") return a.index === b.index;
  return a.part === b.part;
}

export function sameVariable(a: Variable, b: Variable): boolean {
  return a.key === b.key && a.kind === b.kind && samePlace(a.place, b.place);
}

export function isMediaVariable(v: Variable): boolean {
  return v.kind === "image" || v.kind === "video" || v.kind === "document";
}

/** "Header {{1}}", "Header document", "Body {{customer_name}}", "Button 2 URL {{1}}". */
export function describeVariable(v: Variable): string {
  if (v.kind !== "text") return `Header ${v.kind}`;
  const token = `{{${v.key}}}`;
  switch (v.place.part) {
    case "header":
      return `Header ${token}`;
    case "body":
      return `Body ${token}`;
    case "button":
      return `Button ${v.place.index + 1} URL ${token}`;
  }
}

/** The merge fields that can fill `v`: file fields for media headers, text fields for text. */
export function fieldsFor(v: Variable, mergeFields: readonly MergeField[]): MergeField[] {
  if (isMediaVariable(v)) return mergeFields.filter((f) => f.file);
  if (v.kind === "text") return mergeFields.filter((f) => !f.file);
  return [];
}

/** Whether `v` can be filled with the same fixed text for everybody (not media headers). */
export function allowsFixedText(v: Variable): boolean {
  return !isMediaVariable(v);
}

export function bindingFor(bindings: readonly Binding[], v: Variable): Binding | undefined {
  return bindings.find((b) => sameVariable(b.variable, v));
}

/** Whether `source` fills `v`; with no merge-field list at hand any field key is accepted. */
export function isMapped(v: Variable, source: Source | undefined, mergeFields: readonly MergeField[]): boolean {
  if (!source) return false;
  if (source.kind === "text") return allowsFixedText(v) && source.value.trim() !== "";
  if (source.key === "") return false;
  return mergeFields.length === 0 || fieldsFor(v, mergeFields).some((f) => f.key === source.key);
}

export function unmappedVariables(
  variables: readonly Variable[],
  bindings: readonly Binding[],
  mergeFields: readonly MergeField[] = [],
): Variable[] {
  return variables.filter((v) => !isMapped(v, bindingFor(bindings, v)?.source, mergeFields));
}

/** Every variable is filled: with an approved status, the template can be sent. */
export function mappingComplete(
  variables: readonly Variable[],
  bindings: readonly Binding[],
  mergeFields: readonly MergeField[] = [],
): boolean {
  return unmappedVariables(variables, bindings, mergeFields).length === 0;
}

/** The bindings of `variables` only, in the template's order (the core refuses strays). */
export function reconcile(variables: readonly Variable[], bindings: readonly Binding[]): Binding[] {
  return variables.flatMap((v) => {
    const b = bindingFor(bindings, v);
    return b ? [{ variable: v, source: b.source }] : [];
  });
}

/** `bindings` with `v` filled from `source`, or unmapped when `source` is null. */
export function setSource(
  variables: readonly Variable[],
  bindings: readonly Binding[],
  v: Variable,
  source: Source | null,
): Binding[] {
  const rest = bindings.filter((b) => !sameVariable(b.variable, v));
  return reconcile(variables, source ? [...rest, { variable: v, source }] : rest);
}

/** What to send to set_template_mapping: only the bindings that fill their variable. */
export function bindingsToSave(
  variables: readonly Variable[],
  bindings: readonly Binding[],
  mergeFields: readonly MergeField[] = [],
): Binding[] {
  return reconcile(variables, bindings).filter((b) => isMapped(b.variable, b.source, mergeFields));
}

/** The <select> value of a source: "" (unmapped), "field:<key>" or "text". */
export function sourceChoice(source: Source | undefined): string {
  if (!source) return "";
  return source.kind === "text" ? "text" : `field:${source.key}`;
}

/** The source a <select> value stands for; fixed text keeps what was typed before. */
export function sourceFromChoice(choice: string, previous: Source | undefined): Source | null {
  if (choice === "text") return { kind: "text", value: previous?.kind === "text" ? previous.value : "" };
  if (choice.startsWith("field:")) return { kind: "field", key: choice.slice("field:".length) };
  return null;
}

/** The example value Meta was given for `v` (from the template's definition), if any. */
export function exampleFor(definition: unknown, v: Variable): string {
  if (isMediaVariable(v) || v.kind === "location") return "";
  const form = formFromDefinition(definition);
  if (v.place.part === "button") return form.buttons[v.place.index]?.example ?? "";
  return form.examples[exampleId(v.place.part, v.key)] ?? "";
}
