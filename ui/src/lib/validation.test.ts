import { describe, expect, it } from "vitest";
import { charCount, passphraseProblem } from "./validation";

describe("passphraseProblem", () => {
  it("wants at least 8 characters", () => {
    expect(passphraseProblem("1234567", "1234567")).toBe("The passphrase must be at least 8 characters long.");
    expect(passphraseProblem("12345678", "12345678")).toBeNull();
  });

  it("counts characters like the core does, not UTF-16 units", () => {
    expect(charCount("😀😀😀😀")).toBe(4);
    expect(passphraseProblem("😀😀😀😀", "😀😀😀😀")).not.toBeNull();
  });

  it("wants both entries to match", () => {
    expect(passphraseProblem("correct horse", "correct horsE")).toBe("The two passphrases do not match.");
  });
});
