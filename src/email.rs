//! Email addresses of leads, clients and their contact persons: a light check that catches typos
//! (no `@`, spaces, no domain) without pretending to validate deliverability.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not an email address (expected name@example.com)")]
pub struct EmailError(pub String);

/// The trimmed address, `""` when none was given, or why it is not an address.
pub fn clean(raw: &str) -> Result<String, EmailError> {
    let e = raw.trim();
    if e.is_empty() {
        return Ok(String::new());
    }
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && e.len() <= 254
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok {
        Ok(e.to_owned())
    } else {
        Err(EmailError(e.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_addresses_and_names_the_bad_ones() {
        assert_eq!(clean(" ana@example.com ").as_deref(), Ok("ana@example.com"));
        assert_eq!(clean("").as_deref(), Ok(""));
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
            "ana@example..com",
        ] {
            let e = clean(bad).unwrap_err();
            assert!(e.to_string().contains(bad.trim()), "{bad}");
        }
    }
}
