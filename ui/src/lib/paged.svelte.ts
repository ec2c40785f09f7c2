// A list fetched a page at a time (Leads, Clients, Documents): the first page again whenever what
// it shows changes (a search, a filter, a saved record), the next page when the list nears its
// end. An answer to an older first page is dropped, so a slow request never overwrites a newer one.

export interface Page<T> {
  items: T[];
  total: number;
}

export class PagedList<T> {
  /** The rows loaded so far, in order. */
  items: T[] = $state.raw([]);
  /** How many rows match, loaded or not. */
  total = $state(0);
  /** The first page has arrived (or failed) at least once. */
  loaded = $state(false);
  loadingMore = $state(false);
  /** Why the last request failed; null after one that worked. */
  error: string | null = $state(null);
  /** Changes with each first page: key the list on it, so that it scrolls back to the top. */
  key = $state(0);

  #generation = 0;
  #fetch: (offset: number) => Promise<Page<T>>;
  #describe: (e: unknown) => string;

  /** `fetch` answers the page starting at `offset`; `describe` words a failure for a person. */
  constructor(fetch: (offset: number) => Promise<Page<T>>, describe: (e: unknown) => string) {
    this.#fetch = fetch;
    this.#describe = describe;
  }

  get hasMore(): boolean {
    return this.items.length < this.total;
  }

  /** The first page again (what the list shows has changed). */
  reload = async (): Promise<void> => {
    const mine = ++this.#generation;
    try {
      const page = await this.#fetch(0);
      if (mine !== this.#generation) return;
      this.items = page.items;
      this.total = page.total;
      this.error = null;
      this.key++;
    } catch (e) {
      if (mine === this.#generation) this.error = this.#describe(e);
    } finally {
      if (mine === this.#generation) this.loaded = true;
    }
  };

  /** The next page, unless one is on its way or all are loaded. */
  loadMore = async (): Promise<void> => {
    if (this.loadingMore || !this.hasMore) return;
    const mine = this.#generation;
    this.loadingMore = true;
    try {
      const page = await this.#fetch(this.items.length);
      if (mine !== this.#generation) return;
      this.items = [...this.items, ...page.items];
      this.total = page.total;
    } catch (e) {
      if (mine === this.#generation) this.error = this.#describe(e);
    } finally {
      this.loadingMore = false;
    }
  };
}
