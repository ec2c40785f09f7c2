import { describe, expect, it } from "vitest";
import { countOf, formatDate, formatDateTime, humanize, initials, roleName, screenLabel, SCREENS } from "./format";

describe("formatDateTime", () => {
  it("shows local time as yyyy-mm-dd hh:mm:ss with zero padding", () => {
    const ms = new Date(2026, 0, 5, 7, 3, 9).getTime();
    expect(formatDateTime(ms)).toBe("2026-01-05 07:03:09");
    expect(formatDate(ms)).toBe("2026-01-05");
  });

  it("does not print NaN for an impossible time", () => {
    expect(formatDateTime(Number.NaN)).toBe("—");
    expect(formatDate(Number.POSITIVE_INFINITY)).toBe("—");
  });
});

describe("roleName", () => {
  const roles = [
    { id: 1, name: "Administrator", is_admin: true, permissions: [] },
    { id: 2, name: "Sales", is_admin: false, permissions: [] },
  ];
  it("looks the role up by id", () => {
    expect(roleName(roles, 2)).toBe("Sales");
  });
  it("says so when the role is unknown", () => {
    expect(roleName(roles, 9)).toBe("Unknown role #9");
  });
});

describe("labels and words", () => {
  it("knows the eleven screens in navigation order", () => {
    expect(SCREENS).toHaveLength(14);
    expect(SCREENS[0]).toBe("chat");
    expect(SCREENS[9]).toBe("activity_log");
    expect(screenLabel("bulk_contacts")).toBe("Bulk Contacts");
    expect(screenLabel("mystery")).toBe("mystery");
  });

  it("counts in words", () => {
    expect(countOf(1, "entry", "entries")).toBe("1 entry");
    expect(countOf(12_500, "entry", "entries")).toBe("12,500 entries");
    expect(countOf(0, "role")).toBe("0 roles");
  });

  it("makes initials and readable action names", () => {
    expect(initials("Ana María López")).toBe("AL");
    expect(initials("  ana ")).toBe("A");
    expect(initials("")).toBe("?");
    expect(initials("Ana Ruiz (sandbox)")).toBe("AS");
    expect(initials("Ben (sandbox)")).toBe("BS");
    expect(humanize("load_template")).toBe("load template");
  });
});
