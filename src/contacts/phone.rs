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
}

/// `raw` as E.164 (`+15550100101`), or why it is not a number.
pub fn to_e164(raw: &str, default: Country) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Missing);
    }
    // "0040…" and "+40…" are international; bare digits with a leading country code and no "+"
    // (as WhatsApp ids are written) are tried as international when the default country fails.
    let international = trimmed.strip_prefix("00").map(|rest| format!("+{rest}"));
    let candidate = international.as_deref().unwrap_or(trimmed);
    // A number written with "+" carries its country: parsing it with the default country would let
    // that country's national prefix eat a leading digit (+49 151… read with US became +49 51…).
    let region = (!candidate.starts_with('+')).then_some(default.0);
    let parsed = phonenumber::parse(region, candidate)
        .ok()
        .filter(phonenumber::is_valid)
        .or_else(|| {
            let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
            (!candidate.starts_with('+') && digits.len() > 7)
                .then(|| phonenumber::parse(None, format!("+{digits}")).ok())
                .flatten()
                .filter(phonenumber::is_valid)
        });
    match parsed {
        // What the crate's E.164 formatter writes, without its metadata look-up (a Vec a call).
        Some(n) => Ok(format!("+{}{}", n.code().value(), n.national())),
        None => match phonenumber::parse(region, candidate) {
            Ok(_) => Err(PhoneError::Invalid(trimmed.into())),
            Err(_) => Err(PhoneError::Unparsable(trimmed.into())),
        },
    }
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

    fn us() -> Country {
        "US".parse().unwrap()
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
