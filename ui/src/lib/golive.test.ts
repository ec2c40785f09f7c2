import { describe, expect, it } from "vitest";
import {
  addressProblem,
  emptyForm,
  metaProblems,
  relayProblems,
  suggestedName,
  toGoLive,
  workspaceProblems,
} from "./golive";

function filled() {
  return {
    ...emptyForm(),
    phoneNumberId: " 106540352242922 ",
    wabaId: "102290129340398",
    accessToken: " EAAG-token ",
    relayUrl: "https://relay.example.com/",
    relayToken: "crr_abc",
    name: " Northwind ",
    ownerName: "Olivia",
    passphrase: "long enough",
    passphrase2: "long enough",
    appSecret: "0123456789abcdef0123456789abcdef",
  };
}

describe("the go-live form", () => {
  it("names each field at fault, step by step", () => {
    const f = emptyForm();
    expect(Object.keys(metaProblems(f)).sort()).toEqual(["accessToken", "phoneNumberId", "wabaId"]);
    expect(Object.keys(relayProblems(f)).sort()).toEqual(["relayToken", "relayUrl"]);
    expect(Object.keys(workspaceProblems(f)).sort()).toEqual(["appSecret", "name", "ownerName", "passphrase"]);
    const g = filled();
    expect(metaProblems(g)).toEqual({});
    expect(relayProblems(g)).toEqual({});
    expect(workspaceProblems(g)).toEqual({});
    g.passphrase2 = "different";
    expect(workspaceProblems(g).passphrase).toMatch(/do not match/);
    g.wabaId = "WABA-1";
    expect(metaProblems(g).wabaId).toMatch(/digits only/);
  });

  it("accepts https anywhere and http only on this computer", () => {
    expect(addressProblem("https://relay.example.com", "relay address")).toBeNull();
    expect(addressProblem("http://127.0.0.1:8787", "relay address")).toBeNull();
    expect(addressProblem("http://localhost:8787", "relay address")).toBeNull();
    expect(addressProblem("http://relay.example.com", "relay address")).toMatch(/https/);
    expect(addressProblem("relay.example.com", "relay address")).toMatch(/full address/);
  });

  it("sends trimmed values, no Graph address when none was typed, and the passphrase as typed", () => {
    const input = toGoLive(filled());
    expect(input).toEqual({
      name: "Northwind",
      meta: { phone_number_id: "106540352242922", waba_id: "102290129340398", access_token: "EAAG-token" },
      relay: { relay_url: "https://relay.example.com", token: "crr_abc" },
      owner_name: "Olivia",
      passphrase: "long enough",
    });
  });

  it("suggests a name from the relay's workspace id", () => {
    expect(suggestedName("north-wind_co")).toBe("North Wind Co");
    expect(suggestedName("acme")).toBe("Acme");
  });
});

describe("joining a team", () => {
  it("asks for the relay and a token, then a name and a passphrase, and sends them trimmed", async () => {
    const { emptyJoinForm, joinRelayProblems, joinWorkspaceProblems, toJoinTeam } = await import("./golive");
    const f = emptyJoinForm();
    expect(Object.keys(joinRelayProblems(f)).sort()).toEqual(["relayToken", "relayUrl"]);
    expect(Object.keys(joinWorkspaceProblems(f)).sort()).toEqual(["name", "ownerName", "passphrase"]);
    const g = { relayUrl: "https://relay.example.com/", relayToken: " crr_x ", name: " Acme ", ownerName: "Rick", passphrase: "long enough", passphrase2: "long enough" };
    expect(joinRelayProblems(g)).toEqual({});
    expect(joinWorkspaceProblems(g)).toEqual({});
    expect(toJoinTeam(g)).toEqual({
      relay: { relay_url: "https://relay.example.com", token: "crr_x" },
      name: "Acme",
      owner_name: "Rick",
      passphrase: "long enough",
    });
  });
});
