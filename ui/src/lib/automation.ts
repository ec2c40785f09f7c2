// What the top bar says of the workspace's automation (bots and campaigns): who runs it, since
// when, its last heartbeat, and plainly when nothing does.
import type { AutomationStatus } from "./bindings/AutomationStatus";

export interface AutomationView {
  tone: "ok" | "warn" | "off";
  label: string;
  /** One line per fact, for the details panel. */
  lines: string[];
}

/** "12 s ago", "3 min ago", "2 h ago": how long since `then` at `now` (ms). */
export function ago(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.round(m / 60)} h ago`;
}

/** "Prices, Opening hours and 2 more": a short list of names. */
export function someNames(names: readonly string[], most = 3): string {
  if (names.length <= most) return names.join(", ");
  return `${names.slice(0, most).join(", ")} and ${names.length - most} more`;
}

/** What automation does (or would do): the bots that are on and the campaigns sending. */
function work(a: AutomationStatus): string[] {
  const lines: string[] = [];
  if (a.bots_on.length > 0) lines.push(`Bots on (${a.bots_on.length}): ${someNames(a.bots_on)}`);
  if (a.campaigns_running.length > 0) lines.push(`Campaigns sending (${a.campaigns_running.length}): ${someNames(a.campaigns_running)}`);
  if (lines.length === 0) lines.push("No bot is on and no campaign is sending");
  return lines;
}

export function describeAutomation(a: AutomationStatus, now: number): AutomationView {
  if (!a.running) {
    const lines = [a.message];
    if (a.here === "refused") lines.push("This desktop's role may not run them: a server runner or an administrator's desktop can.");
    if (a.here === "unreachable") lines.push("The relay does not answer: automation resumes when it does.");
    if (a.here === "off") lines.push("Connect the workspace to its team's relay (Settings → Team sync) to run them.");
    if (a.bots_on.length + a.campaigns_running.length > 0) lines.push(`Waiting for a runner: ${work(a).join("; ")}`);
    return { tone: "warn", label: "Automation paused", lines };
  }
  const where = a.here === "active" ? "this desktop" : a.desktop ? `${a.holder} (a desktop)` : `${a.holder} (runner)`;
  const lines = [a.message, `Runs on ${where}`];
  if (a.since !== null) lines.push(`Since ${ago(a.since, now)}`);
  if (a.heartbeat_at !== null) lines.push(`Last heartbeat ${ago(a.heartbeat_at, now)}`);
  if (a.status !== "" && a.status !== "active" && a.status !== "standby") lines.push(`Doing: ${a.status}`);
  lines.push(...work(a));
  return { tone: "ok", label: a.here === "active" ? "Automation here" : "Automation on", lines };
}
