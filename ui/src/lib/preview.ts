// What a template looks like in WhatsApp: the parts of a message bubble, and its text split into
// segments with WhatsApp's formatting (*bold*, _italic_, ~strike~, ```mono```) and the variables
// replaced by their example values. Pure data, so the bubble is rendered without {@html}.

import { BUTTON_LABELS, exampleId, formFromDefinition, type TemplateForm } from "./templateform";

export interface PreviewButton {
  type: string;
  text: string;
}

export interface Preview {
  /** null without a header; `text` only for TEXT headers. */
  header: { format: string; text: string } | null;
  body: string;
  footer: string;
  buttons: PreviewButton[];
  /** Example values by variable id ("header-1", "body-customer_name"). */
  examples: Record<string, string>;
}

export function previewOfForm(form: TemplateForm): Preview {
  return {
    header:
      form.headerFormat === "NONE"
        ? null
        : { format: form.headerFormat, text: form.headerFormat === "TEXT" ? form.headerText : "" },
    body: form.body,
    footer: form.footer,
    buttons: form.buttons.map((b) => ({
      type: b.type === "OTHER" ? String(b.raw?.["type"] ?? "OTHER") : b.type,
      text: b.type === "COPY_CODE" ? "Copy code" : b.text || (b.type === "OTHER" ? String(b.raw?.["type"] ?? "") : ""),
    })),
    examples: { ...form.examples },
  };
}

/** The preview of a template as Meta has it (TemplateView.definition). */
export function previewOfDefinition(definition: unknown): Preview {
  return previewOfForm(formFromDefinition(definition));
}

/** The label a button shows, or its type's name while it has none. */
export function buttonCaption(b: PreviewButton): string {
  if (b.text.trim() !== "") return b.text;
  return (BUTTON_LABELS as Record<string, string>)[b.type] ?? b.type;
}

export interface Segment {
  text: string;
  /** The variable's key, when the segment stands for a variable. */
  variable?: string;
  /** A variable without an example value: shown as {{key}}. */
  missing?: boolean;
  bold?: boolean;
  italic?: boolean;
  strike?: boolean;
  mono?: boolean;
}

type Unit = { kind: "char"; c: string } | { kind: "var"; key: string } | { kind: "fence" };
type Style = "bold" | "italic" | "strike" | "mono";

const MARKERS: Readonly<Record<string, Style>> = { "*": "bold", _: "italic", "~": "strike" };

function units(text: string): Unit[] {
  const out: Unit[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("{{", i)) {
      const end = text.indexOf("}}", i + 2);
      const key = end >= 0 ? text.slice(i + 2, end).trim() : "";
      if (end >= 0 && key !== "") {
        out.push({ kind: "var", key });
        i = end + 2;
        continue;
      }
    }
    if (text.startsWith("```", i)) {
      out.push({ kind: "fence" });
      i += 3;
      continue;
    }
    const c = String.fromCodePoint(text.codePointAt(i) ?? 0);
    out.push({ kind: "char", c });
    i += c.length;
  }
  return out;
}

const isMarker = (u: Unit | undefined, m: string) => u?.kind === "char" && u.c === m;
const isSpace = (u: Unit | undefined) => u?.kind === "char" && /\s/.test(u.c);
/** A letter or digit: markers inside words (snake_case_name) are not formatting. */
const isWordChar = (u: Unit | undefined) => u?.kind === "char" && /[\p{L}\p{N}]/u.test(u.c);

/**
 * Pairs of [open, close] unit positions of one marker, as WhatsApp pairs them: within a line, not
 * inside a word, the content neither starting nor ending with a space.
 */
function pairs(list: readonly Unit[], marker: string): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (i < list.length) {
    if (
      isMarker(list[i], marker) &&
      !isWordChar(list[i - 1]) &&
      list[i + 1] !== undefined &&
      !isSpace(list[i + 1]) &&
      !isMarker(list[i + 1], marker)
    ) {
      let j = i + 1;
      while (j < list.length && !(list[j]?.kind === "char" && (list[j] as { c: string }).c === "\n")) {
        if (isMarker(list[j], marker) && !isSpace(list[j - 1]) && !isWordChar(list[j + 1])) break;
        j += 1;
      }
      if (j < list.length && isMarker(list[j], marker)) {
        out.push([i, j]);
        i = j + 1;
        continue;
      }
    }
    i += 1;
  }
  return out;
}

/**
 * `text` as styled segments; `value(key)` gives a variable's example (empty or undefined: the
 * variable is shown as `{{key}}`, marked missing).
 */
export function formatSegments(text: string, value: (key: string) => string | undefined): Segment[] {
  const list = units(text);
  const hidden = new Set<number>();
  const styles: Set<Style>[] = list.map(() => new Set());
  const apply = (open: number, close: number, style: Style) => {
    hidden.add(open);
    hidden.add(close);
    for (let k = open + 1; k < close; k++) styles[k]?.add(style);
  };
  // ```mono``` first: its content is not formatted further.
  const fences = list.flatMap((u, i) => (u.kind === "fence" ? [i] : []));
  for (let f = 0; f + 1 < fences.length; f += 2) apply(fences[f] as number, fences[f + 1] as number, "mono");
  for (const [marker, style] of Object.entries(MARKERS)) {
    for (const [open, close] of pairs(list, marker)) {
      if (styles[open]?.has("mono") || styles[close]?.has("mono")) continue;
      apply(open, close, style);
    }
  }
  const out: Segment[] = [];
  list.forEach((u, i) => {
    if (hidden.has(i)) return;
    const s = styles[i] ?? new Set<Style>();
    const style: Omit<Segment, "text"> = {};
    if (s.has("bold")) style.bold = true;
    if (s.has("italic")) style.italic = true;
    if (s.has("strike")) style.strike = true;
    if (s.has("mono")) style.mono = true;
    if (u.kind === "var") {
      const v = value(u.key);
      out.push(
        v === undefined || v === ""
          ? { ...style, text: `{{${u.key}}}`, variable: u.key, missing: true }
          : { ...style, text: v, variable: u.key },
      );
      return;
    }
    const chunk = u.kind === "fence" ? "```" : u.c;
    const last = out[out.length - 1];
    if (last && last.variable === undefined && sameStyle(last, style)) last.text += chunk;
    else out.push({ ...style, text: chunk });
  });
  return out;
}

function sameStyle(a: Omit<Segment, "text">, b: Omit<Segment, "text">): boolean {
  return !!a.bold === !!b.bold && !!a.italic === !!b.italic && !!a.strike === !!b.strike && !!a.mono === !!b.mono;
}

/** The segments of a header or body of `preview`, with its examples filled in. */
export function previewSegments(preview: Preview, place: "header" | "body"): Segment[] {
  const text = place === "header" ? (preview.header?.text ?? "") : preview.body;
  return formatSegments(text, (key) => preview.examples[exampleId(place, key)]);
}

/** The body text of a definition, shortened for a list row ("" when it has none). */
export function bodySnippet(definition: unknown, max = 140): string {
  const body = previewOfDefinition(definition).body.replace(/\s+/g, " ").trim();
  return [...body].length > max ? `${[...body].slice(0, max - 1).join("")}…` : body;
}
