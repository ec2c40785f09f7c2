// A template for one send: the values the sender typed, and whether it can go. The core fills the
// template (ipc.templateFill / documentSendPreview) and names what is missing; this only shapes
// what the sender typed.
import type { TemplateFill } from "./bindings/TemplateFill";

/** The typed values worth sending: trimmed, empty ones left out (the mapping fills those). */
export function typedValues(typed: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, value] of Object.entries(typed)) {
    const v = value.trim();
    if (v !== "") out[id] = v;
  }
  return out;
}

/** The values a sender may type: text variables (a header's file is the app's to fill). */
export function typeable(fill: TemplateFill | null) {
  return fill ? fill.values.filter((v) => !v.file) : [];
}

/** A value's hint in its box: the record's value it would otherwise get, or why it has none. */
export function hintOf(v: TemplateFill["values"][number]): string {
  if (!v.typed && v.value !== null) return v.value;
  if (v.field === null) return "Type a value (not mapped)";
  return `Type a value (${v.field.toLowerCase()})`;
}
