import { describe, expect, it } from "vitest";
import {
  buildDefinition,
  canAddButton,
  checkTemplate,
  clearProblems,
  emptyForm,
  fieldLabel,
  formFromDefinition,
  formVariables,
  groupProblems,
  hasSlot,
  insertVariable,
  newButton,
  nextVariable,
  placeholders,
  type TemplateForm,
} from "./templateform";

function form(patch: Partial<TemplateForm> = {}): TemplateForm {
  return { ...emptyForm(), name: "order_update", body: "Hello there", ...patch };
}

const fields = (f: TemplateForm) => checkTemplate(f).map((p) => p.field);

describe("placeholders", () => {
  it("finds variables in order of first appearance, trimmed, without repeats (as the core)", () => {
    expect(placeholders("Hi {{1}}, code {{ 2 }} for {{1}}")).toEqual(["1", "2"]);
    expect(placeholders("Hi {{customer_name}}")).toEqual(["customer_name"]);
    expect(placeholders("no {{}} and {{ unclosed")).toEqual([]);
  });
});

describe("variables and Add variable", () => {
  it("detects header (TEXT only), body and URL-button variables with their example ids", () => {
    const f = form({ headerFormat: "TEXT", headerText: "Order {{1}}", body: "Hi {{1}} and {{2}}!" });
    f.buttons = [newButton("QUICK_REPLY"), { ...newButton("URL"), url: "https://x.example/{{1}}" }];
    expect(formVariables(f).map((v) => [v.id, v.field])).toEqual([
      ["header-1", "header.example"],
      ["body-1", "body.example"],
      ["body-2", "body.example"],
      ["button-1-1", "buttons[1].example"],
    ]);
    expect(formVariables({ ...f, headerFormat: "IMAGE" }).map((v) => v.id)).not.toContain("header-1");
  });

  it("inserts the next positional number at the cursor", () => {
    expect(nextVariable("Hi {{1}} and {{2}}", "POSITIONAL").token).toBe("{{3}}");
    const r = insertVariable("Hi , bye", 3, 3, "POSITIONAL");
    expect(r.text).toBe("Hi {{1}}, bye");
    expect(r.select).toEqual([8, 8]);
  });

  it("inserts a fresh name for named templates and selects it to be typed over", () => {
    const r = insertVariable("Hi {{variable_1}} x", 19, 19, "NAMED");
    expect(r.text).toBe("Hi {{variable_1}} x{{variable_2}}");
    expect(r.text.slice(r.select[0], r.select[1])).toBe("variable_2");
  });

  it("replaces a selection and clamps out-of-range positions", () => {
    expect(insertVariable("Hi NAME!", 3, 7, "POSITIONAL").text).toBe("Hi {{1}}!");
    expect(insertVariable("ab", 9, 12, "POSITIONAL").text).toBe("ab{{1}}");
  });
});

describe("buildDefinition", () => {
  it("builds Meta's positional example objects from the form", () => {
    const f = form({
      name: " order_update ",
      category: "MARKETING",
      headerFormat: "TEXT",
      headerText: "Our {{1}} is on!",
      body: "Shop through {{1}} with code {{2}} now",
      footer: "Reply STOP to opt out",
      examples: { "header-1": "Summer Sale", "body-1": "August", "body-2": "25OFF" },
    });
    f.buttons = [
      { ...newButton("QUICK_REPLY"), text: "Unsubscribe" },
      { ...newButton("URL"), text: "Shop", url: "https://x.com/shop?promo={{1}}", example: "summer2023" },
      { ...newButton("PHONE_NUMBER"), text: "Call", phone: " 16467043595 " },
      { ...newButton("COPY_CODE"), example: "250FF" },
    ];
    expect(buildDefinition(f)).toEqual({
      name: "order_update",
      language: "en",
      category: "MARKETING",
      parameter_format: "POSITIONAL",
      components: [
        { type: "HEADER", format: "TEXT", text: "Our {{1}} is on!", example: { header_text: ["Summer Sale"] } },
        {
          type: "BODY",
          text: "Shop through {{1}} with code {{2}} now",
          example: { body_text: [["August", "25OFF"]] },
        },
        { type: "FOOTER", text: "Reply STOP to opt out" },
        {
          type: "BUTTONS",
          buttons: [
            { type: "QUICK_REPLY", text: "Unsubscribe" },
            { type: "URL", text: "Shop", url: "https://x.com/shop?promo={{1}}", example: ["summer2023"] },
            { type: "PHONE_NUMBER", text: "Call", phone_number: "16467043595" },
            { type: "COPY_CODE", example: "250FF" },
          ],
        },
      ],
    });
  });

  it("builds the named example objects and a media header's handle", () => {
    const f = form({
      format: "NAMED",
      headerFormat: "DOCUMENT",
      headerHandle: " 4::aW1 ",
      body: "Hi {{customer_name}}, invoice {{invoice_number}} is ready.",
      examples: { "body-customer_name": "Jessica", "body-invoice_number": "INV-1" },
    });
    const def = buildDefinition(f) as { components: unknown[] };
    expect(def.components).toEqual([
      { type: "HEADER", format: "DOCUMENT", example: { header_handle: ["4::aW1"] } },
      {
        type: "BODY",
        text: "Hi {{customer_name}}, invoice {{invoice_number}} is ready.",
        example: {
          body_text_named_params: [
            { param_name: "customer_name", example: "Jessica" },
            { param_name: "invoice_number", example: "INV-1" },
          ],
        },
      },
    ]);
    const named = buildDefinition(
      form({ format: "NAMED", headerFormat: "TEXT", headerText: "For {{who}}", examples: { "header-who": "Ana" } }),
    ) as { components: { example?: unknown }[] };
    expect(named.components[0]?.example).toEqual({ header_text_named_params: [{ param_name: "who", example: "Ana" }] });
  });

  it("leaves out what is empty: no header, no footer, no buttons, no example without variables", () => {
    expect(buildDefinition(form()).components).toEqual([{ type: "BODY", text: "Hello there" }]);
    expect((buildDefinition(form({ headerFormat: "LOCATION" })).components as unknown[])[0]).toEqual({
      type: "HEADER",
      format: "LOCATION",
    });
  });
});

describe("formFromDefinition", () => {
  it("reads a template as Meta has it back into the form, examples included, and rebuilds it unchanged", () => {
    const def = {
      name: "seasonal_promotion",
      language: "en_US",
      category: "MARKETING",
      status: "APPROVED",
      id: "1",
      components: [
        { type: "HEADER", format: "TEXT", text: "Our {{1}} is on!", example: { header_text: ["Summer Sale"] } },
        { type: "BODY", text: "Shop through {{1}} with code {{2}}", example: { body_text: [["August", "25OFF"]] } },
        { type: "FOOTER", text: "Reply STOP" },
        {
          type: "BUTTONS",
          buttons: [
            { type: "URL", text: "Shop", url: "https://x.com/{{1}}", example: ["summer"] },
            { type: "FLOW", text: "Book", flow_id: "42" },
          ],
        },
      ],
    };
    const f = formFromDefinition(def);
    expect(f.name).toBe("seasonal_promotion");
    expect(f.format).toBe("POSITIONAL");
    expect(f.examples).toEqual({ "header-1": "Summer Sale", "body-1": "August", "body-2": "25OFF" });
    expect(f.buttons[0]?.example).toBe("summer");
    expect(f.buttons[1]?.type).toBe("OTHER");
    const rebuilt = buildDefinition(f);
    expect(rebuilt["components"]).toEqual(def.components);
  });

  it("reads named examples and keeps body and footer keys the form does not edit", () => {
    const f = formFromDefinition({
      name: "otp",
      language: "en",
      category: "AUTHENTICATION",
      parameter_format: "NAMED",
      components: [
        {
          type: "BODY",
          text: "Code for {{who}}",
          add_security_recommendation: true,
          example: { body_text_named_params: [{ param_name: "who", example: "Ana" }] },
        },
        { type: "FOOTER", code_expiration_minutes: 10 },
      ],
    });
    expect(f.category).toBe("AUTHENTICATION");
    expect(f.examples).toEqual({ "body-who": "Ana" });
    const def = buildDefinition(f) as { components: Record<string, unknown>[] };
    expect(def.components[0]?.["add_security_recommendation"]).toBe(true);
    expect(def.components[1]).toEqual({ type: "FOOTER", code_expiration_minutes: 10 });
  });

  it("gives an empty form for something that is not a definition", () => {
    expect(formFromDefinition(null)).toEqual(emptyForm());
    expect(formFromDefinition("x").body).toBe("");
  });
});

describe("checkTemplate (Meta's rules, with the core's field names)", () => {
  it("accepts a valid template", () => {
    expect(checkTemplate(form({ body: "Hi {{1}}, welcome!", examples: { "body-1": "Ana" } }))).toEqual([]);
  });

  it("checks the name pattern and the language code", () => {
    expect(fields(form({ name: "Order Update" }))).toContain("name");
    expect(fields(form({ name: "" }))).toContain("name");
    expect(fields(form({ name: "a".repeat(513) }))).toContain("name");
    expect(fields(form({ language: "english!" }))).toContain("language");
    expect(fields(form({ language: "pt_BR" }))).not.toContain("language");
  });

  it("requires the body and limits it to 1024 characters, counted as characters", () => {
    expect(fields(form({ body: "  " }))).toEqual(["body.text"]);
    expect(checkTemplate(form({ body: "x".repeat(1025) }))[0]?.message).toBe("at most 1024 characters (it has 1025)");
    expect(fields(form({ body: "é".repeat(1024) }))).toEqual([]);
  });

  it("limits the footer and the header text to 60 characters", () => {
    expect(fields(form({ footer: "f".repeat(61) }))).toEqual(["footer.text"]);
    expect(fields(form({ headerFormat: "TEXT", headerText: "h".repeat(61) }))).toEqual(["header.text"]);
    expect(fields(form({ headerFormat: "TEXT", headerText: " " }))).toEqual(["header.text"]);
  });

  it("wants positional variables in order and named ones well formed", () => {
    const p = checkTemplate(form({ body: "Hi {{1}} and {{3}} today.", examples: { "body-1": "a", "body-3": "b" } }));
    expect(p.map((x) => x.field)).toEqual(["body.text"]);
    expect(p[0]?.message).toContain("found {{3}} where {{2}} was expected");
    expect(fields(form({ format: "NAMED", body: "Hi {{Name}} today.", examples: { "body-Name": "a" } }))).toEqual(["body.text"]);
    expect(fields(form({ format: "NAMED", body: "Hi {{name_1}} today.", examples: { "body-name_1": "a" } }))).toEqual([]);
  });

  it("counts a variable followed only by punctuation as ending the body", () => {
    expect(fields(form({ body: "It is due on {{1}}.", examples: { "body-1": "May 1" } }))).toEqual(["body.text"]);
    expect(fields(form({ body: "It is due on {{1}}, thanks.", examples: { "body-1": "May 1" } }))).toEqual([]);
  });

  it("refuses a variable at the very start or end of the body", () => {
    expect(fields(form({ body: "{{1}} is here", examples: { "body-1": "a" } }))).toEqual(["body.text"]);
    expect(fields(form({ body: "Here is {{1}}  ", examples: { "body-1": "a" } }))).toEqual(["body.text"]);
  });

  it("wants an example for every variable and a file handle for media headers", () => {
    expect(fields(form({ body: "Hi {{1}}, welcome!" }))).toEqual(["body.example"]);
    expect(fields(form({ headerFormat: "TEXT", headerText: "Hi {{1}}" }))).toEqual(["header.example"]);
    const two = checkTemplate(form({ headerFormat: "TEXT", headerText: "{{1}} {{2}}", examples: { "header-1": "a", "header-2": "b" } }));
    expect(two).toEqual([{ field: "header.text", message: "a header may hold one variable at most" }]);
    expect(fields(form({ headerFormat: "TEXT", headerText: "Hi {{2}}", examples: { "header-2": "b" } }))).toEqual(["header.text"]);
    expect(fields(form({ headerFormat: "VIDEO" }))).toEqual(["header.example"]);
    expect(fields(form({ headerFormat: "LOCATION" }))).toEqual([]);
  });

  it("checks buttons: count, kinds, labels, URLs, phone numbers, codes", () => {
    const eleven = Array.from({ length: 11 }, () => ({ ...newButton("QUICK_REPLY"), text: "Yes" }));
    expect(fields(form({ buttons: eleven }))).toEqual(["buttons"]);
    const urls = Array.from({ length: 3 }, () => ({ ...newButton("URL"), text: "Go", url: "https://x.example" }));
    expect(fields(form({ buttons: urls }))).toEqual(["buttons"]);
    expect(
      fields(
        form({
          buttons: [
            { ...newButton("QUICK_REPLY"), text: "A label that is far too long for Meta" },
            { ...newButton("URL"), text: "Go", url: "ftp://x/{{1}}/y" },
            { ...newButton("PHONE_NUMBER"), text: "Call", phone: "call me" },
            { ...newButton("COPY_CODE"), example: "" },
            { ...newButton("QUICK_REPLY"), text: "" },
          ],
        }),
      ),
    ).toEqual([
      "buttons[0].text",
      "buttons[1].url",
      "buttons[1].url",
      "buttons[1].example",
      "buttons[2].phone_number",
      "buttons[3].example",
      "buttons[4].text",
    ]);
    expect(fields(form({ buttons: [{ ...newButton("URL"), text: "Go" }] }))).toEqual(["buttons[0].url"]);
    expect(fields(form({ buttons: [{ ...newButton("COPY_CODE"), example: "1234567890123456" }] }))).toEqual([
      "buttons[0].example",
    ]);
  });

  it("lets Meta's limits on button kinds show in the add buttons", () => {
    const buttons = [newButton("PHONE_NUMBER"), newButton("COPY_CODE"), newButton("URL"), newButton("URL")];
    expect(canAddButton(buttons, "PHONE_NUMBER")).toBe(false);
    expect(canAddButton(buttons, "COPY_CODE")).toBe(false);
    expect(canAddButton(buttons, "URL")).toBe(false);
    expect(canAddButton(buttons, "QUICK_REPLY")).toBe(true);
    expect(canAddButton(Array.from({ length: 10 }, () => newButton("QUICK_REPLY")), "QUICK_REPLY")).toBe(false);
  });
});

describe("problems next to their fields", () => {
  it("groups messages by field, without repeats", () => {
    const g = groupProblems([
      { field: "body.text", message: "a" },
      { field: "name", message: "b" },
      { field: "body.text", message: "a" },
      { field: "body.text", message: "c" },
    ]);
    expect([...g]).toEqual([
      ["body.text", ["a", "c"]],
      ["name", ["b"]],
    ]);
  });

  it("knows which core fields have an input in the current form", () => {
    const f = form({ headerFormat: "NONE", buttons: [{ ...newButton("URL"), url: "https://x/{{1}}" }, newButton("COPY_CODE")] });
    expect(hasSlot(f, "name")).toBe(true);
    expect(hasSlot(f, "body.example")).toBe(true);
    expect(hasSlot(f, "header.text")).toBe(false);
    expect(hasSlot({ ...f, headerFormat: "TEXT" }, "header.text")).toBe(true);
    expect(hasSlot({ ...f, headerFormat: "IMAGE" }, "header.example")).toBe(true);
    expect(hasSlot(f, "buttons[0].url")).toBe(true);
    expect(hasSlot(f, "buttons[0].example")).toBe(true);
    expect(hasSlot(f, "buttons[1].text")).toBe(false);
    expect(hasSlot(f, "buttons[1].example")).toBe(true);
    expect(hasSlot(f, "buttons[5].text")).toBe(false);
    expect(hasSlot(f, "template")).toBe(false);
  });

  it("labels fields for the summary", () => {
    expect(fieldLabel("buttons[1].text")).toBe("Button 2 label");
    expect(fieldLabel("buttons[0].phone_number")).toBe("Button 1 phone number");
    expect(fieldLabel("body.text")).toBe("Body text");
    expect(fieldLabel("something.else")).toBe("something.else");
  });

  it("drops the core's problems about a field once it is edited", () => {
    const problems = [
      { field: "name", message: "taken" },
      { field: "body.text", message: "promotional" },
      { field: "body.example", message: "missing" },
      { field: "buttons[1].text", message: "long" },
      { field: "buttons[10].text", message: "long" },
      { field: "template", message: "Meta refused" },
    ];
    expect(clearProblems(problems, "body").map((p) => p.field)).toEqual(["name", "buttons[1].text", "buttons[10].text"]);
    expect(clearProblems(problems, "body.text").map((p) => p.field)).toEqual([
      "name",
      "body.example",
      "buttons[1].text",
      "buttons[10].text",
    ]);
    expect(clearProblems(problems, "buttons[1]").map((p) => p.field)).toEqual([
      "name",
      "body.text",
      "body.example",
      "buttons[10].text",
    ]);
  });
});
