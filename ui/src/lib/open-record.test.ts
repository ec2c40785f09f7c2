import { afterEach, describe, expect, it, vi } from "vitest";
import { IpcError } from "./ipc";
import {
  discardPendingRecord,
  recordOpenError,
  recordRequest,
  requestOpenRecord,
  setScreenNavigator,
  takePendingRecord,
} from "./open-record";

afterEach(() => discardPendingRecord());

describe("where a linked record opens", () => {
  it("a lead in Leads, a contact person in its client, a bulk contact in Bulk Contacts", () => {
    expect(
      recordRequest({ kind: "lead", id: 7, name: "Ana", company: "", phone: null, status_id: 1, status_name: "New", status_color: "#000" }),
    ).toEqual({ screen: "leads", id: 7 });
    expect(recordRequest({ kind: "client_contact", id: 12, client_id: 3, name: "Bo", company: "Acme", phone: null })).toEqual({
      screen: "clients",
      id: 3,
      personId: 12,
    });
    expect(recordRequest({ kind: "contact", id: 9, name: "Cy", company: "", phone: "+15550100101" })).toEqual({
      screen: "bulk_contacts",
      id: 9,
    });
  });
});

describe("the hand-over to the record's screen", () => {
  it("shows the screen, then hands the request to that screen once", () => {
    const nav = vi.fn(() => true);
    const off = setScreenNavigator(nav);
    expect(requestOpenRecord({ screen: "leads", id: 7 })).toBe(true);
    expect(nav).toHaveBeenCalledWith("leads");
    expect(takePendingRecord("clients")).toBeNull();
    expect(takePendingRecord("leads")).toEqual({ screen: "leads", id: 7 });
    expect(takePendingRecord("leads")).toBeNull();
    off();
  });

  it("forgets the request when the screen may not be shown, or nothing can show it", () => {
    const off = setScreenNavigator(() => false);
    expect(requestOpenRecord({ screen: "clients", id: 3 })).toBe(false);
    expect(takePendingRecord("clients")).toBeNull();
    off();
    expect(requestOpenRecord({ screen: "clients", id: 3 })).toBe(false);
    expect(takePendingRecord("clients")).toBeNull();
  });

  it("drops a request that navigation elsewhere left untaken", () => {
    const off = setScreenNavigator(() => true);
    requestOpenRecord({ screen: "bulk_contacts", id: 9 });
    discardPendingRecord();
    expect(takePendingRecord("bulk_contacts")).toBeNull();
    off();
  });

  it("an older navigator's unregistering leaves the newer one", () => {
    const first = setScreenNavigator(() => false);
    const second = vi.fn(() => true);
    const offSecond = setScreenNavigator(second);
    first();
    expect(requestOpenRecord({ screen: "leads", id: 1 })).toBe(true);
    expect(second).toHaveBeenCalledOnce();
    offSecond();
  });
});

describe("a record that cannot be opened", () => {
  it("says plainly when it was deleted", () => {
    expect(recordOpenError("leads", new IpcError("not_found", "lead #7 does not exist"))).toBe(
      "This lead no longer exists: it was deleted after the conversation was linked to it.",
    );
    expect(recordOpenError("bulk_contacts", { code: "not_found", message: "x" })).toMatch(/^This contact no longer exists/);
  });

  it("passes other failures on", () => {
    expect(recordOpenError("clients", new IpcError("permission_denied", "You may not view clients."))).toBe(
      "The client could not be opened: You may not view clients.",
    );
  });
});
