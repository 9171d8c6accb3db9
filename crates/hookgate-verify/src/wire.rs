//! Reading headers and timestamps off a request, with precise reasons when they are wrong.
//!
//! Shared by every scheme so that "missing", "sent twice", "not ASCII" and "not a unix
//! timestamp" read the same whichever provider sent the request.

use http::{header::AsHeaderName, HeaderMap};

use crate::VerifyError;

/// The single value of a header, trimmed of optional whitespace, or `None` when absent.
///
/// `display` is how the header is named in messages (`X-Hub-Signature-256`), since the
/// map only knows the lower-case form. A header sent twice is refused: which copy a proxy
/// or framework would pick differs, and a signature check must not depend on that.
pub(crate) fn optional_header<'r, K: AsHeaderName>(
    headers: &'r HeaderMap,
    name: K,
    display: &str,
) -> Result<Option<&'r str>, VerifyError> {
    let mut values = headers.get_all(name).into_iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed(display, "sent more than once"));
    }
    let text = value
        .to_str()
        .map_err(|_| malformed(display, "contains bytes that are not visible ASCII"))?;
    Ok(Some(text.trim_matches([' ', '\t'])))
}

pub(crate) fn required_header<'r, K: AsHeaderName>(
    headers: &'r HeaderMap,
    name: K,
    display: &str,
) -> Result<&'r str, VerifyError> {
    optional_header(headers, name, display)?.ok_or_else(|| VerifyError::MissingHeader {
        header: display.to_owned(),
    })
}

pub(crate) fn malformed(header: &str, reason: impl Into<String>) -> VerifyError {
    VerifyError::Malformed {
        header: header.to_owned(),
        reason: reason.into(),
    }
}

/// Unix seconds as every supported scheme writes them: ASCII digits only. Signs, spaces,
/// fractions and exponents are refused rather than guessed at, because the same text is
/// also what gets signed.
pub(crate) fn parse_unix_seconds(text: &str, header: &str) -> Result<i64, VerifyError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(
            header,
            "timestamp must be unix seconds (digits only)",
        ));
    }
    text.parse()
        .map_err(|_| malformed(header, "timestamp is out of range"))
}

/// Rejects timestamps too far in the past (replays, or deliveries held too long) and too
/// far in the future (a sender clock so wrong that "in the past" means nothing).
pub(crate) fn check_tolerance(
    timestamp: i64,
    now: i64,
    tolerance_secs: u64,
) -> Result<(), VerifyError> {
    let skew = (i128::from(now) - i128::from(timestamp)).unsigned_abs();
    if skew > u128::from(tolerance_secs) {
        return Err(VerifyError::TimestampOutOfTolerance {
            timestamp,
            now,
            tolerance_secs,
        });
    }
    Ok(())
}

/// An RFC 3339 date-time (`2023-07-19T14:56:51.634234626Z`, or with a `±HH:MM` offset) as
/// unix seconds, fractions truncated. Written out here rather than pulling in a date crate:
/// the grammar (RFC 3339 §5.6) is small, and the only sender that uses it is Twitch.
pub(crate) fn parse_rfc3339(text: &str, header: &str) -> Result<i64, VerifyError> {
    let bad = || {
        malformed(
            header,
            "timestamp must be an RFC 3339 date-time, e.g. 2023-07-19T14:56:51Z",
        )
    };
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 20
        || separators.iter().any(|(at, c)| b[*at] != *c)
        || !matches!(b[10], b'T' | b't')
    {
        return Err(bad());
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return Err(bad());
    };
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return Err(bad());
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let text = [*h1, *h2, *m1, *m2];
            if !text.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let hours = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
            let minutes = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
            if hours > 23 || minutes > 59 {
                return Err(bad());
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'+' {
                magnitude
            } else {
                -magnitude
            }
        }
        _ => return Err(bad()),
    };
    // Second 60 is a leap second (RFC 3339 §5.7); it is counted as the next second.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// `now` as RFC 3339 in UTC with whole seconds, the inverse of [`parse_rfc3339`].
pub(crate) fn format_rfc3339(now: i64) -> String {
    let (days, secs) = (now.div_euclid(86_400), now.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn header_reading() {
        let mut headers = HeaderMap::new();
        headers.insert("x-sig", HeaderValue::from_static("  abc "));
        assert_eq!(
            optional_header(&headers, "X-Sig", "X-Sig").unwrap(),
            Some("abc")
        );
        assert_eq!(optional_header(&headers, "x-none", "X-None").unwrap(), None);
        assert_eq!(
            required_header(&headers, "x-none", "X-None").unwrap_err(),
            VerifyError::MissingHeader {
                header: "X-None".into()
            }
        );
        headers.append("x-sig", HeaderValue::from_static("def"));
        assert!(matches!(
            optional_header(&headers, "x-sig", "X-Sig"),
            Err(VerifyError::Malformed { .. })
        ));
        let mut headers = HeaderMap::new();
        headers.insert("x-sig", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        assert!(matches!(
            optional_header(&headers, "x-sig", "X-Sig"),
            Err(VerifyError::Malformed { .. })
        ));
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_unix_seconds("1614265330", "t"), Ok(1_614_265_330));
        for bad in ["", "-5", "+5", "1.5", "1e9", " 1", "99999999999999999999"] {
            assert!(parse_unix_seconds(bad, "t").is_err(), "{bad:?}");
        }
        assert!(check_tolerance(1000, 1300, 300).is_ok());
        assert!(check_tolerance(1300, 1000, 300).is_ok());
        assert!(check_tolerance(1000, 1301, 300).is_err());
        assert!(check_tolerance(1301, 1000, 300).is_err());
        assert!(check_tolerance(i64::MIN, i64::MAX, u64::MAX).is_ok());
    }
    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z", "t"), Ok(0));
        assert_eq!(
            parse_rfc3339("2023-07-19T14:56:51.634234626Z", "t"),
            Ok(1_689_778_611)
        );
        assert_eq!(
            parse_rfc3339("2023-07-19T16:56:51+02:00", "t"),
            Ok(1_689_778_611)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29t00:00:00z", "t"),
            Ok(1_709_164_800)
        );
        for bad in [
            "",
            "2023-07-19 14:56:51Z",
            "2023-07-19T14:56:51",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-07-19T24:00:00Z",
            "2023-07-19T14:56:51.Z",
            "2023-07-19T14:56:51+2:00",
            "+023-07-19T14:56:51Z",
            "2023-07-19T14:56:51Zjunk",
        ] {
            assert!(parse_rfc3339(bad, "t").is_err(), "{bad:?}");
        }
        for now in [0, 1_689_778_611, 951_782_400, -86_401, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&format_rfc3339(now), "t"), Ok(now));
        }
    }
}
