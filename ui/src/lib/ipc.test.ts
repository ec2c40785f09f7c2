import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
const listen = vi.fn();
vi.mock("@tauri-apps/api/event", () => ({ listen: (...args: unknown[]) => listen(...args) }));

import {
  IpcError,
  activityLog,
  appendUpload,
  assignGroups,
  beginUpload,
  campaignRecipients,
  exportCampaignCsv,
  resolveCampaignRecipient,
  retargetCampaign,
  cancelImport,
  createContact,
  createGroup,
  deleteContacts,
  deleteGroup,
  listContacts,
  listGroups,
  onImportProgress,
  runImport,
  saveRefusedRows,
  updateContact,
  updateGroup,
  appStatus,
  createTemplate,
  deleteTemplate,
  editTemplate,
  errorMessage,
  getConnection,
  listNumbers,
  listTemplates,
  loadTemplateModel,
  mergeFields,
  numberPicture,
  onSignedOut,
  openScreen,
  refreshNumbers,
  saveConnection,
  setTemplateMapping,
  signIn,
  syncTemplates,
  templateModels,
  testConnection,
  toIpcError,
  updateStaff,
} from "./ipc";

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
    expect(e.fields).toEqual([]);
  });

  it("keeps the problems by field of an ApiError", () => {
    const e = toIpcError({
      code: "invalid",
      message: "the template breaks Meta's rules",
      fields: [
        { field: "body.text", message: "the body text is required" },
        { field: "buttons[1].text", message: "at most 25 characters" },
      ],
    });
    expect(e.code).toBe("invalid");
    expect(e.fields).toEqual([
      { field: "body.text", message: "the body text is required" },
      { field: "buttons[1].text", message: "at most 25 characters" },
    ]);
  });

  it("drops malformed field problems and tolerates a missing or odd `fields`", () => {
    const e = toIpcError({
      code: "invalid",
      message: "x",
      fields: [{ field: "name", message: "bad" }, { field: 3, message: "n" }, null, "footer.text", { field: "footer.text" }],
    });
    expect(e.fields).toEqual([{ field: "name", message: "bad" }]);
    expect(toIpcError({ code: "invalid", message: "x", fields: "name" }).fields).toEqual([]);
    expect(toIpcError({ code: "invalid", message: "x" }).fields).toEqual([]);
    expect(toIpcError("boom").fields).toEqual([]);
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

  it("name the Connection, Numbers and Templates commands and their arguments as the Rust side does", async () => {
    invoke.mockResolvedValue(null);
    const binding = { variable: { place: { part: "body" as const }, kind: "text" as const, key: "1" }, source: { kind: "field" as const, key: "contact.name" } };
    const input = { definition: { name: "hello", language: "en", category: "UTILITY", components: [] } };
    await getConnection();
    await saveConnection({ phone_number_id: "1", waba_id: "2", access_token: "" });
    await testConnection();
    await listNumbers();
    await refreshNumbers();
    await numberPicture("106540352242922");
    await listTemplates({ status: "PENDING" });
    await syncTemplates();
    await createTemplate(input);
    await editTemplate(4, input);
    await deleteTemplate(4);
    await setTemplateMapping(4, [binding]);
    await templateModels();
    await loadTemplateModel("proforma_invoice");
    await mergeFields();
    expect(invoke.mock.calls).toEqual([
      ["get_connection", undefined],
      ["save_connection", { input: { phone_number_id: "1", waba_id: "2", access_token: "" } }],
      ["test_connection", undefined],
      ["list_numbers", undefined],
      ["refresh_numbers", undefined],
      ["number_picture", { phoneNumberId: "106540352242922" }],
      ["list_templates", { filter: { status: "PENDING" } }],
      ["sync_templates", undefined],
      ["create_template", { input }],
      ["edit_template", { id: 4, input }],
      ["delete_template", { id: 4 }],
      ["set_template_mapping", { id: 4, bindings: [binding] }],
      ["template_models", undefined],
      ["load_template_model", { model: "proforma_invoice" }],
      ["merge_fields", undefined],
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

  it("reject with the core's problems by field", async () => {
    invoke.mockRejectedValue({ code: "invalid", message: "the template breaks Meta's rules", fields: [{ field: "name", message: "use lowercase letters" }] });
    const error = await createTemplate({ definition: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect((error as IpcError).fields).toEqual([{ field: "name", message: "use lowercase letters" }]);
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

describe("contacts, groups and import commands", () => {
  it("send the argument names the core expects", async () => {
    invoke.mockResolvedValue(null);
    const input = { phone: "+15550100101", name: "", company: "", address: "", city: "", state: "", country: "", description: "", group_ids: [2] };
    await listContacts({ search: "ana", group_id: 2, offset: 400, limit: 200 });
    await createContact(input);
    await updateContact(7, input);
    await deleteContacts([1, 2]);
    await assignGroups([1, 2], [3]);
    await listGroups();
    await createGroup({ name: "VIP", description: "" });
    await updateGroup(3, { name: "VIP", description: "x" });
    await deleteGroup(3);
    await beginUpload("contacts_import");
    await appendUpload("u1", "Zm9v");
    await runImport("u1", "contacts.csv", { group_ids: [3] });
    await cancelImport();
    await saveRefusedRows("line,reason\n");
    expect(invoke.mock.calls).toEqual([
      ["list_contacts", { filter: { search: "ana", group_id: 2, offset: 400, limit: 200 } }],
      ["create_contact", { input }],
      ["update_contact", { id: 7, input }],
      ["delete_contacts", { ids: [1, 2] }],
      ["assign_groups", { contactIds: [1, 2], groupIds: [3] }],
      ["list_groups", undefined],
      ["create_group", { input: { name: "VIP", description: "" } }],
      ["update_group", { id: 3, input: { name: "VIP", description: "x" } }],
      ["delete_group", { id: 3 }],
      ["begin_upload", { purpose: "contacts_import" }],
      ["append_upload", { uploadId: "u1", chunk: "Zm9v" }],
      ["run_import", { uploadId: "u1", fileName: "contacts.csv", options: { group_ids: [3] } }],
      ["cancel_import", undefined],
      ["save_refused_rows", { refusedFile: "line,reason\n" }],
    ]);
  });

  it("hand import progress events' payloads to the callback", async () => {
    const unlisten = vi.fn();
    listen.mockImplementation(async (_event: string, handler: (e: { payload: unknown }) => void) => {
      handler({ payload: { bytes_read: 1, bytes_total: 2, rows: 1, imported: 1, existing: 0, refused: 0, elapsed_ms: 5 } });
      return unlisten;
    });
    const seen: unknown[] = [];
    const stop = await onImportProgress((p) => seen.push(p.rows));
    expect(listen.mock.calls[0]?.[0]).toBe("import-progress");
    expect(seen).toEqual([1]);
    stop();
    expect(unlisten).toHaveBeenCalled();
  });
});

describe("campaign commands", () => {
  it("send the argument names the core expects, a missing state as null", async () => {
    invoke.mockResolvedValue(null);
    await exportCampaignCsv(4);
    await exportCampaignCsv(4, "failed");
    await campaignRecipients(4, { state: "attention", offset: 200, limit: 200 });
    await resolveCampaignRecipient(4, 17, false);
    await retargetCampaign(4, "unread");
    expect(invoke.mock.calls).toEqual([
      ["export_campaign_csv", { id: 4, recipientState: null }],
      ["export_campaign_csv", { id: 4, recipientState: "failed" }],
      ["campaign_recipients", { id: 4, filter: { state: "attention", offset: 200, limit: 200 } }],
      ["resolve_campaign_recipient", { id: 4, idx: 17, retry: false }],
      ["retarget_campaign", { id: 4, which: "unread" }],
    ]);
  });
});
