import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import { IpcError, activityLog, appStatus, errorMessage, onSignedOut, openScreen, signIn, toIpcError, updateStaff } from "./ipc";

beforeEach(() => {
  invoke.mockReset();
});

describe("toIpcError", () => {
  it("keeps the code and message of an ApiError object", () => {
    const e = toIpcError({ code: "permission_denied", message: "Ana's role (Sales) does not allow viewing Bots" });
    expect(e).toBeInstanceOf(IpcError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe("permission_denied");
    expect(e.message).toBe("Ana's role (Sales) does not allow viewing Bots");
  });

  it("turns a string into an internal error with that text", () => {
    const e = toIpcError("command sign_in not found");
    expect(e.code).toBe("internal");
    expect(e.message).toBe("command sign_in not found");
  });

  it("turns a JS error into an internal error with its message", () => {
    const e = toIpcError(new TypeError("window.__TAURI_INTERNALS__ is undefined"));
    expect(e.code).toBe("internal");
    expect(e.message).toBe("window.__TAURI_INTERNALS__ is undefined");
  });

  it("does not trust an unknown code", () => {
    const e = toIpcError({ code: "teapot", message: "short and stout" });
    expect(e.code).toBe("internal");
    expect(e.message).toBe("short and stout");
  });

  it("describes other values rather than losing them", () => {
    expect(toIpcError({ status: 500 }).message).toBe('{"status":500}');
    expect(toIpcError(undefined).message).toBe("undefined");
    expect(toIpcError(42).code).toBe("internal");
  });

  it("returns an IpcError unchanged", () => {
    const original = new IpcError("conflict", "the username “ana” is taken");
    expect(toIpcError(original)).toBe(original);
    expect(errorMessage(original)).toBe("the username “ana” is taken");
  });
});

describe("commands", () => {
  it("call invoke with the snake_case name and the argument names the Rust side expects", async () => {
    invoke.mockResolvedValue({});
    await signIn("ana", "correct horse");
    await openScreen("activity_log");
    await updateStaff(7, { name: "Ana", username: "ana", role_id: 2, active: false });
    await activityLog({ limit: 100 });
    expect(invoke.mock.calls).toEqual([
      ["sign_in", { username: "ana", passphrase: "correct horse" }],
      ["open_screen", { screen: "activity_log" }],
      ["update_staff", { id: 7, input: { name: "Ana", username: "ana", role_id: 2, active: false } }],
      ["activity_log", { filter: { limit: 100 } }],
    ]);
  });

  it("resolve with the command's value", async () => {
    invoke.mockResolvedValue({ screen: "settings", label: "Settings", built: true });
    await expect(openScreen("settings")).resolves.toMatchObject({ label: "Settings" });
  });

  it("reject with an IpcError carrying the core's code", async () => {
    invoke.mockRejectedValue({ code: "storage", message: "/data/ws.db was written by a newer version" });
    const error = await appStatus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect((error as IpcError).code).toBe("storage");
    expect((error as IpcError).message).toBe("/data/ws.db was written by a newer version");
  });

  it("tell the app when a session has ended, but not for a failed sign-in", async () => {
    const seen: string[] = [];
    const stop = onSignedOut((e) => seen.push(e.message));
    invoke.mockRejectedValue({ code: "not_signed_in", message: "nobody is signed in" });
    await expect(openScreen("chat")).rejects.toBeInstanceOf(IpcError);
    await expect(signIn("ana", "x")).rejects.toBeInstanceOf(IpcError);
    expect(seen).toEqual(["nobody is signed in"]);
    stop();
    await expect(openScreen("chat")).rejects.toBeInstanceOf(IpcError);
    expect(seen).toHaveLength(1);
  });
});
