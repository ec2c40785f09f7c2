import { describe, expect, it } from "vitest";
import type { AutomationStatus } from "./bindings/AutomationStatus";
import { ago, describeAutomation, someNames } from "./automation";

const base: AutomationStatus = {
  here: "standby",
  running: true,
  holder: "runner@srv-1",
  desktop: false,
  since: 1_010_000,
  heartbeat_at: 1_058_000,
  status: "2 bots",
  message: "Bots and campaigns run on runner@srv-1",
  bots_on: ["Opening hours", "Prices"],
  campaigns_running: ["Spring sale"],
};

describe("describeAutomation", () => {
  it("names the runner, since when and its last heartbeat", () => {
    const v = describeAutomation(base, 1_060_000);
    expect(v.tone).toBe("ok");
    expect(v.lines).toContain("Runs on runner@srv-1 (runner)");
    expect(v.lines).toContain("Since 50 s ago");
    expect(v.lines).toContain("Last heartbeat 2 s ago");
    expect(v.lines).toContain("Doing: 2 bots");
    expect(v.lines).toContain("Bots on (2): Opening hours, Prices");
    expect(v.lines).toContain("Campaigns sending (1): Spring sale");
  });

  it("says what waits when nothing runs them, and when nothing is to do", () => {
    const paused = describeAutomation({ ...base, running: false, here: "unreachable", message: "Bots and campaigns are paused: no runner is connected" }, 0);
    expect(paused.lines[paused.lines.length - 1]).toBe("Waiting for a runner: Bots on (2): Opening hours, Prices; Campaigns sending (1): Spring sale");
    const idle = describeAutomation({ ...base, bots_on: [], campaigns_running: [] }, 1_060_000);
    expect(idle.lines[idle.lines.length - 1]).toBe("No bot is on and no campaign is sending");
    const quiet = describeAutomation({ ...base, running: false, here: "off", bots_on: [], campaigns_running: [] }, 0);
    expect(quiet.lines.some((l) => l.startsWith("Waiting"))).toBe(false);
  });

  it("shortens a long list of names", () => {
    expect(someNames(["a", "b", "c"])).toBe("a, b, c");
    expect(someNames(["a", "b", "c", "d", "e"])).toBe("a, b, c and 2 more");
  });

  it("says plainly when nothing runs them", () => {
    const v = describeAutomation({ ...base, running: false, here: "refused", message: "Bots and campaigns are paused: no runner is connected" }, 0);
    expect(v.label).toBe("Automation paused");
    expect(v.lines[0]).toBe("Bots and campaigns are paused: no runner is connected");
    expect(v.lines[1]).toContain("role may not");
  });

  it("counts in seconds, minutes and hours", () => {
    expect(ago(0, 59_000)).toBe("59 s ago");
    expect(ago(0, 5 * 60_000)).toBe("5 min ago");
    expect(ago(0, 3 * 3_600_000)).toBe("3 h ago");
  });
});
