// The Connection form: what it holds, the ConnectionInput it sends (a secret left empty is kept,
// so its key is absent; "" removes it), and the core's checks mirrored for instant feedback.

import type { ConnectionInput } from "./bindings/ConnectionInput";
import type { ConnectionView } from "./bindings/ConnectionView";
import type { SecretName } from "./bindings/SecretName";

/** The core's defaults (meta::META_BASE_URL, meta::DEFAULT_GRAPH_VERSION). */
export const DEFAULT_BASE_URL = "https://graph.facebook.com";
export const DEFAULT_VERSION = "v23.0";

export interface ConnectionForm {
  phone_number_id: string;
  waba_id: string;
  graph_base_url: string;
  graph_version: string;
  /** New secret values; empty keeps what is stored. Never prefilled. */
  secrets: Record<SecretName, string>;
}

export interface SecretInfo {
  name: SecretName;
  label: string;
  isSet: (view: ConnectionView) => boolean;
}

/** The secrets this desktop keeps. Meta's app secret and webhook verify token are not among them:
 *  only the team's relay, which receives the webhooks, uses them. */
export const SECRETS: readonly SecretInfo[] = [
  { name: "access_token", label: "Access token", isSet: (v) => v.access_token_set },
];

export function formFromView(view: ConnectionView): ConnectionForm {
  return {
    phone_number_id: view.phone_number_id,
    waba_id: view.waba_id,
    graph_base_url: view.graph_base_url || DEFAULT_BASE_URL,
    graph_version: view.graph_version || DEFAULT_VERSION,
    secrets: { access_token: "" },
  };
}

/** What Save sends: the ids, the Graph settings, and only the secrets that were typed. */
export function toConnectionInput(form: ConnectionForm): ConnectionInput {
  const input: ConnectionInput = {
    phone_number_id: form.phone_number_id.trim(),
    waba_id: form.waba_id.trim(),
    graph_base_url: form.graph_base_url.trim(),
    graph_version: form.graph_version.trim(),
  };
  for (const { name } of SECRETS) {
    if (form.secrets[name] !== "") input[name] = form.secrets[name];
  }
  return input;
}

/** What "Remove" sends: everything as stored, and "" for the one secret being removed. */
export function removalInput(view: ConnectionView, name: SecretName): ConnectionInput {
  return {
    phone_number_id: view.phone_number_id,
    waba_id: view.waba_id,
    graph_base_url: view.graph_base_url,
    graph_version: view.graph_version,
    [name]: "",
  };
}

export type ConnectionField = "phone_number_id" | "waba_id" | "graph_base_url" | "graph_version";

/** The core's checks, by field: ids are digits; the Graph address is https (http only on this machine). */
export function connectionProblems(form: ConnectionForm): Partial<Record<ConnectionField, string>> {
  const out: Partial<Record<ConnectionField, string>> = {};
  const digits = (field: ConnectionField, label: string) => {
    const v = form[field].trim();
    if (v !== "" && !/^\d+$/.test(v)) out[field] = `${label}: Meta's ids are digits only; “${v}” is not`;
  };
  digits("phone_number_id", "Phone number id");
  digits("waba_id", "WhatsApp Business Account id");
  const base = form.graph_base_url.trim() || DEFAULT_BASE_URL;
  if (!(base.startsWith("https://") || base.startsWith("http://127.0.0.1") || base.startsWith("http://localhost"))) {
    out.graph_base_url = "Graph API address: must be https:// (plain http only for a sandbox on this machine)";
  }
  if (form.graph_version.trim() !== "" && !/^v\d+\.\d+$/.test(form.graph_version.trim())) {
    out.graph_version = "Graph API version: a version such as v23.0";
  }
  return out;
}

/** Whether the form differs from what is saved (a typed secret counts). */
export function isDirty(form: ConnectionForm, view: ConnectionView): boolean {
  const saved = formFromView(view);
  return (
    form.phone_number_id.trim() !== saved.phone_number_id ||
    form.waba_id.trim() !== saved.waba_id ||
    (form.graph_base_url.trim() || DEFAULT_BASE_URL).replace(/\/+$/, "") !== saved.graph_base_url.replace(/\/+$/, "") ||
    (form.graph_version.trim() || DEFAULT_VERSION) !== saved.graph_version ||
    SECRETS.some(({ name }) => form.secrets[name] !== "")
  );
}

/** Whether the advanced settings differ from Meta's defaults (then they start unfolded). */
export function usesCustomGraph(view: ConnectionView): boolean {
  return (
    (view.graph_base_url || DEFAULT_BASE_URL).replace(/\/+$/, "") !== DEFAULT_BASE_URL ||
    (view.graph_version || DEFAULT_VERSION) !== DEFAULT_VERSION
  );
}

/** "Stored in the OS keychain" from the core's `secret_store` ("the OS keychain"). */
export function storeSentence(store: string): string {
  const s = store.trim();
  return s === "" ? "" : `Stored in ${s}`;
}
