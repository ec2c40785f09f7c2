import { describe, expect, it } from "vitest";
import { META_LANGUAGES, languageName } from "./languages";

describe("Meta's template languages", () => {
  it("lists each code once, in Meta's form (xx or xx_YY, fil)", () => {
    const codes = META_LANGUAGES.map(([c]) => c);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[a-z]{2,3}(_[A-Z]{2})?$/);
  });
  it("names a listed code and nothing else", () => {
    expect(languageName("en_US")).toBe("English (US)");
    expect(languageName(" pt_BR ")).toBe("Portuguese (Brazil)");
    expect(languageName("english")).toBeNull();
  });
});
