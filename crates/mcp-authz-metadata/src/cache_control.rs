//! How long a fetched document (a JWKS, metadata) may be reused: the freshness lifetime a
//! `Cache-Control` header field gives it ([RFC 9111 §5.2]).
//!
//! [RFC 9111 §5.2]: https://www.rfc-editor.org/rfc/rfc9111#section-5.2

use std::time::Duration;

/// The greatest `delta-seconds` value ([RFC 9111 §1.2.2]): larger values mean this.
///
/// [RFC 9111 §1.2.2]: https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2
const GREATEST_DELTA_SECONDS: u64 = 2_147_483_648;

/// The freshness lifetime a `Cache-Control` field value gives a response (the values of several
/// field lines joined with `,`).
///
/// - `max-age=N` (token or quoted-string, directive names case-insensitive) gives `N` seconds;
///   values beyond 2^31 are 2^31 seconds (RFC 9111 §1.2.2).
/// - `no-store` and `no-cache` give zero: reuse nothing without asking again. So do a malformed or a
///   repeated, disagreeing `max-age`, and a field value that is not a list of directives: a response
///   whose lifetime cannot be read is treated as stale (RFC 9111 §4.2.1), never as fresh for long.
/// - `None` when the field names no lifetime at all (the caller picks its default).
///
/// ```
/// use std::time::Duration;
/// use mcp_authz_metadata::cache_control_max_age;
/// assert_eq!(cache_control_max_age("public, max-age=300"), Some(Duration::from_secs(300)));
/// assert_eq!(cache_control_max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
/// assert_eq!(cache_control_max_age("no-cache, max-age=300"), Some(Duration::ZERO));
/// assert_eq!(cache_control_max_age("max-age=abc"), Some(Duration::ZERO));
/// assert_eq!(cache_control_max_age("max-age=60, max-age=3600"), Some(Duration::ZERO));
/// assert_eq!(cache_control_max_age("public"), None);
/// assert_eq!(cache_control_max_age(""), None);
/// ```
pub fn cache_control_max_age(value: &str) -> Option<Duration> {
    let Some(directives) = directives(value) else {
        return Some(Duration::ZERO);
    };
    let mut max_age: Option<u64> = None;
    let mut stale = false;
    for (name, argument) in directives {
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            stale = true;
        } else if name.eq_ignore_ascii_case("max-age") {
            match argument.as_deref().and_then(delta_seconds) {
                Some(seconds) if max_age.is_none_or(|earlier| earlier == seconds) => {
                    max_age = Some(seconds);
                }
                _ => stale = true,
            }
        }
    }
    if stale {
        Some(Duration::ZERO)
    } else {
        max_age.map(Duration::from_secs)
    }
}

/// `1*DIGIT`, saturating at [`GREATEST_DELTA_SECONDS`].
fn delta_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = text.bytes().try_fold(0_u64, |acc, digit| {
        acc.checked_mul(10)?
            .checked_add(u64::from(digit.wrapping_sub(b'0')))
    });
    Some(seconds.map_or(GREATEST_DELTA_SECONDS, |s| s.min(GREATEST_DELTA_SECONDS)))
}

/// `#cache-directive`: each `token [ "=" ( token / quoted-string ) ]`, empty list elements allowed;
/// `None` when the text is not such a list.
fn directives(value: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut rest = value.chars().peekable();
    loop {
        skip_whitespace(&mut rest);
        match rest.peek() {
            None => return Some(out),
            Some(',') => {
                rest.next();
                continue;
            }
            Some(_) => {}
        }
        let name = token(&mut rest)?;
        skip_whitespace(&mut rest);
        let argument = if rest.peek() == Some(&'=') {
            rest.next();
            skip_whitespace(&mut rest);
            Some(if rest.peek() == Some(&'"') {
                quoted_string(&mut rest)?
            } else {
                token(&mut rest)?
            })
        } else {
            None
        };
        out.push((name, argument));
        skip_whitespace(&mut rest);
        match rest.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_whitespace(chars: &mut Chars<'_>) {
    while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
}

/// `1*tchar` (RFC 9110 §5.6.2).
fn token(chars: &mut Chars<'_>) -> Option<String> {
    let mut out = String::new();
    while let Some(c) = chars.next_if(|c| is_tchar(*c)) {
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// `DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 §5.6.4), unescaped.
fn quoted_string(chars: &mut Chars<'_>) -> Option<String> {
    if chars.next() != Some('"') {
        return None;
    }
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c if c.is_control() && c != '\t' => return None,
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(cache_control_max_age("max-age=0"), secs(0));
        assert_eq!(cache_control_max_age(" max-age = 10 ,"), secs(10));
        assert_eq!(cache_control_max_age("s-maxage=5, max-age=20"), secs(20));
        assert_eq!(cache_control_max_age("max-age=20,max-age=20"), secs(20));
        assert_eq!(
            cache_control_max_age("max-age=99999999999999999999999"),
            secs(GREATEST_DELTA_SECONDS)
        );
        assert_eq!(
            cache_control_max_age("private=\"a, b\", max-age=7"),
            secs(7)
        );
        assert_eq!(cache_control_max_age("no-store"), secs(0));
        assert_eq!(cache_control_max_age("max-age"), secs(0));
        assert_eq!(cache_control_max_age("max-age=-1"), secs(0));
        assert_eq!(cache_control_max_age("max-age=1 2"), secs(0));
        assert_eq!(cache_control_max_age("max-age=\"7"), secs(0));
        assert_eq!(cache_control_max_age(" , ,"), None);
        assert_eq!(cache_control_max_age("must-revalidate"), None);
    }
}
