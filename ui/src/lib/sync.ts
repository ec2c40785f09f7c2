// How the sync state reads in the top bar: pure, so it is tested without a window.

import type { SyncStatus } from "./bindings/SyncStatus";

export type SyncTone = "ok" | "busy" | "warn" | "bad" | "off";

export interface SyncView {
  tone: SyncTone;
  /** Short, for the top bar. */
  label: string;
  /** A sentence for the tooltip and the Settings card. */
  detail: string;
}

const plural = (n: bigint | number, one: string, many: string) => `${n.toLocaleString()} ${Number(n) === 1 ? one : many}`;

export function describeSync(s: SyncStatus): SyncView {
  const view = describeState(s);
  // Something the user should know outranks "Synced": events they will never receive, or own
  // changes the relay refused.
  if (view.tone === "ok" && (s.warning != null || s.refused > 0)) {
    const refused = s.refused > 0 ? ` ${plural(s.refused, "change", "changes")} of yours refused by the relay (see Settings).` : "";
    return {
      tone: "warn",
      label: s.refused > 0 ? `Synced · ${s.refused.toLocaleString()} refused` : "Synced · see Settings",
      detail: `${view.detail}${s.warning ? ` ${s.warning}` : ""}${refused}`,
    };
  }
  return view;
}

function describeState(s: SyncStatus): SyncView {
  const outbox = s.outbox > 0 ? ` ${plural(s.outbox, "change", "changes")} of yours waiting to be sent.` : "";
  switch (s.state) {
    case "not_configured":
      return {
        tone: "off",
        label: "Not synced",
        detail: "No relay is set up for this workspace: changes stay on this computer. An administrator can add one in Settings.",
      };
    case "connecting":
      return { tone: "busy", label: "Connecting…", detail: `Connecting to ${s.relay_url}.${outbox}` };
    case "catching_up":
      return {
        tone: "busy",
        label: `Catching up · ${plural(s.behind, "event", "events")}`,
        detail: `Receiving what happened while this computer was away: ${plural(s.behind, "event", "events")} to go.${outbox}`,
      };
    case "live":
      return {
        tone: s.outbox > 0 ? "busy" : "ok",
        label: s.outbox > 0 ? `Sending ${s.outbox.toLocaleString()}…` : "Synced",
        detail: `Up to date with ${s.relay_url} (event ${s.cursor.toLocaleString()}).${outbox}`,
      };
    case "reconnecting": {
      const secs = s.retry_in_ms == null ? null : Math.max(1, Math.round(s.retry_in_ms / 1000));
      return {
        tone: "warn",
        label: secs == null ? "Offline" : `Offline · retry in ${secs} s`,
        detail: `Working offline: ${s.last_error ?? "the relay cannot be reached"}. Your changes are kept and sent when the connection is back.${outbox}`,
      };
    }
    case "refused":
      return {
        tone: "bad",
        label: "Relay refused",
        detail: `The relay refused this computer (${s.last_error ?? "token refused"}). Ask an administrator for a new token.${outbox}`,
      };
  }
}
