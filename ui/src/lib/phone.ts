// Phone numbers as people read them: the core stores E.164 (+12017300042); lists and headers show
// it in international format (+1 201 730 0042), from libphonenumber-js (Google's libphonenumber
// metadata). Anything that is not a number is shown as it is.

import { parsePhoneNumberFromString } from "libphonenumber-js/min";

export function formatPhone(value: string | null | undefined): string {
  if (!value) return "";
  if (!value.startsWith("+")) return value;
  const parsed = parsePhoneNumberFromString(value);
  return parsed?.isPossible() ? parsed.formatInternational() : value;
}
