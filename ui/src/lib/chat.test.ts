import { describe, expect, it } from "vitest";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { Conversation } from "./bindings/Conversation";
import type { QuickReply } from "./bindings/QuickReply";
import {
  adjacentConversation,
  applyQuickReply,
  base64ToBytes,
  checkAttachment,
  conversationTitle,
  dayLabel,
  fileMime,
  filterQuickReplies,
  formatTimeLeft,
  listTime,
  mergeFirstPage,
  mergeNewest,
  messagePreview,
  prependOlder,
  replaceRange,
  sameDay,
  searchesMessages,
  slashQuery,
  splitSnippet,
  statusTick,
  customerHandle,
  orderTotal,
  money,
  upsertMessage,
  windowState,
} from "./chat";

const MIN = 60_000;
const HOUR = 60 * MIN;

function reply(id: number, name: string, message: string): QuickReply {
  return { id, name, message, updated_at: 0 };
}

function msg(id: number, patch: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id,
    conversation_id: 1,
    wamid: `wamid.${id}`,
    outbound: false,
    content: { type: "text", body: `m${id}` },
    reply_to: null,
    their_reaction: null,
    our_reaction: null,
    staff_name: null,
    bot: null,
    sent_at: id * 1000,
    status: "received",
    error: null,
    marks: null,
    edited_at: null,
    original: null,
    deleted_at: null,
    pricing_category: null,
    ...patch,
  };
}

function conv(id: number, at: number, patch: Partial<Conversation> = {}): Conversation {
  return {
    id,
    customer: `+3460000000${id}`,
    customer_name: `Customer ${id}`,
    phone_number_id: "PN1",
    link_kind: null,
    link_id: null,
    assigned_username: null,
    assigned_name: null,
    last_activity_at: at,
    last_preview: "",
    last_direction: "in",
    unread: 0,
    window_closes_at: null,
    user_id: null,
    username: null,
    marketing_stopped_at: null,
    agent_holds_at: null,
    ...patch,
  };
}

describe("search snippets", () => {
  it("split the marked words out without treating anything as HTML", () => {
    expect(splitSnippet("the \u0001roof\u0002 leaks <b>again</b>")).toEqual([
      { text: "the ", mark: false },
      { text: "roof", mark: true },
      { text: " leaks <b>again</b>", mark: false },
    ]);
  });

  it("handle marks at the edges, adjacent marks and an unclosed mark", () => {
    expect(splitSnippet("\u0001a\u0002\u0001b\u0002 c")).toEqual([
      { text: "ab", mark: true },
      { text: " c", mark: false },
    ]);
    expect(splitSnippet("x \u0001y")).toEqual([
      { text: "x ", mark: false },
      { text: "y", mark: true },
    ]);
    expect(splitSnippet("")).toEqual([]);
  });

  it("search messages from two characters", () => {
    expect(searchesMessages("a")).toBe(false);
    expect(searchesMessages(" a ")).toBe(false);
    expect(searchesMessages("ab")).toBe(true);
    expect(searchesMessages("😀😀")).toBe(true);
  });
});

describe("the / quick-reply query", () => {
  it("is found at the start of the text or after whitespace, up to the caret", () => {
    expect(slashQuery("/", 1)).toEqual({ start: 0, query: "" });
    expect(slashQuery("/hel", 4)).toEqual({ start: 0, query: "hel" });
    expect(slashQuery("Hi /thanks", 10)).toEqual({ start: 3, query: "thanks" });
    expect(slashQuery("Hi\n/pr", 6)).toEqual({ start: 3, query: "pr" });
    expect(slashQuery("/hello world", 4)).toEqual({ start: 0, query: "hel" });
  });

  it("is not found inside a word, a URL or after a space", () => {
    expect(slashQuery("and/or", 6)).toBeNull();
    expect(slashQuery("see https://x.com/a", 19)).toBeNull();
    expect(slashQuery("/hello there", 12)).toBeNull();
    expect(slashQuery("", 0)).toBeNull();
  });

  it("is replaced by the quick reply's message, caret after it", () => {
    expect(applyQuickReply("Hi /tha", 3, 7, "Thank you!")).toEqual({ text: "Hi Thank you!", caret: 13 });
    expect(applyQuickReply("/a rest", 0, 2, "X")).toEqual({ text: "X rest", caret: 1 });
    expect(replaceRange("abc", 1, 1, "😀")).toEqual({ text: "a😀bc", caret: 3 });
    expect(replaceRange("abc", 5, 9, "!")).toEqual({ text: "abc!", caret: 4 });
  });

  it("filters name prefixes first, then names or messages containing the query", () => {
    const all = [
      reply(1, "thanks", "Thank you for your message"),
      reply(2, "price", "Our prices start at 10 EUR"),
      reply(3, "hours", "We open at 9"),
      reply(4, "prices-2026", "New prices"),
      reply(5, "goodbye", "Thanks, bye"),
    ];
    expect(filterQuickReplies(all, "pri").map((r) => r.id)).toEqual([2, 4]);
    expect(filterQuickReplies(all, "THANK").map((r) => r.id)).toEqual([1, 5]);
    expect(filterQuickReplies(all, "es").map((r) => r.id)).toEqual([2, 4, 1]);
    expect(filterQuickReplies(all, "open").map((r) => r.id)).toEqual([3]);
    expect(filterQuickReplies(all, "").map((r) => r.name)).toEqual(["goodbye", "hours", "price", "prices-2026", "thanks"]);
    expect(filterQuickReplies(all, "zzz")).toEqual([]);
  });
});

describe("the 24-hour window", () => {
  it("formats the time left in hours and minutes, rounded down", () => {
    expect(formatTimeLeft(23 * HOUR + 12 * MIN + 59_000)).toBe("23 h 12 min");
    expect(formatTimeLeft(2 * HOUR)).toBe("2 h");
    expect(formatTimeLeft(45 * MIN + 30_000)).toBe("45 min");
    expect(formatTimeLeft(59_999)).toBe("less than a minute");
    expect(formatTimeLeft(-5)).toBe("less than a minute");
  });

  it("counts from Meta's clock, not this computer's", () => {
    const metaNow = 1_000_000_000_000;
    expect(windowState(metaNow + 3 * HOUR, metaNow, true)).toEqual({ open: true, label: "Window open · 3 h left" });
    expect(windowState(metaNow - 1, metaNow, false).open).toBe(false);
    expect(windowState(metaNow - 1, metaNow, false).label).toBe("Window closed — only templates can be sent");
    expect(windowState(null, metaNow, false).open).toBe(false);
    // The core says closed even if the numbers disagree: trust it.
    expect(windowState(metaNow + HOUR, metaNow, false).open).toBe(false);
  });
});

describe("status ticks", () => {
  it("map every status", () => {
    expect(statusTick("queued").glyph).toBe("clock");
    expect(statusTick("accepted").glyph).toBe("clock");
    expect(statusTick("sent")).toMatchObject({ glyph: "check", label: "Sent" });
    expect(statusTick("delivered")).toMatchObject({ glyph: "double", read: false });
    expect(statusTick("read")).toMatchObject({ glyph: "double", read: true, label: "Read" });
    expect(statusTick("received").glyph).toBe("none");
  });

  it("carry the error of a failed or refused message", () => {
    expect(statusTick("failed", "Message undeliverable")).toEqual({ glyph: "warn", read: false, label: "Failed: Message undeliverable", failed: true });
    expect(statusTick("refused", "the 24-hour window is closed").label).toBe("Not sent: the 24-hour window is closed");
    expect(statusTick("failed").label).toBe("Failed");
  });

  it("say plainly that a message whose answer was lost may have been sent", () => {
    const t = statusTick("uncertain", "Meta's answer was unclear");
    expect(t.glyph).toBe("warn");
    expect(t.failed).toBe(true);
    expect(t.label).toBe("May have been sent: Meta's answer was unclear");
  });
});

describe("attachments", () => {
  it("take the browser's type, normalised, else guess from the extension", () => {
    expect(fileMime("a.jpg", "image/jpeg")).toBe("image/jpeg");
    expect(fileMime("a.m4a", "audio/x-m4a")).toBe("audio/mp4");
    expect(fileMime("a.mp3", "audio/mp3")).toBe("audio/mpeg");
    expect(fileMime("Report.DOCX", "")).toBe("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    expect(fileMime("voice.opus", "application/octet-stream")).toBe("audio/ogg");
    expect(fileMime("noext", "")).toBe("");
  });

  it("accept what WhatsApp accepts within its sizes", () => {
    expect(checkAttachment("a.png", "image/png", 5 * 1024 * 1024)).toEqual({ ok: true, mime: "image/png", kind: "image" });
    expect(checkAttachment("a.mp4", "video/mp4", 16 * 1024 * 1024)).toMatchObject({ ok: true, kind: "video" });
    expect(checkAttachment("a.ogg", "audio/ogg", 1000)).toMatchObject({ ok: true, kind: "audio" });
    expect(checkAttachment("quote.pdf", "application/pdf", 100 * 1024 * 1024)).toMatchObject({ ok: true, kind: "document" });
  });

  it("refuse other types, empty files and files too large, with a clear reason", () => {
    const gif = checkAttachment("a.gif", "image/gif", 1000);
    expect(gif.ok).toBe(false);
    if (!gif.ok) expect(gif.message).toContain("“a.gif” (image/gif) cannot be sent on WhatsApp");
    const big = checkAttachment("photo.jpg", "image/jpeg", 5 * 1024 * 1024 + 1);
    expect(big).toEqual({ ok: false, message: "“photo.jpg” is 5.0 MB; WhatsApp accepts images (jpeg or png) up to 5.0 MB." });
    const video = checkAttachment("clip.mp4", "video/mp4", 17 * 1024 * 1024);
    expect(video.ok).toBe(false);
    if (!video.ok) expect(video.message).toContain("up to 16.0 MB");
    expect(checkAttachment("e.pdf", "application/pdf", 0)).toEqual({ ok: false, message: "“e.pdf” is empty." });
  });
});

describe("times", () => {
  const now = new Date(2026, 5, 10, 15, 30).getTime(); // a Wednesday

  it("show the clock today, Yesterday, the weekday within a week, else the date", () => {
    expect(listTime(new Date(2026, 5, 10, 9, 5).getTime(), now)).toBe("09:05");
    expect(listTime(new Date(2026, 5, 9, 23, 59).getTime(), now)).toBe("Yesterday");
    expect(listTime(new Date(2026, 5, 7, 12, 0).getTime(), now)).toBe("Sun");
    expect(listTime(new Date(2026, 4, 30, 12, 0).getTime(), now)).toBe("2026-05-30");
    expect(dayLabel(new Date(2026, 5, 10, 0, 1).getTime(), now)).toBe("Today");
    expect(dayLabel(new Date(2026, 5, 8, 0, 1).getTime(), now)).toBe("Monday");
  });

  it("compare local days", () => {
    expect(sameDay(new Date(2026, 0, 1, 0, 0).getTime(), new Date(2026, 0, 1, 23, 59).getTime())).toBe(true);
    expect(sameDay(new Date(2026, 0, 1, 23, 59).getTime(), new Date(2026, 0, 2, 0, 0).getTime())).toBe(false);
  });
});

describe("the thread", () => {
  it("keeps the older pages when the newest page is reloaded, replacing what changed", () => {
    const current = { messages: [1, 2, 3, 4, 5].map((id) => msg(id)), before: 1 };
    const fresh = { messages: [msg(4, { their_reaction: "👍" }), msg(5), msg(6)], before: 4 };
    const merged = mergeNewest(current, fresh);
    expect(merged.messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(merged.messages[3]?.their_reaction).toBe("👍");
    expect(merged.before).toBe(1);
  });

  it("replaces everything when the newest page may leave a gap", () => {
    const current = { messages: [msg(1), msg(2)], before: null };
    const fresh = { messages: [msg(60), msg(61)], before: 60 };
    expect(mergeNewest(current, fresh)).toEqual({ messages: [msg(60), msg(61)], before: 60 });
  });

  it("takes the newest page whole when nothing was loaded, and merges a short conversation", () => {
    expect(mergeNewest({ messages: [], before: null }, { messages: [msg(1)], before: null }).messages.map((m) => m.id)).toEqual([1]);
    expect(mergeNewest({ messages: [msg(1)], before: null }, { messages: [msg(1), msg(2)], before: null }).messages.map((m) => m.id)).toEqual([1, 2]);
  });

  it("prepends an older page without duplicates", () => {
    const t = prependOlder({ messages: [msg(3), msg(4)], before: 3 }, { messages: [msg(1), msg(2), msg(3)], before: null });
    expect(t.messages.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(t.before).toBeNull();
  });

  it("upserts a sent message in id order", () => {
    expect(upsertMessage([msg(1), msg(3)], msg(2)).map((m) => m.id)).toEqual([1, 2, 3]);
    const replaced = upsertMessage([msg(1), msg(2)], msg(2, { status: "read", outbound: true }));
    expect(replaced.map((m) => m.status)).toEqual(["received", "read"]);
  });

  it("previews each kind of message", () => {
    expect(messagePreview({ type: "text", body: "hi" })).toBe("hi");
    expect(messagePreview({ type: "audio", media: { media_id: "1", mime_type: "audio/ogg", filename: null, caption: null }, voice: true })).toBe("🎤 Voice message");
    expect(messagePreview({ type: "unsupported", kind: "poll", detail: null })).toBe("Unsupported message (poll)");
  });
});

describe("conversations", () => {
  it("are titled by name, else number", () => {
    expect(conversationTitle({ customer_name: "Ana", customer: "+34600" })).toBe("Ana");
    expect(conversationTitle({ customer_name: " ", customer: "+34600" })).toBe("+34600");
  });

  it("step to the next and previous one", () => {
    const list = [conv(1, 30), conv(2, 20), conv(3, 10)];
    expect(adjacentConversation(list, 1, 1)?.id).toBe(2);
    expect(adjacentConversation(list, 2, -1)?.id).toBe(1);
    expect(adjacentConversation(list, 3, 1)).toBeNull();
    expect(adjacentConversation(list, null, 1)?.id).toBe(1);
    expect(adjacentConversation(list, 99, -1)?.id).toBe(3);
    expect(adjacentConversation([], null, 1)).toBeNull();
  });

  it("merge a reloaded first page, keeping later rows loaded before", () => {
    const current = [conv(1, 50), conv(2, 40), conv(3, 30), conv(4, 20)];
    const first = [conv(3, 60), conv(1, 50)];
    expect(mergeFirstPage(current, first, true).map((c) => c.id)).toEqual([3, 1, 2, 4]);
    expect(mergeFirstPage(current, first, false).map((c) => c.id)).toEqual([3, 1]);
  });
});

describe("helpers", () => {
  it("decode base64", () => {
    expect([...base64ToBytes("AAEC/w==")]).toEqual([0, 1, 2, 255]);
  });
});

describe("a notification opening the chat from another screen", () => {
  it("hands the conversation over once", async () => {
    const { requestOpen, takePendingOpen } = await import("./chat");
    expect(takePendingOpen()).toBeNull();
    requestOpen(42);
    expect(takePendingOpen()).toBe(42);
    expect(takePendingOpen()).toBeNull();
  });
});

describe("what Meta's other kinds show", () => {
  it("an order totals its lines when every line has a price in one currency", () => {
    const items = [
      { product_id: "a", quantity: 2, unit_price: 30.5, currency: "USD" },
      { product_id: "b", quantity: 1, unit_price: 12, currency: "USD" },
    ];
    expect(orderTotal(items)).toEqual({ amount: 73, currency: "USD" });
    expect(orderTotal([...items, { product_id: "c", quantity: 1, unit_price: null, currency: null }])).toBeNull();
    expect(orderTotal([items[0]!, { product_id: "d", quantity: 1, unit_price: 3, currency: "EUR" }])).toBeNull();
    expect(orderTotal([])).toBeNull();
    expect(money(73, "USD")).toContain("73");
    expect(money(5, "NOT-A-CURRENCY")).toBe("5.00 NOT-A-CURRENCY");
  });

  it("previews name the kind", () => {
    expect(messagePreview({ type: "order", catalog_id: "C", items: [{ product_id: "a", quantity: 3, unit_price: null, currency: null }], note: null })).toBe("🛒 Order: 3 items");
    expect(messagePreview({ type: "flow_reply", name: "booking", body: "Sent", answers: [] })).toBe("📝 Form answered: booking");
    expect(messagePreview({ type: "call_permission", accepted: false, expires_at: null, source: null })).toBe("📞 Calls declined");
  });

  it("a played voice message shows blue ticks", () => {
    expect(statusTick("played")).toEqual({ glyph: "double", read: true, label: "Played", failed: false });
  });
});

describe("customers known by username", () => {
  it("the title falls back to the username, and the handle names what is known", () => {
    const byName = conv(1, 0, { customer: "US.1349", customer_name: "", username: "sheena.n" });
    expect(conversationTitle(byName)).toBe("@sheena.n");
    expect(customerHandle(byName)).toBe("");
    const both = conv(2, 0, { customer: "+16505551234", customer_name: "Sheena", username: "sheena.n" });
    expect(customerHandle(both)).toBe("@sheena.n · +1 650 555 1234");
    expect(customerHandle(conv(3, 0, { customer: "US.1", customer_name: "Sheena" }))).toBe("");
  });
});

describe("the username on a linked record", () => {
  it("is the conversation's with that exact number, when Meta sent one", async () => {
    const { usernameOf } = await import("./chat");
    const list = [
      { customer: "+16505551234", username: null },
      { customer: "+16505551299", username: "dara.b" },
      { customer: "US.1349", username: "other" },
    ];
    expect(usernameOf(list, "+16505551299")).toBe("dara.b");
    expect(usernameOf(list, "+16505551234")).toBeNull();
    expect(usernameOf(list, "+1650555129")).toBeNull();
  });
});
