import { describe, expect, it } from "vitest";
import type { NumberView } from "./bindings/NumberView";
import { formatLimit, lastFetched, qualityLabel, qualityTone, safePicture, statusTone, verticalLabel, words } from "./numbers";

describe("numbers formatting", () => {
  it("colours quality ratings", () => {
    expect(["GREEN", "YELLOW", "RED", "UNKNOWN", null].map((q) => qualityTone(q))).toEqual(["ok", "pending", "denied", "neutral", "neutral"]);
    expect(qualityLabel("YELLOW")).toBe("Medium quality");
    expect(qualityLabel(null)).toBe("Quality unknown");
  });

  it("reads messaging limits", () => {
    expect(formatLimit("TIER_1K")).toBe("1K customers / 24 h");
    expect(formatLimit("TIER_250")).toBe("250 customers / 24 h");
    expect(formatLimit("TIER_UNLIMITED")).toBe("Unlimited");
    expect(formatLimit(null)).toBe("—");
    expect(formatLimit("2000 per day")).toBe("2000 per day");
  });

  it("names statuses and verticals", () => {
    expect(words("PENDING_REVIEW")).toBe("Pending review");
    expect(statusTone("CONNECTED")).toBe("ok");
    expect(statusTone("BANNED")).toBe("denied");
    expect(verticalLabel("PROF_SERVICES")).toBe("Professional services");
    expect(verticalLabel("NEW_THING")).toBe("New thing");
    expect(verticalLabel(null)).toBe("—");
  });

  it("takes the latest fetch time", () => {
    const n = (fetched_at: number) => ({ fetched_at }) as NumberView;
    expect(lastFetched([])).toBeNull();
    expect(lastFetched([n(5), n(9), n(7)])).toBe(9);
  });

  it("shows only image data: URLs", () => {
    expect(safePicture("data:image/png;base64,AAAA")).toBe("data:image/png;base64,AAAA");
    expect(safePicture("https://pps.whatsapp.net/v/t61.jpg")).toBeNull();
    expect(safePicture("data:application/octet-stream;base64,AAAA")).toBeNull();
    expect(safePicture(null)).toBeNull();
  });
});
