import { describe, expect, it } from "vitest";
import { MAX_SCROLL_HEIGHT, isNearEnd, virtualWindow } from "./virtual";

const base = { rowHeight: 40, viewportHeight: 400, overscan: 5 };

describe("virtualWindow", () => {
  it("renders the visible rows plus overscan at the top", () => {
    const w = virtualWindow({ ...base, count: 1000, scrollTop: 0 });
    expect(w).toEqual({ start: 0, end: 15, firstVisible: 0, lastVisible: 10, offset: 0, height: 40_000 });
  });

  it("moves the window with the scroll position", () => {
    const w = virtualWindow({ ...base, count: 1000, scrollTop: 4000 });
    expect(w.firstVisible).toBe(100);
    expect(w.lastVisible).toBe(110);
    expect([w.start, w.end]).toEqual([95, 115]);
    expect(w.offset).toBe(95 * 40);
  });

  it("counts a partly visible row as visible", () => {
    const w = virtualWindow({ ...base, count: 1000, scrollTop: 4020 });
    expect(w.firstVisible).toBe(100);
    expect(w.lastVisible).toBe(111);
  });

  it("clamps at the end and when scrolled past it", () => {
    const w = virtualWindow({ ...base, count: 1000, scrollTop: 1e9 });
    expect(w.lastVisible).toBe(1000);
    expect(w.end).toBe(1000);
    expect(w.firstVisible).toBe(990);
    expect(w.offset).toBe(w.start * 40);
  });

  it("handles an empty list, a short list and a negative scroll", () => {
    expect(virtualWindow({ ...base, count: 0, scrollTop: 0 })).toEqual({
      start: 0, end: 0, firstVisible: 0, lastVisible: 0, offset: 0, height: 0,
    });
    const short = virtualWindow({ ...base, count: 3, scrollTop: -50 });
    expect([short.start, short.end, short.height, short.offset]).toEqual([0, 3, 120, 0]);
  });

  it("keeps the DOM small for 100,000 rows", () => {
    const w = virtualWindow({ ...base, count: 100_000, scrollTop: 2_000_000 });
    expect(w.height).toBe(4_000_000);
    expect(w.end - w.start).toBeLessThanOrEqual(21);
    expect(w.firstVisible).toBe(50_000);
  });

  it("compresses the scroll range past maxHeight and still reaches every row", () => {
    const count = 1_000_000;
    const top = virtualWindow({ ...base, count, scrollTop: 0 });
    expect(top.height).toBe(MAX_SCROLL_HEIGHT);
    expect(top.start).toBe(0);

    const scrollable = MAX_SCROLL_HEIGHT - base.viewportHeight;
    const bottom = virtualWindow({ ...base, count, scrollTop: scrollable });
    expect(bottom.lastVisible).toBe(count);
    // The last row ends exactly at the bottom of the compressed content.
    expect(bottom.offset + (bottom.end - bottom.start) * base.rowHeight).toBeCloseTo(MAX_SCROLL_HEIGHT, 6);

    const middle = virtualWindow({ ...base, count, scrollTop: scrollable / 2 });
    expect(Math.abs(middle.firstVisible - (count - 10) / 2)).toBeLessThanOrEqual(1);
    // Rows are drawn inside the viewport area around scrollTop.
    const firstVisibleTop = middle.offset + (middle.firstVisible - middle.start) * base.rowHeight;
    expect(firstVisibleTop).toBeLessThanOrEqual(scrollable / 2);
    expect(firstVisibleTop).toBeGreaterThan(scrollable / 2 - base.rowHeight);
  });

  it("respects a custom maxHeight", () => {
    const w = virtualWindow({ ...base, count: 100, scrollTop: 0, maxHeight: 1000 });
    expect(w.height).toBe(1000);
  });
});

describe("isNearEnd", () => {
  it("is true once one of the last rows is in view", () => {
    expect(isNearEnd(virtualWindow({ ...base, count: 100, scrollTop: 0 }), 100, 20)).toBe(false);
    expect(isNearEnd(virtualWindow({ ...base, count: 100, scrollTop: 2800 }), 100, 20)).toBe(true);
    expect(isNearEnd(virtualWindow({ ...base, count: 5, scrollTop: 0 }), 5, 20)).toBe(true);
    expect(isNearEnd(virtualWindow({ ...base, count: 0, scrollTop: 0 }), 0, 20)).toBe(false);
  });
});
