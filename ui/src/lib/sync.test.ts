import { describe, expect, it } from "vitest";
import type { SyncStatus } from "./bindings/SyncStatus";
import { describeSync } from "./sync";

const base: SyncStatus = {
  state: "live",
  relay_url: "https://relay.example.com",
  cursor: 1200,
  head: 1200,
  behind: 0,
  outbox: 0,
  last_error: null,
  retry_in_ms: null,
  last_contact: null,
  warning: null,
  refused: 0,
};

describe("describeSync", () => {
  it("says synced when live with nothing to send", () => {
    const v = describeSync(base);
    expect(v.tone).toBe("ok");
    expect(v.label).toBe("Synced");
    expect(v.detail).toContain("relay.example.com");
  });

  it("counts what is left while catching up, and own changes waiting", () => {
    const v = describeSync({ ...base, state: "catching_up", behind: 10000, outbox: 2 });
    expect(v.tone).toBe("busy");
    expect(v.label).toBe(`Catching up · ${(10000).toLocaleString()} events`);
    expect(v.detail).toContain("2 changes of yours");
  });

  it("says offline with the next retry and the reason", () => {
    const v = describeSync({ ...base, state: "reconnecting", retry_in_ms: 4200, last_error: "cannot reach the relay: refused" });
    expect(v.tone).toBe("warn");
    expect(v.label).toBe("Offline · retry in 4 s");
    expect(v.detail).toContain("cannot reach the relay");
  });

  it("tells a refused desktop to ask for a new token, and an unconfigured one that nothing syncs", () => {
    expect(describeSync({ ...base, state: "refused", last_error: "this token was revoked" }).detail).toContain("revoked");
    expect(describeSync({ ...base, state: "not_configured" }).tone).toBe("off");
  });

  it("does not say plainly synced while a resumed sync or refused changes need reading", () => {
    const w = describeSync({ ...base, warning: "This desktop was away longer than the relay keeps events: events 11 to 15 were deleted." });
    expect(w.tone).toBe("warn");
    expect(w.label).toBe("Synced · see Settings");
    expect(w.detail).toContain("events 11 to 15");
    const r = describeSync({ ...base, refused: 2 });
    expect(r.label).toBe("Synced · 2 refused");
    expect(r.detail).toContain("2 changes of yours refused");
    // Offline stays offline: the warning does not hide it.
    expect(describeSync({ ...base, state: "reconnecting", warning: "x" }).label).toContain("Offline");
  });
});
