import { describe, expect, it } from "vitest";
import type { ConnectionView } from "./bindings/ConnectionView";
import {
  connectionProblems,
  formFromView,
  isDirty,
  removalInput,
  storeSentence,
  toConnectionInput,
  usesCustomGraph,
} from "./connection";

const view: ConnectionView = {
  phone_number_id: "106540352242922",
  waba_id: "102290129340398",
  graph_base_url: "https://graph.facebook.com",
  graph_version: "v23.0",
  access_token_set: true,
  secret_store: "the OS keychain",
};

describe("the Connection form", () => {
  it("starts from the saved ids and never from a secret", () => {
    const form = formFromView(view);
    expect(form.phone_number_id).toBe("106540352242922");
    expect(form.secrets).toEqual({ access_token: "" });
    expect(isDirty(form, view)).toBe(false);
  });

  it("sends a secret only when one was typed: empty keeps the stored value", () => {
    const form = formFromView(view);
    form.phone_number_id = " 1065 ".trim();
    expect("access_token" in toConnectionInput(form)).toBe(false);
    form.secrets.access_token = "EAAG-new";
    expect(toConnectionInput(form)).toEqual({
      phone_number_id: "1065",
      waba_id: "102290129340398",
      graph_base_url: "https://graph.facebook.com",
      graph_version: "v23.0",
      access_token: "EAAG-new",
    });
  });

  it("asks for no secret that only the relay uses", () => {
    const input = toConnectionInput(formFromView(view));
    expect("app_secret" in input).toBe(false);
    expect("verify_token" in input).toBe(false);
  });

  it("removes one secret by sending it empty with the stored ids", () => {
    expect(removalInput(view, "access_token")).toEqual({
      phone_number_id: "106540352242922",
      waba_id: "102290129340398",
      graph_base_url: "https://graph.facebook.com",
      graph_version: "v23.0",
      access_token: "",
    });
  });

  it("checks ids, the Graph address and version as the core does", () => {
    const form = formFromView(view);
    expect(connectionProblems(form)).toEqual({});
    form.phone_number_id = "12ab";
    form.graph_base_url = "http://graph.facebook.com";
    form.graph_version = "23";
    const problems = connectionProblems(form);
    expect(problems.phone_number_id).toBe("Phone number id: Meta's ids are digits only; “12ab” is not");
    expect(problems.graph_base_url).toContain("https://");
    expect(problems.graph_version).toContain("v23.0");
    form.graph_base_url = "http://127.0.0.1:8080";
    expect(connectionProblems(form).graph_base_url).toBeUndefined();
    form.graph_base_url = "";
    expect(connectionProblems(form).graph_base_url).toBeUndefined();
  });

  it("notices unsaved changes, ignoring a trailing slash and empty defaults", () => {
    const form = formFromView(view);
    form.graph_base_url = "https://graph.facebook.com/";
    form.graph_version = "";
    expect(isDirty(form, view)).toBe(false);
    form.secrets.access_token = "x";
    expect(isDirty(form, view)).toBe(true);
  });

  it("unfolds Advanced when the Graph settings are not Meta's defaults", () => {
    expect(usesCustomGraph(view)).toBe(false);
    expect(usesCustomGraph({ ...view, graph_base_url: "http://127.0.0.1:8080" })).toBe(true);
    expect(usesCustomGraph({ ...view, graph_version: "v22.0" })).toBe(true);
  });

  it("says where secrets are stored", () => {
    expect(storeSentence("the OS keychain")).toBe("Stored in the OS keychain");
    expect(storeSentence("")).toBe("");
  });
});
