// CSV import of bulk contacts: cutting the file into base64 pieces for the core (the webview has
// no file paths), the progress bar, speed and time left, and the sample file.

import type { ImportProgress } from "./bindings/ImportProgress";

/** The most file bytes per `append_upload` call (before base64). */
export const CHUNK_BYTES = 2 * 1024 * 1024;

/** The columns of the import file, in order (spec §5 "CSV import format"). */
export const CSV_COLUMNS = ["name", "phonenumber", "company_name", "address", "city", "state", "country", "description"] as const;

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/** The pieces of a file of `size` bytes, each at most `chunk` bytes, in order. */
export function chunkRanges(size: number, chunk = CHUNK_BYTES): ByteRange[] {
  const total = Math.max(0, Math.floor(size));
  const step = Math.max(1, Math.floor(chunk));
  const ranges: ByteRange[] = [];
  for (let start = 0; start < total; start += step) ranges.push({ start, end: Math.min(total, start + step) });
  return ranges;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (with padding) of the bytes, without going through a string of the bytes. */
export function bytesToBase64(data: ArrayBuffer | Uint8Array): string {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const parts: string[] = [];
  // Build the text in slices so that a 2 MiB piece never makes one huge argument list.
  const SLICE = 3 * 4096;
  for (let offset = 0; offset < bytes.length; offset += SLICE) {
    const end = Math.min(bytes.length, offset + SLICE);
    const codes: number[] = [];
    for (let i = offset; i < end; i += 3) {
      const a = bytes[i] ?? 0;
      const b = bytes[i + 1] ?? 0;
      const c = bytes[i + 2] ?? 0;
      const n = (a << 16) | (b << 8) | c;
      codes.push(
        BASE64.charCodeAt(n >> 18),
        BASE64.charCodeAt((n >> 12) & 63),
        i + 1 < end ? BASE64.charCodeAt((n >> 6) & 63) : 61,
        i + 2 < end ? BASE64.charCodeAt(n & 63) : 61,
      );
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join("");
}

/** 0–100, whole numbers; 0 when nothing is known yet, 100 when the total is reached. */
export function percent(done: number, total: number): number {
  if (!(total > 0) || !(done > 0)) return 0;
  return Math.min(100, Math.max(0, Math.floor((done * 100) / total)));
}

/** Items (rows, bytes) per second, or null before there is anything to measure. */
export function ratePerSecond(count: number, elapsedMs: number): number | null {
  if (!(elapsedMs > 0) || !(count > 0)) return null;
  return (count * 1000) / elapsedMs;
}

/**
 * Seconds left, from the share done so far and the time it took; null before it can be told
 * (nothing done yet), 0 when done.
 */
export function etaSeconds(done: number, total: number, elapsedMs: number): number | null {
  if (total > 0 && done >= total) return 0;
  if (!(total > 0) || !(done > 0) || !(elapsedMs > 0)) return null;
  return ((total - done) * elapsedMs) / done / 1000;
}

/** "45 s", "3 min 20 s", "1 h 05 min"; "—" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest === 0 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 60)} min ${rest} s`;
  }
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** "812 B", "1.4 MB", "2.0 GB" (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1000)) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "1,234 rows/s"; "—" when unknown. */
export function formatRate(rate: number | null, unit: string): string {
  if (rate === null || !Number.isFinite(rate)) return "—";
  return `${Math.round(rate).toLocaleString("en-US")} ${unit}/s`;
}

/** What the progress bar and its captions show, for one phase of the import. */
export interface ProgressView {
  phase: "upload" | "import";
  /** 0–100. */
  value: number;
  rate: string;
  eta: string;
}

/** The upload phase: `sent` of `size` bytes after `elapsedMs`. */
export function uploadView(sent: number, size: number, elapsedMs: number): ProgressView {
  const bytesPerSecond = ratePerSecond(sent, elapsedMs);
  return {
    phase: "upload",
    value: percent(sent, size),
    rate: bytesPerSecond === null ? "—" : `${formatBytes(bytesPerSecond)}/s`,
    eta: formatDuration(etaSeconds(sent, size, elapsedMs)),
  };
}

/** The import phase, from the core's progress event. */
export function importView(p: ImportProgress): ProgressView {
  return {
    phase: "import",
    value: percent(p.bytes_read, p.bytes_total),
    rate: formatRate(ratePerSecond(p.rows, p.elapsed_ms), "rows"),
    eta: formatDuration(etaSeconds(p.bytes_read, p.bytes_total, p.elapsed_ms)),
  };
}

/** One CSV field, quoted when it has to be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A small sample import file: the header row, then two rows in the expected column order. */
export function sampleCsv(): string {
  const rows: string[][] = [
    [...CSV_COLUMNS],
    ["Ana Lopez", "+15550100101", "Lopez Design", "12 Main St", "Austin", "TX", "US", "Met at the spring fair"],
    ["Ben Carter", "(555) 010-0102", "Carter & Sons, Inc.", "", "Denver", "CO", "US", "No country code: the workspace default applies"],
  ];
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export const SAMPLE_FILE_NAME = "contacts-sample.csv";

/** The columns of a leads import (any order; the header names them, `name` and `phone` or `email` required). */
export const LEAD_CSV_COLUMNS = ["name", "company", "phone", "email", "source", "status"] as const;

export const LEAD_SAMPLE_FILE_NAME = "leads-sample.csv";

/** A sample leads file: one row per case (a phone, only an email, a status by name). */
export function leadSampleCsv(): string {
  const rows: string[][] = [
    [...LEAD_CSV_COLUMNS],
    ["Ana Lopez", "Lopez Design", "+15550100101", "ana@example.com", "Website", "New"],
    ["Ben Carter", "Carter & Sons, Inc.", "", "ben@example.com", "Trade fair", "Contacted"],
    ["Cleo Park", "", "(555) 010-0103", "", "Referral", ""],
  ];
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

// ---------------------------------------------------------------------------------------------
// Contacts: which column of the file holds what (read from its first line)

/** What a person calls each contact field in a header, normalised (lower case, letters and digits). */
const HEADER_NAMES: Readonly<Record<(typeof CSV_COLUMNS)[number], readonly string[]>> = {
  name: ["name", "fullname", "contact", "contactname", "displayname", "nombre", "nom"],
  phonenumber: ["phonenumber", "phone", "phoneno", "mobile", "mobilephone", "cell", "cellphone", "whatsapp", "whatsappnumber", "tel", "telephone", "number", "msisdn"],
  company_name: ["companyname", "company", "organisation", "organization", "business", "account"],
  address: ["address", "street", "streetaddress", "address1"],
  city: ["city", "town"],
  state: ["state", "region", "province", "county"],
  country: ["country", "countrycode"],
  description: ["description", "notes", "note", "comment", "comments"],
};

const normalise = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * The first rows of a CSV text (RFC 4180: quoted fields, doubled quotes, CRLF/LF/CR), at most
 * `max`; a byte-order mark is dropped. The last row is left out when the text was cut inside it.
 */
export function csvHead(text: string, max: number, complete: boolean): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    row.push(field);
    field = "";
    if (!(row.length === 1 && row[0] === "")) rows.push(row);
    row = [];
  };
  for (; i < text.length && rows.length < max; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
    } else field += c;
  }
  if (rows.length < max && complete && (field !== "" || row.length > 0)) endRow();
  return rows;
}

/**
 * What each column of a file holds, guessed from its header: a contact field, or "" (left out).
 * A header that names nothing known (a file without one, or in the spec's order with other
 * names) of eight columns is taken in the spec's order.
 */
export function proposeColumns(header: readonly string[]): string[] {
  const taken = new Set<string>();
  const guess = header.map((cell) => {
    const n = normalise(cell);
    const field = CSV_COLUMNS.find((f) => !taken.has(f) && HEADER_NAMES[f].includes(n));
    if (field) taken.add(field);
    return field ?? "";
  });
  if (!taken.has("phonenumber") && header.length === CSV_COLUMNS.length) return [...CSV_COLUMNS];
  return guess;
}

/** Why a mapping cannot be imported, in plain words; null when it can. */
export function mappingProblem(columns: readonly string[]): string | null {
  if (columns.length === 0) return "The file has no columns.";
  const seen = new Map<string, number>();
  for (const [i, c] of columns.entries()) {
    if (c === "") continue;
    const first = seen.get(c);
    if (first !== undefined) return `Columns ${first + 1} and ${i + 1} both hold “${c}”: choose one of them.`;
    seen.set(c, i);
  }
  if (!seen.has("phonenumber")) return "Choose the column that holds the phone number: every contact needs one.";
  return null;
}
