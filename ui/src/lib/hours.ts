// Business hours as the Settings form edits them: a day's opening and closing as "HH:MM" text,
// converted to and from the minutes after midnight the core keeps.
import type { BusinessHours } from "./bindings/BusinessHours";

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;

export interface DayForm {
  open: boolean;
  opens: string;
  closes: string;
}

/** 540 → "09:00". */
export function hhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

/** "09:00" → 540; "24:00" → 1440 (closing at midnight); null for anything else. */
export function minutesOf(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

export function daysForm(hours: BusinessHours): DayForm[] {
  return WEEKDAYS.map((_, i) => {
    const d = hours.days[i] ?? null;
    return d ? { open: true, opens: hhmm(d.opens), closes: hhmm(d.closes) } : { open: false, opens: "09:00", closes: "17:00" };
  });
}

/** The hours the form says, or the first problem in plain words. */
export function hoursOf(timeZone: string, days: readonly DayForm[]): BusinessHours | string {
  const out: BusinessHours = { time_zone: timeZone.trim(), days: [], default: false };
  if (out.time_zone === "") return "Choose a time zone.";
  for (const [i, d] of days.entries()) {
    if (!d.open) {
      out.days.push(null);
      continue;
    }
    const opens = minutesOf(d.opens);
    const closes = minutesOf(d.closes);
    if (opens === null || closes === null) return `${WEEKDAYS[i]}: write the hours as HH:MM.`;
    if (closes <= opens) return `${WEEKDAYS[i]} closes before it opens.`;
    out.days.push({ opens, closes });
  }
  return out;
}

/** The time zones this window knows, for suggestions (none where the browser cannot list them). */
export function knownTimeZones(): string[] {
  try {
    const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}
