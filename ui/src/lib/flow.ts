// The bot flow editor's catalogue: each node kind's label, starting settings, branches (in the
// order of its output ports, as crates/flow's NodeKind::branches gives them) and how a node
// reads on the canvas. The canvas is Drawflow; a node's HTML is always made here, from its kind
// and settings, escaped: an imported file's HTML is never used.

import type { FlowNodeKind } from "./bindings/FlowNodeKind";

export type Kind = FlowNodeKind["kind"];
export type NodeData = Record<string, unknown>;

export interface KindInfo {
  kind: Kind;
  label: string;
  group: "Messages" | "Questions" | "Logic" | "Actions";
  blurb: string;
  make: () => NodeData;
}

const wait = () => ({ seconds: 86400, remind_before: 0, reminder: "" });

export const KINDS: readonly KindInfo[] = [
  { kind: "send_text", label: "Send text", group: "Messages", blurb: "A message, with {{variables}}", make: () => ({ text: "Hi {{first_name}}!" }) },
  { kind: "send_media", label: "Send media", group: "Messages", blurb: "An image, video, audio or document", make: () => ({ media: "image", source: "", caption: "" }) },
  { kind: "send_template", label: "Send template", group: "Messages", blurb: "An approved template (works outside the 24-hour window)", make: () => ({ template: "", language: "en", params: [] }) },
  { kind: "send_url", label: "Send link button", group: "Messages", blurb: "A message with a button that opens a web page", make: () => ({ text: "See our offers", display: "Open", url: "https://" }) },
  { kind: "ask_buttons", label: "Ask with buttons", group: "Questions", blurb: "Up to 3 reply buttons", make: () => ({ text: "What would you like?", buttons: [{ id: "yes", title: "Yes", description: "" }, { id: "no", title: "No", description: "" }], wait: wait() }) },
  { kind: "ask_list", label: "Ask with a list", group: "Questions", blurb: "Up to 10 rows", make: () => ({ text: "Choose one", button: "Options", rows: [{ id: "one", title: "Option one", description: "" }], wait: wait() }) },
  { kind: "ask_input", label: "Ask for input", group: "Questions", blurb: "Text, number, email, phone or date, validated", make: () => ({ text: "What is your email?", input: "email", var: "email", retries: 2, retry_text: "That does not look right, please try again.", wait: wait() }) },
  { kind: "ask_phone", label: "Ask for the phone number", group: "Questions", blurb: "For customers who write by username", make: () => ({ text: "May we have your phone number?", var: "phone", wait: wait() }) },
  { kind: "condition", label: "Condition", group: "Logic", blurb: "Variables, fields, business hours, the window", make: () => ({ rules: [{ left: { of: "business_hours" }, op: "is_true", right: "" }], any: false }) },
  { kind: "set_variable", label: "Set variable", group: "Logic", blurb: "Remember a value", make: () => ({ var: "topic", value: "{{last_message}}" }) },
  { kind: "wait", label: "Wait", group: "Logic", blurb: "A timer that survives restarts", make: () => ({ seconds: 3600 }) },
  { kind: "http", label: "HTTP request", group: "Actions", blurb: "Call a web service, map its answer", make: () => ({ method: "GET", url: "https://", headers: [], body: "", map: [], timeout_ms: 10000 }) },
  { kind: "ai_reply", label: "AI reply", group: "Actions", blurb: "An OpenAI-compatible model answers", make: () => ({ system: "You answer our customers briefly and kindly.", knowledge: "", only_knowledge: true }) },
  { kind: "hand_off", label: "Hand off to a person", group: "Actions", blurb: "The bot stops", make: () => ({ to: { to: "anyone" } }) },
  { kind: "update_contact", label: "Update the contact", group: "Actions", blurb: "A group, the lead status or a field", make: () => ({ change: { change: "add_to_group", group: "" } }) },
  { kind: "go_to_bot", label: "Go to another bot", group: "Actions", blurb: "Continue in another bot", make: () => ({ bot: "" }) },
  { kind: "end", label: "End", group: "Actions", blurb: "The conversation with the bot ends", make: () => ({}) },
];

export const START: KindInfo = { kind: "start", label: "Start", group: "Logic", blurb: "Where the flow begins", make: () => ({}) };

export function kindInfo(kind: string): KindInfo | undefined {
  return kind === "start" ? START : KINDS.find((k) => k.kind === kind);
}

interface Choice {
  id: string;
  title: string;
}

function choices(data: NodeData, key: "buttons" | "rows"): Choice[] {
  const list = data[key];
  return Array.isArray(list) ? (list as Choice[]) : [];
}

/** The node's branches, in the order of its output ports (crates/flow: NodeKind::branches). */
export function branches(kind: string, data: NodeData): string[] {
  switch (kind) {
    case "start":
    case "set_variable":
    case "wait":
    case "update_contact":
      return ["next"];
    case "send_text":
    case "send_media":
    case "send_template":
    case "send_url":
      return ["next", "failed"];
    case "ask_buttons":
      return [...choices(data, "buttons").map((c) => c.id), "other", "timeout", "failed"];
    case "ask_list":
      return [...choices(data, "rows").map((c) => c.id), "other", "timeout", "failed"];
    case "ask_input":
      return ["valid", "invalid", "timeout", "failed"];
    case "ask_phone":
      return ["shared", "timeout", "failed"];
    case "condition":
      return ["true", "false"];
    case "http":
      return ["success", "failure"];
    case "ai_reply":
      return ["answered", "person", "unanswered", "error", "timeout"];
    default:
      return [];
  }
}

const BRANCH_WORDS: Record<string, string> = {
  next: "next",
  failed: "send failed",
  other: "anything else",
  timeout: "no answer",
  valid: "valid",
  invalid: "invalid",
  shared: "shared",
  true: "yes",
  false: "no",
  success: "success",
  failure: "failure",
  answered: "answered",
  person: "asked for a person",
  unanswered: "could not answer",
  error: "error",
};

/** How a branch reads next to its port: a button's title, or the branch's meaning. */
export function branchLabel(kind: string, data: NodeData, branch: string): string {
  if (kind === "ask_buttons" || kind === "ask_list") {
    const c = choices(data, kind === "ask_buttons" ? "buttons" : "rows").find((x) => x.id === branch);
    if (c) return c.title || c.id;
  }
  return BRANCH_WORDS[branch] ?? branch;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

function clip(text: string, max = 90): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** One line of what the node does, for the canvas. */
export function summary(kind: string, data: NodeData): string {
  const s = (key: string) => (typeof data[key] === "string" ? (data[key] as string) : "");
  switch (kind) {
    case "start":
      return "When the trigger matches";
    case "send_text":
    case "send_url":
    case "ask_buttons":
    case "ask_list":
    case "ask_input":
    case "ask_phone":
      return clip(s("text")) || "(no text yet)";
    case "send_media":
      return s("source") ? `${s("media")}: ${clip(s("source"), 40)}` : "(no file chosen)";
    case "send_template":
      return s("template") ? `${s("template")} (${s("language")})` : "(no template chosen)";
    case "condition":
      return `${Array.isArray(data.rules) ? data.rules.length : 0} rule(s), ${data.any ? "any" : "all"} must hold`;
    case "set_variable":
      return `${s("var")} = ${clip(s("value"), 40)}`;
    case "wait":
      return `Wait ${formatSeconds(Number(data.seconds) || 0)}`;
    case "http":
      return `${s("method")} ${clip(s("url"), 50)}`;
    case "ai_reply":
      return clip(s("system"), 70);
    case "hand_off": {
      const to = data.to as { to?: string; id?: string } | undefined;
      return to?.to === "anyone" || !to ? "Whoever picks it up" : `${to.to} ${to.id ?? ""}`;
    }
    case "update_contact": {
      const c = data.change as { change?: string; group?: string; status?: string; field?: string } | undefined;
      return c ? `${c.change?.replace(/_/g, " ")} ${c.group ?? c.status ?? c.field ?? ""}` : "";
    }
    case "go_to_bot":
      return s("bot") || "(no bot chosen)";
    default:
      return "";
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds % 86400 === 0 && seconds > 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The node's HTML on the canvas: its kind and what it does, every text escaped. */
export function nodeHtml(kind: string, data: NodeData): string {
  const info = kindInfo(kind);
  const label = escapeHtml(info?.label ?? kind);
  const what = escapeHtml(summary(kind, data));
  return `<div class="fn-head" data-kind="${escapeHtml(kind)}">${label}</div><div class="fn-body">${what}</div>`;
}

interface DrawflowNode {
  id: number | string;
  name: string;
  data: NodeData;
  class: string;
  html: string;
  outputs: Record<string, unknown>;
  inputs: Record<string, unknown>;
  pos_x: number;
  pos_y: number;
  typenode?: unknown;
}

export interface DrawflowExport {
  drawflow: { Home: { data: Record<string, DrawflowNode> } };
}

/**
 * An export made safe to load: only the Home module, every node's HTML and class made here from
 * its kind (never the file's), typenode off. Anything that is not a Drawflow export is refused.
 */
export function sanitizeExport(value: unknown): DrawflowExport {
  const home = (value as DrawflowExport | null)?.drawflow?.Home?.data;
  if (typeof home !== "object" || home === null) throw new Error("this is not a Drawflow export (no drawflow.Home.data)");
  const data: Record<string, DrawflowNode> = {};
  for (const [key, raw] of Object.entries(home)) {
    if (!/^\d{1,9}$/.test(key)) throw new Error(`“${clip(key, 20)}” is not a node id (Drawflow numbers its nodes)`);
    if (typeof raw !== "object" || raw === null) throw new Error(`node ${key} is not an object`);
    const kind = typeof raw.name === "string" ? raw.name : "";
    if (!kindInfo(kind)) throw new Error(`node ${key}: “${clip(kind, 40)}” is not a kind of node this editor has`);
    const nodeData = typeof raw.data === "object" && raw.data !== null ? raw.data : {};
    data[key] = {
      ...raw,
      id: Number(key),
      name: kind,
      data: nodeData,
      class: `fn-${kind}`,
      html: nodeHtml(kind, nodeData),
      typenode: false,
      pos_x: Number(raw.pos_x) || 0,
      pos_y: Number(raw.pos_y) || 0,
      inputs: raw.inputs ?? {},
      outputs: raw.outputs ?? {},
    };
  }
  return { drawflow: { Home: { data } } };
}
