//! Phone numbers in E.164, parsed with the `phonenumber` crate (libphonenumber's metadata), so
//! that "+1 (555) 010-0101", "15550100101" and "555-010-0101" in the US are one number.

use std::str::FromStr;

use phonenumber::country;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no phone number given")]
    Missing,
    #[error("“{0}” is not a phone number")]
    Unparsable(String),
    #[error("“{0}” is not a valid number for its country")]
    Invalid(String),
    #[error("“{0}” is not a country code (use two letters, e.g. US, DE, RO)")]
    UnknownCountry(String),
    #[error("“{0}” is too long: an international number has at most 15 digits")]
    TooLong(String),
}

/// A default country for numbers written without `+` and a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(country::Id);

impl FromStr for Country {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        country::Id::from_str(&s.trim().to_ascii_uppercase())
            .map(Country)
            .map_err(|_| PhoneError::UnknownCountry(s.into()))
    }
}

impl Country {
    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }

    /// The country's calling code (1 for the US, 49 for Germany), when numbers written with it
    /// can be parsed with this country as the region. Not for countries whose national prefix
    /// rule rewrites local numbers (Barbados turns a 7-digit 310 1234 into 246 310 1234): a
    /// "+1 310 1234" would be rewritten too.
    fn calling_code(self) -> Option<u16> {
        phonenumber::metadata::DATABASE
            .by_id(self.0.as_ref())
            .filter(|m| m.national_prefix_transform_rule().is_none())
            .map(|m| m.country_code())
    }
}

/// Whether the digits of `international` (what follows the "+", formatting allowed) start with
/// calling code `code`. Calling codes are prefix-free, so then it is the number's code.
fn has_code(international: &str, code: Option<u16>) -> bool {
    let Some(code) = code else { return false };
    let mut value = 0u16;
    for d in international
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
        .take(3)
    {
        if !d.is_ascii_digit() {
            return false;
        }
        value = value * 10 + u16::from(d - b'0');
        if value == code {
            return true;
        }
    }
    false
}

/// The digits of a search that is a phone number as people write one (`(201) 730-0042`,
/// `+1 201 730 0042`, `201.730.0042`): at least three digits, nothing but digits, spaces, `+`,
/// `-`, `.`, `(` and `)`. Stored numbers are E.164, so a search by digits finds them however the
/// number was typed. `None` for any other search.
pub fn search_digits(search: &str) -> Option<String> {
    let s = search.trim();
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'))
    {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 3).then_some(digits)
}

/// `raw` as E.164 (`+15550100101`), or why it is not a number.
pub fn to_e164(raw: &str, default: Country) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Missing);
    }
    // The crate reads letters as a keypad's ("1-800-FLOWERS") and stops at the first it cannot
    // place, so "016 9MX822" became +49 1696, another number. A list of customers has no vanity
    // numbers: a letter is a typing or export mistake, to be shown, not guessed at.
    if trimmed.chars().any(char::is_alphabetic) {
        return Err(PhoneError::Unparsable(trimmed.into()));
    }
    // "0040…" and "+40…" are international; bare digits with a leading country code and no "+"
    // (as WhatsApp ids are written) are tried as international when the default country fails.
    let international = trimmed.strip_prefix("00").map(|rest| format!("+{rest}"));
    let candidate = international.as_deref().unwrap_or(trimmed);
    // A number written with "+" carries its country: parsing it with another default country would
    // let that country's national prefix eat a leading digit (+49 151… read with US became
    // +49 51…). When it carries the default country's own code, parsing with the default gives
    // the same number (`same_number_with_or_without_the_default_region` checks every example
    // number of the metadata) and costs half as much: without a region, the crate finds the
    // number's region by matching it against every type of every region sharing the code.
    let region = match candidate.strip_prefix('+') {
        None => Some(default.0),
        Some(rest) if has_code(rest, default.calling_code()) => Some(default.0),
        Some(_) => None,
    };
    let parsed = phonenumber::parse(region, candidate)
        .ok()
        .filter(is_valid)
        .or_else(|| {
            let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
            (!candidate.starts_with('+') && digits.len() > 7)
                .then(|| phonenumber::parse(None, format!("+{digits}")).ok())
                .flatten()
                .filter(is_valid)
        });
    match parsed {
        // What the crate's E.164 formatter writes, without its metadata look-up (a Vec a call).
        // The metadata lets some countries' numbers run longer than E.164's 15 digits (a German
        // number of 14 digits after +49): no one can message those.
        Some(n) => {
            let e164 = format!("+{}{}", n.code().value(), n.national());
            if e164.len() > 16 {
                return Err(PhoneError::TooLong(trimmed.into()));
            }
            Ok(e164)
        }
        None => match phonenumber::parse(region, candidate) {
            Ok(_) => Err(PhoneError::Invalid(trimmed.into())),
            Err(_) => Err(PhoneError::Unparsable(trimmed.into())),
        },
    }
}

/// `phonenumber::is_valid`, with the same answer for every number, at about a third of the cost.
///
/// The crate finds the number's region among those sharing its calling code, where a region
/// without leading digits is chosen when the number is of one of its types, then classifies the
/// number again to tell whether it is of a known type. Classifying means matching the number
/// against each type's pattern in a fixed order (premium rate first, mobile last), so a common
/// fixed-line or mobile number ran some twenty regexes. Validity only needs to know that *some*
/// type matches, in any order: the most common types are tried first, and a region chosen by
/// its types is not classified again. `is_valid_matches_the_crate` compares the two on every
/// example number of the metadata and on generated digit strings.
fn is_valid(number: &phonenumber::PhoneNumber) -> bool {
    use phonenumber::metadata::{DATABASE, Metadata};
    fn of_a_known_type(meta: &Metadata, national: &str) -> bool {
        meta.descriptors().general().is_match(national)
            && type_descriptors(meta).any(|t| t.is_match(national))
    }
    let code = number.code().value();
    let national = number.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    let meta = match regions[..] {
        ["001"] => DATABASE.by_code(&code).and_then(|m| m.into_iter().next()),
        [region] => region
            .parse::<country::Id>()
            .ok()
            .and_then(|id| DATABASE.by_id(id.as_ref())),
        _ => {
            let mut chosen = None;
            for region in regions {
                let Some(meta) = DATABASE.by_id(region) else {
                    continue;
                };
                match meta.leading_digits() {
                    Some(leading) if leading.find(&national).is_some_and(|m| m.start() == 0) => {
                        chosen = Some(meta);
                        break;
                    }
                    Some(_) => {}
                    // Chosen because it is of one of the region's types: valid.
                    None if of_a_known_type(meta, &national) => return true,
                    None => {}
                }
            }
            chosen
        }
    };
    meta.is_some_and(|meta| of_a_known_type(meta, &national))
}

/// The patterns of a region's number types that make a number valid, the most common first.
fn type_descriptors(
    meta: &phonenumber::metadata::Metadata,
) -> impl Iterator<Item = &phonenumber::metadata::Descriptor> {
    let d = meta.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// Whether an E.164 number can be a WhatsApp account: valid, and of a type that receives SMS or
/// calls on a phone — mobile, or "fixed line or mobile" where the numbering plan cannot tell
/// (the US, Canada). Landlines, toll-free, premium and pager numbers are not.
pub fn whatsapp_capable(e164: &str) -> bool {
    use phonenumber::Type;
    phonenumber::parse(None, e164)
        .ok()
        .filter(phonenumber::is_valid)
        .is_some_and(|n| {
            matches!(
                n.number_type(&phonenumber::metadata::DATABASE),
                Type::Mobile | Type::FixedLineOrMobile
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_written_as_a_phone_number_becomes_its_digits() {
        assert_eq!(
            search_digits("(201) 730-0042").as_deref(),
            Some("2017300042")
        );
        assert_eq!(
            search_digits(" +1 201.730.0042 ").as_deref(),
            Some("12017300042")
        );
        assert_eq!(search_digits("Ana 201"), None);
        assert_eq!(
            search_digits("(20)"),
            None,
            "too few digits to mean a number"
        );
        assert_eq!(search_digits("---"), None);
    }

    fn us() -> Country {
        "US".parse().unwrap()
    }

    /// Found by the fuzz target `contacts_csv`: "+49 30 901820 901821" passed as valid, 16 digits.
    #[test]
    fn a_number_longer_than_e164_allows_is_refused() {
        let de: Country = "DE".parse().unwrap();
        assert_eq!(
            to_e164("+49 30 901820 901821", de),
            Err(PhoneError::TooLong("+49 30 901820 901821".into()))
        );
        assert_eq!(to_e164("+49 30 901820", de).as_deref(), Ok("+4930901820"));
    }

    /// Found by the fuzz target `contacts_csv`: "016 9MX822" in Germany was kept as +491696, a
    /// different (pager) number: the crate read the M as a keypad's 6 and stopped at the X.
    #[test]
    fn a_number_with_letters_is_refused_not_guessed() {
        let de: Country = "DE".parse().unwrap();
        for raw in [
            "016 9MX822",
            "1-800-FLOWERS",
            "+49 30 1234567 ext 5",
            "0301234567é",
        ] {
            assert_eq!(
                to_e164(raw, de),
                Err(PhoneError::Unparsable(raw.into())),
                "{raw}"
            );
        }
        // The same digits without the letters are a number the metadata knows (a German pager).
        assert_eq!(to_e164("01696", de).as_deref(), Ok("+491696"));
    }

    #[test]
    fn spellings_of_one_number_are_one_number() {
        let want = "+12015550123";
        for raw in [
            "+1 (201) 555-0123",
            "12015550123",
            "201-555-0123",
            "001 201 555 0123",
            " +12015550123 ",
        ] {
            assert_eq!(to_e164(raw, us()).as_deref(), Ok(want), "{raw}");
        }
        let de: Country = "de".parse().unwrap();
        assert_eq!(to_e164("030 1234567", de).as_deref(), Ok("+49301234567"));
        assert_eq!(
            to_e164("+49 30 1234567", us()).as_deref(),
            Ok("+49301234567")
        );
        // A German mobile starts with 1, the US national prefix: it must survive a US default.
        assert_eq!(
            to_e164("+49 1512 3456789", us()).as_deref(),
            Ok("+4915123456789")
        );
        assert_eq!(
            to_e164("0049 1512 3456789", us()).as_deref(),
            Ok("+4915123456789")
        );
    }

    /// The number `to_e164` gave for "+…" before it used the default region for the default's
    /// own calling code: the crate's parse without a region.
    fn without_region(raw: &str) -> Option<String> {
        phonenumber::parse(None, raw)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|n| format!("+{}{}", n.code().value(), n.national()))
    }

    /// Every example number of the metadata (general and of each type), with its calling code.
    fn examples() -> Vec<(u16, &'static str)> {
        phonenumber::metadata::DATABASE
            .iter()
            .flat_map(|meta| {
                std::iter::once(meta.descriptors().general())
                    .chain(type_descriptors(meta))
                    .filter_map(|desc| desc.example())
                    .map(|example| (meta.country_code(), example))
            })
            .collect()
    }

    #[test]
    fn same_number_with_or_without_the_default_region() {
        use phonenumber::metadata::DATABASE;
        let mut checked = 0;
        for (code, example) in examples() {
            for raw in [format!("+{code}{example}"), format!("+{code} {example}")] {
                let want = without_region(&raw);
                // Every region sharing the code as the default (+1: the US, Canada, Jamaica…).
                for region in DATABASE.region(&code).unwrap_or_default() {
                    let Ok(default) = region.parse::<Country>() else {
                        continue;
                    };
                    assert_eq!(
                        to_e164(&raw, default).ok(),
                        want,
                        "{raw} with default {region}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 2000, "only {checked} numbers checked");
    }

    #[test]
    fn is_valid_matches_the_crate() {
        let mut numbers = Vec::new();
        for (code, example) in examples() {
            numbers.push(format!("+{code}{example}"));
            // The same number with a digit changed or dropped: often invalid.
            numbers.push(format!("+{code}{}", &example[1..]));
            numbers.push(format!("+{code}9{}", &example[1..]));
        }
        // Digit strings of every length after shared and single calling codes.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let code = [
                1, 7, 44, 39, 61, 262, 590, 599, 49, 33, 91, 86, 800, 979, 882,
            ][(seed % 15) as usize];
            let len = 4 + (seed >> 8) % 12;
            let digits: String = (0..len)
                .map(|i| char::from(b'0' + ((seed >> (12 + 3 * i)) % 10) as u8))
                .collect();
            numbers.push(format!("+{code}{digits}"));
        }
        let (mut valid, mut invalid) = (0, 0);
        for raw in &numbers {
            let Ok(n) = phonenumber::parse(None, raw) else {
                continue;
            };
            let want = phonenumber::is_valid(&n);
            assert_eq!(is_valid(&n), want, "{raw}");
            if want { valid += 1 } else { invalid += 1 }
        }
        assert!(
            valid > 1000 && invalid > 1000,
            "{valid} valid, {invalid} invalid"
        );
    }

    #[test]
    fn calling_code_prefix() {
        let us = us().calling_code();
        assert!(has_code("1 201 555 0123", us));
        assert!(has_code("(1) 201", us));
        assert!(!has_code("49 1512", us));
        let de = "DE".parse::<Country>().unwrap().calling_code();
        assert_eq!(de, Some(49));
        assert!(has_code("49 30 1234567", de));
        assert!(has_code("4-9301234567", de));
        assert!(!has_code("4", de));
        assert!(!has_code("x49", de));
        assert!(!has_code("1", None));
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        assert_eq!(to_e164("  ", us()), Err(PhoneError::Missing));
        assert!(matches!(
            to_e164("call me", us()),
            Err(PhoneError::Unparsable(_))
        ));
        assert!(matches!(
            to_e164("+1 000", us()),
            Err(PhoneError::Invalid(_) | PhoneError::Unparsable(_))
        ));
        assert!("XX".parse::<Country>().is_err());
    }

    #[test]
    fn whatsapp_needs_a_mobile_capable_number() {
        assert!(whatsapp_capable("+12015550123")); // US: fixed line or mobile
        assert!(whatsapp_capable("+4915123456789")); // German mobile
        assert!(!whatsapp_capable("+49301234567")); // Berlin landline
        assert!(!whatsapp_capable("+18005550123")); // US toll-free
        assert!(!whatsapp_capable("not a number"));
    }
}
