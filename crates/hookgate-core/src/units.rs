//! Human units in the configuration: durations like `5m` or `500ms`, sizes like `1MiB`.

use std::time::Duration;

/// Parses `500ms`, `30s`, `5m`, `2h`, `30d` (a bare number is refused: "30" could mean anything).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{s}\" is not a duration (examples: 500ms, 30s, 5m, 2h, 30d)"))?;
    let per_unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => {
            return Err(format!(
                "\"{s}\" has no unit (examples: 500ms, 30s, 5m, 2h, 30d)"
            ))
        }
        _ => {
            return Err(format!(
                "\"{s}\": unknown unit \"{unit}\" (use ms, s, m, h or d)"
            ))
        }
    };
    n.checked_mul(per_unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("\"{s}\" is too long"))
}

/// Parses `1048576`, `512KiB`, `1MiB`, `1GiB`, `1KB`, `1MB` (decimal units are powers of 1000).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{s}\" is not a size (examples: 65536, 512KiB, 1MiB)"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "\"{s}\": unknown unit \"{other}\" (use B, KiB, MiB, GiB, KB, MB or GB)"
            ))
        }
    };
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("\"{s}\" is too large"))
}

/// Formats unix milliseconds as RFC 3339 UTC (`2026-12-04T19:59:19.123Z`), the form the admin API
/// and CLI show. Days-to-civil conversion after Howard Hinnant's `civil_from_days`.
#[must_use]
pub fn rfc3339_from_unix_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses RFC 3339 UTC (`2026-12-04T19:59:19Z`, optional fraction, `Z` or `+00:00`) into unix
/// milliseconds: the form the admin API takes for time ranges. Other offsets are refused
/// rather than converted, so a range always means what the operator read.
///
/// # Errors
/// A message saying what form is expected.
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    let bad = || format!("\"{text}\" is not an RFC 3339 UTC time like 2026-12-04T10:00:00Z");
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = text.get(range).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<i64>().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = padded.parse::<i64>().map_err(|_| bad())?;
        rest = &frac[digits..];
    }
    if !matches!(rest, "Z" | "z" | "+00:00" | "-00:00") {
        return Err(bad());
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_from_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_unix_ms(1_614_265_330_123),
            "2021-02-25T15:02:10.123Z"
        );
        assert_eq!(
            rfc3339_from_unix_ms(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(rfc3339_from_unix_ms(-1), "1969-12-31T23:59:59.999Z");
        for ms in [0, 1_614_265_330_123, 951_782_400_000, 1_796_426_580_542] {
            assert_eq!(parse_rfc3339_ms(&rfc3339_from_unix_ms(ms)), Ok(ms));
        }
        assert_eq!(
            parse_rfc3339_ms("2021-02-25T15:02:10Z"),
            Ok(1_614_265_330_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2021-02-25T15:02:10.5+00:00"),
            Ok(1_614_265_330_500)
        );
        for bad in [
            "2021-02-25",
            "2021-02-25T15:02:10+01:00",
            "2021-13-25T15:02:10Z",
            "yesterday",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert!(parse_size("1 parsec").is_err());
        assert!(parse_size("-1").is_err());
    }
}
