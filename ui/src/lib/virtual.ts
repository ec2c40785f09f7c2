// Window arithmetic for a virtualised list of fixed-height rows.
//
// Only the rows in view (plus some overscan) are rendered. Browsers cap how tall an element can
// be (WebKit and Firefox at a few tens of millions of pixels), so past `maxHeight` the scroll
// range is compressed: the scrollbar spans `maxHeight` pixels and maps linearly onto the real
// content, while the rows themselves are still drawn at their real height.

/** Comfortably below the element-height limits of WebKit, Blink and Gecko. */
export const MAX_SCROLL_HEIGHT = 8_000_000;

export interface WindowInput {
  /** Number of rows. */
  count: number;
  /** Height of every row, in pixels (> 0). */
  rowHeight: number;
  /** Height of the scrolling viewport, in pixels. */
  viewportHeight: number;
  /** The viewport's scrollTop, in pixels. */
  scrollTop: number;
  /** Rows rendered beyond each edge of the viewport. */
  overscan?: number;
  /** The tallest the scroll content may be; see MAX_SCROLL_HEIGHT. */
  maxHeight?: number;
}

export interface VirtualWindow {
  /** First rendered row (inclusive). */
  start: number;
  /** Last rendered row (exclusive). */
  end: number;
  /** First row at least partly in view. */
  firstVisible: number;
  /** One past the last row at least partly in view. */
  lastVisible: number;
  /** Where row `start` is drawn, in pixels from the top of the scroll content. */
  offset: number;
  /** Height to give the scroll content, in pixels. */
  height: number;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

export function virtualWindow(input: WindowInput): VirtualWindow {
  const count = Math.max(0, Math.floor(input.count));
  const rowHeight = input.rowHeight > 0 ? input.rowHeight : 1;
  const viewport = Math.max(0, input.viewportHeight);
  const overscan = Math.max(0, Math.floor(input.overscan ?? 6));
  const maxHeight = Math.max(rowHeight, input.maxHeight ?? MAX_SCROLL_HEIGHT);

  const realHeight = count * rowHeight;
  const height = Math.min(realHeight, maxHeight);
  if (count === 0) {
    return { start: 0, end: 0, firstVisible: 0, lastVisible: 0, offset: 0, height: 0 };
  }

  // `scrolled` is the position on the (maybe compressed) scrollbar; `virtualTop` is the real
  // content offset at the top of the viewport.
  const scrollable = Math.max(0, height - viewport);
  const realScrollable = Math.max(0, realHeight - viewport);
  const scrolled = clamp(Number.isFinite(input.scrollTop) ? input.scrollTop : 0, 0, scrollable);
  const virtualTop = scrollable > 0 ? (scrolled * realScrollable) / scrollable : 0;

  const firstVisible = clamp(Math.floor(virtualTop / rowHeight), 0, count - 1);
  const lastVisible = clamp(Math.ceil((virtualTop + viewport) / rowHeight), firstVisible + 1, count);
  const start = Math.max(0, firstVisible - overscan);
  const end = Math.min(count, lastVisible + overscan);
  const offset = scrolled + (start * rowHeight - virtualTop);

  return { start, end, firstVisible, lastVisible, offset, height };
}

/** Whether the viewport shows one of the last `threshold` rows: time to load the next page. */
export function isNearEnd(window: VirtualWindow, count: number, threshold: number): boolean {
  return count > 0 && window.lastVisible >= count - Math.max(0, threshold);
}
