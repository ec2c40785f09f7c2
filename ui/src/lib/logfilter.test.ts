import { describe, expect, it } from "vitest";
import { EMPTY_FILTER, isFiltered, localMidnight, rangeProblem, toLogFilter } from "./logfilter";

describe("localMidnight", () => {
  it("is the local midnight of the day", () => {
    expect(localMidnight("2026-06-03")).toBe(new Date(2026, 5, 3, 0, 0, 0, 0).getTime());
  });

  it("adds days across month and year ends", () => {
    expect(localMidnight("2026-01-31", 1)).toBe(new Date(2026, 1, 1).getTime());
    expect(localMidnight("2025-12-31", 1)).toBe(new Date(2026, 0, 1).getTime());
    expect(localMidnight("2028-02-28", 1)).toBe(new Date(2028, 1, 29).getTime());
  });

  it("rejects malformed and impossible dates", () => {
    expect(localMidnight("")).toBeNull();
    expect(localMidnight("2026-6-3")).toBeNull();
    expect(localMidnight("2026-02-30")).toBeNull();
    expect(localMidnight("2026-13-01")).toBeNull();
  });
});

describe("toLogFilter", () => {
  it("asks for a first page of 100 when nothing is filtered", () => {
    expect(toLogFilter(EMPTY_FILTER)).toEqual({ limit: 100 });
    expect(isFiltered(EMPTY_FILTER)).toBe(false);
  });

  it("makes the end date inclusive: to_ms is the next local midnight, exclusive", () => {
    const f = toLogFilter({ ...EMPTY_FILTER, from: "2026-06-01", to: "2026-06-03" });
    expect(f.from_ms).toBe(new Date(2026, 5, 1).getTime());
    expect(f.to_ms).toBe(new Date(2026, 5, 4).getTime());
    const lastMomentOfTheDay = new Date(2026, 5, 3, 23, 59, 59, 999).getTime();
    expect(lastMomentOfTheDay).toBeLessThan(f.to_ms!);
    expect(lastMomentOfTheDay + 1).toBe(f.to_ms);
  });

  it("lets a single day be chosen with the same from and to", () => {
    const f = toLogFilter({ ...EMPTY_FILTER, from: "2026-06-03", to: "2026-06-03" });
    expect(f.to_ms! - f.from_ms!).toBeGreaterThanOrEqual(23 * 3600_000);
    expect(f.to_ms! - f.from_ms!).toBeLessThanOrEqual(25 * 3600_000);
  });

  it("passes staff, module, cursor and limit through", () => {
    const f = toLogFilter({ staff: "12", module: "bulk_contacts", from: "", to: "" }, { at: 1_780_000_000_000, id: 9 }, 50);
    expect(f).toEqual({ staff_id: 12, module: "bulk_contacts", after: { at: 1_780_000_000_000, id: 9 }, limit: 50 });
  });

  it("leaves out dates it cannot read", () => {
    expect(toLogFilter({ ...EMPTY_FILTER, from: "yesterday" })).toEqual({ limit: 100 });
  });
});

describe("rangeProblem", () => {
  it("accepts open and ordered ranges", () => {
    expect(rangeProblem(EMPTY_FILTER)).toBeNull();
    expect(rangeProblem({ ...EMPTY_FILTER, from: "2026-06-01" })).toBeNull();
    expect(rangeProblem({ ...EMPTY_FILTER, from: "2026-06-01", to: "2026-06-01" })).toBeNull();
  });

  it("names a reversed or invalid range", () => {
    expect(rangeProblem({ ...EMPTY_FILTER, from: "2026-06-02", to: "2026-06-01" })).toBe("The end date is before the start date.");
    expect(rangeProblem({ ...EMPTY_FILTER, to: "2026-02-31" })).toBe("The end date is not a valid date.");
  });
});
