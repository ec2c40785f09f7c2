// The Numbers screen's formatting: quality pills, messaging limits, statuses and verticals as
// Meta names them, and when the cache was last fetched.

import type { NumberView } from "./bindings/NumberView";
import type { Tone } from "./templates";

/** GREEN, YELLOW, RED as Meta's "High", "Medium", "Low" quality; anything else is unknown. */
export function qualityTone(rating: string | null): Tone {
  switch (rating) {
    case "GREEN":
      return "ok";
    case "YELLOW":
      return "pending";
    case "RED":
      return "denied";
    default:
      return "neutral";
  }
}

export function qualityLabel(rating: string | null): string {
  switch (rating) {
    case "GREEN":
      return "High quality";
    case "YELLOW":
      return "Medium quality";
    case "RED":
      return "Low quality";
    default:
      return "Quality unknown";
  }
}

/** "CONNECTED" → "Connected", "PROF_SERVICES" → "Prof services". */
export function words(value: string): string {
  const s = value.toLowerCase().replace(/_/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "TIER_1K" → "1K customers / 24 h"; "TIER_UNLIMITED" → "Unlimited"; other values as words. */
export function formatLimit(limit: string | null): string {
  if (limit === null || limit.trim() === "") return "—";
  const m = /^TIER_(\d+K?)$/i.exec(limit.trim());
  if (m) return `${(m[1] ?? "").toUpperCase()} customers / 24 h`;
  if (/^TIER_UNLIMITED$/i.test(limit.trim())) return "Unlimited";
  return /^[A-Z0-9_]+$/.test(limit) ? words(limit) : limit;
}

export function statusTone(status: string | null): Tone {
  switch (status) {
    case "CONNECTED":
    case "LINKED":
      return "ok";
    case "PENDING":
    case "MIGRATED":
      return "pending";
    case "BANNED":
    case "RESTRICTED":
    case "FLAGGED":
    case "DISCONNECTED":
    case "UNLINKED":
    case "DELETED":
      return "denied";
    default:
      return "neutral";
  }
}

/** Meta's names for the business verticals of a profile. */
const VERTICALS: Readonly<Record<string, string>> = {
  OTHER: "Other",
  AUTO: "Automotive",
  BEAUTY: "Beauty, spa and salon",
  APPAREL: "Clothing and apparel",
  EDU: "Education",
  ENTERTAIN: "Entertainment",
  EVENT_PLAN: "Event planning and service",
  FINANCE: "Finance and banking",
  GROCERY: "Food and grocery",
  GOVT: "Public service",
  HOTEL: "Hotel and lodging",
  HEALTH: "Medical and health",
  NONPROFIT: "Non-profit",
  PROF_SERVICES: "Professional services",
  RETAIL: "Shopping and retail",
  TRAVEL: "Travel and transportation",
  RESTAURANT: "Restaurant",
  ALCOHOL: "Alcoholic beverages",
  ONLINE_GAMBLING: "Online gambling and gaming",
  PHYSICAL_GAMBLING: "Non-online gambling and gaming",
  OTC_DRUGS: "Over-the-counter drugs",
};

export function verticalLabel(vertical: string | null): string {
  if (vertical === null || vertical === "") return "—";
  return VERTICALS[vertical] ?? words(vertical);
}

/** When the cached numbers were fetched from Meta (the latest), or null when nothing is cached. */
export function lastFetched(numbers: readonly NumberView[]): number | null {
  return numbers.reduce<number | null>((max, n) => (max === null || n.fetched_at > max ? n.fetched_at : max), null);
}

/** Only data: URLs from the core are shown; the webview never loads a remote picture. */
export function safePicture(dataUrl: string | null | undefined): string | null {
  return typeof dataUrl === "string" && /^data:image\//i.test(dataUrl) ? dataUrl : null;
}
