//! Unix times as RFC 3339 UTC text, for listings; durations (`90s`, `10m`, `1h`) from the command
//! line.

use std::time::Duration;

use mcp_authz_store::NumericDate;

/// A duration as `<number>[s|m|h|d]` (a bare number is seconds), at most a year.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: expected a number with s, m, h or d (like 10m)"
            ));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with s, m, h or d (like 10m)"))?;
    let secs = number
        .checked_mul(scale)
        .filter(|s| *s <= 366 * 86_400)
        .ok_or_else(|| format!("{text:?}: at most a year"))?;
    Ok(Duration::from_secs(secs))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub(super) fn rfc3339(time: NumericDate) -> String {
    let secs = time.as_i64();
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// A point in time from the command line: RFC 3339 UTC (`2026-01-31T12:00:00Z`, or a date
/// `2026-01-31` for its midnight), or a duration before `now` (`24h`, `7d`, at most a year).
pub(super) fn parse_since(text: &str, now: NumericDate) -> Result<NumericDate, String> {
    if let Ok(ago) = parse_duration(text) {
        return Ok(now.saturating_sub(ago));
    }
    parse_rfc3339(text).ok_or_else(|| {
        format!(
            "{text:?}: expected an RFC 3339 UTC time (2026-01-31T12:00:00Z) or a duration (24h, 7d)"
        )
    })
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (also with a lowercase `t`/`z` or a space), UTC only.
fn parse_rfc3339(text: &str) -> Option<NumericDate> {
    let number = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (text.get(..at)?, Some(text.get(at + 1..)?)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        number(parts.next()?)?,
        number(parts.next()?)?,
        number(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let of_day = match time {
        None => 0,
        Some(time) => {
            let time = time.strip_suffix(['Z', 'z'])?;
            let mut parts = time.split(':');
            let (h, min, s) = (
                number(parts.next()?)?,
                number(parts.next()?)?,
                number(parts.next()?)?,
            );
            if parts.next().is_some() || h > 23 || min > 59 || s > 60 {
                return None;
            }
            h * 3600 + min * 60 + s
        }
    };
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    NumericDate::from_i64(days.checked_mul(86_400)?.checked_add(of_day)?)
}

/// (year, month, day) to days since 1970-01-01: H. Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day): H. Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_dates_and_durations() {
        let now = NumericDate::from_secs(1_700_000_000);
        assert_eq!(
            parse_since("2023-11-14T22:13:20Z", now),
            Ok(NumericDate::from_secs(1_700_000_000))
        );
        assert_eq!(
            parse_since("1970-01-02", now),
            Ok(NumericDate::from_secs(86_400))
        );
        assert_eq!(
            parse_since("24h", now),
            Ok(NumericDate::from_secs(1_700_000_000 - 86_400))
        );
        for bad in [
            "2023-02-30",
            "2023-11-14T25:00:00Z",
            "2023-11-14T22:13:20",
            "yesterday",
            "",
        ] {
            assert!(parse_since(bad, now).is_err(), "{bad:?}");
        }
        let t = NumericDate::from_secs(1_234_567_890);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3_600)));
        for bad in [
            "",
            "m",
            "10x",
            "1.5m",
            "-1s",
            "99999999999999999999d",
            "400d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(NumericDate::from_secs(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(NumericDate::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            rfc3339(NumericDate::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
