// Settings → Team: how a team token is described.

import type { TeamToken } from "./bindings/TeamToken";
import { countOf, formatDate } from "./format";

export type TokenState = "active" | "expiring" | "expired" | "revoked";

const DAY = 86_400_000;

/** The token's state at `now`; "expiring" within 14 days of its end. */
export function tokenState(t: TeamToken, now: number): TokenState {
  if (t.revoked_at !== null) return "revoked";
  if (t.expires_at !== null && t.expires_at <= now) return "expired";
  if (t.expires_at !== null && t.expires_at - now < 14 * DAY) return "expiring";
  return "active";
}

export function stateLabel(t: TeamToken, now: number): string {
  switch (tokenState(t, now)) {
    case "revoked":
      return `Revoked ${formatDate(t.revoked_at ?? now)}`;
    case "expired":
      return `Expired ${formatDate(t.expires_at ?? now)}`;
    case "expiring":
    case "active":
      return t.expires_at === null ? "Active" : `Active until ${formatDate(t.expires_at)}`;
  }
}

/** What the token may do, in a few words. */
export function grantLabel(t: TeamToken): string {
  return t.is_admin ? "Administrator" : countOf(t.permissions.length, "permission");
}

/** Active tokens first (newest first), then the rest (newest first). */
export function sortTokens(list: readonly TeamToken[], now: number): TeamToken[] {
  const live = (t: TeamToken) => (tokenState(t, now) === "revoked" || tokenState(t, now) === "expired" ? 1 : 0);
  return [...list].sort((a, b) => live(a) - live(b) || b.created_at - a.created_at);
}

export const LIFETIMES: readonly { days: number | null; label: string }[] = [
  { days: null, label: "Until revoked" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
];
