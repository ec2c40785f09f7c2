// The Campaigns screen's logic as pure functions: what each status allows, the audience in one
// line, percentages and the report's bar, the lead filter of a campaign as form state, start
// times typed in a datetime-local field, the timeline chart's geometry, and a throttle for the
// live report.

import type { Campaign } from "./bindings/Campaign";
import type { CampaignAudience } from "./bindings/CampaignAudience";
import type { CampaignFigures } from "./bindings/CampaignFigures";
import type { CampaignRecipientState } from "./bindings/CampaignRecipientState";
import type { CampaignRetarget } from "./bindings/CampaignRetarget";
import type { CampaignStatus } from "./bindings/CampaignStatus";
import type { CampaignTimeline } from "./bindings/CampaignTimeline";
import type { FieldProblem } from "./bindings/FieldProblem";
import type { Group } from "./bindings/Group";
import type { LeadFilter } from "./bindings/LeadFilter";
import type { LeadStatus } from "./bindings/LeadStatus";
import type { PlanFigures } from "./bindings/PlanFigures";
import type { StaffName } from "./bindings/StaffName";
import { dayStart } from "./crm";
import { countOf, formatDate } from "./format";

/** Rows of the per-recipient log fetched at a time. */
export const RECIPIENT_PAGE = 200;

// ---- statuses and what they allow ----

export const STATUS_LABEL: Readonly<Record<CampaignStatus, string>> = {
  draft: "Draft",
  planned: "Planned",
  scheduled: "Scheduled",
  running: "Running",
  paused: "Paused",
  completed: "Completed",
  stopped: "Stopped",
};

export type Tone = "ok" | "pending" | "denied" | "neutral" | "info";

/** The pill colour of a status. */
export function statusTone(status: CampaignStatus): Tone {
  switch (status) {
    case "running":
      return "ok";
    case "completed":
      return "info";
    case "scheduled":
    case "paused":
      return "pending";
    case "stopped":
      return "denied";
    default:
      return "neutral";
  }
}

/** Whether the dispatcher may be sending it (it cannot be deleted or edited then). */
export function isSending(status: CampaignStatus): boolean {
  return status === "running" || status === "scheduled";
}

/** Whether it has left the drafting stage (it has, or had, a report). */
export function hasStarted(status: CampaignStatus): boolean {
  return status !== "draft" && status !== "planned";
}

export interface CampaignActions {
  /** Freeze the audience: a draft, or a planned one again. */
  plan: boolean;
  /** "start" now, "schedule" when its start time is ahead, null when it cannot be started. */
  start: "start" | "schedule" | null;
  pause: boolean;
  resume: boolean;
  stop: boolean;
  edit: boolean;
  delete: boolean;
  /** The retargeted drafts it can make (those with recipients). */
  retarget: CampaignRetarget[];
}

/** The actions a campaign's status allows (the core refuses the others), at `now` (ms). */
export function campaignActions(c: Pick<Campaign, "status" | "start_at" | "figures">, now: number): CampaignActions {
  const s = c.status;
  const counts = retargetCounts(c.figures);
  return {
    plan: s === "draft" || s === "planned",
    start: s !== "planned" ? null : c.start_at !== null && c.start_at > now ? "schedule" : "start",
    pause: s === "running" || s === "scheduled",
    resume: s === "paused",
    stop: s === "running" || s === "scheduled" || s === "paused",
    edit: s === "draft" || s === "planned",
    delete: !isSending(s),
    retarget: hasStarted(s) ? (["failed", "unread", "deferred"] as const).filter((w) => counts[w] > 0) : [],
  };
}

/**
 * About how many recipients each retargeted draft would go to. Failed and deferred are exact;
 * unread (Meta took it, never read, not failed) is an estimate from the cumulative figures, plus
 * the held ones.
 */
export function retargetCounts(f: CampaignFigures): Record<CampaignRetarget, number> {
  return {
    failed: f.failed,
    deferred: f.deferred,
    unread: Math.max(0, f.accepted - f.read - f.failed - f.deferred) + f.held,
  };
}

export const RETARGET_LABEL: Readonly<Record<CampaignRetarget, string>> = {
  failed: "the failed",
  unread: "who did not read it",
  deferred: "the deferred",
};

// ---- recipient states ----

export interface StateInfo {
  label: string;
  tone: Tone;
  /** For bars, chart lines and swatches. */
  color: string;
  /** One sentence for a tooltip. */
  help: string;
}

export const STATE_INFO: Readonly<Record<CampaignRecipientState, StateInfo>> = {
  planned: { label: "Waiting", tone: "neutral", color: "#b7c3be", help: "Waiting its turn." },
  sending: { label: "Sending", tone: "info", color: "#6c8cd5", help: "Meta is being asked right now." },
  attention: {
    label: "Needs attention",
    tone: "pending",
    color: "#d98a06",
    help: "Maybe sent, maybe not: a person decides (Retry or Mark as sent).",
  },
  accepted: { label: "With Meta", tone: "info", color: "#9cc0ef", help: "Meta took the message; no report yet." },
  sent: { label: "Sent", tone: "ok", color: "#8fd8b8", help: "Meta sent it to the phone." },
  delivered: { label: "Delivered", tone: "ok", color: "#13a36f", help: "It reached the phone." },
  read: { label: "Read", tone: "ok", color: "#2f8fdf", help: "The recipient opened it." },
  replied: { label: "Replied", tone: "ok", color: "#7b5cd6", help: "The recipient answered." },
  failed: { label: "Failed", tone: "denied", color: "#c4352b", help: "Meta refused or failed it; the reason says why." },
  deferred: {
    label: "Deferred",
    tone: "pending",
    color: "#f5a524",
    help: "Meta's limit on marketing messages per person: tried again later.",
  },
  skipped: { label: "Skipped", tone: "neutral", color: "#dfe6e3", help: "Left out when planned; the reason says why." },
  held: { label: "Held", tone: "pending", color: "#b59a5b", help: "Held by Meta while it assesses the template's quality." },
};

/** The filter chips of the log, in the order a message moves. */
export const STATE_ORDER: readonly CampaignRecipientState[] = [
  "planned",
  "sending",
  "attention",
  "accepted",
  "sent",
  "delivered",
  "read",
  "replied",
  "failed",
  "deferred",
  "held",
  "skipped",
];

/**
 * How many recipients are in exactly this state, from the figures; null for the states whose
 * figures are cumulative (sent, delivered and read count everyone who got that far).
 */
export function stateCount(f: CampaignFigures, state: CampaignRecipientState): number | null {
  switch (state) {
    case "planned":
      return f.waiting;
    case "sending":
      return f.sending;
    case "attention":
      return f.attention;
    case "replied":
      return f.replied;
    case "failed":
      return f.failed;
    case "deferred":
      return f.deferred;
    case "skipped":
      return f.skipped;
    case "held":
      return f.held;
    default:
      return null;
  }
}

// ---- figures ----

/** `part` of `whole` in percent with one decimal; 0 when `whole` is 0. */
export function percent(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.round((part * 1000) / whole) / 10;
}

/** "42.5%", "100%", "0%". */
export function formatPercent(p: number): string {
  const rounded = Math.round(p * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}

/** How far a campaign has gone, 0…1: sent, failed and skipped of all its rows. */
export function progressOf(f: CampaignFigures): number {
  if (f.total <= 0) return 0;
  return Math.min(1, (f.sent + f.failed + f.skipped) / f.total);
}

export interface BarSegment {
  key: CampaignRecipientState;
  label: string;
  count: number;
  color: string;
}

/**
 * The report's stacked bar: every row once, so the segments add up to `total`. Rows in a state
 * with an exact figure come first; the rest (with Meta, sent, delivered, read) are split by the
 * cumulative figures, each capped by what is left.
 */
export function stackSegments(f: CampaignFigures): BarSegment[] {
  let room = Math.max(0, f.total);
  const take = (n: number) => {
    const got = Math.max(0, Math.min(n, room));
    room -= got;
    return got;
  };
  const exact: [CampaignRecipientState, number][] = [
    ["replied", f.replied],
    ["failed", f.failed],
    ["deferred", f.deferred],
    ["held", f.held],
    ["attention", f.attention],
    ["sending", f.sending],
    ["planned", f.waiting],
    ["skipped", f.skipped],
  ];
  const counts = new Map<CampaignRecipientState, number>();
  for (const [key, n] of exact) counts.set(key, take(n));
  counts.set("read", take(f.read - f.replied));
  counts.set("delivered", take(f.delivered - f.read));
  counts.set("sent", take(f.sent - f.delivered));
  counts.set("accepted", take(room));
  const order: CampaignRecipientState[] = [
    "read",
    "replied",
    "delivered",
    "sent",
    "accepted",
    "sending",
    "attention",
    "held",
    "deferred",
    "failed",
    "planned",
    "skipped",
  ];
  return order
    .map((key) => ({ key, label: STATE_INFO[key].label, count: counts.get(key) ?? 0, color: STATE_INFO[key].color }))
    .filter((s) => s.count > 0);
}

/** The warning when Meta's messaging limit spreads the campaign over several days; null when it fits. */
export function limitWarning(plan: Pick<PlanFigures, "messaging_limit" | "days_needed" | "recipients">): string | null {
  if (plan.days_needed <= 1) return null;
  const limit = plan.messaging_limit;
  const per = limit === null ? "a limited number of recipients" : countOf(limit, "recipient");
  return `Meta's messaging limit lets ${per} a day: this campaign needs ${countOf(plan.days_needed, "day")} to reach its ${countOf(plan.recipients, "recipient")}.`;
}

// ---- the audience ----

export interface AudienceLookups {
  groups: readonly Pick<Group, "id" | "name">[];
  statuses: readonly Pick<LeadStatus, "id" | "name">[];
  staff: readonly Pick<StaffName, "id" | "name">[];
  campaigns: readonly Pick<Campaign, "uid" | "name">[];
}

export const NO_LOOKUPS: AudienceLookups = { groups: [], statuses: [], staff: [], campaigns: [] };

/** "a, b or c". */
function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** The conditions of a lead filter in words (empty when it selects every lead). */
export function leadFilterParts(filter: LeadFilter, lookups: AudienceLookups): string[] {
  const parts: string[] = [];
  if (filter.status_ids.length > 0) {
    const names = filter.status_ids.map((id) => lookups.statuses.find((s) => s.id === id)?.name ?? `#${id}`);
    parts.push(`status ${orList(names)}`);
  }
  if (filter.source) parts.push(`source “${filter.source}”`);
  if (filter.unassigned) parts.push("assigned to nobody");
  else if (filter.assigned_staff_id !== undefined && filter.assigned_staff_id !== null) {
    const id = filter.assigned_staff_id;
    parts.push(`assigned to ${lookups.staff.find((s) => s.id === id)?.name ?? `staff #${id}`}`);
  }
  const from = filter.created_from ?? null;
  const to = filter.created_to ?? null;
  if (from !== null && to !== null) parts.push(`created ${formatDate(from)} to ${formatDate(to - 1)}`);
  else if (from !== null) parts.push(`created from ${formatDate(from)}`);
  else if (to !== null) parts.push(`created up to ${formatDate(to - 1)}`);
  if (filter.has_whatsapp === true) parts.push("with a WhatsApp number");
  if (filter.has_whatsapp === false) parts.push("without a WhatsApp number");
  if (filter.search && filter.search.trim() !== "") parts.push(`matching “${filter.search.trim()}”`);
  return parts;
}

/** Who a campaign goes to, in one line for the list and the detail. */
export function audienceSummary(audience: CampaignAudience, lookups: AudienceLookups = NO_LOOKUPS): string {
  switch (audience.kind) {
    case "leads": {
      const parts = leadFilterParts(audience.filter, lookups);
      return parts.length === 0 ? "All leads" : `Leads: ${parts.join(", ")}`;
    }
    case "contacts": {
      const parts: string[] = [];
      if (audience.group_id !== undefined && audience.group_id !== null) {
        const id = audience.group_id;
        const name = lookups.groups.find((g) => g.id === id)?.name;
        parts.push(name === undefined ? `Group #${id}` : `Group “${name}”`);
      }
      if (audience.ids.length > 0) parts.push(countOf(audience.ids.length, "contact"));
      return parts.length === 0 ? "Nobody chosen yet" : parts.join(" + ");
    }
    case "retarget": {
      const name = lookups.campaigns.find((c) => c.uid === audience.campaign_uid)?.name;
      const of = name === undefined ? "an earlier campaign" : `“${name}”`;
      const who = audience.which === "failed" ? "Failed" : audience.which === "unread" ? "Unread" : "Deferred";
      return `${who} recipients of ${of}`;
    }
  }
}

// ---- the lead filter as the form holds it ----

/** A campaign's lead filter as form controls hold it (strings from inputs, several statuses). */
export interface LeadAudienceForm {
  search: string;
  statusIds: number[];
  source: string;
  /** A staff id, "none" for unassigned, or "" for anyone. */
  staff: string;
  /** YYYY-MM-DD (local), inclusive; "" for open-ended. */
  from: string;
  to: string;
  /** "yes", "no" or "" (either). */
  whatsapp: "" | "yes" | "no";
}

export const EMPTY_LEAD_AUDIENCE: LeadAudienceForm = {
  search: "",
  statusIds: [],
  source: "",
  staff: "",
  from: "",
  to: "",
  whatsapp: "",
};

/** The core's lead filter for the form (no paging: a campaign takes every lead that matches). */
export function leadAudienceFilter(form: LeadAudienceForm): LeadFilter {
  const filter: LeadFilter = { status_ids: [...form.statusIds], unassigned: false };
  const search = form.search.trim();
  if (search) filter.search = search;
  const source = form.source.trim();
  if (source) filter.source = source;
  if (form.staff === "none") filter.unassigned = true;
  else if (form.staff !== "" && Number.isFinite(Number(form.staff))) filter.assigned_staff_id = Number(form.staff);
  const from = dayStart(form.from);
  if (from !== null) filter.created_from = from;
  const to = dayStart(form.to);
  if (to !== null) {
    const next = new Date(to);
    next.setDate(next.getDate() + 1);
    filter.created_to = next.getTime();
  }
  if (form.whatsapp === "yes") filter.has_whatsapp = true;
  if (form.whatsapp === "no") filter.has_whatsapp = false;
  return filter;
}

/** The form for a stored lead filter (editing a campaign). */
export function leadAudienceForm(filter: LeadFilter): LeadAudienceForm {
  return {
    search: filter.search ?? "",
    statusIds: [...filter.status_ids],
    source: filter.source ?? "",
    staff: filter.unassigned ? "none" : filter.assigned_staff_id !== undefined && filter.assigned_staff_id !== null ? String(filter.assigned_staff_id) : "",
    from: filter.created_from !== undefined && filter.created_from !== null ? formatDate(filter.created_from) : "",
    to: filter.created_to !== undefined && filter.created_to !== null ? formatDate(filter.created_to - 1) : "",
    whatsapp: filter.has_whatsapp === true ? "yes" : filter.has_whatsapp === false ? "no" : "",
  };
}

// ---- start times ----

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** A datetime-local value ("2026-06-03T14:05") as Unix ms in local time; null when empty or not such a time. */
export function localInputToMs(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const at = new Date(y, mo - 1, d, h, mi, s);
  if (at.getFullYear() !== y || at.getMonth() !== mo - 1 || at.getDate() !== d || at.getHours() !== h || at.getMinutes() !== mi) {
    return null;
  }
  return at.getTime();
}

/** Unix ms as a datetime-local value (to the minute, local time). */
export function msToLocalInput(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A time in a narrow column: "14:05" today, "06-03 14:05" this year, else "2025-12-30". */
export function shortTime(ms: number, now: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  const n = new Date(now);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) return hm;
  if (d.getFullYear() === n.getFullYear()) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  return formatDate(ms);
}

// ---- the core's refusals, by field ----

/** The problems of the fields a form shows, by field, and the rest as messages for the form's foot. */
export function problemsByField(
  problems: readonly FieldProblem[],
  known: readonly string[],
): { byField: Map<string, string[]>; other: string[] } {
  const byField = new Map<string, string[]>();
  const other: string[] = [];
  for (const p of problems) {
    const field = known.find((k) => p.field === k || p.field.startsWith(`${k}.`) || p.field.startsWith(`${k}[`));
    if (field === undefined) other.push(p.message);
    else byField.set(field, [...(byField.get(field) ?? []), p.message]);
  }
  return { byField, other };
}

// ---- the timeline chart ----

/** A round top for an axis that holds `max`, and its tick step (integers: these are counts). */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const factor = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  const step = Math.max(1, factor * magnitude);
  const whole = Number.isInteger(step) ? step : Math.ceil(step);
  return { max: Math.ceil(max / whole) * whole, step: whole };
}

export interface ChartBox {
  width: number;
  height: number;
  /** Room for the axes' labels. */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface ChartGeometry {
  plot: { x: number; y: number; width: number; height: number };
  /** SVG path data, one per line; "" without points. */
  sent: string;
  delivered: string;
  read: string;
  yTicks: { value: number; y: number }[];
  xTicks: { at: number; x: number; label: string }[];
  /** The last values (the legend's figures). */
  last: { sent: number; delivered: number; read: number };
  empty: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** "14:05" within a day, "06-03 14:05" across days. */
export function timeLabel(at: number, spanMs: number): string {
  const d = new Date(at);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  // Under two minutes the three labels would read "15:15 15:15 15:15": they say the seconds too.
  if (spanMs < 2 * 60 * 1000) return `${hm}:${pad(d.getSeconds())}`;
  return spanMs < 24 * 3600 * 1000 ? hm : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/**
 * The chart of cumulative sent, delivered and read: each point's counts hold up to the end of its
 * period, so a line starts at 0 at the first period's start and reaches the point at its end.
 */
export function chartGeometry(timeline: CampaignTimeline, box: ChartBox): ChartGeometry {
  const plot = {
    x: box.left,
    y: box.top,
    width: Math.max(1, box.width - box.left - box.right),
    height: Math.max(1, box.height - box.top - box.bottom),
  };
  const points = [...timeline.points].sort((a, b) => a.at - b.at);
  const first = points[0];
  const lastPoint = points[points.length - 1];
  if (!first || !lastPoint) {
    return { plot, sent: "", delivered: "", read: "", yTicks: [], xTicks: [], last: { sent: 0, delivered: 0, read: 0 }, empty: true };
  }
  const bucket = Math.max(1, timeline.bucket_ms);
  const series = [{ at: first.at, sent: 0, delivered: 0, read: 0 }, ...points.map((p) => ({ ...p, at: p.at + bucket }))];
  const t0 = first.at;
  const t1 = lastPoint.at + bucket;
  const span = Math.max(1, t1 - t0);
  const top = Math.max(...points.map((p) => Math.max(p.sent, p.delivered, p.read)));
  const scale = niceScale(top);
  const x = (at: number) => round1(plot.x + ((at - t0) / span) * plot.width);
  const y = (v: number) => round1(plot.y + plot.height - (v / scale.max) * plot.height);
  const path = (key: "sent" | "delivered" | "read") =>
    series.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.at)},${y(p[key])}`).join(" ");
  const yTicks: { value: number; y: number }[] = [];
  for (let v = 0; v <= scale.max; v += scale.step) yTicks.push({ value: v, y: y(v) });
  const xTicks = [0, 0.5, 1].map((f) => {
    const at = Math.round(t0 + f * span);
    return { at, x: x(at), label: timeLabel(at, span) };
  });
  return {
    plot,
    sent: path("sent"),
    delivered: path("delivered"),
    read: path("read"),
    yTicks,
    xTicks,
    last: { sent: lastPoint.sent, delivered: lastPoint.delivered, read: lastPoint.read },
    empty: false,
  };
}

// ---- live refresh ----

/**
 * `fn` at most once every `ms`: the first call runs at once, calls during the wait are merged
 * into one run at its end.
 */
export function throttle(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  return {
    call() {
      if (timer !== undefined) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The pages (by offset) that hold the rows `start` to `end` (exclusive). */
export function pageOffsets(start: number, end: number, pageSize = RECIPIENT_PAGE): number[] {
  if (end <= start || pageSize <= 0) return [];
  const first = Math.floor(Math.max(0, start) / pageSize);
  const last = Math.floor((end - 1) / pageSize);
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p * pageSize);
  return out;
}

/** Case-insensitive match of a campaign on its name, template or status (the list's search box). */
export function matchesSearch(c: Pick<Campaign, "name" | "template_name" | "status">, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === "") return true;
  return [c.name, c.template_name, STATUS_LABEL[c.status]].some((t) => t.toLowerCase().includes(q));
}
