// Opening a CRM record from another screen (the chat header's linked lead, client contact or
// bulk contact): the shell shows the record's screen, which takes the request when it mounts
// and opens the record's edit dialog. Same hand-over as a clicked notification (chat.ts
// requestOpen / takePendingOpen), plus the shell's navigation, which lives in Shell.svelte.

import type { LinkedRecord } from "./bindings/LinkedRecord";
import type { Screen } from "./bindings/Screen";
import { requestOpen } from "./chat";
import { toIpcError } from "./ipc";

export type RecordScreen = Extract<Screen, "leads" | "clients" | "bulk_contacts">;

/** A record to open in its screen's edit dialog. */
export interface RecordRequest {
  screen: RecordScreen;
  /** The lead, the client (for a client's contact person) or the bulk contact. */
  id: number;
  /** Clients: the contact person to bring forward in the client's dialog. */
  personId?: number;
}

/** Where the chat header's linked record is opened. */
export function recordRequest(linked: LinkedRecord): RecordRequest {
  switch (linked.kind) {
    case "lead":
      return { screen: "leads", id: linked.id };
    case "client_contact":
      return { screen: "clients", id: linked.client_id, personId: linked.id };
    case "contact":
      return { screen: "bulk_contacts", id: linked.id };
  }
}

const NOUN: Readonly<Record<RecordScreen, string>> = {
  leads: "lead",
  clients: "client",
  bulk_contacts: "contact",
};

/** The toast when the record could not be fetched: a deleted one says so plainly. */
export function recordOpenError(screen: RecordScreen, reason: unknown): string {
  const error = toIpcError(reason);
  const noun = NOUN[screen];
  if (error.code === "not_found") return `This ${noun} no longer exists: it was deleted after the conversation was linked to it.`;
  return `The ${noun} could not be opened: ${error.message}`;
}

/** Shows a screen; answers false when the signed-in person may not open it. */
export type ScreenNavigator = (screen: Screen) => boolean;

let navigator: ScreenNavigator | null = null;
let pending: RecordRequest | null = null;

/** The shell registers how screens are shown. Returns the function that unregisters it. */
export function setScreenNavigator(nav: ScreenNavigator): () => void {
  navigator = nav;
  return () => {
    if (navigator === nav) navigator = null;
  };
}

/**
 * Remembers the record and asks the shell for its screen. Answers false (and forgets the
 * request) when the screen cannot be shown; the navigator tells the person why.
 */
export function requestOpenRecord(request: RecordRequest): boolean {
  pending = request;
  if (navigator?.(request.screen)) return true;
  pending = null;
  return false;
}

/** The screen takes the request meant for it when it mounts (once). */
export function takePendingRecord(screen: RecordScreen): RecordRequest | null {
  if (pending === null || pending.screen !== screen) return null;
  const request = pending;
  pending = null;
  return request;
}

/** Navigation elsewhere (the sidebar, a shortcut) drops a request its screen never took. */
export function discardPendingRecord(): void {
  pending = null;
}

/**
 * Shows the Chat screen with this conversation open (after a send from another screen). Answers
 * false when the person may not open the chat (the navigator says why).
 */
export function openConversation(conversationId: number): boolean {
  requestOpen(conversationId);
  return navigator?.("chat") ?? false;
}
