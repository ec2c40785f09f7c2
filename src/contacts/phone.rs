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
    let parsed = phonenumber::parse(Some(default.0), candidate)
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
        Some(n) => Ok(n.format().mode(phonenumber::Mode::E164).to_string()),
        None => match phonenumber::parse(Some(default.0), candidate) {
            Ok(_) => Err(PhoneError::Invalid(trimmed.into())),
            Err(_) => Err(PhoneError::Unparsable(trimmed.into())),
        },
    }
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
}
