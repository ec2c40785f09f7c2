// The Activity Log's filter form, and its conversion into the core's LogFilter.

import type { LogCursor } from "./bindings/LogCursor";
import type { LogFilter } from "./bindings/LogFilter";
import type { Screen } from "./bindings/Screen";

/** What the filter toolbar holds. Empty strings mean "no filter". */
export interface LogFilterForm {
  /** A staff id as the <select> holds it, or "" for all staff. */
  staff: string;
  /** A Screen key, or "" for all sub-modules. */
  module: Screen | "";
  /** yyyy-mm-dd from an <input type="date">, or "". */
  from: string;
  /** yyyy-mm-dd, inclusive of that whole day, or "". */
  to: string;
}

export const EMPTY_FILTER: LogFilterForm = { staff: "", module: "", from: "", to: "" };

export const PAGE_SIZE = 100;

/** Local midnight at the start of `date` (yyyy-mm-dd) plus `addDays` days, or null if invalid. */
export function localMidnight(date: string, addDays = 0): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(year, month - 1, day);
  // Reject dates that roll over (2026-02-30) rather than guess what was meant.
  if (probe.getFullYear() !== year || probe.getMonth() !== month - 1 || probe.getDate() !== day) {
    return null;
  }
  // Constructing from parts keeps daylight-saving changes right: midnight is local midnight.
  return new Date(year, month - 1, day + addDays).getTime();
}

/** Why the date range cannot be used, or null when it can. */
export function rangeProblem(form: LogFilterForm): string | null {
  const from = form.from ? localMidnight(form.from) : null;
  const to = form.to ? localMidnight(form.to) : null;
  if (form.from && from === null) return "The start date is not a valid date.";
  if (form.to && to === null) return "The end date is not a valid date.";
  if (from !== null && to !== null && to < from) return "The end date is before the start date.";
  return null;
}

/**
 * The core's filter for the form: `from_ms` is the local midnight starting the "from" day
 * (inclusive) and `to_ms` the local midnight after the "to" day (exclusive), so the "to" day
 * is included whole.
 */
export function toLogFilter(
  form: LogFilterForm,
  after: LogCursor | null = null,
  limit = PAGE_SIZE,
): LogFilter {
  const filter: LogFilter = { limit };
  if (form.staff !== "") {
    const id = Number(form.staff);
    if (Number.isInteger(id)) filter.staff_id = id;
  }
  if (form.module !== "") filter.module = form.module;
  const from = form.from ? localMidnight(form.from) : null;
  if (from !== null) filter.from_ms = from;
  const to = form.to ? localMidnight(form.to, 1) : null;
  if (to !== null) filter.to_ms = to;
  if (after) filter.after = after;
  return filter;
}

export function isFiltered(form: LogFilterForm): boolean {
  return form.staff !== "" || form.module !== "" || form.from !== "" || form.to !== "";
}
