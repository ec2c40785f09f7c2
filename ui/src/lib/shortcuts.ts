// Keyboard shortcuts as pure functions, so the mapping can be tested without a DOM.

import type { Screen } from "./bindings/Screen";

/** The parts of a KeyboardEvent the shortcuts look at. */
export interface KeyPress {
  key: string;
  /** The physical key ("Digit1", "Comma"), so Ctrl+digit also works on layouts like AZERTY. */
  code?: string;
  ctrlKey: boolean;
  metaKey?: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export type ShortcutAction =
  | { kind: "open"; screen: Screen }
  | { kind: "toggle-help" }
  | { kind: "close" };

/** What one shortcut does, for the help overlay. */
export interface ShortcutHelp {
  keys: string;
  what: string;
}

/** 1…9 then 0: the digit that opens the n-th screen of the navigation (index 0…9). */
export function digitForIndex(index: number): string | null {
  if (!Number.isInteger(index) || index < 0 || index > 9) return null;
  return index === 9 ? "0" : String(index + 1);
}

function digitOf(press: KeyPress): number | null {
  if (/^[0-9]$/.test(press.key)) return Number(press.key);
  const m = press.code?.match(/^(?:Digit|Numpad)([0-9])$/);
  return m ? Number(m[1]) : null;
}

/**
 * The action for a key press, or null when the press is not a shortcut.
 *
 * - Ctrl+1…Ctrl+9 and Ctrl+0 open the first ten screens of `navigation`, in order;
 * - Ctrl+, opens Settings;
 * - "?" toggles the shortcuts help, unless the user is typing in a field;
 * - Escape closes whatever overlay is open.
 */
export function shortcutFor(
  press: KeyPress,
  navigation: readonly Screen[],
  typing: boolean,
): ShortcutAction | null {
  const ctrl = press.ctrlKey || press.metaKey === true;
  if (ctrl && !press.altKey && !press.shiftKey) {
    const digit = digitOf(press);
    if (digit !== null) {
      const index = digit === 0 ? 9 : digit - 1;
      const screen = navigation[index];
      return screen ? { kind: "open", screen } : null;
    }
    if (press.key === "," || press.code === "Comma") return { kind: "open", screen: "settings" };
    return null;
  }
  if (press.key === "Escape" && !ctrl && !press.altKey) return { kind: "close" };
  if (press.key === "?" && !ctrl && !press.altKey && !typing) return { kind: "toggle-help" };
  return null;
}

/** The shortcut list the help overlay shows, for the given navigation. */
export function shortcutHelp(navigation: readonly { screen: Screen; label: string }[]): ShortcutHelp[] {
  const help: ShortcutHelp[] = [];
  navigation.slice(0, 10).forEach((entry, index) => {
    const digit = digitForIndex(index);
    if (digit !== null) help.push({ keys: `Ctrl+${digit}`, what: `Open ${entry.label}` });
  });
  help.push({ keys: "Ctrl+,", what: "Open Settings" });
  help.push({ keys: "↑ / ↓", what: "Move between sidebar entries" });
  help.push({ keys: "Enter", what: "Open the focused sidebar entry" });
  help.push({ keys: "?", what: "Show or hide this list" });
  help.push({ keys: "Esc", what: "Close a dialog or this list" });
  help.push({ keys: "N", what: "New campaign (on Campaigns)" });
  return help;
}

/**
 * Roving focus in a vertical list: the index that ArrowUp/ArrowDown/Home/End move to from
 * `current` among `count` entries (wrapping at the ends), or null for any other key.
 */
export function rovingIndex(current: number, key: string, count: number): number | null {
  if (count <= 0) return null;
  const from = Math.min(Math.max(current, 0), count - 1);
  switch (key) {
    case "ArrowDown":
      return (from + 1) % count;
    case "ArrowUp":
      return (from - 1 + count) % count;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** Whether an event target is a place where the user types (so "?" is text, not a shortcut). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(type);
}
