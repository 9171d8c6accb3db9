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
}
