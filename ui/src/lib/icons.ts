// Icon shapes for the inline-SVG <Icon> component: 24×24, stroked with currentColor.
// Circles and rectangles are written as path data so every icon is a list of paths.

import type { Screen } from "./bindings/Screen";

const circle = (cx: number, cy: number, r: number) =>
  `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;

const rect = (x: number, y: number, w: number, h: number, r: number) =>
  `M${x + r} ${y}h${w - 2 * r}a${r} ${r} 0 0 1 ${r} ${r}v${h - 2 * r}a${r} ${r} 0 0 1 ${-r} ${r}` +
  `h${-(w - 2 * r)}a${r} ${r} 0 0 1 ${-r} ${-r}v${-(h - 2 * r)}a${r} ${r} 0 0 1 ${r} ${-r}z`;

export const ICONS = {
  chat: ["M20.5 11.5a8.5 8.5 0 0 1-12.3 7.6L3.5 20.5l1.4-4.4A8.5 8.5 0 1 1 20.5 11.5z", "M8.5 11.5h7", "M8.5 8.5h4.5"],
  bots: [rect(4.5, 8, 15, 11.5, 3), "M12 4.5V8", circle(12, 3.6, 1), circle(9.5, 13, 1), circle(14.5, 13, 1), "M9.5 16.5h5", "M2.5 12.5v3", "M21.5 12.5v3"],
  campaigns: ["M3.5 10v4a1 1 0 0 0 1 1h2.5l5.5 4.5v-15L7 9H4.5a1 1 0 0 0-1 1z", "M16 9.2a4 4 0 0 1 0 5.6", "M18.6 6.6a7.7 7.7 0 0 1 0 10.8"],
  groups: [circle(9, 8, 3.2), "M3 19.5a6 6 0 0 1 12 0", "M15.5 4.9a3.2 3.2 0 0 1 0 6.2", "M17.5 13.6a6 6 0 0 1 3.5 5.9"],
  bulk_contacts: [rect(5, 3, 15, 18, 2), circle(12.5, 10, 2.5), "M8.7 17.2a3.8 3.8 0 0 1 7.6 0", "M3 7.5h3.5", "M3 12h3.5", "M3 16.5h3.5"],
  templates: [rect(4.5, 3, 15, 18, 2), "M8 7.5h8", "M8 11h8", "M8 14.5h5", "M14.5 17.5l1.3 1.3 2.7-2.8"],
  quick_replies: ["M13 2.5 4.5 13.5h6.5l-1 8 8.5-11H12l1-8z"],
  numbers: ["M5.5 3.5h3.3l1.8 4.6-2.4 1.5a11 11 0 0 0 6.2 6.2l1.5-2.4 4.6 1.8v3.3a2 2 0 0 1-2.2 2A16.5 16.5 0 0 1 3.5 5.7a2 2 0 0 1 2-2.2z"],
  connection: ["M9 15l6-6", "M10.5 6.5l1.6-1.6a4.2 4.2 0 0 1 6 6l-1.6 1.6", "M13.5 17.5l-1.6 1.6a4.2 4.2 0 0 1-6-6l1.6-1.6"],
  activity_log: [circle(12, 12, 8.5), "M12 7.5V12l3 2"],
  settings: ["M4 6.5h9", "M17 6.5h3", "M4 12h3", "M11 12h9", "M4 17.5h11", "M19 17.5h1", circle(15, 6.5, 2), circle(9, 12, 2), circle(17, 17.5, 2)],
  lock: [rect(5, 10.5, 14, 10, 2), "M8 10.5V7.5a4 4 0 0 1 8 0v3", "M12 14.5v2.5"],
  logout: ["M14.5 4H18a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3.5", "M9.5 16.5 5 12l4.5-4.5", "M5 12h10.5"],
  keyboard: [rect(2.5, 6, 19, 12, 2), "M6.5 10h.01", "M10 10h.01", "M13.5 10h.01", "M17 10h.01", "M7.5 14h9"],
  plus: ["M12 5v14", "M5 12h14"],
  edit: ["M4 20h4L19 9l-4-4L4 16v4z", "M13 7l4 4"],
  trash: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  alert: ["M12 3.5 2.5 20h19L12 3.5z", "M12 10v4.5", "M12 17.2h.01"],
  info: [circle(12, 12, 8.5), "M12 11v5", "M12 8h.01"],
  flask: ["M9 3h6", "M10 3v6.2L4.7 18.3A2 2 0 0 0 6.4 21.3h11.2a2 2 0 0 0 1.7-3L14 9.2V3", "M7.2 15h9.6"],
  shield: ["M12 3l7.5 3v5.5c0 4.8-3.2 8.1-7.5 9.5-4.3-1.4-7.5-4.7-7.5-9.5V6L12 3z", "M9 12l2 2 4-4"],
  reset: ["M4.5 12a7.5 7.5 0 1 0 2.2-5.3", "M4 4v4.5h4.5"],
  inbox: ["M3 13.5 6 5h12l3 8.5V19H3v-5.5z", "M3 13.5h5l1.2 2.3h5.6l1.2-2.3h5"],
  database: ["M4.5 6c0-1.7 3.4-3 7.5-3s7.5 1.3 7.5 3-3.4 3-7.5 3-7.5-1.3-7.5-3z", "M4.5 6v12c0 1.7 3.4 3 7.5 3s7.5-1.3 7.5-3V6", "M4.5 12c0 1.7 3.4 3 7.5 3s7.5-1.3 7.5-3"],
  user: [circle(12, 8, 3.8), "M4.5 20.5a7.5 7.5 0 0 1 15 0"],
  refresh: ["M19.5 12a7.5 7.5 0 1 1-2.2-5.3", "M20 4v4.5h-4.5"],
  sync: ["M4.5 10a7.5 7.5 0 0 1 13.3-3.2L20 9", "M20 4.5V9h-4.5", "M19.5 14a7.5 7.5 0 0 1-13.3 3.2L4 15", "M4 19.5V15h4.5"],
  search: [circle(10.5, 10.5, 6), "M15 15l5 5"],
  reply: ["M9.5 7 4.5 12l5 5", "M4.5 12h9a6 6 0 0 1 6 6v1"],
  external: ["M14 4.5h5.5V10", "M19.5 4.5 11 13", "M17.5 13.5v4a2 2 0 0 1-2 2h-9a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2h4"],
  phone: ["M5.5 3.5h3.3l1.8 4.6-2.4 1.5a11 11 0 0 0 6.2 6.2l1.5-2.4 4.6 1.8v3.3a2 2 0 0 1-2.2 2A16.5 16.5 0 0 1 3.5 5.7a2 2 0 0 1 2-2.2z"],
  copy: [rect(8.5, 8.5, 12, 12, 2), "M15.5 8.5V5.5a2 2 0 0 0-2-2h-8a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h3"],
  image: [rect(3.5, 4.5, 17, 15, 2), circle(9, 10, 1.7), "M20.5 16l-5-5-9 8.5"],
  video: [rect(3, 6, 13, 12, 2), "M16 10.5l5-3v9l-5-3"],
  document: ["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5z", "M14 3v5h5", "M9 13h6", "M9 16.5h6"],
  location: ["M12 21s-6.5-5.6-6.5-11a6.5 6.5 0 0 1 13 0c0 5.4-6.5 11-6.5 11z", circle(12, 10, 2.3)],
  link: ["M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1.3 1.3", "M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1.3-1.3"],
  key: [circle(8, 15, 3.8), "M10.7 12.3 19 4", "M16 7l2.5 2.5", "M14 9l2 2"],
  variable: ["M8 4.5c-2 0-2.5 1-2.5 2.5v2.5c0 1.2-.8 2.5-2 2.5 1.2 0 2 1.3 2 2.5V17c0 1.5.5 2.5 2.5 2.5", "M16 4.5c2 0 2.5 1 2.5 2.5v2.5c0 1.2.8 2.5 2 2.5-1.2 0-2 1.3-2 2.5V17c0 1.5-.5 2.5-2.5 2.5"],
  lead: [circle(10, 8, 3.5), "M3.5 20a6.5 6.5 0 0 1 13 0", "M17 8.5l2 2 3.5-3.5"],
  building: [rect(4.5, 3, 10, 18, 1.5), "M14.5 9h4a1 1 0 0 1 1 1v11h-5", "M8 7h3", "M8 11h3", "M8 15h3", "M3 21h18"],
  upload: ["M12 15.5V4.5", "M7.5 9 12 4.5 16.5 9", "M4.5 15v3.5a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V15"],
  download: ["M12 4.5v11", "M7.5 11 12 15.5 16.5 11", "M4.5 19.5h15"],
  clock: ["M12 3.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17z", "M12 7.5V12l3 2"],
  paperclip: ["M20 11.5 12.2 19.3a5 5 0 0 1-7.1-7.1l8.1-8.1a3.3 3.3 0 0 1 4.7 4.7l-8.1 8.1a1.7 1.7 0 0 1-2.4-2.4l7.4-7.4"],
  smile: [circle(12, 12, 8.5), "M8.5 14.5a4.5 4.5 0 0 0 7 0", "M9 9.5h.01", "M15 9.5h.01"],
  send: ["M4 12 20.5 4 16.5 20l-4.5-6.5L4 12z", "M12 13.5 20.5 4"],
  template: [rect(4.5, 3, 15, 18, 2), "M8 7.5h8", "M8 11h8", "M8 14.5h5"],
  double_check: ["M2.5 12.5 7 17 16.5 7.5", "M11.5 16l1 1L22 7.5"],
  chevron: ["M6 9l6 6 6-6"],
  sidebar: [rect(3.5, 4.5, 17, 15, 2), "M9.5 4.5v15"],
  pause: [rect(6.5, 5, 3.5, 14, 1), rect(14, 5, 3.5, 14, 1)],
  play: ["M7.5 5.2v13.6a.8.8 0 0 0 1.2.7l10.5-6.8a.8.8 0 0 0 0-1.4L8.7 4.5a.8.8 0 0 0-1.2.7z"],
  stop: [rect(5.5, 5.5, 13, 13, 2)],
  target: [circle(12, 12, 8.5), circle(12, 12, 4.5), "M12 12h.01"],
} satisfies Record<string, string[]>;

export type IconName = keyof typeof ICONS;

/** The sidebar icon of each screen. */
export const SCREEN_ICON: Readonly<Record<Screen, IconName>> = {
  chat: "chat",
  bots: "bots",
  campaigns: "campaigns",
  groups: "groups",
  bulk_contacts: "bulk_contacts",
  templates: "templates",
  quick_replies: "quick_replies",
  numbers: "numbers",
  connection: "connection",
  activity_log: "activity_log",
  leads: "lead",
  clients: "building",
  documents: "document",
  settings: "settings",
};
