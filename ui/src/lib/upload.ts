// Every file the webview hands to the core (CSV imports, document PDFs, chat media) goes the same
// way: the webview has no file paths, so the file travels in base64 pieces through one pair of
// commands, begin_upload and append_upload. The upload's purpose decides, in the core, who may send
// it, how large it may be and what may use it.

import type { UploadPurpose } from "./bindings/UploadPurpose";
import { appendUpload, beginUpload } from "./ipc";
import { bytesToBase64, chunkRanges } from "./csvimport";

export interface SendFileOptions {
  /** The most file bytes per piece (before base64); 2 MiB by default. */
  chunkBytes?: number;
  /** After each piece: the bytes the core has received, and the file's size. */
  onprogress?: (sent: number, total: number) => void;
  /** Asked before each piece: true stops the upload (sendFile then answers null). */
  cancelled?: () => boolean;
}

/** Sends `file` to the core for `purpose`; answers the upload id, or null when cancelled. */
export async function sendFile(file: Blob, purpose: UploadPurpose, options: SendFileOptions = {}): Promise<string | null> {
  const id = await beginUpload(purpose);
  for (const range of chunkRanges(file.size, options.chunkBytes)) {
    if (options.cancelled?.()) return null;
    const bytes = await file.slice(range.start, range.end).arrayBuffer();
    const sent = await appendUpload(id, bytesToBase64(bytes));
    options.onprogress?.(sent, file.size);
  }
  return options.cancelled?.() ? null : id;
}

/** As sendFile, for callers that cannot cancel: always an upload id. */
export async function sendWholeFile(file: Blob, purpose: UploadPurpose, options: Omit<SendFileOptions, "cancelled"> = {}): Promise<string> {
  const id = await sendFile(file, purpose, options);
  if (id === null) throw new Error("the upload was cancelled");
  return id;
}
