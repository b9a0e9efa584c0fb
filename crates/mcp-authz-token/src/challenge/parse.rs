//! The challenge grammar of RFC 9110 §11.6.1 and §11.2:
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! #element         = [ element ] *( OWS "," OWS [ element ] )
//! ```
//!
//! Commas separate both challenges and the auth-params of one challenge; an element after a comma is a
//! further auth-param when it reads `token BWS "="`, and the next challenge's auth-scheme otherwise.

use std::fmt;

use http::HeaderValue;

use super::grammar::{is_qdtext, is_quoted_pair_char, is_tchar, is_token68_char, write_quoted};

/// Largest input (all header values together) the parser reads: 8 KiB.
pub const MAX_CHALLENGE_INPUT_LEN: usize = 8192;

/// One `auth-param`: a case-insensitive name and its value, unquoted and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam {
    /// The name, as received.
    pub name: String,
    /// The value, with quoting and escapes removed.
    pub value: String,
}

/// One challenge: an auth-scheme with either a `token68` or a list of auth-params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme, as received (compare with [`Challenge::is_scheme`]).
    pub scheme: String,
    /// The `token68`, for schemes that use one.
    pub token68: Option<String>,
    /// The auth-params, in order.
    pub params: Vec<AuthParam>,
}

/// Why a `WWW-Authenticate` value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeParseError {
    /// The input is longer than [`MAX_CHALLENGE_INPUT_LEN`].
    #[error("WWW-Authenticate is longer than {MAX_CHALLENGE_INPUT_LEN} bytes")]
    TooLong,
    /// A header value is not UTF-8.
    #[error("WWW-Authenticate is not UTF-8")]
    NotUtf8,
    /// An unexpected character, at a byte offset of its header value.
    #[error("unexpected character at byte {at}: expected {expected}")]
    Unexpected {
        /// Byte offset in the header value.
        at: usize,
        /// What the grammar allows there.
        expected: &'static str,
    },
    /// The value ends where the grammar needs more.
    #[error("unexpected end of WWW-Authenticate: expected {expected}")]
    UnexpectedEnd {
        /// What the grammar needs.
        expected: &'static str,
    },
    /// A quoted-string opened at this byte offset is never closed.
    #[error("quoted-string opened at byte {at} is not terminated")]
    UnterminatedQuotedString {
        /// Byte offset of the opening quote.
        at: usize,
    },
}

impl Challenge {
    /// A challenge with a scheme and nothing else.
    pub fn new(scheme: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            token68: None,
            params: Vec::new(),
        }
    }

    fn with_capacity(scheme: String) -> Self {
        Self {
            scheme,
            token68: None,
            params: Vec::with_capacity(4),
        }
    }

    /// `true` when the auth-scheme is `scheme`, compared case-insensitively (RFC 9110 §11.1).
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The value of the first auth-param named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    /// Parses every challenge of one header value.
    ///
    /// ```
    /// use mcp_authz_token::Challenge;
    /// let all = Challenge::parse_str(r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#).unwrap();
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[0].param("title"), Some(r#"Login to "apps""#));
    /// assert!(all[1].is_scheme("basic"));
    /// ```
    pub fn parse_str(value: &str) -> Result<Vec<Self>, ChallengeParseError> {
        if value.len() > MAX_CHALLENGE_INPUT_LEN {
            return Err(ChallengeParseError::TooLong);
        }
        let mut out = Vec::new();
        parse_into(value.as_bytes(), &mut out)?;
        Ok(out)
    }

    /// Parses every challenge of every `WWW-Authenticate` header value, in order (a response may carry
    /// several header fields; RFC 9110 §5.3 makes them one comma-separated list).
    pub fn parse_header_values<'a, I>(values: I) -> Result<Vec<Self>, ChallengeParseError>
    where
        I: IntoIterator<Item = &'a HeaderValue>,
    {
        let mut out = Vec::new();
        let mut total = 0usize;
        for value in values {
            total = total.saturating_add(value.len());
            if total > MAX_CHALLENGE_INPUT_LEN {
                return Err(ChallengeParseError::TooLong);
            }
            let bytes = value.as_bytes();
            if std::str::from_utf8(bytes).is_err() {
                return Err(ChallengeParseError::NotUtf8);
            }
            parse_into(bytes, &mut out)?;
        }
        Ok(out)
    }
}

impl fmt::Display for Challenge {
    /// The challenge in RFC 9110 syntax, every auth-param value quoted. Characters a quoted-string
    /// cannot carry are replaced by `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(token68) = &self.token68 {
            return write!(f, " {token68}");
        }
        let mut buf = String::new();
        for (i, param) in self.params.iter().enumerate() {
            buf.clear();
            if !write_quoted(&mut buf, &param.value) {
                buf.clear();
                let cleaned: String = param
                    .value
                    .chars()
                    .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                    .collect();
                write_quoted(&mut buf, &cleaned);
            }
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{}={buf}", param.name)?;
        }
        Ok(())
    }
}

/// A cursor over one header value.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        let rest = self.s.get(start..).unwrap_or_default();
        let len = rest.iter().position(|b| !f(*b)).unwrap_or(rest.len());
        self.pos = start + len;
        rest.get(..len).unwrap_or_default()
    }

    /// Skips `OWS` and returns how many bytes were skipped.
    fn skip_ows(&mut self) -> usize {
        self.take_while(|b| b == b' ' || b == b'\t').len()
    }

    /// Skips list separators: OWS and commas (empty list elements are allowed).
    fn skip_separators(&mut self) {
        self.take_while(|b| b == b' ' || b == b'\t' || b == b',');
    }

    fn unexpected(&self, expected: &'static str) -> ChallengeParseError {
        match self.peek() {
            Some(_) => ChallengeParseError::Unexpected {
                at: self.pos,
                expected,
            },
            None => ChallengeParseError::UnexpectedEnd { expected },
        }
    }

    /// A `quoted-string`, the cursor on its opening quote.
    fn quoted_string(&mut self) -> Result<String, ChallengeParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut segment_start = self.pos;
        let mut unescaped: Option<Vec<u8>> = None;
        loop {
            match self.peek() {
                None => return Err(ChallengeParseError::UnterminatedQuotedString { at: open }),
                Some(b'"') => {
                    let tail = self.s.get(segment_start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    let bytes = match unescaped {
                        Some(mut buf) => {
                            buf.extend_from_slice(tail);
                            buf
                        }
                        None => tail.to_vec(),
                    };
                    return String::from_utf8(bytes).map_err(|_| ChallengeParseError::NotUtf8);
                }
                Some(b'\\') => {
                    let buf = unescaped.get_or_insert_with(Vec::new);
                    buf.extend_from_slice(self.s.get(segment_start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if is_quoted_pair_char(b) => {
                            buf.push(b);
                            self.pos += 1;
                            segment_start = self.pos;
                        }
                        Some(_) => return Err(self.unexpected("an escapable character after '\\'")),
                        None => {
                            return Err(ChallengeParseError::UnterminatedQuotedString { at: open });
                        }
                    }
                }
                Some(b) if is_qdtext(b) => {
                    // Skip the run of plain text in one go.
                    self.take_while(|b| b != b'"' && b != b'\\' && is_qdtext(b));
                }
                Some(_) => return Err(self.unexpected("quoted-string text")),
            }
        }
    }
}

fn text(bytes: &[u8]) -> Result<String, ChallengeParseError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ChallengeParseError::NotUtf8)
}

/// Parses one header value, appending its challenges to `out`.
fn parse_into(s: &[u8], out: &mut Vec<Challenge>) -> Result<(), ChallengeParseError> {
    let mut c = Cursor { s, pos: 0 };
    'challenges: loop {
        c.skip_separators();
        if c.peek().is_none() {
            return Ok(());
        }
        let scheme = c.take_while(is_tchar);
        if scheme.is_empty() {
            return Err(c.unexpected("an auth-scheme"));
        }
        let mut challenge = Challenge::with_capacity(text(scheme)?);
        let spaces = c.skip_ows();
        match c.peek() {
            None | Some(b',') => {
                out.push(challenge);
                continue 'challenges;
            }
            Some(_) if spaces == 0 => {
                return Err(c.unexpected("a space, a comma or the end after the auth-scheme"));
            }
            Some(_) => {}
        }

        // token68, when the element ends right after it.
        let start = c.pos;
        if !c.take_while(is_token68_char).is_empty() {
            c.take_while(|b| b == b'=');
            let end = c.pos;
            c.skip_ows();
            if matches!(c.peek(), None | Some(b',')) {
                challenge.token68 = Some(text(s.get(start..end).unwrap_or_default())?);
                out.push(challenge);
                continue 'challenges;
            }
        }
        c.pos = start;

        // #auth-param
        loop {
            let name = c.take_while(is_tchar);
            if name.is_empty() {
                return Err(c.unexpected("an auth-param name"));
            }
            let name = text(name)?;
            c.skip_ows();
            if c.peek() != Some(b'=') {
                return Err(c.unexpected("'=' after an auth-param name"));
            }
            c.pos += 1;
            c.skip_ows();
            let value = if c.peek() == Some(b'"') {
                c.quoted_string()?
            } else {
                let token = c.take_while(is_tchar);
                if token.is_empty() {
                    return Err(c.unexpected("a token or quoted-string auth-param value"));
                }
                text(token)?
            };
            challenge.params.push(AuthParam { name, value });
            c.skip_ows();
            match c.peek() {
                None => {
                    out.push(challenge);
                    return Ok(());
                }
                Some(b',') => {}
                Some(_) => return Err(c.unexpected("a comma or the end after an auth-param")),
            }
            c.skip_separators();
            // Another auth-param of this challenge (`token BWS "="`), or the next challenge?
            let next = c.pos;
            let is_param = !c.take_while(is_tchar).is_empty() && {
                c.skip_ows();
                c.peek() == Some(b'=')
            };
            c.pos = next;
            if !is_param {
                out.push(challenge);
                continue 'challenges;
            }
        }
    }
}
