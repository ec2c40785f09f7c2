import { describe, expect, it } from "vitest";
import type { Me } from "./bindings/Me";
import { forbidden, may, setMe } from "./me.svelte";

const rep: Me = {
  staff_id: 2,
  name: "Sam Rep",
  username: "sam",
  role: { id: 2, name: "Sales rep", is_admin: false, permissions: [{ resource: "whatsapp_contacts", action: "view" }] },
  navigation: [],
};

describe("what the signed-in role may do", () => {
  it("allows what the role grants, everything to an administrator, nothing when signed out", () => {
    setMe(rep);
    expect(may("whatsapp_contacts", "view")).toBe(true);
    expect(may("whatsapp_contacts", "import")).toBe(false);
    setMe({ ...rep, role: { ...rep.role, is_admin: true, permissions: [] } });
    expect(may("whatsapp_template", "create")).toBe(true);
    setMe(null);
    expect(may("whatsapp_contacts", "view")).toBe(false);
  });
  it("says why in plain words, naming no permission key", () => {
    setMe(rep);
    expect(forbidden("whatsapp_contacts", "import")).toBe(
      "Your role (Sales rep) does not allow importing into Bulk Contacts: ask an administrator.",
    );
    expect(forbidden("whatsapp_contacts", "view")).toBeNull();
  });
});
