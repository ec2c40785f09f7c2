import { describe, expect, it } from "vitest";
import {
  csvHead,
  mappingProblem,
  proposeColumns,
  CHUNK_BYTES,
  CSV_COLUMNS,
  bytesToBase64,
  chunkRanges,
  csvField,
  etaSeconds,
  formatBytes,
  formatDuration,
  formatRate,
  importView,
  percent,
  ratePerSecond,
  sampleCsv,
  uploadView,
} from "./csvimport";

const MiB = 1024 * 1024;

describe("chunking", () => {
  it("cuts a file into pieces of at most 2 MiB, in order, covering every byte once", () => {
    expect(CHUNK_BYTES).toBe(2 * MiB);
    expect(chunkRanges(0)).toEqual([]);
    expect(chunkRanges(10)).toEqual([{ start: 0, end: 10 }]);
    expect(chunkRanges(2 * MiB)).toEqual([{ start: 0, end: 2 * MiB }]);
    expect(chunkRanges(2 * MiB + 1)).toEqual([
      { start: 0, end: 2 * MiB },
      { start: 2 * MiB, end: 2 * MiB + 1 },
    ]);
    const big = chunkRanges(100 * MiB + 123);
    expect(big.length).toBe(51);
    expect(big[big.length - 1]).toEqual({ start: 100 * MiB, end: 100 * MiB + 123 });
    expect(big.every((r, i) => r.end - r.start <= CHUNK_BYTES && (i === 0 || r.start === big[i - 1]!.end))).toBe(true);
  });
});

describe("base64", () => {
  const enc = new TextEncoder();
  /** The reference: the browser's btoa over a byte string. */
  const reference = (bytes: Uint8Array) => {
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  };
  it("matches the standard encoding with padding", () => {
    expect(bytesToBase64(new Uint8Array())).toBe("");
    expect(bytesToBase64(enc.encode("f"))).toBe("Zg==");
    expect(bytesToBase64(enc.encode("fo"))).toBe("Zm8=");
    expect(bytesToBase64(enc.encode("foo"))).toBe("Zm9v");
    expect(bytesToBase64(enc.encode("foobar").buffer)).toBe("Zm9vYmFy");
    expect(bytesToBase64(enc.encode("José,+15550100101\n"))).toBe(reference(enc.encode("José,+15550100101\n")));
  });
  it("encodes every byte value and a full 2 MiB piece like btoa does", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(bytesToBase64(all)).toBe(reference(all));
    const piece = Uint8Array.from({ length: CHUNK_BYTES + 2 }, (_, i) => (i * 7919) & 255);
    expect(bytesToBase64(piece.buffer)).toBe(reference(piece));
  });
});

describe("progress, rate and time left", () => {
  it("gives a whole percentage within 0–100", () => {
    expect(percent(0, 100)).toBe(0);
    expect(percent(1, 3)).toBe(33);
    expect(percent(999, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
    expect(percent(2000, 1000)).toBe(100);
    expect(percent(5, 0)).toBe(0);
  });
  it("measures a rate per second", () => {
    expect(ratePerSecond(0, 1000)).toBeNull();
    expect(ratePerSecond(10, 0)).toBeNull();
    expect(ratePerSecond(5000, 2000)).toBe(2500);
  });
  it("extrapolates the time left", () => {
    expect(etaSeconds(0, 100, 1000)).toBeNull();
    expect(etaSeconds(25, 100, 10_000)).toBe(30);
    expect(etaSeconds(100, 100, 10_000)).toBe(0);
  });
  it("formats durations, sizes and rates", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(44.2)).toBe("45 s");
    expect(formatDuration(120)).toBe("2 min");
    expect(formatDuration(200)).toBe("3 min 20 s");
    expect(formatDuration(3900)).toBe("1 h 05 min");
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(1_400_000)).toBe("1.4 MB");
    expect(formatBytes(250_000_000)).toBe("250 MB");
    expect(formatRate(null, "rows")).toBe("—");
    expect(formatRate(12345.6, "rows")).toBe("12,346 rows/s");
  });
  it("describes the upload and the import phases", () => {
    expect(uploadView(5_000_000, 20_000_000, 1000)).toEqual({ phase: "upload", value: 25, rate: "5.0 MB/s", eta: "3 s" });
    expect(
      importView({ bytes_read: 50, bytes_total: 200, rows: 10_000, imported: 9000, existing: 900, refused: 100, elapsed_ms: 4000 }),
    ).toEqual({ phase: "import", value: 25, rate: "2,500 rows/s", eta: "12 s" });
  });
});

describe("sample file", () => {
  it("has the header in the expected order and rows with the same number of fields", () => {
    const lines = sampleCsv().trimEnd().split("\r\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(CSV_COLUMNS).toEqual(["name", "phonenumber", "company_name", "address", "city", "state", "country", "description"]);
    expect(lines.length).toBe(3);
    // The only quoted field holds a comma; count fields outside quotes.
    for (const line of lines) expect(line.replace(/"[^"]*"/g, "x").split(",").length).toBe(8);
  });
  it("quotes fields only when it has to", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });
});

describe("contacts column mapping", () => {
  it("reads the first rows of a CSV, quotes and line ends included", () => {
    const text = '\ufeffPhone,Name,Email\r\n"+1 (201) 555-0101","Ruiz, Ana",a@x\n+12015550102,"Bo ""B"" Li",b@x\rcut,he';
    expect(csvHead(text, 10, false)).toEqual([
      ["Phone", "Name", "Email"],
      ["+1 (201) 555-0101", "Ruiz, Ana", "a@x"],
      ["+12015550102", 'Bo "B" Li', "b@x"],
    ]);
    const all = csvHead(text, 10, true);
    expect(all[all.length - 1]).toEqual(["cut", "he"]);
    expect(csvHead(text, 2, true)).toHaveLength(2);
  });
  it("maps an ordinary export by its header and leaves unknown columns out", () => {
    expect(proposeColumns(["Phone", "Name", "Email"])).toEqual(["phonenumber", "name", ""]);
    expect(proposeColumns(["Full name", "Mobile", "Company", "Notes"])).toEqual(["name", "phonenumber", "company_name", "description"]);
  });
  it("keeps the spec's order for its own header, or eight columns it cannot name", () => {
    expect(proposeColumns([...CSV_COLUMNS])).toEqual([...CSV_COLUMNS]);
    expect(proposeColumns(["a", "b", "c", "d", "e", "f", "g", "h"])).toEqual([...CSV_COLUMNS]);
  });
  it("says what is wrong with a mapping", () => {
    expect(mappingProblem(["phonenumber", "name", ""])).toBeNull();
    expect(mappingProblem(["name", ""])).toMatch(/phone number/);
    expect(mappingProblem(["phonenumber", "name", "name"])).toBe("Columns 2 and 3 both hold “name”: choose one of them.");
  });
});
