import { describe, expect, it } from "vitest";
import { formatPhone } from "./phone";

describe("phone numbers for display", () => {
  it("formats E.164 numbers internationally, by country", () => {
    expect(formatPhone("+12017300042")).toBe("+1 201 730 0042");
    expect(formatPhone("+442079460958")).toBe("+44 20 7946 0958");
    expect(formatPhone("+40721000003")).toBe("+40 721 000 003");
  });
  it("leaves anything else as it is", () => {
    expect(formatPhone("US.1349120865530199")).toBe("US.1349120865530199");
    expect(formatPhone("+1")).toBe("+1");
    expect(formatPhone(null)).toBe("");
  });
});
