import { describe, expect, it } from "vitest";
import type { Permission } from "./bindings/Permission";
import type { ResourceInfo } from "./bindings/ResourceInfo";
import { actionColumns, hasPermission, normalise, permissionCount, rowState, setPermission, setRow } from "./permissions";

const CATALOG: ResourceInfo[] = [
  { resource: "whatsapp_chat", key: "whatsapp_chat", label: "Chat", actions: ["view", "send"] },
  { resource: "whatsapp_contacts", key: "whatsapp_contacts", label: "Bulk Contacts", actions: ["view", "create", "edit", "delete", "import"] },
  { resource: "whatsapp_numbers", key: "whatsapp_numbers", label: "Numbers", actions: ["view"] },
];
const contacts = CATALOG[1]!;

describe("permission matrix", () => {
  it("has one column per action any resource has, in a fixed order", () => {
    expect(actionColumns(CATALOG)).toEqual(["view", "send", "create", "edit", "delete", "import"]);
  });

  it("switches single permissions on and off without duplicates", () => {
    let perms: Permission[] = [];
    perms = setPermission(perms, "whatsapp_chat", "send", true);
    perms = setPermission(perms, "whatsapp_chat", "send", true);
    expect(perms).toEqual([{ resource: "whatsapp_chat", action: "send" }]);
    expect(hasPermission(perms, "whatsapp_chat", "send")).toBe(true);
    perms = setPermission(perms, "whatsapp_chat", "send", false);
    expect(perms).toEqual([]);
  });

  it("reports and sets whole rows", () => {
    let perms: Permission[] = [{ resource: "whatsapp_chat", action: "view" }];
    expect(rowState(perms, contacts)).toBe("none");
    perms = setPermission(perms, "whatsapp_contacts", "import", true);
    expect(rowState(perms, contacts)).toBe("some");
    perms = setRow(perms, contacts, true);
    expect(rowState(perms, contacts)).toBe("all");
    expect(perms.filter((p) => p.resource === "whatsapp_contacts")).toHaveLength(5);
    perms = setRow(perms, contacts, false);
    expect(perms).toEqual([{ resource: "whatsapp_chat", action: "view" }]);
  });

  it("normalises into catalog order and drops what the catalog does not define", () => {
    const perms: Permission[] = [
      { resource: "whatsapp_numbers", action: "view" },
      { resource: "whatsapp_chat", action: "delete" },
      { resource: "whatsapp_chat", action: "view" },
      { resource: "whatsapp_chat", action: "view" },
    ];
    expect(normalise(perms, CATALOG)).toEqual([
      { resource: "whatsapp_chat", action: "view" },
      { resource: "whatsapp_numbers", action: "view" },
    ]);
    expect(permissionCount(perms, CATALOG)).toBe(2);
  });
});
