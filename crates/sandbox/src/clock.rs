//! The sandbox's clock is the one [`Clock`](crmconnect_base::clock::Clock) of the base crate: a
//! sandbox workspace hands its own clock to its sandbox, so Meta's time and the desktop's are one.

pub use crmconnect_base::clock::{Clock as SandboxClock, later, unix_secs};

/// A Unix time as Graph prints times: `2026-12-07T05:11:25+0000`.
pub(crate) fn iso(unix: u64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm), as Graph prints times.
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod iso_tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::iso(0), "1970-01-01T00:00:00+0000");
        assert_eq!(super::iso(1_700_000_000), "2023-11-14T22:13:20+0000");
        assert_eq!(super::iso(951_782_400), "2000-02-29T00:00:00+0000");
    }
}
