// Client-side checks that mirror the core's rules, so obvious mistakes are caught before a call.
// The core checks again and its message is shown when it refuses.

/** The core's minimum (MIN_PASSPHRASE_CHARS), counted in Unicode characters as the core does. */
export const MIN_PASSPHRASE_CHARS = 8;

export function charCount(text: string): number {
  return [...text].length;
}

/** Why a new passphrase cannot be used, or null. `confirm` is the second entry. */
export function passphraseProblem(passphrase: string, confirm: string): string | null {
  if (charCount(passphrase) < MIN_PASSPHRASE_CHARS) {
    return `The passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters long.`;
  }
  if (passphrase !== confirm) return "The two passphrases do not match.";
  return null;
}
