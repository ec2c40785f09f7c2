//! A contacts CSV file as the import reads it: the encoding check, the CSV reader (quotes, CRLF,
//! blank lines, broken rows), each row's phone number. Checks: no panic; every row read is kept
//! or refused, once; lines only go forward; every kept number is E.164 (a "+", at most 15
//! digits: the numbering plans have valid numbers of six, +98 9601) and reads back as itself.
#![no_main]

use std::io::Write;

use crmconnect::contacts::import::fuzz_read;
use crmconnect::contacts::phone::{Country, to_e164};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(data).expect("write the input");
    let country: Country = "DE".parse().expect("a country");
    let Ok(batches) = fuzz_read(file.path(), country) else {
        return;
    };
    let mut last = 0u64;
    for b in &batches {
        assert_eq!(
            b.rows as usize,
            b.kept.len() + b.refused.len(),
            "rows not all kept or refused"
        );
        assert!(b.first_line <= b.last_line || b.rows == b.refused.len() as u64);
        let mut lines: Vec<u64> = b
            .kept
            .iter()
            .map(|k| k.0)
            .chain(b.refused.iter().map(|r| r.0))
            .collect();
        lines.sort_unstable();
        for w in lines.windows(2) {
            assert!(w[0] < w[1], "line {} counted twice", w[0]);
        }
        if let Some(&first) = lines.first() {
            assert!(first > last, "line {first} after line {last}");
        }
        last = lines.last().copied().unwrap_or(last);
        for (line, e164) in &b.kept {
            let digits = e164
                .strip_prefix('+')
                .unwrap_or_else(|| panic!("line {line}: {e164}"));
            assert!(
                (1..=15).contains(&digits.len()) && digits.bytes().all(|c| c.is_ascii_digit()),
                "line {line}: {e164} is not E.164"
            );
            assert_eq!(
                to_e164(e164, country).as_deref(),
                Ok(e164.as_str()),
                "line {line}: {e164} does not read back as itself"
            );
        }
    }
});
