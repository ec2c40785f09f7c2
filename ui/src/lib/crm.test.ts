import { describe, expect, it } from "vitest";
import {
  EMPTY_LEAD_FILTER,
  dayStart,
  documentTotal,
  formatAmount,
  formatQuantity,
  isFiltered,
  leadFilter,
  lineAmount,
  parseAmount,
  parseQuantity,
  staffNameOf,
  today,
} from "./crm";

describe("leadFilter", () => {
  it("sends only the criteria that are set", () => {
    expect(leadFilter(EMPTY_LEAD_FILTER)).toEqual({ status_ids: [], unassigned: false, offset: 0, limit: 200 });
    expect(isFiltered(EMPTY_LEAD_FILTER)).toBe(false);
  });

  it("maps every control to the core's filter", () => {
    const form = { search: " ana ", status: "3", source: "Website", staff: "7", from: "2026-11-01", to: "2026-11-30", whatsapp: "yes" };
    const f = leadFilter(form, 400);
    expect(f.search).toBe("ana");
    expect(f.status_ids).toEqual([3]);
    expect(f.source).toBe("Website");
    expect(f.assigned_staff_id).toBe(7);
    expect(f.unassigned).toBe(false);
    expect(f.created_from).toBe(new Date(2026, 10, 1).getTime());
    expect(f.created_to).toBe(new Date(2026, 11, 1).getTime()); // the "to" day is included
    expect(f.has_whatsapp).toBe(true);
    expect(f.offset).toBe(400);
    expect(isFiltered(form)).toBe(true);
  });

  it("asks for unassigned leads and leads without WhatsApp", () => {
    const f = leadFilter({ ...EMPTY_LEAD_FILTER, staff: "none", whatsapp: "no" });
    expect(f.unassigned).toBe(true);
    expect(f.assigned_staff_id).toBeUndefined();
    expect(f.has_whatsapp).toBe(false);
  });

  it("ignores dates that are not dates", () => {
    expect(dayStart("2026-02-30")).toBeNull();
    expect(dayStart("30.01.2026")).toBeNull();
    expect(leadFilter({ ...EMPTY_LEAD_FILTER, from: "nope" }).created_from).toBeUndefined();
  });
});

describe("amounts", () => {
  it("parses amounts in minor units and refuses what is not one", () => {
    expect(parseAmount("12.5", 2)).toBe(1250);
    expect(parseAmount("1,234.56", 2)).toBe(123456);
    expect(parseAmount("500", 0)).toBe(500);
    expect(parseAmount("1.250", 3)).toBe(1250);
    expect(parseAmount("1.255", 2)).toBeNull();
    expect(parseAmount("-1", 2)).toBeNull();
    expect(parseAmount("abc", 2)).toBeNull();
    expect(parseAmount("", 2)).toBeNull();
  });

  it("formats minor units", () => {
    expect(formatAmount(123456, 2)).toBe("1,234.56");
    expect(formatAmount(5, 2)).toBe("0.05");
    expect(formatAmount(70000, 0)).toBe("70,000");
    expect(formatAmount(-100, 2)).toBe("-1.00");
  });

  it("parses quantities in thousandths", () => {
    expect(parseQuantity("1.5")).toBe(1500);
    expect(parseQuantity("2")).toBe(2000);
    expect(parseQuantity("0")).toBeNull();
    expect(parseQuantity("0.0001")).toBeNull();
    expect(formatQuantity(1500)).toBe("1.5");
    expect(formatQuantity(2000)).toBe("2");
  });

  it("totals lines as the core does, rounding half up", () => {
    expect(lineAmount({ quantity_milli: 1500, unit_price: 1001 })).toBe(1502);
    expect(documentTotal([{ quantity_milli: 1000, unit_price: 50000 }, { quantity_milli: 2500, unit_price: 8000 }])).toBe(70000);
    expect(documentTotal([])).toBe(0);
  });
});

describe("names and dates", () => {
  it("names staff, or says who is unknown", () => {
    const staff = [{ id: 1, name: "Ana", username: "ana", active: true }];
    expect(staffNameOf(staff, 1)).toBe("Ana");
    expect(staffNameOf(staff, null)).toBe("Unassigned");
    expect(staffNameOf(staff, 9)).toBe("Staff #9");
  });

  it("writes today as YYYY-MM-DD", () => {
    expect(today(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});
