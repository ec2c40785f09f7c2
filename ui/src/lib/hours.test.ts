import { describe, expect, it } from "vitest";
import { daysForm, hhmm, hoursOf, minutesOf } from "./hours";

describe("business hours form", () => {
  it("reads and writes HH:MM, midnight closing included", () => {
    expect(hhmm(540)).toBe("09:00");
    expect(minutesOf("9:30")).toBe(570);
    expect(minutesOf("24:00")).toBe(1440);
    expect(minutesOf("24:01")).toBeNull();
    expect(minutesOf("12:60")).toBeNull();
    expect(minutesOf("noon")).toBeNull();
  });

  it("round-trips the core's hours and names the first bad day", () => {
    const open = { opens: 540, closes: 1020 };
    const hours = { time_zone: "Europe/Bucharest", days: [open, open, open, open, open, null, null], default: false };
    const form = daysForm(hours);
    expect(form[5]?.open).toBe(false);
    expect(hoursOf("Europe/Bucharest", form)).toEqual(hours);
    form[2] = { open: true, opens: "18:00", closes: "09:00" };
    expect(hoursOf("Europe/Bucharest", form)).toBe("Wednesday closes before it opens.");
    expect(hoursOf(" ", form)).toBe("Choose a time zone.");
  });
});
