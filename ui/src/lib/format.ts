// Small formatting helpers. Times from the core are Unix milliseconds; they are shown in the
// computer's local time zone, in an unambiguous year-month-day order.

import type { Role } from "./bindings/Role";
import type { Screen } from "./bindings/Screen";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "2026-06-03" in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "2026-06-03 14:05:09" in local time. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return `${formatDate(ms)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The name of a role by id, or a placeholder that says the role is unknown. */
export function roleName(roles: readonly Role[], id: number): string {
  return roles.find((r) => r.id === id)?.name ?? `Unknown role #${id}`;
}

/** Labels of the screens, in navigation order; the core's navigation is the source of truth. */
export const SCREEN_LABELS: Readonly<Record<Screen, string>> = {
  chat: "Chat",
  bots: "Bots",
  campaigns: "Campaigns",
  groups: "Groups",
  bulk_contacts: "Bulk Contacts",
  templates: "Templates",
  quick_replies: "Quick Replies",
  numbers: "Numbers",
  connection: "Connection",
  activity_log: "Activity Log",
  leads: "Leads",
  clients: "Clients",
  documents: "Documents",
  settings: "Settings",
};

export const SCREENS = Object.keys(SCREEN_LABELS) as Screen[];

export function screenLabel(screen: string): string {
  return (SCREEN_LABELS as Record<string, string>)[screen] ?? screen;
}

/** "1 staff member", "3 staff members". */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? singular : plural}`;
}

/** Up to two initials for an avatar: "Ana Lopez" → "AL"; words without a letter ("(sandbox)") are skipped. */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+/u, ""))
    .filter(Boolean);
  if (words.length === 0) return "?";
  const first = words[0]?.[0] ?? "";
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** An action key like "load_template" as words: "load template". */
export function humanize(key: string): string {
  return key.replace(/_/g, " ");
}
