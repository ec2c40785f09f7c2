import { describe, expect, it } from "vitest";
import { branchLabel, branches, KINDS, nodeHtml, sanitizeExport } from "./flow";

describe("the flow catalogue", () => {
  it("names a question's branches by its buttons, then the fixed ones", () => {
    const data = KINDS.find((k) => k.kind === "ask_buttons")!.make();
    expect(branches("ask_buttons", data)).toEqual(["yes", "no", "other", "timeout", "failed"]);
    expect(branchLabel("ask_buttons", data, "no")).toBe("No");
    expect(branchLabel("ask_buttons", data, "timeout")).toBe("no answer");
    expect(branches("condition", {})).toEqual(["true", "false"]);
    expect(branches("hand_off", {})).toEqual([]);
  });

  it("gives every kind a starting setting and a summary", () => {
    for (const k of KINDS) {
      expect(nodeHtml(k.kind, k.make())).toContain(k.label);
    }
  });

  it("escapes every text it puts on the canvas", () => {
    const html = nodeHtml("send_text", { text: '<img src=x onerror="alert(1)">' });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img");
  });

  it("never loads an imported file's HTML or classes", () => {
    const imported = {
      drawflow: {
        Home: {
          data: {
            "1": { id: 1, name: "start", data: {}, class: "x onload", html: "<script>alert(1)</script>", outputs: {}, inputs: {}, pos_x: 1, pos_y: 2 },
            "2": { id: 2, name: "send_text", data: { text: "<b>hi</b>" }, class: "", html: "<iframe>", outputs: {}, inputs: {}, pos_x: 0, pos_y: 0 },
          },
        },
        Other: { data: { "9": { name: "start", html: "<script>" } } },
      },
    };
    const safe = sanitizeExport(imported);
    expect(Object.keys(safe.drawflow)).toEqual(["Home"]);
    expect(safe.drawflow.Home.data["1"]!.html).not.toContain("<script>");
    expect(safe.drawflow.Home.data["1"]!.class).toBe("fn-start");
    expect(safe.drawflow.Home.data["2"]!.html).toContain("&lt;b&gt;hi&lt;/b&gt;");
  });

  it("refuses what is not a flow, naming the problem", () => {
    expect(() => sanitizeExport({})).toThrow("not a Drawflow export");
    expect(() => sanitizeExport({ drawflow: { Home: { data: { "1": { name: "rm -rf" } } } } })).toThrow("“rm -rf” is not a kind of node");
    expect(() => sanitizeExport({ drawflow: { Home: { data: { abc: { name: "start" } } } } })).toThrow("is not a node id");
  });
});
