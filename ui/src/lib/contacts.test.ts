import { describe, expect, it } from "vitest";
import type { Contact } from "./bindings/Contact";
import type { Group } from "./bindings/Group";
import {
  contactForm,
  emptyContactForm,
  groupChips,
  groupIdOf,
  loadedContacts,
  pageFilter,
  pageOffset,
  pagesInRange,
  pagesToEvict,
  placeOf,
  reachOf,
  rowsOf,
  selectAllState,
  whoOf,
  toContactInput,
  headerCheckbox,
  toggleGroup,
  toggleOne,
  withoutIds,
} from "./contacts";

function contact(id: number, extra: Partial<Contact> = {}): Contact {
  return {
    id,
    phone: `+1555010${String(id).padStart(4, "0")}`,
    wa_user_id: null,
    username: "",
    name: `C${id}`,
    company: "",
    address: "",
    city: "",
    state: "",
    country: "",
    description: "",
    group_ids: [],
    created_at: 0,
    ...extra,
  };
}

const group = (id: number, name: string): Group => ({ id, name, description: "", contact_count: 0, created_at: 0 });

describe("paging window → offsets", () => {
  it("covers the rows of a window with whole pages", () => {
    expect(pagesInRange(0, 40, 200)).toEqual([0]);
    expect(pagesInRange(190, 230, 200)).toEqual([0, 1]);
    expect(pagesInRange(200, 400, 200)).toEqual([1]);
    expect(pagesInRange(399, 401, 200)).toEqual([1, 2]);
  });
  it("handles the middle of a million rows and empty windows", () => {
    expect(pagesInRange(500_000, 500_050, 200)).toEqual([2500]);
    expect(pagesInRange(0, 0, 200)).toEqual([0]);
    expect(pagesInRange(-5, 3, 200)).toEqual([0]);
  });
  it("asks for page offsets", () => {
    expect(pageOffset(0)).toBe(0);
    expect(pageOffset(3)).toBe(600);
    expect(pageOffset(4999, 200)).toBe(999_800);
  });
  it("builds the filter of a page", () => {
    expect(pageFilter("", "", 0)).toEqual({ offset: 0, limit: 200 });
    expect(pageFilter("  ana ", "7", 2)).toEqual({ offset: 400, limit: 200, search: "ana", group_id: 7 });
    expect(groupIdOf("")).toBeNull();
    expect(groupIdOf("x")).toBeNull();
    expect(groupIdOf("12")).toBe(12);
  });
});

describe("page cache", () => {
  it("drops the pages farthest from the view, never those in view", () => {
    expect(pagesToEvict([0, 1, 2], [1], 5)).toEqual([]);
    expect(pagesToEvict([0, 1, 2, 10, 11, 50], [10, 11], 3)).toEqual([50, 0, 1]);
    expect(pagesToEvict([5, 6], [5, 6], 1)).toEqual([]);
  });
  it("places loaded pages in a sparse array of the full length", () => {
    const pages = new Map([
      [0, [contact(1), contact(2)]],
      [2, [contact(5)]],
    ]);
    const rows = rowsOf(1_000_000, pages, 2);
    expect(rows.length).toBe(1_000_000);
    expect(rows[0]?.id).toBe(1);
    expect(rows[1]?.id).toBe(2);
    expect(rows[2]).toBeUndefined();
    expect(rows[4]?.id).toBe(5);
    expect(rows[999_999]).toBeUndefined();
    expect(loadedContacts(pages).map((c) => c.id)).toEqual([1, 2, 5]);
  });
  it("never grows past the total", () => {
    expect(rowsOf(1, new Map([[0, [contact(1), contact(2)]]]), 2).length).toBe(1);
  });
});

describe("selection", () => {
  it("says whether none, some or all loaded rows are selected", () => {
    expect(selectAllState([], new Set([1]))).toBe("none");
    expect(selectAllState([1, 2], new Set())).toBe("none");
    expect(selectAllState([1, 2], new Set([2]))).toBe("some");
    expect(selectAllState([1, 2], new Set([1, 2, 9]))).toBe("all");
  });
  it("selects every match from an empty header box, and clears from any other", () => {
    expect(headerCheckbox([1, 2], new Set(), 911)).toEqual({ shows: "none", click: "select_every_match" });
    // All 200 loaded rows of 911 matches is not all of them.
    expect(headerCheckbox([1, 2], new Set([1, 2]), 911)).toEqual({ shows: "some", click: "clear" });
    expect(headerCheckbox([1, 2], new Set([1, 2, 3, 4]), 4)).toEqual({ shows: "all", click: "clear" });
    expect(headerCheckbox([1, 2], new Set([2]), 2)).toEqual({ shows: "some", click: "clear" });
  });
  it("toggles one row and forgets deleted ones without changing the input", () => {
    const start = new Set([1]);
    expect([...toggleOne(start, 2)]).toEqual([1, 2]);
    expect([...toggleOne(start, 1)]).toEqual([]);
    expect([...start]).toEqual([1]);
    expect([...withoutIds(new Set([1, 2, 3]), [2, 3])]).toEqual([1]);
  });
});

describe("display and form", () => {
  it("shows the place", () => {
    expect(placeOf({ city: "Austin", state: "TX", country: "US" })).toBe("Austin, TX · US");
    expect(placeOf({ city: " ", state: "", country: "DE" })).toBe("DE");
    expect(placeOf({ city: "Paris", state: "", country: "" })).toBe("Paris");
    expect(placeOf({ city: "", state: "", country: "" })).toBe("—");
  });
  it("names the groups in list order, skipping unknown ids", () => {
    const groups = [group(1, "VIP"), group(2, "Leads"), group(3, "Fair")];
    expect(groupChips([3, 1, 99], groups).map((g) => g.name)).toEqual(["VIP", "Fair"]);
  });
  it("turns the form into a ContactInput", () => {
    const form = { ...emptyContactForm(), phone: " 555 010 0101 ", name: " Ana ", groupIds: [2, 2, 99, 1] };
    expect(toContactInput(form, [group(1, "a"), group(2, "b")])).toEqual({
      phone: "555 010 0101",
      name: "Ana",
      company: "",
      address: "",
      city: "",
      state: "",
      country: "",
      description: "",
      group_ids: [2, 1],
    });
  });
  it("starts an edit from the contact, with its own copy of the groups", () => {
    const c = contact(4, { group_ids: [1], city: "Austin" });
    const form = contactForm(c);
    expect(form.city).toBe("Austin");
    form.groupIds.push(2);
    expect(c.group_ids).toEqual([1]);
  });
  it("toggles a group choice", () => {
    expect(toggleGroup([1, 2], 3, true)).toEqual([1, 2, 3]);
    expect(toggleGroup([1, 2], 1, false)).toEqual([2]);
    expect(toggleGroup([1, 2], 2, true)).toEqual([1, 2]);
  });
});

describe("a contact reached by WhatsApp username", () => {
  it("is named by its username where a number would be, never by an empty string", () => {
    const dara = contact(7, { phone: "", wa_user_id: "US.1", username: "dara.k", name: "" });
    expect(reachOf(dara)).toBe("@dara.k");
    expect(whoOf(dara)).toBe("@dara.k");
    expect(reachOf({ ...dara, username: "" })).toBe("WhatsApp user");
    expect(whoOf({ ...dara, name: "Dara" })).toBe("Dara");
    expect(reachOf(contact(8), (p) => `formatted ${p}`)).toBe("formatted +15550100008");
  });
});
