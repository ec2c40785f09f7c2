// The command names and argument names ipc.ts sends must be the ones the Rust shell registers:
// read both sources and compare, so that a renamed command or argument fails here, not at run time.
import { describe, expect, it } from "vitest";

import ipcSource from "./ipc.ts?raw";

const rustFiles = import.meta.glob("../../../src-tauri/src/commands/*.rs", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `a: A, b: B<'_, C>` → the parameter names, splitting at commas outside angle brackets. */
function paramNames(params: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of params + ",") {
    if (ch === "<") depth++;
    if (ch === ">") depth--;
    if (ch === "," && depth === 0) {
      const name = current.split(":")[0]?.trim() ?? "";
      if (name) names.push(name);
      current = "";
    } else {
      current += ch;
    }
  }
  return names;
}

/** Every registered command, with the arguments the webview passes (camelCase, as Tauri maps them). */
function rustCommands(): Map<string, string[]> {
  const registry = Object.entries(rustFiles).find(([path]) => path.endsWith("/mod.rs"))?.[1] ?? "";
  const listed = registry.slice(registry.indexOf("generate_handler!"));
  const names = [...listed.matchAll(/\w+::(\w+)/g)].map((m) => m[1] ?? "");
  const all = Object.values(rustFiles).join("\n");
  const commands = new Map<string, string[]>();
  for (const name of names) {
    const sig = new RegExp(`#\\[tauri::command\\]\\s*pub (?:async )?fn ${name}\\s*\\(([^)]*)\\)`).exec(all);
    expect(sig, `the command ${name} is defined`).not.toBeNull();
    const params = paramNames(sig?.[1] ?? "").filter(
      (p) => !["state", "app", "window"].includes(p) && !p.startsWith("_"),
    );
    commands.set(name, params.map(camel).sort());
  }
  return commands;
}

/** Every call ipc.ts makes, with the argument names it passes. */
function ipcCalls(): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  for (const m of ipcSource.matchAll(/call<[^;]*?>\(\s*"([a-z_]+)"(?:\s*,\s*\{([^}]*)\})?/gs)) {
    const args = (m[2] ?? "")
      .split(",")
      .map((a) => a.trim().split(":")[0]?.trim() ?? "")
      .filter(Boolean)
      .sort();
    calls.set(m[1] ?? "", args);
  }
  return calls;
}

describe("ipc.ts against the Rust command list", () => {
  it("calls exactly the registered commands", () => {
    const rust = rustCommands();
    const ipc = ipcCalls();
    expect(rust.size).toBeGreaterThan(100);
    expect([...ipc.keys()].sort()).toEqual([...rust.keys()].sort());
  });

  it("passes each command exactly its arguments, by name", () => {
    const rust = rustCommands();
    for (const [name, args] of ipcCalls()) {
      expect(args, `arguments of ${name}`).toEqual(rust.get(name));
    }
  });
});
