// How the app speaks of a sandbox workspace, in one place.

export const SANDBOX_TOOLTIP =
  "Sandbox workspace: a local stand-in for Meta; nothing reaches real customers";

export const SANDBOX_EXPLANATION =
  "This is a sandbox workspace: a local stand-in for the Meta Cloud API runs inside the app. " +
  "Nothing is sent to Meta and no real customer receives anything, so you can try every feature safely.";

export const LIVE_EXPLANATION =
  "This is a live workspace: messages go to Meta and reach real customers.";

let panelOpener: (() => void) | null = null;

/** The shell registers how the sandbox panel opens. Returns the function that unregisters it. */
export function setSandboxPanelOpener(open: () => void): () => void {
  panelOpener = open;
  return () => {
    if (panelOpener === open) panelOpener = null;
  };
}

/** Opens the sandbox panel (from Chat's empty state, say); false where there is none. */
export function openSandboxPanel(): boolean {
  if (!panelOpener) return false;
  panelOpener();
  return true;
}

/** Whether the sandbox panel can be opened here (a sandbox workspace's shell registered it). */
export function sandboxPanelOpenable(): boolean {
  return panelOpener !== null;
}
