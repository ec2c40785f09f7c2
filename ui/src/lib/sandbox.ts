// How the app speaks of a sandbox workspace, in one place.

export const SANDBOX_TOOLTIP =
  "Sandbox workspace: a local stand-in for Meta; nothing reaches real customers";

export const SANDBOX_EXPLANATION =
  "This is a sandbox workspace: a local stand-in for the Meta Cloud API runs inside the app. " +
  "Nothing is sent to Meta and no real customer receives anything, so you can try every feature safely.";

export const LIVE_EXPLANATION =
  "This is a live workspace: messages go to Meta and reach real customers.";
