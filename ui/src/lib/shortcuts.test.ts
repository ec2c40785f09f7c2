import { describe, expect, it } from "vitest";
import type { Screen } from "./bindings/Screen";
import { digitForIndex, isTypingTarget, rovingIndex, shortcutFor, shortcutHelp, type KeyPress } from "./shortcuts";

const NAV: Screen[] = [
  "chat", "bots", "campaigns", "groups", "bulk_contacts", "templates",
  "quick_replies", "numbers", "connection", "activity_log", "settings",
];

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key, ctrlKey: false, altKey: false, shiftKey: false, ...mods,
});

describe("shortcutFor", () => {
  it("maps Ctrl+1…Ctrl+9 to the first nine screens in navigation order", () => {
    for (let digit = 1; digit <= 9; digit++) {
      expect(shortcutFor(press(String(digit), { ctrlKey: true }), NAV, false)).toEqual({
        kind: "open",
        screen: NAV[digit - 1],
      });
    }
  });

  it("maps Ctrl+0 to the tenth screen (Activity Log) and Ctrl+, to Settings", () => {
    expect(shortcutFor(press("0", { ctrlKey: true }), NAV, false)).toEqual({ kind: "open", screen: "activity_log" });
    expect(shortcutFor(press(",", { ctrlKey: true }), NAV, false)).toEqual({ kind: "open", screen: "settings" });
  });

  it("follows the navigation it is given, not a fixed list", () => {
    const nav: Screen[] = ["settings", "chat"];
    expect(shortcutFor(press("1", { ctrlKey: true }), nav, false)).toEqual({ kind: "open", screen: "settings" });
    expect(shortcutFor(press("3", { ctrlKey: true }), nav, false)).toBeNull();
  });

  it("uses the physical key when the layout gives another character (AZERTY)", () => {
    expect(shortcutFor(press("&", { code: "Digit1", ctrlKey: true }), NAV, false)).toEqual({ kind: "open", screen: "chat" });
    expect(shortcutFor(press(";", { code: "Comma", ctrlKey: true }), NAV, false)).toEqual({ kind: "open", screen: "settings" });
  });

  it("works while typing, because Ctrl+digit is not text", () => {
    expect(shortcutFor(press("2", { ctrlKey: true }), NAV, true)).toEqual({ kind: "open", screen: "bots" });
  });

  it("ignores digits without Ctrl, or with Alt or Shift", () => {
    expect(shortcutFor(press("1"), NAV, false)).toBeNull();
    expect(shortcutFor(press("1", { ctrlKey: true, altKey: true }), NAV, false)).toBeNull();
    expect(shortcutFor(press("1", { ctrlKey: true, shiftKey: true }), NAV, false)).toBeNull();
    expect(shortcutFor(press("a", { ctrlKey: true }), NAV, false)).toBeNull();
  });

  it("toggles help on ? only when not typing", () => {
    expect(shortcutFor(press("?", { shiftKey: true }), NAV, false)).toEqual({ kind: "toggle-help" });
    expect(shortcutFor(press("?", { shiftKey: true }), NAV, true)).toBeNull();
    expect(shortcutFor(press("?", { ctrlKey: true, shiftKey: true }), NAV, false)).toBeNull();
  });

  it("closes on Escape, typing or not", () => {
    expect(shortcutFor(press("Escape"), NAV, false)).toEqual({ kind: "close" });
    expect(shortcutFor(press("Escape"), NAV, true)).toEqual({ kind: "close" });
  });
});

describe("digitForIndex and shortcutHelp", () => {
  it("numbers the first ten entries 1…9, 0", () => {
    expect([0, 1, 8, 9].map(digitForIndex)).toEqual(["1", "2", "9", "0"]);
    expect(digitForIndex(10)).toBeNull();
    expect(digitForIndex(-1)).toBeNull();
  });

  it("lists one Ctrl+digit per screen up to ten, then Ctrl+,", () => {
    const help = shortcutHelp(NAV.map((screen) => ({ screen, label: screen.toUpperCase() })));
    expect(help.filter((h) => /^Ctrl\+\d$/.test(h.keys))).toHaveLength(10);
    expect(help[9]).toEqual({ keys: "Ctrl+0", what: "Open ACTIVITY_LOG" });
    expect(help[10]).toEqual({ keys: "Ctrl+,", what: "Open Settings" });
  });
});

describe("rovingIndex", () => {
  it("moves down and up, wrapping at the ends", () => {
    expect(rovingIndex(0, "ArrowDown", 11)).toBe(1);
    expect(rovingIndex(10, "ArrowDown", 11)).toBe(0);
    expect(rovingIndex(0, "ArrowUp", 11)).toBe(10);
    expect(rovingIndex(5, "ArrowUp", 11)).toBe(4);
  });

  it("jumps with Home and End and ignores other keys", () => {
    expect(rovingIndex(5, "Home", 11)).toBe(0);
    expect(rovingIndex(5, "End", 11)).toBe(10);
    expect(rovingIndex(5, "ArrowLeft", 11)).toBeNull();
    expect(rovingIndex(0, "ArrowDown", 0)).toBeNull();
  });

  it("recovers from an out-of-range current index", () => {
    expect(rovingIndex(-1, "ArrowDown", 3)).toBe(1);
    expect(rovingIndex(99, "ArrowUp", 3)).toBe(1);
  });
});

describe("isTypingTarget", () => {
  it("is false outside a DOM and for non-elements", () => {
    expect(isTypingTarget(null)).toBe(false);
  });
});
