import { describe, expect, it } from "vitest";
import { bodySnippet, buttonCaption, formatSegments, previewOfDefinition, previewSegments } from "./preview";

const none = () => undefined;

describe("formatSegments", () => {
  it("keeps plain text as one segment", () => {
    expect(formatSegments("Hello there", none)).toEqual([{ text: "Hello there" }]);
  });

  it("applies WhatsApp's *bold*, _italic_, ~strike~ and ```mono``` and hides the markers", () => {
    expect(formatSegments("a *b* _c_ ~d~ ```e```", none)).toEqual([
      { text: "a " },
      { text: "b", bold: true },
      { text: " " },
      { text: "c", italic: true },
      { text: " " },
      { text: "d", strike: true },
      { text: " " },
      { text: "e", mono: true },
    ]);
  });

  it("leaves markers that do not pair within a line, or that touch spaces, as text", () => {
    expect(formatSegments("2 * 3 = 6", none)).toEqual([{ text: "2 * 3 = 6" }]);
    expect(formatSegments("*open\nclose*", none)).toEqual([{ text: "*open\nclose*" }]);
    expect(formatSegments("snake_case_name and https://x.example/a_b_c", none)).toEqual([
      { text: "snake_case_name and https://x.example/a_b_c" },
    ]);
    expect(formatSegments("(_so_) *yes*!", none)).toEqual([
      { text: "(" },
      { text: "so", italic: true },
      { text: ") " },
      { text: "yes", bold: true },
      { text: "!" },
    ]);
  });

  it("fills variables with their examples, formatted like the text around them", () => {
    const value = (k: string) => ({ "1": "Jessica", code: "25OFF" })[k];
    expect(formatSegments("Hi {{1}}, use *{{code}}* or {{2}}", value)).toEqual([
      { text: "Hi " },
      { text: "Jessica", variable: "1" },
      { text: ", use " },
      { text: "25OFF", variable: "code", bold: true },
      { text: " or " },
      { text: "{{2}}", variable: "2", missing: true },
    ]);
  });

  it("does not format inside ```mono```", () => {
    expect(formatSegments("```*x*```", none)).toEqual([{ text: "*x*", mono: true }]);
  });
});

describe("previews of definitions", () => {
  const def = {
    name: "order_update",
    language: "en",
    category: "UTILITY",
    components: [
      { type: "HEADER", format: "TEXT", text: "Order {{1}}", example: { header_text: ["#4512"] } },
      { type: "BODY", text: "Hi {{1}},\n  your   order is on its way.", example: { body_text: [["Ana"]] } },
      { type: "FOOTER", text: "Reply STOP" },
      { type: "BUTTONS", buttons: [{ type: "COPY_CODE", example: "X" }, { type: "QUICK_REPLY", text: "" }] },
    ],
  };

  it("shows the header and body with the examples Meta was given", () => {
    const p = previewOfDefinition(def);
    expect(previewSegments(p, "header").map((s) => s.text).join("")).toBe("Order #4512");
    expect(previewSegments(p, "body")[1]).toEqual({ text: "Ana", variable: "1" });
    expect(p.footer).toBe("Reply STOP");
    expect(p.buttons.map(buttonCaption)).toEqual(["Copy code", "Quick reply"]);
  });

  it("shortens the body for a list row", () => {
    expect(bodySnippet(def)).toBe("Hi {{1}}, your order is on its way.");
    expect(bodySnippet(def, 10)).toBe("Hi {{1}},…");
    expect(bodySnippet(null)).toBe("");
  });

  it("shows a media header as its format", () => {
    const p = previewOfDefinition({ components: [{ type: "HEADER", format: "DOCUMENT" }, { type: "BODY", text: "x" }] });
    expect(p.header).toEqual({ format: "DOCUMENT", text: "" });
  });
});
