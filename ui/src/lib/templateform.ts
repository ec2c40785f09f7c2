// The template form: what it holds, the Meta definition it builds (with Meta's `example`
// objects), the reverse for editing, and Meta's rules checked client-side for instant feedback.
// The rules and the problem field names mirror the core's (src/meta/templates.rs), which checks
// again before anything reaches Meta.

import type { Category } from "./bindings/Category";
import type { FieldProblem } from "./bindings/FieldProblem";
import type { ParameterFormat } from "./bindings/ParameterFormat";

/** Meta's limits, as the core has them (`meta::templates::rules`). */
export const LIMITS = {
  NAME: 512,
  HEADER_TEXT: 60,
  BODY_TEXT: 1024,
  FOOTER_TEXT: 60,
  BUTTONS: 10,
  URL_BUTTONS: 2,
  PHONE_BUTTONS: 1,
  COPY_CODE_BUTTONS: 1,
  BUTTON_TEXT: 25,
  URL: 2000,
  COPY_CODE: 15,
} as const;

export const CATEGORIES: readonly Category[] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
export const PARAMETER_FORMATS: readonly ParameterFormat[] = ["POSITIONAL", "NAMED"];

/** "NONE" (no header) or a header format of Meta's. */
export type HeaderFormat = "NONE" | "TEXT" | "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION";
export const HEADER_FORMATS: readonly HeaderFormat[] = ["NONE", "TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"];

/** Header formats whose example is a file handle from Meta's Resumable Upload API. */
const MEDIA_FORMATS = ["IMAGE", "VIDEO", "GIF", "DOCUMENT"];

export function isMediaHeader(format: string): boolean {
  return MEDIA_FORMATS.includes(format);
}

/** The button types the form edits; any other type Meta has (FLOW, OTP…) is kept as it is. */
export type ButtonType = "QUICK_REPLY" | "URL" | "PHONE_NUMBER" | "COPY_CODE";
export const BUTTON_TYPES: readonly ButtonType[] = ["QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE"];

export interface ButtonForm {
  type: ButtonType | "OTHER";
  /** The label (not used by COPY_CODE, whose label Meta fixes). */
  text: string;
  /** URL buttons: the address, with at most one {{1}} at its end. */
  url: string;
  /** PHONE_NUMBER buttons: international format, digits only. */
  phone: string;
  /** URL buttons: the example of the URL's variable. COPY_CODE buttons: the example code. */
  example: string;
  /** OTHER: the button exactly as Meta has it. */
  raw?: Record<string, unknown>;
}

export interface TemplateForm {
  name: string;
  language: string;
  category: Category;
  format: ParameterFormat;
  /** HEADER_FORMATS, or a format Meta has that the form does not offer (GIF, PRODUCT) when editing. */
  headerFormat: string;
  headerText: string;
  /** A media header's example: a Resumable-Upload handle. */
  headerHandle: string;
  body: string;
  footer: string;
  buttons: ButtonForm[];
  /** Example values of the header's and the body's variables, by `exampleId` ("body-1"). */
  examples: Record<string, string>;
  /** Keys of the BODY and FOOTER components the form does not edit, kept as Meta had them. */
  bodyExtra: Record<string, unknown>;
  footerExtra: Record<string, unknown>;
}

export function emptyForm(): TemplateForm {
  return {
    name: "",
    language: "en",
    category: "UTILITY",
    format: "POSITIONAL",
    headerFormat: "NONE",
    headerText: "",
    headerHandle: "",
    body: "",
    footer: "",
    buttons: [],
    examples: {},
    bodyExtra: {},
    footerExtra: {},
  };
}

export function newButton(type: ButtonType): ButtonForm {
  return { type, text: "", url: type === "URL" ? "https://" : "", phone: "", example: "" };
}

export const BUTTON_LABELS: Readonly<Record<ButtonType | "OTHER", string>> = {
  QUICK_REPLY: "Quick reply",
  URL: "Visit website",
  PHONE_NUMBER: "Call phone number",
  COPY_CODE: "Copy code",
  OTHER: "Other button",
};

/** How many more buttons of `type` Meta allows next to `buttons`. */
export function canAddButton(buttons: readonly ButtonForm[], type: ButtonType): boolean {
  if (buttons.length >= LIMITS.BUTTONS) return false;
  const n = buttons.filter((b) => b.type === type).length;
  if (type === "URL") return n < LIMITS.URL_BUTTONS;
  if (type === "PHONE_NUMBER") return n < LIMITS.PHONE_BUTTONS;
  if (type === "COPY_CODE") return n < LIMITS.COPY_CODE_BUTTONS;
  return true;
}

// ---- variables -----------------------------------------------------------------------------

/** `{{…}}` placeholders in `text`, in order of first appearance, without repeats (as the core). */
export function placeholders(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const start = rest.indexOf("{{");
    if (start < 0) break;
    const after = rest.slice(start + 2);
    const end = after.indexOf("}}");
    if (end < 0) break;
    const key = after.slice(0, end).trim();
    if (key !== "" && !out.includes(key)) out.push(key);
    rest = after.slice(end + 2);
  }
  return out;
}

/** A variable the form has found, with where its example goes. */
export interface FormVariable {
  place: "header" | "body" | "button";
  /** The button's position, for `place: "button"`. */
  index?: number;
  key: string;
  /** "header-1", "body-customer_name", "button-2-1": the id in test ids and the examples map. */
  id: string;
  /** The problem field its example belongs to: "header.example", "body.example", "buttons[2].example". */
  field: string;
}

export function exampleId(place: "header" | "body", key: string): string {
  return `${place}-${key}`;
}

/** Every variable of the form: the header's (TEXT headers only), the body's, the URL buttons'. */
export function formVariables(form: TemplateForm): FormVariable[] {
  const vars: FormVariable[] = [];
  if (form.headerFormat === "TEXT") {
    for (const key of placeholders(form.headerText)) {
      vars.push({ place: "header", key, id: exampleId("header", key), field: "header.example" });
    }
  }
  for (const key of placeholders(form.body)) {
    vars.push({ place: "body", key, id: exampleId("body", key), field: "body.example" });
  }
  form.buttons.forEach((b, index) => {
    if (b.type !== "URL") return;
    for (const key of placeholders(b.url)) {
      vars.push({ place: "button", index, key, id: `button-${index}-${key}`, field: `buttons[${index}].example` });
    }
  });
  return vars;
}

/** What "Add variable" inserts: the next `{{n}}`, or a new `{{variable_n}}` name to type over. */
export function nextVariable(text: string, format: ParameterFormat): { token: string; name: string } {
  const keys = placeholders(text);
  if (format === "POSITIONAL") {
    const highest = keys.reduce((max, k) => (/^\d+$/.test(k) ? Math.max(max, Number(k)) : max), 0);
    const name = String(highest + 1);
    return { token: `{{${name}}}`, name };
  }
  let n = 1;
  while (keys.includes(`variable_${n}`)) n += 1;
  const name = `variable_${n}`;
  return { token: `{{${name}}}`, name };
}

/**
 * `text` with the next variable inserted at the selection; returns the new text and the range to
 * select afterwards (the new name, so that a named variable can be typed over).
 */
export function insertVariable(
  text: string,
  selectionStart: number,
  selectionEnd: number,
  format: ParameterFormat,
): { text: string; select: [number, number] } {
  const start = Math.max(0, Math.min(selectionStart, text.length));
  const end = Math.max(start, Math.min(selectionEnd, text.length));
  const { token, name } = nextVariable(text, format);
  const next = text.slice(0, start) + token + text.slice(end);
  const nameStart = start + 2;
  return format === "NAMED"
    ? { text: next, select: [nameStart, nameStart + name.length] }
    : { text: next, select: [start + token.length, start + token.length] };
}

// ---- building Meta's definition ------------------------------------------------------------

type Json = Record<string, unknown>;

function exampleOf(form: TemplateForm, place: "header" | "body", key: string): string {
  return form.examples[exampleId(place, key)] ?? "";
}

/** The `example` object of a TEXT header or a body, in Meta's shape for the parameter format. */
export function textExample(form: TemplateForm, place: "header" | "body", keys: readonly string[]): Json | undefined {
  if (keys.length === 0) return undefined;
  if (form.format === "NAMED") {
    const params = keys.map((k) => ({ param_name: k, example: exampleOf(form, place, k) }));
    return place === "header" ? { header_text_named_params: params } : { body_text_named_params: params };
  }
  const values = keys.map((k) => exampleOf(form, place, k));
  return place === "header" ? { header_text: values } : { body_text: [values] };
}

function buttonDefinition(b: ButtonForm): Json {
  switch (b.type) {
    case "QUICK_REPLY":
      return { type: "QUICK_REPLY", text: b.text };
    case "URL": {
      const out: Json = { type: "URL", text: b.text, url: b.url.trim() };
      if (placeholders(b.url).length > 0) out["example"] = [b.example];
      return out;
    }
    case "PHONE_NUMBER":
      return { type: "PHONE_NUMBER", text: b.text, phone_number: b.phone.trim() };
    case "COPY_CODE":
      return { type: "COPY_CODE", example: b.example };
    case "OTHER":
      return { ...(b.raw ?? {}) };
  }
}

/** The template exactly as Meta takes it: what `TemplateInput.definition` carries. */
export function buildDefinition(form: TemplateForm): Json {
  const components: Json[] = [];
  if (form.headerFormat === "TEXT") {
    const header: Json = { type: "HEADER", format: "TEXT", text: form.headerText };
    const example = textExample(form, "header", placeholders(form.headerText));
    if (example) header["example"] = example;
    components.push(header);
  } else if (isMediaHeader(form.headerFormat)) {
    const header: Json = { type: "HEADER", format: form.headerFormat };
    if (form.headerHandle.trim() !== "") header["example"] = { header_handle: [form.headerHandle.trim()] };
    components.push(header);
  } else if (form.headerFormat !== "NONE") {
    components.push({ type: "HEADER", format: form.headerFormat });
  }
  const body: Json = { ...form.bodyExtra, type: "BODY", text: form.body };
  const bodyExample = textExample(form, "body", placeholders(form.body));
  if (bodyExample) body["example"] = bodyExample;
  else delete body["example"];
  components.push(body);
  if (form.footer !== "" || Object.keys(form.footerExtra).length > 0) {
    const footer: Json = { ...form.footerExtra, type: "FOOTER" };
    if (form.footer !== "") footer["text"] = form.footer;
    components.push(footer);
  }
  if (form.buttons.length > 0) {
    components.push({ type: "BUTTONS", buttons: form.buttons.map(buttonDefinition) });
  }
  return {
    name: form.name.trim(),
    language: form.language.trim(),
    category: form.category,
    parameter_format: form.format,
    components,
  };
}

// ---- reading a definition back, for editing ------------------------------------------------

function asObject(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function asString(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function without(obj: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/** Examples of a header or body `example` object, by variable key. */
function readExamples(example: unknown, place: "header" | "body", keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const e = asObject(example);
  if (!e) return out;
  const named = asArray(e[place === "header" ? "header_text_named_params" : "body_text_named_params"]);
  for (const item of named) {
    const p = asObject(item);
    if (p && typeof p["param_name"] === "string") out[exampleId(place, p["param_name"])] = asString(p["example"]);
  }
  const positional = asArray(e[place === "header" ? "header_text" : "body_text"]);
  const values = place === "body" ? asArray(positional[0]) : positional;
  values.forEach((v, i) => {
    const key = keys[i];
    if (key !== undefined && typeof v === "string") out[exampleId(place, key)] = v;
  });
  return out;
}

function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}

/** The form for editing a template, from its definition as Meta has it. */
export function formFromDefinition(definition: unknown): TemplateForm {
  const form = emptyForm();
  const def = asObject(definition);
  if (!def) return form;
  form.name = asString(def["name"]);
  form.language = asString(def["language"]);
  const category = asString(def["category"]);
  if (isCategory(category)) form.category = category;
  form.format = def["parameter_format"] === "NAMED" ? "NAMED" : "POSITIONAL";
  for (const item of asArray(def["components"])) {
    const c = asObject(item);
    if (!c) continue;
    switch (c["type"]) {
      case "HEADER": {
        form.headerFormat = asString(c["format"]) || "NONE";
        form.headerText = asString(c["text"]);
        if (form.headerFormat === "TEXT") {
          Object.assign(form.examples, readExamples(c["example"], "header", placeholders(form.headerText)));
        }
        const handle = asArray(asObject(c["example"])?.["header_handle"])[0];
        form.headerHandle = asString(handle);
        break;
      }
      case "BODY":
        form.body = asString(c["text"]);
        Object.assign(form.examples, readExamples(c["example"], "body", placeholders(form.body)));
        form.bodyExtra = without(c, ["type", "text", "example"]);
        break;
      case "FOOTER":
        form.footer = asString(c["text"]);
        form.footerExtra = without(c, ["type", "text"]);
        break;
      case "BUTTONS":
        form.buttons = asArray(c["buttons"]).flatMap((raw) => {
          const b = asObject(raw);
          if (!b) return [];
          const type = asString(b["type"]);
          const button: ButtonForm = {
            type: (BUTTON_TYPES as readonly string[]).includes(type) ? (type as ButtonType) : "OTHER",
            text: asString(b["text"]),
            url: asString(b["url"]),
            phone: asString(b["phone_number"]),
            example: type === "URL" ? asString(asArray(b["example"])[0]) : asString(b["example"]),
          };
          if (button.type === "OTHER") button.raw = { ...b };
          return [button];
        });
        break;
    }
  }
  return form;
}

// ---- Meta's rules --------------------------------------------------------------------------

const chars = (s: string) => [...s].length;

const isNamedKey = (k: string) => /^[a-z][a-z0-9_]*$/.test(k);

function placeholderProblem(field: string, keys: readonly string[], format: ParameterFormat): FieldProblem | null {
  if (format === "POSITIONAL") {
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== String(i + 1)) {
        return {
          field,
          message: `positional variables must be {{1}}, {{2}}… in order; found {{${keys[i]}}} where {{${i + 1}}} was expected`,
        };
      }
    }
    return null;
  }
  const bad = keys.find((k) => !isNamedKey(k));
  return bad === undefined
    ? null
    : {
        field,
        message: `named variables are lowercase letters, digits and underscores, starting with a letter; {{${bad}}} is not`,
      };
}

/** Every rule of Meta's the form breaks, by field, in the order the form shows its fields. */
export function checkTemplate(form: TemplateForm): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (field: string, message: string) => out.push({ field, message });
  const name = form.name.trim();
  if (!/^[a-z0-9_]+$/.test(name) || name.length > LIMITS.NAME) {
    add("name", "use lowercase letters, digits and underscores only (up to 512), e.g. invoice_ready");
  }
  if (!/^[A-Za-z_]{2,6}$/.test(form.language.trim())) add("language", "a language code such as en, en_US or pt_BR");
  if (!isCategory(form.category)) add("category", "MARKETING, UTILITY or AUTHENTICATION");

  if (form.headerFormat === "TEXT") {
    const text = form.headerText;
    if (text.trim() === "") add("header.text", "a text header needs its text");
    else if (chars(text) > LIMITS.HEADER_TEXT) add("header.text", `at most ${LIMITS.HEADER_TEXT} characters`);
    const keys = placeholders(text);
    if (keys.length > 1) add("header.text", "a header may hold one variable at most");
    const p = placeholderProblem("header.text", keys, form.format);
    if (p) out.push(p);
    if (keys.some((k) => exampleOf(form, "header", k).trim() === "")) {
      add("header.example", "give an example value for the header's variable");
    }
  } else if (isMediaHeader(form.headerFormat) && form.headerHandle.trim() === "") {
    const article = /^[AEIOU]/.test(form.headerFormat) ? "an" : "a";
    add("header.example", `${article} ${form.headerFormat} header needs an example file (header_handle)`);
  }

  const body = form.body;
  const bodyChars = chars(body);
  if (body.trim() === "") add("body.text", "the body text is required");
  else if (bodyChars > LIMITS.BODY_TEXT) add("body.text", `at most ${LIMITS.BODY_TEXT} characters (it has ${bodyChars})`);
  const keys = placeholders(body);
  const p = placeholderProblem("body.text", keys, form.format);
  if (p) out.push(p);
  // Punctuation does not count as words: "…on {{1}}." still ends with a variable (as Meta judges).
  const trimmed = body.replace(/^[\s.,;:!?¡¿()"'\-–—…]+|[\s.,;:!?¡¿()"'\-–—…]+$/gu, "");
  if (keys.length > 0 && (trimmed.startsWith("{{") || trimmed.endsWith("}}"))) {
    add("body.text", "a variable may not stand at the very start or end of the text");
  }
  if (keys.some((k) => exampleOf(form, "body", k).trim() === "")) {
    add("body.example", `give one example value for each of the body's ${keys.length} variable(s)`);
  }

  if (chars(form.footer) > LIMITS.FOOTER_TEXT) add("footer.text", `at most ${LIMITS.FOOTER_TEXT} characters`);

  if (form.buttons.length > 0) checkButtons(form.buttons, add);
  return out;
}

function checkButtons(buttons: readonly ButtonForm[], add: (field: string, message: string) => void) {
  if (buttons.length > LIMITS.BUTTONS) add("buttons", `1 to ${LIMITS.BUTTONS} buttons`);
  const count = (t: ButtonForm["type"]) => buttons.filter((b) => b.type === t).length;
  if (count("URL") > LIMITS.URL_BUTTONS) add("buttons", `at most ${LIMITS.URL_BUTTONS} URL buttons`);
  if (count("PHONE_NUMBER") > LIMITS.PHONE_BUTTONS) add("buttons", "at most one phone-number button");
  if (count("COPY_CODE") > LIMITS.COPY_CODE_BUTTONS) add("buttons", "at most one copy-code button");
  buttons.forEach((b, i) => {
    const f = (s: string) => `buttons[${i}].${s}`;
    if (b.type === "OTHER") return;
    if (b.type !== "COPY_CODE") {
      if (b.text.trim() === "") add(f("text"), "a button needs a label");
      else if (chars(b.text) > LIMITS.BUTTON_TEXT) add(f("text"), `at most ${LIMITS.BUTTON_TEXT} characters`);
    }
    if (b.type === "URL") {
      const url = b.url.trim();
      if (!/^https?:\/\//.test(url) || url.length > LIMITS.URL || /^https?:\/\/$/.test(url)) {
        add(f("url"), "a web address starting with https:// (up to 2000 characters)");
      }
      const keys = placeholders(url);
      if (keys.length > 1 || (keys.length === 1 && !url.endsWith(`{{${keys[0]}}}`))) {
        add(f("url"), "a URL may have one variable, at its end");
      }
      if (keys.length > 0 && b.example.trim() === "") add(f("example"), "give an example for the URL's variable");
    } else if (b.type === "PHONE_NUMBER") {
      const digits = b.phone.trim().replace(/^\++/, "");
      if (!/^\d+$/.test(digits)) add(f("phone_number"), "a phone number in international format, digits only");
    } else if (b.type === "COPY_CODE") {
      if (b.example.trim() === "") add(f("example"), "give the example code the button copies");
      else if (chars(b.example) > LIMITS.COPY_CODE) add(f("example"), `at most ${LIMITS.COPY_CODE} characters`);
    }
  });
}

// ---- problems next to their fields ---------------------------------------------------------

/** Problems grouped by field, in first-seen order, with repeated messages dropped. */
export function groupProblems(problems: readonly FieldProblem[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of problems) {
    const list = out.get(p.field) ?? [];
    if (!list.includes(p.message)) list.push(p.message);
    out.set(p.field, list);
  }
  return out;
}

const BUTTON_FIELD = /^buttons\[(\d+)\]\.(text|url|phone_number|example|type)$/;

/**
 * Whether the form shows `field`'s problems next to an input in its current state; the others
 * (e.g. "template", from a refusal Meta did not pin on a field) only appear in the summary.
 */
export function hasSlot(form: TemplateForm, field: string): boolean {
  switch (field) {
    case "name":
    case "language":
    case "category":
    case "header":
    case "header.format":
    case "body":
    case "body.text":
    case "body.example":
    case "footer":
    case "footer.text":
    case "buttons":
      return true;
    case "header.text":
      return form.headerFormat === "TEXT";
    case "header.example":
      return form.headerFormat === "TEXT" || isMediaHeader(form.headerFormat);
  }
  const m = BUTTON_FIELD.exec(field);
  if (!m) return false;
  const button = form.buttons[Number(m[1])];
  if (!button || button.type === "OTHER") return false;
  switch (m[2]) {
    case "text":
      return button.type !== "COPY_CODE";
    case "url":
      return button.type === "URL";
    case "phone_number":
      return button.type === "PHONE_NUMBER";
    case "example":
      return button.type === "COPY_CODE" || (button.type === "URL" && placeholders(button.url).length > 0);
    default:
      return true;
  }
}

const FIELD_LABELS: Readonly<Record<string, string>> = {
  name: "Name",
  language: "Language",
  category: "Category",
  template: "Template",
  header: "Header",
  "header.format": "Header format",
  "header.text": "Header text",
  "header.example": "Header example",
  body: "Body",
  "body.text": "Body text",
  "body.example": "Body examples",
  footer: "Footer",
  "footer.text": "Footer text",
  buttons: "Buttons",
};

const BUTTON_PART_LABELS: Readonly<Record<string, string>> = {
  text: "label",
  url: "URL",
  phone_number: "phone number",
  example: "example",
  type: "type",
};

/** A problem field as a person reads it: "buttons[1].text" → "Button 2 label". */
export function fieldLabel(field: string): string {
  const known = FIELD_LABELS[field];
  if (known) return known;
  const m = BUTTON_FIELD.exec(field);
  if (m) return `Button ${Number(m[1]) + 1} ${BUTTON_PART_LABELS[m[2] ?? ""] ?? m[2]}`;
  return field;
}

/**
 * Which problem fields an edit of `changed` makes stale: editing the body text invalidates the
 * core's "body.text" and "body.example" problems, editing button 2 its "buttons[2].…" ones.
 */
export function clearProblems(problems: readonly FieldProblem[], changed: string): FieldProblem[] {
  const stale = (field: string) =>
    field === changed ||
    field.startsWith(`${changed}.`) ||
    field.startsWith(`${changed}[`) ||
    (changed.includes(".") && field === changed.slice(0, changed.indexOf("."))) ||
    field === "template";
  return problems.filter((p) => !stale(p.field));
}
