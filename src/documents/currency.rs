//! ISO 4217 currency codes in use, with their minor-unit digits (amounts are stored as integers
//! in the minor unit: 12.50 EUR is 1250, 500 JPY is 500, 1.250 KWD is 1250).

/// Code and minor-unit digits of every active ISO 4217 currency (funds and metals left out).
const TABLE: &str = "AED2 AFN2 ALL2 AMD2 AOA2 ARS2 AUD2 AWG2 AZN2 BAM2 BBD2 BDT2 BGN2 BHD3 BIF0 BMD2 \
BND2 BOB2 BRL2 BSD2 BTN2 BWP2 BYN2 BZD2 CAD2 CDF2 CHF2 CLP0 CNY2 COP2 CRC2 CUP2 CVE2 CZK2 DJF0 DKK2 \
DOP2 DZD2 EGP2 ERN2 ETB2 EUR2 FJD2 FKP2 GBP2 GEL2 GHS2 GIP2 GMD2 GNF0 GTQ2 GYD2 HKD2 HNL2 HTG2 HUF2 \
IDR2 ILS2 INR2 IQD3 IRR2 ISK0 JMD2 JOD3 JPY0 KES2 KGS2 KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2 LAK2 LBP2 \
LKR2 LRD2 LSL2 LYD3 MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 MVR2 MWK2 MXN2 MYR2 MZN2 NAD2 NGN2 \
NIO2 NOK2 NPR2 NZD2 OMR3 PAB2 PEN2 PGK2 PHP2 PKR2 PLN2 PYG0 QAR2 RON2 RSD2 RUB2 RWF0 SAR2 SBD2 SCR2 \
SDG2 SEK2 SGD2 SHP2 SLE2 SOS2 SRD2 SSP2 STN2 SVC2 SYP2 SZL2 THB2 TJS2 TMT2 TND3 TOP2 TRY2 TTD2 TWD2 \
TZS2 UAH2 UGX0 USD2 UYU2 UZS2 VES2 VND0 VUV0 WST2 XAF0 XCD2 XCG2 XOF0 XPF0 YER2 ZAR2 ZMW2 ZWG2";

/// Every code with its minor-unit digits, in alphabetical order.
pub fn all() -> impl Iterator<Item = (&'static str, u32)> {
    TABLE
        .split_whitespace()
        .map(|e| (&e[..3], u32::from(e.as_bytes()[3] - b'0')))
}

/// The minor-unit digits of `code` (upper-case), or `None` when it is not an ISO 4217 code.
pub fn minor_digits(code: &str) -> Option<u32> {
    all().find(|(c, _)| *c == code).map(|(_, d)| d)
}

/// `amount` minor units as text: `1234550` EUR → `12,345.50`.
pub fn format(amount: i64, digits: u32) -> String {
    let neg = amount < 0;
    let abs = amount.unsigned_abs();
    let unit = 10u64.pow(digits);
    let whole = (abs / unit).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let frac = if digits > 0 {
        format!(".{:0width$}", abs % unit, width = digits as usize)
    } else {
        String::new()
    };
    format!("{}{grouped}{frac}", if neg { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_codes_and_their_minor_units() {
        assert_eq!(minor_digits("EUR"), Some(2));
        assert_eq!(minor_digits("JPY"), Some(0));
        assert_eq!(minor_digits("KWD"), Some(3));
        assert_eq!(minor_digits("eur"), None);
        assert_eq!(minor_digits("XYZ"), None);
        let codes: Vec<_> = all().map(|(c, _)| c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "sorted, no duplicates");
        assert!(
            all().all(|(c, d)| c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) && d <= 3)
        );
    }

    #[test]
    fn formats_minor_units() {
        assert_eq!(format(1_234_550, 2), "12,345.50");
        assert_eq!(format(5, 2), "0.05");
        assert_eq!(format(500, 0), "500");
        assert_eq!(format(1250, 3), "1.250");
        assert_eq!(format(-100_000, 2), "-1,000.00");
    }
}
