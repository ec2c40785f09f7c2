import { describe, expect, it } from "vitest";
import { PagedList, type Page } from "./paged.svelte";

/** A fetch whose answers the test releases one by one, in any order. */
function controlled() {
  const pending: { offset: number; resolve: (p: Page<number>) => void; reject: (e: unknown) => void }[] = [];
  const fetch = (offset: number) =>
    new Promise<Page<number>>((resolve, reject) => pending.push({ offset, resolve, reject }));
  /** The i-th request made so far. */
  const at = (i: number) => {
    const request = pending[i];
    if (!request) throw new Error(`no request ${i} was made`);
    return request;
  };
  return { pending, fetch, at };
}

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("PagedList", () => {
  it("loads the first page, then the next ones, and stops at the total", async () => {
    const { pending, fetch, at } = controlled();
    const list = new PagedList(fetch, String);
    const first = list.reload();
    at(0).resolve({ items: rows(0, 2), total: 3 });
    await first;
    expect([list.items, list.total, list.loaded, list.hasMore, list.key]).toEqual([[0, 1], 3, true, true, 1]);
    const more = list.loadMore();
    expect(at(1).offset).toBe(2);
    at(1).resolve({ items: [2], total: 3 });
    await more;
    expect(list.items).toEqual([0, 1, 2]);
    expect(list.hasMore).toBe(false);
    await list.loadMore();
    expect(pending).toHaveLength(2); // nothing more asked
  });

  it("drops an older first page that answers after a newer one", async () => {
    const { fetch, at } = controlled();
    const list = new PagedList(fetch, String);
    const old = list.reload();
    const fresh = list.reload();
    at(1).resolve({ items: [7], total: 1 });
    await fresh;
    at(0).resolve({ items: rows(0, 5), total: 5 });
    await old;
    expect([list.items, list.total]).toEqual([[7], 1]);
  });

  it("drops a next page asked for before the list was reloaded", async () => {
    const { fetch, at } = controlled();
    const list = new PagedList(fetch, String);
    const first = list.reload();
    at(0).resolve({ items: rows(0, 2), total: 4 });
    await first;
    const more = list.loadMore();
    const again = list.reload();
    at(2).resolve({ items: [9], total: 1 });
    await again;
    at(1).resolve({ items: [2, 3], total: 4 });
    await more;
    expect(list.items).toEqual([9]);
  });

  it("keeps the rows it has and words the failure", async () => {
    const { fetch, at } = controlled();
    const list = new PagedList(fetch, (e) => `failed: ${String(e)}`);
    const first = list.reload();
    at(0).resolve({ items: [1], total: 2 });
    await first;
    const more = list.loadMore();
    at(1).reject("offline");
    await more;
    expect([list.items, list.error, list.loadingMore]).toEqual([[1], "failed: offline", false]);
    const retry = list.reload();
    at(2).resolve({ items: [1, 2], total: 2 });
    await retry;
    expect([list.items, list.error]).toEqual([[1, 2], null]);
  });
});
