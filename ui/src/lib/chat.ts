// The Chat screen's pure logic: the "/" quick-reply picker, search snippets, the 24-hour window,
// message status ticks, attachment checks (Meta's types and sizes), times, and merging a fresh
// page of a thread into what is already loaded. Times from the core are Unix milliseconds.

import type { ChatMessage } from "./bindings/ChatMessage";
import type { Conversation } from "./bindings/Conversation";
import type { LinkKind } from "./bindings/LinkKind";
import type { MessageContent } from "./bindings/MessageContent";
import type { MessageStatus } from "./bindings/MessageStatus";
import type { QuickReply } from "./bindings/QuickReply";
import type { OrderItem } from "./bindings/OrderItem";
import type { ThreadPage } from "./bindings/ThreadPage";
import { formatPhone } from "./phone";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MB = 1024 * 1024;

/** The emoji a message can be reacted with. */
export const REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

/** The composer's emoji grid. */
export const EMOJI = [
  "😀", "😃", "😄", "😁", "😊", "🙂", "😉", "😍", "😘", "😎",
  "🤔", "😅", "😂", "🤣", "😇", "😢", "😮", "🙄", "😴", "🤝",
  "👍", "👎", "👏", "🙏", "👋", "💪", "❤️", "🎉", "✅", "🔥",
  "⭐", "📞", "📄", "📅", "⏰", "🚚",
] as const;

/** Bytes of a file per `append_upload` call (before base64). */
export const MEDIA_CHUNK_BYTES = 512 * 1024;

// ---- search snippets ---------------------------------------------------------------------------

export interface SnippetPart {
  text: string;
  /** A matched word: shown highlighted. */
  mark: boolean;
}

/**
 * The core marks matched words between \u0001 and \u0002; the parts in order, to render as text
 * and <mark> without ever treating the text as HTML. Empty parts are dropped; an unclosed mark
 * runs to the end.
 */
export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let current = "";
  const flush = () => {
    if (current !== "") {
      const last = parts[parts.length - 1];
      if (last && last.mark === mark) last.text += current;
      else parts.push({ text: current, mark });
    }
    current = "";
  };
  for (const ch of snippet) {
    if (ch === "\u0001") {
      flush();
      mark = true;
    } else if (ch === "\u0002") {
      flush();
      mark = false;
    } else {
      current += ch;
    }
  }
  flush();
  return parts;
}

/** Message search needs at least two characters (ignoring spaces around). */
export function searchesMessages(query: string): boolean {
  return [...query.trim()].length >= 2;
}

// ---- quick replies -----------------------------------------------------------------------------

export interface SlashQuery {
  /** Index of the "/" in the text. */
  start: number;
  /** What follows the "/" up to the caret. */
  query: string;
}

/**
 * The "/query" being typed just before the caret: a "/" at the start of the text or after a
 * space or newline, followed by shortcut characters only. Null when the caret is not in one.
 */
export function slashQuery(text: string, caret: number): SlashQuery | null {
  const upTo = text.slice(0, Math.max(0, Math.min(caret, text.length)));
  const m = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(upTo);
  if (!m) return null;
  const query = m[2] ?? "";
  return { start: upTo.length - query.length - 1, query };
}

/**
 * The quick replies for a typed query: names starting with it first, then names or messages
 * containing it; case does not matter; each group keeps the name order. An empty query lists all.
 */
export function filterQuickReplies(replies: readonly QuickReply[], query: string): QuickReply[] {
  const q = query.trim().toLowerCase();
  const byName = [...replies].sort((a, b) => a.name.localeCompare(b.name));
  if (q === "") return byName;
  const prefix = byName.filter((r) => r.name.toLowerCase().startsWith(q));
  const contains = byName.filter(
    (r) => !r.name.toLowerCase().startsWith(q) && (r.name.toLowerCase().includes(q) || r.message.toLowerCase().includes(q)),
  );
  return [...prefix, ...contains];
}

export interface Edit {
  text: string;
  /** Where the caret goes after the edit. */
  caret: number;
}

/** Replaces text[start, end) with `insert`; the caret goes after the inserted text. */
export function replaceRange(text: string, start: number, end: number, insert: string): Edit {
  const s = Math.max(0, Math.min(start, text.length));
  const e = Math.max(s, Math.min(end, text.length));
  return { text: text.slice(0, s) + insert + text.slice(e), caret: s + insert.length };
}

/** Replaces the "/query" before the caret (from `start`) with the quick reply's message. */
export function applyQuickReply(text: string, start: number, caret: number, message: string): Edit {
  return replaceRange(text, start, caret, message);
}

// ---- the 24-hour window ------------------------------------------------------------------------

/** "23 h 12 min", "45 min", "less than a minute" (minutes rounded down). */
export function formatTimeLeft(ms: number): string {
  if (!(ms >= MINUTE)) return "less than a minute";
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  if (hours === 0) return `${minutes} min`;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

export interface WindowState {
  open: boolean;
  label: string;
}

/**
 * The customer-service window as the header shows it. `now` is Meta's clock (the sandbox's in a
 * sandbox workspace), not this computer's: time left is `closesAt - now`.
 */
export function windowState(closesAt: number | null, now: number, open: boolean): WindowState {
  if (closesAt === null) return { open: false, label: "No window yet — the customer has not written: only templates can be sent" };
  if (!open || closesAt <= now) return { open: false, label: "Window closed — only templates can be sent" };
  return { open: true, label: `Window open · ${formatTimeLeft(closesAt - now)} left` };
}

// ---- message status ----------------------------------------------------------------------------

export interface Tick {
  /** What to draw: a clock, one or two checks, a warning, or nothing (inbound). */
  glyph: "clock" | "check" | "double" | "warn" | "none";
  /** Read: the double check is blue. */
  read: boolean;
  label: string;
  failed: boolean;
}

/** How an outbound message's status is shown. */
export function statusTick(status: MessageStatus, error: string | null = null): Tick {
  switch (status) {
    case "queued":
      return { glyph: "clock", read: false, label: "Waiting to be sent", failed: false };
    case "accepted":
      return { glyph: "clock", read: false, label: "Accepted by WhatsApp", failed: false };
    case "sent":
      return { glyph: "check", read: false, label: "Sent", failed: false };
    case "delivered":
      return { glyph: "double", read: false, label: "Delivered", failed: false };
    case "read":
      return { glyph: "double", read: true, label: "Read", failed: false };
    case "played":
      return { glyph: "double", read: true, label: "Played", failed: false };
    case "failed":
      return { glyph: "warn", read: false, label: error ? `Failed: ${error}` : "Failed", failed: true };
    case "refused":
      return { glyph: "warn", read: false, label: error ? `Not sent: ${error}` : "Not sent", failed: true };
    case "uncertain":
      return { glyph: "warn", read: false, label: error ? `May have been sent: ${error}` : "May have been sent", failed: true };
    case "received":
      return { glyph: "none", read: false, label: "Received", failed: false };
  }
}

// ---- attachments -------------------------------------------------------------------------------

export type MediaKind = "image" | "video" | "audio" | "document" | "sticker";

const KINDS: readonly { kind: MediaKind; label: string; max: number; types: readonly string[] }[] = [
  { kind: "image", label: "Images (JPEG or PNG)", max: 5 * MB, types: ["image/jpeg", "image/png"] },
  { kind: "sticker", label: "Stickers (WebP)", max: 500 * 1024, types: ["image/webp"] },
  { kind: "video", label: "Videos (MP4 or 3GP)", max: 16 * MB, types: ["video/mp4", "video/3gpp"] },
  { kind: "audio", label: "Audio files", max: 16 * MB, types: ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"] },
  {
    kind: "document",
    label: "Documents",
    max: 100 * MB,
    types: [
      "text/plain",
      "application/pdf",
      "application/msword",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.ms-excel",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.ms-powerpoint",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ],
  },
];

/** What the file picker offers. */
export const ATTACH_ACCEPT = [
  "image/jpeg",
  "image/png",
  "video/mp4",
  "video/3gpp",
  "audio/*",
  "application/pdf",
  "text/plain",
  ".doc,.docx,.xls,.xlsx,.ppt,.pptx",
].join(",");

const BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  mp4: "video/mp4",
  "3gp": "video/3gpp",
  aac: "audio/aac",
  amr: "audio/amr",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  txt: "text/plain",
  pdf: "application/pdf",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

/** Other names browsers give to the types Meta accepts. */
const ALIASES: Readonly<Record<string, string>> = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "audio/mp3": "audio/mpeg",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
  "audio/x-aac": "audio/aac",
  "audio/opus": "audio/ogg",
  "video/3gp": "video/3gpp",
};

/** The MIME type to send a file as: the browser's (normalised), else guessed from the extension. */
export function fileMime(name: string, browserType: string): string {
  const base = browserType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (base !== "" && base !== "application/octet-stream") return ALIASES[base] ?? base;
  const ext = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  return BY_EXTENSION[ext] ?? base;
}

/** "512 KB", "4.8 MB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  return `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
}

export type AttachmentCheck = { ok: true; mime: string; kind: MediaKind } | { ok: false; message: string };

/** Whether WhatsApp takes this file (type and size), checked before uploading anything. */
export function checkAttachment(name: string, browserType: string, size: number): AttachmentCheck {
  const mime = fileMime(name, browserType);
  const kind = KINDS.find((k) => k.types.includes(mime));
  if (!kind) {
    const what = mime === "" ? `“${name}”` : `“${name}” (${mime})`;
    return {
      ok: false,
      message: `${what} cannot be sent on WhatsApp. Accepted: images JPEG/PNG up to 5 MB, videos MP4/3GP up to 16 MB, audio AAC/AMR/MP3/M4A/OGG up to 16 MB, documents PDF/TXT/Office up to 100 MB.`,
    };
  }
  if (size <= 0) return { ok: false, message: `“${name}” is empty.` };
  if (size > kind.max) {
    return { ok: false, message: `“${name}” is ${formatBytes(size)}; WhatsApp accepts ${kind.label.toLowerCase()} up to ${formatBytes(kind.max)}.` };
  }
  return { ok: true, mime, kind: kind.kind };
}

// ---- times -------------------------------------------------------------------------------------

const pad = (n: number) => String(n).padStart(2, "0");

/** "14:05" in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function dayIndex(ms: number): number {
  const d = new Date(ms);
  return Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / DAY);
}

/** Whether two instants fall on the same local day. */
export function sameDay(a: number, b: number): boolean {
  return dayIndex(a) === dayIndex(b);
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A conversation row's time: "14:05" today, "Yesterday", the weekday within a week, else the date. */
export function listTime(ms: number, now: number): string {
  const days = dayIndex(now) - dayIndex(ms);
  if (days <= 0) return clockTime(ms);
  if (days === 1) return "Yesterday";
  if (days < 7) return WEEKDAYS[new Date(ms).getDay()]?.slice(0, 3) ?? isoDate(ms);
  return isoDate(ms);
}

/** A day separator in the thread: "Today", "Yesterday", "Monday", or the date. */
export function dayLabel(ms: number, now: number): string {
  const days = dayIndex(now) - dayIndex(ms);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days < 7) return WEEKDAYS[new Date(ms).getDay()] ?? isoDate(ms);
  return isoDate(ms);
}

// ---- the thread --------------------------------------------------------------------------------

export interface Thread {
  messages: ChatMessage[];
  /** The cursor for the next older page; null when the start of the conversation is loaded. */
  before: number | null;
}

/**
 * The thread after reloading its newest page: the loaded older messages stay, everything from
 * the newest page's first message on is replaced (statuses and reactions change). When the
 * newest page does not reach back to what was loaded (many new messages), it replaces all.
 */
export function mergeNewest(current: Thread, newest: ThreadPage): Thread {
  const first = newest.messages[0];
  if (!first) return newest.before === null ? { messages: [], before: null } : current;
  if (newest.before !== null && !current.messages.some((m) => m.id >= first.id)) {
    // A gap may lie between the two: keep only the fresh page.
    return { messages: [...newest.messages], before: newest.before };
  }
  const older = current.messages.filter((m) => m.id < first.id);
  return { messages: [...older, ...newest.messages], before: older.length > 0 ? current.before : newest.before };
}

/** The thread after loading an older page: prepended, without duplicates. */
export function prependOlder(current: Thread, older: ThreadPage): Thread {
  const known = new Set(current.messages.map((m) => m.id));
  return { messages: [...older.messages.filter((m) => !known.has(m.id)), ...current.messages], before: older.before };
}

/** Replaces (by id) or appends a message, keeping the id order. */
export function upsertMessage(messages: readonly ChatMessage[], message: ChatMessage): ChatMessage[] {
  const out = messages.filter((m) => m.id !== message.id);
  out.push(message);
  return out.sort((a, b) => a.id - b.id);
}

// ---- conversations -----------------------------------------------------------------------------

/** The customer's name, else their number. */
export function conversationTitle(c: Pick<Conversation, "customer_name" | "customer"> & { username?: string | null }): string {
  if (c.customer_name.trim() !== "") return c.customer_name;
  if (c.username) return `@${c.username}`;
  return formatPhone(c.customer);
}

/** How the customer is reached, under their name: "@username · +1 650…", either, or nothing new. */
export function customerHandle(c: Pick<Conversation, "customer_name" | "customer" | "username">): string {
  const phone = c.customer.startsWith("+") ? formatPhone(c.customer) : null;
  const parts = [c.username ? `@${c.username}` : null, phone].filter((p): p is string => p !== null);
  const line = parts.join(" · ");
  return line === conversationTitle(c) ? "" : line;
}

/** The conversation `step` places after (1) or before (-1) `currentId`; the first one when none is open. */
export function adjacentConversation(list: readonly Conversation[], currentId: number | null, step: 1 | -1): Conversation | null {
  if (list.length === 0) return null;
  const index = currentId === null ? -1 : list.findIndex((c) => c.id === currentId);
  if (index < 0) return step === 1 ? (list[0] ?? null) : (list[list.length - 1] ?? null);
  return list[index + step] ?? null;
}

/** Merges the reloaded first page into the list: its rows first, then the later rows not in it. */
export function mergeFirstPage(current: readonly Conversation[], first: readonly Conversation[], hasMore: boolean): Conversation[] {
  if (!hasMore) return [...first];
  const ids = new Set(first.map((c) => c.id));
  const last = first[first.length - 1];
  const rest = current.filter(
    (c) => !ids.has(c.id) && last !== undefined && (c.last_activity_at < last.last_activity_at || (c.last_activity_at === last.last_activity_at && c.id < last.id)),
  );
  return [...first, ...rest];
}

export const LINK_LABELS: Readonly<Record<LinkKind, string>> = {
  lead: "Lead",
  client_contact: "Client contact",
  contact: "Contact",
};

/** The media a message carries (to fetch with chatMedia), if any. */
export function mediaOf(content: MessageContent): { mime: string | null; filename: string | null; caption: string | null } | null {
  switch (content.type) {
    case "image":
    case "video":
    case "audio":
    case "document":
    case "sticker":
      return { mime: content.media.mime_type, filename: content.media.filename, caption: content.media.caption };
    case "template":
      return content.header_document
        ? { mime: content.header_document.mime_type, filename: content.header_document.filename, caption: null }
        : null;
    default:
      return null;
  }
}

/** A short text of a message, for the reply bar. */
export function messagePreview(content: MessageContent): string {
  switch (content.type) {
    case "text":
      return content.body;
    case "image":
      return content.media.caption ? `📷 ${content.media.caption}` : "📷 Photo";
    case "video":
      return content.media.caption ? `🎥 ${content.media.caption}` : "🎥 Video";
    case "audio":
      return content.voice ? "🎤 Voice message" : "🎵 Audio";
    case "document":
      return `📄 ${content.media.filename ?? "Document"}`;
    case "sticker":
      return "Sticker";
    case "location":
      return `📍 ${content.name ?? "Location"}`;
    case "contacts":
      return `👤 ${content.cards.map((c) => c.name).join(", ") || "Contact"}`;
    case "button_reply":
    case "list_reply":
      return content.title;
    case "template_button":
      return content.text;
    case "reaction":
      return `Reacted ${content.emoji}`;
    case "template":
      return content.body || content.name;
    case "interactive":
      return content.body;
    case "unsupported":
      return `Unsupported message (${content.kind})`;
    case "order": {
      const n = content.items.reduce((sum, i) => sum + i.quantity, 0);
      return `🛒 Order: ${n} item${n === 1 ? "" : "s"}`;
    }
    case "flow_reply":
      return `📝 Form answered: ${content.name ?? "flow"}`;
    case "call_permission":
      return content.accepted ? "📞 Calls allowed" : "📞 Calls declined";
    case "system":
      return content.body;
  }
}

/** An amount in a currency, as this machine's locale writes it ("$30.50", "30,50 €"). */
export function money(amount: number, currency: string | null): string {
  if (!currency) return amount.toLocaleString(undefined, { maximumFractionDigits: 2 });
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** An order's total, when every line has a price in one currency; null otherwise. */
export function orderTotal(items: readonly OrderItem[]): { amount: number; currency: string | null } | null {
  if (items.length === 0 || items.some((i) => i.unit_price === null)) return null;
  const currencies = new Set(items.map((i) => i.currency));
  if (currencies.size !== 1) return null;
  const amount = items.reduce((sum, i) => sum + (i.unit_price ?? 0) * i.quantity, 0);
  return { amount: Math.round(amount * 100) / 100, currency: items[0]?.currency ?? null };
}

/** Base64 to bytes (what chatMedia answers), for a Blob. */
export function base64ToBytes(data: string): Uint8Array<ArrayBuffer> {
  const binary = atob(data.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// ---- a notification clicked while another screen is open ---------------------------------------

let pendingOpen: number | null = null;

/** The shell remembers which conversation a clicked notification names, then opens the Chat screen. */
export function requestOpen(conversationId: number): void {
  pendingOpen = conversationId;
}

/** The Chat screen takes it when it mounts (once). */
export function takePendingOpen(): number | null {
  const id = pendingOpen;
  pendingOpen = null;
  return id;
}

/**
 * The WhatsApp username of the customer behind `phone` (E.164), from their conversation, when
 * Meta sent one; null when there is none or the chat cannot be read by this staff member.
 */
export function usernameOf(conversations: readonly Pick<Conversation, "customer" | "username">[], phone: string): string | null {
  return conversations.find((c) => c.customer === phone && c.username)?.username ?? null;
}
