import { describe, expect, it } from "vitest";
import type { TeamToken } from "./bindings/TeamToken";
import { grantLabel, sortTokens, tokenState } from "./team";

const NOW = Date.UTC(2026, 11, 7);
const DAY = 86_400_000;

function token(patch: Partial<TeamToken>): TeamToken {
  return {
    id: "a1",
    staff: "rick",
    is_admin: false,
    permissions: ["whatsapp_chat:view", "whatsapp_chat:send"],
    label: "",
    created_at: NOW - DAY,
    revoked_at: null,
    expires_at: null,
    ...patch,
  };
}

describe("team tokens", () => {
  it("are active, expiring, expired or revoked", () => {
    expect(tokenState(token({}), NOW)).toBe("active");
    expect(tokenState(token({ expires_at: NOW + 3 * DAY }), NOW)).toBe("expiring");
    expect(tokenState(token({ expires_at: NOW - 1 }), NOW)).toBe("expired");
    expect(tokenState(token({ revoked_at: NOW - DAY, expires_at: NOW + 99 * DAY }), NOW)).toBe("revoked");
  });

  it("name what they grant", () => {
    expect(grantLabel(token({}))).toBe("2 permissions");
    expect(grantLabel(token({ is_admin: true, permissions: [] }))).toBe("Administrator");
  });

  it("list the working ones first, newest first", () => {
    const old = token({ id: "old", created_at: NOW - 9 * DAY });
    const fresh = token({ id: "fresh", created_at: NOW - DAY });
    const gone = token({ id: "gone", created_at: NOW, revoked_at: NOW });
    expect(sortTokens([gone, old, fresh], NOW).map((t) => t.id)).toEqual(["fresh", "old", "gone"]);
  });
});
