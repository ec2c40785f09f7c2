// The "Connect your real number" flow: its form, what each step checks before calling the core,
// and what the core is sent. The core checks everything again.

import type { GoLive } from "./bindings/GoLive";
import type { JoinTeam } from "./bindings/JoinTeam";
import type { MetaAccess } from "./bindings/MetaAccess";
import type { RelayAccess } from "./bindings/RelayAccess";
import type { RelayReport } from "./bindings/RelayReport";
import { passphraseProblem } from "./validation";

export const STEPS = ["Meta", "Relay", "Workspace", "Connected"] as const;
export type Step = 0 | 1 | 2 | 3;

/** The relay's shortest accepted app secret (MIN_SECRET_CHARS); Meta's are 32 characters. */
export const MIN_APP_SECRET_CHARS = 16;

export interface GoLiveForm {
  phoneNumberId: string;
  wabaId: string;
  accessToken: string;
  graphBaseUrl: string;
  relayUrl: string;
  relayToken: string;
  name: string;
  ownerName: string;
  passphrase: string;
  passphrase2: string;
  appSecret: string;
}

export function emptyForm(): GoLiveForm {
  return {
    phoneNumberId: "",
    wabaId: "",
    accessToken: "",
    graphBaseUrl: "",
    relayUrl: "",
    relayToken: "",
    name: "",
    ownerName: "",
    passphrase: "",
    passphrase2: "",
    appSecret: "",
  };
}

type Problems = Partial<Record<keyof GoLiveForm, string>>;

const digitsOnly = (v: string) => /^\d+$/.test(v.trim());

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}

/** Why an address cannot be used (https, or http on this computer), or null. */
export function addressProblem(value: string, what: string): string | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return `Enter the ${what} as a full address, e.g. https://relay.example.com.`;
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return null;
  return `The ${what} must start with https:// (plain http:// only for one on this computer).`;
}

export function metaProblems(f: GoLiveForm): Problems {
  const p: Problems = {};
  if (!digitsOnly(f.phoneNumberId)) p.phoneNumberId = "The phone number ID is digits only, e.g. 106540352242922.";
  if (!digitsOnly(f.wabaId)) p.wabaId = "The WhatsApp Business Account ID is digits only, e.g. 102290129340398.";
  if (f.accessToken.trim() === "") p.accessToken = "Paste the access token.";
  if (f.graphBaseUrl.trim() !== "") {
    const a = addressProblem(f.graphBaseUrl, "Graph API address");
    if (a) p.graphBaseUrl = a;
  }
  return p;
}

export function relayProblems(f: GoLiveForm): Problems {
  const p: Problems = {};
  const a = addressProblem(f.relayUrl, "relay address");
  if (a) p.relayUrl = a;
  if (!f.relayToken.trim().startsWith("crr_")) {
    p.relayToken = "Paste the token `relay token issue --admin` printed (it starts with crr_).";
  }
  return p;
}

export function workspaceProblems(f: GoLiveForm): Problems {
  const p: Problems = {};
  if (f.name.trim() === "") p.name = "Name the workspace, e.g. your company.";
  if (f.ownerName.trim() === "") p.ownerName = "Enter your name as your team will see it.";
  const pass = passphraseProblem(f.passphrase, f.passphrase2);
  if (pass) p.passphrase = pass;
  if ([...f.appSecret.trim()].length < MIN_APP_SECRET_CHARS) {
    p.appSecret = "Paste the app secret (App settings → Basic → App secret, 32 characters).";
  }
  return p;
}

export function toMetaAccess(f: GoLiveForm): MetaAccess {
  const base = f.graphBaseUrl.trim();
  return {
    phone_number_id: f.phoneNumberId.trim(),
    waba_id: f.wabaId.trim(),
    access_token: f.accessToken.trim(),
    ...(base === "" ? {} : { graph_base_url: base }),
  };
}

export function toRelayAccess(f: GoLiveForm): RelayAccess {
  return { relay_url: f.relayUrl.trim().replace(/\/+$/, ""), token: f.relayToken.trim() };
}

export function toGoLive(f: GoLiveForm): GoLive {
  return {
    name: f.name.trim(),
    meta: toMetaAccess(f),
    relay: toRelayAccess(f),
    owner_name: f.ownerName.trim(),
    passphrase: f.passphrase,
  };
}

/** A name to start from: the relay's workspace id in words ("north-wind_co" → "North Wind Co"). */
export function suggestedName(workspaceId: string): string {
  return workspaceId
    .split(/[-_]+/)
    .filter((w) => w !== "")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}

/** What step 3 says the owner will sign in as. */
export function ownerSentence(report: RelayReport): string {
  return `You will sign in as “${report.staff}”, the staff member the relay token names, with the passphrase you choose here.`;
}

/** Joining a team: the relay's address and the staff member's token, then who they are here. */
export interface JoinForm {
  relayUrl: string;
  relayToken: string;
  name: string;
  ownerName: string;
  passphrase: string;
  passphrase2: string;
}

export function emptyJoinForm(): JoinForm {
  return { relayUrl: "", relayToken: "", name: "", ownerName: "", passphrase: "", passphrase2: "" };
}

export function joinRelayProblems(f: JoinForm): Partial<Record<keyof JoinForm, string>> {
  return relayProblems({ ...emptyForm(), relayUrl: f.relayUrl, relayToken: f.relayToken });
}

export function joinWorkspaceProblems(f: JoinForm): Partial<Record<keyof JoinForm, string>> {
  const p = workspaceProblems({ ...emptyForm(), ...f, appSecret: "x".repeat(MIN_APP_SECRET_CHARS) });
  return { ...(p.name ? { name: p.name } : {}), ...(p.ownerName ? { ownerName: p.ownerName } : {}), ...(p.passphrase ? { passphrase: p.passphrase } : {}) };
}

export function toJoinTeam(f: JoinForm): JoinTeam {
  return {
    relay: toRelayAccess({ ...emptyForm(), relayUrl: f.relayUrl, relayToken: f.relayToken }),
    name: f.name.trim(),
    owner_name: f.ownerName.trim(),
    passphrase: f.passphrase,
  };
}
