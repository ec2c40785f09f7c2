// The languages Meta accepts for message templates (WhatsApp Business Platform, "Supported
// languages"), offered in the template form: codes as Meta writes them.

export const META_LANGUAGES: readonly (readonly [code: string, name: string])[] = [
  ["af", "Afrikaans"], ["sq", "Albanian"], ["ar", "Arabic"], ["az", "Azerbaijani"], ["bn", "Bengali"],
  ["bg", "Bulgarian"], ["ca", "Catalan"], ["zh_CN", "Chinese (China)"], ["zh_HK", "Chinese (Hong Kong)"],
  ["zh_TW", "Chinese (Taiwan)"], ["hr", "Croatian"], ["cs", "Czech"], ["da", "Danish"], ["nl", "Dutch"],
  ["en", "English"], ["en_GB", "English (UK)"], ["en_US", "English (US)"], ["et", "Estonian"], ["fil", "Filipino"],
  ["fi", "Finnish"], ["fr", "French"], ["ka", "Georgian"], ["de", "German"], ["el", "Greek"], ["gu", "Gujarati"],
  ["ha", "Hausa"], ["he", "Hebrew"], ["hi", "Hindi"], ["hu", "Hungarian"], ["id", "Indonesian"], ["ga", "Irish"],
  ["it", "Italian"], ["ja", "Japanese"], ["kn", "Kannada"], ["kk", "Kazakh"], ["rw_RW", "Kinyarwanda"],
  ["ko", "Korean"], ["ky_KG", "Kyrgyz"], ["lo", "Lao"], ["lv", "Latvian"], ["lt", "Lithuanian"],
  ["mk", "Macedonian"], ["ms", "Malay"], ["ml", "Malayalam"], ["mr", "Marathi"], ["nb", "Norwegian"],
  ["fa", "Persian"], ["pl", "Polish"], ["pt_BR", "Portuguese (Brazil)"], ["pt_PT", "Portuguese (Portugal)"],
  ["pa", "Punjabi"], ["ro", "Romanian"], ["ru", "Russian"], ["sr", "Serbian"], ["sk", "Slovak"],
  ["sl", "Slovenian"], ["es", "Spanish"], ["es_AR", "Spanish (Argentina)"], ["es_ES", "Spanish (Spain)"],
  ["es_MX", "Spanish (Mexico)"], ["sw", "Swahili"], ["sv", "Swedish"], ["ta", "Tamil"], ["te", "Telugu"],
  ["th", "Thai"], ["tr", "Turkish"], ["uk", "Ukrainian"], ["ur", "Urdu"], ["uz", "Uzbek"], ["vi", "Vietnamese"],
  ["zu", "Zulu"],
];

/** A language's name ("English (US)"), or null for a code Meta does not list. */
export function languageName(code: string): string | null {
  return META_LANGUAGES.find(([c]) => c === code.trim())?.[1] ?? null;
}
