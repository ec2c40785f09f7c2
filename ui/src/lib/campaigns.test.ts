import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CampaignFigures } from "./bindings/CampaignFigures";
import {
  audienceSummary,
  campaignActions,
  chartGeometry,
  EMPTY_LEAD_AUDIENCE,
  formatPercent,
  leadAudienceFilter,
  leadAudienceForm,
  limitWarning,
  localInputToMs,
  matchesSearch,
  msToLocalInput,
  niceScale,
  pageOffsets,
  percent,
  problemsByField,
  progressOf,
  shortTime,
  retargetCounts,
  stackSegments,
  stateCount,
  statusTone,
  throttle,
  timeLabel,
} from "./campaigns";

function figures(over: Partial<CampaignFigures> = {}): CampaignFigures {
  return {
    total: 0,
    recipients: 0,
    waiting: 0,
    sending: 0,
    attention: 0,
    accepted: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    replied: 0,
    failed: 0,
    deferred: 0,
    skipped: 0,
    held: 0,
    delivered_pct: 0,
    read_pct: 0,
    ...over,
  };
}

const NOW = Date.UTC(2026, 5, 3, 12, 0, 0);

describe("campaignActions", () => {
  it("lets a draft be planned, edited and deleted, but not started", () => {
    const a = campaignActions({ status: "draft", start_at: null, figures: figures() }, NOW);
    expect(a).toEqual({ plan: true, start: null, pause: false, resume: false, stop: false, edit: true, delete: true, retarget: [] });
  });

  it("starts a planned one now, or schedules it when its start time is ahead", () => {
    expect(campaignActions({ status: "planned", start_at: null, figures: figures() }, NOW).start).toBe("start");
    expect(campaignActions({ status: "planned", start_at: NOW - 60_000, figures: figures() }, NOW).start).toBe("start");
    expect(campaignActions({ status: "planned", start_at: NOW + 60_000, figures: figures() }, NOW).start).toBe("schedule");
    expect(campaignActions({ status: "planned", start_at: null, figures: figures() }, NOW).plan).toBe(true);
  });

  it("never deletes or edits a running or scheduled campaign, and pauses or stops it", () => {
    for (const status of ["running", "scheduled"] as const) {
      const a = campaignActions({ status, start_at: null, figures: figures() }, NOW);
      expect(a.delete).toBe(false);
      expect(a.edit).toBe(false);
      expect(a.plan).toBe(false);
      expect(a.pause).toBe(true);
      expect(a.stop).toBe(true);
      expect(a.resume).toBe(false);
    }
  });

  it("resumes or stops a paused one; a finished one can only be deleted or retargeted", () => {
    const paused = campaignActions({ status: "paused", start_at: null, figures: figures() }, NOW);
    expect([paused.resume, paused.stop, paused.pause, paused.delete]).toEqual([true, true, false, true]);
    const done = campaignActions({ status: "completed", start_at: null, figures: figures({ failed: 2, deferred: 0, accepted: 10, read: 7 }) }, NOW);
    expect([done.resume, done.stop, done.pause, done.edit, done.plan, done.delete]).toEqual([false, false, false, false, false, true]);
    expect(done.retarget).toEqual(["failed", "unread"]);
  });

  it("offers no retarget before anything was sent", () => {
    expect(campaignActions({ status: "planned", start_at: null, figures: figures({ failed: 3 }) }, NOW).retarget).toEqual([]);
  });
});

describe("retargetCounts", () => {
  it("counts failed and deferred exactly and estimates the unread", () => {
    expect(retargetCounts(figures({ accepted: 100, read: 60, failed: 5, deferred: 3, held: 2 }))).toEqual({
      failed: 5,
      deferred: 3,
      unread: 34,
    });
    expect(retargetCounts(figures({ accepted: 10, read: 10 })).unread).toBe(0);
  });
});

describe("percentages and progress", () => {
  it("rounds to one decimal and is 0 of nothing", () => {
    expect(percent(1, 3)).toBe(33.3);
    expect(percent(2, 3)).toBe(66.7);
    expect(percent(5, 0)).toBe(0);
    expect(formatPercent(33.3)).toBe("33.3%");
    expect(formatPercent(100)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
  });

  it("measures progress as sent, failed and skipped of all rows, never past 100%", () => {
    expect(progressOf(figures({ total: 10, sent: 4, failed: 1, skipped: 1 }))).toBeCloseTo(0.6);
    expect(progressOf(figures({ total: 0 }))).toBe(0);
    expect(progressOf(figures({ total: 4, sent: 4, failed: 2 }))).toBe(1);
  });
});

describe("stackSegments", () => {
  it("adds up to the total, with read, delivered and sent split from the cumulative figures", () => {
    const f = figures({ total: 100, sent: 70, delivered: 60, read: 30, replied: 5, failed: 10, skipped: 8, waiting: 12, accepted: 75 });
    const segs = stackSegments(f);
    expect(segs.reduce((s, x) => s + x.count, 0)).toBe(100);
    const by = Object.fromEntries(segs.map((s) => [s.key, s.count]));
    expect(by).toEqual({ read: 25, replied: 5, delivered: 30, sent: 10, failed: 10, planned: 12, skipped: 8 });
    expect(segs.map((s) => s.key)).toEqual(["read", "replied", "delivered", "sent", "failed", "planned", "skipped"]);
  });

  it("caps inconsistent cumulative figures by what is left", () => {
    const segs = stackSegments(figures({ total: 10, failed: 4, sent: 10, delivered: 10, read: 10 }));
    expect(segs.reduce((s, x) => s + x.count, 0)).toBe(10);
    expect(segs.find((s) => s.key === "read")?.count).toBe(6);
  });

  it("is empty for a campaign without rows", () => {
    expect(stackSegments(figures())).toEqual([]);
  });
});

describe("stateCount", () => {
  it("answers exact states and nothing for the cumulative ones", () => {
    const f = figures({ waiting: 3, attention: 2, failed: 1, sent: 9 });
    expect(stateCount(f, "planned")).toBe(3);
    expect(stateCount(f, "attention")).toBe(2);
    expect(stateCount(f, "failed")).toBe(1);
    expect(stateCount(f, "sent")).toBeNull();
    expect(stateCount(f, "read")).toBeNull();
  });
});

describe("statusTone", () => {
  it("colours statuses", () => {
    expect(statusTone("running")).toBe("ok");
    expect(statusTone("paused")).toBe("pending");
    expect(statusTone("stopped")).toBe("denied");
    expect(statusTone("draft")).toBe("neutral");
  });
});

describe("limitWarning", () => {
  it("says nothing when the campaign fits in a day", () => {
    expect(limitWarning({ messaging_limit: 1000, days_needed: 1, recipients: 800 })).toBeNull();
  });

  it("names the limit and the days needed", () => {
    expect(limitWarning({ messaging_limit: 250, days_needed: 3, recipients: 700 })).toBe(
      "Meta's messaging limit lets 250 recipients a day: this campaign needs 3 days to reach its 700 recipients.",
    );
  });
});

describe("audienceSummary", () => {
  const lookups = {
    groups: [{ id: 4, name: "VIP" }],
    statuses: [
      { id: 1, name: "New" },
      { id: 2, name: "Qualified" },
      { id: 3, name: "Won" },
    ],
    staff: [{ id: 9, name: "Ana" }],
    campaigns: [{ uid: "abc", name: "Spring sale" }],
  };

  it("says every lead when the filter is empty", () => {
    expect(audienceSummary({ kind: "leads", filter: { status_ids: [], unassigned: false } }, lookups)).toBe("All leads");
  });

  it("names the lead filter's statuses, source, assignee and WhatsApp", () => {
    expect(
      audienceSummary(
        { kind: "leads", filter: { status_ids: [1, 2, 3], source: "Website", assigned_staff_id: 9, unassigned: false, has_whatsapp: true } },
        lookups,
      ),
    ).toBe("Leads: status New, Qualified or Won, source “Website”, assigned to Ana, with a WhatsApp number");
    expect(audienceSummary({ kind: "leads", filter: { status_ids: [7], unassigned: true } }, lookups)).toBe(
      "Leads: status #7, assigned to nobody",
    );
  });

  it("combines a group and picked contacts", () => {
    expect(audienceSummary({ kind: "contacts", group_id: 4, ids: [1, 2, 3] }, lookups)).toBe("Group “VIP” + 3 contacts");
    expect(audienceSummary({ kind: "contacts", ids: [1] }, lookups)).toBe("1 contact");
    expect(audienceSummary({ kind: "contacts", group_id: 8, ids: [] }, lookups)).toBe("Group #8");
  });

  it("names the campaign a retargeted one comes from", () => {
    expect(audienceSummary({ kind: "retarget", campaign_uid: "abc", which: "unread" }, lookups)).toBe("Unread recipients of “Spring sale”");
    expect(audienceSummary({ kind: "retarget", campaign_uid: "zzz", which: "failed" }, lookups)).toBe("Failed recipients of an earlier campaign");
  });
});

describe("the lead audience form", () => {
  it("builds the core's filter, the 'to' day included", () => {
    const filter = leadAudienceFilter({ ...EMPTY_LEAD_AUDIENCE, statusIds: [1, 2], staff: "9", from: "2026-03-01", to: "2026-03-31", whatsapp: "yes", source: " Website " });
    expect(filter.status_ids).toEqual([1, 2]);
    expect(filter.assigned_staff_id).toBe(9);
    expect(filter.unassigned).toBe(false);
    expect(filter.source).toBe("Website");
    expect(filter.has_whatsapp).toBe(true);
    expect(filter.created_from).toBe(new Date(2026, 2, 1).getTime());
    expect(filter.created_to).toBe(new Date(2026, 3, 1).getTime());
    expect(filter.offset).toBeUndefined();
    expect(filter.limit).toBeUndefined();
  });

  it("leaves out what is not set and says 'nobody' with unassigned", () => {
    expect(leadAudienceFilter({ ...EMPTY_LEAD_AUDIENCE, staff: "none" })).toEqual({ status_ids: [], unassigned: true });
    expect(leadAudienceFilter(EMPTY_LEAD_AUDIENCE)).toEqual({ status_ids: [], unassigned: false });
  });

  it("reads a stored filter back into the same form", () => {
    const form = { ...EMPTY_LEAD_AUDIENCE, statusIds: [3], staff: "none", from: "2026-01-10", to: "2026-02-28", whatsapp: "no" as const, search: "acme" };
    expect(leadAudienceForm(leadAudienceFilter(form))).toEqual(form);
  });
});

describe("start times", () => {
  it("reads a datetime-local value in local time and writes it back", () => {
    const ms = localInputToMs("2026-06-03T14:05");
    expect(ms).toBe(new Date(2026, 5, 3, 14, 5).getTime());
    expect(msToLocalInput(ms ?? 0)).toBe("2026-06-03T14:05");
  });

  it("refuses empty and impossible times", () => {
    expect(localInputToMs("")).toBeNull();
    expect(localInputToMs("2026-02-30T10:00")).toBeNull();
    expect(localInputToMs("2026-06-03 14:05")).toBeNull();
  });
});

describe("shortTime", () => {
  it("shows the time today, the day this year and the date before", () => {
    const now = new Date(2026, 5, 3, 18, 0).getTime();
    expect(shortTime(new Date(2026, 5, 3, 9, 7).getTime(), now)).toBe("09:07");
    expect(shortTime(new Date(2026, 4, 28, 23, 59).getTime(), now)).toBe("05-28 23:59");
    expect(shortTime(new Date(2025, 11, 30, 8, 0).getTime(), now)).toBe("2025-12-30");
  });
});

describe("problemsByField", () => {
  it("puts each problem under its field and the rest aside", () => {
    const { byField, other } = problemsByField(
      [
        { field: "name", message: "too long" },
        { field: "audience", message: "choose a group" },
        { field: "template_id", message: "not approved" },
        { field: "folder", message: "cannot write" },
      ],
      ["name", "template_id", "audience"],
    );
    expect(byField.get("name")).toEqual(["too long"]);
    expect(byField.get("template_id")).toEqual(["not approved"]);
    expect(byField.get("audience")).toEqual(["choose a group"]);
    expect(other).toEqual(["cannot write"]);
  });
});

describe("niceScale", () => {
  it("rounds the axis up to a tidy number of ticks", () => {
    expect(niceScale(0)).toEqual({ max: 1, step: 1 });
    expect(niceScale(3)).toEqual({ max: 3, step: 1 });
    expect(niceScale(87)).toEqual({ max: 100, step: 25 });
    expect(niceScale(1234)).toEqual({ max: 1500, step: 500 });
  });
});

describe("chartGeometry", () => {
  const box = { width: 400, height: 200, left: 40, right: 10, top: 10, bottom: 30 };

  it("is empty without points", () => {
    const g = chartGeometry({ bucket_ms: 0, points: [] }, box);
    expect(g.empty).toBe(true);
    expect(g.sent).toBe("");
  });

  it("starts each line at zero and ends it at the last period's end, scaled to the plot", () => {
    const t0 = new Date(2026, 5, 3, 10, 0).getTime();
    const g = chartGeometry(
      {
        bucket_ms: 60_000,
        points: [
          { at: t0, sent: 50, delivered: 20, read: 0 },
          { at: t0 + 60_000, sent: 100, delivered: 80, read: 40 },
        ],
      },
      box,
    );
    // plot: x 40…390, y 10…170; y max 100.
    expect(g.plot).toEqual({ x: 40, y: 10, width: 350, height: 160 });
    expect(g.sent).toBe("M40,170 L215,90 L390,10");
    expect(g.read).toBe("M40,170 L215,170 L390,106");
    expect(g.yTicks.map((t) => t.value)).toEqual([0, 25, 50, 75, 100]);
    expect(g.yTicks[0]?.y).toBe(170);
    expect(g.xTicks.map((t) => t.label)).toEqual(["10:00", "10:01", "10:02"]);
    expect(g.last).toEqual({ sent: 100, delivered: 80, read: 40 });
  });

  it("labels the days when the campaign spans more than one", () => {
    const t0 = new Date(2026, 5, 3, 10, 0).getTime();
    const g = chartGeometry({ bucket_ms: 3_600_000, points: [{ at: t0, sent: 1, delivered: 0, read: 0 }, { at: t0 + 47 * 3_600_000, sent: 2, delivered: 1, read: 0 }] }, box);
    expect(g.xTicks[0]?.label).toBe("06-03 10:00");
    expect(g.xTicks[2]?.label).toBe("06-05 10:00");
  });
});

describe("throttle", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs at once, then merges the calls of the next 500 ms into one", () => {
    const fn = vi.fn();
    const t = throttle(fn, 500);
    t.call();
    expect(fn).toHaveBeenCalledTimes(1);
    t.call();
    t.call();
    t.call();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(2000);
    expect(fn).toHaveBeenCalledTimes(2);
    t.call();
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("drops a pending run when cancelled", () => {
    const fn = vi.fn();
    const t = throttle(fn, 500);
    t.call();
    t.call();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe("pageOffsets", () => {
  it("names the pages a range of rows falls in", () => {
    expect(pageOffsets(0, 30)).toEqual([0]);
    expect(pageOffsets(190, 230)).toEqual([0, 200]);
    expect(pageOffsets(400, 400)).toEqual([]);
    expect(pageOffsets(0, 10, 5)).toEqual([0, 5]);
  });
});

describe("matchesSearch", () => {
  it("matches name, template and status, ignoring case", () => {
    const c = { name: "Spring sale", template_name: "promo_april", status: "paused" as const };
    expect(matchesSearch(c, "SPRING")).toBe(true);
    expect(matchesSearch(c, "promo")).toBe(true);
    expect(matchesSearch(c, "paused")).toBe(true);
    expect(matchesSearch(c, "winter")).toBe(false);
    expect(matchesSearch(c, "  ")).toBe(true);
  });
});

describe("timeLabel", () => {
  it("says the seconds on a chart of a few minutes, the day on one of several days", () => {
    const at = new Date(2026, 11, 7, 15, 15, 42).getTime();
    expect(timeLabel(at, 90_000)).toBe("15:15:42");
    expect(timeLabel(at, 3 * 3600 * 1000)).toBe("15:15");
    expect(timeLabel(at, 3 * 24 * 3600 * 1000)).toBe("12-07 15:15");
  });
});
